"""Reader pages for speakers and sources, the verdict feed, the sitemap, robots.txt and errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from django.urls import path, reverse
from django.utils.html import escape

from claims.models import Claim, Quote, Review, Speaker
from claims.services import unpublish_claim
from factcheck import site_views
from sources.models import Source
from sources.views import render_snapshot
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    VerdictFactory,
)

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SVG = "{http://www.w3.org/2000/svg}"
SITE = "https://facts.example.org"

SEEDED_SOURCES = [
    "trump-hints-at-strikes-on-cartels-in-venezuela",
    "us-forces-deploy-to-southern-caribbean",
]


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = SITE + "/"
    return SITE


def scorecard_svg(html: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline SVG"
    return ET.fromstring(match.group(0))


def scorecard_table(html: str) -> dict[str, str]:
    match = re.search(r'<table class="scorecard-table">.*?</table>', html, re.S)
    assert match, "no scorecard table"
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', match.group(0))
    return dict(rows)


def numbered_snapshot(sentences: int) -> str:
    return "\n".join(f"Sentence {i} says number {i} out loud." for i in range(sentences))


# Speakers


def test_speaker_list_shows_speakers_with_published_claim_counts(client, seeded, editor):
    bondi = Speaker.objects.get(slug="pam-bondi")
    ClaimFactory(slug="secret-draft", speaker=bondi)
    published = Claim.objects.published().filter(speaker=bondi).count()

    response = client.get(reverse("claims:speaker_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="speaker-name"') == Speaker.objects.count() == 11
    assert reverse("claims:speaker", kwargs={"slug": "marco-rubio"}) in html
    bondi_item = re.search(r'href="/speakers/pam-bondi/".*?</li>', html, re.S).group(0)
    assert f"{published} published claims" in bondi_item  # the draft is not counted
    assert published == 3


def test_speaker_list_runs_two_queries(client, seeded, django_assert_num_queries):
    # 1. the conditional-GET stamp, 2. a page of speakers with their published claim counts
    with django_assert_num_queries(2):
        response = client.get(reverse("claims:speaker_list"))
    assert response.status_code == 200


def test_rubio_page_shows_profile_quote_and_scorecard(client, seeded):
    rubio = Speaker.objects.get(slug="marco-rubio")
    quote = Quote.objects.get(speaker=rubio, exact__startswith="What will stop them")
    claims = Claim.objects.published().filter(speaker=rubio)

    response = client.get(reverse("claims:speaker", kwargs={"slug": "marco-rubio"}))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Marco Rubio</h1>" in html
    assert "US Secretary of State" in html and "Rubio" in html and "Person" in html
    assert "What will stop them is when you blow them up" in html
    source_url = reverse("sources:detail", kwargs={"slug": quote.source.slug})
    assert f'href="{source_url}#quote-{quote.pk}"' in html
    for claim in claims:
        assert reverse("claims:detail", kwargs={"slug": claim.slug}) in html
    svg = scorecard_svg(html)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "scorecard-title scorecard-desc"
    assert svg.find(f"{SVG}title").get("id") == "scorecard-title"
    assert f"Not yet verified {claims.count()}" in svg.find(f"{SVG}desc").text
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["Not yet verified", str(claims.count())]
    assert scorecard_table(html) == {"Not yet verified": str(claims.count()), "Total": "1"}
    assert "<caption>" in html and '<th scope="col">Status</th>' in html


def test_a_verdict_shows_in_the_speakers_chart_and_table(client, seeded, editor):
    bondi_claims = list(Claim.objects.published().filter(speaker__slug="pam-bondi"))
    VerdictFactory(claim=bondi_claims[0], editor=editor, status="false")

    html = client.get(reverse("claims:speaker", kwargs={"slug": "pam-bondi"})).content.decode()

    assert scorecard_table(html) == {"Not yet verified": "2", "False": "1", "Total": "3"}
    svg = scorecard_svg(html)
    groups = svg.findall(f"{SVG}g")
    labelled = {
        g.findall(f"{SVG}text")[0].text: (
            g.find(f"{SVG}rect").get("class"),
            g.findall(f"{SVG}text")[1].text,
        )
        for g in groups
    }
    assert labelled == {
        "Not yet verified": ("bar status-unverified", "2"),
        "False": ("bar status-false", "1"),
    }
    assert "False 1" in svg.find(f"{SVG}desc").text
    assert 'status-badge status-false">False <small>(1 of 5)</small>' in html


def test_speaker_page_never_shows_drafts(client, seeded, editor):
    bondi = Speaker.objects.get(slug="pam-bondi")
    draft = ClaimFactory(slug="secret-draft", speaker=bondi)
    quote = Quote.objects.filter(speaker=bondi).first()
    AppearanceFactory(claim=draft, quote=quote)
    VerdictFactory(claim=draft, editor=editor, status="true")

    html = client.get(reverse("claims:speaker", kwargs={"slug": "pam-bondi"})).content.decode()

    assert draft.statement not in html
    assert reverse("claims:detail", kwargs={"slug": draft.slug}) not in html
    assert "True" not in scorecard_table(html)


def test_unknown_speaker_is_the_custom_404(client, db):
    response = client.get(reverse("claims:speaker", kwargs={"slug": "nobody"}))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert '<label for="not-found-q">Search the claims</label>' in html


def test_speaker_page_queries_do_not_grow_with_claims_and_quotes(
    client, seeded, editor, django_assert_num_queries
):
    url = reverse("claims:speaker", kwargs={"slug": "pam-bondi"})
    # 1. the conditional-GET stamp, 2. the speaker, 3. their published claims by status,
    # 4. a page of them, 5. their quotes with sources, 6. the published claims those back
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200

    bondi = Speaker.objects.get(slug="pam-bondi")
    source = SourceFactory(
        slug="bondi-numbers", title="Numbers bondi-numbers", snapshot=numbered_snapshot(6)
    )
    for i in range(6):
        claim = ClaimFactory(
            slug=f"bondi-extra-{i}",
            speaker=bondi,
            published=True,
            verdict=["false", "true", "mixed"][i % 3],
            editor=editor,
        )
        quote = QuoteFactory(source=source, speaker=bondi, words=f"says number {i} out loud")
        AppearanceFactory(claim=claim, quote=quote)

    # The same 6 with six more claims and quotes.
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert scorecard_table(response.content.decode())["Total"] == "9"


def test_speaker_page_answers_conditional_gets(client, seeded, editor):
    url = reverse("claims:speaker", kwargs={"slug": "pam-bondi"})
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304

    VerdictFactory(
        claim=Claim.objects.published().filter(speaker__slug="pam-bondi").first(), editor=editor
    )
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


# Sources


def test_source_list_shows_every_source(client, seeded):
    response = client.get(reverse("sources:list"))
    assert response.status_code == 200
    html = response.content.decode()
    for source in Source.objects.all():
        assert reverse("sources:detail", kwargs={"slug": source.slug}) in html
        assert escape(source.title) in html
    assert html.count('class="source-title"') == 2


@pytest.mark.parametrize("slug", SEEDED_SOURCES)
def test_source_page_marks_every_quote_and_keeps_the_text_between(client, seeded, slug):
    source = Source.objects.get(slug=slug)
    quotes = list(source.quotes.order_by("start"))
    assert quotes

    response = client.get(reverse("sources:detail", kwargs={"slug": slug}))

    assert response.status_code == 200
    html = response.content.decode()
    assert source.snapshot_sha256 in html
    assert "News article" in html
    snapshot = re.search(r'<div class="snapshot">(.*?)</div>', html, re.S).group(1)
    position = 0
    for quote in quotes:
        mark = re.search(rf'<mark id="quote-{quote.pk}"[^>]*>(.*?)</mark>', snapshot, re.S)
        assert mark, f"quote {quote.pk} is not marked"
        assert mark.group(1) == escape(quote.exact)
        for line in source.snapshot[position : quote.start].split("\n"):
            if line.strip():
                assert escape(line) in snapshot
        position = quote.end
    for line in source.snapshot[position:].split("\n"):
        if line.strip():
            assert escape(line) in snapshot
    assert snapshot.count("<mark") == len(quotes)
    # Marks are in text order and every paragraph of the article is there.
    marks = [int(pk) for pk in re.findall(r'<mark id="quote-(\d+)"', snapshot)]
    assert marks == [q.pk for q in quotes]
    assert snapshot.count("<p>") == len([ln for ln in source.snapshot.split("\n") if ln.strip()])


def test_source_page_links_quotes_to_published_claims_only(client, seeded, editor):
    source = Source.objects.get(slug="trump-hints-at-strikes-on-cartels-in-venezuela")
    quote = Quote.objects.get(source=source, exact__startswith="What will stop them")
    published = quote.appearances.get().claim
    draft = ClaimFactory(slug="secret-draft", speaker=quote.speaker)
    AppearanceFactory(claim=draft, quote=quote)
    other_draft = ClaimFactory(slug="draft-without-quote", speaker=quote.speaker)
    AppearanceFactory(claim=other_draft, source=source)

    html = client.get(reverse("sources:detail", kwargs={"slug": source.slug})).content.decode()

    published_url = reverse("claims:detail", kwargs={"slug": published.slug})
    mark_and_links = re.search(
        rf'<mark id="quote-{quote.pk}".*?</mark><sup class="quote-claims">(.*?)</sup>', html
    )
    assert mark_and_links and published_url in mark_and_links.group(1)
    for hidden in (draft, other_draft):
        assert reverse("claims:detail", kwargs={"slug": hidden.slug}) not in html
        assert hidden.statement not in html

    # Unpublishing removes the link too.
    unpublish_claim(
        claim=published, editor=editor, expected_version=published.version, explanation="Wrong."
    )
    html = client.get(reverse("sources:detail", kwargs={"slug": source.slug})).content.decode()
    assert published_url not in html
    assert f'<mark id="quote-{quote.pk}"' in html


def test_source_text_and_quotes_are_escaped(client, db, speaker):
    source = SourceFactory(
        slug="hostile",
        title="<b>Bold</b> title",
        url="https://example.org/a?x=1&y=2",
        snapshot='Intro <script>alert(1)</script> and then "<img src=x onerror=alert(2)>" end.\n'
        "Unquoted <i>markup</i> & <script>alert(3)</script> too.",
    )
    quote = QuoteFactory(source=source, speaker=speaker, words="<script>alert(1)</script>")
    second = QuoteFactory(source=source, speaker=speaker, words="<img src=x onerror=alert(2)>")

    response = client.get(reverse("sources:detail", kwargs={"slug": "hostile"}))

    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html and "<b>Bold</b>" not in html
    assert f'<mark id="quote-{quote.pk}" ' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in html
    assert "&lt;img src=x onerror=alert(2)&gt;</mark>" in html
    assert f'<mark id="quote-{second.pk}"' in html
    assert "Intro " in html and " end." in html
    assert (
        "<p>Unquoted &lt;i&gt;markup&lt;/i&gt; &amp; &lt;script&gt;alert(3)&lt;/script&gt; too.</p>"
        in html
    )
    assert "<script>" not in html.split('<div class="snapshot">')[1]
    assert 'href="https://example.org/a?x=1&amp;y=2" rel="nofollow noopener"' in html


def test_overlapping_quotes_are_skipped_not_garbled():
    speaker = Speaker(name="Ada")
    text = "one two three four five"
    first = Quote(pk=1, speaker=speaker, start=4, end=13, exact="two three")
    overlapping = Quote(pk=2, speaker=speaker, start=8, end=18, exact="three four")
    later = Quote(pk=3, speaker=speaker, start=19, end=23, exact="five")

    html, marked = render_snapshot(text, [overlapping, later, first], {})

    assert marked == {1, 3}
    assert html == (
        '<p>one <mark id="quote-1" title="Ada, direct quote">two three</mark>'
        ' four <mark id="quote-3" title="Ada, direct quote">five</mark></p>'
    )


def test_a_quote_across_a_line_break_is_marked_on_both_lines():
    speaker = Speaker(name="Ada")
    text = "First line ends\nsecond line starts here."
    quote = Quote(pk=7, speaker=speaker, start=11, end=22, exact="ends\nsecond")

    html, _ = render_snapshot(text, [quote], {})

    assert html.count("<p>") == 2
    assert '<mark id="quote-7" title="Ada, direct quote">ends</mark></p>' in html
    assert '<p><mark class="quote-continued" title="Ada, direct quote">second</mark>' in html


def test_unknown_source_is_the_custom_404(client, db):
    response = client.get(reverse("sources:detail", kwargs={"slug": "nothing-here"}))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_source_page_queries_do_not_grow_with_quotes_and_claims(
    client, seeded, editor, speaker, django_assert_num_queries
):
    source = SourceFactory(
        slug="many-quotes", title="Numbers many-quotes", snapshot=numbered_snapshot(8)
    )
    url = reverse("sources:detail", kwargs={"slug": source.slug})
    claim = ClaimFactory(slug="first-numbers", speaker=speaker, published=True, editor=editor)
    quote = QuoteFactory(source=source, speaker=speaker, words="says number 0 out loud")
    AppearanceFactory(claim=claim, quote=quote)
    # 1. the conditional-GET stamp, 2. the source, 3. its quotes with speakers, 4. the
    # first published claims each quote backs, 5. a page of the claims appearing in it
    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200

    for i in range(1, 8):
        claim = ClaimFactory(slug=f"numbers-{i}", speaker=speaker, published=True, editor=editor)
        quote = QuoteFactory(source=source, speaker=speaker, words=f"says number {i} out loud")
        AppearanceFactory(claim=claim, quote=quote)

    # The same 5 with eight quotes and claims.
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.content.decode().count("<mark id=") == 8


def test_source_page_answers_conditional_gets(client, seeded, editor):
    source = Source.objects.get(slug=SEEDED_SOURCES[0])
    url = reverse("sources:detail", kwargs={"slug": source.slug})
    first = client.get(url)
    etag = first.headers["ETag"]

    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert (
        client.get(url, headers={"if-modified-since": first.headers["Last-Modified"]}).status_code
        == 304
    )

    # A claim appearing here changes: the page changes.
    claim = source.appearances.first().claim
    unpublish_claim(claim=claim, editor=editor, expected_version=claim.version, explanation="x")
    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


# Errors


def test_server_error_page_is_standalone_and_needs_no_database():
    # No `db` fixture: any query here would fail the test.
    response = site_views.server_error(RequestFactory().get("/boom/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert "Something went wrong on our side" in html
    # Its own inline style (with the response's nonce when the CSP middleware runs).
    assert "<style" in html and "</style>" in html and "stylesheet" not in html


def _boom(request):
    raise RuntimeError("boom")


# This module doubles as the URLconf of the next test: a view that fails.
urlpatterns = [path("boom/", _boom)]
handler500 = "factcheck.site_views.server_error"


@pytest.mark.urls(__name__)
def test_an_unhandled_error_is_answered_with_the_standalone_500_page(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_not_found_page_extends_the_site_layout(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<code>/no/such/page/</code>" in html
    assert 'action="/claims/"' in html and 'name="q"' in html
    assert '<nav aria-label="Main">' in html


# Feed


def test_feed_has_one_atom_entry_per_verdict_on_published_claims(client, seeded, editor, site_url):
    first, second, unpublished = Claim.objects.published().order_by("pk")[:3]
    entries = [
        VerdictFactory(
            claim=first,
            editor=editor,
            status="false",
            explanation="Not **true**. <script>x()</script>",
        ),
        VerdictFactory(claim=second, editor=editor, status="mostly_true", explanation="Close."),
        VerdictFactory(
            claim=first, editor=editor, status="misleading", explanation="Correction: partly right."
        ),
    ]
    VerdictFactory(
        claim=second, editor=editor, status="in_review", explanation=""
    )  # a workflow state, not a verdict
    VerdictFactory(claim=unpublished, editor=editor, status="true", explanation="Right.")
    unpublish_claim(
        claim=unpublished, editor=editor, expected_version=unpublished.version, explanation="No."
    )
    draft = ClaimFactory(slug="secret-draft", speaker=first.speaker)
    VerdictFactory(claim=draft, editor=editor, status="false", explanation="A draft's verdict.")

    response = client.get(reverse("claims:feed"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    self_link = feed.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == f"{SITE}/feeds/verdicts.atom"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href").startswith(SITE + "/")
    items = feed.findall(f"{ATOM}entry")
    assert len(items) == 3
    expected = list(reversed(entries))
    labels = {"false": "False", "mostly_true": "Mostly true", "misleading": "Misleading"}
    for item, entry in zip(items, expected, strict=True):
        claim = entry.claim
        assert item.find(f"{ATOM}title").text == f"{labels[entry.status_after]}: {claim.statement}"
        link = item.find(f"{ATOM}link").get("href")
        assert link == f"{SITE}/claims/{claim.slug}/#entry-{entry.sequence}"
        assert item.find(f"{ATOM}id").text == f"urn:sha256:{entry.entry_hash}"
        assert item.find(f"{ATOM}author/{ATOM}name").text == "ed"
        assert item.find(f"{ATOM}published").text
    summary = items[-1].find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    assert "<strong>true</strong>" in summary.text and "<script>" not in summary.text
    assert draft.statement not in response.content.decode()
    assert unpublished.statement not in response.content.decode()
    # The seeds' 22 "publish" entries are in the ledger, never in the feed.
    assert Review.objects.filter(action="publish").count() >= 22


# Sitemap and robots.txt


def sitemap_urls(client) -> tuple[dict[str, ET.Element | None], list[str]]:
    """Every address of the sitemap, by following its index: {loc: lastmod element},
    and the bodies read (the index's first)."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    root = ET.fromstring(index.content)
    assert root.tag == f"{SITEMAP}sitemapindex"
    bodies = [index.content.decode()]
    urls: dict[str, ET.Element | None] = {}
    for loc in root.iter(f"{SITEMAP}loc"):
        section = client.get(urlsplit(loc.text).path)
        assert section.status_code == 200, loc.text
        bodies.append(section.content.decode())
        for u in ET.fromstring(section.content).findall(f"{SITEMAP}url"):
            address = u.find(f"{SITEMAP}loc").text
            assert address not in urls, f"{address} is in two sections"
            urls[address] = u.find(f"{SITEMAP}lastmod")
    return urls, bodies


def test_sitemap_lists_published_pages_with_absolute_urls(client, seeded, editor, site_url):
    speaker = Speaker.objects.get(slug="pam-bondi")
    draft = ClaimFactory(slug="secret-draft", speaker=speaker)

    urls, bodies = sitemap_urls(client)

    assert all(loc.startswith(SITE + "/") for loc in urls)
    for claim in Claim.objects.published():
        lastmod = urls[f"{SITE}/claims/{claim.slug}/"]
        assert lastmod.text == claim.updated_at.date().isoformat()
    assert f"{SITE}/claims/{draft.slug}/" not in urls
    assert f"{SITE}/" in urls and f"{SITE}/claims/" in urls
    assert f"{SITE}/corrections/" in urls and f"{SITE}/corrections/policy/" in urls
    assert f"{SITE}/ledger/format/" in urls
    assert f"{SITE}/speakers/marco-rubio/" in urls
    assert f"{SITE}/sources/{SEEDED_SOURCES[1]}/" in urls
    assert f"{SITE}/topics/venezuela/" in urls
    assert f"{SITE}/speakers/" in urls and f"{SITE}/sources/" in urls
    # The site's own pages: 8, and about, methodology, rating scale, contact, suggest.
    assert len(urls) == 8 + 5 + 22 + 11 + 2 + 6
    assert not any("testserver" in body for body in bodies)


def test_robots_txt_allows_all_but_the_admin_and_points_to_the_sitemap(client, site_url):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def test_editing_a_quote_in_place_changes_the_etags(client, seeded):
    quote = Quote.objects.get(exact__startswith="What will stop them")
    source_url = reverse("sources:detail", kwargs={"slug": quote.source.slug})
    speaker_url = reverse("claims:speaker", kwargs={"slug": "marco-rubio"})
    etags = [client.get(url).headers["ETag"] for url in (source_url, speaker_url)]

    Quote.objects.filter(pk=quote.pk).update(kind=Quote.Kind.REPORTED)

    for url, etag in zip((source_url, speaker_url), etags, strict=True):
        response = client.get(url, headers={"if-none-match": etag})
        assert response.status_code == 200
        assert "Reported in the source&#x27;s words" in response.content.decode()
