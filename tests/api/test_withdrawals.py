"""A withdrawn verdict is said, not just dropped: its ClaimReview answers 410 Gone, and
the DataFeed's increments (`updated_since`) carry a tombstone for it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from claims.models import Claim, CorrectionClass
from claims.services import unpublish_claim
from tests.api.test_interop import (
    CLAIMREVIEW_FEED,
    SITE,
    _public_site,  # noqa: F401 - the autouse fixture that names our site
    claimreview_url,
)
from tests.factories import ClaimFactory, CorrectionFactory, VerdictFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(editor):
    return ClaimFactory(
        slug="pier-rebuilt",
        statement="The pier was rebuilt in 2019.",
        published=True,
        verdict="false",
        editor=editor,
    )


def feed_since(api_client, moment) -> list[dict]:
    response = api_client.get(CLAIMREVIEW_FEED, {"updated_since": moment.isoformat()})
    assert response.status_code == 200, response.content
    return response.json()["dataFeedElement"]


def test_an_unpublished_verdict_is_gone_and_the_increment_says_so(api_client, rated, editor):
    before = timezone.now()
    assert api_client.get(claimreview_url(rated.slug)).status_code == 200

    unpublish_claim(
        claim=Claim.objects.get(pk=rated.pk),
        editor=editor,
        expected_version=Claim.objects.get(pk=rated.pk).version,
        explanation="Withdrawn while we recheck the source.",
    )

    gone = api_client.get(claimreview_url(rated.slug))
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "gone"
    [element] = feed_since(api_client, before)
    assert element["@type"] == "DataFeedItem"
    assert element["item"] == {"@type": "ClaimReview", "url": f"{SITE}/claims/pier-rebuilt/"}
    assert element["dateDeleted"] == Claim.objects.get(pk=rated.pk).updated_at.isoformat()
    # A full harvest lists what stands, without the tombstones of every past withdrawal.
    assert api_client.get(CLAIMREVIEW_FEED).json()["dataFeedElement"] == []


def test_a_substantive_correction_withdraws_the_review_until_a_new_verdict(
    api_client, rated, editor
):
    before = timezone.now()
    CorrectionFactory(
        claim=rated.slug,
        editor=editor,
        correction_class=CorrectionClass.SUBSTANTIVE,
        changes={"statement": "The pier was rebuilt in 2021."},
    )

    assert api_client.get(claimreview_url(rated.slug)).status_code == 410
    assert feed_since(api_client, before)[0]["@type"] == "DataFeedItem"

    VerdictFactory(claim=Claim.objects.get(pk=rated.pk), editor=editor, status="true")

    assert api_client.get(claimreview_url(rated.slug)).status_code == 200
    [element] = feed_since(api_client, before)
    assert element["@type"] == "ClaimReview"
    assert element["claimReviewed"] == "The pier was rebuilt in 2021."


def test_a_claim_that_never_carried_a_review_is_only_not_found(api_client, editor):
    ClaimFactory(slug="never-rated", published=True, editor=editor)
    ClaimFactory(slug="draft-rated", verdict="false", editor=editor)
    before = timezone.now().replace(year=2000)

    assert api_client.get(claimreview_url("never-rated")).status_code == 404
    # Rated, never published: readers never saw it, so nothing was withdrawn from them.
    assert api_client.get(claimreview_url("draft-rated")).status_code == 404
    assert api_client.get(claimreview_url("no-such-claim")).status_code == 404
    assert feed_since(api_client, before) == []
