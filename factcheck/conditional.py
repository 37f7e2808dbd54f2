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
from collections.abc import Callable

from django.views.decorators.http import condition


def page_condition(markup_version: str, state: Callable[..., dict | None]):
    """`condition(...)` for a view whose freshness `state(request, **kwargs)` describes.

    Bump `markup_version` when the template changes, so clients refetch.
    """

    def remembered(request, *args, **kwargs) -> dict | None:
        memo = request.__dict__.setdefault("_page_states", {})
        key = (state, args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = state(request, *args, **kwargs)
        return memo[key]

    def etag(request, *args, **kwargs) -> str | None:
        current = remembered(request, *args, **kwargs)
        if current is None:
            return None
        payload = markup_version + "|" + "|".join(f"{k}={current[k]}" for k in sorted(current))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def last_modified(request, *args, **kwargs):
        current = remembered(request, *args, **kwargs)
        return current["last_change"] if current else None

    return condition(etag_func=etag, last_modified_func=last_modified)
