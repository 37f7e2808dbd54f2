"""The review ledger over HTTP: read a claim's entries, append one, publish,
unpublish, and export the whole chain.

Every write goes through one service (`claims.services.record_review`,
`publish_claim`, `unpublish_claim`); these views only find the claim, work
out which version the client saw and turn the answer into HTTP. The services
check the permissions (a contributor gets 403 from them, not from here) and
the version (409 through `VersionConflict`).

The version the client saw comes from the body's `version` or from an
`If-Match` header carrying the claim's ETag (`claim_etag`, sent by the claim
detail endpoint). Preconditions are evaluated before the body, as RFC 9110
asks: a stale If-Match is 412 whatever the body says.

A claim's ledger is short (a handful of entries), so the list is a plain,
unpaginated array, newest first, read in three queries whatever its length:
the claim, the entries with their editors, and the evidence with its sources.

Ledger entries are never edited or deleted: the collection answers only GET
and POST (PUT, PATCH and DELETE are 405 for everyone) and there is no
per-entry route at all.
"""

from __future__ import annotations

import json

from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import parse_etags
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims.api.common import (
    CachingHeadersMixin,
    PreconditionFailed,
    claim_etag,
    error_responses,
    sees_drafts,
)
from claims.api.permissions import IsDeskMember
from claims.ledger import verifier
from claims.ledger.entries import entry_body, entry_time, evidence_of
from claims.ledger.export import export_lines
from claims.markdown import render_markdown
from claims.models import (
    Claim,
    ClaimKind,
    CorrectionClass,
    MediaAuthenticity,
    Review,
    ReviewAction,
    ReviewEvidence,
    Speaker,
)
from claims.ratings import Status
from claims.services import (
    RECORD_REVIEW_PERMISSION,
    VersionConflict,
    correct_claim,
    publish_claim,
    record_review,
    unpublish_claim,
)
from sources.models import Source

NDJSON = "application/x-ndjson"
# Entries fetched (and evidence prefetched) per round trip while exporting.
EXPORT_CHUNK_SIZE = 500
# Bytes gathered before the export hands a piece to the server.
EXPORT_BUFFER_BYTES = 64 * 1024
MAX_EVIDENCE = 50

STATUS_LABELS = dict(Status.choices)
ACTION_LABELS = dict(ReviewAction.choices)

ETAG_HEADER = OpenApiParameter(
    name="ETag",
    location=OpenApiParameter.HEADER,
    type=str,
    response=[200, 201],
    description="The claim's new ETag, for the next If-Match.",
)
LOCATION_HEADER = OpenApiParameter(
    name="Location",
    location=OpenApiParameter.HEADER,
    type=str,
    response=[201],
    description="This claim's ledger (`/api/v1/claims/{slug}/reviews/`).",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "The claim's ETag as the claim detail (`GET /api/v1/claims/{slug}/`) sent it. "
        "Instead of, or as well as, `version` in the body. If the claim changed since "
        "(a ledger entry or any edit), the answer is 412 and nothing is written. "
        "Strong comparison: a weak (`W/`) tag never matches, and `*` is refused "
        "because it does not say which version you saw."
    ),
)


# --- Serializers --------------------------------------------------------------


class _EntryTimeField(serializers.DateTimeField):
    """UTC with microseconds, exactly as the entry's header holds it."""

    def to_representation(self, value):
        return entry_time(value)


class LedgerStatusSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=Status.choices)
    label = serializers.CharField(help_text="The status in words, as readers see it.")


class LedgerActionSerializer(serializers.Serializer):
    value = serializers.ChoiceField(
        choices=ReviewAction.choices,
        help_text="review: a verdict or workflow status; publish, unpublish: publication.",
    )
    label = serializers.CharField()


class LedgerEvidenceSerializer(serializers.Serializer):
    source = serializers.SlugField(source="source.slug", help_text="The cited source's slug.")
    title = serializers.CharField(source="source.title")


class LedgerCorrectionSerializer(serializers.Serializer):
    correction_class = serializers.SerializerMethodField(
        help_text="typo or clarification: the verdict stands; substantive: it was withdrawn."
    )
    changes = serializers.DictField(
        help_text='What changed, field by field: {"statement": {"from": ..., "to": ...}}. '
        "Values as in `claim_content`."
    )

    @extend_schema_field(LedgerStatusSerializer)
    def get_correction_class(self, entry: Review) -> dict:
        return {"value": entry.correction_class, "label": entry.get_correction_class_display()}


class LedgerEntrySerializer(serializers.Serializer):
    """One ledger entry as clients read it."""

    sequence = serializers.IntegerField(
        help_text="Position in the whole ledger's chain (1, 2, ...)."
    )
    leaf_index = serializers.IntegerField(
        help_text="Position in the ledger's Merkle tree (sequence - 1), for proofs."
    )
    action = serializers.SerializerMethodField()
    summary = serializers.CharField(help_text='What the entry did, in words: "In review → False".')
    status_before = serializers.SerializerMethodField()
    status_after = serializers.SerializerMethodField()
    explanation = serializers.CharField(
        help_text="Markdown, as the editor wrote it; for a correction, its reason."
    )
    explanation_html = serializers.SerializerMethodField(
        help_text="The explanation rendered and sanitised (no scripts, no event handlers)."
    )
    claim_content = serializers.DictField(
        help_text="The claim's checkable fields as this entry judged (or, for a correction, "
        "set) them: statement, speaker {id, name}, claim_date, kind, quantity, unit, "
        "media_authenticity. The entry's hash covers them."
    )
    correction = serializers.SerializerMethodField(
        help_text="For a correction: its class and what changed; null otherwise."
    )
    note = serializers.CharField(
        required=False,
        help_text="Internal note to the desk: only desk members (staff) receive this field.",
    )
    evidence = LedgerEvidenceSerializer(
        source="evidence_links.all", many=True, help_text="Sources cited, in the order cited."
    )
    editor = serializers.CharField(source="editor.username", help_text="Username of the editor.")
    created_at = _EntryTimeField(help_text="UTC, microseconds, as the entry's header holds it.")
    claim_version = serializers.IntegerField(
        help_text="The claim's version once this entry is applied."
    )
    previous_hash = serializers.CharField(
        help_text="The previous entry's entry_hash (64 zeros for the first entry)."
    )
    body_sha256 = serializers.SerializerMethodField(
        help_text="SHA-256 of the entry's canonical body (see `hashed_body`)."
    )
    entry_hash = serializers.CharField(
        help_text="SHA-256 of the entry's canonical header: format version, sequence, "
        "created_at, previous_hash and body_sha256 (docs: /ledger/format/)."
    )
    hashed_body = serializers.SerializerMethodField(
        help_text="The body exactly as `body_sha256` covers it (canonical JSON of this object)."
    )
    inclusion_proof = serializers.SerializerMethodField(
        help_text="Where to get the proof that this entry is in the signed ledger."
    )

    @extend_schema_field(LedgerActionSerializer)
    def get_action(self, entry: Review) -> dict:
        return {"value": entry.action, "label": ACTION_LABELS[entry.action]}

    @extend_schema_field(LedgerStatusSerializer)
    def get_status_before(self, entry: Review) -> dict:
        return {"value": entry.status_before, "label": STATUS_LABELS[entry.status_before]}

    @extend_schema_field(LedgerStatusSerializer)
    def get_status_after(self, entry: Review) -> dict:
        return {"value": entry.status_after, "label": STATUS_LABELS[entry.status_after]}

    def get_explanation_html(self, entry: Review) -> str:
        return str(render_markdown(entry.explanation))

    @extend_schema_field(LedgerCorrectionSerializer(allow_null=True))
    def get_correction(self, entry: Review) -> dict | None:
        if entry.action != ReviewAction.CORRECTION:
            return None
        return LedgerCorrectionSerializer(entry).data

    def _body(self, entry: Review) -> dict:
        cache = self.context.setdefault("_bodies", {})
        if entry.pk not in cache:
            cache[entry.pk] = entry_body(entry, evidence_of(entry))
        return cache[entry.pk]

    def get_body_sha256(self, entry: Review) -> str:
        return verifier.body_digest(self._body(entry))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_hashed_body(self, entry: Review) -> dict:
        return self._body(entry)

    @extend_schema_field(OpenApiTypes.URI)
    def get_inclusion_proof(self, entry: Review) -> str:
        return reverse(
            "api:ledger-inclusion-proof",
            kwargs={"sequence": entry.sequence},
            request=self.context.get("request"),
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_note"):
            data.pop("note", None)
        return data


class _SeenVersionField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "help_text",
            "The claim version you saw (the claim's `version`, or the newest entry's "
            "`claim_version`). Required unless If-Match carries the claim's ETag. "
            "Stale: 409 with `error.current`, nothing written.",
        )
        super().__init__(**kwargs)


class RecordReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, help_text="The claim's new status.")
    explanation = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Markdown shown to readers. Required for a verdict (any status but "
        "`unverified` and `in_review`).",
    )
    evidence = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        max_length=MAX_EVIDENCE,
        help_text="Slugs of the sources cited, in order; duplicates are cited once.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal note to the desk."
    )
    version = _SeenVersionField()

    def validate_evidence(self, slugs: list[str]) -> list[Source]:
        wanted = list(dict.fromkeys(slugs))
        found = {source.slug: source for source in Source.objects.filter(slug__in=wanted)}
        unknown = [slug for slug in wanted if slug not in found]
        if unknown:
            raise serializers.ValidationError(
                f"No source with the slug {', '.join(repr(s) for s in unknown)}."
            )
        return [found[slug] for slug in wanted]


class PublishSerializer(serializers.Serializer):
    version = _SeenVersionField()
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal note to the desk."
    )


class UnpublishSerializer(serializers.Serializer):
    version = _SeenVersionField()
    explanation = serializers.CharField(
        allow_blank=True,
        help_text="Why the claim is withdrawn from readers (Markdown); required.",
    )


# --- Shared behaviour ---------------------------------------------------------


def ledger_entries():
    """Entries with their editor, and their evidence with its source: two queries."""
    return Review.objects.select_related("editor").prefetch_related(
        Prefetch(
            "evidence_links",
            queryset=ReviewEvidence.objects.select_related("source").order_by("position"),
        )
    )


class _LedgerWriteMixin:
    """Find the claim, settle the version the client saw, answer conflicts."""

    def get_claim(self, slug: str, only: tuple[str, ...] = ()) -> Claim:
        claims = Claim.objects.visible_to(self.request.user)
        return get_object_or_404(claims.only(*only) if only else claims, slug=slug)

    def check_if_match(self, claim: Claim) -> bool:
        """True when If-Match was sent and matches; 412 when it does not; False when absent."""
        header = self.request.headers.get("If-Match")
        if header is None:
            return False
        tags = parse_etags(header)
        if tags == ["*"]:
            raise serializers.ValidationError(
                {
                    "version": [
                        "If-Match: * does not say which version you saw; send the claim's "
                        "ETag, or `version` in the body."
                    ]
                }
            )
        current = claim_etag(claim)
        if current not in tags:
            raise PreconditionFailed(
                f"If-Match does not match claim {claim.slug!r}: it is now version "
                f"{claim.version} with ETag {current}. Reload it and try again.",
                claim=claim,
            )
        return True

    def expected_version(self, claim: Claim, data: dict, *, if_matched: bool) -> int:
        if data.get("version") is not None:
            return data["version"]
        if if_matched:
            return claim.version
        raise serializers.ValidationError(
            {
                "version": [
                    "Send the claim version you saw in `version`, or the claim's ETag in an "
                    "If-Match header."
                ]
            }
        )

    def write(self, service, claim: Claim, *, if_matched: bool, body_version: bool, **kwargs):
        """Call the service; a lost race after a matching If-Match is 412, not 409."""
        try:
            return service(claim=claim, editor=self.request.user, **kwargs)
        except VersionConflict as conflict:
            if if_matched and not body_version:
                raise PreconditionFailed(str(conflict), claim=conflict.claim) from conflict
            raise

    def entry_response(self, claim: Claim, entry: Review, *, status_code: int, headers=None):
        entry = ledger_entries().get(pk=entry.pk)
        data = LedgerEntrySerializer(
            entry, context={"show_note": True, "request": self.request}
        ).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = claim_etag(claim)
        return response


ENTRY_EXAMPLE = {
    "sequence": 42,
    "action": {"value": "review", "label": "Verdict"},
    "summary": "In review → False",
    "status_before": {"value": "in_review", "label": "In review"},
    "status_after": {"value": "false", "label": "False"},
    "explanation": "The port's annual report gives **9.1 million tonnes**.",
    "explanation_html": "<p>The port's annual report gives <strong>9.1 million tonnes</strong>.</p>",
    "note": "Checked with the port authority by phone.",
    "evidence": [{"source": "port-annual-report-2024", "title": "Port annual report 2024"}],
    "editor": "ed",
    "created_at": "2025-03-04T10:15:00.123456Z",
    "claim_version": 4,
    "previous_hash": "9f2c" + "0" * 60,
    "entry_hash": "5be1" + "a" * 60,
}

CONFLICT_EXAMPLE = OpenApiExample(
    "Version conflict",
    status_codes=["409"],
    response_only=True,
    value={
        "error": {
            "status": 409,
            "code": "version_conflict",
            "message": "Claim 'port-12-million-tonnes' changed since you loaded it: you saw "
            "version 3, it is now version 4 with status 'False'. Last change: In review → False "
            "by ed at 2025-03-04 10:15:00 UTC.",
            "fields": {},
            "current": {
                "version": 4,
                "status": "false",
                "published": True,
                "etag": '"claim-7-v4-1741083300123456"',
            },
        }
    },
)

PRECONDITION_EXAMPLE = OpenApiExample(
    "If-Match did not match",
    status_codes=["412"],
    response_only=True,
    value={
        "error": {
            "status": 412,
            "code": "precondition_failed",
            "message": "If-Match does not match claim 'port-12-million-tonnes': it is now "
            'version 4 with ETag "claim-7-v4-1741083300123456". Reload it and try again.',
            "fields": {},
            "current": {
                "version": 4,
                "status": "false",
                "published": True,
                "etag": '"claim-7-v4-1741083300123456"',
            },
        }
    },
)

VERSION_MISSING_EXAMPLE = OpenApiExample(
    "No version",
    status_codes=["400"],
    response_only=True,
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "version: Send the claim version you saw in `version`, or the claim's "
            "ETag in an If-Match header.",
            "fields": {
                "version": [
                    "Send the claim version you saw in `version`, or the claim's ETag in an "
                    "If-Match header."
                ]
            },
        }
    },
)

ENTRY_HEADERS_DESCRIPTION = (
    "The new ledger entry. `ETag` is the claim's new ETag, ready for the next If-Match."
)


# --- Views --------------------------------------------------------------------


class ClaimReviewsView(_LedgerWriteMixin, CachingHeadersMixin, APIView):
    """A claim's review ledger: read it (GET) or append a verdict (POST)."""

    pagination_class = None
    # Only GET and POST: entries are never replaced, patched or deleted.
    http_method_names = ["get", "post", "head", "options"]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsDeskMember()]
        return [AllowAny()]

    @extend_schema(
        operation_id="claims_reviews_list",
        summary="A claim's review ledger",
        description=(
            "Every ledger entry of the claim, newest first, as a plain array (a claim's "
            "ledger is short, so it is not paginated); three queries whatever its length. "
            "Anyone may read the ledger of a published claim; drafts are 404 except for "
            "desk members (staff), who also receive each entry's internal `note`. "
            "`previous_hash` and `entry_hash` link the entry into the whole ledger's chain "
            "(see the export for every field the hash covers)."
        ),
        responses={
            200: OpenApiResponse(
                LedgerEntrySerializer(many=True), description="Entries, newest first."
            ),
            **error_responses(404, 429),
        },
        examples=[
            OpenApiExample(
                "A verdict after a publication",
                response_only=True,
                status_codes=["200"],
                value=[
                    ENTRY_EXAMPLE,
                    {
                        **ENTRY_EXAMPLE,
                        "sequence": 17,
                        "action": {"value": "publish", "label": "Published"},
                        "summary": "Published",
                        "status_before": {"value": "in_review", "label": "In review"},
                        "status_after": {"value": "in_review", "label": "In review"},
                        "explanation": "",
                        "explanation_html": "",
                        "note": "",
                        "evidence": [],
                        "claim_version": 3,
                    },
                ],
            )
        ],
    )
    def get(self, request, slug: str):
        claim = self.get_claim(slug, only=("id",))
        entries = ledger_entries().filter(claim=claim).order_by("-sequence")
        context = {"show_note": sees_drafts(request), "request": request}
        return Response(LedgerEntrySerializer(entries, many=True, context=context).data)

    @extend_schema(
        operation_id="claims_reviews_create",
        summary="Record a review",
        description=(
            "Append a ledger entry to the claim and make `status` its current status, through "
            "`claims.services.record_review`, in one transaction. Token or session; desk "
            "members only, and only editors may record (contributors get 403, nothing is "
            "written). Say which version you saw with `version` or with an If-Match header "
            "carrying the claim's ETag (one of them is required):\n\n"
            "* If-Match no longer matching the claim: 412, nothing written;\n"
            "* `version` stale: 409 naming who changed what, with the claim's state now in "
            "`error.current`; nothing written, so the second of two editors never overwrites "
            "the first.\n\n"
            "A verdict (any status but `unverified` and `in_review`) needs an `explanation`. "
            "Unknown evidence slugs are 400 on `evidence`. On success: 201 with the entry, "
            "`Location` (this ledger) and `ETag` (the claim's new ETag). Entries can never "
            "be edited or deleted: PUT, PATCH and DELETE are 405."
        ),
        parameters=[IF_MATCH_PARAMETER, ETAG_HEADER, LOCATION_HEADER],
        request=RecordReviewSerializer,
        responses={
            201: OpenApiResponse(LedgerEntrySerializer, description=ENTRY_HEADERS_DESCRIPTION),
            **error_responses(400, 401, 403, 404, 409, 412, 429),
        },
        examples=[
            OpenApiExample(
                "A verdict with evidence",
                request_only=True,
                value={
                    "status": "false",
                    "explanation": "The port's annual report gives **9.1 million tonnes**.",
                    "evidence": ["port-annual-report-2024"],
                    "note": "Checked with the port authority by phone.",
                    "version": 3,
                },
            ),
            OpenApiExample(
                "Mark in review (with If-Match instead of version)",
                request_only=True,
                value={"status": "in_review"},
            ),
            OpenApiExample(
                "Recorded", response_only=True, status_codes=["201"], value=ENTRY_EXAMPLE
            ),
            CONFLICT_EXAMPLE,
            PRECONDITION_EXAMPLE,
            VERSION_MISSING_EXAMPLE,
        ],
    )
    def post(self, request, slug: str):
        claim = self.get_claim(slug)
        if_matched = self.check_if_match(claim)
        body = RecordReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = self.write(
            record_review,
            claim,
            if_matched=if_matched,
            body_version=data.get("version") is not None,
            status=data["status"],
            explanation=data["explanation"],
            expected_version=self.expected_version(claim, data, if_matched=if_matched),
            evidence=data["evidence"],
            note=data["note"],
        )
        location = reverse("api:claim-reviews", kwargs={"slug": claim.slug}, request=request)
        return self.entry_response(
            claim, entry, status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )


class PublicationSchema(AutoSchema):
    """Publish and unpublish share a view; their documentation differs."""

    def _publishing(self) -> bool:
        return getattr(self.view, "action", "") == "publish"

    def get_summary(self):
        return "Publish a claim" if self._publishing() else "Unpublish a claim"

    def get_description(self):
        if self._publishing():
            what = (
                "Make a draft visible to readers through `claims.services.publish_claim`. "
                "Body: `version` (or If-Match) and an optional internal `note`. Publishing a "
                "published claim is 400."
            )
        else:
            what = (
                "Withdraw a claim from readers through `claims.services.unpublish_claim`. "
                "Readers' links break, so `explanation` (why) is required. Unpublishing a "
                "draft is 400."
            )
        return (
            f"{what} Editors only (`claims.publish_claim`; contributors get 403, nothing is "
            "written). The result is a ledger entry, returned with 200 and the claim's new "
            "`ETag`. Same version rules as recording a review: If-Match no longer matching "
            "is 412, a stale `version` is 409 with `error.current`, neither is 400."
        )

    def get_request_serializer(self):
        return PublishSerializer if self._publishing() else UnpublishSerializer

    def get_operation_id(self):
        return "claims_publish" if self._publishing() else "claims_unpublish"

    def get_examples(self):
        if self._publishing():
            body = {"version": 1, "note": "Checked the attribution; ready."}
            entry = {
                **ENTRY_EXAMPLE,
                "action": {"value": "publish", "label": "Published"},
                "summary": "Published",
                "status_before": {"value": "unverified", "label": "Not yet verified"},
                "status_after": {"value": "unverified", "label": "Not yet verified"},
                "explanation": "",
                "explanation_html": "",
                "note": "Checked the attribution; ready.",
                "evidence": [],
                "claim_version": 2,
            }
        else:
            body = {"version": 5, "explanation": "Attributed to the wrong person."}
            entry = {
                **ENTRY_EXAMPLE,
                "action": {"value": "unpublish", "label": "Unpublished"},
                "summary": "Unpublished",
                "status_before": {"value": "false", "label": "False"},
                "status_after": {"value": "false", "label": "False"},
                "explanation": "Attributed to the wrong person.",
                "explanation_html": "<p>Attributed to the wrong person.</p>",
                "note": "",
                "evidence": [],
                "claim_version": 6,
            }
        return [
            OpenApiExample("Body", request_only=True, value=body),
            OpenApiExample("Done", response_only=True, status_codes=["200"], value=entry),
            *super().get_examples(),
        ]


@extend_schema(
    parameters=[IF_MATCH_PARAMETER, ETAG_HEADER],
    responses={
        200: OpenApiResponse(LedgerEntrySerializer, description=ENTRY_HEADERS_DESCRIPTION),
        **error_responses(400, 401, 403, 404, 409, 412, 429),
    },
    examples=[
        CONFLICT_EXAMPLE,
        PRECONDITION_EXAMPLE,
        VERSION_MISSING_EXAMPLE,
    ],
)
class PublicationView(_LedgerWriteMixin, CachingHeadersMixin, APIView):
    """POST publishes (`action="publish"`) or unpublishes (`action="unpublish"`) a claim."""

    action = ""
    permission_classes = [IsDeskMember]
    http_method_names = ["post", "options"]
    schema = PublicationSchema()

    def post(self, request, slug: str):
        claim = self.get_claim(slug)
        if_matched = self.check_if_match(claim)
        publishing = self.action == "publish"
        serializer_class = PublishSerializer if publishing else UnpublishSerializer
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = self.expected_version(claim, data, if_matched=if_matched)
        common = {"if_matched": if_matched, "body_version": data.get("version") is not None}
        if publishing:
            entry = self.write(
                publish_claim, claim, expected_version=version, note=data["note"], **common
            )
        else:
            entry = self.write(
                unpublish_claim,
                claim,
                expected_version=version,
                explanation=data["explanation"],
                **common,
            )
        return self.entry_response(claim, entry, status_code=status.HTTP_200_OK)


class CorrectionSerializer(serializers.Serializer):
    correction_class = serializers.ChoiceField(
        choices=CorrectionClass.choices,
        help_text="typo: wording only, the verdict stands; clarification: the verdict stands; "
        "substantive: the meaning changed, the verdict is withdrawn and the claim is back in "
        "review.",
    )
    reason = serializers.CharField(
        allow_blank=True, help_text="What was wrong and why it changed (Markdown); readers see it."
    )
    statement = serializers.CharField(required=False)
    speaker = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Speaker.objects.all(),
        required=False,
        help_text="The speaker's slug.",
    )
    claim_date = serializers.DateField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=ClaimKind.choices, required=False)
    quantity = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    unit = serializers.CharField(required=False, allow_blank=True, max_length=40)
    media_authenticity = serializers.ChoiceField(
        choices=MediaAuthenticity.choices, required=False, allow_blank=True
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal note to the desk."
    )
    version = _SeenVersionField()


class ClaimCorrectionsView(_LedgerWriteMixin, CachingHeadersMixin, APIView):
    """POST a correction of a claim's checkable fields."""

    permission_classes = [IsDeskMember]
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="claims_corrections_create",
        summary="Correct a claim",
        description=(
            "Change a published or rated claim's checkable fields (statement, speaker, "
            "claim_date, kind, quantity, unit, media_authenticity) through "
            "`claims.services.correct_claim`: a ledger entry with its class and reason, shown to "
            "readers on the claim page, the corrections page and the feed. Send only the fields "
            "that change. `typo` and `clarification` leave the verdict standing; `substantive` "
            "withdraws it (the claim is back in review and its ClaimReview disappears until an "
            "editor records a new verdict). Editors only (contributors get 403; a contributor's "
            "PATCH of these fields on such a claim is 403 too). Same version rules as recording "
            "a review: `version` or If-Match; stale is 409 (or 412), nothing written. A draft "
            "without a verdict is edited directly (400 here)."
        ),
        parameters=[IF_MATCH_PARAMETER, ETAG_HEADER, LOCATION_HEADER],
        request=CorrectionSerializer,
        responses={
            201: OpenApiResponse(LedgerEntrySerializer, description=ENTRY_HEADERS_DESCRIPTION),
            **error_responses(400, 401, 403, 404, 409, 412, 429),
        },
        examples=[
            OpenApiExample(
                "A typo",
                request_only=True,
                value={
                    "correction_class": "typo",
                    "reason": "The statement misspelt the port's name.",
                    "statement": "The port of La Guaira handled 12 million tonnes last year.",
                    "version": 5,
                },
            ),
            CONFLICT_EXAMPLE,
            PRECONDITION_EXAMPLE,
        ],
    )
    def post(self, request, slug: str):
        claim = self.get_claim(slug)
        if_matched = self.check_if_match(claim)
        body = CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        changes = {name: data[name] for name in Claim.CHECKABLE_FIELDS if name in data}
        entry = self.write(
            correct_claim,
            claim,
            if_matched=if_matched,
            body_version=data.get("version") is not None,
            expected_version=self.expected_version(claim, data, if_matched=if_matched),
            correction_class=data["correction_class"],
            reason=data["reason"],
            changes=changes,
            note=data["note"],
        )
        location = reverse("api:claim-reviews", kwargs={"slug": claim.slug}, request=request)
        return self.entry_response(
            claim, entry, status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )


class NDJSONRenderer(BaseRenderer):
    """JSON Lines, so clients may ask for it; the export streams its own body."""

    media_type = NDJSON
    format = "jsonl"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


EXPORT_LINE_EXAMPLE = json.dumps(
    {
        "sequence": 42,
        "created_at": "2025-03-04T10:15:00.123456Z",
        "previous_hash": "9f2c" + "0" * 60,
        "body_sha256": "77d1" + "b" * 60,
        "entry_hash": "5be1" + "a" * 60,
        "leaf_index": 41,
        "body": {
            "action": "review",
            "claim": {
                "id": 7,
                "statement": "The port handled 12 million tonnes last year.",
                "speaker": {"id": 3, "name": "Ada Example"},
                "claim_date": None,
                "kind": "numeric",
                "quantity": "12000000",
                "unit": "tonnes",
                "media_authenticity": "",
            },
            "claim_version": 4,
            "correction": None,
            "editor": 3,
            "evidence": [{"source": 12, "sha256": "e3b0" + "c" * 60}],
            "explanation": "The port's annual report gives **9.1 million tonnes**.",
            "note_sha256": "0c4a" + "d" * 60,
            "salt": "5f0e" + "1" * 28,
            "status_after": "false",
            "status_before": "in_review",
        },
        "claim": "port-12-million-tonnes",
        "editor": "ed",
    },
    ensure_ascii=False,
)

FULL_EXPORT_PARAMETER = OpenApiParameter(
    "full",
    OpenApiTypes.BOOL,
    description="The desk's export: nothing left out, and each entry's internal `note` with "
    "its `note_salt`. Editors only (`claims.record_review`) and superusers.",
)


class CanReadFullExport(BasePermission):
    """Anyone reads the public export; the desk's (`?full=true`) is for editors."""

    message = "Only editors can read the desk's full export."

    def has_permission(self, request, view):
        if not view.wants_full(request):
            return True
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and (user.is_superuser or user.has_perm(RECORD_REVIEW_PERMISSION))
        )


@extend_schema(
    summary="Export the whole ledger (JSON Lines)",
    description=(
        "Streams every ledger entry as JSON Lines (`application/x-ndjson`), one JSON object "
        "per line, in chain order (`sequence` 1, 2, ...), as an attachment "
        "`ledger-<date>.jsonl`. Memory stays flat whatever the ledger's size: entries are "
        f"read {EXPORT_CHUNK_SIZE} at a time with their evidence.\n\n"
        "Anyone may download it. Each line carries what its hashes cover: `sequence`, "
        "`created_at`, `previous_hash`, `body_sha256`, `entry_hash`, and the `body`. For an "
        "entry about a claim readers may not see (a draft, or a withdrawn claim) the body is "
        "left out (`redacted`: true): its salted `body_sha256` stands in for it, so the "
        "chain and the Merkle tree still verify and nothing of the draft shows. Internal "
        "notes appear only as salted digests. With `?full=true` (editors only) nothing is "
        "left out and each line adds `note` and `note_salt`.\n\n"
        "Verify it against a signed checkpoint (`/api/v1/ledger/checkpoint`) with the "
        "standalone verifier (`/ledger/verifier.py`); the format is specified byte by byte "
        "at `/ledger/format/`."
    ),
    parameters=[FULL_EXPORT_PARAMETER],
    responses={
        (200, NDJSON): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="JSON Lines, one ledger entry per line, in chain order.",
            examples=[OpenApiExample("One line", value=EXPORT_LINE_EXAMPLE)],
        ),
        **{
            (code, "application/json"): response
            for code, response in error_responses(400, 401, 403, 429).items()
        },
    },
)
class ExportView(CachingHeadersMixin, APIView):
    """The whole ledger, streamed as JSON Lines."""

    permission_classes = [CanReadFullExport]
    renderer_classes = [JSONRenderer, NDJSONRenderer]
    pagination_class = None
    http_method_names = ["get", "head", "options"]
    chunk_size = EXPORT_CHUNK_SIZE

    @staticmethod
    def wants_full(request) -> bool:
        value = request.query_params.get("full", "")
        if value.lower() not in {"", "true", "false", "1", "0"}:
            raise serializers.ValidationError({"full": ["Use true or false."]})
        return value.lower() in {"true", "1"}

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors keep the API's one format, in JSON, whatever the client asked for.
        if getattr(response, "status_code", 200) >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def get(self, request):
        full = self.wants_full(request)
        response = StreamingHttpResponse(self.lines(full=full), content_type=NDJSON)
        kind = "-full" if full else ""
        filename = f"ledger{kind}-{timezone.localdate().isoformat()}.jsonl"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def lines(self, *, full: bool):
        buffer: list[bytes] = []
        size = 0
        for line in export_lines(full=full, chunk_size=self.chunk_size):
            buffer.append(line)
            size += len(line)
            if size >= EXPORT_BUFFER_BYTES:
                yield b"".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield b"".join(buffer)
