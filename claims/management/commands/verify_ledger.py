from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claims.ledger.verification import verify_ledger


class Command(BaseCommand):
    help = (
        "Re-walk the review ledger: recompute every entry's hashes, check each link of the "
        "chain, rebuild its Merkle tree and compare it with the stored tree and with every "
        "signed checkpoint (the checkpoint log, and each --checkpoint given), then check every "
        "claim's status and words against its ledger. Exits non-zero naming the first entry "
        "that does not verify.\n\n"
        "Examples:\n"
        "  python manage.py verify_ledger\n"
        "  python manage.py verify_ledger --checkpoint saved-checkpoint.txt "
        "--key 'example.org/ledger+1a2b3c4d+AbC...'"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="A signed checkpoint (C2SP note) kept outside this server; repeatable.",
        )
        parser.add_argument(
            "--key",
            help="The verifier key of the checkpoints (default: the configured signing key's).",
        )

    def handle(self, *args, **options):
        given = []
        for name in options["checkpoint"]:
            try:
                given.append((name, Path(name).read_text()))
            except OSError as exc:
                raise CommandError(f"Cannot read checkpoint {name}: {exc.strerror}") from exc
        report = verify_ledger(extra_checkpoints=given, key=options["key"])
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Ledger does NOT verify: {len(report.problems)} problem(s); "
                f"{report.entries} entries verified before the first."
            )
        if report.last is None:
            self.stdout.write(self.style.SUCCESS("Ledger verified: no entries yet."))
            return
        checked = (
            f"; {report.checkpoints_checked} signed checkpoint(s) agree"
            if report.checkpoints_checked
            else "; no signed checkpoint covers it yet"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger verified: {report.entries} entries, last #{report.last.sequence} "
                f"at {report.last.created_at:%Y-%m-%d %H:%M:%S %Z}, hash "
                f"{report.last.entry_hash}{checked}."
            )
        )
