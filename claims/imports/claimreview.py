"""Parsers for other fact-checkers' published ClaimReview data, into `ImportedReview`s.

Four shapes the web publishes ClaimReview in, one `parse_*` function each (and
`PARSERS` by name, `sniff` to guess which one a file needs):

- `parse_html`: a fact-check article page, read the way a crawler reads it:
  every `<script type="application/ld+json">` block, every ClaimReview in
  them (top level, in a list, in `@graph`, under `mainEntity` or `review`).
- `parse_datafeed`: a schema.org DataFeed of DataFeedItems (Google's and
  Data Commons' ClaimReview feeds), a list of items, one item, or items
  written back to back.
- `parse_factcheck_search`: Google Fact Check Tools `claims:search` responses.
- `parse_claimskg_csv` / `parse_claimskg_json`: the ClaimsKG extractor's CSV,
  and the GESIS ClaimsKG SPARQL endpoint's records.

Each either returns every record of its file, with notes on what it passed
over (an ld+json block that is not JSON, a deleted feed item, a date it could
not read), or raises `ImportRefused` naming every record and field it could
not import, so that nothing of that file is written. The parsers read files
only: deduplication and matching belong to the loader.

Field rules the formats share:
- Text (the claim, names, rating words) is HTML-unescaped once and its
  whitespace, `\\r` and `\\n` included, collapsed to single spaces.
- A `claimReviewed` given as a list is one claim said several ways: its
  non-empty items are joined with " / " (and a note says so).
- The publisher is the ClaimReview's `author`, else its `publisher`; but when
  the author is a Person and a publisher is named, the publisher is the
  organisation and the person goes into `extra["review_author"]`.
- Numbers (`ratingValue`, `bestRating`, `worstRating`) may be strings, ints,
  floats, "" or null; the scale -1/-1/-1 means "no numeric rating" (None).
- Dates keep the calendar date as written: "2024-03-05T23:30:00-05:00" is
  5 March 2024 whatever the time zone; a missing or unreadable date is None
  and a note naming the field.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import csv
import dataclasses
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit

from claims.imports.records import (
    ImportedReview,
    ImportRefused,
    ParsedFile,
    Problem,
    file_head,
)

# Large enough for any article body the ClaimsKG extractor stores in one
# field, and still a C long on every platform (sys.maxsize is not on Windows).
CSV_FIELD_LIMIT = 2**31 - 1

CLAIMSKG_REQUIRED_COLUMNS = ("claimReview_url", "claimReview_claimReviewed")

_WHITESPACE = re.compile(r"\s+")
# The calendar date at the start of every form publishers write: 2024-03-05,
# 2024-3-5, "2024-03-05 14:05", 2024-03-05T14:05:09.123+0530, ...Z.
_DATE = re.compile(
    r"""(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:[T\s]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?
       \s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?""",
    re.VERBOSE,
)
# Containers that WordPress plugins and news CMSes put a page's ClaimReview in,
# besides @graph and lists. Deeper searching would pick up the ClaimReviews of
# related articles that some pages list, and credit them to this page's URL.
_CLAIM_REVIEW_HOLDERS = ("mainEntity", "review")


# --- Values as publishers write them ------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _clean(text: str) -> str:
    return _WHITESPACE.sub(" ", html.unescape(text)).strip()


def _text(value: Any) -> str:
    """A string field as text; the first non-empty one when a list is given."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return next((text for text in map(_text, value) if text), "")
    return ""


def _types(node: dict[str, Any]) -> set[str]:
    """`@type` as bare lower-case names: a string or a list, "ClaimReview",
    "schema:ClaimReview" or "http://schema.org/ClaimReview", "creativeWork"."""
    return {
        kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip().casefold()
        for kind in _as_list(node.get("@type"))
        if isinstance(kind, str)
    }


def _is_claim_review(value: Any) -> bool:
    return isinstance(value, dict) and "claimreview" in _types(value)


def _first_dict(value: Any) -> dict[str, Any]:
    return next((item for item in _as_list(value) if isinstance(item, dict)), {})


def _absolute_url(value: Any, base: str = "") -> str:
    """An http(s) URL: as given, resolved against `base` when relative, with
    https:// added to a bare host ("factcheck.example.org/x"); "" otherwise."""
    # Not unescaped: html.unescape would read a query's "&copy=1" as "©=1".
    url = (
        value.strip()
        if isinstance(value, str)
        else next(
            (item.strip() for item in _as_list(value) if isinstance(item, str) and item.strip()), ""
        )
    )
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        return ""
    if parts.scheme:
        return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
    if url.startswith("//"):
        return "https:" + url
    if url.startswith(("/", "?", "#", ".")):
        return urljoin(base, url) if base else ""
    if "." in url.split("/", 1)[0]:
        return "https://" + url
    return ""


def _urls(value: Any) -> list[str]:
    """URLs from an object with `url`, a list of them, or plain strings."""
    found = []
    for item in _as_list(value):
        candidate = item.get("url") or item.get("@id") if isinstance(item, dict) else item
        for url in _as_list(candidate):
            if isinstance(url, str) and (absolute := _absolute_url(url)):
                found.append(absolute)
    return found


def _language(value: Any) -> str:
    """BCP 47 from `inLanguage`: a string, or a Language object's alternateName or name."""
    for item in _as_list(value):
        tag = (
            _text(item.get("alternateName") or item.get("name"))
            if isinstance(item, dict)
            else _text(item)
        )
        if tag:
            return tag.replace("_", "-")
    return ""


def _decimal(value: Any, where: str, field: str, notes: list[str]) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # "3,5": a decimal comma, as some European publishers write it.
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            notes.append(f"{where}: {field} {value!r} is not a number; left empty")
            return None
    else:
        notes.append(f"{where}: {field} is not a number; left empty")
        return None
    if not number.is_finite():
        notes.append(f"{where}: {field} {value!r} is not a number; left empty")
        return None
    return number


def _scale(
    value: Decimal | None, best: Decimal | None, worst: Decimal | None
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    # Google's ClaimReview guidelines: -1 in all three says the rating has no
    # place on a numeric scale; it is not a rating of minus one.
    if value == best == worst == Decimal(-1):
        return None, None, None
    return value, best, worst


def _date(value: Any, where: str, field: str, notes: list[str]) -> date | None:
    text = _text(value)
    if not text:
        notes.append(f"{where}: no {field}")
        return None
    match = _DATE.fullmatch(text)
    if match:
        try:
            if match["hour"] is not None and (
                int(match["hour"]) > 23
                or int(match["minute"]) > 59
                or int(match["second"] or 0) > 60
            ):
                raise ValueError(text)
            return date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            pass
    notes.append(f"{where}: {field} {text!r} is not a date; left empty")
    return None


# --- One ClaimReview ----------------------------------------------------------------


@dataclass(frozen=True)
class _Surroundings:
    """What the page or feed item around a ClaimReview says, for the fields it leaves out."""

    url: str = ""
    site_name: str = ""
    language: str = ""


def _claim_text(value: Any, where: str, notes: list[str]) -> str:
    if not isinstance(value, list):
        return _text(value)
    parts = list(dict.fromkeys(text for text in map(_text, value) if text))
    if len(parts) > 1:
        notes.append(f"{where}: claimReviewed is a list of {len(parts)}; joined with ' / '")
    return " / ".join(parts)


def _names(value: Any) -> list[str]:
    names = []
    for person in _as_list(value):
        name = _text(person.get("name")) if isinstance(person, dict) else _text(person)
        if name:
            names.append(name)
    return list(dict.fromkeys(names))


def _first_named(value: Any) -> dict[str, Any] | None:
    """The first organisation or person with a name; a plain string is a name."""
    for candidate in _as_list(value):
        if isinstance(candidate, dict) and _text(candidate.get("name")):
            return candidate
        if isinstance(candidate, str) and _clean(candidate):
            return {"name": candidate}
    return None


def _publisher(node: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The organisation that published the review, and the person who wrote it
    when the markup names both (BOOM's author is its writer, its publisher BOOM)."""
    author = _first_named(node.get("author"))
    publisher = _first_named(node.get("publisher"))
    if author is not None and publisher is not None and "person" in _types(author):
        return publisher, _text(author.get("name"))
    return author or publisher, ""


def _read_claim_review(
    node: dict[str, Any],
    where: str,
    around: _Surroundings,
    notes: list[str],
    problems: list[Problem],
) -> ImportedReview | None:
    problems_before = len(problems)

    claim_text = _claim_text(node.get("claimReviewed"), where, notes)
    if not claim_text:
        problems.append(Problem(where, "claimReviewed", "missing or empty: no claim to import"))

    review_url = around.url
    if node.get("url") not in (None, "", []):
        review_url = _absolute_url(node.get("url"), around.url)
        if not review_url:
            problems.append(
                Problem(where, "url", f"{_text(node.get('url'))!r} is not an http(s) URL")
            )
    elif not review_url:
        problems.append(
            Problem(
                where, "url", "the ClaimReview has no url, the page no canonical link or og:url"
            )
        )

    publisher, review_author = _publisher(node)
    publisher_name = _text(publisher.get("name")) if publisher else around.site_name
    publisher_site = _absolute_url(publisher.get("url"), review_url) if publisher else ""
    if not publisher_name:
        problems.append(
            Problem(where, "author", "no author or publisher with a name, and no og:site_name")
        )

    if len(problems) > problems_before:
        return None

    item_reviewed = _first_dict(node.get("itemReviewed"))
    rating = _first_dict(node.get("reviewRating"))
    value, best, worst = _scale(
        _decimal(rating.get("ratingValue"), where, "reviewRating.ratingValue", notes),
        _decimal(rating.get("bestRating"), where, "reviewRating.bestRating", notes),
        _decimal(rating.get("worstRating"), where, "reviewRating.worstRating", notes),
    )
    # itemReviewed.url is where older markup (AFP's) puts the post that made the claim.
    appearances = (
        _urls(item_reviewed.get("appearance"))
        + _urls(item_reviewed.get("firstAppearance"))
        + _urls(item_reviewed.get("url"))
    )
    extra = {}
    if review_author:
        extra["review_author"] = review_author
    if title := _text(node.get("name")) or _text(node.get("headline")):
        extra["title"] = title

    return ImportedReview(
        where=where,
        claim_text=claim_text,
        claimant=", ".join(_names(item_reviewed.get("author"))),
        review_url=review_url,
        publisher_name=publisher_name,
        publisher_site=publisher_site,
        rating_text=_text(rating.get("alternateName")) or _text(rating.get("name")),
        rating_value=value,
        best_rating=best,
        worst_rating=worst,
        date_published=_date(node.get("datePublished"), where, "datePublished", notes),
        claim_date=_date(
            item_reviewed.get("datePublished"), where, "itemReviewed.datePublished", notes
        ),
        appearances=tuple(dict.fromkeys(appearances)),
        language=_language(node.get("inLanguage")) or around.language,
        extra=extra,
    )


# --- Article pages ------------------------------------------------------------------


def _is_ld_json(script_type: str) -> bool:
    return script_type.split(";", 1)[0].strip().casefold() == "application/ld+json"


class _PageReader(HTMLParser):
    """The ld+json blocks of a page, and the page's own URL, site name and language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.canonical = ""
        self.og_url = ""
        self.site_name = ""
        self.language = ""
        self._block: list[str] | None = None
        self._seen_html = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script" and _is_ld_json(attributes.get("type", "")):
            self._block = []
        elif tag == "link" and "canonical" in attributes.get("rel", "").casefold().split():
            self.canonical = self.canonical or attributes.get("href", "").strip()
        elif tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").strip().casefold()
            content = attributes.get("content", "").strip()
            if key == "og:url":
                self.og_url = self.og_url or content
            elif key == "og:site_name":
                self.site_name = self.site_name or _clean(content)
        elif tag == "html" and not self._seen_html:
            self._seen_html = True
            self.language = (attributes.get("lang") or attributes.get("xml:lang") or "").strip()

    def handle_data(self, data: str) -> None:
        if self._block is not None:
            self._block.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._block is not None:
            self.blocks.append("".join(self._block))
            self._block = None

    def close(self) -> None:
        super().close()
        if self._block is not None:
            self.blocks.append("".join(self._block))
            self._block = None

    @property
    def url(self) -> str:
        og_url = _absolute_url(self.og_url)
        return _absolute_url(self.canonical, og_url) or og_url


def _decode_page(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"""charset\s*=\s*["']?([\w.:-]+)""", raw[:4096], re.IGNORECASE)
    encoding = "cp1252"
    if declared:
        with contextlib.suppress(LookupError):
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
    return raw.decode(encoding, errors="replace")


# Some CMSes wrap a block's JSON in an HTML comment or CDATA section, as if it were script.
_BLOCK_WRAPPERS = re.compile(
    r"^\s*(?://\s*|/\*\s*)?(?:<!--|<!\[CDATA\[)\s*(?:\*/)?|(?://\s*|/\*\s*)?(?:-->|\]\]>)\s*(?:\*/)?\s*$"
)


def _find_claim_reviews(value: Any, suffix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ClaimReview of one block's JSON, with where in the block it is."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _find_claim_reviews(
                item, f"{suffix} [{index}]" if len(value) > 1 else suffix
            )
    elif _is_claim_review(value):
        yield suffix, value
    elif isinstance(value, dict):
        for index, item in enumerate(_as_list(value.get("@graph"))):
            yield from _find_claim_reviews(item, f"{suffix} @graph[{index}]")
        for key in _CLAIM_REVIEW_HOLDERS:
            held = value.get(key)
            for index, item in enumerate(_as_list(held)):
                if _is_claim_review(item):
                    label = f"{key}[{index}]" if isinstance(held, list) else key
                    yield f"{suffix} {label}", item


def parse_html(path: Path) -> ParsedFile:
    """Every ClaimReview in a fact-check page's ld+json blocks, one record each.

    A block that is not JSON is passed over with a note when another block
    holds the page's ClaimReview; a page with no ClaimReview at all, or one
    whose ClaimReview lacks its claim, URL or publisher, is refused.
    `where` is "page.html, ld+json block 2" (1-based), with " @graph[3]" when the
    review is in a graph, " [1]" in a list of several, " mainEntity" under one.
    """
    page = _PageReader()
    page.feed(_decode_page(path.read_bytes()))
    page.close()
    if not page.blocks:
        raise ImportRefused([Problem(path.name, "", "no ld+json block: no ClaimReview to import")])

    around = _Surroundings(url=page.url, site_name=page.site_name, language=page.language)
    reviews: list[ImportedReview] = []
    notes: list[str] = []
    problems: list[Problem] = []
    found = not_json = 0
    for number, block in enumerate(page.blocks, start=1):
        where = f"{path.name}, ld+json block {number}"
        text = _BLOCK_WRAPPERS.sub("", block).strip()
        if not text:
            notes.append(f"{where}: empty; skipped")
            continue
        try:
            # strict=False: raw tabs and newlines inside strings, which many CMSes
            # write and every crawler accepts.
            data = json.loads(text, strict=False)
        except json.JSONDecodeError as error:
            not_json += 1
            notes.append(
                f"{where}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); skipped"
            )
            continue
        for suffix, node in _find_claim_reviews(data):
            found += 1
            review = _read_claim_review(node, where + suffix, around, notes, problems)
            if review is not None:
                reviews.append(review)

    if not found:
        why = f"no ClaimReview in any of its {len(page.blocks)} ld+json blocks"
        if not_json:
            why += f" ({not_json} not valid JSON)"
        raise ImportRefused([Problem(path.name, "", why)])
    if problems:
        raise ImportRefused(problems)
    return ParsedFile(_one_url_per_claim(reviews, notes), notes)


def _one_url_per_claim(reviews: list[ImportedReview], notes: list[str]) -> list[ImportedReview]:
    """A page that reviews several claims often gives each ClaimReview the article's URL:
    each then gets its own address, the URL and "#claim-N" (N its place on the page),
    so that the loader's one review per URL keeps them all, the same way every run."""
    wordings: dict[str, set[str]] = {}
    for review in reviews:
        wordings.setdefault(review.review_url, set()).add(review.claim_text)
    shared = {url for url, claims in wordings.items() if len(claims) > 1}
    if not shared:
        return reviews
    numbered = []
    counts: dict[str, int] = {}
    for review in reviews:
        if review.review_url in shared:
            counts[review.review_url] = counts.get(review.review_url, 0) + 1
            url = f"{review.review_url}#claim-{counts[review.review_url]}"
            notes.append(f"{review.where}: shares its URL with another claim's review: {url}")
            review = dataclasses.replace(review, review_url=url)
        numbered.append(review)
    return numbered


# --- JSON files ---------------------------------------------------------------------


def _json_values(path: Path) -> list[Any]:
    """The JSON values of a file: one document, or several written back to back
    (with or without whitespace between them), as feeds are concatenated."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            [Problem(path.name, "", f"not UTF-8 text (byte {error.start}): {error.reason}")]
        ) from error
    decoder = json.JSONDecoder()
    values = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ImportRefused(
                [
                    Problem(
                        path.name,
                        "",
                        f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
                    )
                ]
            ) from error
        values.append(value)
    if not values:
        raise ImportRefused([Problem(path.name, "", "empty file")])
    return values


def _located(path: Path, values: list[Any]) -> Iterator[tuple[str, Any]]:
    """Each value with its place for messages: "feed.json", or "feed.json, object 2"."""
    for number, value in enumerate(values, start=1):
        yield (f"{path.name}, object {number}" if len(values) > 1 else path.name), value


def _feed_items(where: str, value: Any, notes: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """DataFeedItems (and bare ClaimReviews) of a feed, a list or one item."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _feed_items(f"{where}, [{index}]", item, notes)
        return
    types = _types(value) if isinstance(value, dict) else set()
    if "datafeed" in types:
        for index, item in enumerate(_as_list(value.get("dataFeedElement"))):
            yield from _feed_items(f"{where}, dataFeedElement[{index}]", item, notes)
    elif "datafeeditem" in types or "claimreview" in types:
        yield where, value
    else:
        notes.append(f"{where}: not a DataFeed, DataFeedItem or ClaimReview; skipped")


def parse_datafeed(path: Path) -> ParsedFile:
    """Every ClaimReview of a schema.org DataFeed file, one record each.

    The file holds a DataFeed, a list of DataFeedItems, one DataFeedItem, or
    several JSON objects back to back. An item with `dateDeleted` is a
    tombstone and is skipped with a note. An item's `url` stands in for its
    ClaimReview's. `where` is "feed.json, dataFeedElement[3]", with
    ", item[1]" when an item holds several reviews.
    """
    reviews: list[ImportedReview] = []
    notes: list[str] = []
    problems: list[Problem] = []
    found = deleted = 0
    for where, value in _located(path, _json_values(path)):
        for item_where, item in _feed_items(where, value, notes):
            if "claimreview" in _types(item):
                claim_reviews: list[Any] = [item]
                around = _Surroundings()
            else:
                if item.get("dateDeleted"):
                    deleted += 1
                    notes.append(
                        f"{item_where}: deleted on {_text(item.get('dateDeleted'))} (a tombstone); skipped"
                    )
                    continue
                claim_reviews = _as_list(item.get("item"))
                around = _Surroundings(url=_absolute_url(item.get("url")))
            for index, node in enumerate(claim_reviews):
                review_where = (
                    f"{item_where}, item[{index}]" if len(claim_reviews) > 1 else item_where
                )
                if not _is_claim_review(node):
                    notes.append(f"{review_where}: not a ClaimReview; skipped")
                    continue
                found += 1
                review = _read_claim_review(node, review_where, around, notes, problems)
                if review is not None:
                    reviews.append(review)
    if not found and not deleted:
        raise ImportRefused([Problem(path.name, "", "no ClaimReview in it")])
    if problems:
        raise ImportRefused(problems)
    return ParsedFile(reviews, notes)


def _search_claims(where: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _search_claims(f"{where}, [{index}]", item)
    elif isinstance(value, dict) and "claims" in value:
        for index, claim in enumerate(_as_list(value["claims"])):
            yield f"{where}, claims[{index}]", claim
    else:
        yield where, value


def parse_factcheck_search(path: Path) -> ParsedFile:
    """Google Fact Check Tools `claims:search` responses: one record per claimReview.

    The file holds a response (`{"claims": [...], "nextPageToken": ...}`), a
    list of claims or responses, one claim, or several of these back to back.
    The publisher is `publisher.name`, else its `site` (with https:// added).
    `where` is "search.json, claims[2], claimReview[0]".
    """
    reviews: list[ImportedReview] = []
    notes: list[str] = []
    problems: list[Problem] = []
    for where, value in _located(path, _json_values(path)):
        if isinstance(value, dict) and not value:
            notes.append(f"{where}: an empty response (no claims)")
            continue
        for claim_where, claim in _search_claims(where, value):
            if not isinstance(claim, dict) or "claimReview" not in claim:
                problems.append(Problem(claim_where, "claimReview", "not a claims:search claim"))
                continue
            claim_text = _text(claim.get("text"))
            claimant = _text(claim.get("claimant"))
            claim_reviews = _as_list(claim.get("claimReview"))
            if not claim_reviews:
                notes.append(f"{claim_where}: no claimReview; skipped")
            for index, entry in enumerate(claim_reviews):
                review_where = f"{claim_where}, claimReview[{index}]"
                entry = entry if isinstance(entry, dict) else {}
                publisher = _first_dict(entry.get("publisher"))
                site = _absolute_url(publisher.get("site"))
                publisher_name = _text(publisher.get("name")) or _text(publisher.get("site"))
                review_url = _absolute_url(entry.get("url"))
                problems_before = len(problems)
                if not claim_text:
                    problems.append(
                        Problem(claim_where, "text", "missing or empty: no claim to import")
                    )
                if not review_url:
                    problems.append(Problem(review_where, "url", "missing or not an http(s) URL"))
                if not publisher_name:
                    problems.append(Problem(review_where, "publisher", "neither a name nor a site"))
                if len(problems) > problems_before:
                    continue
                extra = {"title": title} if (title := _text(entry.get("title"))) else {}
                reviews.append(
                    ImportedReview(
                        where=review_where,
                        claim_text=claim_text,
                        claimant=claimant,
                        review_url=review_url,
                        publisher_name=publisher_name,
                        publisher_site=site,
                        rating_text=_text(entry.get("textualRating")),
                        date_published=_date(
                            entry.get("reviewDate"), review_where, "reviewDate", notes
                        ),
                        claim_date=_date(claim.get("claimDate"), review_where, "claimDate", notes),
                        language=_language(entry.get("languageCode")),
                        extra=extra,
                    )
                )
    if problems:
        raise ImportRefused(problems)
    return ParsedFile(reviews, notes)


# --- ClaimsKG -----------------------------------------------------------------------


def _unwrap_quotes(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _tag_list(value: str) -> str:
    """Tags as "a, b": the extractor writes some as a Python list's repr, "['a', 'b']"."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            tags = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return _clean(text)
        if isinstance(tags, list):
            return ", ".join(_clean(str(tag)) for tag in tags if str(tag).strip())
    return _clean(text)


def _names_review_author(name: str, author_url: str) -> bool:
    """Whether a creativeWork_author_name is the review's writer: some of the
    extractor's publishers (PolitiFact, Snopes, Africa Check...) put the
    writer there, whose staff page claimReview_author_url then names them."""
    if not name or not author_url:
        return False
    slug = unquote_plus(urlsplit(author_url).path.rstrip("/").rsplit("/", 1)[-1]).casefold()
    slug_words = {word for word in re.split(r"[\W_]+", slug) if word}
    name_words = [word for word in re.split(r"[\W_]+", name.casefold()) if word]
    return bool(slug_words & set(name_words)) or "".join(name_words) in slug_words


def _site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def parse_claimskg_csv(path: Path) -> ParsedFile:
    """The ClaimsKG extractor's CSV (output_*.csv): one record per row.

    Read with the csv module's normal quoting: fields hold commas, quotes and
    newlines. `where` is "output.csv, record 17", 17 being the line the
    record starts on. A row without claimReview_url or
    claimReview_claimReviewed refuses the file. Rows that repeat are all
    kept. The publisher is claimReview_author_name (the extractor's name for
    the source), its site the review URL's scheme and host.

    Two of the extractor's habits are undone: rows whose every text field it
    wrapped in an extra pair of double quotes (its title is wrapped: a
    headline never is) lose that pair, and a creativeWork_author_name that is
    the publisher or the review's writer is not taken as the claimant.
    """
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reviews: list[ImportedReview] = []
    notes: list[str] = []
    problems: list[Problem] = []
    writers_not_claimants = 0
    line = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            missing = [name for name in CLAIMSKG_REQUIRED_COLUMNS if name not in (header or [])]
            if header is None or missing:
                raise ImportRefused(
                    [
                        Problem(
                            f"{path.name}, line 1",
                            "",
                            f"not a ClaimsKG CSV: no {', '.join(missing)} column",
                        )
                    ]
                )
            next_start = reader.line_num + 1
            for row in reader:
                line, next_start = next_start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                where = f"{path.name}, record {line}"
                if len(row) != len(header):
                    notes.append(f"{where}: {len(row)} fields, the header names {len(header)}")
                fields = dict(zip(header, row, strict=False))
                review, writer_was_claimant = _claimskg_row(fields, where, notes, problems)
                writers_not_claimants += writer_was_claimant
                if review is not None:
                    reviews.append(review)
    except UnicodeDecodeError as error:
        raise ImportRefused(
            [Problem(path.name, "", f"not UTF-8 text (byte {error.start}): {error.reason}")]
        ) from error
    except csv.Error as error:
        raise ImportRefused([Problem(f"{path.name}, record {line}", "", str(error))]) from error
    if problems:
        raise ImportRefused(problems)
    if writers_not_claimants:
        notes.append(
            f"{path.name}: in {writers_not_claimants} records creativeWork_author_name is the review's"
            " writer (its claimReview_author_url names them): kept as extra review_author, not as claimant"
        )
    return ParsedFile(reviews, notes)


def _claimskg_row(
    fields: dict[str, str], where: str, notes: list[str], problems: list[Problem]
) -> tuple[ImportedReview | None, bool]:
    """A row's record (None when it is refused), and whether the row's
    creativeWork_author_name turned out to be the review's writer."""

    def field(name: str) -> str:
        return fields.get(name, "") or ""

    wrapped = bool(field("extra_title")) and _unwrap_quotes(field("extra_title")) != field(
        "extra_title"
    )

    def text(name: str) -> str:
        value = field(name)
        return _clean(_unwrap_quotes(value) if wrapped else value)

    claim_text = text("claimReview_claimReviewed")
    review_url = _absolute_url(field("claimReview_url"))
    publisher_name = text("claimReview_author_name") or text("claimReview_source")
    problems_before = len(problems)
    if not review_url:
        problems.append(Problem(where, "claimReview_url", "missing or not an http(s) URL"))
    if not claim_text:
        problems.append(
            Problem(where, "claimReview_claimReviewed", "missing or empty: no claim to import")
        )
    if not publisher_name:
        problems.append(Problem(where, "claimReview_author_name", "missing: no publisher"))
    if len(problems) > problems_before:
        return None, False

    extra: dict[str, str] = {}
    if title := text("extra_title"):
        extra["title"] = title
    if tags := _tag_list(_unwrap_quotes(field("extra_tags")) if wrapped else field("extra_tags")):
        extra["tags"] = tags
    if writers := text("claimReview_author"):
        extra["review_author"] = writers

    if same_as := text("creativeWork_author_sameAs"):
        extra["claimant_same_as"] = same_as

    claimant = text("creativeWork_author_name")
    writer_was_claimant = _names_review_author(claimant, field("claimReview_author_url"))
    if claimant.casefold() in {publisher_name.casefold(), text("claimReview_source").casefold()}:
        claimant = ""
    elif writer_was_claimant:
        extra.setdefault("review_author", claimant)
        claimant = ""

    value, best, worst = _scale(
        _decimal(field("rating_ratingValue"), where, "rating_ratingValue", notes),
        _decimal(field("rating_bestRating"), where, "rating_bestRating", notes),
        _decimal(field("rating_worstRating"), where, "rating_worstRating", notes),
    )
    review = ImportedReview(
        where=where,
        claim_text=claim_text,
        claimant=claimant,
        review_url=review_url,
        publisher_name=publisher_name,
        publisher_site=_site_of(review_url),
        rating_text=text("rating_alternateName"),
        rating_value=value,
        best_rating=best,
        worst_rating=worst,
        date_published=_date(
            field("claimReview_datePublished"), where, "claimReview_datePublished", notes
        ),
        claim_date=_date(
            field("creativeWork_datePublished"), where, "creativeWork_datePublished", notes
        ),
        extra=extra,
    )
    return review, writer_was_claimant


def _binding(record: dict[str, Any], name: str) -> str:
    """A SPARQL result's value: {"type": "literal", "value": "..."}, or a bare string."""
    value = record.get(name)
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, str) else ""


def _claimskg_records(where: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _claimskg_records(f"{where}, [{index}]", item)
    elif isinstance(value, dict) and isinstance(value.get("results"), dict):
        for index, binding in enumerate(_as_list(value["results"].get("bindings"))):
            yield f"{where}, results.bindings[{index}]", binding
    elif isinstance(value, dict) and isinstance(value.get("content"), dict):
        yield where, value["content"]
    else:
        yield where, value


def parse_claimskg_json(path: Path) -> ParsedFile:
    """GESIS ClaimsKG records: `{"id": ..., "content": {field: {"value": ...}}}`,
    a list of them, several back to back, or a SPARQL result's bindings.

    The fields are those of ClaimsKG's SPARQL query: text (the claim), author
    (the claimant), link (the review), source and sourceURL (the publisher),
    date (the claim's itemReviewed.datePublished; the review's own date is
    not in the record), ratingName and truthRating (ClaimsKG's normalised
    TRUE/FALSE/MIXTURE/OTHER, not the publisher's words: -1 is OTHER, no
    number). The language is the text's xml:lang; keywords go into extra.
    """
    reviews: list[ImportedReview] = []
    notes: list[str] = []
    problems: list[Problem] = []
    for where, value in _located(path, _json_values(path)):
        for record_where, record in _claimskg_records(where, value):
            if not isinstance(record, dict):
                problems.append(Problem(record_where, "content", "not a ClaimsKG record"))
                continue
            claim_text = _clean(_binding(record, "text"))
            review_url = _absolute_url(_binding(record, "link"))
            publisher_name = _clean(_binding(record, "source"))
            problems_before = len(problems)
            if not claim_text:
                problems.append(
                    Problem(record_where, "text", "missing or empty: no claim to import")
                )
            if not review_url:
                problems.append(Problem(record_where, "link", "missing or not an http(s) URL"))
            if not publisher_name:
                problems.append(Problem(record_where, "source", "missing: no publisher"))
            if len(problems) > problems_before:
                continue
            rating_value = _decimal(
                _binding(record, "truthRating"), record_where, "truthRating", notes
            )
            text = record.get("text")
            language = text.get("xml:lang", "") if isinstance(text, dict) else ""
            extra = {"rating_scheme": "ClaimsKG normalised rating"}
            for name, key in (
                ("keywords", "keywords"),
                ("language", "language"),
                ("claimskg_id", "id"),
            ):
                if found := _clean(_binding(record, name)):
                    extra[key] = found
            notes.append(f"{record_where}: a ClaimsKG record has no review datePublished")
            reviews.append(
                ImportedReview(
                    where=record_where,
                    claim_text=claim_text,
                    claimant=_clean(_binding(record, "author")),
                    review_url=review_url,
                    publisher_name=publisher_name,
                    publisher_site=_absolute_url(_binding(record, "sourceURL")),
                    rating_text=_clean(_binding(record, "ratingName")),
                    rating_value=None if rating_value == Decimal(-1) else rating_value,
                    claim_date=_date(_binding(record, "date"), record_where, "date", notes),
                    language=language.strip() if isinstance(language, str) else "",
                    extra=extra,
                )
            )
    if problems:
        raise ImportRefused(problems)
    return ParsedFile(reviews, notes)


# --- Choosing a parser --------------------------------------------------------------

PARSERS: dict[str, Callable[[Path], ParsedFile]] = {
    "html": parse_html,
    "datafeed": parse_datafeed,
    "factcheck-search": parse_factcheck_search,
    "claimskg-csv": parse_claimskg_csv,
    "claimskg-json": parse_claimskg_json,
}

# For a first object longer than SNIFF_BYTES: the earliest of these keys decides.
_SNIFF_KEYS = (
    (
        re.compile(r'"@type"\s*:\s*\[?\s*"(?:[^"]*[/:])?(?:DataFeed|DataFeedItem|ClaimReview)"'),
        "datafeed",
    ),
    (re.compile(r'"(?:claims|claimReview)"\s*:'), "factcheck-search"),
    (re.compile(r'"(?:content|results)"\s*:\s*\{'), "claimskg-json"),
)


def _sniff_json(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, dict)), None)
    if not isinstance(value, dict):
        return None
    if "claims" in value or "claimReview" in value:
        return "factcheck-search"
    if _types(value) & {"datafeed", "datafeeditem", "claimreview"}:
        return "datafeed"
    if isinstance(value.get("content"), dict) or isinstance(value.get("results"), dict):
        return "claimskg-json"
    return None


def _sniff_csv(first_line: str) -> str | None:
    columns = next(csv.reader([first_line]), [])
    return "claimskg-csv" if all(name in columns for name in CLAIMSKG_REQUIRED_COLUMNS) else None


def sniff(path: Path) -> str | None:
    """The `PARSERS` name a file most likely needs, from its extension and first
    bytes; None when it looks like none of them."""
    if path.suffix.casefold() in (".html", ".htm"):
        return "html"
    text = file_head(path)
    if text is None:
        return None
    start = text.lstrip()
    if path.suffix.casefold() == ".csv":
        return _sniff_csv(text.splitlines()[0]) if text else None
    if re.match(r"<(?:!doctype\s+html|html)\b", start, re.IGNORECASE):
        return "html"
    if start[:1] in ("{", "["):
        try:
            first, _ = json.JSONDecoder().raw_decode(start)
        except json.JSONDecodeError:
            matches = [
                (match.start(), name)
                for pattern, name in _SNIFF_KEYS
                if (match := pattern.search(start))
            ]
            return min(matches)[1] if matches else None
        return _sniff_json(first)
    return _sniff_csv(text.splitlines()[0]) if text else None
