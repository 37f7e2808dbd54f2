import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from claims.ledger import entries, verifier
from claims.ledger.verification import verify_ledger
from claims.models import Claim, Review, ReviewEvidence
from claims.services import VersionConflict
from tests.db import owner_sql
from tests.factories import ClaimFactory, VerdictFactory


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_recording_a_review_updates_the_claim_and_chains_the_entry(claim, editor, source):
    first = VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    second = VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])

    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("false", 3)
    assert claim.status_changed_at == second.created_at
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == verifier.GENESIS_HASH
    assert second.previous_hash == first.entry_hash
    assert (second.status_before, second.status_after) == ("in_review", "false")
    assert list(second.evidence.all()) == [source]
    body = entries.entry_body(second, [(source.pk, source.snapshot_sha256)])
    assert second.entry_hash == verifier.entry_hash(entries.entry_header(second, body))
    assert body["evidence"] == [{"source": source.pk, "sha256": source.snapshot_sha256}]
    assert body["claim"]["statement"] == claim.statement


def test_a_stale_version_is_refused_and_nothing_is_written(claim, editor, second_editor):
    seen_by_both = claim.version
    VerdictFactory(claim=claim, editor=editor, status="false", expected_version=seen_by_both)
    stale = Claim.objects.get(pk=claim.pk)
    stale.version = seen_by_both  # what the second editor loaded

    with pytest.raises(VersionConflict) as caught:
        VerdictFactory(
            claim=stale, editor=second_editor, status="true", expected_version=seen_by_both
        )

    message = str(caught.value)
    assert "you saw version 1, it is now version 2" in message
    assert "ed" in message and "False" in message
    assert Review.objects.count() == 1
    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("false", 2)


def test_a_verdict_needs_an_explanation(claim, editor):
    with pytest.raises(ValidationError) as caught:
        VerdictFactory(claim=claim, editor=editor, status="false", explanation="   ")
    assert "explanation" in caught.value.message_dict
    assert Review.objects.count() == 0


def test_an_unknown_status_is_refused(claim, editor):
    with pytest.raises(ValidationError) as caught:
        VerdictFactory(claim=claim, editor=editor, status="pants_on_fire")
    assert "status" in caught.value.message_dict


def test_a_contributor_cannot_record_a_verdict(claim, contributor):
    with pytest.raises(PermissionDenied):
        VerdictFactory(claim=claim, editor=contributor)
    assert Review.objects.count() == 0
    claim.refresh_from_db()
    assert claim.status == "unverified"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE claims_review SET explanation = 'rewritten'",
        "UPDATE claims_review SET status_after = 'true'",
        "DELETE FROM claims_review",
        "UPDATE claims_reviewevidence SET position = 9",
        "DELETE FROM claims_reviewevidence",
    ],
)
def test_the_apps_database_role_may_not_rewrite_the_ledger(claim, editor, source, statement):
    VerdictFactory(
        claim=claim,
        editor=editor,
        explanation="The port's annual report gives 9.1 million tonnes.",
        evidence=[source],
    )

    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _raw(statement)

    review = Review.objects.get()
    assert review.explanation.startswith("The port's annual report")
    assert ReviewEvidence.objects.filter(review=review, position=1).exists()


def test_the_apps_database_role_may_not_truncate_the_ledger(claim, editor):
    VerdictFactory(claim=claim, editor=editor)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _raw("SET CONSTRAINTS ALL IMMEDIATE")
        _raw("SET LOCAL factcheck.allow_ledger_truncate = 'on'")
        _raw("TRUNCATE claims_review CASCADE")
    assert Review.objects.count() == 1


def test_the_database_refuses_an_entry_that_does_not_extend_the_chain(claim, editor):
    review = VerdictFactory(claim=claim, editor=editor)
    forged = {
        "sequence": review.sequence + 1,
        "previous_hash": "f" * 64,  # not the tip's hash
    }
    with pytest.raises(IntegrityError, match="does not extend the chain"), transaction.atomic():
        _raw(
            """INSERT INTO claims_review (sequence, claim_id, claim_version, action, status_before,
               status_after, explanation, note, editor_id, created_at, previous_hash, entry_hash,
               claim_content, correction_class, changes, salt, note_salt)
               VALUES (%s, %s, 99, 'review', 'false', 'true', 'x', '', %s, now(), %s, %s,
                       '{}', '', '{}', repeat('a', 32), repeat('b', 32))""",
            [forged["sequence"], claim.pk, editor.pk, forged["previous_hash"], "e" * 64],
        )
    assert Review.objects.count() == 1


def test_a_claim_with_ledger_entries_cannot_be_deleted(claim, editor):
    VerdictFactory(claim=claim, editor=editor)
    with pytest.raises(Exception, match="protected|violates foreign key"), transaction.atomic():
        claim.delete()
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_verify_ledger_passes_on_an_intact_chain(claim, editor, source, capsys):
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    last = VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])

    call_command("verify_ledger")

    out = capsys.readouterr().out
    assert "Ledger verified: 2 entries" in out
    assert last.entry_hash in out


@pytest.mark.django_db(transaction=True)
def test_verify_ledger_names_the_first_altered_entry(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    altered = VerdictFactory(claim=claim, editor=editor, status="false")
    VerdictFactory(claim=claim, editor=editor, status="true", explanation="A later correction.")
    # Someone with owner rights disables the guard and rewrites history.
    owner_sql(
        # The reader pages' stamp triggers are deferred to commit; pending, they
        # would forbid re-enabling the guard in the same transaction.
        "SET CONSTRAINTS ALL IMMEDIATE",
        "ALTER TABLE claims_review DISABLE TRIGGER claims_review_append_only",
        ("UPDATE claims_review SET explanation = 'softened' WHERE id = %s", [altered.pk]),
        "ALTER TABLE claims_review ENABLE TRIGGER claims_review_append_only",
    )

    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("verify_ledger")

    report = verify_ledger()
    assert report.entries == 1
    assert report.problems[0].startswith(f"entry #{altered.sequence} (id {altered.pk}")
    assert "does not match its hash" in report.problems[0]


def test_verify_ledger_detects_a_status_changed_behind_the_ledgers_back(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")
    Claim.objects.filter(pk=claim.pk).update(status="true")

    report = verify_ledger()

    assert not report.ok
    assert "'true'" in report.problems[0] and "'false'" in report.problems[0]


@pytest.mark.django_db(transaction=True)
def test_verify_ledger_detects_an_altered_evidence_snapshot(claim, editor, source):
    VerdictFactory(claim=claim, editor=editor, evidence=[source])
    owner_sql(
        # The reader pages' stamp triggers are deferred to commit; pending, they
        # would forbid re-enabling the guard in the same transaction.
        "SET CONSTRAINTS ALL IMMEDIATE",
        "ALTER TABLE sources_source DISABLE TRIGGER sources_source_snapshot_immutable",
        ("UPDATE sources_source SET snapshot = 'rewritten' WHERE id = %s", [source.pk]),
        "ALTER TABLE sources_source ENABLE TRIGGER sources_source_snapshot_immutable",
    )

    report = verify_ledger()

    assert not report.ok and "cited snapshot" in report.problems[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_editors_on_different_claims_keep_one_unbroken_chain(speaker, editor):
    claims = [
        ClaimFactory(slug=f"claim-{n}", statement=f"Claim {n}", speaker=speaker) for n in range(4)
    ]
    per_writer = 10
    errors = []
    start = threading.Barrier(len(claims))

    def write(claim):
        try:
            start.wait()
            for n in range(per_writer):
                status = "false" if n % 2 else "true"
                current = Claim.objects.get(pk=claim.pk)
                VerdictFactory(
                    claim=current, editor=editor, status=status, explanation=f"round {n}"
                )
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(claim,)) for claim in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.entries == len(claims) * per_writer


@pytest.mark.django_db(transaction=True)
def test_two_editors_racing_on_one_claim_write_exactly_one_entry(claim, editor, second_editor):
    results = []
    start = threading.Barrier(2)

    def write(user, status):
        try:
            start.wait()
            VerdictFactory(
                claim=Claim.objects.get(pk=claim.pk), editor=user, status=status, expected_version=1
            )
            results.append("written")
        except VersionConflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(editor, "false")),
        threading.Thread(target=write, args=(second_editor, "true")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["conflict", "written"]
    assert Review.objects.count() == 1
    claim.refresh_from_db()
    assert claim.version == 2
    assert claim.status == Review.objects.get().status_after
