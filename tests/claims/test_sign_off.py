"""Second-editor sign-off (claims.sign_off): a verdict proposed by one editor reaches
the ledger only when another approves it, and the entry commits to who approved."""

import psycopg
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from claims.ledger import verifier
from claims.ledger.entries import VersionConflict, entry_body, evidence_of
from claims.ledger.verification import verify_ledger
from claims.models import Claim, ProposalDecision, Review, VerdictProposal
from claims.services import record_review
from claims.sign_off import (
    approve_proposal,
    pending,
    propose_verdict,
    send_back_proposal,
    withdraw_proposal,
)
from tests.db import owner_sql
from tests.factories import (
    ClaimFactory,
    ContributorFactory,
    CorrectionFactory,
    EditorFactory,
    PublicationFactory,
    SourceFactory,
    VerdictFactory,
)

EXPLANATION = "The port's annual report gives 9.1 million tonnes."


@pytest.fixture
def sign_off(settings):
    settings.VERDICT_SIGN_OFF = True


def _propose(claim, editor, **kwargs):
    return propose_verdict(
        claim=claim,
        editor=editor,
        expected_version=Claim.objects.get(pk=claim.pk).version,
        **{"status": "false", "explanation": EXPLANATION, **kwargs},
    )


def test_the_default_is_off():
    from factcheck import settings as project_settings

    assert project_settings.VERDICT_SIGN_OFF is False


def test_on_a_verdict_recorded_at_once_is_refused(sign_off, editor, claim):
    with pytest.raises(ValidationError) as refused:
        record_review(
            claim=claim,
            editor=editor,
            status="false",
            explanation=EXPLANATION,
            expected_version=claim.version,
        )

    assert refused.value.error_dict["status"][0].code == "sign_off_required"
    assert not Review.objects.exists()


def test_on_the_workflow_statuses_need_no_second_editor(sign_off, editor, claim):
    entry = record_review(
        claim=claim, editor=editor, status="in_review", explanation="", expected_version=1
    )

    assert entry.status_after == "in_review"


def test_a_proposal_writes_nothing_to_the_ledger(sign_off, editor, claim):
    evidence = SourceFactory()
    proposal = _propose(claim, editor, evidence=[evidence, evidence])

    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("unverified", 1)
    assert not Review.objects.exists()
    assert list(pending()) == [proposal]
    assert [link.source for link in proposal.evidence_links.all()] == [evidence]
    assert proposal.claim_content["statement"] == claim.statement


def test_approval_writes_the_verdict_naming_both_editors(sign_off, editor, second_editor, claim):
    evidence = SourceFactory()
    proposal = _propose(claim, editor, evidence=[evidence], note="Checked with the port.")

    entry = approve_proposal(proposal=proposal, editor=second_editor)

    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("false", 2)
    assert (entry.editor, entry.approved_by) == (editor, second_editor)
    assert (entry.explanation, entry.note) == (EXPLANATION, "Checked with the port.")
    assert [s.pk for s in entry.evidence.all()] == [evidence.pk]
    decision = ProposalDecision.objects.get(proposal=proposal)
    assert (decision.outcome, decision.decided_by, decision.entry) == (
        "approved",
        second_editor,
        entry,
    )
    assert not pending().exists()


def test_the_entry_hash_commits_to_the_approver(sign_off, editor, second_editor, claim):
    entry = approve_proposal(proposal=_propose(claim, editor), editor=second_editor)
    stored = Review.objects.prefetch_related("evidence_links__source").get(pk=entry.pk)

    body = entry_body(stored, evidence_of(stored))
    assert body["approved_by"] == second_editor.pk
    header = verifier.entry_header(
        sequence=stored.sequence,
        created_at=verifier.format_timestamp(stored.created_at),
        previous_hash=stored.previous_hash,
        body_sha256=verifier.body_digest(body),
    )
    assert verifier.entry_hash(header) == stored.entry_hash
    # The approver is part of what is hashed: naming another changes the entry's hash.
    stored.approved_by_id = editor.pk
    forged = verifier.entry_header(
        sequence=stored.sequence,
        created_at=verifier.format_timestamp(stored.created_at),
        previous_hash=stored.previous_hash,
        body_sha256=verifier.body_digest(entry_body(stored, evidence_of(stored))),
    )
    assert verifier.entry_hash(forged) != stored.entry_hash
    assert verify_ledger().ok


def test_an_entry_without_sign_off_keeps_the_body_it_always_had(editor, second_editor, claim):
    entry = VerdictFactory(claim=claim, editor=editor)
    other = ClaimFactory(speaker=claim.speaker)
    approved = approve_proposal(proposal=_propose(other, editor), editor=second_editor)

    plain = entry_body(entry, evidence_of(entry))
    assert "approved_by" not in plain
    # The one key sign-off adds, as docs/ledger-format.md section 4 lists it.
    assert set(entry_body(approved, evidence_of(approved))) - set(plain) == {"approved_by"}


def test_the_proposer_cannot_approve_their_own(sign_off, editor, claim):
    proposal = _propose(claim, editor)

    with pytest.raises(PermissionDenied, match="another editor approves it"):
        approve_proposal(proposal=proposal, editor=editor)
    assert not Review.objects.exists()


def test_an_entry_approved_by_its_own_editor_breaks_a_constraint(editor, claim):
    # The CHECK constraint review_approved_by_another, as the model states it (the
    # migrations are checked to match the models).
    for action, approver in (("review", editor), ("publish", ContributorFactory())):
        entry = Review(claim=claim, editor=editor, approved_by=approver, action=action)
        with pytest.raises(ValidationError, match="by another editor"):
            entry.validate_constraints()


@pytest.fixture
def third_editor(db):
    return EditorFactory(username="ed3")


def test_only_editors_propose_and_approve(sign_off, editor, claim):
    contributor = ContributorFactory()
    with pytest.raises(PermissionDenied):
        _propose(claim, contributor)
    proposal = _propose(claim, editor)
    with pytest.raises(PermissionDenied):
        approve_proposal(proposal=proposal, editor=contributor)


def test_a_proposal_needs_what_a_verdict_needs(sign_off, settings, editor, claim):
    settings.REQUIRE_VERDICT_EVIDENCE = True

    with pytest.raises(ValidationError) as refused:
        _propose(claim, editor, explanation=" ")

    assert set(refused.value.message_dict) == {"explanation", "evidence"}
    assert not VerdictProposal.objects.exists()


def test_a_workflow_status_is_not_proposed(editor, claim):
    with pytest.raises(ValidationError) as refused:
        _propose(claim, editor, status="in_review")

    assert refused.value.error_dict["status"][0].code == "not_a_verdict"


def test_a_stale_version_is_a_conflict(sign_off, editor, claim):
    with pytest.raises(VersionConflict):
        propose_verdict(
            claim=claim, editor=editor, status="false", explanation=EXPLANATION, expected_version=7
        )


def test_one_pending_proposal_per_claim(sign_off, editor, second_editor, claim):
    first = _propose(claim, editor)

    with pytest.raises(ValidationError, match="still waiting") as refused:
        _propose(claim, second_editor, status="true")
    assert refused.value.code == "proposal_pending"

    withdraw_proposal(proposal=first, editor=editor)
    assert _propose(claim, second_editor, status="true").status == "true"


def test_a_decided_proposal_is_not_decided_again(
    sign_off, editor, second_editor, third_editor, claim
):
    proposal = _propose(claim, editor)
    approve_proposal(proposal=proposal, editor=second_editor)

    for decide in (
        lambda: approve_proposal(proposal=proposal, editor=third_editor),
        lambda: send_back_proposal(proposal=proposal, editor=second_editor, reason="No."),
        lambda: withdraw_proposal(proposal=proposal, editor=editor),
    ):
        with pytest.raises(ValidationError, match="already approved by ed2"):
            decide()
    assert Review.objects.count() == 1


def test_sent_back_with_a_reason_and_nothing_written(sign_off, editor, second_editor, claim):
    proposal = _propose(claim, editor)

    with pytest.raises(ValidationError) as refused:
        send_back_proposal(proposal=proposal, editor=second_editor, reason="  ")
    assert list(refused.value.message_dict) == ["reason"]
    with pytest.raises(PermissionDenied, match="withdraw it instead"):
        send_back_proposal(proposal=proposal, editor=editor, reason="Changed my mind.")

    decision = send_back_proposal(
        proposal=proposal, editor=second_editor, reason="The report is for the wrong year."
    )

    assert (decision.outcome, decision.reason) == ("rejected", "The report is for the wrong year.")
    assert not Review.objects.exists()
    assert not pending().exists()


def test_only_the_proposer_withdraws(sign_off, editor, second_editor, claim):
    proposal = _propose(claim, editor)

    with pytest.raises(PermissionDenied):
        withdraw_proposal(proposal=proposal, editor=second_editor)
    assert withdraw_proposal(proposal=proposal, editor=editor).outcome == "withdrawn"


def test_a_publication_in_between_does_not_make_it_stale(sign_off, editor, second_editor, claim):
    proposal = _propose(claim, editor)
    PublicationFactory(claim=claim, editor=second_editor)

    entry = approve_proposal(proposal=proposal, editor=second_editor)

    assert (entry.claim_version, entry.status_after) == (3, "false")


def test_a_correction_in_between_makes_it_stale(settings, editor, second_editor, claim):
    VerdictFactory(claim=claim, editor=editor, status="misleading")
    settings.VERDICT_SIGN_OFF = True
    proposal = _propose(claim, editor)
    CorrectionFactory(claim=claim, editor=second_editor, changes={"quantity": "9100000"})

    with pytest.raises(ValidationError, match="quantity changed since") as refused:
        approve_proposal(proposal=proposal, editor=second_editor)

    assert refused.value.code == "proposal_stale"
    assert Review.objects.count() == 2


def test_a_status_change_in_between_makes_it_stale(sign_off, editor, second_editor, claim):
    proposal = _propose(claim, editor)
    record_review(
        claim=claim, editor=second_editor, status="in_review", explanation="", expected_version=1
    )

    with pytest.raises(ValidationError, match="status changed since"):
        approve_proposal(proposal=proposal, editor=second_editor)


TABLES = ["claims_verdictproposal", "claims_proposalevidence", "claims_proposaldecision"]


def _decided(editor, second_editor, claim):
    proposal = _propose(claim, editor, evidence=[SourceFactory()])
    send_back_proposal(proposal=proposal, editor=second_editor, reason="Wrong year.")


@pytest.mark.parametrize("table", TABLES)
def test_the_apps_role_cannot_change_what_was_proposed(
    sign_off, editor, second_editor, claim, table
):
    _decided(editor, second_editor, claim)

    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with (
            # The privileges refuse first; with one role for app and owner, the triggers.
            pytest.raises(DatabaseError, match="permission denied|append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert VerdictProposal.objects.count() == ProposalDecision.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", TABLES)
def test_even_the_owner_is_refused_by_the_triggers(sign_off, editor, second_editor, claim, table):
    _decided(editor, second_editor, claim)

    for statement in (
        f"UPDATE {table} SET id = id",
        f"DELETE FROM {table}",
        f"TRUNCATE {table} CASCADE",
    ):
        with pytest.raises(psycopg.Error, match="append-only"):
            owner_sql(statement)
    assert VerdictProposal.objects.count() == ProposalDecision.objects.count() == 1
