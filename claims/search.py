"""Full-text search over claims, shared by the reader pages, the admin and the API.

The search vector is stored on each claim and kept current by database
triggers (migration 0005), with a GIN index; queries use PostgreSQL's web
search syntax: "quoted phrases", -excluded words, OR.
"""

from __future__ import annotations

import time

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, OuterRef, QuerySet, StringAgg, Subquery, TextField, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from claims.models import SEARCH_CONFIG, Appearance, Claim

# ts_headline marks matches with these; they are swapped for <mark> only after
# the text around them has been escaped, so a statement can never inject HTML.
_START, _STOP = "\x02", "\x03"


def search_query(text: str) -> SearchQuery:
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")


def search_claims(queryset: QuerySet, text: str) -> QuerySet:
    """Claims matching `text`, best first, each with `rank`, a `headline` of the
    statement and a `quoted_headline` of the words it was quoted through (the
    search vector covers those too, so a claim can match on a word its
    statement lacks)."""
    query = search_query(text)
    quoted_words = Subquery(
        Appearance.objects.filter(claim=OuterRef("pk"), quote__isnull=False)
        .order_by()
        .values("claim")
        .annotate(words=StringAgg("quote__exact", Value(" … "), order_by="quote__start"))
        .values("words"),
        output_field=TextField(),
    )
    return (
        queryset.filter(search_vector=query)
        .annotate(
            rank=SearchRank(F("search_vector"), query),
            headline=SearchHeadline(
                "statement",
                query,
                config=SEARCH_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                highlight_all=True,
            ),
            quoted_headline=SearchHeadline(
                quoted_words,
                query,
                config=SEARCH_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                max_fragments=2,
                fragment_delimiter=" … ",
                min_words=5,
                max_words=20,
            ),
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
