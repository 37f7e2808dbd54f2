"""The export's format, version 1: its sections, and how each value is written and read.

docs/export-format.md is the specification; this module is its one implementation,
used by both `claims.exchange.export` and `claims.exchange.restore`.

A file is JSON Lines (UTF-8, each line ending in a newline):

1. a header: `{"counts", "format", "ledger", "schema", "sections", "version"}`;
2. one line per record, `{"row": {...}, "section": "<name>"}`, section after
   section in `SECTION_NAMES` order, each section's records in ascending order of
   its key (a primary key, or the ledger's sequence);
3. a trailer: `{"end": true, "records": N, "sha256": "<hex>"}`, the SHA-256 of
   every byte before it.

Every line is `dumps` of its object: sorted keys, no spaces. The same data gives
the same bytes, so an export, restored and exported again, is byte-identical.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pghistory.models
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.db.migrations.recorder import MigrationRecorder

from claims.ledger import verifier
from claims.models import (
    Appearance,
    CandidateSentence,
    Claim,
    ExternalReview,
    LedgerTreeHash,
    ProposalDecision,
    ProposalEvidence,
    Quote,
    RatingWord,
    RepeatSuggestion,
    Review,
    ReviewEvidence,
    Speaker,
    Topic,
    VerdictProposal,
)
from sources.models import Source

FORMAT = "factcheck-desk-export"
VERSION = 1

# The apps whose tables the file holds: the header records the latest migration of
# each, and a restore needs a database migrated to the same point.
SCHEMA_APPS = ("admin", "auth", "claims", "contenttypes", "pghistory", "sources")

# --- Values --------------------------------------------------------------------------

INT = "int"
STR = "str"
BOOL = "bool"
DATE = "date"
DATETIME = "datetime"
DECIMAL = "decimal"
JSON = "json"
HEX = "hex"
UUID = "uuid"
STRINGS = "strings"

_FIELD_KINDS = {
    "AutoField": INT,
    "BigAutoField": INT,
    "SmallAutoField": INT,
    "IntegerField": INT,
    "BigIntegerField": INT,
    "SmallIntegerField": INT,
    "PositiveIntegerField": INT,
    "PositiveBigIntegerField": INT,
    "PositiveSmallIntegerField": INT,
    "CharField": STR,
    "TextField": STR,
    "SlugField": STR,
    "URLField": STR,
    "EmailField": STR,
    "BooleanField": BOOL,
    "DateField": DATE,
    "DateTimeField": DATETIME,
    "DecimalField": DECIMAL,
    "JSONField": JSON,
    "BinaryField": HEX,
    "UUIDField": UUID,
}

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# As a ledger entry's header spells its time (verifier.format_timestamp).
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6})Z"
)
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INT64 = range(-(2**63), 2**63)


def format_timestamp(moment: datetime) -> str:
    """UTC, microseconds, "Z": `2024-05-01T12:00:00.000000Z`, as ledger headers spell it."""
    return verifier.format_timestamp(moment)


def parse_timestamp(text: str) -> datetime:
    parts = _TIMESTAMP.fullmatch(text)
    if parts is None:
        raise ValueError(f"not a time in the form 2024-05-01T12:00:00.000000Z: {text!r}")
    year, month, day, hour, minute, second, micro = map(int, parts.groups())
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def _json_value(value: Any) -> Any:
    """A JSON column's value as the database returns it (its text) parsed."""
    if isinstance(value, (str, bytes)):
        return loads(value)
    return value


def _plain_decimal(value: Decimal) -> str:
    # The column's scale is kept ("12000000.0000"): what the database returns for a
    # numeric(20, 4) is what it stores, so the text is the same after a restore.
    return format(value, "f")


# Database value (not None) -> JSON value.
ENCODERS: dict[str, Callable[[Any], Any]] = {
    INT: int,
    STR: str,
    BOOL: bool,
    DATE: lambda value: value.isoformat(),
    DATETIME: format_timestamp,
    DECIMAL: _plain_decimal,
    JSON: _json_value,
    HEX: lambda value: bytes(value).hex(),
    UUID: str,
    STRINGS: list,
}


def _is_date(value: Any) -> bool:
    if type(value) is not str or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_timestamp(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


# JSON value (not None) -> whether it is one this kind writes.
CHECKERS: dict[str, Callable[[Any], bool]] = {
    INT: lambda value: type(value) is int and value in _INT64,
    STR: lambda value: type(value) is str,
    BOOL: lambda value: type(value) is bool,
    DATE: _is_date,
    DATETIME: _is_timestamp,
    DECIMAL: lambda value: type(value) is str and bool(_DECIMAL.fullmatch(value)),
    JSON: lambda value: True,
    HEX: lambda value: type(value) is str and bool(_HEX.fullmatch(value)),
    UUID: lambda value: type(value) is str and bool(_UUID.fullmatch(value)),
    STRINGS: lambda value: type(value) is list and all(type(item) is str for item in value),
}

# JSON value (not None, checked) -> the Python value written to the database.
DECODERS: dict[str, Callable[[Any], Any]] = {
    INT: lambda value: value,
    STR: lambda value: value,
    BOOL: lambda value: value,
    DATE: date.fromisoformat,
    DATETIME: parse_timestamp,
    DECIMAL: Decimal,
    JSON: lambda value: value,
    HEX: bytes.fromhex,
    UUID: uuid.UUID,
    STRINGS: lambda value: value,
}

KIND_NAMES = {
    INT: "an integer",
    STR: "a string",
    BOOL: "true or false",
    DATE: "a date (2024-05-01)",
    DATETIME: "a time (2024-05-01T12:00:00.000000Z)",
    DECIMAL: 'a decimal number as a string ("12.5000")',
    JSON: "any JSON value",
    HEX: "lowercase hex digits",
    UUID: "a UUID in lowercase",
    STRINGS: "an array of strings",
}


# --- Lines ---------------------------------------------------------------------------


def dumps(value: Any) -> bytes:
    """A line's bytes without its newline: sorted keys, no spaces, UTF-8 unescaped.

    orjson, with the standard library for what orjson cannot write (integers beyond
    64 bits, which only a JSON column can hold): the same value always takes the
    same path, so always gives the same bytes.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON as `dumps` wrote it: orjson, unless the value holds a number with a
    fraction or an exponent. orjson reads an integer beyond 64 bits as a float, silently;
    the standard library keeps it whole, so JSON columns come back exactly as stored."""
    value = orjson.loads(data)
    if _has_float(value):
        value = json.loads(data, parse_constant=_refuse_constant)
    return value


def loads_fast(data: bytes) -> Any:
    """orjson alone: for lines whose JSON values are then checked with `has_float`."""
    return orjson.loads(data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _has_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) is dict:
        return any(_has_float(item) for item in value.values())
    if type(value) is list:
        return any(_has_float(item) for item in value)
    return False


has_float = _has_float


def line(obj: Any) -> bytes:
    return dumps(obj) + b"\n"


def record_line(section: str, row: dict[str, Any]) -> bytes:
    return line({"row": row, "section": section})


# --- Sections --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One key of a section's records.

    `sql` reads it (the section's table is `t`); `target` is the table column it is
    written back to (None: not written, as a generated column or a set of links).
    `references` names the section whose keys it must be one of.
    """

    key: str
    kind: str
    null: bool
    sql: str
    target: str | None
    field: models.Field | None = None
    references: str | None = None
    # A set (group names, permissions): written sorted, by code point.
    sort: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    # The database table written and read; None for the checkpoint log (a file).
    table: str | None
    model: type[models.Model] | None
    # The record key the records are sorted by, each greater than the one before.
    key: str
    columns: tuple[Column, ...]
    # The SQL order; None: sorted in Python (a handful of rows, sorted by code point
    # rather than by the database's collation, which differs between servers).
    order_sql: str | None
    # The identity sequence to move past the restored ids.
    sequence_column: str | None = None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(column.key for column in self.columns)

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


def field_kind(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return field_kind(field.target_field)
    if isinstance(field, models.GeneratedField):
        assert field.output_field is not None
        return field_kind(field.output_field)
    if isinstance(field, ArrayField):
        if field_kind(field.base_field) != STR:
            raise TypeError(f"{field.model.__name__}.{field.name}: only arrays of text export")
        return STRINGS
    try:
        return _FIELD_KINDS[field.get_internal_type()]
    except KeyError:
        raise TypeError(
            f"{field.model.__name__}.{field.name}: a {field.get_internal_type()} has no "
            "spelling in the export format; add one (claims.exchange.format) and document it"
        ) from None


def _field_columns(
    model: type[models.Model], *, only: Iterable[str] = (), exclude: Iterable[str] = ()
) -> list[Column]:
    wanted = set(only)
    excluded = set(exclude)
    columns = []
    for field in model._meta.concrete_fields:
        if (wanted and field.attname not in wanted) or field.attname in excluded:
            continue
        generated = isinstance(field, models.GeneratedField)
        columns.append(
            Column(
                key=field.attname,
                kind=field_kind(field),
                null=field.null,
                sql=f't."{field.column}"',
                target=None if generated else field.column,
                field=None if generated else field,
            )
        )
    return columns


def _model_section(
    name: str,
    model: type[models.Model],
    *,
    key: str | None = None,
    exclude: Iterable[str] = (),
    extra: Iterable[Column] = (),
) -> Section:
    pk = model._meta.pk
    assert pk is not None
    key = key or pk.attname
    order_column = next(f.column for f in model._meta.concrete_fields if f.attname == key)
    auto = isinstance(pk, models.AutoField)  # BigAutoField and SmallAutoField too
    return Section(
        name=name,
        table=model._meta.db_table,
        model=model,
        key=key,
        columns=tuple(_field_columns(model, exclude=exclude)) + tuple(extra),
        order_sql=f't."{order_column}"',
        sequence_column=pk.column if auto else None,
    )


def _natural_permission_sql(link_table: str, owner_column: str) -> str:
    return (
        "ARRAY(SELECT ct.app_label || '.' || ct.model || '.' || p.codename"
        f' FROM "{link_table}" link'
        f' JOIN "{Permission._meta.db_table}" p ON p.id = link.permission_id'
        ' JOIN "django_content_type" ct ON ct.id = p.content_type_id'
        f' WHERE link."{owner_column}" = t.id)'
    )


def _groups_section() -> Section:
    through = Group.permissions.through._meta.db_table
    return Section(
        name="groups",
        table=Group._meta.db_table,
        model=Group,
        key="name",
        columns=(
            Column("name", STR, False, "t.name", "name"),
            Column(
                "permissions",
                STRINGS,
                False,
                _natural_permission_sql(through, "group_id"),
                None,
                sort=True,
            ),
        ),
        order_sql=None,
    )


# An account's public side: never its password, e-mail, last login or API tokens.
USER_FIELDS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
)


def _users_section() -> Section:
    User = get_user_model()
    groups = User.groups.through._meta.db_table
    permissions = User.user_permissions.through._meta.db_table
    group_names = (
        f'ARRAY(SELECT g.name FROM "{groups}" link'
        f' JOIN "{Group._meta.db_table}" g ON g.id = link.group_id WHERE link.user_id = t.id)'
    )
    section = _model_section("users", User)
    return Section(
        name=section.name,
        table=section.table,
        model=User,
        key="id",
        columns=(
            *_field_columns(User, only=USER_FIELDS),
            Column("groups", STRINGS, False, group_names, None, sort=True),
            Column(
                "permissions",
                STRINGS,
                False,
                _natural_permission_sql(permissions, "user_id"),
                None,
                sort=True,
            ),
        ),
        order_sql=section.order_sql,
        sequence_column=section.sequence_column,
    )


def _admin_log_section() -> Section:
    content_type = Column(
        "content_type",
        STR,
        True,
        "(SELECT ct.app_label || '.' || ct.model FROM django_content_type ct"
        " WHERE ct.id = t.content_type_id)",
        "content_type_id",
    )
    return _model_section("admin_log", LogEntry, exclude=["content_type_id"], extra=[content_type])


CHECKPOINTS = "checkpoints"


def _checkpoints_section() -> Section:
    """The checkpoint log (claims.ledger.checkpoints), one record per logged checkpoint."""
    return Section(
        name=CHECKPOINTS,
        table=None,
        model=None,
        key="size",
        columns=(
            Column("size", INT, False, "", None),
            Column("root", STR, False, "", None),
            Column("signed_at", STR, False, "", None),
            Column("leaves", STRINGS, False, "", None),
            Column("checkpoint", STR, False, "", None),
        ),
        order_sql=None,
    )


def event_models() -> list[type[models.Model]]:
    """pghistory's event models (the edit history), by table name."""
    found = [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.abstract
    ]
    return sorted(found, key=lambda model: model._meta.db_table)


def _event_section(model: type[models.Model]) -> Section:
    base = model._meta.model_name or ""
    return _model_section(f"{base.removesuffix('event')}_events", model)


def _build_sections() -> tuple[Section, ...]:
    sections = [
        _groups_section(),
        _users_section(),
        _model_section("rating_words", RatingWord),
        _model_section("speakers", Speaker),
        _model_section("topics", Topic),
        # The snapshot's SHA-256 is generated by the database: written out so that a
        # reader can check it, and checked, never written back.
        _model_section("sources", Source),
        # The search vector is kept by triggers from the claim, its speaker and quotes.
        _model_section("claims", Claim, exclude=["search_vector"]),
        _model_section("claim_topics", Claim.topics.through),
        _model_section("quotes", Quote),
        _model_section("appearances", Appearance),
        _model_section("external_reviews", ExternalReview),
        # What the desk was shown and decided about new sources (issue: claim detection).
        _model_section("candidate_sentences", CandidateSentence),
        _model_section("repeat_suggestions", RepeatSuggestion),
        _model_section("reviews", Review, key="sequence"),
        _model_section("review_evidence", ReviewEvidence),
        # Second-editor sign-off: what was proposed, and what became of it.
        _model_section("verdict_proposals", VerdictProposal),
        _model_section("proposal_evidence", ProposalEvidence),
        _model_section("proposal_decisions", ProposalDecision),
        _model_section("tree_hashes", LedgerTreeHash),
        _checkpoints_section(),
        _model_section("history_contexts", pghistory.models.Context),
        *(_event_section(model) for model in event_models()),
        _admin_log_section(),
    ]
    # References between sections: every foreign key the database enforces, to a
    # model a section holds. (The history's keys are not enforced: its events
    # outlive what they describe.)
    by_model = {section.model: section.name for section in sections if section.model}
    linked = []
    for section in sections:
        columns = []
        for column in section.columns:
            field = column.field
            if (
                isinstance(field, models.ForeignKey)
                and getattr(field, "db_constraint", True)
                and field.related_model in by_model
            ):
                column = replace(column, references=by_model[field.related_model])
            columns.append(column)
        linked.append(replace(section, columns=tuple(columns)))
    # A restore checks each reference in one reading of the file: every section may
    # name only sections before it, or itself.
    order = [section.name for section in linked]
    for position, section in enumerate(linked):
        for column in section.columns:
            # Its own section is allowed (a claim superseded by another claim): a restore
            # checks those references once the section is read.
            if column.references is not None and order.index(column.references) > position:
                raise AssertionError(f"{section.name}.{column.key} names a later section")
    return tuple(linked)


SECTIONS: tuple[Section, ...] = _build_sections()
SECTION_NAMES: tuple[str, ...] = tuple(section.name for section in SECTIONS)
BY_NAME: dict[str, Section] = {section.name: section for section in SECTIONS}


# --- Header and trailer ------------------------------------------------------------------

HEADER_KEYS = frozenset({"counts", "format", "ledger", "schema", "sections", "version"})
LEDGER_KEYS = frozenset({"entries", "origin", "root", "tip_created_at", "tip_hash", "verifier_key"})
TRAILER_KEYS = frozenset({"end", "records", "sha256"})


def schema_state() -> dict[str, str]:
    """The latest migration applied of each app the file holds tables of."""
    applied = MigrationRecorder(connection).applied_migrations()
    latest: dict[str, str] = {}
    for app_label, name in applied:
        if app_label in SCHEMA_APPS and name > latest.get(app_label, ""):
            latest[app_label] = name
    return dict(sorted(latest.items()))


def trailer(records: int, sha256: str) -> dict[str, Any]:
    return {"end": True, "records": records, "sha256": sha256}
