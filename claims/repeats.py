"""The repeat monitor: passages of a source that repeat a claim the desk has published
a verdict on, suggested to an editor as appearances of that claim.

A verdict is worth most when the claim comes back: the desk links its fact-check to
each new repeat. So each new source (claims.source_pipeline), and on demand the
sources that came before a verdict (`manage.py scan_repeats`), is split into
passages, its sentences (`passages`), and each passage is compared with the published
claims whose status is a verdict (claims.ratings.VERDICT_STATUSES): their statements
and the quotes they appear through.

The comparison is pg_trgm's word similarity, in one statement for all of a source's
passages (MATCH_SQL). Candidates come from the full-text GIN index on the claims'
search vectors (claim_search_idx: statement, speaker's names and aliases, quoted
words), as likely duplicates do (claims.duplicates): each passage is cut into windows
of PROBE_WORDS words, and the published, rated claims holding two of a window's
RAREST_WORDS rarest words (PostgreSQL's statistics; words held by more than
claims.search.MOST_CLAIMS_PER_WORD claims are left out) are candidates, those holding
most of the window's words first. A candidate is a repeat when the claim's words are
in the passage (`word_similarity(statement, passage)`, or the same for one of its
quotes) at or above SIMILARITY_THRESHOLD. Windows, because a claim is short and a
sentence may be long: a window's words are nearly all looked up, so the claim it
holds holds two of them.

Why not pg_trgm's own GIN indexes on the statements and quotes (claim_statement_trgm_idx,
quote_exact_trgm_idx, `statement %> window`), which answered this first: a window's
common trigrams match most rows, which the index reads whatever the threshold. A seed
article (29 windows) took 7.0 to 8.5 s at 10,000 claims (`make bench`'s database),
and would take minutes at a million; through the full-text index it takes 0.37 s at
10,000 (statements made of the seed articles' own words: every window's words are
held by hundreds of claims, the worst case) and the figure in the README's benchmark
at a million.

Trigrams cannot tell "$25 million" from "$50 million", nor a claim from its denial, so
a candidate is kept only when the passage states every number the claim states
(`numbers`: "$50 million", "$50m", "50,000,000" and "fifty million" are one number),
and when the passage and the words it matched both deny or neither does, the denial
looked for where the claim's words are in the passage (`_claim_extent`) and in the
few words before ("The State Department denied that it offers..."), so that a denial
elsewhere in a long sentence does not hide a repeat.

One suggestion per claim and source, its closest passage: an appearance of a claim in
a source is one, however often the source repeats it. A claim that already appears in
the source, or was already suggested for it (and perhaps dismissed), is not suggested
again.

The editor accepts a suggestion (the claim's appearance in the source is recorded) or
dismisses it; both are for whoever may record appearances (`claims.add_appearance`,
as the admin's appearance inline and the API's appearances require).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from claims.languages import search_config
from claims.models import Appearance, RepeatSuggestion, Review, SuggestionStatus
from claims.ratings import VERDICT_STATUSES, get_rating
from claims.search import MOST_CLAIMS_PER_WORD, lexeme_counts
from claims.services import add_appearance, in_a_transaction, require_permission
from claims.tips import NEGATIONS as tips_negations
from claims.tips import fold_accents, normalize
from sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Word similarity (pg_trgm) of the claim's words to the passage at or above which the
# passage repeats the claim: word_similarity(statement, passage), or the same for one
# of the claim's quotes. Measured against the 22 seed claims (all taken as rated) on
# 22 repeats reworded as other outlets write them, 8 near misses (another figure, a
# denial), 10 sentences on the same events that repeat no claim (tests/claims/
# test_repeats.py keeps some of each), and the seed articles' 30 sentences:
# - repeats score 0.45 to 0.93 on the statement ("Washington has offered a $50 million
#   reward for information leading to the arrest of Nicolás Maduro" 0.4955, "Maduro
#   called on Venezuelans to enlist in the militia" 0.62, "The State Department has
#   added Venezuela's Cartel de los Soles to its list..." 0.93), or through a quote
#   when the statement is worded apart ("the United States doubled its bounty on
#   Maduro to $50 million": statement 0.32, the quote "raising the bounty on him to
#   $50 million" 0.52). At this threshold 21 of the 22 are found; the one missed,
#   "The reward for Maduro's arrest now stands at $50 million", scores 0.4500;
# - the 10 sentences that repeat nothing score up to 0.48, and the three above 0.45
#   are refused by the numbers guard (the ten F-35s against "The United States has
#   deployed warships to the Caribbean", 0.48). Of the seed articles' 30 sentences,
#   three are suggested for a claim they do not repeat ("Most of those cartels
#   primarily operate in Mexico, but the reported deployment of troops..." for "A
#   deployment of US troops to Mexico ... is ruled out", 0.49; two others 0.47), for
#   the desk to dismiss. At 0.5 none would be, but neither would "Washington has
#   offered a $50 million reward..." (0.4955): a missed repeat costs more than a
#   dismissal;
# - what only the guards stop scores high: "$25 million" for "$50 million" 0.94, "does
#   not offer" 0.90, "13 tons" for "30 tons" 0.82, "denied that it offers" 0.62; all 8
#   near misses are refused.
SIMILARITY_THRESHOLD = 0.45
# Words in a probe window (windows overlap by half): about a long statement's length.
PROBE_WORDS = 20
# The rarest words of a window looked up, at most: a window's content words nearly all
# (a 20-word window holds 10 to 14), so that the claim it repeats, which holds most of
# them, holds two (their pairs: 66 at 12).
RAREST_WORDS = 12
# Shorter passages (datelines, bylines, captions) hold no claim worth matching.
MIN_PASSAGE_WORDS = 4
# A quote of fewer words is a phrase ("paradigm shift", "was coming"), not the claim:
# it recurs in sentences that repeat nothing.
MIN_QUOTE_WORDS = 6
# The candidates kept per window, those holding most of its words first, before the
# trigram score and the guards.
CANDIDATES = 20

# Every window of every passage in one statement. Its words (in the source's search
# configuration), less those held by more than MOST_CLAIMS claims (PostgreSQL's
# statistics, claims.search.lexeme_counts), the RAREST_WORDS rarest; the published,
# rated claims whose search vector (statement, speaker's names, quoted words) holds
# two of them, through the full-text GIN index (claim_search_idx), those holding most
# of the window's words first; each scored by word similarity to the passage, of its
# statement and of its closest quote; not already in the source nor suggested for it;
# the closest per passage and claim, with the words that matched.
MATCH_SQL = r"""
WITH w AS MATERIALIZED (
    SELECT w.start, w.passage, to_tsvector(%(config)s::regconfig, w.probe) AS vector
      FROM unnest(%(starts)s::integer[], %(probes)s::text[], %(passages)s::text[])
           AS w(start, probe, passage)
), rare AS MATERIALIZED (
    SELECT w.start, w.passage, w.vector, r.words
      FROM w CROSS JOIN LATERAL (
           SELECT coalesce(array_agg(t.word), '{}') AS words
             FROM (SELECT word FROM unnest(tsvector_to_array(w.vector)) AS word
                    LEFT JOIN unnest(%(common)s::text[], %(held)s::float8[]) AS c(word, held)
                           USING (word)
                    WHERE coalesce(c.held, 0) <= %(most)s
                      AND strpos(word, '''') = 0 AND strpos(word, E'\\') = 0
                    ORDER BY coalesce(c.held, 0), length(word) DESC, word
                    LIMIT %(rarest)s) AS t
      ) AS r
     WHERE cardinality(r.words) > 1
), lookup AS MATERIALIZED (
    SELECT rare.start, rare.passage, rare.vector,
           (SELECT string_agg(format('''%%s'' & ''%%s''', a.word, b.word), ' | ')
              FROM unnest(rare.words) WITH ORDINALITY AS a(word, i)
              JOIN unnest(rare.words) WITH ORDINALITY AS b(word, j) ON a.i < b.j
           )::tsquery AS query
      FROM rare
), candidates AS MATERIALIZED (
    SELECT DISTINCT ON (l.start, c.id) l.start, l.passage, c.id, c.statement
      FROM lookup l CROSS JOIN LATERAL (
           SELECT c.id, c.statement FROM claims_claim c
            WHERE c.search_vector @@ l.query
              AND c.published_at IS NOT NULL AND c.status = ANY(%(verdicts)s)
            ORDER BY length(l.vector)
                     - length(ts_delete(l.vector, tsvector_to_array(c.search_vector))) DESC,
                     c.id
            LIMIT %(candidates)s
      ) AS c
), scored AS (
    SELECT cand.start, cand.id AS claim_id, cand.statement,
           word_similarity(cand.statement, cand.passage) AS statement_score,
           best.exact AS quote, best.score AS quote_score
      FROM candidates cand
      LEFT JOIN LATERAL (
           SELECT q.exact, word_similarity(q.exact, cand.passage) AS score
             FROM claims_appearance a JOIN claims_quote q ON q.id = a.quote_id
            WHERE a.claim_id = cand.id
              AND array_length(regexp_split_to_array(btrim(q.exact), '\s+'), 1)
                  >= %(min_quote_words)s
            ORDER BY 2 DESC, q.id LIMIT 1
      ) AS best ON true
)
SELECT s.start, s.claim_id,
       greatest(s.statement_score, coalesce(s.quote_score, 0)) AS score,
       CASE WHEN s.statement_score >= coalesce(s.quote_score, 0) THEN s.statement
            ELSE s.quote END AS words,
       s.statement
  FROM scored s
 WHERE greatest(s.statement_score, coalesce(s.quote_score, 0)) >= %(threshold)s
   AND NOT EXISTS (SELECT 1 FROM claims_appearance x
                    WHERE x.source_id = %(source)s AND x.claim_id = s.claim_id)
   AND NOT EXISTS (SELECT 1 FROM claims_repeatsuggestion x
                    WHERE x.source_id = %(source)s AND x.claim_id = s.claim_id)
 ORDER BY s.start, s.claim_id
"""

# The desk's permission that deciding a suggestion exercises: it records an appearance.
DECIDE_PERMISSION = "claims.add_appearance"

# A sentence ends at its punctuation (and the closing quotes or brackets after it)
# followed by whitespace, or at a line break.
_BREAK = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n+")
_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«([¿¡"
# A full stop after these ends no sentence ("U.S. forces", "Gen. Caine", "EE.UU.").
_INITIALS = re.compile(r"(?:\w\.)+")
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "adm",
        "jr",
        "sr",
        "sra",
        "dra",
        "prof",
        "pres",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "corp",
        "ltd",
        "co",
        "dept",
        "approx",
        "fig",
        "ee.uu",
    ]
)
_WORDS = re.compile(r"\S+")


# --- Passages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    text: str


def passages(text: str) -> list[Passage]:
    """The sentences of `text` of MIN_PASSAGE_WORDS words or more, with their offsets
    (text[start:end] is the sentence, without the whitespace around it).

    A small splitter rather than pysbd: on the seed articles it finds pysbd's sentences
    (and splits one quotation pysbd keeps whole), in 77 ms for 211 KB of text where
    pysbd's offsets took 10 s in paragraphs and 160 s as one line, inside the
    transaction that adds the source. A sentence ends at . ! ? or … before a capital,
    a digit or an opening quote, not after an abbreviation or initials, and at every
    line break (a heading ends at its line)."""
    found: list[Passage] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        piece = text[start:end]
        first = start + len(piece) - len(piece.lstrip())
        last = start + len(piece.rstrip())
        if len(_WORDS.findall(text[first:last])) >= MIN_PASSAGE_WORDS:
            found.append(Passage(first, last, text[first:last]))
        start = end
    return found


def _sentence_ends(text: str) -> Iterable[int]:
    for brk in _BREAK.finditer(text):
        mark = brk.group()
        if "\n" not in mark:
            after = brk.end()
            while after < len(text) and text[after] in _OPENERS:
                after += 1
            if after < len(text) and not (text[after].isupper() or text[after].isdigit()):
                continue
            if mark.rstrip().rstrip(_CLOSERS) == ".":
                word_start = brk.start()
                while word_start and not text[word_start - 1].isspace():
                    word_start -= 1
                word = text[word_start : brk.start() + 1]
                if word[:-1].lower() in ABBREVIATIONS or _INITIALS.fullmatch(word):
                    continue
        yield brk.end()


def probes(text: str) -> list[str]:
    """Windows of PROBE_WORDS words of a passage, overlapping by half (the passage
    itself when it is that short)."""
    words = list(_WORDS.finditer(text))
    if len(words) <= PROBE_WORDS:
        return [text]
    step = PROBE_WORDS // 2
    return [
        text[words[i].start() : words[min(i + PROBE_WORDS, len(words)) - 1].end()]
        for i in range(0, len(words) - step, step)
    ]


# --- The guards ---------------------------------------------------------------------

_SCALES = {
    "k": 10**3,
    "thousand": 10**3,
    "mil": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "millon": 10**6,
    "millones": 10**6,
    "bn": 10**9,
    "billion": 10**9,
    "trillion": 10**12,
}
_DIGITS = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(?:(k|mn|m|bn)\b|\s+(thousand|million|billion|trillion|mil|millon|millones)\b)?"
)
_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_NUMBER = re.compile(
    rf"\b(?:({'|'.join(_TENS)})(?:[- ]({'|'.join(_UNITS[1:10])}))?|({'|'.join(_UNITS)}))"
    r"(?:\s+(hundred|thousand|million|billion|trillion))?\b"
)


def numbers(text: str) -> frozenset[Decimal]:
    """The numbers a text states, as values: "$50 million", "$50m", "50,000,000" and
    "fifty million" are all 50000000; "F-35" is 35, "September 2" is 2."""
    folded = fold_accents(text.casefold())
    found: set[Decimal] = set()
    for match in _DIGITS.finditer(folded):
        whole, fraction, short_scale, scale = match.groups()
        try:
            value = Decimal(whole.replace(",", "") + (fraction or ""))
        except InvalidOperation:
            continue
        found.add(value * _SCALES.get(short_scale or scale or "", 1))
    for match in _WORD_NUMBER.finditer(folded):
        tens, unit, small, scale = match.groups()
        value = Decimal(
            _TENS.index(tens) * 10 + 20 + (_UNITS.index(unit) if unit else 0)
            if tens
            else _UNITS.index(small)
        )
        found.add(value * (100 if scale == "hundred" else _SCALES.get(scale or "", 1)))
    return frozenset(found)


# Words that deny or negate, after claims.tips.normalize ("doesn't" is "doesnt", "negó"
# is "nego"): the tips' negations, and the verbs of denial, in English and in Spanish for
# the desk's Spanish sources.
NEGATIONS = tips_negations | frozenset(
    [
        "neither",
        "nor",
        "deny",
        "denies",
        "denied",
        "denying",
        "denial",
        "denials",
        "refute",
        "refutes",
        "refuted",
        "refuting",
        "reject",
        "rejects",
        "rejected",
        "rejecting",
        "rejection",
        "nunca",
        "jamas",
        "tampoco",
        "ni",
        "niega",
        "niegan",
        "nego",
        "negaron",
        "rechaza",
        "rechazan",
        "rechazo",
        "rechazaron",
        "desmiente",
        "desmienten",
        "desmintio",
        "desmintieron",
    ]
)
# Words that say nothing of what a claim is about: neither matched nor unmatched when the
# claim's words are looked for in a passage.
_NEUTRAL = frozenset(
    [
        "the",
        "and",
        "for",
        "that",
        "with",
        "has",
        "have",
        "had",
        "was",
        "were",
        "are",
        "its",
        "his",
        "her",
        "their",
        "this",
        "these",
        "those",
        "from",
        "into",
        "been",
        "which",
        "who",
        "whom",
        "said",
        "says",
        "also",
        "will",
        "would",
        "than",
        "then",
        "there",
        "they",
        "them",
        "but",
        "about",
        "over",
        "after",
        "before",
        "while",
        "when",
        "what",
    ]
)
# Words before the claim's words where its denial stands ("denied that it offers").
LEAD_IN_WORDS = 4


def _stem(word: str) -> str:
    return word[:5]


def _claim_extent(words: Sequence[str], claim_words: Iterable[str]) -> tuple[int, int] | None:
    """The stretch of `words` where the claim's words are densest: the run scoring most
    with +1 for a word of the claim (its first five letters), -0.5 for another word, and
    nothing for short and function words (Kadane's maximum subarray)."""
    stems = {_stem(w) for w in claim_words if len(w) >= 3 and w not in _NEUTRAL}
    best, span = 0.0, None
    run, start = 0.0, 0
    for i, word in enumerate(words):
        if run <= 0:
            run, start = 0.0, i
        if len(word) >= 3 and word not in _NEUTRAL:
            run += 1.0 if _stem(word) in stems else -0.5
        if run > best:
            best, span = run, (start, i)
    return span


def denies(words: Iterable[str]) -> bool:
    return any(word in NEGATIONS for word in words)


def is_repeat(passage: str, statement: str, matched: str) -> bool:
    """The guards: the passage states every number of the claim's statement, and it
    denies where it holds the claim's words exactly when the words it matched (the
    statement, or the quote) deny."""
    if not numbers(statement) <= numbers(passage):
        return False
    words = normalize(passage).split()
    matched_words = normalize(matched).split()
    extent = _claim_extent(words, matched_words)
    if extent is None:
        return False
    first, last = extent
    return denies(words[max(0, first - LEAD_IN_WORDS) : last + 1]) == denies(matched_words)


# --- Scanning a source --------------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    claim_id: int
    passage: Passage
    score: Decimal


def find_repeats(source: Source) -> list[Repeat]:
    """The passages of `source` that repeat a published, rated claim not yet linked to
    it: the closest passage per claim, best first. One statement (and the words'
    statistics, when this process has not read them lately)."""
    found = passages(source.snapshot)
    starts: list[int] = []
    windows: list[str] = []
    texts: list[str] = []
    for passage in found:
        for window in probes(passage.text):
            starts.append(passage.start)
            windows.append(window)
            texts.append(passage.text)
    if not starts:
        return []
    by_start = {passage.start: passage for passage in found}
    common = lexeme_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            MATCH_SQL,
            {
                "starts": starts,
                "probes": windows,
                "passages": texts,
                "config": search_config(source.language),
                "common": list(common),
                "held": list(common.values()),
                "most": MOST_CLAIMS_PER_WORD,
                "rarest": RAREST_WORDS,
                "verdicts": sorted(VERDICT_STATUSES),
                "threshold": SIMILARITY_THRESHOLD,
                "min_quote_words": MIN_QUOTE_WORDS,
                "candidates": CANDIDATES,
                "source": source.pk,
            },
        )
        rows = cursor.fetchall()
    best: dict[int, Repeat] = {}
    for start, claim_id, score, matched, statement in rows:
        passage = by_start[start]
        if not is_repeat(passage.text, statement, matched):
            continue
        repeat = Repeat(claim_id, passage, Decimal(str(round(score, 4))))
        kept = best.get(claim_id)
        if kept is None or (repeat.score, -start) > (kept.score, -kept.passage.start):
            best[claim_id] = repeat
    return sorted(best.values(), key=lambda r: (-r.score, r.passage.start, r.claim_id))


@in_a_transaction
def scan_source(source: Source) -> list[RepeatSuggestion]:
    """Suggest the repeats of published verdicts found in `source` (find_repeats);
    returns the suggestions added. Two statements when something is found, one
    otherwise, whatever the number of passages and claims (find_repeats)."""
    now = timezone.now()
    suggestions = [
        RepeatSuggestion(
            claim_id=repeat.claim_id,
            source=source,
            start=repeat.passage.start,
            end=repeat.passage.end,
            text=repeat.passage.text,
            score=repeat.score,
            created_at=now,
        )
        for repeat in find_repeats(source)
    ]
    if suggestions:
        # A scan running at the same time may have written the same passage first.
        RepeatSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)
    return suggestions


# --- The editor's decision ----------------------------------------------------------


def _pending(suggestion: RepeatSuggestion, editor: User) -> RepeatSuggestion:
    """The suggestion, locked, if `editor` may decide it and it is still pending."""
    require_permission(
        editor, DECIDE_PERMISSION, "Only members of the desk who record appearances can."
    )
    locked = (
        RepeatSuggestion.objects.select_for_update(of=("self",))
        .select_related("claim", "source")
        .get(pk=suggestion.pk)
    )
    if locked.status != SuggestionStatus.PENDING:
        raise ValidationError(
            f"This suggestion was {locked.get_status_display().lower()} already.",
            code="already_decided",
        )
    return locked


@in_a_transaction
def accept_suggestion(suggestion: RepeatSuggestion, editor: User) -> Appearance:
    """Record the suggested repeat as the claim's appearance in the source, and the
    suggestion as accepted by `editor`, in one transaction.

    The appearance is the source's, without a quote: the passage may be the outlet's
    own words or someone else's repeating the claim, and a quote names who spoke. An
    editor who knows the speaker anchors the words as a quote in the claim's admin.
    If the claim appears in the source already (recorded meanwhile), that appearance
    is the one. The source's other pending suggestions of the claim, if any, are
    settled with this one: a claim appears once in a source.
    """
    locked = _pending(suggestion, editor)
    appearance = (
        Appearance.objects.filter(claim=locked.claim, source=locked.source).order_by("pk").first()
    )
    linked = False
    if appearance is None:
        appearance, _ = add_appearance(claim=locked.claim, source=locked.source)
    else:
        # An appearance is linked to one suggestion at most (a one-to-one).
        linked = RepeatSuggestion.objects.filter(appearance=appearance).exists()
    now = timezone.now()
    RepeatSuggestion.objects.filter(pk=locked.pk).update(
        status=SuggestionStatus.ACCEPTED,
        decided_by=editor,
        decided_at=now,
        appearance=None if linked else appearance,
    )
    RepeatSuggestion.objects.filter(
        claim=locked.claim, source=locked.source, status=SuggestionStatus.PENDING
    ).exclude(pk=locked.pk).update(
        status=SuggestionStatus.ACCEPTED, decided_by=editor, decided_at=now
    )
    suggestion.status, suggestion.decided_by, suggestion.decided_at = (
        SuggestionStatus.ACCEPTED,
        editor,
        now,
    )
    suggestion.appearance = None if linked else appearance
    return appearance


@in_a_transaction
def dismiss_suggestion(suggestion: RepeatSuggestion, editor: User) -> None:
    """Mark the suggestion dismissed by `editor`: the passage does not repeat the claim.
    A dismissed passage is never suggested again for that claim and source."""
    locked = _pending(suggestion, editor)
    now = timezone.now()
    RepeatSuggestion.objects.filter(pk=locked.pk).update(
        status=SuggestionStatus.DISMISSED, decided_by=editor, decided_at=now
    )
    suggestion.status, suggestion.decided_by, suggestion.decided_at = (
        SuggestionStatus.DISMISSED,
        editor,
        now,
    )


# --- "This claim came back", on the reader's claim page ---------------------------


@dataclass
class CameBackMonth:
    month: date  # its first day
    sources: list[Source] = field(default_factory=list)


@dataclass
class CameBack:
    """Where a checked claim was repeated since its verdict, by month, newest first."""

    since: datetime
    months: list[CameBackMonth]

    @property
    def total(self) -> int:
        return sum(len(month.sources) for month in self.months)


def verdict_since(history: Sequence[Review]) -> datetime | None:
    """When the claim's current verdict began: the first of the ledger entries in a row
    (newest first, as public_detail() reads them) that left it rated, a re-rating
    included; None when it has no verdict now. A verdict withdrawn and given again
    starts anew."""
    since = None
    for entry in reversed(history):
        rated = get_rating(entry.status_after).is_verdict
        since = (since or entry.created_at) if rated else None
    return since


def repeated_on(source: Source) -> date:
    """The day a source repeated a claim: its publication date, or, when it gives none,
    the day it was archived here (it appeared no later than that)."""
    return source.published_on or timezone.localdate(source.retrieved_at)


def came_back(appearances: Iterable[Appearance], history: Sequence[Review]) -> CameBack | None:
    """The sources a claim appeared in since its verdict, grouped by month (newest
    first), from the appearances and ledger the claim page has already read: no query.

    A source counts once however often it repeats the claim. It came after the verdict
    when it was published on or after the verdict's day; a source that gives no
    publication date, when it was archived here after the verdict. None when the claim
    has no verdict now or was not repeated since."""
    since = verdict_since(history)
    if since is None:
        return None
    verdict_day = timezone.localdate(since)
    sources: dict[int, Source] = {}
    for appearance in appearances:
        source = appearance.source
        after = (
            source.published_on >= verdict_day
            if source.published_on
            else source.retrieved_at >= since
        )
        if after:
            sources.setdefault(source.pk, source)
    if not sources:
        return None
    months: dict[date, CameBackMonth] = {}
    for source in sorted(sources.values(), key=lambda s: (repeated_on(s), s.pk), reverse=True):
        day = repeated_on(source)
        month = day.replace(day=1)
        months.setdefault(month, CameBackMonth(month)).sources.append(source)
    return CameBack(since=since, months=list(months.values()))
