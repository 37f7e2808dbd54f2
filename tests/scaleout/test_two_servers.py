"""Two app servers sharing nothing but PostgreSQL and Redis: gunicorn on two ports, as
two hosts would run it, against the test database. A session started on one is
honoured by the other, an editor's write through one is read through the other at
once, and (with Redis) the API's throttling counts requests to both together."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from claims.models import Claim
from factcheck.db.server import uses_embedded_server
from factcheck.drill import Gunicorn, server_environment
from tests.factories import ClaimFactory, EditorFactory, SourceFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "two-servers-password"
REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _test_database_env() -> dict[str, str]:
    """What makes a child process use this test run's database, on either path."""
    name = connection.settings_dict["NAME"]
    if uses_embedded_server():
        return {"EMBEDDED_DATABASE_NAME": name, "EMBEDDED_PGDATA": str(settings.EMBEDDED_PGDATA)}

    def renamed(url: str) -> str:
        return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))

    env = {"DATABASE_URL": renamed(settings.DATABASE_URL)}
    if settings.DATABASE_OWNER_URL:
        env["DATABASE_OWNER_URL"] = renamed(settings.DATABASE_OWNER_URL)
    return env


class Server:
    def __init__(self, gunicorn: Gunicorn):
        self.gunicorn = gunicorn
        self.port = gunicorn.port

    def request(self, method: str, path: str, *, body: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
            answer = conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            conn.close()


@pytest.fixture
def two_servers(tmp_path) -> Iterator[tuple[Server, Server, dict[str, str]]]:
    redis = _redis_answers()
    shared = {
        **_test_database_env(),
        # One secret for both, as two hosts of one site share it (sessions, CSRF).
        "SECRET_KEY": "two-servers-" + "x" * 40,
        "SECURE_COOKIES": "false",
        "WEB_CONCURRENCY": "1",
        "API_ANON_RATE": "5/minute" if redis else "off",
    }
    if redis:
        shared["REDIS_URL"] = "redis://{}:{}/15".format(*REDIS)
    servers = []
    try:
        for name in ("a", "b"):
            env = server_environment(
                extra={
                    **shared,
                    # Each host keeps its own checkpoint log (a file); the signing key
                    # is the same, from the environment.
                    "LEDGER_CHECKPOINT_LOG": str(tmp_path / f"checkpoints-{name}.jsonl"),
                }
            )
            servers.append(Gunicorn(workers=1, env=env, log=tmp_path / f"gunicorn-{name}.log"))
        for gunicorn in servers:
            _wait_until_serving(gunicorn)
        yield Server(servers[0]), Server(servers[1]), shared
    finally:
        for gunicorn in servers:
            gunicorn.stop()
        if redis:
            import redis as redis_client

            redis_client.Redis(*REDIS, db=15).flushdb()


def _wait_until_serving(gunicorn: Gunicorn, timeout: float = 60) -> None:
    """The home page answers (not the API, whose anonymous reads are throttled here)."""
    deadline = time.monotonic() + timeout
    server = Server(gunicorn)
    while time.monotonic() < deadline:
        if gunicorn.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{gunicorn.log_tail()}")
        try:
            if server.request("GET", "/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{gunicorn.log_tail()}")


def _log_in(server: Server, username: str) -> str:
    status, headers, page = server.request("GET", "/admin/login/")
    csrf = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))[1]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
    form = urlencode(
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        }
    ).encode()
    status, headers, _ = server.request(
        "POST",
        "/admin/login/",
        body=form,
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 302, status
    return re.search(r"sessionid=([^;]+)", headers["Set-Cookie"])[1]


def test_a_session_and_a_write_on_one_server_are_seen_on_the_other_at_once(two_servers, settings):
    a, b, _ = two_servers
    editor = EditorFactory(username="two-servers-editor")
    # A hash the servers' own settings verify (the suite's fast hasher is the suite's).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    editor.set_password(PASSWORD)
    editor.save()
    token = Token.objects.create(user=editor).key
    claim = ClaimFactory(slug="seen-on-both", published=True, editor=editor)
    evidence = SourceFactory(slug="two-servers-evidence")

    # Logged in on A; B honours the session (sessions are rows in PostgreSQL).
    session = _log_in(a, editor.username)
    status, _, _ = b.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}"})
    assert status == 200

    # A verdict through A...
    auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
    _, headers, _ = a.request("GET", f"/api/v1/claims/{claim.slug}/", headers=auth)
    status, _, body = a.request(
        "POST",
        f"/api/v1/claims/{claim.slug}/reviews/",
        body=json.dumps(
            {"status": "false", "explanation": "Checked on A.", "evidence": [evidence.slug]}
        ).encode(),
        headers={**auth, "Content-Type": "application/json", "If-Match": headers["ETag"]},
    )
    assert status == 201, body

    # ...is read through B at once, by a reader and by the API.
    status, _, page = b.request("GET", f"/claims/{claim.slug}/")
    assert status == 200 and b"Checked on A." in page
    status, _, detail = b.request("GET", f"/api/v1/claims/{claim.slug}/")
    assert status == 200 and json.loads(detail)["status"]["value"] == "false"
    assert Claim.objects.get(pk=claim.pk).status == "false"


def test_the_throttle_counts_requests_to_both_servers_together(two_servers):
    a, b, shared = two_servers
    if "REDIS_URL" not in shared:
        pytest.skip("no Redis at 127.0.0.1:6379: each server would count alone")
    # Five anonymous API reads a minute, counted in Redis: three on A and two on B
    # use them up, and the sixth is refused wherever it goes.
    statuses = [server.request("GET", "/api/v1/claims/")[0] for server in (a, a, a, b, b)]
    assert statuses == [200] * 5
    assert b.request("GET", "/api/v1/claims/")[0] == 429
    assert a.request("GET", "/api/v1/claims/")[0] == 429
