"""The review ledger over HTTP: a claim's entries, appending one (verdicts,
publication, corrections: `ledger_write`), and the export of the whole chain.

The services (`claims.services`) check the permissions and the version; these
views find the claim, settle which version the client saw and turn the answer
into HTTP. The rules, with examples: docs/api.md ("The review ledger").
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims.api.common import (
    IF_MATCH,
    AlwaysTheFirstRenderer,
    CachingHeadersMixin,
    JSONErrorsMixin,
    PreconditionFailed,
    check_if_match,
    claim_etag,
    error_responses,
    json_body,
    sees_drafts,
)
from claims.api.permissions import IsDeskMember
from claims.api.schema import ApiAutoSchema
from claims.api.serializers import FormListField
from claims.ledger import verifier
from claims.ledger.entries import entry_body, entry_time, evidence_of, locked_visible_claim
from claims.ledger.export import export_lines
from claims.markdown import render_markdown
from claims.models import (
    Claim,
    ClaimKind,
    CorrectionClass,
    MediaAuthenticity,
    MediaType,
    Review,
    ReviewAction,
    ReviewEvidence,
    Speaker,
)
from claims.quantities import UNITS, QuantityQualifier
from claims.ratings import Status
from claims.services import (
    RECORD_REVIEW_PERMISSION,
    VersionConflict,
    correct_claim,
    record_review,
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
SIGN_OFF_REQUIRED = "sign_off_required"
VERSION_MISSING = (
    "Send the claim version you saw in `version`, or the claim's ETag in an If-Match header."
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
    value = serializers.ChoiceField(choices=ReviewAction.choices)
    label = serializers.CharField()


class LedgerEvidenceSerializer(serializers.Serializer):
    source = serializers.SlugField(source="source.slug", help_text="The cited source's slug.")
    title = serializers.CharField(source="source.title")


class LedgerCorrectionSerializer(serializers.Serializer):
    correction_class = serializers.SerializerMethodField()
    changes = serializers.DictField(help_text='{"statement": {"from": ..., "to": ...}, ...}')

    @extend_schema_field(LedgerStatusSerializer)
    def get_correction_class(self, entry: Review) -> dict:
        return {"value": entry.correction_class, "label": entry.get_correction_class_display()}


class LedgerEntrySerializer(serializers.Serializer):
    """One ledger entry as clients read it."""

    sequence = serializers.IntegerField(help_text="Position in the ledger's chain (1, 2, ...).")
    leaf_index = serializers.IntegerField(help_text="Position in the Merkle tree (sequence - 1).")
    action = serializers.SerializerMethodField()
    summary = serializers.CharField(help_text='In words: "In review → False".')
    status_before = serializers.SerializerMethodField()
    status_after = serializers.SerializerMethodField()
    explanation = serializers.CharField(help_text="Markdown; for a correction, its reason.")
    explanation_html = serializers.SerializerMethodField(help_text="Rendered and sanitised.")
    claim_content = serializers.DictField(help_text="The claim's checkable fields it judged.")
    correction = serializers.SerializerMethodField(help_text="Null unless a correction.")
    note = serializers.CharField(required=False, help_text="Internal; desk members only.")
    evidence = LedgerEvidenceSerializer(source="evidence_links.all", many=True)
    editor = serializers.CharField(
        source="editor.username",
        help_text="Who wrote it (for a signed-off verdict: who proposed it).",
    )
    approved_by = serializers.CharField(
        source="approved_by.username",
        allow_null=True,
        help_text="The second editor who approved the verdict (sign-off); null otherwise.",
    )
    created_at = _EntryTimeField(help_text="UTC, microseconds, as the entry's header holds it.")
    claim_version = serializers.IntegerField(help_text="The claim's version after this entry.")
    previous_hash = serializers.CharField(help_text="The previous entry's entry_hash.")
    body_sha256 = serializers.SerializerMethodField(help_text="SHA-256 of `hashed_body`.")
    entry_hash = serializers.CharField(help_text="SHA-256 of the header (/ledger/format/).")
    hashed_body = serializers.SerializerMethodField(help_text="The canonical body, as hashed.")
    inclusion_proof = serializers.SerializerMethodField(help_text="Its inclusion proof.")

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
        return {
            "correction_class": LedgerCorrectionSerializer().get_correction_class(entry),
            "changes": dict(entry.changes),
        }

    def _body(self, entry: Review) -> dict:
        # Two fields show the body: build it once per entry (a list shares this serializer).
        cache: dict[int, dict] = self.__dict__.setdefault("_bodies", {})
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
        """The declared fields, in their order, built directly: DRF's walk field by
        field (each bound and copied per serializer) cost as much as the rest of a
        verdict's answer. tests/api/test_ledger_api.py checks it against that walk."""
        entry: Review = instance
        data = {
            "sequence": entry.sequence,
            "leaf_index": entry.leaf_index,
            "action": self.get_action(entry),
            "summary": entry.summary,
            "status_before": self.get_status_before(entry),
            "status_after": self.get_status_after(entry),
            "explanation": entry.explanation,
            "explanation_html": self.get_explanation_html(entry),
            "claim_content": dict(entry.claim_content),
            "correction": self.get_correction(entry),
            "note": entry.note,
            "evidence": [
                {"source": link.source.slug, "title": link.source.title}
                for link in entry.evidence_links.all()
            ],
            "editor": entry.editor.username,
            "approved_by": approver.username if (approver := entry.approved_by) else None,
            "created_at": entry_time(entry.created_at),
            "claim_version": entry.claim_version,
            "previous_hash": entry.previous_hash,
            "body_sha256": self.get_body_sha256(entry),
            "entry_hash": entry.entry_hash,
            "hashed_body": self.get_hashed_body(entry),
            "inclusion_proof": self.get_inclusion_proof(entry),
        }
        if not self.context.get("show_note"):
            del data["note"]
        return data


def _seen_version():
    return serializers.IntegerField(
        required=False, min_value=1, help_text="The claim version you saw, unless If-Match."
    )


def _note():
    return serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal note to the desk."
    )


class RecordReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, help_text="The claim's new status.")
    explanation = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Markdown; a verdict needs one."
    )
    evidence = FormListField(
        child=serializers.SlugField(), required=False, default=list, max_length=MAX_EVIDENCE
    )
    note = _note()
    version = _seen_version()

    def validate_evidence(self, slugs: list[str]) -> list[Source]:
        wanted = list(dict.fromkeys(slugs))
        if not wanted:
            return []  # no query to build: most workflow statuses cite nothing
        found = {source.slug: source for source in Source.objects.filter(slug__in=wanted)}
        unknown = [slug for slug in wanted if slug not in found]
        if unknown:
            raise serializers.ValidationError(
                f"No source with the slug {', '.join(repr(s) for s in unknown)}."
            )
        return [found[slug] for slug in wanted]


class PublishSerializer(serializers.Serializer):
    version = _seen_version()
    note = _note()


class UnpublishSerializer(serializers.Serializer):
    version = _seen_version()
    explanation = serializers.CharField(allow_blank=True, help_text="Why, for readers; required.")


# --- The one path of the ledger's writes ---------------------------------------


def ledger_entries():
    """Entries with their editor and approver, and their evidence with its source: two
    queries."""
    return Review.objects.select_related("editor", "approved_by").prefetch_related(
        Prefetch(
            "evidence_links",
            queryset=ReviewEvidence.objects.select_related("source").order_by("position"),
        )
    )


def as_stored_json(value):
    """`value` as a jsonb column returns it: object keys shortest first, then by their bytes."""
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: as_stored_json(value[key]) for key in ordered}
    if isinstance(value, list):
        return [as_stored_json(item) for item in value]
    return value


def settled_write(request, slug: str, body_class, service):
    """Call `service` on the claim `slug` with the body's validated fields, the editor
    and the version the client saw; answer the claim (as the write left it) and what
    the service returned.

    That version is the body's `version`, or the claim's when `If-Match` matched
    (checked first: claims.api.common.check_if_match). The claim is locked before
    that check, so no other write can come between it and this one (were one to,
    the answer would be 412); a stale `version` is 409 (VersionConflict). The path
    of every ledger write (`ledger_write`) and of a proposed verdict
    (claims.api.sign_off), which settles the version the same way.
    """
    try:
        # Locked now, so that the service's ledger write uses this very read.
        claim = locked_visible_claim(slug, drafts=sees_drafts(request))
    except Claim.DoesNotExist:
        raise Http404 from None
    if_matched = check_if_match(request, claim, ledger=True)
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    fields = dict(body.validated_data)
    seen = fields.pop("version", None)
    if seen is None and not if_matched:
        raise serializers.ValidationError({"version": [VERSION_MISSING]})
    try:
        written = service(
            claim=claim,
            editor=request.user,
            expected_version=claim.version if seen is None else seen,
            **fields,
        )
    except VersionConflict as conflict:
        if seen is None:
            raise PreconditionFailed(str(conflict), claim=conflict.claim) from conflict
        raise
    return claim, written


def entry_response(request, entry: Review, claim: Claim, *, created: bool = False) -> Response:
    """A ledger entry just written, with the claim's new `ETag`: 201 with `Location`
    (the claim's ledger) for `created`, else 200."""
    # Shown as written, not read back (two queries): the JSON fields in the order
    # PostgreSQL's jsonb gives them back, as a read of the entry shows them.
    entry.claim_content = as_stored_json(entry.claim_content)
    entry.changes = as_stored_json(entry.changes)
    data = LedgerEntrySerializer(entry, context={"show_note": True, "request": request}).data
    headers = {"ETag": claim_etag(claim)}
    if created:
        headers["Location"] = reverse(
            "api:claim-reviews", kwargs={"slug": claim.slug}, request=request
        )
    return Response(
        data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK, headers=headers
    )


def ledger_write(request, slug: str, body_class, service, *, created: bool = False) -> Response:
    """Append an entry to a claim's ledger through `service`, called with the body's
    validated fields, the editor and the version the client saw (`settled_write`).
    Answers the entry with the claim's new `ETag`: 201 with `Location` (the
    claim's ledger) for `created`, else 200.
    """
    claim, entry = settled_write(request, slug, body_class, service)
    return entry_response(request, entry, claim, created=created)


class RuleRefused(serializers.ValidationError):
    """A 400 by one of the desk's rules rather than for malformed input: its
    `error.code` names the rule (`sign_off_required`) where other 400s say
    `invalid` (ClaimReviewsView.handle_exception)."""

    def __init__(self, detail, *, rule: str):
        super().__init__(detail, code=rule)
        self.rule = rule


def refused_code(refused: DjangoValidationError, field: str) -> str | None:
    """The code of a service's first refusal of `field`, if it refused that field."""
    errors = getattr(refused, "error_dict", {}).get(field) or []
    return errors[0].code if errors else None


def record_review_here(request):
    """`record_review`, whose refusal of a verdict where verdicts wait for a second
    editor (settings.VERDICT_SIGN_OFF) says where to propose it instead."""

    def record(**fields):
        try:
            return record_review(**fields)
        except DjangoValidationError as refused:
            if refused_code(refused, "status") != SIGN_OFF_REQUIRED:
                raise
            proposals = reverse(
                "api:claim-proposals", kwargs={"slug": fields["claim"].slug}, request=request
            )
            message = (
                f"{refused.message_dict['status'][0]} Propose it with the same body: "
                f"POST {proposals}"
            )
            raise RuleRefused({"status": [message]}, rule=SIGN_OFF_REQUIRED) from refused

    return record


ENTRY_RESPONSE = OpenApiResponse(
    LedgerEntrySerializer, description="The new ledger entry; `ETag` is the claim's new ETag."
)
LEDGER_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 429)


# --- Views --------------------------------------------------------------------


class ClaimReviewsView(CachingHeadersMixin, APIView):
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
        description="Every entry, newest first, not paginated; desk members also get `note`.",
        responses={
            200: OpenApiResponse(
                LedgerEntrySerializer(many=True), description="Entries, newest first."
            ),
            **error_responses(404, 429),
        },
    )
    def get(self, request, slug: str):
        claim = get_object_or_404(Claim.objects.visible_to(request.user).only("id"), slug=slug)
        entries = ledger_entries().filter(claim=claim).order_by("-sequence")
        context = {"show_note": sees_drafts(request), "request": request}
        return Response(LedgerEntrySerializer(entries, many=True, context=context).data)

    @extend_schema(
        operation_id="claims_reviews_create",
        summary="Record a review",
        description="Append a verdict or workflow status to the claim's ledger. Editors only. "
        "Where verdicts need a second editor's approval (sign-off), a verdict is a 400 on "
        "`status` with code `sign_off_required`: propose it at the claim's `proposals/`.",
        parameters=[IF_MATCH, ETAG_HEADER, LOCATION_HEADER],
        request=json_body(RecordReviewSerializer),
        responses={201: ENTRY_RESPONSE, **LEDGER_WRITE_ERRORS},
    )
    def post(self, request, slug: str):
        record = record_review_here(request)
        return ledger_write(request, slug, RecordReviewSerializer, record, created=True)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, RuleRefused) and isinstance(response.data, dict):
            response.data["error"]["code"] = exc.rule
        return response


class CorrectionSerializer(serializers.Serializer):
    correction_class = serializers.ChoiceField(
        choices=CorrectionClass.choices, help_text="substantive withdraws the verdict."
    )
    reason = serializers.CharField(allow_blank=True, help_text="Markdown; readers see it.")
    statement = serializers.CharField(required=False)
    short_form = serializers.CharField(
        required=False, allow_blank=True, max_length=Claim._meta.get_field("short_form").max_length
    )
    speaker = serializers.SlugRelatedField(
        slug_field="slug", queryset=Speaker.objects.all(), required=False
    )
    claim_date = serializers.DateField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=ClaimKind.choices, required=False)
    quantity = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    unit = serializers.ChoiceField(choices=list(UNITS), required=False, allow_blank=True)
    quantity_qualifier = serializers.ChoiceField(
        choices=QuantityQualifier.choices, required=False, allow_blank=True
    )
    media_authenticity = serializers.ChoiceField(
        choices=MediaAuthenticity.choices, required=False, allow_blank=True
    )
    media_type = serializers.ChoiceField(
        choices=MediaType.choices, required=False, allow_blank=True
    )
    media_url = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    media_archive_url = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    media_original_url = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    media_context = serializers.CharField(required=False, allow_blank=True)
    note = _note()
    version = _seen_version()

    def validate(self, attrs):
        """The changed fields, gathered as `correct_claim` takes them."""
        changes = {name: attrs.pop(name) for name in Claim.CHECKABLE_FIELDS if name in attrs}
        return {**attrs, "changes": changes}


class ClaimCorrectionsView(CachingHeadersMixin, APIView):
    """POST a correction of a claim's checkable fields."""

    permission_classes = [IsDeskMember]
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="claims_corrections_create",
        summary="Correct a claim",
        description="Change a published or rated claim's checkable fields: a ledger entry "
        "with its class and reason, which readers see. Editors only.",
        parameters=[IF_MATCH, ETAG_HEADER, LOCATION_HEADER],
        request=json_body(CorrectionSerializer),
        responses={201: ENTRY_RESPONSE, **LEDGER_WRITE_ERRORS},
    )
    def post(self, request, slug: str):
        return ledger_write(request, slug, CorrectionSerializer, correct_claim, created=True)


class NDJSONRenderer(BaseRenderer):
    """JSON Lines, so clients may ask for it; the export streams its own body."""

    media_type = NDJSON
    format = "jsonl"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


FULL_EXPORT_PARAMETER = OpenApiParameter(
    "full", OpenApiTypes.BOOL, description="The desk's export, with notes: editors only."
)


class CanReadFullExport(BasePermission):
    """Anyone reads the public export; the desk's (`?full=true`) is for editors."""

    message = "Only editors can read the desk's full export."
    # The public export needs no authentication: the schema says so (claims.api.schema).
    anonymous_reads = True

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
    description="Every entry in chain order, streamed as JSON Lines, drafts' content left "
    "out; verify it with /ledger/verifier.py against a signed checkpoint.",
    parameters=[FULL_EXPORT_PARAMETER],
    responses={
        (200, NDJSON): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="JSON Lines, one ledger entry per line, in chain order.",
        ),
        **error_responses(400, 401, 403, 429, media_type="application/json"),
    },
)
class ExportView(JSONErrorsMixin, CachingHeadersMixin, APIView):
    """The whole ledger, streamed as JSON Lines."""

    schema = ApiAutoSchema()
    permission_classes = [CanReadFullExport]
    # JSON Lines whatever the client asks for: no `format` parameter to offer.
    renderer_classes = [NDJSONRenderer]
    content_negotiation_class = AlwaysTheFirstRenderer
    pagination_class = None
    http_method_names = ["get", "head", "options"]
    chunk_size = EXPORT_CHUNK_SIZE

    @staticmethod
    def wants_full(request) -> bool:
        value = request.query_params.get("full")
        if value is None:
            return False
        if value.lower() not in {"true", "false", "1", "0"}:
            raise serializers.ValidationError({"full": ["Use true or false."]})
        return value.lower() in {"true", "1"}

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
