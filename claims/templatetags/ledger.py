from django import template
from django.core.cache import cache
from django.utils.html import format_html

from claims.ledger.verification import verify_ledger
from claims.markdown import render_markdown
from claims.models import Review
from claims.ratings import get_rating

register = template.Library()

# A full verification walks the whole chain; the admin index shows a result
# at most this old, recomputed at once when a new entry lands (the cache key
# holds the chain's tip). "Verify now" always walks it afresh.
LEDGER_STATUS_SECONDS = 300


@register.simple_tag
def status_badge(status: str):
    """The status as a badge: its label in words, its place on the scale, then colour."""
    rating = get_rating(status)
    if rating.scale_position:
        return format_html(
            '<span class="status-badge {}">{} <small>({})</small></span>',
            rating.css_class,
            rating.label,
            rating.scale_position,
        )
    return format_html('<span class="status-badge {}">{}</span>', rating.css_class, rating.label)


@register.simple_tag
def ledger_status() -> dict:
    tip = Review.objects.order_by("-sequence").values_list("sequence", "entry_hash").first()
    key = f"ledger-status:{tip[0]}:{tip[1]}" if tip else "ledger-status:empty"
    status = cache.get(key)
    if status is None:
        report = verify_ledger()
        status = {
            "ok": report.ok,
            "entries": report.entries,
            "last_at": report.last.created_at if report.last else None,
            "problem": report.problems[0] if report.problems else "",
        }
        cache.set(key, status, LEDGER_STATUS_SECONDS)
    return status


@register.filter
def markdown(text: str):
    """Markdown rendered and sanitised (claims.markdown)."""
    return render_markdown(text)
