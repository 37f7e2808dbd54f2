"""The review ledger over HTTP: /claims/<slug>/reviews/, publish, unpublish, export."""

import json
import math
import threading

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.api import ledger as ledger_api
from claims.api.common import claim_etag
from claims.ledger import checkpoints, verifier
from claims.ledger.checkpoints import sign_latest
from claims.ledger.verification import verify_ledger
from claims.ledger.verifier import GENESIS_HASH
from claims.models import Claim, Review
from claims.services import record_review
from sources.models import Source
from tests.factories import (
    ClaimFactory,
    PublicationFactory,
    SourceFactory,
    UserFactory,
    VerdictFactory,
)

EXPLANATION = "The port's annual report gives **9.1 million tonnes**."


def reviews_url(claim):
    return reverse("api:claim-reviews", kwargs={"slug": claim.slug})


def publish_url(claim):
    return reverse("api:claim-publish", kwargs={"slug": claim.slug})


def unpublish_url(claim):
    return reverse("api:claim-unpublish", kwargs={"slug": claim.slug})


EXPORT_URL = "/api/v1/export"


def fresh(claim):
    return Claim.objects.get(pk=claim.pk)


def token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def body(version=None, **overrides):
    data = {"status": "false", "explanation": EXPLANATION, "evidence": [], "note": ""}
    if version is not None:
        data["version"] = version
    data.update(overrides)
    return data


def error(response):
    return response.json()["error"]


# --- Reading a claim's ledger ---------------------------------------------------------


def test_the_ledger_lists_every_entry_newest_first(api_client, claim, editor, source):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=claim, editor=editor, status="in_review", explanation="", note="Taking this one."
    )
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="false",
        evidence=[source],
        explanation=EXPLANATION + ' <script>alert("x")</script>',
    )

    response = api_client.get(reviews_url(claim))

    assert response.status_code == 200
    entries = response.json()
    assert [e["sequence"] for e in entries] == [3, 2, 1]
    assert [e["action"]["value"] for e in entries] == ["review", "review", "publish"]
    newest = entries[0]
    assert newest["action"] == {"value": "review", "label": "Verdict"}
    assert newest["status_before"] == {"value": "in_review", "label": "In review"}
    assert newest["status_after"] == {"value": "false", "label": "False"}
    assert newest["summary"] == "In review → False"
    assert newest["explanation"].startswith(EXPLANATION)
    assert "<strong>9.1 million tonnes</strong>" in newest["explanation_html"]
    assert "<script" not in newest["explanation_html"]
    assert newest["evidence"] == [{"source": "port-article", "title": "Port article"}]
    assert newest["editor"] == "ed"
    assert newest["claim_version"] == 4 == fresh(claim).version
    stored = {r.sequence: r for r in Review.objects.all()}
    for entry in entries:
        assert entry["entry_hash"] == stored[entry["sequence"]].entry_hash
        assert entry["previous_hash"] == stored[entry["sequence"]].previous_hash
    assert entries[-1]["previous_hash"] == GENESIS_HASH
    assert entries[0]["previous_hash"] == entries[1]["entry_hash"]
    # The desk's internal note is not for readers.
    assert all("note" not in entry for entry in entries)
    assert "public" in response["Cache-Control"]


@pytest.mark.parametrize("show_note", [True, False])
def test_an_entry_is_built_as_drfs_field_walk_would_build_it(
    claim, editor, second_editor, source, show_note
):
    """LedgerEntrySerializer builds its answer by hand, for speed: the same keys, in
    the same order, with the same values as its declared fields give."""
    from rest_framework import serializers
    from rest_framework.test import APIRequestFactory

    from claims.api.ledger import LedgerEntrySerializer, ledger_entries
    from claims.sign_off import approve_proposal, propose_verdict
    from tests.factories import CorrectionFactory

    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source], note="N.")
    CorrectionFactory(claim=claim.slug, editor=editor, changes={"statement": "Corrected."})
    # A verdict signed off by a second editor: `approved_by` names them.
    proposal = propose_verdict(
        claim=claim,
        editor=editor,
        status="true",
        explanation=EXPLANATION,
        expected_version=fresh(claim).version,
        evidence=[source],
    )
    approve_proposal(proposal=proposal, editor=second_editor)
    request = APIRequestFactory().get("/")
    context = {"show_note": show_note, "request": request}
    entries = list(ledger_entries().filter(claim=claim).order_by("sequence"))
    assert [e.action for e in entries] == ["publish", "review", "correction", "review"]
    assert [e.approved_by_id for e in entries] == [None, None, None, second_editor.pk]
    for entry in entries:
        built = LedgerEntrySerializer(entry, context=context).data
        walked = dict(
            serializers.Serializer.to_representation(LedgerEntrySerializer(context=context), entry)
        )
        if not show_note:
            walked.pop("note")
        assert json.loads(json.dumps(built)) == json.loads(json.dumps(walked))
        assert list(built) == list(walked)


def test_desk_members_also_see_the_internal_note(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=claim, editor=editor, status="in_review", explanation="", note="Taking this one."
    )

    entries = editor_client.get(reviews_url(claim)).json()

    assert entries[0]["note"] == "Taking this one."
    assert "note" in entries[1]


def test_a_drafts_ledger_is_404_for_readers_but_not_for_the_desk(
    api_client, editor_client, claim, editor
):
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")

    assert api_client.get(reviews_url(claim)).status_code == 404
    response = editor_client.get(reviews_url(claim))
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert "private" in response["Cache-Control"]


def test_an_unknown_claim_is_404(api_client, db):
    response = api_client.get("/api/v1/claims/no-such-claim/reviews/")
    assert response.status_code == 404
    assert error(response)["status"] == 404


def test_reading_the_ledger_takes_the_same_queries_whatever_its_length(
    api_client, claim, editor, source
):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])
    # 1. the published claim's id, 2. its ledger entries with editors, 3. their evidence
    # with sources
    with CaptureQueriesContext(connection) as short:
        assert len(api_client.get(reviews_url(claim)).json()) == 3

    more = [SourceFactory(slug=f"evidence-{n}", title=f"Evidence {n}") for n in range(4)]
    for status in ("mixed", "mostly_true", "true", "misleading", "unsupported"):
        VerdictFactory(claim=claim, editor=editor, status=status, evidence=[source, *more])
    # The same 3 for 8 entries citing 5 sources.
    with CaptureQueriesContext(connection) as long:
        entries = api_client.get(reviews_url(claim)).json()

    assert len(entries) == 8
    assert len(entries[0]["evidence"]) == 5
    assert len(long.captured_queries) == len(short.captured_queries) <= 3


# --- Recording a review ---------------------------------------------------------------


def test_an_editor_records_a_review_with_the_version_they_saw(editor_client, claim, editor, source):
    PublicationFactory(claim=claim, editor=editor)
    seen = fresh(claim).version
    before = Review.objects.count()

    response = editor_client.post(
        reviews_url(claim),
        body(seen, evidence=[source.slug], note="Called the port."),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Review.objects.count() == before + 1
    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("false", seen + 1)
    entry = response.json()
    latest = Review.objects.order_by("-sequence").first()
    assert entry["sequence"] == latest.sequence
    assert entry["entry_hash"] == latest.entry_hash
    assert entry["status_after"] == {"value": "false", "label": "False"}
    assert entry["evidence"] == [{"source": "port-article", "title": "Port article"}]
    assert entry["note"] == "Called the port."
    assert entry["claim_version"] == claim.version
    assert response["Location"].endswith(reviews_url(claim))
    assert response["ETag"] == claim_etag(claim)
    assert verify_ledger().ok


def test_if_match_with_the_claims_current_etag_records_the_review(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    etag = claim_etag(fresh(claim))

    response = editor_client.post(
        reviews_url(claim), body(status="in_review", explanation=""), HTTP_IF_MATCH=etag
    )

    assert response.status_code == 201, response.content
    claim.refresh_from_db()
    assert claim.status == "in_review"
    assert response["ETag"] == claim_etag(claim) != etag
    assert verify_ledger().ok


def test_the_claim_details_etag_works_as_if_match_and_comes_back_new(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    detail_url = f"/api/v1/claims/{claim.slug}/"
    loaded = editor_client.get(detail_url)
    assert loaded.status_code == 200

    response = editor_client.post(
        reviews_url(claim), body(status="in_review", explanation=""), HTTP_IF_MATCH=loaded["ETag"]
    )

    assert response.status_code == 201, response.content
    assert response["ETag"] == editor_client.get(detail_url)["ETag"] != loaded["ETag"]


def test_a_session_login_may_record_too(claim, editor):
    client = APIClient()
    client.force_login(editor)

    response = client.post(reviews_url(claim), body(1, status="in_review"), format="json")

    assert response.status_code == 201
    assert fresh(claim).status == "in_review"


def test_the_second_of_two_editors_gets_409_and_nothing_is_written(
    editor_client, claim, editor, second_editor
):
    PublicationFactory(claim=claim, editor=editor)
    second_client = token_client(second_editor)
    # Both load the ledger and see the same version.
    seen_first = editor_client.get(reviews_url(claim)).json()[0]["claim_version"]
    seen_second = second_client.get(reviews_url(claim)).json()[0]["claim_version"]
    assert seen_first == seen_second == fresh(claim).version
    before = Review.objects.count()

    first = editor_client.post(reviews_url(claim), body(seen_first, status="false"), format="json")
    second = second_client.post(reviews_url(claim), body(seen_second, status="true"), format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    conflict = error(second)
    assert conflict["code"] == "version_conflict"
    assert conflict["current"]["version"] == seen_first + 1
    assert conflict["current"]["status"] == "false"
    assert conflict["current"]["etag"] == claim_etag(fresh(claim))
    assert "ed" in conflict["message"]
    assert Review.objects.count() == before + 1
    assert fresh(claim).status == "false"
    assert verify_ledger().ok


def test_a_stale_if_match_is_412_and_nothing_is_written(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    stale_etag = claim_etag(fresh(claim))
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    before = Review.objects.count()

    response = editor_client.post(reviews_url(claim), body(), HTTP_IF_MATCH=stale_etag)

    assert response.status_code == 412
    failed = error(response)
    assert failed["code"] == "precondition_failed"
    assert failed["current"]["version"] == fresh(claim).version
    assert failed["current"]["etag"] == claim_etag(fresh(claim))
    assert Review.objects.count() == before
    assert fresh(claim).status == "in_review"


def test_a_weak_or_wildcard_if_match_does_not_prove_the_version(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    etag = claim_etag(fresh(claim))
    before = Review.objects.count()

    weak = editor_client.post(reviews_url(claim), body(), HTTP_IF_MATCH=f"W/{etag}")
    wildcard = editor_client.post(reviews_url(claim), body(), HTTP_IF_MATCH="*")

    assert weak.status_code == 412
    assert wildcard.status_code == 400
    assert "version" in error(wildcard)["fields"]
    assert Review.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_no_write_comes_between_the_if_match_check_and_the_write(
    editor_client, claim, editor, monkeypatch
):
    """The claim's row is locked before If-Match is compared (locked_visible_claim), so
    another editor's write cannot commit in between: it waits for this one."""
    PublicationFactory(claim=claim, editor=editor)
    etag = claim_etag(fresh(claim))
    others = []

    def someone_else_tries_meanwhile(**kwargs):
        # Another editor, on a connection of their own, between the If-Match check
        # and this write: the row is taken.
        def other_editor():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '200ms'")
                    try:
                        cursor.execute(
                            "SELECT 1 FROM claims_claim WHERE id = %s FOR UPDATE", [claim.pk]
                        )
                        others.append("locked it")
                    except OperationalError as refused:
                        others.append(type(refused.__cause__).__name__)
            finally:
                connection.close()

        thread = threading.Thread(target=other_editor)
        thread.start()
        thread.join()
        return record_review(**kwargs)

    monkeypatch.setattr(ledger_api, "record_review", someone_else_tries_meanwhile)
    before = Review.objects.count()

    response = editor_client.post(reviews_url(claim), body(), HTTP_IF_MATCH=etag)

    assert response.status_code == 201
    assert others == ["LockNotAvailable"]
    assert Review.objects.count() == before + 1


def test_without_version_or_if_match_the_answer_is_400_naming_version(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    before = Review.objects.count()

    response = editor_client.post(reviews_url(claim), body(), format="json")

    assert response.status_code == 400
    assert "version" in error(response)["fields"]
    assert Review.objects.count() == before


def test_a_verdict_without_explanation_is_400_naming_explanation(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    before = Review.objects.count()

    response = editor_client.post(
        reviews_url(claim), body(fresh(claim).version, explanation="  "), format="json"
    )

    assert response.status_code == 400
    assert "explanation" in error(response)["fields"]
    assert Review.objects.count() == before


def test_unknown_evidence_is_400_naming_evidence(editor_client, claim, editor, source):
    PublicationFactory(claim=claim, editor=editor)
    before = Review.objects.count()

    response = editor_client.post(
        reviews_url(claim),
        body(fresh(claim).version, evidence=[source.slug, "no-such-source"]),
        format="json",
    )

    assert response.status_code == 400
    fields = error(response)["fields"]
    assert "evidence" in fields
    assert "no-such-source" in fields["evidence"][0]
    assert Review.objects.count() == before


def test_an_unknown_status_is_400_naming_status(editor_client, claim, editor):
    response = editor_client.post(
        reviews_url(claim), body(1, status="pants_on_fire"), format="json"
    )

    assert response.status_code == 400
    assert "status" in error(response)["fields"]
    assert Review.objects.count() == 0


def test_a_contributor_gets_403_and_nothing_is_written(contributor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    before = Review.objects.count()

    response = contributor_client.post(
        reviews_url(claim), body(fresh(claim).version), format="json"
    )

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert Review.objects.count() == before
    assert fresh(claim).status == "unverified"


def test_anonymous_gets_401(api_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)

    response = api_client.post(reviews_url(claim), body(fresh(claim).version), format="json")

    assert response.status_code == 401
    assert Review.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_ledger_entries_cannot_be_replaced_edited_or_deleted(
    method, editor_client, api_client, claim, editor
):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false")
    hashes = list(Review.objects.order_by("sequence").values_list("entry_hash", flat=True))

    for client in (editor_client, api_client):
        response = getattr(client, method)(reviews_url(claim), body(3), format="json")
        assert response.status_code == 405
    # And there is no route to a single entry.
    assert editor_client.get(reviews_url(claim) + "1/").status_code == 404
    assert getattr(editor_client, method)(reviews_url(claim) + "1/").status_code == 404

    assert list(Review.objects.order_by("sequence").values_list("entry_hash", flat=True)) == hashes


# --- Publishing and unpublishing ------------------------------------------------------


def test_an_editor_publishes_and_unpublishes_with_ledger_entries(editor_client, api_client, claim):
    assert api_client.get(reviews_url(claim)).status_code == 404

    published = editor_client.post(
        publish_url(claim), {"version": 1, "note": "Ready."}, format="json"
    )

    assert published.status_code == 200, published.content
    assert published.json()["action"] == {"value": "publish", "label": "Published"}
    assert published.json()["note"] == "Ready."
    claim.refresh_from_db()
    assert claim.is_published and claim.version == 2
    assert published["ETag"] == claim_etag(claim)
    assert api_client.get(reviews_url(claim)).status_code == 200

    missing_reason = editor_client.post(
        unpublish_url(claim), {"version": 2, "explanation": " "}, format="json"
    )
    assert missing_reason.status_code == 400
    assert "explanation" in error(missing_reason)["fields"]

    withdrawn = editor_client.post(
        unpublish_url(claim),
        {"explanation": "Attributed to the wrong person."},
        HTTP_IF_MATCH=claim_etag(claim),
        format="json",
    )

    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["action"]["value"] == "unpublish"
    assert withdrawn.json()["explanation"] == "Attributed to the wrong person."
    assert not fresh(claim).is_published
    assert api_client.get(reviews_url(claim)).status_code == 404
    assert Review.objects.count() == 2
    assert verify_ledger().ok


def test_publishing_twice_is_400(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)

    response = editor_client.post(publish_url(claim), {"version": 2}, format="json")

    assert response.status_code == 400
    assert "already published" in error(response)["message"]
    assert Review.objects.count() == 1


def test_publishing_needs_a_version_or_if_match(editor_client, claim):
    response = editor_client.post(publish_url(claim), {"note": "x"}, format="json")

    assert response.status_code == 400
    assert "version" in error(response)["fields"]
    assert Review.objects.count() == 0


def test_contributors_and_anonymous_cannot_publish_or_unpublish(
    contributor_client, api_client, claim, editor
):
    assert contributor_client.post(publish_url(claim), {"version": 1}).status_code == 403
    assert api_client.post(publish_url(claim), {"version": 1}).status_code == 401
    assert not fresh(claim).is_published

    PublicationFactory(claim=claim, editor=editor)
    reason = {"version": 2, "explanation": "Wrong speaker."}
    assert contributor_client.post(unpublish_url(claim), reason).status_code == 403
    assert api_client.post(unpublish_url(claim), reason).status_code == 401
    assert fresh(claim).is_published
    assert Review.objects.count() == 1


def test_publication_conflicts_are_409_and_412(editor_client, claim, editor, second_editor):
    seen_etag = claim_etag(fresh(claim))
    seen_version = fresh(claim).version
    token_client(second_editor).post(publish_url(claim), {"version": seen_version})
    assert fresh(claim).is_published

    reason = {"explanation": "Wrong speaker."}
    stale_version = editor_client.post(
        unpublish_url(claim), {**reason, "version": seen_version}, format="json"
    )
    stale_etag = editor_client.post(
        unpublish_url(claim), reason, format="json", HTTP_IF_MATCH=seen_etag
    )

    assert stale_version.status_code == 409
    assert error(stale_version)["current"]["version"] == seen_version + 1
    assert error(stale_version)["current"]["published"] is True
    assert stale_etag.status_code == 412
    assert error(stale_etag)["current"]["etag"] == claim_etag(fresh(claim))
    assert fresh(claim).is_published
    assert Review.objects.count() == 1


def test_publication_routes_only_take_post(editor_client, claim):
    assert editor_client.get(publish_url(claim)).status_code == 405
    assert editor_client.delete(unpublish_url(claim)).status_code == 405


def test_publish_and_unpublish_are_claim_actions_at_their_old_addresses(
    editor_client, api_client, claim
):
    """Actions of the claims viewset, routed as the publication view was: slugs only,
    no trailing-slash twin, who is asking checked before the method, OPTIONS as before,
    and an operation of their own in the schema."""
    assert publish_url(claim) == f"/api/v1/claims/{claim.slug}/publish"
    assert editor_client.post(f"{publish_url(claim)}/", {"version": 1}).status_code == 404
    assert editor_client.post("/api/v1/claims/a.b/publish", {"version": 1}).status_code == 404
    assert api_client.get(unpublish_url(claim)).status_code == 401
    options = editor_client.options(publish_url(claim))
    assert options["Allow"] == "POST, OPTIONS"
    assert options.json()["name"] == "Publication"
    assert "actions" not in options.json()

    schema = api_client.get("/api/schema/?format=json").json()
    for action in ("publish", "unpublish"):
        operation = schema["paths"][f"/api/v1/claims/{{slug}}/{action}"]["post"]
        assert operation["operationId"] == f"claims_{action}"
        assert operation["summary"] and operation["description"]
        assert {"200", "409", "412"} <= set(operation["responses"])


# --- Export ---------------------------------------------------------------------------


def _lines(response):
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


FULL_EXPORT_URL = EXPORT_URL + "?full=true"


def test_anyone_may_export_but_only_editors_get_the_full_export(
    api_client, contributor_client, editor_client, editor
):
    assert api_client.get(EXPORT_URL).status_code == 200
    assert api_client.get(FULL_EXPORT_URL).status_code == 401
    response = contributor_client.get(FULL_EXPORT_URL)
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert editor_client.get(FULL_EXPORT_URL).status_code == 200
    assert error(api_client.get(EXPORT_URL + "?full=maybe"))["fields"] == {
        "full": ["Use true or false."]
    }


def test_a_superuser_may_read_the_full_export(db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    response = token_client(admin).get(FULL_EXPORT_URL)
    assert response.status_code == 200
    assert response.streaming


def test_the_export_streams_the_whole_ledger_in_chain_order(
    api_client, editor_client, claim, editor, source, speaker
):
    other = ClaimFactory(slug="other-claim", statement="Something else.", speaker=speaker)
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=other,
        editor=editor,
        status="false",
        evidence=[source, SourceFactory(slug="evidence-1", title="Evidence 1")],
        note="Draft — ünïcode.",
    )
    VerdictFactory(
        claim=claim, editor=editor, status="in_review", explanation="", note="Mine — ünïcode."
    )
    VerdictFactory(claim=claim, editor=editor, status="true", evidence=[source])

    response = api_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="ledger-')
    assert response["Content-Disposition"].endswith('.jsonl"')
    raw = b"".join(response.streaming_content)
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4]
    stored = {r.sequence: r for r in Review.objects.select_related("claim")}
    for line in lines:
        entry = stored[line["sequence"]]
        assert line["entry_hash"] == entry.entry_hash
        assert line["previous_hash"] == entry.previous_hash
        assert "note" not in line and "note_salt" not in line
    # The draft's entry is there, hashes only: nothing of its words, evidence or note.
    assert lines[1]["redacted"] is True and "body" not in lines[1]
    assert b"Something else" not in raw and b"Draft" not in raw and b"evidence-1" not in raw
    assert lines[3]["body"]["evidence"] == [
        {"source": source.pk, "sha256": Source.objects.get(pk=source.pk).snapshot_sha256}
    ]
    assert lines[3]["body"]["claim"]["statement"] == claim.statement
    assert lines[3]["claim"] == claim.slug and lines[3]["editor"] == "ed"

    full = _lines(editor_client.get(FULL_EXPORT_URL))
    assert full[1]["body"]["claim"]["statement"] == "Something else."
    assert full[1]["note"] == "Draft — ünïcode."
    assert full[2]["note"] == "Mine — ünïcode."
    assert [line["entry_hash"] for line in full] == [line["entry_hash"] for line in lines]


def _signed_export(client, url):
    """The export and the latest checkpoint, as a verifier downloads them."""
    export = b"".join(client.get(url).streaming_content)
    sign_latest()
    checkpoint = client.get("/api/v1/ledger/checkpoint")
    assert checkpoint.status_code == 200, checkpoint.content
    return export, checkpoint.content.decode()


def test_the_public_export_verifies_against_a_signed_checkpoint(
    api_client, editor_client, claim, editor, source, speaker
):
    draft = ClaimFactory(slug="secret-draft", statement="A draft nobody may read.", speaker=speaker)
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=draft, editor=editor, status="false", evidence=[source], note="internal")
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="true",
        evidence=[source, SourceFactory(slug="evidence-2", title="Evidence 2")],
        note="Phoned the port.",
    )

    for client, url in ((api_client, EXPORT_URL), (editor_client, FULL_EXPORT_URL)):
        export, checkpoint = _signed_export(client, url)
        report = verifier.verify_export(
            export.splitlines(),
            checkpoint_note=checkpoint,
            verifier_key=checkpoints.verifier_key(),
            origin=checkpoints.origin(),
        )
        assert report.ok, report.problems
        assert report.entries == 3
        assert report.checkpoint.size == 3
    assert report.redacted == 0  # the full export hides nothing

    public, checkpoint = _signed_export(api_client, EXPORT_URL)
    assert b"nobody may read" not in public and b"internal" not in public
    assert b"Phoned" not in public
    # One byte changed in a published entry's body: named, and the export fails.
    tampered = public.replace(b'"status_after":"true"', b'"status_after":"mixed"', 1)
    assert tampered != public
    report = verifier.verify_export(
        tampered.splitlines(),
        checkpoint_note=checkpoint,
        verifier_key=checkpoints.verifier_key(),
    )
    assert not report.ok
    assert report.problems[0].startswith("entry #3")


def test_export_queries_grow_with_chunks_not_entries(
    editor_client, claim, editor, source, monkeypatch
):
    chunk = 5
    monkeypatch.setattr(ledger_api.ExportView, "chunk_size", chunk)
    evidence = [
        source,
        SourceFactory(slug="evidence-1", title="Evidence 1"),
        SourceFactory(slug="evidence-2", title="Evidence 2"),
    ]
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false", evidence=evidence)

    # 1. the token with its user, 2. the user's permissions and its groups' (one query),
    # 3. the entries with claims and editors (one server-side cursor), 4. the evidence of
    # each chunk of `chunk` entries with sources: here one chunk, so 4 queries.
    with CaptureQueriesContext(connection) as small:
        assert len(_lines(editor_client.get(FULL_EXPORT_URL))) == 2

    statuses = ["true", "mixed", "misleading", "mostly_true", "unsupported", "in_review"]
    for n in range(28):
        VerdictFactory(
            claim=claim, editor=editor, status=statuses[n % len(statuses)], evidence=evidence
        )
    # The same, with six chunks of evidence: 9 queries.
    with CaptureQueriesContext(connection) as large:
        lines = _lines(editor_client.get(FULL_EXPORT_URL))

    assert len(lines) == 30
    assert all(len(line["body"]["evidence"]) == 3 for line in lines[1:])
    extra_chunks = math.ceil(30 / chunk) - math.ceil(2 / chunk)
    # One evidence query per chunk, nothing per entry.
    assert len(large.captured_queries) - len(small.captured_queries) <= extra_chunks
    assert len(large.captured_queries) < 30
