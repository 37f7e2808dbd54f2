"""503 with Retry-After while the database is unreachable (factcheck.outage), and
500 for every other database error; the app recovers by itself.

What counts as unreachable is decided on real errors: connections refused by
a closed port, a role or a database the server does not know, a session the
server cut, a constraint, a permission. Then the requests: in process with
the project's connection pointed at a closed port, and through gunicorn on a
scratch embedded server that is stopped for real and started again.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.test import Client

from claims.models import Speaker
from factcheck.outage import RETRY_AFTER_SECONDS, database_unreachable
from tests.factcheck.embedded import (
    PROJECT_ROOT,
    TIMEOUT,
    embedded_env,
    postmasters_in,
    wait_until_no_postmaster,
)


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_params(**overrides) -> dict:
    """The project's own connection parameters (its app role), for a session of our own."""
    connection.ensure_connection()  # the embedded backend fills in HOST and PORT
    settings_dict = connection.settings_dict
    params = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"],
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"],
        "connect_timeout": 10,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


def raised(action) -> BaseException:
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


# --- What an outage is ---------------------------------------------------------------


def test_a_refused_connection_is_an_outage():
    error = raised(
        lambda: psycopg.connect(
            host="127.0.0.1", port=closed_port(), dbname="factcheck", user="factcheck_app"
        )
    )
    assert "refused" in str(error)
    assert database_unreachable(error)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"user": "no_such_role", "password": "wrong"}, ("no_such_role",)),
        ({"dbname": "no_such_database"}, ("no_such_database",)),
    ],
)
def test_a_connection_the_server_refuses_by_name_is_a_misconfiguration(overrides, words):
    error = raised(lambda: psycopg.connect(**connect_params(**overrides)))
    assert "FATAL" in str(error) and all(word in str(error) for word in words)
    assert not database_unreachable(error)


@pytest.mark.django_db
def test_a_session_the_server_cuts_is_an_outage_and_so_is_the_dead_connection():
    session = psycopg.connect(**connect_params(), autocommit=True)
    try:
        pid = session.info.backend_pid
        with connection.cursor() as cursor:  # as a fast shutdown does to every session
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        cut = raised(lambda: session.execute("SELECT 1"))
        assert isinstance(cut, psycopg.errors.AdminShutdown), cut
        assert database_unreachable(cut)
        again = raised(lambda: session.execute("SELECT 1"))
        assert "closed" in str(again)
        assert database_unreachable(again)
    finally:
        session.close()


def in_savepoint(action) -> BaseException:
    """What `action` raises, rolled back to a savepoint, so the test can go on."""

    def run():
        with transaction.atomic():
            action()

    return raised(run)


def sql(*statements: str):
    def run():
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


@pytest.mark.django_db
def test_constraints_permissions_and_timeouts_are_bugs_not_outages(speaker):
    duplicate = in_savepoint(lambda: Speaker.objects.create(name="Again", slug=speaker.slug))
    assert isinstance(duplicate, IntegrityError)
    # The app's role may not rewrite the ledger (factcheck.db.roles).
    forbidden = in_savepoint(sql("DELETE FROM claims_review"))
    assert isinstance(forbidden, DatabaseError)
    assert isinstance(forbidden.__cause__, psycopg.errors.InsufficientPrivilege)
    slow = in_savepoint(sql("SET LOCAL statement_timeout = 10", "SELECT pg_sleep(1)"))
    assert isinstance(slow.__cause__, psycopg.errors.QueryCanceled)

    for error in (duplicate, forbidden, slow, ValueError("not the database")):
        assert not database_unreachable(error), error


@pytest.mark.parametrize(
    "state", ["the database system is starting up", "the database system is shutting down"]
)
def test_a_server_starting_or_stopping_is_an_outage(state):
    # What PostgreSQL answers a connection while it starts or stops (no SQLSTATE
    # reaches the client: the message is all there is).
    error = psycopg.OperationalError(
        'connection failed: connection to server on socket "/tmp/x/.s.PGSQL.5432" failed: '
        f"FATAL:  {state}"
    )
    assert database_unreachable(error)


# --- What clients get -----------------------------------------------------------------


@pytest.fixture
def point_database(django_db_blocker, monkeypatch):
    """Point the project's connection elsewhere (host, port, user...) for one test."""
    wrapper = connections["default"]
    original = wrapper.get_connection_params

    def point(**overrides):
        monkeypatch.setattr(wrapper, "get_connection_params", lambda: {**original(), **overrides})
        wrapper.close()

    with django_db_blocker.unblock():
        yield point
        monkeypatch.undo()
        wrapper.close()


@pytest.fixture
def database_down(point_database):
    """The database server is down: connecting is refused."""
    point_database(host="127.0.0.1", port=closed_port())


@pytest.fixture
def site():
    # Errors raised outside views become responses, not test failures.
    return Client(raise_request_exception=False)


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # The view's query fails.
        ("get", "/api/v1/claims/"),
        # The transaction of AtomicWritesMiddleware fails to begin, before any view.
        ("post", "/api/v1/claims/some-claim/reviews/"),
    ],
)
def test_the_api_answers_503_in_its_error_format(database_down, site, method, path):
    if method == "post":
        response = site.post(path, {"status": "false"}, content_type="application/json")
    else:
        response = site.get(path)

    assert_unavailable(response)
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["status"] == 503
    assert error["code"] == "service_unavailable"
    assert "Try again" in error["message"]
    assert error["fields"] == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/claims/"), ("get", "/"), ("post", "/admin/login/?next=/admin/")],
)
def test_pages_answer_503_with_a_page_that_needs_no_database(database_down, site, method, path):
    response = getattr(site, method)(path)

    assert_unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "briefly unavailable" in page
    assert f"try again in {RETRY_AFTER_SECONDS} seconds" in page


def test_a_misconfigured_database_stays_a_500(point_database, site):
    point_database(user="no_such_role", password="wrong")

    api = site.get("/api/v1/claims/")
    page = site.get("/claims/")

    assert api.status_code == 500
    assert api.json()["error"]["code"] == "server_error"
    assert "Retry-After" not in api
    assert page.status_code == 500
    assert "Retry-After" not in page


# --- A real outage, through the production server ---------------------------------------------


def _get(base: str, path: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(base + path, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.slow
def test_gunicorn_answers_503_while_the_database_is_stopped_and_recovers_by_itself(short_dir):
    pgdata = short_dir / "pgdata"
    env = embedded_env(pgdata)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "factcheck.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                if _get(base, "/api/v1/claims/")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
        assert _get(base, "/claims/")[0] == 200

        # The database goes down: a fast shutdown, as `pg_ctl stop -m fast` does.
        (postmaster,) = [
            p
            for p in postmasters_in(pgdata)
            if p.ppid() not in {q.pid for q in postmasters_in(pgdata)}
        ]
        postmaster.send_signal(signal.SIGINT)
        assert wait_until_no_postmaster(pgdata) == []

        status, headers, body = _get(base, "/api/v1/claims/")
        assert (status, headers.get("Retry-After")) == (503, str(RETRY_AFTER_SECONDS))
        assert json.loads(body)["error"]["code"] == "service_unavailable"
        status, headers, body = _get(base, "/claims/")
        assert (status, headers.get("Retry-After")) == (503, str(RETRY_AFTER_SECONDS))
        assert "briefly unavailable" in body

        # Another process of the project starts it again, as the embedded server
        # starts for whoever needs it first; gunicorn's worker reconnects by itself.
        starter = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); "
                "from django.db import connection; connection.ensure_connection()",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert starter.returncode == 0, starter.stderr
        assert postmasters_in(pgdata), "the server stopped with the process that started it"
        assert _get(base, "/api/v1/claims/")[0] == 200
        assert _get(base, "/claims/")[0] == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
        print(f"--- gunicorn output ---\n{output}")

    # Its last user gone, the restarted server is stopped too.
    assert wait_until_no_postmaster(pgdata) == []
