"""manage.py restore PATH: load an export into an empty database (docs/export-format.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from claims.exchange.restore import RestoreRefused, restore
from factcheck.db.roles import as_owner


class Command(BaseCommand):
    help = (
        "Load a file written by `manage.py export` into an empty, freshly migrated "
        "database, ids and ledger hashes as they were: `verify_ledger` then passes with "
        "the same hashes, and exporting again gives the same bytes. The whole file is "
        "checked first (checksum, version, every record, the ledger's hashes, tree and "
        "checkpoints, each claim against its ledger); a damaged file, or a database that "
        "is not empty, is refused before anything is written, and the restore itself is "
        "one transaction. Accounts come back without usable passwords.\n\n"
        "Example: python manage.py restore backups/desk.jsonl"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A file written by manage.py export.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Check the file and this database as a restore would, and write nothing.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bars on standard error."
        )

    def handle(self, *args: Any, path: str, check: bool, no_progress: bool, **options: Any):
        progress = not no_progress and options["verbosity"] > 0
        try:
            # As the owner of the tables, as `migrate` runs: the restore inserts only, and
            # the owner may also lift the published counters' row triggers for its
            # transaction (recounting once instead) and set the sequences.
            with as_owner():
                result = restore(Path(path), progress=progress, check_only=check)
        except RestoreRefused as refusal:
            raise CommandError(f"Restore refused, nothing was written: {refusal}") from refusal
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if options["verbosity"] == 0:
            return
        checked = result.checked
        ledger = checked.ledger
        records = sum(checked.counts.values())
        if not result.written:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Checked {path}: {records:,} records, a ledger of {ledger['entries']:,} "
                    f"entries that verifies; this database can take it. Nothing was written."
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {records:,} records from {path} in {result.seconds:.1f}s: ledger of "
                f"{ledger['entries']:,} entries, tip {ledger['tip_hash'] or '-'}."
            )
        )
        if result.log_path is not None:
            self.stdout.write(f"Checkpoint log written to {result.log_path}.")
        self.stdout.write(
            "Accounts have no usable password: set one with `manage.py changepassword "
            "<username>`. `manage.py verify_ledger` checks the restored ledger."
        )
