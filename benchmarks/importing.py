"""The import row of `make bench`: LIAR-shaped rows through the real importer, beside
a bare COPY of the same rows into a scratch table.

`write_liar` writes LIAR_ROWS lines in LIAR's shape (14 tab-separated columns, the
size of the whole public data set) with the generator's statements and a skewed
set of speakers. `measure` (run in a process of its own against a bench database,
`python -m benchmarks.importing FILE`) times, end to end, what `manage.py
import_reviews --dry-run` does: parsing, deduplication against the database's
claims, speakers, COPY of the claims and the reviews through every trigger, the
checks the commit would make, and the rollback instead of the commit (so the bench
database is left as it was). Then, in the same connection, it times COPY of the
file's bytes into a temporary table of 14 text columns (the floor the issue compares
with), and the same claims written by one INSERT ... SELECT into the claims table
(the floor of any importer into this schema: its indexes and triggers).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

LIAR_ROWS = 12_836
LABELS = ["true", "mostly-true", "half-true", "barely-true", "false", "pants-fire"]
PARTIES = ["republican", "democrat", "none", "independent"]
STATES = ["Texas", "Florida", "Ohio", "Virginia", "New York", "Wisconsin", ""]
SPEAKERS = 3_300  # LIAR names about this many
# Not the bench databases' seed: their statements are other claims.
IMPORT_SEED = 20_261_130


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    created: int
    matched: int
    seconds: float
    copy_seconds: float
    # The same claims written by the database alone (table_seconds): the floor for
    # any importer of them into this schema.
    table_seconds: float = 0.0

    @property
    def claims_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def table_claims_per_second(self) -> float:
        return self.rows / self.table_seconds if self.table_seconds else 0.0

    @property
    def versus_copy(self) -> float:
        return self.seconds / self.copy_seconds if self.copy_seconds else 0.0


def write_liar(path: Path, rows: int = LIAR_ROWS) -> None:
    from benchmarks.generate import FIRST_NAMES, LAST_NAMES, ROLES, Statements

    rng = random.Random(IMPORT_SEED)
    statements = Statements(rows, rng)
    # Claimants the bench databases do not hold ("Garcia Maria 17", never "Maria Garcia"):
    # the row measures importing another desk's archive. Near matches are sought among a
    # claimant's own claims, and the generator gives a few speakers tens of thousands.
    names = [
        f"{rng.choice(LAST_NAMES)}-{rng.choice(FIRST_NAMES)}-{rank}".lower()
        for rank in range(SPEAKERS)
    ]
    # A few speakers say most: Zipf-like weights, as in LIAR (and the bench databases).
    weights = [1 / (rank + 1) for rank in range(len(names))]
    with path.open("w", encoding="utf-8") as out:
        for number in range(rows):
            speaker = rng.choices(names, weights)[0]
            counts = [str(rng.randint(0, 40)) for _ in range(5)]
            cells = [
                f"{900_000 + number}.json",
                rng.choice(LABELS),
                statements.make(number),
                "economy,taxes",
                speaker,
                rng.choice(ROLES),
                rng.choice(STATES),
                rng.choice(PARTIES),
                *counts,
                "a news release",
            ]
            out.write("\t".join(cells) + "\n")


def measure(path: Path) -> ImportFigures:
    """Import `path` (LIAR) as a dry run, then COPY it bare; in this process's database."""
    from django.db import connection, transaction

    from claims.imports.datasets import parse_liar
    from claims.imports.load import load

    started = time.perf_counter()
    outcome = load(parse_liar(path), label=path.name, dry_run=True)
    seconds = time.perf_counter() - started

    data = path.read_bytes()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = ", ".join(f"c{n} text" for n in range(14))
        cursor.execute(f"CREATE TEMPORARY TABLE liar_scratch ({columns}) ON COMMIT DROP")
        copy_started = time.perf_counter()
        with cursor.cursor.copy("COPY liar_scratch FROM STDIN") as copy:
            copy.write(data)
        copy_seconds = time.perf_counter() - copy_started
    return ImportFigures(
        rows=outcome.reviews,
        created=outcome.created_claims,
        matched=outcome.matched_exact + outcome.matched_similar,
        seconds=seconds,
        copy_seconds=copy_seconds,
        table_seconds=table_seconds(path),
    )


class _RollBack(Exception):
    pass


def table_seconds(path: Path) -> float:
    """What the claims table alone costs for the file's claims: the statements, staged
    by COPY, written with one INSERT ... SELECT (no Python per row) through every index
    and trigger, the deferred checks run, then rolled back. No importer can write the
    claims faster; the difference to the import's time is the importer's own work."""
    from django.db import connection, transaction
    from django.utils import timezone

    from claims.models import Claim, ClaimKind

    statements = [
        line.split("\t")[2] for line in path.read_text(encoding="utf-8").splitlines() if line
    ]
    columns, values, params = [], [], []
    now = timezone.now()
    seconds = 0.0
    for field in Claim._meta.concrete_fields:
        if field.primary_key or field.generated:
            continue
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.attname == "statement":
            values.append("s.statement")
        elif field.attname == "slug":
            values.append("'bench-import-floor-' || s.n")
        elif field.attname == "speaker_id":
            values.append("(SELECT min(id) FROM claims_speaker)")
        else:
            value: Any
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.attname == "kind":
                value = ClaimKind.UNCLASSIFIED.value
            else:
                value = field.get_default()
            values.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE import_floor (n bigint, statement text) ON COMMIT DROP"
            )
            with cursor.cursor.copy("COPY import_floor FROM STDIN") as copy:
                for number, statement in enumerate(statements):
                    copy.write_row((number, statement))
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO claims_claim ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM import_floor s",
                params,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    return seconds


def run(path: Path, env: dict[str, str]) -> ImportFigures:
    """`measure` in a process of its own, pointed at a bench database by `env`."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.importing", str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the import benchmark failed:\n{done.stderr[-3000:]}")
    return ImportFigures(**json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "factcheck.settings")
    django.setup()
    figures = measure(Path(sys.argv[1]))
    print(json.dumps(figures.__dict__))
