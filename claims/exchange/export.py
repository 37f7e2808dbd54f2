"""Writing the desk's export (docs/export-format.md): `manage.py export PATH`.

Everything is read in one transaction at REPEATABLE READ, so the file is one
consistent moment of the database even while editors keep writing: the counts in
the header, every section and the ledger agree with each other. Rows stream
through server-side cursors a chunk at a time, so memory stays flat whatever the
size; the checkpoint log is read alongside, up to the ledger's tip in that snapshot.

The file is written beside PATH under a temporary name and renamed into place once
complete: PATH is either the previous file or the whole new one, never half of one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from tqdm import tqdm

from claims.exchange import format as fmt
from claims.ledger import checkpoints, tree, verifier
from claims.models import Review

CHUNK = 2000
# Sections with fewer rows than this get no progress bar.
PROGRESS_FROM = 5000


class ExportError(Exception):
    """The export cannot be written (the checkpoint log cannot be read, a path...)."""


@dataclass
class ExportResult:
    path: Path
    counts: dict[str, int]
    size: int
    sha256: str
    seconds: float
    ledger: dict[str, Any] = field(default_factory=dict)


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of the database for the whole export.

    Within a caller's transaction (a test's), that transaction is the view.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export(
    path: Path, *, progress: bool = False, chunk_size: int = CHUNK, stream: IO[str] | None = None
) -> ExportResult:
    """Write the whole desk to `path`; returns what was written."""
    started = time.perf_counter()
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with snapshot():
            ledger = _ledger_summary()
            logged = _logged_checkpoints(ledger["entries"])
            counts = {
                section.name: (
                    sum(1 for _ in logged()) if section.table is None else _count(section)
                )
                for section in fmt.SECTIONS
            }
            header = {
                "counts": counts,
                "format": fmt.FORMAT,
                "ledger": ledger,
                "schema": fmt.schema_state(),
                "sections": list(fmt.SECTION_NAMES),
                "version": fmt.VERSION,
            }
            digest = hashlib.sha256()
            with partial.open("wb", buffering=1 << 20) as out:

                def write(data: bytes) -> None:
                    digest.update(data)
                    out.write(data)

                write(fmt.line(header))
                for section in fmt.SECTIONS:
                    bar = tqdm(
                        total=counts[section.name],
                        desc=section.name,
                        unit=" rows",
                        file=stream or sys.stderr,
                        disable=not progress or counts[section.name] < PROGRESS_FROM,
                        leave=False,
                    )
                    with bar:
                        rows = (
                            _checkpoint_rows(logged())
                            if section.table is None
                            else section_rows(section, chunk_size)
                        )
                        written = 0
                        for row in rows:
                            write(fmt.record_line(section.name, row))
                            written += 1
                            if written % 1000 == 0:
                                bar.update(1000)
                        bar.update(written % 1000)
                    if written != counts[section.name]:
                        raise ExportError(
                            f"{section.name}: counted {counts[section.name]} rows, read "
                            f"{written}: the snapshot changed under the export"
                        )
                sha256 = digest.hexdigest()
                out.write(fmt.line(fmt.trailer(sum(counts.values()), sha256)))
                out.flush()
                os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(
        path=path,
        counts=counts,
        size=path.stat().st_size,
        sha256=sha256,
        seconds=time.perf_counter() - started,
        ledger=ledger,
    )


def _count(section: fmt.Section) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{section.table}"')
        return int(cursor.fetchone()[0])


def section_rows(section: fmt.Section, chunk_size: int = CHUNK) -> Iterator[dict[str, Any]]:
    """A section's records, in order, read through a server-side cursor."""
    columns = section.columns
    encoders = [(c.key, fmt.ENCODERS[c.kind], c.sort) for c in columns]
    statement = f'SELECT {", ".join(c.sql for c in columns)} FROM "{section.table}" t'
    if section.order_sql is not None:
        statement += f" ORDER BY {section.order_sql}"

    def encode(values: tuple[Any, ...]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for (key, encoder, ordered), value in zip(encoders, values, strict=True):
            if value is None:
                row[key] = None
                continue
            value = encoder(value)
            if ordered:
                value.sort()
            row[key] = value
        return row

    with connection.chunked_cursor() as cursor:
        cursor.execute(statement)
        if section.order_sql is None:
            # A handful of rows, sorted by code point rather than by the collation.
            yield from sorted(
                (encode(values) for values in cursor.fetchall()),
                key=lambda row: row[section.key],
            )
            return
        while rows := cursor.fetchmany(chunk_size):
            for values in rows:
                yield encode(values)


def _ledger_summary() -> dict[str, Any]:
    """The header's `ledger`: what a reader can compare with a checkpoint at a glance."""
    tip = Review.objects.order_by("-sequence").values("sequence", "entry_hash", "created_at")
    last = tip.first()
    size = last["sequence"] if last else 0
    root = tree.root(size) if size else verifier.EMPTY_TREE_HASH
    return {
        "entries": size,
        "origin": checkpoints.origin(),
        "root": base64.b64encode(root).decode(),
        "tip_created_at": fmt.format_timestamp(last["created_at"]) if last else None,
        "tip_hash": last["entry_hash"] if last else None,
        "verifier_key": checkpoints.verifier_key(),
    }


def _logged_checkpoints(entries: int) -> Callable[[], Iterator[checkpoints.LoggedCheckpoint]]:
    """The checkpoint log up to the snapshot's tip (a checkpoint signed after the
    snapshot covers entries the file does not hold), as a re-readable sequence."""

    def read() -> Iterator[checkpoints.LoggedCheckpoint]:
        try:
            for logged in checkpoints.read_log():
                if logged.size > entries:
                    return
                yield logged
        except checkpoints.CheckpointLogError as exc:
            raise ExportError(
                f"the checkpoint log cannot be read ({exc}): repair it, or move it away to "
                "export without it"
            ) from exc

    return read


def _checkpoint_rows(logged: Iterator[checkpoints.LoggedCheckpoint]) -> Iterator[dict[str, Any]]:
    for checkpoint in logged:
        yield checkpoint.to_json()
