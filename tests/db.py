"""Reaching the test database as its owner, as an attacker with the owner's rights would;
and the reader stamp's triggers fired at each statement (stamp_at_each_statement).

The suite connects as the app's role (factcheck.db.roles); these helpers open
a separate session as the owner of the tables. Being another session, it
sees only committed data: use them in transactional tests.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from claims.freshness import STAMP_TRIGGERS
from factcheck.db.roles import has_separate_owner, owner_credentials


def owner_connect() -> psycopg.Connection:
    connection.ensure_connection()  # the embedded backend fills in HOST and PORT
    settings_dict = connection.settings_dict
    params = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"],
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"],
    }
    params.update(owner_credentials(settings_dict))
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def owner_sql(*statements: str | tuple[str, list]) -> None:
    """Run statements as the owner, in one transaction."""
    with owner_connect() as conn, conn.transaction():
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, [])
            conn.execute(sql, params)


def separate_roles() -> bool:
    return has_separate_owner(connection.settings_dict)


@pytest.fixture(autouse=True)
def stamp_at_each_statement(request):
    """The reader pages' change stamp (claims.freshness) is bumped by triggers deferred
    to commit. A test runs in one transaction that never commits, so here they fire at
    each statement instead: a page fetched after an edit in the same test sees the new
    stamp. (Autouse where a conftest imports it.)"""
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {', '.join(STAMP_TRIGGERS)} IMMEDIATE")
