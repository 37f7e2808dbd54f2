"""The ledger as JSON Lines: the public export anyone may download, and the desk's.

Each line is one entry in chain order with everything its hashes cover:
the header fields (`sequence`, `created_at`, `previous_hash`,
`body_sha256`), the `entry_hash`, and the `body` itself. In the public
export, the body of an entry about a claim readers may not see (a draft, or
a withdrawn claim) is left out: its `body_sha256` stands in for it, so the
chain and the Merkle tree still verify and nothing of the draft shows. The
internal note is never in the public export (the body holds only its salted
digest); the desk's export adds each note and its salt.

`claims/ledger/verifier.py` checks either export against a signed
checkpoint; docs/ledger-format.md specifies the format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from claims.ledger import entries
from claims.models import Review, ReviewEvidence


def exported_entries() -> QuerySet[Review]:
    """Entries with what a line needs, in chain order: three queries per chunk."""
    return (
        Review.objects.select_related("claim", "editor")
        .only(
            *(
                field.attname
                for field in Review._meta.concrete_fields
                if field.name not in ("claim", "editor")
            ),
            "claim",
            "editor",
            "claim__slug",
            "claim__published_at",
            "editor__username",
        )
        .prefetch_related(
            Prefetch(
                "evidence_links",
                queryset=ReviewEvidence.objects.select_related("source")
                .only("review_id", "position", "source_id", "source__id", "source__snapshot_sha256")
                .order_by("position"),
            )
        )
        .order_by("sequence")
    )


def export_line(review: Review, *, full: bool) -> dict[str, Any]:
    body = entries.entry_body(review, entries.evidence_of(review))
    header = entries.entry_header(review, body)
    line = {
        "sequence": review.sequence,
        "created_at": header["created_at"],
        "previous_hash": review.previous_hash,
        "body_sha256": header["body_sha256"],
        "entry_hash": review.entry_hash,
        "leaf_index": review.leaf_index,
    }
    if full or review.claim.is_published:
        line["body"] = body
        line["claim"] = review.claim.slug
        line["editor"] = review.editor.username
    else:
        line["redacted"] = True
    if full:
        line["note"] = review.note
        line["note_salt"] = review.note_salt
    return line


def export_lines(*, full: bool, chunk_size: int = 500) -> Iterator[bytes]:
    """One encoded line per entry; memory stays flat whatever the ledger's size."""
    for review in exported_entries().iterator(chunk_size=chunk_size):
        yield (
            json.dumps(
                export_line(review, full=full), ensure_ascii=False, separators=(",", ":")
            ).encode()
            + b"\n"
        )
