"""`Server-Timing: app;dur=…` on every response, when SERVER_TIMING is on.

The milliseconds from the outermost middleware receiving the request to its
answer, the transaction's commit included (W3C Server Timing: browsers' developer
tools and `make bench` read it). What runs after the answer has gone out (a
checkpoint's signature, claims.ledger.checkpoints) is not in it, nor the HTTP
server's parsing. Off by default: timings tell an outsider something about what
a request did.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response
