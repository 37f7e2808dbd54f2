"""What every endpoint of the API shares: errors, pagination, caching headers,
`If-Match`, and the one write path of the collections. The rules the writes
apply live in claims.services, never here. The API guide (docs/api.md, served
at /api/guide/) explains all of it to clients."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from claims.api.matches import DuplicateSerializer
from claims.api.throttles import AtomicAnonRateThrottle
from claims.roles import is_desk_member
from claims.services import VersionConflict
from factcheck.conditional import not_modified

ANONYMOUS_MAX_AGE = 60


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "version_conflict"


class PreconditionFailed(exceptions.APIException):
    """412: If-Match no longer matches; with `claim`, the error carries its state now."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, detail=None, *, claim=None):
        super().__init__(detail)
        self.claim = claim


def current_state(claim) -> dict:
    """A claim's state as conflict errors report it (`error.current`)."""
    return {
        "version": claim.version,
        "status": claim.status,
        "published": claim.is_published,
        "etag": claim.etag,
    }


def _fields(detail) -> dict:
    if isinstance(detail, dict):
        return {
            key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def api_exception_handler(exc, context):
    """Every 4xx in one shape: {"error": {"status", "code", "message", "fields"}}.

    Django's own ValidationError and PermissionDenied, raised by the
    services, are mapped here, so endpoints just call the services.
    """
    extra: dict = {}
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, VersionConflict):
        extra["current"] = current_state(exc.claim)
        exc = ConflictError(str(exc))
    elif isinstance(exc, PreconditionFailed) and exc.claim is not None:
        extra["current"] = current_state(exc.claim)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    fields = _fields(detail) if isinstance(exc, exceptions.ValidationError) else {}
    if fields:
        first_field, first_messages = next(iter(fields.items()))
        message = f"{first_field}: {first_messages[0]}" if first_messages else "Invalid input."
        fields.pop("detail", None)
    elif isinstance(detail, dict) and "detail" in detail:
        message = str(detail["detail"])
    elif isinstance(detail, list) and detail:
        message = str(detail[0])
    else:
        message = str(detail)
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    response.data = {
        "error": {
            "status": response.status_code,
            "code": code,
            "message": message,
            "fields": fields,
            **extra,
        }
    }
    return response


# The error body, for the OpenAPI schema.
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "status": serializers.IntegerField(),
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="Per-field messages, keyed by field name.",
                ),
                "current": serializers.DictField(
                    required=False, help_text="On a version conflict: the claim's state now."
                ),
                "duplicates": DuplicateSerializer(
                    many=True,
                    required=False,
                    help_text="On `possible_duplicates` (409): the claims a new claim likely "
                    "repeats, best first (claims.duplicates).",
                ),
            },
        )
    },
)


def error_responses(*codes: int, media_type: str | None = None) -> dict:
    """The error responses, in the one error format; with `media_type`, documented as
    that type (plain JSON on endpoints that answer something else on success)."""
    descriptions = {
        400: "Invalid input: `error.fields` names each field and why.",
        401: "Authentication required.",
        403: "Not allowed for this account.",
        404: "Not found (or not published), or an invalid pagination cursor.",
        409: "The claim changed since the version you sent; nothing was written.",
        410: "Withdrawn: it was published and is no more; remove any copy you keep.",
        412: "If-Match did not match the claim's current ETag; nothing was written.",
        429: "Too many requests; retry after the Retry-After header's seconds.",
    }
    return {
        ((code, media_type) if media_type else code): OpenApiResponse(
            ErrorSerializer, description=descriptions[code]
        )
        for code in codes
    }


READ_ERRORS = error_responses(400, 404, 429)


def json_body(serializer) -> dict:
    """A request body as the schema documents it: JSON, the API's format. (The form and
    multipart parsers still serve the browsable API; a generated client needs one
    content type per body.)"""
    return {"application/json": serializer}


class StrictCursorPagination(CursorPagination):
    """Keyset pages whose parameters are checked: `page_size` is a whole number from 1
    (above `max_page_size` gives `max_page_size`), and an empty `cursor` or `page_size`
    is a 400 naming it, never the first page or the default size in disguise."""

    page_size_query_param = "page_size"

    def get_page_size(self, request) -> int | None:
        name = self.page_size_query_param
        raw = request.query_params.get(name) if name else None
        if raw is None:
            return self.page_size
        most = self.max_page_size
        digits = raw.lstrip("0")
        if not (raw.isascii() and raw.isdigit() and digits):
            raise serializers.ValidationError(
                {name: [f"A whole number from 1 to {most} (more gives that many)."]}
            )
        if most is None:
            return int(digits)
        return most if len(digits) > len(str(most)) else min(int(digits), most)

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            raise serializers.ValidationError(
                {
                    self.cursor_query_param: [
                        "Empty: leave it out for the first page, or follow `next`."
                    ]
                }
            )
        return super().decode_cursor(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"]["minLength"] = 1
                parameter["description"] = "From `next` (or `previous`); absent: the first page."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Items a page: {self.page_size} by default, at most {self.max_page_size} "
                    "(more gives that many)."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        # DRF's examples name someone else's API (api.example.org/accounts/).
        response = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            response["properties"][link].pop("example", None)
        return response


EMPTY_PARAMETER = "Empty: give it a value, or leave the parameter out."


def empty_parameters(query, names) -> list[str]:
    """Those of `names` present in `query` (a QueryDict) with an empty value (or spaces)."""
    return [
        name
        for name in names
        if any(not value.strip() for value in query.getlist(name) if isinstance(value, str))
    ]


class QueryParameters(serializers.Serializer):
    """Query parameters, validated. DRF reads an empty value of an optional field as
    the parameter left out; here it is a 400 naming it, unless the field allows blank."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            strict = [n for n, f in self.fields.items() if not getattr(f, "allow_blank", False)]
            if empty := empty_parameters(data, strict):
                raise serializers.ValidationError({name: [EMPTY_PARAMETER] for name in empty})
        return super().to_internal_value(data)


class LedgerCursorPagination(StrictCursorPagination):
    """Keyset pages: constant cost at any depth, and no COUNT(*) of the table."""

    page_size = 50
    max_page_size = 200
    ordering = ("-updated_at", "-id")


# Mixins of API views: to the type checker they extend APIView (and the generic
# viewsets' methods they call), at run time nothing, so that any view can take them.
if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView

    _ViewBase = APIView
    _GenericViewBase = GenericAPIView
else:

    class _ViewBase:
        """Nothing at run time (a mixin's base must not be `object` itself: see the MRO)."""

    _GenericViewBase = _ViewBase


class CachingHeadersMixin(_ViewBase):
    """Anonymous reads may be cached by anyone for a minute; everything else is private."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in SAFE_METHODS and response.status_code < 400:
            if request.user and request.user.is_authenticated:
                patch_cache_control(response, private=True, no_cache=True)
            else:
                patch_cache_control(response, public=True, max_age=ANONYMOUS_MAX_AGE)
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response


class JSONErrorsMixin(_ViewBase):
    """Errors keep the API's one format, in JSON, whatever the client asked for."""

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "status_code", 200) >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class AlwaysTheFirstRenderer(BaseContentNegotiation):
    """For endpoints that answer one format whatever the client asks for (their errors
    in JSON: JSONErrorsMixin): neither `Accept` nor a `format` parameter chooses
    anything, so none is offered (RFC 9110 lets a server disregard Accept rather than
    answer 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def created_response(data, *, location_field: str = "api_url", headers=None) -> Response:
    """201 with `Location` naming the new resource.

    The URL fields of serializers are DRF `Hyperlink` objects, a `str`
    subclass that WSGI servers refuse in a header (after the write has
    committed), so the header gets a plain `str`, as DRF's own
    `CreateModelMixin` does.
    """
    return Response(
        data,
        status=status.HTTP_201_CREATED,
        headers={**(headers or {}), "Location": str(data[location_field])},
    )


def sees_drafts(request) -> bool:
    """Members of the desk see drafts through the API (claims.roles.is_desk_member)."""
    return is_desk_member(getattr(request, "user", None))


def claim_etag(claim) -> str:
    """The claim detail's ETag, which `If-Match` on the claim's writes is compared with."""
    return claim.etag


# --- If-Match: the one place it is read --------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The claim's ETag as you loaded it: if the claim changed since, nothing is "
    "written (412). `*` is accepted only when editing the claim's own fields (API guide: "
    "Versions).",
)
STAR_REFUSED = (
    "If-Match: * does not say which version you saw; send the claim's ETag, or `version` in "
    "the body."
)


def check_if_match(request, claim, *, ledger: bool) -> bool:
    """Honour `If-Match` on a write to `claim`, before its body is read (RFC 9110).

    Absent: False. One of its tags is the claim's ETag (strong comparison: a
    weak `W/` tag never matches): True. Anything else: 412 with the claim's
    state now. `*` follows HTTP (it matches the existing claim) when editing
    the claim's own fields; ledger writes (`ledger=True`: verdicts,
    publication, corrections) refuse it with a 400 on `version`, since it does
    not say which version the editor saw. An empty header is no precondition
    on edits and matches nothing on ledger writes.
    """
    header = request.headers.get("If-Match")
    if header is None or (not header and not ledger):
        return False
    tags = parse_etags(header)
    if tags == ["*"]:
        if ledger:
            raise serializers.ValidationError({"version": [STAR_REFUSED]})
        return True
    current = claim_etag(claim)
    if current in tags:
        return True
    if ledger:
        message = (
            f"If-Match does not match claim {claim.slug!r}: it is now version "
            f"{claim.version} with ETag {current}. Reload it and try again."
        )
    else:
        message = f"The claim changed since you loaded it: its ETag is now {current}."
    raise PreconditionFailed(message, claim=claim)


# --- The one write path of the collections ------------------------------------------


class WriteMixin[M: Model](_GenericViewBase):
    """POST on a collection: validate, write inside the request's transaction, read
    the object back with the detail queryset, answer 201 with `Location` (or 200
    when the service found the object already there)."""

    read_serializer_class: type[serializers.BaseSerializer]
    location_field = "api_url"

    def create(self, request, *args, **kwargs):
        return self.write()

    def object_to_update(self) -> M:
        raise NotImplementedError("only UpdateMixin updates")

    def write(self, *, update: bool = False, partial: bool = False) -> Response:
        with transaction.atomic():
            instance = self.object_to_update() if update else None
            serializer = self.get_serializer(instance, data=self.request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            saved, created = self.perform_write(serializer)
        return self.read_response(self.read_back(saved), created=created)

    def perform_write(self, serializer) -> tuple[M, bool]:
        """Save through the serializer; views writing through a service that may
        find the object already there return what the service says."""
        created = serializer.instance is None
        return serializer.save(), created

    def read_back(self, saved: M) -> M:
        return self.get_queryset().get(pk=saved.pk)

    def read_response(self, obj: M, *, created: bool = False) -> Response:
        data = self.read_serializer_class(obj, context=self.get_serializer_context()).data
        headers = self.read_headers(obj)
        if created:
            return created_response(data, location_field=self.location_field, headers=headers)
        return Response(data, headers=headers)

    def read_headers(self, obj: M) -> dict[str, Any]:
        return {}


class UpdateMixin[M: Model](WriteMixin[M]):
    """PUT and PATCH of an object, through the same write path."""

    def update(self, request, *args, **kwargs):
        return self.write(update=True, partial=kwargs.get("partial", False))

    def partial_update(self, request, *args, **kwargs):
        return self.write(update=True, partial=True)

    def object_to_update(self) -> M:
        return self.get_object()


class NoActionsMetadata(SimpleMetadata):
    """OPTIONS as a plain view answers it (name, description, renders, parses)."""

    def determine_actions(self, request, view):
        return {}


# --- Anonymous 304s before the stack (factcheck.conditional) -------------------------


class _AnonymousThrottle(AtomicAnonRateThrottle):
    """The anonymous rate, for a request that never reached DRF (so has no user)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def anonymous_api_not_modified(
    request: HttpRequest, etag: str, last_modified: datetime
) -> HttpResponse | None:
    """The 304 an anonymous API read would get down the whole stack, with the same
    headers (CachingHeadersMixin's, DRF's Vary), counted by the anonymous throttle;
    None (go the whole way) when it is not a 304 or the client is over its rate."""
    response = not_modified(request, etag, int(last_modified.timestamp()))
    if response is None or not _AnonymousThrottle().allow_request(request, None):  # type: ignore[arg-type]
        return None
    patch_cache_control(response, public=True, max_age=ANONYMOUS_MAX_AGE)
    patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
    response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
    return response
