"""Atom feed of verdicts and corrections: every verdict and every correction of a
published claim is its own entry. Its addresses come from `claims.claimreview.absolute_url`
(SITE_URL, or the server answering the request)."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from claims.claimreview import absolute_url, claim_url
from claims.markdown import render_markdown
from claims.models import Review
from claims.ratings import VERDICT_STATUSES, get_rating
from claims.views import LedgerChange

FEED_LENGTH = 50


def is_correction(item: Review) -> bool:
    return item.action == Review.Action.CORRECTION


class VerdictFeed(Feed):
    feed_type = Atom1Feed
    request: HttpRequest | None = None

    def __call__(self, request, *args, **kwargs):
        # The URLconf holds one instance for every request: answer each from a copy that
        # knows its request, so that its links name the server answering it.
        feed = copy.copy(self)
        feed.request = request
        return super(VerdictFeed, feed).__call__(request, *args, **kwargs)

    def title(self) -> str:
        return f"{settings.PUBLISHER_NAME}: verdicts and corrections"

    def subtitle(self) -> str:
        return (
            "Every verdict and correction on a published claim, newest first. "
            "Each is an entry in an append-only, hash-chained ledger."
        )

    def link(self) -> str:
        return absolute_url(reverse("claims:list"), self.request)

    def feed_url(self) -> str:
        return absolute_url(reverse("claims:feed"), self.request)

    def feed_guid(self) -> str:
        return absolute_url(reverse("claims:feed"), self.request)

    def author_name(self) -> str:
        return settings.PUBLISHER_NAME

    def items(self):
        return (
            Review.objects.filter(
                Q(action=Review.Action.REVIEW, status_after__in=VERDICT_STATUSES)
                | Q(action=Review.Action.CORRECTION),
                claim__published_at__isnull=False,
            )
            .select_related("claim", "editor")
            .order_by("-sequence")[:FEED_LENGTH]
        )

    def item_title(self, item: Review) -> str:
        # The words this entry judged (a correction: the words it set), as they were then:
        # an entry of the feed never changes once published.
        statement = item.claim_content["statement"]
        if is_correction(item):
            return f"Correction ({item.get_correction_class_display().lower()}): {statement}"
        return f"{get_rating(item.status_after).label}: {statement}"

    def item_description(self, item: Review) -> str:
        if is_correction(item):
            # The same words as the claim page and the corrections page (escaped there too).
            return render_to_string("claims/_feed_correction.html", {"item": LedgerChange.of(item)})
        return str(render_markdown(item.explanation))

    def item_link(self, item: Review) -> str:
        anchor = "correction" if is_correction(item) else "entry"
        return f"{claim_url(item.claim, self.request)}#{anchor}-{item.sequence}"

    def item_guid(self, item: Review) -> str:
        # The entry's hash identifies it for good: the ledger never rewrites an entry.
        return f"urn:sha256:{item.entry_hash}"

    def item_pubdate(self, item: Review):
        return item.created_at

    def item_updateddate(self, item: Review):
        return item.created_at

    def item_author_name(self, item: Review) -> str:
        return item.editor.get_username()

    def item_categories(self, item: Review) -> list[str]:
        if is_correction(item):
            return ["Correction", item.get_correction_class_display()]
        return [get_rating(item.status_after).label]
