"""Reader pages for sources: the list, and each source's archived text with its quotes marked.

A source has no draft state, so every source is shown. The claims it links
to are published ones only: a draft claim's quote is still highlighted (the
words are in the public document) but never links to the draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from claims import cdn, freshness
from claims.models import Appearance, Claim, Quote
from claims.views import KeysetPage
from factcheck.conditional import PageState, page_condition
from sources.models import Source

# Bump when the page's markup changes, so conditional GETs see a new ETag.
PAGE_VERSION = "source-4"


SOURCES_PER_PAGE = 50
_SOURCE_AFTER = re.compile(r"[0-9]{1,18}")
# Newest retrieved first, from the source named by `?after=<id>` (the last one shown):
# one range of the (retrieved_at DESC, id) order however deep; a cursor whose source is
# gone gives the first page. The cursor's time is a scalar subquery evaluated once, so
# an index on (retrieved_at DESC, id) serves any page. Quotes are counted for the page's sources only (a
# document holds a bounded number); appearances of published claims come from the
# triggers' counters (claims.freshness). The snapshots are not read.
_SOURCE_PAGE = """
SELECT s.id, s.slug, s.title, s.kind, s.outlet, s.published_on, s.retrieved_at,
       (SELECT count(*) FROM claims_quote q WHERE q.source_id = s.id) AS quote_count,
       coalesce(c.n, 0) AS appearance_count
  FROM sources_source s
  LEFT JOIN claims_published_count c ON c.scope = 'source' AND c.key = s.id::text
 {where}
 ORDER BY s.retrieved_at DESC, s.id
 LIMIT %(limit)s
"""


_SOURCE_AFTER_SQL = """
 WHERE s.retrieved_at <= %(at)s AND (s.retrieved_at < %(at)s OR s.id > %(after)s)
"""
_CURSOR_TIME = (
    "coalesce((SELECT retrieved_at FROM sources_source WHERE id = %(after)s), 'infinity')"
)


@require_safe
@page_condition("source-list-2", freshness.page_state)
def source_list(request):
    raw = request.GET.get("after", "").strip()
    after = int(raw) if _SOURCE_AFTER.fullmatch(raw) else None
    where = "" if after is None else _SOURCE_AFTER_SQL.replace("%(at)s", _CURSOR_TIME)
    params = {"after": after, "limit": SOURCES_PER_PAGE + 1}
    rows = list(Source.objects.raw(_SOURCE_PAGE.format(where=where), params))
    more = len(rows) > SOURCES_PER_PAGE
    page = KeysetPage(
        rows[:SOURCES_PER_PAGE],
        str(rows[SOURCES_PER_PAGE - 1].pk) if more else None,
        is_first=after is None,
    )
    return render(
        request, "sources/source_list.html", {"sources": page.object_list, "page_obj": page}
    )


def _segments(snapshot: str, quotes: list[Quote]) -> tuple[list[tuple[str, Quote | None]], set]:
    """The snapshot cut at the quotes' [start, end) offsets: (text, quote or None) pieces.

    Quotes never overlap within a source, but if one starts before the
    previous one ends (or falls outside the text) it is skipped rather than
    garbling the text. Returns the pieces and the ids of the quotes marked.
    """
    pieces: list[tuple[str, Quote | None]] = []
    marked: set[int] = set()
    position = 0
    for quote in sorted(quotes, key=lambda q: (q.start, q.end, q.pk)):
        if quote.start < position or quote.end > len(snapshot) or quote.end <= quote.start:
            continue
        if quote.start > position:
            pieces.append((snapshot[position : quote.start], None))
        pieces.append((snapshot[quote.start : quote.end], quote))
        marked.add(quote.pk)
        position = quote.end
    if position < len(snapshot):
        pieces.append((snapshot[position:], None))
    return pieces, marked


def _claim_links(claims) -> SafeString:
    if not claims:
        return mark_safe("")
    links = format_html_join(
        ", ",
        '<a href="{}">claim<span class="visually-hidden">: {}</span></a>',
        ((reverse("claims:detail", kwargs={"slug": c.slug}), c.statement) for c in claims),
    )
    return format_html('<sup class="quote-claims">[{}]</sup>', links)


def render_snapshot(snapshot: str, quotes: list[Quote], claims_by_quote: dict) -> tuple:
    """The archived text as HTML paragraphs (one per line), every anchored quote marked.

    Every piece of text is escaped. A quote that runs across a line break is
    marked on both lines; only the first mark carries its `quote-<pk>` id, and
    the links to the published claims it backs follow its last part.
    Whitespace-only lines are dropped; spaces inside a line are kept (the
    container has `white-space: pre-wrap`). Returns the HTML and the ids of
    the quotes marked.
    """
    pieces, marked = _segments(snapshot, quotes)
    paragraphs: list[str] = []
    current: list[str] = []
    has_text = False

    def close() -> None:
        nonlocal current, has_text
        if has_text:
            paragraphs.append("<p>" + "".join(current) + "</p>")
        current, has_text = [], False

    for text, quote in pieces:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if index:
                close()
            if not line:
                continue
            if quote is None:
                current.append(escape(line))
            else:
                attrs = f' id="quote-{quote.pk}"' if index == 0 else ' class="quote-continued"'
                title = f"{quote.speaker.name}, {quote.get_kind_display().lower()}"
                current.append(
                    format_html('<mark{} title="{}">{}</mark>', mark_safe(attrs), title, line)
                )
            if line.strip():
                has_text = True
        if quote is not None:
            current.append(_claim_links(claims_by_quote.get(quote.pk, [])))
    close()
    return mark_safe("".join(paragraphs)), marked  # noqa: S308 - every piece escaped above


def _state(request: HttpRequest, slug: str) -> PageState | None:
    """The reader pages' change stamp (claims.freshness), or None for no such source."""
    return freshness.stamp_state_if(
        "SELECT 1 FROM sources_source WHERE slug = %s", [slug], {"slug": slug}
    )


# A quote lists at most this many of the published claims it backs (the first
# linked), and how many there are; the source's list of claims, paged, has them all.
BACKS_SHOWN = 3


def _backing(source: Source) -> dict[int, tuple[list[Claim], int]]:
    """By quote of the source: the first BACKS_SHOWN published claims it backs, and how
    many it backs. One query, whose rows do not grow with the claims a quote backs."""
    published = Appearance.objects.filter(
        source=source, quote__isnull=False, claim__published_at__isnull=False
    )
    ranked = (
        published.annotate(
            rank=Window(
                RowNumber(), partition_by=F("quote_id"), order_by=(F("created_at"), F("pk"))
            ),
            backs_total=Window(Count("pk"), partition_by=F("quote_id")),
        )
        .filter(rank__lte=BACKS_SHOWN)
        .select_related("claim")
        .only("quote_id", "claim", "claim__slug", "claim__statement")
        .order_by("quote_id", "rank")
    )
    backing: dict[int, tuple[list[Claim], int]] = {}
    for appearance in ranked:
        assert appearance.quote_id is not None  # noqa: S101 - filtered above
        total: int = appearance.backs_total
        backing.setdefault(appearance.quote_id, ([], total))[0].append(appearance.claim)
    return backing


CLAIMS_PER_PAGE = 20
QUOTES_PER_PAGE = 50


@dataclass
class QuotePage:
    """A page of the source's quotes in text order, from `?quotes_after=<quote id>`."""

    object_list: list[Quote]
    start: int
    next_after: str | None
    is_first: bool


def _quote_page(request: HttpRequest, quotes: list[Quote]) -> QuotePage:
    """The quotes listed below the text, a page at a time: the text marks them all, so
    they are all loaded already (a document holds a bounded number); the list of them,
    each with its speaker and claims, is what made a busy source's page heavy."""
    raw = request.GET.get("quotes_after", "").strip()
    position = next((i + 1 for i, quote in enumerate(quotes) if str(quote.pk) == raw), 0)
    shown = quotes[position : position + QUOTES_PER_PAGE]
    more = position + QUOTES_PER_PAGE < len(quotes)
    return QuotePage(shown, position + 1, str(shown[-1].pk) if more else None, position == 0)


_APPEARANCE_AFTER = re.compile(r"[0-9]{1,18}")


def _claims_page(request: HttpRequest, source: Source) -> KeysetPage:
    """The appearances of published claims in the source, in the order they were linked
    to it (each with its claim, and its relay: "according to The New York Times"), a
    page at a time from `?after=<appearance id>`: a range of the source's appearances
    by id, however deep, never the whole list sorted. A claim that appears here more
    than once is listed at its first appearance."""
    raw = request.GET.get("after", "").strip()
    after = int(raw) if _APPEARANCE_AFTER.fullmatch(raw) else None
    earlier = Appearance.objects.filter(
        source=source, claim=OuterRef("claim_id"), pk__lt=OuterRef("pk")
    )
    appearances = (
        Appearance.objects.filter(source=source, claim__published_at__isnull=False)
        .exclude(Exists(earlier))
        .select_related("claim")
        .only("claim", "relay", "relayed_by", "claim__slug", "claim__statement", "claim__status")
        .order_by("pk")
    )
    if after is not None:
        appearances = appearances.filter(pk__gt=after)
    rows = list(appearances[: CLAIMS_PER_PAGE + 1])
    more = len(rows) > CLAIMS_PER_PAGE
    return KeysetPage(
        rows[:CLAIMS_PER_PAGE],
        str(rows[CLAIMS_PER_PAGE - 1].pk) if more else None,
        is_first=after is None,
    )


@require_safe
@page_condition(PAGE_VERSION, _state)
def source_detail(request, slug):
    """The archived text with every quote marked, the quotes, and the published claims
    that appear in the source a page at a time: five queries, however busy the source."""
    source = get_object_or_404(
        Source.objects.extra(
            select={
                "published_appearances": "SELECT n FROM claims_published_count"
                " WHERE scope = 'source' AND key = sources_source.id::text"
            }
        ),
        slug=slug,
    )
    cdn.tag(request, [cdn.source_key(source.pk)])
    # Every quote: the text marks them all (a document holds a bounded number).
    quotes = list(source.quotes.select_related("speaker").order_by("start", "end", "pk"))
    backing = _backing(source)
    claims_by_quote = {pk: shown for pk, (shown, _) in backing.items()}
    snapshot_html, marked = render_snapshot(source.snapshot, quotes, claims_by_quote)
    # Attributes for the template, set on these instances only: not the model's.
    for quote in quotes:
        shown, total = backing.get(quote.pk, ([], 0))
        quote.is_marked = quote.pk in marked
        quote.published_claims = shown
        quote.more_claims = total - len(shown)
    quote_page = _quote_page(request, quotes)
    page = _claims_page(request, source)
    return render(
        request,
        "sources/source_detail.html",
        {
            "source": source,
            "quotes": quotes,
            "quote_page": quote_page,
            "appearances": page.object_list,
            "page_obj": page,
            "appearance_count": source.published_appearances or 0,
            "snapshot_html": snapshot_html,
        },
    )
