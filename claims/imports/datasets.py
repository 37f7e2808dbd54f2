"""Parsers for public fact-check research data sets, read into `ImportedReview` records.

- LIAR (Wang 2017): PolitiFact statements, one tab-separated line each.
- FactCellar: PolitiFact 2021-2024, `{issue: {rating: [entry, ...]}}` JSON, and its
  flat CSV with one row per fact-check URL.
- Snopes (CS598GW): one JSON array per rating, and the re-escaped CSV of them all.

Each parser reads the whole file and either returns its records or refuses the file
with `ImportRefused` listing its problems (up to `MAX_PROBLEMS`), so that a file is
imported whole or not at all; the only rows passed over are those that say nothing to
import, each with a note (a repeated row, a Snopes story with no claim). Nothing here
repairs a file. The quirks each parser survives are tested, on hand-written files, in
tests/imports/test_dataset_formats.py.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from claims.imports.records import ImportedReview, ImportRefused, ParsedFile, Problem, file_head

# Past this many problems a file is plainly not in the format: more would only bury
# the first ones, which usually say what is wrong.
MAX_PROBLEMS = 50

POLITIFACT = "PolitiFact"
POLITIFACT_SITE = "https://www.politifact.com"
SNOPES = "Snopes"
SNOPES_SITE = "https://www.snopes.com"

ONE = Decimal(1)
SIX = Decimal(6)
FIVE = Decimal(5)

# The Truth-O-Meter, worst to best, in PolitiFact's own words; its URL slugs (as
# LIAR's labels are) name the same six. "barely-true" is the slug of "Mostly False".
TRUTH_O_METER = ("Pants on Fire!", "False", "Mostly False", "Half True", "Mostly True", "True")
TRUTH_O_METER_SLUGS = ("pants-fire", "false", "barely-true", "half-true", "mostly-true", "true")
_WORDS_BY_SLUG = dict(zip(TRUTH_O_METER_SLUGS, TRUTH_O_METER, strict=True))
_VALUE_BY_SLUG = {slug: Decimal(value) for value, slug in enumerate(TRUTH_O_METER_SLUGS, 1)}


def _rating_key(words: str) -> str:
    return " ".join(words.casefold().replace("-", " ").split()).strip("!. ")


# "Pants on Fire!", "pants-fire", "barely-true" and "Mostly False" all find their place.
_TRUTH_O_METER_VALUES = {
    _rating_key(text): Decimal(value)
    for value, texts in enumerate(zip(TRUTH_O_METER, TRUTH_O_METER_SLUGS, strict=True), 1)
    for text in texts
}

# Snopes's truth ratings, worst to best. Its other ratings (legend, scam, outdated,
# miscaptioned, misattributed, correct-attribution...) say what a story is, not how
# true: they are kept as words, with no number.
SNOPES_TRUTH_SCALE = ("false", "mostly-false", "mixture", "mostly-true", "true")
_SNOPES_VALUES = {slug: Decimal(value) for value, slug in enumerate(SNOPES_TRUTH_SCALE, 1)}

LIAR_COLUMNS = (
    "id",
    "label",
    "statement",
    "subjects",
    "speaker",
    "job",
    "state",
    "party",
    "barely_true_count",
    "false_count",
    "half_true_count",
    "mostly_true_count",
    "pants_on_fire_count",
    "context",
)
_LIAR_ID = re.compile(r"[0-9]+\.json")

# LIAR names speakers by their PolitiFact slug. These few stand for a kind of post
# rather than for someone, and read as PolitiFact writes them; every other slug is
# a person's or an organisation's name, read in title case (see speaker_display_name).
PSEUDO_SPEAKERS = {
    "chain-email": "Chain email",
    "facebook-posts": "Facebook posts",
    "instagram-posts": "Instagram posts",
    "blog-posting": "Blog posting",
    "viral-image": "Viral image",
    "social-media": "Social media",
    "tweets": "Tweets",
}

FACTCELLAR_FIELDS = (
    "author_name",
    "author_url",
    "date_of_statement",
    "statement_text",
    "statement_url",
    "fact_checker_name",
    "fact_check_date",
)
FACTCELLAR_CSV_COLUMNS = (*FACTCELLAR_FIELDS, "rating", "issues")
SNOPES_REQUIRED = ("url", "evaluation", "statement")
SNOPES_OPTIONAL = ("title", "subtitle", "author", "post_author", "date_posted")
SNOPES_FIELDS = (*SNOPES_REQUIRED, *SNOPES_OPTIONAL)

# Not calendar.month_name, which follows the locale: the data sets are in English.
_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        1,
    )
}
# FactCellar writes "August 25, 2024", Snopes "23 June 2020".
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+) ([0-9]{1,2}), ([0-9]{4})")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")


class _Problems:
    """A file's problems so far; refuses the file as soon as there are too many."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, field_name: str, why: str) -> None:
        self.problems.append(Problem(where, field_name, why))
        if len(self.problems) >= MAX_PROBLEMS:
            raise ImportRefused(self.problems)

    def refuse_if_any(self) -> None:
        if self.problems:
            raise ImportRefused(self.problems)


# Records carry text with its whitespace collapsed (records.ImportedReview): the data
# sets have doubled spaces, no-break spaces and line breaks inside statements.
def _collapsed(text: str) -> str:
    return " ".join(text.split())


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportRefused(
            [Problem(path.name, "", f"cannot be read: {error.strerror}")]
        ) from error
    try:
        # Newlines are left as they are: each format decides what ends a record.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            [Problem(f"{path.name}, line {line}", "", f"not UTF-8 ({error.reason})")]
        ) from error


def _english_date(text: str) -> date | None:
    """'August 25, 2024' or '23 June 2020'; None when empty; ValueError otherwise."""
    text = _collapsed(text)
    if not text:
        return None
    if match := _MONTH_DAY_YEAR.fullmatch(text):
        month_name, day, year = match.groups()
    elif match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month_name, year = match.groups()
    else:
        raise ValueError(f"{text!r} is not a date like 'August 25, 2024' or '23 June 2020'")
    month = _MONTHS.get(month_name.casefold())
    if month is None:
        raise ValueError(f"{text!r}: no month is called {month_name!r}")
    try:
        return date(int(year), month, int(day))
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from error


def _checked_date(text: str, where: str, field_name: str, problems: _Problems) -> date | None:
    try:
        return _english_date(text)
    except ValueError as error:
        problems.add(where, field_name, str(error))
        return None


def _is_web_address(text: str) -> bool:
    return text.startswith(("https://", "http://")) and " " not in text


def _text_fields(
    item: dict[str, object],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    where: str,
    problems: _Problems,
) -> dict[str, str] | None:
    """The item's text fields, an absent optional one as ""; None after any problem."""
    fields: dict[str, str] = {}
    for key in (*required, *optional):
        value = item.get(key, "" if key in optional else None)
        if isinstance(value, str):
            fields[key] = value
        else:
            problems.add(where, key, "missing" if key not in item else "not text")
    return fields if len(fields) == len(required) + len(optional) else None


@dataclass
class _OneReviewPerUrl:
    """Keeps the first review of each URL. A later one that says the same is left out
    with a note; one that says otherwise is a problem, as no row can be trusted over
    the other."""

    problems: _Problems
    notes: list[str] = field(default_factory=list)
    reviews: dict[str, ImportedReview] = field(default_factory=dict)

    def add(self, review: ImportedReview) -> None:
        first = self.reviews.get(review.review_url)
        if first is None:
            self.reviews[review.review_url] = review
        elif _same_review(first, review):
            self.notes.append(f"{review.where}: repeats {first.where}, left out")
        else:
            self.problems.add(
                review.where,
                "review_url",
                f"{review.review_url} is also at {first.where}, which says otherwise",
            )

    def parsed(self) -> ParsedFile:
        self.problems.refuse_if_any()
        return ParsedFile(reviews=list(self.reviews.values()), notes=self.notes)


def _same_review(first: ImportedReview, other: ImportedReview) -> bool:
    return _comparable(first) == _comparable(other)


def _comparable(review: ImportedReview) -> tuple[object, ...]:
    # FactCellar lists a fact-check once per issue, and the listings differ in nothing else.
    extra = {key: value for key, value in review.extra.items() if key != "issues"}
    return (
        review.claim_text,
        review.claimant,
        review.rating_text,
        review.rating_value,
        review.date_published,
        review.claim_date,
        sorted(extra.items()),
    )


# LIAR -------------------------------------------------------------------------


# A few thousand speakers make tens of thousands of lines.
@functools.lru_cache(maxsize=8192)
def speaker_display_name(slug: str) -> str:
    """A LIAR speaker slug as a name: "barack-obama" -> "Barack Obama",
    "chain-email" -> "Chain email" (PSEUDO_SPEAKERS).

    Each word of the slug gets a capital; a word that already has one ("GaGOP",
    "AARP") is kept as written. The slug cannot say more: PolitiFact stripped the
    apostrophes ("lawrence-odonnell" -> "Lawrence Odonnell"), so records keep the
    slug in extra["speaker_slug"] as well.
    """
    if slug in PSEUDO_SPEAKERS:
        return PSEUDO_SPEAKERS[slug]
    words = [word for word in re.split(r"[-_\s]+", slug) if word]
    return " ".join(
        word if any(char.isupper() for char in word) else word[:1].upper() + word[1:]
        for word in words
    )


def parse_liar(path: Path) -> ParsedFile:
    """LIAR's train.tsv, valid.tsv or test.tsv: one review per line.

    The review URL is the URN urn:liar:<number> from the line's id ("2635.json"):
    LIAR gives no URL, and a URN invents no address while keeping one review per
    LIAR statement, so importing the file again finds the same reviews.
    """
    text = _read_text(path)
    problems = _Problems()
    reviews = _OneReviewPerUrl(problems)
    # LIAR has no quoting at all: a statement may begin with '"' and never close it,
    # so the line is cut on tabs as it is. Lines end at "\n" alone, not at the other
    # characters str.splitlines() would also break on.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, raw_line in enumerate(lines, 1):
        line = raw_line.removesuffix("\r")
        where = f"{path.name}, line {number}"
        if not line.strip():
            reviews.notes.append(f"{where}: blank, left out")
            continue
        cells = line.split("\t")
        if len(cells) != len(LIAR_COLUMNS):
            problems.add(
                where,
                "columns",
                f"{len(cells)} tab-separated columns, where LIAR has {len(LIAR_COLUMNS)}",
            )
            continue
        review = _liar_review(where, cells, problems)
        if review is not None:
            reviews.add(review)
    return reviews.parsed()


def _liar_review(where: str, cells: list[str], problems: _Problems) -> ImportedReview | None:
    liar_id, label, statement, subjects, slug, job, state, party = cells[:8]
    context = cells[13]
    problem_count = len(problems.problems)
    liar_id = liar_id.strip()
    if not _LIAR_ID.fullmatch(liar_id):
        problems.add(where, "id", f"{liar_id!r} is not a LIAR id such as '2635.json'")
    label = label.strip()
    if label not in _WORDS_BY_SLUG:
        problems.add(where, "label", f"{label!r} is not one of {', '.join(TRUTH_O_METER_SLUGS)}")
    claim_text = _collapsed(statement)
    if not claim_text:
        problems.add(where, "statement", "empty")
    if len(problems.problems) > problem_count:
        return None
    slug = slug.strip()
    extra = {
        "subjects": subjects.strip(),
        "speaker_slug": slug,
        "job": _collapsed(job),
        "state": _collapsed(state),
        # "none" is LIAR's word for an unknown party, not a party.
        "party": "" if party.strip() == "none" else party.strip(),
        "context": _collapsed(context),
    }
    return ImportedReview(
        where=where,
        claim_text=claim_text,
        claimant=speaker_display_name(slug),
        review_url=f"urn:liar:{liar_id.removesuffix('.json')}",
        publisher_name=POLITIFACT,
        publisher_site=POLITIFACT_SITE,
        rating_text=_WORDS_BY_SLUG[label],
        rating_value=_VALUE_BY_SLUG[label],
        best_rating=SIX,
        worst_rating=ONE,
        language="en",
        extra={key: value for key, value in extra.items() if value},
    )


# FactCellar -------------------------------------------------------------------


def politifact_rating(rating: str) -> tuple[str, Decimal | None]:
    """The rating's words and its place on the Truth-O-Meter (1 to 6), or None for
    PolitiFact's other meters ("Full Flop"). A slug becomes PolitiFact's words."""
    rating = _collapsed(rating)
    words = _WORDS_BY_SLUG.get(rating, rating)
    return words, _TRUTH_O_METER_VALUES.get(_rating_key(rating))


def _factcellar_review(
    where: str, entry: Mapping[str, str], rating: str, issues: list[str], problems: _Problems
) -> ImportedReview | None:
    problem_count = len(problems.problems)
    url = entry["statement_url"].strip()
    if not _is_web_address(url):
        problems.add(where, "statement_url", f"{url!r} is not a web address")
    # The statement keeps its own quote marks, curly or straight: they are the
    # publisher's way of saying the words are the speaker's own.
    claim_text = _collapsed(entry["statement_text"])
    if not claim_text:
        problems.add(where, "statement_text", "empty")
    rating_text, rating_value = politifact_rating(rating)
    if not rating_text:
        problems.add(where, "rating", "empty")
    claim_date = _checked_date(entry["date_of_statement"], where, "date_of_statement", problems)
    published = _checked_date(entry["fact_check_date"], where, "fact_check_date", problems)
    if len(problems.problems) > problem_count:
        return None
    extra = {
        "issues": ",".join(sorted({issue.strip() for issue in issues if issue.strip()})),
        "speaker_url": entry["author_url"].strip(),
        "fact_checker": _collapsed(entry["fact_checker_name"]),
    }
    return ImportedReview(
        where=where,
        claim_text=claim_text,
        # Pseudo-speakers ("Facebook posts", "Viral image") are PolitiFact's claimants.
        claimant=_collapsed(entry["author_name"]),
        review_url=url,
        publisher_name=POLITIFACT,
        publisher_site=POLITIFACT_SITE,
        rating_text=rating_text,
        rating_value=rating_value,
        best_rating=SIX if rating_value is not None else None,
        worst_rating=ONE if rating_value is not None else None,
        date_published=published,
        claim_date=claim_date,
        language="en",
        extra={key: value for key, value in extra.items() if value},
    )


def _factcellar_entries(
    data: object, name: str, problems: _Problems
) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(where, issue, rating, entry) for each well-formed entry; problems for the rest."""
    if not isinstance(data, dict):
        problems.add(name, "", "the top level is not an object of issues")
        return
    for issue, ratings in data.items():
        if not isinstance(ratings, dict):
            problems.add(f"{name}, {issue}", "", "not an object of ratings")
            continue
        for rating, entries in ratings.items():
            if not isinstance(entries, list):
                problems.add(f"{name}, {issue}/{rating}", "", "not a list of entries")
                continue
            for index, entry in enumerate(entries):
                where = f"{name}, {issue}/{rating}[{index}]"
                if not isinstance(entry, dict):
                    problems.add(where, "", "not an object")
                    continue
                fields = _text_fields(entry, FACTCELLAR_FIELDS, (), where, problems)
                if fields is not None:
                    yield where, issue, rating, fields


def parse_factcellar(path: Path) -> ParsedFile:
    """FactCellar's claims_by_issue.json: one review per fact-check URL, with every
    issue that lists it in extra["issues"] (sorted, comma-joined)."""
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRefused([_json_problem(path, error)]) from error
    problems = _Problems()
    # The same fact-check is listed under each of its issues: gather them first.
    listings: dict[str, list[tuple[str, str, str, dict[str, str]]]] = {}
    for where, issue, rating, entry in _factcellar_entries(data, path.name, problems):
        listings.setdefault(entry["statement_url"].strip(), []).append(
            (where, issue, rating, entry)
        )
    reviews = _OneReviewPerUrl(problems)
    for url, (first, *others) in listings.items():
        where, _, rating, entry = first
        issues = [issue for _, issue, _, _ in listings[url]]
        review = _factcellar_review(where, entry, rating, issues, problems)
        if review is None:
            continue
        for other_where, _, other_rating, other_entry in others:
            # Every listing must say what the first says; only the issue may differ.
            other = _factcellar_review(other_where, other_entry, other_rating, [], problems)
            if other is not None and not _same_review(review, other):
                problems.add(
                    other_where, "statement_url", f"{url} is also at {where}, which says otherwise"
                )
        reviews.add(review)
    return reviews.parsed()


def _csv_records(
    path: Path, required: tuple[str, ...], problems: _Problems
) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, row) for each CSV record, by column name, with the line it starts on."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        problems.add(path.name, "", "empty: no header line")
        return
    except csv.Error as error:
        problems.add(f"{path.name}, line 1", "", f"not CSV: {error}")
        return
    missing = [column for column in required if column not in header]
    if missing:
        problems.add(f"{path.name}, line 1", "", f"no column {', '.join(missing)}")
        return
    start = reader.line_num + 1
    while True:
        where = f"{path.name}, line {start}"
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(where, "", f"not CSV: {error}")
            return
        start = reader.line_num + 1
        if not cells:
            continue
        if len(cells) != len(header):
            problems.add(
                where, "columns", f"{len(cells)} columns, where the header has {len(header)}"
            )
            continue
        yield where, dict(zip(header, cells, strict=True))


def parse_factcellar_csv(path: Path) -> ParsedFile:
    """FactCellar's flat CSV (_derived_claims_flat_dedup.csv): one row per fact-check
    URL, its issues joined with ";"."""
    problems = _Problems()
    reviews = _OneReviewPerUrl(problems)
    for where, row in _csv_records(path, FACTCELLAR_CSV_COLUMNS, problems):
        issues = row["issues"].split(";")
        review = _factcellar_review(where, row, row["rating"], issues, problems)
        if review is not None:
            reviews.add(review)
    return reviews.parsed()


# Snopes -----------------------------------------------------------------------


def _json_problem(path: Path, error: json.JSONDecodeError) -> Problem:
    return Problem(f"{path.name}, line {error.lineno}, column {error.colno}", "", error.msg)


def _snopes_review(
    where: str, item: Mapping[str, str], problems: _Problems, notes: list[str]
) -> ImportedReview | None:
    problem_count = len(problems.problems)
    url = item["url"].strip()
    if not _is_web_address(url):
        problems.add(where, "url", f"{url!r} is not a web address")
    rating_text = _collapsed(item["evaluation"])
    if not rating_text:
        problems.add(where, "evaluation", "empty")
    published = _checked_date(item.get("date_posted", ""), where, "date_posted", problems)
    if len(problems.problems) > problem_count:
        return None
    claim_text = _collapsed(item["statement"])
    if not claim_text:
        # Some Snopes pages state no claim; their headline is a question about it,
        # not the claim, so the review is passed over rather than given one.
        notes.append(f"{where}: no statement, left out")
        return None
    rating_value = _SNOPES_VALUES.get(rating_text)
    extra = {
        "title": _collapsed(item.get("title", "")),
        "subtitle": _collapsed(item.get("subtitle", "")),
        # Snopes's "author" wrote the fact-check; nobody is named for the claim.
        "fact_checker": _collapsed(item.get("author", "")),
        "post_author": _collapsed(item.get("post_author", "")),
    }
    return ImportedReview(
        where=where,
        claim_text=claim_text,
        claimant="",
        review_url=url,
        publisher_name=SNOPES,
        publisher_site=SNOPES_SITE,
        rating_text=rating_text,
        rating_value=rating_value,
        best_rating=FIVE if rating_value is not None else None,
        worst_rating=ONE if rating_value is not None else None,
        date_published=published,
        language="en",
        extra={key: value for key, value in extra.items() if value},
    )


def parse_snopes(path: Path) -> ParsedFile:
    """A Snopes file of the CS598GW set: a JSON array of stories of one rating.

    Every original file is invalid JSON (inner quotes left unescaped) and is refused
    at the decoder's line and column: guessing which quote was meant would put words
    in the publisher's mouth. The same array written as valid JSON is imported.
    """
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRefused([_json_problem(path, error)]) from error
    problems = _Problems()
    reviews = _OneReviewPerUrl(problems)
    if not isinstance(data, list):
        problems.add(path.name, "", "the top level is not an array of stories")
        data = []
    for index, item in enumerate(data):
        where = f"{path.name}, [{index}]"
        if not isinstance(item, dict):
            problems.add(where, "", "not an object")
            continue
        fields = _text_fields(item, SNOPES_REQUIRED, SNOPES_OPTIONAL, where, problems)
        if fields is None:
            continue
        review = _snopes_review(where, fields, problems, reviews.notes)
        if review is not None:
            reviews.add(review)
    return reviews.parsed()


def parse_snopes_csv(path: Path) -> ParsedFile:
    """The re-escaped CSV of every Snopes story (_derived_all_repaired.csv), with the
    JSON files' keys as columns."""
    problems = _Problems()
    reviews = _OneReviewPerUrl(problems)
    for where, row in _csv_records(path, SNOPES_REQUIRED, problems):
        review = _snopes_review(where, row, problems, reviews.notes)
        if review is not None:
            reviews.add(review)
    return reviews.parsed()


# Choosing a parser --------------------------------------------------------------

PARSERS: dict[str, Callable[[Path], ParsedFile]] = {
    "liar": parse_liar,
    "factcellar": parse_factcellar,
    "factcellar-csv": parse_factcellar_csv,
    "snopes": parse_snopes,
    "snopes-csv": parse_snopes_csv,
}

# {"issue": {"Rating": [ ...
_FACTCELLAR_OPENING = re.compile(r'\{\s*"[^"]*"\s*:\s*\{\s*"[^"]*"\s*:\s*\[')
# [{"url": ..., "evaluation": ...
_SNOPES_OPENING = re.compile(r'\[\s*\{[^{}]*"evaluation"\s*:')


def sniff(path: Path) -> str | None:
    """The PARSERS key for the file's format, guessed from its first bytes; None when
    it looks like none of them.

    JSON is judged by its opening alone, so an original Snopes file, which no JSON
    decoder reads, still goes to parse_snopes to be refused with the place it breaks.
    """
    text = file_head(path)
    if text is None:
        return None
    opening = text.lstrip()
    if opening.startswith("{"):
        return "factcellar" if _FACTCELLAR_OPENING.match(opening) else None
    if opening.startswith("["):
        return "snopes" if _SNOPES_OPENING.match(opening) else None
    first_line = text.split("\n", 1)[0].removesuffix("\r")
    if first_line.count("\t") == len(LIAR_COLUMNS) - 1:
        return "liar"
    try:
        header = {column.strip() for column in next(csv.reader([first_line]))}
    except (csv.Error, StopIteration):
        return None
    if header.issuperset(FACTCELLAR_CSV_COLUMNS):
        return "factcellar-csv"
    if header.issuperset(SNOPES_FIELDS):
        return "snopes-csv"
    return None
