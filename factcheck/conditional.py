"""Conditional GET for the reader pages, from one "state" query per request.

A page's state function returns a dict of what the page is made of (update
times, counts, digests), with the time of the latest change under
`last_change`, or None when the page does not exist. The ETag hashes the
whole dict and the page's markup version; Last-Modified is `last_change`.
Django's `condition` asks for both separately: the state is computed once
and remembered on the request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from django.http import HttpRequest
from django.views.decorators.http import condition

PageState = Mapping[str, Any]
_View = TypeVar("_View", bound=Callable[..., Any])


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
        payload = markup_version + "|" + "|".join(f"{k}={current[k]}" for k in sorted(current))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def last_modified(request: HttpRequest, *args: Any, **kwargs: Any) -> datetime | None:
        current = remembered(request, *args, **kwargs)
        return current["last_change"] if current else None

    return condition(etag_func=etag, last_modified_func=last_modified)
