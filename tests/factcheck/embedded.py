"""Embedded PostgreSQL servers in throw-away data folders, for tests that start
them for real in processes of their own (settings and the server handle are
per process). The folders are short, under /tmp, because the server's Unix
socket lives in the data folder and socket paths are limited to about 100
characters. None of this touches the test database of this run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def embedded_env(pgdata: Path | str, name: str = "factcheck") -> dict[str, str]:
    """The environment of a process of the project on the embedded server in `pgdata`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_OWNER_URL", "SECRET_KEY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="factcheck.settings",
        DEBUG="true",
        EMBEDDED_PGDATA=str(pgdata),
        EMBEDDED_DATABASE_NAME=name,
    )
    return env


def postmasters_in(folder: Path) -> list[psutil.Process]:
    """Live `postgres` processes whose command line names a path inside `folder`."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.info["name"] != "postgres" or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(str(folder) in arg for arg in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def wait_until_no_postmaster(folder: Path, seconds: float = 10) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := postmasters_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
