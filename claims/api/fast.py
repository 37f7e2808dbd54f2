"""The API's hot reads without DRF's per-field serializers: rows read as plain
values (`.values()`, the nested parts built in SQL) and turned into the very dicts
the serializers make, rendered by orjson.

The serializers in claims.api.serializers stay the documentation of these shapes
(drf-spectacular builds the OpenAPI schema from them); tests/api/test_fast_reads.py
checks that what is built here equals what they produce.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

import orjson
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BigIntegerField, Case, F, Func, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.reverse import reverse

from claims.api.common import sees_drafts
from claims.api.compiled import KeysetRows
from claims.claimreview import claim_url
from claims.markdown import render_markdown
from claims.models import (
    MEDIA_FIELDS,
    Appearance,
    Claim,
    Review,
    ReviewAction,
    ReviewEvidence,
    Topic,
)
from claims.ratings import RATINGS, WORKFLOW_STATUSES
from factcheck.db.prepared import compiled

_STATUS_DATA = {rating.value: rating.as_data() for rating in RATINGS}
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_PLACEHOLDER = "--slug--"

# What the list items read, in the order ClaimListSerializer shows them.
CLAIM_LIST_VALUES = (
    "id",
    "slug",
    "statement",
    "kind",
    "language",
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


def visible_claim_rows(sees_drafts: bool) -> KeysetRows:
    """The claims a reader (or the desk) sees, as claim_list_rows, for a page of
    DRF's cursor pagination compiled once per shape (claims.api.compiled)."""
    return KeysetRows(
        key=("claim-list", sees_drafts),
        model=Claim,
        build=lambda: claim_list_rows(Claim.objects.visible(drafts=sees_drafts)),
    )


def api_datetime(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone (or `zone`,
    the caller's reading of it, for many values at once), UTC as "Z"."""
    if value is None:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
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
    zone = timezone.get_current_timezone()
    return {
        "slug": row["slug"],
        "api_url": urls(row["slug"]),
        "statement": row["statement"],
        "speaker": row["speaker_slug"],
        "speaker_name": row["speaker_name"],
        "topics": row["topic_slugs"],
        "kind": row["kind"],
        "language": row["language"],
        "claim_date": api_date(row["claim_date"]),
        "status": _STATUS_DATA[row["status"]],
        "version": row["version"],
        "published": row["published_at"] is not None,
        "published_at": api_datetime(row["published_at"], zone),
        "status_changed_at": api_datetime(row["status_changed_at"], zone),
        "updated_at": api_datetime(row["updated_at"], zone),
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


# --- A claim's detail -----------------------------------------------------------------

# What ClaimDetailSerializer shows of the claim's own row, in its order.
CLAIM_DETAIL_VALUES = (
    "slug",
    "statement",
    "short_form",
    "kind",
    "language",
    "quantity",
    "unit",
    "quantity_qualifier",
    "claim_date",
    "holds_as_of",
    "media_authenticity",
    *MEDIA_FIELDS,
    "status",
    "version",
    "published_at",
    "status_changed_at",
    "created_at",
    "updated_at",
)
SOURCE_REF_VALUES = ("slug", "title", "url")


_QUOTE_VALUES = (
    "exact",
    "prefix",
    "suffix",
    "start",
    "end",
    "kind",
    "language",
    "translation",
    "translation_language",
)
# A timestamp as whole microseconds since the epoch: exact inside JSON, where
# PostgreSQL would write it in its own format rather than DRF's.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _EpochMicroseconds(Func):
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def _json_rows(rows: QuerySet, **fields: Any) -> ArraySubquery:
    """`rows` as an array of JSON objects, in their order, for one column of the outer row."""
    return ArraySubquery(rows.values(json=JSONObject(**fields)))


def claim_detail_values(claims: QuerySet, *, drafts: bool = True) -> QuerySet:
    """`claims` with everything a detail shows, one row each, in one statement: the
    speaker, assignee, topics, the latest verdict's explanation and evidence (its
    sources in the verdict's order), and the appearances with source and quote (in
    ClaimDetailSerializer's order)."""
    latest_verdict = (
        Review.objects.filter(claim=OuterRef(OuterRef("pk")), action=ReviewAction.REVIEW)
        .order_by("-sequence")
        .values("pk")[:1]
    )
    source_ref = {f"source_{name}": F(f"source__{name}") for name in SOURCE_REF_VALUES}
    return claims.values(
        "pk",
        *CLAIM_DETAIL_VALUES,
        **_in_time_values(drafts),
        speaker_slug=F("speaker__slug"),
        speaker_name=F("speaker__name"),
        speaker_kind=F("speaker__kind"),
        speaker_role=F("speaker__role"),
        speaker_affiliation=F("speaker__affiliation"),
        assignee_username=F("assignee__username"),
        topic_slugs=ArraySubquery(
            Topic.objects.filter(claims=OuterRef("pk")).order_by("name").values("slug")
        ),
        verdict_explanation=Subquery(
            Review.objects.filter(claim=OuterRef("pk"), action=ReviewAction.REVIEW)
            .order_by("-sequence")
            .values("explanation")[:1]
        ),
        evidence_rows=_json_rows(
            ReviewEvidence.objects.filter(review=Subquery(latest_verdict)).order_by("position"),
            **source_ref,
        ),
        appearance_rows=_json_rows(
            Appearance.objects.filter(claim=OuterRef("pk")).order_by(
                "source__published_on", "created_at", "pk"
            ),
            id=F("pk"),
            created_us=_EpochMicroseconds("created_at"),
            quote_id=F("quote_id"),
            relay=F("relay"),
            relayed_by=F("relayed_by"),
            **source_ref,
            **{f"quote_{name}": F(f"quote__{name}") for name in _QUOTE_VALUES},
            quote_speaker_slug=F("quote__speaker__slug"),
        ),
    )


def _in_time_values(drafts: bool) -> dict[str, Any]:
    """The newer claim's slug and the older claims' (claims.timeline), oldest first:
    those a reader may see (published), or all for the desk."""
    olders = Claim.objects.filter(superseded_by=OuterRef("pk"))
    newer: Any = F("superseded_by__slug")
    if not drafts:
        olders = olders.filter(published_at__isnull=False)
        newer = Case(When(superseded_by__published_at__isnull=False, then=newer), default=None)
    return {
        "superseded_by_slug": newer,
        "supersedes_slugs": ArraySubquery(
            olders.order_by(
                Coalesce("holds_as_of", "claim_date").asc(nulls_last=True), "pk"
            ).values("slug")
        ),
    }


_SLUG_MARK = "--the-slug--"


def published_claim_state(slug: str) -> dict[str, Any] | None:
    """The published claim `slug`'s id, version and update time (its ETag's parts), or
    None: all an anonymous conditional GET needs, one prepared statement."""

    def build(slug: str) -> QuerySet:
        return Claim.objects.published().filter(slug=slug).values("pk", "version", "updated_at")

    found = compiled(("claim-state",), build, slug=_SLUG_MARK).rows(slug=slug)
    return found[0] if found else None


def claim_detail_row(slug: str, sees_drafts: bool) -> dict[str, Any] | None:
    """The claim `slug` with all its detail shows (claim_detail_values), if it is
    published or `sees_drafts`; None otherwise. One prepared statement
    (claims.api.compiled)."""

    def build(slug: str) -> QuerySet:
        return claim_detail_values(
            Claim.objects.visible(drafts=sees_drafts).filter(slug=slug), drafts=sees_drafts
        )

    found = compiled(("claim-detail", sees_drafts), build, slug=_SLUG_MARK).rows(slug=slug)
    if not found:
        return None
    row = found[0]
    # Django reads jsonb as text and leaves decoding to JSONField; these are no field's.
    row["evidence_rows"] = [orjson.loads(item) for item in row["evidence_rows"]]
    row["appearance_rows"] = [orjson.loads(item) for item in row["appearance_rows"]]
    return row


def _source_ref(prefix: str, row: dict[str, Any], urls: DetailURLs) -> dict[str, Any]:
    slug = row[f"{prefix}slug"]
    return {
        "slug": slug,
        "title": row[f"{prefix}title"],
        "url": row[f"{prefix}url"],
        "api_url": urls(slug),
    }


def _appearance(row: dict[str, Any], sources: DetailURLs) -> dict[str, Any]:
    quote = None
    if row["quote_id"] is not None:
        exact, prefix, suffix = row["quote_exact"], row["quote_prefix"], row["quote_suffix"]
        start, end = row["quote_start"], row["quote_end"]
        quote = {
            "id": row["quote_id"],
            "exact": exact,
            "prefix": prefix,
            "suffix": suffix,
            "start": start,
            "end": end,
            "kind": row["quote_kind"],
            "speaker": row["quote_speaker_slug"],
            # Quote.selectors, from the row.
            "selectors": [
                {"type": "TextQuoteSelector", "exact": exact, "prefix": prefix, "suffix": suffix},
                {"type": "TextPositionSelector", "start": start, "end": end},
            ],
            "language": row["quote_language"],
            "translation": row["quote_translation"],
            "translation_language": row["quote_translation_language"],
        }
    return {
        "id": row["id"],
        "source": _source_ref("source_", row, sources),
        "quote": quote,
        "relay": row["relay"],
        "relayed_by": row["relayed_by"],
        "created_at": api_datetime(_EPOCH + timedelta(microseconds=row["created_us"])),
    }


@cache
def _quantity_field():
    # DRF's own field, so that a quantity reads exactly as the serializer writes it.
    from claims.api.serializers import ClaimDetailSerializer

    return ClaimDetailSerializer().fields["quantity"]


def claim_detail(row: dict[str, Any], request, format: str | None = None) -> dict[str, Any]:
    """A claim's detail (a claim_detail_row), as ClaimDetailSerializer writes it."""
    slug = row["slug"]
    sources = DetailURLs("api:source-detail", request, format)
    rated = row["status"] not in WORKFLOW_STATUSES
    explanation = row["verdict_explanation"] if rated else None
    assignee = row["assignee_username"] if sees_drafts(request) else None
    quantity = row["quantity"]
    return {
        "slug": slug,
        "api_url": DetailURLs("api:claim-detail", request, format)(slug),
        "page_url": claim_url(Claim(slug=slug), request),
        "statement": row["statement"],
        "short_form": row["short_form"],
        "speaker": {
            "slug": row["speaker_slug"],
            "name": row["speaker_name"],
            "kind": row["speaker_kind"],
            "role": row["speaker_role"],
            "affiliation": row["speaker_affiliation"],
            "url": DetailURLs("api:speaker-detail", request, format)(row["speaker_slug"]),
        },
        "topics": row["topic_slugs"],
        "kind": row["kind"],
        "language": row["language"],
        "quantity": None if quantity is None else _quantity_field().to_representation(quantity),
        "unit": row["unit"],
        "quantity_qualifier": row["quantity_qualifier"],
        "claim_date": api_date(row["claim_date"]),
        "holds_as_of": api_date(row["holds_as_of"]),
        "superseded_by": row["superseded_by_slug"],
        "supersedes": row["supersedes_slugs"],
        "media_authenticity": row["media_authenticity"],
        **{name: row[name] for name in MEDIA_FIELDS},
        "status": _STATUS_DATA[row["status"]],
        "version": row["version"],
        "published": row["published_at"] is not None,
        "published_at": api_datetime(row["published_at"]),
        "status_changed_at": api_datetime(row["status_changed_at"]),
        "explanation": explanation,
        "explanation_html": None if explanation is None else str(render_markdown(explanation)),
        "evidence": [_source_ref("source_", link, sources) for link in row["evidence_rows"]]
        if rated
        else [],
        "appearances": [_appearance(appearance, sources) for appearance in row["appearance_rows"]],
        "assignee": assignee,
        "created_at": api_datetime(row["created_at"]),
        "updated_at": api_datetime(row["updated_at"]),
    }
