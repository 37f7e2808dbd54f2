"""Writes that carry the ledger's rules. The admin, the reader pages, the API
and the management commands call these; none of them writes a review, a
quote anchor or a claim's status any other way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from claims.ledger.entries import (
    VersionConflict,
    append_entry,
    claim_content,
    same_content,
)
from claims.models import (
    SHORT_FORM_MAX,
    Appearance,
    Claim,
    CorrectionClass,
    Quote,
    Review,
    Speaker,
)
from claims.ratings import Rating, Status, get_rating
from claims.slugs import slug_for_statement
from sources import anchoring
from sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "VersionConflict",
    "add_appearance",
    "anchor_quote",
    "assign_claim",
    "check_claim_edit",
    "correct_claim",
    "find_quote",
    "locate_quote",
    "publish_claim",
    "record_review",
    "unpublish_claim",
]

RECORD_REVIEW_PERMISSION = "claims.record_review"
PUBLISH_PERMISSION = "claims.publish_claim"
ASSIGN_PERMISSION = "claims.assign_claim"


def in_a_transaction[**P, R](service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` in the caller's transaction, or in one of its own when there is none.

    Not `transaction.atomic`, whose savepoint inside a request's transaction
    (factcheck.middleware.AtomicWritesMiddleware) cost two statements per service:
    the checks that may refuse a write raise before anything is written, so the
    caller's transaction stays usable after them, and `append_entry` dooms the
    whole transaction if it fails once it has begun writing.
    """

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return service(*args, **kwargs)
        with transaction.atomic():
            return service(*args, **kwargs)

    return run


def locate_quote(*, source: Source, words: str, context_before: str = "") -> anchoring.Anchor:
    """Where `words` are in the source's snapshot; ValidationError on `words` if nowhere.

    The error names the nearest passage so the editor can see the typo.
    """
    try:
        return anchoring.locate(source.snapshot, words, context_before=context_before)
    except anchoring.AnchorError as exc:
        raise ValidationError({"words": str(exc)}, code="quote_not_found") from exc


def find_quote(
    *, source: Source, speaker: Speaker, words: str, context_before: str = ""
) -> tuple[anchoring.Anchor, Quote | None]:
    """Where `words` are in the source, and the quote already anchored there, if any.

    The one rule for a span that is anchored already: the same speaker's
    quote is that quote; another speaker's is a ValidationError on
    `speaker`, since one passage has one speaker.
    """
    anchor = locate_quote(source=source, words=words, context_before=context_before)
    existing = (
        Quote.objects.select_related("speaker")
        .filter(source=source, start=anchor.start, end=anchor.end)
        .first()
    )
    if existing is not None and existing.speaker_id != speaker.pk:
        raise _attributed_elsewhere(existing)
    return anchor, existing


def _attributed_elsewhere(quote: Quote) -> ValidationError:
    return ValidationError(
        {"speaker": f"These words are already attributed to {quote.speaker} in this source."},
        code="quote_attributed_elsewhere",
    )


def anchor_quote(
    *,
    source: Source,
    speaker: Speaker,
    words: str,
    kind: str = Quote.Kind.DIRECT,
    context_before: str = "",
    language: str = "",
    translation: str = "",
    translation_language: str = "",
) -> tuple[Quote, bool]:
    """Find `words` in the source's snapshot and store the quote with its anchor.

    The words stay as printed; `language` is theirs (detected by Quote.save when not
    given), `translation` the same words for readers in `translation_language`, which
    a translation must name.

    Returns `(quote, created)`: the existing quote and False when the same span
    is already anchored for this speaker (`find_quote`); given another language or
    translation than it has, a ValidationError rather than a silent answer with its own.
    """
    if kind not in Quote.Kind.values:
        raise ValidationError(
            {"kind": f"{kind!r} is not a quote kind; choose one of {', '.join(Quote.Kind.values)}"}
        )
    languages = {
        "language": language,
        "translation": translation.strip(),
        "translation_language": translation_language,
    }
    # The model's own rules for these (choices, a translation names its language),
    # before anything is looked up.
    Quote(**languages).full_clean(
        exclude=[f.name for f in Quote._meta.fields if f.name not in languages],
        validate_unique=False,
        validate_constraints=False,
    )
    anchor, existing = find_quote(
        source=source, speaker=speaker, words=words, context_before=context_before
    )
    if existing is not None:
        _check_recorded_languages(existing, languages)
        return existing, False
    # get_or_create, not create: another writer may anchor the same span meanwhile.
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
            **languages,
        },
    )
    if not created and quote.speaker_id != speaker.pk:
        raise _attributed_elsewhere(quote)
    if not created:
        _check_recorded_languages(quote, languages)
    return quote, created


def _check_recorded_languages(quote: Quote, given: dict[str, str]) -> None:
    differing = [name for name, value in given.items() if value and value != getattr(quote, name)]
    if differing:
        raise ValidationError(
            {
                name: f"These words are recorded already with another {name.replace('_', ' ')}"
                f" ({getattr(quote, name) or 'none'}): an editor can change it in the admin."
                for name in differing
            },
            code="quote_recorded_otherwise",
        )


def add_appearance(
    *,
    claim: Claim,
    source: Source,
    quote: Quote | None = None,
    relay: str = "",
    relayed_by: str = "",
) -> tuple[Appearance, bool]:
    """Record that `claim` appears in `source` (through `quote`, if given); idempotent.

    `relay` and `relayed_by` say how the source came by it when it only passes on
    what an intermediary reported or posted ("according to", "The New York Times").
    Returns `(appearance, created)`: the existing one and False when it was recorded
    already; the same appearance recorded with another relay is a ValidationError on
    `relay`, not a silent answer with the old one.
    """
    candidate = Appearance(
        claim=claim, source=source, quote=quote, relay=relay, relayed_by=relayed_by.strip()
    )
    # The model's own rules (relay choice, both-or-neither, the quote's source), without
    # the queries that checking the foreign keys and unique constraints would cost:
    # get_or_create below finds an appearance recorded already.
    candidate.full_clean(
        exclude=["claim", "source", "quote"], validate_unique=False, validate_constraints=False
    )
    appearance, created = Appearance.objects.get_or_create(
        claim=claim,
        source=source,
        quote=quote,
        defaults={"relay": candidate.relay, "relayed_by": candidate.relayed_by},
    )
    if not created and (appearance.relay, appearance.relayed_by) != (
        candidate.relay,
        candidate.relayed_by,
    ):
        recorded = appearance.relay_text or "without a relay"
        raise ValidationError(
            {
                "relay": f"This appearance is recorded already, {recorded}: an editor can "
                "change it in the admin."
            },
            code="appearance_relayed_otherwise",
        )
    return appearance, created


@in_a_transaction
def draft_claim_from_quote(
    *,
    source: Source,
    speaker: Speaker,
    words: str,
    statement: str,
    kind: str,
    editor: User,
    short_form: str = "",
    quote_kind: str = Quote.Kind.DIRECT,
    context_before: str = "",
) -> Claim:
    """A draft claim whose first appearance is `words`, anchored in `source`, in one step.

    The words are found in the snapshot and stored as `speaker`'s quote (an existing
    quote of the same span is reused); the claim, in the editor's neutral `statement`,
    is a draft, and it appears in the source through that quote. Nothing is written
    unless all three are valid: a claim drafted from a source never lacks the words it
    came from.
    """
    require_permission(editor, "claims.add_claim", "Only the desk can draft claims.")
    quote, _ = anchor_quote(
        source=source,
        speaker=speaker,
        words=words,
        kind=quote_kind,
        context_before=context_before,
    )
    statement = " ".join(statement.split()) or quote.exact
    claim = Claim(
        statement=statement,
        short_form=short_form.strip(),
        speaker=speaker,
        kind=kind,
        slug=slug_for_statement(Claim, statement),
    )
    claim.full_clean()
    claim.save()
    add_appearance(claim=claim, source=source, quote=quote)
    return claim


def checked_verdict(
    status: str, explanation: str, evidence: Iterable[Source]
) -> tuple[Rating, str, list[Source]]:
    """The rating, the explanation trimmed and the evidence without repeats, once the
    desk's rules for a verdict hold: a verdict needs an explanation and, when the desk
    requires it (settings.REQUIRE_VERDICT_EVIDENCE), at least one evidence source.
    Both refusals at once, so the editor fixes everything in one go. The one home of
    these rules, for a verdict recorded and for one proposed for sign-off."""
    try:
        rating = get_rating(status)
    except ValueError as exc:
        raise ValidationError({"status": str(exc)}, code="invalid_status") from exc
    explanation = explanation.strip()
    sources = _unique_sources(evidence)
    if rating.is_verdict:
        missing: dict[str, ValidationError] = {}
        if not explanation:
            missing["explanation"] = ValidationError(
                "A verdict needs an explanation readers can follow.", code="explanation_required"
            )
        if not sources and settings.REQUIRE_VERDICT_EVIDENCE:
            missing["evidence"] = ValidationError(
                "A verdict must cite at least one evidence source: the desk publishes no "
                "verdict without the evidence readers can check.",
                code="evidence_required",
            )
        if missing:
            raise ValidationError(missing)
    return rating, explanation, sources


def needs_sign_off(status: str) -> bool:
    """Whether recording `status` waits for a second editor (settings.VERDICT_SIGN_OFF):
    verdicts do; the desk's workflow statuses (not yet verified, in review) never."""
    try:
        return settings.VERDICT_SIGN_OFF and get_rating(status).is_verdict
    except ValueError:
        return False


@in_a_transaction
def record_review(
    *,
    claim: Claim,
    editor: User,
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

    A verdict needs an explanation, and, when the desk requires it
    (settings.REQUIRE_VERDICT_EVIDENCE), at least one evidence source
    (checked_verdict). Where verdicts need a second editor's approval
    (settings.VERDICT_SIGN_OFF), a verdict is refused here: it is proposed
    (claims.sign_off.propose_verdict) and written by the approval.
    """
    require_permission(editor, RECORD_REVIEW_PERMISSION, "Only editors can record a verdict.")
    rating, explanation, sources = checked_verdict(status, explanation, evidence)
    if needs_sign_off(status):
        raise ValidationError(
            {
                "status": ValidationError(
                    "On this desk a verdict waits for a second editor's approval: "
                    "propose it, and another editor approves it.",
                    code="sign_off_required",
                )
            }
        )
    return append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.REVIEW,
        status_after=rating.value,
        explanation=explanation,
        note=note,
        evidence=sources,
    )


@in_a_transaction
def publish_claim(*, claim: Claim, editor: User, expected_version: int, note: str = "") -> Review:
    """Make a draft visible to readers; the ledger records who and when."""
    require_permission(editor, PUBLISH_PERMISSION, "Only editors can publish a claim.")
    return append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.PUBLISH,
        note=note,
    )


@in_a_transaction
def unpublish_claim(
    *, claim: Claim, editor: User, expected_version: int, explanation: str
) -> Review:
    """Withdraw a claim from readers. Readers' links break, so the reason is required."""
    require_permission(editor, PUBLISH_PERMISSION, "Only editors can unpublish a claim.")
    explanation = explanation.strip()
    if not explanation:
        raise ValidationError(
            {"explanation": "Say why the claim is withdrawn from readers."},
            code="explanation_required",
        )
    return append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.UNPUBLISH,
        explanation=explanation,
    )


@in_a_transaction
def correct_claim(
    *,
    claim: Claim,
    editor: User,
    expected_version: int,
    correction_class: str,
    reason: str,
    changes: dict[str, Any],
    note: str = "",
) -> Review:
    """Change a published or rated claim's checkable fields, as a ledger entry.

    `changes` maps checkable fields (Claim.CHECKABLE_FIELDS) to new values
    (the speaker as a Speaker). The class says what the change does to the
    verdict: a typo or a clarification leaves it standing; a substantive
    correction withdraws it, and the claim is back in review until an
    editor records a new verdict. The reason is published with the claim.
    Editors only; a stale `expected_version` is a VersionConflict.
    """
    require_permission(editor, RECORD_REVIEW_PERMISSION, "Only editors can correct a claim.")
    try:
        correction = CorrectionClass(correction_class)
    except ValueError:
        raise ValidationError(
            {
                "correction_class": f"{correction_class!r} is not a correction class; choose one "
                f"of {', '.join(CorrectionClass.values)}."
            },
            code="invalid_correction_class",
        ) from None
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say what was wrong and why it changed: readers see it."},
            code="reason_required",
        )
    unknown = sorted(set(changes) - set(Claim.CHECKABLE_FIELDS))
    if unknown:
        raise ValidationError(
            dict.fromkeys(unknown, "Not a checkable field: edit it directly."),
            code="not_checkable",
        )
    current = Claim.objects.select_related("speaker").get(pk=claim.pk)
    if not current.is_locked:
        raise ValidationError(
            "This claim is a draft without a verdict: edit it directly; corrections are for "
            "what readers or a verdict have seen.",
            code="not_locked",
        )
    if "statement" in changes and current.short_form and "short_form" not in changes:
        # The short form is what ClaimReview says was rated: never left saying the old words.
        raise ValidationError(
            {
                "short_form": "The statement changes: say what its short form becomes (its "
                "current one, if it still fits; empty when the statement is "
                f"{SHORT_FORM_MAX} characters or fewer)."
            },
            code="short_form_required",
        )
    corrected = Claim.objects.select_related("speaker").get(pk=claim.pk)
    for name, value in changes.items():
        setattr(corrected, name, value)
    corrected.full_clean()
    new_content = claim_content(corrected)
    if same_content(claim_content(current), new_content):
        raise ValidationError(
            "Nothing to correct: the new values are the claim's current ones.", code="no_change"
        )
    return append_entry(
        claim=claim,
        editor=editor,
        expected_version=expected_version,
        action=Review.Action.CORRECTION,
        status_after=Status.IN_REVIEW if correction.withdraws_verdict else None,
        explanation=reason,
        note=note,
        correction_class=correction.value,
        new_content=new_content,
    )


def check_claim_edit(*, claim: Claim, changed: Iterable[str]) -> None:
    """Refuse a direct edit of a published or rated claim's checkable fields.

    Reads the claim's state under a row lock, so an edit started before an
    editor published or rated the claim is refused too. Drafts without a
    verdict stay freely editable; other fields (slug, topics, assignee)
    always are.
    """
    checkable = sorted(set(changed) & set(Claim.CHECKABLE_FIELDS))
    if not checkable or claim.pk is None:
        return
    state = Claim.objects.select_for_update().only("status", "published_at").get(pk=claim.pk)
    if state.is_locked:
        why = "published" if state.is_published else "rated"
        raise PermissionDenied(
            f"This claim is {why}: its {', '.join(checkable)} can change only through a "
            "correction, which an editor records in the ledger with its class and reason."
        )


def assign_claim(*, claim: Claim, assignee: User | None, by: User) -> None:
    """Give the claim to a member of the desk (or to nobody).

    Anyone who may edit claims can take one for themselves; giving work to
    someone else is the editors' call.
    """
    if assignee is not None and assignee.pk == by.pk:
        require_permission(by, "claims.change_claim", "You cannot work on claims.")
    else:
        require_permission(by, ASSIGN_PERMISSION, "Only editors can assign claims to others.")
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise ValidationError({"assignee": f"{assignee} is not an active member of the desk."})
    Claim.objects.filter(pk=claim.pk).update(assignee=assignee, updated_at=timezone.now())
    claim.assignee = assignee


def require_permission(user: User, permission: str, message: str) -> None:
    if not getattr(user, "is_active", False) or not user.has_perm(permission):
        raise PermissionDenied(message)


def _unique_sources(evidence: Iterable[Source]) -> list[Source]:
    seen: dict[int, Source] = {}
    for source in evidence:
        if source.pk is None:
            raise ValidationError({"evidence": "Evidence sources must be saved first."})
        seen.setdefault(source.pk, source)
    return list(seen.values())
