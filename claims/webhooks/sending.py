"""One POST to a subscriber, with the standard library's HTTP client.

A timeout on connecting and on each read, no redirect followed (a 3xx is a
failed attempt: a subscriber that moved says so by changing its URL in the
admin), and at most `EXCERPT_BYTES` of the answer read, so a receiver can
neither hold the worker nor fill the log.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

EXCERPT_BYTES = 1024
USER_AGENT = "factcheck-ledger-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    response_excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


_opener = urllib.request.build_opener(_NoRedirects)


def _excerpt(stream) -> str:
    try:
        data = stream.read(EXCERPT_BYTES)
    except (OSError, http.client.HTTPException):
        return ""
    return data.decode("utf-8", errors="replace")


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """POST `body` to `url`; never raises for what the network or the receiver does."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    if urlsplit(url).scheme not in {"http", "https"}:
        return Outcome(None, 0, error=f"not an http or https URL: {url!r}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            excerpt = _excerpt(response)
            return Outcome(response.status, elapsed(), excerpt)
    except urllib.error.HTTPError as exc:
        with exc:
            excerpt = _excerpt(exc)
            error = f"HTTP {exc.code}"
            if 300 <= exc.code < 400:
                error += f": redirect to {exc.headers.get('Location', '?')!r} not followed"
            return Outcome(exc.code, elapsed(), excerpt, error)
    except urllib.error.URLError as exc:
        return Outcome(None, elapsed(), error=f"{type(exc.reason).__name__}: {exc.reason}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # TimeoutError while reading, a connection reset, a malformed answer or URL.
        return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}")
