"""Second-editor sign-off: one editor proposes a verdict, another approves it.

With settings.VERDICT_SIGN_OFF on, `claims.services.record_review` refuses verdicts
and they go through here; with it off, any editor may still ask for a second
opinion the same way. A proposal and what became of it (`ProposalDecision`:
approved, sent back with a reason, or withdrawn) are written once and never
changed, like the ledger. Only an approval writes the ledger: the verdict's
entry, whose editor is the proposer (the byline) and whose `approved_by` is the
approver, which the entry's hash commits to. The ledger never holds a verdict
that was not approved.

Every write takes the claim's row lock first, as every ledger writer does, so
two approvals, or a proposal and an approval, cannot cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet

from claims.ledger.entries import (
    VersionConflict,
    append_entry,
    claim_content,
    content_changes,
    latest_entry,
)
from claims.models import (
    Claim,
    ProposalDecision,
    ProposalEvidence,
    Review,
    VerdictProposal,
)
from claims.services import (
    RECORD_REVIEW_PERMISSION,
    checked_verdict,
    in_a_transaction,
    require_permission,
)
from sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Outcome = ProposalDecision.Outcome


def proposals() -> QuerySet[VerdictProposal]:
    """Proposals with what showing one needs: claim, proposer, decision, evidence."""
    return VerdictProposal.objects.select_related(
        "claim", "proposed_by", "decision__decided_by", "decision__entry"
    ).prefetch_related(
        Prefetch(
            "evidence_links",
            queryset=ProposalEvidence.objects.select_related("source").order_by("position"),
        )
    )


def pending() -> QuerySet[VerdictProposal]:
    """Proposals nobody has decided yet, oldest first: the desk's approval queue."""
    return proposals().filter(decision__isnull=True).order_by("created_at")


def pending_for(claim: Claim) -> VerdictProposal | None:
    return pending().filter(claim=claim).first()


def _locked(claim: Claim) -> Claim:
    if claim.pk is None:
        raise ValidationError("The claim must be saved first.")
    return Claim.objects.select_for_update().select_related("speaker").get(pk=claim.pk)


@in_a_transaction
def propose_verdict(
    *,
    claim: Claim,
    editor: User,
    status: str,
    explanation: str,
    expected_version: int,
    evidence: Sequence[Source] = (),
    note: str = "",
) -> VerdictProposal:
    """Propose a verdict for another editor's approval; nothing reaches the ledger yet.

    The same rules as a verdict recorded at once (claims.services.checked_verdict);
    refused if the claim changed since the editor loaded it (VersionConflict), or
    if another proposal for it is pending: the desk decides one at a time.
    """
    require_permission(editor, RECORD_REVIEW_PERMISSION, "Only editors can propose a verdict.")
    rating, explanation, sources = checked_verdict(status, explanation, evidence)
    if not rating.is_verdict:
        raise ValidationError(
            {
                "status": ValidationError(
                    f"“{rating.label}” is the desk's workflow, not a verdict: record it.",
                    code="not_a_verdict",
                )
            }
        )
    current = _locked(claim)
    if current.version != expected_version:
        raise VersionConflict(current, expected_version, latest_entry(current))
    waiting = pending_for(current)
    if waiting is not None:
        raise ValidationError(
            f"{waiting.proposed_by} proposed “{waiting.get_status_display()}” for this claim "
            f"at {waiting.created_at:%Y-%m-%d %H:%M %Z}, still waiting: approve it, send it back "
            "or have it withdrawn before proposing another.",
            code="proposal_pending",
        )
    proposal = VerdictProposal.objects.create(
        claim=current,
        claim_version=current.version,
        claim_content=claim_content(current),
        status_before=current.status,
        status=rating.value,
        explanation=explanation,
        note=note.strip(),
        proposed_by=editor,
    )
    ProposalEvidence.objects.bulk_create(
        ProposalEvidence(proposal=proposal, source=source, position=position)
        for position, source in enumerate(sources, start=1)
    )
    return proposal


def _undecided(proposal: VerdictProposal) -> None:
    decision = ProposalDecision.objects.filter(proposal=proposal).select_related("decided_by")
    done = decision.first()
    if done is not None:
        raise ValidationError(
            f"This proposal was already {done.get_outcome_display().lower()} by "
            f"{done.decided_by} at {done.decided_at:%Y-%m-%d %H:%M %Z}.",
            code="already_decided",
        )


def stale_because(proposal: VerdictProposal, claim: Claim) -> str:
    """Why the verdict no longer fits the claim ("" when it still does): its content or
    status changed since the proposal. A publication in between changes neither."""
    changed = content_changes(proposal.claim_content, claim_content(claim))
    if changed:
        return (
            f"The claim's {', '.join(sorted(changed))} changed since the verdict was proposed: "
            "send it back, and the proposer judges the claim as it is now."
        )
    if claim.status != proposal.status_before:
        return (
            f"The claim's status changed since the verdict was proposed (it was "
            f"“{proposal.get_status_before_display()}”, it is "
            f"“{claim.get_status_display()}”): send it back, and the proposer judges it again."
        )
    return ""


@in_a_transaction
def approve_proposal(*, proposal: VerdictProposal, editor: User) -> Review:
    """Approve another editor's proposed verdict: its ledger entry is written now,
    naming the proposer as its editor and `editor` as its approver."""
    require_permission(editor, RECORD_REVIEW_PERMISSION, "Only editors can approve a verdict.")
    if proposal.proposed_by_id == editor.pk:
        raise PermissionDenied(
            "You proposed this verdict: another editor approves it (that is the sign-off)."
        )
    claim = _locked(proposal.claim)
    _undecided(proposal)
    stale = stale_because(proposal, claim)
    if stale:
        raise ValidationError(stale, code="proposal_stale")
    sources = [link.source for link in proposal.evidence_links.select_related("source")]
    # The rules again, as they stand now: the desk may have started requiring evidence.
    checked_verdict(proposal.status, proposal.explanation, sources)
    entry = append_entry(
        claim=claim,
        editor=proposal.proposed_by,
        expected_version=claim.version,
        action=Review.Action.REVIEW,
        status_after=proposal.status,
        explanation=proposal.explanation,
        note=proposal.note,
        evidence=sources,
        approved_by=editor,
    )
    proposal.decision = ProposalDecision.objects.create(
        proposal=proposal, outcome=Outcome.APPROVED, decided_by=editor, entry=entry
    )
    proposal.claim = claim
    return entry


@in_a_transaction
def send_back_proposal(*, proposal: VerdictProposal, editor: User, reason: str) -> ProposalDecision:
    """Decline another editor's proposed verdict, saying why; the ledger is untouched."""
    require_permission(editor, RECORD_REVIEW_PERMISSION, "Only editors can send a verdict back.")
    if proposal.proposed_by_id == editor.pk:
        raise PermissionDenied("You proposed this verdict: withdraw it instead.")
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Say why the verdict is sent back, for the proposer.", code="reason_required"
                )
            }
        )
    _locked(proposal.claim)
    _undecided(proposal)
    decision = ProposalDecision.objects.create(
        proposal=proposal, outcome=Outcome.REJECTED, decided_by=editor, reason=reason
    )
    proposal.decision = decision
    return decision


@in_a_transaction
def withdraw_proposal(*, proposal: VerdictProposal, editor: User) -> ProposalDecision:
    """The proposer takes their proposal back (to propose another, say)."""
    if proposal.proposed_by_id != editor.pk:
        raise PermissionDenied("Only the editor who proposed a verdict can withdraw it.")
    _locked(proposal.claim)
    _undecided(proposal)
    decision = ProposalDecision.objects.create(
        proposal=proposal, outcome=Outcome.WITHDRAWN, decided_by=editor
    )
    proposal.decision = decision
    return decision
