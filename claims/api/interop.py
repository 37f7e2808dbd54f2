"""What other fact-checking tools read: one claim's schema.org ClaimReview
(exactly the JSON-LD its page embeds), the DataFeed of every published
verdict, and Google Fact Check Tools' `claims:search`, each derived from
`claims.claimreview.build_claim_review`. Only published verdicts are shown.
docs/api.md ("ClaimReview and Google Fact Check") explains them with examples.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, timedelta
from functools import partial

from django.conf import settings
from django.contrib.postgres.search import SearchRank
from django.db.models import Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.api.common import (
    CachingHeadersMixin,
    QueryParameters,
    StrictCursorPagination,
    api_exception_handler,
    error_responses,
)
from claims.claimreview import (
    SCHEMA,
    absolute_url,
    build_claim_review,
    build_media_review,
    claim_url,
    external_google_review,
    google_claim,
    has_media_review,
    publisher_sites,
    rfc3339,
    site_of,
)
from claims.languages import desk_language
from claims.models import Claim, ExternalReview, Review, ReviewAction
from claims.ratings import VERDICT_STATUSES
from claims.search import search_query

TAGS = ["ClaimReview and Google Fact Check"]

FEED_PAGE_SIZE = 100
# schema.org has no term for a feed's next page. `next` (what JSON clients read, and
# the Link header's rel) is declared as schema.org's nextItem, "a link to the item
# that follows the current one", so that a JSON-LD consumer reads it as a link in
# schema.org's vocabulary rather than dropping an undefined key.
FEED_CONTEXT = [SCHEMA, {"next": {"@id": "nextItem", "@type": "@id"}}]
SEARCH_PAGE_SIZE = 10
SEARCH_MAX_PAGE_SIZE = 100
# Offsets beyond this are refused: deep offset pages are slow, and nobody reads them.
SEARCH_MAX_OFFSET = 10_000
# How many matches of a query are ranked (claims:search): enough to fill many pages.
SEARCH_CANDIDATES = 1_000
# maxAgeDays larger than this (about a century) is the same as no limit.
MAX_AGE_DAYS_CAP = 36_500
LANGUAGE_TAG = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
_PAGE_TOKEN = re.compile(r"offset:(\d{1,9})")


def published_verdicts():
    """Published claims whose current status is a verdict: what carries a ClaimReview."""
    return Claim.objects.published().rated()


def once_reviewed() -> Q:
    """Claims that carried a ClaimReview at some time: published once, and rated once.
    One that carries none now had its verdict withdrawn (unpublished, corrected
    substantively, or back in review): harvesters are told so (410, tombstones)."""
    entries = Review.objects.filter(claim=OuterRef("pk"))
    return Exists(entries.filter(action=ReviewAction.PUBLISH)) & Exists(
        entries.filter(action=ReviewAction.REVIEW, status_after__in=VERDICT_STATUSES)
    )


def tombstone(claim: Claim, request) -> dict:
    """A DataFeedItem saying the claim's ClaimReview is gone, as the Data Commons feed
    says it: `dateDeleted`, and the ClaimReview's `url` so the harvester finds its copy."""
    return {
        "@type": "DataFeedItem",
        "dateDeleted": claim.updated_at.isoformat(),
        "item": {"@type": "ClaimReview", "url": claim_url(claim, request)},
    }


class JSONLDRenderer(JSONRenderer):
    """JSON-LD: the same JSON bytes, announced as `application/ld+json`."""

    media_type = "application/ld+json"
    format = "jsonld"


class PublicReadView(CachingHeadersMixin, APIView):
    """Anonymous GETs of published material; errors always answer as plain JSON."""

    permission_classes = [AllowAny]
    http_method_names = ["get", "head", "options"]

    def finalize_response(self, request, response, *args, **kwargs):
        # The error body is not JSON-LD: say application/json even when the
        # client asked for application/ld+json (or for something we lack).
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), JSONLDRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- The shapes, for the OpenAPI schema ----------------------------------------------

# The schema.org objects inside (author, reviewRating, itemReviewed, ...) are
# described, with a whole example, in docs/api.md.
ClaimReviewSchema = inline_serializer(
    name="ClaimReviewJsonLd",
    fields={
        "@context": serializers.CharField(default=SCHEMA),
        "@type": serializers.CharField(default="ClaimReview"),
        "url": serializers.URLField(help_text="The claim's page on this site."),
        "claimReviewed": serializers.CharField(),
        "datePublished": serializers.DateField(),
        "dateModified": serializers.DateTimeField(),
        "correction": serializers.ListField(child=serializers.DictField(), required=False),
        "author": serializers.DictField(help_text="The publisher: a schema.org Organization."),
        "reviewRating": serializers.DictField(help_text="The verdict: a schema.org Rating."),
        "itemReviewed": serializers.DictField(help_text="The schema.org Claim."),
        "inLanguage": serializers.CharField(
            help_text="The review's language: the desk's (LANGUAGE_CODE). The claim's own "
            "is itemReviewed.inLanguage, when known."
        ),
        "associatedMediaReview": serializers.DictField(required=False),
    },
)

TombstoneSchema = inline_serializer(
    name="ClaimReviewTombstone",
    fields={
        "@type": serializers.CharField(default="DataFeedItem"),
        "dateDeleted": serializers.DateTimeField(help_text="When the verdict was withdrawn."),
        "item": serializers.DictField(
            help_text='{"@type": "ClaimReview", "url": ...}: the withdrawn ClaimReview\'s url.'
        ),
    },
)

DataFeedSchema = inline_serializer(
    name="ClaimReviewDataFeed",
    fields={
        "@context": serializers.JSONField(
            help_text="schema.org, with `next` declared as schema.org's `nextItem`."
        ),
        "@type": serializers.CharField(default="DataFeed"),
        "name": serializers.CharField(),
        "url": serializers.URLField(),
        "dateModified": serializers.DateTimeField(allow_null=True),
        "dataFeedElement": PolymorphicProxySerializer(
            component_name="ClaimReviewFeedElement",
            serializers=[ClaimReviewSchema, TombstoneSchema],
            resource_type_field_name=None,
            many=True,
        ),
        "next": serializers.URLField(
            allow_null=True, help_text="The next page (schema.org nextItem), or null."
        ),
    },
)

_GooglePublisher = inline_serializer(
    name="GoogleFactCheckPublisher",
    fields={
        "name": serializers.CharField(),
        "site": serializers.CharField(
            required=False, help_text="Absent when another publisher's review gave no site."
        ),
    },
)

_GoogleReview = partial(
    inline_serializer,
    name="GoogleFactCheckClaimReview",
    fields={
        "publisher": _GooglePublisher,
        "url": serializers.URLField(),
        "title": serializers.CharField(
            help_text="The claim's statement; for another publisher's review, their wording."
        ),
        "reviewDate": serializers.DateTimeField(
            required=False, help_text="Absent when another publisher's review is undated."
        ),
        "textualRating": serializers.CharField(
            help_text="The desk's label, or another publisher's rating words verbatim."
        ),
        "languageCode": serializers.CharField(
            required=False, help_text="Absent when another publisher's review does not say."
        ),
    },
)

_GoogleClaim = partial(
    inline_serializer,
    name="GoogleFactCheckClaim",
    fields={
        "text": serializers.CharField(),
        "claimant": serializers.CharField(),
        "claimDate": serializers.DateTimeField(required=False),
        "claimReview": _GoogleReview(many=True),
    },
)

GoogleSearchSchema = inline_serializer(
    name="GoogleFactCheckSearchResponse",
    fields={
        "claims": _GoogleClaim(many=True, required=False),
        "nextPageToken": serializers.CharField(
            required=False, help_text="Absent on the last page."
        ),
    },
)


def _json_errors(*codes: int) -> dict:
    """Errors are plain JSON, even on the JSON-LD endpoints."""
    return error_responses(*codes, media_type="application/json")


# --- One claim's ClaimReview ------------------------------------------------------


class Gone(exceptions.APIException):
    status_code = 410
    default_detail = "This resource was withdrawn."
    default_code = "gone"


class ClaimReviewView(PublicReadView):
    renderer_classes = [JSONLDRenderer, JSONRenderer]

    @extend_schema(
        operation_id="claims_claimreview_retrieve",
        tags=TAGS,
        summary="A claim's ClaimReview (JSON-LD)",
        description="Exactly the JSON-LD the claim's page embeds; 404 without a published "
        "verdict, 410 once a published verdict was withdrawn or the claim unpublished.",
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={
            200: OpenApiResponse(ClaimReviewSchema, description="The ClaimReview."),
            **_json_errors(404, 410, 429),
        },
    )
    def get(self, request, slug: str):
        try:
            claim = Claim.objects.public_detail().annotate(once=once_reviewed()).get(slug=slug)
        except Claim.DoesNotExist:
            raise exceptions.NotFound("No published claim has this slug.") from None
        markup = build_claim_review(claim, request) if claim.is_published else None
        if markup is not None:
            return Response(markup)
        if claim.once:
            raise Gone(
                "This claim's ClaimReview was withdrawn (the claim was unpublished, corrected, "
                "or is back in review): remove your copy."
            )
        if not claim.is_published:
            raise exceptions.NotFound("No published claim has this slug.")
        raise exceptions.NotFound(
            "This claim has no verdict yet (not yet verified, or in review): no ClaimReview."
        )


# --- The DataFeed of every verdict ---------------------------------------------------


class FeedPagination(StrictCursorPagination):
    """Keyset pages, newest change first: constant cost at any depth."""

    page_size = FEED_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = FEED_PAGE_SIZE
    # updated_at moves with every ledger entry (so never before status_changed_at)
    # and with every edit of what the ClaimReview shows: the order `updated_since` reads.
    ordering = ("-updated_at", "-id")


class _FeedParams(QueryParameters):
    updated_since = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text="Claims changed since."
    )
    page_size = serializers.IntegerField(required=False, min_value=1, default=FEED_PAGE_SIZE)


class ClaimReviewFeedView(PublicReadView):
    renderer_classes = [JSONLDRenderer, JSONRenderer]

    @extend_schema(
        operation_id="claimreview_feed",
        tags=TAGS,
        summary="Every published verdict as a schema.org DataFeed of ClaimReviews",
        description="Newest change first, 100 a page; harvest increments with `updated_since`, "
        "which also lists each ClaimReview withdrawn since as a DataFeedItem with "
        "`dateDeleted` (a tombstone).",
        parameters=[
            _FeedParams,
            OpenApiParameter(
                "cursor", {"type": "string", "minLength": 1}, description="From `next`."
            ),
        ],
        responses={
            200: OpenApiResponse(DataFeedSchema, description="One page of the feed."),
            **_json_errors(400, 404, 429),
        },
    )
    def get(self, request):
        params = _FeedParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        since = params.validated_data.get("updated_since")

        verdicts = published_verdicts()
        # The feed's own dateModified: its latest change, whatever page this is.
        modified = verdicts.aggregate(latest=Max("updated_at"))["latest"]
        if since:
            # An increment also says which ClaimReviews went away since: a withdrawn
            # verdict is a tombstone, not a silent absence.
            selected = Claim.objects.filter(updated_at__gte=since).filter(
                Q(pk__in=verdicts.values("pk")) | once_reviewed()
            )
        else:
            selected = verdicts
        paginator = FeedPagination()
        page = paginator.paginate_queryset(selected.public_detail(), request, view=self)
        elements = []
        for claim in page or []:
            markup = build_claim_review(claim, request) if claim.is_published else None
            if markup is not None:
                elements.append(markup)
                if has_media_review(claim):
                    elements.append(build_media_review(claim, markup, request))
            elif since:
                elements.append(tombstone(claim, request))
        next_link = paginator.get_next_link()
        feed = {
            "@context": FEED_CONTEXT,
            "@type": "DataFeed",
            "name": f"{settings.PUBLISHER_NAME}: ClaimReview feed",
            "url": absolute_url(reverse("api:claimreview-feed"), request),
            "dateModified": modified.isoformat() if modified else None,
            "dataFeedElement": elements,
            "next": next_link,
        }
        headers = {"Link": f'<{next_link}>; rel="next"'} if next_link else None
        return Response(feed, headers=headers)


# --- Google Fact Check Tools claims:search -------------------------------------------

# Google's error model over HTTP (google.rpc.Status, as Google's JSON APIs send it):
# `code` is the HTTP status, `status` the canonical google.rpc.Code it maps to.
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    # The method does not exist for this resource (grpc-gateway says the same).
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
GOOGLE_TYPE = "type.googleapis.com/google.rpc."


def google_status(http_status: int) -> str:
    if http_status in GOOGLE_STATUS:
        return GOOGLE_STATUS[http_status]
    return "INVALID_ARGUMENT" if http_status < 500 else "INTERNAL"


def google_error(
    http_status: int, message: str, fields: dict | None = None, retry_after: str | None = None
) -> dict:
    """`{"error": {"code", "message", "status", "details"}}` as Google answers: a 400 names
    each invalid parameter in a google.rpc.BadRequest, a 429 says when to retry in a
    google.rpc.RetryInfo (as the Retry-After header does)."""
    details: list[dict] = []
    if fields:
        details.append(
            {
                "@type": f"{GOOGLE_TYPE}BadRequest",
                "fieldViolations": [
                    {"field": field, "description": description}
                    for field, descriptions in fields.items()
                    for description in descriptions
                ],
            }
        )
    if retry_after and retry_after.isdigit():
        details.append({"@type": f"{GOOGLE_TYPE}RetryInfo", "retryDelay": f"{retry_after}s"})
    error: dict = {"code": http_status, "message": message, "status": google_status(http_status)}
    if details:
        error["details"] = details
    return {"error": error}


def google_exception_handler(exc, context):
    """The project's handler (what each error is, its status and headers), answering in
    Google's error shape instead of the project's."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
    response.data = google_error(
        response.status_code,
        error.get("message") or response.status_text,
        error.get("fields"),
        response.get("Retry-After"),
    )
    return response


GoogleErrorSchema = inline_serializer(
    name="GoogleError",
    fields={
        "error": inline_serializer(
            name="GoogleErrorStatus",
            fields={
                "code": serializers.IntegerField(help_text="The HTTP status code."),
                "message": serializers.CharField(),
                "status": serializers.ChoiceField(
                    choices=sorted(set(GOOGLE_STATUS.values())),
                    help_text="The canonical google.rpc.Code name.",
                ),
                "details": serializers.ListField(
                    child=serializers.DictField(),
                    required=False,
                    help_text="google.rpc.BadRequest (fieldViolations: each invalid parameter), "
                    "google.rpc.RetryInfo (retryDelay), each with its `@type`.",
                ),
            },
        )
    },
)


def _google_errors(*codes: int) -> dict:
    descriptions = {
        400: "INVALID_ARGUMENT: a parameter is invalid (details: fieldViolations).",
        401: "UNAUTHENTICATED: a token was sent and is not valid.",
        429: "RESOURCE_EXHAUSTED: too many requests; retry after Retry-After seconds.",
    }
    return {
        (code, "application/json"): OpenApiResponse(
            GoogleErrorSchema, description=descriptions[code]
        )
        for code in codes
    }


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    """The offset a page token stands for; ValueError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError(token) from None
    match = _PAGE_TOKEN.fullmatch(text)
    if not match or int(match.group(1)) > SEARCH_MAX_OFFSET:
        raise ValueError(token)
    return int(match.group(1))


class _SearchParams(QueryParameters):
    """Google's parameters, validated; the schema documents them from here."""

    query = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Web search syntax."
    )
    languageCode = serializers.RegexField(LANGUAGE_TAG, required=False, max_length=35)  # noqa: N815
    reviewPublisherSiteFilter = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, max_length=253
    )
    maxAgeDays = serializers.IntegerField(required=False, min_value=1)  # noqa: N815
    pageSize = serializers.IntegerField(required=False, min_value=1, default=SEARCH_PAGE_SIZE)  # noqa: N815
    pageToken = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, max_length=100, help_text="From nextPageToken."
    )
    offset = serializers.IntegerField(
        required=False, min_value=0, max_value=SEARCH_MAX_OFFSET, default=0
    )

    def validate_pageToken(self, value: str) -> int | None:  # noqa: N802
        if not value:
            return None
        try:
            return decode_page_token(value)
        except ValueError:
            raise serializers.ValidationError(
                "Not a page token from this API: pass nextPageToken from the previous page."
            ) from None

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("query") and not attrs.get("reviewPublisherSiteFilter"):
            raise serializers.ValidationError(
                {"query": "A query is required unless reviewPublisherSiteFilter is given."}
            )
        return attrs


def external_reviews_matching(language: str, site: str) -> QuerySet[ExternalReview]:
    """Other fact-checkers' reviews in `language` (its primary subtag) on `site`, newest
    first; any language or site when "" (claims:search's filters)."""
    reviews = ExternalReview.objects.order_by(F("date_published").desc(nulls_last=True), "pk")
    if language:
        reviews = reviews.filter(
            Q(language__iexact=language) | Q(language__istartswith=f"{language}-")
        )
    if site:
        reviews = reviews.filter(
            Q(publisher_site__iregex=rf"^(https?://)?(www\.)?{re.escape(site)}(:[0-9]+)?(/|$)")
            | Q(url__iregex=rf"^https?://(www\.)?{re.escape(site)}(:[0-9]+)?(/|$)")
        )
    return reviews


def published_with_reviews(ours: bool, theirs: QuerySet[ExternalReview]):
    """Published claims that carry a review claims:search may show: the desk's verdict
    (when `ours`), or another fact-checker's among `theirs`. None when neither can."""
    # `IN (subquery)`, not EXISTS: beside the OR, PostgreSQL hashes the reviewed claims'
    # ids once, where a correlated EXISTS probed them again for every matching claim.
    with_theirs = Q(pk__in=theirs.order_by().values("claim_id"))
    if ours:
        return Claim.objects.published().filter(Q(status__in=VERDICT_STATUSES) | with_theirs)
    return Claim.objects.published().filter(with_theirs)


def search_result(claim: Claim, request, *, ours: bool) -> dict | None:
    """Google's `Claim` for one claim: the desk's review first when it may answer, then
    every other fact-checker's that matches, as Google lists every publisher's."""
    markup = build_claim_review(claim, request) if ours else None
    # Prefetched (claims:search) with the filters' reviews only.
    matching: list[ExternalReview] = claim.matching_external_reviews  # type: ignore[attr-defined]
    theirs = [external_google_review(review) for review in matching]
    if markup is not None:
        result = google_claim(markup)
    elif theirs:
        result = {"text": claim.statement, "claimant": claim.speaker.name}
        if claim.claim_date:
            result["claimDate"] = rfc3339(claim.claim_date.isoformat())
        result["claimReview"] = []
    else:
        return None
    result["claimReview"] += theirs
    return result


def ranked_candidates(claims, text: str, wanted: int):
    """Claims matching `text`, best first, ranking at most SEARCH_CANDIDATES of them
    (or the `wanted` rows the page reaches, if more): a common word matches a good
    part of the ledger, and ranking every match is what made it slow. A query
    matching fewer claims is ranked whole.

    Each candidate is ranked as it is read, and only the `wanted` best are read
    again whole: reading all the candidates' rows a second time, a thousand random
    heap reads, was half the query at a million claims."""
    query = search_query(text)
    cap = max(SEARCH_CANDIDATES, wanted)
    candidates = (
        claims.filter(search_vector=query)
        .order_by()
        .annotate(rank=SearchRank(F("search_vector"), query))
        .values("pk", "rank")[:cap]
    )
    sql, params = candidates.query.sql_with_params()
    best = RawSQL(
        f"SELECT candidate.pk FROM ({sql}) AS candidate "
        "ORDER BY candidate.rank DESC, candidate.pk DESC LIMIT %s",
        (*params, wanted),
    )
    return (
        Claim.objects.filter(pk__in=best)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-pk")
    )


class GoogleClaimSearchView(PublicReadView):
    """Google's request, answer and errors (`google_error`), for clients written for it."""

    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return google_exception_handler

    @extend_schema(
        operation_id="claims_search_google",
        tags=TAGS,
        summary="Search verdicts, Google Fact Check Tools claims:search compatible",
        description="Google's `v1alpha1/claims:search` request and response over this site's "
        "published verdicts; nothing matching answers `{}`.",
        parameters=[_SearchParams],
        responses={
            200: OpenApiResponse(GoogleSearchSchema, description="Matching claims, or {}."),
            **_google_errors(400, 401, 429),
        },
    )
    def get(self, request):
        params = _SearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data

        language = (data.get("languageCode") or "").split("-")[0].lower()
        site = site_of(data.get("reviewPublisherSiteFilter") or "")
        # Which reviews may answer: the desk's own (in the desk's language, on this
        # site), and other fact-checkers' (ExternalReview) in that language and on that
        # site. As Google's, the filter reads the language a review is written in.
        ours = (not language or language == desk_language()) and (
            not site or site in publisher_sites(request)
        )
        theirs = external_reviews_matching(language, site)

        claims = published_with_reviews(ours, theirs)
        if claims is None:
            return Response({})
        if "maxAgeDays" in data:
            since = timezone.now() - timedelta(days=min(data["maxAgeDays"], MAX_AGE_DAYS_CAP))
            claims = claims.filter(
                Q(status_changed_at__gte=since) | Q(claim_date__gte=since.date())
            )
        page_size = min(data.get("pageSize", SEARCH_PAGE_SIZE), SEARCH_MAX_PAGE_SIZE)
        start = data.get("pageToken")
        if start is None:
            start = data.get("offset", 0)
        if data.get("query"):
            claims = ranked_candidates(claims, data["query"], start + page_size + 1)
        else:
            claims = claims.order_by(F("status_changed_at").desc(nulls_last=True), "-pk")
        claims = claims.public_detail().prefetch_related(
            Prefetch("external_reviews", queryset=theirs, to_attr="matching_external_reviews")
        )
        # One more than the page, to know whether another page follows.
        rows = list(claims[start : start + page_size + 1])
        found = [
            found_claim
            for claim in rows[:page_size]
            if (found_claim := search_result(claim, request, ours=ours))
        ]
        if not found:
            return Response({})
        body: dict = {"claims": found}
        if len(rows) > page_size and start + page_size <= SEARCH_MAX_OFFSET:
            body["nextPageToken"] = encode_page_token(start + page_size)
        return Response(body)
