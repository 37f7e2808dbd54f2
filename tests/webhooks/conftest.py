"""A real HTTP receiver on 127.0.0.1 (a random port), and a subscriber's verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from claims.webhooks.models import WebhookSubscription


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next scripted reply (200 "ok" once they run out)
    and keeps what it was sent."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self.closing = threading.Event()
        self.url = ""
        # Set once a request has been answered (a worker's loop stops on it, say).
        self.answered = threading.Event()

    def then(self, *replies: Reply) -> Receiver:
        self.replies.extend(replies)
        return self

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if self.replies else Reply()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.received.append(Received(self.path, headers, body))
            reply = receiver.next_reply()
            if reply.delay:
                receiver.closing.wait(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
            receiver.answered.set()

        def log_message(self, format, *args) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (the timeout test) is no failure of the receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    host, port = server.server_address[:2]
    receiver.url = f"http://{host}:{port}/hooks/factcheck"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield receiver
    receiver.closing.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 3600
    settings.SITE_URL = "https://factcheck.example.org"


@pytest.fixture
def subscription(db, receiver, editor):
    return WebhookSubscription.objects.create(url=receiver.url, created_by=editor)


def subscriber_accepts(secret: str, received: Received, *, tolerance: int = 300) -> bool:
    """What a subscriber does with a request, following the Standard Webhooks spec by
    itself (not with the sender's code): the key is the base64 after `whsec_`; the
    signed content is `id.timestamp.body`; any `v1,` signature may match; the
    timestamp must be recent."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = f"{message_id}.{timestamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (
            given.partition(",") for given in received.headers["webhook-signature"].split()
        )
    )


def unreachable_url() -> str:
    """An address on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
