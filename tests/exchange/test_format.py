"""The file's shape, and what the export reads, on the test's own (uncommitted) data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command

from claims.exchange import export as exporting
from claims.exchange import format as fmt
from claims.exchange import restore as restoring
from claims.ledger import checkpoints
from tests.factories import CorrectionFactory, VerdictFactory

pytestmark = pytest.mark.django_db


def test_the_file_is_a_header_records_in_section_order_and_a_sealing_trailer(
    claim, editor, source, tmp_path: Path
):
    VerdictFactory(claim=claim, editor=editor, evidence=[source], note="Called the port.")
    CorrectionFactory(claim=claim.slug, editor=editor, changes={"unit": "kg"})
    path = tmp_path / "desk.jsonl"
    result = exporting.export(path)
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)

    header, records, trailer = fmt.loads(lines[0]), lines[1:-1], fmt.loads(lines[-1])
    assert (header["format"], header["version"]) == ("factcheck-desk-export", 1)
    assert header["sections"] == list(fmt.SECTION_NAMES)
    assert header["ledger"]["entries"] == 2 and header["ledger"]["tip_hash"]
    assert trailer == {
        "end": True,
        "records": len(records),
        "sha256": hashlib.sha256(b"".join(lines[:-1])).hexdigest(),
    }
    assert result.sha256 == trailer["sha256"] and result.counts == header["counts"]
    sections = [fmt.loads(line)["section"] for line in records]
    assert sections == sorted(sections, key=fmt.SECTION_NAMES.index)
    assert {name: sections.count(name) for name in fmt.SECTION_NAMES} == header["counts"]
    for line in lines:
        assert fmt.line(fmt.loads(line)) == line  # canonical: sorted keys, no spaces
    # Nothing in the file depends on when it was written.
    again = tmp_path / "again.jsonl"
    exporting.export(again)
    assert again.read_bytes() == data
    # It reads back whole (the checks a restore makes of the file alone).
    checked = restoring.check_file(path)
    assert checked.counts == header["counts"] and not checked.warnings


def test_an_empty_desk_round_trips(tmp_path: Path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    call_command("export", str(first), "--no-progress", verbosity=0)
    header = fmt.loads(first.read_bytes().splitlines()[0])
    assert header["ledger"]["entries"] == 0 and header["ledger"]["tip_hash"] is None

    # As the app's own role (the test's connection): the command would switch to the owner.
    restoring.restore(first)
    call_command("export", str(second), "--no-progress", verbosity=0)
    assert second.read_bytes() == first.read_bytes()


def test_checkpoints_signed_after_the_snapshot_are_left_out(claim, editor):
    VerdictFactory(claim=claim, editor=editor)
    checkpoints.sign_latest()
    VerdictFactory(claim=claim, editor=editor, status="true")
    checkpoints.sign_latest()
    assert [logged.size for logged in checkpoints.read_log()] == [1, 2]

    assert [logged.size for logged in exporting._logged_checkpoints(2)()] == [1, 2]
    # A snapshot taken before the second entry committed holds one entry.
    assert [logged.size for logged in exporting._logged_checkpoints(1)()] == [1]


def test_a_damaged_checkpoint_log_stops_the_export(claim, editor, tmp_path: Path):
    VerdictFactory(claim=claim, editor=editor)
    checkpoints.sign_latest()
    checkpoints.log_path().write_text("not json\n")
    path = tmp_path / "desk.jsonl"
    with pytest.raises(exporting.ExportError, match="the checkpoint log cannot be read"):
        exporting.export(path)
    assert not path.exists() and not list(tmp_path.glob(".desk.jsonl.*"))
