"""Second-editor sign-off over HTTP: /claims/<slug>/proposals/, /proposals/ and a
proposal's approve, send-back and withdraw (claims.api.sign_off)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.api.common import claim_etag
from claims.ledger.verification import verify_ledger
from claims.models import Claim, ProposalDecision, Review, VerdictProposal
from claims.services import record_review
from claims.sign_off import approve_proposal, propose_verdict, send_back_proposal
from tests.factories import (
    ClaimFactory,
    CorrectionFactory,
    EditorFactory,
    PublicationFactory,
    SourceFactory,
    UserFactory,
    VerdictFactory,
)

EXPLANATION = "The port's annual report gives **9.1 million tonnes**."
QUEUE_URL = "/api/v1/proposals/"


@pytest.fixture
def sign_off(settings):
    settings.VERDICT_SIGN_OFF = True


def token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def fresh(claim):
    return Claim.objects.get(pk=claim.pk)


def proposals_url(claim):
    return reverse("api:claim-proposals", kwargs={"slug": claim.slug})


def proposal_url(proposal, action=""):
    return f"/api/v1/proposals/{proposal.pk}" + (f"/{action}" if action else "")


def body(version=None, **overrides):
    data = {"status": "false", "explanation": EXPLANATION, "evidence": [], "note": ""}
    if version is not None:
        data["version"] = version
    return {**data, **overrides}


def propose(claim, editor, **overrides):
    """A proposal made through the service, for the tests about what follows it."""
    fields = {"status": "false", "explanation": EXPLANATION, **overrides}
    return propose_verdict(
        claim=claim, editor=editor, expected_version=fresh(claim).version, **fields
    )


def error(response):
    return response.json()["error"]


# --- The whole flow ---------------------------------------------------------------------


def test_one_editor_proposes_another_approves_and_the_entry_names_both(
    sign_off, claim, editor, second_editor, source, api_client
):
    PublicationFactory(claim=claim, editor=editor)
    proposer, approver = token_client(editor), token_client(second_editor)
    seen = fresh(claim).version

    proposed = proposer.post(
        proposals_url(claim),
        body(seen, evidence=[source.slug], note="Called the port."),
        format="json",
    )

    assert proposed.status_code == 201, proposed.content
    proposal = proposed.json()
    stored = VerdictProposal.objects.get()
    assert proposed["Location"] == proposal["url"]
    assert proposal["url"].endswith(f"/api/v1/proposals/{stored.pk}")
    assert proposal["id"] == stored.pk
    assert proposal["claim"] == claim.slug
    assert proposal["claim_url"].endswith(f"/api/v1/claims/{claim.slug}/")
    assert proposal["claim_version"] == seen
    assert proposal["status"] == {"value": "false", "label": "False"}
    assert proposal["status_before"] == {"value": "unverified", "label": "Not yet verified"}
    assert proposal["explanation"] == EXPLANATION
    assert "<strong>9.1 million tonnes</strong>" in proposal["explanation_html"]
    assert proposal["note"] == "Called the port."
    assert proposal["evidence"] == [{"source": "port-article", "title": "Port article"}]
    assert proposal["proposed_by"] == "ed"
    assert (proposal["state"], proposal["decision"], proposal["stale"]) == ("pending", None, "")
    # Nothing reached the ledger: the claim is as it was.
    assert (fresh(claim).status, fresh(claim).version) == ("unverified", seen)
    assert Review.objects.count() == 1

    queue = approver.get(QUEUE_URL).json()["results"]
    assert [p["id"] for p in queue] == [stored.pk]
    assert queue[0] == proposal

    approved = approver.post(proposal_url(stored, "approve"))

    assert approved.status_code == 201, approved.content
    claim.refresh_from_db()
    entry = approved.json()
    assert (entry["editor"], entry["approved_by"]) == ("ed", "ed2")
    assert entry["status_after"] == {"value": "false", "label": "False"}
    assert entry["evidence"] == [{"source": "port-article", "title": "Port article"}]
    assert entry["note"] == "Called the port."
    assert entry["claim_version"] == claim.version == seen + 1
    assert approved["ETag"] == claim_etag(claim)
    assert approved["Location"].endswith(f"/api/v1/claims/{claim.slug}/reviews/")

    detail = api_client.get(f"/api/v1/claims/{claim.slug}/")
    assert detail.json()["status"]["value"] == "false"
    assert detail["ETag"] == approved["ETag"]
    ledger = api_client.get(f"/api/v1/claims/{claim.slug}/reviews/").json()
    assert ledger[0]["sequence"] == entry["sequence"]
    assert (ledger[0]["editor"], ledger[0]["approved_by"]) == ("ed", "ed2")
    assert ledger[1]["approved_by"] is None  # the publication: no sign-off

    decided = approver.get(proposal_url(stored)).json()
    assert decided["state"] == "approved"
    decision = decided["decision"]
    assert decision["outcome"] == "approved"
    assert decision["decided_by"] == "ed2"
    assert decision["reason"] == ""
    assert decision["entry"] == entry["sequence"]
    assert decision["entry_url"].endswith(f"/api/v1/claims/{claim.slug}/reviews/")
    assert approver.get(QUEUE_URL).json()["results"] == []
    assert verify_ledger().ok


def test_the_approvers_ledger_entry_answers_as_a_recorded_verdict_does(
    sign_off, claim, editor, second_editor
):
    """The approval's answer equals the entry as the claim's ledger then shows it."""
    proposal = propose(claim, editor, note="N.")

    approved = token_client(second_editor).post(proposal_url(proposal, "approve"))
    listed = token_client(second_editor).get(f"/api/v1/claims/{claim.slug}/reviews/").json()

    assert approved.json() == listed[0]


def test_a_proposal_is_possible_with_sign_off_off_too(claim, editor, second_editor):
    response = token_client(editor).post(proposals_url(claim), body(1), format="json")

    assert response.status_code == 201, response.content
    proposal = VerdictProposal.objects.get()
    approved = token_client(second_editor).post(proposal_url(proposal, "approve"))
    assert approved.status_code == 201
    assert approved.json()["approved_by"] == "ed2"


# --- Proposing ----------------------------------------------------------------------------


def test_if_match_settles_the_version_seen_and_a_stale_one_is_412(sign_off, claim, editor):
    client = token_client(editor)
    stale = claim_etag(fresh(claim))
    PublicationFactory(claim=claim, editor=editor)

    refused = client.post(proposals_url(claim), body(), format="json", HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert error(refused)["code"] == "precondition_failed"
    assert error(refused)["current"]["version"] == fresh(claim).version

    accepted = client.post(
        proposals_url(claim), body(), format="json", HTTP_IF_MATCH=claim_etag(fresh(claim))
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["claim_version"] == fresh(claim).version


def test_a_stale_version_is_409_and_nothing_is_proposed(sign_off, claim, editor):
    PublicationFactory(claim=claim, editor=editor)

    response = token_client(editor).post(proposals_url(claim), body(1), format="json")

    assert response.status_code == 409
    assert error(response)["code"] == "version_conflict"
    assert error(response)["current"]["version"] == 2
    assert not VerdictProposal.objects.exists()


def test_without_version_or_if_match_it_is_400_naming_version(sign_off, claim, editor):
    response = token_client(editor).post(proposals_url(claim), body(), format="json")

    assert response.status_code == 400
    assert "version" in error(response)["fields"]


def test_a_pending_proposal_makes_another_a_409(sign_off, claim, editor, second_editor):
    propose(claim, editor)

    response = token_client(second_editor).post(
        proposals_url(claim), body(1, status="true"), format="json"
    )

    assert response.status_code == 409
    assert error(response)["code"] == "proposal_pending"
    assert "ed proposed “False”" in error(response)["message"]
    assert "still waiting" in error(response)["message"]
    assert VerdictProposal.objects.count() == 1


def test_a_workflow_status_is_400_on_status(sign_off, claim, editor):
    response = token_client(editor).post(
        proposals_url(claim), body(1, status="in_review", explanation=""), format="json"
    )

    assert response.status_code == 400
    assert list(error(response)["fields"]) == ["status"]
    assert "workflow" in error(response)["fields"]["status"][0]
    assert not VerdictProposal.objects.exists()


def test_a_proposal_needs_what_a_verdict_needs(sign_off, settings, claim, editor):
    settings.REQUIRE_VERDICT_EVIDENCE = True

    response = token_client(editor).post(
        proposals_url(claim), body(1, explanation=" "), format="json"
    )
    unknown = token_client(editor).post(
        proposals_url(claim), body(1, evidence=["no-such-source"]), format="json"
    )

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"explanation", "evidence"}
    assert unknown.status_code == 400
    assert "no-such-source" in error(unknown)["fields"]["evidence"][0]
    assert not VerdictProposal.objects.exists()


def test_the_claims_proposals_newest_first_each_with_its_decision(
    sign_off, claim, editor, second_editor
):
    first = propose(claim, editor)
    send_back_proposal(proposal=first, editor=second_editor, reason="Wrong year.")
    second = propose(claim, editor, status="true")

    listed = token_client(second_editor).get(proposals_url(claim))

    assert listed.status_code == 200
    assert "private" in listed["Cache-Control"]
    proposals = listed.json()
    assert [p["id"] for p in proposals] == [second.pk, first.pk]
    assert [p["state"] for p in proposals] == ["pending", "rejected"]
    assert proposals[1]["decision"] == {
        "outcome": "rejected",
        "decided_by": "ed2",
        "decided_at": proposals[1]["decision"]["decided_at"],
        "reason": "Wrong year.",
        "entry": None,
        "entry_url": None,
    }


# --- Who may ----------------------------------------------------------------------------


def test_a_contributor_reads_but_neither_proposes_nor_decides(sign_off, claim, editor, contributor):
    proposal = propose(claim, editor)
    client = token_client(contributor)

    assert client.get(QUEUE_URL).status_code == 200
    assert client.get(proposals_url(claim)).status_code == 200
    assert client.get(proposal_url(proposal)).status_code == 200
    for response in (
        client.post(proposals_url(ClaimFactory(speaker=claim.speaker)), body(1), format="json"),
        client.post(proposal_url(proposal, "approve")),
        client.post(proposal_url(proposal, "send-back"), {"reason": "No."}, format="json"),
        client.post(proposal_url(proposal, "withdraw")),
    ):
        assert response.status_code == 403
        assert error(response)["code"] == "permission_denied"
    assert VerdictProposal.objects.count() == 1
    assert not ProposalDecision.objects.exists()
    assert not Review.objects.exists()


def test_anonymous_clients_are_401_and_accounts_outside_the_desk_403(sign_off, claim, editor):
    proposal = propose(claim, editor)
    anonymous, outsider = APIClient(), token_client(UserFactory(username="reader"))

    for client, expected in ((anonymous, 401), (outsider, 403)):
        assert client.get(QUEUE_URL).status_code == expected
        assert client.get(proposals_url(claim)).status_code == expected
        assert client.get(proposal_url(proposal)).status_code == expected
        assert client.post(proposals_url(claim), body(1), format="json").status_code == expected
        for action in ("approve", "send-back", "withdraw"):
            assert client.post(proposal_url(proposal, action)).status_code == expected
    assert VerdictProposal.objects.count() == 1
    assert not ProposalDecision.objects.exists()


def test_unknown_claims_and_proposals_are_404(sign_off, editor):
    client = token_client(editor)

    assert client.get("/api/v1/claims/no-such-claim/proposals/").status_code == 404
    missing = client.post("/api/v1/claims/no-such-claim/proposals/", body(1), format="json")
    assert missing.status_code == 404
    assert error(missing)["code"] == "not_found"
    assert client.get("/api/v1/proposals/999").status_code == 404
    assert client.post("/api/v1/proposals/999/approve").status_code == 404
    assert client.get("/api/v1/proposals/x").json()["error"]["status"] == 404


def test_only_get_and_post_are_offered(sign_off, claim, editor):
    proposal = propose(claim, editor)
    client = token_client(editor)

    assert client.delete(proposals_url(claim)).status_code == 405
    assert client.patch(proposal_url(proposal), {}).status_code == 405
    assert client.get(proposal_url(proposal, "approve")).status_code == 405


# --- Approving ---------------------------------------------------------------------------


def test_the_proposer_cannot_approve_their_own_verdict(sign_off, claim, editor):
    proposal = propose(claim, editor)

    response = token_client(editor).post(proposal_url(proposal, "approve"))

    assert response.status_code == 403
    assert "another editor approves it" in error(response)["message"]
    assert not Review.objects.exists()
    assert not ProposalDecision.objects.exists()


def test_a_stale_proposal_is_409_and_shown_stale(sign_off, claim, editor, second_editor):
    proposal = propose(claim, editor)
    record_review(
        claim=claim, editor=second_editor, status="in_review", explanation="", expected_version=1
    )
    client = token_client(second_editor)

    shown = client.get(proposal_url(proposal)).json()
    response = client.post(proposal_url(proposal, "approve"))

    assert "status changed since" in shown["stale"]
    assert client.get(QUEUE_URL).json()["results"][0]["stale"] == shown["stale"]
    assert response.status_code == 409
    assert error(response)["code"] == "proposal_stale"
    assert error(response)["message"] == shown["stale"]
    assert Review.objects.count() == 1
    assert not ProposalDecision.objects.exists()


def test_a_correction_in_between_makes_it_stale(settings, claim, editor, second_editor):
    VerdictFactory(claim=claim, editor=editor, status="misleading")
    settings.VERDICT_SIGN_OFF = True
    proposal = propose(claim, editor)
    CorrectionFactory(claim=claim, editor=second_editor, changes={"quantity": "9100000"})

    response = token_client(second_editor).post(proposal_url(proposal, "approve"))

    assert response.status_code == 409
    assert "quantity changed since" in error(response)["message"]


def test_a_decided_proposal_is_409_already_decided(sign_off, claim, editor, second_editor):
    proposal = propose(claim, editor)
    approve_proposal(proposal=proposal, editor=second_editor)
    third = token_client(EditorFactory(username="ed3"))

    for response in (
        third.post(proposal_url(proposal, "approve")),
        third.post(proposal_url(proposal, "send-back"), {"reason": "No."}, format="json"),
        token_client(editor).post(proposal_url(proposal, "withdraw")),
    ):
        assert response.status_code == 409
        assert error(response)["code"] == "already_decided"
        assert "already approved by ed2" in error(response)["message"]
    assert Review.objects.count() == 1


# --- Sending back and withdrawing ------------------------------------------------------------


def test_sent_back_with_a_reason(sign_off, claim, editor, second_editor):
    proposal = propose(claim, editor)
    client = token_client(second_editor)

    blank = client.post(proposal_url(proposal, "send-back"), {"reason": "  "}, format="json")
    missing = client.post(proposal_url(proposal, "send-back"), {}, format="json")
    own = token_client(editor).post(
        proposal_url(proposal, "send-back"), {"reason": "Changed my mind."}, format="json"
    )

    assert blank.status_code == missing.status_code == 400
    assert list(error(blank)["fields"]) == list(error(missing)["fields"]) == ["reason"]
    assert own.status_code == 403
    assert "withdraw it instead" in error(own)["message"]
    assert not ProposalDecision.objects.exists()

    sent_back = client.post(
        proposal_url(proposal, "send-back"), {"reason": "The report is a year old."}, format="json"
    )

    assert sent_back.status_code == 200, sent_back.content
    shown = sent_back.json()
    assert shown["state"] == "rejected"
    assert shown["decision"]["outcome"] == "rejected"
    assert shown["decision"]["decided_by"] == "ed2"
    assert shown["decision"]["reason"] == "The report is a year old."
    assert shown["decision"]["entry"] is None
    assert shown == client.get(proposal_url(proposal)).json()
    assert not Review.objects.exists()
    assert fresh(claim).status == "unverified"


def test_only_the_proposer_withdraws(sign_off, claim, editor, second_editor):
    proposal = propose(claim, editor)

    refused = token_client(second_editor).post(proposal_url(proposal, "withdraw"))
    withdrawn = token_client(editor).post(proposal_url(proposal, "withdraw"))

    assert refused.status_code == 403
    assert "Only the editor who proposed" in error(refused)["message"]
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["decision"]["decided_by"] == "ed"
    # Withdrawn, it no longer holds the claim: another proposal may follow.
    again = token_client(second_editor).post(proposals_url(claim), body(1), format="json")
    assert again.status_code == 201


# --- The queue ----------------------------------------------------------------------------


def test_the_queue_is_the_pending_oldest_first_and_state_shows_the_others(
    sign_off, speaker, editor, second_editor
):
    claims = [ClaimFactory(slug=f"claim-{n}", speaker=speaker) for n in range(3)]
    oldest, decided, newest = (propose(c, editor) for c in claims)
    send_back_proposal(proposal=decided, editor=second_editor, reason="No.")
    client = token_client(second_editor)

    def ids(query=""):
        response = client.get(QUEUE_URL + query)
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()["results"]]

    assert ids() == ids("?state=pending") == [oldest.pk, newest.pk]
    assert ids("?state=decided") == [decided.pk]
    assert ids("?state=all") == [newest.pk, decided.pk, oldest.pk]
    first_page = client.get(QUEUE_URL + "?page_size=1").json()
    assert [p["id"] for p in first_page["results"]] == [oldest.pk]
    assert [p["id"] for p in client.get(first_page["next"]).json()["results"]] == [newest.pk]
    for bad in ("?state=maybe", "?state="):
        refused = client.get(QUEUE_URL + bad)
        assert refused.status_code == 400
        assert list(error(refused)["fields"]) == ["state"]


def _proposals_on(speaker, editor, count, start=0):
    sources = [SourceFactory(slug=f"evidence-{start}-{n}") for n in range(2)]
    for n in range(start, start + count):
        claim = ClaimFactory(slug=f"claim-{n}", speaker=speaker)
        propose(claim, editor, evidence=sources, note=f"Note {n}.")


def test_the_queue_takes_the_same_queries_whatever_its_length(
    sign_off, speaker, editor, second_editor, django_assert_num_queries
):
    client = token_client(second_editor)
    client.get(QUEUE_URL)  # the token, created
    _proposals_on(speaker, editor, 1)
    # 1. the token with its user, 2. the page of proposals with claims, speakers,
    # proposers and decisions, 3. their evidence with sources.
    with django_assert_num_queries(3):
        assert len(client.get(QUEUE_URL).json()["results"]) == 1

    _proposals_on(speaker, editor, 6, start=1)
    decided = VerdictProposal.objects.order_by("created_at")[:2]
    for proposal in decided:
        approve_proposal(proposal=proposal, editor=second_editor)
    with django_assert_num_queries(3):
        assert len(client.get(QUEUE_URL + "?state=all").json()["results"]) == 7


def test_a_claims_proposals_take_the_same_queries_whatever_their_number(
    sign_off, claim, editor, second_editor, source, django_assert_num_queries
):
    client = token_client(second_editor)
    client.get(QUEUE_URL)  # the token, created
    propose(claim, editor, evidence=[source])
    # 1. the token, 2. the claim's id, 3. its proposals, 4. their evidence.
    with django_assert_num_queries(4):
        assert len(client.get(proposals_url(claim)).json()) == 1

    for status in ("true", "mixed", "misleading"):
        pending = VerdictProposal.objects.filter(decision__isnull=True).get()
        send_back_proposal(proposal=pending, editor=second_editor, reason="No.")
        propose(claim, editor, status=status, evidence=[source, SourceFactory()])
    with django_assert_num_queries(4):
        assert len(client.get(proposals_url(claim)).json()) == 4


def test_approved_entries_keep_the_ledgers_query_count(
    sign_off, claim, editor, second_editor, api_client, django_assert_num_queries
):
    PublicationFactory(claim=claim, editor=editor)
    for status in ("false", "true"):
        approve_proposal(proposal=propose(claim, editor, status=status), editor=second_editor)
    # The published claim's id, its entries with editors and approvers, their evidence.
    with django_assert_num_queries(3):
        entries = api_client.get(f"/api/v1/claims/{claim.slug}/reviews/").json()
    assert [e["approved_by"] for e in entries] == ["ed2", "ed2", None]


# --- Recording a verdict where sign-off is on ---------------------------------------------


def test_a_verdict_recorded_directly_is_400_pointing_to_the_proposals(sign_off, claim, editor):
    client = token_client(editor)

    refused = client.post(f"/api/v1/claims/{claim.slug}/reviews/", body(1), format="json")

    assert refused.status_code == 400
    problem = error(refused)
    assert problem["code"] == "sign_off_required"
    assert list(problem["fields"]) == ["status"]
    assert "second editor's approval" in problem["fields"]["status"][0]
    assert problem["fields"]["status"][0].endswith(
        f"POST http://testserver/api/v1/claims/{claim.slug}/proposals/"
    )
    assert problem["message"] == f"status: {problem['fields']['status'][0]}"
    assert not Review.objects.exists()
    # The desk's workflow statuses need nobody else.
    in_review = client.post(
        f"/api/v1/claims/{claim.slug}/reviews/",
        body(1, status="in_review", explanation=""),
        format="json",
    )
    assert in_review.status_code == 201
    assert in_review.json()["approved_by"] is None


def test_other_refusals_of_a_verdict_keep_the_usual_code(sign_off, claim, editor):
    response = token_client(editor).post(
        f"/api/v1/claims/{claim.slug}/reviews/", body(1, explanation=" "), format="json"
    )

    assert response.status_code == 400
    assert error(response)["code"] == "invalid"
    assert list(error(response)["fields"]) == ["explanation"]


@pytest.mark.parametrize("action", ["approve", "withdraw"])
def test_a_malformed_body_is_refused_even_where_none_is_read(
    sign_off, claim, editor, second_editor, action
):
    proposal = propose(claim, editor)
    client = token_client(second_editor if action == "approve" else editor)

    response = client.post(
        proposal_url(proposal, action), "[" * 40, content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested more than 32 deep" in error(response)["message"]
    assert not ProposalDecision.objects.exists()
    assert not Review.objects.exists()
