"""Candidate claims: the sentences of a source worth checking, ranked.

When a source is added (claims.source_pipeline), its snapshot is split into
sentences by pysbd, in the source's language (English when it has none, or when
pysbd has no rules for it). Each sentence of at least MIN_WORDS words is scored
from features an editor can read back: each feature found adds (or, for the
penalties, takes away) its weight once, whatever the number of its matches, and
the evidence it found is kept with it. The score is the sum, at least 0; the
positive weights add up to 0.85, so no sentence reaches 1 and none is clipped at
the top. A sentence with no feature scores 0: nothing in it points to a claim.

The features:
- QUANTITY: money ("$50 million", "50 millones de dólares"), percentages, counts and
  measures ("11 individuals", "seven drug cartels", "30 tons") and, in English, the
  units those patterns miss as quantulum3 reads them ("5km": a length). A bare
  number scores NUMBER instead, and the numbers of a date count as the date.
- SPEAKER: a speaker the desk knows, by name or alias, capitalised as a name is.
- ATTRIBUTION: someone said, told, accused, denied, announced... ("según", "dijo").
- COMPARISON: more/less than, "-er than", superlatives, records, rises and falls.
- DATE: month names, weekdays, years, "last week", "earlier this month".
- Penalties: a QUESTION; SPECULATION ("it remains unknown", "unclear", "may",
  "could"); a sentence under SHORT_WORDS words (too little to check) or over
  LONG_WORDS (several claims at once, a list).
The word lists are English and Spanish (the desk's sources are mostly one or the
other); in other languages only what needs no words counts (digits, currency
signs, "%", years, speakers' names, "?").

How the weights were chosen. Start from what check-worthiness studies find
(ClaimBuster, Full Fact): a number is the strongest single sign of a checkable
claim, so QUANTITY weighs twice any other feature; a speaker named and a verb
attributing words to someone say that somebody stands behind it; comparisons
claim an order that can be checked; a date anchors it in time but is common in
sentences that claim nothing, so it weighs less. The penalties are set so that a
pure speculation or a question falls below any sentence carrying a claim's signs.
The weights were then checked on the seed articles (seeds/, 29 sentences, 19 of
which the desk drew its seed claims from, seeds/ledger.yaml):
- the Bondi "30 tons of cocaine" sentence ranks 1st (0.70), the "$50 million bounty"
  sentence 2nd (0.60) and the other article's "$50 million" 4th (0.45); "It remains
  unknown which specific cartels the president is targeting" ranks last (0:
  speculation, -0.25);
- 9 of the top 10 are sentences the desk drew claims from (19 of 29 overall), and 6
  of the 7 sentences behind its numeric claims are in the top 10 (the F-35s are 11th);
- the three sentences scoring 0 are none the desk drew a claim from ("This operation
  marks a significant strategic shift..."); of the eight at 0.15 (a speaker named, or
  a rise, and nothing else), it drew from four.
Scoring both seed articles takes about 0.1 s. quantulum3 is imported only when a
sentence has a number the patterns did not read: its first parse loads its units and
`inflect`, 5 to 9 s once per process, and each parse costs 10 to 30 ms.

Only the first MAX_CHARS characters of a snapshot are scored (a long article is
about 20,000), and no "sentence" over MAX_SENTENCE_CHARS, so that adding a source in
the admin stays quick whatever is pasted: 50,000 characters of news take about 0.3 s,
of figures ("$1,000 and 2% more than 3 tons on May 5, 2024." a thousand times) 2.4 s.

The editor turns a candidate into a claim (the draft-a-claim page, through
claims.services.draft_claim_from_quote: `mark_drafted`) or dismisses it. Scoring
again (`refresh_for`, `manage.py score_sources`) replaces the new candidates and
keeps those the editor handled.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import transaction

from claims.language_detection import detect
from claims.models import CandidateSentence, CandidateStatus, Claim, Speaker
from claims.services import require_permission
from claims.tips import fold_accents

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from sources.models import Source

logger = logging.getLogger(__name__)

# --- The weights ---------------------------------------------------------------

QUANTITY = Decimal("0.30")
NUMBER = Decimal("0.10")  # a bare number; not added when QUANTITY is
SPEAKER = Decimal("0.15")
ATTRIBUTION = Decimal("0.15")
COMPARISON = Decimal("0.15")
DATE = Decimal("0.10")
QUESTION = Decimal("-0.30")
SPECULATION = Decimal("-0.25")
SHORT = Decimal("-0.10")
LONG = Decimal("-0.10")

# Sentences of fewer words are not candidates at all ("Reuters reported.", headings).
MIN_WORDS = 5
# Fewer words than this: penalised as SHORT; more than LONG_WORDS: as LONG. The seed
# sentences run 13 to 44 words.
SHORT_WORDS = 8
LONG_WORDS = 60
# How much of a snapshot is scored.
MAX_CHARS = 50_000
# A "sentence" longer than this is a list, a table or text without full stops, not a
# claim's words (the seeds' longest sentence is 285 characters); it is not scored.
MAX_SENTENCE_CHARS = 1_000
# A speaker's name is at most this many words long, for the lookup.
NAME_WORDS = 6
# How many candidates the admin shows before "show all".
SHOWN = 10
# The text before a sentence given to the quote's anchoring when its words repeat.
CONTEXT_CHARS = 60

# What each feature says of a sentence, in the editor's words ("because it ...").
LABELS = {
    "quantity": "states numbers with units, money or counts",
    "number": "states a number",
    "speaker": "names a known speaker",
    "attribution": "attributes words or acts to someone",
    "comparison": "compares or ranks",
    "date": "gives a date",
    "question": "is a question",
    "speculation": "speculates or hedges",
    "short": "is very short",
    "long": "is very long",
}

SCORE_PLACES = Decimal("0.0001")
# Who may draft a claim from a candidate or dismiss it: those who may draft claims.
DECIDE_PERMISSION = "claims.add_claim"


@dataclass(frozen=True)
class Feature:
    name: str
    weight: Decimal
    evidence: str

    def as_json(self) -> dict[str, Any]:
        return {"feature": self.name, "weight": float(self.weight), "evidence": self.evidence}


@dataclass(frozen=True)
class Scored:
    """A sentence of a text, where it is, and its score with what made it."""

    start: int
    end: int
    text: str
    score: Decimal
    features: tuple[Feature, ...]


# --- The words of each language ------------------------------------------------------

_NUM = r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
# Not a piece of a bigger number or of a name such as "F-35" or "COVID-19".
_ALONE = r"(?<![\w.,\-])"
_CURRENCY_SIGNS = r"(?:US\$|R\$|\$|€|£|¥)"
_NEVER = r"(?!)"


def _words(words: str) -> str:
    """An alternation of the comma-separated `words` (longest first, so "per cent" wins
    over "per"); spaces within an entry match any white space."""
    ordered = sorted({w.strip() for w in words.split(",") if w.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered) or _NEVER


def _any(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns) or _NEVER


@dataclass(frozen=True)
class Lexicon:
    money: re.Pattern[str]
    percent: re.Pattern[str]
    count: re.Pattern[str]
    number: re.Pattern[str]
    date: re.Pattern[str]
    attribution: re.Pattern[str]
    comparison: re.Pattern[str]
    speculation: re.Pattern[str]


def _lexicon(
    *,
    number_words: str = "",
    scales: str = "",
    currencies: str = "",
    percent_words: str = "",
    function_words: str = "",
    of: str = _NEVER,
    dates: Iterable[str] = (),
    attribution: Iterable[str] = (),
    comparison: Iterable[str] = (),
    speculation: Iterable[str] = (),
) -> Lexicon:
    numbers = _words(number_words)
    scale = _words(scales)
    amount = rf"{_ALONE}(?:{_NUM}|\b(?:{numbers})\b)(?:\s+(?:{scale})\b)?"
    thing = r"[^\W\d_][\w’'\-]*"
    not_function = rf"(?!(?:{_words(function_words)})\b)"
    # The things counted: a word, or up to four ending in a plural ("seven drug cartels",
    # "ten F-35 stealth fighter jets") where the language's function words tell where
    # they stop ("30 tons of cocaine": "30 tons").
    things = (
        rf"(?:{not_function}{thing}\s+){{0,3}}{not_function}{thing}s\b|{not_function}{thing}"
        if function_words
        else thing
    )
    year = r"(?<![\w$€£.,\-])(?:1[89]\d\d|20\d\d)(?![\w]|[.,]\d)"
    return Lexicon(
        money=re.compile(
            _any(
                [
                    rf"{_CURRENCY_SIGNS}\s?(?:{_NUM})(?:\s?(?:{scale}|bn|m)\b)?",
                    rf"{amount}\s+(?:(?:{of})\s+)?(?:{_words(currencies)})\b",
                ]
            ),
            re.IGNORECASE,
        ),
        percent=re.compile(
            rf"{_ALONE}(?:{_NUM})(?:\s?%|\s*(?:{_words(percent_words)})\b)", re.IGNORECASE
        ),
        # A number and the things counted: "11 individuals", "seven drug cartels".
        count=re.compile(
            rf"{amount}\s+(?:(?:{of})\s+)?(?:{things})",
            re.IGNORECASE,
        ),
        number=re.compile(rf"{_ALONE}(?:{_NUM})(?![\w])|\b(?:{numbers})\b", re.IGNORECASE),
        date=re.compile(_any([year, *dates])),
        attribution=re.compile(rf"\b(?:{_any(attribution)})\b", re.IGNORECASE),
        comparison=re.compile(rf"\b(?:{_any(comparison)})\b", re.IGNORECASE),
        speculation=re.compile(rf"\b(?:{_any(speculation)})\b", re.IGNORECASE),
    )


_EN_MONTHS = (
    r"(?:\b(?:January|February|March|April|June|July|August|September|October|November|"
    r"December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
    # "May" the month, not the verb: with a day or a year, or after "in", "of"...
    r"|\bMay(?=\s+\d)|(?i:\b(?:in|of|since|until|by|early|late|mid|last|next|this))\s+May\b)"
)

ENGLISH = _lexicon(
    number_words=(
        "two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, "
        "thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty, "
        "thirty, forty, fifty, sixty, seventy, eighty, ninety, hundred, thousand, "
        "dozen, dozens, hundreds, thousands, millions, billions"
    ),
    scales="thousand, million, billion, trillion",
    currencies=(
        "dollars, dollar, euros, euro, pounds, pesos, bolivars, bolívars, yuan, yen, "
        "rupees, USD, EUR, GBP, MXN"
    ),
    percent_words="percent, per cent, percentage points, percentage point",
    function_words=(
        "of, to, in, on, at, and, or, but, the, a, an, for, with, by, from, as, is, "
        "was, are, were, be, been, has, have, had, it, its, this, that, these, those, "
        "than, per, who, which, he, she, they, them, we, you, his, her, their, our, "
        "times"
    ),
    of="of",
    dates=[
        rf"{_EN_MONTHS}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d))?(?:,?\s+\d{{4}})?",
        r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
        r"(?i:\b(?:(?:last|this|next|past|earlier\s+this|later\s+this)\s+"
        r"(?:year|month|week|decade|spring|summer|autumn|winter)|yesterday|today|tomorrow)\b)",
    ],
    attribution=[
        r"sa(?:y|ys|id|ying)",
        r"t(?:old|ell|ells)",
        r"according\s+to",
        r"accus(?:e|es|ed|ing)",
        r"claim(?:s|ed|ing)?",
        r"announc(?:e|es|ed|ing)",
        r"stat(?:ed|ing)",
        r"den(?:y|ies|ied|ying)",
        r"insist(?:s|ed)?",
        r"warn(?:s|ed)?",
        r"argu(?:e|es|ed)",
        r"alleg(?:e|es|ed)",
        r"acknowledg(?:e|es|ed)",
        r"confirm(?:s|ed)?",
        r"declar(?:e|es|ed)",
        r"testif(?:y|ies|ied)",
        r"admit(?:s|ted)?",
        r"wrote|tweeted|reported",
    ],
    comparison=[
        r"(?:more|less|fewer)\s+(?:[\w’'-]+\s+){0,2}than",
        r"(?:greater|larger|higher|lower|bigger|smaller|better|worse)\s+than",
        # "-er than", but not "other than", "rather than".
        r"(?!(?:other|rather|either|whether|never)\b)[a-z]+er\s+than",
        r"most|least|largest|highest|lowest|biggest|smallest|best|worst|fastest|slowest",
        r"record|increas(?:e|es|ed|ing)|decreas(?:e|es|ed|ing)|doubl(?:e|es|ed)",
        r"tripl(?:e|es|ed)|halv(?:e|es|ed)|r(?:ose|ise|ises|isen)|f(?:ell|alls|allen)",
        r"gr(?:ew|ows|own)|drop(?:s|ped)|surg(?:e|es|ed)|soar(?:s|ed)|plung(?:e|es|ed)",
        r"compared\s+(?:with|to)|times\s+(?:as|more)",
    ],
    speculation=[
        r"it\s+remains\s+unknown|remains?\s+unclear|unknown|unclear|not\s+clear",
        r"may|might|could|perhaps|possibly|speculat\w*|rumou?r\w*",
    ],
)

SPANISH = _lexicon(
    number_words=(
        "dos, tres, cuatro, cinco, seis, siete, ocho, nueve, diez, once, doce, trece, "
        "catorce, quince, veinte, treinta, cuarenta, cincuenta, sesenta, setenta, "
        "ochenta, noventa, cien, cientos, mil, miles, millones, decenas, centenares"
    ),
    scales="mil millones, millones, millón, mil, billones",
    currencies="dólares, dólar, euros, euro, pesos, bolívares, libras, USD, EUR, MXN, VES",
    percent_words="por ciento, puntos porcentuales, punto porcentual",
    function_words=(
        "de, del, a, al, en, y, o, u, e, que, el, la, los, las, lo, un, una, por, "
        "para, con, sin, se, su, sus, es, son, fue, fueron, ha, han, como, más, menos, "
        "veces"
    ),
    of="de",
    dates=[
        r"(?i:(?:\b\d{1,2}\s+de\s+)?\b(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
        r"septiembre|setiembre|octubre|noviembre|diciembre)\b(?:\s+de\s+\d{4})?)",
        r"(?i:\b(?:lunes|martes|miércoles|jueves|viernes|sábado|domingo)\b)",
        r"(?i:\b(?:(?:el|este|esta|la)\s+(?:año|mes|semana)(?:\s+pasad[oa])?|ayer|hoy)\b)",
    ],
    attribution=[
        r"dijo|dijeron|dice|dicen",
        r"según",
        r"afirm(?:ó|a|an|aron)",
        r"acus(?:ó|a|an|aron)",
        r"neg(?:ó|aron)|niegan?",
        r"declar(?:ó|a|an|aron)",
        r"asegur(?:ó|a|an|aron)",
        r"señal(?:ó|a|an|aron)",
        r"anunci(?:ó|a|an|aron)",
        r"denunci(?:ó|a|an|aron)",
        r"sostuvo|sostiene",
        r"indic(?:ó|a|an|aron)",
        r"inform(?:ó|a|an|aron)",
        r"advirti(?:ó|eron)|advierten?",
        r"confirm(?:ó|a|an|aron)",
        r"reconoci(?:ó|eron)|admiti(?:ó|eron)",
    ],
    comparison=[
        r"más\s+(?:de|que)|menos\s+(?:de|que)",
        r"mayor(?:es)?|menor(?:es)?|récord|peor(?:es)?|superior\s+a|inferior\s+a",
        r"aument(?:ó|a|aron|o)|disminu(?:yó|ye|yeron|ción)|duplic(?:ó|a|aron)",
        r"triplic(?:ó|a|aron)|cay(?:ó|eron)|creci(?:ó|eron)|subi(?:ó|eron)|baj(?:ó|aron)",
        r"comparad[oa]s?\s+con",
    ],
    speculation=[
        r"no\s+está\s+claro|se\s+desconoce|desconocid[oa]s?|incierto",
        r"podrían?|quizás?|tal\s+vez|posiblemente|puede\s+que|especul\w*|rumor\w*",
    ],
)

# Languages without word lists: only what needs no words.
NO_WORDS = _lexicon()

LEXICONS = {"en": ENGLISH, "es": SPANISH}


def lexicon_for(language: str) -> Lexicon:
    return LEXICONS.get(language or "en", NO_WORDS)


# --- Sentences -------------------------------------------------------------------------


def _segmenter_language(language: str) -> str:
    from pysbd.languages import LANGUAGE_CODES  # type: ignore[import-untyped]

    return language if language in LANGUAGE_CODES else "en"


def sentences(text: str, language: str = "") -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, surrounding white space left out, in
    order and without overlap: `text[start:end]` is the sentence exactly as written.

    pysbd's own offsets (`char_span=True`) search each sentence from the start of the
    text, which is quadratic where sentences repeat (25 s for 50,000 characters of
    ". . ."): its sentences are found here after the one before instead. pysbd keeps
    the text as it is (`clean=False`); a sentence it altered all the same (a known
    edge case: runs of full stops) is not found, and left out."""
    import pysbd  # type: ignore[import-untyped]

    if not text.strip():
        return []
    segmenter = pysbd.Segmenter(language=_segmenter_language(language), clean=False)
    found: list[tuple[int, int]] = []
    cursor = 0
    for piece in segmenter.processor(text).process():
        sentence = piece.strip()
        start = text.find(sentence, cursor) if sentence else -1
        if start == -1:
            if sentence:
                logger.debug("sentence not in the text, left out: %r", sentence[:80])
            continue
        cursor = start + len(sentence)
        found.append((start, cursor))
    return found


# --- Speakers ---------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")


def _fold(word: str) -> str:
    return fold_accents(word).casefold()


class SpeakerNames:
    """The desk's speakers' names and aliases, looked up word by word: the cost of a
    sentence does not grow with the number of speakers."""

    def __init__(self, names: Iterable[tuple[str, Iterable[str]]]):
        self.keys: dict[str, str] = {}
        self.longest = 1
        for name, aliases in names:
            for form in (name, *aliases):
                words = [_fold(w) for w in _TOKEN.findall(form)]
                if not words or len(words) > NAME_WORDS:
                    continue
                self.keys.setdefault(" ".join(words), name)
                self.longest = max(self.longest, len(words))

    @classmethod
    def load(cls) -> SpeakerNames:
        """Every speaker's name and aliases: one query."""
        return cls(Speaker.objects.values_list("name", "aliases"))

    def find(self, text: str) -> list[tuple[str, str]]:
        """(the words in `text`, the speaker's name) of each speaker named in `text`,
        longest names first where they overlap; a name counts only capitalised."""
        tokens = list(_TOKEN.finditer(text))
        folded = [_fold(t.group()) for t in tokens]
        found: list[tuple[str, str]] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                name = self.keys.get(" ".join(folded[i : i + n]))
                if name and tokens[i].group()[0].isupper():
                    found.append((text[tokens[i].start() : tokens[i + n - 1].end()], name))
                    i += n
                    break
            else:
                i += 1
        return found


# --- Scoring ----------------------------------------------------------------------------


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _evidence(items: Iterable[str]) -> str:
    unique = dict.fromkeys(" ".join(item.split()) for item in items)
    return "; ".join(unique)


@cache
def _quantulum_parser():
    with warnings.catch_warnings():
        # It warns that its optional classifier (scikit-learn) is not installed.
        warnings.simplefilter("ignore")
        from quantulum3 import parser  # type: ignore[import-untyped]

    return parser


_DIGITS = re.compile(r"\d+")
# quantulum3's readings that are not measures: plain numbers, and units it made up.
_NOT_MEASURES = {"dimensionless", "unknown"}


def _measures(text: str) -> list[tuple[int, int, str]]:
    """Quantities with a unit in English text, as quantulum3 reads them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _quantulum_parser().parse(text)
    except Exception:  # a third-party parser's bug must not stop a source being added
        logger.warning("quantulum3 failed on %r", text[:80], exc_info=True)
        return []
    return [
        (q.span[0], q.span[1], q.surface)
        for q in parsed
        if q.unit.entity.name not in _NOT_MEASURES and q.value
    ]


def _quantities(
    text: str, lexicon: Lexicon, language: str, taken: list[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    spans = list(taken)

    def keep(start: int, end: int, surface: str) -> None:
        if not _overlaps((start, end), spans):
            found.append((start, end, surface))
            spans.append((start, end))

    for pattern in (lexicon.money, lexicon.percent, lexicon.count):
        for m in pattern.finditer(text):
            keep(m.start(), m.end(), m.group())
    # quantulum3 reads the units the patterns miss ("5km", "10°C"), in English: asked
    # only when a number is left over, since it costs 10 to 30 ms a sentence.
    if language in ("", "en") and any(
        not _overlaps(m.span(), spans) for m in _DIGITS.finditer(text)
    ):
        for start, end, surface in _measures(text):
            keep(start, end, surface)
    return sorted(found)


def score_sentence(
    text: str, language: str = "", speakers: SpeakerNames | None = None
) -> tuple[Decimal, list[Feature]]:
    """The check-worthiness of one sentence, 0 to 1, and the features that made it."""
    lexicon = lexicon_for(language)
    features: list[Feature] = []

    dates = list(lexicon.date.finditer(text))
    date_spans = [m.span() for m in dates]
    quantities = _quantities(text, lexicon, language, date_spans)
    if quantities:
        features.append(Feature("quantity", QUANTITY, _evidence(q[2] for q in quantities)))
    else:
        numbers = [m for m in lexicon.number.finditer(text) if not _overlaps(m.span(), date_spans)]
        if numbers:
            features.append(Feature("number", NUMBER, _evidence(m.group() for m in numbers)))
    if speakers is not None and (named := speakers.find(text)):
        features.append(
            Feature(
                "speaker",
                SPEAKER,
                _evidence(words if words == name else f"{words} ({name})" for words, name in named),
            )
        )
    for name, pattern, weight in (
        ("attribution", lexicon.attribution, ATTRIBUTION),
        ("comparison", lexicon.comparison, COMPARISON),
    ):
        if matches := [m.group() for m in pattern.finditer(text)]:
            features.append(Feature(name, weight, _evidence(matches)))
    if dates:
        features.append(Feature("date", DATE, _evidence(m.group() for m in dates)))

    if text.rstrip(" \"'”’»)]").endswith("?") or "¿" in text:
        features.append(Feature("question", QUESTION, "?"))
    hedges = [
        m.group()
        for m in lexicon.speculation.finditer(text)
        if not _overlaps(m.span(), date_spans)  # "May" the month
    ]
    if hedges:
        features.append(Feature("speculation", SPECULATION, _evidence(hedges)))
    words = len(text.split())
    if words < SHORT_WORDS:
        features.append(Feature("short", SHORT, f"{words} words"))
    elif words > LONG_WORDS:
        features.append(Feature("long", LONG, f"{words} words"))

    total = sum((f.weight for f in features), Decimal(0))
    score = min(max(total, Decimal(0)), Decimal(1)).quantize(SCORE_PLACES)
    return score, features


def score_text(text: str, language: str = "", speakers: SpeakerNames | None = None) -> list[Scored]:
    """The sentences of `text` (its first MAX_CHARS characters) that may hold a claim,
    highest score first (ties: in the order of the text)."""
    scored_part = text[:MAX_CHARS]
    spans = sentences(scored_part, language)
    if len(text) > MAX_CHARS and spans and spans[-1][1] == len(scored_part.rstrip()):
        spans.pop()  # cut short by the limit
    found = []
    for start, end in spans:
        sentence = text[start:end]
        if len(sentence.split()) < MIN_WORDS or len(sentence) > MAX_SENTENCE_CHARS:
            continue
        score, features = score_sentence(sentence, language, speakers)
        found.append(Scored(start, end, sentence, score, tuple(features)))
    return sorted(found, key=lambda s: (-s.score, s.start))


def score_source(source: Source, speakers: SpeakerNames | None = None) -> list[Scored]:
    # A source stored before languages were detected is scored in the language its
    # text is in, which the pipeline saves when the source is added.
    language = source.language or detect(source.snapshot[:5000])
    return score_text(source.snapshot, language, speakers or SpeakerNames.load())


def refresh_for(source: Source, *, speakers: SpeakerNames | None = None) -> int:
    """Score the source's sentences again: its new candidates are replaced, those the
    editor drafted or dismissed are kept (and not offered again). Returns how many new
    candidates were stored. Four statements (the speakers unless given, the delete,
    the starts kept, the insert) and the savepoint around the last three."""
    scored = score_source(source, speakers)
    with transaction.atomic():
        CandidateSentence.objects.filter(source=source, status=CandidateStatus.NEW).delete()
        handled = set(
            CandidateSentence.objects.filter(source=source).values_list("start", flat=True)
        )
        new = [s for s in scored if s.start not in handled]
        # ON CONFLICT DO NOTHING on the unique (source, start): a refresh of the same
        # source running at the same time has stored the same sentences.
        CandidateSentence.objects.bulk_create(
            [
                CandidateSentence(
                    source=source,
                    start=s.start,
                    end=s.end,
                    text=s.text,
                    score=s.score,
                    features=[f.as_json() for f in s.features],
                )
                for s in new
            ],
            ignore_conflicts=True,
        )
    return len(new)


# --- The editor's decisions -----------------------------------------------------------


def mark_drafted(candidate: CandidateSentence, claim: Claim) -> None:
    """The candidate became `claim` (the first claim drafted from it stays its claim)."""
    CandidateSentence.objects.filter(pk=candidate.pk).exclude(
        status=CandidateStatus.DRAFTED
    ).update(status=CandidateStatus.DRAFTED, claim=claim)


def dismiss(candidate: CandidateSentence, *, user: User) -> None:
    """The editor sees nothing to check in it; a drafted candidate stays drafted. Those
    who may draft claims decide (claims.add_claim: editors and contributors)."""
    require_permission(user, DECIDE_PERMISSION, "Only the desk can dismiss candidate claims.")
    CandidateSentence.objects.filter(pk=candidate.pk, status=CandidateStatus.NEW).update(
        status=CandidateStatus.DISMISSED
    )


@dataclass(frozen=True)
class Reason:
    label: str
    weight: Decimal
    evidence: str


def reasons(features: list[dict[str, Any]]) -> list[Reason]:
    """A candidate's stored features as the editor reads them, strongest first."""
    found = [
        Reason(
            LABELS.get(f["feature"], f["feature"]),
            Decimal(str(f["weight"])).quantize(Decimal("0.01")),
            f.get("evidence", ""),
        )
        for f in features
    ]
    return sorted(found, key=lambda r: -r.weight)


@dataclass(frozen=True)
class Shown:
    """A new candidate as the source's admin page lists it."""

    candidate: CandidateSentence
    reasons: list[Reason]


def ranked_new(source: Source) -> list[Shown]:
    """The source's new candidates, highest score first: one query."""
    found = CandidateSentence.objects.filter(source=source, status=CandidateStatus.NEW).order_by(
        "-score", "start"
    )
    return [Shown(candidate, reasons(candidate.features)) for candidate in found]


def context_before(candidate: CandidateSentence, source: Source, words: str) -> str:
    """What the quote's anchoring needs to tell the candidate's sentence from the same
    words elsewhere in the source: the text before it, when the editor kept the whole
    sentence and it occurs more than once; else nothing."""
    if words != candidate.text or source.snapshot.count(words) < 2:
        return ""
    return source.snapshot[max(0, candidate.start - CONTEXT_CHARS) : candidate.start]
