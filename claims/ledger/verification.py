"""Re-walking the whole ledger: its hashes, its tree, its checkpoints, its claims.

`verify_ledger` recomputes every entry's body and header hash from the rows
(and each cited source's snapshot hash), checks each link of the chain,
rebuilds the Merkle tree from the entries and compares it with the stored
tree hashes and with every signed checkpoint it knows: the checkpoint log
(which also holds each leaf hash, so the first entry a rewritten database
contradicts is named exactly) and any checkpoint given by the caller. Then
it checks that every claim's status, version, publication and checkable
content are what its ledger says.

It stops at the first entry that does not verify: everything after a
broken link is unproven anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from claims.ledger import checkpoints, entries, tree, verifier
from claims.models import Claim, LedgerTreeHash, Review, ReviewEvidence
from claims.ratings import INITIAL_STATUS


@dataclass
class LedgerReport:
    entries: int = 0
    last: Review | None = None
    root: bytes | None = None
    checkpoints_checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Checkpoint:
    size: int
    root: bytes
    label: str


def verify_ledger(
    *,
    chunk_size: int = 2000,
    extra_checkpoints: Iterable[tuple[str, str]] = (),
    key: str | None = None,
) -> LedgerReport:
    """Verify the whole ledger; `extra_checkpoints` are (label, signed note) pairs.

    `key` is the verifier key of the checkpoints; by default the configured
    signing key's.
    """
    report = LedgerReport()
    note_verifier = checkpoints.note_verifier(key)
    given = _given_checkpoints(extra_checkpoints, note_verifier, report)
    if report.problems:
        return report
    logged = _LoggedLeaves(note_verifier, report)
    _walk_entries(report, chunk_size, logged, given)
    if report.problems:
        return report
    logged.finish(report)
    if report.problems:
        return report
    for checkpoint in given:
        if checkpoint.size > report.entries:
            report.problems.append(
                f"{checkpoint.label} covers {checkpoint.size} entries, but the ledger has only "
                f"{report.entries}: entries were removed"
            )
            return report
    if report.entries and tree.root(report.entries) != report.root:
        report.problems.append(
            "the stored Merkle tree hashes disagree with the entries: proofs served from them "
            "would not verify"
        )
        return report
    report.problems.extend(_claim_mismatches())
    return report


def _given_checkpoints(
    pairs: Iterable[tuple[str, str]],
    note_verifier: verifier.NoteVerifier | None,
    report: LedgerReport,
) -> list[_Checkpoint]:
    given = []
    for label, note in pairs:
        if note_verifier is None:
            report.problems.append(f"{label}: no verifier key to check its signature with")
            return []
        try:
            checkpoint = verifier.open_checkpoint(note, note_verifier, origin=checkpoints.origin())
        except ValueError as exc:
            report.problems.append(f"{label}: not a valid checkpoint of this ledger: {exc}")
            return []
        given.append(_Checkpoint(checkpoint.size, checkpoint.root_hash, f"checkpoint {label}"))
    return sorted(given, key=lambda checkpoint: checkpoint.size)


class _LoggedLeaves:
    """The checkpoint log read alongside the entries: its leaf hashes, one per entry,
    authenticated by the signed roots they add up to."""

    def __init__(self, note_verifier: verifier.NoteVerifier | None, report: LedgerReport) -> None:
        self.note_verifier = note_verifier
        self.report = report
        self.builder = verifier.MerkleBuilder()
        self.iterator = self._leaves()
        self.exhausted = False
        if note_verifier is None and checkpoints.latest() is not None:
            report.warnings.append(
                "no signing key is configured: the checkpoint log's signatures were not checked"
            )

    def _leaves(self) -> Iterator[tuple[bytes, _Checkpoint | None]]:
        for logged in checkpoints.read_log():
            if self.builder.size + len(logged.leaves) != logged.size:
                raise _LogDamaged(
                    f"checkpoint {logged.size} (signed {logged.signed_at}) in the log does not "
                    f"follow the one before it"
                )
            if self.note_verifier is not None:
                try:
                    opened = verifier.open_checkpoint(
                        logged.note, self.note_verifier, origin=checkpoints.origin()
                    )
                except ValueError as exc:
                    raise _LogDamaged(
                        f"checkpoint {logged.size} (signed {logged.signed_at}): {exc}"
                    ) from exc
                if (opened.size, opened.root_hash) != (logged.size, logged.root):
                    raise _LogDamaged(
                        f"checkpoint {logged.size}: its signed note and its record disagree"
                    )
            label = _Checkpoint(
                logged.size,
                logged.root,
                f"checkpoint {logged.size} of the log (signed {logged.signed_at})",
            )
            for position, leaf in enumerate(logged.leaves, start=1):
                self.builder.append(leaf)
                yield leaf, label if position == len(logged.leaves) else None
            if self.builder.root() != logged.root:
                raise _LogDamaged(
                    f"checkpoint {logged.size}: the leaf hashes logged with it do not add up to "
                    "its signed root"
                )

    def next(self) -> tuple[bytes, _Checkpoint | None] | None:
        if self.exhausted:
            return None
        try:
            return next(self.iterator)
        except StopIteration:
            self.exhausted = True
            return None

    def finish(self, report: LedgerReport) -> None:
        """Entries the log has and the database no longer has."""
        remaining = self.next()
        if remaining is not None:
            latest = checkpoints.latest()
            report.problems.append(
                f"the ledger has {report.entries} entries, but the checkpoint log holds "
                f"{latest.size if latest else 'more'}: entries were removed"
            )


class _LogDamaged(Exception):
    pass


def _walk_entries(
    report: LedgerReport, chunk_size: int, logged: _LoggedLeaves, given: list[_Checkpoint]
) -> None:
    expected_previous = verifier.GENESIS_HASH
    builder = verifier.MerkleBuilder()
    pending = list(given)
    chunk: list[Review] = []

    def check_chunk() -> bool:
        stored_leaves = dict(
            LedgerTreeHash.objects.filter(
                index__in=[verifier.stored_hash_index(0, e.leaf_index) for e in chunk]
            ).values_list("index", "hash")
        )
        nonlocal expected_previous
        for review in chunk:
            where = f"entry #{review.sequence} (id {review.pk}, claim id {review.claim_id})"
            expected_sequence = report.entries + 1
            if review.sequence != expected_sequence:
                report.problems.append(
                    f"{where}: expected sequence #{expected_sequence}, a gap or reorder"
                )
                return False
            if review.previous_hash != expected_previous:
                report.problems.append(
                    f"{where}: links to {review.previous_hash}, but the previous entry's hash "
                    f"is {expected_previous}"
                )
                return False
            header = entries.entry_header(
                review, entries.entry_body(review, entries.evidence_of(review))
            )
            recomputed = verifier.entry_hash(header)
            if recomputed != review.entry_hash:
                report.problems.append(
                    f"{where}: content does not match its hash (stored {review.entry_hash}, "
                    f"recomputed {recomputed}); the entry, its evidence or a cited snapshot "
                    "was altered"
                )
                return False
            leaf = verifier.record_hash(verifier.entry_bytes(header))
            stored = stored_leaves.get(verifier.stored_hash_index(0, review.leaf_index))
            if stored is None or bytes(stored) != leaf:
                report.problems.append(f"{where}: its stored Merkle leaf hash is missing or wrong")
                return False
            try:
                logged_leaf = logged.next()
            except _LogDamaged as damage:
                report.problems.append(f"the checkpoint log is damaged: {damage}")
                return False
            if logged_leaf is not None and logged_leaf[0] != leaf:
                report.problems.append(
                    f"{where} contradicts the checkpoint log: the log recorded leaf hash "
                    f"{logged_leaf[0].hex()} for it, the database's entry hashes to {leaf.hex()}; "
                    "the ledger was rewritten from this entry on"
                )
                return False
            builder.append(leaf)
            report.entries += 1
            report.last = review
            expected_previous = review.entry_hash
            if logged_leaf is not None and logged_leaf[1] is not None:
                report.checkpoints_checked += 1
            while pending and pending[0].size == builder.size:
                checkpoint = pending.pop(0)
                if builder.root() != checkpoint.root:
                    report.problems.append(
                        f"the ledger's first {checkpoint.size} entries do not match "
                        f"{checkpoint.label}: at least one of entries #1 to #{checkpoint.size} "
                        "was rewritten"
                    )
                    return False
                report.checkpoints_checked += 1
        return True

    queryset = (
        Review.objects.order_by("sequence")
        .select_related("editor")
        .prefetch_related(
            Prefetch(
                "evidence_links",
                queryset=ReviewEvidence.objects.order_by("position")
                .select_related("source")
                .only(
                    "review_id", "position", "source_id", "source__id", "source__snapshot_sha256"
                ),
            )
        )
    )
    for review in queryset.iterator(chunk_size=chunk_size):
        chunk.append(review)
        if len(chunk) >= chunk_size:
            if not check_chunk():
                return
            chunk = []
    if chunk and not check_chunk():
        return
    report.root = builder.root() if builder.size else None


def _claim_mismatches() -> list[str]:
    """Claims whose stored state disagrees with their ledger.

    Status, version and publication for every claim; for a claim whose
    ledger says it is published or rated, also its checkable content,
    which must be what its latest entry committed to.
    """
    latest_entry = Review.objects.filter(claim=OuterRef("pk")).order_by("-sequence")
    publications = latest_entry.filter(action__in=[Review.Action.PUBLISH, Review.Action.UNPUBLISH])
    claims = Claim.objects.annotate(
        ledger_status=Coalesce(
            Subquery(latest_entry.values("status_after")[:1]), Value(INITIAL_STATUS)
        ),
        ledger_version=Coalesce(Subquery(latest_entry.values("claim_version")[:1]), Value(1)),
        ledger_published=Coalesce(
            Subquery(publications.values("action")[:1]), Value(Review.Action.UNPUBLISH)
        ),
        ledger_content=Subquery(latest_entry.values("claim_content")[:1]),
    )
    state_mismatches = claims.exclude(
        status=F("ledger_status"),
        version=F("ledger_version"),
        published_at__isnull=False,
        ledger_published=Review.Action.PUBLISH,
    ).exclude(
        status=F("ledger_status"),
        version=F("ledger_version"),
        published_at__isnull=True,
        ledger_published=Review.Action.UNPUBLISH,
    )
    problems = [
        f"claim {claim.slug!r}: status {claim.status!r} version {claim.version} "
        f"{'published' if claim.is_published else 'draft'}, but its ledger says "
        f"{claim.ledger_status!r} version {claim.ledger_version} "
        f"{'published' if claim.ledger_published == Review.Action.PUBLISH else 'draft'}"
        for claim in state_mismatches.only("slug", "status", "version", "published_at")
    ]
    locked = (
        claims.filter(ledger_content__isnull=False)
        .select_related("speaker")
        .only(
            "slug",
            "status",
            "published_at",
            *Claim.CHECKABLE_FIELDS,
            "speaker__name",
        )
    )
    for claim in locked.iterator(chunk_size=2000):
        if not claim.is_locked:
            continue
        current = entries.claim_content(claim)
        if not entries.same_content(claim.ledger_content, current):
            changed = sorted(entries.content_changes(claim.ledger_content, current))
            committed = ", ".join(f"{name} {claim.ledger_content[name]!r}" for name in changed)
            problems.append(
                f"claim {claim.slug!r}: {', '.join(changed)} changed behind its ledger (its "
                f"latest entry committed to {committed}), and no correction entry records it"
            )
    return problems
