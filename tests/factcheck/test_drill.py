"""The fault drill (`manage.py drill`, factcheck/drill.py): a short one for real,
and how it judges what happened."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from factcheck.drill import Ack, Findings, LedgerCheck, Request, Window
from tests.factcheck.embedded import PROJECT_ROOT, embedded_env, postmasters_in


@pytest.mark.slow
def test_a_short_drill_loses_no_acknowledged_write(short_dir):
    # On the embedded database, which the drill replaces with a scratch server
    # of its own (in TMPDIR, here the test's folder), whatever this run uses.
    env = embedded_env(short_dir / "not-used")
    env["TMPDIR"] = str(short_dir)

    result = subprocess.run(
        [sys.executable, "manage.py", "drill", "--seconds", "10", "--outage", "2"]
        + ["--readers", "2", "--writers", "2"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "database stopped" in out and "database started again" in out
    assert re.search(r"worker \d+ killed, replaced by \d+", out)
    acknowledged = int(re.search(r"Writes acknowledged \(201\): (\d+)", out)[1])
    assert acknowledged > 0
    assert f"found in the ledger: {acknowledged}; LOST: 0" in out
    during, as_503 = map(
        int, re.search(r"database outage: (\d+) \((\d+) of them 503", out).groups()
    )
    assert during > 0 and as_503 == during, "the outage was not seen, or not as 503"
    assert "OUTSIDE the outage windows: 0" in out
    assert re.search(r"Ledger: verified, \d+ entries", out)
    assert "Result: PASS" in out
    # The scratch server is stopped and its folder removed.
    assert postmasters_in(short_dir) == []
    assert not list(short_dir.glob("fc-drill-*"))


def request(started: float, status: int | None, *, kind: str = "read", retry: str = "5"):
    return Request(kind, "/api/v1/ledger/", started, started + 0.05, status, retry, "")


def findings(requests, *, lost=()) -> Findings:
    ledger = LedgerCheck(
        acknowledged=3,
        lost=list(lost),
        entries=3,
        verified=True,
        problems=[],
        checkpoint_size=3,
        caught_up_from=None,
    )
    windows = [Window("database", 10.0, 14.0), Window("worker", 30.0, 30.2)]
    return Findings(requests, windows, ledger)


def test_errors_count_against_the_fault_whose_window_they_overlap():
    judged = findings(
        [
            request(1.0, 200),
            request(10.5, 503),
            request(14.5, 503),  # within the grace after the database came back
            request(29.99, None),  # in flight on the worker when it was killed
            request(12.0, 412, kind="write"),  # a write that had committed unacknowledged
        ]
    )

    assert len(judged.in_database) == 2
    assert len(judged.in_worker) == 1
    assert judged.outside == judged.not_503 == judged.unexpected == []
    assert len(judged.stale) == 1
    assert judged.passed


@pytest.mark.parametrize(
    ("requests", "lost"),
    [
        ([request(20.0, 503)], ()),  # an error while nothing was wrong
        ([request(11.0, 500)], ()),  # the outage answered 500, not 503
        ([request(11.0, 503, retry="")], ()),  # 503 without Retry-After
        ([request(5.0, 404)], ()),  # a refusal no fault explains
        ([request(1.0, 201, kind="write")], [Ack("c", 2, "ab" * 32, 1.05)]),
    ],
)
def test_the_drill_fails_on_any_error_outside_a_fault_or_any_lost_write(requests, lost):
    assert not findings(requests, lost=lost).passed
