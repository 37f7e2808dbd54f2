"""`manage.py bench` end to end at a tiny size: it generates a database of its own,
serves it with gunicorn and prints the table. Only what it prints and writes is
checked, never how fast anything was."""

from __future__ import annotations

import io
import re

import psycopg
import pytest
from django.core.management import call_command

from benchmarks import databases, generate, harness, importing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLAIMS = 300


@pytest.fixture
def bench_database(tmp_path, settings):
    # The bench's checkpoints go to this test's folder, not to the project's .ledger/.
    settings.LEDGER_CHECKPOINT_LOG = str(tmp_path / "checkpoints-{database}.jsonl")
    server = databases.server()
    name = databases.database_name(CLAIMS)
    yield server, name
    server.drop(name)


def counted(server: databases.Server, name: str) -> dict[str, int]:
    tables = {
        "claims": "claims_claim",
        "published": "claims_claim WHERE published_at IS NOT NULL",
        "speakers": "claims_speaker",
        "topics": "claims_topic",
        "topic_links": "claims_claim_topics",
        "sources": "sources_source",
        "quotes": "claims_quote",
        "appearances": "claims_appearance",
        "entries": "claims_review",
        "evidence": "claims_reviewevidence",
        "tree_hashes": "claims_ledgertreehash",
    }
    with psycopg.connect(**server.connect_kwargs(name)) as conn:
        return {
            key: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for key, table in tables.items()
        }


def test_bench_prints_every_row_and_its_ledger_verifies(bench_database):
    server, name = bench_database
    out = io.StringIO()
    call_command(
        "bench",
        "--sizes",
        str(CLAIMS),
        "--samples",
        "2",
        "--warmup",
        "1",
        "--load-seconds",
        "0.3",
        "--connections",
        "2",
        "--export-seconds",
        "5",
        "--verdicts",
        "2",
        "--regenerate",
        "--verify",
        stdout=out,
    )
    printed = out.getvalue()

    table = printed[printed.index("Benchmark (gunicorn") :]
    for row in harness.table_rows([]):
        assert row.label in table, row.label
    assert "verify_ledger" in printed and "Ledger verified" in printed
    # The new sources went through the pipeline: their candidates are served.
    posted = re.search(
        r"new source \(candidates, repeat scan\) +[\d.]+ ms .*\(median of (\d+);", printed
    )
    assert posted is not None and int(posted[1]) == harness.SOURCE_POSTS, printed
    assert re.search(r"API a new source's candidates +[\d.]+ ms\n", printed), printed
    # The import ran through the importer and rolled back (the counts below are intact).
    imported = re.search(
        r"import \(LIAR-shaped, dry run\) +[\d.]+ claims/s \(([\d,]+) rows: ([\d,]+) created",
        printed,
    )
    assert imported is not None, printed
    assert int(imported[1].replace(",", "")) == importing.LIAR_ROWS
    assert int(imported[2].replace(",", "")) > importing.LIAR_ROWS // 2
    # The floor wrote the same claims into the claims table, and rolled them back too.
    floor = re.search(r"the claims table alone (\d+\.\d+) s\)", printed)
    assert floor is not None and float(floor[1]) > 0, printed

    # What the generator recorded is what the database holds (the bench then added
    # its verdicts, two entries on published claims, and its new sources).
    recorded = generate.Generator(server, CLAIMS).recorded()
    assert recorded is not None and recorded["claims"] == CLAIMS
    held = counted(server, name)
    expected = recorded["counts"]
    assert held["claims"] == CLAIMS
    assert held["entries"] == expected["entries"] + 2
    for key in ("published", "speakers", "topics", "topic_links", "quotes"):
        assert held[key] == expected[key], key
    assert held["appearances"] == expected["appearances"]
    assert held["tree_hashes"] > expected["tree_hashes"]
    assert 1.2 * CLAIMS < expected["entries"] < 1.55 * CLAIMS
    assert held["speakers"] == 20
    assert held["sources"] == CLAIMS // generate.CLAIMS_PER_SOURCE + harness.SOURCE_POSTS

    # Tables that skipped triggers would have kept are filled as those triggers would.
    with psycopg.connect(**server.connect_kwargs(name)) as conn:
        if conn.execute("SELECT to_regclass('claims_published_count')").fetchone()[0]:
            stale = conn.execute(
                """
                SELECT count(*) FROM (SELECT status, count(*) AS n FROM claims_claim
                                       WHERE published_at IS NOT NULL GROUP BY status) actual
                  FULL JOIN (SELECT key, n FROM claims_published_count WHERE scope = 'status') kept
                    ON kept.key = actual.status
                 WHERE actual.n IS DISTINCT FROM kept.n
                """
            ).fetchone()[0]
            assert stale == 0

    # Run again: the database is reused, not generated afresh.
    again = io.StringIO()
    call_command("bench", "--sizes", str(CLAIMS), "--generate-only", stdout=again)
    assert f"Reusing {name}" in again.getvalue()
