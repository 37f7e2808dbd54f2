"""Full-text search over claims, shared by the reader pages, the admin and the API.

The search vector is stored on each claim and kept current by database
triggers (migrations 0005 and 0021), with a GIN index; queries use PostgreSQL's
web search syntax: "quoted phrases", -excluded words, OR.

Each claim is indexed in its own language (claims.languages.search_config): a
Spanish claim's words are Spanish stems, an English claim's English ones. A reader
does not say which language they search in, so each word or phrase of a query
asks for its English, Spanish and unstemmed forms at once (the database's
factcheck_search_words): "descartadas" finds a Spanish "descartado", "Nicolas"
finds "Nicolás", and a query may mix languages. The query's structure (AND, OR,
-excluded, "phrases") is read here, term by term, rather than by
websearch_to_tsquery for each language as a whole: OR-ing whole queries would let
an excluded word through whenever its forms differ between the languages (the
English query excludes 'bounti', the Spanish one 'bounty', and an English claim
holds only 'bounti').
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchQueryCombinable,
    SearchRank,
)
from django.db import connection
from django.db.models import (
    F,
    Func,
    OuterRef,
    QuerySet,
    StringAgg,
    Subquery,
    TextField,
    Value,
)
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from claims.models import Appearance, Claim

# ts_headline marks matches with these; they are swapped for <mark> only after
# the text around them has been escaped, so a statement can never inject HTML.
_START, _STOP = "\x02", "\x03"


class _InEveryLanguage(SearchQuery):
    """A word, a few words (all of them) or a "phrase" of a query, in the forms of every
    search configuration (migration 0021); a stop word asks for nothing."""

    SEARCH_TYPES = {"plain": "factcheck_search_words", "phrase": "factcheck_search_phrase"}


# A term of web search syntax: an optional "-" (exclude), then a "quoted phrase" (its
# closing quote optional, as PostgreSQL reads it) or a run of other characters.
_TERM = re.compile(r'(?P<exclude>-?)(?:"(?P<phrase>[^"]*)"?|(?P<words>[^\s"]+))')


def _balanced(
    parts: Sequence[SearchQueryCombinable],
    join: Callable[[SearchQueryCombinable, SearchQueryCombinable], SearchQueryCombinable],
) -> SearchQueryCombinable:
    # Pairwise, so that a long query compiles to a shallow tree, not one nested
    # a level deeper per word.
    while len(parts) > 1:
        parts = [
            join(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


def search_query(text: str) -> SearchQueryCombinable:
    """`text` in web search syntax as a tsquery matching claims in any of the desk's
    languages: terms are ANDed, OR between terms (any case) separates alternatives
    (AND binding tighter), a leading "-" excludes a term, quotes make a phrase, and
    any other punctuation is read as the configurations read it (websearch_to_tsquery's
    rules)."""
    alternatives: list[list[SearchQueryCombinable]] = [[]]
    for term in _TERM.finditer(text):
        words, phrase = term["words"], term["phrase"]
        if words is not None and not term["exclude"] and words.lower() == "or":
            alternatives.append([])
            continue
        if phrase is not None:
            part = _InEveryLanguage(phrase, search_type="phrase")
        else:
            part = _InEveryLanguage(words)
        alternatives[-1].append(~part if term["exclude"] else part)
    found = [_balanced(terms, lambda a, b: a & b) for terms in alternatives if terms]
    if not found:  # nothing but spaces: a query that matches nothing, as before
        return _InEveryLanguage(text)
    return _balanced(found, lambda a, b: a | b)


def _config_of(language: str) -> Func:
    """The search configuration of a language column (factcheck_search_config)."""
    return Func(F(language), function="factcheck_search_config", output_field=TextField())


def search_claims(queryset: QuerySet, text: str) -> QuerySet:
    """Claims matching `text`, best first, each with `rank`, a `headline` of the
    statement and a `quoted_headline` of the words it was quoted through (the
    search vector covers those too, so a claim can match on a word its
    statement lacks)."""
    query = search_query(text)
    # Each quote is read in its own language; those holding none of the words are
    # left out (ts_headline would give their opening words).
    quoted_headline = Subquery(
        Appearance.objects.filter(claim=OuterRef("pk"), quote__isnull=False)
        .alias(
            fragment=SearchHeadline(
                "quote__exact",
                query,
                config=_config_of("quote__language"),
                start_sel=_START,
                stop_sel=_STOP,
                max_fragments=2,
                fragment_delimiter=" … ",
                min_words=5,
                max_words=20,
            )
        )
        .filter(fragment__contains=_START)
        .order_by()
        .values("claim")
        .annotate(fragments=StringAgg("fragment", Value(" … "), order_by="quote__start"))
        .values("fragments"),
        output_field=TextField(),
    )
    return (
        queryset.filter(search_vector=query)
        .annotate(
            rank=SearchRank(F("search_vector"), query),
            headline=SearchHeadline(
                "statement",
                query,
                config=_config_of("language"),
                start_sel=_START,
                stop_sel=_STOP,
                highlight_all=True,
            ),
            quoted_headline=quoted_headline,
        )
        .order_by("-rank", "-pk")
    )


def highlight(headline: str) -> SafeString:
    """The headline as safe HTML: everything escaped, matches in <mark>."""
    marked = escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(marked)  # noqa: S308 - escaped just above


def search_claims_capped(queryset: QuerySet, text: str, cap: int) -> QuerySet:
    """`search_claims`, ranking only the first `cap` matches the GIN index yields:
    a common word matches most claims, and ranking all of them is what is slow.
    Specific queries match fewer than `cap` and are ranked whole."""
    candidates = queryset.filter(search_vector=search_query(text)).order_by().values("pk")[:cap]
    return search_claims(queryset.filter(pk__in=candidates), text)


# --- How common each word is -------------------------------------------------------

# A word held by more claims than this is left out of the lookups that find claims by
# their rarest shared words (similar claims, likely duplicates, repeats): the index
# reads each word's whole posting list, which is what grows with the table (26 ms at
# a million claims for "million"), and a word that common says little.
MOST_CLAIMS_PER_WORD = 5_000

# Kept this long per process: ANALYZE refreshes the statistics far less often.
LEXEME_STATS_SECONDS = 600
_lexeme_stats: tuple[float, dict[str, float]] = (0.0, {})


def lexeme_counts() -> dict[str, float]:
    """About how many claims hold each of the search vector's most common words, from
    PostgreSQL's own statistics (ANALYZE's most common elements, up to a few
    hundred, times the table's estimated rows): a word not listed is rarer than every
    listed one. Empty before the table was ever analysed."""
    global _lexeme_stats
    read_at, counts = _lexeme_stats
    if time.monotonic() - read_at < LEXEME_STATS_SECONDS:
        return counts
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples"
            " FROM pg_stats s JOIN pg_class c ON c.oid = %s::regclass"
            " WHERE s.schemaname = current_schema() AND s.tablename = %s AND s.attname = %s",
            [Claim._meta.db_table, Claim._meta.db_table, "search_vector"],
        )
        row = cursor.fetchone()
    elements, shares, rows = row if row else (None, None, 0)
    counts = {
        word: share * max(rows, 0)
        for word, share in zip(elements or [], shares or [], strict=False)
    }
    _lexeme_stats = (time.monotonic(), counts)
    return counts
