"""The sitemap's sections. Addresses are absolute, starting with
`claims.claimreview.site_root`, as every absolute link of the site does.

The sitemap view hands each section the request's scheme and host (as `protocol`
and a RequestSite: the project does not use the sites framework). Every section
overrides `get_urls` so that `site_root` decides: SITE_URL when it is set (scheme
and host, plus any path prefix), whatever the request's Host header says; otherwise
the server answering the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.db.models.functions import Greatest
from django.urls import reverse

from claims.claimreview import site_root
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


@dataclass(frozen=True)
class _Requested:
    """The request as the sitemap view describes it to a section: scheme and host."""

    scheme: str
    host: str

    def get_host(self) -> str:
        return self.host


def site_protocol_and_domain(request: _Requested | None = None) -> tuple[str, str]:
    """("https", "facts.example.org") from `site_root`; a path prefix stays on the domain."""
    parts = urlsplit(site_root(request))
    return parts.scheme or "https", parts.netloc + parts.path


class SiteUrlSitemap(_Sitemap):
    def get_urls(
        self, page: int | str = 1, site: Any = None, protocol: str | None = None
    ) -> list[dict[str, Any]]:
        requested = _Requested(protocol, site.domain) if site is not None and protocol else None
        protocol, domain = site_protocol_and_domain(requested)
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
