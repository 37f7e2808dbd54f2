"""The desk's dashboard on the admin index (claims.dashboard)."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from claims import dashboard as desk
from claims.roles import is_desk_member

register = template.Library()


@register.simple_tag(takes_context=True)
def desk_dashboard(context):
    """The dashboard for the request's user, or None for anyone outside the desk (an
    account that may enter the admin for something else sees no claims there)."""
    user = context["request"].user
    if not (is_desk_member(user) and user.has_perm("claims.view_claim")):
        return None
    return desk.dashboard(user)


@register.simple_tag
def claims_list_url(**filters) -> str:
    """The admin claim list with these filters (`queue`, `assignee`...)."""
    url = reverse("admin:claims_claim_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


@register.filter
def duration_words(value) -> str:
    """A duration in its two largest units: "3 days 4 hours", "2 hours 5 minutes"."""
    seconds = int(value.total_seconds())
    units = [("day", 86400), ("hour", 3600), ("minute", 60)]
    parts: list[tuple[int, str]] = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append((count, name))
    words = [f"{count} {name}{'s' if count != 1 else ''}" for count, name in parts[:2] if count]
    return " ".join(words) or "under a minute"
