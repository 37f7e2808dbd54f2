"""Middleware of the project's own."""

from __future__ import annotations

from django.db import transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AtomicWritesMiddleware:
    """A write and the response that reports it stand or fall together.

    A request that may write runs in one transaction that also covers the
    rendering of its response (Django renders template and DRF responses
    before they leave the innermost middleware, which this one is). So a
    response that fails to build (a serializer error, a template error)
    rolls back the write it was about to report, and a client never gets a
    500 for a write that happened anyway. An error answer (4xx, 5xx) rolls
    back too: a refused write changes nothing, whatever ran before the
    refusal.

    What happens after the commit must not fail, so the headers of every
    response are made plain `str` here: WSGI servers refuse a `str` subclass
    (DRF's hyperlinks are one) when they send the headers, long after the
    commit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            response = self.get_response(request)
        else:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
        plain_str_headers(response)
        return response


def plain_str_headers(response) -> None:
    """Make every header value an exact `str`, as PEP 3333 requires of WSGI headers."""
    for name, value in list(response.items()):
        if type(value) is not str:
            response[name] = str(value)
