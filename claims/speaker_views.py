"""Reader pages for speakers: the list, and each speaker's profile, scorecard and quotes.

Readers see published claims only. Quotes are words printed in public
sources, so every quote is shown, but a quote links only to the published
claims it backs: drafts never leak.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from claims import cdn, freshness
from claims.models import Appearance, Claim, Quote, Speaker
from claims.ratings import RATINGS, Rating
from claims.views import KeysetPage, keyset_page
from factcheck.conditional import PageState, page_condition

# Bump when the page's markup changes, so conditional GETs see a new ETag.
PAGE_VERSION = "speaker-4"

# Scorecard geometry (SVG user units; the chart scales to its container).
CHART_WIDTH = 360
LABEL_WIDTH = 128
BAR_START = LABEL_WIDTH + 8
BAR_MAX = CHART_WIDTH - BAR_START - 40
ROW_HEIGHT = 30
BAR_HEIGHT = 20


SPEAKERS_PER_PAGE = 100
_SPEAKER_AFTER = re.compile(r"[0-9]{1,18}")
# By name then id, from the speaker named by `?after=<id>` (the last one shown): the
# cursor's name is a scalar subquery evaluated once, so a page is one range of an
# index on (name, id) however deep. A cursor whose speaker is gone gives the first page
# (every name sorts after '').
_SPEAKER_PAGE = (
    "SELECT s.*, coalesce(c.n, 0) AS published_claims FROM claims_speaker s"
    " LEFT JOIN claims_published_count c ON c.scope = 'speaker' AND c.key = s.id::text"
    " {where} ORDER BY s.name, s.id LIMIT %s"
)
_SPEAKER_AFTER_SQL = (
    "WHERE (s.name, s.id) > (coalesce((SELECT name FROM claims_speaker WHERE id = %s), ''), %s)"
)


@require_safe
@page_condition("speaker-list-2", freshness.page_state)
def speaker_list(request):
    """Every speaker by name, a page at a time, with their published claims (the
    triggers' counters, claims.freshness): one query, whatever the number of speakers."""
    raw = request.GET.get("after", "").strip()
    after = int(raw) if _SPEAKER_AFTER.fullmatch(raw) else None
    if after is None:
        sql, params = _SPEAKER_PAGE.format(where=""), [SPEAKERS_PER_PAGE + 1]
    else:
        sql = _SPEAKER_PAGE.format(where=_SPEAKER_AFTER_SQL)
        params = [after, after, SPEAKERS_PER_PAGE + 1]
    rows = list(Speaker.objects.raw(sql, params))
    more = len(rows) > SPEAKERS_PER_PAGE
    page = KeysetPage(
        rows[:SPEAKERS_PER_PAGE],
        str(rows[SPEAKERS_PER_PAGE - 1].pk) if more else None,
        is_first=after is None,
    )
    return render(
        request, "claims/speaker_list.html", {"speakers": page.object_list, "page_obj": page}
    )


@dataclass(frozen=True)
class ScoreRow:
    rating: Rating
    count: int
    y: int
    bar_width: int

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def number_x(self) -> int:
        return BAR_START + self.bar_width + 6


def scorecard(counts: Mapping[str, int]) -> dict:
    """Published claims by status, in the scale's order, one row per status that has claims."""
    most = max(counts.values(), default=0)
    rows: list[ScoreRow] = []
    for rating in RATINGS:
        count = counts.get(rating.value, 0)
        if not count:
            continue
        rows.append(
            ScoreRow(
                rating=rating,
                count=count,
                y=len(rows) * ROW_HEIGHT + 4,
                bar_width=max(2, round(BAR_MAX * count / most)),
            )
        )
    return {
        "rows": rows,
        "total": sum(counts.values()),
        "width": CHART_WIDTH,
        "height": len(rows) * ROW_HEIGHT + 8,
        "label_x": LABEL_WIDTH,
        "bar_start": BAR_START,
        "bar_height": BAR_HEIGHT,
        "summary": ", ".join(f"{row.rating.label} {row.count}" for row in rows),
    }


def _state(request: HttpRequest, slug: str) -> PageState | None:
    """The reader pages' change stamp (claims.freshness), or None for no such speaker."""
    return freshness.stamp_state_if(
        "SELECT 1 FROM claims_speaker WHERE slug = %s", [slug], {"slug": slug}
    )


QUOTES_PER_PAGE = 50
# The claims listed under each quote; "and N more" counts the rest.
BACKED_CLAIMS_SHOWN = 3
_QUOTE_AFTER = re.compile(r"[0-9]{1,18}")


@dataclass
class SpeakerQuotePage:
    """A page of the speaker's quotes, newest recorded first, from `?quotes_after=<id>`."""

    object_list: list[Quote]
    next_after: str | None
    is_first: bool


def _quote_page(request: HttpRequest, speaker: Speaker) -> SpeakerQuotePage:
    """A speaker may have thousands of quotes, each backing many claims: a page of
    them (one range of the quotes' ids), each with its first few published claims
    and how many more there are, so the page weighs the same for every speaker."""
    raw = request.GET.get("quotes_after", "").strip()
    after = int(raw) if _QUOTE_AFTER.fullmatch(raw) else None
    backing = Appearance.objects.filter(quote=OuterRef("pk"), claim__published_at__isnull=False)
    quotes = (
        Quote.objects.filter(speaker=speaker)
        .select_related("source")
        .annotate(
            backed_count=Subquery(
                backing.order_by().values("quote").annotate(n=Count("pk")).values("n")
            )
        )
        .prefetch_related(
            Prefetch(
                "appearances",
                queryset=Appearance.objects.filter(claim__published_at__isnull=False)
                .select_related("claim")
                .order_by("created_at", "pk")[:BACKED_CLAIMS_SHOWN],
                to_attr="published_appearances",
            )
        )
        .order_by("-pk")
    )
    if after is not None:
        quotes = quotes.filter(pk__lt=after)
    # Quotes carrying their annotations and prefetched claims (the template reads them).
    shown: list[Any] = list(quotes[: QUOTES_PER_PAGE + 1])
    more = len(shown) > QUOTES_PER_PAGE
    shown = shown[:QUOTES_PER_PAGE]
    for quote in shown:
        quote.more_backed = max(0, (quote.backed_count or 0) - len(quote.published_appearances))
    return SpeakerQuotePage(shown, str(shown[-1].pk) if more else None, after is None)


@page_condition(PAGE_VERSION, _state)
def speaker_detail(request, slug):
    speaker = get_object_or_404(Speaker, slug=slug)
    cdn.tag(request, [cdn.speaker_key(speaker.pk)])
    published = Claim.objects.published().filter(speaker=speaker)
    counts = dict(
        published.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    card = scorecard(counts)
    # A page at a time, newest first, walking claim_speaker_order_idx.
    page = keyset_page(request, published, card["total"])
    quotes = _quote_page(request, speaker)
    quotes_by_source = defaultdict(list)
    for quote in quotes.object_list:
        quotes_by_source[quote.source].append(quote)
    return render(
        request,
        "claims/speaker_detail.html",
        {
            "speaker": speaker,
            "claims": page.object_list,
            "page_obj": page,
            "scorecard": card,
            "quotes_by_source": dict(quotes_by_source),
            "quotes_page": quotes,
        },
    )
