"""The language of a claim, a quote or a source, when the editor did not give it.

lingua's models ship in its wheel (nothing is downloaded), and it is built for short
texts, which quotes and claims are. It is asked to choose only among the desk's
languages (claims.languages.Language), and its answer is kept only when it is sure
enough: a wrong language would put a claim in the wrong search configuration and
mislabel its ClaimReview, while a blank one says "not known" honestly.

Measured on the seed quotes: whole sentences score 0.7 to 0.95 for their language;
single names ("Maduro", 0.34) or two words ("absolutamente descartado", 0.51) are
uncertain. Below MIN_CONFIDENCE, or under MIN_LETTERS letters, the language stays
blank.

A quote is printed inside a source, and the words around it say more
(`detect_quote`): on the seed quotes, the words alone give 21 of 23 ("paradigm
shift" 0.42, "narco-terrorists" 0.48 stay blank); with the source's text around them
(the anchor's prefix and suffix) all 23 are English, at 0.86 or more. The text
around is trusted only when it agrees with the words' own leaning: a Spanish quote
("absolutamente descartado", Spanish 0.51) in an English article reads English at
0.86 with its context, and stays blank rather than be called English.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from claims.languages import Language

if TYPE_CHECKING:
    from lingua import LanguageDetector

MIN_CONFIDENCE = 0.6
MIN_LETTERS = 12


@cache
def _detector() -> LanguageDetector:
    import lingua

    wanted = [
        lingua.Language.from_iso_code_639_1(getattr(lingua.IsoCode639_1, code.upper()))
        for code in Language.values
    ]
    return lingua.LanguageDetectorBuilder.from_languages(*wanted).build()


def _leaning(text: str) -> tuple[str, float]:
    """The desk's language `text` most looks like, and lingua's confidence in it
    (0 to 1); ("", 0.0) when it cannot say at all."""
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return "", 0.0
    code = values[0].language.iso_code_639_1.name.lower()
    return (code, values[0].value) if code in Language.values else ("", 0.0)


def detect(text: str) -> str:
    """The ISO 639-1 code of `text`'s language among the desk's, or "" when unsure."""
    if sum(char.isalpha() for char in text) < MIN_LETTERS:
        return ""
    code, confidence = _leaning(text)
    return code if confidence >= MIN_CONFIDENCE else ""


def detect_quote(words: str, before: str = "", after: str = "") -> str:
    """The language of a quote's `words`, printed between `before` and `after` in its
    source: from the words alone when they tell; else from the words with the text
    around them, when that agrees with the way the words alone lean; else ""."""
    found = detect(words)
    if found or not (before or after):
        return found
    alone, _ = _leaning(words)
    around = detect(f"{before}{words}{after}")
    return around if around and around == alone else ""
