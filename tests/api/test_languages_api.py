"""Languages through the API: claims', quotes' and sources' languages and a quote's
translation; the claim's language in its ClaimReview (`inLanguage`), the desk's
as the review's and as Google's `languageCode`; searching in Spanish."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from claims.models import Claim, Quote
from tests.api.test_interop import (
    _public_site,  # noqa: F401 - the autouse fixture that names our site
    claimreview_url,
    page_json_ld,
    search,
)
from tests.api.test_resources import assert_error, url
from tests.claims.test_languages import SPANISH_SNAPSHOT, SPANISH_WORDS
from tests.factories import AppearanceFactory, ClaimFactory, QuoteFactory, SourceFactory

pytestmark = pytest.mark.django_db

SPANISH_STATEMENT = "Nicolás Maduro ha llamado a los venezolanos a unirse a la milicia."


@pytest.fixture
def spanish_source(db):
    return SourceFactory(
        slug="la-jornada", title="La Jornada", snapshot=SPANISH_SNAPSHOT, language="es"
    )


@pytest.fixture
def spanish_claim(spanish_source, speaker, editor):
    """A published verdict on a claim made in Spanish, quoted in its Spanish source."""
    claim = ClaimFactory(
        slug="maduro-calls-on-the-militia",
        statement=SPANISH_STATEMENT,
        speaker=speaker,
        published=True,
        verdict="true",
        editor=editor,
    )
    quote = QuoteFactory(source=spanish_source, speaker=speaker, words=SPANISH_WORDS)
    AppearanceFactory(claim=claim, source=spanish_source, quote=quote)
    return Claim.objects.get(pk=claim.pk)


# --- ClaimReview ------------------------------------------------------------------------


def test_the_claimreview_says_the_claims_language_and_the_reviews(
    client, api_client, spanish_claim
):
    markup = json.loads(api_client.get(claimreview_url(spanish_claim.slug)).content)

    assert spanish_claim.language == "es"  # detected from the statement
    assert markup["itemReviewed"]["inLanguage"] == "es"  # what was said, in Spanish
    assert markup["inLanguage"] == "en"  # the desk's review
    [work] = markup["itemReviewed"]["appearance"]
    assert work["inLanguage"] == "es"  # where it was said
    # The page embeds the same markup, and stays in the site's language.
    assert page_json_ld(client, spanish_claim.slug) == markup
    page = client.get(reverse("claims:detail", args=[spanish_claim.slug])).content.decode()
    assert '<html lang="en"' in page


def test_a_claim_of_unknown_language_says_none(api_client, speaker, editor):
    claim = ClaimFactory(statement="Maduro", speaker=speaker, published=True, verdict="false")

    markup = api_client.get(claimreview_url(claim.slug), {"format": "json"}).json()

    assert claim.language == ""
    assert "inLanguage" not in markup["itemReviewed"]
    assert markup["inLanguage"] == "en"


def test_the_reviews_language_is_the_desks(settings, api_client, spanish_claim):
    settings.LANGUAGE_CODE = "es-mx"

    markup = api_client.get(claimreview_url(spanish_claim.slug), {"format": "json"}).json()

    assert markup["inLanguage"] == "es"


# --- Google's claims:search ---------------------------------------------------------------


def test_claims_search_finds_a_spanish_claim_by_a_spanish_search(api_client, spanish_claim):
    # No accent, another form of the quoted word ("descartada").
    found = search(api_client, query="intervencion descartados").json()["claims"]

    assert [claim["text"] for claim in found] == [SPANISH_STATEMENT]
    assert [review["languageCode"] for review in found[0]["claimReview"]] == ["en"]


@pytest.mark.parametrize(
    ("desk", "asked", "answers"),
    [
        ("en-us", "en", True),
        ("en-us", "es", False),
        ("es-mx", "es-419", True),
        ("es-mx", "en", False),
    ],
)
def test_the_language_filter_reads_the_language_each_review_is_written_in(
    settings, api_client, spanish_claim, desk, asked, answers
):
    settings.LANGUAGE_CODE = desk

    body = search(api_client, query="Maduro", languageCode=asked).json()

    assert bool(body) is answers
    if answers:
        [review] = body["claims"][0]["claimReview"]
        assert review["languageCode"] == desk.split("-")[0]


# --- The API's claims, quotes and sources -------------------------------------------------


def test_a_created_claims_language_is_detected_unless_given(seeded, contributor_client):
    detected = contributor_client.post(
        url("claim-list"),
        {
            "slug": "militia",
            "statement": SPANISH_STATEMENT,
            "speaker": "pam-bondi",
            "kind": "event",
        },
        format="json",
    )
    given = contributor_client.post(
        url("claim-list"),
        {
            "slug": "militia-pt",
            "statement": SPANISH_STATEMENT,
            "speaker": "pam-bondi",
            "kind": "event",
            "language": "pt",
        },
        format="json",
    )

    assert (detected.status_code, given.status_code) == (201, 201), detected.content
    assert (detected.data["language"], given.data["language"]) == ("es", "pt")
    assert Claim.objects.get(slug="militia").language == "es"


def test_a_claims_language_may_be_corrected_once_it_is_published(editor_client, spanish_claim):
    response = editor_client.patch(
        url("claim-detail", slug=spanish_claim.slug),
        {"language": "pt"},
        format="json",
        HTTP_IF_MATCH=spanish_claim.etag,
    )

    assert response.status_code == 200, response.content
    assert Claim.objects.get(pk=spanish_claim.pk).language == "pt"


def test_an_unknown_language_is_a_400_naming_it(seeded, contributor_client):
    response = contributor_client.post(
        url("claim-list"),
        {
            "slug": "x",
            "statement": "X.",
            "speaker": "pam-bondi",
            "kind": "event",
            "language": "tlh",
        },
        format="json",
    )

    assert_error(response, 400, "language")


def test_the_claims_list_and_detail_show_the_language_and_the_quotes_translation(
    api_client, spanish_claim
):
    Quote.objects.update(translation="the intervention is ruled out", translation_language="en")

    detail = api_client.get(url("claim-detail", slug=spanish_claim.slug)).json()
    listed = api_client.get(url("claim-list")).json()["results"]

    assert detail["language"] == "es"
    [appearance] = detail["appearances"]
    assert {name: appearance["quote"][name] for name in ("exact", "language")} == {
        "exact": SPANISH_WORDS,
        "language": "es",
    }
    assert appearance["quote"]["translation"] == "the intervention is ruled out"
    assert appearance["quote"]["translation_language"] == "en"
    assert [claim["language"] for claim in listed] == ["es"]


def test_the_claims_api_search_finds_spanish_words_without_their_accents(api_client, spanish_claim):
    found = api_client.get(url("claim-list"), {"q": "Nicolas milicias"}).json()["results"]

    assert [claim["slug"] for claim in found] == [spanish_claim.slug]


def test_a_quote_is_anchored_with_its_language_and_translation(
    spanish_source, speaker, contributor_client, api_client
):
    response = contributor_client.post(
        url("quote-list"),
        {
            "source": spanish_source.slug,
            "speaker": speaker.slug,
            "words": SPANISH_WORDS,
            "translation": "the US military intervention in Mexico is absolutely ruled out",
            "translation_language": "en",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.data["exact"] == SPANISH_WORDS  # the original words
    assert response.data["language"] == "es"  # detected
    assert response.data["translation_language"] == "en"
    shown = api_client.get(url("quote-detail", pk=response.data["id"])).json()
    assert shown["translation"] == (
        "the US military intervention in Mexico is absolutely ruled out"
    )


def test_a_translation_without_its_language_is_a_400_and_writes_nothing(
    spanish_source, speaker, contributor_client
):
    response = contributor_client.post(
        url("quote-list"),
        {
            "source": spanish_source.slug,
            "speaker": speaker.slug,
            "words": SPANISH_WORDS,
            "translation": "ruled out",
        },
        format="json",
    )

    assert_error(response, 400, "translation_language")
    assert not Quote.objects.exists()


def test_a_sources_language_is_shown_and_may_be_given(contributor_client, api_client):
    response = contributor_client.post(
        url("source-list"),
        {"slug": "el-pais", "title": "El País", "snapshot": SPANISH_SNAPSHOT, "language": "pt"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert api_client.get(url("source-detail", slug="el-pais")).json()["language"] == "pt"
