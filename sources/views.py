"""Reader pages for sources: the list, and each source's archived text with its quotes marked.

A source has no draft state, so every source is shown. The claims it links
to are published ones only: a draft claim's quote is still highlighted (the
words are in the public document) but never links to the draft.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from claims import freshness
from claims.models import Appearance, Quote
from factcheck.conditional import PageState, page_condition
from sources.models import Source

# Bump when the page's markup changes, so conditional GETs see a new ETag.
PAGE_VERSION = "source-2"


def source_list(request):
    published = Q(appearances__claim__published_at__isnull=False)
    sources = Source.objects.annotate(
        quote_count=Count("quotes", distinct=True),
        claim_count=Count("appearances__claim", filter=published, distinct=True),
    ).order_by("-retrieved_at", "pk")
    return render(request, "sources/source_list.html", {"sources": sources})


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


@page_condition(PAGE_VERSION, _state)
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    quotes = list(source.quotes.select_related("speaker").order_by("start", "end", "pk"))
    # Every appearance in this source of a published claim, through a quote or not.
    appearances = (
        Appearance.objects.filter(source=source, claim__published_at__isnull=False)
        .select_related("claim")
        .order_by("created_at", "pk")
    )
    claims_by_quote: dict[int, list] = defaultdict(list)
    claims: dict[int, object] = {}
    for appearance in appearances:
        if appearance.quote_id is not None:
            # A claim appears at most once per quote (a unique constraint).
            claims_by_quote[appearance.quote_id].append(appearance.claim)
        claims.setdefault(appearance.claim_id, appearance.claim)
    snapshot_html, marked = render_snapshot(source.snapshot, quotes, claims_by_quote)
    # Two attributes for the template, set on these instances only: not the model's.
    for quote in quotes:
        quote.is_marked = quote.pk in marked  # type: ignore[attr-defined]
        quote.published_claims = claims_by_quote.get(quote.pk, [])  # type: ignore[attr-defined]
    return render(
        request,
        "sources/source_detail.html",
        {
            "source": source,
            "quotes": quotes,
            "claims": list(claims.values()),
            "snapshot_html": snapshot_html,
        },
    )
