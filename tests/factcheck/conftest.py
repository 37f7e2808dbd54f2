from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psutil
import pytest

from tests.factcheck.embedded import postmasters_in


@pytest.fixture
def short_dir():
    """A fresh folder with a short path, removed (servers first) afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="fc-pg-", dir="/tmp")).resolve()
    yield folder
    # Only after a failed test can a server of ours still run here.
    for proc in postmasters_in(folder):
        proc.terminate()
    psutil.wait_procs(postmasters_in(folder), timeout=10)
    shutil.rmtree(folder, ignore_errors=True)
