"""Likely duplicates through the API (claims.duplicates): the 409 that a new claim's
POST answers when the ledger may hold it already, and the read that asks first.

`POST /api/v1/claims/` with likely duplicates writes nothing and answers 409, code
`possible_duplicates`, with them in `error.duplicates`; the same body with
`"confirm_new": true` creates the claim anyway. `GET /api/v1/claims/duplicates
?statement=...` (desk members) lists them without posting. docs/api.md explains both.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims import duplicates
from claims.api.common import (
    CachingHeadersMixin,
    ErrorSerializer,
    QueryParameters,
    error_responses,
)
from claims.api.matches import DuplicateSerializer
from claims.api.permissions import IsDeskMember
from claims.languages import Language
from claims.models import STATEMENT_MAX

POSSIBLE_DUPLICATES = "possible_duplicates"


def matches_data(matches: list[duplicates.Match], request) -> list[dict]:
    return [
        {
            **match.as_data(),
            "api_url": reverse(
                "api:claim-detail", kwargs={"slug": match.claim.slug}, request=request
            ),
        }
        for match in matches
    ]


class PossibleDuplicates(exceptions.APIException):
    """409: the new claim is likely in the ledger already; nothing was written."""

    status_code = status.HTTP_409_CONFLICT
    default_code = POSSIBLE_DUPLICATES
    default_detail = (
        "This claim may be in the ledger already (error.duplicates): add an appearance to "
        'one of them instead, or send the claim again with "confirm_new": true.'
    )

    def __init__(self, matches: list[duplicates.Match], request):
        super().__init__(code=POSSIBLE_DUPLICATES)
        self.duplicates = matches_data(matches, request)


def with_duplicates(response: Response, exc: Exception) -> Response:
    """The API's error body (claims.api.common), with the duplicates a 409 found."""
    if isinstance(exc, PossibleDuplicates) and isinstance(response.data, dict):
        response.data.setdefault("error", {})["duplicates"] = exc.duplicates
    return response


# The 409 of a new claim's POST: the API's error, with `error.duplicates`
# (claims.api.common.ErrorSerializer declares it).
CREATE_CONFLICT = {
    409: OpenApiResponse(
        ErrorSerializer,
        description="`possible_duplicates`: the claim is likely in the ledger already "
        '(`error.duplicates`); nothing was written. Send `"confirm_new": true` to create it '
        "anyway.",
    )
}


class DuplicatesQuery(QueryParameters):
    statement = serializers.CharField(
        max_length=STATEMENT_MAX, help_text="The statement of the claim you would add."
    )
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Its language (its words are read in that language's search "
        "configuration); English when not given.",
    )


class DuplicatesAnswer(serializers.Serializer):
    duplicates = DuplicateSerializer(many=True, help_text="Likely the same claim, best first.")
    other_figures = DuplicateSerializer(
        many=True,
        help_text="The same words with other numbers: not the same claim, perhaps the same "
        "one at another time (`superseded_by`).",
    )


class ClaimDuplicatesView(CachingHeadersMixin, APIView):
    permission_classes = [IsDeskMember]
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="claims_duplicates",
        summary="Likely duplicates of a claim you would add",
        description="The claims a new claim with this statement would likely repeat, "
        "before you post it (a POST with likely duplicates answers 409). Desk members only.",
        parameters=[DuplicatesQuery],
        responses={200: DuplicatesAnswer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request):
        query = DuplicatesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = duplicates.check(
            query.validated_data["statement"], language=query.validated_data["language"]
        )
        return Response(
            {
                "duplicates": matches_data(found.duplicates, request),
                "other_figures": matches_data(found.other_figures, request),
            }
        )
