"""The benchmark's databases: separate ones on the project's server, one per size.

`factcheck_bench_10k`, `factcheck_bench_1m`...: on the embedded server by
default, or on DATABASE_URL's server. The generator writes them as that
server's superuser (the embedded server's own; for DATABASE_URL's, the role
of BENCH_SUPERUSER_URL, by default `postgres` on the same host): only a
superuser may turn the per-row triggers off for a bulk load. The project
itself (migrate, verify_ledger, gunicorn) reaches a bench database through
`environment(name)`, as its usual roles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from factcheck.db import roles

PREFIX = "factcheck_bench_"


def database_name(claims: int) -> str:
    """factcheck_bench_10k, factcheck_bench_1m, factcheck_bench_2500."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if claims >= unit and claims % unit == 0:
            return f"{PREFIX}{claims // unit}{suffix}"
    return f"{PREFIX}{claims}"


def size_label(claims: int) -> str:
    return database_name(claims).removeprefix(PREFIX)


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    value = int(float(number) * factor)
    if value < 100:
        raise ValueError(f"a size of at least 100 claims, got {text!r}")
    return value


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass(frozen=True)
class Server:
    """Where the bench databases live, and how to reach them."""

    embedded: bool
    superuser: dict[str, Any]  # psycopg.connect() keywords, without dbname
    owner: str
    app: str

    def connect_kwargs(self, name: str) -> dict[str, Any]:
        return {**self.superuser, "dbname": name}

    def environment(self, name: str) -> dict[str, str]:
        """Environment variables that point the project at database `name`."""
        if self.embedded:
            return {"EMBEDDED_DATABASE_NAME": name}
        env = {"DATABASE_URL": _with_database(settings.DATABASE_URL, name)}
        if settings.DATABASE_OWNER_URL:
            env["DATABASE_OWNER_URL"] = _with_database(settings.DATABASE_OWNER_URL, name)
        return env

    def exists(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True) as conn:
            return bool(
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            )

    def comment(self, name: str) -> str | None:
        import psycopg

        with psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True) as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [name],
            ).fetchone()
        return row[0] if row else None

    def create(self, name: str) -> None:
        """Drop database `name` if it exists and create it afresh, owned by the owner."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True) as conn:
            for role, options in ((self.owner, "LOGIN CREATEDB"), (self.app, "LOGIN")):
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(self.owner)
                )
            )

    def drop(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server() -> Server:
    """The project's server: the embedded one (started or joined), or DATABASE_URL's."""
    settings_dict = settings.DATABASES[DEFAULT_DB_ALIAS]
    owner, app = roles.owner_role(settings_dict), roles.app_role(settings_dict)
    if settings_dict["ENGINE"] == "factcheck.db.embedded":
        from factcheck.db.server import ensure_server

        endpoint = ensure_server(settings.EMBEDDED_PGDATA)
        superuser = {"host": endpoint.host, "port": endpoint.port, "user": endpoint.user}
        return Server(True, superuser, owner, app)
    url = os.environ.get("BENCH_SUPERUSER_URL")
    if url:
        parts = urlsplit(url)
        superuser = {
            "host": parts.hostname or "",
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
        }
        if parts.password:
            superuser["password"] = parts.password
    else:
        superuser = {
            "host": settings_dict.get("HOST") or "",
            "port": settings_dict.get("PORT") or 5432,
            "user": "postgres",
        }
    return Server(False, superuser, owner, app)
