"""Other fact-checkers' reviews (ExternalReview) in claims:search, as Google lists
every publisher's review of a claim; never in the desk's ClaimReview DataFeed."""

from __future__ import annotations

from datetime import date

import pytest

from claims.models import ExternalReview
from tests.api.test_interop import (
    CLAIMREVIEW_FEED,
    GOOGLE_PUBLISHER_KEYS,
    GOOGLE_REVIEW_KEYS,
    RFC3339_UTC,
    _public_site,  # noqa: F401 - the autouse fixture that names our site
    search,
)
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db

THEIRS = "https://checks.example.net"


def external(claim, n: int = 1, **fields) -> ExternalReview:
    return ExternalReview.objects.create(
        claim=claim,
        url=f"{THEIRS}/checks/{n}",
        publisher_name="Checks Example",
        publisher_site=THEIRS,
        claim_text=f"Their wording {n} of it.",
        rating_text=fields.pop("rating_text", "Engañoso"),
        date_published=date(2025, 2, n),
        language=fields.pop("language", "es"),
        **fields,
    )


@pytest.fixture
def rated(editor):
    return ClaimFactory(
        statement="The pier was rebuilt in 2019.", published=True, verdict="false", editor=editor
    )


def test_a_claim_lists_the_desks_review_first_then_every_other_publishers(api_client, rated):
    external(rated, 1)
    external(rated, 2, rating_text="Falso", language="pt-BR")

    found = search(api_client, query="pier").json()["claims"]

    assert len(found) == 1
    reviews = found[0]["claimReview"]
    assert [r["publisher"]["name"] for r in reviews] == [
        "Example Fact Desk",
        "Checks Example",
        "Checks Example",
    ]
    # Theirs, newest first, in their own words, in Google's shape.
    assert [r["textualRating"] for r in reviews[1:]] == ["Falso", "Engañoso"]
    assert reviews[1] == {
        "publisher": {"name": "Checks Example", "site": "checks.example.net"},
        "url": f"{THEIRS}/checks/2",
        "title": "Their wording 2 of it.",
        "reviewDate": "2025-02-02T00:00:00Z",
        "textualRating": "Falso",
        "languageCode": "pt-BR",
    }
    assert set(reviews[1]) <= GOOGLE_REVIEW_KEYS
    assert set(reviews[1]["publisher"]) <= GOOGLE_PUBLISHER_KEYS
    assert RFC3339_UTC.match(reviews[1]["reviewDate"])


def test_a_published_claim_the_desk_has_not_rated_is_found_by_others_reviews(api_client, editor):
    unrated = ClaimFactory(statement="The ferry carried 900 cars.", published=True, editor=editor)
    external(unrated)
    draft = ClaimFactory(statement="The ferry sank twice.")
    external(draft, 2)

    found = search(api_client, query="ferry").json()["claims"]

    assert len(found) == 1  # the draft stays the desk's
    assert found[0]["text"] == "The ferry carried 900 cars."
    assert [r["publisher"]["name"] for r in found[0]["claimReview"]] == ["Checks Example"]


def test_language_and_site_filters_choose_among_every_publishers_reviews(api_client, rated):
    external(rated, 1, language="es")
    external(rated, 2, language="pt-BR")

    spanish = search(api_client, query="pier", languageCode="es").json()["claims"]
    assert [r["url"] for r in spanish[0]["claimReview"]] == [f"{THEIRS}/checks/1"]

    theirs = search(api_client, reviewPublisherSiteFilter="checks.example.net").json()
    assert [r["url"] for r in theirs["claims"][0]["claimReview"]] == [
        f"{THEIRS}/checks/2",
        f"{THEIRS}/checks/1",
    ]
    assert search(api_client, query="pier", languageCode="de").json() == {}


def test_the_desks_datafeed_carries_only_the_desks_verdicts(api_client, rated):
    external(rated)

    feed = api_client.get(CLAIMREVIEW_FEED).json()

    body = str(feed)
    assert "checks.example.net" not in body and "Engañoso" not in body
    assert rated.statement in body
