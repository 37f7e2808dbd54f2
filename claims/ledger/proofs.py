"""Merkle proofs of the ledger, as the API serves them and the verifier checks them.

Hashes are base64, as in the checkpoints; each proof is O(log n) reads of the
stored tree hashes (`claims.ledger.tree`). docs/ledger-format.md, section 9,
says how to check them; `claims/ledger/verifier.py` does.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.exceptions import ValidationError

from claims.ledger import checkpoints, entries, tree, verifier
from claims.models import Review


class NotCovered(LookupError):
    """The entry is not in the tree asked about (or not signed yet)."""


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _checked_size(size: int | None, name: str) -> tuple[int, checkpoints.LoggedCheckpoint | None]:
    """A tree size (default: the latest signed checkpoint's) and that checkpoint."""
    latest = checkpoints.latest()
    if size is None:
        size = latest.size if latest else 0
    stored = tree.size()
    if size > stored:
        raise ValidationError({name: f"The ledger has {stored} entries."})
    return size, latest


def inclusion(sequence: int, tree_size: int | None = None) -> dict[str, Any]:
    """An RFC 9162 inclusion proof of entry `sequence` in the tree of `tree_size` entries."""
    size, latest = _checked_size(tree_size, "tree_size")
    if sequence < 1 or sequence > size:
        raise NotCovered(f"Entry #{sequence} is not in a signed checkpoint of {size} entries yet.")
    entry = Review.objects.prefetch_related("evidence_links__source").get(sequence=sequence)
    header = entries.entry_header(entry, entries.entry_body(entry, entries.evidence_of(entry)))
    return {
        "sequence": sequence,
        "leaf_index": entry.leaf_index,
        "tree_size": size,
        "header": header,
        "entry_hash": entry.entry_hash,
        "leaf_hash": b64(verifier.record_hash(verifier.entry_bytes(header))),
        "proof": [b64(h) for h in tree.inclusion_proof(entry.leaf_index, size)],
        "root_hash": b64(tree.root(size)),
        "checkpoint": latest.note if latest and latest.size == size else None,
    }


def consistency(old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """An RFC 9162 consistency proof that the tree of `new_size` extends that of `old_size`."""
    new, latest = _checked_size(new_size, "to")
    if old_size > new:
        raise ValidationError({"from": f"At most `to` ({new})."})
    return {
        "from": old_size,
        "to": new,
        "from_root_hash": b64(tree.root(old_size)),
        "to_root_hash": b64(tree.root(new)),
        "proof": [b64(h) for h in tree.consistency_proof(old_size, new)],
        "checkpoint": latest.note if latest and latest.size == new else None,
    }


def standing() -> dict[str, Any]:
    """Where the ledger stands: its size, latest signed checkpoint and verifier key."""
    latest = checkpoints.latest()
    return {
        "origin": checkpoints.origin(),
        "size": tree.size(),
        "verifier_key": checkpoints.verifier_key(),
        "latest_checkpoint": None
        if latest is None
        else {"size": latest.size, "root_hash": latest.root_base64, "signed_at": latest.signed_at},
    }
