"""manage.py import_reviews: other fact-checkers' reviews, from files, folders or URLs."""

from __future__ import annotations

import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from claims.imports import formats
from claims.imports.load import Outcome, load
from claims.imports.records import ImportRefused
from claims.services import PUBLISH_PERMISSION

URL_TIMEOUT = 30
URL_MAX_BYTES = 20 * 1024 * 1024
# Created claims looked up for likely duplicates, per file (one query each).
DUPLICATES_CHECKED = 200


class Command(BaseCommand):
    help = (
        "Import other fact-checkers' reviews of claims: ClaimReview pages (.html), "
        "DataFeeds, Google claims:search answers, ClaimsKG CSV, LIAR, FactCellar, Snopes. "
        "Each file is one transaction: a refused file writes nothing, and says where and "
        "why. A second run changes nothing. docs/imports.md has the rules.\n\n"
        "Example: python manage.py import_reviews ../shared/data/liar --dry-run"
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files, folders (read recursively) or URLs.")
        parser.add_argument(
            "--format",
            choices=["auto", *sorted(formats.PARSERS)],
            default="auto",
            help="The files' format (default: guessed from each file's name and first bytes).",
        )
        parser.add_argument(
            "--publish-as",
            metavar="USERNAME",
            help="Publish the claims the import creates, as this editor (one ledger entry "
            "each), so that readers see them; by default they are drafts for the desk.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change, and write nothing.",
        )
        parser.add_argument(
            "--check-duplicates",
            type=int,
            default=DUPLICATES_CHECKED,
            metavar="N",
            help="Look up likely duplicates (claims already held, in other words) of the "
            f"first N claims each file creates, and report them (default {DUPLICATES_CHECKED}; "
            "0: none). Reported, never refused.",
        )

    def handle(self, *args: Any, paths: list[str], format: str, dry_run: bool, **options: Any):
        verbosity = options["verbosity"]
        publish_as = None
        if options["publish_as"]:
            publish_as = get_user_model().objects.filter(username=options["publish_as"]).first()
            if publish_as is None or not (
                publish_as.is_active and publish_as.has_perm(PUBLISH_PERMISSION)
            ):
                raise CommandError(
                    f"--publish-as: {options['publish_as']!r} is no active editor who may "
                    "publish claims; nothing was imported."
                )
        outcomes: list[tuple[Outcome, float]] = []
        refused: list[tuple[str, ImportRefused | str]] = []
        with tempfile.TemporaryDirectory(prefix="import-reviews-") as downloads:
            for path in self._files(paths, Path(downloads), refused):
                chosen = format if format != "auto" else formats.sniff(path)
                if chosen is None:
                    refused.append((str(path), "its format cannot be told; pass --format"))
                    continue
                started = time.perf_counter()
                try:
                    parsed = formats.PARSERS[chosen](path)
                except ImportRefused as refusal:
                    refused.append((f"{path} ({chosen})", refusal))
                    continue
                label = f"{chosen}:{path.name}"
                bar = tqdm(
                    total=len(parsed.reviews),
                    desc=path.name[:30],
                    unit="review",
                    disable=None if verbosity else True,
                )
                try:
                    with bar:
                        outcome = load(
                            parsed,
                            label=label,
                            dry_run=dry_run,
                            progress=bar.update,
                            publish_as=publish_as,
                            check_duplicates=options["check_duplicates"],
                        )
                except ImportRefused as refusal:
                    refused.append((f"{path} ({chosen})", refusal))
                    continue
                outcomes.append((outcome, time.perf_counter() - started))
        self._report(outcomes, refused, dry_run, verbosity)
        if refused:
            raise CommandError(
                f"{len(refused)} file(s) refused; nothing of them was written (above: where, why)."
            )

    def _files(self, paths: list[str], downloads: Path, refused: list) -> list[Path]:
        files: list[Path] = []
        for given in paths:
            if given.startswith(("http://", "https://")):
                try:
                    files.append(_download(given, downloads))
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    refused.append((given, f"cannot be fetched: {exc}"))
                continue
            path = Path(given)
            if path.is_dir():
                files.extend(
                    sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
                )
            elif path.is_file():
                files.append(path)
            else:
                refused.append((given, "no such file or folder"))
        return files

    def _report(self, outcomes, refused, dry_run: bool, verbosity: int) -> None:
        would = "would be " if dry_run else ""
        totals = Outcome(label="all")
        for outcome, seconds in outcomes:
            for name in (
                "reviews",
                "created_reviews",
                "updated_reviews",
                "unchanged_reviews",
                "kept_from_elsewhere",
                "created_claims",
                "matched_exact",
                "matched_similar",
                "created_speakers",
                "repeated_in_file",
            ):
                setattr(totals, name, getattr(totals, name) + getattr(outcome, name))
            rate = outcome.reviews / seconds if seconds else 0
            parts = [
                f"{outcome.label}: {outcome.reviews:,} reviews in {seconds:.1f} s ({rate:,.0f}/s)",
                f"reviews {would}created {outcome.created_reviews:,}, updated "
                f"{outcome.updated_reviews:,}, unchanged {outcome.unchanged_reviews:,}",
                f"claims {would}created {outcome.created_claims:,}, matched "
                f"{outcome.matched_exact:,} same wording + {outcome.matched_similar:,} similar",
                f"speakers {would}created {outcome.created_speakers:,}",
            ]
            if outcome.published_claims:
                parts.append(f"{outcome.published_claims:,} claims {would}published")
            if outcome.kept_from_elsewhere:
                parts.append(f"{outcome.kept_from_elsewhere:,} kept as another file gave them")
            if outcome.repeated_in_file:
                parts.append(f"{outcome.repeated_in_file:,} repeated in the file")
            if outcome.duplicates_checked:
                parts.append(
                    f"{len(outcome.likely_duplicates):,} created claim(s) likely repeat a held "
                    f"one (of {outcome.duplicates_checked:,} checked)"
                )
            self.stdout.write("; ".join(parts))
            for created, held, score in outcome.likely_duplicates[: 20 if verbosity > 1 else 5]:
                self.stdout.write(f"  likely duplicate: {created} of {held} (score {score:.2f})")
            if verbosity > 1:
                for note in outcome.notes:
                    self.stdout.write(f"  note: {note}")
            elif outcome.notes:
                self.stdout.write(f"  {len(outcome.notes)} note(s); -v 2 lists them")
        for where, why in refused:
            self.stderr.write(self.style.ERROR(f"REFUSED {where}:"))
            problems = why.problems if isinstance(why, ImportRefused) else [why]
            for problem in problems[:20]:
                self.stderr.write(f"  {problem}")
            if len(problems) > 20:
                self.stderr.write(f"  ... and {len(problems) - 20} more")
        summary = (
            f"{'Dry run: ' if dry_run else ''}{len(outcomes)} file(s) imported, "
            f"{len(refused)} refused. Reviews: {totals.reviews:,} read, "
            f"{totals.created_reviews:,} {would}created, {totals.updated_reviews:,} updated, "
            f"{totals.unchanged_reviews:,} unchanged. Claims: {totals.created_claims:,} "
            f"{would}created, {totals.matched_exact + totals.matched_similar:,} matched."
        )
        changed = any(outcome.changed for outcome, _ in outcomes)
        if not changed and outcomes:
            summary += " Nothing changed."
        self.stdout.write(self.style.SUCCESS(summary) if not refused else summary)


def _download(url: str, folder: Path) -> Path:
    """The page at `url`, saved under a name whose extension says its format."""
    request = urllib.request.Request(url, headers={"User-Agent": "factcheck-ledger importer"})
    with urllib.request.urlopen(request, timeout=URL_TIMEOUT) as response:  # noqa: S310
        body = response.read(URL_MAX_BYTES + 1)
        kind = response.headers.get_content_type()
    if len(body) > URL_MAX_BYTES:
        raise ValueError(f"larger than {URL_MAX_BYTES // (1024 * 1024)} MB")
    suffix = ".html" if "html" in kind else ".json" if "json" in kind else ".txt"
    name = "".join(c if c.isalnum() else "-" for c in url.split("://", 1)[-1])[:80]
    path = folder / f"{name}{suffix}"
    path.write_bytes(body)
    return path
