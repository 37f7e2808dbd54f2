"""The webhook worker: reads the ledger for events and sends them (docs/webhooks.md)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from claims.webhooks import worker


class Command(BaseCommand):
    help = (
        "Deliver webhooks: turn new ledger entries into deliveries for each subscription, "
        "then POST the due ones, signed, retrying failures with backoff. Runs until stopped "
        "(SIGTERM or SIGINT end it after the delivery in hand); --once does one round and "
        "exits. Several workers may run at once: they never take the same delivery.\n\n"
        "Example: python manage.py deliver_webhooks"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="One round (scan, send what is due), then exit."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds to wait when there was nothing to do (default: WEBHOOK_POLL_SECONDS).",
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="Deliveries sent per round at most."
        )

    def handle(self, *args, once: bool, interval: float | None, limit: int, **options):
        wait = settings.WEBHOOK_POLL_SECONDS if interval is None else interval
        if once:
            self._round(limit)
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, request_stop)
        self.stdout.write(f"Delivering webhooks (every {wait:g} s when idle); stop with Ctrl-C.")
        self.serve(stop, wait=wait, limit=limit)

    def serve(self, stop: threading.Event, *, wait: float, limit: int) -> None:
        """Rounds until `stop` is set, pausing `wait` seconds after a round with nothing
        left to do."""
        while not stop.is_set():
            close_old_connections()
            try:
                busy = self._round(limit)
            except DatabaseError as exc:
                # The database restarting is no reason to stop: try again after a pause.
                self.stderr.write(f"Database error, retrying: {exc}")
                busy = False
            if not busy:
                stop.wait(wait)

    def _round(self, limit: int) -> bool:
        created, sent = worker.run_once(limit=limit)
        delivered = sum(1 for item in sent if item.ok)
        if created or sent:
            self.stdout.write(
                f"{created} new deliveries; {len(sent)} sent, {delivered} delivered, "
                f"{len(sent) - delivered} to retry or failed."
            )
        return len(sent) >= limit
