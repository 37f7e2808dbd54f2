"""Likely duplicates of a claim being entered (claims.duplicates): found on the seed
ledger, refused apart when the numbers or the denial differ, shown in the admin before
a new claim is saved, and found through the full-text index in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from claims import duplicates
from claims.models import Appearance, Claim, Quote, Speaker
from claims.search import MOST_CLAIMS_PER_WORD
from sources.models import Source
from tests.factories import ClaimFactory

BOUNTY = "us-50-million-bounty-on-maduro"


@pytest.mark.parametrize(
    ("statement", "slug"),
    [
        # The example: worded apart from the seed's statement (trigram
        # similarity 0.19), found by the words its statement, speaker and quotes hold.
        ("Washington put a $50 million bounty on Maduro", BOUNTY),
        ("The US is offering a $50 million reward for Maduro's arrest", BOUNTY),
        (
            "A US strike on a boat in the Caribbean killed 11 people on September 2.",
            "september-2-strike-killed-11",
        ),
        ("The US deployed 10 F-35 jets to Puerto Rico.", "ten-f35s-deployed-to-puerto-rico"),
        (
            "Venezuela's government rejects the US accusations of drug trafficking.",
            "venezuela-rejects-drug-allegations",
        ),
    ],
)
def test_a_reworded_seed_claim_is_its_likely_duplicate(seeded, statement, slug):
    found = duplicates.likely_duplicates(statement)

    assert [match.claim.slug for match in found][:1] == [slug]
    assert found[0].score >= duplicates.THRESHOLD
    assert found[0].matched == "words"
    assert f"of the {found[0].words} words" in found[0].why


@pytest.mark.parametrize(
    "statement",
    [
        "Inflation in Mexico rose to 5 percent last year.",
        "The president said the economy grew faster than ever before.",
        "Maduro's government is a narco-state according to Rubio.",
        "Colombia's president criticised the US strikes.",
        "The Pentagon sent eight warships to the Caribbean.",
    ],
)
def test_a_claim_on_something_else_has_none(seeded, statement):
    assert duplicates.likely_duplicates(statement) == []


def test_a_different_figure_is_not_a_duplicate_but_is_listed_apart(seeded):
    found = duplicates.check(
        "The US offers $25 million for the arrest of Venezuelan President Nicolás Maduro."
    )

    assert found.duplicates == []
    assert [match.claim.slug for match in found.other_figures] == [BOUNTY]


def test_the_same_figure_written_otherwise_is_the_same_claim(seeded):
    found = duplicates.likely_duplicates(
        "The United States offers a 50,000,000 dollar reward for the arrest of Nicolás Maduro."
    )

    assert [match.claim.slug for match in found][:1] == [BOUNTY]


def test_a_denial_is_neither_a_duplicate_nor_another_figure(seeded):
    found = duplicates.check(
        "The United States does not offer a $50 million reward for the arrest of Nicolás Maduro."
    )

    assert found.duplicates == [] and found.other_figures == []


def test_the_same_words_match_by_the_statement_and_leave_out_the_excluded(seeded):
    bounty = Claim.objects.get(slug=BOUNTY)

    found = duplicates.likely_duplicates(bounty.statement)
    assert (found[0].claim.pk, found[0].matched, found[0].score) == (bounty.pk, "statement", 1.0)
    assert found[0].claim.speaker.name == bounty.speaker.name

    assert BOUNTY not in [
        m.claim.slug for m in duplicates.likely_duplicates(bounty.statement, exclude=[bounty])
    ]


def test_a_claim_worded_apart_is_found_through_its_quote(db):
    speaker = Speaker.objects.create(name="Ada Example", slug="ada")
    source = Source.objects.create(
        title="Port",
        slug="port",
        snapshot="She said the harbour moved twelve million tonnes of grain.",
    )
    claim = ClaimFactory(statement="Port volumes reached a record.", speaker=speaker)
    quote = Quote.objects.create(
        source=source,
        speaker=speaker,
        exact="the harbour moved twelve million tonnes of grain",
        start=9,
        end=57,
    )
    Appearance.objects.create(claim=claim, source=source, quote=quote)

    found = duplicates.likely_duplicates("The harbour moved twelve million tonnes of grain")

    assert [(m.claim.pk, m.matched) for m in found] == [(claim.pk, "quote")]
    assert "the harbour moved twelve million tonnes" in found[0].why


def test_the_check_is_one_query(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = duplicates.check("Washington put a $50 million bounty on Maduro")
    assert found.duplicates


def test_the_candidates_come_from_the_full_text_index(seeded):
    """A table of 22 claims is read whole, faster; with that way taken away, the
    statement's plan shows the GIN index on the search vectors (claims.duplicates
    says why not the trigram indexes: seconds at a million statements)."""
    statement = "Washington put a $50 million bounty on Maduro"
    params = {
        "text": statement,
        "config": "factcheck_english",
        "common": [],
        "held": [],
        "most": MOST_CLAIMS_PER_WORD,
        "rarest": duplicates.RAREST_WORDS,
        "share": duplicates.WORD_SHARE,
        "exclude": [],
        "candidates": duplicates.CANDIDATES,
        "min_shared": duplicates.MIN_SHARED_WORDS,
        "threshold": duplicates.THRESHOLD,
        "read_back": duplicates.READ_BACK,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + duplicates.MATCH_SQL, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert "Bitmap Index Scan on claim_search_idx" in plan, plan


# --- Through the admin ---------------------------------------------------------------


def _add_form(speaker: Speaker, statement: str, **extra) -> dict:
    return {
        "statement": statement,
        "slug": "washington-bounty",
        "speaker": speaker.pk,
        "kind": "numeric",
        "quantity": "50000000",
        "unit": "USD",
        "appearances-TOTAL_FORMS": "0",
        "appearances-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_near_duplicate_entered_in_the_admin_is_shown_before_it_is_saved(
    seeded, client_for, contributor
):
    speaker = Speaker.objects.get(slug="us-government")
    statement = "Washington put a $50 million bounty on Maduro"
    client = client_for(contributor)

    first = client.post(reverse("admin:claims_claim_add"), _add_form(speaker, statement))

    html = first.content.decode()
    assert first.status_code == 200
    assert not Claim.objects.filter(slug="washington-bounty").exists()
    bounty = Claim.objects.get(slug=BOUNTY)
    box = html[html.index('id="possible-duplicates"') :]
    assert "Possible duplicates" in box
    assert escape(bounty.statement) in box
    assert escape(bounty.speaker.name) in box
    assert "Not yet verified" in box  # its status
    change = reverse("admin:claims_claim_change", args=[bounty.pk])
    assert f'href="{change}#appearances-group"' in box
    assert 'name="confirm_new"' in box
    # What the editor typed comes back.
    assert f">\n{statement}</textarea>" in html
    assert 'value="washington-bounty"' in html

    second = client.post(
        reverse("admin:claims_claim_add"), _add_form(speaker, statement, confirm_new="on")
    )

    assert second.status_code == 302, second.content.decode()[:2000]
    assert Claim.objects.get(slug="washington-bounty").statement == statement


def test_a_new_claim_without_duplicates_is_saved_at_once(seeded, client_for, contributor):
    speaker = Speaker.objects.get(slug="us-government")
    statement = "The US offers $25 million for the arrest of Venezuelan President Nicolás Maduro."

    response = client_for(contributor).post(
        reverse("admin:claims_claim_add"),
        _add_form(speaker, statement, quantity="25000000", short_form="US offers $25M for Maduro"),
        follow=True,
    )

    assert Claim.objects.filter(slug="washington-bounty").exists()
    # Another figure is no duplicate; the desk is told it may be the claim in time.
    assert "the same words and other figures" in response.content.decode()


# --- Through a source's draft-a-claim page --------------------------------------------


def test_a_repeat_drafted_from_a_source_becomes_an_appearance_of_the_claim(
    seeded, client_for, editor
):
    source = Source.objects.create(
        title="Another outlet",
        slug="another-outlet",
        snapshot="Washington put a $50 million bounty on Maduro last week, officials said.",
    )
    speaker = Speaker.objects.get(slug="us-government")
    address = reverse("admin:sources_source_draft_claim", args=[source.pk])
    form = {
        "words": "Washington put a $50 million bounty on Maduro",
        "speaker": speaker.pk,
        "quote_kind": "reported",
        "statement": "",
        "short_form": "",
        "kind": "numeric",
    }
    client = client_for(editor)
    claims_before = Claim.objects.count()

    shown = client.post(address, form)

    assert Claim.objects.count() == claims_before
    bounty = Claim.objects.get(slug=BOUNTY)
    box = shown.content.decode()
    assert "Possible duplicates" in box
    assert f'name="appearance_for" value="{bounty.pk}"' in box

    chosen = client.post(address, {**form, "appearance_for": str(bounty.pk)})

    assert chosen.status_code == 302
    assert chosen["Location"] == reverse("admin:claims_claim_change", args=[bounty.pk])
    assert Claim.objects.count() == claims_before
    appearance = Appearance.objects.get(claim=bounty, source=source)
    assert appearance.quote.exact == form["words"]


# --- Through an import ---------------------------------------------------------------


def test_an_import_reports_the_likely_duplicates_of_what_it_creates(seeded):
    from claims.imports.load import load
    from claims.imports.records import ImportedReview, ParsedFile

    def review(n: int, text: str) -> ImportedReview:
        return ImportedReview(
            where=f"test, line {n}",
            claim_text=text,
            claimant="A blogger",
            review_url=f"https://checker.example/{n}",
            publisher_name="Checker",
            rating_text="False",
        )

    parsed = ParsedFile(
        reviews=[
            review(1, "Washington put a $50 million bounty on Maduro"),
            review(2, "Inflation in Mexico rose to 5 percent last year."),
        ]
    )
    before = Claim.objects.count()

    outcome = load(parsed, label="test", check_duplicates=10)

    # Created all the same (a draft the desk reads), and told.
    assert Claim.objects.count() == before + 2
    assert outcome.duplicates_checked == 2
    [(created, held, score)] = outcome.likely_duplicates
    assert Claim.objects.get(slug=created).statement.startswith("Washington")
    assert (held, score >= duplicates.THRESHOLD) == (BOUNTY, True)
    assert load(parsed, label="again", check_duplicates=10).duplicates_checked == 0
