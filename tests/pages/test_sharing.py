"""Sharing a claim (claims.sharing): the share image, the share tags, the embeddable
verdict card, and oEmbed."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from PIL import Image, ImageChops

from claims.sharing import (
    _MARGIN,
    SHARE_HEIGHT,
    SHARE_WIDTH,
    ShareCard,
    _font,
    one_line,
    render_share_image,
    wrap_text,
)
from tests.factories import ClaimFactory, VerdictFactory

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"
SITE = "https://facts.example.org"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_kept_images():
    """Rendered images are kept in the cache by what they show: each test draws its own."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rated(speaker, editor):
    return ClaimFactory(
        slug="port-tonnes",
        statement="The port handled 12 million tonnes last year, the most in its history.",
        short_form="Port handled 12 million tonnes last year",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )


def directives(response) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in response[CSP].split(";") if part.strip())
    }


def meta(html: str, key: str) -> str:
    """The content of the <meta> whose property or name is `key` (exactly one)."""
    found = re.findall(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert len(found) == 1, (key, found)
    return unescape(found[0])


# --- The share image ---------------------------------------------------------


def test_the_share_image_is_a_1200_by_630_png_cached_by_shared_caches(client, rated):
    response = client.get("/claims/port-tonnes/share.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (SHARE_WIDTH, SHARE_HEIGHT) == (1200, 630)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", "max-age=300"} <= cache_control
    assert response["ETag"] and response["Last-Modified"]


def test_the_share_image_changes_with_the_rating(client, rated, editor):
    before = client.get("/claims/port-tonnes/share.png")

    VerdictFactory(claim=rated, editor=editor, status="mostly_true")
    after = client.get("/claims/port-tonnes/share.png")

    assert after.status_code == 200
    assert after.content != before.content
    assert after["ETag"] != before["ETag"]
    first = Image.open(io.BytesIO(before.content)).convert("RGB")
    second = Image.open(io.BytesIO(after.content)).convert("RGB")
    # The rating is drawn, not only the bytes' metadata: pixels differ.
    assert ImageChops.difference(first, second).getbbox() is not None


def test_the_share_image_of_a_draft_or_of_no_claim_is_a_404(client, claim, rated):
    assert client.get(f"/claims/{claim.slug}/share.png").status_code == 404
    assert client.get("/claims/no-such-claim/share.png").status_code == 404
    # Never a 304 for what is not there.
    response = client.get(f"/claims/{claim.slug}/share.png", headers={"if-none-match": "*"})
    assert response.status_code == 404


def test_the_share_image_answers_304_to_its_etag_from_one_query(
    client, rated, django_assert_num_queries
):
    etag = client.get("/claims/port-tonnes/share.png")["ETag"]

    with django_assert_num_queries(1) as captured:
        response = client.get("/claims/port-tonnes/share.png", headers={"if-none-match": etag})

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert "claims_reader_stamp" in captured.captured_queries[0]["sql"]
    # What the 200 said to shared caches, the 304 says too.
    assert "max-age=300" in response["Cache-Control"]


def test_the_share_image_runs_the_same_queries_whatever_the_claim(
    client, speaker, editor, django_assert_num_queries
):
    ClaimFactory(slug="short", statement="Short.", speaker=speaker, published=True)
    ClaimFactory(
        slug="long",
        statement=("A very long claim " * 55).strip(),  # near STATEMENT_MAX
        speaker=speaker,
        published=True,
        verdict="mixed",
        editor=editor,
    )
    for slug in ("short", "long"):
        # The state (the change stamp, and whether the claim is published), then the claim.
        with django_assert_num_queries(2):
            assert client.get(f"/claims/{slug}/share.png").status_code == 200
        cache.clear()
        with django_assert_num_queries(2):
            assert client.get(f"/claims/{slug}/share.png").status_code == 200


def test_lines_wrap_break_long_words_and_end_in_an_ellipsis_when_cut():
    font = _font("Bold", 40)
    width = 400

    lines, cut = wrap_text("The port handled twelve million tonnes", font, width, 5)
    assert not cut and len(lines) > 1
    assert " ".join(lines) == "The port handled twelve million tonnes"

    lines, cut = wrap_text("x" * 300 + " and more", font, width, 3)
    assert cut and len(lines) == 3
    assert lines[-1].endswith("\u2026")
    assert all(font.getlength(line) <= width for line in lines)

    lines, cut = wrap_text("word " * 500, font, width, 2)
    assert cut and len(lines) == 2 and lines[-1].endswith("\u2026")
    assert all(font.getlength(line) <= width for line in lines)


def test_a_name_on_one_line_is_cut_where_the_line_ends():
    font = _font("Regular", 30)

    assert one_line("Ada Example", font, 400) == "Ada Example"
    cut = one_line("Said by Somebody " + "Withaverylongname" * 8, font, 400)
    assert cut.startswith("Said by Somebody Witha") and cut.endswith("\u2026")
    assert font.getlength(cut) <= 400


def _right_margin_is_blank(png: bytes) -> bool:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # Below the coloured band at the top, right of the text column.
    margin = image.crop((SHARE_WIDTH - _MARGIN + 4, 20, SHARE_WIDTH, SHARE_HEIGHT))
    # Paper, as the 256-colour palette keeps it (within a shade of white): no ink.
    return all(low >= 250 for low, _ in margin.getextrema())


def test_long_text_stays_inside_the_image():
    card = ShareCard(
        statement="Pneumonoultramicroscopicsilicovolcanoconiosis" * 6 + " and so on " * 80,
        speaker="Somebody " + "Withaverylongname" * 8,
        status="misleading",
        publisher="The Desk " * 20,
    )
    assert _right_margin_is_blank(render_share_image(card))
    # And the check can fail: text that ran to the edge would be caught.
    crowded = Image.open(io.BytesIO(render_share_image(card))).convert("RGB")
    crowded.paste((0, 0, 0), (SHARE_WIDTH - 10, 300, SHARE_WIDTH, 310))
    out = io.BytesIO()
    crowded.save(out, format="PNG")
    assert not _right_margin_is_blank(out.getvalue())


# --- Share tags ----------------------------------------------------------------


def test_the_share_tags_are_absolute_and_large(client, rf, rated, settings):
    settings.SITE_URL = SITE
    request = rf.get(f"/claims/{rated.slug}/")

    html = render_to_string("claims/_share_meta.html", {"claim": rated}, request=request)

    image = f"{SITE}/claims/port-tonnes/share.png?v={rated.version}"
    assert meta(html, "og:image") == image
    assert meta(html, "og:image:width") == "1200"
    assert meta(html, "og:image:height") == "630"
    alt = meta(html, "og:image:alt")
    assert "False" in alt and "Port handled 12 million tonnes last year" in alt
    assert "Ada Example" in alt
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == image
    # The image's address answers, without the query string mattering.
    assert client.get(urlsplit(image).path + "?v=1").status_code == 200


def test_without_site_url_the_tags_name_the_server_answering(rf, rated, settings):
    settings.SITE_URL = ""
    request = rf.get(f"/claims/{rated.slug}/", HTTP_HOST="127.0.0.1:8101")

    html = render_to_string("claims/_share_meta.html", {"claim": rated}, request=request)

    assert meta(html, "og:image").startswith("http://127.0.0.1:8101/claims/port-tonnes/share.png")


def test_the_share_tags_escape_what_editors_typed(rf, speaker, editor):
    claim = ClaimFactory(
        slug="quoted",
        statement='He said "<b>never</b>" & left',
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    html = render_to_string(
        "claims/_share_meta.html", {"claim": claim}, request=rf.get("/claims/quoted/")
    )
    assert "<b>" not in html
    assert "&quot;&lt;b&gt;never&lt;/b&gt;&quot; &amp; left" in html


def test_the_discovery_link_leads_to_the_claims_oembed(client, rf, rated):
    request = rf.get(f"/claims/{rated.slug}/")
    html = render_to_string("claims/_share_meta.html", {"claim": rated}, request=request)

    (href,) = re.findall(
        r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html
    )
    address = urlsplit(unescape(href))
    assert address.scheme == "http" and address.netloc == "testserver"
    assert parse_qs(address.query) == {
        "url": ["http://testserver/claims/port-tonnes/"],
        "format": ["json"],
    }
    response = client.get(f"{address.path}?{address.query}")
    assert response.status_code == 200
    assert response.json()["title"].startswith("Port handled 12 million tonnes last year")


def test_other_pages_keep_the_plain_twitter_card(client, rated):
    html = client.get("/").content.decode()
    assert meta(html, "twitter:card") == "summary"
    assert "og:image" not in html


def test_the_claim_page_carries_the_share_tags(client, rated):
    """Needs templates/claims/claim_detail.html to fill base.html's share_image block
    with the partial: {% block share_image %}{% include "claims/_share_meta.html" %}{% endblock %}
    """
    html = client.get(f"/claims/{rated.slug}/").content.decode()

    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "og:image").startswith("http://testserver/claims/port-tonnes/share.png")
    assert 'type="application/json+oembed"' in html


# --- The embeddable card ---------------------------------------------------------


def test_the_embed_card_may_be_framed_anywhere_and_the_claim_page_nowhere(client, rated):
    card = client.get("/claims/port-tonnes/embed/")
    page = client.get("/claims/port-tonnes/")

    assert card.status_code == 200
    assert "X-Frame-Options" not in card
    assert directives(card)["frame-ancestors"] == ["*"]
    # The rest of the policy is the site's: no inline script or style for the card.
    assert directives(card)["script-src"] == directives(page)["script-src"] == ["'self'"]
    assert directives(card)["style-src"] == ["'self'"]

    assert page["X-Frame-Options"] == "DENY"
    assert directives(page)["frame-ancestors"] == ["'none'"]


def test_the_embed_card_stays_frameable_when_revalidated(client, rated, editor):
    etag = client.get("/claims/port-tonnes/embed/")["ETag"]

    # An anonymous reader's revalidation, answered by the middleware ahead of the stack.
    anonymous = client.get("/claims/port-tonnes/embed/", headers={"if-none-match": etag})
    assert anonymous.status_code == 304
    assert "X-Frame-Options" not in anonymous
    assert "max-age=300" in anonymous["Cache-Control"]

    # A signed-in editor's, answered by the view through the whole stack.
    client.force_login(editor)
    signed_in = client.get("/claims/port-tonnes/embed/", headers={"if-none-match": etag})
    assert signed_in.status_code == 304
    assert "X-Frame-Options" not in signed_in

    # Every other page keeps DENY on its 304 too.
    client.logout()
    page_etag = client.get("/claims/port-tonnes/")["ETag"]
    page = client.get("/claims/port-tonnes/", headers={"if-none-match": page_etag})
    assert page.status_code == 304 and page["X-Frame-Options"] == "DENY"


def test_the_embed_card_shows_the_verdict_and_links_back_in_a_new_tab(client, rated, settings):
    settings.SITE_URL = SITE
    response = client.get("/claims/port-tonnes/embed/")
    html = response.content.decode()

    assert '<meta name="robots" content="noindex">' in html
    assert "Port handled 12 million tonnes last year" in html
    assert "Said by Ada Example" in html
    assert "False" in html
    assert 'class="verdict-meter"' in html  # claims/_verdict_meter.html
    assert f'<a href="{SITE}/claims/port-tonnes/" target="_blank" rel="noopener">' in html
    # Not the site's chrome.
    assert "site-header" not in html and "site-search" not in html
    # Styles from files only, as the policy requires: no inline style or script.
    assert not re.search(r"<style|<script|\sstyle=", html)


def test_the_embed_card_escapes_what_editors_typed(client, editor):
    claim = ClaimFactory(
        slug="scripted",
        statement="<script>alert('x')</script> is a claim",
        speaker__name="<img src=x onerror=alert(1)>",
        published=True,
        verdict="false",
        editor=editor,
    )
    html = client.get(f"/claims/{claim.slug}/embed/").content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; is a claim" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_embed_card_of_a_draft_is_a_404(client, claim):
    assert client.get(f"/claims/{claim.slug}/embed/").status_code == 404
    response = client.get(f"/claims/{claim.slug}/embed/", headers={"if-none-match": "*"})
    assert response.status_code == 404


def test_the_embed_card_runs_the_same_queries_whatever_the_claim(
    client, rated, speaker, django_assert_num_queries
):
    ClaimFactory(slug="other", statement="Another " * 100, speaker=speaker, published=True)
    for slug in ("port-tonnes", "other"):
        with django_assert_num_queries(2):
            assert client.get(f"/claims/{slug}/embed/").status_code == 200


# --- oEmbed ----------------------------------------------------------------------


def oembed(client, **params):
    return client.get("/oembed", params)


def test_oembed_answers_rich_with_an_iframe_of_the_card(client, rated, settings):
    settings.SITE_URL = SITE
    settings.PUBLISHER_NAME = "The Desk"
    settings.PUBLISHER_URL = "https://desk.example.org/"

    response = oembed(client, url=f"{SITE}/claims/port-tonnes/", format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["version"] == "1.0"
    assert data["type"] == "rich"
    assert data["title"] == "Port handled 12 million tonnes last year \u2013 False"
    assert data["author_name"] == "The Desk"
    assert data["author_url"] == "https://desk.example.org/"
    assert data["provider_name"] == "The Desk"
    assert data["provider_url"] == f"{SITE}/"
    assert data["cache_age"] == 3600
    assert (data["width"], data["height"]) == (500, 340)
    assert data["thumbnail_url"] == f"{SITE}/claims/port-tonnes/share.png?v={rated.version}"
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (1200, 630)
    (iframe,) = re.findall(r"<iframe [^>]*></iframe>", data["html"])
    assert f'src="{SITE}/claims/port-tonnes/embed/"' in iframe
    assert 'width="500" height="340"' in iframe
    assert "max-age=3600" in response["Cache-Control"]


def test_oembed_accepts_the_card_address_and_ignores_query_and_fragment(client, rated):
    for url in (
        "http://testserver/claims/port-tonnes/embed/",
        "http://testserver/claims/port-tonnes/?from=feed#verdict",
        "https://TESTSERVER/claims/port-tonnes/",
    ):
        assert oembed(client, url=url).status_code == 200, url


@pytest.mark.parametrize(
    ("params", "size"),
    [
        # Narrower, the card asks for more height: its words wrap to more lines.
        ({"maxwidth": "400"}, (400, 380)),
        ({"maxwidth": "250", "maxheight": "300"}, (250, 300)),
        ({"maxheight": "200"}, (500, 200)),
        ({"maxwidth": "2000", "maxheight": "2000"}, (500, 340)),
    ],
)
def test_oembed_keeps_within_maxwidth_and_maxheight(client, rated, params, size):
    data = oembed(client, url="http://testserver/claims/port-tonnes/", **params).json()

    assert (data["width"], data["height"]) == size
    assert f'width="{size[0]}" height="{size[1]}"' in data["html"]
    # The thumbnail has one size: given only when it fits too.
    fits = int(params.get("maxwidth", 9999)) >= 1200 and int(params.get("maxheight", 9999)) >= 630
    assert ("thumbnail_url" in data) is fits


def test_oembed_escapes_the_title_in_its_html(client, editor):
    claim = ClaimFactory(
        slug="tricky",
        statement='"><script>alert(1)</script>',
        published=True,
        verdict="false",
        editor=editor,
    )
    data = oembed(client, url=f"http://testserver/claims/{claim.slug}/").json()

    assert data["title"].startswith('"><script>')  # JSON carries the text as it is
    assert "<script>" not in data["html"]
    assert 'title="Fact check: &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in data["html"]


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/claims/port-tonnes/",
        "http://testserver.example/claims/port-tonnes/",
        "http://testserver:8080/claims/port-tonnes/",
        "http://testserver/speakers/ada-example/",
        "http://testserver/claims/no-such-claim/",
        "http://testserver/claims/port-tonnes/share.png",
        "javascript:alert(1)//testserver/claims/port-tonnes/",
        "/claims/port-tonnes/",
        "http://[::1/claims/port-tonnes/",
    ],
)
def test_oembed_is_a_404_for_what_is_not_a_claim_page_of_this_site(client, rated, url):
    response = oembed(client, url=url)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_oembed_is_a_404_for_a_draft(client, claim):
    assert oembed(client, url=f"http://testserver/claims/{claim.slug}/").status_code == 404


def test_oembed_with_site_url_resolves_only_that_address(client, rated, settings):
    settings.SITE_URL = SITE
    assert oembed(client, url=f"{SITE}/claims/port-tonnes/").status_code == 200
    # The host the request came to is not this site's address when SITE_URL says otherwise.
    assert oembed(client, url="http://testserver/claims/port-tonnes/").status_code == 404


def test_oembed_formats_and_parameters(client, rated):
    url = "http://testserver/claims/port-tonnes/"
    assert oembed(client, url=url, format="xml").status_code == 501
    assert oembed(client, format="json").status_code == 400
    assert oembed(client, url="  ").status_code == 400
    wide = oembed(client, url=url, maxwidth="wide")
    assert wide.status_code == 400
    assert list(wide.json()["error"]["fields"]) == ["maxwidth"]
    assert oembed(client, url=url, maxheight="0").status_code == 400
    assert oembed(client, url=url, format="json").status_code == 200
    assert client.post("/oembed", {"url": url}).status_code == 405


def test_oembed_runs_one_query(client, rated, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert oembed(client, url="http://testserver/claims/port-tonnes/").status_code == 200
