"""The API's collections: claims, speakers, sources, quotes, appearances, topics, ratings."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.api.common import claim_etag
from claims.markdown import render_markdown
from claims.models import Appearance, Claim, Quote, Speaker, Topic
from claims.ratings import RATINGS
from claims.search import search_claims
from claims.services import add_appearance, anchor_quote
from sources.models import Source
from tests.conftest import SNAPSHOT
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    CorrectionFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    TopicFactory,
    UserFactory,
    VerdictFactory,
)

BOUNTY = "us-50-million-bounty-on-maduro"
SEEDED_CLAIMS = 22
TRUMP_SOURCE = "trump-hints-at-strikes-on-cartels-in-venezuela"
DEPLOY_SOURCE = "us-forces-deploy-to-southern-caribbean"


# --- helpers -----------------------------------------------------------------


def url(name: str, **kwargs) -> str:
    return reverse(f"api:{name}", kwargs=kwargs or None)


def walk(client, first_url: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Every item of a cursor-paginated list, following `next`; and the number of pages."""
    items, pages = [], 0
    response = client.get(first_url, params or {})
    while True:
        assert response.status_code == 200, response.content
        pages += 1
        items += response.data["results"]
        if not response.data["next"]:
            return items, pages
        response = client.get(response.data["next"])


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.data["results"]]


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
        assert error["fields"][field]
    return error


@pytest.fixture
def reader(db, django_user_model):
    """An account without any permission: it reads like anyone else."""
    return UserFactory(username="reader")


@pytest.fixture
def reader_client(reader):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=reader).key}")
    return client


@pytest.fixture
def verdict(seeded, editor):
    """The bounty claim, rated false with an explanation and two evidence sources."""
    claim = Claim.objects.get(slug=BOUNTY)
    sources = list(Source.objects.order_by("slug"))
    VerdictFactory(
        claim=claim,
        editor=editor,
        explanation="The reward is **$25 million**.<script>alert(1)</script>",
        evidence=sources,
        note="internal note",
    )
    claim.refresh_from_db()
    return claim


# --- Claims: content ---------------------------------------------------------


def test_claim_list_shows_every_published_claim_with_its_summary(seeded, api_client):
    response = api_client.get(url("claim-list"), {"page_size": 200})
    assert response.status_code == 200
    results = response.data["results"]
    assert len(results) == SEEDED_CLAIMS
    assert response.data["next"] is None
    bounty = next(item for item in results if item["slug"] == BOUNTY)
    claim = Claim.objects.get(slug=BOUNTY)
    assert bounty["statement"] == claim.statement
    assert bounty["speaker"] == "us-government"
    assert bounty["speaker_name"] == "United States Government"
    assert sorted(bounty["topics"]) == ["drug-trafficking", "us-foreign-policy", "venezuela"]
    assert bounty["kind"] == "numeric"
    assert bounty["status"] == {
        "value": "unverified",
        "label": "Not yet verified",
        "group": "workflow",
        "rating_value": None,
        "scale_position": "",
        "best_rating": None,
        "worst_rating": None,
    }
    assert bounty["published"] is True
    assert bounty["published_at"] is not None
    assert bounty["version"] == claim.version
    assert bounty["api_url"].endswith(url("claim-detail", slug=BOUNTY))
    # The lean list leaves the heavy parts to the detail.
    assert "appearances" not in bounty and "explanation" not in bounty


def test_claim_detail_carries_speaker_status_verdict_evidence_and_quotes(verdict, api_client):
    response = api_client.get(url("claim-detail", slug=BOUNTY))
    assert response.status_code == 200
    data = response.data
    assert data["statement"] == verdict.statement
    assert data["speaker"]["slug"] == "us-government"
    assert data["speaker"]["name"] == "United States Government"
    assert data["speaker"]["kind"] == "organization"
    assert data["speaker"]["role"] == "Trump administration"
    assert data["speaker"]["url"].endswith(url("speaker-detail", slug="us-government"))
    assert sorted(data["topics"]) == ["drug-trafficking", "us-foreign-policy", "venezuela"]
    assert data["kind"] == "numeric"
    assert data["quantity"] == "50000000.0000"
    assert data["unit"] == "USD"
    assert data["status"] == {
        "value": "false",
        "label": "False",
        "group": "scale",
        "rating_value": 1,
        "scale_position": "1 of 5",
        "best_rating": 5,
        "worst_rating": 1,
    }
    assert data["version"] == verdict.version == 3
    assert data["published"] is True
    assert data["status_changed_at"] is not None
    assert data["explanation"] == "The reward is **$25 million**.<script>alert(1)</script>"
    assert data["explanation_html"] == str(render_markdown(data["explanation"]))
    assert "<strong>$25 million</strong>" in data["explanation_html"]
    assert "<script" not in data["explanation_html"]
    assert "note" not in data and "internal note" not in str(data)
    assert [source["slug"] for source in data["evidence"]] == sorted(
        Source.objects.values_list("slug", flat=True)
    )
    assert set(data["evidence"][0]) >= {"slug", "title", "url"}
    assert data["page_url"] == "http://testserver" + reverse("claims:detail", args=[BOUNTY])
    assert data["assignee"] is None

    appearances = data["appearances"]
    assert len(appearances) == 2
    assert {a["source"]["slug"] for a in appearances} == {TRUMP_SOURCE, DEPLOY_SOURCE}
    for appearance in appearances:
        stored = Quote.objects.get(pk=appearance["quote"]["id"])
        quote = appearance["quote"]
        assert (
            appearance["source"]["title"]
            == Source.objects.get(slug=appearance["source"]["slug"]).title
        )
        assert quote["exact"] == stored.exact
        assert (quote["prefix"], quote["suffix"]) == (stored.prefix, stored.suffix)
        assert (quote["start"], quote["end"]) == (stored.start, stored.end)
        assert quote["kind"] == "reported"
        assert quote["speaker"] == stored.speaker.slug
        assert quote["selectors"] == stored.selectors
        assert quote["selectors"][1] == {
            "type": "TextPositionSelector",
            "start": stored.start,
            "end": stored.end,
        }
    # Both passages are the claim's speaker's: the second article credits the raise to
    # the president, as the government's act (seeds/ledger.yaml).
    speakers = {a["quote"]["speaker"] for a in appearances}
    assert speakers == {"us-government"}
    assert all((a["relay"], a["relayed_by"]) == ("", "") for a in appearances)


def test_claim_without_a_verdict_has_no_explanation_or_evidence(seeded, api_client):
    data = api_client.get(url("claim-detail", slug=BOUNTY)).data
    assert data["explanation"] is None
    assert data["explanation_html"] is None
    assert data["evidence"] == []


def test_an_in_review_entry_is_not_shown_as_a_verdict(verdict, editor, api_client):
    VerdictFactory(
        claim=verdict, editor=editor, status="in_review", explanation="Checking the new figure."
    )
    data = api_client.get(url("claim-detail", slug=BOUNTY)).data
    assert data["status"]["value"] == "in_review"
    assert data["explanation"] is None and data["evidence"] == []


# --- Drafts ------------------------------------------------------------------


def test_anonymous_and_readers_never_see_drafts(
    seeded, claim, source, speaker, api_client, reader_client
):
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    appearance = AppearanceFactory(claim=claim, quote=quote)
    for client in (api_client, reader_client):
        assert_error(client.get(url("claim-detail", slug=claim.slug)), 404)
        listed, _ = walk(client, url("claim-list"))
        assert claim.slug not in {item["slug"] for item in listed}
        assert len(listed) == SEEDED_CLAIMS
        assert all(item["published"] for item in listed)
        assert client.get(url("claim-list"), {"published": "false"}).data["results"] == []
        assert_error(client.get(url("appearance-detail", pk=appearance.pk)), 404)
        appearances, _ = walk(client, url("appearance-list"))
        assert appearance.pk not in {item["id"] for item in appearances}
        # Quotes are words printed in public sources: shown whatever claim they back.
        assert client.get(url("quote-detail", pk=quote.pk)).status_code == 200
        topic = client.get(url("topic-detail", slug="venezuela")).data
        assert (
            topic["claim_count"]
            == Claim.objects.published().filter(topics__slug="venezuela").count()
        )


def test_desk_members_see_drafts_marked_unpublished(seeded, claim, contributor_client):
    response = contributor_client.get(url("claim-detail", slug=claim.slug))
    assert response.status_code == 200
    assert response.data["published"] is False
    assert response.data["published_at"] is None
    listed, _ = walk(contributor_client, url("claim-list"))
    assert len(listed) == SEEDED_CLAIMS + 1
    drafts = [item for item in listed if not item["published"]]
    assert [item["slug"] for item in drafts] == [claim.slug]
    only_drafts = contributor_client.get(url("claim-list"), {"published": "false"})
    assert slugs(only_drafts) == [claim.slug]
    assert (
        len(walk(contributor_client, url("claim-list"), {"published": "true"})[0]) == SEEDED_CLAIMS
    )


# --- Filters -----------------------------------------------------------------


def all_slugs(client, params: dict) -> set[str]:
    items, _ = walk(client, url("claim-list"), params)
    found = [item["slug"] for item in items]
    assert len(found) == len(set(found)), "a claim was listed twice"
    return set(found)


def test_filter_by_status(verdict, api_client):
    assert all_slugs(api_client, {"status": "false"}) == {BOUNTY}
    assert len(all_slugs(api_client, {"status": "unverified"})) == SEEDED_CLAIMS - 1
    assert all_slugs(api_client, {"status": "true"}) == set()


def test_filter_by_speaker_topic_and_kind(seeded, api_client):
    published = Claim.objects.published()
    expected = set(published.filter(speaker__slug="pam-bondi").values_list("slug", flat=True))
    assert expected and all_slugs(api_client, {"speaker": "pam-bondi"}) == expected
    expected = set(published.filter(topics__slug="mexico").values_list("slug", flat=True))
    assert expected and all_slugs(api_client, {"topic": "mexico"}) == expected
    expected = set(published.filter(kind="denial").values_list("slug", flat=True))
    assert expected and all_slugs(api_client, {"kind": "denial"}) == expected
    both = all_slugs(api_client, {"topic": "mexico", "kind": "denial"})
    assert both == set(
        published.filter(topics__slug="mexico", kind="denial").values_list("slug", flat=True)
    )
    assert all_slugs(api_client, {"speaker": "nobody-by-that-name"}) == set()


def test_filter_by_source_lists_each_claim_once(seeded, api_client):
    # A claim that appears twice in one source is still listed once.
    twice = (
        Appearance.objects.filter(source__slug=TRUMP_SOURCE)
        .values("claim")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert twice.exists(), "the seeds have a claim with two appearances in one source"
    expected = set(
        Claim.objects.published()
        .filter(appearances__source__slug=TRUMP_SOURCE)
        .values_list("slug", flat=True)
    )
    items, _ = walk(api_client, url("claim-list"), {"source": TRUMP_SOURCE, "page_size": 3})
    found = [item["slug"] for item in items]
    assert len(found) == len(set(found)) == len(expected)
    assert set(found) == expected
    assert BOUNTY in all_slugs(api_client, {"source": DEPLOY_SOURCE})


def test_filter_by_claim_dates(seeded, api_client):
    CorrectionFactory(claim=BOUNTY, changes={"claim_date": date(2025, 8, 7)})
    CorrectionFactory(
        claim="september-2-strike-killed-11", changes={"claim_date": date(2025, 9, 2)}
    )
    assert all_slugs(api_client, {"claim_date_from": "2025-09-01"}) == {
        "september-2-strike-killed-11"
    }
    assert all_slugs(api_client, {"claim_date_to": "2025-09-01"}) == {BOUNTY}
    assert all_slugs(
        api_client, {"claim_date_from": "2025-08-01", "claim_date_to": "2025-09-02"}
    ) == {BOUNTY, "september-2-strike-killed-11"}


def test_filter_updated_since_for_incremental_sync(seeded, api_client):
    later = timezone.now() + timedelta(hours=1)
    Claim.objects.filter(slug=BOUNTY).update(updated_at=later)
    assert all_slugs(api_client, {"updated_since": later.isoformat()}) == {BOUNTY}
    assert (
        all_slugs(api_client, {"updated_since": (later + timedelta(microseconds=1)).isoformat()})
        == set()
    )
    zulu = (later - timedelta(minutes=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all_slugs(api_client, {"updated_since": zulu}) == {BOUNTY}
    assert len(all_slugs(api_client, {"updated_since": "2000-01-01T00:00:00Z"})) == SEEDED_CLAIMS


def test_full_text_search_filters_and_keeps_the_cursor_order(seeded, api_client):
    expected = set(
        search_claims(Claim.objects.published(), "cocaine").values_list("slug", flat=True)
    )
    assert len(expected) >= 2
    response = api_client.get(url("claim-list"), {"q": "cocaine"})
    found = slugs(response)
    assert set(found) == expected
    ordered = list(
        Claim.objects.filter(slug__in=expected)
        .order_by("-updated_at", "-id")
        .values_list("slug", flat=True)
    )
    assert found == ordered
    # Quoted words count too, and web-search syntax works.
    assert all_slugs(api_client, {"q": "cocaine -Maduro"}) <= expected
    assert all_slugs(api_client, {"q": "zzzunfindable"}) == set()
    assert all_slugs(api_client, {"q": "cocaine", "speaker": "pam-bondi"}) == set(
        Claim.objects.filter(slug__in=expected, speaker__slug="pam-bondi").values_list(
            "slug", flat=True
        )
    )


def test_ordering_parameter(seeded, api_client):
    CorrectionFactory(claim=BOUNTY, changes={"claim_date": date(2025, 8, 7)})
    CorrectionFactory(
        claim="september-2-strike-killed-11", changes={"claim_date": date(2025, 9, 2)}
    )
    latest_first, _ = walk(
        api_client, url("claim-list"), {"ordering": "-claim_date", "page_size": 4}
    )
    assert [item["slug"] for item in latest_first[:2]] == ["september-2-strike-killed-11", BOUNTY]
    assert all(item["claim_date"] is None for item in latest_first[2:])
    assert len({item["slug"] for item in latest_first}) == SEEDED_CLAIMS
    earliest_first, _ = walk(
        api_client, url("claim-list"), {"ordering": "claim_date", "page_size": 4}
    )
    assert [item["slug"] for item in earliest_first[-2:]] == [
        BOUNTY,
        "september-2-strike-killed-11",
    ]
    assert len({item["slug"] for item in earliest_first}) == SEEDED_CLAIMS

    oldest_change_first, _ = walk(
        api_client, url("claim-list"), {"ordering": "updated_at", "page_size": 5}
    )
    stamps = [item["updated_at"] for item in oldest_change_first]
    assert stamps == sorted(stamps)
    assert len(oldest_change_first) == SEEDED_CLAIMS
    created, _ = walk(api_client, url("claim-list"), {"ordering": "-created_at"})
    expected = list(
        Claim.objects.published().order_by("-created_at", "-id").values_list("slug", flat=True)
    )
    assert [item["slug"] for item in created] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "wrong"}, "status"),
        ({"kind": "rumour"}, "kind"),
        ({"speaker": "not a slug!"}, "speaker"),
        ({"topic": "a/b"}, "topic"),
        ({"source": "<x>"}, "source"),
        ({"claim_date_from": "yesterday"}, "claim_date_from"),
        ({"claim_date_to": "2025-13-45"}, "claim_date_to"),
        ({"updated_since": "last week"}, "updated_since"),
        ({"ordering": "statement"}, "ordering"),
        ({"published": "maybe"}, "published"),
    ],
)
def test_invalid_filter_values_are_400_naming_the_parameter(seeded, api_client, params, field):
    error = assert_error(api_client.get(url("claim-list"), params), 400, field)
    assert error["code"] == "invalid"


def test_quote_and_appearance_filters(seeded, api_client):
    quotes, _ = walk(api_client, url("quote-list"), {"source": DEPLOY_SOURCE})
    assert quotes and {q["source"] for q in quotes} == {DEPLOY_SOURCE}
    assert len(quotes) == Quote.objects.filter(source__slug=DEPLOY_SOURCE).count()
    bondi, _ = walk(api_client, url("quote-list"), {"speaker": "pam-bondi"})
    assert bondi and {q["speaker"] for q in bondi} == {"pam-bondi"}
    appearances, _ = walk(api_client, url("appearance-list"), {"claim": BOUNTY})
    assert {a["source"]["slug"] for a in appearances} == {TRUMP_SOURCE, DEPLOY_SOURCE}
    assert_error(api_client.get(url("quote-list"), {"kind": "hearsay"}), 400, "kind")


# --- Pagination --------------------------------------------------------------


@pytest.mark.parametrize("ordering", [None, "updated_at", "-claim_date", "created_at"])
def test_cursor_walk_covers_every_claim_exactly_once(seeded, api_client, ordering):
    params = {"page_size": 3}
    if ordering:
        params["ordering"] = ordering
    items, pages = walk(api_client, url("claim-list"), params)
    found = [item["slug"] for item in items]
    assert len(found) == SEEDED_CLAIMS
    assert sorted(found) == sorted(Claim.objects.published().values_list("slug", flat=True))
    assert pages == -(-SEEDED_CLAIMS // 3)


def test_default_order_is_most_recently_changed_first_and_pages_are_capped(seeded, api_client):
    response = api_client.get(url("claim-list"), {"page_size": 4})
    expected = list(
        Claim.objects.published().order_by("-updated_at", "-id").values_list("slug", flat=True)[:4]
    )
    assert slugs(response) == expected
    assert "count" not in response.data
    query = parse_qs(urlsplit(response.data["next"]).query)
    assert query["page_size"] == ["4"] and query["cursor"]
    big = api_client.get(url("claim-list"), {"page_size": 10_000})
    assert len(big.data["results"]) == SEEDED_CLAIMS  # capped at 200, fewer exist
    assert len(api_client.get(url("claim-list")).data["results"]) == SEEDED_CLAIMS


def test_a_bad_cursor_is_404_in_the_error_format(seeded, api_client):
    error = assert_error(api_client.get(url("claim-list"), {"cursor": "not-a-cursor"}), 404)
    assert error["code"] == "not_found"
    assert_error(api_client.get(url("speaker-list"), {"cursor": "garbage"}), 404)


# --- Conditional GET and caching headers --------------------------------------


def test_claim_detail_etag_last_modified_and_304(seeded, api_client, contributor_client):
    claim = Claim.objects.get(slug=BOUNTY)
    detail = url("claim-detail", slug=BOUNTY)
    response = api_client.get(detail)
    assert response["ETag"] == claim_etag(claim)
    assert response["Last-Modified"] == http_date(claim.updated_at.timestamp())

    not_modified = api_client.get(detail, HTTP_IF_NONE_MATCH=response["ETag"])
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    since = api_client.get(detail, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert since.status_code == 304
    assert api_client.get(detail, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200

    edit = contributor_client.patch(detail, {"topics": ["mexico"]}, format="json")
    assert edit.status_code == 200
    assert edit["ETag"] != response["ETag"]
    changed = api_client.get(detail, HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200
    assert changed.data["topics"] == ["mexico"]
    assert changed["ETag"] == edit["ETag"]


def test_a_new_verdict_changes_the_etag(seeded, editor, api_client):
    detail = url("claim-detail", slug=BOUNTY)
    before = api_client.get(detail)["ETag"]
    VerdictFactory(
        claim=Claim.objects.get(slug=BOUNTY), editor=editor, status="in_review", explanation=""
    )
    assert api_client.get(detail, HTTP_IF_NONE_MATCH=before).status_code == 200


@pytest.mark.parametrize(
    "name", ["claim-list", "speaker-list", "source-list", "quote-list", "topic-list", "ratings"]
)
def test_lists_answer_304_to_their_own_etag(seeded, api_client, name):
    response = api_client.get(url(name))
    assert response.status_code == 200
    etag = response["ETag"]
    assert etag
    assert api_client.get(url(name), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_list_etag_changes_with_the_content(seeded, api_client):
    etag = api_client.get(url("claim-list"))["ETag"]
    CorrectionFactory(claim=BOUNTY, changes={"statement": "Changed."})
    assert api_client.get(url("claim-list"), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_cache_control_public_for_anonymous_private_with_a_token(
    seeded, api_client, contributor_client
):
    for name, kwargs in [
        ("claim-list", {}),
        ("claim-detail", {"slug": BOUNTY}),
        ("speaker-detail", {"slug": "pam-bondi"}),
        ("ratings", {}),
    ]:
        anonymous = api_client.get(url(name, **kwargs))
        assert "public" in anonymous["Cache-Control"]
        assert "max-age=60" in anonymous["Cache-Control"]
        private = contributor_client.get(url(name, **kwargs))
        assert "private" in private["Cache-Control"]
        assert "public" not in private["Cache-Control"]
        assert "Authorization" in private["Vary"]


# --- Permissions -------------------------------------------------------------


def _new_speaker(n: int) -> dict:
    return {"slug": f"new-speaker-{n}", "name": f"New Speaker {n}", "kind": "person"}


def _new_topic(n: int) -> dict:
    return {"slug": f"new-topic-{n}", "name": f"New topic {n}"}


def _new_source(n: int) -> dict:
    return {"slug": f"new-source-{n}", "title": f"New source {n}", "snapshot": f"Text {n}."}


def _new_claim(n: int) -> dict:
    return {
        "slug": f"new-claim-{n}",
        "statement": f"Statement {n}.",
        "speaker": "pam-bondi",
        "kind": "event",
    }


CREATE = {
    "speaker-list": _new_speaker,
    "topic-list": _new_topic,
    "source-list": _new_source,
    "claim-list": _new_claim,
}
EDIT = {
    "speaker-detail": ("pam-bondi", {"role": "Attorney General"}),
    "topic-detail": ("mexico", {"name": "Mexico and its government"}),
    "source-detail": (DEPLOY_SOURCE, {"outlet": "Reuters"}),
    # A published claim's own checkable fields change only through a correction.
    "claim-detail": (BOUNTY, {"topics": ["mexico", "venezuela"]}),
}


@pytest.mark.parametrize("name", sorted(CREATE))
def test_create_permissions(
    seeded, name, api_client, reader_client, contributor_client, editor_client
):
    make = CREATE[name]
    assert_error(api_client.post(url(name), make(1), format="json"), 401)
    assert_error(reader_client.post(url(name), make(2), format="json"), 403)
    created = contributor_client.post(url(name), make(3), format="json")
    assert created.status_code == 201, created.content
    assert created.data["slug"] == "new-" + name.split("-")[0] + "-3"
    assert created["Location"]
    assert editor_client.post(url(name), make(4), format="json").status_code == 201


@pytest.mark.parametrize("name", sorted(EDIT))
def test_edit_permissions(
    seeded, name, api_client, reader_client, contributor_client, editor_client
):
    slug, change = EDIT[name]
    target = url(name, slug=slug)
    assert_error(api_client.patch(target, change, format="json"), 401)
    assert_error(reader_client.patch(target, change, format="json"), 403)
    edited = contributor_client.patch(target, change, format="json")
    assert edited.status_code == 200, edited.content
    field, value = next(iter(change.items()))
    assert edited.data[field] == value
    assert editor_client.patch(target, change, format="json").status_code == 200
    # Reading it back shows the change.
    assert api_client.get(target).data[field] == value


@pytest.mark.parametrize(
    "target",
    [
        ("claim-detail", {"slug": BOUNTY}),
        ("speaker-detail", {"slug": "pam-bondi"}),
        ("source-detail", {"slug": DEPLOY_SOURCE}),
        ("topic-detail", {"slug": "mexico"}),
    ],
)
def test_nothing_with_dependants_can_be_deleted(seeded, target, api_client, editor_client):
    name, kwargs = target
    assert_error(editor_client.delete(url(name, **kwargs)), 405)
    assert_error(api_client.delete(url(name, **kwargs)), 405)
    assert api_client.get(url(name, **kwargs)).status_code == 200


def test_put_replaces_a_speaker(seeded, contributor_client):
    target = url("speaker-detail", slug="ryan-berg")
    response = contributor_client.put(
        target, {"slug": "ryan-berg", "name": "Ryan C. Berg", "kind": "person"}, format="json"
    )
    assert response.status_code == 200
    speaker = Speaker.objects.get(slug="ryan-berg")
    assert speaker.name == "Ryan C. Berg"
    assert speaker.role == "Analyst"  # optional fields not sent are kept
    missing = contributor_client.put(target, {"slug": "ryan-berg"}, format="json")
    assert_error(missing, 400, "name")


def test_speaker_slug_is_unique(seeded, contributor_client):
    response = contributor_client.post(
        url("speaker-list"), {"slug": "pam-bondi", "name": "Someone else"}, format="json"
    )
    assert_error(response, 400, "slug")
    response = contributor_client.post(
        url("speaker-list"), {"slug": "x", "name": "X", "kind": "robot"}, format="json"
    )
    assert_error(response, 400, "kind")


# --- Claims: writes ----------------------------------------------------------


def test_a_created_claim_is_a_draft_with_the_ledger_fields_read_only(
    seeded, contributor_client, api_client
):
    payload = {
        **_new_claim(1),
        "kind": "numeric",
        "quantity": "12000000",
        "unit": "t",
        "claim_date": "2025-09-04",
        "topics": ["venezuela", "mexico"],
        # Not fields of this endpoint: ignored.
        "status": "true",
        "version": 99,
        "published_at": "2025-01-01T00:00:00Z",
    }
    response = contributor_client.post(url("claim-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.data["status"]["value"] == "unverified"
    assert response.data["version"] == 1
    assert response.data["published"] is False
    assert response.data["published_at"] is None
    assert sorted(response.data["topics"]) == ["mexico", "venezuela"]
    assert response.data["speaker"]["slug"] == "pam-bondi"
    claim = Claim.objects.get(slug="new-claim-1")
    assert claim.quantity == 12_000_000 and claim.claim_date == date(2025, 9, 4)
    assert response["ETag"] == claim_etag(claim)
    assert_error(api_client.get(url("claim-detail", slug="new-claim-1")), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "numeric"}, "quantity"),
        ({"kind": "numeric", "quantity": "3"}, "unit"),
        ({"quantity": "3"}, "unit"),
        ({"media_authenticity": "StagedContent"}, "media_authenticity"),
        ({"speaker": "nobody-at-all"}, "speaker"),
        ({"topics": ["venezuela", "no-such-topic"]}, "topics"),
        ({"slug": BOUNTY}, "slug"),
        ({"slug": "not a slug"}, "slug"),
        ({"statement": ""}, "statement"),
        ({"kind": "gossip"}, "kind"),
        ({"claim_date": "soon"}, "claim_date"),
        ({"quantity": "1" * 30, "unit": "t"}, "quantity"),
    ],
)
def test_claim_create_validation_errors_name_the_field(seeded, contributor_client, change, field):
    before = Claim.objects.count()
    response = contributor_client.post(
        url("claim-list"), {**_new_claim(1), **change}, format="json"
    )
    error = assert_error(response, 400, field)
    assert error["code"] == "invalid"
    assert Claim.objects.count() == before


@pytest.fixture
def draft(seeded):
    """A numeric draft without a verdict: its checkable fields are edited freely."""
    return ClaimFactory(
        slug="draft-port-bounty",
        statement="The port authority offers a $50 million reward.",
        speaker=Speaker.objects.get(slug="pam-bondi"),
        numeric=True,
        quantity=50_000_000,
        unit="USD",
    )


def test_claim_edit_validation_uses_the_stored_values(draft, contributor_client):
    target = url("claim-detail", slug=draft.slug)
    assert_error(
        contributor_client.patch(target, {"quantity": None}, format="json"), 400, "quantity"
    )
    assert_error(contributor_client.patch(target, {"unit": ""}, format="json"), 400, "unit")
    ok = contributor_client.patch(
        target, {"kind": "event", "quantity": None, "unit": ""}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.data["kind"] == "event" and ok.data["quantity"] is None
    # A rating of media says which media: the MediaReview names it.
    assert_error(
        contributor_client.patch(
            target, {"kind": "media", "media_authenticity": "StagedContent"}, format="json"
        ),
        400,
        "media_type",
    )
    media = contributor_client.patch(
        target,
        {"kind": "media", "media_authenticity": "StagedContent", "media_type": "video"},
        format="json",
    )
    assert media.status_code == 200
    assert (media.data["media_authenticity"], media.data["media_type"]) == (
        "StagedContent",
        "video",
    )


def test_claim_edit_honours_if_match(draft, contributor_client):
    claim = Claim.objects.get(slug=draft.slug)
    target = url("claim-detail", slug=draft.slug)
    stale = '"claim-0-v0-0"'
    error = assert_error(
        contributor_client.patch(target, {"unit": "EUR"}, format="json", HTTP_IF_MATCH=stale),
        412,
    )
    assert error["code"] == "precondition_failed"
    assert Claim.objects.get(pk=claim.pk).unit == "USD"
    ok = contributor_client.patch(
        target, {"unit": "EUR"}, format="json", HTTP_IF_MATCH=claim_etag(claim)
    )
    assert ok.status_code == 200
    # The ETag just used is now stale.
    again = contributor_client.patch(
        target, {"unit": "EUR"}, format="json", HTTP_IF_MATCH=claim_etag(claim)
    )
    assert_error(again, 412)


def test_if_match_star_is_accepted_on_edits_and_refused_on_ledger_writes(
    draft, contributor_client, editor_client
):
    """docs/api.md, "Versions, ETags and If-Match": `*` matches any existing claim when
    editing its own fields (standard HTTP), but a ledger write must name the version
    its editor saw; an empty If-Match is no precondition on edits, 412 on ledger writes."""
    target = url("claim-detail", slug=draft.slug)
    starred = contributor_client.patch(target, {"unit": "EUR"}, format="json", HTTP_IF_MATCH="*")
    assert starred.status_code == 200, starred.content
    empty = contributor_client.patch(target, {"unit": "EUR"}, format="json", HTTP_IF_MATCH="")
    assert empty.status_code == 200, empty.content
    assert_error(contributor_client.patch(target, {}, format="json", HTTP_IF_MATCH="*x"), 412)

    reviews = url("claim-reviews", slug=draft.slug)
    in_review = {"status": "in_review"}
    refused = assert_error(
        editor_client.post(reviews, in_review, format="json", HTTP_IF_MATCH="*"), 400, "version"
    )
    assert "does not say which version you saw" in refused["fields"]["version"][0]
    assert_error(editor_client.post(reviews, in_review, format="json", HTTP_IF_MATCH=""), 412)
    assert Claim.objects.get(pk=draft.pk).version == draft.version


def test_claim_put_replaces_the_claims_own_fields(draft, contributor_client):
    target = url("claim-detail", slug=draft.slug)
    response = contributor_client.put(
        target,
        {"slug": draft.slug, "statement": "Rewritten.", "speaker": "donald-trump", "kind": "event"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.data["statement"] == "Rewritten."
    assert response.data["speaker"]["slug"] == "donald-trump"
    assert response.data["kind"] == "event"
    assert response.data["quantity"] == "50000000.0000"  # optional fields not sent are kept
    missing = contributor_client.put(target, {"statement": "Only this."}, format="json")
    assert_error(missing, 400, "speaker")


@pytest.mark.parametrize(
    "change",
    [
        {"statement": "The US offers a $5 million reward for Maduro."},
        {"speaker": "donald-trump"},
        {"quantity": "5000000"},
        {"claim_date": "2025-08-07"},
    ],
)
def test_a_published_claims_checkable_fields_are_refused_to_a_patch(
    seeded, change, contributor_client, editor_client
):
    """Once published or rated, what a verdict judges changes only through a correction."""
    before = Claim.objects.get(slug=BOUNTY)
    target = url("claim-detail", slug=BOUNTY)
    for client in (contributor_client, editor_client):
        error = assert_error(client.patch(target, change, format="json"), 403)
        assert "correction" in error["message"]
    after = Claim.objects.get(slug=BOUNTY)
    assert (after.statement, after.speaker_id, after.quantity, after.claim_date) == (
        before.statement,
        before.speaker_id,
        before.quantity,
        before.claim_date,
    )
    assert after.updated_at == before.updated_at


def test_a_rated_drafts_checkable_fields_are_refused_too(draft, editor, contributor_client):
    VerdictFactory(
        claim=draft,
        editor=editor,
        explanation="The reward is $50 million, offered by the State Department.",
    )
    target = url("claim-detail", slug=draft.slug)
    assert_error(contributor_client.patch(target, {"unit": "EUR"}, format="json"), 403)
    assert Claim.objects.get(pk=draft.pk).unit == "USD"
    # What is not judged stays editable.
    assert (
        contributor_client.patch(target, {"topics": ["mexico"]}, format="json").status_code == 200
    )


def test_assignment_through_the_claim(
    seeded, contributor, editor, contributor_client, editor_client
):
    target = url("claim-detail", slug=BOUNTY)
    taken = contributor_client.patch(target, {"assignee": contributor.username}, format="json")
    assert taken.status_code == 200
    assert taken.data["assignee"] == contributor.username
    assert Claim.objects.get(slug=BOUNTY).assignee == contributor
    # Giving work to someone else is the editors' call; nothing is written.
    refused = contributor_client.patch(
        target, {"assignee": editor.username, "unit": "EUR"}, format="json"
    )
    assert_error(refused, 403)
    assert Claim.objects.get(slug=BOUNTY).unit == "USD"
    given = editor_client.patch(target, {"assignee": contributor.username}, format="json")
    assert given.status_code == 200
    cleared = editor_client.patch(target, {"assignee": None}, format="json")
    assert cleared.data["assignee"] is None
    assert_error(
        editor_client.patch(target, {"assignee": "nobody"}, format="json"), 400, "assignee"
    )


# --- Sources -----------------------------------------------------------------


def test_source_list_omits_the_snapshot_and_detail_carries_it(seeded, api_client):
    items, _ = walk(api_client, url("source-list"))
    assert {item["slug"] for item in items} == {TRUMP_SOURCE, DEPLOY_SOURCE}
    assert all("snapshot" not in item for item in items)
    stored = Source.objects.get(slug=DEPLOY_SOURCE)
    listed = next(item for item in items if item["slug"] == DEPLOY_SOURCE)
    assert listed["snapshot_sha256"] == stored.snapshot_sha256
    assert listed["title"] == stored.title
    detail = api_client.get(url("source-detail", slug=DEPLOY_SOURCE)).data
    assert detail["snapshot"] == stored.snapshot
    assert detail["snapshot_sha256"] == stored.snapshot_sha256
    assert len(detail["snapshot_sha256"]) == 64
    assert detail["retrieved_at"] is not None
    assert detail["api_url"].endswith(url("source-detail", slug=DEPLOY_SOURCE))


def test_source_create_with_text_sets_hash_and_retrieval_time(db, contributor_client):
    text = "  Line one.\r\nLine two, with “quotes”.  \n"
    response = contributor_client.post(
        url("source-list"),
        {
            "slug": "raw",
            "title": "Raw",
            "snapshot": text,
            "snapshot_sha256": "0" * 64,
            "retrieved_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.data["snapshot"] == text  # exactly as sent, whitespace included
    assert response.data["snapshot_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert not response.data["retrieved_at"].startswith("2000")


def test_source_create_from_an_uploaded_file(db, contributor_client):
    text = "\ufeffThe port handled 9.8 million tonnes.\n"
    response = contributor_client.post(
        url("source-list"),
        {
            "slug": "upload",
            "title": "Upload",
            "file_name": "statement.TXT",
            "file_content": base64.b64encode(text.encode()).decode(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.data["snapshot"] == text.lstrip("\ufeff")
    assert "file_content" not in response.data


def test_source_create_from_html_takes_its_title(db, contributor_client):
    paragraph = "The minister said the port handled twelve million tonnes last year. " * 5
    page = (
        "<html><head><title>Port figures</title></head><body><nav>Menu</nav>"
        f"<article><h1>Port figures</h1><p>{paragraph}</p><p>{paragraph}</p></article>"
        "</body></html>"
    )
    response = contributor_client.post(
        url("source-list"),
        {
            "slug": "html-upload",
            "file_name": "page.html",
            "file_content": base64.b64encode(page.encode()).decode(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.data["title"] == "Port figures"
    assert "twelve million tonnes" in response.data["snapshot"]
    assert "Menu" not in response.data["snapshot"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "No text"}, "snapshot"),
        (
            {"title": "Both", "snapshot": "x", "file_name": "a.txt", "file_content": "eA=="},
            "snapshot",
        ),
        ({"title": "Bad", "file_name": "a.pdf", "file_content": "eA=="}, "file_name"),
        ({"title": "Bad", "file_name": "a.txt", "file_content": "not base64!"}, "file_content"),
        (
            {
                "title": "Bad",
                "file_name": "a.txt",
                "file_content": base64.b64encode(b"\xff\xfe").decode(),
            },
            "file_content",
        ),
        ({"snapshot": "No title."}, "title"),
        ({"title": "Blank", "snapshot": ""}, "snapshot"),
        ({"title": "Kind", "snapshot": "x", "kind": "pamphlet"}, "kind"),
        ({"title": "URL", "snapshot": "x", "url": "not a url"}, "url"),
    ],
)
def test_source_create_validation(db, contributor_client, payload, field):
    response = contributor_client.post(url("source-list"), {"slug": "s", **payload}, format="json")
    assert_error(response, 400, field)
    assert not Source.objects.filter(slug="s").exists()


def test_source_url_is_unique(db, source, contributor_client):
    Source.objects.filter(pk=source.pk).update(url="https://example.org/a")
    response = contributor_client.post(
        url("source-list"),
        {"slug": "again", "title": "Again", "snapshot": "x", "url": "https://example.org/a"},
        format="json",
    )
    error = assert_error(response, 400, "url")
    assert "already exists" in error["fields"]["url"][0]


def test_the_snapshot_can_never_change(db, source, contributor_client):
    target = url("source-detail", slug=source.slug)
    changed = contributor_client.patch(target, {"snapshot": SNAPSHOT + " More."}, format="json")
    error = assert_error(changed, 400, "snapshot")
    assert "new source" in error["fields"]["snapshot"][0]
    upload = contributor_client.patch(
        target, {"file_name": "a.txt", "file_content": "eA=="}, format="json"
    )
    assert_error(upload, 400, "snapshot")
    put = contributor_client.put(
        target, {"slug": source.slug, "title": "T", "snapshot": "Other text."}, format="json"
    )
    assert_error(put, 400, "snapshot")
    same = contributor_client.patch(
        target, {"snapshot": SNAPSHOT, "title": "Port article (corrected)"}, format="json"
    )
    assert same.status_code == 200, same.content
    sha = contributor_client.patch(target, {"snapshot_sha256": "0" * 64}, format="json")
    assert sha.status_code == 200
    stored = Source.objects.get(pk=source.pk)
    assert stored.snapshot == SNAPSHOT
    assert stored.title == "Port article (corrected)"
    assert sha.data["snapshot_sha256"] == stored.snapshot_sha256 != "0" * 64
    # PUT without a snapshot edits everything else.
    put_ok = contributor_client.put(
        target, {"slug": source.slug, "title": "Port article", "kind": "report"}, format="json"
    )
    assert put_ok.status_code == 200, put_ok.content
    assert put_ok.data["kind"] == "report"
    assert Source.objects.get(pk=source.pk).snapshot == SNAPSHOT


# --- Quotes and appearances --------------------------------------------------


def test_quote_is_anchored_by_the_program(db, source, speaker, contributor_client, api_client):
    response = contributor_client.post(
        url("quote-list"),
        {
            "source": source.slug,
            "speaker": speaker.slug,
            # Straight quote marks and doubled spaces where the source has typographic ones.
            "words": 'Critics said:  "That number is wrong."',
            "kind": "reported",
            # Not fields: the program computes the anchor.
            "start": 0,
            "end": 5,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    quote = Quote.objects.get(pk=response.data["id"])
    assert SNAPSHOT[quote.start : quote.end] == quote.exact
    assert quote.exact == "Critics said: \u201cThat number is wrong.\u201d"
    assert response.data["exact"] == quote.exact
    assert (response.data["start"], response.data["end"]) == (quote.start, quote.end)
    assert response.data["kind"] == "reported"
    assert response.data["source"] == source.slug and response.data["speaker"] == speaker.slug
    assert response.data["selectors"] == quote.selectors
    assert response["Location"].endswith(url("quote-detail", pk=quote.pk))

    again = contributor_client.post(
        url("quote-list"),
        {"source": source.slug, "speaker": speaker.slug, "words": "That number is wrong"},
        format="json",
    )
    assert again.status_code == 201  # a shorter span is a new quote
    same = contributor_client.post(
        url("quote-list"),
        {
            "source": source.slug,
            "speaker": speaker.slug,
            "words": 'Critics said: "That number is wrong."',
        },
        format="json",
    )
    assert same.status_code == 200
    assert same.data["id"] == quote.pk
    assert api_client.get(url("quote-detail", pk=quote.pk)).data["exact"] == quote.exact


def test_words_not_in_the_source_are_refused_with_the_nearest_passage(
    db, source, speaker, contributor_client
):
    response = contributor_client.post(
        url("quote-list"),
        {"source": source.slug, "speaker": speaker.slug, "words": "That number is right."},
        format="json",
    )
    error = assert_error(response, 400, "words")
    assert "Nearest passage" in error["fields"]["words"][0]
    assert "That number is wrong" in error["fields"]["words"][0]
    assert not Quote.objects.exists()


def test_the_services_say_whether_they_created(db, claim, source, speaker):
    """The API answers 201 or 200 from what anchor_quote and add_appearance say."""
    quote, created = anchor_quote(source=source, speaker=speaker, words="12 million tonnes")
    assert created
    assert anchor_quote(source=source, speaker=speaker, words="12 million tonnes") == (quote, False)
    appearance, created = add_appearance(claim=claim, source=source, quote=quote)
    assert created
    assert add_appearance(claim=claim, source=source, quote=quote) == (appearance, False)


def test_quote_validation_and_attribution(db, source, speaker, contributor_client):
    other = SpeakerFactory(name="Other", slug="other")
    QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    taken = contributor_client.post(
        url("quote-list"),
        {"source": source.slug, "speaker": other.slug, "words": "12 million tonnes"},
        format="json",
    )
    assert_error(taken, 400, "speaker")
    for payload, field in [
        ({"speaker": speaker.slug, "words": "x"}, "source"),
        ({"source": "nowhere", "speaker": speaker.slug, "words": "x"}, "source"),
        ({"source": source.slug, "speaker": speaker.slug}, "words"),
        ({"source": source.slug, "speaker": speaker.slug, "words": "x", "kind": "rumour"}, "kind"),
    ]:
        assert_error(contributor_client.post(url("quote-list"), payload, format="json"), 400, field)


def test_quotes_are_create_only(db, source, speaker, contributor_client, editor_client, api_client):
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    target = url("quote-detail", pk=quote.pk)
    assert_error(editor_client.patch(target, {"kind": "reported"}, format="json"), 405)
    assert_error(contributor_client.put(target, {"kind": "reported"}, format="json"), 405)
    assert_error(editor_client.delete(target), 405)
    assert_error(api_client.post(url("quote-list"), {}, format="json"), 401)
    assert Quote.objects.get(pk=quote.pk).kind == "direct"


def test_quote_permissions(db, source, speaker, reader_client, editor_client):
    payload = {"source": source.slug, "speaker": speaker.slug, "words": "12 million tonnes"}
    assert_error(reader_client.post(url("quote-list"), payload, format="json"), 403)
    assert editor_client.post(url("quote-list"), payload, format="json").status_code == 201


def test_quote_list_and_detail_content(seeded, api_client):
    quotes, _ = walk(api_client, url("quote-list"))
    assert len(quotes) == Quote.objects.count()
    stored = Quote.objects.select_related("source", "speaker").order_by("pk").first()
    item = next(q for q in quotes if q["id"] == stored.pk)
    assert item["exact"] == stored.exact
    assert item["source"] == stored.source.slug
    assert item["speaker"] == stored.speaker.slug
    assert item["selectors"] == stored.selectors
    assert api_client.get(url("quote-detail", pk=stored.pk)).data == item


def test_appearance_create(
    seeded, claim, source, speaker, api_client, reader_client, contributor_client
):
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    payload = {"claim": claim.slug, "source": source.slug, "quote": quote.pk}
    assert_error(api_client.post(url("appearance-list"), payload, format="json"), 401)
    assert_error(reader_client.post(url("appearance-list"), payload, format="json"), 403)
    created = contributor_client.post(url("appearance-list"), payload, format="json")
    assert created.status_code == 201, created.content
    assert created.data["claim"] == claim.slug
    assert created.data["source"]["slug"] == source.slug
    assert created.data["quote"]["id"] == quote.pk
    assert created.data["quote"]["exact"] == "12 million tonnes"
    again = contributor_client.post(url("appearance-list"), payload, format="json")
    assert again.status_code == 200 and again.data["id"] == created.data["id"]
    without_quote = contributor_client.post(
        url("appearance-list"), {"claim": claim.slug, "source": DEPLOY_SOURCE}, format="json"
    )
    assert without_quote.status_code == 201
    assert without_quote.data["quote"] is None
    elsewhere = contributor_client.post(
        url("appearance-list"),
        {"claim": claim.slug, "source": TRUMP_SOURCE, "quote": quote.pk},
        format="json",
    )
    assert_error(elsewhere, 400, "quote")
    unknown = contributor_client.post(
        url("appearance-list"), {"claim": "no-claim", "source": source.slug}, format="json"
    )
    assert_error(unknown, 400, "claim")
    assert claim.appearances.count() == 2


def test_appearance_delete_is_for_editors(seeded, contributor_client, editor_client, api_client):
    appearance = Appearance.objects.filter(claim__slug=BOUNTY).first()
    target = url("appearance-detail", pk=appearance.pk)
    assert_error(api_client.delete(target), 401)
    assert_error(contributor_client.delete(target), 403)
    assert editor_client.delete(target).status_code == 204
    assert not Appearance.objects.filter(pk=appearance.pk).exists()
    assert_error(
        editor_client.patch(
            url("appearance-detail", pk=Appearance.objects.first().pk), {}, format="json"
        ),
        405,
    )


def test_appearance_list_and_detail_content(seeded, api_client):
    items, _ = walk(api_client, url("appearance-list"))
    assert len(items) == Appearance.objects.count()
    stored = (
        Appearance.objects.select_related("claim", "source", "quote")
        .filter(quote__isnull=False)
        .first()
    )
    item = api_client.get(url("appearance-detail", pk=stored.pk)).data
    assert item["claim"] == stored.claim.slug
    assert item["source"] == {
        "slug": stored.source.slug,
        "title": stored.source.title,
        "url": stored.source.url,
        "api_url": item["source"]["api_url"],
    }
    assert item["quote"]["exact"] == stored.quote.exact
    assert item in items


# --- Speakers, topics, ratings -----------------------------------------------


def test_speaker_list_and_detail(seeded, api_client):
    items, _ = walk(api_client, url("speaker-list"))
    assert len(items) == Speaker.objects.count() == 11
    berg = api_client.get(url("speaker-detail", slug="ryan-berg")).data
    assert berg["name"] == "Ryan Berg"
    assert berg["affiliation"] == "Center for Strategic and International Studies"
    assert berg["aliases"] == ["Berg"]
    assert berg["kind"] == "person"
    assert berg in items
    assert_error(api_client.get(url("speaker-detail", slug="nobody")), 404)


def test_topic_list_and_detail(seeded, api_client):
    items, _ = walk(api_client, url("topic-list"))
    assert [item["slug"] for item in items] == list(
        Topic.objects.order_by("name").values_list("slug", flat=True)
    )
    mexico = api_client.get(url("topic-detail", slug="mexico")).data
    assert mexico["name"] == "Mexico"
    assert mexico["claim_count"] == Claim.objects.filter(topics__slug="mexico").count() > 0


def test_rating_scale(api_client, db):
    response = api_client.get(url("ratings"))
    assert response.status_code == 200
    assert isinstance(response.data, list)  # the whole scale, not a page
    assert [item["value"] for item in response.data] == [r.value for r in RATINGS]
    false = next(item for item in response.data if item["value"] == "false")
    assert false["label"] == "False"
    assert false["group"] == "scale"
    assert false["rating_value"] == 1
    assert false["description"] == "Inaccurate."
    assert false["claimreview_rating"]["ratingValue"] == 1
    assert false["claimreview_rating"]["alternateName"] == "False"
    unverified = response.data[0]
    assert unverified["claimreview_rating"] is None and unverified["is_verdict"] is False
    unsupported = next(item for item in response.data if item["value"] == "unsupported")
    assert "ratingValue" not in unsupported["claimreview_rating"]
    assert_error(api_client.post(url("ratings"), {}, format="json"), 405)


# --- Constant query counts ---------------------------------------------------


def _grow(editor):
    """More of everything a list or detail shows: claims, topics, appearances,
    quotes, ledger entries and evidence."""
    speaker = SpeakerFactory(name="Extra", slug="extra-speaker")
    topics = [TopicFactory(name=f"Extra {n}", slug=f"extra-{n}") for n in range(3)]
    text = " ".join(f"Sentence number {n} is here." for n in range(10))
    source = SourceFactory(slug="extra-source", title="Extra", snapshot=text)
    bounty = Claim.objects.get(slug=BOUNTY)
    bounty.topics.add(*topics)
    for n in range(4):
        quote = QuoteFactory(source=source, speaker=speaker, words=f"Sentence number {n} is here")
        AppearanceFactory(claim=bounty, quote=quote)
    for n in range(5):
        ClaimFactory(
            slug=f"extra-claim-{n}",
            statement=f"Extra claim {n}.",
            speaker=speaker,
            topics=topics,
            published=True,
            editor=editor,
        )
    for status in ("in_review", "false", "mixed"):
        VerdictFactory(
            claim=bounty,
            editor=editor,
            status=status,
            explanation="Because.",
            evidence=list(Source.objects.all()),
        )


def _reads():
    appearance = Appearance.objects.filter(claim__slug=BOUNTY, quote__isnull=False).first()
    quote = Quote.objects.order_by("pk").first()
    return {
        # name: (url, params, queries)
        # 1. the page of claims with speakers and their topics (in SQL)
        "claim-list": (url("claim-list"), {"page_size": 200}, 1),
        # the same one: topic, source and words are filters in it
        "claim-list-filtered": (
            url("claim-list"),
            {"page_size": 200, "topic": "venezuela", "source": TRUMP_SOURCE, "q": "Maduro"},
            1,
        ),
        # 1. the claim with speaker, assignee, topics, the latest verdict's explanation
        # and evidence, and appearances with sources, quotes and their speakers
        "claim-detail": (url("claim-detail", slug=BOUNTY), {}, 1),
        # 1. the page of speakers
        "speaker-list": (url("speaker-list"), {"page_size": 200}, 1),
        # 1. the speaker
        "speaker-detail": (url("speaker-detail", slug="pam-bondi"), {}, 1),
        # 1. the page of sources
        "source-list": (url("source-list"), {"page_size": 200}, 1),
        # 1. the source
        "source-detail": (url("source-detail", slug=DEPLOY_SOURCE), {}, 1),
        # 1. the page of quotes with sources and speakers
        "quote-list": (url("quote-list"), {"page_size": 200}, 1),
        # 1. the quote with source and speaker
        "quote-detail": (url("quote-detail", pk=quote.pk), {}, 1),
        # 1. the page of appearances with claims, sources, quotes and quotes' speakers
        "appearance-list": (url("appearance-list"), {"page_size": 200}, 1),
        # 1. the appearance with the same
        "appearance-detail": (url("appearance-detail", pk=appearance.pk), {}, 1),
        # 1. the page of topics with their claim counts
        "topic-list": (url("topic-list"), {"page_size": 200}, 1),
        # 1. the topic with its claim count
        "topic-detail": (url("topic-detail", slug="venezuela"), {}, 1),
        # none: the rating scale is code (claims.ratings)
        "ratings": (url("ratings"), {}, 0),
    }


def test_every_read_runs_a_fixed_number_of_queries(
    seeded, editor, api_client, django_assert_num_queries
):
    def measure():
        sizes = {}
        for name, (address, params, queries) in _reads().items():
            # The count _reads() gives, each commented there with the queries it counts.
            with django_assert_num_queries(queries):
                response = api_client.get(address, params)
            assert response.status_code == 200, (name, response.content)
            data = response.data
            sizes[name] = (
                len(data["results"])
                if isinstance(data, dict) and "results" in data
                else (len(data.get("appearances", [])) if isinstance(data, dict) else len(data))
            )
        return sizes

    before = measure()
    _grow(editor)
    after = measure()
    # The second round really had more rows to show.
    assert after["claim-list"] == before["claim-list"] + 5
    assert after["claim-detail"] == before["claim-detail"] + 4
    assert after["quote-list"] == before["quote-list"] + 4
    assert after["appearance-list"] == before["appearance-list"] + 4
    assert after["topic-list"] == before["topic-list"] + 3
    assert after["source-list"] == before["source-list"] + 1
    assert after["speaker-list"] == before["speaker-list"] + 1


def test_desk_member_reads_add_only_the_token_lookup(
    seeded, claim, editor, contributor_client, django_assert_num_queries
):
    _grow(editor)
    # 1. the token with its user, then claim-list's one: 2. claims with speakers and
    # topics (drafts too)
    with django_assert_num_queries(1 + 1):
        response = contributor_client.get(url("claim-list"), {"page_size": 200})
    assert len(response.data["results"]) == SEEDED_CLAIMS + 5 + 1
    # 1. the token with its user, then claim-detail's one: 2. the claim with topics,
    # verdict, evidence and appearances
    with django_assert_num_queries(1 + 1):
        response = contributor_client.get(url("claim-detail", slug=BOUNTY))
    assert len(response.data["evidence"]) == Source.objects.count()


def test_a_cursor_from_another_ordering_is_never_a_server_error(seeded, api_client):
    first = api_client.get(url("claim-list"), {"page_size": 3})
    cursor = parse_qs(urlsplit(first.data["next"]).query)["cursor"][0]
    mixed = api_client.get(url("claim-list"), {"cursor": cursor, "ordering": "claim_date"})
    assert mixed.status_code in {200, 400}, mixed.content
    naive = api_client.get(url("claim-list"), {"updated_since": "2000-01-01T00:00:00"})
    assert naive.status_code == 200
    assert len(naive.data["results"]) == SEEDED_CLAIMS


@pytest.mark.parametrize("client_name", ["api_client", "contributor_client"])
def test_the_browsable_api_renders(seeded, request, client_name):
    client = request.getfixturevalue(client_name)
    quote = Quote.objects.first()
    for address in [
        url("claim-list"),
        url("claim-detail", slug=BOUNTY),
        url("speaker-list"),
        url("source-detail", slug=DEPLOY_SOURCE),
        url("quote-list"),
        url("quote-detail", pk=quote.pk),
        url("appearance-list"),
        url("topic-list"),
        url("ratings"),
    ]:
        response = client.get(address, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, address
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("speaker-list", {"slug": "a\x00b", "name": "N"}, "slug"),
        ("topic-list", {"slug": "t", "name": "a\x00b"}, "name"),
        ("claim-list", {**_new_claim(1), "speaker": "pam\x00bondi"}, "speaker"),
        ("claim-list", {**_new_claim(1), "topics": ["a\x00"]}, "topics"),
        ("quote-list", {"source": "a\x00", "speaker": "pam-bondi", "words": "x"}, "source"),
        ("appearance-list", {"claim": "a\x00", "source": DEPLOY_SOURCE}, "claim"),
        ("source-list", {"slug": "s", "title": "T", "snapshot": "a\x00b"}, "snapshot"),
    ],
)
def test_nul_bytes_are_a_400_never_a_database_error(seeded, editor_client, name, payload, field):
    assert_error(editor_client.post(url(name), payload, format="json"), 400, field)
