"""schema.org ClaimReview for a claim: the one builder the claim page and the API share.

Only verdicts are published as ClaimReview: a claim that is not yet
verified or still in review carries none, and so does a claim whose verdict
a substantive correction withdrew, until an editor records a new one. The
review always names the words its verdict stands on: the claim's current
statement, corrected wording included; a typo or clarification made while
the verdict stood is listed as a schema.org `correction` (CorrectionComment)
and moves `dateModified`. The rating mapping comes from claims.ratings. The claim must be fetched with `Claim.objects.public_detail()`
(speaker, appearances with their sources, the ledger), so building the
markup runs no query of its own.

`site_root` and `absolute_url` are the one place where the site's absolute addresses
are made (pages, feeds, the sitemap, robots.txt, the API's `page_url`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.urls import reverse
from django.utils.text import Truncator

from claims.languages import desk_language
from claims.markdown import render_markdown
from claims.models import (
    Appearance,
    Claim,
    CorrectionClass,
    MediaAuthenticity,
    MediaType,
    Relay,
    Review,
)
from claims.quantities import quantitative_value
from claims.ratings import get_rating

SCHEMA = "https://schema.org"
EXPLANATION_CHARS = 500


# --- Absolute addresses: the one place they are made --------------------------------


class Served(Protocol):
    """What answers a request, as far as its address goes: a request (Django's or DRF's),
    or anything that knows its scheme and host (the sitemap's)."""

    @property
    def scheme(self) -> str | None: ...

    def get_host(self) -> str: ...


def site_root(request: Served | None = None) -> str:
    """The address every absolute link of the site starts with: scheme, host, port and
    any path prefix, without a trailing slash.

    `SITE_URL`, when set, is authoritative: production's canonical addresses never
    follow the Host header, which the client chooses. Unset (development), the address
    of the server answering `request`, whatever host and port it was started on (its
    host checked against ALLOWED_HOSTS by `get_host`). Without a request (management
    commands, the shell) and without SITE_URL: `DEFAULT_SITE_URL`, where `make run`
    serves by default.
    """
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return settings.DEFAULT_SITE_URL.rstrip("/")


def absolute_url(path: str, request: Served | None = None) -> str:
    """`path` (from `reverse`) as an absolute address on this site (`site_root`)."""
    return site_root(request) + path


def claim_url(claim: Claim, request: Served | None = None) -> str:
    return absolute_url(reverse("claims:detail", kwargs={"slug": claim.slug}), request)


def publisher_url(request: Served | None = None) -> str:
    """The publishing organisation's address: PUBLISHER_URL, or this site's."""
    return settings.PUBLISHER_URL or site_root(request)


def publisher(request: Served | None = None) -> dict:
    return {"@type": "Organization", "name": settings.PUBLISHER_NAME, "url": publisher_url(request)}


def verdict_entries(claim: Claim) -> list[Review]:
    """The claim's verdicts, oldest first, from the prefetched ledger."""
    entries = [e for e in claim.reviews.all() if e.action == Review.Action.REVIEW]
    return sorted(entries, key=lambda entry: entry.sequence)


def correction_entries(claim: Claim) -> list[Review]:
    """The claim's corrections, oldest first, from the prefetched ledger."""
    entries = [e for e in claim.reviews.all() if e.action == Review.Action.CORRECTION]
    return sorted(entries, key=lambda entry: entry.sequence)


def _correction_comment(claim: Claim, entry: Review, page: str) -> dict:
    return {
        "@type": "CorrectionComment",
        "url": f"{page}#correction-{entry.sequence}",
        "text": plain_text(entry.explanation),
        "datePublished": entry.created_at.isoformat(),
    }


def plain_text(markdown_text: str) -> str:
    return nh3.clean(str(render_markdown(markdown_text)), tags=set()).strip()


def _speaker(claim: Claim) -> dict:
    speaker = claim.speaker
    if speaker.kind == speaker.Kind.OTHER:
        # "Unnamed sources briefed on the move", a chain message: neither a person nor an
        # organisation that anyone could name, so no type is asserted, only the words.
        return {"name": speaker.name}
    kind = "Person" if speaker.kind == speaker.Kind.PERSON else "Organization"
    author: dict[str, Any] = {"@type": kind, "name": speaker.name}
    if speaker.role:
        author["jobTitle" if kind == "Person" else "description"] = speaker.role
    if speaker.affiliation and kind == "Person":
        author["affiliation"] = {"@type": "Organization", "name": speaker.affiliation}
    return author


def _relayed_work(appearance: Appearance) -> dict:
    """What a source passed on when it did not hear the claim itself: the report or post
    of the intermediary it names ("according to The New York Times"), as schema.org's
    `isBasedOn` ("a resource from which this work is derived") of the source's
    CreativeWork. Not `sourceOrganization`, which is the organisation the source's own
    author worked for. The intermediary may be a person or an organisation and the
    desk records only its name, so its node carries no type rather than a guessed one."""
    kind = "SocialMediaPosting" if appearance.relay == Relay.POSTED_BY else "CreativeWork"
    return {"@type": kind, "author": {"name": appearance.relayed_by}}


def _creative_work(source, request: Served | None, based_on: list[dict] | None = None) -> dict:
    archive = absolute_url(reverse("sources:detail", kwargs={"slug": source.slug}), request)
    work: dict[str, Any] = {"@type": "CreativeWork", "name": source.title}
    # The original document's address when it has one; our archived copy always, as
    # archivedAt only: it is not where the claim appeared.
    if source.url:
        work["url"] = source.url
    work["archivedAt"] = archive
    if source.outlet:
        work["publisher"] = {"@type": "Organization", "name": source.outlet}
    if source.author:
        work["author"] = {"@type": "Person", "name": source.author}
    if source.published_on:
        work["datePublished"] = source.published_on.isoformat()
    if source.language:
        work["inLanguage"] = source.language
    if based_on:
        work["isBasedOn"] = based_on
    return work


def build_claim_review(claim: Claim, request: Served | None = None) -> dict | None:
    """The ClaimReview JSON-LD of a published verdict, or None when there is none; its
    addresses start with `site_root(request)`."""
    rating = get_rating(claim.status)
    review_rating = rating.claimreview_rating()  # None unless the status is a verdict
    verdicts = verdict_entries(claim)
    if not claim.is_published or review_rating is None or not verdicts:
        return None
    latest = verdicts[-1]
    corrections = correction_entries(claim)
    # A substantive correction changed what the claim says: the verdicts before it
    # judged other words, so this review dates from the first verdict after it.
    withdrawn_up_to = max(
        (e.sequence for e in corrections if CorrectionClass(e.correction_class).withdraws_verdict),
        default=0,
    )
    if withdrawn_up_to > latest.sequence:
        return None  # the services put the claim back in review; never a withdrawn verdict
    first_verdict = next(
        (
            entry
            for entry in verdicts
            if entry.sequence > withdrawn_up_to and get_rating(entry.status_after).is_verdict
        ),
        latest,
    )
    # Typos and clarifications made while the current verdict stood (it stands on
    # the corrected words, which `claimReviewed` gives).
    corrected = [e for e in corrections if e.sequence > latest.sequence]
    explanation = plain_text(latest.explanation)
    if explanation:
        review_rating["ratingExplanation"] = Truncator(explanation).chars(EXPLANATION_CHARS)

    sources = []
    # By source: the intermediaries it relayed the claim from (one appearance each).
    relayed: dict[int, list[dict]] = {}
    for appearance in claim.appearances.all():
        if appearance.source not in sources:
            sources.append(appearance.source)
        if appearance.relay:
            passed_on = relayed.setdefault(appearance.source_id, [])
            if (work := _relayed_work(appearance)) not in passed_on:
                passed_on.append(work)
    item: dict[str, Any] = {"@type": "Claim", "author": _speaker(claim)}
    # The language the claim was made in; the review's own (below) is the desk's.
    if claim.language:
        item["inLanguage"] = claim.language
    # When it was said; else when it entered public discourse (Google's reading of
    # this property): the earliest dated source it appears in; else null, said
    # outright: unknown, not forgotten (JSON-LD drops a null, so no date is asserted).
    first_dated = min((s.published_on for s in sources if s.published_on), default=None)
    item["datePublished"] = (
        claim.claim_date.isoformat()
        if claim.claim_date
        else first_dated.isoformat()
        if first_dated
        else None
    )
    if claim.short_form and claim.short_form != claim.statement:
        item["description"] = claim.statement  # the full wording, beside the short form
    if claim.quantity is not None:
        item["mentions"] = quantitative_value(claim.quantity, claim.unit, claim.quantity_qualifier)
    if sources:
        works = [_creative_work(source, request, relayed.get(source.pk)) for source in sources]
        item["appearance"] = works
        dated = [(s.published_on, s) for s in sources if s.published_on]
        first = min(dated, key=lambda pair: pair[0])[1] if dated else sources[0]
        item["firstAppearance"] = works[sources.index(first)]

    page = claim_url(claim, request)
    markup: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "ClaimReview",
        "@id": f"{page}#claimreview",
        "url": page,
        "claimReviewed": claim.short_statement,
        "datePublished": first_verdict.created_at.date().isoformat(),
        "dateModified": (corrected[-1] if corrected else latest).created_at.isoformat(),
        "author": publisher(request),
        "reviewRating": review_rating,
        "itemReviewed": item,
        "inLanguage": desk_language(),
    }
    if corrected:
        markup["correction"] = [_correction_comment(claim, entry, page) for entry in corrected]
    if has_media_review(claim):
        # Beside it, not inside: build_media_review, linked both ways by @id.
        markup["associatedMediaReview"] = {"@id": f"{page}#mediareview"}
    return markup


def has_media_review(claim: Claim) -> bool:
    return claim.kind == Claim.Kind.MEDIA and bool(claim.media_authenticity and claim.media_type)


MEDIA_OBJECT_TYPES = {
    MediaType.VIDEO: "VideoObject",
    MediaType.IMAGE: "ImageObject",
    MediaType.AUDIO: "AudioObject",
}


def build_media_review(claim: Claim, claim_review: dict, request: Served | None = None) -> dict:
    """The MediaReview of a claim about media, published beside its ClaimReview
    (`claim_review`, from build_claim_review): the desk's rating of the media itself
    (mediaAuthenticityCategory, a member of schema.org's enumeration), of the media
    the editor described (a MediaReviewItem holding the video, image or audio)."""
    page = claim_review["url"]
    media: dict[str, Any] = {"@type": MEDIA_OBJECT_TYPES[MediaType(claim.media_type)]}
    if claim.media_url:
        media["contentUrl"] = claim.media_url
    if claim.media_archive_url:
        media["archivedAt"] = claim.media_archive_url
    if claim.media_context:
        media["description"] = claim.media_context
    item: dict[str, Any] = {"@type": "MediaReviewItem", "mediaItemAppearance": [media]}
    if claim.media_original_url:
        item["appearance"] = {"@type": "CreativeWork", "url": claim.media_original_url}
    category = MediaAuthenticity(claim.media_authenticity)
    review: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "MediaReview",
        "@id": f"{page}#mediareview",
        "url": page,
        "author": claim_review["author"],
        "datePublished": claim_review["datePublished"],
        "dateModified": claim_review["dateModified"],
        # A compact IRI in the context's own prefix: the member of the enumeration, in the
        # namespace schema.org's terms expand to (http://schema.org/).
        "mediaAuthenticityCategory": {"@id": f"schema:{category.value}"},
        "reviewRating": {"@type": "Rating", "alternateName": category.label},
        "itemReviewed": item,
        "associatedClaimReview": {"@id": claim_review["@id"]},
        "inLanguage": claim_review["inLanguage"],
    }
    if claim.media_original_url:
        review["originalMediaLink"] = claim.media_original_url
    if claim.media_context:
        review["originalMediaContextDescription"] = claim.media_context
    return review


# --- Google Fact Check Tools: the same review, in the shape of claims:search ---------


def site_of(url_or_host: str) -> str:
    """The bare host name of a URL or host ("https://www.Example.org:8000/x" -> "example.org")."""
    text = url_or_host.strip().lower()
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    except ValueError:  # an unbalanced IPv6 bracket: no host of ours
        return text
    return host.removeprefix("www.")


def publisher_sites(request: Served | None = None) -> set[str]:
    """The sites this publisher's reviews are on (Google's `reviewPublisherSiteFilter`)."""
    return {site_of(publisher_url(request)), site_of(site_root(request))}


def rfc3339(value: str) -> str:
    """An ISO date or date-time from the ClaimReview markup, as Google writes it: UTC, Z."""
    if len(value) == len("2025-01-31"):
        moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def external_google_review(review) -> dict:
    """Another fact-checker's review (ExternalReview) as a Google `ClaimReview`: their
    rating words verbatim, their site and language as they gave them."""
    found: dict = {"publisher": {"name": review.publisher_name}}
    site = site_of(review.publisher_site or review.url)
    if site and not review.url.startswith("urn:"):
        found["publisher"]["site"] = site
    found["url"] = review.url
    found["title"] = review.claim_text
    if review.date_published:
        found["reviewDate"] = rfc3339(review.date_published.isoformat())
    found["textualRating"] = review.rating_text
    if review.language:
        found["languageCode"] = review.language
    return found


def google_claim(markup: dict) -> dict:
    """A Google Fact Check Tools `Claim`, read off our ClaimReview markup (docs/api.md)."""
    item = markup["itemReviewed"]
    claim = {"text": markup["claimReviewed"], "claimant": item["author"]["name"]}
    if item.get("datePublished"):
        claim["claimDate"] = rfc3339(item["datePublished"])
    claim["claimReview"] = [
        {
            "publisher": {
                "name": markup["author"]["name"],
                "site": site_of(markup["author"]["url"]),
            },
            "url": markup["url"],
            "title": markup["claimReviewed"],
            "reviewDate": rfc3339(markup["dateModified"]),
            "textualRating": markup["reviewRating"]["alternateName"],
            "languageCode": markup["inLanguage"],
        }
    ]
    return claim
