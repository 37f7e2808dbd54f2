"""Every write route of the API, once, through the servers people really run.

The test client never sends a response through a WSGI server, so it cannot
see what a server refuses after the view has committed (a header that is a
`str` subclass made `make run` answer 500 to a claim it had stored). Here
the project is started as `make run` starts it (`manage.py runserver`) and
as the README's production section starts it (gunicorn, DEBUG off), on
loopback, against the test database; each write must answer the status the
OpenAPI schema documents, a `Location` must resolve, and an error answer
must leave every table as it was.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from claims.ledger import checkpoints
from claims.models import Appearance, Claim, Quote, Review, Speaker, Topic
from sources.models import Source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STARTUP_TIMEOUT_S = 60
WATCHED_MODELS = (Speaker, Topic, Source, Claim, Quote, Appearance, Review)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(*, debug: bool) -> dict[str, str]:
    """The environment of a server process pointed at this run's test database."""
    env = dict(os.environ)
    test_database = connection.settings_dict["NAME"]
    if settings.DATABASE_URL:
        for variable in ("DATABASE_URL", "DATABASE_OWNER_URL"):
            if getattr(settings, variable):
                url = urlsplit(getattr(settings, variable))
                env[variable] = urlunsplit(url._replace(path=f"/{test_database}"))
    else:
        env["EMBEDDED_DATABASE_NAME"] = test_database
    env["DEBUG"] = "true" if debug else "false"
    if not debug:
        env.update(
            SECRET_KEY="real-server-smoke-test-key-" + "x" * 40,
            ALLOWED_HOSTS="127.0.0.1",
            # Plain HTTP on loopback, with no TLS proxy in front to redirect to.
            SECURE_SSL_REDIRECT="false",
        )
    # The servers sign checkpoints with this run's key, into this test's log.
    env["LEDGER_SIGNING_KEY"] = settings.LEDGER_SIGNING_KEY
    env["LEDGER_CHECKPOINT_LOG"] = str(settings.LEDGER_CHECKPOINT_LOG)
    env["PYTHONUNBUFFERED"] = "1"
    return env


SERVERS = {
    # What `make run` runs (without the autoreloader, which only restarts it).
    "runserver": (
        lambda port: [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        True,
    ),
    # The README's production command, with its configuration file.
    "gunicorn": (
        lambda port: [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "factcheck/gunicorn.conf.py",
            "factcheck.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        False,
    ),
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict | list | None


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen

    def request(self, method: str, path: str, *, token: str = "", body=None, headers=None):
        url = path if path.startswith("http") else self.base_url + path
        request = urllib.request.Request(url, method=method)
        request.add_header("Accept", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, data=data, timeout=30) as response:
                status, raw, answer_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, answer_headers = error.code, error.read(), error.headers
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"unparsed": raw.decode(errors="replace")[:500]}
        return Answer(status, dict(answer_headers.items()), parsed)


@pytest.fixture(params=sorted(SERVERS))
def server(request, transactional_db) -> Iterator[Server]:
    command, debug = SERVERS[request.param]
    port = _free_port()
    process = subprocess.Popen(
        command(port),
        cwd=settings.BASE_DIR,
        env=_server_env(debug=debug),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"{request.param} exited at start:\n{process.stdout.read()}")
            try:
                if running.request("GET", "/api/v1/ratings").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{request.param} did not answer within {STARTUP_TIMEOUT_S} s")
            time.sleep(0.2)
        yield running
    finally:
        # SIGINT lets both servers exit cleanly (and leave the embedded
        # database's list of its users).
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        # pytest shows this only when the test fails: the server's own log.
        print(f"--- {request.param} output ---\n{output}")


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WATCHED_MODELS}


def _documented_statuses(schema: dict, path: str, method: str) -> set[int]:
    """The statuses the OpenAPI schema documents for a concrete path and method."""
    concrete = path.split("?")[0].rstrip("/").split("/")
    for template, operations in schema["paths"].items():
        parts = template.rstrip("/").split("/")
        matches = len(parts) == len(concrete) and all(
            a == b or a.startswith("{") for a, b in zip(parts, concrete, strict=True)
        )
        if matches and method.lower() in operations:
            return {int(code) for code in operations[method.lower()]["responses"]}
    raise AssertionError(f"{method} {path} is not in the OpenAPI schema")


def test_every_write_route_answers_as_documented(server, editor, contributor):
    editor_token = Token.objects.create(user=editor).key
    contributor_token = Token.objects.create(user=contributor).key
    schema_answer = server.request(
        "GET", "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    assert schema_answer.status == 200
    schema = schema_answer.body

    def write(method, path, expected, *, token=contributor_token, body=None, headers=None):
        before = _row_counts()
        answer = server.request(method, path, token=token, body=body, headers=headers)
        if answer.status >= 400:
            assert _row_counts() == before, f"{method} {path} answered {answer.status} but wrote"
        assert answer.status == expected, (method, path, answer.status, answer.body)
        assert answer.status in _documented_statuses(schema, path, method)
        if answer.status == 201:
            location = answer.headers["Location"]
            resolved = server.request("GET", location, token=token)
            assert resolved.status == 200, (location, resolved.status)
        return answer

    api = "/api/v1"
    write(
        "POST",
        f"{api}/speakers/",
        201,
        body={"slug": "ada-example", "name": "Ada Example", "kind": "person"},
    )
    write("PATCH", f"{api}/speakers/ada-example/", 200, body={"role": "Minister of Ports"})
    write(
        "PUT",
        f"{api}/speakers/ada-example/",
        200,
        body={"slug": "ada-example", "name": "Ada Example", "kind": "person", "role": "Minister"},
    )
    write("POST", f"{api}/topics/", 201, body={"slug": "ports", "name": "Ports"})
    write("PATCH", f"{api}/topics/ports/", 200, body={"name": "Ports and harbours"})
    write("PUT", f"{api}/topics/ports/", 200, body={"slug": "ports", "name": "Ports"})
    snapshot = "The minister said the port handled 12 million tonnes last year."
    write(
        "POST",
        f"{api}/sources/",
        201,
        body={"slug": "port-article", "title": "Port article", "snapshot": snapshot},
    )
    write("PATCH", f"{api}/sources/port-article/", 200, body={"outlet": "Harbour News"})
    write(
        "PUT",
        f"{api}/sources/port-article/",
        200,
        body={"slug": "port-article", "title": "Port article", "snapshot": snapshot},
    )
    claim_body = {
        "slug": "port-12-million-tonnes",
        "statement": "The port handled 12 million tonnes last year.",
        "speaker": "ada-example",
        "kind": "numeric",
        "quantity": "12000000",
        "unit": "t",
        "topics": ["ports"],
    }
    created = write("POST", f"{api}/claims/", 201, body=claim_body)
    assert created.headers["ETag"]
    claim_path = f"{api}/claims/port-12-million-tonnes/"
    edited = write(
        "PATCH",
        claim_path,
        200,
        body={"unit": "[ston_av]"},
        headers={"If-Match": created.headers["ETag"]},
    )
    write(
        "PUT",
        claim_path,
        200,
        body=claim_body,
        headers={"If-Match": edited.headers["ETag"]},
    )
    quote = write(
        "POST",
        f"{api}/quotes/",
        201,
        body={
            "source": "port-article",
            "speaker": "ada-example",
            "words": "the port handled 12 million tonnes last year",
            "kind": "reported",
        },
    )
    appearance = write(
        "POST",
        f"{api}/appearances/",
        201,
        body={
            "claim": "port-12-million-tonnes",
            "source": "port-article",
            "quote": quote.body["id"],
        },
    )
    verdict = write(
        "POST",
        f"{claim_path}reviews/",
        201,
        token=editor_token,
        body={
            "status": "false",
            "explanation": "The port's report gives 9.8 million tonnes.",
            "evidence": ["port-article"],
            "version": 1,
        },
    )
    assert verdict.headers["ETag"]
    corrected = write(
        "POST",
        f"{claim_path}corrections",
        201,
        token=editor_token,
        headers={"If-Match": verdict.headers["ETag"]},
        body={
            "correction_class": "typo",
            "reason": "The unit was misspelt.",
            "unit": "kg",
        },
    )
    published = write(
        "POST",
        f"{claim_path}publish",
        200,
        token=editor_token,
        headers={"If-Match": corrected.headers["ETag"]},
        body={},
    )
    write(
        "POST",
        f"{claim_path}unpublish",
        200,
        token=editor_token,
        headers={"If-Match": published.headers["ETag"]},
        body={"explanation": "Attributed to the wrong minister."},
    )
    write(
        "DELETE",
        f"{api}/appearances/{appearance.body['id']}/",
        204,
        token=editor_token,
    )
    # Refusals change nothing either: a contributor's verdict, a stale version.
    write(
        "POST",
        f"{claim_path}reviews/",
        403,
        body={"status": "true", "explanation": "Looks right.", "version": 5},
    )
    write(
        "POST",
        f"{claim_path}reviews/",
        409,
        token=editor_token,
        body={
            "status": "true",
            "explanation": "Looks right.",
            "evidence": ["port-article"],
            "version": 1,
        },
    )

    stored = Claim.objects.get(slug="port-12-million-tonnes")
    assert (stored.status, stored.version, stored.is_published) == ("false", 5, False)
    assert stored.unit == "kg"
    assert Review.objects.filter(claim=stored).count() == 4
    # Each server signed checkpoints as the ledger grew: the latest covers every entry.
    # A server signs once its answer is out, so the last signature may trail it briefly.
    deadline = time.monotonic() + 10
    while checkpoints.latest().size != Review.objects.count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoints.latest().size == Review.objects.count()
    assert not Appearance.objects.filter(claim=stored).exists()
