"""Send the CDN's purges that ledger writes left unsent (claims.cdn)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from claims.cdn import PurgeFailed, send_purges


class Command(BaseCommand):
    help = (
        "Purge from the CDN the pages of every ledger entry not purged yet (a purge sent "
        "after a write's answer failed, or the process was stopped first). --once sends "
        "what is due and exits; otherwise it keeps sending every --interval seconds.\n\n"
        "Example: python manage.py send_purges --once"
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=10.0, help="Seconds between rounds (default 10)."
        )

    def handle(self, *args, once: bool, interval: float, **options):
        if not settings.CDN_PURGE_URL:
            raise CommandError("CDN_PURGE_URL is not set: there is nowhere to send purges.")
        while True:
            try:
                covered = send_purges()
            except PurgeFailed as failure:
                if once:
                    raise CommandError(f"Purge not sent: {failure}") from failure
                self.stderr.write(f"Purge not sent, retrying in {interval:g} s: {failure}")
            else:
                if covered or once:
                    self.stdout.write(f"Purged the pages of {covered} ledger entries.")
            if once:
                return
            time.sleep(interval)
