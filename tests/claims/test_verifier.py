"""The ledger's hash formats and the standalone verifier (claims/ledger/verifier.py).

Known-answer vectors come from the implementations the formats are defined
by: Go's golang.org/x/mod/sumdb/tlog and sumdb/note (tlog_test.go,
note_test.go), the C2SP signed-note and tlog-checkpoint specs, and the RFC 6962
reference trees of transparency-dev/merkle (testonly/constants.go,
cmd/proofgen). None of these tests touch the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone

import pytest

from claims.ledger import verifier

# ---------------------------------------------------------------------------
# Canonical JSON
# ---------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_drops_whitespace():
    value = {"b": 1, "a": [True, None, "caf\u00e9"], "c": {"z": -2, "y": ""}}

    assert verifier.canonical_json(value) == (
        '{"a":[true,null,"caf\u00e9"],"b":1,"c":{"y":"","z":-2}}'.encode()
    )


def test_canonical_json_escapes_exactly_as_rfc_8785_does():
    # JCS escapes the two-character forms it can and \u00XX (lowercase) for
    # other controls, and leaves everything else, U+2028 and DEL included, raw.
    value = '\b\t\n\f\r\x01\x1f"\\/\x7f\u2028\U0001f600'

    assert verifier.canonical_json(value) == (
        '"\\b\\t\\n\\f\\r\\u0001\\u001f\\"\\\\/\x7f\u2028\U0001f600"'.encode()
    )


@pytest.mark.parametrize("value", [1.0, float("nan"), {"x": [0.5]}, [{"deep": {"er": 2.5}}]])
def test_canonical_json_refuses_floats_wherever_they_are(value):
    with pytest.raises(TypeError, match="floats are not allowed"):
        verifier.canonical_json(value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({1: "int key"}, TypeError),
        ({"k": b"bytes"}, TypeError),
        ({"k": {1, 2}}, TypeError),
        (2**53, ValueError),
        (-(2**53), ValueError),
        ({"\U0001f600": 1}, ValueError),
    ],
)
def test_canonical_json_refuses_values_without_one_spelling_everywhere(value, error):
    with pytest.raises(error, match="value"):
        verifier.canonical_json(value)


def test_canonical_json_accepts_the_largest_safe_integers():
    assert (
        verifier.canonical_json([2**53 - 1, -(2**53 - 1)])
        == b"[9007199254740991,-9007199254740991]"
    )


# ---------------------------------------------------------------------------
# Entries and the hash chain
# ---------------------------------------------------------------------------

BODY_SHA = "ab" * 32


def _header(**changes):
    fields = {
        "sequence": 1,
        "created_at": "2024-05-01T12:00:00.000000Z",
        "previous_hash": verifier.GENESIS_HASH,
        "body_sha256": BODY_SHA,
    }
    fields.update(changes)
    return verifier.entry_header(**fields)


def test_an_entry_hash_is_sha256_of_exactly_these_header_bytes():
    header = _header(sequence=7, previous_hash="cd" * 32)
    expected = (
        b'{"body_sha256":"' + b"ab" * 32 + b'","created_at":"2024-05-01T12:00:00.000000Z",'
        b'"previous_hash":"' + b"cd" * 32 + b'","sequence":7,"v":2}'
    )

    assert verifier.entry_bytes(header) == expected
    assert verifier.entry_hash(header) == hashlib.sha256(expected).hexdigest()
    assert header["v"] == verifier.FORMAT_VERSION == 2
    assert verifier.GENESIS_HASH == "0" * 64


def test_a_body_and_a_note_hash_as_their_canonical_json():
    body = {"verdict": "false", "claim": "port-tonnes"}

    assert (
        verifier.body_digest(body)
        == hashlib.sha256(b'{"claim":"port-tonnes","verdict":"false"}').hexdigest()
    )
    assert (
        verifier.note_digest("Checked with the port.", "s4lt")
        == hashlib.sha256(b'{"note":"Checked with the port.","salt":"s4lt"}').hexdigest()
    )
    assert verifier.sha256_hex(b"") == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    "changes",
    [
        {"sequence": 0},
        {"sequence": True},
        {"sequence": "1"},
        {"created_at": "2024-05-01T12:00:00Z"},
        {"created_at": "2024-05-01T12:00:00.000000+00:00"},
        {"created_at": "2024-02-30T12:00:00.000000Z"},
        {"created_at": "\u0662024-05-01T12:00:00.000000Z"},
        {"previous_hash": "AB" * 32},
        {"previous_hash": "ab" * 31},
        {"body_sha256": None},
    ],
)
def test_an_entry_header_refuses_fields_with_another_spelling(changes):
    with pytest.raises(ValueError, match="sequence|created_at|previous_hash|body_sha256"):
        _header(**changes)


def test_entry_bytes_refuses_anything_but_a_version_2_header():
    with pytest.raises(ValueError, match="not an entry header"):
        verifier.entry_bytes({"sequence": 1})
    with pytest.raises(ValueError, match="version 3"):
        verifier.entry_bytes({**_header(), "v": 3})


def test_a_timestamp_is_written_in_utc_with_microseconds():
    moment = datetime(2024, 5, 1, 14, 0, 0, 50, tzinfo=timezone(timedelta(hours=2)))

    assert verifier.format_timestamp(moment) == "2024-05-01T12:00:00.000050Z"
    assert verifier.format_timestamp(datetime(999, 1, 2, tzinfo=UTC)) == (
        "0999-01-02T00:00:00.000000Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        verifier.format_timestamp(datetime(2024, 5, 1))


# ---------------------------------------------------------------------------
# Merkle tree: helpers
# ---------------------------------------------------------------------------


def _reader(storage):
    def read_hashes(indexes):
        # As Go's testHashStorage: the algorithms only ever ask in increasing order.
        assert indexes == sorted(set(indexes))
        return [storage[index] for index in indexes]

    return read_hashes


def _store(records):
    """Append each record as a log writer would; return the stored hashes."""
    storage = []
    for n, data in enumerate(records):
        storage.extend(verifier.stored_hashes(n, data, _reader(storage)))
    return storage


def _mth(leaf_hashes):
    """RFC 6962's MTH, written straight from section 2.1, to check tree_hash against."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < len(leaf_hashes):
        k *= 2
    return verifier.node_hash(_mth(leaf_hashes[:k]), _mth(leaf_hashes[k:]))


def _flip(value: bytes, position: int) -> bytes:
    changed = bytearray(value)
    changed[position % len(changed)] ^= 0x01
    return bytes(changed)


# transparency-dev/merkle testonly/constants.go: LeafInputs and RootHashes.
RFC6962_LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.fixture(scope="module")
def tree_of_100():
    """Go's TestTree log: records "leaf 0" to "leaf 99", with every tree's root."""
    records = [f"leaf {i}".encode() for i in range(100)]
    storage = _store(records)
    leaf_hashes = [verifier.record_hash(data) for data in records]
    roots = [verifier.tree_hash(size, _reader(storage)) for size in range(101)]
    return storage, leaf_hashes, roots


# ---------------------------------------------------------------------------
# Merkle tree: known answers
# ---------------------------------------------------------------------------


def test_the_empty_tree_hashes_to_sha256_of_nothing():
    # Go's TestEmptyTree.
    assert verifier.tree_hash(0, _reader([])) == hashlib.sha256(b"").digest()
    assert hashlib.sha256(b"").digest() == verifier.EMPTY_TREE_HASH
    assert verifier.MerkleBuilder().root() == hashlib.sha256(b"").digest()


def test_a_record_hash_matches_go_tlog():
    # tlog's note_test.go: RecordHash("hello world") in TestFormatTree's golden tree.
    leaf = verifier.record_hash(b"hello world")

    assert base64.b64encode(leaf).decode() == "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


def test_tree_hashes_match_the_rfc_6962_reference_roots():
    storage = _store(RFC6962_LEAVES)
    builder = verifier.MerkleBuilder()
    leaf_hashes = [verifier.record_hash(data) for data in RFC6962_LEAVES]

    assert builder.root().hex() == RFC6962_ROOTS[0]
    for size in range(1, 9):
        builder.append(leaf_hashes[size - 1])
        assert verifier.tree_hash(size, _reader(storage)).hex() == RFC6962_ROOTS[size]
        assert builder.root().hex() == RFC6962_ROOTS[size]
        assert _mth(leaf_hashes[:size]).hex() == RFC6962_ROOTS[size]


# transparency-dev/merkle cmd/proofgen; their leaf numbers are 1-based, ours 0-based.
RFC6962_RECORD_PROOFS = [
    (0, 1, []),
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
RFC6962_TREE_PROOFS = [
    (1, 1, []),
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
    (6, 7, ["0ebc5d34", "b08693ec", "d37ee418"]),
]


@pytest.mark.parametrize(("n", "t", "prefixes"), RFC6962_RECORD_PROOFS)
def test_record_proofs_match_the_rfc_6962_reference_proofs(n, t, prefixes):
    read = _reader(_store(RFC6962_LEAVES))
    proof = verifier.prove_record(t, n, read)

    assert [h.hex()[:8] for h in proof] == prefixes
    root = bytes.fromhex(RFC6962_ROOTS[t])
    verifier.check_record(proof, t, root, n, verifier.record_hash(RFC6962_LEAVES[n]))


@pytest.mark.parametrize(("n", "t", "prefixes"), RFC6962_TREE_PROOFS)
def test_tree_proofs_match_the_rfc_6962_reference_proofs(n, t, prefixes):
    read = _reader(_store(RFC6962_LEAVES))
    proof = verifier.prove_tree(t, n, read)

    assert [h.hex()[:8] for h in proof] == prefixes
    old, new = bytes.fromhex(RFC6962_ROOTS[n]), bytes.fromhex(RFC6962_ROOTS[t])
    verifier.check_tree(proof, t, new, n, old)


def test_stored_hash_indexes_split_back_into_their_coordinates():
    # Go's TestSplitStoredHashIndex.
    for level in range(10):
        for n in range(100):
            index = verifier.stored_hash_index(level, n)
            assert verifier.split_stored_hash_index(index) == (level, n)


def test_stored_hashes_follow_gos_storage_order():
    # Record 3 completes subtrees of 2 and 4 leaves: its leaf, then (1, 1), then (2, 0).
    storage = _store(RFC6962_LEAVES[:4])

    assert [verifier.split_stored_hash_index(i) for i in range(len(storage))] == [
        (0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0),
    ]  # fmt: skip
    assert storage[6].hex() == RFC6962_ROOTS[4]


# ---------------------------------------------------------------------------
# Merkle tree: Go's TestTree and properties
# ---------------------------------------------------------------------------


def test_gos_tree_test_passes(tree_of_100):
    """Go's TestTree, without tiles: counts, roots, and every proof, also corrupted."""
    storage, leaf_hashes, roots = tree_of_100
    read = _reader(storage)
    for i in range(100):
        size = i + 1
        assert verifier.stored_hash_count(size) == len(
            _store([f"leaf {j}".encode() for j in range(size)])
        )
        th = roots[size]
        for j in range(size):
            proof = verifier.prove_record(size, j, read)
            verifier.check_record(proof, size, th, j, leaf_hashes[j])
            for k in range(len(proof)):
                corrupt = [*proof[:k], _flip(proof[k], 0), *proof[k + 1 :]]
                with pytest.raises(verifier.ProofError):
                    verifier.check_record(corrupt, size, th, j, leaf_hashes[j])
            assert verifier.tree_hash(j + 1, read) == roots[j + 1]
            proof = verifier.prove_tree(size, j + 1, read)
            verifier.check_tree(proof, size, th, j + 1, roots[j + 1])
            for k in range(len(proof)):
                corrupt = [*proof[:k], _flip(proof[k], 0), *proof[k + 1 :]]
                with pytest.raises(verifier.ProofError):
                    verifier.check_tree(corrupt, size, th, j + 1, roots[j + 1])


def test_tree_hash_equals_the_rfc_6962_definition_at_every_size(tree_of_100):
    storage, leaf_hashes, roots = tree_of_100
    for size in range(101):
        assert roots[size] == _mth(leaf_hashes[:size])


def test_a_merkle_builder_root_equals_tree_hash_at_every_size(tree_of_100):
    _, leaf_hashes, roots = tree_of_100
    builder = verifier.MerkleBuilder()
    assert builder.size == 0
    for size, leaf in enumerate(leaf_hashes, start=1):
        builder.append(leaf)
        assert builder.size == size
        assert builder.root() == roots[size]


def test_record_proofs_up_to_70_fail_when_any_byte_of_proof_root_or_leaf_changes(tree_of_100):
    # Each proof hash, root and leaf gets one flipped byte per case, and the
    # flipped position rotates, so across the cases every position is hit.
    storage, leaf_hashes, roots = tree_of_100
    read, rotation = _reader(storage), 0
    for t in range(1, 71):
        for n in range(t):
            proof, root, leaf = verifier.prove_record(t, n, read), roots[t], leaf_hashes[n]
            verifier.check_record(proof, t, root, n, leaf)
            cases = [
                ([*proof[:k], _flip(proof[k], rotation + k), *proof[k + 1 :]], root, leaf)
                for k in range(len(proof))
            ]
            cases += [(proof, _flip(root, rotation), leaf), (proof, root, _flip(leaf, rotation))]
            for bad_proof, bad_root, bad_leaf in cases:
                with pytest.raises(verifier.ProofError):
                    verifier.check_record(bad_proof, t, bad_root, n, bad_leaf)
            rotation += 1


def test_tree_proofs_up_to_70_fail_when_any_byte_of_proof_or_roots_changes(tree_of_100):
    storage, _, roots = tree_of_100
    read, rotation = _reader(storage), 0
    for t in range(1, 71):
        for n in range(1, t + 1):
            proof, new, old = verifier.prove_tree(t, n, read), roots[t], roots[n]
            verifier.check_tree(proof, t, new, n, old)
            cases = [
                ([*proof[:k], _flip(proof[k], rotation + k), *proof[k + 1 :]], new, old)
                for k in range(len(proof))
            ]
            cases += [(proof, _flip(new, rotation), old), (proof, new, _flip(old, rotation))]
            for bad_proof, bad_new, bad_old in cases:
                with pytest.raises(verifier.ProofError):
                    verifier.check_tree(bad_proof, t, bad_new, n, bad_old)
            rotation += 1


def test_proofs_fail_when_any_single_byte_changes_exhaustively(tree_of_100):
    storage, leaf_hashes, roots = tree_of_100
    read, t = _reader(storage), 13
    for n in range(t):
        proof = verifier.prove_record(t, n, read)
        flat = b"".join([*proof, roots[t], leaf_hashes[n]])
        for position in range(len(flat)):
            changed = _flip(flat, position)
            hashes = [changed[i : i + 32] for i in range(0, len(changed), 32)]
            with pytest.raises(verifier.ProofError):
                verifier.check_record(hashes[:-2], t, hashes[-2], n, hashes[-1])
        proof = verifier.prove_tree(t, n + 1, read)
        flat = b"".join([*proof, roots[t], roots[n + 1]])
        for position in range(len(flat)):
            changed = _flip(flat, position)
            hashes = [changed[i : i + 32] for i in range(0, len(changed), 32)]
            with pytest.raises(verifier.ProofError):
                verifier.check_tree(hashes[:-2], t, hashes[-2], n + 1, hashes[-1])


def test_proofs_fail_with_a_hash_too_many_or_too_few(tree_of_100):
    storage, leaf_hashes, roots = tree_of_100
    read = _reader(storage)
    proof = verifier.prove_record(13, 5, read)
    for bad in (proof[:-1], [*proof, roots[1]], [roots[1], *proof]):
        with pytest.raises(verifier.ProofError):
            verifier.check_record(bad, 13, roots[13], 5, leaf_hashes[5])
    proof = verifier.prove_tree(13, 5, read)
    for bad in (proof[:-1], [*proof, roots[1]]):
        with pytest.raises(verifier.ProofError):
            verifier.check_tree(bad, 13, roots[13], 5, roots[5])


def test_proofs_refuse_impossible_sizes_and_wrong_positions(tree_of_100):
    storage, leaf_hashes, roots = tree_of_100
    read = _reader(storage)
    with pytest.raises(ValueError, match="cannot prove record 5"):
        verifier.prove_record(5, 5, read)
    with pytest.raises(ValueError, match="cannot prove a tree"):
        verifier.prove_tree(5, 6, read)
    with pytest.raises(verifier.ProofError, match="cannot be in a tree"):
        verifier.check_record([], 5, roots[5], 5, leaf_hashes[5])
    with pytest.raises(verifier.ProofError, match="cannot extend"):
        verifier.check_tree([], 5, roots[5], 0, roots[0])
    with pytest.raises(verifier.ProofError, match="32-byte"):
        verifier.check_record([b"short"], 2, roots[2], 0, leaf_hashes[0])
    proof = verifier.prove_record(8, 3, read)
    with pytest.raises(verifier.ProofError, match="does not show record 4"):
        verifier.check_record(proof, 8, roots[8], 4, leaf_hashes[3])


# ---------------------------------------------------------------------------
# Signed notes: Go's note_test.go and the C2SP example
# ---------------------------------------------------------------------------

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def _corrupt_at_byte_60(signature_line: str) -> str:
    # Go's TestOpen inserts "ABCD" at byte (not character) 60 of the line.
    raw = signature_line.encode()
    return (raw[:60] + b"ABCD" + raw[60:]).decode()


def test_it_signs_the_go_note_vector_byte_for_byte():
    signer = verifier.NoteSigner(PETER_SIGNER)

    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert signer.sign(TEXT) == TEXT + "\n" + PETER_SIG


def test_it_derives_the_go_verifier_key_from_the_go_signer_key():
    assert verifier.verifier_key_for(PETER_SIGNER) == PETER_KEY


def test_it_opens_the_go_note_vector():
    peter = verifier.NoteVerifier(PETER_KEY)

    assert (peter.name, peter.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert peter.open(TEXT + "\n" + PETER_SIG) == TEXT


def test_it_opens_a_note_signed_by_two_keys_with_either_key():
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG

    assert verifier.NoteVerifier(PETER_KEY).open(note) == TEXT
    assert verifier.NoteVerifier(ENOCH_KEY).open(note) == TEXT


def test_it_opens_the_c2sp_signed_note_example():
    key = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    note = (
        "This is an example message.\n\n"
        "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )

    assert verifier.NoteVerifier(key).open(note) == "This is an example message.\n"


def _manglings(key: str):
    """Go's TestNewVerifier/TestNewSigner: every proper substring, and every byte plus one."""
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                yield key[i:j]
    for i in range(len(key)):
        yield key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]


def test_it_refuses_every_mangled_verifier_key_from_the_go_tests():
    for mangled in _manglings(PETER_KEY):
        with pytest.raises(verifier.NoteError):
            verifier.NoteVerifier(mangled)


def test_it_refuses_every_mangled_signer_key_from_the_go_tests():
    for mangled in _manglings(PETER_SIGNER):
        with pytest.raises(verifier.NoteError):
            verifier.NoteSigner(mangled)


def test_it_refuses_the_go_test_keys_whose_id_was_adjusted_to_match():
    # Go gets as far as the key length; "EY==" has spare bits set, which the
    # strict base64 decoding here refuses first.
    with pytest.raises(verifier.NoteError, match="malformed verifier key"):
        verifier.NoteVerifier(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(verifier.NoteError, match="unknown verifier key algorithm 0x65"):
        verifier.NoteVerifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        TEXT
        + "\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_it_refuses_the_go_malformed_notes(note):
    with pytest.raises(verifier.NoteError, match="^malformed note"):
        verifier.NoteVerifier(PETER_KEY).open(note)


def test_it_refuses_a_note_whose_signature_was_corrupted():
    note = TEXT + "\n" + _corrupt_at_byte_60(PETER_SIG)

    with pytest.raises(
        verifier.NoteError, match=r"invalid signature by key PeterNeumann\+c74f20a3"
    ):
        verifier.NoteVerifier(PETER_KEY).open(note)


def test_it_ignores_signatures_by_other_keys_even_corrupt_ones():
    # Go's TestOpen "duplicated verified and unverified signatures" note.
    note = (
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + _corrupt_at_byte_60(ENOCH_SIG)
    )

    assert verifier.NoteVerifier(PETER_KEY).open(note) == TEXT


def test_it_refuses_a_note_with_any_bad_signature_by_its_own_key():
    # Stricter than Go, which skips a key's repeated signatures unchecked:
    # c2sp.org/signed-note says to reject a note a known key's signature fails on.
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG + _corrupt_at_byte_60(ENOCH_SIG)

    with pytest.raises(verifier.NoteError, match="invalid signature by key EnochRoot"):
        verifier.NoteVerifier(ENOCH_KEY).open(note)


@pytest.mark.parametrize(
    "signature",
    [PETER_SIG.replace("PeterNeumann", "CarmenSandiego"), PETER_SIG.replace("x08g", "xxxx")],
)
def test_it_refuses_a_note_signed_by_another_key(signature):
    with pytest.raises(
        verifier.NoteError, match=r"not signed by key PeterNeumann\+c74f20a3; it is signed by"
    ):
        verifier.NoteVerifier(PETER_KEY).open(TEXT + "\n" + signature)


def test_generated_keys_sign_and_verify_each_other_and_nothing_else():
    signer_key, verifier_key = verifier.generate_key("example.org/ledger")
    signer, opener = verifier.NoteSigner(signer_key), verifier.NoteVerifier(verifier_key)

    assert signer_key.startswith("PRIVATE+KEY+example.org/ledger+")
    assert verifier.verifier_key_for(signer_key) == verifier_key
    assert (signer.name, signer.key_id) == (opener.name, opener.key_id)
    assert "PRIVATE" not in repr(signer)
    note = signer.sign("hi\n")
    assert opener.open(note) == "hi\n"
    with pytest.raises(verifier.NoteError, match="not signed"):
        verifier.NoteVerifier(PETER_KEY).open(note)
    with pytest.raises(verifier.NoteError, match="invalid signature"):
        opener.open(note.replace("hi\n", "ho\n", 1))
    signature = note.rsplit(" ", 1)[1]
    tampered = base64.b64encode(_flip(base64.b64decode(signature), 10)).decode()
    with pytest.raises(verifier.NoteError, match="invalid signature"):
        opener.open(note.replace(signature, tampered + "\n"))


@pytest.mark.parametrize(
    "name", ["", "two words", "a+b", "tab\there", "nbsp\u00a0", "em\u2003space"]
)
def test_it_refuses_key_names_with_spaces_or_plus(name):
    with pytest.raises(verifier.NoteError, match="invalid key name"):
        verifier.generate_key(name)


def test_signing_refuses_text_a_verifier_would_refuse():
    signer = verifier.NoteSigner(PETER_SIGNER)
    with pytest.raises(verifier.NoteError, match="must end with a newline"):
        signer.sign("no newline")
    with pytest.raises(verifier.NoteError, match="control character"):
        signer.sign("bell\x07\n")
    with pytest.raises(verifier.NoteError, match="not valid UTF-8"):
        signer.sign("lone \ud800 surrogate\n")


def test_a_note_text_may_contain_blank_lines():
    signer = verifier.NoteSigner(PETER_SIGNER)
    text = "first\n\nthird\n\n"

    assert verifier.NoteVerifier(PETER_KEY).open(signer.sign(text)) == text


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


def test_a_checkpoint_is_formatted_like_gos_tree_notes():
    # tlog's TestFormatTree: a go.sum tree note is a checkpoint whose origin has spaces.
    checkpoint = verifier.Checkpoint(
        "go.sum database tree", 123456789012, verifier.record_hash(b"hello world")
    )

    assert checkpoint.text() == GO_TREE


def test_a_checkpoint_parses_gos_tree_note():
    checkpoint = verifier.Checkpoint.parse(GO_TREE)

    assert checkpoint == verifier.Checkpoint(
        "go.sum database tree", 123456789012, verifier.record_hash(b"hello world")
    )


def test_a_checkpoint_keeps_extension_lines_where_go_ignores_junk():
    assert verifier.Checkpoint.parse(GO_TREE + "JOE\n").extensions == ("JOE",)
    assert verifier.Checkpoint.parse(GO_TREE + "JOE\n" * 1000).extensions == ("JOE",) * 1000
    checkpoint = verifier.Checkpoint("o", 1, bytes(32), ["x", "y"])
    assert checkpoint.extensions == ("x", "y")
    assert verifier.Checkpoint.parse(checkpoint.text()) == checkpoint


def test_it_parses_the_c2sp_checkpoint_example():
    checkpoint = verifier.Checkpoint.parse(
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )

    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert base64.b64encode(checkpoint.root_hash) == b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


ROOT = "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


@pytest.mark.parametrize(
    "text",
    [
        "go.sum database tree\n0xabcdef\n" + ROOT + "\n",  # Go's bad trees
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        GO_TREE + "JOE",  # Go ignores this; a note text ends with a newline
        "log\n0123\n" + ROOT + "\n",
        "log\n-1\n" + ROOT + "\n",
        "log\n\u0661\n" + ROOT + "\n",
        "log\n9223372036854775808\n" + ROOT + "\n",
        "log\n1\n" + ROOT[:-2] + "1=\n",  # a spare bit set: not the canonical encoding
        "log\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "log\n1\n" + ROOT + "\n\n",
        "\n1\n" + ROOT + "\n",
        "log\n1\n",
        "log\r\n1\n" + ROOT + "\n",
    ],
)
def test_checkpoint_parsing_is_strict(text):
    with pytest.raises(verifier.CheckpointError):
        verifier.Checkpoint.parse(text)


def test_a_checkpoint_refuses_impossible_fields():
    with pytest.raises(verifier.CheckpointError, match="32 bytes"):
        verifier.Checkpoint("log", 1, b"short")
    with pytest.raises(verifier.CheckpointError, match="out of range"):
        verifier.Checkpoint("log", -1, bytes(32))
    with pytest.raises(verifier.CheckpointError, match="newlines"):
        verifier.Checkpoint("log\n2", 1, bytes(32))
    with pytest.raises(verifier.CheckpointError, match="non-empty"):
        verifier.Checkpoint("log", 1, bytes(32), ("",))


def test_a_signed_checkpoint_opens_only_with_its_key_and_origin():
    signer_key, verifier_key = verifier.generate_key("example.org/ledger")
    checkpoint = verifier.Checkpoint("example.org/ledger", 3, bytes(range(32)))
    note = verifier.sign_checkpoint(checkpoint, verifier.NoteSigner(signer_key))
    opener = verifier.NoteVerifier(verifier_key)

    assert note.startswith(checkpoint.text() + "\n\u2014 example.org/ledger ")
    assert verifier.open_checkpoint(note, opener) == checkpoint
    assert verifier.open_checkpoint(note, opener, origin="example.org/ledger") == checkpoint
    with pytest.raises(verifier.CheckpointError, match="is for log 'example.org/ledger'"):
        verifier.open_checkpoint(note, opener, origin="example.org/other")
    with pytest.raises(verifier.NoteError, match="not signed"):
        verifier.open_checkpoint(note, verifier.NoteVerifier(PETER_KEY))


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------

ORIGIN = "example.org/ledger"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _entries(count, *, redacted=(), verdict="false"):
    """A small export's entries, as the desk's full export writes them."""
    entries, previous = [], verifier.GENESIS_HASH
    for sequence in range(1, count + 1):
        note, salt = f"Desk note {sequence}: called the port.", f"{sequence:032x}"
        body = {
            "claim": f"claim-{sequence}",
            "verdict": verdict,
            "note_sha256": verifier.note_digest(note, salt),
        }
        header = verifier.entry_header(
            sequence=sequence,
            created_at=verifier.format_timestamp(START + timedelta(minutes=sequence)),
            previous_hash=previous,
            body_sha256=verifier.body_digest(body),
        )
        previous = verifier.entry_hash(header)
        entry = {k: v for k, v in header.items() if k != "v"}
        entry.update(entry_hash=previous, claim_url=f"/claims/claim-{sequence}/")
        if sequence not in redacted:
            entry.update(body=body, note=note, note_salt=salt)
        entries.append(entry)
    return entries


def _lines(entries):
    return [json.dumps(entry, ensure_ascii=False).encode() + b"\n" for entry in entries]


def _checkpoint_note(entries, signer_key, *, size=None, origin=ORIGIN):
    builder = verifier.MerkleBuilder()
    for entry in entries[:size]:
        header = verifier.entry_header(
            sequence=entry["sequence"],
            created_at=entry["created_at"],
            previous_hash=entry["previous_hash"],
            body_sha256=entry["body_sha256"],
        )
        builder.append(verifier.record_hash(verifier.entry_bytes(header)))
    checkpoint = verifier.Checkpoint(origin, builder.size, builder.root())
    return verifier.sign_checkpoint(checkpoint, verifier.NoteSigner(signer_key))


@pytest.fixture(scope="module")
def keys():
    return verifier.generate_key(ORIGIN)


@pytest.fixture(scope="module")
def export(keys):
    """Five entries, #2 redacted, and a checkpoint over all five."""
    entries = _entries(5, redacted={2})
    return _lines(entries), _checkpoint_note(entries, keys[0])


def _verify(lines, note, keys, **options):
    return verifier.verify_export(lines, checkpoint_note=note, verifier_key=keys[1], **options)


def _replace(line: bytes, old: bytes, new: bytes) -> bytes:
    assert line.count(old) == 1
    return line.replace(old, new)


def test_a_good_export_verifies_against_its_checkpoint(export, keys):
    lines, note = export

    report = _verify(lines, note, keys, origin=ORIGIN)

    assert report.ok, report.problems
    assert (report.entries, report.redacted) == (5, 1)
    assert report.checkpoint.size == 5
    assert report.root_hash == report.checkpoint.root_hash
    assert report.head_hash == json.loads(lines[-1])["entry_hash"]


def test_an_export_verifies_as_a_hash_chain_without_a_checkpoint(export):
    lines, _ = export

    report = verifier.verify_export(iter(lines), checkpoint_note=None, verifier_key=None)

    assert report.ok and report.entries == 5 and report.checkpoint is None


def test_entries_after_the_checkpoint_still_have_to_chain(keys):
    entries = _entries(7)
    lines = _lines(entries)
    note = _checkpoint_note(entries, keys[0], size=4)

    assert _verify(lines, note, keys).ok
    lines[5] = _replace(lines[5], b'"verdict": "false"', b'"verdict": "true"')
    assert _verify(lines, note, keys).problems[0].startswith("entry #6 (line 6): the body hashes")


def test_a_body_changed_by_one_byte_names_its_entry(export, keys):
    lines, note = list(export[0]), export[1]
    lines[2] = _replace(lines[2], b'"claim": "claim-3"', b'"claim": "claim-8"')

    report = _verify(lines, note, keys)

    assert not report.ok
    assert report.problems == [
        f"entry #3 (line 3): the body hashes to "
        f"{verifier.body_digest(json.loads(lines[2])['body'])}, not to its body_sha256"
    ]
    assert report.entries == 2


def test_a_changed_previous_hash_names_its_entry(export, keys):
    lines, note = list(export[0]), export[1]
    previous = json.loads(lines[2])["previous_hash"].encode()
    lines[2] = _replace(
        lines[2], previous, previous[:-1] + (b"0" if previous[-1:] != b"0" else b"1")
    )

    problem = _verify(lines, note, keys).problems[0]

    assert problem.startswith("entry #3 (line 3): previous_hash is ")
    assert problem.endswith(f"but entry #2's entry_hash is {previous.decode()}")


def test_a_changed_entry_hash_names_its_entry(export, keys):
    lines, note = list(export[0]), export[1]
    claimed = json.loads(lines[2])["entry_hash"].encode()
    lines[2] = _replace(lines[2], b'"entry_hash": "' + claimed, b'"entry_hash": "' + claimed[::-1])

    assert (
        _verify(lines, note, keys)
        .problems[0]
        .startswith(
            "entry #3 (line 3): entry_hash is '"
            + claimed[::-1].decode()
            + "', but the header hashes to "
        )
    )


def test_a_changed_note_names_its_entry(export, keys):
    lines, note = list(export[0]), export[1]
    lines[3] = _replace(lines[3], b"called the port.", b"called the pert.")

    assert _verify(lines, note, keys).problems == [
        "entry #4 (line 4): the note and note_salt do not hash to the body's note_sha256"
    ]


def test_a_note_without_its_body_cannot_be_checked(export, keys):
    lines, note = list(export[0]), export[1]
    entry = json.loads(lines[3])
    del entry["body"]
    lines[3] = json.dumps(entry).encode()

    assert _verify(lines, note, keys).problems == [
        "entry #4 (line 4): the entry has a note but no body to check it against"
    ]


def test_a_deleted_line_names_the_missing_entry(export, keys):
    lines, note = list(export[0]), export[1]
    del lines[2]

    problem = _verify(lines, note, keys).problems[0]

    assert problem.startswith(
        "entry #4 (line 3): sequence 4 where #3 was expected: entry #3 is missing"
    )


def test_swapped_lines_name_the_first_out_of_order(export, keys):
    lines, note = list(export[0]), export[1]
    lines[2], lines[3] = lines[3], lines[2]

    assert (
        _verify(lines, note, keys)
        .problems[0]
        .startswith("entry #4 (line 3): sequence 4 where #3 was expected")
    )


def test_a_truncated_export_names_the_first_missing_entry(export, keys):
    lines, note = export

    assert _verify(lines[:3], note, keys).problems == [
        "entry #4: missing; the export ends after 3 entries, but checkpoint "
        "example.org/ledger covers 5"
    ]


def test_it_refuses_a_checkpoint_signed_by_another_key(export, keys):
    lines, _ = export
    impostor, _ = verifier.generate_key(ORIGIN)
    forged = _checkpoint_note(_entries(5, redacted={2}), impostor)

    report = _verify(lines, forged, keys)

    name_and_id = "+".join(keys[1].split("+")[:2])
    assert report.problems[0].startswith(
        f"checkpoint: note is not signed by key {name_and_id}; it is signed by {ORIGIN}+"
    )
    assert (report.entries, report.checkpoint) == (0, None)


def test_it_refuses_a_checkpoint_for_another_origin(export, keys):
    lines, note = export

    assert _verify(lines, note, keys, origin="example.org/other").problems == [
        "checkpoint: checkpoint is for log 'example.org/ledger', not 'example.org/other'"
    ]


def test_it_refuses_a_checkpoint_whose_root_is_for_a_different_ledger(export, keys):
    lines, _ = export
    other = _checkpoint_note(_entries(5, redacted={2}, verdict="true"), keys[0])

    problem = _verify(lines, other, keys).problems[0]

    assert problem.startswith(
        "checkpoint example.org/ledger size 5: the Merkle root of entries #1 to #5 is "
    )
    assert problem.endswith("(a root cannot say which)")


def test_a_rewritten_history_passes_the_chain_but_not_the_checkpoint(export, keys):
    lines, note = export
    # Rehash everything after changing entry 2: a consistent chain, but not the signed one.
    rewritten = _entries(5, redacted={2})
    body = {"claim": "claim-2", "verdict": "true", "note_sha256": "0" * 64}
    rewritten[1]["body_sha256"] = verifier.body_digest(body)
    previous = verifier.GENESIS_HASH
    for entry in rewritten:
        entry["previous_hash"] = previous
        header = verifier.entry_header(
            sequence=entry["sequence"],
            created_at=entry["created_at"],
            previous_hash=previous,
            body_sha256=entry["body_sha256"],
        )
        entry["entry_hash"] = previous = verifier.entry_hash(header)

    assert verifier.verify_export(_lines(rewritten), checkpoint_note=None, verifier_key=None).ok
    problem = _verify(_lines(rewritten), note, keys).problems[0]
    assert problem.startswith("checkpoint example.org/ledger size 5: the Merkle root")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"{not json\n", "the line is not valid JSON"),
        (b"[1, 2]\n", "the line is not a JSON object"),
        (b"\n", "the line is empty"),
        (b'{"sequence": 1}\n', "the created_at field is missing"),
        (b"\xff\n", "the line is not valid UTF-8"),
    ],
)
def test_an_unreadable_line_is_named_by_the_entry_expected_there(line, why):
    report = verifier.verify_export([line], checkpoint_note=None, verifier_key=None)

    assert report.problems[0].startswith(f"entry #1 (line 1): {why}")


def test_a_line_with_a_float_or_a_duplicate_key_is_refused(export):
    lines = list(export[0])
    float_line = _replace(lines[0], b'"verdict": "false"', b'"verdict": 0.5')
    duplicate = lines[0].rstrip(b"}\n") + b', "sequence": 1}\n'

    for bad in (float_line, duplicate):
        problem = verifier.verify_export([bad], checkpoint_note=None, verifier_key=None).problems[0]
        assert problem.startswith("entry #1 (line 1): the line is not valid JSON")


def test_a_checkpoint_needs_a_verifier_key(export):
    lines, note = export
    with pytest.raises(ValueError, match="needs the log's verifier key"):
        verifier.verify_export(lines, checkpoint_note=note, verifier_key=None)


def _generated_lines(count):
    """An export of `count` entries, made one line at a time."""
    previous = verifier.GENESIS_HASH
    for sequence in range(1, count + 1):
        header = verifier.entry_header(
            sequence=sequence,
            created_at="2024-05-01T12:01:00.000000Z",
            previous_hash=previous,
            body_sha256=BODY_SHA,
        )
        entry = {k: v for k, v in header.items() if k != "v"}
        entry["entry_hash"] = previous = verifier.entry_hash(header)
        yield json.dumps(entry)


def test_verifying_streams_without_holding_the_export():
    # Untraced first: CPython keeps up to 2000 freed tuples of each small
    # size for reuse, and filling that free list is not the export's doing.
    assert verifier.verify_export(
        _generated_lines(1100), checkpoint_note=None, verifier_key=None
    ).ok
    tracemalloc.start()
    try:
        report = verifier.verify_export(
            _generated_lines(1500), checkpoint_note=None, verifier_key=None
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.ok and report.entries == 1500
    assert peak < 100_000  # the lines alone are about 400 kB


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def test_the_command_line_verifies_fails_and_refuses_misuse(tmp_path, export, keys):
    lines, note = export
    script = verifier.__file__
    (tmp_path / "export.jsonl").write_bytes(b"".join(lines))
    (tmp_path / "checkpoint.txt").write_text(note, encoding="utf-8")
    (tmp_path / "ledger.vkey").write_text(keys[1] + "\n", encoding="utf-8")
    tampered = list(lines)
    tampered[2] = _replace(tampered[2], b'"claim": "claim-3"', b'"claim": "claim-9"')
    (tmp_path / "tampered.jsonl").write_bytes(b"".join(tampered))

    def run(*args, stdin=None):
        return subprocess.run(
            [sys.executable, script, *args],
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    good = run("--checkpoint", "checkpoint.txt", "--key-file", "ledger.vkey", "export.jsonl")
    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.startswith(
        "Verified 5 entries (1 redacted) against checkpoint example.org/ledger size 5, root "
    )

    piped = run(
        "--checkpoint", "checkpoint.txt", "--key", keys[1], "-", stdin=b"".join(lines).decode()
    )
    assert piped.returncode == 0

    bad = run("--checkpoint", "checkpoint.txt", "--key", keys[1], "tampered.jsonl")
    assert bad.returncode == 1
    assert bad.stderr.startswith("FAILED: entry #3 (line 3): the body hashes to")

    unkeyed = run("--checkpoint", "checkpoint.txt", "export.jsonl")
    assert unkeyed.returncode == 2
    assert "--checkpoint needs the ledger's verifier key" in unkeyed.stderr


def test_main_returns_the_exit_status_instead_of_exiting(tmp_path, export, capsys):
    lines, _ = export
    (tmp_path / "export.jsonl").write_bytes(b"".join(lines))

    assert verifier.main([str(tmp_path / "export.jsonl")]) == 0
    assert capsys.readouterr().out.startswith(
        "Verified 5 entries (1 redacted): the hash chain is intact"
    )
    assert verifier.main(["--key", PETER_KEY, str(tmp_path / "export.jsonl")]) == 2
    assert verifier.main([]) == 2
    assert verifier.main([str(tmp_path / "missing.jsonl")]) == 2


# ---------------------------------------------------------------------------
# Proofs as the API serves them
# ---------------------------------------------------------------------------


PROOF_ERRORS = (verifier.ProofError, verifier.NoteError, verifier.CheckpointError)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _api_header(entry):
    return verifier.entry_header(
        sequence=entry["sequence"],
        created_at=entry["created_at"],
        previous_hash=entry["previous_hash"],
        body_sha256=entry["body_sha256"],
    )


@pytest.fixture(scope="module")
def proof_log(keys):
    """Seven entries with their stored tree hashes, and a signed checkpoint at every size."""
    entries = _entries(7, redacted={2})
    storage = _store([verifier.entry_bytes(_api_header(entry)) for entry in entries])
    notes = {size: _checkpoint_note(entries, keys[0], size=size) for size in range(1, 8)}
    return entries, storage, notes


def _inclusion(proof_log, sequence, size):
    """What /api/v1/ledger/proofs/inclusion/<sequence>?tree_size=<size> returns."""
    entries, storage, notes = proof_log
    header = _api_header(entries[sequence - 1])
    return {
        "sequence": sequence,
        "leaf_index": sequence - 1,
        "tree_size": size,
        "header": header,
        "entry_hash": verifier.entry_hash(header),
        "leaf_hash": _b64(verifier.record_hash(verifier.entry_bytes(header))),
        "proof": [_b64(h) for h in verifier.prove_record(size, sequence - 1, _reader(storage))],
        "root_hash": _b64(verifier.tree_hash(size, _reader(storage))),
        "checkpoint": notes[size],
    }


def _consistency(proof_log, old, new):
    """What /api/v1/ledger/proofs/consistency?from=<old>&to=<new> returns."""
    _, storage, notes = proof_log
    return {
        "from": old,
        "to": new,
        "from_root_hash": _b64(verifier.tree_hash(old, _reader(storage))),
        "to_root_hash": _b64(verifier.tree_hash(new, _reader(storage))),
        "proof": [_b64(h) for h in verifier.prove_tree(new, old, _reader(storage))],
        "checkpoint": notes[new],
    }


def _json_roundtrip(data):
    return json.loads(json.dumps(data))


def test_every_inclusion_proof_verifies_against_its_checkpoint(proof_log, keys):
    _, _, notes = proof_log
    for size in range(1, 8):
        for sequence in range(1, size + 1):
            data = _json_roundtrip(_inclusion(proof_log, sequence, size))
            # Against the checkpoint it carries, and against one given separately.
            for note in (None, notes[size]):
                checkpoint = verifier.verify_inclusion_proof(
                    data, checkpoint_note=note, verifier_key=keys[1], origin=ORIGIN
                )
                assert (checkpoint.origin, checkpoint.size) == (ORIGIN, size)


def test_the_optional_fields_of_an_inclusion_proof_may_be_left_out(proof_log, keys):
    data = _inclusion(proof_log, 3, 5)
    minimal = {name: data[name] for name in ("header", "proof", "tree_size", "checkpoint")}

    assert (
        verifier.verify_inclusion_proof(minimal, checkpoint_note=None, verifier_key=keys[1]).size
        == 5
    )


def _inclusion_error(data, keys, note=None, **options):
    with pytest.raises(PROOF_ERRORS) as caught:
        verifier.verify_inclusion_proof(data, checkpoint_note=note, verifier_key=keys[1], **options)
    return caught.value


def test_an_inclusion_proof_fails_when_any_byte_of_a_proof_hash_changes(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    assert len(data["proof"]) == 3
    for number, text in enumerate(data["proof"]):
        for position in range(32):
            bad = dict(data, proof=list(data["proof"]))
            bad["proof"][number] = _b64(_flip(base64.b64decode(text), position))
            error = _inclusion_error(bad, keys)
            assert isinstance(error, verifier.ProofError)
            assert str(error).startswith(
                "inclusion proof: it does not lead from entry #3's header (leaf 2) to the root "
                "of checkpoint example.org/ledger size 7"
            )


def test_an_inclusion_proof_fails_with_a_hash_too_many_or_too_few(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    for proof in (data["proof"][:-1], [*data["proof"], data["proof"][0]], []):
        error = _inclusion_error(dict(data, proof=proof), keys)
        assert isinstance(error, verifier.ProofError)
        assert "does not lead from entry #3's header" in str(error)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("created_at", lambda v: v.replace(".000000Z", ".000001Z")),
        ("previous_hash", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
        ("body_sha256", lambda v: ("1" if v[0] != "1" else "2") + v[1:]),
        ("sequence", lambda v: v + 1),
    ],
)
def test_an_inclusion_proof_fails_when_a_header_field_changes(proof_log, keys, field, change):
    data = _inclusion(proof_log, 3, 7)
    header = dict(data["header"])
    header[field] = change(header[field])
    bad = dict(data, header=header)

    # The derived fields give the change away first...
    error = _inclusion_error(bad, keys)
    assert isinstance(error, verifier.ProofError)
    if field == "sequence":
        assert str(error).startswith("inclusion proof: sequence is 3, but the header is entry #4")
    else:
        assert str(error).startswith("inclusion proof: entry_hash is ")
    # ...and without them, the proof itself fails: the changed header is not the signed leaf.
    for name in ("sequence", "leaf_index", "entry_hash", "leaf_hash"):
        del bad[name]
    error = _inclusion_error(bad, keys)
    assert isinstance(error, verifier.ProofError)
    assert "does not lead from entry #" in str(error)


@pytest.mark.parametrize(
    ("header_change", "message"),
    [
        ({"created_at": "2024-05-01T12:03:00Z"}, "header: created_at must look like"),
        ({"previous_hash": "AB" * 32}, "header: previous_hash must be 64 lowercase hex"),
        ({"sequence": True}, "header: sequence must be an integer"),
        ({"v": 3}, "header format version 3"),
        ({"v": True}, "header format version True"),
        ({"extra": 1}, "the header has extra and lacks nothing"),
    ],
)
def test_an_inclusion_proof_refuses_a_header_with_another_spelling(
    proof_log, keys, header_change, message
):
    data = _inclusion(proof_log, 3, 7)
    error = _inclusion_error(dict(data, header={**data["header"], **header_change}), keys)

    assert isinstance(error, verifier.ProofError)
    assert str(error).startswith(f"inclusion proof: {message}")


def test_an_inclusion_proof_fails_when_its_derived_fields_disagree(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    leaf = base64.b64decode(data["leaf_hash"])
    root = base64.b64decode(data["root_hash"])
    cases = {
        "leaf_hash": (_b64(_flip(leaf, 5)), "inclusion proof: leaf_hash is "),
        "root_hash": (
            _b64(_flip(root, 31)),
            "inclusion proof: root_hash is ",
        ),
        "leaf_index": (3, "inclusion proof: leaf_index is 3, but the header is entry #3, leaf 2"),
        "tree_size": (6, "inclusion proof: it is for a tree of 6 entries, but checkpoint "),
    }
    for field, (value, message) in cases.items():
        error = _inclusion_error(dict(data, **{field: value}), keys)
        assert isinstance(error, verifier.ProofError), field
        assert str(error).startswith(message), (field, str(error))


def test_an_inclusion_proof_fails_when_its_checkpoint_changes(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    note = data["checkpoint"]
    origin_line, size_line, root_line, blank, signature, _ = note.split("\n")
    assert blank == ""
    root = base64.b64decode(root_line)
    forged_root = note.replace(root_line, _b64(_flip(root, 0)))
    forged_size = note.replace(f"\n{size_line}\n", "\n8\n")
    broken_signature = note.replace(
        signature, signature[:-3] + ("A" if signature[-3] != "A" else "B") + signature[-2:]
    )

    for bad_note in (forged_root, forged_size, broken_signature):
        for given in (None, bad_note):
            error = _inclusion_error(dict(data, checkpoint=bad_note), keys, note=given)
            assert isinstance(error, verifier.NoteError), bad_note
            assert str(error).startswith("checkpoint: invalid signature by key example.org/ledger+")

    # A checkpoint of another size, rightly signed, is not the tree the proof is for.
    other = proof_log[2][6]
    error = _inclusion_error(data, keys, note=other)
    assert isinstance(error, verifier.ProofError)
    assert "it is for a tree of 7 entries, but checkpoint example.org/ledger size 6" in str(error)
    assert str(error).endswith("or ask for ?tree_size=6")


def test_an_inclusion_proof_needs_the_ledgers_key_and_origin(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    impostor_signer, impostor_key = verifier.generate_key(ORIGIN)

    error = _inclusion_error(data, (None, impostor_key))
    assert isinstance(error, verifier.NoteError)
    assert str(error).startswith("checkpoint: note is not signed by key example.org/ledger+")

    error = _inclusion_error(data, keys, origin="example.org/other")
    assert isinstance(error, verifier.CheckpointError)
    assert str(error) == (
        "checkpoint: checkpoint is for log 'example.org/ledger', not 'example.org/other'"
    )

    error = _inclusion_error(dict(data, checkpoint=None), keys)
    assert isinstance(error, verifier.CheckpointError)
    assert str(error).startswith("checkpoint: the proof carries none")

    with pytest.raises(ValueError, match="needs the log's verifier key"):
        verifier.verify_inclusion_proof(data, checkpoint_note=None, verifier_key=None)
    with pytest.raises(verifier.NoteError, match="malformed verifier key"):
        verifier.verify_inclusion_proof(data, checkpoint_note=None, verifier_key="nonsense")


def test_an_inclusion_proof_refuses_malformed_json(proof_log, keys):
    data = _inclusion(proof_log, 3, 7)
    cases = [
        ([], "inclusion proof: it is not a JSON object"),
        ({**data, "proof": "AAAA"}, "inclusion proof: the proof field is missing or not a list"),
        ({**data, "proof": ["AAAA"]}, "inclusion proof: proof hash 1 is not base64 of 32 bytes"),
        ({**data, "proof": [None]}, "inclusion proof: proof hash 1 is not base64 of 32 bytes"),
        ({**data, "tree_size": "7"}, "inclusion proof: tree_size must be a whole number"),
        ({k: v for k, v in data.items() if k != "header"}, "inclusion proof: the header field"),
    ]
    for bad, message in cases:
        error = _inclusion_error(bad, keys)
        assert isinstance(error, verifier.ProofError), message
        assert str(error).startswith(message), str(error)


def test_an_entry_beyond_the_checkpoint_is_not_in_it(proof_log, keys):
    data = _inclusion(proof_log, 3, 3)
    header = _api_header(proof_log[0][4])
    bad = {
        "header": header,
        "proof": data["proof"],
        "tree_size": 3,
        "checkpoint": data["checkpoint"],
    }

    error = _inclusion_error(bad, keys)
    assert str(error).startswith(
        "inclusion proof: entry #5 cannot be in checkpoint example.org/ledger size 3"
    )


def test_every_consistency_proof_verifies_between_its_checkpoints(proof_log, keys):
    _, _, notes = proof_log
    for new in range(1, 8):
        for old in range(1, new + 1):
            data = _json_roundtrip(_consistency(proof_log, old, new))
            for note in (None, notes[new]):
                old_checkpoint, new_checkpoint = verifier.verify_consistency_proof(
                    data,
                    old_checkpoint_note=notes[old],
                    new_checkpoint_note=note,
                    verifier_key=keys[1],
                    origin=ORIGIN,
                )
                assert (old_checkpoint.size, new_checkpoint.size) == (old, new)


def _consistency_error(data, keys, old_note, new_note=None, **options):
    with pytest.raises(PROOF_ERRORS) as caught:
        verifier.verify_consistency_proof(
            data,
            old_checkpoint_note=old_note,
            new_checkpoint_note=new_note,
            verifier_key=keys[1],
            **options,
        )
    return caught.value


def test_a_consistency_proof_fails_when_any_byte_of_a_proof_hash_changes(proof_log, keys):
    notes = proof_log[2]
    data = _consistency(proof_log, 3, 7)
    assert len(data["proof"]) == 4
    for number, text in enumerate(data["proof"]):
        for position in range(32):
            bad = dict(data, proof=list(data["proof"]))
            bad["proof"][number] = _b64(_flip(base64.b64decode(text), position))
            error = _consistency_error(bad, keys, notes[3])
            assert isinstance(error, verifier.ProofError)
            assert str(error).startswith(
                "consistency proof: it does not show that checkpoint example.org/ledger size 7 "
            )
    for proof in (data["proof"][:-1], [*data["proof"], data["proof"][0]], []):
        error = _consistency_error(dict(data, proof=proof), keys, notes[3])
        assert isinstance(error, verifier.ProofError)


def test_a_consistency_proof_fails_when_a_root_or_size_changes(proof_log, keys):
    notes = proof_log[2]
    data = _consistency(proof_log, 3, 7)
    old_root = base64.b64decode(data["from_root_hash"])
    new_root = base64.b64decode(data["to_root_hash"])
    cases = [
        ({"from_root_hash": _b64(_flip(old_root, 9))}, "consistency proof: from_root_hash is "),
        ({"to_root_hash": _b64(_flip(new_root, 9))}, "consistency proof: to_root_hash is "),
        ({"from": 2}, "consistency proof: it is from 2 to 7 entries, but the checkpoints have 3"),
        ({"to": 6}, "consistency proof: it is from 3 to 6 entries"),
        ({"from": "3"}, "consistency proof: from must be a whole number"),
    ]
    for change, message in cases:
        error = _consistency_error({**data, **change}, keys, notes[3])
        assert isinstance(error, verifier.ProofError), change
        assert str(error).startswith(message), str(error)


def test_a_consistency_proof_fails_when_a_checkpoint_changes(proof_log, keys):
    notes = proof_log[2]
    data = _consistency(proof_log, 3, 7)
    for which in ("old", "new"):
        note = notes[3] if which == "old" else notes[7]
        root_line = note.split("\n")[2]
        forged = note.replace(root_line, _b64(_flip(base64.b64decode(root_line), 17)))
        old_note, new_note = (forged, None) if which == "old" else (notes[3], forged)
        error = _consistency_error(data, keys, old_note, new_note)
        assert isinstance(error, verifier.NoteError)
        prefix = "old checkpoint" if which == "old" else "checkpoint"
        assert str(error).startswith(f"{prefix}: invalid signature by key example.org/ledger+")

    # Rightly signed checkpoints of other sizes are not the trees the proof is about.
    error = _consistency_error(data, keys, notes[2])
    assert isinstance(error, verifier.ProofError)
    assert "ask for ?from=2&to=7" in str(error)
    error = _consistency_error(data, keys, notes[7], notes[3])
    assert str(error).startswith("consistency proof: the old checkpoint has 7 entries, more than")


def test_a_rewritten_ledger_fails_the_consistency_proof_from_a_kept_checkpoint(proof_log, keys):
    entries, _, notes = proof_log
    # Entry #2 rewritten and everything rehashed: a valid tree, rightly signed, but not
    # an extension of the checkpoint of 3 kept from before.
    rewritten = [dict(entry) for entry in entries]
    rewritten[1]["body_sha256"] = "ee" * 32
    storage = _store([verifier.entry_bytes(_api_header(entry)) for entry in rewritten])
    rewritten_log = (rewritten, storage, {7: _checkpoint_note(rewritten, keys[0])})
    data = _consistency(rewritten_log, 3, 7)
    data["from_root_hash"] = _b64(
        verifier.open_checkpoint(notes[3], verifier.NoteVerifier(keys[1])).root_hash
    )

    error = _consistency_error(data, keys, notes[3])
    assert isinstance(error, verifier.ProofError)
    assert str(error).endswith(
        "if the checkpoints verify, the ledger's first 3 entries were rewritten, or the proof "
        "is corrupt"
    )


def test_a_consistency_proof_needs_both_checkpoints_from_one_log(proof_log, keys):
    notes = proof_log[2]
    data = _consistency(proof_log, 3, 7)
    other_log = _checkpoint_note(proof_log[0], keys[0], size=3, origin="example.org/other")

    error = _consistency_error(data, keys, other_log)
    assert isinstance(error, verifier.CheckpointError)
    assert str(error) == (
        "the old checkpoint is for log 'example.org/other', the new one for 'example.org/ledger'"
    )
    error = _consistency_error(data, keys, notes[3], origin="example.org/other")
    assert str(error).startswith("old checkpoint: checkpoint is for log 'example.org/ledger'")
    error = _consistency_error(dict(data, checkpoint=None), keys, notes[3])
    assert str(error).startswith("checkpoint: the proof carries none")
    error = _consistency_error(data, keys, None)
    assert str(error).startswith("old checkpoint: a consistency proof needs the older checkpoint")


def test_the_command_line_checks_proofs(tmp_path, proof_log, keys):
    notes = proof_log[2]
    inclusion = _inclusion(proof_log, 3, 7)
    consistency = _consistency(proof_log, 3, 7)
    (tmp_path / "inclusion.json").write_text(json.dumps(inclusion), encoding="utf-8")
    (tmp_path / "consistency.json").write_text(json.dumps(consistency), encoding="utf-8")
    (tmp_path / "old.txt").write_text(notes[3], encoding="utf-8")
    (tmp_path / "new.txt").write_text(notes[7], encoding="utf-8")
    (tmp_path / "ledger.vkey").write_text(keys[1] + "\n", encoding="utf-8")
    tampered = dict(
        inclusion, proof=[inclusion["proof"][1], inclusion["proof"][0], *inclusion["proof"][2:]]
    )
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")

    def run(*args, stdin=None):
        return subprocess.run(
            [sys.executable, verifier.__file__, *args],
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    good = run("--inclusion-proof", "inclusion.json", "--key-file", "ledger.vkey")
    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.startswith(
        "Verified: entry #3 is in checkpoint example.org/ledger size 7 (root "
    )
    assert f"(entry_hash {inclusion['entry_hash']})" in good.stdout

    against = run(
        "--inclusion-proof", "-", "--checkpoint", "new.txt", "--key", keys[1],
        "--origin", ORIGIN, stdin=json.dumps(inclusion),
    )  # fmt: skip
    assert against.returncode == 0, against.stderr

    bad = run("--inclusion-proof", "tampered.json", "--key-file", "ledger.vkey")
    assert bad.returncode == 1
    assert bad.stderr.startswith("FAILED: inclusion proof: it does not lead from entry #3")

    consistent = run(
        "--consistency-proof", "consistency.json", "--old-checkpoint", "old.txt",
        "--key-file", "ledger.vkey",
    )  # fmt: skip
    assert (consistent.returncode, consistent.stderr) == (0, "")
    assert consistent.stdout.startswith("Verified: checkpoint example.org/ledger size 7 (root ")
    assert "the ledger's first 3 entries are the ones signed then, unchanged" in consistent.stdout

    swapped = run(
        "--consistency-proof", "consistency.json", "--old-checkpoint", "new.txt",
        "--checkpoint", "old.txt", "--key-file", "ledger.vkey",
    )  # fmt: skip
    assert swapped.returncode == 1
    assert swapped.stderr.startswith("FAILED: consistency proof: the old checkpoint has 7")

    not_json = run("--inclusion-proof", "old.txt", "--key-file", "ledger.vkey")
    assert not_json.returncode == 1
    assert not_json.stderr.startswith("FAILED: inclusion proof: it is not valid JSON")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give an export to verify, or --inclusion-proof FILE"),
        (["--inclusion-proof", "p.json"], "--inclusion-proof needs the ledger's verifier key"),
        (
            ["--consistency-proof", "p.json", "--key", PETER_KEY],
            "--consistency-proof needs --old-checkpoint",
        ),
        (
            ["--inclusion-proof", "p.json", "--key", PETER_KEY, "export.jsonl"],
            "check one thing at a time: an export and --inclusion-proof were both given",
        ),
        (
            ["--old-checkpoint", "o.txt", "export.jsonl"],
            "--old-checkpoint only applies to --consistency-proof",
        ),
        (["--inclusion-proof", "missing.json", "--key", PETER_KEY], "No such file"),
        (["--inclusion-proof", "p.json", "--key", "nonsense"], "the verifier key: malformed"),
    ],
)
def test_the_command_line_refuses_misused_proof_options(tmp_path, capsys, args, message):
    (tmp_path / "p.json").write_text("{}", encoding="utf-8")
    paths = [str(tmp_path / a) if a.endswith((".json", ".txt", ".jsonl")) else a for a in args]

    assert verifier.main(paths) == 2
    assert message in capsys.readouterr().err


def test_every_tree_extends_the_empty_one(proof_log, keys):
    notes = proof_log[2]
    empty = verifier.sign_checkpoint(
        verifier.Checkpoint(ORIGIN, 0, verifier.EMPTY_TREE_HASH), verifier.NoteSigner(keys[0])
    )
    data = {"from": 0, "to": 7, "proof": [], "checkpoint": notes[7]}

    old, new = verifier.verify_consistency_proof(
        data, old_checkpoint_note=empty, new_checkpoint_note=None, verifier_key=keys[1]
    )
    assert (old.size, new.size) == (0, 7)
    error = _consistency_error(dict(data, proof=[_b64(b"\0" * 32)]), keys, empty)
    assert str(error).startswith("consistency proof: an empty tree's root is SHA-256 of nothing")


@pytest.mark.parametrize(
    "text",
    [
        "".join(chr(n) for n in range(0x800)),  # every control character, quotes, Latin…
        "\u2028\u2029\ufeff\U0001f600 «Nicolás» — 50 millones",
        'a "quoted" \\ back\\slash\t\n\r',
        "",
    ],
)
def test_the_exports_fast_digest_is_the_canonical_one(text):
    """The export hashes stored bodies with orjson (entries.stored_body_digest): the
    same bytes as verifier.canonical_json, whatever the text holds."""
    from claims.ledger.entries import stored_body_digest, stored_note_digest

    body = {
        "salt": "00ff",
        "claim": {"id": 7, "statement": text, "speaker": {"id": 2, "name": text[::-1]}},
        "changes": {
            "".join(c for c in text[:40] if c <= "\uffff") or "x": {"from": text, "to": None},
            "Zeta": True,
            "ä": [1, -2],
        },
        "claim_version": 2**53 - 1,
        "correction": None,
    }
    assert stored_body_digest(body) == verifier.body_digest(body)
    assert stored_note_digest(text, "salt") == verifier.note_digest(text, "salt")
