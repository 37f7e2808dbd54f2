"""What other fact-checking tools read: a claim's ClaimReview, the ClaimReview
DataFeed and the Google Fact Check Tools compatible claims:search."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from claims.api.interop import published_verdicts
from claims.models import Claim
from claims.search import search_claims
from claims.services import unpublish_claim
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    CorrectionFactory,
    SourceFactory,
    VerdictFactory,
)
from tests.jsonld import SCHEMA, expand, values

SITE = "https://factcheck.example.org"
HOST = "factcheck.example.org"
BOUNTY = "us-50-million-bounty-on-maduro"

CLAIMREVIEW_FEED = "/api/v1/claimreview"
SEARCH = "/api/v1/claims:search"

# Google Fact Check Tools v1alpha1 claims:search, as its reference documents it.
GOOGLE_TOP_LEVEL_KEYS = {"claims", "nextPageToken"}
GOOGLE_CLAIM_KEYS = {"text", "claimant", "claimDate", "claimReview"}
GOOGLE_REVIEW_KEYS = {"publisher", "url", "title", "reviewDate", "textualRating", "languageCode"}
GOOGLE_PUBLISHER_KEYS = {"name", "site"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


# --- helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _public_site(settings):
    settings.SITE_URL = SITE
    settings.PUBLISHER_URL = SITE + "/"
    settings.PUBLISHER_NAME = "Example Fact Desk"


def claimreview_url(slug: str) -> str:
    return reverse("api:claim-claimreview", args=[slug])


def page_url(slug: str) -> str:
    return SITE + reverse("claims:detail", args=[slug])


def page_json_ld(client, slug: str) -> dict:
    response = client.get(reverse("claims:detail", args=[slug]))
    assert response.status_code == 200
    scripts = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>',
        response.content.decode(),
        flags=re.DOTALL,
    )
    assert len(scripts) == 1
    return json.loads(scripts[0])


def search(api_client, **params):
    return api_client.get(SEARCH, params)


def invalid_parameters(response) -> list[str]:
    """The parameters a claims:search 400 names, in Google's error shape: the
    google.rpc.BadRequest detail's fieldViolations."""
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    (bad_request,) = [d for d in error["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    return list(dict.fromkeys(v["field"] for v in bad_request["fieldViolations"]))


def review_urls(body: dict) -> list[str]:
    return [claim["claimReview"][0]["url"] for claim in body.get("claims", [])]


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def verdicts_with_evidence(count: int, *, slug: str, statement: str, speaker, editor) -> None:
    """`count` published claims (`slug`-n, `statement` formatted with n), each appearing
    in a report and rated twice, the second verdict citing evidence: every kind of row
    a ClaimReview reads, so that a query count sees them all."""
    for n in range(count):
        claim = ClaimFactory(
            slug=f"{slug}-{n}",
            statement=statement.format(n=n),
            speaker=speaker,
            published=True,
            verdict="false",
            editor=editor,
        )
        AppearanceFactory(claim=claim, source=SourceFactory(report=True, slug=f"{slug}-source-{n}"))
        VerdictFactory(
            claim=claim,
            editor=editor,
            status="true",
            evidence=[SourceFactory(report=True, slug=f"{slug}-proof-{n}")],
        )


@pytest.fixture
def bounty(seeded, editor):
    """The seeded bounty claim (two sources, quotes), with a verdict citing evidence."""
    claim = Claim.objects.get(slug=BOUNTY)
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="false",
        explanation="No such **reward** exists.",
        evidence=[
            SourceFactory(report=True, slug="state-dept-notice", title="State Department notice")
        ],
    )
    claim.refresh_from_db()
    return claim


@pytest.fixture
def harbour(db, speaker, editor):
    """Seven published verdicts about a harbour, plus what must never show."""
    claims = [
        ClaimFactory(
            slug=f"harbour-{n}",
            statement=f"The harbour handled {n} million tonnes in {2010 + n}.",
            speaker=speaker,
            published=True,
            verdict="false" if n % 2 else "mostly_true",
            editor=editor,
        )
        for n in range(7)
    ]
    # Never published as ClaimReview: not yet verified, in review, a draft, an unpublished one.
    ClaimFactory(
        slug="harbour-unverified",
        statement="The harbour has ten cranes.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    in_review = ClaimFactory(
        slug="harbour-in-review",
        statement="The harbour is closing.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    VerdictFactory(claim=in_review, editor=editor, status="in_review", explanation="")
    draft = ClaimFactory(slug="harbour-draft", statement="The harbour was sold.", speaker=speaker)
    VerdictFactory(claim=draft, editor=editor, status="false")
    gone = ClaimFactory(
        slug="harbour-unpublished",
        statement="The harbour was flooded.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    unpublish_claim(
        claim=gone, editor=editor, expected_version=gone.version, explanation="Duplicate."
    )
    return claims


HIDDEN = {"harbour-unverified", "harbour-in-review", "harbour-draft", "harbour-unpublished"}


# --- A claim's ClaimReview -------------------------------------------------------


def test_a_claims_claimreview_is_the_json_ld_its_page_embeds(client, api_client, bounty):
    response = api_client.get(claimreview_url(BOUNTY))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert json.loads(response.content) == page_json_ld(client, BOUNTY)


def test_the_claimreview_expands_to_schema_org_terms(api_client, bounty):
    document = json.loads(api_client.get(claimreview_url(BOUNTY)).content)

    expanded = expand(document)

    assert len(expanded) == 1
    review = expanded[0]
    assert review["@type"] == [SCHEMA + "ClaimReview"]
    assert values(review, "claimReviewed") == [bounty.short_form]  # the 75-character form
    # schema.org's context types `url` as a link ("@type": "@id"): an IRI, not text.
    assert review[SCHEMA + "url"] == [{"@id": page_url(BOUNTY)}]
    assert values(review, "inLanguage") == ["en"]
    author = review[SCHEMA + "author"][0]
    assert author["@type"] == [SCHEMA + "Organization"]
    assert values(author, "name") == ["Example Fact Desk"]
    rating = review[SCHEMA + "reviewRating"][0]
    assert rating["@type"] == [SCHEMA + "Rating"]
    assert values(rating, "alternateName") == ["False"]
    assert values(rating, "ratingValue") == [1]
    assert values(rating, "bestRating") == [5]
    assert values(rating, "worstRating") == [1]
    assert values(rating, "ratingExplanation") == ["No such reward exists."]
    item = review[SCHEMA + "itemReviewed"][0]
    assert item["@type"] == [SCHEMA + "Claim"]
    claimant = item[SCHEMA + "author"][0]
    assert values(claimant, "name") == [bounty.speaker.name]
    appearances = item[SCHEMA + "appearance"]
    sources = {appearance.source for appearance in bounty.appearances.all()}
    assert len(sources) == 2
    assert sorted(values(work, "name")[0] for work in appearances) == sorted(
        source.title for source in sources
    )
    for work in appearances:
        assert work["@type"] == [SCHEMA + "CreativeWork"]


def test_a_verdict_off_the_scale_carries_no_rating_value(api_client, speaker, editor):
    claim = ClaimFactory(
        slug="ghost-ship",
        statement="A ghost ship docked.",
        speaker=speaker,
        published=True,
        verdict="unsupported",
        editor=editor,
    )

    document = api_client.get(claimreview_url(claim.slug)).json()

    rating = document["reviewRating"]
    assert rating["alternateName"] == "Unsupported"
    assert "ratingValue" not in rating and "bestRating" not in rating


def test_the_claimreview_is_also_served_as_json(api_client, bounty):
    as_jsonld = api_client.get(claimreview_url(BOUNTY))
    as_json = api_client.get(claimreview_url(BOUNTY), HTTP_ACCEPT="application/json")
    by_format = api_client.get(claimreview_url(BOUNTY), {"format": "json"})
    jsonld_format = api_client.get(claimreview_url(BOUNTY), {"format": "jsonld"})

    assert as_json.status_code == 200 and as_json["Content-Type"] == "application/json"
    assert by_format["Content-Type"] == "application/json"
    assert jsonld_format["Content-Type"] == "application/ld+json"
    assert as_json.json() == as_jsonld.json() == jsonld_format.json()


def test_the_interop_endpoints_only_read(api_client, bounty):
    for url in (claimreview_url(BOUNTY), CLAIMREVIEW_FEED, SEARCH):
        response = api_client.post(url, {})
        assert response.status_code == 405
        if url == SEARCH:  # Google's error shape
            assert response.json()["error"]["code"] == 405
            assert response.json()["error"]["status"] == "UNIMPLEMENTED"
        else:
            assert response.json()["error"]["status"] == 405
        assert api_client.head(url + "?query=bounty").status_code == 200
        assert api_client.options(url).status_code == 200


def test_anonymous_reads_are_publicly_cacheable_and_signed_in_ones_private(
    api_client, editor_client, bounty
):
    for url in (claimreview_url(BOUNTY), CLAIMREVIEW_FEED, SEARCH + "?query=bounty"):
        anonymous = api_client.get(url)
        signed_in = editor_client.get(url)

        assert anonymous.status_code == signed_in.status_code == 200
        assert anonymous.content == signed_in.content
        public = {part.strip() for part in anonymous["Cache-Control"].split(",")}
        assert {"public", "max-age=60"} <= public
        assert "private" in signed_in["Cache-Control"]
        assert {"Authorization", "Cookie"} <= {v.strip() for v in anonymous["Vary"].split(",")}


def test_no_claimreview_without_a_published_verdict(api_client, harbour):
    for slug in ("harbour-unverified", "harbour-in-review"):
        response = api_client.get(claimreview_url(slug), HTTP_ACCEPT="application/ld+json")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["status"] == 404 and error["code"] == "not_found"
        assert "has no verdict yet" in error["message"]
        assert error["message"].endswith("no ClaimReview.")

    for slug in ("harbour-draft", "no-such-claim"):
        response = api_client.get(claimreview_url(slug))
        assert response.status_code == 404
        assert "ClaimReview" not in response.json()["error"]["message"]
        assert response.json()["error"]["message"] == "No published claim has this slug."
    # Published with a verdict, then unpublished: withdrawn (tests/api/test_withdrawals.py).
    assert api_client.get(claimreview_url("harbour-unpublished")).status_code == 410


def test_the_claimreview_runs_the_same_queries_however_many_appearances_and_verdicts(
    api_client, speaker, editor, django_assert_num_queries
):
    claim = ClaimFactory(
        slug="counted",
        statement="The harbour counted ships.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    # 1. the published claim with its speaker, 2. topics, 3. appearances with sources,
    # quotes and their speakers, 4. ledger entries with editors, 5. their evidence
    with django_assert_num_queries(5):
        assert api_client.get(claimreview_url("counted")).status_code == 200

    for n in range(4):
        AppearanceFactory(
            claim=claim, source=SourceFactory(report=True, slug=f"page-{n}", title=f"Page {n}")
        )
    for status in ("true", "misleading", "false"):
        claim.refresh_from_db()
        VerdictFactory(
            claim=claim,
            editor=editor,
            status=status,
            evidence=[SourceFactory(report=True, slug=f"proof-{status}")],
        )

    # The same 5 with four appearances and four verdicts.
    with django_assert_num_queries(5):
        response = api_client.get(claimreview_url("counted"))
    assert len(response.json()["itemReviewed"]["appearance"]) == 4
    # 1. the claim, not found
    with django_assert_num_queries(1):
        assert api_client.get(claimreview_url("no-such-claim")).status_code == 404


# --- The DataFeed ----------------------------------------------------------------


def test_the_feed_is_a_data_feed_of_every_published_verdict(api_client, client, harbour, bounty):
    response = api_client.get(CLAIMREVIEW_FEED)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    feed = json.loads(response.content)
    assert feed["@type"] == "DataFeed" and feed["@context"][0] == "https://schema.org"
    assert feed["url"] == SITE + CLAIMREVIEW_FEED
    assert feed["next"] is None
    published = [bounty, *harbour]
    assert feed["dateModified"] == max(c.updated_at for c in published).isoformat()
    urls = [element["url"] for element in feed["dataFeedElement"]]
    assert sorted(urls) == sorted(page_url(c.slug) for c in published)
    assert not any(slug in url for url in urls for slug in HIDDEN)
    # Newest change first, and each element is the claim page's own markup.
    newest_first = sorted(published, key=lambda c: (c.updated_at, c.pk), reverse=True)
    assert urls == [page_url(c.slug) for c in newest_first]
    assert feed["dataFeedElement"][-1] == page_json_ld(client, newest_first[-1].slug)

    expanded = expand(feed)
    assert len(expanded) == 1
    assert expanded[0]["@type"] == [SCHEMA + "DataFeed"]
    assert values(expanded[0], "name") == ["Example Fact Desk: ClaimReview feed"]
    elements = expanded[0][SCHEMA + "dataFeedElement"]
    assert len(elements) == len(published)
    for element in elements:
        assert element["@type"] == [SCHEMA + "ClaimReview"]
        assert values(element[SCHEMA + "reviewRating"][0], "alternateName")[0] in {
            "False",
            "Mostly true",
        }


def test_the_feed_of_an_empty_ledger_is_empty(api_client, db):
    feed = api_client.get(CLAIMREVIEW_FEED).json()

    assert feed["dataFeedElement"] == [] and feed["dateModified"] is None and feed["next"] is None


def test_the_feed_harvests_incrementally_with_updated_since(api_client, speaker, editor):
    first = ClaimFactory(
        slug="first",
        statement="First statement.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    second = ClaimFactory(
        slug="second",
        statement="Second statement.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    third = ClaimFactory(
        slug="third",
        statement="Third statement.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    assert first.updated_at < second.updated_at < third.updated_at

    feed = api_client.get(CLAIMREVIEW_FEED, {"updated_since": second.updated_at.isoformat()})

    urls = [element["url"] for element in feed.json()["dataFeedElement"]]
    assert urls == [page_url("third"), page_url("second")]
    # A later verdict brings a claim back into the increment.
    VerdictFactory(claim=first, editor=editor, status="true")
    later = api_client.get(CLAIMREVIEW_FEED, {"updated_since": third.updated_at.isoformat()})
    assert [e["url"] for e in later.json()["dataFeedElement"]] == [
        page_url("first"),
        page_url("third"),
    ]
    assert later.json()["dataFeedElement"][0]["reviewRating"]["alternateName"] == "True"
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        api_client.get(CLAIMREVIEW_FEED, {"updated_since": future}).json()["dataFeedElement"] == []
    )


@pytest.mark.parametrize(
    "value", ["yesterday", "2025-13-01T00:00:00Z", "2025-01-01T25:00", "0001-01-01T00:00:00+14:00"]
)
def test_an_invalid_updated_since_is_a_400_naming_it(api_client, db, value):
    response = api_client.get(CLAIMREVIEW_FEED, {"updated_since": value})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert list(error["fields"]) == ["updated_since"]
    assert error["message"].startswith("updated_since:")


def test_the_feed_pages_walk_every_verdict_once(api_client, harbour):
    url, pages, urls = CLAIMREVIEW_FEED + "?page_size=3", 0, []
    while url:
        response = api_client.get(url)
        assert response.status_code == 200
        feed = response.json()
        assert len(feed["dataFeedElement"]) <= 3
        urls += [element["url"] for element in feed["dataFeedElement"]]
        if feed["next"]:
            assert response["Link"] == f'<{feed["next"]}>; rel="next"'
            # Read as JSON-LD, the next page is schema.org's nextItem, a link.
            (expanded,) = expand(feed)
            assert expanded[SCHEMA + "nextItem"] == [{"@id": feed["next"]}]
            assert SCHEMA + "next" not in expanded
        else:
            assert "Link" not in response
        url, pages = feed["next"], pages + 1

    assert pages == 3
    assert len(urls) == len(set(urls)) == 7
    assert set(urls) == {page_url(c.slug) for c in harbour}
    assert api_client.get(CLAIMREVIEW_FEED, {"cursor": "bogus"}).status_code == 404
    assert api_client.get(CLAIMREVIEW_FEED, {"page_size": "0"}).status_code == 400


def test_a_feed_page_holds_at_most_a_hundred_verdicts(api_client, speaker, editor):
    for n in range(101):
        ClaimFactory(
            slug=f"many-{n}",
            statement=f"Statement number {n}.",
            speaker=speaker,
            published=True,
            verdict="false",
            editor=editor,
        )

    feed = api_client.get(CLAIMREVIEW_FEED, {"page_size": 1000}).json()

    assert len(feed["dataFeedElement"]) == 100
    rest = api_client.get(feed["next"]).json()
    assert len(rest["dataFeedElement"]) == 1 and rest["next"] is None


def test_the_feed_runs_the_same_queries_however_many_verdicts(
    api_client, speaker, editor, django_assert_num_queries
):
    for n in range(2):
        ClaimFactory(
            slug=f"few-{n}",
            statement=f"Few statement {n}.",
            speaker=speaker,
            published=True,
            verdict="false",
            editor=editor,
        )
    # 1. dateModified (the latest update of a published verdict), 2. the page of claims
    # with speakers, 3. topics, 4. appearances with sources and quotes, 5. ledger entries
    # with editors, 6. their evidence
    with django_assert_num_queries(6):
        assert len(api_client.get(CLAIMREVIEW_FEED).json()["dataFeedElement"]) == 2

    verdicts_with_evidence(
        10, slug="more", statement="More statement {n}.", speaker=speaker, editor=editor
    )

    # The same 6 for 12 verdicts.
    with django_assert_num_queries(6):
        assert len(api_client.get(CLAIMREVIEW_FEED).json()["dataFeedElement"]) == 12


# --- Google Fact Check Tools claims:search ----------------------------------------


def test_search_answers_in_googles_shape(api_client, speaker, editor):
    dated = ClaimFactory(
        slug="dated",
        statement="The harbour handled 12 million tonnes.",
        speaker=speaker,
        claim_date=date(2025, 9, 2),
        published=True,
        verdict="false",
        editor=editor,
    )
    undated = ClaimFactory(
        slug="undated",
        statement="The harbour closed for three days.",
        speaker=speaker,
        published=True,
        verdict="mostly_true",
        editor=editor,
    )

    response = search(api_client, query="harbour")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) <= GOOGLE_TOP_LEVEL_KEYS and "claims" in body
    assert "nextPageToken" not in body  # everything fits on one page
    assert isinstance(body["claims"], list) and len(body["claims"]) == 2
    found = {claim["text"]: claim for claim in body["claims"]}
    for claim in (dated, undated):
        result = found[claim.statement]
        expected_keys = GOOGLE_CLAIM_KEYS if claim.claim_date else GOOGLE_CLAIM_KEYS - {"claimDate"}
        assert set(result) == expected_keys
        assert result["claimant"] == "Ada Example"
        assert isinstance(result["claimReview"], list) and len(result["claimReview"]) == 1
        review = result["claimReview"][0]
        assert set(review) == GOOGLE_REVIEW_KEYS
        assert set(review["publisher"]) == GOOGLE_PUBLISHER_KEYS
        assert review["publisher"] == {"name": "Example Fact Desk", "site": HOST}
        assert review["url"] == page_url(claim.slug)
        assert review["title"] == claim.statement
        assert review["languageCode"] == "en"
        assert RFC3339_UTC.match(review["reviewDate"])
        recorded = claim.reviews.filter(action="review").latest("sequence").created_at
        assert review["reviewDate"] == recorded.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for value in (result["text"], result["claimant"], review["url"], review["title"]):
            assert isinstance(value, str)
    assert found[dated.statement]["claimDate"] == "2025-09-02T00:00:00Z"
    assert found[dated.statement]["claimReview"][0]["textualRating"] == "False"
    assert found[undated.statement]["claimReview"][0]["textualRating"] == "Mostly true"
    assert "ratingValue" not in response.content.decode()


def test_search_ranks_by_relevance_over_published_verdicts_only(
    api_client, harbour, speaker, editor
):
    best = ClaimFactory(
        slug="best",
        statement="The harbour cranes moved tonnes of harbour cargo.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )

    body = search(api_client, query="harbour OR cranes", pageSize=100).json()

    urls = review_urls(body)
    expected = search_claims(published_verdicts(), "harbour OR cranes")
    assert urls == [page_url(c.slug) for c in expected]
    assert urls[0] == page_url(best.slug)
    assert len(urls) == 8
    assert not any(slug in url for url in urls for slug in HIDDEN)


def test_a_search_matching_nothing_answers_an_empty_object(api_client, harbour):
    response = search(api_client, query="volcano")

    assert response.status_code == 200 and response.json() == {}


def test_search_errors_are_in_googles_shape(api_client, db):
    """google.rpc.Status as Google's JSON APIs send it: `code` the HTTP status,
    `status` its canonical name, `details` typed; not the project's error shape."""
    response = search(api_client, query="harbour", pageSize="ten", maxAgeDays="0")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["message"].startswith(("maxAgeDays: ", "pageSize: "))
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {"field": field, "description": description}
                for field, description in (
                    ("maxAgeDays", "Ensure this value is greater than or equal to 1."),
                    ("pageSize", "A valid integer is required."),
                )
            ],
        }
    ]


def test_a_throttled_or_unauthenticated_search_answers_in_googles_shape(
    api_client, db, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    bad_token = api_client.get(SEARCH, {"query": "x"}, HTTP_AUTHORIZATION="Token nope")
    assert bad_token.status_code == 401
    assert bad_token.json()["error"]["status"] == "UNAUTHENTICATED"
    assert bad_token.json()["error"]["code"] == 401

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/minute", "user": None})
    assert search(api_client, query="harbour").status_code == 200
    limited = search(api_client, query="harbour")
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{limited['Retry-After']}s",
        }
    ]
    # The other endpoints keep the project's error shape.
    other = api_client.get(CLAIMREVIEW_FEED)
    assert other.status_code == 429 and other.json()["error"]["code"] == "throttled"


@pytest.mark.parametrize("params", [{}, {"query": "   "}, {"languageCode": "en"}])
def test_search_needs_a_query_unless_a_site_is_given(api_client, db, params):
    response = search(api_client, **params)

    assert "query" in invalid_parameters(response)
    assert response.json()["error"]["message"].startswith("query:")


def test_a_site_filter_alone_lists_every_verdict_newest_first(api_client, harbour):
    body = search(api_client, reviewPublisherSiteFilter=HOST, pageSize=100).json()

    newest_first = sorted(harbour, key=lambda c: (c.status_changed_at, c.pk), reverse=True)
    assert review_urls(body) == [page_url(c.slug) for c in newest_first]


@pytest.mark.parametrize(
    ("site", "matches"),
    [
        (HOST, True),
        ("www." + HOST, True),
        ("FactCheck.Example.org", True),
        (f"https://{HOST}/claims/", True),
        ("nytimes.com", False),
        ("example.org", False),
        ("http://[::1", False),
    ],
)
def test_the_publisher_site_filter(api_client, harbour, site, matches):
    with_query = search(api_client, query="harbour", reviewPublisherSiteFilter=site)
    alone = search(api_client, reviewPublisherSiteFilter=site)

    for response in (with_query, alone):
        assert response.status_code == 200
        assert bool(response.json()) is matches
        if not matches:
            assert response.json() == {}


@pytest.mark.parametrize(
    ("language", "matches"),
    [("en", True), ("en-US", True), ("EN-gb", True), ("fr", False), ("es-419", False)],
)
def test_the_language_filter_reads_the_language_not_the_region(
    api_client, harbour, language, matches
):
    response = search(api_client, query="harbour", languageCode=language)

    assert response.status_code == 200
    assert bool(response.json().get("claims")) is matches
    if not matches:
        assert response.json() == {}


@pytest.mark.parametrize("language", ["e", "12$", "en_US!"])
def test_an_invalid_language_code_is_a_400(api_client, db, language):
    response = search(api_client, query="harbour", languageCode=language)

    assert invalid_parameters(response) == ["languageCode"]


def test_max_age_days_keeps_recent_verdicts(api_client, speaker, editor, monkeypatch):
    old = ClaimFactory(
        slug="old-harbour",
        statement="The old harbour silted up.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    ten_days_ago = timezone.now() - timedelta(days=10)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: ten_days_ago)
        VerdictFactory(claim=old, editor=editor, status="false")
    recent = ClaimFactory(
        slug="new-harbour",
        statement="The new harbour opened.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )

    within_five = search(api_client, query="harbour", maxAgeDays=5).json()
    within_thirty = search(api_client, query="harbour", maxAgeDays=30).json()

    assert review_urls(within_five) == [page_url(recent.slug)]
    assert sorted(review_urls(within_thirty)) == sorted([page_url(old.slug), page_url(recent.slug)])
    reviewed = within_thirty["claims"][review_urls(within_thirty).index(page_url(old.slug))]
    assert reviewed["claimReview"][0]["reviewDate"] == ten_days_ago.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # Google's rule: the claim date counts too, whichever of the two is newer.
    CorrectionFactory(claim=old, changes={"claim_date": timezone.now().date()})
    assert sorted(review_urls(search(api_client, query="harbour", maxAgeDays=5).json())) == sorted(
        [page_url(old.slug), page_url(recent.slug)]
    )
    for bad in ("0", "-3", "ten"):
        response = search(api_client, query="harbour", maxAgeDays=bad)
        assert invalid_parameters(response) == ["maxAgeDays"]


def test_page_tokens_walk_every_result_exactly_once(api_client, harbour):
    everything = review_urls(search(api_client, query="harbour", pageSize=100).json())
    assert len(everything) == 7

    walked, sizes, params = [], [], {"query": "harbour", "pageSize": 3}
    while True:
        body = search(api_client, **params).json()
        assert set(body) <= GOOGLE_TOP_LEVEL_KEYS
        walked += review_urls(body)
        sizes.append(len(body["claims"]))
        if "nextPageToken" not in body:
            break
        assert isinstance(body["nextPageToken"], str) and body["nextPageToken"]
        params["pageToken"] = body["nextPageToken"]

    assert sizes == [3, 3, 1]
    assert walked == everything


def test_offset_starts_later_and_a_page_token_overrides_it(api_client, harbour):
    everything = review_urls(search(api_client, query="harbour", pageSize=100).json())

    from_two = search(api_client, query="harbour", pageSize=2, offset=2).json()
    assert review_urls(from_two) == everything[2:4]
    token_wins = search(
        api_client, query="harbour", pageSize=2, offset=5, pageToken=from_two["nextPageToken"]
    ).json()
    assert review_urls(token_wins) == everything[4:6]
    assert search(api_client, query="harbour", offset=50).json() == {}
    assert search(api_client, query="harbour", offset=-1).status_code == 400


def test_page_size_defaults_to_ten_and_stops_at_a_hundred(api_client, speaker, editor):
    for n in range(101):
        ClaimFactory(
            slug=f"pier-{n}",
            statement=f"Pier {n} was rebuilt.",
            speaker=speaker,
            published=True,
            verdict="false",
            editor=editor,
        )

    default = search(api_client, query="pier").json()
    largest = search(api_client, query="pier", pageSize=500).json()

    assert len(default["claims"]) == 10 and "nextPageToken" in default
    assert len(largest["claims"]) == 100
    last = search(api_client, query="pier", pageSize=500, pageToken=largest["nextPageToken"])
    assert len(last.json()["claims"]) == 1 and "nextPageToken" not in last.json()
    assert search(api_client, query="pier", pageSize=0).status_code == 400


@pytest.mark.parametrize(
    "page_token",
    [
        "not a token!",
        token("not-an-offset"),
        token("offset:-1"),
        token("offset:99999999"),
        "%%%",
        "=",
    ],
)
def test_an_invalid_page_token_is_a_400_naming_it(api_client, harbour, page_token):
    response = search(api_client, query="harbour", pageToken=page_token)

    assert invalid_parameters(response) == ["pageToken"]
    assert response.json()["error"]["message"].startswith("pageToken:")


def test_search_runs_the_same_queries_however_many_verdicts(
    api_client, speaker, editor, django_assert_num_queries
):
    for n in range(3):
        ClaimFactory(
            slug=f"quay-{n}",
            statement=f"The quay {n} was extended.",
            speaker=speaker,
            published=True,
            verdict="false",
            editor=editor,
        )
    # 1. the ranked page of claims with speakers, 2. topics, 3. appearances with sources
    # and quotes, 4. ledger entries with editors, 5. their evidence, 6. other
    # fact-checkers' reviews
    with django_assert_num_queries(6):
        assert len(search(api_client, query="quay").json()["claims"]) == 3

    verdicts_with_evidence(
        12,
        slug="quay-more",
        statement="Another quay {n} was extended.",
        speaker=speaker,
        editor=editor,
    )

    # The same 6 for 15 verdicts, and for a page of 10 filtered by publisher site.
    with django_assert_num_queries(6):
        assert len(search(api_client, query="quay", pageSize=100).json()["claims"]) == 15
    with django_assert_num_queries(6):
        assert len(search(api_client, reviewPublisherSiteFilter=HOST).json()["claims"]) == 10
    # 1. the ranked page, empty: nothing more to read
    with django_assert_num_queries(1):
        assert search(api_client, query="volcano").json() == {}
    # The desk reviews in English; in another language only other fact-checkers'
    # reviews may answer: 1. the ranked page, empty here.
    with django_assert_num_queries(1):
        assert search(api_client, query="quay", languageCode="de").json() == {}


# --- OpenAPI -------------------------------------------------------------------------


def test_the_openapi_schema_documents_the_interop_endpoints(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    one = paths["/api/v1/claims/{slug}/claimreview"]["get"]
    feed = paths["/api/v1/claimreview"]["get"]
    google = paths["/api/v1/claims:search"]["get"]
    assert set(one["responses"]) == {"200", "404", "410", "429"}
    assert set(one["responses"]["200"]["content"]) == {"application/ld+json", "application/json"}
    assert {p["name"] for p in feed["parameters"]} >= {"updated_since", "page_size", "cursor"}
    assert set(feed["responses"]) == {"200", "400", "404", "429"}
    assert {p["name"] for p in google["parameters"]} >= {
        "query",
        "languageCode",
        "reviewPublisherSiteFilter",
        "maxAgeDays",
        "pageSize",
        "pageToken",
        "offset",
    }
    page_size = next(p for p in google["parameters"] if p["name"] == "pageSize")
    assert page_size["schema"]["default"] == 10
    assert set(google["responses"]) == {"200", "400", "401", "429"}
    response = schema["components"]["schemas"]["GoogleFactCheckSearchResponse"]
    assert set(response["properties"]) == GOOGLE_TOP_LEVEL_KEYS
    claim = schema["components"]["schemas"]["GoogleFactCheckClaim"]
    assert set(claim["properties"]) == GOOGLE_CLAIM_KEYS
    review = schema["components"]["schemas"]["GoogleFactCheckClaimReview"]
    assert set(review["properties"]) == GOOGLE_REVIEW_KEYS
    google_components = [response, claim, review]
    assert "ratingValue" not in json.dumps(google_components)
    for operation in (one, feed, google):
        assert operation["summary"] and operation["description"]
