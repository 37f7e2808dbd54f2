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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT_CHARS = 40

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


class _Normalized:
    """A text with quote marks unified and whitespace runs collapsed to one space,
    remembering for each of its characters where it came from in the original."""

    def __init__(self, text: str):
        chars: list[str] = []
        origin: list[int] = []
        in_space = False
        for index, char in enumerate(text):
            if char.isspace():
                if not in_space:
                    chars.append(" ")
                    origin.append(index)
                in_space = True
                continue
            in_space = False
            chars.append(char.translate(_QUOTE_MARKS))
            origin.append(index)
        self.text = "".join(chars)
        self.origin = origin

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


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


def nearest_passage(text: str, words: str) -> tuple[str, float]:
    """The passage of `text` most similar to `words`, and its similarity (0-1)."""
    norm = _Normalized(text)
    target = normalize(words)
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(norm.text)]
    if not tokens or not target:
        return "", 0.0
    width = max(1, len(target.split(" ")))
    best: tuple[float, int, int] = (0.0, 0, 0)
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for size in {max(1, width - 1), width, width + 1}:
        for first in range(0, max(1, len(tokens) - size + 1)):
            last = min(first + size, len(tokens)) - 1
            start, end = tokens[first][0], tokens[last][1]
            matcher.set_seq1(norm.text[start:end])
            if matcher.real_quick_ratio() <= best[0] or matcher.quick_ratio() <= best[0]:
                continue
            ratio = matcher.ratio()
            if ratio > best[0]:
                best = (ratio, start, end)
    ratio, start, end = best
    if ratio == 0.0:
        return "", 0.0
    original_start, original_end = norm.span_in_original(start, end)
    return text[original_start:original_end], ratio


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
        nearest, similarity = nearest_passage(text, words)
        message = f"The words {words!r} are not in the source."
        if nearest:
            message += f" Nearest passage ({similarity:.0%} similar): {nearest!r}"
        raise AnchorError(message, nearest=nearest, similarity=similarity)
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
