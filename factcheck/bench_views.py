"""The benchmark's floor: what the same answers cost with nothing but the database.

Mounted under /bench/ only when BENCH_FLOOR_VIEWS=true (`manage.py bench`
sets it for the server it measures; never in production). Each view goes
through the whole middleware stack like any page, so the API's figures are
compared with the cost of its work, not of Django's:

- `hello`: a Django hello world, the floor of any answer (a 304 should cost
  about as much);
- `claims`: the API claims list's first page (published claims, newest
  change first, 50 rows, about the same fields) from raw psycopg + orjson;
- `claim`: one claim like the API claim detail's core, one row, the same way.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from claims.ratings import get_rating

PAGE_SIZE = 50
_TOPICS = (
    "ARRAY(SELECT t.slug FROM claims_claim_topics ct JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id = c.id ORDER BY t.name)"
)
_COLUMNS = (
    "c.slug, c.statement, s.slug, s.name, "
    + _TOPICS
    + ", c.kind, c.claim_date, c.status, c.version, c.published_at, c.status_changed_at,"
    " c.updated_at"
)
LIST_SQL = (
    f"SELECT {_COLUMNS} FROM claims_claim c JOIN claims_speaker s ON s.id = c.speaker_id"
    " WHERE c.published_at IS NOT NULL ORDER BY c.updated_at DESC, c.id DESC LIMIT %s"
)
DETAIL_SQL = (
    f"SELECT {_COLUMNS}, c.quantity, c.unit, c.media_authenticity, s.kind"
    " FROM claims_claim c JOIN claims_speaker s ON s.id = c.speaker_id"
    " WHERE c.slug = %s AND c.published_at IS NOT NULL"
)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _claim(row: tuple[Any, ...], base: str) -> dict[str, Any]:
    return {
        "slug": row[0],
        "api_url": f"{base}/api/v1/claims/{row[0]}/",
        "statement": row[1],
        "speaker": row[2],
        "speaker_name": row[3],
        "topics": row[4],
        "kind": row[5],
        "claim_date": row[6],
        "status": get_rating(row[7]).as_data(),
        "version": row[8],
        "published": row[9] is not None,
        "published_at": row[9],
        "status_changed_at": row[10],
        "updated_at": row[11],
    }


def _json(data: object) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), content_type="application/json")


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world", content_type="text/plain")


def claims(request: HttpRequest) -> HttpResponse:
    base = f"{request.scheme}://{request.get_host()}"
    rows = _rows(LIST_SQL, [PAGE_SIZE])
    return _json({"next": None, "previous": None, "results": [_claim(r, base) for r in rows]})


def claim(request: HttpRequest, slug: str) -> HttpResponse:
    rows = _rows(DETAIL_SQL, [slug])
    if not rows:
        raise Http404("No such claim.")
    row = rows[0]
    data = _claim(row, f"{request.scheme}://{request.get_host()}")
    data["speaker"] = {"slug": row[2], "name": row[3], "kind": row[15]}
    data.update(
        quantity=None if row[12] is None else str(row[12]),
        unit=row[13],
        media_authenticity=row[14],
    )
    return _json(data)


urlpatterns = [
    path("hello", hello, name="bench-hello"),
    path("claims/", claims, name="bench-claims"),
    path("claims/<slug:slug>/", claim, name="bench-claim"),
]
