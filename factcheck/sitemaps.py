"""The sitemap's sections. Addresses are absolute, starting with
`claims.claimreview.site_root`, as every absolute link of the site does.

/sitemap.xml is an index (factcheck.site_views): one section for the site's own
pages and the topics, then the claims, speakers and sources by primary-key range,
at most PAGE_SIZE addresses each, so no response grows with the ledger.

The sitemap view hands each section the request's scheme and host (as `protocol`
and a RequestSite: the project does not use the sites framework). Every section
overrides `get_urls` so that `site_root` decides: SITE_URL when it is set (scheme
and host, plus any path prefix), whatever the request's Host header says; otherwise
the server answering the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.timezone import localtime

from claims.claimreview import site_root
from claims.models import Claim, Speaker, Topic
from sources.models import Source

if TYPE_CHECKING:
    # Generic in django-stubs only: Django's Sitemap takes no subscript at run time.
    _Sitemap = Sitemap[Any]
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


# A section's page holds the rows whose primary key is in one fixed range of this
# width: at most this many addresses, found by one range scan of the primary key, and
# the index lists the ranges from the largest key alone (no COUNT, no OFFSET).
PAGE_SIZE = 10_000


class RangeSitemap:
    """A section paged by primary-key range: page `n` (from 1) holds the rows whose key
    is in ((n - 1) * PAGE_SIZE, n * PAGE_SIZE]. A page can hold fewer addresses than
    that (deleted rows, drafts), never more: the sitemap protocol allows 50,000.

    Written out here rather than by Django's sitemap view, whose template and
    per-address `reverse` took 2.5 s for 10,000 addresses; the markup is the same."""

    changefreq = "weekly"
    priority = 0.5
    url_name = ""

    def rows(self, low: int, high: int) -> Any:
        """(slug, last change) of the rows with low < pk <= high, by pk."""
        raise NotImplementedError

    def render(self, page: int, request: HttpRequest) -> str:
        low = (page - 1) * PAGE_SIZE
        protocol, domain = site_protocol_and_domain(
            _Requested(request.scheme or "https", request.get_host())
        )
        # Every address of the section differs only by its slug.
        before, after = reverse(self.url_name, kwargs={"slug": "-"}).rsplit("-", 1)
        prefix, tail = escape(f"{protocol}://{domain}{before}"), escape(after)
        rest = f"<changefreq>{self.changefreq}</changefreq><priority>{self.priority}</priority>"
        entries = [
            f"<url><loc>{prefix}{escape(slug)}{tail}</loc>"
            f"<lastmod>{localtime(changed).date().isoformat()}</lastmod>{rest}</url>"
            for slug, changed in self.rows(low, low + PAGE_SIZE)
        ]
        return "".join([_URLSET_OPEN, "\n".join(entries), _URLSET_CLOSE])


_URLSET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    ' xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
_URLSET_CLOSE = "\n</urlset>\n"


def _range(queryset: Any, low: int, high: int) -> Any:
    return (
        queryset.filter(pk__gt=low, pk__lte=high).order_by("pk").values_list("slug", "updated_at")
    )


class ClaimSitemap(RangeSitemap):
    changefreq = "weekly"
    priority = 0.8
    url_name = "claims:detail"

    def rows(self, low: int, high: int) -> Any:
        return _range(Claim.objects.published(), low, high)


class SpeakerSitemap(RangeSitemap):
    changefreq = "weekly"
    priority = 0.5
    url_name = "claims:speaker"

    def rows(self, low: int, high: int) -> Any:
        # The speaker's own record: the latest change among their claims would read
        # every claim of the range's speakers (half a million rows at a million claims);
        # each claim's address carries its own date.
        return _range(Speaker.objects.all(), low, high)


class SourceSitemap(RangeSitemap):
    changefreq = "monthly"
    priority = 0.4
    url_name = "sources:detail"

    def rows(self, low: int, high: int) -> Any:
        return _range(Source.objects.all(), low, high)


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
            "claims:speaker_list",
            "claims:topic_list",
            "sources:list",
            "claims:corrections",
            "claims:corrections-policy",
            "ledger-format",
            "site:about",
            "site:methodology",
            "site:rating-scale",
            "site:contact",
            "site:suggest",
        ]

    def location(self, item: str) -> str:
        return reverse(item)


# The sections paged by key range, by the name in their address (sitemap-<name>-<n>.xml),
# with the table whose largest key says how many pages they have.
RANGED: dict[str, tuple[type[RangeSitemap], str]] = {
    "claims": (ClaimSitemap, "claims_claim"),
    "speakers": (SpeakerSitemap, "claims_speaker"),
    "sources": (SourceSitemap, "sources_source"),
}
# The small section: the site's own pages and the topics (a few dozen).
PAGES: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {
    "static": StaticSitemap,
    "topics": TopicSitemap,
}
