"""The publisher's own pages (about, methodology, rating scale, contact) and the
"Suggest a claim" form.

The pages are SitePage rows that editors write in Markdown in the admin; they
answer conditional GETs from one query, like every reader page
(factcheck.conditional): a page's ETag is made of its last edit, so an edit
changes it. The rating scale page also lists recent published examples of each
verdict, so it follows the reader stamp too (claims.freshness).

The form takes a reader's tip (claims.tips groups it for the desk). It needs no
JavaScript. A honeypot field, hidden from people, catches simple bots: a tip that
fills it is dropped and answered as a success, so the bot learns nothing. Tips are
counted per client address in the cache (factcheck.security.client_ip, under a
keyed hash: the address itself is kept nowhere), TIP_RATE_LIMIT per TIP_RATE_WINDOW
seconds, and more are answered 429 with Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from claims import freshness, tips
from claims.models import TIP_TEXT_MAX, TIP_WHERE_MAX, SitePage, SitePageSlug
from claims.ratings import RATINGS
from factcheck.conditional import READER_MAX_AGE, page_condition
from factcheck.security import client_ip

EXAMPLES_PER_RATING = 3


def reader_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Cache-Control for a page that is the same for everyone, on its own answers and on
    the 304 the anonymous shortcut (factcheck.conditional) gives before the view runs."""

    @wraps(view)
    def cached(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            patch_cache_control(response, public=True, max_age=READER_MAX_AGE)
        return response

    shortcut = getattr(view, "anonymous_not_modified", None)
    if shortcut is not None:

        def anonymous_not_modified(request: HttpRequest, *args: Any, **kwargs: Any):
            response = shortcut(request, *args, **kwargs)
            if response is not None:
                patch_cache_control(response, public=True, max_age=READER_MAX_AGE)
            return response

        cached.anonymous_not_modified = anonymous_not_modified  # type: ignore[attr-defined]
    return cached


# --- The publisher's pages -----------------------------------------------------


def _publisher() -> dict[str, Any]:
    # The layout names the publisher (settings), whatever the page says.
    return {"publisher": settings.PUBLISHER_NAME, "publisher_url": settings.PUBLISHER_URL}


def _site_page_state(request: HttpRequest, slug: str) -> dict[str, Any] | None:
    updated = SitePage.objects.filter(slug=slug).values_list("updated_at", flat=True).first()
    if updated is None:
        return None
    return {**_publisher(), "page": slug, "updated": updated.isoformat(), "last_change": updated}


@require_safe
@reader_cache
@page_condition("site-page-1", _site_page_state)
def site_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = SitePage.objects.filter(slug=slug).first()
    if page is None:
        raise Http404("No such page.")
    return render(request, "claims/site_page.html", {"page": page})


_RATING_SCALE_STATE = """
    SELECT r.stamp, r.changed_at, p.updated_at
      FROM claims_reader_stamp r
      LEFT JOIN claims_sitepage p ON p.slug = %s
     WHERE r.scope = %s
"""


def _rating_scale_state(request: HttpRequest) -> dict[str, Any]:
    """The examples are published claims (the reader stamp); the intro is a SitePage."""
    with connection.cursor() as cursor:
        cursor.execute(_RATING_SCALE_STATE, [SitePageSlug.RATING_SCALE, freshness.SCOPE])
        stamp, changed_at, updated = cursor.fetchone()
    return {
        **_publisher(),
        "stamp": stamp,
        "updated": updated.isoformat() if updated else "",
        "last_change": max(changed_at, updated) if updated else changed_at,
    }


# Up to `limit` published claims of each status, most recently rated first: one query,
# each status's few rows read from the index claim_status_reviewed_idx (migration 0008).
_EXAMPLES = """
    SELECT c.slug, c.statement, c.status, c.claim_date, s.name, s.slug
      FROM unnest(%s::text[]) AS r(status)
     CROSS JOIN LATERAL (
           SELECT slug, statement, status, claim_date, speaker_id, status_changed_at, id
             FROM claims_claim
            WHERE status = r.status AND published_at IS NOT NULL
            ORDER BY status_changed_at DESC NULLS LAST, id DESC
            LIMIT %s
         ) c
      JOIN claims_speaker s ON s.id = c.speaker_id
     ORDER BY c.status_changed_at DESC NULLS LAST, c.id DESC
"""


def rating_examples(statuses: list[str], limit: int = EXAMPLES_PER_RATING) -> dict[str, list]:
    """Recent published claims of each status, by status."""
    examples: dict[str, list[dict[str, Any]]] = {status: [] for status in statuses}
    with connection.cursor() as cursor:
        cursor.execute(_EXAMPLES, [statuses, limit])
        for slug, statement, status, claim_date, speaker_name, speaker_slug in cursor.fetchall():
            examples[status].append(
                {
                    "slug": slug,
                    "statement": statement,
                    "claim_date": claim_date,
                    "speaker_name": speaker_name,
                    "speaker_slug": speaker_slug,
                }
            )
    return examples


@require_safe
@reader_cache
@page_condition("rating-scale-1", _rating_scale_state)
def rating_scale(request: HttpRequest) -> HttpResponse:
    verdicts = [rating for rating in RATINGS if rating.is_verdict]
    examples = rating_examples([rating.value for rating in verdicts])
    return render(
        request,
        "claims/rating_scale.html",
        {
            "page": SitePage.objects.filter(slug=SitePageSlug.RATING_SCALE).first(),
            "verdicts": [(rating, examples[rating.value]) for rating in verdicts],
            "workflow_ratings": [rating for rating in RATINGS if not rating.is_verdict],
        },
    )


# --- Suggest a claim ------------------------------------------------------------


class TipForm(forms.Form):
    text = forms.CharField(
        label="What was said?",
        max_length=TIP_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The claim in the words you saw or heard, and who said it if you know. "
        f"{TIP_TEXT_MAX:,} characters at most.",
    )
    where_seen = forms.CharField(
        label="Where did you see it? (optional)",
        max_length=TIP_WHERE_MAX,
        required=False,
        help_text="A link, or the programme, paper or post and its date.",
    )
    email = forms.EmailField(
        label="Your email (optional)",
        required=False,
        help_text="Only to tell you what we did with this suggestion. We do not publish it, "
        "share it or add it to any list.",
    )
    # The honeypot: hidden from people (CSS, aria-hidden, out of the tab order); a bot
    # that fills every field fills it too.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The labels are questions, or end with "(optional)": no colon after them.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Tell us what was said.")
        return text


def _throttle_keys(request: HttpRequest) -> tuple[str, str]:
    # A keyed hash: the cache (Redis, when shared) never holds a reader's address.
    who = salted_hmac("claims.site_pages.tips", client_ip(request), algorithm="sha256").hexdigest()[
        :32
    ]
    return f"tips:count:{who}", f"tips:until:{who}"


def _retry_after(request: HttpRequest) -> int | None:
    """Seconds until this address may send a tip again, or None when it may now."""
    limit = settings.TIP_RATE_LIMIT
    if not limit:
        return None
    count_key, until_key = _throttle_keys(request)
    if (cache.get(count_key) or 0) < limit:
        return None
    until = cache.get(until_key)
    return max(1, round(until - time.time())) if until else settings.TIP_RATE_WINDOW


def _count_tip(request: HttpRequest) -> None:
    if not settings.TIP_RATE_LIMIT:
        return
    window = settings.TIP_RATE_WINDOW
    count_key, until_key = _throttle_keys(request)
    # The window opens at the first tip; add() leaves an open one as it is.
    cache.add(until_key, time.time() + window, timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add() and incr(): this tip opens a window
        cache.set(count_key, 1, timeout=window)


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    response = render(
        request,
        "claims/suggest_throttled.html",
        {"minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def _suggest_form(request: HttpRequest, form: TipForm) -> HttpResponse:
    retention = settings.TIP_EMAIL_RETENTION_DAYS
    return render(request, "claims/suggest.html", {"form": form, "email_retention_days": retention})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def suggest(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _suggest_form(request, TipForm())
    wait = _retry_after(request)
    if wait is not None:
        return _too_many(request, wait)
    form = TipForm(request.POST)
    if not form.is_valid():
        return _suggest_form(request, form)
    _count_tip(request)
    data = form.cleaned_data
    if not data["website"]:
        tips.receive_tip(data["text"], data["where_seen"], data["email"])
    # See Other: reloading the thank-you page never sends the tip again.
    return HttpResponseRedirect(reverse("site:suggest-thanks"), status=303)


@require_safe
@reader_cache
def suggest_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "claims/suggest_thanks.html")
