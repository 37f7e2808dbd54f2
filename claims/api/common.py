"""What every endpoint of the API shares: errors, pagination, permissions,
caching headers and throttling. Endpoints live beside this module; the
rules they apply live in claims.services, never here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from claims.roles import is_desk_member
from claims.services import VersionConflict

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
            },
        )
    },
)


def error_responses(*codes: int) -> dict:
    descriptions = {
        400: "Invalid input: `error.fields` names each field and why.",
        401: "Authentication required.",
        403: "Not allowed for this account.",
        404: "Not found (or not published), or an invalid pagination cursor.",
        409: "The claim changed since the version you sent; nothing was written.",
        412: "If-Match did not match the claim's current ETag; nothing was written.",
        429: "Too many requests; retry after the Retry-After header's seconds.",
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes
    }


READ_ERRORS = error_responses(400, 404, 429)


class LedgerCursorPagination(CursorPagination):
    """Keyset pages: constant cost at any depth, and no COUNT(*) of the table."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-updated_at", "-id")


class CachingHeadersMixin:
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


__all__ = [
    "READ_ERRORS",
    "CachingHeadersMixin",
    "ConflictError",
    "LedgerCursorPagination",
    "PreconditionFailed",
    "Response",
    "api_exception_handler",
    "created_response",
    "error_responses",
    "sees_drafts",
]


def claim_etag(claim) -> str:
    """The claim detail's ETag, which `If-Match` on the claim's writes is compared with."""
    return claim.etag
