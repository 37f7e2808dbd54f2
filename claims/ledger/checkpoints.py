"""Signed checkpoints of the ledger, kept outside the database.

After each ledger write commits, the ledger's size and Merkle root are
signed with an Ed25519 key that the database never holds, as a C2SP
checkpoint (c2sp.org/tlog-checkpoint) in a C2SP signed note
(c2sp.org/signed-note): the format Go's checksum database and Sigstore's
Rekor publish. Each checkpoint is appended to a log file outside the
database, with the leaf hashes it adds, so that the log alone can name the
first entry a rewritten database contradicts.

Before signing, the signer checks that the database's tree still has the
root it signed last time: a ledger rewritten behind its back (even with the
owner's rights, triggers disabled and every hash recomputed) is never
signed, and the refusal is logged as an error.

Settings: LEDGER_SIGNING_KEY (the key itself) or LEDGER_SIGNING_KEY_FILE (a
file holding it), LEDGER_CHECKPOINT_LOG (the log's path; "{database}" is
replaced by the database's name), LEDGER_ORIGIN (the checkpoint's first
line, also the key's name).
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection
from django.utils import timezone

from claims.ledger import tree, verifier
from claims.ledger.after_response import after_response

logger = logging.getLogger("claims.ledger")


class CheckpointRefused(Exception):
    """The database's ledger does not extend the last signed checkpoint."""


class CheckpointLogError(Exception):
    """The checkpoint log cannot be read as written."""


@dataclass(frozen=True)
class LoggedCheckpoint:
    size: int
    root: bytes
    leaves: tuple[bytes, ...]
    signed_at: str
    note: str

    @property
    def root_base64(self) -> str:
        return base64.b64encode(self.root).decode()

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.root_base64,
            "signed_at": self.signed_at,
            "leaves": [leaf.hex() for leaf in self.leaves],
            "checkpoint": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoggedCheckpoint:
        return cls(
            size=int(data["size"]),
            root=base64.b64decode(data["root"], validate=True),
            leaves=tuple(bytes.fromhex(leaf) for leaf in data["leaves"]),
            signed_at=data["signed_at"],
            note=data["checkpoint"],
        )


# --- Keys ---------------------------------------------------------------------------


def origin() -> str:
    return settings.LEDGER_ORIGIN


def signer_key() -> str | None:
    """The configured signing key (PRIVATE+KEY+...), or None when there is none."""
    if settings.LEDGER_SIGNING_KEY:
        return settings.LEDGER_SIGNING_KEY.strip()
    path = settings.LEDGER_SIGNING_KEY_FILE
    if path and Path(path).is_file():
        return Path(path).read_text().strip()
    return None


@lru_cache(maxsize=4)
def _signer(key: str) -> verifier.NoteSigner:
    return verifier.NoteSigner(key)


def signer() -> verifier.NoteSigner | None:
    key = signer_key()
    return _signer(key) if key else None


def verifier_key() -> str | None:
    """The public key that verifies the checkpoints (name+id+key), for anyone to use."""
    key = signer_key()
    return verifier.verifier_key_for(key) if key else None


def note_verifier(key: str | None = None) -> verifier.NoteVerifier | None:
    key = key or verifier_key()
    return verifier.NoteVerifier(key) if key else None


def create_signing_key(path: Path, name: str) -> str:
    """Write a new signing key to `path` (mode 0600); returns its verifier key."""
    skey, vkey = verifier.generate_key(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(skey + "\n")
    return vkey


# --- The log ------------------------------------------------------------------------


def log_path() -> Path:
    return Path(
        str(settings.LEDGER_CHECKPOINT_LOG).format(database=connection.settings_dict["NAME"])
    )


def read_log(path: Path | None = None) -> Iterator[LoggedCheckpoint]:
    """Every checkpoint in the log, oldest first (nothing if there is no log yet)."""
    path = path or log_path()
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield LoggedCheckpoint.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointLogError(f"{path}, line {number}: {exc}") from exc


def latest(path: Path | None = None) -> LoggedCheckpoint | None:
    """The newest checkpoint in the log, read from its end."""
    path = path or log_path()
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return _last_entry(handle, path)


def _last_entry(handle: BinaryIO, path: Path) -> LoggedCheckpoint | None:
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    block = 1 << 16
    tail = b""
    position = end
    while position > 0:
        # Read backwards a block at a time, each block ending where the last began.
        previous, position = position, max(0, position - block)
        handle.seek(position)
        tail = handle.read(previous - position) + tail
        lines = tail.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or position == 0:
            last = lines[-1]
            if not last.strip():
                return None
            try:
                return LoggedCheckpoint.from_json(json.loads(last))
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointLogError(f"{path}, last line: {exc}") from exc
    return None


def find(size: int, path: Path | None = None) -> LoggedCheckpoint | None:
    """The logged checkpoint of exactly `size` entries, if one was signed."""
    return next((entry for entry in read_log(path) if entry.size == size), None)


# --- Signing ------------------------------------------------------------------------


def sign_latest() -> LoggedCheckpoint | None:
    """Sign the ledger's current size and root, unless the log already has them.

    Returns the newest checkpoint, or None when no signing key is set.
    Raises CheckpointRefused, signing nothing, when the database's tree no
    longer has the root of the last checkpoint.
    """
    note_signer = signer()
    if note_signer is None:
        return None
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        # One signer at a time across processes, so sizes only grow in the log.
        fcntl.flock(handle, fcntl.LOCK_EX)
        previous = _last_entry(handle, path)
        size = tree.size()
        if previous is not None and size < previous.size:
            raise CheckpointRefused(
                f"the ledger has {size} entries, but checkpoint {previous.size} was signed "
                f"at {previous.signed_at}: entries were removed"
            )
        first_new = previous.size if previous else 0
        signed_root, root, leaves = _roots_and_leaves(first_new, size)
        if previous is not None:
            if signed_root != previous.root:
                raise CheckpointRefused(
                    f"the ledger's first {previous.size} entries no longer have the root signed "
                    f"at {previous.signed_at}: the ledger was rewritten; run verify_ledger"
                )
            if size == previous.size:
                return previous
        checkpoint = verifier.Checkpoint(origin=origin(), size=size, root_hash=root)
        entry = LoggedCheckpoint(
            size=size,
            root=root,
            leaves=leaves,
            signed_at=timezone.now().isoformat(),
            note=verifier.sign_checkpoint(checkpoint, note_signer),
        )
        handle.seek(0, os.SEEK_END)
        handle.write(json.dumps(entry.to_json(), separators=(",", ":")).encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
        return entry


def _roots_and_leaves(signed: int, size: int) -> tuple[bytes, bytes, tuple[bytes, ...]]:
    """The roots of the first `signed` and `size` entries and the leaf hashes between,
    from one read of the stored hashes they need (three reads cost more than signing)."""
    leaf_indexes = [verifier.stored_hash_index(0, n) for n in range(signed, size)]
    wanted: list[int] = []

    def note(indexes: list[int]) -> list[bytes]:
        wanted.extend(indexes)
        return [bytes(32)] * len(indexes)

    # A first pass with stand-in hashes only learns which stored hashes the roots need.
    verifier.tree_hash(signed, note)
    verifier.tree_hash(size, note)
    unique = list(dict.fromkeys(wanted + leaf_indexes))
    stored = dict(zip(unique, tree.read_hashes(unique), strict=True))

    def read(indexes: list[int]) -> list[bytes]:
        return [stored[index] for index in indexes]

    return (
        verifier.tree_hash(signed, read),
        verifier.tree_hash(size, read),
        tuple(read(leaf_indexes)),
    )


def sign_after_commit() -> None:
    """Run after a ledger write commits: a failure here must not fail the write's answer.

    A checkpoint is a witness over entries already committed, not part of their
    durability. Signing takes a lock on the log, a read of the tree, an Ed25519
    signature and an fsync, a fifth of a verdict's time: within a request it waits
    until the answer has been sent (claims.ledger.after_response), and one signature
    then covers every entry the request appended. A process killed in between leaves
    the entry unsigned until the next write or `manage.py sign_checkpoint`, whose
    checkpoint covers it: the log lags, it never skips (docs/ledger-format.md).
    """
    after_response(sign_now)


def sign_now() -> None:
    """Sign, logging (not raising) a refusal or a failure."""
    try:
        sign_latest()
    except CheckpointRefused as refusal:
        logger.error("Ledger checkpoint refused: %s", refusal)
    except Exception:
        logger.exception("Ledger checkpoint could not be signed")
