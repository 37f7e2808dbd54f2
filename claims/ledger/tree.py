"""The ledger's Merkle tree (RFC 6962), kept in `LedgerTreeHash` rows.

Each entry is a leaf (its header's canonical bytes). The formulas are
`claims.ledger.verifier`'s port of Go's `tlog`; this module only reads and
writes the stored hashes they ask for.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from claims.ledger import verifier
from claims.models import LedgerTreeHash, Review
from factcheck.db.prepared import compiled, prepared_cursor


class TreeError(Exception):
    """A stored hash the tree needs is missing: the tree and the entries disagree."""


# Prepared (factcheck.db.prepared): every ledger write and every signature reads here.
_READ_HASHES = (
    f'SELECT "index", "hash" FROM {LedgerTreeHash._meta.db_table} WHERE "index" = ANY(%s::bigint[])'
)


def read_hashes(indexes: list[int]) -> list[bytes]:
    with prepared_cursor() as cursor:
        cursor.execute(_READ_HASHES, [list(indexes)])
        found = {index: bytes(value) for index, value in cursor.fetchall()}
    missing = [index for index in indexes if index not in found]
    if missing:
        raise TreeError(f"the ledger's tree has no stored hash {missing[0]}")
    return [found[index] for index in indexes]


def new_hashes(leaf_index: int, data: bytes) -> list[bytes]:
    """The hashes that appending leaf `leaf_index` completes, to be stored from
    `verifier.stored_hash_index(0, leaf_index)` on (caller holds the ledger lock)."""
    return verifier.stored_hashes(leaf_index, data, read_hashes)


def leaf_hashes(first: int, last: int) -> list[bytes]:
    """The stored leaf hashes of leaves first..last-1, in order."""
    return read_hashes([verifier.stored_hash_index(0, n) for n in range(first, last)])


def tip() -> dict[str, Any] | None:
    """The ledger's last entry's `sequence` and `entry_hash` (None while it is empty)."""
    rows = compiled(("ledger-tip",), _tip).rows()
    return rows[0] if rows else None


def _tip() -> QuerySet[Any]:
    return Review.objects.order_by("-sequence").values("sequence", "entry_hash")[:1]


def locked_tip() -> dict[str, Any] | None:
    """Take the ledger's lock until the transaction ends, then read its tip, as `tip()`
    does: one round trip (the function of migration 0012)."""
    with prepared_cursor() as cursor:
        cursor.execute("SELECT tip_sequence, tip_hash FROM factcheck_ledger_locked_tip()")
        sequence, entry_hash = cursor.fetchone()
    return None if sequence is None else {"sequence": sequence, "entry_hash": entry_hash}


def size() -> int:
    """How many entries the tree holds: the ledger's tip sequence."""
    last = tip()
    return last["sequence"] if last else 0


def root(tree_size: int) -> bytes:
    return verifier.tree_hash(tree_size, read_hashes)


def inclusion_proof(leaf_index: int, tree_size: int) -> list[bytes]:
    return verifier.prove_record(tree_size, leaf_index, read_hashes)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return verifier.prove_tree(new_size, old_size, read_hashes)
