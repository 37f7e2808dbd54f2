"""Every format the importer reads, by name, and the guess of a file's format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claims.imports import claimreview, datasets
from claims.imports.records import ParsedFile

PARSERS: dict[str, Callable[[Path], ParsedFile]] = {**claimreview.PARSERS, **datasets.PARSERS}


def sniff(path: Path) -> str | None:
    """The format of `path`, guessed from its name and first bytes; None if unknown."""
    return claimreview.sniff(path) or datasets.sniff(path)
