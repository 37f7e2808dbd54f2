"""The ledger as JSON Lines: the public export anyone may download, and the desk's.

Each line is one entry in chain order with everything its hashes cover:
the header fields (`sequence`, `created_at`, `previous_hash`,
`body_sha256`), the `entry_hash`, and the `body` itself. In the public
export, the body of an entry about a claim readers may not see (a draft, or
a withdrawn claim) is left out: its `body_sha256` stands in for it, so the
chain and the Merkle tree still verify and nothing of the draft shows. The
internal note is never in the public export (the body holds only its salted
digest); the desk's export adds each note and its salt.

`claims/ledger/verifier.py` checks either export against a signed
checkpoint; docs/ledger-format.md specifies the format.

The export reads the whole ledger, so it reads plain rows (one query, a
server-side cursor, each entry's evidence gathered in SQL) rather than model
instances with prefetches: building a Review, its claim, editor and evidence
links cost far more than the line itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction

from claims.ledger import entries
from claims.models import Review

# Everything a line needs, in chain order: the entry, its claim's slug and
# publication, its editor's name and its evidence (source id, snapshot hash)
# in the order cited. The JSON columns come back as text and are parsed here,
# as the ORM's JSONField parses them, so their keys keep the database's order;
# the evidence too, by orjson rather than the driver's json.loads.
EXPORT_SQL = """
SELECT r.sequence,
       -- The header's text itself (entries.entry_time), written by the server: parsing
       -- a timestamp into Python only to print it again was a fifth of a line's cost.
       to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       r.previous_hash, r.entry_hash, r.claim_id,
       r.claim_version, r.action, r.status_before, r.status_after, r.explanation,
       r.note, r.note_salt, r.salt, r.editor_id, r.approved_by_id, r.correction_class,
       r.changes, r.claim_content, c.slug, c.published_at IS NOT NULL, u.username,
       (SELECT a.username FROM auth_user a WHERE a.id = r.approved_by_id),
       (SELECT coalesce(json_agg(json_build_array(e.source_id, s.snapshot_sha256)
                                 ORDER BY e.position), '[]')::text
          FROM claims_reviewevidence e JOIN sources_source s ON s.id = e.source_id
         WHERE e.review_id = r.id)
  FROM claims_review r
  JOIN claims_claim c ON c.id = r.claim_id
  JOIN auth_user u ON u.id = r.editor_id
 ORDER BY r.sequence
"""


@dataclass(slots=True)
class ExportedEntry:
    """A ledger entry as the export reads it: the fields `entries.entry_body` and
    the header read, with its claim's slug and publication and its editor's name."""

    sequence: int
    # As the header holds it (entries.entry_time): the export's query writes it so.
    created_at: str
    previous_hash: str
    entry_hash: str
    claim_id: int
    claim_version: int
    action: str
    status_before: str
    status_after: str
    explanation: str
    note: str
    note_salt: str
    salt: str
    editor_id: int
    approved_by_id: int | None
    correction_class: str
    changes: dict[str, Any]
    claim_content: dict[str, Any]
    claim_slug: str
    claim_published: bool
    editor_username: str
    approver_username: str | None
    evidence: list[tuple[int, str]]

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ExportedEntry:
        entry = cls(*row)
        entry.changes = _json(entry.changes)
        entry.claim_content = _json(entry.claim_content)
        entry.evidence = [(pk, sha) for pk, sha in _json(entry.evidence)]
        return entry

    @classmethod
    def from_review(cls, review: Review) -> ExportedEntry:
        """A stored Review (with claim, editor and evidence links loaded) as a line's entry."""
        return cls(
            sequence=review.sequence,
            created_at=entries.entry_time(review.created_at),
            previous_hash=review.previous_hash,
            entry_hash=review.entry_hash,
            claim_id=review.claim_id,
            claim_version=review.claim_version,
            action=review.action,
            status_before=review.status_before,
            status_after=review.status_after,
            explanation=review.explanation,
            note=review.note,
            note_salt=review.note_salt,
            salt=review.salt,
            editor_id=review.editor_id,
            approved_by_id=review.approved_by_id,
            correction_class=review.correction_class,
            changes=review.changes,
            claim_content=review.claim_content,
            claim_slug=review.claim.slug,
            claim_published=review.claim.is_published,
            editor_username=review.editor.username,
            approver_username=review.approved_by.username if review.approved_by else None,
            evidence=entries.evidence_of(review),
        )


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


class _ExportQuery:
    """The ledger's entries in chain order, read through a server-side cursor."""

    def iterator(self, chunk_size: int) -> Iterator[ExportedEntry]:
        # In a transaction: outside one (autocommit), Django declares the cursor WITH
        # HOLD, and PostgreSQL then computes the whole result before the first row
        # comes back (at 1.37M entries, seconds before the first byte and a
        # gigabyte of temporary storage). Within one, rows stream as they are read.
        with transaction.atomic(savepoint=False), connection.chunked_cursor() as cursor:
            cursor.execute(EXPORT_SQL)
            while rows := cursor.fetchmany(chunk_size):
                for row in rows:
                    yield ExportedEntry.from_row(row)


def exported_entries() -> _ExportQuery:
    """Entries with what a line needs, in chain order: one query, fetched in chunks."""
    return _ExportQuery()


def export_line(entry: ExportedEntry | Review, *, full: bool) -> dict[str, Any]:
    if isinstance(entry, Review):
        entry = ExportedEntry.from_review(entry)
    body = entries.entry_body(entry, entry.evidence, stored=True)
    line = {
        "sequence": entry.sequence,
        # What entries.entry_header puts in the header, without re-checking the
        # stored values that were checked when the entry was appended.
        "created_at": entry.created_at,
        "previous_hash": entry.previous_hash,
        "body_sha256": entries.stored_body_digest(body),
        "entry_hash": entry.entry_hash,
        "leaf_index": entry.sequence - 1,
    }
    if full or entry.claim_published:
        line["body"] = body
        line["claim"] = entry.claim_slug
        line["editor"] = entry.editor_username
        if entry.approver_username is not None:
            line["approved_by"] = entry.approver_username
    else:
        line["redacted"] = True
    if full:
        line["note"] = entry.note
        line["note_salt"] = entry.note_salt
    return line


def encode_line(line: dict[str, Any]) -> bytes:
    """The line's bytes: compact JSON, UTF-8, not ASCII-escaped, then a newline.

    orjson writes exactly what `json.dumps(line, ensure_ascii=False,
    separators=(",", ":"))` wrote for the values a line holds (strings,
    integers, booleans, None, lists, dicts), several times faster.
    """
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def export_lines(*, full: bool, chunk_size: int = 500) -> Iterator[bytes]:
    """One encoded line per entry; memory stays flat whatever the ledger's size."""
    for entry in exported_entries().iterator(chunk_size=chunk_size):
        yield encode_line(export_line(entry, full=full))
