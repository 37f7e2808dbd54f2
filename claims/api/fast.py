"""The API's hot reads without DRF's per-field serializers: rows read as plain
values (`.values()`, the nested parts built in SQL) and turned into the very dicts
the serializers make, rendered by orjson.

The serializers in claims.api.serializers stay the documentation of these shapes
(drf-spectacular builds the OpenAPI schema from them); tests/api/test_fast_reads.py
checks that what is built here equals what they produce.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import orjson
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.reverse import reverse

from claims.models import Topic
from claims.ratings import RATINGS

_STATUS_DATA = {rating.value: rating.as_data() for rating in RATINGS}
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_PLACEHOLDER = "--slug--"

# What the list items read, in the order ClaimListSerializer shows them.
CLAIM_LIST_VALUES = (
    "id",
    "slug",
    "statement",
    "kind",
    "claim_date",
    "status",
    "version",
    "published_at",
    "status_changed_at",
    "created_at",
    "updated_at",
)


def claim_list_rows(claims: QuerySet) -> QuerySet:
    """`claims` as the rows a list page needs: one query, topics gathered in SQL
    (by name, as the serializer's prefetch orders them)."""
    return claims.values(
        *CLAIM_LIST_VALUES,
        speaker_slug=F("speaker__slug"),
        speaker_name=F("speaker__name"),
        topic_slugs=ArraySubquery(
            Topic.objects.filter(claims=OuterRef("pk")).order_by("name").values("slug")
        ),
    )


def api_datetime(value: datetime | None) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, UTC as "Z"."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def api_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class DetailURLs:
    """Absolute addresses of one view's objects by slug, as DRF's hyperlinked fields
    make them, reversing once per request rather than once per object."""

    def __init__(self, view_name: str, request, format: str | None = None):
        self.view_name, self.request, self.format = view_name, request, format
        kwargs = {"slug": _PLACEHOLDER}
        self.prefix, _, self.suffix = self._reverse(kwargs).partition(_PLACEHOLDER)

    def _reverse(self, kwargs: dict) -> str:
        return reverse(self.view_name, kwargs=kwargs, request=self.request, format=self.format)

    def __call__(self, slug: str) -> str:
        if _SLUG.fullmatch(slug):
            return self.prefix + slug + self.suffix
        # Anything reverse() would quote.
        return self._reverse({"slug": slug})


def claim_list_item(row: dict[str, Any], urls: DetailURLs) -> dict[str, Any]:
    """One item of a claims page, as ClaimListSerializer writes it."""
    return {
        "slug": row["slug"],
        "api_url": urls(row["slug"]),
        "statement": row["statement"],
        "speaker": row["speaker_slug"],
        "speaker_name": row["speaker_name"],
        "topics": row["topic_slugs"],
        "kind": row["kind"],
        "claim_date": api_date(row["claim_date"]),
        "status": _STATUS_DATA[row["status"]],
        "version": row["version"],
        "published": row["published_at"] is not None,
        "published_at": api_datetime(row["published_at"]),
        "status_changed_at": api_datetime(row["status_changed_at"]),
        "updated_at": api_datetime(row["updated_at"]),
    }


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON, byte for byte, written by orjson: compact, UTF-8, U+2028 and U+2029
    escaped as DRF escapes them. An indented answer (`Accept: ...; indent=4`) and
    anything orjson cannot write are left to DRF's encoder."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                body = orjson.dumps(data)
            except TypeError:
                pass
            else:
                return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                    b"\xe2\x80\xa9", b"\\u2029"
                )
        return super().render(data, accepted_media_type, renderer_context)
