from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from claims.ledger import checkpoints, verifier


class Command(BaseCommand):
    help = (
        "Make sure the ledger has a checkpoint signing key: create the key file if there is "
        "none, and print the public (verifier) key anyone checks the checkpoints with. The key "
        "is an Ed25519 key in the C2SP signed-note format; the database never holds it.\n\n"
        "Examples:\n"
        "  python manage.py ensure_signing_key                 # the configured file\n"
        "  python manage.py ensure_signing_key --file /etc/factcheck/ledger-key"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", help="Where to keep the key (default: LEDGER_SIGNING_KEY_FILE)."
        )

    def handle(self, *args, **options):
        if settings.LEDGER_SIGNING_KEY and not options["file"]:
            self.stdout.write(
                f"Ledger signing key: from LEDGER_SIGNING_KEY. Verifier key: {checkpoints.verifier_key()}"
            )
            return
        path = Path(options["file"] or settings.LEDGER_SIGNING_KEY_FILE or "")
        if not str(path) or str(path) == ".":
            raise CommandError(
                "No key file configured: set LEDGER_SIGNING_KEY_FILE, or give --file PATH."
            )
        if path.exists():
            vkey = verifier.verifier_key_for(path.read_text().strip())
            self.stdout.write(f"Ledger signing key: {path}. Verifier key: {vkey}")
            return
        vkey = checkpoints.create_signing_key(path, checkpoints.origin())
        kind = "Development signing key" if settings.DEBUG else "Signing key"
        self.stdout.write(
            f"{kind} for the ledger's checkpoints created in {path} (mode 600; keep it out of "
            f"the database, of backups shared with it, and of git).\n    Verifier key: {vkey}"
        )
