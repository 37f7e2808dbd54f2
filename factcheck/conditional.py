"""Conditional GET for the reader pages, from one "state" query per request.

A page's state function returns a dict of what the page is made of (update
times, counts, digests), with the time of the latest change under
`last_change`, or None when the page does not exist. The ETag hashes the
whole dict and the page's markup version; Last-Modified is `last_change`.
Django's `condition` asks for both separately: the state is computed once
and remembered on the request.

An anonymous conditional GET does not even need the view: AnonymousNotModified
(a middleware outside sessions, CSRF, authentication and the rest) asks the
view's validators, found by resolving the path, and answers 304 itself when
nothing changed. A 304 then costs the state query and little more than a
hello-world view. Anything else (a 200, a 404, a request with credentials)
goes down the whole stack as before, the state already remembered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import condition

from factcheck.db.routers import read_alias

PageState = Mapping[str, Any]

# Every page's ETag carries it: bump it when templates/base.html (the header, the
# footer's links) changes, so that no reader keeps a page with the old frame.
BASE_MARKUP_VERSION = "base-2"
_View = TypeVar("_View", bound=Callable[..., Any])
# A reader page may be kept this long by browsers and shared caches, as the API's
# anonymous reads; then a revalidation costs one query. A CDN may keep it longer
# (s-maxage, claims.cdn), and is told when it changes; a browser is not.
READER_MAX_AGE = 60


def mark_reader_page(request: HttpRequest) -> None:
    """This answer is a reader page's: `public` for READER_MAX_AGE unless its view (or a
    decorator around it) says otherwise, which claims.cdn.SharedCacheMiddleware sees
    to once every decorator has had its say (and makes `private` for a logged-in
    reader)."""
    request.is_reader_page = True  # type: ignore[attr-defined]


def default_cache_control(request: HttpRequest, response: HttpResponseBase) -> None:
    if (
        getattr(request, "is_reader_page", False)
        and response.status_code in (200, 304)
        and not response.has_header("Cache-Control")
    ):
        patch_cache_control(response, public=True, max_age=READER_MAX_AGE)


def page_condition(
    markup_version: str, state: Callable[..., PageState | None]
) -> Callable[[_View], _View]:
    """`condition(...)` for a view whose freshness `state(request, **kwargs)` describes.

    Bump `markup_version` when the template changes, so clients refetch.
    """

    def remembered(request: HttpRequest, *args: Any, **kwargs: Any) -> PageState | None:
        memo: dict[tuple[object, ...], PageState | None]
        memo = request.__dict__.setdefault("_page_states", {})
        key = (state, args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = state(request, *args, **kwargs)
        return memo[key]

    def etag(request: HttpRequest, *args: Any, **kwargs: Any) -> str | None:
        current = remembered(request, *args, **kwargs)
        if current is None:
            return None
        payload = f"{BASE_MARKUP_VERSION}|{markup_version}|" + "|".join(
            f"{k}={current[k]}" for k in sorted(current)
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def last_modified(request: HttpRequest, *args: Any, **kwargs: Any) -> datetime | None:
        current = remembered(request, *args, **kwargs)
        return current["last_change"] if current else None

    def anonymous_not_modified(request: HttpRequest, *args: Any, **kwargs: Any):
        tag = etag(request, *args, **kwargs)
        if tag is None:
            return None
        changed = last_modified(request, *args, **kwargs)
        response = not_modified(
            request, quote_etag(tag), int(changed.timestamp()) if changed else None
        )
        if response is not None:
            # What the middlewares it skipped add to the page's own 304.
            patch_vary_headers(response, ["Cookie"])
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
            mark_reader_page(request)
        return response

    def decorator(view: _View) -> _View:
        conditional = condition(etag_func=etag, last_modified_func=last_modified)(view)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            mark_reader_page(request)
            return conditional(request, *args, **kwargs)

        wrapped.anonymous_not_modified = anonymous_not_modified  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def not_modified(
    request: HttpRequest, etag: str | None, last_modified: int | None
) -> HttpResponse | None:
    """A 304 with the validators, when the request's own say nothing changed; else None."""
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None or response.status_code != 304:
        return None
    if last_modified:
        response.headers["Last-Modified"] = http_date(last_modified)
    if etag:
        response.headers["ETag"] = etag
    return response


def carries_credentials(request: HttpRequest) -> bool:
    """A session cookie or an Authorization header: someone who may see more than
    the public does, so not one for the anonymous shortcut."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES or "authorization" in request.headers


class AnonymousNotModifiedMiddleware:
    """304 for an anonymous conditional GET whose page has not changed, answered
    from the view's validators (`anonymous_not_modified` on the view, or on its
    class for a DRF viewset's action) before the rest of the stack runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in ("GET", "HEAD")
            and ("if-none-match" in request.headers or "if-modified-since" in request.headers)
            and not carries_credentials(request)
        ):
            response = self.answer(request)
            if response is not None:
                return response
        return self.get_response(request)

    @staticmethod
    def answer(request: HttpRequest) -> HttpResponse | None:
        try:
            match = _resolve(request.path_info, settings.ROOT_URLCONF)
        except Resolver404:
            return None
        view: Any = match.func
        validators = getattr(view, "anonymous_not_modified", None)
        if validators is None and hasattr(view, "actions"):
            # A DRF viewset's action: its class says, by action name.
            action = view.actions.get(str(request.method).lower()) or view.actions.get("get")
            validators = getattr(view.cls, "anonymous_not_modified", {}).get(action)
        if validators is None:
            return None
        return _without_health_check(validators, request, *match.args, **match.kwargs)


@lru_cache(maxsize=4096)
def _resolve(path: str, urlconf: str) -> ResolverMatch:
    """resolve(), remembered per path: a revalidated page is asked for again and
    again, and matching its path cost a tenth of the 304."""
    return resolve(path, urlconf)


def _without_health_check(validators: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The validators' one query, on the kept connection without Django's per-request
    health check first (CONN_HEALTH_CHECKS: a SELECT 1, a round trip as long as the
    query itself). If the query fails (a restarted server, a dead connection), the
    check is left to run, and the whole stack answers: it reconnects, or says 503.

    With read replicas, the connection is the one the request reads from
    (factcheck.db.read_routing routes before this middleware runs): the stamp must
    come from the database the page would be built from. A stamp from the primary
    newer than a replica's page would tag old content with a new ETag, and later
    304s would keep readers on that old content until the next change; a stamp
    from the same replica, read before the page, is never newer than the page."""
    database: Any = connections[read_alias()]  # health_check_done: not in Django's stubs
    if database.connection is None or database.health_check_done:
        return validators(*args, **kwargs)
    database.health_check_done = True
    try:
        return validators(*args, **kwargs)
    except DatabaseError:
        database.health_check_done = False
        return None
