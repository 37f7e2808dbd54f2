"""What the ledger's integrity rests on, tried as an attacker would.

The app's own database role cannot rewrite or erase the ledger, whatever its
session sets; the owner can (it owns the tables), but a rewrite, even with
every hash recomputed, contradicts the signed checkpoints kept outside the
database, and verify_ledger names where.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from claims.ledger import checkpoints, entries, verifier
from claims.ledger.checkpoints import CheckpointRefused, sign_latest
from claims.ledger.database import app_role_problems
from claims.ledger.verification import verify_ledger
from claims.models import Claim, Review
from factcheck.db.roles import as_owner, owner_role
from tests.db import owner_sql, separate_roles
from tests.factories import PublicationFactory, VerdictFactory

LEDGER_TABLES = ["claims_review", "claims_reviewevidence", "claims_ledgertreehash"]
needs_two_roles = pytest.mark.skipif(
    not separate_roles(),
    reason="the app connects as the owner of the tables: set DATABASE_OWNER_URL "
    "(.ci/run and the embedded server use two roles)",
)


def _attempt(*statements: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


# --- The app's role ----------------------------------------------------------------


@needs_two_roles
@pytest.mark.parametrize("table", LEDGER_TABLES)
@pytest.mark.parametrize(
    "attack",
    [
        ["UPDATE {table} SET {column} = {column}"],
        ["DELETE FROM {table}"],
        ["SET factcheck.allow_ledger_truncate = 'on'", "TRUNCATE {table} CASCADE"],
        ["ALTER TABLE {table} DISABLE TRIGGER USER"],
        ["ALTER TABLE {table} ADD COLUMN forged text"],
        ["ALTER TABLE {table} OWNER TO CURRENT_USER"],
        ["SET ROLE {owner}"],
        ["SET session_replication_role = replica", "DELETE FROM {table}"],
    ],
)
def test_the_apps_role_can_neither_rewrite_nor_erase_the_ledger(
    claim, editor, source, table, attack
):
    VerdictFactory(claim=claim, editor=editor, evidence=[source])
    column = {"claims_review": "note", "claims_reviewevidence": "position"}.get(table, "hash")
    before = {t: _count(t) for t in LEDGER_TABLES}

    owner = owner_role(connection.settings_dict)
    with pytest.raises(DatabaseError, match="permission denied|must be owner"):
        _attempt(*(step.format(table=table, column=column, owner=owner) for step in attack))

    assert {t: _count(t) for t in LEDGER_TABLES} == before
    assert verify_ledger().ok


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return cursor.fetchone()[0]


@needs_two_roles
def test_the_apps_role_is_neither_superuser_nor_owner_and_the_check_agrees(db):
    assert app_role_problems(using="default") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False,)
    messages = checks.run_checks(include_deployment_checks=True, databases=["default"])
    assert not [m for m in messages if m.id in {"claims.E001", "claims.W001"}]


@needs_two_roles
@pytest.mark.django_db(transaction=True)
def test_check_deploy_fails_when_the_app_connects_as_the_owner():
    with as_owner():
        problems = app_role_problems(using="default")
        messages = checks.run_checks(include_deployment_checks=True)
    assert len(problems) == 1
    assert "owns the append-only tables" in problems[0] and "claims_review," in problems[0]
    errors = [m for m in messages if m.id == "claims.E001"]
    assert errors and errors[0].level == checks.ERROR


def test_check_deploy_fails_without_a_signing_key(db, settings):
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = None
    messages = checks.run_checks(include_deployment_checks=True)
    assert [m.level for m in messages if m.id == "claims.E003"] == [checks.ERROR]


# --- Checkpoints, and the owner's rewrite ------------------------------------------------


def _rewrite_and_rehash(sequence: int, explanation: str) -> None:
    """What an owner could do: rewrite one entry, then recompute every hash after it,
    the chain and the Merkle tree, so that the database agrees with itself."""
    statements: list = [
        "ALTER TABLE claims_review DISABLE TRIGGER USER",
        "ALTER TABLE claims_ledgertreehash DISABLE TRIGGER USER",
        "DELETE FROM claims_ledgertreehash",
    ]
    stored: dict[int, bytes] = {}
    previous = verifier.GENESIS_HASH
    reviews = Review.objects.order_by("sequence").prefetch_related("evidence_links__source")
    for review in reviews:
        if review.sequence == sequence:
            review.explanation = explanation
        review.previous_hash = previous
        header = entries.entry_header(
            review, entries.entry_body(review, entries.evidence_of(review))
        )
        review.entry_hash = verifier.entry_hash(header)
        statements.append(
            (
                "UPDATE claims_review SET explanation = %s, previous_hash = %s, entry_hash = %s "
                "WHERE id = %s",
                [review.explanation, review.previous_hash, review.entry_hash, review.pk],
            )
        )
        first = verifier.stored_hash_index(0, review.leaf_index)
        hashes = verifier.stored_hashes(
            review.leaf_index, verifier.entry_bytes(header), lambda ix: [stored[i] for i in ix]
        )
        for offset, value in enumerate(hashes):
            stored[first + offset] = value
            statements.append(
                (
                    "INSERT INTO claims_ledgertreehash (index, hash) VALUES (%s, %s)",
                    [first + offset, value],
                )
            )
        previous = review.entry_hash
    statements += [
        "ALTER TABLE claims_review ENABLE TRIGGER USER",
        "ALTER TABLE claims_ledgertreehash ENABLE TRIGGER USER",
    ]
    owner_sql(*statements)


@pytest.mark.django_db(transaction=True)
def test_each_write_signs_a_checkpoint_that_the_database_agrees_with(claim, editor, source):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])

    log = list(checkpoints.read_log())
    assert [entry.size for entry in log] == [1, 2]
    latest = checkpoints.latest()
    opened = verifier.open_checkpoint(
        latest.note, checkpoints.note_verifier(), origin=checkpoints.origin()
    )
    assert (opened.size, opened.root_hash) == (2, latest.root)
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.checkpoints_checked == 2


@pytest.mark.django_db(transaction=True)
def test_a_whole_chain_rewrite_by_the_owner_is_caught_by_an_earlier_checkpoint(
    claim, editor, source, settings, tmp_path
):
    PublicationFactory(claim=claim, editor=editor)
    softened = VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="true",
        explanation="Later, the port's figure was confirmed.",
    )
    saved = tmp_path / "saved-checkpoint.txt"
    saved.write_text(checkpoints.latest().note)

    _rewrite_and_rehash(softened.sequence, "The port's figure is roughly right.")

    # The database agrees with itself: without a checkpoint nothing shows.
    settings.LEDGER_CHECKPOINT_LOG = tmp_path / "no-log-{database}.jsonl"
    assert verify_ledger().ok
    # An earlier checkpoint, kept anywhere outside the database, catches it.
    report = verify_ledger(extra_checkpoints=[("saved", saved.read_text())])
    assert not report.ok
    assert "do not match checkpoint saved" in report.problems[0]
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("verify_ledger", "--checkpoint", str(saved))
    # The checkpoint log also holds each leaf hash: it names the first rewritten entry.
    settings.LEDGER_CHECKPOINT_LOG = Path(str(saved.parent / "checkpoints-{database}.jsonl"))
    report = verify_ledger()
    assert report.problems[0].startswith(f"entry #{softened.sequence} ")
    assert "contradicts the checkpoint log" in report.problems[0]
    # And the signing key is never used on the rewritten ledger.
    with pytest.raises(CheckpointRefused, match="rewritten"):
        sign_latest()


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_signed_with_another_key_is_refused(claim, editor, tmp_path):
    PublicationFactory(claim=claim, editor=editor)
    other_key = verifier.generate_key(checkpoints.origin())[0]
    forged = verifier.sign_checkpoint(
        verifier.Checkpoint(checkpoints.origin(), 1, checkpoints.latest().root),
        verifier.NoteSigner(other_key),
    )

    report = verify_ledger(extra_checkpoints=[("forged", forged)])

    assert not report.ok
    assert report.problems[0].startswith("forged: not a valid checkpoint")


@pytest.mark.django_db(transaction=True)
def test_removing_entries_is_caught_by_the_checkpoint_log(claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    last = VerdictFactory(claim=claim, editor=editor, status="false")
    owner_sql(
        "ALTER TABLE claims_review DISABLE TRIGGER USER",
        "ALTER TABLE claims_ledgertreehash DISABLE TRIGGER USER",
        (
            "DELETE FROM claims_ledgertreehash WHERE index >= %s",
            [verifier.stored_hash_index(0, last.leaf_index)],
        ),
        ("DELETE FROM claims_review WHERE id = %s", [last.pk]),
        ("UPDATE claims_claim SET status = 'unverified', version = 2 WHERE id = %s", [claim.pk]),
    )
    # Apart: the deletions leave foreign-key checks pending until their transaction ends.
    owner_sql(
        "ALTER TABLE claims_review ENABLE TRIGGER USER",
        "ALTER TABLE claims_ledgertreehash ENABLE TRIGGER USER",
    )

    report = verify_ledger()

    assert not report.ok
    assert "entries were removed" in report.problems[0]
    with pytest.raises(CheckpointRefused, match="removed"):
        sign_latest()


@pytest.mark.django_db(transaction=True)
def test_even_the_owner_is_refused_a_truncate_by_the_ledgers_triggers(claim, editor):
    VerdictFactory(claim=claim, editor=editor)
    with pytest.raises(psycopg.Error, match="append-only"):
        owner_sql("TRUNCATE claims_review CASCADE")
    assert Review.objects.count() == 1


# --- Words under a verdict --------------------------------------------------------


def test_the_database_refuses_to_change_a_rated_claims_words_behind_the_ledger(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")
    with pytest.raises(DatabaseError, match="only through a correction"):
        _attempt(
            "UPDATE claims_claim SET statement = 'The port handled 1.2 million tonnes.' "
            f"WHERE id = {claim.pk}"
        )
    assert Claim.objects.get(pk=claim.pk).statement == claim.statement


@pytest.mark.django_db(transaction=True)
def test_verify_ledger_names_a_claim_whose_words_changed_under_its_verdict(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")
    owner_sql(
        # The reader pages' stamp triggers are deferred to commit; pending, they
        # would forbid re-enabling the guard in the same transaction.
        "SET CONSTRAINTS ALL IMMEDIATE",
        "ALTER TABLE claims_claim DISABLE TRIGGER claims_claim_content_guard",
        (
            "UPDATE claims_claim SET statement = 'The port handled 1.2 million tonnes.' "
            "WHERE id = %s",
            [claim.pk],
        ),
        "ALTER TABLE claims_claim ENABLE TRIGGER claims_claim_content_guard",
    )

    report = verify_ledger()

    assert not report.ok
    assert report.problems[0].startswith(f"claim {claim.slug!r}: statement changed behind")
    assert "no correction entry records it" in report.problems[0]


def test_sign_checkpoint_catches_up_and_then_has_nothing_to_add(claim, editor, capsys, settings):
    VerdictFactory(
        claim=claim, editor=editor
    )  # in the test's transaction: nothing signed after it yet
    assert checkpoints.latest() is None

    call_command("sign_checkpoint")
    call_command("sign_checkpoint")

    assert [entry.size for entry in checkpoints.read_log()] == [1]
    assert "Latest checkpoint: 1 entries" in capsys.readouterr().out
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = None
    with pytest.raises(CommandError, match="No signing key"):
        call_command("sign_checkpoint")


def test_check_deploy_fails_when_the_key_is_named_for_another_log(db, settings):
    settings.LEDGER_SIGNING_KEY = verifier.generate_key("elsewhere.example/ledger")[0]
    messages = checks.run_checks(include_deployment_checks=True)
    errors = [m for m in messages if m.id == "claims.E003"]
    assert errors and "elsewhere.example/ledger" in errors[0].msg
