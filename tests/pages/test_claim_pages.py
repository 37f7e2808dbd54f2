"""The reader pages of claims: home, list and search, a claim's page, topics, statuses."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils.http import parse_http_date

from claims import views
from claims.models import Appearance, Claim, Speaker, Topic
from claims.services import unpublish_claim
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    TopicFactory,
    VerdictFactory,
)
from tests.jsonld import SCHEMA, expand, values

BOUNTY = "us-50-million-bounty-on-maduro"
SEEDED_CLAIMS = 22
XSS = "<script>alert(1)</script>"


# --- helpers -----------------------------------------------------------------


class PageParser(HTMLParser):
    """What the tests read from a page: headings, form controls and their labels,
    links, JSON-LD scripts."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.links: list[str] = []
        self.json_ld: list[str] = []
        self._heading: int | None = None
        self._text: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._text = int(tag[1]), []
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
        }:
            self.controls.append(attrs)
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading}":
            self.headings.append((self._heading, " ".join("".join(self._text).split())))
            self._heading = None
        elif tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._heading is not None:
            self._text.append(data)
        if self._in_json_ld:
            self.json_ld[-1] += data


def parse(response) -> PageParser:
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


def html(response) -> str:
    return response.content.decode()


def claim_links(response) -> list[str]:
    """Slugs of the claims a list page links to, in order (statements only)."""
    return re.findall(r'<p class="statement"><a href="/claims/([^/"]+)/"', html(response))


def result_count(response) -> int:
    match = re.search(r'class="result-count">(\d+) claims?', html(response))
    assert match, "the page states how many claims it lists"
    return int(match.group(1))


def next_page(response) -> str:
    """The query string of the page's "Next page" link (a keyset cursor)."""
    match = re.search(r'<a rel="next" href="\?([^"]+)">Next page</a>', html(response))
    assert match, "the page links to the next one"
    return match.group(1).replace("&amp;", "&")


def section(response, start_id: str, end_id: str | None = None) -> str:
    text = html(response)
    start = text.index(f'id="{start_id}"')
    end = text.index(f'id="{end_id}"', start) if end_id else len(text)
    return text[start:end]


def assert_accessible_structure(response):
    """One h1, headings that never skip a level, a label for every control."""
    page = parse(response)
    levels = [level for level, _ in page.headings]
    assert levels.count(1) == 1 and levels[0] == 1, page.headings
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, page.headings
    for control in page.controls:
        assert control.get("id") in page.label_for, control


@pytest.fixture
def bounty(seeded):
    return Claim.objects.get(slug=BOUNTY)


# --- home --------------------------------------------------------------------


def test_home_shows_verdicts_claims_in_review_counts_and_ways_to_browse(
    client, seeded, editor, bounty
):
    VerdictFactory(claim=bounty, editor=editor, status="false")
    strike = Claim.objects.get(slug="september-2-strike-killed-11")
    VerdictFactory(claim=strike, editor=editor, status="in_review", explanation="")

    response = client.get(reverse("claims:home"))

    assert response.status_code == 200
    verdicts = section(response, "latest-verdicts", "now-in-review")
    assert bounty.statement in verdicts and strike.statement not in verdicts
    assert "False <small>(1 of 5)</small>" in verdicts
    in_review = section(response, "now-in-review", "by-status")
    assert strike.statement in in_review and bounty.statement not in in_review
    counts = section(response, "by-status", "browse")
    assert re.search(r'href="/status/unverified/">.*?</a> 20 claims', counts)
    assert re.search(r'href="/status/false/">.*?</a> 1 claim<', counts)
    assert re.search(r'href="/status/in_review/">.*?</a> 1 claim<', counts)
    assert re.search(r'href="/status/true/">.*?</a> 0 claims', counts)
    links = parse(response).links
    for name in ("claims:speaker_list", "claims:topic_list", "claims:list"):
        assert reverse(name) in links
    assert reverse("claims:topic", args=["venezuela"]) in links
    assert 'action="/claims/"' in html(response) and 'name="q"' in html(response)
    assert_accessible_structure(response)


def test_home_runs_the_same_queries_however_many_claims(
    client, seeded, editor, speaker, django_assert_num_queries
):
    # 1. the conditional-GET stamp, 2. the latest verdicts with speakers, 3. the claims
    # in review with speakers, 4. the counts by status, 5. the topics with claim counts
    with django_assert_num_queries(5):
        assert client.get("/").status_code == 200

    for number in range(12):
        claim = ClaimFactory(
            slug=f"more-{number}",
            statement=f"Statement number {number}.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
        VerdictFactory(claim=claim, editor=editor, status="true" if number % 2 else "misleading")
    for number in range(3):
        claim = ClaimFactory(
            slug=f"checking-{number}",
            statement=f"Being checked {number}.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
        VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")

    # The same 5 with 15 more claims.
    with django_assert_num_queries(5):
        response = client.get("/")
    assert (
        len(re.findall("claim-item", section(response, "latest-verdicts", "now-in-review"))) == 10
    )


# --- claims list ---------------------------------------------------------------


def test_the_list_shows_the_published_claims_twenty_a_page(client, seeded):
    response = client.get(reverse("claims:list"))

    assert response.status_code == 200
    assert result_count(response) == SEEDED_CLAIMS
    assert len(claim_links(response)) == 20
    second = client.get(reverse("claims:list") + "?" + next_page(response))
    assert len(claim_links(second)) == SEEDED_CLAIMS - 20
    assert 'rel="next"' not in html(second) and 'rel="first" href="?"' in html(second)
    assert set(claim_links(response)).isdisjoint(claim_links(second))
    assert_accessible_structure(response)


@pytest.mark.parametrize(
    "after",
    ["abc", "2025-13-01_1_1", "2025-01-01_999999999999999999_1", "2025-01-01_1_", "-1"],
)
def test_a_cursor_that_is_not_one_shows_the_first_page(client, seeded, after):
    first = client.get(reverse("claims:list"))
    response = client.get(reverse("claims:list"), {"after": after})

    assert response.status_code == 200
    assert claim_links(response) == claim_links(first)
    assert 'rel="first"' not in html(response)


def test_a_cursor_past_the_last_claim_shows_an_empty_page(client, seeded):
    response = client.get(reverse("claims:list"), {"after": "0001-01-01_0_0"})

    assert response.status_code == 200
    assert claim_links(response) == [] and 'rel="first"' in html(response)


def test_the_pages_walk_every_claim_once_in_order(client, seeded, editor, speaker):
    # Dated and undated claims, and claims on one day told apart by publication and id.
    for number in range(30):
        ClaimFactory(
            slug=f"walk-{number}",
            statement=f"Walk {number}.",
            speaker=speaker,
            claim_date=None if number % 3 == 0 else date(2025, 1, 1 + number % 4),
            published=True,
            editor=editor,
        )
    expected = list(
        Claim.objects.published()
        .order_by(F("claim_date").desc(nulls_last=True), F("published_at").desc(), F("pk").desc())
        .values_list("slug", flat=True)
    )
    seen: list[str] = []
    response = client.get(reverse("claims:list"))
    while True:
        seen += claim_links(response)
        if 'rel="next"' not in html(response):
            break
        response = client.get(reverse("claims:list") + "?" + next_page(response))

    assert seen == expected


def test_filters_combine_and_pagination_keeps_them(client, seeded, editor, speaker):
    ports = TopicFactory(name="Ports", slug="ports")
    for day in range(25):
        ClaimFactory(
            slug=f"port-claim-{day}",
            statement=f"The port handled a ship on day {day}.",
            speaker=speaker,
            claim_date=date(2025, 1, 1) + timedelta(days=day),
            topics=[ports],
            published=True,
            editor=editor,
        )
    # Same speaker, topic and dates, but another kind: filtered out by kind.
    ClaimFactory(
        slug="port-numeric",
        statement="The port handled 3 ships.",
        speaker=speaker,
        numeric=True,
        quantity=3,
        unit="{vessel}",
        claim_date=date(2025, 1, 10),
        topics=[ports],
        published=True,
        editor=editor,
    )
    params = {
        "status": "unverified",
        "speaker": "ada-example",
        "topic": "ports",
        "kind": "event",
        "from": "2025-01-03",
        "to": "2025-01-24",
    }

    response = client.get(reverse("claims:list"), params)

    assert result_count(response) == 22  # 3 to 24 January
    listed = claim_links(response)
    assert len(listed) == 20 and "port-numeric" not in listed
    assert {"port-claim-0", "port-claim-1", "port-claim-24"}.isdisjoint(listed)
    next_links = re.findall(r'<a rel="next" href="([^"]+)"', html(response))
    assert len(next_links) == 1
    query = parse_qs(urlsplit(next_links[0].replace("&amp;", "&")).query)
    after = query.pop("after")
    assert query == {k: [v] for k, v in params.items()} and len(after) == 1
    # The form shows the filters in force.
    assert '<option value="ports" selected>' in html(response)
    assert 'name="from" value="2025-01-03"' in html(response)

    second = client.get(reverse("claims:list"), {**params, "after": after[0]})
    assert len(claim_links(second)) == 2
    assert '<a rel="first" href="?' in html(second) and "speaker=ada-example" in html(second)


def test_the_source_filter_goes_through_appearances(client, seeded):
    source = "us-forces-deploy-to-southern-caribbean"
    expected = set(
        Claim.objects.published()
        .filter(appearances__source__slug=source, topics__slug="venezuela")
        .values_list("slug", flat=True)
    )
    assert 0 < len(expected) < SEEDED_CLAIMS

    response = client.get(reverse("claims:list"), {"source": source, "topic": "venezuela"})

    assert result_count(response) == len(expected)
    assert set(claim_links(response)) == expected


def test_bad_filter_values_are_ignored_with_a_note(client, seeded):
    response = client.get(
        reverse("claims:list"),
        {"status": "bogus", "from": "yesterday", "to": "2025-02-30", "speaker": "nobody"},
    )

    assert response.status_code == 200
    assert result_count(response) == SEEDED_CLAIMS
    text = html(response)
    assert "There is no status “bogus”" in text
    assert "“yesterday” is not a date" in text and "“2025-02-30” is not a date" in text
    assert "There is no speaker “nobody”" in text


def test_the_list_runs_the_same_queries_however_many_claims(
    client, seeded, editor, speaker, django_assert_num_queries
):
    # 1. the conditional-GET stamp, 2.-4. the filters' options (speakers, topics,
    # sources with published claims), 5. the count, 6. the page of claims with speakers
    with django_assert_num_queries(6):
        client.get(reverse("claims:list"))
    for number in range(30):
        ClaimFactory(
            slug=f"extra-{number}",
            statement=f"Extra claim {number}.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
    # The same 6 with 30 more claims, on the second page of a speaker's.
    first = client.get(reverse("claims:list"), {"speaker": "ada-example"})
    with django_assert_num_queries(6):
        response = client.get(reverse("claims:list") + "?" + next_page(first))
    assert len(claim_links(response)) == 10


# --- search ------------------------------------------------------------------


def test_search_ranks_the_bounty_claim_first_and_marks_the_word(client, seeded):
    response = client.get(reverse("claims:list"), {"q": "bounty"})

    assert response.status_code == 200
    listed = claim_links(response)
    assert listed[0] == BOUNTY
    first_item = html(response).split('<li class="claim-item">')[1]
    assert "<mark>bounty</mark>" in first_item
    # The words stay in the header search box.
    assert 'id="site-search-q" type="search" name="q" value="bounty"' in html(response)


def test_search_marks_the_matched_word_in_the_statement(client, seeded):
    response = client.get(reverse("claims:list"), {"q": "cocaine"})

    assert claim_links(response)
    first_item = html(response).split('<li class="claim-item">')[1]
    assert "<mark>cocaine</mark>" in first_item


def test_search_knows_phrases_and_excluded_words(client, db, editor, speaker):
    ClaimFactory(
        slug="a",
        statement="Fishing quotas were cut by half in the northern bay.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    ClaimFactory(
        slug="b",
        statement="The northern fishing fleet cut its quotas by half.",
        speaker=speaker,
        published=True,
        editor=editor,
    )

    def found(q):
        return set(claim_links(client.get(reverse("claims:list"), {"q": q})))

    assert found("fishing quotas") == {"a", "b"}
    assert found('"fishing quotas"') == {"a"}
    assert found("quotas -fleet") == {"a"}
    assert found("quotas OR nothingmatches") == {"a", "b"}


def test_search_runs_the_same_queries_however_many_matches(
    client, seeded, editor, speaker, django_assert_num_queries
):
    # 1. the conditional-GET stamp, 2.-4. the filters' options (speakers, topics,
    # sources), 5. the count of matches, 6. the ranked page of matches with speakers
    with django_assert_num_queries(6):
        client.get(reverse("claims:list"), {"q": "bounty"})
    for number in range(25):
        ClaimFactory(
            slug=f"bounty-{number}",
            statement=f"A bounty of {number} dollars.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
    # The same 6 for 26 matches, on their second page.
    with django_assert_num_queries(6):
        response = client.get(reverse("claims:list"), {"q": "bounty", "page": "2"})
    assert result_count(response) == 26


@pytest.mark.parametrize(
    "q", ["the", '"unclosed phrase', "-", "!!! &&& |", "a:b*", "'); DROP TABLE x; --", "x" * 500]
)
def test_odd_search_text_is_never_an_error(client, seeded, q):
    response = client.get(reverse("claims:list"), {"q": q})

    assert response.status_code == 200
    assert result_count(response) >= 0


# --- drafts --------------------------------------------------------------------


def test_a_draft_is_a_404_and_absent_from_lists_and_search(client, seeded, claim):
    ports = Topic.objects.get(slug="venezuela")
    claim.topics.add(ports)

    assert client.get(reverse("claims:detail", args=[claim.slug])).status_code == 404
    for url, params in [
        (reverse("claims:list"), {}),
        (reverse("claims:list"), {"q": "port tonnes"}),
        (reverse("claims:list"), {"speaker": "ada-example"}),
        (reverse("claims:topic", args=["venezuela"]), {}),
        (reverse("claims:status", args=["unverified"]), {}),
        (reverse("claims:home"), {}),
    ]:
        response = client.get(url, params)
        assert response.status_code == 200
        assert claim.slug not in html(response)
        assert claim.statement not in html(response)


def test_an_unpublished_claim_is_gone(client, seeded, editor, bounty):
    unpublish_claim(
        claim=bounty, editor=editor, expected_version=bounty.version, explanation="Duplicate."
    )

    # 410, saying when and why (tests/pages/test_reader_claim_page.py)
    assert client.get(reverse("claims:detail", args=[BOUNTY])).status_code == 410


# --- a claim's page ------------------------------------------------------------


def test_the_claim_page_shows_statement_speaker_status_quotes_and_history(
    client, seeded, editor, bounty
):
    filing = SourceFactory(report=True, slug="treasury-notice", title="Treasury reward notice")
    VerdictFactory(
        claim=bounty,
        editor=editor,
        status="false",
        explanation="The reward is **$25 million**. <script>alert(2)</script>",
        evidence=[filing],
    )
    correction = VerdictFactory(
        claim=bounty,
        editor=editor,
        status="mostly_true",
        explanation="Correction: the reward was *raised* to $50 million in August.",
        evidence=[filing],
    )

    response = client.get(reverse("claims:detail", args=[BOUNTY]))

    assert response.status_code == 200
    text = html(response)
    page = parse(response)
    assert page.headings[0] == (1, bounty.statement)
    assert (
        '<a href="/speakers/us-government/">United States Government</a>, Trump administration'
        in text
    )
    assert '<span class="verdict-meter-word">Mostly true</span>' in text
    assert "Accurate, but needs clarification or additional information." in text
    status_part = section(response, "verdict", "appearances")
    assert "Correction: the reward was <em>raised</em> to $50 million" in status_part
    assert '<a href="/sources/treasury-notice/">Treasury reward notice</a>' in status_part
    assert "alert(2)" not in text  # the sanitiser dropped the script
    # Every quote in context under What was said, marked, linked to the quote in its
    # source; every source under Where it appeared.
    said = section(response, "said", "found")
    appearances = section(response, "appearances", "history")
    for appearance in bounty.appearances.select_related("quote", "source"):
        quote = appearance.quote
        assert f'href="/sources/{appearance.source.slug}/#quote-{quote.pk}"' in said
        assert f'href="/sources/{appearance.source.slug}/#quote-{quote.pk}"' in appearances
        assert f"<mark>{quote.exact}</mark>" in said
        assert quote.prefix[-20:] in said and quote.suffix[:20] in said
    assert said.count("Reported: the source’s own words") == 2
    # The ledger, newest first: the correction, the first verdict, the publication.
    history = section(response, "history")
    positions = [
        history.index("False → Mostly true"),
        history.index("Not yet verified → False"),
        history.index("<strong>Published</strong>"),
    ]
    assert positions == sorted(positions)
    assert correction.entry_hash in history and "by ed," in history
    assert "The reward is <strong>$25 million</strong>" in history
    # Meta for sharing.
    assert '<meta property="og:type" content="article">' in text
    # Share titles are the short form (the statement when there is none).
    assert f'<meta name="twitter:title" content="{bounty.short_statement[:69]}' in text
    assert f"<title>{bounty.short_statement[:60]}" in text
    assert_accessible_structure(response)


def test_a_direct_quote_is_told_apart_from_a_reported_one(client, seeded):
    claim = Claim.objects.filter(appearances__quote__kind="direct").published().first()

    response = client.get(reverse("claims:detail", args=[claim.slug]))

    assert "Direct quote:" in section(response, "said", "found")


def test_quotes_in_context_are_escaped(client, db, editor, speaker):
    source = SourceFactory(
        slug="tagged",
        title="A page with <b>markup</b>",
        snapshot="Before <i>it</i> the minister said the tide <em>turned</em> at noon & after.",
    )
    claim = ClaimFactory(
        slug="tide",
        statement="The tide turned at noon.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    quote = QuoteFactory(source=source, speaker=speaker, words="the tide <em>turned</em> at noon")
    AppearanceFactory(claim=claim, quote=quote)

    text = html(client.get(reverse("claims:detail", args=["tide"])))

    assert "<em>turned</em>" not in text and "<i>it</i>" not in text
    assert "<mark>the tide &lt;em&gt;turned&lt;/em&gt; at noon</mark>" in text
    assert "A page with &lt;b&gt;markup&lt;/b&gt;" in text


def test_similar_claims_come_from_trigram_similarity(client, seeded, editor, bounty, speaker):
    ClaimFactory(
        slug="bounty-again",
        statement="The United States offers a $50 million reward for the capture of President Maduro.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    ClaimFactory(
        slug="bounty-draft",
        statement="The United States offers a $50 million reward for the arrest of Nicolás Maduro.",
        speaker=speaker,
    )

    similar = section(client.get(reverse("claims:detail", args=[BOUNTY])), "similar")

    assert "/claims/bounty-again/" in similar
    assert "/claims/bounty-draft/" not in similar  # a draft
    assert f"/claims/{BOUNTY}/" not in similar  # not itself


def test_the_claim_page_runs_the_same_queries_however_many_appearances_and_entries(
    client, seeded, editor, bounty, django_assert_num_queries
):
    VerdictFactory(
        claim=bounty,
        editor=editor,
        status="false",
        evidence=[SourceFactory(report=True, slug="e0")],
    )
    url = reverse("claims:detail", args=[BOUNTY])
    # 1. the conditional-GET stamp, 2. the claim with its speaker, 3. topics,
    # 4. appearances with sources and quotes, 5. ledger entries with editors, 6. their
    # evidence, 7. similar claims' candidates, scored, 8. the best few with speakers,
    # 9. other fact-checkers' reviews, 10. the claim in time (its superseded chain)
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200

    article = Source.objects.get(slug="trump-hints-at-strikes-on-cartels-in-venezuela")
    for words in ("guided missile destroyers", "ten F-35 stealth fighter jets", "Puerto Rico"):
        quote = QuoteFactory(source=article, speaker=bounty.speaker, words=words)
        AppearanceFactory(claim=bounty, quote=quote)
    AppearanceFactory(
        claim=bounty, source=SourceFactory(report=True, slug="no-quote", title="Another page")
    )
    for number in range(1, 5):
        VerdictFactory(
            claim=bounty,
            editor=editor,
            status="misleading" if number % 2 else "mixed",
            evidence=[
                SourceFactory(report=True, slug=f"e{number}a"),
                SourceFactory(report=True, slug=f"e{number}b"),
            ],
        )
    bounty.topics.add(*Topic.objects.all())
    assert bounty.appearances.count() == 6 and bounty.reviews.count() == 6

    # The same 9 with six appearances, six entries and all the topics.
    with django_assert_num_queries(10):
        response = client.get(url)
    assert html(response).count("#quote-") >= 5
    assert html(response).count('class="hash"') == 6


def test_the_claim_page_answers_conditional_gets(client, seeded, editor, bounty):
    url = reverse("claims:detail", args=[BOUNTY])
    response = client.get(url)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    bounty.refresh_from_db()
    # The change stamp's time: at or after the last change to what its page shows.
    shown = [bounty.updated_at, bounty.speaker.updated_at]
    for appearance in bounty.appearances.select_related("source"):
        shown += [appearance.created_at, appearance.source.updated_at]
    assert parse_http_date(last_modified) >= int(max(shown).timestamp())
    assert etag.startswith('"') and BOUNTY not in etag

    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200

    VerdictFactory(claim=bounty, editor=editor, status="false")
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_an_appearance_added_later_changes_the_etag(client, seeded, bounty):
    url = reverse("claims:detail", args=[BOUNTY])
    etag = client.get(url)["ETag"]

    AppearanceFactory(
        claim=bounty, source=SourceFactory(report=True, slug="later", title="Later page")
    )

    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


def test_a_draft_gets_no_304(client, seeded, claim):
    url = reverse("claims:detail", args=[claim.slug])
    assert client.get(url, headers={"if-none-match": "*"}).status_code == 404


# --- escaping ------------------------------------------------------------------


def test_a_statement_with_a_script_tag_is_escaped_everywhere(client, seeded, editor, speaker):
    ClaimFactory(
        slug="scripted",
        statement=f"Officials said {XSS} was harmless.",
        speaker=speaker,
        published=True,
        editor=editor,
    )
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"

    pages = [
        client.get(reverse("claims:detail", args=["scripted"])),
        client.get(reverse("claims:list")),
        client.get(reverse("claims:list"), {"q": "harmless"}),
        client.get(reverse("claims:status", args=["unverified"])),
    ]

    for response in pages:
        assert response.status_code == 200
        assert XSS not in html(response)
        assert escaped in html(response)
    search_item = html(pages[2]).split('<li class="claim-item">')[1]
    assert "<mark>harmless</mark>" in search_item and escaped in search_item


# --- ClaimReview JSON-LD -----------------------------------------------------------


def test_an_unverified_claim_has_no_claimreview(client, seeded):
    response = client.get(reverse("claims:detail", args=[BOUNTY]))

    assert response.status_code == 200
    assert "application/ld+json" not in html(response)


def test_a_verdict_is_published_as_claimreview(client, seeded, editor, bounty):
    VerdictFactory(
        claim=bounty, editor=editor, status="false", explanation="No such **reward** exists."
    )

    response = client.get(reverse("claims:detail", args=[BOUNTY]))

    scripts = parse(response).json_ld
    assert len(scripts) == 1
    expanded = expand(json.loads(scripts[0]))
    assert len(expanded) == 1
    review = expanded[0]
    assert review["@type"] == [SCHEMA + "ClaimReview"]
    assert values(review, "claimReviewed") == [bounty.short_form]  # the 75-character form
    # SITE_URL unset: the address of the server answering (claims.claimreview.site_root).
    # schema.org's context types `url` as a link ("@type": "@id"): an IRI, not text.
    page = "http://testserver" + reverse("claims:detail", args=[BOUNTY])
    assert review[SCHEMA + "url"] == [{"@id": page}]
    rating = review[SCHEMA + "reviewRating"][0]
    assert values(rating, "alternateName") == ["False"]
    assert values(rating, "ratingValue") == [1]
    assert values(rating, "bestRating") == [5]
    assert values(rating, "worstRating") == [1]
    assert values(rating, "ratingExplanation") == ["No such reward exists."]
    item = review[SCHEMA + "itemReviewed"][0]
    assert item["@type"] == [SCHEMA + "Claim"]
    assert values(item[SCHEMA + "author"][0], "name") == [bounty.speaker.name]
    sources = {a.source_id for a in Appearance.objects.filter(claim=bounty)}
    assert len(sources) == 2
    assert len(item[SCHEMA + "appearance"]) == len(sources)
    author = review[SCHEMA + "author"][0]
    assert author["@type"] == [SCHEMA + "Organization"]
    assert values(author, "name") == [settings.PUBLISHER_NAME]


def test_claimreview_cannot_break_out_of_its_script_element(client, db, editor, speaker):
    statement = 'It ends here </script><script>alert("x")</script> & <!-- there.'
    claim = ClaimFactory(
        slug="breakout", statement=statement, speaker=speaker, published=True, editor=editor
    )
    VerdictFactory(claim=claim, editor=editor, status="false", explanation="</script><b>bold</b>")

    response = client.get(reverse("claims:detail", args=["breakout"]))

    text = html(response)
    assert '</script><script>alert("x")' not in text
    assert text.count('<script type="application/ld+json">') == 1
    payload = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', text, flags=re.DOTALL
    ).group(1)
    assert "<" not in payload and ">" not in payload and "&" not in payload
    data = json.loads(payload)
    assert data["claimReviewed"] == statement
    assert data["@type"] == "ClaimReview"


# --- topics and statuses --------------------------------------------------------------


def test_topics_list_and_topic_page(client, seeded, claim):
    venezuela = Topic.objects.get(slug="venezuela")
    expected = set(venezuela.claims.published().values_list("slug", flat=True))

    topics = client.get(reverse("claims:topic_list"))
    topic = client.get(reverse("claims:topic", args=["venezuela"]))

    assert topics.status_code == 200
    assert re.search(
        rf'href="/topics/venezuela/">Venezuela</a> <span class="muted">{len(expected)} claims',
        html(topics),
    )
    assert topic.status_code == 200
    assert parse(topic).headings[0] == (1, "Venezuela")
    assert result_count(topic) == len(expected)
    assert set(claim_links(topic)) == expected
    assert_accessible_structure(topics)
    assert_accessible_structure(topic)
    assert client.get(reverse("claims:topic", args=["atlantis"])).status_code == 404


def test_the_topic_page_is_paginated(client, db, editor, speaker):
    topic = TopicFactory(name="Tides", slug="tides")
    for number in range(23):
        ClaimFactory(
            slug=f"tide-{number}",
            statement=f"Tide {number}.",
            speaker=speaker,
            topics=[topic],
            published=True,
            editor=editor,
        )

    first = client.get(reverse("claims:topic", args=["tides"]))
    second = client.get(reverse("claims:topic", args=["tides"]) + "?" + next_page(first))

    assert len(claim_links(first)) == 20 and len(claim_links(second)) == 3
    assert set(claim_links(first)).isdisjoint(claim_links(second))


def test_status_pages(client, seeded, editor, bounty):
    VerdictFactory(claim=bounty, editor=editor, status="false")

    false = client.get(reverse("claims:status", args=["false"]))
    unverified = client.get(reverse("claims:status", args=["unverified"]))

    assert false.status_code == 200
    assert claim_links(false) == [BOUNTY]
    assert "False <small>(1 of 5)</small>" in html(false) and "Inaccurate." in html(false)
    assert result_count(unverified) == SEEDED_CLAIMS - 1
    assert BOUNTY not in claim_links(unverified)
    assert_accessible_structure(false)
    assert client.get(reverse("claims:status", args=["bogus"])).status_code == 404


# --- conditional GET on the lists ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/claims/", "/claims/?status=unverified", "/topics/", "/topics/venezuela/"],
)
def test_list_pages_answer_conditional_gets(client, seeded, editor, speaker, url):
    response = client.get(url)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    # The latest change to a published claim or to the speaker of one.
    published = Claim.objects.published()
    newest = max(
        *published.values_list("updated_at", flat=True),
        *Speaker.objects.filter(claims__in=published).values_list("updated_at", flat=True),
    )
    assert parse_http_date(last_modified) >= int(newest.timestamp())

    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304

    ClaimFactory(
        slug="new-one", statement="A new claim.", speaker=speaker, published=True, editor=editor
    )
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_review_changes_the_lists_etag(client, seeded, editor, bounty):
    etag = client.get(reverse("claims:list"))["ETag"]

    VerdictFactory(claim=bounty, editor=editor, status="false")

    assert client.get(reverse("claims:list"), headers={"if-none-match": etag}).status_code == 200


def test_the_pages_answer_head_and_refuse_post(client, seeded):
    assert client.head(reverse("claims:list")).status_code == 200
    assert client.post(reverse("claims:list")).status_code == 405


def test_the_speaker_menu_lists_the_most_quoted_and_the_chosen_one(client, db, editor, monkeypatch):
    monkeypatch.setattr(views, "FILTER_MENU_SIZE", 2)
    speakers = [SpeakerFactory(name=f"Speaker {n}", slug=f"speaker-{n}") for n in (3, 2, 1)]
    for speaker, count in zip(speakers, (3, 2, 1), strict=True):
        for i in range(count):
            ClaimFactory(slug=f"{speaker.slug}-{i}", speaker=speaker, published=True, editor=editor)

    def menu(response) -> list[str]:
        select = re.search(r'<select id="filter-speaker".*?</select>', html(response), re.S)[0]
        return re.findall(r'<option value="([^"]+)"', select)

    assert sorted(menu(client.get("/claims/"))) == ["speaker-2", "speaker-3"]
    chosen = client.get("/claims/?speaker=speaker-1")
    assert sorted(menu(chosen)) == ["speaker-1", "speaker-2", "speaker-3"]
    assert claim_links(chosen) == ["speaker-1-0"]
    # Any other speaker by typing a name, without the menu.
    typed = client.get("/claims/?speaker_q=Speaker+1")
    assert claim_links(typed) == ["speaker-1-0"]
