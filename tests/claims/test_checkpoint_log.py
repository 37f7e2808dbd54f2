"""Reading the newest checkpoint from the end of the log, whatever the length of its line."""

import json

import pytest

from claims.ledger import checkpoints
from claims.ledger.checkpoints import LoggedCheckpoint


def _checkpoint(size: int, new_leaves: int) -> LoggedCheckpoint:
    return LoggedCheckpoint(
        size=size,
        root=bytes([size % 256]) * 32,
        leaves=tuple(bytes([n % 256]) * 32 for n in range(new_leaves)),
        signed_at="2026-11-30T12:00:00+00:00",
        note=f"example.org/ledger\n{size}\n...\n",
    )


# A checkpoint's line holds the hashes of the leaves it adds, 66 bytes each: 2,000 of
# them make a line of some 130 KiB, longer than the blocks the log is read back in.
@pytest.mark.parametrize("new_leaves", [0, 3, 2_000, 5_000])
def test_the_latest_is_the_last_line_however_long(tmp_path, new_leaves):
    log = tmp_path / "checkpoints.jsonl"
    written = [_checkpoint(10, 10), _checkpoint(10 + new_leaves, new_leaves)]
    log.write_text("".join(json.dumps(entry.to_json()) + "\n" for entry in written))

    assert checkpoints.latest(log) == written[-1]
    assert list(checkpoints.read_log(log)) == written


def test_a_log_of_one_long_line(tmp_path):
    log = tmp_path / "checkpoints.jsonl"
    only = _checkpoint(3_000, 3_000)
    log.write_text(json.dumps(only.to_json()) + "\n")

    assert checkpoints.latest(log) == only
