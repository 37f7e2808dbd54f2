from django.core.management.base import BaseCommand, CommandError

from claims.ledger.verification import verify_ledger


class Command(BaseCommand):
    help = (
        "Re-walk the review ledger's hash chain and check every claim's status against it. "
        "Exits non-zero naming the first entry that does not verify.\n\n"
        "Example: python manage.py verify_ledger"
    )

    def handle(self, *args, **options):
        report = verify_ledger()
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Ledger does NOT verify: {len(report.problems)} problem(s); "
                f"{report.entries} entries verified before the first."
            )
        if report.last is None:
            self.stdout.write(self.style.SUCCESS("Ledger verified: no entries yet."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Ledger verified: {report.entries} entries, last #{report.last.sequence} "
                    f"at {report.last.created_at:%Y-%m-%d %H:%M:%S %Z}, hash {report.last.entry_hash}."
                )
            )
