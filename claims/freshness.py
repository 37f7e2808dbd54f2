"""When the reader pages last changed, and how many published claims they show,
from tables the database keeps current itself (migration 0008).

The change stamp is one row, bumped by deferred triggers on every table a
reader page shows (claims, speakers, topics and their links, quotes,
appearances, sources, the ledger and its evidence, editors' usernames). The
bump is an UPDATE at the writer's commit, so the new stamp is visible in the
same instant as what it stamps: read first, it is never newer than the page
built after it. A page whose stamp is unchanged is unchanged, and a
conditional GET is answered from this one primary-key read (a prepared
statement: factcheck.db.prepared).

The counters hold published claims by status, topic and speaker, and
appearances of published claims by source, kept by row triggers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from factcheck.db.prepared import prepared_cursor

SCOPE = "reader"

# The counters recounted from scratch (migration 0008's backfill), for a load that
# went around the triggers (benchmarks/generate.py) or a repair.
RECOUNT_PUBLISHED_SQL = """
    DELETE FROM claims_published_count;
    INSERT INTO claims_published_count (scope, key, n)
        SELECT 'status', status, count(*) FROM claims_claim
         WHERE published_at IS NOT NULL GROUP BY status;
    INSERT INTO claims_published_count (scope, key, n)
        SELECT 'speaker', speaker_id::text, count(*) FROM claims_claim
         WHERE published_at IS NOT NULL GROUP BY speaker_id;
    INSERT INTO claims_published_count (scope, key, n)
        SELECT 'topic', t.topic_id::text, count(*) FROM claims_claim_topics t
          JOIN claims_claim c ON c.id = t.claim_id AND c.published_at IS NOT NULL
         GROUP BY t.topic_id;
    INSERT INTO claims_published_count (scope, key, n)
        SELECT 'source', a.source_id::text, count(*) FROM claims_appearance a
          JOIN claims_claim c ON c.id = a.claim_id AND c.published_at IS NOT NULL
         GROUP BY a.source_id;
"""
# What the stamp's triggers do, for a change they did not see.
BUMP_STAMP_SQL = """
    UPDATE claims_reader_stamp
       SET stamp = stamp + 1, changed_at = greatest(changed_at, clock_timestamp());
"""
# The deferred triggers that bump the stamp (migration 0008), by name.
STAMP_TRIGGERS = [
    f"{table}_reader_stamp"
    for table in (
        "claims_claim",
        "claims_speaker",
        "claims_topic",
        "claims_claim_topics",
        "claims_quote",
        "claims_appearance",
        "claims_review",
        "claims_reviewevidence",
        "sources_source",
        "claims_externalreview",
        "auth_user",
    )
]

_STAMP = "SELECT stamp, changed_at FROM claims_reader_stamp WHERE scope = %s"


def stamp_state(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page state (factcheck.conditional) of a page made only of what the stamp covers."""
    with prepared_cursor() as cursor:
        cursor.execute(_STAMP, [SCOPE])
        stamp, changed_at = cursor.fetchone()
    return {**(extra or {}), "stamp": stamp, "last_change": changed_at}


def page_state(request: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """stamp_state() as a view's state function (page_condition), for a page made only
    of what the stamp covers."""
    return stamp_state()


def stamp_state_if(exists_sql: str, params: list[Any], extra: dict[str, Any]) -> dict | None:
    """The stamp's state when `exists_sql` (a SELECT) finds a row, else None (a 404):
    in one query, so a conditional GET for a page that is not there is never a 304."""
    with prepared_cursor() as cursor:
        cursor.execute(f"{_STAMP} AND EXISTS ({exists_sql})", [SCOPE, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    return {**extra, "stamp": row[0], "last_change": row[1]}


def current_stamp() -> tuple[int, datetime]:
    with prepared_cursor() as cursor:
        cursor.execute(_STAMP, [SCOPE])
        stamp, changed_at = cursor.fetchone()
    return stamp, changed_at


def counts(scope: str) -> dict[str, int]:
    """Every counter of one scope ("status", "topic", "speaker", "source"), by key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, n FROM claims_published_count WHERE scope = %s AND n > 0", [scope]
        )
        return dict(cursor.fetchall())


def top(scope: str, limit: int) -> list[tuple[str, int]]:
    """The `limit` keys of a scope with the most published claims, most first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, n FROM claims_published_count WHERE scope = %s AND n > 0"
            " ORDER BY n DESC, key LIMIT %s",
            [scope, limit],
        )
        return cursor.fetchall()
