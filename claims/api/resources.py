"""The collections of /api/v1/: claims, speakers, sources, quotes, appearances,
topics, and the rating scale.

Readers (anonymous or not) see published claims only; desk members (staff)
see drafts too, told apart by `published`. Writes need the account's model
permissions (contributors and editors) and go through `claims.services`
where a rule lives there (quote anchoring, appearances, assignment). Claims,
speakers, sources, quotes and topics are never deleted through the API: the
ledger and the quotes depend on them (DELETE is 405). Every list and detail
runs a fixed number of SQL queries, whatever the page size or the number of
related rows.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import http_date, parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.api.common import (
    READ_ERRORS,
    CachingHeadersMixin,
    LedgerCursorPagination,
    PreconditionFailed,
    claim_etag,
    created_response,
    error_responses,
    sees_drafts,
)
from claims.api.filters import AppearanceFilter, ClaimCursorPagination, ClaimFilter, QuoteFilter
from claims.api.serializers import (
    AppearanceCreateSerializer,
    AppearanceSerializer,
    ClaimDetailSerializer,
    ClaimListSerializer,
    ClaimWriteSerializer,
    QuoteCreateSerializer,
    QuoteSerializer,
    RatingSerializer,
    SourceDetailSerializer,
    SourceListSerializer,
    SourceWriteSerializer,
    SpeakerSerializer,
    TopicSerializer,
)
from claims.models import Appearance, Claim, Quote, Speaker, Topic
from claims.ratings import RATINGS
from sources.models import Source

DETAIL_ERRORS = error_responses(404, 429)
WRITE_ERRORS = error_responses(400, 401, 403, 429)
UPDATE_ERRORS = error_responses(400, 401, 403, 404, 429)
NO_DELETE = (
    " Nothing is deleted through the API (DELETE answers 405): the ledger and the quotes "
    "depend on it."
)


def visible_claims(request):
    """Published claims, and drafts too for members of the desk."""
    return Claim.objects.visible_to(request.user)


class ResourceMixin(CachingHeadersMixin):
    """Caching headers on every response, and 405 (not a permission error) for a
    method the endpoint does not offer."""

    # Any path segment reaches the view, so a malformed slug or id is the API's
    # own 404 (JSON, in the error format), not the site's HTML page.
    lookup_value_regex = "[^/]+"

    def initial(self, request, *args, **kwargs):
        if getattr(self, "action", "") is None:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class CreatedCursorPagination(LedgerCursorPagination):
    ordering = ("-created_at", "-id")


class NameCursorPagination(LedgerCursorPagination):
    ordering = ("name", "id")


# --- Examples ----------------------------------------------------------------

STATUS_EXAMPLE = {
    "value": "false",
    "label": "False",
    "group": "scale",
    "rating_value": 1,
    "scale_position": "1 of 5",
    "best_rating": 5,
    "worst_rating": 1,
}
SPEAKER_REF_EXAMPLE = {
    "slug": "pam-bondi",
    "name": "Pam Bondi",
    "kind": "person",
    "role": "US Attorney General",
    "affiliation": "",
    "url": "http://127.0.0.1:8000/api/v1/speakers/pam-bondi/",
}
SOURCE_REF_EXAMPLE = {
    "slug": "us-forces-deploy-to-southern-caribbean",
    "title": "US air and naval forces set to deploy to the Southern Caribbean",
    "url": "",
    "api_url": "http://127.0.0.1:8000/api/v1/sources/us-forces-deploy-to-southern-caribbean/",
}
QUOTE_EXAMPLE = {
    "id": 7,
    "api_url": "http://127.0.0.1:8000/api/v1/quotes/7/",
    "source": "us-forces-deploy-to-southern-caribbean",
    "speaker": "pam-bondi",
    "kind": "direct",
    "exact": "To date, the DEA has seized 30 tons of cocaine linked to Maduro",
    "prefix": "Bondi said: “",
    "suffix": " and his associates",
    "start": 1204,
    "end": 1268,
    "selectors": [
        {
            "type": "TextQuoteSelector",
            "exact": "To date, the DEA has seized 30 tons of cocaine linked to Maduro",
            "prefix": "Bondi said: “",
            "suffix": " and his associates",
        },
        {"type": "TextPositionSelector", "start": 1204, "end": 1268},
    ],
    "created_at": "2025-09-05T10:12:03.120000Z",
}
CLAIM_LIST_EXAMPLE = {
    "slug": "dea-seized-30-tons-of-cocaine-linked-to-maduro",
    "api_url": "http://127.0.0.1:8000/api/v1/claims/dea-seized-30-tons-of-cocaine-linked-to-maduro/",
    "statement": "The DEA has seized 30 tons of cocaine linked to Nicolás Maduro and his associates.",
    "speaker": "pam-bondi",
    "speaker_name": "Pam Bondi",
    "topics": ["drug-trafficking", "venezuela"],
    "kind": "numeric",
    "claim_date": None,
    "status": STATUS_EXAMPLE,
    "version": 3,
    "published": True,
    "published_at": "2025-09-05T10:15:00Z",
    "status_changed_at": "2025-09-06T08:30:00Z",
    "updated_at": "2025-09-06T08:30:00Z",
}
CLAIM_DETAIL_EXAMPLE = {
    "slug": CLAIM_LIST_EXAMPLE["slug"],
    "api_url": CLAIM_LIST_EXAMPLE["api_url"],
    "page_url": "http://127.0.0.1:8000/claims/dea-seized-30-tons-of-cocaine-linked-to-maduro/",
    "statement": CLAIM_LIST_EXAMPLE["statement"],
    "speaker": SPEAKER_REF_EXAMPLE,
    "topics": ["drug-trafficking", "venezuela"],
    "kind": "numeric",
    "quantity": "30.0000",
    "unit": "tons",
    "claim_date": None,
    "media_authenticity": "",
    "status": STATUS_EXAMPLE,
    "version": 3,
    "published": True,
    "published_at": "2025-09-05T10:15:00Z",
    "status_changed_at": "2025-09-06T08:30:00Z",
    "explanation": "The DEA's own figures give **12 tons**.",
    "explanation_html": "<p>The DEA's own figures give <strong>12 tons</strong>.</p>",
    "evidence": [SOURCE_REF_EXAMPLE],
    "appearances": [
        {
            "id": 4,
            "source": SOURCE_REF_EXAMPLE,
            "quote": {
                key: QUOTE_EXAMPLE[key]
                for key in (
                    "id",
                    "exact",
                    "prefix",
                    "suffix",
                    "start",
                    "end",
                    "kind",
                    "speaker",
                    "selectors",
                )
            },
            "created_at": "2025-09-05T10:12:04Z",
        }
    ],
    "assignee": None,
    "created_at": "2025-09-05T10:12:00Z",
    "updated_at": "2025-09-06T08:30:00Z",
}
SPEAKER_EXAMPLE = {
    "slug": "pam-bondi",
    "url": "http://127.0.0.1:8000/api/v1/speakers/pam-bondi/",
    "name": "Pam Bondi",
    "kind": "person",
    "role": "US Attorney General",
    "affiliation": "",
    "aliases": ["Bondi"],
    "description": "",
    "created_at": "2025-09-05T10:00:00Z",
    "updated_at": "2025-09-05T10:00:00Z",
}
SOURCE_EXAMPLE = {
    "slug": "us-forces-deploy-to-southern-caribbean",
    "api_url": SOURCE_REF_EXAMPLE["api_url"],
    "title": SOURCE_REF_EXAMPLE["title"],
    "outlet": "",
    "author": "",
    "url": "",
    "published_on": None,
    "kind": "article",
    "snapshot_sha256": "9f2c3d0e6b5a4f1e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e",
    "retrieved_at": "2025-09-05T09:58:00Z",
    "created_at": "2025-09-05T09:58:00Z",
    "updated_at": "2025-09-05T09:58:00Z",
}
APPEARANCE_EXAMPLE = {
    "id": 4,
    "api_url": "http://127.0.0.1:8000/api/v1/appearances/4/",
    "claim": CLAIM_LIST_EXAMPLE["slug"],
    "source": SOURCE_REF_EXAMPLE,
    "quote": CLAIM_DETAIL_EXAMPLE["appearances"][0]["quote"],
    "created_at": "2025-09-05T10:12:04Z",
}
TOPIC_EXAMPLE = {
    "slug": "venezuela",
    "url": "http://127.0.0.1:8000/api/v1/topics/venezuela/",
    "name": "Venezuela",
    "claim_count": 17,
}


def page_example(item: dict, name: str = "A page") -> OpenApiExample:
    """A list example; drf-spectacular wraps it in the cursor page."""
    return OpenApiExample(name, value=item, response_only=True)


# --- Claims ------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The claim's ETag as you loaded it: if the claim changed since, nothing is "
    "written and the answer is 412.",
)
CLAIM_WRITE_EXAMPLE = OpenApiExample(
    "A numeric claim",
    value={
        "slug": "port-handled-12-million-tonnes",
        "statement": "The port handled 12 million tonnes last year.",
        "speaker": "pam-bondi",
        "kind": "numeric",
        "quantity": "12000000",
        "unit": "tonnes",
        "claim_date": "2025-09-04",
        "topics": ["drug-trafficking"],
    },
    request_only=True,
)
CLAIM_ERROR_EXAMPLE = OpenApiExample(
    "A numeric claim without its quantity",
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "quantity: A numeric claim needs its quantity.",
            "fields": {"quantity": ["A numeric claim needs its quantity."]},
        }
    },
    response_only=True,
    status_codes=["400"],
)


@extend_schema_view(
    list=extend_schema(
        summary="List claims",
        description="Published claims (desk members also see drafts, with `published` false), "
        "in cursor pages: follow `next`. Filter by status, speaker, topic, kind, source, claim "
        "dates, `updated_since` (incremental sync) and full-text `q`; `ordering` picks the "
        "order. An invalid filter value is a 400 naming it; an invalid cursor is a 404.",
        responses={200: ClaimListSerializer(many=True), **READ_ERRORS},
        examples=[page_example(CLAIM_LIST_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="A claim",
        description="The claim with its speaker, status on the scale, the latest verdict's "
        "explanation and evidence, and every appearance with its anchored quote. Drafts are "
        "404 except for desk members. Sends `ETag` and `Last-Modified`: a conditional GET "
        "(`If-None-Match`, `If-Modified-Since`) answers 304 when nothing changed.",
        responses={
            200: ClaimDetailSerializer,
            304: OpenApiResponse(description="Not modified since the ETag or date you sent."),
            **DETAIL_ERRORS,
        },
        examples=[
            OpenApiExample("A claim with a verdict", value=CLAIM_DETAIL_EXAMPLE, response_only=True)
        ],
    ),
    create=extend_schema(
        summary="Add a claim",
        description="A new claim is a draft until an editor publishes it. Its status, version "
        "and publication are the ledger's (see reviews, publish): they are not fields here. "
        "Contributors and editors only." + NO_DELETE,
        request=ClaimWriteSerializer,
        responses={201: ClaimDetailSerializer, **WRITE_ERRORS},
        examples=[CLAIM_WRITE_EXAMPLE, CLAIM_ERROR_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace a claim's fields",
        description="All of the claim's own fields; `If-Match` guards against overwriting "
        "someone else's edit. Setting `assignee` to someone else is an editor's call.",
        parameters=[IF_MATCH],
        request=ClaimWriteSerializer,
        responses={
            200: ClaimDetailSerializer,
            **UPDATE_ERRORS,
            **error_responses(412),
        },
        examples=[CLAIM_WRITE_EXAMPLE, CLAIM_ERROR_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Edit a claim",
        description="Some of the claim's own fields; `If-Match` guards against overwriting "
        'someone else\'s edit. `{"assignee": "<your username>"}` takes the claim.',
        parameters=[IF_MATCH],
        request=ClaimWriteSerializer,
        responses={
            200: ClaimDetailSerializer,
            **UPDATE_ERRORS,
            **error_responses(412),
        },
        examples=[
            OpenApiExample("Correct the unit", value={"unit": "metric tons"}, request_only=True),
            CLAIM_ERROR_EXAMPLE,
        ],
    ),
)
class ClaimViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    filterset_class = ClaimFilter
    pagination_class = ClaimCursorPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        claims = visible_claims(self.request)
        if self.action == "list":
            return claims.select_related("speaker").prefetch_related("topics")
        return claims.public_detail().select_related("assignee")

    def get_serializer_class(self):
        if self.action == "list":
            return ClaimListSerializer
        if self.action in {"create", "update", "partial_update"}:
            return ClaimWriteSerializer
        return ClaimDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        return self._detail_response(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = ClaimWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            claim = serializer.save()
        return self._detail_response(self._fresh(claim.pk), created=True)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            claim = get_object_or_404(
                visible_claims(request).select_for_update(), slug=kwargs[self.lookup_field]
            )
            if_match = request.headers.get("If-Match")
            if if_match and not _etag_matches(if_match, claim_etag(claim)):
                raise PreconditionFailed(
                    f"The claim changed since you loaded it: its ETag is now {claim_etag(claim)}.",
                    claim=claim,
                )
            serializer = ClaimWriteSerializer(
                claim, data=request.data, partial=partial, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return self._detail_response(self._fresh(claim.pk))

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def _fresh(self, pk: int) -> Claim:
        return Claim.objects.public_detail().select_related("assignee").get(pk=pk)

    def _detail_response(self, claim: Claim, *, created: bool = False) -> Response:
        data = ClaimDetailSerializer(claim, context=self.get_serializer_context()).data
        headers = {
            "ETag": claim_etag(claim),
            "Last-Modified": http_date(claim.updated_at.timestamp()),
        }
        return (
            created_response(data, headers=headers) if created else Response(data, headers=headers)
        )


def _etag_matches(header: str, etag: str) -> bool:
    tags = parse_etags(header)
    return tags == ["*"] or etag in tags


# --- Speakers and topics -----------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List speakers",
        description="People and organisations that say things, most recently changed first.",
        responses={200: SpeakerSerializer(many=True), **READ_ERRORS},
        examples=[page_example(SPEAKER_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="A speaker",
        responses={200: SpeakerSerializer, **DETAIL_ERRORS},
        examples=[OpenApiExample("A speaker", value=SPEAKER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Add a speaker",
        description="Contributors and editors; the slug is unique." + NO_DELETE,
        responses={201: SpeakerSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "A person",
                value={
                    "slug": "ada-example",
                    "name": "Ada Example",
                    "kind": "person",
                    "role": "Minister of Ports",
                    "aliases": ["Ada"],
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(
        summary="Replace a speaker", responses={200: SpeakerSerializer, **UPDATE_ERRORS}
    ),
    partial_update=extend_schema(
        summary="Edit a speaker",
        responses={200: SpeakerSerializer, **UPDATE_ERRORS},
        examples=[
            OpenApiExample(
                "A new role", value={"role": "Former Attorney General"}, request_only=True
            )
        ],
    ),
)
class SpeakerViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Speaker.objects.all()
    serializer_class = SpeakerSerializer
    lookup_field = "slug"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


@extend_schema_view(
    list=extend_schema(
        summary="List topics",
        description="Topics by name, each with the number of claims you may see on it.",
        responses={200: TopicSerializer(many=True), **READ_ERRORS},
        examples=[page_example(TOPIC_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="A topic",
        responses={200: TopicSerializer, **DETAIL_ERRORS},
        examples=[OpenApiExample("A topic", value=TOPIC_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Add a topic",
        description="Contributors and editors; name and slug are unique." + NO_DELETE,
        responses={201: TopicSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("A topic", value={"slug": "ports", "name": "Ports"}, request_only=True)
        ],
    ),
    update=extend_schema(
        summary="Replace a topic", responses={200: TopicSerializer, **UPDATE_ERRORS}
    ),
    partial_update=extend_schema(
        summary="Rename a topic", responses={200: TopicSerializer, **UPDATE_ERRORS}
    ),
)
class TopicViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TopicSerializer
    lookup_field = "slug"
    pagination_class = NameCursorPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        visible = None if sees_drafts(self.request) else Q(claims__published_at__isnull=False)
        return Topic.objects.annotate(claim_count=Count("claims", filter=visible))


# --- Sources -----------------------------------------------------------------

SOURCE_WRITE_EXAMPLES = [
    OpenApiExample(
        "Pasted text",
        value={
            "slug": "port-authority-statement",
            "title": "Port authority annual statement",
            "outlet": "Port Authority",
            "kind": "statement",
            "snapshot": "The port handled 9.8 million tonnes last year.",
        },
        request_only=True,
    ),
    OpenApiExample(
        "An uploaded file",
        value={
            "slug": "port-authority-statement",
            "title": "Port authority annual statement",
            "file_name": "statement.txt",
            "file_content": "VGhlIHBvcnQgaGFuZGxlZCA5LjggbWlsbGlvbiB0b25uZXMgbGFzdCB5ZWFyLg==",
        },
        request_only=True,
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="List sources",
        description="Documents where words appeared or where evidence lives, most recently "
        "changed first. The snapshot text is in each source's detail.",
        responses={200: SourceListSerializer(many=True), **READ_ERRORS},
        examples=[page_example(SOURCE_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="A source, with its archived snapshot",
        description="The snapshot is the text quotes are anchored in; its SHA-256 is computed "
        "by the database.",
        responses={200: SourceDetailSerializer, **DETAIL_ERRORS},
        examples=[
            OpenApiExample(
                "A source",
                value=SOURCE_EXAMPLE | {"snapshot": "US air and naval forces are set to ..."},
                response_only=True,
            )
        ],
    ),
    create=extend_schema(
        summary="Add a source",
        description="With its snapshot: the text (`snapshot`), or a .txt/.html file as "
        "`file_name` and base64 `file_content` (HTML is reduced to its article text). The "
        "SHA-256 and retrieval time are set by the program." + NO_DELETE,
        request=SourceWriteSerializer,
        responses={201: SourceDetailSerializer, **WRITE_ERRORS},
        examples=SOURCE_WRITE_EXAMPLES,
    ),
    update=extend_schema(
        summary="Replace a source's details",
        description="Everything but the snapshot, which never changes: sending a different "
        "one is a 400 on `snapshot` (a newer version of a document is a new source).",
        request=SourceWriteSerializer,
        responses={200: SourceDetailSerializer, **UPDATE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a source's details",
        description="Everything but the snapshot, which never changes: sending a different "
        "one is a 400 on `snapshot`.",
        request=SourceWriteSerializer,
        responses={200: SourceDetailSerializer, **UPDATE_ERRORS},
        examples=[
            OpenApiExample(
                "Add the URL", value={"url": "https://example.org/statement"}, request_only=True
            )
        ],
    ),
)
class SourceViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            return Source.objects.defer("snapshot")
        return Source.objects.all()

    def get_serializer_class(self):
        if self.action == "list":
            return SourceListSerializer
        if self.action in {"create", "update", "partial_update"}:
            return SourceWriteSerializer
        return SourceDetailSerializer

    def create(self, request, *args, **kwargs):
        serializer = SourceWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        source = serializer.save()
        data = SourceDetailSerializer(
            Source.objects.get(pk=source.pk), context=self.get_serializer_context()
        ).data
        return created_response(data)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        source = self.get_object()
        serializer = SourceWriteSerializer(
            source, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        data = SourceDetailSerializer(
            Source.objects.get(pk=source.pk), context=self.get_serializer_context()
        ).data
        return Response(data)


# --- Quotes and appearances --------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List quotes",
        description="Words as printed in a source, attributed to a speaker, with their anchor "
        "(W3C TextQuoteSelector and TextPositionSelector). Newest first.",
        responses={200: QuoteSerializer(many=True), **READ_ERRORS},
        examples=[page_example(QUOTE_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="A quote",
        responses={200: QuoteSerializer, **DETAIL_ERRORS},
        examples=[OpenApiExample("A quote", value=QUOTE_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Anchor a quote",
        description="The program finds the words in the source's snapshot (quote marks and "
        "runs of whitespace may differ, the words may not) and stores the anchor: 201. Words "
        "already anchored for the same speaker give the existing quote: 200. Words that are "
        "not there are a 400 on `words` showing the nearest passage. Quotes are never edited "
        "or deleted (405): anchor the right words instead.",
        request=QuoteCreateSerializer,
        responses={
            201: QuoteSerializer,
            200: OpenApiResponse(QuoteSerializer, description="These words were anchored already."),
            **WRITE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Words to find",
                value={
                    "source": "us-forces-deploy-to-southern-caribbean",
                    "speaker": "pam-bondi",
                    "words": "the DEA has seized 30 tons of cocaine",
                    "kind": "direct",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Words not in the source",
                value={
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "words: These words are not in the snapshot. Nearest "
                        "passage: “the DEA has seized 30 tons of cocaine”",
                        "fields": {
                            "words": [
                                "These words are not in the snapshot. Nearest passage: “the "
                                "DEA has seized 30 tons of cocaine”"
                            ]
                        },
                    }
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
)
class QuoteViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Quote.objects.select_related("source", "speaker").defer("source__snapshot")
    filterset_class = QuoteFilter
    pagination_class = CreatedCursorPagination
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return QuoteCreateSerializer if self.action == "create" else QuoteSerializer

    def create(self, request, *args, **kwargs):
        serializer = QuoteCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        started = timezone.now()
        quote = serializer.save()
        created = quote.created_at >= started
        data = QuoteSerializer(quote, context=self.get_serializer_context()).data
        if created:
            return created_response(data)
        return Response(data)


@extend_schema_view(
    list=extend_schema(
        summary="List appearances",
        description="A claim appearing in a source, through an anchored quote or not. Readers "
        "see the appearances of published claims. Newest first.",
        responses={200: AppearanceSerializer(many=True), **READ_ERRORS},
        examples=[page_example(APPEARANCE_EXAMPLE)],
    ),
    retrieve=extend_schema(
        summary="An appearance",
        responses={200: AppearanceSerializer, **DETAIL_ERRORS},
        examples=[OpenApiExample("An appearance", value=APPEARANCE_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Record an appearance",
        description="The claim (slug) appears in the source (slug), through a quote anchored "
        "in that source (id) or not. Recording it again gives the existing one (200).",
        request=AppearanceCreateSerializer,
        responses={
            201: AppearanceSerializer,
            200: OpenApiResponse(AppearanceSerializer, description="Recorded already."),
            **WRITE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Through a quote",
                value={
                    "claim": "dea-seized-30-tons-of-cocaine-linked-to-maduro",
                    "source": "us-forces-deploy-to-southern-caribbean",
                    "quote": 7,
                },
                request_only=True,
            )
        ],
    ),
    destroy=extend_schema(
        summary="Remove an appearance",
        description="Editors only. The claim, source and quote stay.",
        responses={
            204: OpenApiResponse(description="Removed."),
            **error_responses(401, 403, 404, 429),
        },
    ),
)
class AppearanceViewSet(
    ResourceMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = AppearanceFilter
    pagination_class = CreatedCursorPagination
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        appearances = Appearance.objects.select_related("claim", "source", "quote__speaker").defer(
            "source__snapshot"
        )
        if not sees_drafts(self.request):
            appearances = appearances.filter(claim__published_at__isnull=False)
        return appearances

    def get_serializer_class(self):
        return AppearanceCreateSerializer if self.action == "create" else AppearanceSerializer

    def create(self, request, *args, **kwargs):
        serializer = AppearanceCreateSerializer(
            data=request.data,
            context=self.get_serializer_context(),
            claims=visible_claims(request),
        )
        serializer.is_valid(raise_exception=True)
        started = timezone.now()
        appearance = serializer.save()
        appearance = Appearance.objects.select_related("claim", "source", "quote__speaker").get(
            pk=appearance.pk
        )
        data = AppearanceSerializer(appearance, context=self.get_serializer_context()).data
        if appearance.created_at >= started:
            return created_response(data)
        return Response(data)


# --- The rating scale --------------------------------------------------------


class RatingScaleView(CachingHeadersMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The rating scale",
        description="Every status a claim can have, in order: the workflow states, the scale "
        "from true (5) to false (1), and verdicts off the scale; with the schema.org Rating "
        "each verdict is published as in ClaimReview. Not paginated.",
        responses={200: RatingSerializer(many=True), **error_responses(429)},
        examples=[
            OpenApiExample(
                "Two statuses",
                value=[
                    {
                        "value": "in_review",
                        "label": "In review",
                        "group": "workflow",
                        "rating_value": None,
                        "scale_position": "",
                        "is_verdict": False,
                        "description": "An editor is checking it now.",
                        "claimreview_rating": None,
                    },
                    {
                        "value": "false",
                        "label": "False",
                        "group": "scale",
                        "rating_value": 1,
                        "scale_position": "1 of 5",
                        "is_verdict": True,
                        "description": "Inaccurate.",
                        "claimreview_rating": {
                            "@type": "Rating",
                            "alternateName": "False",
                            "name": "False",
                            "ratingValue": 1,
                            "bestRating": 5,
                            "worstRating": 1,
                        },
                    },
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(RatingSerializer(RATINGS, many=True).data)
