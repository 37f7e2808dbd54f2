"""Writes that carry the ledger's rules. The admin, the reader pages, the API
and the management commands call these; none of them writes a review, a
quote anchor or a claim's status any other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from claims.models import (
    GENESIS_HASH,
    LEDGER_LOCK_KEY,
    Appearance,
    Claim,
    Quote,
    Review,
    ReviewEvidence,
    Speaker,
)
from claims.ratings import get_rating
from sources import anchoring
from sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

RECORD_REVIEW_PERMISSION = "claims.record_review"
PUBLISH_PERMISSION = "claims.publish_claim"
ASSIGN_PERMISSION = "claims.assign_claim"


class VersionConflict(Exception):
    """The editor saw an older version of the claim than the one stored.

    Carries the current state so the caller can show who changed what.
    """

    def __init__(self, claim: Claim, expected_version: int, latest: Review | None):
        self.claim = claim
        self.expected_version = expected_version
        self.latest = latest
        message = (
            f"Claim {claim.slug!r} changed since you loaded it: you saw version "
            f"{expected_version}, it is now version {claim.version} "
            f"with status {get_rating(claim.status).label!r}."
        )
        if latest is not None:
            message += (
                f" Last change: {latest.summary} by {latest.editor} "
                f"at {latest.created_at:%Y-%m-%d %H:%M:%S %Z}."
            )
        super().__init__(message)


def locate_quote(*, source: Source, words: str, context_before: str = "") -> anchoring.Anchor:
    """Where `words` are in the source's snapshot; ValidationError on `words` if nowhere.

    The error names the nearest passage so the editor can see the typo.
    """
    try:
        return anchoring.locate(source.snapshot, words, context_before=context_before)
    except anchoring.AnchorError as exc:
        raise ValidationError({"words": str(exc)}, code="quote_not_found") from exc


def anchor_quote(
    *,
    source: Source,
    speaker: Speaker,
    words: str,
    kind: str = Quote.Kind.DIRECT,
    context_before: str = "",
) -> Quote:
    """Find `words` in the source's snapshot and store the quote with its anchor.

    Returns the existing quote when the same span is already anchored.
    """
    if kind not in Quote.Kind.values:
        raise ValidationError(
            {"kind": f"{kind!r} is not a quote kind; choose one of {', '.join(Quote.Kind.values)}"}
        )
    anchor = locate_quote(source=source, words=words, context_before=context_before)
    quote, created = Quote.objects.get_or_create(
        source=source,
        start=anchor.start,
        end=anchor.end,
        defaults={
            "speaker": speaker,
            "kind": kind,
            "exact": anchor.exact,
            "prefix": anchor.prefix,
            "suffix": anchor.suffix,
        },
    )
    if not created and quote.speaker_id != speaker.pk:
        raise ValidationError(
            {"speaker": f"These words are already attributed to {quote.speaker} in this source."},
            code="quote_attributed_elsewhere",
        )
    return quote


def add_appearance(*, claim: Claim, source: Source, quote: Quote | None = None) -> Appearance:
    """Record that `claim` appears in `source` (through `quote`, if given); idempotent."""
    if quote is not None and quote.source_id != source.pk:
        raise ValidationError({"quote": "The quote must come from the appearance's source."})
    appearance, _ = Appearance.objects.get_or_create(claim=claim, source=source, quote=quote)
    return appearance


@transaction.atomic
def record_review(
    *,
    claim: Claim,
    editor: AbstractBaseUser,
    status: str,
    explanation: str,
    expected_version: int,
    evidence: Sequence[Source] = (),
    note: str = "",
) -> Review:
    """Append a verdict to the ledger and make it the claim's current status.

    `expected_version` is the claim version the editor saw. If the claim
    moved on since, VersionConflict is raised and nothing is written: the
    second of two editors never overwrites the first.
    """
    _require(editor, RECORD_REVIEW_PERMISSION, "Only editors can record a verdict.")
    try:
        rating = get_rating(status)
    except ValueError as exc:
        raise ValidationError({"status": str(exc)}, code="invalid_status") from exc
    explanation = explanation.strip()
    if rating.is_verdict and not explanation:
        raise ValidationError(
            {"explanation": "A verdict needs an explanation readers can follow."},
            code="explanation_required",
        )
    return _append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.REVIEW,
        status_after=rating.value,
        explanation=explanation,
        note=note,
        evidence=_unique_sources(evidence),
    )


@transaction.atomic
def publish_claim(
    *, claim: Claim, editor: AbstractBaseUser, expected_version: int, note: str = ""
) -> Review:
    """Make a draft visible to readers; the ledger records who and when."""
    _require(editor, PUBLISH_PERMISSION, "Only editors can publish a claim.")
    return _append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.PUBLISH,
        note=note,
    )


@transaction.atomic
def unpublish_claim(
    *, claim: Claim, editor: AbstractBaseUser, expected_version: int, explanation: str
) -> Review:
    """Withdraw a claim from readers. Readers' links break, so the reason is required."""
    _require(editor, PUBLISH_PERMISSION, "Only editors can unpublish a claim.")
    explanation = explanation.strip()
    if not explanation:
        raise ValidationError(
            {"explanation": "Say why the claim is withdrawn from readers."},
            code="explanation_required",
        )
    return _append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.UNPUBLISH,
        explanation=explanation,
    )


def assign_claim(*, claim: Claim, assignee: AbstractBaseUser | None, by: AbstractBaseUser) -> None:
    """Give the claim to a member of the desk (or to nobody).

    Anyone who may edit claims can take one for themselves; giving work to
    someone else is the editors' call.
    """
    if assignee is not None and assignee.pk == by.pk:
        _require(by, "claims.change_claim", "You cannot work on claims.")
    else:
        _require(by, ASSIGN_PERMISSION, "Only editors can assign claims to others.")
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise ValidationError({"assignee": f"{assignee} is not an active member of the desk."})
    Claim.objects.filter(pk=claim.pk).update(assignee=assignee, updated_at=timezone.now())
    claim.assignee = assignee


def _require(user: AbstractBaseUser, permission: str, message: str) -> None:
    if not getattr(user, "is_active", False) or not user.has_perm(permission):
        raise PermissionDenied(message)


def _append_entry(
    *,
    claim: Claim,
    editor: AbstractBaseUser,
    expected_version: int,
    action: str,
    status_after: str | None = None,
    explanation: str = "",
    note: str = "",
    evidence: Sequence[Source] = (),
) -> Review:
    """Write one ledger entry and apply it to the claim. Callers check permissions."""
    # Lock order, the same for every writer: the claim's row, then the ledger.
    current = Claim.objects.select_for_update().get(pk=claim.pk)
    if current.version != expected_version:
        latest = current.reviews.select_related("editor").order_by("-sequence").first()
        raise VersionConflict(current, expected_version, latest)
    if action == Review.Action.PUBLISH and current.is_published:
        raise ValidationError("This claim is already published.", code="already_published")
    if action == Review.Action.UNPUBLISH and not current.is_published:
        raise ValidationError("This claim is not published.", code="not_published")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
    tip = Review.objects.order_by("-sequence").values("sequence", "entry_hash").first()

    review = Review(
        sequence=(tip["sequence"] if tip else 0) + 1,
        claim=current,
        claim_version=current.version + 1,
        action=action,
        status_before=current.status,
        status_after=status_after or current.status,
        explanation=explanation,
        note=note.strip(),
        editor=editor,
        created_at=timezone.now(),
        previous_hash=tip["entry_hash"] if tip else GENESIS_HASH,
    )
    # The snapshot hashes come from the database, not from possibly stale objects.
    snapshot_hashes = dict(
        Source.objects.filter(pk__in=[s.pk for s in evidence]).values_list("pk", "snapshot_sha256")
    )
    review.entry_hash = review.compute_hash((s.pk, snapshot_hashes[s.pk]) for s in evidence)
    review.save(force_insert=True)
    ReviewEvidence.objects.bulk_create(
        ReviewEvidence(review=review, source=source, position=position)
        for position, source in enumerate(evidence, start=1)
    )

    changes: dict = {"version": review.claim_version, "updated_at": review.created_at}
    if action == Review.Action.REVIEW:
        changes.update(status=review.status_after, status_changed_at=review.created_at)
    elif action == Review.Action.PUBLISH:
        changes["published_at"] = review.created_at
    elif action == Review.Action.UNPUBLISH:
        changes["published_at"] = None
    Claim.objects.filter(pk=current.pk).update(**changes)
    for name, value in changes.items():
        setattr(claim, name, value)
    return review


def _unique_sources(evidence: Iterable[Source]) -> list[Source]:
    seen: dict[int, Source] = {}
    for source in evidence:
        if source.pk is None:
            raise ValidationError({"evidence": "Evidence sources must be saved first."})
        seen.setdefault(source.pk, source)
    return list(seen.values())
