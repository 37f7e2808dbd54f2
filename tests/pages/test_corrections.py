"""Readers see corrections: on the claim's page, in the corrections log, in the feed, in
ClaimReview, and in the corrections policy."""

from __future__ import annotations

import html as html_module
import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.http import parse_http_date

from claims.ledger.checkpoints import sign_latest
from claims.models import Claim, CorrectionClass, Review
from claims.services import publish_claim, unpublish_claim
from tests.factories import ClaimFactory, CorrectionFactory, SpeakerFactory, VerdictFactory
from tests.pages.test_claim_pages import assert_accessible_structure, html, parse, section

BOUNTY = "us-50-million-bounty-on-maduro"
BOUNTY_STATEMENT = (
    "The United States offers a $50 million reward for the arrest of Venezuelan "
    "President Nicolás Maduro."
)
CLEARER = BOUNTY_STATEMENT.replace("Venezuelan President", "Venezuela’s President")
TYPO = "The port handled 12 million tonnes of cargo last year."
TYPO_BEFORE = "The port handeld 12 million tonnes of cargo last year."
XSS = "<script>alert(1)</script>"
ATOM = "{http://www.w3.org/2005/Atom}"
CORRECTIONS = "/corrections/"
POLICY = "/corrections/policy/"


# --- helpers -----------------------------------------------------------------


@pytest.fixture
def bounty(seeded):
    return Claim.objects.get(slug=BOUNTY)


def page(client, slug=BOUNTY):
    response = client.get(reverse("claims:detail", args=[slug]))
    assert response.status_code == 200
    return response


def claim_review_on(response) -> dict | None:
    scripts = parse(response).json_ld
    assert len(scripts) <= 1
    return json.loads(scripts[0]) if scripts else None


def feed_entries(client) -> list[dict]:
    response = client.get(reverse("claims:feed"))
    assert response.status_code == 200
    feed = ET.fromstring(response.content)
    return [
        {
            "title": entry.find(f"{ATOM}title").text,
            "link": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.find(f"{ATOM}summary").text,
            "categories": [c.get("term") for c in entry.findall(f"{ATOM}category")],
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def log_items(response) -> list[str]:
    """The items of the corrections log, in order, as HTML."""
    log = html(response).split('<ol class="change-log">', 1)[-1].split("</ol>\n", 1)[0]
    return log.split('<li class="change-item"')[1:]


def words(markup: str) -> str:
    """What a reader reads in a piece of HTML: its text, spaces collapsed."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def log_sequences(response) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="change-item" id="entry-(\d+)"', html(response))]


@pytest.fixture
def misspelt(db, editor, speaker):
    """A published claim whose statement has a typo."""
    return ClaimFactory(
        slug="port-cargo", statement=TYPO_BEFORE, speaker=speaker, published=True, editor=editor
    )


# --- a typo -------------------------------------------------------------------


def test_an_editors_typo_correction_keeps_the_verdict_and_shows_everywhere(
    client, editor, misspelt, settings
):
    settings.SITE_URL = "https://facts.example.org"
    slug = misspelt.slug
    rated = VerdictFactory(
        claim=misspelt,
        editor=editor,
        status="mostly_true",
        explanation="The port authority's figures agree.",
    )
    fixed = CorrectionFactory(
        claim=misspelt,
        editor=editor,
        correction_class=CorrectionClass.TYPO,
        reason="We misspelt *handled*; the claim is unchanged.",
        changes={"statement": TYPO},
    )

    response = page(client, slug)

    text = html(response)
    status = section(response, "verdict", "corrections")
    assert '<span class="verdict-meter-word">Mostly true</span>' in status  # the verdict stands
    assert "Corrected since this verdict" in status
    assert f'href="#correction-{fixed.sequence}"' in status
    assert "Verdict withdrawn" not in text
    corrections = section(response, "corrections", "appearances")
    assert f'id="correction-{fixed.sequence}"' in corrections
    assert "<strong>Typo</strong>" in corrections
    assert CorrectionClass.TYPO.description in corrections
    assert f"Statement: “{TYPO_BEFORE}” → “{TYPO}”" in words(corrections)
    assert "<del>handeld</del>" in corrections and "<ins>handled</ins>" in corrections
    assert "We misspelt <em>handled</em>; the claim is unchanged." in corrections
    assert fixed.created_at.strftime("%-d %B %Y") in corrections
    assert parse(response).headings[0] == (1, TYPO)
    assert_accessible_structure(response)

    log = client.get(CORRECTIONS)
    assert log.status_code == 200
    items = log_items(log)
    assert log_sequences(log) == [fixed.sequence, rated.sequence]
    assert "Typo correction" in items[0] and CorrectionClass.TYPO.description in items[0]
    assert f"Statement: “{TYPO_BEFORE}” → “{TYPO}”" in words(items[0])
    assert "We misspelt <em>handled</em>" in items[0]
    assert f'href="/claims/{slug}/#correction-{fixed.sequence}"' in items[0]
    assert "Not yet verified → Mostly true" in items[1]
    assert "The port authority's figures agree." in items[1]
    assert f'href="/claims/{slug}/#entry-{rated.sequence}"' in items[1]
    assert_accessible_structure(log)

    entries = feed_entries(client)
    assert entries[0]["title"] == f"Correction (typo): {TYPO}"
    assert (
        entries[0]["link"]
        == f"https://facts.example.org/claims/{slug}/#correction-{fixed.sequence}"
    )
    assert entries[0]["categories"] == ["Correction", "Typo"]
    assert f"Statement: “{TYPO_BEFORE}” → “{TYPO}”" in words(entries[0]["summary"])
    assert "We misspelt <em>handled</em>" in entries[0]["summary"]
    assert "withdrawn" not in entries[0]["summary"]
    # A feed entry never changes once published: the verdict's entry keeps the words it judged.
    assert entries[1]["title"] == f"Mostly true: {TYPO_BEFORE}"

    markup = claim_review_on(response)
    assert markup["claimReviewed"] == TYPO
    assert markup["reviewRating"]["alternateName"] == "Mostly true"
    assert markup["datePublished"] == rated.created_at.date().isoformat()
    assert markup["dateModified"] == fixed.created_at.isoformat()
    assert markup["correction"] == [
        {
            "@type": "CorrectionComment",
            "url": f"https://facts.example.org/claims/{slug}/#correction-{fixed.sequence}",
            "text": "We misspelt handled; the claim is unchanged.",
            "datePublished": fixed.created_at.isoformat(),
        }
    ]
    assert client.get(reverse("api:claim-claimreview", args=[slug])).json() == markup


def test_changes_read_as_words_speaker_by_name_figures_and_dates_formatted(
    client, seeded, editor, bounty
):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    treasury = SpeakerFactory(name="US Treasury Department", slug="us-treasury")
    fixed = CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.CLARIFICATION,
        reason="The notice came from the Treasury, on 7 August.",
        changes={
            "speaker": treasury,
            "claim_date": date(2025, 8, 7),
            "quantity": Decimal("25000000.5"),
        },
    )

    corrections = section(page(client), "corrections", "appearances")

    assert "<strong>Clarification</strong>" in corrections
    assert "Speaker:</span> United States Government → US Treasury Department" in corrections
    assert "Date said:</span> not given → 7 August 2025" in corrections
    assert "Quantity:</span> 50,000,000 USD → 25,000,000.50 USD" in corrections
    assert "Statement:" not in corrections  # only what changed
    assert fixed.changes["speaker"]["to"]["name"] == "US Treasury Department"


def test_the_claim_page_says_when_a_claim_has_no_correction(client, seeded):
    corrections = section(page(client), "corrections", "appearances")

    assert "This claim has not been corrected." in corrections
    assert f'href="{POLICY}"' in corrections


# --- a substantive correction ---------------------------------------------------


def test_a_substantive_correction_withdraws_the_claimreview_until_a_new_verdict(
    client, seeded, editor, bounty
):
    claimreview = reverse("api:claim-claimreview", args=[BOUNTY])
    first = VerdictFactory(
        claim=bounty, editor=editor, status="false", explanation="No such reward."
    )
    assert claim_review_on(page(client)) is not None
    assert client.get(claimreview).status_code == 200
    changed = BOUNTY_STATEMENT.replace("$50 million", "$25 million")

    withdrawn = CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.SUBSTANTIVE,
        reason="The figure we recorded was wrong: the notice says $25 million.",
        changes={
            "statement": changed,
            "short_form": "US offers $25 million reward for the arrest of Nicolás Maduro",
            "quantity": Decimal("25000000"),
        },
    )

    response = page(client)
    assert claim_review_on(response) is None
    assert "application/ld+json" not in html(response)
    assert client.get(claimreview).status_code == 410  # withdrawn, not merely absent
    status = section(response, "verdict", "corrections")
    assert "In review" in status
    assert "Verdict withdrawn." in status and "rated False until" in status
    assert f'href="#correction-{withdrawn.sequence}"' in status
    corrections = section(response, "corrections", "appearances")
    assert "<strong>Substantive</strong>" in corrections
    assert "Verdict withdrawn:</strong> False → In review" in corrections
    assert "Quantity:</span> 50,000,000 USD → 25,000,000 USD" in corrections
    log_item = log_items(client.get(CORRECTIONS))[0]
    assert "Substantive correction" in log_item and "False → In review" in log_item
    feed = feed_entries(client)[0]
    assert feed["title"] == f"Correction (substantive): {changed}"
    assert "The verdict was withdrawn" in feed["summary"]

    again = VerdictFactory(
        claim=bounty,
        editor=editor,
        status="misleading",
        explanation="The $25 million figure leaves out the raise.",
    )

    response = page(client)
    markup = claim_review_on(response)
    assert (
        markup["claimReviewed"] == "US offers $25 million reward for the arrest of Nicolás Maduro"
    )
    assert markup["itemReviewed"]["description"] == changed
    assert markup["reviewRating"]["alternateName"] == "Misleading"
    # A review of the new words, dated from the new verdict; the correction came before it.
    assert markup["datePublished"] == again.created_at.date().isoformat()
    assert markup["dateModified"] == again.created_at.isoformat()
    assert "correction" not in markup
    assert "Verdict withdrawn." not in section(response, "verdict", "corrections")
    assert client.get(claimreview).json() == markup
    assert first.sequence < withdrawn.sequence < again.sequence


# --- the corrections log ---------------------------------------------------------


def test_the_corrections_page_never_shows_a_drafts_correction_or_verdict_change(
    client, seeded, editor, speaker, bounty
):
    shown = VerdictFactory(claim=bounty, editor=editor, status="false")
    VerdictFactory(
        claim=bounty,
        editor=editor,
        status="false",
        explanation="Same verdict, new words: not a change.",
    )
    draft = ClaimFactory(
        slug="draft-rated", statement="A rated draft nobody may read.", speaker=speaker
    )
    VerdictFactory(claim=draft, editor=editor, status="true", explanation="A draft's verdict.")
    CorrectionFactory(
        claim=draft,
        editor=editor,
        correction_class=CorrectionClass.TYPO,
        reason="A draft's typo.",
        changes={"statement": "A rated draft."},
    )
    withdrawn = ClaimFactory(
        slug="withdrawn",
        statement="A withdrawn claim.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    VerdictFactory(claim=withdrawn, editor=editor, status="mixed", explanation="Mixed, once.")
    CorrectionFactory(
        claim=withdrawn,
        editor=editor,
        correction_class=CorrectionClass.TYPO,
        reason="Withdrawn typo.",
        changes={"statement": "Withdrawn."},
    )
    withdrawn.refresh_from_db()
    unpublish_claim(
        claim=withdrawn, editor=editor, expected_version=withdrawn.version, explanation="Gone."
    )

    response = client.get(CORRECTIONS)

    assert log_sequences(response) == [shown.sequence]
    text = html(response)
    for hidden in ("/claims/draft-rated/", "rated draft", "A draft&#x27;s", "/claims/withdrawn/"):
        assert hidden not in text, hidden
    for hidden in ("A withdrawn claim", "Withdrawn typo", "Mixed, once"):
        assert hidden not in text, hidden
    titles = [entry["title"] for entry in feed_entries(client)]
    assert titles == [f"False: {BOUNTY_STATEMENT}"] * 2  # the feed has every verdict


def test_the_corrections_page_goes_back_fifty_at_a_time_with_before(client, db, editor, speaker):
    sequences = []
    for number in range(31):
        claim = ClaimFactory(
            slug=f"tide-{number}",
            statement=f"The tide turned {number} times.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
        sequences.append(VerdictFactory(claim=claim, editor=editor, status="false").sequence)
        sequences.append(
            CorrectionFactory(
                claim=claim,
                editor=editor,
                correction_class=CorrectionClass.TYPO,
                reason=f"Typo {number}.",
                changes={"statement": f"Tide {number}."},
            ).sequence
        )
    newest_first = sorted(sequences, reverse=True)

    first = client.get(CORRECTIONS)

    assert log_sequences(first) == newest_first[:50]
    older = re.search(r'<a rel="next" href="\?before=(\d+)">Older</a>', html(first))
    assert older and int(older.group(1)) == newest_first[49]
    second = client.get(CORRECTIONS, {"before": older.group(1)})
    assert second.status_code == 200
    assert log_sequences(second) == newest_first[50:]
    assert 'rel="next"' not in html(second)
    assert 'href="/corrections/">Newest</a>' in html(second)
    assert log_sequences(client.get(CORRECTIONS, {"before": "1"})) == []
    assert log_sequences(client.get(CORRECTIONS, {"before": ""})) == newest_first[:50]


@pytest.mark.parametrize(
    "before", ["abc", "-1", "1.5", "1e3", " 12x", "9" * 19, "99999999999999999999999999", "١٢"]
)
def test_a_before_that_is_not_a_sequence_is_a_404_never_an_error(client, db, before):
    response = client.get(CORRECTIONS, {"before": before})

    assert response.status_code == 404


def test_the_corrections_page_runs_the_same_queries_however_many_entries(
    client, db, editor, speaker, django_assert_num_queries
):
    # The conditional-GET stamp, then one page of entries with their claims and speakers.
    claim = ClaimFactory(
        slug="tide", statement="The tide turned.", speaker=speaker, published=True, editor=editor
    )
    VerdictFactory(claim=claim, editor=editor, status="false")
    # 1. the conditional-GET stamp, 2. the page of entries with claims and speakers
    with django_assert_num_queries(2):
        assert len(log_sequences(client.get(CORRECTIONS))) == 1

    for number in range(30):
        other = ClaimFactory(
            slug=f"tide-{number}",
            statement=f"Tide {number}.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
        VerdictFactory(claim=other, editor=editor, status="true" if number % 2 else "mixed")
        CorrectionFactory(
            claim=other,
            editor=editor,
            correction_class=CorrectionClass.TYPO,
            reason="Typo.",
            changes={"statement": f"Tides {number}."},
        )

    # The same 2 for 61 entries, and for the page before the 50 newest.
    with django_assert_num_queries(2):
        first = client.get(CORRECTIONS)
    assert len(log_sequences(first)) == 50
    with django_assert_num_queries(2):
        second = client.get(CORRECTIONS, {"before": log_sequences(first)[-1]})
    assert len(log_sequences(second)) == 11


def test_the_corrections_page_answers_conditional_gets(client, seeded, editor, bounty):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    response = client.get(CORRECTIONS)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    bounty.refresh_from_db()
    # The change stamp's time (claims.freshness): at or after the entry's.
    assert parse_http_date(last_modified) >= int(bounty.updated_at.timestamp())

    assert client.get(CORRECTIONS, headers={"if-none-match": etag}).status_code == 304
    assert client.get(CORRECTIONS, headers={"if-modified-since": last_modified}).status_code == 304

    CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.CLARIFICATION,
        reason="Clearer.",
        changes={"statement": CLEARER},
    )
    changed = client.get(CORRECTIONS, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert client.head(CORRECTIONS).status_code == 200
    assert client.post(CORRECTIONS).status_code == 405


# --- escaping --------------------------------------------------------------------


def test_a_reason_with_a_script_tag_is_escaped_everywhere(client, seeded, editor, bounty):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    statement = f"The United States offers {XSS} a $50 million reward."
    CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.TYPO,
        reason=f"Reworded. {XSS} <b onclick=x()>Sorry</b>",
        changes={"statement": statement},
    )

    claim_page = page(client)
    log = client.get(CORRECTIONS)
    feed = client.get(reverse("claims:feed"))
    api = client.get(reverse("api:claim-claimreview", args=[BOUNTY]))

    for response in (claim_page, log):
        text = html(response)
        assert XSS not in text and "onclick" not in text
        assert escaped in text  # the statement's own words, escaped
        assert "Reworded." in text and "<b>Sorry</b>" in text
    feed_xml = feed.content.decode()
    assert XSS not in feed_xml and "onclick" not in feed_xml
    summaries = [entry["summary"] for entry in feed_entries(client)]
    assert XSS not in summaries[0] and escaped in summaries[0]
    assert "alert(1)" not in json.dumps(claim_review_on(claim_page)["correction"])
    assert XSS not in re.search(
        r'<script type="application/ld\+json">(.*?)</script>', html(claim_page), re.DOTALL
    ).group(1)
    # Data, for JSON consumers: the corrected full wording beside the short form.
    assert api.json()["itemReviewed"]["description"] == statement


# --- the policy and the ways in ---------------------------------------------------


def test_the_policy_page_explains_the_classes_and_links_to_the_corrections(client, db, settings):
    settings.PUBLISHER_NAME = "Harbour Fact Desk"
    settings.PUBLISHER_URL = "https://harbour.example.org/contact"

    response = client.get(reverse("claims:corrections-policy"))

    assert response.status_code == 200
    assert response["ETag"]
    text = html(response)
    links = parse(response).links
    assert CORRECTIONS in links and reverse("claims:feed") in links
    assert "https://harbour.example.org/contact" in links and "Harbour Fact Desk" in text
    for correction_class in CorrectionClass:
        assert f"<dt>{correction_class.label}</dt>" in text
        assert correction_class.description in text
    assert reverse("claims:status", args=["false"]) in links
    assert reverse("api:ledger") in links
    assert "mailto:" not in text  # no invented address
    assert_accessible_structure(response)


def test_every_page_links_to_the_corrections_and_the_policy(client, seeded):
    for url in ("/", "/claims/", f"/claims/{BOUNTY}/", CORRECTIONS, POLICY):
        links = parse(client.get(url)).links
        assert CORRECTIONS in links and POLICY in links, url


# --- the claim page's ledger ------------------------------------------------------


def test_every_ledger_entry_on_the_claim_page_links_to_its_inclusion_proof(
    client, seeded, editor, bounty
):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    fixed = CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.CLARIFICATION,
        reason="Clearer.",
        changes={"statement": CLEARER},
    )
    sign_latest()

    history = section(page(client), "history")

    entries = list(Review.objects.filter(claim=bounty).order_by("-sequence"))
    assert len(entries) == 3  # published, rated, corrected
    proofs = re.findall(
        r'<a class="proof-link" href="([^"]+)">Proof this entry is in the signed ledger</a>',
        history,
    )
    assert proofs == [
        reverse("api:ledger-inclusion-proof", kwargs={"sequence": entry.sequence})
        for entry in entries
    ]
    proof = client.get(proofs[0])
    assert proof.status_code == 200 and proof.json()["entry_hash"] == fixed.entry_hash


def test_the_claim_page_keeps_its_ten_queries_with_corrections(
    client, seeded, editor, bounty, django_assert_num_queries
):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    for number in range(3):
        CorrectionFactory(
            claim=bounty,
            editor=editor,
            correction_class=CorrectionClass.TYPO,
            reason=f"Typo {number}.",
            changes={"statement": f"{BOUNTY_STATEMENT} ({number})"},
        )
    CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.SUBSTANTIVE,
        reason="Changed.",
        changes={"quantity": Decimal(1)},
    )
    VerdictFactory(claim=bounty, editor=editor, status="true")

    # 1. the conditional-GET stamp, 2. the claim with its speaker, 3. topics,
    # 4. appearances, 5. ledger entries (corrections among them) with editors, 6. their
    # evidence, 7. similar claims' candidates, scored, 8. the best few with speakers,
    # 9. other fact-checkers' reviews
    with django_assert_num_queries(10):
        response = page(client)
    assert html(response).count('class="proof-link"') == 7
    assert len(re.findall(r'<li id="correction-\d+">', html(response))) == 4


def test_a_correction_by_the_test_helper_shows_too(client, seeded, bounty):
    fixed = CorrectionFactory(
        claim=BOUNTY, correction_class=CorrectionClass.TYPO, changes={"statement": CLEARER}
    )

    assert f'id="correction-{fixed.sequence}"' in html(page(client))
    assert log_sequences(client.get(CORRECTIONS)) == [fixed.sequence]


def test_publishing_a_rated_draft_brings_its_changes_into_the_log(client, db, editor, speaker):
    claim = ClaimFactory(slug="late", statement="Published late.", speaker=speaker)
    rated = VerdictFactory(claim=claim, editor=editor, status="false")
    assert log_sequences(client.get(CORRECTIONS)) == []

    claim.refresh_from_db()
    publish_claim(claim=claim, editor=editor, expected_version=claim.version)

    assert log_sequences(client.get(CORRECTIONS)) == [rated.sequence]


@pytest.fixture
def clarified(bounty, editor):
    """The bounty claim judged mostly true, then its words clarified (CLEARER)."""
    VerdictFactory(
        claim=bounty,
        editor=editor,
        status="mostly_true",
        explanation="The State Department announced it.",
    )
    CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.CLARIFICATION,
        reason="Named the country.",
        changes={"statement": CLEARER},
    )


def test_the_log_shows_each_entry_with_the_words_it_judged(client, clarified):
    headings = [text for level, text in parse(client.get(CORRECTIONS)).headings if level == 2]

    # Newest first: the clarification set the new words; the verdict judged the old ones.
    assert headings == [CLEARER, BOUNTY_STATEMENT]


def test_a_feed_entry_keeps_the_words_it_judged_after_a_correction(client, clarified):
    feed = ET.fromstring(client.get(reverse("claims:feed")).content)
    titles = [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]

    assert titles[:2] == [
        f"Correction (clarification): {CLEARER}",
        f"Mostly true: {BOUNTY_STATEMENT}",
    ]
