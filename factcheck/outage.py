"""503 Service Unavailable, with Retry-After, while the database is unreachable.

An unreachable database is an outage, not a bug: the server is down,
restarting, refusing connections for now, or cut the connection. Clients
should come back in a few seconds, so they get 503 with `Retry-After`:
API clients (under /api/) in the API's error format
(`{"error": {"status": 503, "code": "service_unavailable", ...}}`), readers
the standalone page templates/503.html, rendered without the database. Every
other database error (a constraint, a permission, a missing table, a wrong
password or database name) is a bug or a misconfiguration and stays a 500.

`DatabaseOutageMiddleware` is the one place this is decided, for views and
middleware alike. DRF's exception handler (claims.api.common) leaves
database errors alone, so they reach Django like any view's: an error
raised in a view comes to `process_exception`; one raised by another
middleware (the session or the user loaded for it, the transaction of
AtomicWritesMiddleware) has already become a 500 when it gets here, noted on
the request by the `got_request_exception` receiver, and that 500 is
replaced. Recovery needs nothing: each request opens a new connection if
its persistent one died (CONN_HEALTH_CHECKS in settings).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP

from factcheck.site_views import _api_error, _is_api

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = f"The database is unreachable for the moment. Try again in {RETRY_AFTER_SECONDS} seconds."

# SQLSTATEs of an outage: class 08 (connection exception), the server shutting
# down or cutting sessions (57P01 admin_shutdown, 57P02 crash_shutdown), not
# accepting connections yet (57P03 cannot_connect_now), and too many connections.
OUTAGE_SQLSTATE_PREFIXES = ("08", "57P01", "57P02", "57P03", "53300")
# A failed connection attempt carries no SQLSTATE, only the server's message. The
# server answered "FATAL: ..." when it refused us: a wrong role, password or
# database name is a misconfiguration; these mean it is starting, stopping or full.
TRANSIENT_REFUSALS = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is not yet accepting connections",
    "the database system is not accepting connections",
    "the database system is in recovery mode",
    "sorry, too many clients already",
    "remaining connection slots are reserved",
    "terminating connection due to administrator command",
)

_UNREACHABLE = "_factcheck_database_unreachable"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether `exc` (Django's wrapper or psycopg's own) says the database cannot be
    reached now, as opposed to refusing what was asked of it."""
    import psycopg

    if exc is None:
        return False
    error = next((cause for cause in _causes(exc) if isinstance(cause, psycopg.Error)), None)
    if error is None:
        return False
    if error.sqlstate:
        return error.sqlstate.startswith(OUTAGE_SQLSTATE_PREFIXES)
    message = str(error)
    if isinstance(error, psycopg.OperationalError):
        # No SQLSTATE: the connection failed or was lost on our side of it
        # (refused, no socket, timed out, closed), unless the server said why.
        if "FATAL:" in message:
            return any(refusal in message for refusal in TRANSIENT_REFUSALS)
        return True
    # psycopg's InterfaceError names the connection when it is unusable.
    return isinstance(error, psycopg.InterfaceError) and "the connection is" in message


def unavailable_response(
    request: HttpRequest, replacing: HttpResponse | None = None
) -> HttpResponse:
    """503 with Retry-After: the API's error format under /api/, else the page."""
    response: HttpResponse
    if _is_api(request):
        response = _api_error(503, "service_unavailable", MESSAGE)
    else:
        # The Content-Security-Policy's nonce, for the page's inline style. On its
        # way out this response gets a policy naming it; a replaced response's
        # policy names it only if its page used it.
        nonce = get_nonce(request)
        if replacing is not None and not nonce:
            nonce = None
        try:
            body = loader.get_template("503.html").render(
                {"csp_nonce": nonce, "retry_after": RETRY_AFTER_SECONDS}
            )
        except Exception:  # the last resort must answer whatever happens
            body = "<!DOCTYPE html><title>Unavailable</title><h1>Try again shortly (503)</h1>"
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    if replacing is not None and get_nonce(request):
        for header in (CSP.HEADER_ENFORCE, CSP.HEADER_REPORT_ONLY):
            if header in replacing:
                response[header] = replacing[header]
    return response


def _note_unreachable(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """got_request_exception: sent, with the exception being handled, just before
    Django turns it into a 500."""
    if request is not None and database_unreachable(sys.exc_info()[1]):
        setattr(request, _UNREACHABLE, True)


class DatabaseOutageMiddleware:
    """503 with Retry-After instead of 500 while the database is unreachable.

    Outside every middleware that may touch the database (sessions,
    authentication, the edit history's context, AtomicWritesMiddleware), so
    that it sees their failures too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        got_request_exception.connect(_note_unreachable, dispatch_uid=__name__)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _UNREACHABLE, False):
            return unavailable_response(request, replacing=response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unreachable(exception):
            return None
        logger.warning(
            "Database unreachable, answered 503: %s %s: %s", request.method, request.path, exception
        )
        return unavailable_response(request)
