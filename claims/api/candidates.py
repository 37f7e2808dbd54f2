"""A source's candidate claims over HTTP, read-only: its sentences that may hold a
claim worth checking, ranked, with the features that scored them (claims.candidates).
The desk's working material, so desk members only. Editors draft a claim from one,
or dismiss it, on the source's admin page (docs/api.md, "Candidate claims")."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.api.common import CachingHeadersMixin, QueryParameters, error_responses
from claims.api.permissions import IsDeskMember
from claims.candidates import LABELS
from claims.models import CandidateSentence, CandidateStatus
from sources.models import Source

ALL = "all"
STATUSES = [*CandidateStatus.values, ALL]


class CandidateFeatureSerializer(serializers.Serializer):
    feature = serializers.ChoiceField(choices=list(LABELS.items()), help_text="Which feature.")
    label = serializers.SerializerMethodField(help_text="What it says of the sentence, in words.")
    weight = serializers.FloatField(help_text="What it added to the score; negative for a penalty.")
    evidence = serializers.CharField(help_text="What it found in the sentence.")

    def get_label(self, feature: dict[str, Any]) -> str:
        return LABELS.get(feature["feature"], feature["feature"])


class CandidateSerializer(serializers.ModelSerializer):
    features = CandidateFeatureSerializer(
        many=True, help_text="What scored it, strongest first as stored."
    )
    claim = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The slug of the claim drafted from it; null unless drafted.",
    )

    class Meta:
        model = CandidateSentence
        fields = ["id", "start", "end", "text", "score", "status", "features", "claim"]
        extra_kwargs = {
            "start": {"help_text": "Offset of the sentence in the source's snapshot."},
            "end": {"help_text": "Where it ends: `snapshot[start:end]` is `text`."},
            "score": {"help_text": "Check-worthiness, 0 to 1 (a decimal string)."},
            "status": {
                "help_text": "new (offered), drafted (a claim was drafted from it) or dismissed."
            },
        }


class CandidateQuery(QueryParameters):
    status = serializers.ChoiceField(choices=STATUSES, required=False, default=CandidateStatus.NEW)


class SourceCandidatesView(CachingHeadersMixin, APIView):
    """GET /api/v1/sources/<slug>/candidates."""

    permission_classes = [IsDeskMember]
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="sources_candidates_list",
        summary="A source's candidate claims",
        description="The source's sentences that may hold a claim worth checking, highest "
        "score first (ties in the order of the text), each with the features that scored "
        "it. The new ones by default; `status` asks for those drafted or dismissed, or "
        "all. Not paginated: a source's text is scored up to its first 50,000 "
        "characters. Desk members only.",
        parameters=[
            OpenApiParameter(
                "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The source's slug."
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=STATUSES,
                default=CandidateStatus.NEW,
                description="new (the default: those still offered), drafted, dismissed or all.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                CandidateSerializer(many=True), description="Candidates, highest score first."
            ),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, slug: str):
        query = CandidateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        source = get_object_or_404(Source.objects.only("id"), slug=slug)
        found = (
            CandidateSentence.objects.filter(source=source)
            .select_related("claim")
            .only(*CandidateSerializer.Meta.fields, "source_id", "claim__slug")
            .order_by("-score", "start")
        )
        if (status := query.validated_data["status"]) != ALL:
            found = found.filter(status=status)
        return Response(CandidateSerializer(found, many=True).data)
