"""Restoring an export into an empty database: `manage.py restore PATH`.

Nothing is written until the whole file has been read and checked, and then
everything is written in one transaction:

1. **The file** (`check_file`): the header names this format and version 1; the last
   line is the trailer, and the SHA-256 of every byte before it is the trailer's (a
   truncated, cut or edited file stops here); every line is in canonical form, in its
   section, with exactly its section's keys, each value of its kind, in ascending
   order of the section's key, naming only records the file holds before it; each
   snapshot has the SHA-256 it claims. Then the ledger, as `verify_ledger` walks it:
   every entry's body and header hash recomputed, each link of the chain, the Merkle
   tree's stored hashes rebuilt and compared, every checkpoint of the log checked
   against the leaves and its signature; and every claim's status, version,
   publication and checkable words against its latest entry.
2. **The database** (`check_target`): migrated to the same point as the exporting
   one, empty (no account, speaker, topic, source, claim, ledger entry or history:
   only what `migrate` creates), every permission and content type the file names
   exists, the signing key and origin agree with the checkpoints', and no other
   ledger's checkpoint log is in the way.
3. **The write** (`restore`), in one transaction under the ledger's lock: COPY,
   section by section, with every id as exported, ledger entries in sequence order so
   that the chain trigger sees each extend the tip. The edit history's triggers are
   told to stand aside (the history is restored as it was, not recorded anew), and,
   where the role owns the tables (`manage.py restore` runs as the owner, as
   `migrate` does), so are the published counters' (see COUNT_TRIGGERS), which are
   recounted once instead. Then every identity sequence is moved past the restored
   ids. The checkpoint log is written once the transaction has committed (a
   database without its log still verifies; a log without its database would not).

Passwords, e-mail addresses, last logins and API tokens are not in the file:
restored accounts have no usable password (`manage.py changepassword`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import os
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO

import orjson
import pghistory.trigger
import pgtrigger
import psycopg
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from psycopg import sql
from tqdm import tqdm

from claims import freshness
from claims.exchange import format as fmt
from claims.ledger import checkpoints, entries, verifier
from claims.models import LEDGER_LOCK_KEY, Review
from claims.ratings import INITIAL_STATUS, WORKFLOW_STATUSES

PROGRESS_FROM = 5000
# Sections a freshly migrated database already holds rows of: the roles' groups (the
# file's are merged in by name) and the seeded rating words (replaced by the file's).
PRESET_SECTIONS = frozenset({"groups", "rating_words"})
# The order rows are written in. Appearances go before their claims (foreign keys are
# checked at commit): a claim's search vector, which weighs the words it is quoted
# through, is then computed once as the claim is inserted, rather than recomputed by
# the appearance trigger for every appearance.
WRITE_ORDER = (
    "users",
    "rating_words",
    "speakers",
    "topics",
    "sources",
    "quotes",
    "appearances",
    "claims",
    "claim_topics",
    "external_reviews",
    "candidate_sentences",
    "repeat_suggestions",
    "reviews",
    "review_evidence",
    "verdict_proposals",
    "proposal_evidence",
    "proposal_decisions",
    "tree_hashes",
    "history_contexts",
    *(name for name in fmt.SECTION_NAMES if name.endswith("_events")),
    "admin_log",
)


class RestoreRefused(Exception):
    """The file or the database cannot take this restore. Nothing was written."""


@dataclass
class Span:
    """Where a section's lines are: bytes [start, end), the first one's line number."""

    start: int
    end: int
    first_line: int
    count: int


@dataclass
class CheckedFile:
    """A file that passed every check of `check_file`, and what they gathered."""

    path: Path
    header: dict[str, Any]
    spans: dict[str, Span]
    size: int
    sha256: str
    permissions: set[str] = field(default_factory=set)
    content_types: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.header["counts"])

    @property
    def ledger(self) -> dict[str, Any]:
        return dict(self.header["ledger"])


@dataclass
class TargetPlan:
    warnings: list[str]
    write_log: bool
    log_path: Path


@dataclass
class RestoreResult:
    checked: CheckedFile
    written: bool
    warnings: list[str]
    seconds: float
    log_path: Path | None = None


# --- Reading lines -------------------------------------------------------------------


def _refuse(message: str) -> RestoreRefused:
    return RestoreRefused(message)


def _json_keys(section: fmt.Section) -> tuple[str, ...]:
    return tuple(c.key for c in section.columns if c.kind == fmt.JSON)


def _parse(raw: bytes, json_keys: tuple[str, ...], number: int) -> Any:
    """A record line parsed exactly (orjson, or the standard library when a JSON value
    holds a float: orjson reads an integer beyond 64 bits as one)."""
    try:
        obj = fmt.loads_fast(raw)
    except orjson.JSONDecodeError as exc:
        raise _refuse(f"line {number} is not valid JSON ({exc}).") from None
    if type(obj) is dict and type(obj.get("row")) is dict:
        row = obj["row"]
        if any(fmt.has_float(row.get(key)) for key in json_keys):
            obj = json.loads(raw)
    return obj


class _Lines:
    """The file's lines, by byte range."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def span(self, span: Span) -> Iterator[tuple[int, bytes]]:
        self.handle.seek(span.start)
        position = span.start
        number = span.first_line
        while position < span.end:
            raw = self.handle.readline()
            if not raw:
                raise _refuse("the file ended early: it changed while it was read.")
            position += len(raw)
            yield number, raw
            number += 1

    def rows(self, span: Span, section: fmt.Section) -> Iterator[tuple[int, dict[str, Any]]]:
        json_keys = _json_keys(section)
        for number, raw in self.span(span):
            yield number, _parse(raw, json_keys, number)["row"]


def _bar(total: int, desc: str, progress: bool, stream: IO[str] | None) -> tqdm[Any]:
    return tqdm(
        total=total,
        desc=desc,
        unit=" rows",
        file=stream or sys.stderr,
        disable=not progress or total < PROGRESS_FROM,
        leave=False,
    )


# --- 1. The file ------------------------------------------------------------------------


def check_file(path: Path, *, progress: bool = False, stream: IO[str] | None = None) -> CheckedFile:
    """Read and check the whole file; RestoreRefused names the first problem."""
    path = Path(path)
    with _open(path) as handle:
        return _check(handle, path, progress, stream)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise _refuse(f"cannot read {path}: {exc.strerror}.") from None


def _check(handle: BinaryIO, path: Path, progress: bool, stream: IO[str] | None) -> CheckedFile:
    size = os.fstat(handle.fileno()).st_size
    header_line = handle.readline()
    header = _read_header(header_line)
    trailer, body_end = _read_trailer(handle, size, len(header_line))
    sha256 = _checksum(handle, body_end, progress, stream)
    if sha256 != trailer["sha256"]:
        raise _refuse(
            f"checksum mismatch: the file's bytes hash to {sha256}, but its trailer "
            f"says {trailer['sha256']}. The file was changed or damaged after it was "
            "written."
        )
    _check_header(header, header_line, trailer)
    checked = CheckedFile(path=path, header=header, spans={}, size=size, sha256=sha256)
    state = _FileState()
    _check_records(handle, checked, state, len(header_line), body_end, progress, stream)
    lines = _Lines(handle)
    claim_states = _check_ledger(lines, checked, state, progress, stream)
    _check_claims(lines, checked, claim_states)
    return checked


def _read_header(raw: bytes) -> dict[str, Any]:
    try:
        header = orjson.loads(raw)
    except orjson.JSONDecodeError:
        header = None
    if type(header) is not dict or header.get("format") != fmt.FORMAT:
        raise _refuse(f"this is not a desk export: its first line is not a {fmt.FORMAT!r} header.")
    if header.get("version") != fmt.VERSION:
        raise _refuse(
            f"the file is in version {header.get('version')!r} of the export format; this "
            f"restore reads version {fmt.VERSION} only."
        )
    return header


def _read_trailer(handle: BinaryIO, size: int, header_size: int) -> tuple[dict[str, Any], int]:
    truncated = _refuse(
        "the file is truncated or incomplete: its last line is not the export's trailer."
    )
    if size <= header_size:
        raise truncated
    handle.seek(max(header_size, size - 4096))
    tail = handle.read()
    if not tail.endswith(b"\n"):
        raise truncated
    start = tail.rfind(b"\n", 0, len(tail) - 1) + 1
    if start == 0 and size - len(tail) != header_size:
        raise truncated  # a last line longer than any trailer
    raw = tail[start:]
    try:
        trailer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise truncated from None
    if (
        type(trailer) is not dict
        or trailer.keys() != fmt.TRAILER_KEYS
        or trailer["end"] is not True
        or type(trailer["records"]) is not int
        or not fmt.CHECKERS[fmt.HEX](trailer["sha256"])
        or len(trailer["sha256"]) != 64
    ):
        raise truncated
    return trailer, size - len(raw)


def _checksum(handle: BinaryIO, end: int, progress: bool, stream: IO[str] | None) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    remaining = end
    with tqdm(
        total=end,
        desc="checksum",
        unit="B",
        unit_scale=True,
        file=stream or sys.stderr,
        disable=not progress or end < 64 << 20,
        leave=False,
    ) as bar:
        while remaining:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
            bar.update(len(block))
    return digest.hexdigest()


def _check_header(header: dict[str, Any], raw: bytes, trailer: dict[str, Any]) -> None:
    if fmt.line(header) != raw:
        raise _refuse("the header is not in the export's canonical form: the file was edited.")
    if header.keys() != fmt.HEADER_KEYS:
        raise _refuse(f"the header's keys are {sorted(header)}, not {sorted(fmt.HEADER_KEYS)}.")
    if header["sections"] != list(fmt.SECTION_NAMES):
        raise _refuse(
            f"the header lists the sections {header['sections']}; version {fmt.VERSION} has "
            f"{list(fmt.SECTION_NAMES)}."
        )
    counts = header["counts"]
    if (
        type(counts) is not dict
        or counts.keys() != set(fmt.SECTION_NAMES)
        or not all(type(n) is int and n >= 0 for n in counts.values())
    ):
        raise _refuse("the header's counts do not give a number of records for each section.")
    if sum(counts.values()) != trailer["records"]:
        raise _refuse(
            f"the header counts {sum(counts.values())} records, the trailer {trailer['records']}."
        )
    schema = header["schema"]
    if type(schema) is not dict or not all(type(v) is str for v in schema.values()):
        raise _refuse("the header's schema is not a map of apps to migrations.")
    ledger = header["ledger"]
    if type(ledger) is not dict or ledger.keys() != fmt.LEDGER_KEYS:
        raise _refuse(f"the header's ledger does not have the keys {sorted(fmt.LEDGER_KEYS)}.")
    kinds = {
        "entries": (int,),
        "origin": (str,),
        "root": (str,),
        "tip_created_at": (str, type(None)),
        "tip_hash": (str, type(None)),
        "verifier_key": (str, type(None)),
    }
    for key, allowed in kinds.items():
        if type(ledger[key]) not in allowed:
            raise _refuse(f"the header's ledger {key} is {_short(ledger[key])}.")


@dataclass
class _FileState:
    """What the first reading gathers for the checks that follow."""

    ids: dict[str, array[int]] = field(default_factory=dict)
    group_names: set[str] = field(default_factory=set)
    snapshot_hashes: dict[int, str] = field(default_factory=dict)
    # review id -> [(position, source id)]
    evidence: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


_REFERENCED = frozenset(c.references for s in fmt.SECTIONS for c in s.columns if c.references)


def _check_records(
    handle: BinaryIO,
    checked: CheckedFile,
    state: _FileState,
    start: int,
    end: int,
    progress: bool,
    stream: IO[str] | None,
) -> None:
    """Every record line: its form, section, keys, values, order and references."""
    counts = checked.counts
    handle.seek(start)
    position = start
    number = 1
    for section in fmt.SECTIONS:
        span = Span(start=position, end=position, first_line=number + 1, count=0)
        json_keys = _json_keys(section)
        columns = [(c, fmt.CHECKERS[c.kind]) for c in section.columns]
        keys = section.keys
        hook = _HOOKS.get(section.name)
        pk_field = section.model._meta.pk if section.model is not None else None
        pk = pk_field.attname if pk_field is not None else None
        ids = array("q") if section.name in _REFERENCED else None
        # References to records of this very section, checked once it is all read.
        own_references: list[tuple[str, int]] = []
        previous: Any = None
        with _bar(counts[section.name], f"checking {section.name}", progress, stream) as bar:
            for _ in range(counts[section.name]):
                raw = handle.readline()
                number += 1
                position += len(raw)
                if not raw or position > end:
                    raise _refuse(
                        f"the header counts {counts[section.name]} records of {section.name}, "
                        "but the file ends before them."
                    )
                obj = _parse(raw, json_keys, number)
                if type(obj) is not dict or obj.keys() != {"row", "section"}:
                    raise _refuse(f"line {number} is not a record ({{'row', 'section'}}).")
                if obj["section"] != section.name:
                    raise _refuse(
                        f"line {number} is a record of {obj['section']!r} where the header's "
                        f"counts put a record of {section.name!r}."
                    )
                if fmt.line(obj) != raw:
                    raise _refuse(
                        f"line {number} is not in the export's canonical form (sorted keys, no "
                        "spaces, as the export writes it): the file was edited."
                    )
                row = obj["row"]
                if type(row) is not dict or row.keys() != keys:
                    found = set(row) if type(row) is dict else set()
                    raise _refuse(
                        f"line {number}: a {section.name} record has the keys "
                        f"{sorted(found)}; version {fmt.VERSION} has {sorted(keys)}"
                        + _missing_hint(found, keys)
                    )
                for column, check in columns:
                    value = row[column.key]
                    where = f"line {number}: {section.name}.{column.key}"
                    if value is None:
                        if not column.null:
                            raise _refuse(f"{where} is null, and may not be.")
                        continue
                    if not check(value):
                        raise _refuse(
                            f"{where} must be {fmt.KIND_NAMES[column.kind]}, not {_short(value)}."
                        )
                    if column.sort and value != sorted(set(value)):
                        raise _refuse(f"{where} must be sorted, without repeats.")
                    if column.references == section.name:
                        own_references.append((where, value))
                    elif column.references is not None and not _holds(
                        state.ids[column.references], value
                    ):
                        raise _refuse(
                            f"{where} is {value}, which is not in {column.references}: the "
                            "record it names is not in the file."
                        )
                current = row[section.key]
                if previous is not None and not current > previous:
                    raise _refuse(
                        f"line {number}: {section.name} are not in ascending order of "
                        f"{section.key} ({_short(current)} after {_short(previous)})."
                    )
                previous = current
                if ids is not None and pk is not None:
                    ids.append(row[pk])
                if hook is not None:
                    hook(row, number, checked, state)
                span.count += 1
                bar.update(1)
        span.end = position
        checked.spans[section.name] = span
        if ids is not None:
            state.ids[section.name] = array("q", sorted(ids))
        for where, value in own_references:
            if not _holds(state.ids[section.name], value):
                raise _refuse(
                    f"{where} is {value}, which is not in {section.name}: the record it names "
                    "is not in the file."
                )
    if position != end:
        raise _refuse(
            "the file holds more records than its header counts: its counts and its "
            "records disagree."
        )


def _missing_hint(found: set[str], keys: frozenset[str]) -> str:
    missing = sorted(keys - found)
    unknown = sorted(found - keys)
    hint = ""
    if missing:
        hint += f" (missing {', '.join(missing)}"
    if unknown:
        hint += f"{'; ' if hint else ' ('}unknown {', '.join(unknown)}"
    if hint:
        hint += "): was it written by another version of the project?"
    return hint + "."


def _holds(ids: array[int], value: int) -> bool:
    index = bisect.bisect_left(ids, value)
    return index < len(ids) and ids[index] == value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_group(row: dict[str, Any], number: int, checked: CheckedFile, state: _FileState) -> None:
    state.group_names.add(row["name"])
    checked.permissions.update(row["permissions"])


def _check_user(row: dict[str, Any], number: int, checked: CheckedFile, state: _FileState) -> None:
    unknown = [name for name in row["groups"] if name not in state.group_names]
    if unknown:
        raise _refuse(
            f"line {number}: user {row['username']!r} is in the group {unknown[0]!r}, which "
            "the file does not hold."
        )
    checked.permissions.update(row["permissions"])


def _check_source(
    row: dict[str, Any], number: int, checked: CheckedFile, state: _FileState
) -> None:
    digest = hashlib.sha256(row["snapshot"].encode()).hexdigest()
    if digest != row["snapshot_sha256"]:
        raise _refuse(
            f"line {number}: source {row['slug']!r}'s snapshot hashes to {digest}, not to its "
            f"snapshot_sha256 {row['snapshot_sha256']}: the snapshot was altered."
        )
    state.snapshot_hashes[row["id"]] = digest


def _check_evidence(
    row: dict[str, Any], number: int, checked: CheckedFile, state: _FileState
) -> None:
    state.evidence.setdefault(row["review_id"], []).append((row["position"], row["source_id"]))


def _check_log_entry(
    row: dict[str, Any], number: int, checked: CheckedFile, state: _FileState
) -> None:
    if row["content_type"] is not None:
        checked.content_types.add(row["content_type"])


_HOOKS: dict[str, Callable[[dict[str, Any], int, CheckedFile, _FileState], None]] = {
    "groups": _check_group,
    "users": _check_user,
    "sources": _check_source,
    "review_evidence": _check_evidence,
    "admin_log": _check_log_entry,
}


@dataclass(slots=True)
class _Entry:
    """A ledger entry's fields as `entries.entry_body` reads them (EntryFields)."""

    claim_id: int
    claim_content: dict[str, Any]
    claim_version: int
    action: str
    status_before: str
    status_after: str
    explanation: str
    editor_id: int
    approved_by_id: int | None
    correction_class: str
    changes: dict[str, Any]
    salt: str
    note: str
    note_salt: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> _Entry:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


# A claim's state as its ledger leaves it: (status, version, published, content digest).
ClaimState = tuple[str, int, bool, bytes]


def _content_digest(values: list[Any]) -> bytes:
    return hashlib.blake2b(orjson.dumps(values), digest_size=16).digest()


def _check_ledger(
    lines: _Lines,
    checked: CheckedFile,
    state: _FileState,
    progress: bool,
    stream: IO[str] | None,
) -> dict[int, ClaimState]:
    """The ledger as verify_ledger walks it; returns each claim's state by its ledger."""
    spans = checked.spans
    # Every stored tree hash the entries make, 32 bytes each, by storage index.
    store = bytearray()

    def read(indexes: list[int]) -> list[bytes]:
        return [bytes(store[32 * i : 32 * i + 32]) for i in indexes]

    claims: dict[int, ClaimState] = {}
    previous = verifier.GENESIS_HASH
    expected = 0
    last: dict[str, Any] | None = None
    reviews = fmt.BY_NAME["reviews"]
    with _bar(spans["reviews"].count, "checking the ledger", progress, stream) as bar:
        for number, row in lines.rows(spans["reviews"], reviews):
            expected += 1
            where = f"ledger entry #{row['sequence']} (line {number})"
            if row["sequence"] != expected:
                raise _refuse(f"{where}: #{expected} was expected, an entry is missing.")
            if row["previous_hash"] != previous:
                raise _refuse(
                    f"{where} links to {row['previous_hash']}, but the previous entry's hash "
                    f"is {previous}: the chain is broken."
                )
            cited = sorted(state.evidence.pop(row["id"], ()))
            evidence = [(source, state.snapshot_hashes[source]) for _position, source in cited]
            try:
                body = entries.entry_body(_Entry.of(row), evidence, stored=True)
                header = verifier.entry_header(
                    sequence=row["sequence"],
                    created_at=row["created_at"],
                    previous_hash=row["previous_hash"],
                    body_sha256=entries.stored_body_digest(body),
                )
                content = row["claim_content"]
                content_values = [
                    content["statement"],
                    content["speaker"]["id"],
                    content["claim_date"],
                    content["kind"],
                    content["quantity"],
                    content["unit"],
                    content["media_authenticity"],
                    # Fields added later: an entry that predates one committed to blank.
                    *(content.get(name, blank) for name, blank in entries.ADDED_LATER.items()),
                ]
            except (TypeError, ValueError, KeyError) as exc:
                raise _refuse(f"{where} cannot be hashed: {exc}.") from None
            data = verifier.entry_bytes(header)
            recomputed = verifier.sha256_hex(data)
            if recomputed != row["entry_hash"]:
                raise _refuse(
                    f"{where}: its content does not match its hash (stored {row['entry_hash']}, "
                    f"recomputed {recomputed}): the entry, its evidence or a cited snapshot "
                    "was altered."
                )
            leaf = verifier.record_hash(data)
            for value in verifier.stored_hashes_for_record_hash(expected - 1, leaf, read):
                store += value
            before = claims.get(row["claim_id"])
            if row["action"] == Review.Action.PUBLISH:
                published = True
            elif row["action"] == Review.Action.UNPUBLISH:
                published = False
            else:
                published = before[2] if before else False
            claims[row["claim_id"]] = (
                row["status_after"],
                row["claim_version"],
                published,
                _content_digest(content_values),
            )
            previous = row["entry_hash"]
            last = row
            bar.update(1)

    _check_tree(lines, checked, store, expected)
    _check_checkpoints(lines, checked, store, expected)
    ledger = checked.ledger
    tree_root = verifier.tree_hash(expected, read) if expected else verifier.EMPTY_TREE_HASH
    summary = {
        "entries": expected,
        "root": base64.b64encode(tree_root).decode(),
        "tip_created_at": last["created_at"] if last else None,
        "tip_hash": last["entry_hash"] if last else None,
    }
    for key, made in summary.items():
        if ledger[key] != made:
            raise _refuse(
                f"the header's ledger says {key} {ledger[key]!r}, but the entries make {made!r}."
            )
    return claims


def _check_tree(lines: _Lines, checked: CheckedFile, store: bytearray, entries: int) -> None:
    span = checked.spans["tree_hashes"]
    wanted = len(store) // 32
    if span.count != wanted:
        raise _refuse(
            f"the file holds {span.count} Merkle tree hashes; the ledger's {entries} entries "
            f"make {wanted}."
        )
    for index, (number, row) in enumerate(lines.rows(span, fmt.BY_NAME["tree_hashes"])):
        if row["index"] != index:
            raise _refuse(f"line {number}: tree hash {index} is missing.")
        if bytes.fromhex(row["hash"]) != store[32 * index : 32 * index + 32]:
            raise _refuse(
                f"line {number}: the stored Merkle tree hash {index} disagrees with the entries."
            )


def _check_checkpoints(lines: _Lines, checked: CheckedFile, store: bytearray, entries: int) -> None:
    """The checkpoint log as verify_ledger reads it: leaves, roots and signatures."""
    ledger = checked.ledger
    span = checked.spans[fmt.CHECKPOINTS]
    if not span.count:
        return
    key = ledger["verifier_key"]
    note_verifier = None
    if key is not None:
        try:
            note_verifier = verifier.NoteVerifier(key)
        except ValueError as exc:
            raise _refuse(f"the header's verifier key is not one: {exc}.") from None
    else:
        checked.warnings.append(
            "the file names no verifier key (the exporting server had no signing key): the "
            "checkpoints' signatures were not checked."
        )
    builder = verifier.MerkleBuilder()
    for number, row in lines.rows(span, fmt.BY_NAME[fmt.CHECKPOINTS]):
        where = f"line {number}: checkpoint {row['size']}"
        leaves = row["leaves"]
        if builder.size + len(leaves) != row["size"]:
            raise _refuse(f"{where} does not follow the one before it in the log.")
        if row["size"] > entries:
            raise _refuse(f"{where} covers more entries than the file's {entries}.")
        for leaf in leaves:
            at = 32 * verifier.stored_hash_index(0, builder.size)
            wanted = bytes(store[at : at + 32])
            if leaf != wanted.hex():
                raise _refuse(
                    f"{where}: it logged leaf {leaf} for entry #{builder.size + 1}, whose leaf "
                    f"hash is {wanted.hex()}: the entries are not the ones it signed."
                )
            builder.append(wanted)
        try:
            root = base64.b64decode(row["root"], validate=True)
            checkpoints.LoggedCheckpoint.from_json(row)
        except (ValueError, binascii.Error) as exc:
            raise _refuse(f"{where} is malformed: {exc}.") from None
        if builder.root() != root:
            raise _refuse(f"{where}: its leaves do not add up to its root.")
        if note_verifier is not None:
            try:
                opened = verifier.open_checkpoint(
                    row["checkpoint"], note_verifier, origin=ledger["origin"]
                )
            except ValueError as exc:
                raise _refuse(f"{where}: its signed note does not verify: {exc}.") from None
            if (opened.size, opened.root_hash) != (row["size"], root):
                raise _refuse(f"{where}: its signed note and its record disagree.")


def _check_claims(lines: _Lines, checked: CheckedFile, states: dict[int, ClaimState]) -> None:
    """Every claim's status, version, publication and, once published or rated, its
    checkable fields, against its latest ledger entry (as verify_ledger checks them)."""
    for number, row in lines.rows(checked.spans["claims"], fmt.BY_NAME["claims"]):
        where = f"line {number}: claim {row['slug']!r}"
        published = row["published_at"] is not None
        ledger = states.get(row["id"])
        if ledger is None:
            if (row["status"], row["version"], published) != (INITIAL_STATUS, 1, False):
                raise _refuse(
                    f"{where} is {row['status']!r}, version {row['version']}"
                    f"{', published' if published else ''}, but it has no ledger entry."
                )
            continue
        status, version, was_published, committed = ledger
        if (row["status"], row["version"], published) != (status, version, was_published):
            raise _refuse(
                f"{where}: status {row['status']!r} version {row['version']} "
                f"{'published' if published else 'draft'}, but its ledger says {status!r} "
                f"version {version} {'published' if was_published else 'draft'}."
            )
        locked = published or status not in WORKFLOW_STATUSES
        quantity = row["quantity"]
        current = [
            row["statement"],
            row["speaker_id"],
            row["claim_date"],
            row["kind"],
            None if quantity is None else entries.canonical_quantity(Decimal(quantity)),
            row["unit"],
            row["media_authenticity"],
            *(row.get(name, blank) for name, blank in entries.ADDED_LATER.items()),
        ]
        if locked and _content_digest(current) != committed:
            raise _refuse(
                f"{where}: its checkable fields are not what its latest ledger entry committed "
                "to, and no correction entry records the change."
            )


# --- 2. The database ---------------------------------------------------------------------


def non_empty_sections() -> list[str]:
    """The sections whose tables hold rows already (beyond what `migrate` creates)."""
    found = []
    with connection.cursor() as cursor:
        for section in fmt.SECTIONS:
            if section.table is None or section.name in PRESET_SECTIONS:
                continue
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{section.table}")')
            if cursor.fetchone()[0]:
                found.append(section.name)
    return found


def _refuse_non_empty(found: list[str]) -> RestoreRefused:
    return _refuse(
        f"the database is not empty: it already holds {', '.join(found)}. A restore goes "
        "into a freshly migrated database only (`manage.py migrate` and nothing else: not "
        "the seeds, not the demo accounts)."
    )


def _permission_ids() -> dict[str, int]:
    rows = Permission.objects.values_list(
        "content_type__app_label", "content_type__model", "codename", "id"
    )
    return {f"{app}.{model}.{codename}": pk for app, model, codename, pk in rows}


def _content_type_ids() -> dict[str, int]:
    rows = ContentType.objects.values_list("app_label", "model", "id")
    return {f"{app}.{model}": pk for app, model, pk in rows}


def check_target(checked: CheckedFile, handle: BinaryIO | None = None) -> TargetPlan:
    """Whether this database can take the file; RestoreRefused says why not."""
    if handle is None:
        with _open(checked.path) as opened:
            return check_target(checked, opened)
    schema = fmt.schema_state()
    wanted = checked.header["schema"]
    if schema != wanted:
        differences = [
            f"{app}: the file {wanted.get(app, '(none)')}, this database {schema.get(app, '(none)')}"
            for app in sorted(set(schema) | set(wanted))
            if schema.get(app) != wanted.get(app)
        ]
        raise _refuse(
            "the file was exported from a database migrated to another point ("
            + "; ".join(differences)
            + "). Restore into a database migrated exactly as far (`manage.py migrate <app> "
            "<migration>`), then migrate it forward."
        )
    found = non_empty_sections()
    if found:
        raise _refuse_non_empty(found)
    missing = sorted(checked.permissions - _permission_ids().keys())
    if missing:
        raise _refuse(f"the file names permissions this database lacks: {', '.join(missing)}.")
    missing = sorted(checked.content_types - _content_type_ids().keys())
    if missing:
        raise _refuse(
            f"the file's admin log names content types this database lacks: {', '.join(missing)}."
        )
    warnings: list[str] = []
    ledger = checked.ledger
    if checked.counts[fmt.CHECKPOINTS]:
        if ledger["origin"] != checkpoints.origin():
            raise _refuse(
                f"the checkpoints were signed for the origin {ledger['origin']!r}, and this "
                f"server's LEDGER_ORIGIN is {checkpoints.origin()!r}: set LEDGER_ORIGIN="
                f"{ledger['origin']} (verify_ledger checks every checkpoint's origin)."
            )
        key = checkpoints.verifier_key()
        if key is None:
            warnings.append(
                "no signing key is configured here: verify_ledger cannot check the "
                f"checkpoints' signatures until the ledger's key (verifier key "
                f"{ledger['verifier_key']}) is configured, and no new checkpoint is signed."
            )
        elif ledger["verifier_key"] is not None and key != ledger["verifier_key"]:
            raise _refuse(
                f"the checkpoints were signed with the key {ledger['verifier_key']}, and this "
                f"server signs with {key}: configure the ledger's own signing key "
                "(LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE) first, or verify_ledger "
                "would fail and new checkpoints would not verify with the published key."
            )
    log_path = checkpoints.log_path()
    write_log = bool(checked.counts[fmt.CHECKPOINTS])
    if log_path.exists() and log_path.stat().st_size:
        if not _same_log(log_path, checked, handle):
            raise _refuse(
                f"a checkpoint log is already at {log_path}, and it is not this file's: "
                "it belongs to another ledger. Move it away first."
            )
        write_log = False
    return TargetPlan(warnings=warnings, write_log=write_log, log_path=log_path)


def _log_lines(checked: CheckedFile, handle: BinaryIO) -> Iterator[bytes]:
    """The checkpoint log's lines, as the signer writes them (checkpoints.sign_latest)."""
    section = fmt.BY_NAME[fmt.CHECKPOINTS]
    for _number, row in _Lines(handle).rows(checked.spans[fmt.CHECKPOINTS], section):
        logged = checkpoints.LoggedCheckpoint.from_json(row)
        yield json.dumps(logged.to_json(), separators=(",", ":")).encode() + b"\n"


def log_lines(checked: CheckedFile) -> bytes:
    """The checkpoint log a restore of this file writes."""
    with _open(checked.path) as handle:
        return b"".join(_log_lines(checked, handle))


def _same_log(path: Path, checked: CheckedFile, handle: BinaryIO) -> bool:
    with path.open("rb") as existing:
        for line in _log_lines(checked, handle):
            if existing.read(len(line)) != line:
                return False
        return existing.read(1) == b""


# --- 3. The write ----------------------------------------------------------------------------


def restore(
    path: Path,
    *,
    progress: bool = False,
    check_only: bool = False,
    stream: IO[str] | None = None,
) -> RestoreResult:
    """Check the file and the database, then write it all in one transaction."""
    started = time.perf_counter()
    path = Path(path)
    # One handle from the first check to the last write: what was checked is what is
    # written, even if the file is replaced meanwhile.
    with _open(path) as handle:
        checked = _check(handle, path, progress, stream)
        plan = check_target(checked, handle)
        warnings = checked.warnings + plan.warnings
        if check_only:
            return RestoreResult(checked, False, warnings, time.perf_counter() - started)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Writers queue behind the restore; a second one finds this one's rows.
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
                found = non_empty_sections()
                if found:
                    raise _refuse_non_empty(found)
                _write(_Lines(handle), checked, progress, stream)
        except (DatabaseError, psycopg.Error) as exc:
            # A rule the database keeps and the file's checks do not (a quote's anchor
            # in its snapshot, a unique slug): the transaction is rolled back.
            detail = " ".join(str(exc).split())
            raise _refuse(
                f"the database refused a row ({detail[:400]}{'...' if len(detail) > 400 else ''})."
            ) from exc
        log_path = None
        if plan.write_log:
            _write_log(plan.log_path, checked, handle)
            log_path = plan.log_path
    return RestoreResult(checked, True, warnings, time.perf_counter() - started, log_path)


def history_trigger_ids() -> list[str]:
    """The edit history's triggers (pghistory's, through pgtrigger), by database name."""
    return sorted(
        trigger.get_pgid(model)
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, pghistory.trigger.Event)
    )


# The row triggers that keep the published counters (migration 0008). Each upserts a
# counter row per claim, topic link and appearance; in one transaction, every update
# of the same row (a status's count) walks all its earlier versions, so a restore of
# n published claims costs n² (10,000 claims: 11 of 17 seconds; a million: about a day).
# Where the restoring role owns the tables (the command runs as the owner, as
# `migrate` does), they are disabled for the transaction, which then recounts every
# counter once; ALTER TABLE is transactional, so a rollback puts them back too.
COUNT_TRIGGERS = (
    ("claims_claim", "claims_claim_count"),
    ("claims_claim_topics", "claims_claim_topics_count"),
    ("claims_appearance", "claims_appearance_count"),
)


def _lift_count_triggers(cursor: Any) -> list[tuple[str, str]]:
    """Disable the counters' triggers if this role may (it owns the tables)."""
    cursor.execute(
        "SELECT bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) FROM pg_class c "
        "WHERE c.oid = ANY(%s::regclass[])",
        [[table for table, _trigger in COUNT_TRIGGERS]],
    )
    if not cursor.fetchone()[0]:
        return []
    for table, trigger in COUNT_TRIGGERS:
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
    return list(COUNT_TRIGGERS)


def _write(lines: _Lines, checked: CheckedFile, progress: bool, stream: IO[str] | None) -> None:
    ignored = "{" + ",".join(history_trigger_ids()) + "}"
    with connection.cursor() as cursor:
        # pgtrigger's own switch (pgtrigger.ignore), for this transaction: the history is
        # restored row for row, and inserting what it describes must not add to it.
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [ignored])
        lifted = _lift_count_triggers(cursor)
        cursor.execute(f'DELETE FROM "{fmt.BY_NAME["rating_words"].table}"')
    groups = _write_groups(lines, checked)
    permissions = _permission_ids()
    content_types = _content_type_ids()
    memberships: list[tuple[int, list[str], list[str]]] = []
    for name in WRITE_ORDER:
        section = fmt.BY_NAME[name]
        span = checked.spans[name]
        rows = lines.rows(span, section)
        if name == "users":
            rows = _remember_memberships(rows, memberships)
        with _bar(span.count, f"writing {name}", progress, stream) as bar:
            _copy(section, rows, bar, content_types)
    _write_memberships(memberships, groups, permissions)
    _advance_sequences()
    with connection.cursor() as cursor:
        if lifted:
            # A table with deferred events pending (foreign key checks, the readers'
            # stamp) cannot be altered: they run now, then the triggers are back.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in lifted:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for statement in freshness.RECOUNT_PUBLISHED_SQL.split(";"):
            if statement.strip():
                cursor.execute(statement)
        # The readers' pages changed: stamped last, as the stamp's triggers would at commit.
        cursor.execute(freshness.BUMP_STAMP_SQL)
        cursor.execute("SELECT set_config('pgtrigger.ignore', '', true)")
    _check_written(checked)


def _write_groups(lines: _Lines, checked: CheckedFile) -> dict[str, int]:
    """The file's groups, by name: the roles `migrate` created are given the file's
    permissions, any other group is created."""
    permissions = _permission_ids()
    ids = {}
    section = fmt.BY_NAME["groups"]
    for _number, row in lines.rows(checked.spans["groups"], section):
        group, _ = Group.objects.get_or_create(name=row["name"])
        group.permissions.set([permissions[key] for key in row["permissions"]])
        ids[group.name] = group.pk
    return ids


def _remember_memberships(
    rows: Iterator[tuple[int, dict[str, Any]]], memberships: list[tuple[int, list[str], list[str]]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, row in rows:
        if row["groups"] or row["permissions"]:
            memberships.append((row["id"], row["groups"], row["permissions"]))
        yield number, row


def _write_memberships(
    memberships: list[tuple[int, list[str], list[str]]],
    groups: dict[str, int],
    permissions: dict[str, int],
) -> None:
    User = get_user_model()
    in_group = User.groups.through
    granted = User.user_permissions.through
    in_group.objects.bulk_create(
        in_group(user_id=user, group_id=groups[name])
        for user, names, _keys in memberships
        for name in names
    )
    granted.objects.bulk_create(
        granted(user_id=user, permission_id=permissions[key])
        for user, _names, keys in memberships
        for key in keys
    )


# Columns a table needs that the file leaves out on purpose: an account's password
# (none usable), e-mail and last login.
_LEFT_OUT: dict[str, dict[str, Callable[[], Any]]] = {
    "users": {
        "password": lambda: make_password(None),
        "email": lambda: "",
        "last_login": lambda: None,
    },
}


def _copy(
    section: fmt.Section,
    rows: Iterator[tuple[int, dict[str, Any]]],
    bar: tqdm[Any],
    content_types: dict[str, int],
) -> None:
    columns = [c for c in section.columns if c.target is not None]
    left_out = _LEFT_OUT.get(section.name, {})
    converters = [(column.key, _converter(section, column, content_types)) for column in columns]
    targets = [str(c.target) for c in columns] + list(left_out)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(str(section.table)),
        sql.SQL(", ").join(sql.Identifier(name) for name in targets),
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for _number, row in rows:
            values = [
                None if row[key] is None else convert(row[key]) for key, convert in converters
            ]
            values.extend(make() for make in left_out.values())
            copy.write_row(values)
            bar.update(1)


def _converter(
    section: fmt.Section, column: fmt.Column, content_types: dict[str, int]
) -> Callable[[Any], Any]:
    """A record's value (not None) -> what COPY writes to the column."""
    if column.kind == fmt.JSON and column.field is not None:
        prepare = column.field.get_db_prep_save
        return lambda value: prepare(value, connection)
    if section.name == "admin_log" and column.key == "content_type":
        return content_types.__getitem__
    return fmt.DECODERS[column.kind]


def _advance_sequences() -> None:
    """Move every identity sequence past the restored ids, so the next row gets a new one.

    With setval where the role may (UPDATE on the sequence); the app's role may only
    take values (USAGE), so there the sequence is advanced with nextval to the same end.
    """
    with connection.cursor() as cursor:
        for section in fmt.SECTIONS:
            column = section.sequence_column
            if section.table is None or column is None:
                continue
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [section.table, column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                continue
            cursor.execute(f'SELECT max("{column}") FROM "{section.table}"')
            top = cursor.fetchone()[0]
            if top is None:
                continue
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last, called = cursor.fetchone()
            if (last + 1 if called else last) > top:
                continue
            cursor.execute("SELECT has_sequence_privilege(%s, 'UPDATE')", [sequence])
            if cursor.fetchone()[0]:
                cursor.execute("SELECT setval(%s, %s)", [sequence, top])
            else:
                cursor.execute(
                    "SELECT max(nextval(%s)) FROM generate_series(1, %s)",
                    [sequence, top - (last if called else last - 1)],
                )


def _check_written(checked: CheckedFile) -> None:
    """What the database now holds is what the file counts (cheap, and catches a
    trigger or a rule that dropped or added rows)."""
    counts = checked.counts
    with connection.cursor() as cursor:
        for section in fmt.SECTIONS:
            if section.table is None or section.name == "groups":
                continue
            cursor.execute(f'SELECT count(*) FROM "{section.table}"')
            held = cursor.fetchone()[0]
            if held != counts[section.name]:
                raise _refuse(
                    f"after writing, the database holds {held} {section.name}, the file "
                    f"{counts[section.name]}: nothing was kept."
                )
        cursor.execute("SELECT entry_hash FROM claims_review ORDER BY sequence DESC LIMIT 1")
        tip = cursor.fetchone()
    if (tip[0] if tip else None) != checked.ledger["tip_hash"]:
        raise _refuse("after writing, the ledger's tip is not the file's: nothing was kept.")


def _write_log(path: Path, checked: CheckedFile, handle: BinaryIO) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as out:
            for line in _log_lines(checked, handle):
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
