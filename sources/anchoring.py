"""Find a quote's words in a source snapshot and describe where they are.

An anchor follows the W3C Web Annotation selectors: the exact text as
printed, some text before and after it (TextQuoteSelector), and its
character offsets (TextPositionSelector, 0-based, end excluded).

Matching forgives what typing and copying change without changing the
words: typographic versus straight quotation marks and apostrophes, and
runs of whitespace. It forgives nothing else: case, spelling, punctuation
other than quote marks, and word boundaries must match. When the words are
not there, the error carries the nearest passage of the snapshot so an
editor can see the typo.

Finding the words is a substring search, linear in the snapshot, whatever
its size. Finding the nearest passage is not (an alignment, about the
snapshot's length times the square of the quote's), so it is bounded:
it looks at the first NEAREST_MAX_SNAPSHOT_CHARS characters of the
snapshot (whitespace collapsed) and only for quotes of at most
NEAREST_MAX_WORDS words and NEAREST_MAX_CHARS characters. A longer quote
that is not in the source is refused without a nearest passage, saying so.
Within the caps it answers in milliseconds (benchmarks/anchoring.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from rapidfuzz import fuzz, process

CONTEXT_CHARS = 40

# The bounds of the nearest-passage search (module docstring). 200,000
# characters is some 30,000 words, a long report; 150 words is a long paragraph.
NEAREST_MAX_SNAPSHOT_CHARS = 200_000
NEAREST_MAX_WORDS = 150
NEAREST_MAX_CHARS = 1_000
# How much of a quote too long to search for is repeated in the error.
_PREVIEW_WORDS = 12

_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark / apostrophe
        "\u201a": "'",  # single low-9
        "\u201b": "'",  # single high-reversed-9
        "\u2032": "'",  # prime
        "\u00b4": "'",  # acute accent used as apostrophe
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',  # double prime
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_TOKEN = re.compile(r"\S+")
_SPACE_RUN = re.compile(r"\s+")
_LONG_SPACE_RUN = re.compile(r"\s{2,}")
_MARKS_AND_SPACE = " \"'"


@dataclass(frozen=True)
class Anchor:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


class AnchorError(ValueError):
    """The words cannot be anchored; `nearest` is the closest passage, if any."""

    def __init__(self, message: str, *, nearest: str = "", similarity: float = 0.0):
        super().__init__(message)
        self.nearest = nearest
        self.similarity = similarity


def _unify_quote_marks(text: str) -> str:
    """`text.translate(_QUOTE_MARKS)`, but a scan per mark (in C) rather than a table
    lookup per character: ten times faster on a long snapshot, which has few marks."""
    for mark, plain in _QUOTE_MARKS.items():
        if chr(mark) in text:
            text = text.replace(chr(mark), plain)
    return text


class _Normalized:
    """A text with quote marks unified and whitespace runs collapsed to one space,
    remembering for each of its characters where it came from in the original.

    Made by regular expressions, not a loop over the characters: a run of
    whitespace (`\\s`, which is exactly str.isspace) becomes one space, and
    only the runs of two or more move the characters after them, so those
    are all that is kept to map an index back to the original.
    """

    def __init__(self, text: str):
        self.text = _unify_quote_marks(_SPACE_RUN.sub(" ", text))
        # From index _starts[k] of this text on, the original is _shifts[k] further.
        self._starts = [0]
        self._shifts = [0]
        for run in _LONG_SPACE_RUN.finditer(text):
            start, end = run.span()
            # The run's one space is at start - shift here; what follows it moves.
            self._starts.append(start - self._shifts[-1] + 1)
            self._shifts.append(self._shifts[-1] + end - start - 1)

    def origin(self, index: int) -> int:
        """Where the character at `index` of this text is in the original."""
        return index + self._shifts[bisect_right(self._starts, index) - 1]

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        return self.origin(start), self.origin(end - 1) + 1


def normalize(text: str) -> str:
    return _Normalized(text).text.strip()


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def _occurrences(haystack: str, needle: str) -> list[int]:
    found = []
    start = haystack.find(needle)
    while start != -1:
        before = haystack[start - 1] if start > 0 else ""
        after_index = start + len(needle)
        after = haystack[after_index] if after_index < len(haystack) else ""
        # A match that starts or ends inside a word changes a word ("ten" in "often").
        cuts_word = (before and _is_word_char(before) and _is_word_char(needle[0])) or (
            after and _is_word_char(after) and _is_word_char(needle[-1])
        )
        if not cuts_word:
            found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def _too_long_to_search(target: str) -> bool:
    return len(target) > NEAREST_MAX_CHARS or target.count(" ") + 1 > NEAREST_MAX_WORDS


def _nearest_span(norm: _Normalized, target: str) -> tuple[int, int, float]:
    """The span of `norm.text` most similar to `target` (normalised), as whole words,
    and its similarity (0-1); (0, 0, 0.0) when nothing is similar at all.

    An alignment (rapidfuzz) finds where in the snapshot the quote's characters
    fit best; the passage is then the run of words there, one word more or
    fewer than the quote, most similar to it. Bounded by the caps above.
    """
    haystack = norm.text[:NEAREST_MAX_SNAPSHOT_CHARS]
    if not target or not haystack.strip() or _too_long_to_search(target):
        return 0, 0, 0.0
    alignment = fuzz.partial_ratio_alignment(target, haystack)
    if alignment is None or alignment.score == 0:
        return 0, 0, 0.0
    # Runs of whole words starting near where the alignment starts (within half
    # the quote's length), one word shorter than the quote, as long, or one longer.
    slack = len(target) // 2 + 1
    low = haystack.rfind(" ", 0, max(0, alignment.dest_start - slack)) + 1
    high = haystack.find(" ", min(len(haystack), alignment.dest_end + len(target)))
    high = len(haystack) if high == -1 else high
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(haystack, low, high)]
    if not tokens:
        return 0, 0, 0.0
    width = target.count(" ") + 1
    windows = []
    for size in sorted({max(1, width - 1), width, width + 1}):
        for first in range(0, max(1, len(tokens) - size + 1)):
            if tokens[first][0] > alignment.dest_start + slack:
                break
            last = min(first + size, len(tokens)) - 1
            windows.append((tokens[first][0], tokens[last][1]))
    _, score, index = process.extractOne(
        target, [haystack[start:end] for start, end in windows], scorer=fuzz.ratio, processor=None
    )
    start, end = windows[index]
    return start, end, score / 100


def nearest_passage(text: str, words: str) -> tuple[str, float]:
    """The passage of `text` most similar to `words`, and its similarity (0-1)."""
    norm = _Normalized(text)
    start, end, ratio = _nearest_span(norm, normalize(words))
    if ratio == 0.0:
        return "", 0.0
    original_start, original_end = norm.span_in_original(start, end)
    return text[original_start:original_end], ratio


def _not_found(text: str, norm: _Normalized, words: str, target: str) -> AnchorError:
    """The error for words that are not in the source, with the nearest passage."""
    if _too_long_to_search(target):
        preview = " ".join(words.split()[:_PREVIEW_WORDS])
        return AnchorError(
            f"The words {preview + ' …'!r} are not in the source. At "
            f"{target.count(' ') + 1:,} words and {len(target):,} characters, the quote "
            f"is too long to look for the nearest passage (at most {NEAREST_MAX_WORDS} words "
            f"and {NEAREST_MAX_CHARS:,} characters): check a shorter part of it."
        )
    start, end, similarity = _nearest_span(norm, target)
    message = f"The words {words!r} are not in the source."
    if similarity == 0.0:
        return AnchorError(message)
    original_start, original_end = norm.span_in_original(start, end)
    nearest = text[original_start:original_end]
    message += f" Nearest passage ({similarity:.0%} similar): {nearest!r}"
    if len(norm.text) > NEAREST_MAX_SNAPSHOT_CHARS:
        message += f" (looked for in the first {NEAREST_MAX_SNAPSHOT_CHARS:,} characters)"
    return AnchorError(message, nearest=nearest, similarity=similarity)


def locate(text: str, words: str, *, context_before: str = "") -> Anchor:
    """Anchor `words` in `text`.

    `context_before` picks one occurrence when the words occur more than
    once: the text just before the wanted occurrence must end with it.
    """
    target = normalize(words)
    if not target:
        raise AnchorError("The quote is empty.")
    norm = _Normalized(text)
    starts = _occurrences(norm.text, target)
    if not starts:
        raise _not_found(text, norm, words, target)
    if context_before:
        # Quote marks and spaces between the context and the words don't count.
        hint = normalize(context_before).rstrip(_MARKS_AND_SPACE)
        starts = [s for s in starts if norm.text[:s].rstrip(_MARKS_AND_SPACE).endswith(hint)]
        if not starts:
            raise AnchorError(
                f"The words {words!r} occur in the source, but never right after {context_before!r}."
            )
    if len(starts) > 1:
        raise AnchorError(
            f"The words {words!r} occur {len(starts)} times in the source; "
            "give the words just before the one you mean (context_before)."
        )
    start, end = norm.span_in_original(starts[0], starts[0] + len(target))
    return Anchor(
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
        start=start,
        end=end,
    )
