"""A synthetic ledger of N claims in a database of its own, for the benchmark.

    python manage.py bench --generate-only --sizes 10k

The database (`benchmarks.databases`) is migrated with the project's own
migrations, then filled with COPY as the server's superuser with
`session_replication_role = replica`, which skips the per-row triggers
(search vector, edit history, content and quote guards) and the foreign-key
checks; what those triggers derive is then filled with set-based SQL exactly
as they would (the stored search vector: `check_derived` compares a sample
with the trigger's own function). Secondary indexes are dropped during the
load and rebuilt afterwards from their own definitions, so indexes that new
migrations add are rebuilt too.

The ledger goes through the real chain trigger: its entries are copied in a
session with the triggers on, so PostgreSQL checks every link, while the
hashes, the Merkle tree's stored hashes and a first signed checkpoint are
computed here exactly as `claims.ledger` computes them; `verify_ledger`
against the database is the proof.

What it makes, for N claims (every number scales with N): speakers (20,000 at
1M) of Zipf-distributed productivity, so some speaker has about 1% of the
claims; 40 topics with ~1.3 links per claim; sources (one per 20 claims)
whose snapshots hold the claims' words, quotes anchored in them for 30% of
the claims, an appearance per claim (and a second for 10%); 98% of the
claims published, 39% with a verdict (half citing a source), so ~1.37 ledger
entries per claim; an editor account (the Editors role) with an API token.
Statements are 80-150 characters from a varied vocabulary; `COMMON_WORD` is
in about a quarter of them, `RARE_WORD` in exactly `RARE_COUNT`.

A database is reused when its recorded generator version and size match
(its COMMENT holds them, written last, so a load cut short is not reused).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import models
from tqdm import tqdm

from benchmarks.databases import Server, database_name
from claims import freshness
from claims.ledger import checkpoints, verifier
from claims.ledger.entries import canonical_quantity
from claims.models import (
    Appearance,
    Claim,
    LedgerTreeHash,
    Quote,
    Review,
    ReviewEvidence,
    Speaker,
    Topic,
)
from sources.models import Source

GENERATOR_VERSION = 3
SEED = 20_240_501

COMMON_WORD = "government"
RARE_WORD = "zeppelin"
RARE_COUNT = 10
EDITOR_USERNAME = "bench-editor"
EDITOR_PASSWORD = "bench-editor-password"  # a local benchmark database only

PUBLISHED_SHARE = 0.98
VERDICT_SHARE = 0.39
QUOTE_SHARE = 0.30
SECOND_APPEARANCE_SHARE = 0.10
SECOND_TOPIC_SHARE = 0.30
CLAIMS_PER_SOURCE = 20
SPEAKERS_PER_CLAIM = 0.02  # 20,000 at 1M
TOPICS = 40
ZIPF_EXPONENT = 1.0
START = datetime(2019, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=6 * 365)

VERDICTS = ["true", "mostly_true", "mixed", "misleading", "false", "unsupported"]
KINDS = ["event", "attribution", "denial", "prediction", "position", "characterization"]
SEARCH_CONFIG = "factcheck_english"
CHECKPOINT_LEAVES = 500
CHAIN_TRIGGER = "claims_review_extends_chain"  # migration 0002


@dataclass
class Counts:
    claims: int = 0
    published: int = 0
    speakers: int = 0
    topics: int = 0
    topic_links: int = 0
    sources: int = 0
    quotes: int = 0
    appearances: int = 0
    entries: int = 0
    verdicts: int = 0
    evidence: int = 0
    tree_hashes: int = 0


@dataclass
class Result:
    database: str
    claims: int
    reused: bool
    seconds: float
    counts: Counts
    ledger_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def entries_per_second(self) -> float:
        return self.counts.entries / self.ledger_seconds if self.ledger_seconds else 0.0

    @property
    def claims_per_second(self) -> float:
        return self.claims / self.seconds if self.seconds else 0.0


# --- Words --------------------------------------------------------------------------

# fmt: off
SUBJECTS = [
    "The administration", "Officials", "The ministry", "Congress", "The army", "Police",
    "The central bank", "The navy", "Local authorities", "The coast guard", "The senator",
    "The governor", "Prosecutors", "The opposition", "The mayor", "Customs agents",
    "The president", "Lawmakers", "The agency", "Researchers", "The cartel", "Analysts",
]
VERBS = [
    "seized", "spent", "deported", "arrested", "approved", "blocked", "tripled", "doubled",
    "cut", "raised", "intercepted", "destroyed", "funded", "deployed", "recorded", "reported",
    "lost", "sent", "built", "closed", "hired", "fined", "paid", "exported", "imported",
]
OBJECTS = [
    "tons of cocaine", "million dollars", "new troops", "fishing vessels", "border crossings",
    "jobs in manufacturing", "migrants", "tariffs on imports", "percent of the budget",
    "speedboats", "oil tankers", "acres of farmland", "public schools", "hospital beds",
    "police officers", "prison cells", "kilograms of fentanyl", "barrels of crude",
    "homes for veterans", "miles of fencing", "vaccines", "teachers", "refugees", "warships",
]
TAILS = [
    "in the Caribbean last year", "since January", "during the first quarter",
    "across the southern border", "off the coast of Venezuela", "in a single month",
    "before the election", "according to official figures", "over the past decade",
    "in international waters", "without congressional approval", "in two years",
    "more than any previous administration", "despite the sanctions", "after the strikes",
]
FIRST_NAMES = [
    "Maria", "John", "Ana", "Luis", "Sarah", "David", "Elena", "Carlos", "Grace", "Omar",
    "Julia", "Pedro", "Linda", "Marco", "Nadia", "Victor", "Rosa", "Peter", "Ines", "Samuel",
    "Laura", "Hector", "Diana", "Felix", "Irene", "Jorge", "Clara", "Tomas", "Alice", "Rafael",
    "Monica", "Andres", "Helen", "Pablo", "Sofia", "Martin", "Lucia", "Oscar", "Teresa",
    "Ivan",
]
LAST_NAMES = [
    "Garcia", "Smith", "Rodriguez", "Johnson", "Martinez", "Brown", "Lopez", "Davis", "Perez",
    "Miller", "Gonzalez", "Wilson", "Sanchez", "Moore", "Ramirez", "Taylor", "Torres", "Clark",
    "Flores", "Lewis", "Rivera", "Walker", "Gomez", "Hall", "Diaz", "Young", "Cruz", "King",
    "Morales", "Wright", "Reyes", "Scott", "Ortiz", "Green", "Gutierrez", "Baker", "Chavez",
    "Adams", "Ramos", "Nelson", "Castillo", "Hill", "Mendoza", "Campbell", "Vargas",
    "Mitchell",
]
ROLES = [
    "Senator", "Minister", "Spokesperson", "Governor", "Analyst", "General", "Mayor", "",
]
OUTLETS = [
    "Daily Ledger", "Coastal Times", "The Observer", "Radio Norte", "Metro Post", "",
]
TOPIC_NAMES = [
    "Drugs", "Military", "Immigration", "Economy", "Budget", "Energy", "Health", "Education",
    "Crime", "Elections", "Trade", "Foreign policy", "Environment", "Housing", "Labor",
    "Justice", "Security", "Agriculture", "Transport", "Technology", "Taxes", "Media",
    "Corruption", "Human rights", "Sanctions", "Oil", "Fisheries", "Veterans", "Prisons",
    "Borders", "Public health", "Infrastructure", "Water", "Climate", "Pensions", "Banking",
    "Tourism", "Mining", "Science", "Sports",
]
# fmt: on


def _seed_runs() -> list[str]:
    """Runs of 3-6 consecutive words from the seed articles: varied, real wording."""
    words = [
        re.sub(r"[^\w'-]", "", word)
        for path in sorted((settings.BASE_DIR / "seeds").glob("*.txt"))
        for word in path.read_text().split()
    ]
    words = [w for w in words if w and w.lower() not in {COMMON_WORD, RARE_WORD}]
    rng = random.Random(SEED)
    runs = []
    for _ in range(3000):
        start = rng.randrange(max(1, len(words) - 6))
        runs.append(" ".join(words[start : start + rng.randint(3, 6)]).lower())
    return runs


class Statements:
    """80-150 characters each; COMMON_WORD in a quarter, RARE_WORD in RARE_COUNT."""

    def __init__(self, total: int, rng: random.Random):
        self.rng = rng
        self.runs = _seed_runs()
        step = max(1, total // RARE_COUNT)
        self.rare = {7 + step * k for k in range(RARE_COUNT) if 7 + step * k < total}

    def make(self, i: int) -> str:
        rng = self.rng
        subject = f"The {COMMON_WORD}" if i % 4 == 0 else rng.choice(SUBJECTS)
        parts = [
            subject,
            rng.choice(VERBS),
            str(rng.randint(2, 9800)),
            rng.choice(OBJECTS),
            rng.choice(TAILS),
        ]
        if i in self.rare:
            parts.insert(4, f"by {RARE_WORD}")
        text = " ".join(parts)
        target = rng.randint(80, 150)
        while len(text) < target:
            text += ", " + rng.choice(self.runs) if len(text) + 8 < target else " again"
        if len(text) > 150:
            text = text[:150].rsplit(" ", 1)[0].rstrip(",")
        return text + "."


def _slug_words(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:6])


# --- Loading --------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


def _default_columns(model: type[models.Model], given: Iterable[str]) -> dict[str, Any]:
    """Columns a later migration added that the generator does not set: their defaults.

    A migration's default is the model field's, applied by Django, not by the
    database; COPY must name them.
    """
    given = set(given)
    extra: dict[str, Any] = {}
    for model_field in model._meta.concrete_fields:
        assert model_field.column is not None
        if model_field.column in given or isinstance(model_field, models.GeneratedField):
            continue
        # A blank text field's default is "" (Field.get_default), as Django stores it.
        blank_text = model_field.blank and model_field.empty_strings_allowed
        if model_field.has_default() or model_field.null or blank_text:
            extra[model_field.column] = (
                model_field.get_default() if model_field.has_default() or blank_text else None
            )
        elif not isinstance(model_field, models.AutoField):
            raise RuntimeError(
                f"{model._meta.db_table}.{model_field.column} has no default: teach "
                "benchmarks/generate.py to fill it"
            )
    return extra


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def copy_rows(
    conn: Any,
    model: type[models.Model],
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    table: str | None = None,
    total: int | None = None,
    label: str = "",
) -> int:
    """COPY rows into a model's table (or `table`, shaped like it); returns how many."""
    extra = _default_columns(model, columns)
    names = columns + list(extra)
    tail = tuple(_jsonable(v) for v in extra.values())
    target = table or model._meta.db_table
    statement = f"COPY {target} ({', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)}) FROM STDIN"
    count = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in tqdm(
            rows, total=total, desc=label or target, unit=" rows", leave=False, mininterval=0.5
        ):
            copy.write_row(row + tail if tail else row)
            count += 1
    return count


def _secondary_indexes(conn: Any, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `tables` that back no constraint."""
    return conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relname = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
         ORDER BY pg_relation_size(t.oid) DESC, i.relname
        """,
        [tables],
    ).fetchall()


def _in_parallel(jobs: list[Callable[[], None]], workers: int) -> None:
    """Run jobs on `workers` threads (each with its own connection: psycopg waits
    without the GIL); the first error is raised."""
    pending = list(jobs)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not pending or errors:
                    return
                job = pending.pop(0)
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class Generator:
    def __init__(
        self,
        server: Server,
        claims: int,
        *,
        out: Callable[[str], None] = print,
        workers: int = 2,
    ):
        self.server = server
        self.n = claims
        self.name = database_name(claims)
        self.out = out
        self.workers = workers
        self.rng = random.Random(SEED)
        self.counts = Counts()
        self.steps: dict[str, float] = {}

    # -- the whole run -------------------------------------------------------------

    def recorded(self) -> dict[str, Any] | None:
        if not self.server.exists(self.name):
            return None
        try:
            return json.loads(self.server.comment(self.name) or "")
        except ValueError:
            return None

    def run(self, *, force: bool = False) -> Result:
        start = time.monotonic()
        recorded = self.recorded()
        if (
            not force
            and recorded
            and recorded.get("generator") == GENERATOR_VERSION
            and recorded.get("claims") == self.n
        ):
            self.out(
                f"Reusing {self.name}: generated by generator v{GENERATOR_VERSION} on "
                f"{recorded.get('generated_at')} ({recorded['claims']:,} claims, "
                f"{recorded['counts']['entries']:,} ledger entries, in "
                f"{recorded['seconds']:.0f} s); migrating it."
            )
            self.migrate()
            counts = Counts(**recorded["counts"])
            result = Result(self.name, self.n, True, recorded["seconds"], counts)
            result.ledger_seconds = recorded.get("ledger_seconds", 0.0)
            result.steps = recorded.get("steps", {})
            return result
        self.out(f"Generating {self.name}: {self.n:,} claims (generator v{GENERATOR_VERSION}).")
        self._step("create and migrate", self.create_and_migrate)
        import psycopg

        with psycopg.connect(**self.server.connect_kwargs(self.name)) as conn:
            self.conn = conn
            conn.execute("SET session_replication_role = replica")
            conn.execute("SET synchronous_commit = off")
            self.indexes = _secondary_indexes(conn, self._tables())
            for name, _ in self.indexes:
                conn.execute(f'DROP INDEX "{name}"')
            conn.commit()
            self._step("accounts", self.accounts)
            self._step("words", self.plan)
            self._step("speakers and topics", self.speakers_and_topics)
            self._step("sources", self.sources)
            self._step("quotes and appearances", self.quotes_and_appearances)
            self._step("claims and search vectors", self.claims)
            ledger_start = time.monotonic()
            self._step("ledger (through the chain trigger)", self.ledger)
            ledger_seconds = time.monotonic() - ledger_start
            self._step("sequences", self.sequences)
        self._step("derived tables", self.derived_tables)
        self._step("indexes", self.rebuild_indexes)
        self._step("vacuum and analyze", self.analyze)
        self._step("checkpoint", self.checkpoint)
        self._step("derived columns check", self.check_derived)
        seconds = time.monotonic() - start
        result = Result(self.name, self.n, False, seconds, self.counts, ledger_seconds, self.steps)
        self.record(result)
        return result

    def _step(self, label: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        action()
        took = time.monotonic() - started
        self.steps[label] = round(took, 2)
        self.out(f"  {label}: {took:.1f} s")

    def _tables(self) -> list[str]:
        return [
            model._meta.db_table
            for model in (
                Speaker,
                Topic,
                Source,
                Quote,
                Appearance,
                Claim,
                Claim.topics.through,
                Review,
                ReviewEvidence,
                LedgerTreeHash,
            )
        ]

    def record(self, result: Result) -> None:
        import psycopg
        from psycopg import sql

        note = {
            "generator": GENERATOR_VERSION,
            "claims": self.n,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(result.seconds, 1),
            "ledger_seconds": round(result.ledger_seconds, 2),
            "counts": asdict(result.counts),
            "steps": result.steps,
        }
        with psycopg.connect(**self.server.connect_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(self.name), sql.Literal(json.dumps(note))
                )
            )

    # -- the database ----------------------------------------------------------------

    def manage(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """A management command against this database, as the project runs it."""
        env = project_environment(self.server, self.name)
        return subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def migrate(self) -> None:
        done = self.manage("migrate", "--noinput")
        if done.returncode:
            raise RuntimeError(f"migrate failed on {self.name}:\n{done.stdout}\n{done.stderr}")

    def create_and_migrate(self) -> None:
        log = checkpoint_log(self.name)
        log.unlink(missing_ok=True)  # a new ledger would contradict the old one's checkpoints
        self.server.create(self.name)
        self.migrate()

    def accounts(self) -> None:
        conn = self.conn
        group = conn.execute("SELECT id FROM auth_group WHERE name = 'Editors'").fetchone()
        if group is None:
            raise RuntimeError("no Editors group: the roles' data migration did not run")
        now = datetime.now(UTC)
        self.editor_id = one(
            conn,
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            VALUES (%s, false, %s, 'Bench', 'Editor', '', true, true, %s) RETURNING id
            """,
            [_password_hash(EDITOR_PASSWORD), EDITOR_USERNAME, now],
        )
        conn.execute(
            "INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)",
            [self.editor_id, group[0]],
        )
        conn.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [hashlib.sha1(f"bench-{self.name}".encode()).hexdigest(), self.editor_id, now],
        )
        conn.commit()

    # -- what to write -------------------------------------------------------------------

    def plan(self) -> None:
        n, rng = self.n, self.rng
        self.n_speakers = max(20, round(n * SPEAKERS_PER_CLAIM))
        self.n_sources = max(5, n // CLAIMS_PER_SOURCE)
        self.n_topics = min(TOPICS, max(5, n // 100))
        weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(1, self.n_speakers + 1)]
        cumulative = list(itertools.accumulate(weights))
        # Ranks shuffled over ids, so the busiest speaker is not simply id 1.
        order = list(range(1, self.n_speakers + 1))
        rng.shuffle(order)
        self.claim_speaker = [
            order[bisect.bisect(cumulative, rng.random() * cumulative[-1])] for _ in range(n)
        ]
        words = Statements(n, rng)
        self.statements = [
            words.make(i) for i in tqdm(range(n), desc="statements", leave=False, mininterval=0.5)
        ]

    def speakers_and_topics(self) -> None:
        rng = self.rng
        self.speaker_names: dict[int, str] = {}
        now = _stamp(START)

        def speakers() -> Iterator[tuple[Any, ...]]:
            for pk in range(1, self.n_speakers + 1):
                if pk % 10 == 0:
                    name = f"Ministry of {rng.choice(TOPIC_NAMES)} {pk}"
                    kind, aliases = "organization", []
                else:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    name, kind = f"{first} {last}", "person"
                    aliases = [f"{first[0]}. {last}"] if pk % 3 == 0 else []
                self.speaker_names[pk] = name
                yield (
                    pk,
                    name,
                    f"{_slug_words(name)}-{pk}",
                    kind,
                    rng.choice(ROLES),
                    "",
                    "{" + ",".join(json.dumps(a) for a in aliases) + "}",
                    "",
                    now,
                    now,
                )

        columns = [
            "id",
            "name",
            "slug",
            "kind",
            "role",
            "affiliation",
            "aliases",
            "description",
            "created_at",
            "updated_at",
        ]
        self.counts.speakers = copy_rows(
            self.conn, Speaker, columns, speakers(), total=self.n_speakers
        )
        topics = (
            (pk, TOPIC_NAMES[pk - 1], _slug_words(TOPIC_NAMES[pk - 1]))
            for pk in range(1, self.n_topics + 1)
        )
        self.counts.topics = copy_rows(self.conn, Topic, ["id", "name", "slug"], topics)
        # Topics are skewed too: the first ones carry most links.
        weights = list(itertools.accumulate(1 / k for k in range(1, self.n_topics + 1)))

        def links() -> Iterator[tuple[int, int, int]]:
            pk = 0
            for claim in range(1, self.n + 1):
                first = bisect.bisect(weights, rng.random() * weights[-1]) + 1
                pk += 1
                yield pk, claim, first
                if rng.random() < SECOND_TOPIC_SHARE:
                    second = first % self.n_topics + 1
                    pk += 1
                    yield pk, claim, second

        self.counts.topic_links = copy_rows(
            self.conn,
            Claim.topics.through,
            ["id", "claim_id", "topic_id"],
            links(),
            total=int(self.n * (1 + SECOND_TOPIC_SHARE)),
            label="topic links",
        )
        self.conn.commit()

    def sources(self) -> None:
        """Each source's snapshot holds its claims' statements, one paragraph each."""
        rng = self.rng
        self.claim_source = [i % self.n_sources + 1 for i in range(self.n)]
        members: list[list[int]] = [[] for _ in range(self.n_sources + 1)]
        for i, source in enumerate(self.claim_source):
            members[source].append(i)
        self.offsets: dict[int, tuple[int, int]] = {}
        self.snapshots: dict[int, str] = {}
        self.snapshot_sha: dict[int, str] = {}

        def rows() -> Iterator[tuple[Any, ...]]:
            for pk in range(1, self.n_sources + 1):
                title = (
                    f"Report {pk}: {self.statements[members[pk][0]][:60]}"
                    if members[pk]
                    else f"Report {pk}"
                )
                text = title + "\n\n"
                for i in members[pk]:
                    self.offsets[i] = (len(text), len(text) + len(self.statements[i]))
                    text += self.statements[i] + "\n\n"
                text = text.rstrip("\n")
                self.snapshots[pk] = text
                self.snapshot_sha[pk] = hashlib.sha256(text.encode()).hexdigest()
                day = START.date() + timedelta(days=rng.randrange(SPAN.days))
                moment = _stamp(START + SPAN * (pk / self.n_sources))
                yield (
                    pk,
                    f"report-{pk}",
                    title[:300],
                    rng.choice(OUTLETS),
                    "",
                    f"https://news.example/{pk}",
                    day,
                    "article",
                    text,
                    moment,
                    moment,
                    moment,
                )

        columns = [
            "id",
            "slug",
            "title",
            "outlet",
            "author",
            "url",
            "published_on",
            "kind",
            "snapshot",
            "retrieved_at",
            "created_at",
            "updated_at",
        ]
        self.counts.sources = copy_rows(self.conn, Source, columns, rows(), total=self.n_sources)
        self.conn.commit()

    def quotes_and_appearances(self) -> None:
        rng = self.rng
        self.claim_quote: dict[int, int] = {}
        quote_rows: list[tuple[Any, ...]] = []
        for i in range(self.n):
            if rng.random() < QUOTE_SHARE:
                source = self.claim_source[i]
                start, end = self.offsets[i]
                text = self.snapshots[source]
                pk = len(quote_rows) + 1
                self.claim_quote[i] = pk
                quote_rows.append(
                    (
                        pk,
                        source,
                        self.claim_speaker[i],
                        "direct",
                        text[start:end],
                        text[max(0, start - 32) : start],
                        text[end : end + 32],
                        start,
                        end,
                        _stamp(START),
                    )
                )
        columns = [
            "id",
            "source_id",
            "speaker_id",
            "kind",
            "exact",
            "prefix",
            "suffix",
            "start",
            "end",
            "created_at",
        ]
        self.counts.quotes = copy_rows(self.conn, Quote, columns, quote_rows, total=len(quote_rows))
        del quote_rows

        def appearances() -> Iterator[tuple[Any, ...]]:
            pk = 0
            for i in range(self.n):
                pk += 1
                yield pk, i + 1, self.claim_source[i], self.claim_quote.get(i), _stamp(START)
                if self.n_sources > 1 and rng.random() < SECOND_APPEARANCE_SHARE:
                    pk += 1
                    other = self.claim_source[i] % self.n_sources + 1
                    yield pk, i + 1, other, None, _stamp(START)

        self.counts.appearances = copy_rows(
            self.conn,
            Appearance,
            ["id", "claim_id", "source_id", "quote_id", "created_at"],
            appearances(),
            total=int(self.n * (1 + SECOND_APPEARANCE_SHARE)),
            label="appearances",
        )
        self.conn.commit()

    # -- claims and their ledger ------------------------------------------------------------

    def plan_claims(self) -> None:
        """Each claim's kind, fields and ledger story, decided before anything is hashed."""
        rng = self.rng
        self.claim_rows: list[list[Any]] = []
        self.stories: list[tuple[bool, str | None, bool]] = []  # published, verdict, cites
        for i in range(self.n):
            statement = self.statements[i]
            kind = rng.choice(KINDS) if i % 5 else "numeric"
            quantity = Decimal(rng.randint(1, 10**7)) if kind == "numeric" else None
            unit = rng.choice(["USD", "people", "tons", "percent"]) if quantity is not None else ""
            claim_date = START.date() + timedelta(days=rng.randrange(SPAN.days))
            published = rng.random() < PUBLISHED_SHARE
            verdict = (
                rng.choice(VERDICTS)
                if published and rng.random() < VERDICT_SHARE / PUBLISHED_SHARE
                else None
            )
            cites = verdict is not None and rng.random() < 0.5
            self.stories.append((published, verdict, cites))
            self.claim_rows.append(
                [
                    i + 1,
                    statement,
                    f"{_slug_words(statement)}-{i + 1}",
                    self.claim_speaker[i],
                    claim_date,
                    kind,
                    quantity,
                    unit,
                    "",
                ]
            )

    def claims(self) -> None:
        self.plan_claims()
        # The ledger decides each claim's status, version and times: computed in
        # `ledger`, which fills self.claim_state before the claims are copied.
        self.claim_state: dict[int, tuple[str, int, str | None, str | None, str, str]] = {}
        self.ledger_plan()

    def ledger_plan(self) -> None:
        """Times of every entry, so the claims can be written before their ledger."""
        total = sum((1 if p else 0) + (1 if v else 0) for p, v, _ in self.stories)
        self.total_entries = total
        step = SPAN / max(total, 1)
        self.entry_time: Callable[[int], datetime] = lambda seq: START + step * seq
        sequence = 0
        for i, (published, verdict, _) in enumerate(self.stories):
            pk = i + 1
            created = self.entry_time(sequence + 1) - timedelta(seconds=30)
            if not published:
                self.claim_state[pk] = (
                    "unverified",
                    1,
                    None,
                    None,
                    _stamp(created),
                    _stamp(created),
                )
                continue
            sequence += 1
            published_at = _stamp(self.entry_time(sequence))
            status, version, changed, updated = "unverified", 2, None, published_at
            if verdict:
                sequence += 1
                status, version = verdict, 3
                changed = updated = _stamp(self.entry_time(sequence))
            self.claim_state[pk] = (
                status,
                version,
                changed,
                published_at,
                _stamp(created),
                updated,
            )
        self.copy_claims()

    def copy_claims(self) -> None:
        conn = self.conn
        conn.execute(
            "CREATE UNLOGGED TABLE bench_claim_stage (LIKE claims_claim INCLUDING DEFAULTS, bench_quoted text)"
        )
        conn.commit()

        def rows() -> Iterator[tuple[Any, ...]]:
            for row in self.claim_rows:
                status, version, changed, published_at, created, updated = self.claim_state[row[0]]
                quoted = self.statements[row[0] - 1] if (row[0] - 1) in self.claim_quote else None
                yield (*row, status, version, changed, published_at, None, created, updated, quoted)

        columns = [
            "id",
            "statement",
            "slug",
            "speaker_id",
            "claim_date",
            "kind",
            "quantity",
            "unit",
            "media_authenticity",
            "status",
            "version",
            "status_changed_at",
            "published_at",
            "assignee_id",
            "created_at",
            "updated_at",
            "bench_quoted",
        ]
        extra = _default_columns(Claim, [*columns, "search_vector"])
        copy_rows(
            conn, Claim, columns, rows(), table="bench_claim_stage", total=self.n, label="claims"
        )
        conn.execute(
            f"""
            CREATE UNLOGGED TABLE bench_speaker_vector AS
            SELECT id, setweight(to_tsvector('{SEARCH_CONFIG}', coalesce(
                       name || ' ' || array_to_string(aliases, ' '), '')), 'B') AS vector
              FROM claims_speaker;
            ALTER TABLE bench_speaker_vector ADD PRIMARY KEY (id);
            ANALYZE bench_speaker_vector; ANALYZE bench_claim_stage;
            """
        )
        conn.commit()
        names = [c for c in columns if c != "bench_quoted"] + list(extra)
        column_list = ", ".join(f'"{c}"' for c in names)
        selected = ", ".join(f'c."{c}"' for c in names)
        # factcheck_claim_search_vector (migration 0005), set-based: statement (A),
        # speaker's name and aliases (B), quoted words (C; at most one quote per claim).
        vector = (
            f"setweight(to_tsvector('{SEARCH_CONFIG}', coalesce(c.statement, '')), 'A')"
            f" || coalesce(s.vector, setweight(to_tsvector('{SEARCH_CONFIG}', ''), 'B'))"
            f" || setweight(to_tsvector('{SEARCH_CONFIG}', coalesce(c.bench_quoted, '')), 'C')"
        )
        bounds = [1 + self.n * k // self.workers for k in range(self.workers + 1)]

        def insert(low: int, high: int) -> Callable[[], None]:
            def job() -> None:
                import psycopg

                with psycopg.connect(**self.server.connect_kwargs(self.name)) as other:
                    other.execute("SET session_replication_role = replica")
                    other.execute("SET synchronous_commit = off")
                    other.execute(
                        f"""
                        INSERT INTO claims_claim ({column_list}, search_vector)
                        SELECT {selected}, {vector}
                          FROM bench_claim_stage c LEFT JOIN bench_speaker_vector s ON s.id = c.speaker_id
                         WHERE c.id >= %s AND c.id < %s
                        """,
                        [low, high],
                    )

            return job

        _in_parallel([insert(bounds[k], bounds[k + 1]) for k in range(self.workers)], self.workers)
        conn.execute("DROP TABLE bench_claim_stage; DROP TABLE bench_speaker_vector")
        conn.commit()
        self.counts.claims = self.n
        self.counts.published = sum(1 for p, _, _ in self.stories if p)

    def ledger(self) -> None:
        """Every entry hashed here as claims.ledger does, and copied through the chain
        trigger (a session with the triggers on), which checks each link."""
        import psycopg

        canonical = json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode
        fmt = verifier.format_timestamp
        previous = verifier.GENESIS_HASH
        peaks: list[bytes] = []
        tree_rows: list[tuple[int, bytes]] = []
        self.leaves: list[bytes] = []
        self.roots: list[tuple[int, bytes]] = []  # (size, root) of each checkpoint to sign
        evidence_rows: list[tuple[int, int, int, int]] = []
        sequence = 0
        note_salt_rng = self.rng

        def salt() -> str:
            return f"{note_salt_rng.getrandbits(128):032x}"

        def entries() -> Iterator[tuple[Any, ...]]:
            nonlocal previous, sequence
            for i, (published, verdict, cites) in enumerate(self.stories):
                if not published:
                    continue
                row = self.claim_rows[i]
                content = {
                    "statement": row[1],
                    "speaker": {"id": row[3], "name": self.speaker_names[row[3]]},
                    "claim_date": row[4].isoformat(),
                    "kind": row[5],
                    "quantity": canonical_quantity(row[6]),
                    "unit": row[7],
                    "media_authenticity": row[8],
                }
                steps: list[tuple[str, str, str, str, list[int]]] = [
                    ("publish", "unverified", "unverified", "", [])
                ]
                if verdict:
                    evidence = [self.claim_source[i]] if cites else []
                    explanation = (
                        f"Rated **{verdict.replace('_', ' ')}**: the figures in report "
                        f"{self.claim_source[i]} do not match the claim as stated."
                    )
                    steps.append(("review", "unverified", verdict, explanation, evidence))
                for version, (action, before, after, explanation, evidence) in enumerate(
                    steps, start=2
                ):
                    sequence += 1
                    created = self.entry_time(sequence)
                    entry_salt, note_salt = salt(), salt()
                    body = {
                        "salt": entry_salt,
                        "claim": {"id": row[0], **content},
                        "claim_version": version,
                        "action": action,
                        "status_before": before,
                        "status_after": after,
                        "explanation": explanation,
                        "evidence": [
                            {"source": pk, "sha256": self.snapshot_sha[pk]} for pk in evidence
                        ],
                        "editor": self.editor_id,
                        "correction": None,
                        "note_sha256": hashlib.sha256(
                            canonical({"note": "", "salt": note_salt}).encode()
                        ).hexdigest(),
                    }
                    header = {
                        "v": verifier.FORMAT_VERSION,
                        "sequence": sequence,
                        "created_at": fmt(created),
                        "previous_hash": previous,
                        "body_sha256": hashlib.sha256(canonical(body).encode()).hexdigest(),
                    }
                    data = canonical(header).encode()
                    entry_hash = hashlib.sha256(data).hexdigest()
                    self._append_leaf(sequence - 1, verifier.record_hash(data), peaks, tree_rows)
                    for position, pk in enumerate(evidence, start=1):
                        evidence_rows.append((len(evidence_rows) + 1, sequence, pk, position))
                    yield (
                        sequence,
                        sequence,
                        row[0],
                        version,
                        action,
                        before,
                        after,
                        explanation,
                        "",
                        self.editor_id,
                        json.dumps(content),
                        "",
                        "{}",
                        entry_salt,
                        note_salt,
                        _stamp(created),
                        previous,
                        entry_hash,
                    )
                    previous = entry_hash

        columns = [
            "id",
            "sequence",
            "claim_id",
            "claim_version",
            "action",
            "status_before",
            "status_after",
            "explanation",
            "note",
            "editor_id",
            "claim_content",
            "correction_class",
            "changes",
            "salt",
            "note_salt",
            "created_at",
            "previous_hash",
            "entry_hash",
        ]
        with psycopg.connect(**self.server.connect_kwargs(self.name)) as chained:
            # The chain trigger checks every entry as it is copied: made ALWAYS for the
            # load, it fires even in replica mode, which skips the rest (the foreign
            # keys' checks, deferred to the commit, would take as long again).
            chained.execute("SET session_replication_role = replica")
            chained.execute("SET synchronous_commit = off")
            chained.execute(f"ALTER TABLE claims_review ENABLE ALWAYS TRIGGER {CHAIN_TRIGGER}")
            started = time.monotonic()
            self.counts.entries = copy_rows(
                chained,
                Review,
                columns,
                entries(),
                total=self.total_entries,
                label="ledger entries",
            )
            chained.execute(f"ALTER TABLE claims_review ENABLE TRIGGER {CHAIN_TRIGGER}")
            chained.commit()
            self.ledger_copy_seconds = time.monotonic() - started
        self.counts.verdicts = sum(1 for _, v, _ in self.stories if v)
        self.counts.evidence = copy_rows(
            self.conn, ReviewEvidence, ["id", "review_id", "source_id", "position"], evidence_rows
        )
        self.counts.tree_hashes = copy_rows(
            self.conn,
            LedgerTreeHash,
            ["index", "hash"],
            tree_rows,
            total=len(tree_rows),
            label="tree hashes",
        )
        self.conn.commit()
        if not self.roots or self.roots[-1][0] != sequence:
            self.roots.append((sequence, peaks_root(peaks)))

    def _append_leaf(
        self, n: int, leaf: bytes, peaks: list[bytes], rows: list[tuple[int, bytes]]
    ) -> None:
        """claims.ledger.tree.append_leaf, with the left siblings kept in memory:
        the peaks of the complete subtrees so far (one per 1 bit of n)."""
        self.leaves.append(leaf)
        index = verifier.stored_hash_index(0, n) if not rows else rows[-1][0] + 1
        rows.append((index, leaf))
        current = leaf
        completed = ((n + 1) & -(n + 1)).bit_length() - 1
        for _ in range(completed):
            current = verifier.node_hash(peaks.pop(), current)
            index += 1
            rows.append((index, current))
        peaks.append(current)
        if (n + 1) % CHECKPOINT_LEAVES == 0:
            self.roots.append((n + 1, peaks_root(peaks)))

    def sequences(self) -> None:
        for table in self._tables():
            column = "index" if table == LedgerTreeHash._meta.db_table else "id"
            if column == "index":
                continue
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT max(id) FROM {table}), 1))",
                [table],
            )
        self.conn.commit()

    def derived_tables(self) -> None:
        """Tables other triggers keep, which replica mode skipped: refilled as their
        migration's backfill does (a migration runs before the load, on no rows)."""
        import psycopg

        with psycopg.connect(**self.server.connect_kwargs(self.name), autocommit=True) as conn:
            present = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", [list(DERIVED)]
                )
            }
            for table, statements in DERIVED.items():
                if table in present:
                    with conn.transaction():
                        conn.execute(statements)

    def rebuild_indexes(self) -> None:
        import psycopg

        definitions = list(self.indexes)
        bar = tqdm(total=len(definitions), desc="indexes", leave=False)

        def build(definition: str) -> Callable[[], None]:
            def job() -> None:
                with psycopg.connect(
                    **self.server.connect_kwargs(self.name), autocommit=True
                ) as conn:
                    conn.execute("SET maintenance_work_mem = '1GB'")
                    conn.execute(definition)
                bar.update()

            return job

        _in_parallel([build(d) for _, d in definitions], self.workers)
        bar.close()

    def analyze(self) -> None:
        import psycopg

        with psycopg.connect(**self.server.connect_kwargs(self.name), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")

    def checkpoint(self) -> None:
        """Signed checkpoints of the whole ledger, with every leaf hash, from memory: the
        app's own signer would read all of them back. One every CHECKPOINT_LEAVES
        entries: claims.ledger.checkpoints reads the log's last line in 64 KiB blocks
        and misreads a longer one."""
        signer = checkpoints.signer()
        if signer is None or not self.counts.entries:
            self.out("  (no signing key configured: no checkpoint signed)")
            return
        lines = []
        signed_at = datetime.now(UTC).isoformat()
        for index, (size, root) in enumerate(self.roots):
            first = self.roots[index - 1][0] if index else 0
            note = verifier.sign_checkpoint(
                verifier.Checkpoint(origin=checkpoints.origin(), size=size, root_hash=root), signer
            )
            entry = checkpoints.LoggedCheckpoint(
                size=size,
                root=root,
                leaves=tuple(self.leaves[first:size]),
                signed_at=signed_at,
                note=note,
            )
            lines.append(json.dumps(entry.to_json(), separators=(",", ":")).encode() + b"\n")
        path = checkpoint_log(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(lines))

    def check_derived(self) -> None:
        """What the skipped triggers would have written, compared on a sample."""
        import psycopg

        with psycopg.connect(**self.server.connect_kwargs(self.name), autocommit=True) as conn:
            wrong = one(
                conn,
                """
                SELECT count(*) FROM (SELECT * FROM claims_claim TABLESAMPLE BERNOULLI (1) LIMIT 500) c
                 WHERE c.search_vector IS DISTINCT FROM
                       factcheck_claim_search_vector(c.statement, c.speaker_id, c.id, c.language)
                """,
            )
        if wrong:
            raise RuntimeError(
                f"{wrong} sampled claims' search vectors differ from the trigger's "
                "(factcheck_claim_search_vector): update benchmarks/generate.py"
            )


# Tables kept by triggers of migration 0008, which replica mode skipped, with the
# set-based SQL that makes them right again (claims.freshness).
DERIVED = {
    "claims_published_count": freshness.RECOUNT_PUBLISHED_SQL,
    "claims_reader_stamp": freshness.BUMP_STAMP_SQL,
}


def _password_hash(password: str) -> str:
    """Django's default hasher, whatever the calling process's settings (the test
    suite's are fast and unsafe): the server checks it with its own."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt())


def one(conn: Any, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the one row a query returns."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {sql.strip()[:80]}")
    return row[0]


def peaks_root(peaks: list[bytes]) -> bytes:
    """The tree's root from its peaks (largest first), as verifier.tree_hash computes it."""
    if not peaks:
        return verifier.EMPTY_TREE_HASH
    root = peaks[-1]
    for peak in reversed(peaks[:-1]):
        root = verifier.node_hash(peak, root)
    return root


def checkpoint_log(name: str) -> Path:
    return Path(str(settings.LEDGER_CHECKPOINT_LOG).format(database=name))


def project_environment(server: Server, name: str) -> dict[str, str]:
    """The environment of a command of the project against bench database `name`."""
    import os

    env = dict(os.environ)
    env.update(server.environment(name))
    env["LEDGER_CHECKPOINT_LOG"] = str(settings.LEDGER_CHECKPOINT_LOG)
    key = checkpoints.signer_key()
    if key:
        env["LEDGER_SIGNING_KEY"] = key
    return env


def verify(server: Server, name: str) -> tuple[bool, str, float]:
    """`manage.py verify_ledger` against the database: (passed, its output, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_ledger"],
        cwd=settings.BASE_DIR,
        env=project_environment(server, name),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip(), time.monotonic() - started


def generate(server: Server, claims: int, **options: Any) -> Result:
    force = options.pop("force", False)
    return Generator(server, claims, **options).run(force=force)
