"""The sitemap, the speaker list, the source list and a source's page at any size:
each is read a bounded page at a time (key ranges and keyset cursors, never OFFSET
or a COUNT over every row), in a number of queries that does not grow, and
answers conditional GETs from the change stamp."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils.html import escape

from claims import speaker_views
from claims.models import Claim, Speaker
from factcheck import sitemaps
from sources import views as source_views
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
)

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def next_link(html: str) -> str | None:
    found = NEXT.search(html)
    return found[1].replace("&amp;", "&") if found else None


def locs(content: bytes) -> list[str]:
    return [loc.text for loc in ET.fromstring(content).iter(f"{SITEMAP}loc")]


# --- Sitemap ---------------------------------------------------------------------------


def test_the_sitemap_index_pages_claims_by_key_range(
    client, seeded, editor, speaker, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(sitemaps, "PAGE_SIZE", 5)
    for i in range(4):
        ClaimFactory(slug=f"more-{i}", speaker=speaker, published=True, editor=editor)
    ClaimFactory(slug="a-draft", speaker=speaker)
    largest = Claim.objects.order_by("-pk").values_list("pk", flat=True).first()

    # 1. the conditional-GET stamp, 2. the largest key of each ranged table
    with django_assert_num_queries(2):
        index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert index["X-Robots-Tag"]
    sections = [urlsplit(loc).path for loc in locs(index.content)]
    claim_sections = [path for path in sections if path.startswith("/sitemap-claims-")]
    assert claim_sections == [f"/sitemap-claims-{n}.xml" for n in range(1, -(-largest // 5) + 1)]
    assert "/sitemap-pages.xml" in sections
    assert "/sitemap-speakers-1.xml" in sections and "/sitemap-sources-1.xml" in sections

    listed: list[str] = []
    for path in claim_sections:
        # 1. the stamp, 2. the published claims of one key range
        with django_assert_num_queries(2):
            response = client.get(path)
        assert response.status_code == 200
        page = locs(response.content)
        assert len(page) <= 5
        listed += page
    published = Claim.objects.published().order_by("pk").values_list("slug", flat=True)
    assert [urlsplit(loc).path for loc in listed] == [f"/claims/{slug}/" for slug in published]


def test_a_sitemap_section_answers_conditional_gets_and_refuses_what_is_not_one(client, seeded):
    first = client.get("/sitemap-claims-1.xml")
    etag = first["ETag"]
    assert client.get("/sitemap-claims-1.xml", headers={"if-none-match": etag}).status_code == 304
    index = client.get("/sitemap.xml")
    assert client.get("/sitemap.xml", headers={"if-none-match": index["ETag"]}).status_code == 304

    assert client.get("/sitemap-topics-1.xml").status_code == 404
    assert client.get("/sitemap-claims-0.xml").status_code == 404
    # Past the largest key: a valid, empty section.
    assert locs(client.get("/sitemap-claims-999.xml").content) == []


# --- Speakers --------------------------------------------------------------------------


def test_the_speaker_list_pages_by_name_and_id_with_counted_claims(
    client, seeded, editor, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(speaker_views, "SPEAKERS_PER_PAGE", 4)
    # Namesakes straddle pages: the id breaks the tie.
    for i in range(3):
        SpeakerFactory(name="Marco Rubio", slug=f"marco-rubio-{i}")
    SpeakerFactory(name="<script>alert(1)</script>", slug="hostile")
    expected = list(Speaker.objects.order_by("name", "pk").values_list("slug", flat=True))

    seen: list[str] = []
    url: str | None = reverse("claims:speaker_list")
    pages = 0
    bondi_item = hostile_page = ""
    while url:
        # 1. the stamp, 2. a page of speakers with their counters
        with django_assert_num_queries(2):
            response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        page = re.findall(r'class="speaker-name" href="/speakers/([^/]+)/"', html)
        assert 0 < len(page) <= 4
        seen += page
        pages += 1
        assert ('rel="first"' in html) == (pages > 1)
        if "pam-bondi" in page:
            bondi_item = re.search(r'href="/speakers/pam-bondi/".*?</li>', html, re.S)[0]
        if "hostile" in page:
            hostile_page = html
        url = next_link(html)
        if url and url.startswith("?"):
            url = reverse("claims:speaker_list") + url
    assert seen == expected
    assert pages == -(-len(expected) // 4)

    published = Claim.objects.published().filter(speaker__slug="pam-bondi").count()
    assert f"{published} published claims" in bondi_item  # the counter, drafts left out
    assert "<script>alert(1)</script>" not in hostile_page
    assert escape("<script>alert(1)</script>") in hostile_page


@pytest.mark.parametrize("after", ["nonsense", "-1", "99999999", "1" * 40])
def test_a_speaker_cursor_that_is_not_one_gives_the_first_page(client, seeded, after):
    first = client.get(reverse("claims:speaker_list")).content.decode()
    response = client.get(reverse("claims:speaker_list"), {"after": after})
    assert response.status_code == 200
    names = re.findall(r'class="speaker-name"[^>]*>([^<]+)<', response.content.decode())
    assert names == re.findall(r'class="speaker-name"[^>]*>([^<]+)<', first)


def test_the_speaker_list_answers_conditional_gets(client, seeded, editor):
    url = reverse("claims:speaker_list")
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304

    Speaker.objects.filter(slug="pam-bondi").update(name="Pamela Bondi")
    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


# --- Sources ---------------------------------------------------------------------------


def test_the_source_list_pages_newest_first_with_counted_appearances(
    client, seeded, editor, speaker, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(source_views, "SOURCES_PER_PAGE", 2)
    busy = SourceFactory(slug="busy", title="<b>Busy</b> source")
    for i in range(3):
        claim = ClaimFactory(slug=f"busy-{i}", speaker=speaker, published=True, editor=editor)
        AppearanceFactory(claim=claim, source=busy)
    AppearanceFactory(claim=ClaimFactory(slug="busy-draft", speaker=speaker), source=busy)
    SourceFactory(slug="quiet")
    expected = list(Source.objects.order_by("-retrieved_at", "pk").values_list("slug", flat=True))

    seen: list[str] = []
    url: str | None = reverse("sources:list")
    while url:
        # 1. the stamp, 2. a page of sources with their counts
        with django_assert_num_queries(2):
            response = client.get(url)
        html = response.content.decode()
        page = re.findall(r'class="source-title" href="/sources/([^/]+)/"', html)
        assert 0 < len(page) <= 2
        seen += page
        if "busy" in page:
            item = re.search(r'href="/sources/busy/".*?</li>', html, re.S)[0]
            assert "&lt;b&gt;Busy&lt;/b&gt;" in item and "<b>" not in item
            assert "3 appearances of published claims" in item  # the draft is not counted
        url = next_link(html)
        if url and url.startswith("?"):
            url = reverse("sources:list") + url
    assert seen == expected


def test_a_busy_source_pages_its_claims_and_caps_each_quotes_claims(
    client, db, editor, speaker, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(source_views, "CLAIMS_PER_PAGE", 3)
    source = SourceFactory(slug="busy", snapshot="One quote here. Another one there.")
    quote = QuoteFactory(source=source, speaker=speaker, words="One quote here.")
    claims = [
        ClaimFactory(
            slug=f"backed-{i}",
            statement=f"Backed <{i}>.",
            speaker=speaker,
            published=True,
            editor=editor,
        )
        for i in range(5)
    ]
    for claim in claims:
        AppearanceFactory(claim=claim, quote=quote)
    # A second appearance of the first claim: still listed once, at its first.
    AppearanceFactory(claim=claims[0], source=source)
    AppearanceFactory(claim=ClaimFactory(slug="draft-here", speaker=speaker), source=source)
    url = reverse("sources:detail", kwargs={"slug": "busy"})

    html = client.get(url).content.decode()
    backs = re.search(r'<p class="meta">.*?</p>', html.split('id="quotes-heading"')[1], re.S)[0]
    assert backs.count('href="/claims/backed-') == source_views.BACKS_SHOWN == 3
    assert "and 2 more" in backs
    assert "Backed &lt;0&gt;." in html and "Backed <0>." not in html
    mark = re.search(r'<sup class="quote-claims">(.*?)</sup>', html)[1]
    assert mark.count("<a ") == 3

    seen: list[str] = []
    page_url: str | None = url
    while page_url:
        # 1. stamp, 2. source, 3. quotes, 4. each quote's first claims, 5. a page of claims
        with django_assert_num_queries(5):
            response = client.get(page_url)
        part = response.content.decode().split('id="claims-heading"')[1]
        seen += re.findall(r'class="statement" href="/claims/([^/]+)/"', part)
        page_url = next_link(part)
        if page_url:
            assert page_url.endswith("#claims-heading")
            page_url = page_url.removesuffix("#claims-heading")
        if page_url and page_url.startswith("?"):
            page_url = url + page_url
    assert seen == [claim.slug for claim in claims]  # in the order they were linked


def test_a_source_lists_its_quotes_a_page_at_a_time_and_marks_them_all(
    client, db, speaker, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(source_views, "QUOTES_PER_PAGE", 2)
    source = SourceFactory(slug="quoted", snapshot="\n".join(f"Line {i} said." for i in range(5)))
    quotes = [QuoteFactory(source=source, speaker=speaker, words=f"Line {i}") for i in range(5)]
    url = reverse("sources:detail", kwargs={"slug": "quoted"})

    listed: list[str] = []
    page_url: str | None = url
    while page_url:
        with django_assert_num_queries(5):
            html = client.get(page_url).content.decode()
        # The text marks every quote, whichever page of the list is shown.
        assert all(f'<mark id="quote-{quote.pk}"' in html for quote in quotes)
        part = html.split('id="quotes-heading"')[1].split('id="claims-heading"')[0]
        listed += re.findall(r'href="#quote-(\d+)"', part)
        found = re.search(r'<a rel="next" href="([^"]+)"', part)
        page_url = (
            url + found[1].replace("&amp;", "&").removesuffix("#quotes-heading") if found else None
        )
    assert listed == [str(quote.pk) for quote in quotes]


def test_a_speakers_quotes_come_a_page_at_a_time_each_with_its_first_claims(
    client, db, editor, speaker, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(speaker_views, "QUOTES_PER_PAGE", 2)
    monkeypatch.setattr(speaker_views, "BACKED_CLAIMS_SHOWN", 2)
    source = SourceFactory(slug="speeches", snapshot="First words. Second words. Third <words>.")
    quotes = [
        QuoteFactory(source=source, speaker=speaker, words=words)
        for words in ["First words.", "Second words.", "Third <words>."]
    ]
    for i in range(4):
        claim = ClaimFactory(slug=f"backed-{i}", speaker=speaker, published=True, editor=editor)
        AppearanceFactory(claim=claim, quote=quotes[2])
    # A draft backed by the quote is neither linked nor counted.
    AppearanceFactory(claim=ClaimFactory(slug="a-draft", speaker=speaker), quote=quotes[2])
    url = reverse("claims:speaker", kwargs={"slug": speaker.slug})

    seen: list[str] = []
    page_url: str | None = url
    pages = []
    while page_url:
        # 1. stamp, 2. speaker, 3. status counts, 4. claims, 5. quotes, 6. their first claims
        with django_assert_num_queries(6):
            html = client.get(page_url).content.decode()
        part = html.split('id="quotes-heading"')[1]
        pages.append(part)
        seen += re.findall(r'<blockquote cite="[^"#]+#quote-(\d+)"', part)
        more = re.search(r'<a href="([^"]+)#quotes-heading">More quotes</a>', part)
        page_url = url + more[1].replace("&amp;", "&") if more else None
    # Newest first, each once, over two pages.
    assert seen == [str(quote.pk) for quote in reversed(quotes)]
    assert len(pages) == 2
    first = pages[0]
    assert "Third &lt;words&gt;." in first and "Third <words>." not in first
    assert first.count('href="/claims/backed-') == 2
    assert "and 2 more" in first
    assert "a-draft" not in first
    assert "Newest quotes" in pages[1]
