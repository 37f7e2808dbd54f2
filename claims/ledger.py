"""Re-walking the review ledger's hash chain."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from claims.models import GENESIS_HASH, Claim, Review, ReviewEvidence
from claims.ratings import INITIAL_STATUS


@dataclass
class LedgerReport:
    entries: int = 0
    last: Review | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(*, chunk_size: int = 2000) -> LedgerReport:
    """Recompute every entry's hash in chain order and check each link.

    Stops at the first entry that does not verify: everything after a
    broken link is unproven anyway. Then checks that each claim's current
    status is its last entry's outcome.
    """
    report = LedgerReport()
    expected_previous = GENESIS_HASH
    entries = Review.objects.order_by("sequence").prefetch_related(
        Prefetch(
            "evidence_links",
            queryset=ReviewEvidence.objects.order_by("position")
            .select_related("source")
            .only("review_id", "position", "source__id", "source__snapshot_sha256"),
        )
    )
    for review in entries.iterator(chunk_size=chunk_size):
        expected_sequence = report.entries + 1
        where = f"entry #{review.sequence} (id {review.pk}, claim id {review.claim_id})"
        if review.sequence != expected_sequence:
            report.problems.append(
                f"{where}: expected sequence #{expected_sequence}, a gap or reorder"
            )
            return report
        if review.previous_hash != expected_previous:
            report.problems.append(
                f"{where}: links to {review.previous_hash}, but the previous entry's hash is "
                f"{expected_previous}"
            )
            return report
        evidence = [
            (link.source.pk, link.source.snapshot_sha256) for link in review.evidence_links.all()
        ]
        recomputed = review.compute_hash(evidence)
        if recomputed != review.entry_hash:
            report.problems.append(
                f"{where}: content does not match its hash (stored {review.entry_hash}, "
                f"recomputed {recomputed}); the entry, its evidence or a cited snapshot was altered"
            )
            return report
        expected_previous = review.entry_hash
        report.entries += 1
        report.last = review

    report.problems.extend(_status_mismatches())
    return report


def _status_mismatches() -> list[str]:
    """Claims whose stored status, version or publication disagrees with their ledger."""
    entries = Review.objects.filter(claim=OuterRef("pk")).order_by("-sequence")
    verdicts = entries.filter(action=Review.Action.REVIEW)
    publications = entries.exclude(action=Review.Action.REVIEW)
    claims = (
        Claim.objects.annotate(
            ledger_status=Coalesce(
                Subquery(verdicts.values("status_after")[:1]), Value(INITIAL_STATUS)
            ),
            ledger_version=Coalesce(Subquery(entries.values("claim_version")[:1]), Value(1)),
            ledger_published=Coalesce(
                Subquery(publications.values("action")[:1]), Value(Review.Action.UNPUBLISH)
            ),
        )
        .exclude(
            status=F("ledger_status"),
            version=F("ledger_version"),
            published_at__isnull=False,
            ledger_published=Review.Action.PUBLISH,
        )
        .exclude(
            status=F("ledger_status"),
            version=F("ledger_version"),
            published_at__isnull=True,
            ledger_published=Review.Action.UNPUBLISH,
        )
    )
    return [
        f"claim {claim.slug!r}: status {claim.status!r} version {claim.version} "
        f"{'published' if claim.is_published else 'draft'}, but its ledger says "
        f"{claim.ledger_status!r} version {claim.ledger_version} "
        f"{'published' if claim.ledger_published == Review.Action.PUBLISH else 'draft'}"
        for claim in claims.only("slug", "status", "version", "published_at")
    ]
