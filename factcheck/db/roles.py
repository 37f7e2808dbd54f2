"""The two database roles: the owner of the tables, and the app's own role.

The app's role may read the ledger tables and insert into them, and is
granted nothing else there (see `claims.ledger.database`); it owns nothing
and is not a superuser, so it can neither rewrite nor erase the ledger,
whatever it sets in its session. Schema changes need the owner: `migrate`
runs as the owner, and so do the test suite's set-up and resets.

`settings.DATABASES["default"]["OWNER"]` holds the owner's credentials
(USER, and PASSWORD, HOST, PORT where they differ from the app's); without
it both are the same role, which `manage.py check --deploy` reports.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

_lock = threading.Lock()
_owner_depth = 0


def owner_mode_active() -> bool:
    return _owner_depth > 0


def owner_credentials(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Connection parameters that replace the app's when connecting as the owner."""
    owner = settings_dict.get("OWNER") or {}
    params = {}
    if owner.get("USER"):
        params["user"] = owner["USER"]
    if owner.get("PASSWORD"):
        params["password"] = owner["PASSWORD"]
    if owner.get("HOST"):
        params["host"] = owner["HOST"]
    if owner.get("PORT"):
        params["port"] = owner["PORT"]
    return params


def app_role(settings_dict: dict[str, Any]) -> str:
    return settings_dict.get("USER") or ""


def owner_role(settings_dict: dict[str, Any]) -> str:
    return (settings_dict.get("OWNER") or {}).get("USER") or app_role(settings_dict)


def has_separate_owner(settings_dict: dict[str, Any]) -> bool:
    return owner_role(settings_dict) != app_role(settings_dict)


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Connect as the owner of the tables until the block ends.

    Process-wide (not per thread): it is meant for commands and test
    set-up, while nothing else uses the database. The connection is closed
    on the way in and out, so no session of one role is reused by the other.
    """
    global _owner_depth
    connection = connections[using]
    with _lock:
        entering = _owner_depth == 0
        _owner_depth += 1
    if entering:
        connection.close()
    try:
        yield
    finally:
        with _lock:
            _owner_depth -= 1
            leaving = _owner_depth == 0
        if leaving:
            connection.close()
