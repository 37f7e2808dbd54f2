from django.core.management.base import BaseCommand, CommandError

from claims.ledger import checkpoints


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the ledger as it stands, unless the latest one already covers "
        "it. Every ledger write signs one by itself; this catches up after the key was first "
        "configured, or after a failure to sign. Refuses (exit 1) when the ledger does not "
        "extend the last signed checkpoint.\n\n"
        "Example: python manage.py sign_checkpoint"
    )

    def handle(self, *args, **options):
        try:
            latest = checkpoints.sign_latest()
        except checkpoints.CheckpointRefused as refusal:
            raise CommandError(f"Checkpoint refused: {refusal}") from refusal
        if latest is None:
            raise CommandError(
                "No signing key is configured: set LEDGER_SIGNING_KEY_FILE (see "
                "`manage.py ensure_signing_key`)."
            )
        self.stdout.write(
            f"Latest checkpoint: {latest.size} entries, root {latest.root_base64}, signed "
            f"{latest.signed_at}; log {checkpoints.log_path()}."
        )
