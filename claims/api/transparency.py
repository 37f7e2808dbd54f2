"""The ledger as a transparency log: signed checkpoints and Merkle proofs, for anyone.

* `/api/v1/ledger/`: where the ledger stands (size, latest checkpoint, the
  verifier key, where everything else is);
* `/api/v1/ledger/checkpoint`: the latest signed checkpoint, a C2SP signed
  note (text/plain), as Go's checksum database serves its `/latest`;
* `/api/v1/ledger/checkpoints`: every checkpoint signed so far (JSON Lines,
  oldest first), with the leaf hashes each one added;
* `/api/v1/ledger/proofs/inclusion/<sequence>`: an RFC 9162 inclusion proof
  that an entry is in a signed checkpoint;
* `/api/v1/ledger/proofs/consistency?from=M&to=N`: a consistency proof that
  the tree of N entries extends the tree of M.

Hashes in proofs are base64, as in the checkpoints. Each proof costs
O(log n) reads of stored tree hashes (`claims.ledger.tree`).
"""

from __future__ import annotations

import base64

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims.api.common import CachingHeadersMixin, error_responses
from claims.ledger import checkpoints, entries, tree, verifier
from claims.models import Review

TAGS = ["Ledger transparency"]


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


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
    def size_parameter(request, name: str, default: int, *, minimum: int = 0) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
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
        description="The ledger's size now, its latest signed checkpoint (size, root, when), "
        "the verifier key that checks the checkpoints' signatures, and the addresses of the "
        "checkpoints, proofs, public export, format documentation and standalone verifier.",
        responses={200: OpenApiTypes.OBJECT, **error_responses(429)},
    )
    def get(self, request):
        latest = checkpoints.latest()
        link = lambda name: reverse(name, request=request)  # noqa: E731
        return Response(
            {
                "origin": checkpoints.origin(),
                "size": tree.size(),
                "verifier_key": checkpoints.verifier_key(),
                "latest_checkpoint": None
                if latest is None
                else {
                    "size": latest.size,
                    "root_hash": latest.root_base64,
                    "signed_at": latest.signed_at,
                },
                "checkpoint": link("api:ledger-checkpoint"),
                "checkpoints": link("api:ledger-checkpoints"),
                "consistency_proof": link("api:ledger-consistency-proof"),
                "export": link("api:export"),
                "format": request.build_absolute_uri("/ledger/format/"),
                "verifier": request.build_absolute_uri("/ledger/verifier.py"),
            }
        )


class CheckpointView(_TransparencyView):
    renderer_classes = [PlainTextRenderer, JSONRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "status_code", 200) >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="The latest signed checkpoint",
        description="A C2SP checkpoint (c2sp.org/tlog-checkpoint: origin line, tree size, "
        "base64 Merkle root) in a C2SP signed note (c2sp.org/signed-note) signed with "
        "Ed25519; the verifier key is at `/api/v1/ledger/`. 404 before the first entry.",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Signed note."),
            **{(code, "application/json"): r for code, r in error_responses(404, 429).items()},
        },
    )
    def get(self, request):
        return Response(self.latest_or_404().note, content_type="text/plain; charset=utf-8")


class CheckpointLogView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Every checkpoint signed so far",
        description="The checkpoint log, JSON Lines, oldest first: `size`, `root` (base64), "
        "`signed_at`, `leaves` (the hex leaf hashes this checkpoint added) and `checkpoint` "
        "(the signed note). Mirror it: with the leaves, a rewritten ledger is caught at the "
        "first entry that differs.",
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY),
            **{(code, "application/json"): r for code, r in error_responses(404, 429).items()},
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
        description="An RFC 9162 inclusion proof of the entry (leaf `sequence - 1`) in the "
        "tree of `tree_size` entries, by default the latest signed checkpoint's, which is "
        "returned with it. The leaf is SHA-256(0x00 || the canonical bytes of `header`). "
        "404 for an entry not yet covered by a signed checkpoint (retry in a moment).",
        parameters=[
            OpenApiParameter("tree_size", OpenApiTypes.INT, description="Default: latest.")
        ],
        responses={200: ProofSerializer, **error_responses(400, 404, 429)},
    )
    def get(self, request, sequence: int):
        latest = checkpoints.latest()
        size = self.size_parameter(request, "tree_size", latest.size if latest else 0, minimum=1)
        if size > tree.size():
            raise serializers.ValidationError(
                {"tree_size": [f"The ledger has {tree.size()} entries."]}
            )
        if sequence < 1 or sequence > size:
            raise exceptions.NotFound(
                f"Entry #{sequence} is not in a signed checkpoint of {size} entries yet."
            )
        entry = (
            Review.objects.prefetch_related("evidence_links__source")
            .filter(sequence=sequence)
            .get()
        )
        header = entries.entry_header(entry, entries.entry_body(entry, entries.evidence_of(entry)))
        return Response(
            {
                "sequence": sequence,
                "leaf_index": entry.leaf_index,
                "tree_size": size,
                "header": header,
                "entry_hash": entry.entry_hash,
                "leaf_hash": b64(verifier.record_hash(verifier.entry_bytes(header))),
                "proof": [b64(h) for h in tree.inclusion_proof(entry.leaf_index, size)],
                "root_hash": b64(tree.root(size)),
                "checkpoint": latest.note if latest and latest.size == size else None,
            }
        )


class ConsistencyProofView(_TransparencyView):
    @extend_schema(
        tags=TAGS,
        summary="Proof that the ledger only grew",
        description="An RFC 9162 consistency proof that the tree of `to` entries (default: "
        "the latest signed checkpoint's) extends the tree of `from` entries: nothing in the "
        "first `from` entries was changed or removed. Mirrors keep an old checkpoint and ask "
        "for this proof to the new one.",
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
        latest = checkpoints.latest()
        if "from" not in request.query_params:
            raise serializers.ValidationError({"from": ["Required: the older tree size."]})
        old = self.size_parameter(request, "from", 0, minimum=1)
        new = self.size_parameter(request, "to", latest.size if latest else 0, minimum=1)
        if new > tree.size():
            raise serializers.ValidationError({"to": [f"The ledger has {tree.size()} entries."]})
        if old > new:
            raise serializers.ValidationError({"from": [f"At most `to` ({new})."]})
        return Response(
            {
                "from": old,
                "to": new,
                "from_root_hash": b64(tree.root(old)),
                "to_root_hash": b64(tree.root(new)),
                "proof": [b64(h) for h in tree.consistency_proof(old, new)],
                "checkpoint": latest.note if latest and latest.size == new else None,
            }
        )
