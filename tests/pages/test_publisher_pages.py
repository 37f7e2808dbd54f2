"""The publisher's own pages: about, methodology, rating scale, contact (claims.site_pages).

Editors write them in Markdown in the admin; readers get sanitised HTML, answered
conditionally (an edit changes the ETag); the rating scale lists every verdict in
the scale's order with recent published examples, in a fixed number of queries."""

from __future__ import annotations

import importlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, SitePage, SitePageSlug
from claims.ratings import RATINGS
from tests.factories import ClaimFactory

pages_migration = importlib.import_module("claims.migrations.0017_site_pages_tips")

PAGE_URLS = {
    SitePageSlug.ABOUT: "/about/",
    SitePageSlug.METHODOLOGY: "/about/methodology/",
    SitePageSlug.RATING_SCALE: "/about/rating-scale/",
    SitePageSlug.CONTACT: "/about/contact/",
}
VERDICTS = [rating.value for rating in RATINGS if rating.is_verdict]


@pytest.fixture
def pages(db):
    """The four pages as the migration creates them (a transactional test elsewhere
    may have flushed them)."""
    for slug, title, body in pages_migration.PAGES:
        SitePage.objects.get_or_create(slug=slug, defaults={"title": title, "body": body})
    return {page.slug: page for page in SitePage.objects.all()}


@pytest.fixture
def editor_client(editor):
    signed_in = Client()
    signed_in.force_login(editor)
    return signed_in


def test_the_migration_creates_the_four_pages_with_honest_starting_text(pages):
    assert set(pages) == set(SitePageSlug.values)
    assert "append-only ledger" in pages["methodology"].body
    # No invented address: the publisher fills it in.
    assert "publisher fills in" in pages["contact"].body
    assert "@" not in pages["contact"].body


@pytest.mark.parametrize("slug", list(PAGE_URLS))
def test_each_page_is_at_its_address_with_its_markdown_rendered(client, pages, slug):
    assert reverse(f"site:{slug}") == PAGE_URLS[slug]
    response = client.get(PAGE_URLS[slug])

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{pages[slug].title}</h1>" in html
    assert "<h3>" in html or slug in ("rating-scale", "contact")
    # The footer links every page of the set, and the corrections policy with them.
    footer = html[html.index('<footer class="site-footer">') :]
    for url in [*PAGE_URLS.values(), reverse("claims:corrections-policy"), "/suggest/"]:
        assert f'href="{url}"' in footer


def test_an_editors_markup_is_escaped_and_sanitised(client, pages):
    SitePage.objects.filter(slug="about").update(
        title="<b>About</b> & us",
        body="**Bold** words.\n\n<script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)"> [a link](javascript:alert(2))',
    )

    html = client.get("/about/").content.decode()

    assert "<h1>&lt;b&gt;About&lt;/b&gt; &amp; us</h1>" in html
    assert "<strong>Bold</strong> words." in html
    assert "<script>alert" not in html
    assert "onerror" not in html and "<img" not in html
    assert "javascript:" not in html


def test_an_admin_edit_shows_on_the_page_and_changes_its_etag(client, pages, editor, editor_client):
    url = PAGE_URLS[SitePageSlug.METHODOLOGY]
    first = client.get(url)
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    page = pages["methodology"]
    change = reverse("admin:claims_sitepage_change", args=[page.pk])
    assert editor_client.get(change).status_code == 200
    saved = editor_client.post(
        change, {"title": "How we work", "body": "We check *one claim* at a time."}
    )
    assert saved.status_code == 302

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag
    assert "<h1>How we work</h1>" in again.content.decode()
    assert "<em>one claim</em>" in again.content.decode()
    page.refresh_from_db()
    assert page.updated_by == editor


def test_editors_cannot_add_or_delete_pages(editor_client, pages):
    assert editor_client.get(reverse("admin:claims_sitepage_add")).status_code == 403
    delete = reverse("admin:claims_sitepage_delete", args=[pages["about"].pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 403
    assert SitePage.objects.count() == 4


def test_a_missing_page_is_a_404(client, pages):
    SitePage.objects.filter(slug="contact").delete()
    assert client.get("/about/contact/").status_code == 404


@pytest.mark.parametrize("slug", list(PAGE_URLS))
def test_pages_answer_conditional_gets_with_cache_control(client, pages, slug):
    first = client.get(PAGE_URLS[slug])
    assert first["ETag"].startswith('"')
    assert "Last-Modified" in first
    assert {"public", "max-age=60"} <= {p.strip() for p in first["Cache-Control"].split(",")}

    # Anonymous: answered by the shortcut before the stack, with the same caching.
    again = client.get(PAGE_URLS[slug], HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Cache-Control"] == first["Cache-Control"]
    assert client.post(PAGE_URLS[slug]).status_code in (403, 405)


def test_the_rating_scale_changes_its_etag_when_a_claim_is_published(client, pages, seeded):
    url = PAGE_URLS[SitePageSlug.RATING_SCALE]
    etag = client.get(url)["ETag"]

    ClaimFactory(statement="A newly rated claim.", published=True, verdict="mixed")

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert "A newly rated claim." in again.content.decode()


def _rating_sections(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<li class="scale-rating" id="([a-z_]+)">(.*?)</li>\s*(?=<li class="scale-rating"|</ol>)',
        html,
        re.S,
    )


def test_the_rating_scale_lists_every_verdict_in_order_with_up_to_three_examples(
    client, pages, seeded
):
    draft = ClaimFactory(statement="An unpublished false claim.", verdict="false")
    for n in range(4):
        ClaimFactory(statement=f"Published false claim {n}.", published=True, verdict="false")

    html = client.get(PAGE_URLS[SitePageSlug.RATING_SCALE]).content.decode()

    sections = dict(_rating_sections(html))
    assert [value for value, _ in _rating_sections(html)] == VERDICTS
    for rating in RATINGS:
        if rating.is_verdict:
            assert rating.description in sections[rating.value]
    false_examples = re.findall(r'<a href="/claims/([^/]+)/">', sections["false"])
    # The three most recently rated, newest first; never a draft.
    assert [Claim.objects.get(slug=slug).statement for slug in false_examples] == [
        "Published false claim 3.",
        "Published false claim 2.",
        "Published false claim 1.",
    ]
    assert draft.slug not in html
    for value, section in sections.items():
        examples = re.findall(r'<a href="/claims/([^/]+)/">', section)
        assert len(examples) <= 3
        for slug in examples:
            claim = Claim.objects.get(slug=slug)
            assert claim.status == value and claim.published_at is not None
    # Workflow states are explained apart, never as a rating with examples.
    assert "Not yet verified" in html[html.index('id="not-verdicts"') :]


def test_a_rating_without_a_published_example_says_so(client, pages):
    html = client.get(PAGE_URLS[SitePageSlug.RATING_SCALE]).content.decode()
    assert html.count("No published claim has this rating yet.") == len(VERDICTS)


def _scale_queries(client, django_assert_num_queries, expected: int) -> None:
    with django_assert_num_queries(expected):
        response = client.get(PAGE_URLS[SitePageSlug.RATING_SCALE])
    assert response.status_code == 200


def test_the_rating_scale_runs_a_fixed_number_of_queries(
    client, pages, seeded, django_assert_num_queries
):
    # The state (one), the page's intro (one), every example of every rating (one).
    _scale_queries(client, django_assert_num_queries, 3)
    for status in VERDICTS:
        for n in range(3):
            ClaimFactory(statement=f"More {status} {n}.", published=True, verdict=status)
    _scale_queries(client, django_assert_num_queries, 3)


def test_the_sitemap_lists_the_publishers_pages(client, pages):
    text = client.get(reverse("sitemap-pages")).content.decode()
    for url in [*PAGE_URLS.values(), "/suggest/"]:
        assert f"{url}</loc>" in text
