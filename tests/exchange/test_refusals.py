"""A damaged file, or a database that cannot take it, is refused before anything is written.

One desk is exported and the database emptied; then each damaged copy of the file
is offered to the empty database and refused with a message saying what is wrong,
and the database stays exactly as empty. The intact file then restores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from claims.exchange import format as fmt
from claims.exchange import restore as restoring
from claims.ledger import checkpoints, verifier
from claims.ledger.verification import verify_ledger
from tests.exchange.conftest import build_desk, empty_database, row_counts

pytestmark = pytest.mark.django_db(transaction=True)


def reseal(data: bytes, edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """Edit the header and record lines, then write a trailer that matches them: what
    someone who knows the format could do, so that the checks behind the checksum
    are what refuses the file."""
    lines = edit(data.splitlines(keepends=True)[:-1])
    payload = b"".join(lines)
    return payload + fmt.line(fmt.trailer(len(lines) - 1, hashlib.sha256(payload).hexdigest()))


def edit_record(section: str, change: Callable[[dict], None], *, nth: int = 0):
    """An edit of the nth record of a section, written back in canonical form."""

    def edit(lines: list[bytes]) -> list[bytes]:
        seen = 0
        for index, line in enumerate(lines):
            obj = fmt.loads(line)
            if obj.get("section") == section:
                if seen == nth:
                    change(obj["row"])
                    lines[index] = fmt.line(obj)
                    return lines
                seen += 1
        raise AssertionError(f"no record {nth} of {section}")

    return edit


def edit_header(change: Callable[[dict], None]):
    def edit(lines: list[bytes]) -> list[bytes]:
        header = fmt.loads(lines[0])
        change(header)
        lines[0] = fmt.line(header)
        return lines

    return edit


def flip_one_byte(data: bytes) -> bytes:
    at = data.index(b"Made-up claim number 2")
    return data[:at] + b"N" + data[at + 1 :]


def spaced(lines: list[bytes]) -> list[bytes]:
    lines[3] = json.dumps(json.loads(lines[3]), ensure_ascii=False).encode() + b"\n"
    return lines


def _set(key: str, value):
    return lambda row: row.__setitem__(key, value)


DAMAGES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("one edited byte", flip_one_byte, "checksum mismatch"),
    ("cut in the middle", lambda data: data[: len(data) // 2], "truncated or incomplete"),
    ("cut after a record", lambda data: data[: data.rindex(b"\n", 0, -1) + 1], "truncated"),
    ("empty", lambda data: b"", "not a desk export"),
    ("another format", lambda data: b'{"format":"other"}\n', "not a desk export"),
    (
        "a newer version",
        lambda data: reseal(data, edit_header(_set("version", 2))),
        "version 2 of the export format; this restore reads version 1 only",
    ),
    (
        "an older schema",
        lambda data: reseal(
            data, edit_header(lambda header: header["schema"].update(claims="0012_x"))
        ),
        "migrated to another point",
    ),
    (
        "an edited verdict, checksum recomputed",
        lambda data: reseal(data, edit_record("reviews", _set("explanation", "True after all."))),
        "does not match its hash",
    ),
    (
        "an entry left out, checksum recomputed",
        lambda data: reseal(
            data,
            lambda lines: [
                line
                for line in edit_header(
                    lambda h: h["counts"].update(reviews=h["counts"]["reviews"] - 1)
                )(lines)
                if b'"sequence":1,' not in line or b'"section":"reviews"' not in line
            ],
        ),
        "#1 was expected",
    ),
    (
        "an altered snapshot, checksum recomputed",
        lambda data: reseal(
            data, edit_record("sources", lambda row: row.update(snapshot=row["snapshot"] + "!"))
        ),
        "the snapshot was altered",
    ),
    (
        "a claim's status edited, checksum recomputed",
        lambda data: reseal(data, edit_record("claims", _set("status", "true"))),
        "but its ledger says",
    ),
    (
        "a claim's words edited behind its ledger, checksum recomputed",
        lambda data: reseal(data, edit_record("claims", _set("statement", "Something else."))),
        "not what its latest ledger entry committed to",
    ),
    (
        "a record naming what the file lacks, checksum recomputed",
        lambda data: reseal(data, edit_record("appearances", _set("source_id", 999))),
        "appearances.source_id is 999, which is not in sources",
    ),
    (
        "a quote not where its snapshot has it, checksum recomputed",
        lambda data: reseal(
            data, edit_record("quotes", lambda row: row.update(start=row["start"] + 1))
        ),
        "the database refused a row (quote anchor",
    ),
    (
        "a value of the wrong kind, checksum recomputed",
        lambda data: reseal(data, edit_record("claims", _set("created_at", "2024-05-01"))),
        "claims.created_at must be a time",
    ),
    (
        "a key missing, checksum recomputed",
        lambda data: reseal(data, edit_record("speakers", lambda row: row.pop("aliases"))),
        "missing aliases",
    ),
    (
        "spaces between the keys, checksum recomputed",
        lambda data: reseal(data, spaced),
        "canonical form",
    ),
    (
        "a checkpoint's leaf edited, checksum recomputed",
        lambda data: reseal(
            data, edit_record("checkpoints", lambda row: row["leaves"].__setitem__(0, "00" * 32))
        ),
        "the entries are not the ones it signed",
    ),
]


@pytest.fixture
def exported(tmp_path: Path) -> tuple[bytes, dict[str, int]]:
    """The desk's export, and the counts of the empty database it is offered to."""
    build_desk()
    path = tmp_path / "desk.jsonl"
    call_command("export", str(path), "--no-progress", verbosity=0)
    empty_database()
    checkpoints.log_path().unlink()
    return path.read_bytes(), row_counts()


def _refused(path: Path, match: str, empty: dict[str, int]) -> None:
    with pytest.raises(CommandError, match="Restore refused, nothing was written") as refusal:
        call_command("restore", str(path), "--no-progress", verbosity=0)
    assert match in str(refusal.value), str(refusal.value)
    assert row_counts() == empty
    assert not checkpoints.log_path().exists()


def test_damaged_files_are_refused_before_anything_is_written(exported, tmp_path: Path):
    data, empty = exported
    for name, damage, match in DAMAGES:
        damaged = tmp_path / f"{name}.jsonl"
        damaged.write_bytes(damage(data))
        try:
            _refused(damaged, match, empty)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc

    # The refusal by the database came after the counters' triggers were lifted: the
    # rollback put them back.
    assert _count_triggers() == {trigger: "O" for _table, trigger in restoring.COUNT_TRIGGERS}

    # The intact file restores, here as the app's own role (the command runs as the
    # owner): it only inserts, with every trigger on.
    intact = tmp_path / "intact.jsonl"
    intact.write_bytes(data)
    restoring.restore(intact)
    assert verify_ledger().ok


def _count_triggers() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname = ANY(%s)",
            [[trigger for _table, trigger in restoring.COUNT_TRIGGERS]],
        )
        return dict(cursor.fetchall())


def test_a_database_that_cannot_take_the_file_is_refused_before_anything_is_written(
    exported, tmp_path: Path, settings
):
    data, empty = exported
    path = tmp_path / "desk.jsonl"
    path.write_bytes(data)

    # Another ledger's checkpoint log where this one's would go.
    log = checkpoints.log_path()
    log.write_text('{"size":1}\n')
    _refused_with_log(path, "a checkpoint log is already at", empty)
    log.unlink()

    original_key = settings.LEDGER_SIGNING_KEY
    settings.LEDGER_SIGNING_KEY = verifier.generate_key(checkpoints.origin())[0]
    _refused(path, "the checkpoints were signed with the key", empty)
    settings.LEDGER_SIGNING_KEY = original_key

    original_origin = settings.LEDGER_ORIGIN
    settings.LEDGER_ORIGIN = "elsewhere.example.org/ledger"
    _refused(path, "set LEDGER_ORIGIN=", empty)
    settings.LEDGER_ORIGIN = original_origin

    # Without a signing key here, the restore may go ahead: it warns.
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = None
    checked = restoring.restore(path, check_only=True)
    assert any("no signing key is configured here" in w for w in checked.warnings)
    settings.LEDGER_SIGNING_KEY = original_key

    # --check reads everything and writes nothing.
    call_command("restore", str(path), "--check", "--no-progress", verbosity=0)
    assert row_counts() == empty and not log.exists()

    # This very ledger's log, already in place, is left as it is.
    log.write_bytes(restoring.log_lines(restoring.check_file(path)))
    result = restoring.restore(path)
    assert result.written and result.log_path is None
    assert verify_ledger().ok


def _refused_with_log(path: Path, match: str, empty: dict[str, int]) -> None:
    before = checkpoints.log_path().read_bytes()
    with pytest.raises(CommandError, match=match):
        call_command("restore", str(path), "--no-progress", verbosity=0)
    assert row_counts() == empty
    assert checkpoints.log_path().read_bytes() == before
