#!/usr/bin/env python3
"""Check an export of the fact-check ledger, and define the ledger's hashes.

Anyone can download this one file and run it::

    python verifier.py --checkpoint checkpoint.txt --key-file ledger.vkey export.jsonl
    python verifier.py --inclusion-proof inclusion.json --key-file ledger.vkey
    python verifier.py --consistency-proof consistency.json --old-checkpoint old.txt --key K

It needs only Python 3.9 or newer and, to check a checkpoint's Ed25519 signature, the
``cryptography`` package (``pip install cryptography``). The ledger's own
application imports this same file, so the formulas below are the ones the
ledger computes with, not a second implementation that could drift from them.

Ledger format, version 2
========================

Entries. Every entry has a *body* (what the desk decided; its keys are the
application's business) and a *header*, the part that is hashed::

    {"v": 2, "sequence": 7, "created_at": "2024-05-01T12:00:00.000000Z",
     "previous_hash": "<64 hex digits>", "body_sha256": "<64 hex digits>"}

* All hashing is SHA-256 over canonical JSON (`canonical_json`): sorted keys,
  no whitespace, UTF-8, and no floating-point numbers.
* ``body_sha256`` is the hash of the body. A redacted entry keeps its header,
  so the chain and the tree below still verify, and loses only its body.
* A private editorial note is committed to in the body as ``note_sha256``,
  the hash of ``{"note": ..., "salt": ...}``: the random salt stops anyone
  from confirming a guess of a short note against the public hash.
* ``entry_hash`` is the hash of the header, and each header's
  ``previous_hash`` is the previous entry's ``entry_hash`` (64 zeros for
  entry 1). This hash chain makes any edit of a past entry visible.

Merkle tree. The headers are also the leaves of an RFC 6962 (RFC 9162
section 2.1) Merkle tree: leaf ``i`` (0-based) is the canonical header of entry
``i + 1``. The tree adds what a chain cannot give cheaply: a proof that one
entry is in the ledger, or that a later ledger only appended to an earlier
one, in a logarithmic number of hashes. The algorithms are a port of Go's
``golang.org/x/mod/sumdb/tlog``, which the Go checksum database runs on.

Checkpoints. The ledger signs its tree head as a checkpoint
(https://c2sp.org/tlog-checkpoint): a few lines naming the log (the *origin*),
its size and its root hash, wrapped in an Ed25519 signed note
(https://c2sp.org/signed-note) with the same key format as Go's
``golang.org/x/mod/sumdb/note``. Anyone can compute a hash chain that is
consistent with itself; only a checkpoint signed with the ledger's key ties an
export to the ledger, and pins every header among the first ``size`` entries.

Exports. An export is JSON Lines, one entry per line in sequence order, each
an object with ``sequence``, ``created_at``, ``previous_hash``,
``body_sha256`` and ``entry_hash``, plus ``body`` unless the entry is
redacted, plus ``note`` and ``note_salt`` in the desk's internal export. Other
keys are informational and not checked.

Proofs. The ledger's API serves inclusion proofs (an entry's header and the
hashes that lead from its leaf to a checkpoint's root) and consistency proofs
(the hashes that show a newer tree extends an older one); `verify_inclusion_proof`
and `verify_consistency_proof` check them against signed checkpoints.

The full specification, byte by byte with a worked example, is
docs/ledger-format.md, served at /ledger/format/.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519
except ImportError:  # Checking a hash chain alone needs no signatures.
    ed25519 = None  # type: ignore[assignment]

__all__ = [
    "EMPTY_TREE_HASH",
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "Checkpoint",
    "CheckpointError",
    "ExportReport",
    "MerkleBuilder",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "ProofError",
    "body_digest",
    "canonical_json",
    "check_record",
    "check_tree",
    "entry_bytes",
    "entry_hash",
    "entry_header",
    "format_timestamp",
    "generate_key",
    "main",
    "node_hash",
    "note_digest",
    "open_checkpoint",
    "prove_record",
    "prove_tree",
    "record_hash",
    "sha256_hex",
    "sign_checkpoint",
    "split_stored_hash_index",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes",
    "stored_hashes_for_record_hash",
    "tree_hash",
    "verifier_key_for",
    "verify_consistency_proof",
    "verify_export",
    "verify_inclusion_proof",
]


# ---------------------------------------------------------------------------
# Canonical JSON
# ---------------------------------------------------------------------------

# Beyond 2**53 an integer has no exact IEEE 754 double, so JSON readers in
# other languages would silently round it and hash different bytes.
_MAX_SAFE_INTEGER = 2**53 - 1
_ABOVE_BMP = re.compile("[\U00010000-\U0010ffff]")


def canonical_json(value: object) -> bytes:
    """Serialise `value` to the one byte string every party hashes.

    The ledger holds only strings, integers, booleans, None, lists, and dicts
    with string keys. For these values the output equals RFC 8785 (JSON
    Canonicalization Scheme), so it can be reproduced in any language with a
    JCS library. Refusals keep that true: floats, whose text form differs
    between languages; integers beyond +/-(2**53 - 1), which other languages
    read as rounded doubles; and dict keys with characters above U+FFFF, where
    Python's key order (by code point) would differ from JCS's (by UTF-16 unit).
    """
    _check_canonical(value, "value")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _check_canonical(value: object, where: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"{where}: integer {value} is too large for canonical JSON")
        return
    if isinstance(value, float):
        raise TypeError(f"{where}: floats are not allowed in the ledger, got {value!r}")
    if isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            _check_canonical(item, f"{where}[{position}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict keys must be strings, got {key!r}")
            if _ABOVE_BMP.search(key):
                raise ValueError(f"{where}: dict key {key!r} has a character above U+FFFF")
            _check_canonical(item, f"{where}[{key!r}]")
        return
    raise TypeError(f"{where}: {type(value).__name__} is not allowed in the ledger")


# ---------------------------------------------------------------------------
# Entries and the hash chain
# ---------------------------------------------------------------------------

FORMAT_VERSION = 2
GENESIS_HASH = "0" * 64
"""The `previous_hash` of entry 1, which has no predecessor."""

_HEADER_KEYS = frozenset({"v", "sequence", "created_at", "previous_hash", "body_sha256"})
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6})Z"
)


def sha256_hex(data: bytes) -> str:
    """SHA-256 of `data` as 64 lowercase hex digits, the form hashes take in JSON."""
    return hashlib.sha256(data).hexdigest()


def body_digest(body: dict[str, Any]) -> str:
    """The `body_sha256` an entry's header commits to."""
    if not isinstance(body, dict):
        raise TypeError(f"an entry body is a dict, got {type(body).__name__}")
    return sha256_hex(canonical_json(body))


def note_digest(note: str, salt: str) -> str:
    """The `note_sha256` a body stores for a private note.

    The note itself stays with the desk; publishing only this salted hash lets
    the desk later prove what the note said without anyone being able to
    confirm a guess of it in the meantime.
    """
    if not isinstance(note, str) or not isinstance(salt, str):
        raise TypeError("a note and its salt are strings")
    return sha256_hex(canonical_json({"note": note, "salt": salt}))


def format_timestamp(moment: datetime) -> str:
    """Write an aware datetime as a header's `created_at`: UTC, microseconds, "Z".

    A header hashes this text, so every writer must produce exactly it.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("created_at needs a timezone-aware datetime")
    # timezone.utc, not datetime.UTC: outsiders may run Python older than 3.11.
    utc = moment.astimezone(timezone.utc)  # noqa: UP017
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform;
    # isoformat pads the year to four digits and, with this timespec, always writes
    # the six digits of the microseconds.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_header(
    *, sequence: int, created_at: str, previous_hash: str, body_sha256: str
) -> dict[str, Any]:
    """Build the header of entry `sequence`, refusing values with more than one spelling.

    A hash commits to bytes, not meanings: "2024-05-01T12:00:00Z" and
    "2024-05-01T12:00:00.000000Z" are the same instant but different hashes.
    So each field has exactly one accepted form, and anything else is an error
    here rather than a mismatch later.
    """
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise ValueError(f"sequence must be an integer, got {sequence!r}")
    if not 1 <= sequence <= _MAX_SAFE_INTEGER:
        raise ValueError(f"sequence must be 1 or more, got {sequence}")
    parts = _TIMESTAMP.fullmatch(created_at) if isinstance(created_at, str) else None
    if parts is None:
        raise ValueError(
            f"created_at must look like 2024-05-01T12:00:00.000000Z, got {created_at!r}"
        )
    try:
        # Naive on purpose: this only checks that the fields make a real date.
        year, month, day, hour, minute, second, microsecond = map(int, parts.groups())
        datetime(year, month, day, hour, minute, second, microsecond)
    except ValueError:
        raise ValueError(f"created_at is not a real date and time: {created_at!r}") from None
    for name, value in (("previous_hash", previous_hash), ("body_sha256", body_sha256)):
        if not isinstance(value, str) or not _HEX_HASH.fullmatch(value):
            raise ValueError(f"{name} must be 64 lowercase hex digits, got {value!r}")
    return {
        "v": FORMAT_VERSION,
        "sequence": sequence,
        "created_at": created_at,
        "previous_hash": previous_hash,
        "body_sha256": body_sha256,
    }


def entry_bytes(header: dict[str, Any]) -> bytes:
    """The canonical bytes of a header: what `entry_hash` hashes and the Merkle leaf data."""
    if not isinstance(header, dict) or header.keys() != _HEADER_KEYS:
        raise ValueError("not an entry header; build one with entry_header()")
    if header["v"] != FORMAT_VERSION:
        raise ValueError(f"unsupported ledger format version {header['v']!r}")
    return canonical_json(header)


def entry_hash(header: dict[str, Any]) -> str:
    """The hash the next entry's `previous_hash` must repeat."""
    return sha256_hex(entry_bytes(header))


# ---------------------------------------------------------------------------
# Merkle tree (RFC 6962 / RFC 9162 section 2.1), ported from Go's sumdb/tlog
# ---------------------------------------------------------------------------
#
# Hashes here are 32-byte `bytes`. Records are numbered from 0, as in Go: the
# ledger's entry #k is record k - 1. Stored hashes use tlog's storage order:
# every hash of the tree gets a dense index (stored_hash_index), so a writer
# can keep them in one append-only table and proofs read only O(log n) rows.

HASH_SIZE = 32
EMPTY_TREE_HASH = hashlib.sha256(b"").digest()
"""The root of a tree with no records, as RFC 6962 defines it."""

HashReader = Callable[[list[int]], Sequence[bytes]]
"""Reads stored hashes: given storage indexes, returns their hashes in the same order."""


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims."""


def record_hash(data: bytes) -> bytes:
    """The leaf hash of a record: SHA-256(0x00 || data).

    The 0x00 prefix, and 0x01 for interior nodes, keeps a leaf from ever
    being passed off as an interior node (a second-preimage attack).
    """
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _maxpow2(n: int) -> tuple[int, int]:
    """Return (k, log2 k) for the largest power of two k smaller than n (1 for n <= 2)."""
    level = max((n - 1).bit_length() - 1, 0)
    return 1 << level, level


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def stored_hash_index(level: int, n: int) -> int:
    """Map the tree coordinates (level, n) to a dense storage index.

    The order is the one from section 3.3 of Crosby and Wallach, "Efficient
    Data Structures for Tamper-Evident Logging": appending record n writes its
    leaf hash and then the hashes of the subtrees it completes, and nothing
    written earlier ever moves.
    """
    if level < 0 or n < 0:
        raise ValueError("stored_hash_index needs level >= 0 and n >= 0")
    # Level L's n'th hash is written right after level L+1's 2n+1'th hash.
    for _ in range(level):
        n = 2 * n + 1
    # Level 0's n'th hash is written at n + n/2 + n/4 + ...
    index = 0
    while n > 0:
        index += n
        n >>= 1
    return index + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The inverse of `stored_hash_index`: return (level, n)."""
    if index < 0:
        raise ValueError("a storage index is 0 or more")
    # stored_hash_index(0, n) < 2n, so the record we want is in [index/2, index/2 + log2(index)].
    n = index // 2
    index_n = stored_hash_index(0, n)
    while True:
        # Record n adds 1 + trailing_zeros(n + 1) hashes.
        following = index_n + 1 + _trailing_zeros(n + 1)
        if following > index:
            break
        n += 1
        index_n = following
    # The hash was written with record n, so it is one of (0, n), (1, n/2), (2, n/4), ...
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """How many stored hashes a tree of n records has."""
    if n < 0:
        raise ValueError("a tree has 0 or more records")
    if n == 0:
        return 0
    # The hashes up to the last leaf, plus those of subtrees that leaf completes.
    count = stored_hash_index(0, n - 1) + 1
    i = n - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def stored_hashes(n: int, data: bytes, read_hashes: HashReader) -> list[bytes]:
    """The hashes to store when appending record n (0-based) with the given data.

    Store them in order from `stored_hash_index(0, n)`. There are at most
    1 + log2(n) of them, just under two on average.
    """
    return stored_hashes_for_record_hash(n, record_hash(data), read_hashes)


def stored_hashes_for_record_hash(n: int, leaf_hash: bytes, read_hashes: HashReader) -> list[bytes]:
    """Like `stored_hashes`, given `record_hash(data)` instead of the data."""
    if n < 0:
        raise ValueError("a record number is 0 or more")
    # Each trailing 1 bit of n completes a subtree, which needs the hash of
    # its left sibling from storage. Indexes are listed in increasing order.
    completed = _trailing_zeros(n + 1)
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(completed))]
    old = _read(read_hashes, indexes)
    hashes = [leaf_hash]
    current = leaf_hash
    for i in range(completed):
        current = node_hash(old[completed - 1 - i], current)
        hashes.append(current)
    return hashes


def _read(read_hashes: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = list(read_hashes(indexes))
    if len(hashes) != len(indexes):
        raise ValueError(f"read_hashes({len(indexes)} indexes) returned {len(hashes)} hashes")
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ValueError("read_hashes must return 32-byte hashes")
    return hashes


def tree_hash(n: int, read_hashes: HashReader) -> bytes:
    """The root hash of the tree of the first n records, from at most 1 + log2(n) stored hashes."""
    if n < 0:
        raise ValueError("a tree has 0 or more records")
    if n == 0:
        return EMPTY_TREE_HASH
    hashes = _read(read_hashes, _sub_tree_index(0, n, []))
    root, rest = _sub_tree_hash(0, n, hashes)
    assert not rest, "bad index math in tree_hash"
    return root


def _sub_tree_index(lo: int, hi: int, need: list[int]) -> list[int]:
    """Append the storage indexes needed for the hash of records [lo, hi) to `need`."""
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        assert lo & (k - 1) == 0, "bad math in _sub_tree_index"
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _sub_tree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    """Hash records [lo, hi) from the hashes `_sub_tree_index` asked for; return the rest.

    The range splits into complete subtrees of decreasing size, left to
    right; their stored roots are folded together from the right.
    """
    count = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        count += 1
        lo += k
    assert len(hashes) >= count, "bad index math in _sub_tree_hash"
    result = hashes[count - 1]
    for i in range(count - 2, -1, -1):
        result = node_hash(hashes[i], result)
    return result, hashes[count:]


def prove_record(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The proof that the tree of size t contains record n (RFC 6962's audit path)."""
    if t < 0 or n < 0 or n >= t:
        raise ValueError(f"cannot prove record {n} in a tree of size {t}")
    indexes = _leaf_proof_index(0, t, n, [])
    if not indexes:
        return []
    proof, rest = _leaf_proof(0, t, n, _read(read_hashes, indexes))
    assert not rest, "bad index math in prove_record"
    return proof


def _leaf_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    assert lo <= n < hi, "bad math in _leaf_proof_index"
    if lo + 1 == hi:
        return need
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        need = _leaf_proof_index(lo, lo + k, n, need)
        return _sub_tree_index(lo + k, hi, need)
    need = _sub_tree_index(lo, lo + k, need)
    return _leaf_proof_index(lo + k, hi, n, need)


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Walk down from [lo, hi) to leaf n, collecting the hash of each path not taken."""
    assert lo <= n < hi, "bad math in _leaf_proof"
    if lo + 1 == hi:
        # The verifier knows the leaf hash, so the proof need not carry it.
        return [], hashes
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        proof, hashes = _leaf_proof(lo, lo + k, n, hashes)
        sibling, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _sub_tree_hash(lo, lo + k, hashes)
        proof, hashes = _leaf_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def check_record(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Check that `proof` shows the tree of size t with root th has record n with leaf hash h.

    Raises ProofError if it does not.
    """
    if t < 0 or n < 0 or n >= t:
        raise ProofError(f"record {n} cannot be in a tree of size {t}")
    _check_hashes(proof, th, h)
    if _run_record_proof(list(proof), 0, t, n, h) != th:
        raise ProofError(f"the proof does not show record {n} in the tree of size {t}")


def _check_hashes(proof: Sequence[bytes], *hashes: bytes) -> None:
    for value in (*proof, *hashes):
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ProofError("proofs and hashes are made of 32-byte hashes")


def _run_record_proof(proof: list[bytes], lo: int, hi: int, n: int, leaf_hash: bytes) -> bytes:
    """Return the root of [lo, hi) that `proof` implies for leaf n."""
    assert lo <= n < hi, "bad math in _run_record_proof"
    if lo + 1 == hi:
        # A proof must not carry unnecessary hashes.
        if proof:
            raise ProofError("the proof has more hashes than the tree needs")
        return leaf_hash
    if not proof:
        raise ProofError("the proof has fewer hashes than the tree needs")
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        left = _run_record_proof(proof[:-1], lo, lo + k, n, leaf_hash)
        return node_hash(left, proof[-1])
    right = _run_record_proof(proof[:-1], lo + k, hi, n, leaf_hash)
    return node_hash(proof[-1], right)


def prove_tree(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The proof that the tree of size t extends the tree of size n (RFC 6962's consistency proof)."""
    if t < 1 or n < 1 or n > t:
        raise ValueError(f"cannot prove a tree of size {t} extends one of size {n}")
    indexes = _tree_proof_index(0, t, n, [])
    if not indexes:
        return []
    proof, rest = _tree_proof(0, t, n, _read(read_hashes, indexes))
    assert not rest, "bad index math in prove_tree"
    return proof


def _tree_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    assert lo < n <= hi, "bad math in _tree_proof_index"
    if n == hi:
        if lo == 0:
            return need
        return _sub_tree_index(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        need = _tree_proof_index(lo, lo + k, n, need)
        return _sub_tree_index(lo + k, hi, need)
    need = _sub_tree_index(lo, lo + k, need)
    return _tree_proof_index(lo + k, hi, n, need)


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    assert lo < n <= hi, "bad math in _tree_proof"
    if n == hi:
        if lo == 0:
            # This subtree is exactly the old tree, whose hash the verifier knows.
            return [], hashes
        subtree, hashes = _sub_tree_hash(lo, hi, hashes)
        return [subtree], hashes
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, hashes = _tree_proof(lo, lo + k, n, hashes)
        sibling, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _sub_tree_hash(lo, lo + k, hashes)
        proof, hashes = _tree_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def check_tree(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Check that `proof` shows the tree of size t with root th extends the tree of size n with root h.

    Raises ProofError if it does not.
    """
    if t < 1 or n < 1 or n > t:
        raise ProofError(f"a tree of size {t} cannot extend one of size {n}")
    _check_hashes(proof, th, h)
    old, new = _run_tree_proof(list(proof), 0, t, n, h)
    if old != h or new != th:
        raise ProofError(
            f"the proof does not show the tree of size {t} extends the one of size {n}"
        )


def _run_tree_proof(
    proof: list[bytes], lo: int, hi: int, n: int, old: bytes
) -> tuple[bytes, bytes]:
    """Return the hashes of [lo, hi) in the old tree and in the new one, as `proof` implies."""
    assert lo < n <= hi, "bad math in _run_tree_proof"
    if n == hi:
        if lo == 0:
            if proof:
                raise ProofError("the proof has more hashes than the trees need")
            return old, old
        if len(proof) != 1:
            raise ProofError("the proof has the wrong number of hashes")
        return proof[0], proof[0]
    if not proof:
        raise ProofError("the proof has fewer hashes than the trees need")
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        old_hash, new_hash = _run_tree_proof(proof[:-1], lo, lo + k, n, old)
        return old_hash, node_hash(new_hash, proof[-1])
    old_hash, new_hash = _run_tree_proof(proof[:-1], lo + k, hi, n, old)
    return node_hash(proof[-1], old_hash), node_hash(proof[-1], new_hash)


class MerkleBuilder:
    """The root of a growing tree, from leaf hashes streamed in, in O(log n) memory.

    It keeps only the roots of the complete subtrees the leaves so far fall
    into (one per 1 bit of the size, largest first), which is all a root
    needs; a verifier can stream a million entries through it.
    """

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf, given its `record_hash`."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        current = leaf_hash
        # Each trailing 1 bit of the old size is a subtree this leaf completes.
        size = self._size
        while size & 1:
            current = node_hash(self._peaks.pop(), current)
            size >>= 1
        self._peaks.append(current)
        self._size += 1

    def root(self) -> bytes:
        """The root hash of the tree of all leaves appended so far."""
        if not self._peaks:
            return EMPTY_TREE_HASH
        result = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            result = node_hash(peak, result)
        return result


# ---------------------------------------------------------------------------
# Signed notes (c2sp.org/signed-note, Go's golang.org/x/mod/sumdb/note)
# ---------------------------------------------------------------------------

_ALG_ED25519 = 1
_MAX_SIGNATURES = 100  # as Go's note.Open; the spec asks verifiers to accept at least 16
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_KEY_ID = re.compile(r"[0-9a-f]{8}")
# Unicode's White_Space characters, which Go's unicode.IsSpace tests for.
_WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A note must be UTF-8 with no ASCII control character but newline; a
# Python string with a lone surrogate cannot be encoded as UTF-8 at all.
_FORBIDDEN_IN_NOTE = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")


class NoteError(ValueError):
    """A key or signed note is malformed, or a note's signature does not verify."""


def _require_ed25519() -> None:
    if ed25519 is None:
        raise RuntimeError(
            "Ed25519 signatures need the 'cryptography' package: pip install cryptography"
        )


def _is_valid_key_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not _FORBIDDEN_IN_NOTE.search(name)
        and not any(char in _WHITE_SPACE or char.isspace() for char in name)
    )


def _check_key_name(name: str) -> None:
    if not _is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, with no spaces or '+'")


def _key_id(name: str, typed_public_key: bytes) -> int:
    """SHA-256(name || newline || type byte || public key), first 4 bytes, big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + typed_public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes | None:
    """Decode standard base64, or return None unless `text` is exactly its canonical form."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # One spelling per value: b64decode tolerates stray padding and nonzero spare bits.
    if base64.b64encode(data).decode("ascii") != text:
        return None
    return data


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ed25519_public_key(seed: bytes) -> bytes:
    _require_ed25519()
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return private.public_key().public_bytes_raw()


def _format_verifier_key(name: str, public_key: bytes) -> str:
    typed = bytes([_ALG_ED25519]) + public_key
    return f"{name}+{_key_id(name, typed):08x}+{_b64encode(typed)}"


def generate_key(name: str) -> tuple[str, str]:
    """Make a new Ed25519 key pair for the log `name`: (signer key, verifier key).

    The signer key, "PRIVATE+KEY+<name>+<key id>+<base64>", signs checkpoints
    and must stay secret. The verifier key, "<name>+<key id>+<base64>", is what
    the ledger publishes so that anyone can check them. The formats are those
    of Go's note.GenerateKey, so Go tooling reads these keys too.
    """
    _check_key_name(name)
    _require_ed25519()
    seed = ed25519.Ed25519PrivateKey.generate().private_bytes_raw()
    verifier_key = _format_verifier_key(name, _ed25519_public_key(seed))
    key_id = verifier_key.split("+")[1]
    signer_key = f"PRIVATE+KEY+{name}+{key_id}+{_b64encode(bytes([_ALG_ED25519]) + seed)}"
    return signer_key, verifier_key


def verifier_key_for(signer_key: str) -> str:
    """The verifier key that checks what `signer_key` signs."""
    return NoteSigner(signer_key).verifier_key


class NoteSigner:
    """Signs notes with a signer key ("PRIVATE+KEY+<name>+<key id>+<base64 of 0x01 || seed>")."""

    def __init__(self, signer_key: str) -> None:
        parts = signer_key.split("+", 4) if isinstance(signer_key, str) else []
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("malformed signer key: it starts PRIVATE+KEY+<name>+<key id>+")
        _, _, name, key_id_hex, key_b64 = parts
        key = _b64decode(key_b64)
        if not _is_valid_key_name(name) or not _KEY_ID.fullmatch(key_id_hex) or not key:
            raise NoteError("malformed signer key")
        if key[0] != _ALG_ED25519:
            raise NoteError(f"unknown signer key algorithm {key[0]:#04x}")
        seed = key[1:]
        if len(seed) != 32:
            raise NoteError("malformed signer key: an Ed25519 seed is 32 bytes")
        public_key = _ed25519_public_key(seed)
        # The key ID is a hash of the public key, which only the seed yields.
        if int(key_id_hex, 16) != _key_id(name, bytes([_ALG_ED25519]) + public_key):
            raise NoteError("signer key ID does not match its name and key")
        self.name = name
        self.key_id = int(key_id_hex, 16)
        self.verifier_key = _format_verifier_key(name, public_key)
        self._private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)

    def __repr__(self) -> str:
        # Never show the key itself: reprs end up in logs and tracebacks.
        return f"<NoteSigner {self.name}+{self.key_id:08x}>"

    def sign(self, text: str) -> str:
        """Return the signed note: `text`, a blank line, and this key's signature line."""
        _check_note_text(text)
        signature = self._private.sign(text.encode("utf-8"))
        encoded = _b64encode(self.key_id.to_bytes(4, "big") + signature)
        return f"{text}\n{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _check_note_text(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError("note text is a str")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_note_characters(text, "note text")


def _check_note_characters(text: str, what: str) -> None:
    found = _FORBIDDEN_IN_NOTE.search(text)
    if found:
        char = found.group()
        why = "is not valid UTF-8" if 0xD800 <= ord(char) <= 0xDFFF else "has a control character"
        raise NoteError(f"{what} {why} (U+{ord(char):04X} at offset {found.start()})")


class NoteVerifier:
    """Opens notes signed by one key, given its verifier key ("<name>+<key id>+<base64>")."""

    def __init__(self, verifier_key: str) -> None:
        parts = verifier_key.split("+", 2) if isinstance(verifier_key, str) else []
        if len(parts) != 3:
            raise NoteError("malformed verifier key: it is <name>+<key id>+<base64 key>")
        name, key_id_hex, key_b64 = parts
        key = _b64decode(key_b64)
        if not _is_valid_key_name(name) or not _KEY_ID.fullmatch(key_id_hex) or not key:
            raise NoteError("malformed verifier key")
        if int(key_id_hex, 16) != _key_id(name, key):
            raise NoteError("verifier key ID does not match its name and key")
        if key[0] != _ALG_ED25519:
            raise NoteError(f"unknown verifier key algorithm {key[0]:#04x}")
        if len(key) != 1 + 32:
            raise NoteError("malformed verifier key: an Ed25519 public key is 32 bytes")
        self.name = name
        self.key_id = int(key_id_hex, 16)
        self._public_key = key[1:]

    def __repr__(self) -> str:
        return f"<NoteVerifier {self.name}+{self.key_id:08x}>"

    def open(self, note: str | bytes) -> str:
        """Return the text of `note` once this key's signature on it verifies.

        As the spec requires, signatures by other keys are ignored, but every
        signature by this key must verify. Raises NoteError otherwise.
        """
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError:
                raise NoteError("malformed note: it is not valid UTF-8") from None
        if not isinstance(note, str):
            raise TypeError("a note is a str")
        _check_note_characters(note, "malformed note: it")
        if not note.endswith("\n"):
            raise NoteError("malformed note: it does not end with a newline")
        # The text ends at the last blank line; the text itself may contain blank lines.
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteError("malformed note: no blank line separates the text from the signatures")
        text, block = note[: split + 1], note[split + 2 :]
        lines = block.split("\n")[:-1]
        if not lines:
            raise NoteError("malformed note: it has no signature lines")
        if len(lines) > _MAX_SIGNATURES:
            raise NoteError(f"malformed note: more than {_MAX_SIGNATURES} signatures")
        _require_ed25519()
        public_key = ed25519.Ed25519PublicKey.from_public_bytes(self._public_key)
        verified = False
        others: list[str] = []
        for number, line in enumerate(lines, start=1):
            if not line.startswith(_SIGNATURE_PREFIX):
                raise NoteError(f"malformed note: signature line {number} does not start with '— '")
            name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
            signature = _b64decode(encoded)
            if not _is_valid_key_name(name) or signature is None or len(signature) < 5:
                raise NoteError(
                    f"malformed note: signature line {number} is not '— <name> <base64>'"
                )
            key_id = int.from_bytes(signature[:4], "big")
            if name != self.name or key_id != self.key_id:
                others.append(f"{name}+{key_id:08x}")
                continue
            try:
                public_key.verify(signature[4:], text.encode("utf-8"))
            except InvalidSignature:
                raise NoteError(f"invalid signature by key {self.name}+{self.key_id:08x}") from None
            verified = True
        if not verified:
            signed_by = f"; it is signed by {', '.join(others)}" if others else ""
            raise NoteError(f"note is not signed by key {self.name}+{self.key_id:08x}{signed_by}")
        return text


# ---------------------------------------------------------------------------
# Checkpoints (c2sp.org/tlog-checkpoint)
# ---------------------------------------------------------------------------

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = 2**63 - 1  # Go's int64, which other tooling assumes


class CheckpointError(ValueError):
    """A checkpoint's text is malformed, or it is for another log."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: its origin, how many records it has, and their Merkle root.

    The origin names the log. It SHOULD be a schema-less URL like
    "example.org/ledger", and the signing key's name SHOULD equal it.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.extensions, tuple):
            object.__setattr__(self, "extensions", tuple(self.extensions))
        for what, line in (
            ("origin", self.origin),
            *(("extension line", x) for x in self.extensions),
        ):
            if not isinstance(line, str) or not line:
                raise CheckpointError(f"a checkpoint {what} must be a non-empty string")
            if "\n" in line or _FORBIDDEN_IN_NOTE.search(line):
                raise CheckpointError(
                    f"a checkpoint {what} cannot hold newlines or control characters"
                )
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError("a checkpoint size is an integer")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint size {self.size} is out of range")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError("a checkpoint root hash is 32 bytes")

    def text(self) -> str:
        """The note text: origin, decimal size, base64 root hash, extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's note text, refusing anything tlog-checkpoint does not allow."""
        if not isinstance(text, str):
            raise TypeError("checkpoint text is a str")
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has at least three lines: origin, size, root hash")
        for number, line in enumerate(lines, start=1):
            if not line:
                raise CheckpointError(f"checkpoint line {number} is empty")
        origin, size_text, root_text, *extensions = lines
        if not _TREE_SIZE.fullmatch(size_text):
            raise CheckpointError(
                f"checkpoint size {size_text!r} is not a decimal number without leading zeros"
            )
        root_hash = _b64decode(root_text)
        if root_hash is None or len(root_hash) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash {root_text!r} is not base64 of 32 bytes")
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note a ledger publishes for `checkpoint`."""
    return signer.sign(checkpoint.text())


def open_checkpoint(note: str, verifier: NoteVerifier, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and return it.

    Raises NoteError if the signature does not verify, CheckpointError if the
    text is not a checkpoint or, when `origin` is given, is for another log.
    """
    checkpoint = Checkpoint.parse(verifier.open(note))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


# ---------------------------------------------------------------------------
# Verifying an export
# ---------------------------------------------------------------------------

_REQUIRED_FIELDS = ("sequence", "created_at", "previous_hash", "body_sha256", "entry_hash")


@dataclass
class ExportReport:
    """What `verify_export` established. It stops at the first problem."""

    entries: int = 0
    """Entries verified, in order from #1."""
    redacted: int = 0
    """Of those, how many came without a body."""
    checkpoint: Checkpoint | None = None
    """The checkpoint whose signature verified, if one was given."""
    problems: list[str] = field(default_factory=list)
    root_hash: bytes = EMPTY_TREE_HASH
    """The Merkle root of all the entries, once the whole export has verified."""
    head_hash: str = GENESIS_HASH
    """The entry_hash of the last verified entry."""

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problem(ValueError):
    pass


def verify_export(
    lines: Iterable[bytes | str],
    *,
    checkpoint_note: str | None,
    verifier_key: str | None,
    origin: str | None = None,
) -> ExportReport:
    """Check an export line by line, and against a signed checkpoint if one is given.

    Each line must continue the hash chain and match its own hashes; with a
    checkpoint, the Merkle root of the first `size` entries must equal the
    one the ledger signed. The first problem ends the check, since nothing
    after a broken link is proven, and names the entry it concerns. Memory
    stays flat however long the export: lines are read one at a time.

    Raises ValueError (NoteError) only for a mistake by the caller: a
    checkpoint without a verifier key, or a malformed verifier key.
    """
    report = ExportReport()
    checkpoint = None
    if checkpoint_note is not None:
        if verifier_key is None:
            raise ValueError("checking a checkpoint needs the log's verifier key")
        note_verifier = NoteVerifier(verifier_key)
        try:
            checkpoint = open_checkpoint(checkpoint_note, note_verifier, origin=origin)
        except ValueError as error:
            report.problems.append(f"checkpoint: {error}")
            return report
        report.checkpoint = checkpoint

    builder = MerkleBuilder()
    if checkpoint is not None and checkpoint.size == 0 and not _root_matches(report, builder):
        return report
    previous = GENESIS_HASH
    for line_number, raw in enumerate(lines, start=1):
        expected = report.entries + 1
        named = expected
        try:
            entry = _parse_line(raw)
            if isinstance(entry["sequence"], int) and not isinstance(entry["sequence"], bool):
                named = entry["sequence"]
            leaf_data = _check_entry(entry, expected, previous)
        except _Problem as problem:
            report.problems.append(f"entry #{named} (line {line_number}): {problem}")
            return report
        builder.append(record_hash(leaf_data))
        previous = entry["entry_hash"]
        report.entries += 1
        if entry.get("body") is None:
            report.redacted += 1
        report.head_hash = previous
        at_checkpoint = checkpoint is not None and builder.size == checkpoint.size
        if at_checkpoint and not _root_matches(report, builder):
            return report
    report.root_hash = builder.root()
    if checkpoint is not None and report.entries < checkpoint.size:
        report.problems.append(
            f"entry #{report.entries + 1}: missing; the export ends after {report.entries:,} "
            f"entries, but checkpoint {checkpoint.origin} covers {checkpoint.size:,}"
        )
    return report


def _root_matches(report: ExportReport, builder: MerkleBuilder) -> bool:
    checkpoint = report.checkpoint
    assert checkpoint is not None
    root = builder.root()
    if root == checkpoint.root_hash:
        return True
    span = f"entries #1 to #{checkpoint.size:,}" if checkpoint.size else "no entries"
    report.problems.append(
        f"checkpoint {checkpoint.origin} size {checkpoint.size:,}: the Merkle root of {span} "
        f"is {_b64encode(root)}, but the checkpoint signs {_b64encode(checkpoint.root_hash)}; "
        f"at least one of those entries is not what the ledger signed (a root cannot say which)"
    )
    return False


def _parse_line(raw: bytes | str) -> dict[str, Any]:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Problem("the line is not valid UTF-8") from None
    if not raw.strip():
        raise _Problem("the line is empty")
    try:
        entry = _DECODER.decode(raw)
    except ValueError as error:
        raise _Problem(f"the line is not valid JSON: {error}") from None
    if not isinstance(entry, dict):
        raise _Problem("the line is not a JSON object")
    for name in _REQUIRED_FIELDS:
        if name not in entry:
            raise _Problem(f"the {name} field is missing")
    return entry


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, Any]:
    # A JSON reader keeps one of two duplicates, and readers disagree on
    # which: a line must mean the same to every verifier.
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_number(text: str) -> object:
    raise ValueError(f"{text} is not an integer; the ledger holds no floats")


# One decoder for every line: json.loads with hooks would build a new one each time.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicate_keys,
    parse_float=_refuse_number,
    parse_constant=_refuse_number,
)


def _check_entry(entry: dict[str, Any], expected: int, previous: str) -> bytes:
    """Check one parsed line against the chain so far; return its header's `entry_bytes`."""
    sequence = entry["sequence"]
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise _Problem(f"sequence must be an integer, got {sequence!r}")
    if sequence != expected:
        raise _Problem(
            f"sequence {sequence!r} where #{expected} was expected: entry #{expected} "
            f"is missing or the lines are out of order"
        )
    if entry.get("v", FORMAT_VERSION) != FORMAT_VERSION:
        raise _Problem(f"ledger format version {entry['v']!r}; this verifier reads version 2")
    try:
        header = entry_header(
            sequence=sequence,
            created_at=entry["created_at"],
            previous_hash=entry["previous_hash"],
            body_sha256=entry["body_sha256"],
        )
    except ValueError as error:
        raise _Problem(str(error)) from None
    if header["previous_hash"] != previous:
        if expected == 1:
            raise _Problem("previous_hash must be 64 zeros: entry #1 has no predecessor")
        raise _Problem(
            f"previous_hash is {header['previous_hash']}, but entry #{expected - 1}'s "
            f"entry_hash is {previous}"
        )
    data = entry_bytes(header)
    recomputed = sha256_hex(data)
    if entry["entry_hash"] != recomputed:
        raise _Problem(
            f"entry_hash is {entry['entry_hash']!r}, but the header hashes to {recomputed}"
        )
    body = entry.get("body")
    if body is not None:
        if not isinstance(body, dict):
            raise _Problem("body must be a JSON object")
        try:
            digest = body_digest(body)
        except (TypeError, ValueError) as error:
            raise _Problem(f"the body cannot be hashed: {error}") from None
        if digest != header["body_sha256"]:
            raise _Problem(f"the body hashes to {digest}, not to its body_sha256")
    if entry.get("note") is not None:
        _check_note(entry, body)
    return data


def _check_note(entry: dict[str, Any], body: dict[str, Any] | None) -> None:
    note, salt = entry["note"], entry.get("note_salt")
    if not isinstance(note, str) or not isinstance(salt, str):
        raise _Problem("note and note_salt must both be strings")
    if body is None:
        raise _Problem("the entry has a note but no body to check it against")
    committed = body.get("note_sha256")
    if not isinstance(committed, str):
        raise _Problem("the entry has a note but its body has no note_sha256")
    if note_digest(note, salt) != committed:
        raise _Problem("the note and note_salt do not hash to the body's note_sha256")


# ---------------------------------------------------------------------------
# Verifying the API's proofs
# ---------------------------------------------------------------------------


def verify_inclusion_proof(
    data: dict[str, Any],
    *,
    checkpoint_note: str | None,
    verifier_key: str,
    origin: str | None = None,
) -> Checkpoint:
    """Check an inclusion proof, as ``/api/v1/ledger/proofs/inclusion/<sequence>`` returns it.

    `data` is the parsed JSON: the entry's ``header``, its ``leaf_hash``, the
    ``proof`` (base64 hashes), ``tree_size``, ``root_hash`` and ``checkpoint``.
    The leaf is recomputed from the header (nothing the server computed is
    trusted), and the proof must lead from it to the root of the signed
    checkpoint, for leaf ``sequence - 1`` of a tree of the checkpoint's size.
    ``leaf_hash``, ``entry_hash``, ``root_hash``, ``sequence`` and
    ``leaf_index`` are checked when present.

    `checkpoint_note` is the signed checkpoint to check against, such as one
    a mirror kept; None uses the one in ``data["checkpoint"]``, which is as
    good once its signature verifies with `verifier_key`.

    Returns the checkpoint the entry was shown to be in. Raises NoteError if
    a checkpoint's signature or the key is bad, CheckpointError if a
    checkpoint is malformed, missing or for another log than `origin`, and
    ProofError if the proof does not show the entry in it.
    """
    if not isinstance(data, dict):
        raise ProofError("inclusion proof: it is not a JSON object")
    checkpoint = _open_proof_checkpoint(
        checkpoint_note, data.get("checkpoint"), data.get("tree_size"), verifier_key, origin
    )
    header = _proof_header(data)
    sequence = header["sequence"]
    for name, expected in (("sequence", sequence), ("leaf_index", sequence - 1)):
        if name in data and (_strict_int(data[name]) is None or data[name] != expected):
            raise ProofError(
                f"inclusion proof: {name} is {data[name]!r}, but the header is entry "
                f"#{sequence}, leaf {sequence - 1}"
            )
    tree_size = _proof_size(data, "tree_size", "inclusion proof")
    signed = _describe(checkpoint)
    if tree_size != checkpoint.size:
        raise ProofError(
            f"inclusion proof: it is for a tree of {tree_size:,} entries, but {signed} signs "
            f"{checkpoint.size:,}: check it against the checkpoint of {tree_size:,} entries "
            f"(/api/v1/ledger/checkpoints), or ask for ?tree_size={checkpoint.size}"
        )
    if sequence > checkpoint.size:
        raise ProofError(
            f"inclusion proof: entry #{sequence} cannot be in {signed}, which has "
            f"{checkpoint.size:,} entries"
        )
    data_bytes = entry_bytes(header)
    leaf = record_hash(data_bytes)
    if "entry_hash" in data and data["entry_hash"] != sha256_hex(data_bytes):
        raise ProofError(
            f"inclusion proof: entry_hash is {data['entry_hash']!r}, but the header hashes "
            f"to {sha256_hex(data_bytes)}"
        )
    if "leaf_hash" in data and data["leaf_hash"] != _b64encode(leaf):
        raise ProofError(
            f"inclusion proof: leaf_hash is {data['leaf_hash']!r}, but the header's leaf hash "
            f"is {_b64encode(leaf)}"
        )
    _check_proof_root(data, "root_hash", checkpoint, "inclusion proof")
    proof = _proof_hashes(data, "inclusion proof")
    try:
        check_record(proof, checkpoint.size, checkpoint.root_hash, sequence - 1, leaf)
    except ProofError as error:
        raise ProofError(
            f"inclusion proof: it does not lead from entry #{sequence}'s header (leaf "
            f"{sequence - 1}) to the root of {signed} ({error}): the header or the proof is "
            f"not what the ledger signed"
        ) from None
    return checkpoint


def verify_consistency_proof(
    data: dict[str, Any],
    *,
    old_checkpoint_note: str,
    new_checkpoint_note: str | None,
    verifier_key: str,
    origin: str | None = None,
) -> tuple[Checkpoint, Checkpoint]:
    """Check a consistency proof, as ``/api/v1/ledger/proofs/consistency?from=M&to=N`` returns it.

    `data` is the parsed JSON: ``from``, ``to``, ``from_root_hash``,
    ``to_root_hash``, ``proof`` (base64 hashes) and ``checkpoint``. The proof
    must show that the tree of the new signed checkpoint (`to` entries)
    extends the tree of the old one (`from` entries): the first `from`
    entries are the ones the old checkpoint signed, unchanged. Both
    checkpoints must verify with `verifier_key` and name the same log (and
    `origin`, if given). The roots come from the checkpoints; the JSON's
    ``from_root_hash`` and ``to_root_hash`` must agree with them.

    `old_checkpoint_note` is the checkpoint kept from before;
    `new_checkpoint_note` None uses ``data["checkpoint"]``.

    Returns (old checkpoint, new checkpoint). Raises NoteError,
    CheckpointError or ProofError as `verify_inclusion_proof` does.
    """
    if not isinstance(data, dict):
        raise ProofError("consistency proof: it is not a JSON object")
    if not isinstance(old_checkpoint_note, str):
        raise CheckpointError("old checkpoint: a consistency proof needs the older checkpoint")
    note_verifier = NoteVerifier(verifier_key)
    old = _open_named_checkpoint(old_checkpoint_note, note_verifier, origin, "old checkpoint")
    new = _open_proof_checkpoint(
        new_checkpoint_note, data.get("checkpoint"), data.get("to"), verifier_key, origin
    )
    if old.origin != new.origin:
        raise CheckpointError(
            f"the old checkpoint is for log {old.origin!r}, the new one for {new.origin!r}"
        )
    if old.size > new.size:
        raise ProofError(
            f"consistency proof: the old checkpoint has {old.size:,} entries, more than the "
            f"new one's {new.size:,}: the log cannot have grown from one to the other"
        )
    old_size = _proof_size(data, "from", "consistency proof")
    new_size = _proof_size(data, "to", "consistency proof")
    if (old_size, new_size) != (old.size, new.size):
        raise ProofError(
            f"consistency proof: it is from {old_size:,} to {new_size:,} entries, but the "
            f"checkpoints have {old.size:,} and {new.size:,}: ask for "
            f"?from={old.size}&to={new.size}"
        )
    _check_proof_root(data, "from_root_hash", old, "consistency proof")
    _check_proof_root(data, "to_root_hash", new, "consistency proof")
    proof = _proof_hashes(data, "consistency proof")
    if old.size == 0:
        # Every tree extends the empty one; there is nothing to prove.
        if old.root_hash != EMPTY_TREE_HASH or proof:
            raise ProofError(
                "consistency proof: an empty tree's root is SHA-256 of nothing, and its proof "
                "is empty"
            )
        return old, new
    try:
        check_tree(proof, new.size, new.root_hash, old.size, old.root_hash)
    except ProofError as error:
        raise ProofError(
            f"consistency proof: it does not show that {_describe(new)} extends "
            f"{_describe(old)} ({error}): if the checkpoints verify, the ledger's first "
            f"{old.size:,} entries were rewritten, or the proof is corrupt"
        ) from None
    return old, new


def _describe(checkpoint: Checkpoint) -> str:
    return (
        f"checkpoint {checkpoint.origin} size {checkpoint.size:,} "
        f"(root {_b64encode(checkpoint.root_hash)})"
    )


def _open_named_checkpoint(
    note: object, note_verifier: NoteVerifier, origin: str | None, what: str
) -> Checkpoint:
    """`open_checkpoint`, with errors that say which checkpoint they are about."""
    if not isinstance(note, str):
        raise CheckpointError(f"{what}: a signed checkpoint is text")
    try:
        return open_checkpoint(note, note_verifier, origin=origin)
    except (NoteError, CheckpointError) as error:
        raise type(error)(f"{what}: {error}") from None


def _open_proof_checkpoint(
    given: str | None, embedded: object, size: object, verifier_key: str, origin: str | None
) -> Checkpoint:
    if not isinstance(verifier_key, str):
        raise ValueError("checking a proof needs the log's verifier key")
    note_verifier = NoteVerifier(verifier_key)
    if given is not None:
        return _open_named_checkpoint(given, note_verifier, origin, "checkpoint")
    if embedded is None:
        raise CheckpointError(
            f"checkpoint: the proof carries none (its tree of {size!r} entries is not the latest "
            f"signed one) and none was given: take the checkpoint of that size from the "
            f"checkpoint log (/api/v1/ledger/checkpoints)"
        )
    return _open_named_checkpoint(embedded, note_verifier, origin, "checkpoint")


def _strict_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _proof_size(data: dict[str, Any], name: str, what: str) -> int:
    value = _strict_int(data.get(name))
    if value is None or value < 0:
        raise ProofError(f"{what}: {name} must be a whole number, got {data.get(name)!r}")
    return value


def _proof_header(data: dict[str, Any]) -> dict[str, Any]:
    header = data.get("header")
    if not isinstance(header, dict):
        raise ProofError("inclusion proof: the header field is missing or not an object")
    if header.keys() != _HEADER_KEYS:
        missing = sorted(_HEADER_KEYS - header.keys())
        extra = sorted(header.keys() - _HEADER_KEYS)
        raise ProofError(
            f"inclusion proof: the header has {', '.join(extra) or 'no extra keys'} "
            f"and lacks {', '.join(missing) or 'nothing'}; a header has exactly "
            f"{', '.join(sorted(_HEADER_KEYS))}"
        )
    if _strict_int(header["v"]) != FORMAT_VERSION:
        raise ProofError(
            f"inclusion proof: header format version {header['v']!r}; this verifier reads "
            f"version {FORMAT_VERSION}"
        )
    try:
        return entry_header(
            sequence=header["sequence"],
            created_at=header["created_at"],
            previous_hash=header["previous_hash"],
            body_sha256=header["body_sha256"],
        )
    except ValueError as error:
        raise ProofError(f"inclusion proof: header: {error}") from None


def _check_proof_root(data: dict[str, Any], name: str, checkpoint: Checkpoint, what: str) -> None:
    if name in data and data[name] != _b64encode(checkpoint.root_hash):
        raise ProofError(
            f"{what}: {name} is {data[name]!r}, but {_describe(checkpoint)} signs "
            f"{_b64encode(checkpoint.root_hash)}"
        )


def _proof_hashes(data: dict[str, Any], what: str) -> list[bytes]:
    proof = data.get("proof")
    if not isinstance(proof, list):
        raise ProofError(f"{what}: the proof field is missing or not a list")
    hashes = []
    for number, text in enumerate(proof, start=1):
        value = _b64decode(text) if isinstance(text, str) else None
        if value is None or len(value) != HASH_SIZE:
            raise ProofError(f"{what}: proof hash {number} is not base64 of 32 bytes: {text!r}")
        hashes.append(value)
    return hashes


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

_DESCRIPTION = """\
Verify the fact-check ledger from what it publishes: an export (every
entry's hashes, the hash chain linking them and, given a signed checkpoint
and the ledger's verifier key, that the entries are the ones the ledger
signed), an inclusion proof (one entry is in a signed checkpoint), or a
consistency proof (a newer signed checkpoint only appended to an older one).
The format is specified at /ledger/format/ on the ledger's site."""

_USAGE = """\
%(prog)s [--checkpoint FILE (--key KEY | --key-file FILE) [--origin ORIGIN]] EXPORT.jsonl
       %(prog)s --inclusion-proof FILE (--key KEY | --key-file FILE) [--checkpoint FILE] [--origin ORIGIN]
       %(prog)s --consistency-proof FILE --old-checkpoint FILE (--key KEY | --key-file FILE)
                   [--checkpoint FILE] [--origin ORIGIN]"""

_EPILOG = """\
examples:
  %(prog)s --checkpoint checkpoint.txt --key-file ledger.vkey export.jsonl
  %(prog)s --inclusion-proof inclusion-7.json --key-file ledger.vkey
  %(prog)s --consistency-proof consistency.json --old-checkpoint kept.txt --key-file ledger.vkey

A proof file is the JSON the API returns ("-": standard input). Without
--checkpoint, a proof is checked against the checkpoint it carries, whose
signature is verified with the key all the same.

exit status: 0 if everything verifies, 1 if it does not (the first problem is
printed to standard error), 2 for a usage error."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier on the command line `argv`; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="verifier.py",
        usage=_USAGE,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "export",
        nargs="?",
        metavar="EXPORT.jsonl",
        help='the export, one entry per line ("-": standard input)',
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="the ledger's signed checkpoint (with a proof: the one to check it against; "
        "default: the checkpoint in the proof)",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key", metavar="VERIFIER_KEY", help="the ledger's verifier key")
    keys.add_argument("--key-file", metavar="FILE", help="a file holding the verifier key")
    parser.add_argument("--origin", help="require the checkpoints to be for this log")
    proofs = parser.add_argument_group("proofs from the API, instead of an export")
    proofs.add_argument(
        "--inclusion-proof",
        metavar="FILE",
        help="check /api/v1/ledger/proofs/inclusion/<sequence>: the entry is in the checkpoint",
    )
    proofs.add_argument(
        "--consistency-proof",
        metavar="FILE",
        help="check /api/v1/ledger/proofs/consistency?from=M&to=N: the checkpoint of N "
        "entries extends the old checkpoint of M",
    )
    proofs.add_argument(
        "--old-checkpoint",
        metavar="FILE",
        help="with --consistency-proof: the older signed checkpoint, the one you kept",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has printed
        return exit_.code if isinstance(exit_.code, int) else 2

    def usage_error(message: str) -> int:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2

    modes = [
        flag
        for flag, value in (
            ("an export", args.export),
            ("--inclusion-proof", args.inclusion_proof),
            ("--consistency-proof", args.consistency_proof),
        )
        if value is not None
    ]
    if not modes:
        return usage_error(
            "give an export to verify, or --inclusion-proof FILE, or --consistency-proof FILE"
        )
    if len(modes) > 1:
        return usage_error(f"check one thing at a time: {' and '.join(modes)} were both given")
    if args.old_checkpoint is not None and args.consistency_proof is None:
        return usage_error("--old-checkpoint only applies to --consistency-proof")
    if args.export is None:
        return _main_proof(args, usage_error)

    has_key = args.key is not None or args.key_file is not None
    if args.checkpoint is not None and not has_key:
        return usage_error("--checkpoint needs the ledger's verifier key (--key or --key-file)")
    if has_key and args.checkpoint is None:
        return usage_error("a verifier key only checks a checkpoint: add --checkpoint")
    if args.origin is not None and args.checkpoint is None:
        return usage_error("--origin only applies to a checkpoint: add --checkpoint")

    checkpoint_note = verifier_key = None
    if args.checkpoint is not None:
        if ed25519 is None:
            return usage_error("checking a checkpoint needs 'pip install cryptography'")
        try:
            verifier_key = _read_key(args)
            with open(args.checkpoint, "rb") as checkpoint_file:
                checkpoint_bytes = checkpoint_file.read()
        except (OSError, UnicodeDecodeError) as error:
            return usage_error(str(error))
        try:
            NoteVerifier(verifier_key)
        except NoteError as error:
            return usage_error(f"the verifier key: {error}")
        try:
            checkpoint_note = checkpoint_bytes.decode("utf-8")
        except UnicodeDecodeError:
            print("FAILED: checkpoint: it is not valid UTF-8", file=sys.stderr)
            return 1

    try:
        if args.export == "-":
            report = verify_export(
                sys.stdin.buffer,
                checkpoint_note=checkpoint_note,
                verifier_key=verifier_key,
                origin=args.origin,
            )
        else:
            with open(args.export, "rb") as export:
                report = verify_export(
                    export,
                    checkpoint_note=checkpoint_note,
                    verifier_key=verifier_key,
                    origin=args.origin,
                )
    except OSError as error:
        return usage_error(str(error))

    if not report.ok:
        print(f"FAILED: {report.problems[0]}", file=sys.stderr)
        return 1
    print(_summary(report))
    return 0


def _read_key(args: argparse.Namespace) -> str:
    if args.key_file is None:
        key: str = args.key
        return key
    with open(args.key_file, encoding="utf-8") as key_file:
        return key_file.read().strip()


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as file:
        return file.read()


def _main_proof(args: argparse.Namespace, usage_error: Callable[[str], int]) -> int:
    """The command line for --inclusion-proof and --consistency-proof."""
    inclusion = args.inclusion_proof is not None
    flag = "--inclusion-proof" if inclusion else "--consistency-proof"
    if args.key is None and args.key_file is None:
        return usage_error(f"{flag} needs the ledger's verifier key (--key or --key-file)")
    if not inclusion and args.old_checkpoint is None:
        return usage_error(
            "--consistency-proof needs --old-checkpoint: the checkpoint you kept from before"
        )
    if ed25519 is None:
        return usage_error("checking a proof's checkpoint needs 'pip install cryptography'")
    files = {"proof": args.inclusion_proof if inclusion else args.consistency_proof}
    if args.checkpoint is not None:
        files["checkpoint"] = args.checkpoint
    if args.old_checkpoint is not None:
        files["old checkpoint"] = args.old_checkpoint
    try:
        verifier_key = _read_key(args)
        raw = {what: _read_bytes(path) for what, path in files.items()}
    except (OSError, UnicodeDecodeError) as error:
        return usage_error(str(error))
    try:
        NoteVerifier(verifier_key)
    except NoteError as error:
        return usage_error(f"the verifier key: {error}")

    kind = "inclusion proof" if inclusion else "consistency proof"
    texts = {}
    for what, content in raw.items():
        try:
            texts[what] = content.decode("utf-8")
        except UnicodeDecodeError:
            print(
                f"FAILED: {kind if what == 'proof' else what}: it is not valid UTF-8",
                file=sys.stderr,
            )
            return 1
    try:
        data = _DECODER.decode(texts["proof"])
    except ValueError as error:
        print(f"FAILED: {kind}: it is not valid JSON: {error}", file=sys.stderr)
        return 1
    if inclusion:
        try:
            checkpoint = verify_inclusion_proof(
                data,
                checkpoint_note=texts.get("checkpoint"),
                verifier_key=verifier_key,
                origin=args.origin,
            )
        except ValueError as error:  # ProofError, NoteError, CheckpointError
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        header = data["header"]
        print(
            f"Verified: entry #{header['sequence']} is in {_describe(checkpoint)}. Its header "
            f"(entry_hash {entry_hash(header)}) commits to body_sha256 {header['body_sha256']}."
        )
        return 0
    try:
        old, new = verify_consistency_proof(
            data,
            old_checkpoint_note=texts["old checkpoint"],
            new_checkpoint_note=texts.get("checkpoint"),
            verifier_key=verifier_key,
            origin=args.origin,
        )
    except ValueError as error:  # ProofError, NoteError, CheckpointError
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(
        f"Verified: {_describe(new)} extends {_describe(old)}: the ledger's first "
        f"{old.size:,} entries are the ones signed then, unchanged."
    )
    return 0


def _summary(report: ExportReport) -> str:
    verified = f"Verified {report.entries:,} entries ({report.redacted:,} redacted)"
    checkpoint = report.checkpoint
    if checkpoint is None:
        return (
            f"{verified}: the hash chain is intact, Merkle root {_b64encode(report.root_hash)}.\n"
            f"No checkpoint was checked, so nothing here shows these are the ledger's own "
            f"entries; use --checkpoint and --key for that."
        )
    signed = (
        f"checkpoint {checkpoint.origin} size {checkpoint.size:,}, "
        f"root {_b64encode(checkpoint.root_hash)}"
    )
    if checkpoint.size == report.entries:
        return f"{verified} against {signed}."
    later = report.entries - checkpoint.size
    return (
        f"{verified}; the first {checkpoint.size:,} match {signed}. "
        f"The {later:,} later entries are chained to them but not yet covered by a checkpoint."
    )


if __name__ == "__main__":
    sys.exit(main())
