"""manage.py export PATH: everything the desk holds, in one file (docs/export-format.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from claims.exchange.export import ExportError, ExportResult, export
from claims.exchange.restore import RestoreRefused, check_file


class Command(BaseCommand):
    help = (
        "Write everything the desk holds to one file: accounts' public names and roles, "
        "speakers, topics, sources with their snapshots, claims, quotes, appearances, other "
        "fact-checkers' reviews, rating words, the review ledger with its Merkle tree and "
        "signed checkpoint log, and the edit history. Never passwords, e-mail addresses or "
        "API tokens. One consistent snapshot; the same data always gives the same bytes. "
        "`manage.py restore` loads it into an empty database. docs/export-format.md "
        "specifies the format.\n\n"
        "Example: python manage.py export backups/desk.jsonl"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write (replaced once complete).")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Then read the file back and check it as a restore would (its checksum, "
            "every record, the ledger's hashes, tree and checkpoints).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bars on standard error."
        )

    def handle(self, *args: Any, path: str, verify: bool, no_progress: bool, **options: Any):
        target = Path(path)
        if target.is_dir():
            raise CommandError(f"{target} is a directory: give the file to write.")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} does not exist.")
        progress = not no_progress and options["verbosity"] > 0
        try:
            result = export(target, progress=progress)
        except (ExportError, OSError) as exc:
            raise CommandError(f"Export failed, nothing was written: {exc}") from exc
        ledger = result.ledger
        records = sum(result.counts.values())
        if options["verbosity"] > 0:
            self._report(result, ledger, records, options["verbosity"])
        if ledger["verifier_key"] is None and result.counts["checkpoints"]:
            self.stderr.write(
                self.style.WARNING(
                    "Warning: no signing key is configured, so the file names no verifier "
                    "key: a restore cannot check the checkpoints' signatures."
                )
            )
        if verify:
            try:
                checked = check_file(result.path, progress=progress)
            except RestoreRefused as refusal:
                raise CommandError(f"The file written does not check: {refusal}") from refusal
            for warning in checked.warnings:
                self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
            if options["verbosity"] > 0:
                self.stdout.write(self.style.SUCCESS("Checked: the file reads back whole."))

    def _report(
        self, result: ExportResult, ledger: dict[str, Any], records: int, verbosity: int
    ) -> None:
        self.stdout.write(
            f"Exported {records:,} records to {result.path} ({result.size:,} bytes, "
            f"sha256 {result.sha256}) in {result.seconds:.1f}s."
        )
        if verbosity > 1:
            for name, count in result.counts.items():
                self.stdout.write(f"  {name}: {count:,}")
        self.stdout.write(
            f"Ledger: {ledger['entries']:,} entries, tip {ledger['tip_hash'] or '-'}, "
            f"root {ledger['root']}; {result.counts['checkpoints']:,} signed checkpoint(s)."
        )
