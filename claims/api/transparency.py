"""The ledger as a transparency log: where it stands, its signed checkpoints (C2SP
signed notes) and RFC 9162 Merkle proofs, for anyone. Hashes in proofs are
base64, as in the checkpoints; each proof costs O(log n) reads of stored tree
hashes (`claims.ledger.tree`). docs/api.md and /ledger/format/ describe them.
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse as django_reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims.api.common import (
    AlwaysTheFirstRenderer,
    CachingHeadersMixin,
    JSONErrorsMixin,
    error_responses,
)
from claims.claimreview import absolute_url
from claims.ledger import checkpoints, proofs

TAGS = ["Ledger transparency"]


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""


class _TransparencyView(CachingHeadersMixin, APIView):
    permission_classes = [AllowAny]
    http_method_names = ["get", "head", "options"]

    @staticmethod
    def latest_or_404() -> checkpoints.LoggedCheckpoint:
        latest = checkpoints.latest()
        if latest is None:
            raise exceptions.NotFound("No checkpoint has been signed yet.")
        return latest

    @staticmethod
    def size_parameter(request, name: str, *, minimum: int = 0) -> int | None:
        """A tree size from the query, or None when absent (the latest checkpoint's)."""
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise serializers.ValidationError({name: ["A whole number."]}) from None
        if value < minimum:
            raise serializers.ValidationError({name: [f"At least {minimum}."]})
        return value


class LedgerView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Where the ledger stands",
        description="Its size, latest signed checkpoint, verifier key, and where the rest is.",
        responses={200: OpenApiTypes.OBJECT, **error_responses(429)},
    )
    def get(self, request):
        links = {
            name: reverse(f"api:ledger-{route}", request=request)
            for name, route in (
                ("checkpoint", "checkpoint"),
                ("checkpoints", "checkpoints"),
                ("consistency_proof", "consistency-proof"),
            )
        }
        return Response(
            {
                **proofs.standing(),
                **links,
                "export": reverse("api:export", request=request),
                # The site's pages, addressed as every page is (claims.claimreview).
                "format": absolute_url(django_reverse("ledger-format"), request),
                "verifier": absolute_url(django_reverse("ledger-verifier"), request),
            }
        )


class CheckpointView(JSONErrorsMixin, _TransparencyView):
    # The signed note whatever the client asks for (its errors JSON): no `format`
    # parameter to offer, and never the note as a JSON string labelled text/plain.
    renderer_classes = [PlainTextRenderer]
    content_negotiation_class = AlwaysTheFirstRenderer

    @extend_schema(
        tags=TAGS,
        summary="The latest signed checkpoint",
        description="A C2SP signed note (text/plain); 404 before the first entry.",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Signed note."),
            **error_responses(404, 429, media_type="application/json"),
        },
    )
    def get(self, request):
        return Response(self.latest_or_404().note, content_type="text/plain; charset=utf-8")


class CheckpointLogView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Every checkpoint signed so far",
        description="JSON Lines, oldest first, each with the leaf hashes it added.",
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(404, 429, media_type="application/json"),
        },
    )
    def get(self, request):
        path = checkpoints.log_path()
        if not path.exists():
            raise exceptions.NotFound("No checkpoint has been signed yet.")
        return FileResponse(path.open("rb"), content_type="application/x-ndjson")


ProofSerializer = inline_serializer(
    name="InclusionProof",
    fields={
        "sequence": serializers.IntegerField(),
        "leaf_index": serializers.IntegerField(),
        "tree_size": serializers.IntegerField(),
        "header": serializers.DictField(help_text="The entry's hashed header."),
        "entry_hash": serializers.CharField(),
        "leaf_hash": serializers.CharField(help_text="base64 SHA-256(0x00 || header bytes)."),
        "proof": serializers.ListField(child=serializers.CharField()),
        "root_hash": serializers.CharField(),
        "checkpoint": serializers.CharField(allow_null=True),
    },
)


class InclusionProofView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Proof that an entry is in the signed ledger",
        description="An RFC 9162 inclusion proof, by default in the latest signed checkpoint.",
        parameters=[
            OpenApiParameter("tree_size", OpenApiTypes.INT, description="Default: latest.")
        ],
        responses={200: ProofSerializer, **error_responses(400, 404, 429)},
    )
    def get(self, request, sequence: int):
        size = self.size_parameter(request, "tree_size", minimum=1)
        try:
            return Response(proofs.inclusion(sequence, size))
        except proofs.NotCovered as error:
            raise exceptions.NotFound(str(error)) from None


class ConsistencyProofView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Proof that the ledger only grew",
        description="An RFC 9162 consistency proof from the tree of `from` entries to `to`.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.INT, required=True),
            OpenApiParameter("to", OpenApiTypes.INT, description="Default: latest."),
        ],
        responses={
            200: inline_serializer(
                name="ConsistencyProof",
                fields={
                    "from": serializers.IntegerField(),
                    "to": serializers.IntegerField(),
                    "from_root_hash": serializers.CharField(),
                    "to_root_hash": serializers.CharField(),
                    "proof": serializers.ListField(child=serializers.CharField()),
                    "checkpoint": serializers.CharField(allow_null=True),
                },
            ),
            **error_responses(400, 404, 429),
        },
    )
    def get(self, request):
        old = self.size_parameter(request, "from", minimum=1)
        if old is None:
            raise serializers.ValidationError({"from": ["Required: the older tree size."]})
        new = self.size_parameter(request, "to", minimum=1)
        return Response(proofs.consistency(old, new))
