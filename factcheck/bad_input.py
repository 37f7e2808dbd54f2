"""Bad input, refused in one place: a 400 (or 413) in the right format, never a 500.

What a client can send that no view should ever see, and what each gets:

- A NUL character (U+0000, `%00`) in the path or in the query string, in a
  key or a value: 400, before any view runs (`BadInputMiddleware`).
  PostgreSQL refuses NUL in text, so a search or a filter that passes it on
  fails in the database. It is the only character PostgreSQL refuses in
  UTF-8 text: bytes that are not UTF-8 are decoded by Django as U+FFFD, and
  decoding never yields a lone surrogate.
- More query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: 400, up front too.
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413. Up front when its
  Content-Length says so (Django applies the same rule, but only when a view
  first reads the body). A multipart body is measured without its files, so
  only its parser can tell: Django raises RequestDataTooBig then, wherever
  that happens, and turns every such SuspiciousOperation into a call of
  handler400, which is `bad_request` below (factcheck/urls.py).
- A JSON body (the API's parser, `JSONParser`) nested deeper than
  MAX_JSON_DEPTH, holding more than DATA_UPLOAD_MAX_NUMBER_FIELDS values, or
  with a NUL in any string: 400 naming the problem. The depth is measured
  before the body is parsed, by counting brackets, so no deep body reaches
  the recursion of `json.loads` (a RecursionError, a 500).

Under /api/ every refusal is the API's error, `{"error": {"status", "code",
"message", "fields"}}`; elsewhere it is the site's page (templates/400.html).
"""

from __future__ import annotations

import functools
import re
from collections import deque
from typing import Any

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.views.decorators.csrf import requires_csrf_token
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

# PostgreSQL's text types refuse this character and no other (module docstring).
REFUSED_CHARACTERS = frozenset("\x00")
NUL_MESSAGE = "Null characters are not allowed."
# Deeper than any body the API takes (a claim is two levels deep), and far
# shallower than the recursion limit of json.loads or of any code after it.
MAX_JSON_DEPTH = 32


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _refused(text: str) -> bool:
    return any(char in text for char in REFUSED_CHARACTERS)


# --- The answer, in the right format -------------------------------------------------


def api_error(
    status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    """The API's one error format (claims.api.common.api_exception_handler), for
    refusals made before any API view runs."""
    body = {
        "error": {"status": status_code, "code": code, "message": message, "fields": fields or {}}
    }
    return JsonResponse(body, status=status_code)


_TITLES = {400: "Bad request", 413: "Request too large"}


def refusal(
    request: HttpRequest,
    status_code: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    *,
    page_message: str = "",
) -> HttpResponse:
    """The API's JSON error under /api/; elsewhere the site's error page, saying
    `page_message` (or `message`) in words for a reader."""
    if _is_api(request):
        return api_error(status_code, code, message, fields)
    title = _TITLES.get(status_code, "Bad request")
    context = {"title": title, "message": page_message or message}
    # The page repeats its address (base.html): not with the character refused in it.
    request.path = request.path.replace("\x00", "%00")
    try:
        return render(request, "400.html", context, status=status_code)
    except DisallowedHost:
        # The page names the site by the request's host, which is what was wrong.
        return HttpResponse(
            format_html(
                "<!DOCTYPE html><title>{}</title><h1>{}</h1><p>{}</p>",
                title,
                title,
                context["message"],
            ),
            status=status_code,
        )


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return refusal(
        request,
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "too_large",
        f"The request body is larger than the {limit:,} bytes this server accepts.",
    )


def _too_many_fields(request: HttpRequest) -> HttpResponse:
    return refusal(
        request,
        400,
        "too_many_fields",
        f"The request has more than the {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} "
        "parameters this server accepts.",
    )


# --- Before any view: the path, the query string, the body's declared size ---------------


def _declared_too_large(request: HttpRequest) -> bool:
    """Content-Length over DATA_UPLOAD_MAX_MEMORY_SIZE, on a body Django would measure
    by it: any but multipart, whose files do not count (RequestDataTooBig then)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return False
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        return False
    return length > limit


class BadInputMiddleware:
    """Refuses, before any other middleware or view reads them, a path or a query string
    holding a character PostgreSQL refuses, too many query parameters, and a body
    declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE (module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.refuse(request) or self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse | None:
        if _refused(request.path_info):
            return refusal(
                request,
                400,
                "invalid",
                "The address holds a null character (%00), which no address here can.",
            )
        try:
            params = request.GET
        except TooManyFieldsSent:
            return _too_many_fields(request)
        for key, values in params.lists():
            if _refused(key) or any(_refused(value) for value in values):
                name = key.replace("\x00", "%00")
                return refusal(
                    request,
                    400,
                    "invalid",
                    f"{name}: {NUL_MESSAGE}",
                    {name: [NUL_MESSAGE]},
                    page_message=f"The address holds a null character (%00) in its “{name}” "
                    "parameter, which no page here accepts.",
                )
        if _declared_too_large(request):
            return _too_large(request)
        return None


# --- Whatever Django refuses later: handler400 ------------------------------------------


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: every SuspiciousOperation and BadRequest a request raises, wherever it
    raises it (a body over the limit found by the multipart parser, too many fields, a
    host not in ALLOWED_HOSTS...), as the API's JSON error or the site's page. Django's
    own messages are not repeated: some name settings or the host asked for."""
    if isinstance(exception, RequestDataTooBig):
        return _too_large(request)
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return _too_many_fields(request)
    return refusal(request, 400, "bad_request", "The request could not be understood.")


# --- The API's JSON parser ---------------------------------------------------------------


class ContentTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


# A JSON string (escapes included) or a bracket outside one.
_JSON_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(?P<open>[\[{])|(?P<close>[\]}])')


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON `text` nests arrays and objects more than `limit` deep, found
    by counting brackets outside strings: linear, and no recursion at any depth."""
    depth = 0
    for match in _JSON_STRUCTURE.finditer(text):
        if match.lastgroup == "open":
            depth += 1
            if depth > limit:
                return True
        elif match.lastgroup == "close":
            depth -= 1
    return False


def check_json_values(data: Any, *, max_values: int | None) -> None:
    """Refuse a parsed body with more than `max_values` values (every key's value and
    every item, at any depth), or a NUL in any string or key: a ValidationError on
    the top-level field it is in."""
    count = 0
    pending: deque[tuple[Any, str]] = deque([(data, "non_field_errors")])
    while pending:
        value, field = pending.popleft()
        if isinstance(value, str):
            if _refused(value):
                raise exceptions.ValidationError({field: [NUL_MESSAGE]})
            continue
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if _refused(key):
                    raise exceptions.ValidationError({field: [NUL_MESSAGE]})
                items.append((item, key if value is data else field))
        elif isinstance(value, list):
            items = [(item, field) for item in value]
        else:
            continue
        count += len(items)
        if max_values is not None and count > max_values:
            raise exceptions.ParseError(
                f"The JSON body holds more than {max_values:,} values (keys and items)."
            )
        pending.extend(items)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with Django's limits: at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes
    (413), nested at most MAX_JSON_DEPTH deep, at most DATA_UPLOAD_MAX_NUMBER_FIELDS
    values and no NUL in any string (400, naming the problem)."""

    def parse(self, stream, media_type=None, parser_context=None):
        # The request's charset, refused unless a text encoding (as DRF's own parser does).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ContentTooLarge(
                f"The request body is larger than the {limit:,} bytes this server accepts."
            )
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                f"JSON parse error - arrays and objects nested more than {MAX_JSON_DEPTH} deep."
            )
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        check_json_values(data, max_values=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
        return data


# --- Django's own gap: the admin's date hierarchy --------------------------------------------


# A date-part filter in an admin list's query string (`?claim_date__year=2024`,
# `?created_at__month__gte=3`), and the values each part can take: anything
# else overflows or fails when the query is compiled, after the admin's own
# checks have passed.
_DATE_PART_PARAMETER = re.compile(
    r"__(year|iso_year|month|day|week|week_day|iso_week_day|quarter)(__\w+)?$"
)
_DATE_PART_RANGE = {
    "year": (1, 9999),
    "iso_year": (1, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "week": (1, 53),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "quarter": (1, 4),
}


def _refuse_date_parts_out_of_range(request: HttpRequest) -> None:
    for key, values in request.GET.lists():
        match = _DATE_PART_PARAMETER.search(key)
        if not match:
            continue
        low, high = _DATE_PART_RANGE[match.group(1)]
        for value in values:
            try:
                number = int(value)
            except ValueError:
                continue  # not a number: the admin's own checks refuse it
            if not low <= number <= high:
                raise IncorrectLookupParameters(
                    f"{key}={value}: a {match.group(1)} runs from {low} to {high}."
                )


def refuse_out_of_range_admin_dates() -> None:
    """Make every admin list refuse a date parameter out of range as it refuses any other
    bad filter (IncorrectLookupParameters: a redirect to `?e=1`), not with a 500.

    Any date-part filter (`?claim_date__year=99999999999`) is checked against its
    part's range before the list is built: Django would accept it and then fail to
    compile the query (OverflowError).

    Django's ChangeList.get_filters catches only the ValueError of building the first day
    (`?created_at__year=2024&created_at__month=13`), not the OverflowError of a huge year
    (`__year=99999999999`) nor the ValueError of the day after the last (`__year=9999`):
    Django ticket #37357, fixed on Django's main branch, in no 6.1 release yet. Until
    one has it, the same fix wraps get_filters for every ModelAdmin, the project's and
    the third-party ones alike. Called once, where the admin site is set up
    (factcheck/urls.py); calling it again changes nothing.
    """
    original = ChangeList.get_filters
    if getattr(original, "refuses_out_of_range_dates", False):
        return

    @functools.wraps(original)
    def get_filters(self, request):
        _refuse_date_parts_out_of_range(request)
        try:
            return original(self, request)
        except (ValueError, OverflowError) as exc:
            prefix = f"{self.date_hierarchy}__" if self.date_hierarchy else None
            if prefix and any(key.startswith(prefix) for key in request.GET):
                raise IncorrectLookupParameters(exc) from exc
            raise

    get_filters.refuses_out_of_range_dates = True  # type: ignore[attr-defined]
    ChangeList.get_filters = get_filters  # type: ignore[method-assign]
