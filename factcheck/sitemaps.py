"""The sitemap's sections. Addresses are absolute, built from settings.SITE_URL.

The project does not use the sites framework, and the request's own host
is not the canonical address behind a proxy, so every section overrides
`get_urls` to build its locations from SITE_URL (scheme and host, plus any
path prefix) instead of the site and protocol the sitemap view passes in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.db.models.functions import Greatest
from django.urls import reverse

from claims.models import Claim, Speaker, Topic
from sources.models import Source

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # Generic in django-stubs only: Django's Sitemap takes no subscript at run time.
    _Sitemap = Sitemap[Any]

    class _LastChange(TypedDict):
        last_change: datetime
else:
    _Sitemap = Sitemap


def site_protocol_and_domain() -> tuple[str, str]:
    """("https", "facts.example.org") from SITE_URL; a path prefix stays on the domain."""
    parts = urlsplit(settings.SITE_URL.rstrip("/"))
    return parts.scheme or "https", parts.netloc + parts.path


class SiteUrlSitemap(_Sitemap):
    def get_urls(
        self, page: int | str = 1, site: object = None, protocol: str | None = None
    ) -> list[dict[str, Any]]:
        protocol, domain = site_protocol_and_domain()
        # Sitemap._urls is private, so django-stubs leave it out.
        urls: list[dict[str, Any]] = self._urls(page, protocol, domain)  # type: ignore[attr-defined]
        return urls


class ClaimSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Claim.objects.published().order_by("pk").only("slug", "updated_at")

    def location(self, item: Claim) -> str:
        return reverse("claims:detail", kwargs={"slug": item.slug})

    def lastmod(self, item: Claim):
        return item.updated_at


class SpeakerSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return (
            Speaker.objects.annotate(
                last_change=Greatest(
                    "updated_at",
                    Max("claims__updated_at", filter=Q(claims__published_at__isnull=False)),
                )
            )
            .order_by("pk")
            .only("slug", "updated_at")
        )

    def location(self, item: Speaker) -> str:
        return reverse("claims:speaker", kwargs={"slug": item.slug})

    def lastmod(self, item: WithAnnotations[Speaker, _LastChange]) -> datetime:
        # PostgreSQL's GREATEST ignores NULLs: a speaker without claims has its own date.
        return item.last_change


class SourceSitemap(SiteUrlSitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return Source.objects.order_by("pk").only("slug", "updated_at")

    def location(self, item: Source) -> str:
        return reverse("sources:detail", kwargs={"slug": item.slug})

    def lastmod(self, item: Source):
        return item.updated_at


class TopicSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return Topic.objects.order_by("pk").only("slug")

    def location(self, item: Topic) -> str:
        return reverse("claims:topic", kwargs={"slug": item.slug})


class StaticSitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return [
            "claims:home",
            "claims:list",
            "claims:corrections",
            "claims:corrections-policy",
            "ledger-format",
        ]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {
    "static": StaticSitemap,
    "claims": ClaimSitemap,
    "speakers": SpeakerSitemap,
    "topics": TopicSitemap,
    "sources": SourceSitemap,
}
