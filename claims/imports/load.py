"""Writing parsed reviews (claims.imports.records) into the desk's database.

One file is one transaction: either every review of it is written, or, when the
file was refused or anything fails, nothing of it is. For each review:

- **the review**: one per URL across every import. A URL already held is
  *unchanged* when the file says the same; *updated* when the same file (same
  format and name) now says otherwise, as a publisher's feed does when they
  revise a rating (their words replace the old ones; the claim it is attached
  to stays); *kept* when another file holds it in its own shape (a data set's
  copy of a publisher's page), so that importing both, again and again,
  changes nothing after the first time.
- **its claim**: the review joins an existing claim when the wording is the
  same up to case, spacing and punctuation (`factcheck_claim_key`, the same SQL
  function the index is built on), or, failing that, when it nearly matches:
  trigram similarity at least MATCH_SIMILARITY to a claim of the same claimant,
  with the very same numbers in both wordings (so "$25 million" never joins
  "$50 million"). Otherwise a new claim is created, a draft of kind
  "unclassified", said by the claimant.
- **its claimant**: the speaker of that name (case aside), or a new one;
  "Unnamed claimant" when the publisher names nobody.

`--dry-run` runs the same statements and rolls them back, so what it reports
is what a real run would do. docs/imports.md describes the rules for editors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify
from psycopg import sql

from claims import duplicates
from claims.imports.records import ImportedReview, ImportRefused, ParsedFile, Problem
from claims.language_detection import detect
from claims.languages import Language
from claims.models import STATEMENT_MAX, Claim, ClaimKind, ExternalReview, Speaker, SpeakerKind
from claims.services import publish_claim
from claims.slugs import free_slugs

# Trigram similarity (pg_trgm) from which two wordings are one claim, when their
# numbers agree. 0.85 joins rewordings such as a dropped article or a changed
# verb tense; it keeps apart claims that differ in a name or a negation.
MATCH_SIMILARITY = 0.85
UNNAMED_CLAIMANT = "Unnamed claimant"
# Claimants that are not people: posts, chain messages, viral media.
_NOT_A_PERSON = re.compile(
    r"\b(posts?|e-?mails?|chain|viral|images?|videos?|memes?|tweets?|users?|blogs?|"
    r"websites?|social media|bloggers|facebook|instagram|tiktok|whatsapp|twitter|youtube)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
BATCH = 2000
URL_MAX_LENGTH = ExternalReview._meta.get_field("url").max_length or 2000


@dataclass
class Outcome:
    """What importing one file did (or, in a dry run, would do)."""

    label: str
    reviews: int = 0
    repeated_in_file: int = 0
    created_reviews: int = 0
    updated_reviews: int = 0
    unchanged_reviews: int = 0
    kept_from_elsewhere: int = 0
    created_claims: int = 0
    matched_exact: int = 0
    matched_similar: int = 0
    created_speakers: int = 0
    published_claims: int = 0
    notes: list[str] = field(default_factory=list)
    # Claims the file's reviews joined rather than created.
    matched_ids: set[int] = field(default_factory=set)
    # Created claims that likely repeat a claim held before (claims.duplicates), as
    # (created slug, held slug, score), of the `duplicates_checked` first created.
    likely_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    duplicates_checked: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created_reviews or self.updated_reviews or self.created_claims)


class _DryRun(Exception):
    """Raised inside the file's transaction to roll a dry run back."""


def load(
    parsed: ParsedFile,
    *,
    label: str,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    publish_as: User | None = None,
    check_duplicates: int = 0,
) -> Outcome:
    """Write one file's reviews in one transaction (rolled back when `dry_run`).
    ImportRefused, before anything is written, for what the database cannot hold.
    With `check_duplicates`, that many of the claims it creates, at most, are looked
    up for likely duplicates among the claims held before (`_report_duplicates`)."""
    too_long = [
        Problem(review.where, "url", f"longer than {URL_MAX_LENGTH} characters")
        for review in parsed.reviews
        if len(review.review_url) > URL_MAX_LENGTH
    ] + [
        Problem(
            review.where,
            "claim",
            f"{len(review.claim_text):,} characters, longer than a claim's statement may be "
            f"({STATEMENT_MAX:,})",
        )
        for review in parsed.reviews
        if len(review.claim_text) > STATEMENT_MAX
    ]
    if too_long:
        raise ImportRefused(too_long)
    outcome = Outcome(label=label, notes=list(parsed.notes))
    try:
        with transaction.atomic():
            created = _load(parsed.reviews, outcome, label, progress or (lambda done: None))
            if check_duplicates:
                _report_duplicates(created, outcome, check_duplicates)
            if publish_as is not None:
                # Through the ledger, as an editor publishes: readers see the claims
                # (with "Also checked by"), each publication an entry of its own.
                for claim in Claim.objects.filter(pk__in=created).order_by("pk"):
                    publish_claim(claim=claim, editor=publish_as, expected_version=claim.version)
                outcome.published_claims = len(created)
            if dry_run:
                # What the commit would check (the deferred foreign keys, the readers'
                # stamps), checked now: a dry run reports what a real run would do,
                # including its failure, and costs what it costs.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                raise _DryRun
    except _DryRun:
        pass
    return outcome


def _load(
    reviews: list[ImportedReview],
    outcome: Outcome,
    label: str,
    progress: Callable[[int], object],
) -> list[int]:
    """Write the reviews; the ids of the claims it created."""
    outcome.reviews = len(reviews)
    unique: dict[str, ImportedReview] = {}
    for review in reviews:
        if review.review_url in unique:
            outcome.repeated_in_file += 1
        unique[review.review_url] = review  # the last word of the file wins
    incoming = list(unique.values())

    held = _existing_reviews([r.review_url for r in incoming])
    fresh = [r for r in incoming if r.review_url not in held]
    _update_held([r for r in incoming if r.review_url in held], held, outcome, label)
    progress(len(incoming) - len(fresh))

    claims = _claims_for(fresh, outcome)
    rows = [
        {
            "claim_id": claims[review.review_url],
            "url": review.review_url,
            "imported_from": label,
            **_review_fields(review),
        }
        for review in fresh
    ]
    for start in range(0, len(rows), BATCH):
        copy_rows(ExternalReview, rows[start : start + BATCH])
        progress(len(rows[start : start + BATCH]))
    outcome.created_reviews = len(rows)
    return sorted({claims[review.review_url] for review in fresh} - outcome.matched_ids)


def _report_duplicates(created: list[int], outcome: Outcome, most: int) -> None:
    """Likely duplicates (claims.duplicates) of the first `most` claims created, among
    the claims held before: reported in the summary, not refused. The import already
    joins the same wording and near rewordings by the same claimant (above); what is
    left may still repeat a claim in other words or by another claimant, and an
    imported claim is a draft the desk reads, so it is told rather than stopped. One
    query per claim checked, so at most `most` (the import of 12,836 LIAR rows makes
    that many: checking them all would take longer than the import itself)."""
    fresh = set(created)
    checked = (
        Claim.objects.filter(pk__in=created[:most])
        .order_by("pk")
        .values_list("slug", "statement", "language")
    )
    for slug, statement, language in checked:
        found = [
            match
            for match in duplicates.likely_duplicates(statement, language=language)
            if match.claim.pk not in fresh
        ]
        if found:
            outcome.likely_duplicates.append((slug, found[0].claim.slug, found[0].score))
    outcome.duplicates_checked = len(checked)


def _review_fields(review: ImportedReview) -> dict[str, Any]:
    return {
        "publisher_name": review.publisher_name,
        "publisher_site": review.publisher_site,
        "date_published": review.date_published,
        "claim_text": review.claim_text,
        "claimant": review.claimant,
        "rating_text": review.rating_text,
        "rating_value": review.rating_value,
        "best_rating": review.best_rating,
        "worst_rating": review.worst_rating,
        "language": review.language,
        "appearances": list(review.appearances),
        "extra": dict(review.extra),
    }


def _existing_reviews(urls: list[str]) -> dict[str, ExternalReview]:
    held: dict[str, ExternalReview] = {}
    # `= ANY(array)`, one parameter, rather than url__in's placeholder per URL: the
    # client spent longer splitting that statement than the server answering it.
    table = ExternalReview._meta.db_table
    for start in range(0, len(urls), BATCH):
        found = ExternalReview.objects.raw(
            f"SELECT * FROM {table} WHERE url = ANY(%s)",  # noqa: S608 (the model's table)
            [urls[start : start + BATCH]],
        )
        for review in found:
            held[review.url] = review
    return held


def _update_held(
    reviews: list[ImportedReview],
    held: dict[str, ExternalReview],
    outcome: Outcome,
    label: str,
) -> None:
    changed = []
    for review in reviews:
        stored = held[review.review_url]
        fields = _review_fields(review)
        if all(getattr(stored, name) == value for name, value in fields.items()):
            outcome.unchanged_reviews += 1
            continue
        if stored.imported_from != label:
            # Another file holds this review too, in its own shape (a data set's copy of
            # a publisher's page): the first import stands, or every run of both files
            # would undo the other's.
            outcome.kept_from_elsewhere += 1
            continue
        for name, value in fields.items():
            setattr(stored, name, value)
        stored.imported_from = label
        changed.append(stored)
    if changed:
        ExternalReview.objects.bulk_update(
            changed, [*_review_fields(reviews[0]), "imported_from", "updated_at"], batch_size=BATCH
        )
    outcome.updated_reviews = len(changed)


# --- Which claim each new review is about -------------------------------------------


def _claims_for(reviews: list[ImportedReview], outcome: Outcome) -> dict[str, int]:
    """Review URL -> claim id, matching existing claims or creating new ones."""
    if not reviews:
        return {}
    keys, by_key = _claim_keys([r.claim_text for r in reviews])
    found: dict[str, int] = {}
    unmatched: list[tuple[ImportedReview, str]] = []
    for review, key in zip(reviews, keys, strict=True):
        if key in by_key:
            found[review.review_url] = by_key[key]
            outcome.matched_ids.add(by_key[key])
            outcome.matched_exact += 1
        else:
            unmatched.append((review, key))

    # Near matches among existing claims, for each wording not seen exactly.
    firsts: dict[str, ImportedReview] = {}
    for review, key in unmatched:
        firsts.setdefault(key, review)
    similar = _similar_claims(list(firsts.items()))
    # What still has no claim gets one per key: a file's repeats share it.
    to_create = {key: review for key, review in firsts.items() if key not in similar}
    created = _create_claims(list(to_create.items()), outcome)
    outcome.created_claims = len(created)
    for review, key in unmatched:
        if key in similar:
            found[review.review_url] = similar[key]
            outcome.matched_ids.add(similar[key])
            outcome.matched_similar += 1
        else:
            found[review.review_url] = created[key]
            if review is not to_create[key]:
                outcome.matched_exact += 1  # a repeat, within the file, of a claim it created
    return found


def _claim_keys(texts: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """Each wording's key (factcheck_claim_key), and the claims already holding those
    keys: key -> the oldest such claim (before imports, a desk may have held twins)."""
    keys: list[str] = []
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(texts), BATCH):
            # One probe of the key index per wording, as a subquery: a plan of its own
            # for `key = ANY(keys)` may scan the table, computing every claim's key.
            cursor.execute(
                """
                SELECT k.key, (SELECT c.id FROM claims_claim c
                                WHERE factcheck_claim_key(c.statement) = k.key
                                ORDER BY c.id LIMIT 1)
                  FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)
                 CROSS JOIN LATERAL (SELECT factcheck_claim_key(u.t) AS key) AS k
                 ORDER BY u.n
                """,
                [list(texts[start : start + BATCH])],
            )
            for key, claim_id in cursor.fetchall():
                keys.append(key)
                if claim_id is not None:
                    found[key] = claim_id
    return keys, found


def _numbers(text: str) -> list[str]:
    return sorted(number.replace(",", "") for number in _NUMBER.findall(text))


def _similar_claims(wordings: list[tuple[str, ImportedReview]]) -> dict[str, int]:
    """Key -> the most similar existing claim of the same claimant, when similar enough
    and with the same numbers. Compared within a claimant's claims only: a trigram
    index probe over the whole table costs seconds per wording once a few thousand
    claims share its common trigrams, and the same words from another claimant are
    matched only when they are the same wording (the exact key)."""
    speakers = _existing_speakers([review.claimant for _key, review in wordings])
    # Nobody named is nobody in particular: their claims are matched by wording only.
    speakers.pop(UNNAMED_CLAIMANT.lower(), None)
    candidates = [
        (key, review, speakers[_claimant_name(review.claimant).lower()])
        for key, review in wordings
        if _claimant_name(review.claimant).lower() in speakers
    ]
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        # `%` (pg_trgm) at the same threshold, so that the planner may take the trigram
        # index where a claimant has many claims.
        cursor.execute("SELECT set_limit(%s)", [MATCH_SIMILARITY])
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            cursor.execute(
                """
                SELECT u.n, best.id, best.statement
                  FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY AS u(t, speaker, n)
                  CROSS JOIN LATERAL (
                      SELECT c.id, c.statement, similarity(c.statement, u.t) AS score
                        FROM claims_claim c
                       WHERE c.speaker_id = u.speaker
                         AND c.statement %% u.t
                         AND similarity(c.statement, u.t) >= %s
                       ORDER BY score DESC, c.id
                       LIMIT 3
                  ) AS best
                 ORDER BY u.n, best.score DESC
                """,
                [
                    [review.claim_text for _key, review, _speaker in batch],
                    [speaker for _key, _review, speaker in batch],
                    MATCH_SIMILARITY,
                ],
            )
            for number, claim_id, statement in cursor.fetchall():
                key, review, _speaker = batch[number - 1]
                if key not in found and _numbers(statement) == _numbers(review.claim_text):
                    found[key] = claim_id
    return found


def _create_claims(wordings: list[tuple[str, ImportedReview]], outcome: Outcome) -> dict[str, int]:
    if not wordings:
        return {}
    speakers = _speakers_for([review.claimant for _key, review in wordings], outcome)
    slugs = _unique_slugs([review for _key, review in wordings])
    claims = [
        {
            "statement": review.claim_text,
            "slug": slug,
            "speaker_id": speakers[_claimant_name(review.claimant).lower()],
            "claim_date": review.claim_date,
            "kind": ClaimKind.UNCLASSIFIED.value,
            "language": _claim_language(review),
        }
        for (_key, review), slug in zip(wordings, slugs, strict=True)
    ]
    ids = copy_rows(Claim, claims, with_ids=True)
    return {key: pk for (key, _review), pk in zip(wordings, ids, strict=True)}


def _claim_language(review: ImportedReview) -> str:
    """The language of the claim as the review words it. COPY skips Claim.save, whose
    rule this is: the publisher's word first (the review's language, which its wording
    of the claim is in), detected only when the review gives none: detecting each of
    LIAR's 12,836 statements would add eight seconds to its import."""
    given = review.language.split("-")[0].lower()
    if given:
        return given if given in Language.values else ""
    return detect(review.claim_text)


def copy_rows(
    model: type[Model], rows: Sequence[dict[str, Any]], *, with_ids: bool = False
) -> list[int]:
    """Insert rows of `model`, given as {attname: value}, with COPY: the values Django
    would store for them (each field's database value; the fields a row leaves out take
    their defaults, and auto_now fields the moment of the call, as bulk_create fills
    them), without building model instances or one INSERT of every value: for ten
    thousand claims those cost more than the database's work. The table's triggers run
    as for any INSERT. `with_ids`: the ids are taken from the table's sequence first
    (one query) and returned in the rows' order."""
    if not rows:
        return []
    meta = model._meta
    database = connections[DEFAULT_DB_ALIAS]
    ids: list[int] = []
    if with_ids:
        with database.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
    fields = [
        field
        for field in meta.concrete_fields
        if not field.generated and (with_ids or field is not meta.pk)
    ]
    now = timezone.now()
    # Per field: the value of a row that leaves it out (already the database's), and
    # the types whose values it stores unchanged (None too), None when any may convert.
    plan: list[tuple[str, Any, tuple[type, ...] | None]] = []
    for column in fields:
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            missing = column.get_db_prep_save(now, database)
        elif column.primary_key:
            missing = None
        else:
            missing = column.get_db_prep_save(column.get_default(), database)
        plan.append((column.attname, missing, _stores_as_is(column)))
    by_name = {column.attname: column for column in fields}
    unknown = {name for row in rows for name in row} - by_name.keys() - {meta.pk.attname}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    columns = [sql.Identifier(str(field.column)) for field in fields]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(columns)
    )
    with database.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for number, given in enumerate(rows):
            row = []
            for name, missing, as_is in plan:
                if name not in given:
                    row.append(ids[number] if with_ids and name == meta.pk.attname else missing)
                    continue
                value = given[name]
                if value is None or (as_is is not None and type(value) in as_is):
                    row.append(value)
                else:
                    row.append(by_name[name].get_db_prep_save(value, database))
            copy.write_row(row)
    return ids


# What a field's database value is when its Python value is of these types (or None):
# the value itself. Exact classes: a subclass (an email, JSON or array field) may
# convert. A naive datetime is not listed: Django makes it aware, with a warning.
_STORED_AS_IS: dict[type, tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.SlugField: (str,),
    models.URLField: (str,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.AutoField: (int,),
    models.BigAutoField: (int,),
    models.BooleanField: (bool,),
    models.DateField: (date,),
    models.DecimalField: (),
}


def _stores_as_is(field: Any) -> tuple[type, ...] | None:
    """The types whose values `field` stores unchanged (None too), or None if unknown."""
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return _STORED_AS_IS.get(type(field))


def _claimant_name(claimant: str) -> str:
    return " ".join(claimant.split())[:200] or UNNAMED_CLAIMANT


def _speakers_for(claimants: Iterable[str], outcome: Outcome) -> dict[str, int]:
    """Lower-cased name -> speaker id, creating the speakers nobody has recorded yet."""
    names = {_claimant_name(c).lower(): _claimant_name(c) for c in claimants}
    found = _existing_speakers(names.values())
    missing = [name for lowered, name in names.items() if lowered not in found]
    if missing:
        slugs = free_slugs(Speaker, [slugify(name)[:100] or "speaker" for name in missing])
        speakers = [
            {
                "name": name,
                "slug": slug,
                "kind": (
                    SpeakerKind.OTHER
                    if name == UNNAMED_CLAIMANT or _NOT_A_PERSON.search(name)
                    else SpeakerKind.PERSON
                ).value,
            }
            for name, slug in zip(missing, slugs, strict=True)
        ]
        ids = copy_rows(Speaker, speakers, with_ids=True)
        for speaker, pk in zip(speakers, ids, strict=True):
            found[speaker["name"].lower()] = pk
        outcome.created_speakers = len(speakers)
    return found


def _existing_speakers(claimants: Iterable[str]) -> dict[str, int]:
    """Lower-cased name -> id of the speakers already recorded under these names, as
    PostgreSQL's lower() compares them (the oldest speaker of a name wins)."""
    names = sorted({_claimant_name(c).lower() for c in claimants})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (lower(name)) lower(name), id FROM claims_speaker "
            "WHERE lower(name) = ANY(%s) ORDER BY lower(name), id",
            [names],
        )
        return dict(cursor.fetchall())


def _unique_slugs(reviews: list[ImportedReview]) -> list[str]:
    # The wording's first words, then a digest of the review URL: readable, and
    # the same for the same review whichever run imports it.
    wanted = []
    for review in reviews:
        words = slugify(review.claim_text)[:80].rstrip("-") or "claim"
        digest = hashlib.sha256(review.review_url.encode()).hexdigest()[:8]
        wanted.append(f"{words}-{digest}")
    return free_slugs(Claim, wanted)
