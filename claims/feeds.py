"""Atom feed of verdicts: every verdict and correction on a published claim is its own entry."""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from claims.claimreview import absolute_url, claim_url
from claims.markdown import render_markdown
from claims.models import Review
from claims.ratings import RATINGS, get_rating

FEED_LENGTH = 50
VERDICTS = [rating.value for rating in RATINGS if rating.is_verdict]


class VerdictFeed(Feed):
    feed_type = Atom1Feed

    def title(self) -> str:
        return f"{settings.PUBLISHER_NAME}: verdicts"

    def subtitle(self) -> str:
        return (
            "Every verdict and correction on a published claim, newest first. "
            "Each is an entry in an append-only, hash-chained ledger."
        )

    def link(self) -> str:
        return absolute_url(reverse("claims:list"))

    def feed_url(self) -> str:
        return absolute_url(reverse("claims:feed"))

    def feed_guid(self) -> str:
        return absolute_url(reverse("claims:feed"))

    def author_name(self) -> str:
        return settings.PUBLISHER_NAME

    def items(self):
        return (
            Review.objects.filter(
                action=Review.Action.REVIEW,
                status_after__in=VERDICTS,
                claim__published_at__isnull=False,
            )
            .select_related("claim", "editor")
            .order_by("-sequence")[:FEED_LENGTH]
        )

    def item_title(self, item: Review) -> str:
        return f"{get_rating(item.status_after).label}: {item.claim.statement}"

    def item_description(self, item: Review) -> str:
        return str(render_markdown(item.explanation))

    def item_link(self, item: Review) -> str:
        return f"{claim_url(item.claim)}#entry-{item.sequence}"

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
        return [get_rating(item.status_after).label]
