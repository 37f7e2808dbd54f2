"""Sources in the admin: a new source's text is pasted or uploaded (.txt kept
exactly, .html reduced to its article text), its change page lists the quotes
anchored in it, its History page shows the database's edit history, and a
source that evidence depends on cannot be deleted."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from claims.models import Claim, Quote
from sources import ingest
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    VerdictFactory,
)


def _url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _form(response):
    return response.context["adminform"].form


def _errors(response) -> str:
    """All form errors of an admin add/change page, as one string."""
    return " ".join(str(error) for errors in _form(response).errors.values() for error in errors)


def _add(client, *, upload=None, **overrides):
    data = {
        "title": "A statement",
        "slug": "a-statement",
        "kind": "statement",
        "outlet": "",
        "author": "",
        "url": "",
        "published_on": "",
        "snapshot": "",
    }
    data.update(overrides)
    if upload is not None:
        data["upload"] = upload
    return client.post(_url(Source, "add"), data)


# --- adding a source: paste or upload -----------------------------------------


def test_it_stores_pasted_text_with_lf_line_endings(admin_client, db):
    text = "  First line, indented.\r\nSecond line: \u201cquoted\u201d.\r\n"

    response = _add(admin_client, snapshot=text)

    assert response.status_code == 302, _errors(response)
    source = Source.objects.get(slug="a-statement")
    assert source.snapshot == "  First line, indented.\nSecond line: \u201cquoted\u201d.\n"
    assert source.snapshot_sha256 == _sha256(source.snapshot)
    assert source.retrieved_at is not None


def test_it_stores_an_uploaded_txt_file_exactly(admin_client, db):
    text = "Caf\u00e9 owners said \u201cbusiness slowed\u201d.\r\n  Indented, with CRLF.\r\nEnd"
    upload = SimpleUploadedFile("statement.txt", text.encode("utf-8"), content_type="text/plain")

    response = _add(admin_client, upload=upload)

    assert response.status_code == 302, _errors(response)
    source = Source.objects.get(slug="a-statement")
    assert source.snapshot == text
    assert source.snapshot_sha256 == _sha256(text)


ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Port traffic fell in 2024 | The Harbour Gazette</title>
  <meta name="author" content="Jane Doe">
  <meta property="article:published_time" content="2024-03-05T10:00:00Z">
  <meta property="og:site_name" content="The Harbour Gazette">
  <script>window.tracker = "SCRIPT-IN-HEAD-NOISE";</script>
</head>
<body>
  <header class="site-header">
    <nav>
      <ul>
        <li><a href="/">Home</a></li>
        <li><a href="/world">NAV-WORLD-SECTION</a></li>
        <li><a href="/subscribe">NAV-SUBSCRIBE-NOW</a></li>
      </ul>
    </nav>
  </header>
  <main>
    <article>
      <h1>Port traffic fell in 2024</h1>
      <p>The minister said the port handled \u201c12 million tonnes\u201d last year, a figure
      the harbour authority\u2019s annual report does not support.</p>
      <p>According to the report, the port handled 9.1 million tonnes in 2023, down from
      9.8 million tonnes the year before. Caf\u00e9 owners near the docks said business had
      slowed.</p>
      <p>Critics said: \u201cThat number is wrong.\u201d The minister\u2019s office disagreed and
      said it would publish its own figures next week.</p>
    </article>
  </main>
  <footer><p>FOOTER-COPYRIGHT-NOTICE \u00a9 The Harbour Gazette. All rights reserved.</p></footer>
  <script>console.log("SCRIPT-IN-BODY-NOISE");</script>
</body>
</html>
"""


def test_it_reduces_an_uploaded_html_page_to_its_article_text(admin_client, db):
    upload = SimpleUploadedFile(
        "port-traffic.html", ARTICLE_PAGE.encode("utf-8"), content_type="text/html"
    )

    response = _add(admin_client, upload=upload, title="", slug="", kind="article")

    assert response.status_code == 302, _errors(response)
    source = Source.objects.get()
    text = source.snapshot
    assert "the port handled \u201c12 million tonnes\u201d last year" in text
    assert "Caf\u00e9 owners near the docks said business had slowed." in text
    assert "Critics said: \u201cThat number is wrong.\u201d" in text
    for noise in (
        "NAV-WORLD-SECTION",
        "NAV-SUBSCRIBE-NOW",
        "FOOTER-COPYRIGHT-NOTICE",
        "SCRIPT-IN-HEAD-NOISE",
        "SCRIPT-IN-BODY-NOISE",
        "<p>",
    ):
        assert noise not in text
    assert source.title == "Port traffic fell in 2024 | The Harbour Gazette"
    assert source.slug == "port-traffic-fell-in-2024-the-harbour-gazette"
    assert (source.author, source.outlet) == ("Jane Doe", "The Harbour Gazette")
    assert source.published_on == date(2024, 3, 5)
    assert source.snapshot_sha256 == _sha256(text)


def test_it_keeps_what_the_editor_typed_over_the_pages_metadata(admin_client, db):
    upload = SimpleUploadedFile("page.htm", ARTICLE_PAGE.encode("utf-8"))

    response = _add(
        admin_client,
        upload=upload,
        title="Port traffic article",
        slug="port-traffic-article",
        outlet="Gazette",
        author="",
        published_on="2024-03-06",
    )

    assert response.status_code == 302, _errors(response)
    source = Source.objects.get()
    assert (source.title, source.slug, source.outlet) == (
        "Port traffic article",
        "port-traffic-article",
        "Gazette",
    )
    assert source.published_on == date(2024, 3, 6)
    assert source.author == "Jane Doe"  # left empty, so taken from the page


def test_it_refuses_a_txt_upload_that_is_not_utf8(admin_client, db):
    latin1 = "Caf\u00e9 owners said business slowed.".encode("latin-1")
    upload = SimpleUploadedFile("statement.txt", latin1, content_type="text/plain")

    response = _add(admin_client, upload=upload)

    assert response.status_code == 200
    errors = _form(response).errors
    assert "upload" in errors
    assert "not UTF-8" in " ".join(errors["upload"])
    assert "not UTF-8" in response.content.decode()
    assert not Source.objects.exists()


def test_it_refuses_an_unsupported_file_type(admin_client, db):
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")

    response = _add(admin_client, upload=upload)

    assert response.status_code == 200
    errors = _form(response).errors
    assert "upload" in errors
    assert "\u201c.pdf\u201d files are not accepted" in " ".join(errors["upload"])
    assert not Source.objects.exists()


def test_it_refuses_an_html_page_without_article_text(admin_client, db):
    upload = SimpleUploadedFile("empty.html", b"<!DOCTYPE html><html><head></head></html>")

    response = _add(admin_client, upload=upload)

    assert response.status_code == 200
    assert "upload" in _form(response).errors
    assert not Source.objects.exists()


def test_it_refuses_both_pasted_text_and_an_upload(admin_client, db):
    upload = SimpleUploadedFile("statement.txt", b"Uploaded words.")

    response = _add(admin_client, snapshot="Pasted words.", upload=upload)

    assert response.status_code == 200
    assert "not both" in " ".join(_form(response).non_field_errors())
    assert not Source.objects.exists()


def test_it_refuses_neither_pasted_text_nor_an_upload(admin_client, db):
    response = _add(admin_client, snapshot="")

    assert response.status_code == 200
    assert "one of the two is needed" in " ".join(_form(response).non_field_errors())
    assert not Source.objects.exists()


def test_it_refuses_pasted_white_space(admin_client, db):
    response = _add(admin_client, snapshot=" \r\n\t ")

    assert response.status_code == 200
    assert "snapshot" in _form(response).errors
    assert not Source.objects.exists()


def test_it_asks_for_a_title_when_a_txt_upload_has_none(admin_client, db):
    upload = SimpleUploadedFile("statement.txt", b"Words without a title.")

    response = _add(admin_client, upload=upload, title="", slug="")

    assert response.status_code == 200
    assert "title" in _form(response).errors
    assert not Source.objects.exists()


def test_it_makes_a_free_slug_from_the_title(admin_client, source):
    response = _add(admin_client, snapshot="Other words.", title=source.title, slug="")

    assert response.status_code == 302, _errors(response)
    assert Source.objects.get(snapshot="Other words.").slug == f"{source.slug}-2"


def test_it_offers_the_upload_only_on_the_add_page(admin_client, source):
    add_page = admin_client.get(_url(Source, "add"))
    change_page = admin_client.get(_url(Source, "change", source.pk))

    assert {"snapshot", "upload"} <= set(_form(add_page).fields)
    assert b'type="file"' in add_page.content
    assert b'enctype="multipart/form-data"' in add_page.content
    assert "upload" not in _form(change_page).fields
    assert "snapshot" not in _form(change_page).fields
    assert b'type="file"' not in change_page.content


def test_ingest_refuses_a_file_over_the_size_limit():
    with pytest.raises(ValueError, match="larger than 5 MB"):
        ingest.text_from_upload("big.txt", b"a" * (ingest.MAX_UPLOAD_BYTES + 1))


def test_ingest_drops_only_a_utf8_byte_order_mark():
    assert ingest.text_from_upload("a.TXT", b"\xef\xbb\xbf \xc3\xa9\r\n").text == " \u00e9\r\n"


# --- the change page lists the quotes anchored in the source ------------------

SEED_SOURCE = "trump-hints-at-strikes-on-cartels-in-venezuela"


def test_it_lists_a_seed_sources_quotes_with_links_to_their_claims(admin_client, seeded):
    source = Source.objects.get(slug=SEED_SOURCE)
    quotes = list(Quote.objects.filter(source=source).prefetch_related("appearances__claim"))
    assert len(quotes) >= 3

    response = admin_client.get(_url(Source, "change", source.pk))

    assert response.status_code == 200
    page = response.content.decode()
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is False
    assert len(inline.formset.forms) == len(quotes)
    for quote in quotes:
        assert f'href="{_url(Quote, "change", quote.pk)}"' in page
        assert escape(str(quote)) in page
        assert escape(quote.speaker.name) in page
        claims = [appearance.claim for appearance in quote.appearances.all()]
        assert claims, f"seed quote {quote} backs no claim"
        for claim in claims:
            assert f'href="{_url(Claim, "change", claim.pk)}"' in page
    # Nothing to add, edit or delete from there.
    assert 'name="quotes-0-DELETE"' not in page
    assert 'name="quotes-0-exact"' not in page


def _count_queries(client, url: str) -> tuple[int, str]:
    # A source's change page: 1. the session, 2. its user, 3. the source (with its quote
    # count), 4. its quotes with speakers, 5. the appearances of those quotes with claims.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_its_change_page_runs_as_many_queries_for_many_quotes_as_for_one(
    admin_client, source, speaker
):
    url = _url(Source, "change", source.pk)
    first = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    claim = ClaimFactory(slug="claim-1", statement="Claim number 1.", speaker=speaker)
    AppearanceFactory(claim=claim, quote=first)
    admin_client.get(url)  # warm the session and content type caches

    one_quote, page = _count_queries(admin_client, url)
    assert "Claim number 1." in page

    for number, words in [(2, "That number is wrong."), (3, "The minister's office disagreed")]:
        claim = ClaimFactory(
            slug=f"claim-{number}", statement=f"Claim number {number}.", speaker=speaker
        )
        AppearanceFactory(
            claim=claim, quote=QuoteFactory(source=source, speaker=speaker, words=words)
        )
    claim = ClaimFactory(slug="claim-4", statement="Claim number 4.", speaker=speaker)
    AppearanceFactory(claim=claim, quote=first)
    three_quotes, page = _count_queries(admin_client, url)

    assert Quote.objects.filter(source=source).count() == 3
    for number in (1, 2, 3, 4):
        assert f"Claim number {number}." in page
    assert three_quotes == one_quote


# --- edit history -------------------------------------------------------------


def test_its_history_page_shows_an_admin_title_change_by_its_editor(client, editor, source):
    editor.username = "desk-editor-ines"
    editor.save()
    client.force_login(editor)

    response = client.post(
        _url(Source, "change", source.pk),
        {
            "slug": source.slug,
            "title": "Port article, corrected title",
            "outlet": "",
            "author": "",
            "url": "",
            "published_on": "",
            "kind": source.kind,
            # The management form of the read-only list of the source's quotes.
            "quotes-TOTAL_FORMS": "0",
            "quotes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, _errors(response)

    response = client.get(_url(Source, "history", source.pk))

    assert response.status_code == 200
    rows = response.context["rows"]
    update = rows[0]  # newest first
    assert update["label"] == "update"
    assert update["user"] == editor
    title_change = next(c for c in update["changes"] if c["field"] == "title")
    assert (title_change["before"], title_change["after"]) == (
        "Port article",
        "Port article, corrected title",
    )
    page = response.content.decode()
    assert "desk-editor-ines" in page
    assert "Port article, corrected title" in page


# --- deleting: refused, with the admin's message, while evidence depends on it --


def test_it_explains_that_a_source_with_quotes_cannot_be_deleted(client, editor, seeded):
    source = Source.objects.get(slug=SEED_SOURCE)
    client.force_login(editor)
    url = _url(Source, "delete", source.pk)

    page = client.get(url)
    assert page.status_code == 200
    assert "protected related objects" in page.content.decode()

    response = client.post(url, {"post": "yes"})
    assert response.status_code in {200, 403}
    assert Source.objects.filter(pk=source.pk).exists()


def test_it_explains_that_a_source_cited_as_evidence_cannot_be_deleted(
    client, editor, claim, source
):
    VerdictFactory(claim=claim, editor=editor, evidence=[source])
    client.force_login(editor)
    url = _url(Source, "delete", source.pk)

    page = client.get(url)
    assert page.status_code == 200
    assert "protected related objects" in page.content.decode()
    assert client.post(url, {"post": "yes"}).status_code in {200, 403}
    assert Source.objects.filter(pk=source.pk).exists()

    changelist = _url(Source, "changelist")
    response = client.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [source.pk], "post": "yes"}
    )
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Source.objects.filter(pk=source.pk).exists()


def test_it_deletes_a_source_nothing_depends_on(client, editor, source):
    client.force_login(editor)
    other = SourceFactory(slug="spare", title="Spare", snapshot="Spare words.")

    response = client.post(
        _url(Source, "changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [other.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Source.objects.filter(pk=other.pk).exists()
    assert Source.objects.filter(pk=source.pk).exists()
