"""Reader pages for speakers: the list, and each speaker's profile, scorecard and quotes.

Readers see published claims only. Quotes are words printed in public
sources, so every quote is shown, but a quote links only to the published
claims it backs: drafts never leak.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render

from claims.models import Appearance, Claim, Quote, Speaker
from claims.ratings import RATINGS, Rating
from factcheck.conditional import PageState, page_condition
from sources.views import quote_digest

# Bump when the page's markup changes, so conditional GETs see a new ETag.
PAGE_VERSION = "speaker-1"

# Scorecard geometry (SVG user units; the chart scales to its container).
CHART_WIDTH = 360
LABEL_WIDTH = 128
BAR_START = LABEL_WIDTH + 8
BAR_MAX = CHART_WIDTH - BAR_START - 40
ROW_HEIGHT = 30
BAR_HEIGHT = 20


def speaker_list(request):
    speakers = Speaker.objects.annotate(
        published_claims=Count("claims", filter=Q(claims__published_at__isnull=False))
    ).order_by("name", "pk")
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


def scorecard(claims) -> dict:
    """Published claims by status, in the scale's order, one row per status that has claims."""
    counts = Counter(claim.status for claim in claims)
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
    """One query: what the speaker page depends on, for ETag and Last-Modified."""
    own_claims = Claim.objects.filter(speaker=OuterRef("pk")).order_by().values("speaker")
    quotes = Quote.objects.filter(speaker=OuterRef("pk")).order_by().values("speaker")
    # Claims backed by the speaker's quotes may belong to someone else.
    backed = (
        Appearance.objects.filter(quote__speaker=OuterRef("pk")).order_by().values("quote__speaker")
    )
    return (
        Speaker.objects.filter(slug=slug)
        .annotate(
            claims_changed=Subquery(own_claims.annotate(m=Max("updated_at")).values("m")),
            claims_count=Subquery(own_claims.annotate(c=Count("pk")).values("c")),
            quotes_added=Subquery(quotes.annotate(m=Max("created_at")).values("m")),
            quotes_count=Subquery(quotes.annotate(c=Count("pk")).values("c")),
            # Quotes have no updated_at: a digest notices an edit in place.
            quotes_digest=Subquery(quotes.annotate(d=quote_digest()).values("d")),
            sources_changed=Subquery(quotes.annotate(m=Max("source__updated_at")).values("m")),
            backed_changed=Subquery(backed.annotate(m=Max("claim__updated_at")).values("m")),
            appearances_added=Subquery(backed.annotate(m=Max("created_at")).values("m")),
            appearances_count=Subquery(backed.annotate(c=Count("pk")).values("c")),
        )
        .annotate(
            last_change=Greatest(
                F("updated_at"),
                Coalesce("claims_changed", F("updated_at")),
                Coalesce("quotes_added", F("updated_at")),
                Coalesce("sources_changed", F("updated_at")),
                Coalesce("backed_changed", F("updated_at")),
                Coalesce("appearances_added", F("updated_at")),
            )
        )
        .values(
            "pk",
            "last_change",
            "claims_count",
            "quotes_count",
            "quotes_digest",
            "appearances_count",
            "claims_changed",
            "quotes_added",
            "sources_changed",
            "backed_changed",
        )
        .first()
    )


@page_condition(PAGE_VERSION, _state)
def speaker_detail(request, slug):
    speaker = get_object_or_404(Speaker, slug=slug)
    claims = list(
        Claim.objects.published()
        .filter(speaker=speaker)
        .order_by(F("claim_date").desc(nulls_last=True), "-published_at", "pk")
    )
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
            "claims": claims,
            "scorecard": scorecard(claims),
            "quotes_by_source": dict(quotes_by_source),
        },
    )
