"""The collections of /api/v1/: claims (with their publish and unpublish actions),
speakers, sources, quotes, appearances, topics, and the rating scale.

Every write goes through `WriteMixin` (claims.api.common). What each resource
is, who may write it and examples of every shape: docs/api.md.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Count,
    Q,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from claims import cdn, services
from claims.api.common import (
    IF_MATCH,
    READ_ERRORS,
    CachingHeadersMixin,
    LedgerCursorPagination,
    NoActionsMetadata,
    UpdateMixin,
    WriteMixin,
    anonymous_api_not_modified,
    check_if_match,
    claim_etag,
    error_responses,
    json_body,
    sees_drafts,
)
from claims.api.duplicates import CREATE_CONFLICT, with_duplicates
from claims.api.fast import (
    DetailURLs,
    FastJSONRenderer,
    claim_detail,
    claim_detail_row,
    claim_list_item,
    claim_list_rows,
    published_claim_state,
    visible_claim_rows,
)
from claims.api.filters import (
    AppearanceFilter,
    ClaimCursorPagination,
    ClaimFilter,
    QuoteFilter,
    names_no_filter,
)
from claims.api.ledger import (
    ENTRY_RESPONSE,
    ETAG_HEADER,
    LEDGER_WRITE_ERRORS,
    PublishSerializer,
    UnpublishSerializer,
    ledger_write,
)
from claims.api.permissions import IsDeskMember
from claims.api.schema import ApiAutoSchema
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
from claims.models import (
    Appearance,
    Claim,
    Quote,
    Speaker,
    Topic,
)
from claims.ratings import RATINGS
from claims.source_pipeline import process_source_text
from factcheck.security import BrowsableAPIRenderer
from sources.models import Source

DETAIL_ERRORS = error_responses(404, 429)
WRITE_ERRORS = error_responses(400, 401, 403, 429)
UPDATE_ERRORS = error_responses(400, 401, 403, 404, 429)


class ResourceMixin(CachingHeadersMixin):
    """Caching headers on every response, and 405 (not a permission error) for a
    method the endpoint does not offer; reads declared open to anyone (claims.api.schema)."""

    schema = ApiAutoSchema()
    # Any path segment reaches the view, so a malformed slug or id is the API's
    # own 404 (JSON, in the error format), not the site's HTML page.
    lookup_value_regex = "[^/]+"
    # The claims' ledger actions check who is asking before the method, as the
    # ledger's other endpoints do (an anonymous GET of /publish is 401).
    refuse_other_methods_first = True

    def initial(self, request, *args, **kwargs):
        if getattr(self, "action", "") is None and self.refuse_other_methods_first:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class CreatedCursorPagination(LedgerCursorPagination):
    ordering = ("-created_at", "-id")


class NameCursorPagination(LedgerCursorPagination):
    ordering = ("name", "id")


def crud_schema(
    name, read, write=None, *, listed=None, lists="", created=None, updates=True, **summary
):
    """A collection's schema: list, retrieve, create and (with `updates`) update and
    partial update, each with its errors; `summary` overrides any default summary."""
    write = write or read
    views = {
        "list": {
            "description": lists,
            "responses": {200: (listed or read)(many=True), **READ_ERRORS},
        },
        "retrieve": {"responses": {200: read, **DETAIL_ERRORS}},
        "create": {
            "request": json_body(write),
            "responses": {201: read, **(created or {}), **WRITE_ERRORS},
        },
    }
    if updates:
        edit = {"request": json_body(write), "responses": {200: read, **UPDATE_ERRORS}}
        views |= {"update": edit, "partial_update": edit}
    summaries = {
        "list": f"List {name}s",
        "retrieve": f"A {name}",
        "create": f"Add a {name}",
        "update": f"Replace a {name}",
        "partial_update": f"Edit a {name}",
    } | summary
    return extend_schema_view(
        **{
            view: extend_schema(summary=summaries[view], **options)
            for view, options in views.items()
        }
    )


# --- Claims ------------------------------------------------------------------

CLAIM_UPDATE: dict[str, Any] = {
    "parameters": [IF_MATCH],
    "request": json_body(ClaimWriteSerializer),
    "responses": {200: ClaimDetailSerializer, **UPDATE_ERRORS, **error_responses(412)},
}


def ledger_action(body, summary: str, description: str):
    """A claim's ledger write (publish, unpublish) as an action of the claims viewset:
    editors only (the services say so), with the checks and OPTIONS answer that the
    ledger's other endpoints have."""

    def decorate(method):
        routed = action(
            detail=True,
            methods=["post"],
            permission_classes=[IsDeskMember],
            metadata_class=NoActionsMetadata,
            refuse_other_methods_first=False,
            name="Publication",
        )(method)
        return extend_schema(
            operation_id=f"claims_{method.__name__}",
            summary=summary,
            description=description,
            parameters=[IF_MATCH, ETAG_HEADER],
            request=json_body(body),
            responses={200: ENTRY_RESPONSE, **LEDGER_WRITE_ERRORS},
        )(routed)

    return decorate


def _claim_not_modified(request, slug: str):
    found = published_claim_state(slug)
    if found is None:
        return None
    etag = Claim.etag_of(found["pk"], found["version"], found["updated_at"])
    return anonymous_api_not_modified(request, etag, found["updated_at"])


@extend_schema_view(
    list=extend_schema(
        summary="List claims",
        description="Published claims (desk members also see drafts), in cursor pages.",
        responses={200: ClaimListSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="A claim",
        description="With `ETag` and `Last-Modified`; a conditional GET may answer 304.",
        responses={
            200: ClaimDetailSerializer,
            304: OpenApiResponse(description="Not modified since the ETag or date you sent."),
            **DETAIL_ERRORS,
        },
    ),
    create=extend_schema(
        summary="Add a claim",
        description="A draft until an editor publishes it. A claim the ledger likely holds "
        'already is not created: 409 `possible_duplicates` lists them, unless `"confirm_new": '
        "true`.",
        request=json_body(ClaimWriteSerializer),
        responses={201: ClaimDetailSerializer, **CREATE_CONFLICT, **WRITE_ERRORS},
    ),
    update=extend_schema(summary="Replace a claim's fields", **CLAIM_UPDATE),
    partial_update=extend_schema(summary="Edit a claim", **CLAIM_UPDATE),
)
class ClaimViewSet(
    ResourceMixin,
    UpdateMixin[Claim],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    filterset_class = ClaimFilter
    pagination_class = ClaimCursorPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    read_serializer_class = ClaimDetailSerializer

    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]
    # An anonymous conditional GET of a published claim is answered before the
    # middleware stack and DRF (factcheck.conditional.AnonymousNotModifiedMiddleware).
    anonymous_not_modified = {"retrieve": lambda request, slug: _claim_not_modified(request, slug)}

    def get_queryset(self):
        claims = Claim.objects.visible_to(self.request.user)
        if self.action == "list":
            return claim_list_rows(claims)
        return claims.public_detail().select_related("assignee")

    def list(self, request, *args, **kwargs):
        # Plain rows and dicts (claims.api.fast): DRF's per-field serializing cost
        # several times the query; ClaimListSerializer documents the shape. With no
        # filter named, each page's statement is compiled once and prepared.
        claims: Any
        if names_no_filter(request, self.filterset_class):
            claims = visible_claim_rows(sees_drafts(request))
        else:
            claims = self.filter_queryset(self.get_queryset())
        page: Any = self.paginate_queryset(claims)
        urls = DetailURLs("api:claim-detail", request, self.format_kwarg)
        return self.get_paginated_response([claim_list_item(row, urls) for row in page or []])

    def get_serializer_class(self):
        if self.action == "list":
            return ClaimListSerializer
        if self.action in {"create", "update", "partial_update"}:
            return ClaimWriteSerializer
        return ClaimDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        # One statement (claims.api.fast): turning the ORM's several queries into SQL
        # cost more than running them. ClaimDetailSerializer documents the shape.
        row = claim_detail_row(kwargs[self.lookup_field], sees_drafts(request))
        if row is None:
            raise Http404
        cdn.tag(request, [cdn.claim_key(row["pk"])])
        # The model's own ETag (Claim.etag), from the three values it is made of.
        claim = Claim(pk=row["pk"], version=row["version"], updated_at=row["updated_at"])
        etag = claim_etag(claim)
        headers = {"ETag": etag, "Last-Modified": http_date(claim.updated_at.timestamp())}
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=int(claim.updated_at.timestamp())
        )
        if not_modified is not None and not_modified.status_code == 304:
            for name, value in headers.items():
                not_modified[name] = value
            return not_modified
        self.check_object_permissions(request, claim)
        return Response(claim_detail(row, request, self.format_kwarg), headers=headers)

    def object_to_update(self) -> Claim:
        claims = Claim.objects.visible_to(self.request.user).select_for_update()
        claim = get_object_or_404(claims, slug=self.kwargs[self.lookup_field])
        check_if_match(self.request, claim, ledger=False)
        return claim

    def read_back(self, saved: Claim) -> Claim:
        return (
            Claim.objects.public_detail()
            .select_related("assignee", "superseded_by")
            .prefetch_related("supersedes")
            .get(pk=saved.pk)
        )

    def handle_exception(self, exc):
        # A new claim's likely duplicates ride in its 409 (claims.api.duplicates).
        return with_duplicates(super().handle_exception(exc), exc)

    def read_headers(self, claim: Claim) -> dict:
        return {"ETag": claim_etag(claim), "Last-Modified": http_date(claim.updated_at.timestamp())}

    # The actions' docstring is their OPTIONS description, as it always was.
    @ledger_action(PublishSerializer, "Publish a claim", "Make a draft visible to readers.")
    def publish(self, request, slug: str):
        """POST publishes (`action="publish"`) or unpublishes (`action="unpublish"`) a claim."""
        return ledger_write(request, slug, PublishSerializer, services.publish_claim)

    @ledger_action(
        UnpublishSerializer, "Unpublish a claim", "Withdraw it from readers, saying why."
    )
    def unpublish(self, request, slug: str):
        """POST publishes (`action="publish"`) or unpublishes (`action="unpublish"`) a claim."""
        return ledger_write(request, slug, UnpublishSerializer, services.unpublish_claim)


# --- Speakers and topics -----------------------------------------------------


@crud_schema("speaker", SpeakerSerializer, lists="Most recently changed first.")
class SpeakerViewSet(
    ResourceMixin,
    UpdateMixin[Speaker],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Speaker.objects.all()
    serializer_class = read_serializer_class = SpeakerSerializer
    location_field = "url"
    lookup_field = "slug"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


@crud_schema("topic", TopicSerializer, lists="By name, each with the claims you may see on it.")
class TopicViewSet(
    ResourceMixin,
    UpdateMixin[Topic],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = read_serializer_class = TopicSerializer
    location_field = "url"
    lookup_field = "slug"
    pagination_class = NameCursorPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        visible = None if sees_drafts(self.request) else Q(claims__published_at__isnull=False)
        return Topic.objects.annotate(claim_count=Count("claims", filter=visible))


# --- Sources -----------------------------------------------------------------


@crud_schema(
    "source",
    SourceDetailSerializer,
    SourceWriteSerializer,
    listed=SourceListSerializer,
    lists="Most recently changed first; the snapshot is in each source's detail.",
    retrieve="A source, with its archived snapshot",
)
class SourceViewSet(
    ResourceMixin,
    UpdateMixin[Source],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    read_serializer_class = SourceDetailSerializer

    def get_queryset(self):
        if self.action == "list":
            return Source.objects.defer("snapshot")
        return Source.objects.all()

    def perform_write(self, serializer):
        source, created = super().perform_write(serializer)
        if created:  # the text is set once, at creation
            process_source_text(source)
        return source, created

    def get_serializer_class(self):
        if self.action == "list":
            return SourceListSerializer
        if self.action in {"create", "update", "partial_update"}:
            return SourceWriteSerializer
        return SourceDetailSerializer


# --- Quotes and appearances --------------------------------------------------


@crud_schema(
    "quote",
    QuoteSerializer,
    QuoteCreateSerializer,
    lists="Newest first.",
    created={200: OpenApiResponse(QuoteSerializer, description="Anchored already.")},
    updates=False,
    create="Anchor a quote",
)
class QuoteViewSet(
    ResourceMixin,
    WriteMixin[Quote],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Quote.objects.select_related("source", "speaker").defer("source__snapshot")
    read_serializer_class = QuoteSerializer
    filterset_class = QuoteFilter
    pagination_class = CreatedCursorPagination
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return QuoteCreateSerializer if self.action == "create" else QuoteSerializer

    def perform_write(self, serializer):
        return services.anchor_quote(**serializer.validated_data)


@crud_schema(
    "appearance",
    AppearanceSerializer,
    AppearanceCreateSerializer,
    lists="Newest first; readers see the appearances of published claims.",
    created={200: OpenApiResponse(AppearanceSerializer, description="Recorded already.")},
    updates=False,
    create="Record an appearance",
)
@extend_schema_view(
    destroy=extend_schema(
        summary="Remove an appearance",
        description="Editors only; the claim, source and quote stay.",
        responses={
            204: OpenApiResponse(description="Removed."),
            **error_responses(401, 403, 404, 429),
        },
    ),
)
class AppearanceViewSet(
    ResourceMixin,
    WriteMixin[Appearance],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Appearance.objects.select_related("claim", "source", "quote__speaker").defer(
        "source__snapshot"
    )
    read_serializer_class = AppearanceSerializer
    filterset_class = AppearanceFilter
    pagination_class = CreatedCursorPagination
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        if sees_drafts(self.request):
            return self.queryset.all()
        return self.queryset.filter(claim__published_at__isnull=False)

    def get_serializer_class(self):
        return AppearanceCreateSerializer if self.action == "create" else AppearanceSerializer

    def perform_write(self, serializer):
        return services.add_appearance(**serializer.validated_data)

    def read_back(self, saved: Appearance) -> Appearance:
        return self.queryset.get(pk=saved.pk)


# --- The rating scale --------------------------------------------------------


class RatingScaleView(CachingHeadersMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The rating scale",
        description="Every status, in order, with the schema.org Rating each verdict is published "
        "as. Not paginated.",
        responses={200: RatingSerializer(many=True), **error_responses(429)},
    )
    def get(self, request):
        return Response(RatingSerializer(RATINGS, many=True).data)
