"""The embedded server's list of the processes using it (`.handle_pids.json`):
a process that is gone is dropped from it, so that it never keeps the server
running (factcheck.db.server.prune_departed_users). No server is started here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from factcheck.db.server import USERS_FILE, prune_departed_users


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []

    def start(*, exited: bool = False, reaped: bool = True) -> int:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.append(proc)
        if exited:
            proc.kill()
            if reaped:
                proc.wait()
            else:  # a zombie: gone, but its parent has not collected it yet
                while _state(proc.pid) != "Z":
                    time.sleep(0.01)
        return proc.pid

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _state(pid: int) -> str:
    import psutil

    return "Z" if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE else "R"


def write_users(folder, pids, *, age: float = 0) -> None:
    path = folder / USERS_FILE
    path.write_text(json.dumps(pids))
    if age:
        written = time.time() - age
        os.utime(path, (written, written))


def read_users(folder) -> list[int]:
    return json.loads((folder / USERS_FILE).read_text())


def test_it_drops_processes_that_exited_or_are_zombies_and_keeps_the_live_ones(tmp_path, processes):
    live = processes()
    exited = processes(exited=True)
    zombie = processes(exited=True, reaped=False)
    write_users(tmp_path, [live, exited, os.getpid(), zombie])

    assert prune_departed_users(tmp_path) == [exited, zombie]
    assert read_users(tmp_path) == [live, os.getpid()]
    assert prune_departed_users(tmp_path) == []


def test_a_process_started_after_the_list_was_written_reuses_a_departed_ones_id(
    tmp_path, processes
):
    # Every listed process wrote the list when it joined, so it is older than the
    # list; a younger process under a listed id is a stranger that got the id.
    stranger = processes()
    write_users(tmp_path, [stranger], age=60)

    assert prune_departed_users(tmp_path) == [stranger]
    assert read_users(tmp_path) == []


def test_a_list_cut_short_by_a_crash_starts_again_empty(tmp_path):
    (tmp_path / USERS_FILE).write_text("[12, 3")

    assert prune_departed_users(tmp_path) == []
    assert read_users(tmp_path) == []


def test_no_list_yet_is_nothing_to_prune(tmp_path):
    assert prune_departed_users(tmp_path) == []
    assert not (tmp_path / USERS_FILE).exists()
