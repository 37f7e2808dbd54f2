"""POST /api/v1/claims/<slug>/corrections: a published or rated claim's words change
only through a correction entry, by an editor, with a class and a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.api.common import claim_etag
from claims.ledger import entries, verifier
from claims.ledger.verification import verify_ledger
from claims.models import Claim, Review
from tests.factories import PublicationFactory, VerdictFactory

REASON = "The statement said 12 million; the minister said 12.5 million."


def corrections_url(claim):
    return f"/api/v1/claims/{claim.slug}/corrections"


@pytest.fixture
def rated(claim, editor):
    """A published claim with a verdict."""
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=claim, editor=editor, explanation="The port's report gives 9.1 million tonnes."
    )
    return Claim.objects.get(pk=claim.pk)


def body(claim, **overrides):
    return {
        "correction_class": "typo",
        "reason": REASON,
        "statement": "The port handled 12.5 million tonnes last year.",
        "version": claim.version,
        **overrides,
    }


def test_an_editors_typo_correction_keeps_the_verdict_and_is_recorded(editor_client, rated):
    response = editor_client.post(corrections_url(rated), body(rated), format="json")

    assert response.status_code == 201, response.content
    assert response["Location"].endswith(f"/api/v1/claims/{rated.slug}/reviews/")
    corrected = Claim.objects.get(pk=rated.pk)
    assert response["ETag"] == claim_etag(corrected)
    assert corrected.statement == "The port handled 12.5 million tonnes last year."
    assert (corrected.status, corrected.version) == ("false", rated.version + 1)
    entry = response.json()
    assert entry["action"]["value"] == "correction"
    assert entry["correction"] == {
        "correction_class": {"value": "typo", "label": "Typo"},
        "changes": {
            "statement": {
                "from": "The port handled 12 million tonnes last year.",
                "to": "The port handled 12.5 million tonnes last year.",
            }
        },
    }
    assert entry["explanation"] == REASON
    assert entry["claim_content"]["statement"] == corrected.statement
    # What the entry's hashes cover is in the answer, and verifies.
    assert verifier.body_digest(entry["hashed_body"]) == entry["body_sha256"]
    stored = Review.objects.get(sequence=entry["sequence"])
    header = entries.entry_header(stored, entry["hashed_body"])
    assert verifier.entry_hash(header) == entry["entry_hash"] == stored.entry_hash
    assert verify_ledger().ok


def test_a_substantive_correction_withdraws_the_verdict_and_its_claimreview(
    editor_client, api_client, rated
):
    assert api_client.get(f"/api/v1/claims/{rated.slug}/claimreview").status_code == 200

    response = editor_client.post(
        corrections_url(rated),
        body(rated, correction_class="substantive", quantity="1200000"),
        format="json",
    )

    assert response.status_code == 201, response.content
    corrected = Claim.objects.get(pk=rated.pk)
    assert corrected.status == "in_review"
    assert corrected.quantity == Decimal("1200000")
    assert response.json()["status_after"]["value"] == "in_review"
    # Withdrawn: gone, so that harvesters drop their copy (tests/api/test_withdrawals.py).
    assert api_client.get(f"/api/v1/claims/{rated.slug}/claimreview").status_code == 410
    # A new verdict brings it back, on the corrected words.
    VerdictFactory(
        claim=corrected,
        editor=Review.objects.get(sequence=1).editor,
        status="mostly_true",
        explanation="Close to the report's figure.",
    )
    markup = api_client.get(f"/api/v1/claims/{rated.slug}/claimreview").json()
    assert markup["claimReviewed"] == corrected.statement


def test_a_contributor_may_not_correct_and_nothing_is_written(contributor_client, rated):
    response = contributor_client.post(corrections_url(rated), body(rated), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Claim.objects.get(pk=rated.pk).statement == rated.statement
    assert Review.objects.filter(action="correction").count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"correction_class": "cosmetic"}, "correction_class"),
        ({"speaker": "nobody-by-that-slug"}, "speaker"),
        ({"kind": "numeric", "quantity": None}, "quantity"),
        ({"statement": "The port handled 12 million tonnes last year."}, "non_field_errors"),
    ],
)
def test_a_bad_correction_names_its_field_and_writes_nothing(
    editor_client, rated, overrides, field
):
    response = editor_client.post(corrections_url(rated), body(rated, **overrides), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Claim.objects.get(pk=rated.pk).version == rated.version


def test_a_stale_version_is_a_conflict_and_an_old_etag_a_failed_precondition(editor_client, rated):
    etag = claim_etag(rated)
    first = editor_client.post(corrections_url(rated), body(rated), format="json")
    assert first.status_code == 201

    stale = editor_client.post(
        corrections_url(rated), body(rated, statement="Something else."), format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["current"]["version"] == rated.version + 1
    without_version = body(rated, statement="Something else.")
    del without_version["version"]
    old_etag = editor_client.post(
        corrections_url(rated), without_version, format="json", HTTP_IF_MATCH=etag
    )
    assert old_etag.status_code == 412
    assert Review.objects.filter(action="correction").count() == 1


def test_a_draft_without_a_verdict_is_edited_directly_not_corrected(editor_client, claim):
    response = editor_client.post(corrections_url(claim), body(claim), format="json")

    assert response.status_code == 400
    assert "edit it directly" in response.json()["error"]["message"]


def test_the_claims_ledger_lists_the_correction_with_what_it_changed(
    editor_client, api_client, rated
):
    editor_client.post(corrections_url(rated), body(rated, unit="kg"), format="json")

    ledger = api_client.get(f"/api/v1/claims/{rated.slug}/reviews/").json()

    assert ledger[0]["summary"] == "Typo correction"
    assert set(ledger[0]["correction"]["changes"]) == {"statement", "unit"}
    # Every entry states exactly what it judged.
    assert (
        ledger[1]["claim_content"]["statement"] == "The port handled 12 million tonnes last year."
    )
    assert ledger[0]["claim_content"]["unit"] == "kg"
    assert "note" not in ledger[0]
