"""Second-editor sign-off at the desk: the review screen proposes, shows the pending
verdict to the desk, and lets another editor approve it or send it back; the
dashboard queues it; the reader's page names both editors once it is approved."""

import pytest
from django.urls import reverse

from claims import dashboard
from claims.models import ProposalDecision, Review, VerdictProposal
from claims.sign_off import propose_verdict
from tests.factories import CorrectionFactory, PublicationFactory, SourceFactory, VerdictFactory

EXPLANATION = "The annual report gives **9.1 million tonnes**."


@pytest.fixture
def sign_off(settings):
    settings.VERDICT_SIGN_OFF = True


def _change_url(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def _decide_url(proposal):
    return reverse("admin:claims_claim_decide_proposal", args=[proposal.claim_id, proposal.pk])


def _verdict(claim, **overrides):
    return {
        "status": "false",
        "explanation": EXPLANATION,
        "note": "",
        "expected_version": claim.version,
        "expected_etag": claim.etag,
        **overrides,
    }


def _proposed(claim, editor, **kwargs):
    return propose_verdict(
        claim=claim,
        editor=editor,
        status="false",
        explanation=EXPLANATION,
        expected_version=claim.version,
        **kwargs,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_with_sign_off_the_review_screen_proposes(sign_off, client_for, editor, claim):
    client = client_for(editor)
    page = client.get(_change_url(claim)).content.decode()
    assert 'value="Propose for approval"' in page
    assert 'name="propose"' not in page  # the only way on this desk: no second button

    response = client.post(
        reverse("admin:claims_claim_record_review", args=[claim.pk]), _verdict(claim), follow=True
    )

    assert not Review.objects.exists()
    proposal = VerdictProposal.objects.get()
    assert (proposal.status, proposal.proposed_by) == ("false", editor)
    assert "for a second editor's approval" in _messages(response)[0]
    html = response.content.decode()
    assert 'id="pending-proposal"' in html
    assert "9.1 million tonnes</strong>" in html  # the explanation, rendered
    # The proposer may only withdraw it.
    assert 'value="withdraw"' in html and 'value="approve"' not in html


def test_without_sign_off_an_editor_may_ask_for_a_second_opinion(client_for, editor, claim):
    client = client_for(editor)
    assert 'name="propose"' in client.get(_change_url(claim)).content.decode()

    client.post(
        reverse("admin:claims_claim_record_review", args=[claim.pk]),
        {**_verdict(claim), "propose": "Ask a second editor"},
    )

    assert VerdictProposal.objects.filter(claim=claim).exists()
    assert not Review.objects.exists()


def test_the_second_editor_approves_from_the_review_screen(
    sign_off, client_for, editor, second_editor, claim
):
    evidence = SourceFactory(title="Port authority annual report")
    proposal = _proposed(claim, editor, evidence=[evidence])
    client = client_for(second_editor)
    html = client.get(_change_url(claim)).content.decode()
    assert 'value="approve"' in html and 'name="reason"' in html
    assert "Port authority annual report" in html[html.index('id="pending-proposal"') :]

    response = client.post(_decide_url(proposal), {"decision": "approve"}, follow=True)

    entry = Review.objects.get()
    assert (entry.editor, entry.approved_by, entry.status_after) == (editor, second_editor, "false")
    assert f"ledger entry #{entry.sequence}" in _messages(response)[0]
    html = response.content.decode()
    assert 'id="pending-proposal"' not in html
    assert "approved by ed2" in html  # the ledger table beside the form


def test_the_proposer_approving_their_own_changes_nothing(sign_off, client_for, editor, claim):
    proposal = _proposed(claim, editor)

    response = client_for(editor).post(_decide_url(proposal), {"decision": "approve"}, follow=True)

    assert "Nothing was changed: You proposed this verdict" in _messages(response)[0]
    assert not Review.objects.exists() and not ProposalDecision.objects.exists()


def test_sending_back_needs_a_reason(sign_off, client_for, editor, second_editor, claim):
    proposal = _proposed(claim, editor)
    client = client_for(second_editor)

    response = client.post(_decide_url(proposal), {"decision": "send_back"}, follow=True)
    assert "Say why the verdict is sent back" in _messages(response)[0]
    assert not ProposalDecision.objects.exists()

    response = client.post(
        _decide_url(proposal),
        {"decision": "send_back", "reason": "The report covers 2023."},
        follow=True,
    )
    decision = ProposalDecision.objects.get()
    assert (decision.outcome, decision.reason) == ("rejected", "The report covers 2023.")
    assert "Sent back to ed" in _messages(response)[0]


def test_a_stale_proposal_cannot_be_approved(settings, client_for, editor, second_editor, claim):
    VerdictFactory(claim=claim, editor=editor, status="misleading")
    settings.VERDICT_SIGN_OFF = True
    claim.refresh_from_db()
    proposal = _proposed(claim, editor)
    CorrectionFactory(claim=claim, editor=second_editor, changes={"quantity": "9100000"})
    client = client_for(second_editor)

    html = client.get(_change_url(claim)).content.decode()
    assert 'id="proposal-stale"' in html and "disabled" in html

    response = client.post(_decide_url(proposal), {"decision": "approve"}, follow=True)
    assert "quantity changed since" in _messages(response)[0]
    assert Review.objects.count() == 2


def test_contributors_cannot_decide(sign_off, client_for, editor, contributor, claim):
    proposal = _proposed(claim, editor)

    response = client_for(contributor).post(_decide_url(proposal), {"decision": "approve"})

    assert response.status_code == 403
    assert not ProposalDecision.objects.exists()


def test_the_dashboard_queues_claims_awaiting_a_second_editor(
    sign_off, client_for, editor, second_editor, claim
):
    proposal = _proposed(claim, editor)

    queues = {queue.key: queue for queue in dashboard.dashboard(second_editor).queues}
    waiting = queues["awaiting_approval"]
    assert waiting.count == 1
    assert [row["statement"] for row in waiting.claims] == [claim.statement]
    listed = (
        client_for(second_editor)
        .get(reverse("admin:claims_claim_changelist"), {"queue": "awaiting_approval"})
        .context["cl"]
        .result_list
    )
    assert list(listed) == [claim]

    ProposalDecision.objects.create(
        proposal=proposal, outcome="withdrawn", decided_by=editor
    )  # decided: the queue is empty again
    queues = {queue.key: queue for queue in dashboard.dashboard(second_editor).queues}
    assert queues["awaiting_approval"].count == 0


def test_the_readers_page_names_both_editors(sign_off, client, editor, second_editor, claim):
    from claims.sign_off import approve_proposal

    editor.first_name, editor.last_name = "Dana", "Whitfield"
    editor.save()
    second_editor.first_name, second_editor.last_name = "Lee", "Park"
    second_editor.save()
    PublicationFactory(claim=claim, editor=editor)
    claim.refresh_from_db()
    approve_proposal(proposal=_proposed(claim, editor), editor=second_editor)

    html = client.get(f"/claims/{claim.slug}/").content.decode()

    byline = html[html.index("Fact-check by") :][:400]
    assert "Dana Whitfield" in byline and "approved by" in byline and "Lee Park" in byline
    history = html[html.index('class="ledger-history"') :]
    assert "by Dana Whitfield, approved by Lee Park" in history
