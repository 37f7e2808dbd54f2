"""manage.py scan_repeats: look for repeats of published verdicts in sources already
stored (a verdict is often published after the repeats appeared)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from claims.repeats import scan_source
from sources.models import Source


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since: {value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Look for passages repeating the claims the desk has published a verdict on, in "
        "sources already stored, and suggest them to the desk as appearances (the admin's "
        "Repeats to review). New sources are scanned when they are added; run this after "
        "publishing verdicts, for the sources that came before them. Each source is one "
        "transaction; a passage already suggested, accepted or dismissed is not suggested "
        "again.\n\n"
        "Example: python manage.py scan_repeats --since 2026-01-01"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            action="append",
            default=[],
            metavar="SLUG",
            help="Scan this source (repeat the option for several).",
        )
        parser.add_argument("--all", action="store_true", help="Scan every source.")
        parser.add_argument(
            "--since",
            type=_day,
            metavar="DATE",
            help="Scan the sources archived here on or after DATE (YYYY-MM-DD).",
        )

    def handle(self, *args: Any, source: list[str], since: date | None, **options: Any):
        if not (source or since or options["all"]):
            raise CommandError("Say which sources: --source SLUG, --since DATE or --all.")
        sources = Source.objects.all()
        if source:
            sources = sources.filter(slug__in=source)
            missing = sorted(set(source) - set(sources.values_list("slug", flat=True)))
            if missing:
                raise CommandError(f"No source with the slug {', '.join(missing)}.")
        if since:
            sources = sources.filter(
                retrieved_at__gte=timezone.make_aware(datetime.combine(since, time.min))
            )
        ids = list(sources.order_by("pk").values_list("pk", flat=True))
        suggested = 0
        # tqdm draws only on a terminal (disable=None), so logs stay clean.
        bar = tqdm(
            ids, desc="sources", unit="source", disable=None if options["verbosity"] else True
        )
        with bar:
            for pk in bar:
                # One source's text at a time: a report can be megabytes.
                scanned = Source.objects.only("pk", "snapshot", "language").get(pk=pk)
                suggested += len(scan_source(scanned))
        self.stdout.write(
            self.style.SUCCESS(
                f"Scanned {len(ids)} source{'s' if len(ids) != 1 else ''}: "
                f"{suggested} repeat{'s' if suggested != 1 else ''} suggested."
            )
        )
