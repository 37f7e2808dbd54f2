"""What every importer reads a file into: other fact-checkers' reviews of claims,
one `ImportedReview` per review, before anything touches the database.

Each format's parser (claims.imports.claimreview for the web's ClaimReview
shapes, claims.imports.datasets for the research data sets) turns its file
into these records, or refuses it with `ImportRefused`: which file, which line
or record, which field, and why. The parsers never write; `claims.imports.load`
decides what each record creates or matches, in one transaction per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class ImportedReview:
    """One review of one claim by another organisation, as its publisher gave it."""

    # Where the record came from, for messages: "train.tsv, line 17",
    # "afp.html, ld+json block 2", "feed.json, dataFeedElement[3]".
    where: str
    # The claim, in the publisher's words (claimReviewed), whitespace collapsed.
    claim_text: str
    # Who made the claim (itemReviewed.author.name), "" when nobody is named.
    claimant: str
    # The review's own URL: one review per URL, across every import.
    review_url: str
    publisher_name: str
    # The publisher's site ("https://factcheck.afp.com"), "" when unknown.
    publisher_site: str = ""
    # The rating's words, verbatim but trimmed (alternateName, else name).
    rating_text: str = ""
    rating_value: Decimal | None = None
    best_rating: Decimal | None = None
    worst_rating: Decimal | None = None
    # When the review was published, and when the claim was made, if said.
    date_published: date | None = None
    claim_date: date | None = None
    # Where the claim appeared (itemReviewed.appearance / firstAppearance URLs).
    appearances: tuple[str, ...] = ()
    # BCP 47 ("en", "pt-BR"), "" when the source does not say.
    language: str = ""
    # Anything else worth keeping from the source, shown to editors only
    # (LIAR's subjects, party and context; the issue of a FactCellar entry).
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: where in it, which field, why."""

    where: str
    field: str
    why: str

    def __str__(self) -> str:
        return (
            f"{self.where}: {self.field}: {self.why}" if self.field else f"{self.where}: {self.why}"
        )


class ImportRefused(Exception):
    """The file cannot be imported as it is; nothing of it is written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class ParsedFile:
    """A file's records, and what was passed over without refusing the file (a page's
    ld+json block that is not JSON beside one that is; a page with no ClaimReview)."""

    reviews: list[ImportedReview]
    notes: list[str] = field(default_factory=list)


# How much of a file the format guesses (each module's `sniff`) read.
SNIFF_BYTES = 64 * 1024


def file_head(path: Path) -> str | None:
    """The first SNIFF_BYTES of a file as text (a BOM dropped, bad bytes replaced), for
    guessing its format; None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return None
    return head.decode("utf-8-sig", errors="replace")
