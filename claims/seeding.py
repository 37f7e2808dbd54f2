"""Loading the structured seed file (seeds/ledger.yaml) into the ledger.

Seeded claims are published at once, as not yet verified, so readers see
what the articles say and that nobody has checked it yet. The publication
is a ledger entry like any other, recorded by the `seed-loader` account (a
service account: it cannot log in).

The load is one transaction: any error (a quote not in its article, a
missing speaker, a bad value) leaves the database as it was. It only
creates: an object that already exists (same slug) is kept as it is, even
when it differs from the seed, because an editor may have corrected it and
nothing an editor recorded is overwritten. Such differences are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction

from claims.models import Appearance, Claim, Quote, Review, Speaker, Topic
from claims.services import add_appearance, anchor_quote, locate_quote, publish_claim
from claims.source_pipeline import process_source_text
from sources.models import Source

SEED_MODELS: tuple[type[models.Model], ...] = (
    Speaker,
    Topic,
    Source,
    Claim,
    Quote,
    Appearance,
    Review,
)
SEED_LOADER_USERNAME = "seed-loader"

ALLOWED_KEYS = {
    "speakers": {"slug", "name", "kind", "role", "affiliation", "aliases", "description"},
    "topics": {"slug", "name"},
    "sources": {"slug", "file", "title", "outlet", "author", "url", "published_on", "kind"},
    "claims": {
        "slug",
        "statement",
        "short_form",
        "speaker",
        "claim_date",
        "kind",
        "quantity",
        "unit",
        "quantity_qualifier",
        "media_type",
        "media_url",
        "media_archive_url",
        "media_original_url",
        "media_context",
        "topics",
        "appearances",
    },
    "appearances": {"source", "quote", "relay", "relayed_by"},
    "quote": {"words", "speaker", "kind", "context_before"},
}


class SeedError(Exception):
    """The seed file cannot be loaded; the message says where and why."""


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    kept_differing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def load_seed_file(
    path: Path, *, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
) -> SeedReport:
    """Load `path` atomically; `progress` wraps the claims loop (a progress bar)."""
    data = _read(path)
    counts_before = _counts()
    report = SeedReport()
    with transaction.atomic():
        speakers = {
            entry["slug"]: _ensure(Speaker, entry, f"speakers[{i}]", report)
            for i, entry in _entries(data, "speakers")
        }
        topics = {
            entry["slug"]: _ensure(Topic, entry, f"topics[{i}]", report)
            for i, entry in _entries(data, "topics")
        }
        sources = {
            entry["slug"]: _ensure_source(path.parent, entry, f"sources[{i}]", report)
            for i, entry in _entries(data, "sources")
        }
        for i, entry in progress(list(_entries(data, "claims"))):
            _load_claim(
                entry, f"claims[{i}] ({entry.get('slug')})", speakers, topics, sources, report
            )
    counts_after = _counts()
    report.created = {name: counts_after[name] - counts_before[name] for name in counts_after}
    return report


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"Cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping with speakers, topics, sources and claims")
    unknown = set(data) - {"speakers", "topics", "sources", "claims"}
    if unknown:
        raise SeedError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    return data


def _entries(data: dict, section: str):
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise SeedError(f"{section}: expected a list")
    for i, entry in enumerate(entries):
        where = f"{section}[{i}]"
        _check_keys(entry, section, where)
        if not entry.get("slug"):
            raise SeedError(f"{where}: 'slug' is required")
        yield i, entry


def _check_keys(entry: Any, kind: str, where: str) -> None:
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: expected a mapping, got {type(entry).__name__}")
    unknown = set(entry) - ALLOWED_KEYS[kind]
    if unknown:
        raise SeedError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(ALLOWED_KEYS[kind]))}"
        )


def _counts() -> dict[str, int]:
    return {
        str(model._meta.verbose_name_plural): model._default_manager.count()
        for model in SEED_MODELS
    }


def _ensure(model: type[models.Model], fields: dict, where: str, report: SeedReport, **extra):
    """Create the object with this slug, or keep the existing one and note differences."""
    fields = {**fields, **extra}
    existing = model._default_manager.filter(slug=fields["slug"]).first()
    if existing is None:
        obj = model(**fields)
        _validate(obj, where)
        obj.save()
        return obj
    differing = [name for name, value in fields.items() if _differs(getattr(existing, name), value)]
    if differing:
        report.kept_differing.append(
            f"{model._meta.verbose_name} {fields['slug']!r}: {', '.join(differing)} differ from "
            "the seed; the stored version is kept"
        )
    return existing


def _differs(stored: Any, seeded: Any) -> bool:
    if isinstance(stored, models.Model):
        return stored.pk != getattr(seeded, "pk", seeded)
    if isinstance(stored, Decimal) and seeded is not None:
        return stored != Decimal(str(seeded))
    return stored != seeded


def _validate(obj: models.Model, where: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
        raise SeedError(f"{where}: {problems}") from exc


def _ensure_source(folder: Path, entry: dict, where: str, report: SeedReport) -> Source:
    fields = dict(entry)
    file_name = fields.pop("file", None)
    if not file_name:
        raise SeedError(f"{where}: 'file' (the archived text, in {folder}) is required")
    try:
        # newline="" keeps the bytes' line endings: the snapshot's SHA-256 is the file's.
        with open(folder / file_name, encoding="utf-8", newline="") as handle:
            snapshot = handle.read()
    except OSError as exc:
        raise SeedError(f"{where}: cannot read {folder / file_name}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SeedError(f"{where}: {file_name} is not UTF-8 text ({exc})") from exc
    new = not Source.objects.filter(slug=fields.get("slug")).exists()
    source = _ensure(Source, fields, where, report, snapshot=snapshot)
    if new:
        process_source_text(source)
    return source


def _load_claim(entry, where, speakers, topics, sources, report) -> None:
    fields = dict(entry)
    appearances = fields.pop("appearances", None) or []
    topic_slugs = fields.pop("topics", None) or []
    fields["speaker"] = _lookup(speakers, Speaker, fields.get("speaker"), f"{where}: speaker")
    if fields.get("quantity") is not None:
        try:
            fields["quantity"] = Decimal(str(fields["quantity"]))
        except InvalidOperation:
            raise SeedError(f"{where}: quantity {fields['quantity']!r} is not a number") from None
    is_new = not Claim.objects.filter(slug=fields["slug"]).exists()
    claim = _ensure(Claim, fields, where, report)
    if is_new:
        claim.topics.set([_lookup(topics, Topic, slug, f"{where}: topic") for slug in topic_slugs])
    for number, appearance in enumerate(appearances):
        at = f"{where} appearance {number}"
        _check_keys(appearance, "appearances", at)
        source = _lookup(sources, Source, appearance.get("source"), f"{at}: source")
        quote = None
        if appearance.get("quote"):
            quote = _anchor(appearance["quote"], source, fields["speaker"], speakers, at, report)
        _ensure_appearance(claim, source, quote, appearance, at, report)
    if is_new:
        publish_claim(
            claim=claim,
            editor=seed_loader(),
            expected_version=claim.version,
            note="Published from the seed articles, not yet verified.",
        )


def seed_loader():
    """The service account that publishes seeded claims: an editor that cannot log in."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from claims.roles import EDITORS, sync_roles

    user, created = get_user_model().objects.get_or_create(
        username=SEED_LOADER_USERNAME,
        defaults={"first_name": "Seed", "last_name": "loader", "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        sync_roles()
        user.groups.add(Group.objects.get(name=EDITORS))
    return user


def _ensure_appearance(claim, source, quote, entry, where, report: SeedReport) -> None:
    """Record the appearance, or keep the one recorded already (an editor may have
    corrected how the source came by the claim) and note a different relay."""
    relay = str(entry.get("relay") or "")
    relayed_by = str(entry.get("relayed_by") or "")
    existing = Appearance.objects.filter(claim=claim, source=source, quote=quote).first()
    if existing is not None:
        if (existing.relay, existing.relayed_by) != (relay, relayed_by.strip()):
            report.kept_differing.append(
                f"appearance of claim {claim.slug!r} in source {source.slug!r}: relay, "
                "relayed_by differ from the seed; the stored version is kept"
            )
        return
    try:
        add_appearance(claim=claim, source=source, quote=quote, relay=relay, relayed_by=relayed_by)
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
        raise SeedError(f"{where}: {problems}") from exc


def _anchor(entry, source, claim_speaker, speakers, where, report: SeedReport) -> Quote:
    _check_keys(entry, "quote", f"{where} quote")
    speaker = claim_speaker
    if entry.get("speaker"):
        speaker = _lookup(speakers, Speaker, entry["speaker"], f"{where} quote: speaker")
    words = str(entry.get("words") or "")
    kept = _anchored_for_another(source, speaker, words, entry.get("context_before", ""))
    if kept is not None:
        report.kept_differing.append(
            f"quote {kept.exact!r} in source {source.slug!r}: speaker differs from the seed "
            f"({kept.speaker.slug!r} stored, {speaker.slug!r} seeded); the stored version is kept"
        )
        return kept
    try:
        quote, _created = anchor_quote(
            source=source,
            speaker=speaker,
            words=words,
            kind=entry.get("kind", Quote.Kind.DIRECT),
            context_before=entry.get("context_before", ""),
        )
    except ValidationError as exc:
        problems = " ".join(
            message for messages in exc.message_dict.values() for message in messages
        )
        raise SeedError(f"{where}: quote {words!r} in source {source.slug!r}: {problems}") from exc
    return quote


def _anchored_for_another(source, speaker, words: str, context_before: str) -> Quote | None:
    """The quote already anchored at these words for another speaker (an editor's
    attribution, or an earlier seed's), which a reload keeps; None otherwise, and
    when the words are not there (anchor_quote then says where they nearly are)."""
    try:
        anchor = locate_quote(source=source, words=words, context_before=context_before)
    except ValidationError:
        return None
    return (
        Quote.objects.select_related("speaker")
        .filter(source=source, start=anchor.start, end=anchor.end)
        .exclude(speaker=speaker)
        .first()
    )


def _lookup(loaded: dict, model: type[models.Model], slug: str | None, where: str):
    if not slug:
        raise SeedError(f"{where} is required")
    if slug in loaded:
        return loaded[slug]
    found = model._default_manager.filter(slug=slug).first()
    if found is None:
        raise SeedError(f"{where} {slug!r} is not defined in the seed file nor in the database")
    return found
