"""What a ledger entry commits to, and the one function that appends an entry.

An entry is hashed in two parts (docs/ledger-format.md, byte by byte):

- its **body**: the claim (id and checkable content at that moment: statement,
  speaker, date, kind, quantity, unit, media authenticity), the claim
  version, the action, the statuses before and after, the explanation,
  the evidence (each source's id and snapshot SHA-256), the editor, the
  correction (class and what changed from what), a salted digest of the
  internal note and, for a verdict a second editor signed off, the approver. A random salt makes the body's digest safe to publish in
  place of the body, for claims readers may not see;
- its **header**: format version, sequence, time, previous entry's hash and
  the body's SHA-256. The header's canonical bytes are the Merkle tree's
  leaf; their SHA-256 is the entry hash that the next entry links to.

`append_entry` is the only writer: the services (verdicts, publication,
corrections) decide what to append and call it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, overload

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from claims.cdn import purge_after_commit
from claims.ledger import checkpoints, tree, verifier
from claims.models import MEDIA_FIELDS, Claim, Review, ReviewEvidence, Speaker
from claims.quantities import canonical_unit
from claims.ratings import get_rating
from factcheck.db.prepared import compiled
from sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.models import User

GENESIS_HASH = verifier.GENESIS_HASH


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


# --- What an entry commits to -------------------------------------------------


def entry_time(moment: datetime) -> str:
    """An entry's time as its header holds it: UTC, microseconds, "Z"."""
    return verifier.format_timestamp(moment)


@overload
def canonical_quantity(quantity: Decimal) -> str: ...
@overload
def canonical_quantity(quantity: None) -> None: ...
@overload
def canonical_quantity(quantity: Decimal | None) -> str | None: ...
def canonical_quantity(quantity: Decimal | None) -> str | None:
    """A quantity as plain decimal text without trailing zeros: "50000000", "0.5"."""
    if quantity is None:
        return None
    text = format(quantity.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def claim_content(claim: Claim) -> dict[str, Any]:
    """The claim's checkable fields (Claim.CHECKABLE_FIELDS) as entries commit to them."""
    return {
        "statement": claim.statement,
        "short_form": claim.short_form,
        "speaker": {"id": claim.speaker_id, "name": claim.speaker.name},
        "claim_date": claim.claim_date.isoformat() if claim.claim_date else None,
        "kind": claim.kind,
        "quantity": canonical_quantity(claim.quantity),
        "unit": claim.unit,
        "quantity_qualifier": claim.quantity_qualifier,
        "media_authenticity": claim.media_authenticity,
        **{name: getattr(claim, name) for name in MEDIA_FIELDS},
    }


# Checkable fields added after entries were first written, and what an entry that
# predates each committed to: nothing, which the field's blank stands for.
ADDED_LATER: dict[str, Any] = {
    "short_form": "",
    "quantity_qualifier": "",
    **dict.fromkeys(MEDIA_FIELDS, ""),
}


def _as_committed(content: dict[str, Any]) -> dict[str, Any]:
    """Content with the fields its entry predates as blank, for comparisons."""
    return {**ADDED_LATER, **content}


def same_content(committed: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether a claim's current content is what an entry committed to.

    The speaker is compared by identity: a speaker's name is the speaker's
    own record (renaming "Marco Rubbio" is not a change of attribution); the
    name in the entry stays as it was, for the record. One rule with
    content_changes: the same content is content with no change.
    """
    return not content_changes(committed, current)


def content_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for every checkable field that differs."""
    before, after = _as_committed(before), _as_committed(after)

    def compared(name: str, value: Any) -> Any:
        if name == "speaker":
            return value["id"]
        return canonical_unit(value) if name == "unit" else value

    return {
        name: {"from": before[name], "to": after[name]}
        for name in after
        if compared(name, before[name]) != compared(name, after[name])
    }


class EntryFields(Protocol):
    """What an entry's body is made of: a Review, or a row of the export."""

    claim_id: int
    claim_content: dict[str, Any]
    claim_version: int
    action: str
    status_before: str
    status_after: str
    explanation: str
    editor_id: int
    approved_by_id: int | None
    correction_class: str
    changes: dict[str, Any]
    salt: str
    note: str
    note_salt: str


def entry_body(
    review: EntryFields, evidence: Iterable[tuple[int, str]], *, stored: bool = False
) -> dict[str, Any]:
    """The body an entry's `body_sha256` commits to. `evidence`: (source id, snapshot SHA-256)."""
    correction = None
    if review.action == Review.Action.CORRECTION:
        correction = {"class": review.correction_class, "changes": review.changes}
    body = {
        "salt": review.salt,
        "claim": {"id": review.claim_id, **review.claim_content},
        "claim_version": review.claim_version,
        "action": review.action,
        "status_before": review.status_before,
        "status_after": review.status_after,
        "explanation": review.explanation,
        "evidence": [{"source": pk, "sha256": sha} for pk, sha in evidence],
        "editor": review.editor_id,
        "correction": correction,
        "note_sha256": (stored_note_digest if stored else verifier.note_digest)(
            review.note, review.note_salt
        ),
    }
    # Only where there is one: every entry written without sign-off keeps the
    # body (and so the hash) it always had.
    if review.approved_by_id is not None:
        body["approved_by"] = review.approved_by_id
    return body


def stored_body_digest(body: dict[str, Any]) -> str:
    """`verifier.body_digest` of a stored entry's body, for reading the ledger in bulk.

    The same bytes as `verifier.canonical_json`, without its walk refusing values
    canonical JSON cannot hold: a stored body was walked when its entry was appended,
    and the walk cost more than the hashing. orjson with sorted keys writes exactly
    what json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) does
    for the values canonical JSON allows (tests/claims/test_verifier.py compares them
    on every character class), three times faster.
    """
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def stored_note_digest(note: str, salt: str) -> str:
    """`verifier.note_digest`, likewise without the walk (two strings)."""
    return stored_body_digest({"note": note, "salt": salt})


def entry_header(review: Review, body: dict[str, Any]) -> dict[str, Any]:
    return verifier.entry_header(
        sequence=review.sequence,
        created_at=entry_time(review.created_at),
        previous_hash=review.previous_hash,
        body_sha256=verifier.body_digest(body),
    )


def evidence_of(review: Review) -> list[tuple[int, str]]:
    """(source id, snapshot SHA-256) of a stored entry's evidence, in the order cited.

    Reads `evidence_links` with their sources, prefetched by the caller; sorted
    here, so the body never depends on how the caller ordered the prefetch.
    """
    links = sorted(review.evidence_links.all(), key=lambda link: link.position)
    return [(link.source_id, link.source.snapshot_sha256) for link in links]


def latest_entry(claim: Claim) -> Review | None:
    """The claim's newest entry with its editor: what a VersionConflict tells the editor."""
    return claim.reviews.select_related("editor").order_by("-sequence").first()


# --- Appending ------------------------------------------------------------------


_LOCKED_IN = "_ledger_locked_in"


def _transaction() -> object:
    """The caller's transaction (its outermost atomic block), or a fresh object outside one."""
    return connection.atomic_blocks[0] if connection.in_atomic_block else object()


def locked_visible_claim(slug: str, *, drafts: bool) -> Claim:
    """The claim with `slug` among those visible (drafts too when `drafts`), read with
    its speaker and locked for a ledger write in the caller's transaction
    (Claim.DoesNotExist if none). Given to append_entry in the same transaction, it
    is used as read: the row is not read a second time. One statement, compiled once
    and prepared (factcheck.db.prepared): building the ORM's query cost more than
    running it, and every API ledger write starts here."""
    rows = compiled(
        ("locked-claim", drafts),
        lambda slug: _locked_claim_query(slug, drafts=drafts),
        slug=_SLUG_MARK,
    ).rows(slug=slug)
    if not rows:
        raise Claim.DoesNotExist(f"No claim {slug!r}.")
    row = rows[0]
    claim = Claim.from_db("default", _CLAIM_FIELDS, [row[name] for name in _CLAIM_FIELDS])
    claim.speaker = Speaker.from_db(
        "default", _SPEAKER_FIELDS, [row[f"speaker__{name}"] for name in _SPEAKER_FIELDS]
    )
    claim.__dict__[_LOCKED_IN] = _transaction()
    return claim


# No slug looks like this: where the request's goes in the compiled statement.
_SLUG_MARK = "compiled-slug-mark"
_CLAIM_FIELDS = [field.attname for field in Claim._meta.concrete_fields]
_SPEAKER_FIELDS = [field.attname for field in Speaker._meta.concrete_fields]


def _locked_claim_query(slug: str, *, drafts: bool) -> QuerySet[Any]:
    # FOR UPDATE locks the speaker's row too, as select_related() with
    # select_for_update() does: the entry commits to the speaker's name.
    visible: QuerySet[Claim] = Claim.objects.visible(drafts=drafts)
    rows: QuerySet[Any] = (
        visible.select_for_update()
        .filter(slug=slug)
        .values(*_CLAIM_FIELDS, *(f"speaker__{name}" for name in _SPEAKER_FIELDS))
    )
    return rows


def append_entry(
    *,
    claim: Claim,
    editor: User,
    expected_version: int,
    action: str,
    status_after: str | None = None,
    explanation: str = "",
    note: str = "",
    evidence: Sequence[Source] = (),
    correction_class: str = "",
    new_content: dict[str, Any] | None = None,
    approved_by: User | None = None,
) -> Review:
    """Write one ledger entry and apply it to the claim, in one transaction.

    The caller (a service) has checked permissions and what the entry may
    say. Here: the claim row is locked and its version compared with the
    one the editor saw (VersionConflict if it moved on); the ledger's
    advisory lock orders writers, so the entry extends the chain's tip; the
    entry commits to the claim's content (`new_content` for a correction,
    the stored content otherwise); its Merkle tree hashes are stored with
    it; a checkpoint is signed once the transaction commits. `approved_by` is the
    second editor who signed a verdict off (claims.sign_off), whom the entry names.

    In the caller's transaction when there is one, without a savepoint (two
    statements per entry): every refusal is raised before the first write, and
    from the first write on, a failure dooms the whole transaction, so half an
    entry can never commit.
    """
    if not connection.in_atomic_block:
        with transaction.atomic():
            return append_entry(
                claim=claim,
                editor=editor,
                expected_version=expected_version,
                action=action,
                status_after=status_after,
                explanation=explanation,
                note=note,
                evidence=evidence,
                correction_class=correction_class,
                new_content=new_content,
                approved_by=approved_by,
            )
    # Lock order, the same for every writer: the claim's row, then the ledger.
    if claim.__dict__.get(_LOCKED_IN) is _transaction():
        current = claim  # read and locked by locked_visible_claim() in this transaction
    else:
        current = Claim.objects.select_for_update().select_related("speaker").get(pk=claim.pk)
    if current.version != expected_version:
        raise VersionConflict(current, expected_version, latest_entry(current))
    if action == Review.Action.PUBLISH and current.is_published:
        raise ValidationError("This claim is already published.", code="already_published")
    if action == Review.Action.UNPUBLISH and not current.is_published:
        raise ValidationError("This claim is not published.", code="not_published")

    content_before = claim_content(current)
    content_after = new_content if new_content is not None else content_before
    changes = content_changes(content_before, content_after) if new_content is not None else {}

    tip = tree.locked_tip()  # the ledger's lock, held until the transaction ends

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
        approved_by=approved_by,
        claim_content=content_after,
        correction_class=correction_class,
        changes=changes,
        salt=secrets.token_hex(16),
        note_salt=secrets.token_hex(16),
        created_at=timezone.now(),
        previous_hash=tip["entry_hash"] if tip else GENESIS_HASH,
    )
    # The snapshot hashes come from the database, not from possibly stale objects.
    snapshot_hashes = (
        dict(
            Source.objects.filter(pk__in=[s.pk for s in evidence]).values_list(
                "pk", "snapshot_sha256"
            )
        )
        if evidence
        else {}
    )
    header = entry_header(
        review, entry_body(review, ((s.pk, snapshot_hashes[s.pk]) for s in evidence))
    )
    review.entry_hash = verifier.entry_hash(header)
    with transaction.atomic(savepoint=False):
        _write(review, header, evidence, snapshot_hashes, claim, action, changes, content_after)
    # First: the page cache drops the claim's pages in the writer's thread as it
    # commits, before anything else (claims.page_cache).
    from claims import page_cache

    transaction.on_commit(page_cache.invalidate_after_commit(claim.pk))
    transaction.on_commit(checkpoints.sign_after_commit)
    transaction.on_commit(purge_after_commit)
    return review


# One statement for the whole write (the function of migration 0012). It starts with
# WITH, not SELECT, so that pghistory's context (who, from which request) is set in
# front of it as in front of any write: the claim's history event names the editor.
_WRITE = (
    "WITH written AS (SELECT factcheck_ledger_write("
    "%s::jsonb, %s::bigint[], %s::bigint, %s::bytea[], %s::jsonb, %s::jsonb) AS id) "
    "SELECT id FROM written"
)
# Review columns given to the function by name; `id` comes from its sequence there.
_REVIEW_COLUMNS = [
    field
    for field in Review._meta.concrete_fields
    if not field.primary_key and not field.many_to_many
]


def _write(
    review: Review,
    header: dict[str, Any],
    evidence: Sequence[Source],
    snapshot_hashes: dict[int, str],
    claim: Claim,
    action: str,
    changes: dict[str, Any],
    content_after: dict[str, Any],
) -> None:
    """Store the entry, its evidence and tree hashes, and apply it to the claim."""
    tree_hashes = tree.new_hashes(review.leaf_index, verifier.entry_bytes(header))
    updates: dict[str, Any] = {"version": review.claim_version, "updated_at": review.created_at}
    if action == Review.Action.REVIEW or review.status_after != review.status_before:
        updates.update(status=review.status_after, status_changed_at=review.created_at)
    if action == Review.Action.PUBLISH:
        updates["published_at"] = review.created_at
    elif action == Review.Action.UNPUBLISH:
        updates["published_at"] = None
    entry = {
        field.column: field.get_db_prep_value(getattr(review, field.attname), connection)
        for field in _REVIEW_COLUMNS
    }
    with connection.cursor() as cursor:
        cursor.execute(
            _WRITE,
            [
                orjson.dumps(entry, default=_adapted_json).decode(),
                [source.pk for source in evidence],
                verifier.stored_hash_index(0, review.leaf_index),
                tree_hashes,
                orjson.dumps(updates).decode(),
                orjson.dumps(content_after).decode() if changes else None,
            ],
        )
        review.pk = cursor.fetchone()[0]
    review._state.adding = False
    review._state.db = connection.alias

    # The entry's evidence as if prefetched, with the snapshot hashes it committed to,
    # so that the caller can show the entry without reading it back.
    links = [
        ReviewEvidence(review=review, source=source, position=position)
        for position, source in enumerate(evidence, start=1)
    ]
    for link in links:
        link.source.snapshot_sha256 = snapshot_hashes[link.source_id]
    cited = review.evidence_links.all()
    # What prefetch_related leaves on a queryset and its instance.
    cited._result_cache = links
    cited._prefetch_done = True  # type: ignore[attr-defined]
    review._prefetched_objects_cache = {"evidence_links": cited}  # type: ignore[attr-defined]

    if changes:
        updates.update(content_fields(content_after))
    for name, value in updates.items():
        setattr(claim, name, value)
    if "speaker_id" in updates:
        claim.speaker = Speaker.objects.get(pk=updates["speaker_id"])


def _adapted_json(value: Any) -> Any:
    """What get_db_prep_value leaves that JSON has no type for: JSONField's adapter."""
    adapted = getattr(value, "obj", None)
    if adapted is not None:
        return adapted
    raise TypeError(f"{type(value).__name__} is not JSON")


def content_fields(content: dict[str, Any]) -> dict[str, Any]:
    """Claim model field values for a content dict (the inverse of claim_content)."""
    return {
        "statement": content["statement"],
        "speaker_id": content["speaker"]["id"],
        "claim_date": date.fromisoformat(content["claim_date"]) if content["claim_date"] else None,
        "kind": content["kind"],
        "quantity": Decimal(content["quantity"]) if content["quantity"] is not None else None,
        "unit": content["unit"],
        "media_authenticity": content["media_authenticity"],
        **{name: content.get(name, blank) for name, blank in ADDED_LATER.items()},
    }
