"""Reader pages for speakers: the list, and each speaker's profile, scorecard and quotes.

Readers see published claims only. Quotes are words printed in public
sources, so every quote is shown, but a quote links only to the published
claims it backs: drafts never leak.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render

from claims import freshness
from claims.models import Appearance, Claim, Quote, Speaker
from claims.ratings import RATINGS, Rating
from claims.views import keyset_page
from factcheck.conditional import PageState, page_condition

# Bump when the page's markup changes, so conditional GETs see a new ETag.
PAGE_VERSION = "speaker-2"

# Scorecard geometry (SVG user units; the chart scales to its container).
CHART_WIDTH = 360
LABEL_WIDTH = 128
BAR_START = LABEL_WIDTH + 8
BAR_MAX = CHART_WIDTH - BAR_START - 40
ROW_HEIGHT = 30
BAR_HEIGHT = 20


def speaker_list(request):
    # Counts from the triggers' counters (claims.freshness), not a join of every claim.
    speakers = Speaker.objects.raw(
        "SELECT s.*, coalesce(c.n, 0) AS published_claims FROM claims_speaker s"
        " LEFT JOIN claims_published_count c ON c.scope = 'speaker' AND c.key = s.id::text"
        " ORDER BY s.name, s.id"
    )
    return render(request, "claims/speaker_list.html", {"speakers": speakers})


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


@page_condition(PAGE_VERSION, _state)
def speaker_detail(request, slug):
    speaker = get_object_or_404(Speaker, slug=slug)
    published = Claim.objects.published().filter(speaker=speaker)
    counts = dict(
        published.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    card = scorecard(counts)
    # A page at a time, newest first, walking claim_speaker_order_idx.
    page = keyset_page(request, published, card["total"])
    quotes = (
        Quote.objects.filter(speaker=speaker)
        .select_related("source")
        .prefetch_related(
            Prefetch(
                "appearances",
                queryset=Appearance.objects.filter(claim__published_at__isnull=False)
                .select_related("claim")
                .order_by("created_at", "pk"),
                to_attr="published_appearances",
            )
        )
        .order_by("source__title", "source__pk", "start")
    )
    quotes_by_source = defaultdict(list)
    for quote in quotes:
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
        },
    )
