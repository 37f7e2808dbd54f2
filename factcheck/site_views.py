"""Site-wide views: sitemap.xml, robots.txt, the ledger's format and verifier, the API
guide, the error pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import markdown as md
from django.conf import settings
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csp import get_nonce
from django.shortcuts import render
from django.template import loader
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_safe

from claims import freshness
from claims.claimreview import absolute_url
from claims.ledger import verifier
from claims.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitise
from factcheck import sitemaps
from factcheck.conditional import page_condition
from factcheck.sitemaps import PAGES, RANGED

_LARGEST_KEYS = "SELECT " + ", ".join(
    f"(SELECT max(id) FROM {table})"  # noqa: S608 - constant table names
    for _, table in RANGED.values()
)

# The sitemaps show what the reader pages show: the change stamp says when they changed.


@require_safe
@x_robots_tag
@page_condition("sitemap-index-1", freshness.page_state)
def sitemap_index(request):
    """The sitemap index: the site's own pages, then each ranged section's pages
    (factcheck.sitemaps), as many as its largest primary key needs. One query
    besides the stamp, whatever the number of claims."""
    with connection.cursor() as cursor:
        cursor.execute(_LARGEST_KEYS)
        largest = cursor.fetchone()
    locations = [absolute_url(reverse("sitemap-pages"), request)]
    for name, top in zip(RANGED, largest, strict=True):
        for page in range(1, -(-(top or 0) // sitemaps.PAGE_SIZE) + 1):
            path = reverse("sitemap-section", kwargs={"section": name, "page": page})
            locations.append(absolute_url(path, request))
    return TemplateResponse(
        request,
        "sitemap_index.xml",
        {"sitemaps": [SitemapIndexItem(location) for location in locations]},
        content_type="application/xml",
    )


@require_safe
@page_condition("sitemap-pages-1", freshness.page_state)
def sitemap_pages(request):
    """The site's own pages and the topics."""
    return sitemap_view(request, sitemaps=PAGES)


@require_safe
@x_robots_tag
@page_condition("sitemap-section-1", freshness.page_state)
def sitemap_section(request, section: str, page: int):
    """One key range of claims, speakers or sources: at most PAGE_SIZE addresses."""
    if section not in RANGED or page < 1:
        raise Http404("No such sitemap.")
    section_class, _ = RANGED[section]
    return HttpResponse(section_class().render(page, request), content_type="application/xml")


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('admin:index')}",
        "Allow: /",
        "",
        f"Sitemap: {absolute_url(reverse('sitemap'), request)}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


# --- The ledger's format and its standalone verifier ---------------------------------

LEDGER_FORMAT_DOC = settings.BASE_DIR / "docs" / "ledger-format.md"
API_GUIDE_DOC = settings.BASE_DIR / "docs" / "api.md"
VERIFIER_SCRIPT = Path(verifier.__file__)

# The document is ours, but it goes through the same allow-list as editors'
# Markdown (claims.markdown), widened for a specification: headings with
# anchors, tables and code blocks. Comments (the example's labels) are dropped.
_DOC_TAGS = ALLOWED_TAGS | {"h1", "h2", "table", "thead", "tbody", "tr", "th", "td"}
_DOC_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, **{f"h{level}": {"id"} for level in range(1, 5)}}


@dataclass(frozen=True)
class _File:
    content: bytes
    sha256: str


@dataclass(frozen=True)
class _Document:
    sha256: str
    title: str
    html: SafeString


def _read(path: Path) -> _File:
    stat = path.stat()
    return _read_file(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_file(path: str, mtime_ns: int, size: int) -> _File:
    """A file's bytes and digest, read again only when the file changed."""
    content = Path(path).read_bytes()
    return _File(content, hashlib.sha256(content).hexdigest())


@lru_cache(maxsize=4)
def _render_document(document: _File) -> _Document:
    """A document of docs/ (the ledger's format, the API guide) as sanitised HTML,
    rendered once per version of the file."""
    text = document.content.decode("utf-8")
    title = next(
        (line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
        "The ledger's format",
    )
    html = md.markdown(
        text, extensions=["fenced_code", "tables", "toc", "sane_lists"], output_format="html"
    )
    clean = sanitise(
        html, tags=_DOC_TAGS, attributes=_DOC_ATTRIBUTES, link_rel="noopener noreferrer"
    )
    return _Document(document.sha256, title, clean)


# No query, and no Last-Modified: a file's time differs between servers, its digest does not.


def _format_state(request) -> dict:
    return {
        "document": _read(LEDGER_FORMAT_DOC).sha256,
        "verifier": _read(VERIFIER_SCRIPT).sha256,
        # What the site's layout shows.
        "publisher": settings.PUBLISHER_NAME,
        "site": settings.SITE_URL,
        "last_change": None,
    }


def _guide_state(request) -> dict:
    return {
        "document": _read(API_GUIDE_DOC).sha256,
        "publisher": settings.PUBLISHER_NAME,
        "site": settings.SITE_URL,
        "last_change": None,
    }


def _verifier_state(request) -> dict:
    return {"verifier": _read(VERIFIER_SCRIPT).sha256, "last_change": None}


@require_safe
@cache_control(max_age=3600, public=True)
@page_condition("ledger-format-1", _format_state)
def ledger_format(request):
    """The ledger's format, byte by byte (docs/ledger-format.md), in the site's layout."""
    return render(
        request,
        "ledger_format.html",
        {
            "document": _render_document(_read(LEDGER_FORMAT_DOC)),
            "verifier_sha256": _read(VERIFIER_SCRIPT).sha256,
        },
    )


@require_safe
@cache_control(max_age=3600, public=True)
@page_condition("ledger-verifier-1", _verifier_state)
def ledger_verifier(request):
    """The standalone verifier: the exact bytes of claims/ledger/verifier.py, to download."""
    response = HttpResponse(
        _read(VERIFIER_SCRIPT).content, content_type="text/x-python; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="verifier.py"'
    return response


@require_safe
@cache_control(max_age=3600, public=True)
@page_condition("api-guide-1", _guide_state)
def api_guide(request):
    """The API guide (docs/api.md), rendered as the ledger's format is."""
    return render(request, "api_guide.html", {"document": _render_document(_read(API_GUIDE_DOC))})


# --- Errors ---------------------------------------------------------------------------


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    """The API's error format, for errors raised before an API view runs."""
    body = {"error": {"status": status, "code": code, "message": message, "fields": {}}}
    return JsonResponse(body, status=status)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


@requires_csrf_token
def page_not_found(request, exception):
    """handler404: the site's own page, with the search box and the ways in;
    API clients get the API's JSON error instead of a page."""
    if _is_api(request):
        return _api_error(404, "not_found", "Not found.")
    return render(request, "404.html", {"request_path": request.path}, status=404)


def server_error(request):
    """handler500: standalone HTML, no context processors, no database, no request.

    Whatever broke (the database included) must not break the error page too.
    """
    if _is_api(request):
        return _api_error(500, "server_error", "Server error.")
    try:
        # Its inline style needs the response's nonce (Content-Security-Policy).
        body = loader.get_template("500.html").render({"csp_nonce": get_nonce(request)})
    except Exception:  # the last resort must answer whatever happens
        body = "<!DOCTYPE html><title>Server error</title><h1>Server error (500)</h1>"
    return HttpResponseServerError(body)
