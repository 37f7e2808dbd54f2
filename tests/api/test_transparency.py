"""/api/v1/ledger/: signed checkpoints and Merkle proofs, checked as an outsider would."""

from __future__ import annotations

import base64
import json

import factory
import pytest

from claims.ledger import checkpoints, verifier
from claims.ledger.checkpoints import sign_latest
from tests.factories import PublicationFactory, VerdictFactory

LEDGER = "/api/v1/ledger/"
CHECKPOINT = "/api/v1/ledger/checkpoint"


def _opened(note: str) -> verifier.Checkpoint:
    return verifier.open_checkpoint(
        note, verifier.NoteVerifier(checkpoints.verifier_key()), origin=checkpoints.origin()
    )


def _flip(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_before_any_entry_there_is_no_checkpoint(api_client, db):
    assert api_client.get(CHECKPOINT).status_code == 404
    assert api_client.get("/api/v1/ledger/checkpoints").status_code == 404
    index = api_client.get(LEDGER).json()
    assert index["size"] == 0 and index["latest_checkpoint"] is None
    assert index["verifier_key"] == checkpoints.verifier_key()


def test_the_latest_checkpoint_is_a_signed_note_anyone_can_check(api_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory.create_batch(
        2, claim=claim, editor=editor, status=factory.Iterator(["false", "true", "mixed"])
    )
    sign_latest()

    response = api_client.get(CHECKPOINT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "public" in response["Cache-Control"]
    checkpoint = _opened(response.content.decode())
    assert checkpoint.size == 3
    index = api_client.get(LEDGER).json()
    assert index["latest_checkpoint"]["size"] == 3
    assert (
        index["latest_checkpoint"]["root_hash"] == base64.b64encode(checkpoint.root_hash).decode()
    )
    other = verifier.NoteVerifier(verifier.generate_key(checkpoints.origin())[1])
    with pytest.raises(verifier.NoteError):
        other.open(response.content.decode())


def test_the_checkpoint_log_lists_every_checkpoint_with_its_leaves(api_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false")
    sign_latest()
    VerdictFactory(claim=claim, editor=editor, status="true", explanation="Later.")
    sign_latest()

    response = api_client.get("/api/v1/ledger/checkpoints")

    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [line["size"] for line in lines] == [2, 3]
    assert [len(line["leaves"]) for line in lines] == [2, 1]
    assert _opened(lines[1]["checkpoint"]).size == 3


def test_every_entrys_inclusion_proof_verifies_and_fails_when_a_byte_changes(
    api_client, claim, editor
):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory.create_batch(
        6, claim=claim, editor=editor, status=factory.Iterator(["false", "true", "mixed"])
    )
    sign_latest()
    checkpoint = _opened(api_client.get(CHECKPOINT).content.decode())

    for sequence in range(1, 8):
        proof = api_client.get(f"/api/v1/ledger/proofs/inclusion/{sequence}").json()
        assert proof["tree_size"] == checkpoint.size == 7
        assert _opened(proof["checkpoint"]) == checkpoint
        leaf = verifier.record_hash(verifier.entry_bytes(proof["header"]))
        assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
        assert verifier.entry_hash(proof["header"]) == proof["entry_hash"]
        hashes = [base64.b64decode(h) for h in proof["proof"]]
        verifier.check_record(hashes, 7, checkpoint.root_hash, sequence - 1, leaf)

        if hashes:
            broken = [base64.b64decode(_flip(proof["proof"][0])), *hashes[1:]]
            with pytest.raises(verifier.ProofError):
                verifier.check_record(broken, 7, checkpoint.root_hash, sequence - 1, leaf)
        forged_header = {**proof["header"], "created_at": "2020-01-01T00:00:00.000000Z"}
        forged_leaf = verifier.record_hash(verifier.entry_bytes(forged_header))
        with pytest.raises(verifier.ProofError):
            verifier.check_record(hashes, 7, checkpoint.root_hash, sequence - 1, forged_leaf)


def test_a_consistency_proof_shows_a_newer_checkpoint_extends_an_older_one(
    api_client, claim, editor
):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory.create_batch(
        2, claim=claim, editor=editor, status=factory.Iterator(["false", "true", "mixed"])
    )
    sign_latest()
    old = _opened(api_client.get(CHECKPOINT).content.decode())
    VerdictFactory.create_batch(4, claim=claim, editor=editor, status="false")
    sign_latest()
    new = _opened(api_client.get(CHECKPOINT).content.decode())

    proof = api_client.get(f"/api/v1/ledger/proofs/consistency?from={old.size}").json()

    assert (proof["from"], proof["to"]) == (old.size, new.size) == (3, 7)
    assert _opened(proof["checkpoint"]) == new
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    verifier.check_tree(hashes, new.size, new.root_hash, old.size, old.root_hash)
    broken = [*hashes[:-1], base64.b64decode(_flip(proof["proof"][-1]))]
    with pytest.raises(verifier.ProofError):
        verifier.check_tree(broken, new.size, new.root_hash, old.size, old.root_hash)
    with pytest.raises(verifier.ProofError):
        verifier.check_tree(hashes, new.size, new.root_hash, old.size, bytes(32))


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/ledger/proofs/inclusion/99", 404, None),
        ("/api/v1/ledger/proofs/inclusion/1?tree_size=abc", 400, "tree_size"),
        ("/api/v1/ledger/proofs/inclusion/1?tree_size=50", 400, "tree_size"),
        ("/api/v1/ledger/proofs/consistency", 400, "from"),
        ("/api/v1/ledger/proofs/consistency?from=3&to=2", 400, "from"),
        ("/api/v1/ledger/proofs/consistency?from=0", 400, "from"),
        ("/api/v1/ledger/proofs/consistency?from=1&to=9", 400, "to"),
    ],
)
def test_bad_proof_requests_are_clear_errors(api_client, claim, editor, path, status, field):
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory.create_batch(
        2, claim=claim, editor=editor, status=factory.Iterator(["false", "true", "mixed"])
    )
    sign_latest()

    response = api_client.get(path)

    assert response.status_code == status
    error = response.json()["error"]
    if field:
        assert field in error["fields"]


def test_a_proof_for_a_drafts_entry_shows_its_header_only(api_client, claim, editor):
    VerdictFactory(claim=claim, editor=editor, explanation="Words nobody may read yet.")
    sign_latest()

    proof = api_client.get("/api/v1/ledger/proofs/inclusion/1")

    assert proof.status_code == 200
    assert set(proof.json()["header"]) == {
        "v",
        "sequence",
        "created_at",
        "previous_hash",
        "body_sha256",
    }
    assert b"nobody may read" not in proof.content
