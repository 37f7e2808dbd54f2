"""The import row of `make bench`: LIAR-shaped rows through the real importer, beside
a bare COPY of the same rows into a scratch table.

`write_liar` writes LIAR_ROWS lines in LIAR's shape (14 tab-separated columns, the
size of the whole public data set) with the generator's statements and a skewed
set of speakers. `measure` (run in a process of its own against a bench database,
`python -m benchmarks.importing FILE`) times, end to end, what `manage.py
import_reviews --dry-run` does: parsing, deduplication against the database's
claims, speakers, COPY of the claims and the reviews through every trigger, and
the rollback instead of the commit (so the bench database is left as it was).
Then, in the same connection, it times COPY of the file's bytes into a temporary
table of 14 text columns: the floor the issue compares with.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def claims_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

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
    )


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
