"""Statements run as server-side prepared statements, and ORM queries compiled once.

Django binds parameters on the client and never prepares, so PostgreSQL parses
and plans every statement anew: for the API claim detail, planning took 0.7 ms
of a 0.9 ms statement; for the reader pages' one-row change stamp, the round
trip is most of a 304. Prepared once per connection (Django keeps one per
worker, CONN_MAX_AGE), they run without. DATABASE_PREPARED_STATEMENTS=false
(settings) turns preparation off for poolers that cannot keep prepared
statements; the statements then run as plain server-bound ones.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import QuerySet

from factcheck.db.routers import read_alias

# Django defines it only with psycopg 3 installed, which the type checker cannot see.
_ServerBindingCursor: Any = ServerBindingCursor


class _PreparingCursor(_ServerBindingCursor):  # type: ignore[misc]
    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None
    ) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor(using: str | None = None) -> Any:
    """A cursor of Django's (health-checked, logged and wrapped as any other) whose
    statements are prepared. Parameters are `%s`, bound by the server: a value's
    type must be clear from the statement (`%s::date`) where PostgreSQL cannot infer it.

    On the database the request reads from (factcheck.db.routers: a replica for a
    reader's GET, else the primary) unless `using` says: these are the reads of the
    pages and the API built through the router, and the change stamp among them must
    come from the same database as the page it stamps."""
    connection = connections[using or read_alias()]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw: Any = _PreparingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@dataclass(frozen=True)
class Compiled:
    """A `.values()` query as SQL, with where each marked value goes."""

    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    slots: dict[str, tuple[int, ...]]

    def rows(self, **values: Any) -> list[dict[str, Any]]:
        params = list(self.params)
        for name, places in self.slots.items():
            for at in places:
                params[at] = values[name]
        with prepared_cursor() as cursor:
            cursor.execute(self.sql, params)
            return [dict(zip(self.names, row, strict=True)) for row in cursor.fetchall()]


_COMPILED: dict[Hashable, Compiled] = {}


def compiled(key: Hashable, build: Callable[..., QuerySet[Any]], **marks: Any) -> Compiled:
    """`build(**marks)` compiled, once per `key` (which must name everything that
    shapes the SQL). Each mark is a value no request would send, found among the
    compiled parameters (once or more) so that a request's value can take its place."""
    found = _COMPILED.get(key)
    if found is None:
        query = build(**marks).query
        sql, params = query.sql_with_params()
        slots = {}
        for name, mark in marks.items():
            places = tuple(i for i, param in enumerate(params) if param == mark)
            if not places:
                raise ValueError(f"{name}: its mark is none of the parameters of {key!r}.")
            slots[name] = places
        names = (*query.values_select, *query.annotation_select)
        found = _COMPILED[key] = Compiled(sql, tuple(params), names, slots)
    return found
