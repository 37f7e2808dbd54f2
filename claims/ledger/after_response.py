"""What follows a ledger write, once the writer's answer has gone out.

A ledger write is acknowledged by its commit. What it then calls for is not part of
its durability and may wait: the checkpoint that witnesses it (claims.ledger.
checkpoints) and the CDN's purge of the pages it changed (claims.cdn). Within a
request, each such task runs once when the WSGI server closes the response (after
the last byte went out; Django's test client closes it too), however many entries
the request appended; outside a request (a command, a worker) it runs at once. A
process killed in between leaves the task to the next write or to its command
(`manage.py sign_checkpoint`, `manage.py send_purges`): each task covers everything
before it, so it may lag, never skip.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest
from django.http.response import HttpResponseBase

Task = Callable[[], None]

# Set by the middleware for the length of a request: the tasks its commits called for.
_pending: ContextVar[list[Task] | None] = ContextVar("after_response", default=None)


def after_response(task: Task) -> None:
    """Run `task` once this request's answer has gone out, or now outside a request.
    A task must not raise: it logs its own failures."""
    pending = _pending.get()
    if pending is None:
        task()
    elif task not in pending:
        pending.append(task)


class AfterResponseMiddleware:
    """Runs the tasks a request's ledger writes called for once its answer is sent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        pending: list[Task] = []
        token = _pending.set(pending)
        try:
            response = self.get_response(request)
        except BaseException:
            _pending.reset(token)
            for task in pending:
                task()
            raise
        _pending.reset(token)
        # Run by response.close(), before request_finished and its connection cleanup.
        response._resource_closers.extend(pending)  # type: ignore[attr-defined]
        return response
