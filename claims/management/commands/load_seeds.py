from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from claims.seeding import SeedError, load_seed_file


class Command(BaseCommand):
    help = (
        "Load the seed claims, quotes, speakers and sources in one transaction. "
        "Idempotent: objects that exist are kept, and a second run changes nothing.\n\n"
        "Example: python manage.py load_seeds seeds/ledger.yaml"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            default=settings.SEEDS_DIR / "ledger.yaml",
            help="The seed file (default: seeds/ledger.yaml). Article files are read beside it.",
        )

    def handle(self, *args, path: Path, verbosity: int, **options):
        def progress(items):
            # tqdm draws only on a terminal (disable=None), so logs stay clean.
            return tqdm(items, desc="claims", unit="claim", disable=None if verbosity else True)

        try:
            report = load_seed_file(path, progress=progress)
        except SeedError as exc:
            raise CommandError(f"Seed load failed, nothing was written: {exc}") from exc

        for line in report.kept_differing:
            self.stdout.write(self.style.WARNING(f"kept: {line}"))
        if report.changed:
            created = ", ".join(f"{n} {name}" for name, n in report.created.items() if n)
            self.stdout.write(self.style.SUCCESS(f"Seeds loaded from {path}: created {created}."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Seeds from {path} already loaded: nothing changed.")
            )
