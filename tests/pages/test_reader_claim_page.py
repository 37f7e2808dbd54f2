"""The reader's claim page as fact-checkers lay it out (the verdict first, then what was
said, what we found, our ruling, corrections, where it appeared, the history), a
withdrawn claim's 410, and the small reader fixes around it (list dates, one search
box, collapsed filters, the favicon)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from claims.models import Claim, Quote
from claims.services import publish_claim, unpublish_claim
from claims.templatetags.reader import cut_at_words, quote_in_context
from sources.anchoring import CONTEXT_CHARS
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    EditorFactory,
    QuoteFactory,
    SourceFactory,
    VerdictFactory,
)

BOUNTY = "us-50-million-bounty-on-maduro"
FINDING = "The reward is for information leading to an arrest, not a bounty."


def html(response) -> str:
    return response.content.decode()


def page_url(slug: str = BOUNTY) -> str:
    return reverse("claims:detail", args=[slug])


@pytest.fixture
def bounty(seeded):
    return Claim.objects.get(slug=BOUNTY)


@pytest.fixture
def rated(bounty, editor):
    """The bounty claim put in review, then rated Misleading with an explanation."""
    VerdictFactory(claim=bounty, editor=editor, status="in_review", explanation="")
    VerdictFactory(
        claim=bounty,
        editor=editor,
        status="misleading",
        explanation=f"{FINDING} See **the notice**.",
        evidence=[SourceFactory(report=True, slug="reward-notice", title="Reward notice")],
    )
    bounty.refresh_from_db()
    return bounty


def meter_names(response) -> list[str]:
    """Each <svg role="img">'s accessible name: the text of the element its
    aria-labelledby names first (its <title>), as assistive technology reads it."""
    text = html(response)
    names = []
    for labelled_by in re.findall(r'<svg[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', text):
        first = labelled_by.split()[0]
        title = re.search(rf'<title id="{re.escape(first)}">(.*?)</title>', text, re.S)
        names.append(" ".join(title.group(1).split()) if title else "")
    return names


def meta_content(response, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', html(response))
    assert match, f"the page has <meta {attribute}={name!r}>"
    return match.group(1)


# --- cutting context at word boundaries (unit) ---------------------------------


@pytest.mark.parametrize(
    ("text", "at", "whole", "expected"),
    [
        # Cut through a word: that word is left out, an ellipsis stands for it.
        ("ican drug cartels, with ", "start", False, ("drug cartels, with ", True)),
        (
            ", accusing him of direct ties to drug tr",
            "end",
            False,
            (", accusing him of direct ties to drug", True),
        ),
        # Cut just at a space: every word is whole, but the text goes on.
        (" the minister said ", "start", False, ("the minister said ", True)),
        (" last year and ", "end", False, (" last year and", True)),
        # The document's own edge: nothing was cut, nothing left out.
        ("The minister said ", "start", True, ("The minister said ", False)),
        (" last year.", "end", True, (" last year.", False)),
        # A paragraph break ends the context, and nothing is missing up to it.
        ("end of one.\nThe next one says ", "start", False, ("The next one says ", False)),
        (" at noon.\nAnother paragraph", "end", False, (" at noon.", False)),
        # One piece of a word only: nothing whole to show.
        ("rmation", "start", False, ("", True)),
        ("informat", "end", False, ("", True)),
        ("", "start", False, ("", False)),
        ("", "end", False, ("", False)),
    ],
)
def test_context_is_cut_at_word_boundaries(text, at, whole, expected):
    assert cut_at_words(text, at=at, whole=whole) == expected


def test_a_quote_in_context_shows_whole_words_marked_and_escaped():
    quote = Quote(
        prefix="ican drug cartels, with <b>Washington</b> also ",
        exact="offering a $50 million bounty",
        suffix=" for the arrest of Maduro, accusing him of drug tr",
        start=500,
        end=529,
    )
    assert len(quote.suffix) == CONTEXT_CHARS + 10  # as long as the anchor keeps

    rendered = str(quote_in_context(quote))

    assert rendered == (
        "…drug cartels, with &lt;b&gt;Washington&lt;/b&gt; also "
        "<mark>offering a $50 million bounty</mark>"
        " for the arrest of Maduro, accusing him of drug…"
    )


def test_a_quote_at_the_start_and_end_of_its_source_has_no_ellipsis():
    quote = Quote(prefix="The minister ", exact="said so", suffix=" today.", start=13, end=20)

    assert str(quote_in_context(quote)) == "The minister <mark>said so</mark> today."


def test_the_page_cuts_quotes_in_context_at_word_boundaries(client, db, editor, speaker):
    source = SourceFactory(
        slug="cartels",
        snapshot=(
            "Officials in the capital described the Mexican drug cartels as a threat, "
            "and the minister said the port handled record cargo while critics pointed "
            "to drug trafficking routes along the coast for many years."
        ),
    )
    claim = ClaimFactory(slug="cargo", speaker=speaker, published=True, editor=editor)
    quote = QuoteFactory(source=source, speaker=speaker, words="the port handled record cargo")
    AppearanceFactory(claim=claim, quote=quote)
    # The anchor's context begins and ends inside words ("car|tels", "traffick|ing").
    assert quote.prefix.startswith("tels ") and quote.suffix.endswith(" trafficki")

    text = html(client.get(page_url("cargo")))

    assert "…as a threat, and the minister said <mark>" in text
    assert "</mark> while critics pointed to drug…" in text
    assert "tels as" not in text and "trafficki" not in text


# --- the claim page's layout ------------------------------------------------------------


def test_the_sections_come_in_the_fact_checkers_order(client, rated):
    text = html(client.get(page_url()))

    order = [
        'class="verdict-meter"',
        'id="said"',
        'id="found"',
        'id="ruling"',
        'id="corrections"',
        'id="appearances"',
        'id="history"',
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    # The verdict comes right after the claim, before anything else the page says.
    assert text.index("<h1") < positions[0] < text.index("What was said")


def test_the_explanation_is_rendered_once_under_what_we_found(client, rated):
    text = html(client.get(page_url()))
    # (The ClaimReview markup in the head carries it too, for machines.)
    main = text[text.index("<main") : text.index("</main>")]

    assert main.count(FINDING) == 1
    found = text[text.index('id="found"') : text.index('id="ruling"')]
    assert FINDING in found and "<strong>the notice</strong>" in found
    # The history points to it instead of repeating it.
    history = text[text.index('id="history"') :]
    assert 'href="#found"' in history


def test_our_ruling_states_the_rating_in_a_sentence_with_the_evidence(client, rated):
    text = html(client.get(page_url()))

    ruling = text[text.index('id="ruling"') : text.index('id="corrections"')]
    assert (
        "We rate this claim <strong>Misleading</strong>, 2 on our scale from False (1) to True (5)."
        in ruling
    )
    assert '<a href="/sources/reward-notice/">Reward notice</a>' in ruling


def test_what_was_said_links_the_original_article_and_the_archived_copy(
    client, db, editor, speaker
):
    source = SourceFactory(
        slug="with-url",
        title="An article online",
        url="https://news.example.org/story?a=1&b=2",
        outlet="Example News",
        published_on=date(2025, 8, 8),
        snapshot="The minister said the port handled record cargo last year.",
    )
    claim = ClaimFactory(
        slug="cargo-2", speaker=speaker, claim_date=date(2025, 8, 7), published=True, editor=editor
    )
    quote = QuoteFactory(source=source, speaker=speaker, words="the port handled record cargo")
    AppearanceFactory(claim=claim, quote=quote)

    text = html(client.get(page_url("cargo-2")))

    said = text[text.index('id="said"') : text.index('id="found"')]
    assert 'href="https://news.example.org/story?a=1&amp;b=2"' in said
    assert f'href="/sources/with-url/#quote-{quote.pk}"' in said
    assert "Example News" in said and "8 August 2025" in said
    assert "<mark>the port handled record cargo</mark>" in said
    assert "Ada Example" in said
    # Who and when, at the top.
    assert 'Said on <time datetime="2025-08-07">7 August 2025</time>' in text


def test_the_meter_is_named_in_words(client, rated):
    response = client.get(page_url())

    assert meter_names(response) == ["Rated Misleading: 2 on a scale from False (1) to True (5)"]
    text = html(response)
    meter = text[text.index('class="verdict-meter"') : text.index('id="said"')]
    assert '<span class="verdict-meter-word">Misleading</span>' in meter
    assert meter.count("verdict-meter-pointer") == 1 and "is-rated" in meter


@pytest.mark.parametrize(
    ("status", "name"),
    [
        ("unsupported", "Rated Unsupported: a finding off the scale from False (1) to True (5)"),
        ("in_review", "Not rated yet: In review"),
    ],
)
def test_a_rating_off_the_scale_gets_no_position(client, bounty, editor, status, name):
    VerdictFactory(claim=bounty, editor=editor, status=status)

    response = client.get(page_url())

    assert meter_names(response) == [name]
    text = html(response)
    meter = text[text.index('class="verdict-meter"') : text.index('id="said"')]
    assert "verdict-meter-pointer" not in meter and "is-rated" not in meter
    assert "Off this scale" in meter if status == "unsupported" else "Not rated yet" in meter


def test_the_byline_names_the_fact_checker_and_the_dates(client, bounty):
    checker = EditorFactory(username="lin", first_name="Lin", last_name="Moreau")
    VerdictFactory(claim=bounty, editor=checker, status="false")
    bounty.refresh_from_db()

    text = html(client.get(page_url()))

    byline = re.search(r'<p class="meta claim-byline">(.*?)</p>', text, re.S).group(1)
    assert 'Fact-check by <span class="byline-name">Lin Moreau</span>' in byline
    assert f'datetime="{bounty.published_at.isoformat()}"' in byline
    assert "Last reviewed" in byline
    assert "by Lin Moreau," in text[text.index('id="history"') :]


def test_the_byline_falls_back_to_the_username(client, bounty, editor):
    VerdictFactory(claim=bounty, editor=editor, status="false")

    text = html(client.get(page_url()))

    assert 'Fact-check by <span class="byline-name">ed</span>' in text


def test_history_entries_are_numbered_within_the_claim(client, rated):
    entries = list(rated.reviews.order_by("sequence"))
    # The seeds wrote other claims' entries in between: the ledger's own numbers skip.
    assert len(entries) == 3 and [e.sequence for e in entries] != [1, 2, 3]

    text = html(client.get(page_url()))

    history = text[text.index('id="history"') :]
    numbers = [int(n) for n in re.findall(r"Entry (\d+) of this claim’s record", history)]
    assert numbers == [3, 2, 1]  # newest first
    for entry in entries:
        assert f'id="entry-{entry.sequence}"' in history


def test_hashes_and_proofs_are_only_inside_the_verify_disclosure(client, rated):
    text = html(client.get(page_url()))

    disclosures = re.findall(
        r'<details class="verify-record">\s*<summary>Verify this record</summary>(.*?)</details>',
        text,
        re.S,
    )
    outside = re.sub(r'<details class="verify-record">.*?</details>', "", text, flags=re.S)
    entries = list(rated.reviews.all())
    assert len(disclosures) == len(entries)
    for entry in entries:
        assert sum(entry.entry_hash in block for block in disclosures) == 1
        assert entry.entry_hash not in outside
    history = outside[outside.index('id="history"') :]
    history = history[: history.index("</section>")]
    assert "proof-link" not in outside and "/api/v1/ledger/" not in history


def test_descriptions_never_quote_the_editors_wording_as_the_speakers(client, rated):
    response = client.get(page_url())
    statement = rated.statement

    for attribute, name in (
        ("name", "description"),
        ("property", "og:description"),
        ("name", "twitter:description"),
    ):
        content = meta_content(response, attribute, name)
        assert content.startswith(f"Claim by {rated.speaker.name}: {statement[:60]}"), content
        assert not re.search(r"[“\"«‘']\s*" + re.escape(statement[:30]), content), content
        assert content.endswith("Our rating: Misleading (2 of 5 on our scale from False to True).")


def test_an_unrated_claims_description_says_it_is_not_rated(client, bounty):
    content = meta_content(client.get(page_url()), "name", "description")

    assert content.endswith("Not rated yet: not yet verified.")
    assert "“" not in content


def test_the_claim_page_runs_ten_queries_however_long_its_record(
    client, rated, editor, django_assert_num_queries
):
    # 1. the conditional-GET stamp, 2. the claim with its speaker, 3. topics,
    # 4. appearances with sources and quotes, 5. ledger entries with editors, 6. their
    # evidence, 7. similar claims' candidates, 8. the best few, 9. other fact-checkers',
    # 10. the claim in time (its superseded chain)
    with django_assert_num_queries(10):
        client.get(page_url())
    for status in ("false", "mixed", "true", "misleading"):
        VerdictFactory(claim=rated, editor=EditorFactory(first_name="Named"), status=status)

    with django_assert_num_queries(10):
        response = client.get(page_url())
    assert len(re.findall(r"Entry \d+ of this claim’s record", html(response))) == 7


# --- a withdrawn claim ----------------------------------------------------------------


def withdraw(claim: Claim, editor, why: str = "It **duplicated** another claim.") -> None:
    claim.refresh_from_db()
    unpublish_claim(claim=claim, editor=editor, expected_version=claim.version, explanation=why)


def test_a_withdrawn_claim_is_gone_saying_when_and_why(client, bounty, editor):
    withdraw(bounty, editor, "It **duplicated** another claim. <script>alert(1)</script>")
    entry = bounty.reviews.order_by("-sequence").first()

    response = client.get(page_url())

    assert response.status_code == 410
    text = html(response)
    assert "This fact-check was withdrawn" in text
    assert f'datetime="{entry.created_at.isoformat()}"' in text
    assert "It <strong>duplicated</strong> another claim." in text
    assert "<script>alert(1)" not in text
    # A styled page of the site, not a bare status, and not the claim's own page.
    assert 'class="site-header"' in text and bounty.statement not in text
    assert '<meta name="robots" content="noindex">' in text


def test_a_claim_never_published_is_still_a_404(client, claim):
    assert client.get(page_url(claim.slug)).status_code == 404
    assert client.get(page_url("no-such-claim")).status_code == 404


def test_a_withdrawn_claim_published_again_is_back(client, bounty, editor):
    withdraw(bounty, editor)
    assert client.get(page_url()).status_code == 410

    bounty.refresh_from_db()
    publish_claim(claim=bounty, editor=editor, expected_version=bounty.version)

    response = client.get(page_url())
    assert response.status_code == 200
    assert bounty.statement in html(response)
    # Its record keeps the withdrawal, and numbers it among its entries.
    assert "<strong>Unpublished</strong>" in html(response)


def test_a_withdrawn_claim_is_never_answered_not_modified(client, bounty, editor):
    response = client.get(page_url())
    etag, last_modified = response["ETag"], response["Last-Modified"]
    withdraw(bounty, editor)

    for headers in (
        {"if-none-match": etag},
        {"if-none-match": "*"},
        {"if-modified-since": last_modified},
    ):
        assert client.get(page_url(), headers=headers).status_code == 410, headers


def test_the_gone_and_missing_answers_run_three_queries(
    client, bounty, claim, editor, django_assert_num_queries
):
    withdraw(bounty, editor)
    # 1. the conditional-GET stamp (none: not published), 2. the published claim (none),
    # 3. its latest withdrawal
    with django_assert_num_queries(3):
        assert client.get(page_url()).status_code == 410
    with django_assert_num_queries(3):
        assert client.get(page_url(claim.slug)).status_code == 404


# --- lists, home, favicon -----------------------------------------------------------


def test_list_items_say_when_the_claim_was_said(client, db, editor, speaker):
    ClaimFactory(
        slug="dated",
        statement="Dated claim.",
        speaker=speaker,
        claim_date=date(2025, 9, 2),
        published=True,
        editor=editor,
    )
    ClaimFactory(slug="undated", statement="Undated claim.", speaker=speaker, published=True)

    text = html(client.get(reverse("claims:list")))

    items = dict(
        re.findall(r'href="/claims/([^/]+)/".*?<span class="claim-said">(.*?)</span>', text, re.S)
    )
    assert items["dated"] == 'said <time datetime="2025-09-02">2 September 2025</time>'
    assert items["undated"] == "date not given"


def test_home_has_one_search_box(client, seeded):
    text = html(client.get(reverse("claims:home")))

    assert text.count('role="search"') == 1
    assert text.count('type="search"') == 1


@pytest.mark.parametrize(
    ("params", "opened"),
    [
        ({}, False),
        ({"q": "bounty"}, False),
        ({"status": "false"}, True),
        ({"topic": "venezuela", "from": "2025-01-01"}, True),
    ],
)
def test_the_list_filters_are_collapsed_unless_one_is_in_force(client, seeded, params, opened):
    text = html(client.get(reverse("claims:list"), params))

    details = re.search(r'<details class="filters-disclosure"( open)?>\s*<summary>Filters', text)
    assert details, "the filters are behind a disclosure"
    assert bool(details.group(1)) is opened
    assert text.index("filters-disclosure") < text.index('<form class="filters"')


def test_the_favicon_is_answered(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
    page = html(client.get(reverse("claims:home")))
    assert f'<link rel="icon" href="{response["Location"]}" type="image/svg+xml">' in page
