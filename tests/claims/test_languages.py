"""Claims and quotes in their language: detected where they are saved, searched with
their language's configuration, a quote's translation beside its original words."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.imports.load import load
from claims.imports.records import ParsedFile
from claims.languages import Language, search_config
from claims.models import Claim, Quote
from claims.search import search_claims, search_query
from claims.services import anchor_quote
from tests.factories import AppearanceFactory, ClaimFactory, QuoteFactory, SourceFactory
from tests.imports.test_load import review

pytestmark = pytest.mark.django_db

# As a Mexican paper prints it: accents, and an inflected form ("descartada").
SPANISH_SNAPSHOT = (
    "La presidenta Claudia Sheinbaum dijo que la intervención militar de Estados Unidos "
    "en México está absolutamente descartada. Nicolás Maduro respondió con una recompensa."
)
SPANISH_WORDS = "la intervención militar de Estados Unidos en México está absolutamente descartada"


@pytest.fixture
def spanish_source(db):
    return SourceFactory(slug="la-jornada", title="La Jornada", snapshot=SPANISH_SNAPSHOT)


@pytest.fixture
def ruled_out(spanish_source, speaker, editor):
    """A published claim in English, quoted through Spanish words."""
    claim = ClaimFactory(
        slug="us-intervention-ruled-out",
        statement="A US military intervention in Mexico is ruled out.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    quote = QuoteFactory(source=spanish_source, speaker=speaker, words=SPANISH_WORDS)
    AppearanceFactory(claim=claim, source=spanish_source, quote=quote)
    return claim


def found(text: str) -> set[str]:
    return set(
        Claim.objects.filter(search_vector=search_query(text)).values_list("slug", flat=True)
    )


# --- Detection where claims and quotes are saved ----------------------------------------


@pytest.mark.parametrize(
    ("statement", "language"),
    [
        ("The United States offers a $50 million reward for the arrest of Maduro.", "en"),
        ("Estados Unidos ofrece una recompensa de 50 millones de dólares por Maduro.", "es"),
        ("Maduro", ""),  # a name alone could be any of the desk's languages
    ],
)
def test_a_claims_language_is_detected_from_its_statement(speaker, statement, language):
    claim = ClaimFactory(statement=statement, speaker=speaker)

    assert Claim.objects.get(pk=claim.pk).language == language


def test_the_editors_language_is_kept(speaker):
    claim = ClaimFactory(
        statement="Estados Unidos ofrece una recompensa de 50 millones de dólares por Maduro.",
        language="pt",
        speaker=speaker,
    )

    assert Claim.objects.get(pk=claim.pk).language == "pt"


def test_a_save_of_named_fields_detects_only_when_it_writes_the_statement(speaker):
    claim = ClaimFactory(statement="Maduro", speaker=speaker)
    claim.statement = "Nicolás Maduro ha llamado a los venezolanos a unirse a la milicia."

    claim.save(update_fields=["updated_at"])
    assert Claim.objects.get(pk=claim.pk).language == ""  # nor the statement, written

    claim.save(update_fields=["statement"])
    stored = Claim.objects.get(pk=claim.pk)
    assert (stored.statement, stored.language) == (claim.statement, "es")


def test_a_quotes_language_is_detected_from_its_words(spanish_source, speaker):
    quote, _ = anchor_quote(source=spanish_source, speaker=speaker, words=SPANISH_WORDS)

    assert Quote.objects.get(pk=quote.pk).language == "es"


def test_words_too_few_to_tell_take_the_language_around_them_when_it_agrees(speaker):
    spanish = SourceFactory(snapshot="El gobierno dijo que está «absolutamente descartado» ahora.")
    english = SourceFactory(
        snapshot="Sheinbaum said a deployment was “absolutamente descartado” and would not happen."
    )

    in_spanish, _ = anchor_quote(source=spanish, speaker=speaker, words="absolutamente descartado")
    in_english, _ = anchor_quote(source=english, speaker=speaker, words="absolutamente descartado")

    assert in_spanish.language == "es"
    # The English around them would say English: the words themselves lean Spanish.
    assert in_english.language == ""


def test_a_translation_is_kept_beside_the_words_as_printed(spanish_source, speaker):
    quote, created = anchor_quote(
        source=spanish_source,
        speaker=speaker,
        words=SPANISH_WORDS,
        translation="  a US military intervention in Mexico is absolutely ruled out ",
        translation_language="en",
    )

    stored = Quote.objects.get(pk=quote.pk)
    assert created
    assert stored.exact == SPANISH_WORDS  # the original words, anchored in the original
    assert SPANISH_SNAPSHOT[stored.start : stored.end] == SPANISH_WORDS
    assert (stored.language, stored.translation_language) == ("es", "en")
    assert stored.translation == "a US military intervention in Mexico is absolutely ruled out"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"translation": "ruled out"}, "translation_language"),
        (
            {"translation": "descartada", "language": "es", "translation_language": "es"},
            "translation_language",
        ),
        ({"language": "xx"}, "language"),
        ({"translation": "ruled out", "translation_language": "klingon"}, "translation_language"),
    ],
)
def test_a_translation_names_another_language_and_nothing_is_written_otherwise(
    spanish_source, speaker, given, field
):
    with pytest.raises(ValidationError) as refused:
        anchor_quote(source=spanish_source, speaker=speaker, words=SPANISH_WORDS, **given)

    assert field in refused.value.message_dict
    assert not Quote.objects.exists()


def test_words_anchored_again_with_another_translation_are_refused_not_ignored(
    spanish_source, speaker
):
    first, _ = anchor_quote(
        source=spanish_source,
        speaker=speaker,
        words=SPANISH_WORDS,
        translation="ruled out",
        translation_language="en",
    )

    assert anchor_quote(source=spanish_source, speaker=speaker, words=SPANISH_WORDS) == (
        first,
        False,
    )
    with pytest.raises(ValidationError) as refused:
        anchor_quote(
            source=spanish_source,
            speaker=speaker,
            words=SPANISH_WORDS,
            translation="excluded",
            translation_language="en",
        )
    assert set(refused.value.message_dict) == {"translation"}
    assert Quote.objects.get().translation == "ruled out"


def test_imported_claims_take_the_reviews_language_or_are_detected():
    parsed = ParsedFile(
        [
            review(1, claim_text="El puerto movió un millón de contenedores.", language="es-419"),
            review(2, claim_text="O porto movimentou um milhão de contêineres.", language="nl"),
            review(
                3,
                claim_text="El puerto movió tres millones de contenedores en un año.",
                language="",
            ),
        ]
    )

    load(parsed, label="test:languages")

    # Latin American Spanish is Spanish; Dutch is none of the desk's languages: blank
    # (not detected as one of them); a review without a language has its claim detected.
    assert dict(Claim.objects.values_list("statement", "language")) == {
        "El puerto movió un millón de contenedores.": "es",
        "O porto movimentou um milhão de contêineres.": "",
        "El puerto movió tres millones de contenedores en un año.": "es",
    }


# --- Search in each language ------------------------------------------------------------


def test_each_language_has_its_configuration_in_the_database_as_in_python():
    with connection.cursor() as cursor:
        for code in ["", *Language.values]:
            cursor.execute("SELECT factcheck_search_config(%s)::text", [code])
            assert cursor.fetchone()[0] == search_config(code), code


def test_a_spanish_quote_is_found_by_a_spanish_search_with_its_accents_folded(ruled_out):
    # No accent on "intervencion", other forms of "descartada": Spanish stems.
    assert found("intervencion descartados") == {ruled_out.slug}
    assert found("Mexico descartado") == {ruled_out.slug}

    # Read as English, the same words hold no such stem: the quote's language is what
    # found it.
    Quote.objects.update(language="en")
    assert found("intervencion descartados") == set()
    assert found("intervencion descartadas") == {ruled_out.slug}  # English drops the -s


def test_a_spanish_claim_is_found_by_its_words_in_english_spanish_or_both(speaker, editor):
    claim = ClaimFactory(
        statement="Nicolás Maduro ofreció una recompensa por los narcotraficantes.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    assert claim.language == "es"

    assert found("Nicolas recompensas") == {claim.slug}  # accents folded, plural stemmed
    assert found("recompensa -Nicolás") == set()
    assert found('"ofrecio una recompensa"') == {claim.slug}
    assert found("recompensas OR bounty") == {claim.slug}
    assert found("del") == set()  # a stop word asks for nothing


def test_an_excluded_word_excludes_whatever_its_form_in_each_language(speaker, editor):
    """Whole queries in each language OR-ed would let this through: the Spanish reading
    asks for 'trump' and excludes 'bounty', which an English vector never holds."""
    ClaimFactory(
        slug="trump-bounty",
        statement="Trump raised the bounty on Maduro.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    other = ClaimFactory(
        slug="trump-troops",
        statement="Trump sent troops to the Caribbean.",
        speaker=speaker,
        published=True,
        editor=editor,
    )

    assert found("Trump -bounty") == {other.slug}
    assert found("Trump -bounties") == {other.slug}


def test_a_query_may_mix_the_languages_of_a_claim_and_its_quotes(ruled_out):
    assert found("ruled descartada") == {ruled_out.slug}


def test_the_reader_search_shows_the_spanish_words_marked(client, ruled_out):
    response = client.get(reverse("claims:list"), {"q": "descartadas"})

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("claims:detail", args=[ruled_out.slug]) in html
    assert "absolutamente <mark>descartada</mark>" in html


def test_the_headline_reads_a_quote_in_its_own_language(ruled_out):
    (match,) = search_claims(Claim.objects.published(), "descartadas")

    assert "\x02descartada\x03" in match.quoted_headline


def test_a_search_is_served_by_the_search_index(ruled_out):
    with connection.cursor() as cursor:
        # A few rows: the planner would rather walk any index in the list's order and
        # filter. Without the order and with plain scans off, what is left is the search
        # index, if the query can use it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        query = Claim.objects.filter(search_vector=search_query("Nicolas descartadas"))
        plan = query.order_by().explain()
        cursor.execute("SET LOCAL enable_seqscan = on")
        cursor.execute("SET LOCAL enable_indexscan = on")

    # The query is folded to a constant tsquery at planning: the GIN index answers it.
    assert "claim_search_idx" in plan, plan


# --- The vector's triggers --------------------------------------------------------------


def _vector(claim: Claim) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM claims_claim WHERE id = %s", [claim.pk])
        return cursor.fetchone()[0]


def test_a_change_of_language_rebuilds_the_vector_and_a_plain_save_does_not(speaker):
    claim = ClaimFactory(
        statement="Nicolás Maduro ofreció una recompensa.", speaker=speaker, language="en"
    )
    assert "'recompensa'" in _vector(claim)  # English reads it whole

    # A save that changes none of what the vector reads leaves it alone (a marker
    # stands in for the vector, to see that it was not rebuilt).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE claims_claim SET search_vector = 'marker' WHERE id = %s", [claim.pk])
    stored = Claim.objects.get(pk=claim.pk)
    stored.save()
    assert _vector(claim) == "'marker'"

    stored.language = "es"
    stored.save()
    assert "'recompens'" in _vector(claim)


def test_a_save_of_a_claim_read_before_its_quote_was_added_keeps_the_quoted_words(
    spanish_source, speaker
):
    claim = ClaimFactory(statement="A US intervention is ruled out.", speaker=speaker)
    read_before = Claim.objects.get(pk=claim.pk)
    quote = QuoteFactory(source=spanish_source, speaker=speaker, words=SPANISH_WORDS)
    AppearanceFactory(claim=claim, source=spanish_source, quote=quote)

    read_before.save()  # writes back the vector it read, without the quote's words

    assert "'descart'" in _vector(claim)


# --- The reader's claim page -------------------------------------------------------------


def test_the_claim_page_shows_the_translation_beside_the_original(client, ruled_out):
    page = reverse("claims:detail", args=[ruled_out.slug])
    with CaptureQueriesContext(connection) as untranslated:
        client.get(page)
    Quote.objects.update(
        translation="the US military intervention in Mexico is absolutely ruled out",
        translation_language="en",
    )

    with CaptureQueriesContext(connection) as translated:
        response = client.get(page)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in html  # the page stays in the site's language
    # The source's language is not known: the words carry theirs.
    assert '<mark lang="es">la intervención militar' in html
    assert (
        '<span class="meta">Translated from Spanish:</span> <q lang="en">the US military '
        "intervention in Mexico is absolutely ruled out</q>"
    ) in html
    assert len(translated) == len(untranslated)


def test_a_quote_in_its_sources_language_is_marked_once(client, ruled_out, spanish_source):
    spanish_source.language = "es"
    spanish_source.save()

    html = client.get(reverse("claims:detail", args=[ruled_out.slug])).content.decode()

    assert '<blockquote class="quote-in-context" lang="es"' in html
    assert "<mark>la intervención militar" in html


# --- The admin ---------------------------------------------------------------------------


def test_the_admin_detects_a_quotes_language_and_keeps_its_translation(
    admin_client, spanish_source, speaker
):
    response = admin_client.post(
        reverse("admin:claims_quote_add"),
        {
            "source": spanish_source.pk,
            "speaker": speaker.pk,
            "kind": "direct",
            "words": SPANISH_WORDS,
            "context_before": "",
            "language": "",
            "translation": "the intervention is ruled out",
            "translation_language": "en",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    quote = Quote.objects.get()
    assert (quote.language, quote.translation, quote.translation_language) == (
        "es",
        "the intervention is ruled out",
        "en",
    )


def test_the_admin_asks_which_language_a_translation_is_in(admin_client, ruled_out):
    quote = Quote.objects.get()
    change = reverse("admin:claims_quote_change", args=[quote.pk])

    response = admin_client.post(
        change,
        {
            "speaker": quote.speaker_id,
            "kind": quote.kind,
            "language": "es",
            "translation": "ruled out",
            "translation_language": "",
        },
    )

    assert response.status_code == 200
    assert "Say which language the translation is in." in response.content.decode()
    assert Quote.objects.get().translation == ""
