"""Site-wide views: sitemap.xml, robots.txt and the error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_safe

from factcheck.sitemaps import SITEMAPS


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@require_safe
def sitemap(request):
    """Every public page, with absolute addresses from SITE_URL (factcheck.sitemaps)."""
    return sitemap_view(request, sitemaps=SITEMAPS)


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('admin:index')}",
        "Allow: /",
        "",
        f"Sitemap: {_absolute(reverse('sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


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
        body = loader.get_template("500.html").render()
    except Exception:  # the last resort must answer whatever happens
        body = "<!DOCTYPE html><title>Server error</title><h1>Server error (500)</h1>"
    return HttpResponseServerError(body)
