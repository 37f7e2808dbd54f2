"""Lenient input is refused (issue 10, point 8): a query parameter sent empty or with
a value that is not one (`page_size=true`, `kind=`, `updated_since=`) is a 400 naming
it, never the parameter silently dropped; a form or multipart list field fed one
encoded value (`aliases={}`) is a 400, never stored as a one-item list. Valid values
keep working."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from claims.models import Review, Speaker
from tests.factories import ClaimFactory, PublicationFactory, QuoteFactory, SourceFactory

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"
FEED = "/api/v1/claimreview"
SEARCH = "/api/v1/claims:search"


def assert_names(response, parameter: str) -> None:
    assert response.status_code == 400, (parameter, response.status_code, response.content)
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert list(error["fields"]) == [parameter], error
    assert error["message"].startswith(f"{parameter}: ")


@pytest.fixture
def listed(speaker, editor):
    source = SourceFactory(slug="port-report")
    claim = ClaimFactory(
        slug="port-claim",
        statement="The port grew.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    QuoteFactory(source=source, speaker=speaker)
    return claim


@pytest.mark.parametrize("value", ["true", "0", "-1", "1.5", "", " ", "ten", "٣"])
@pytest.mark.parametrize("path", [CLAIMS, "/api/v1/speakers/", "/api/v1/quotes/", FEED])
def test_a_page_size_that_is_not_a_whole_number_from_one_is_a_400(api_client, db, path, value):
    assert_names(api_client.get(path, {"page_size": value}), "page_size")


def test_valid_page_sizes_still_page(api_client, listed, speaker, editor):
    ClaimFactory(slug="second", statement="Second.", speaker=speaker, published=True, editor=editor)

    assert len(api_client.get(CLAIMS, {"page_size": "1"}).json()["results"]) == 1
    assert len(api_client.get(CLAIMS, {"page_size": "007"}).json()["results"]) == 2
    # Above the maximum gives the maximum, as documented.
    assert len(api_client.get(CLAIMS, {"page_size": "10000"}).json()["results"]) == 2
    assert len(api_client.get(CLAIMS, {"page_size": "9" * 40}).json()["results"]) == 2


@pytest.mark.parametrize("path", [CLAIMS, "/api/v1/topics/", FEED])
def test_an_empty_cursor_is_a_400(api_client, db, path):
    assert_names(api_client.get(path, {"cursor": ""}), "cursor")


CLAIM_FILTERS = [
    "status",
    "speaker",
    "topic",
    "kind",
    "source",
    "claim_date_from",
    "claim_date_to",
    "updated_since",
    "published",
    "q",
    "ordering",
]


@pytest.mark.parametrize("value", ["", "  "])
@pytest.mark.parametrize("parameter", CLAIM_FILTERS)
def test_an_empty_claim_filter_is_a_400_naming_it(api_client, listed, parameter, value):
    assert_names(api_client.get(CLAIMS, {parameter: value}), parameter)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/quotes/", "kind"),
        ("/api/v1/quotes/", "source"),
        ("/api/v1/quotes/", "speaker"),
        ("/api/v1/appearances/", "claim"),
        ("/api/v1/appearances/", "source"),
        (FEED, "updated_since"),
    ],
)
def test_other_empty_filters_are_400s_too(api_client, listed, path, parameter):
    assert_names(api_client.get(path, {parameter: ""}), parameter)


def test_one_empty_value_among_repeated_ones_is_a_400(api_client, listed):
    assert_names(api_client.get(f"{CLAIMS}?kind=event&kind="), "kind")


def test_valid_filters_keep_filtering(api_client, listed):
    for params, expected in (
        ({"kind": "event"}, ["port-claim"]),
        ({"kind": "numeric"}, []),
        ({"speaker": listed.speaker.slug, "published": "true"}, ["port-claim"]),
        ({"updated_since": "2000-01-01T00:00:00Z", "ordering": "updated_at"}, ["port-claim"]),
        ({"q": "port"}, ["port-claim"]),
        ({"topic": "no-such-topic"}, []),
    ):
        response = api_client.get(CLAIMS, params)
        assert response.status_code == 200, (params, response.content)
        assert [c["slug"] for c in response.json()["results"]] == expected, params
    assert api_client.get("/api/v1/quotes/", {"kind": "direct"}).json()["results"]
    assert api_client.get(FEED, {"updated_since": "2000-01-01T00:00:00Z"}).status_code == 200


def test_the_export_needs_a_value_for_full(api_client, db):
    assert_names(api_client.get("/api/v1/export", {"full": ""}), "full")
    assert api_client.get("/api/v1/export", {"full": "false"}).status_code == 200


@pytest.mark.parametrize("parameter", ["maxAgeDays", "pageSize", "offset", "languageCode"])
def test_google_search_parameters_sent_empty_are_400s_in_googles_shape(api_client, db, parameter):
    response = api_client.get(SEARCH, {"query": "port", parameter: ""})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    violations = error["details"][0]["fieldViolations"]
    assert [v["field"] for v in violations] == [parameter]
    # Google's own blank-able parameters stay blank-able: the first page, any site.
    assert api_client.get(SEARCH, {"query": "port", "pageToken": ""}).status_code == 200


# --- List fields in form and multipart bodies -----------------------------------------


def _speaker(**fields) -> dict:
    return {"slug": "ada-new", "name": "Ada New", "kind": "person", **fields}


@pytest.mark.parametrize("encoded", ["{}", "[]", '["Ada", "A. New"]', ' {"a": 1}', "[1]"])
@pytest.mark.parametrize("form", ["multipart", "urlencoded"])
def test_a_list_field_fed_one_encoded_value_in_a_form_is_a_400(contributor_client, form, encoded):
    if form == "multipart":
        response = contributor_client.post(
            "/api/v1/speakers/", _speaker(aliases=encoded), format="multipart"
        )
    else:
        response = contributor_client.post(
            "/api/v1/speakers/",
            urlencode(_speaker(aliases=encoded)),
            content_type="application/x-www-form-urlencoded",
        )

    assert_names(response, "aliases")
    assert not Speaker.objects.filter(slug="ada-new").exists()


def test_a_form_list_field_takes_one_field_per_item(contributor_client):
    response = contributor_client.post(
        "/api/v1/speakers/",
        _speaker(aliases=["Ada", "A. New", "[Ada]"]),
        format="multipart",
    )

    assert response.status_code == 201, response.content
    # Text that only looks like JSON ("[Ada]" does not parse) is an alias like any other.
    assert Speaker.objects.get(slug="ada-new").aliases == ["Ada", "A. New", "[Ada]"]


def test_json_list_fields_are_lists_or_400s(contributor_client):
    for aliases in ("{}", "Ada", {"a": 1}):
        response = contributor_client.post(
            "/api/v1/speakers/", _speaker(aliases=aliases), format="json"
        )
        assert_names(response, "aliases")
    response = contributor_client.post(
        "/api/v1/speakers/", _speaker(aliases=["Ada"]), format="json"
    )
    assert response.status_code == 201 and response.json()["aliases"] == ["Ada"]


def test_a_verdicts_evidence_fed_one_encoded_value_in_a_form_is_a_400(
    editor_client, claim, editor, source
):
    PublicationFactory(claim=claim, editor=editor)
    before = Review.objects.count()

    response = editor_client.post(
        reverse("api:claim-reviews", kwargs={"slug": claim.slug}),
        {"status": "false", "explanation": "No.", "evidence": f'["{source.slug}"]', "version": 2},
        format="multipart",
    )

    assert_names(response, "evidence")
    assert Review.objects.count() == before


def test_updated_since_takes_any_offset_and_refuses_a_moment_out_of_range(api_client, listed):
    # Python accepts offsets PostgreSQL refuses (beyond ±15:59): compared in UTC.
    far = api_client.get(CLAIMS, {"updated_since": "0982-01-14T23:15:09-19:10"})
    assert far.status_code == 200 and [c["slug"] for c in far.json()["results"]] == ["port-claim"]
    assert_names(
        api_client.get(CLAIMS, {"updated_since": "0001-01-01T00:00:00+05:00"}), "updated_since"
    )
    assert_names(api_client.get(CLAIMS, {"updated_since": "yesterday"}), "updated_since")
