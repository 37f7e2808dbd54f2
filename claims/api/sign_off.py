"""Second-editor sign-off over HTTP: a claim's proposed verdicts, the desk's approval
queue, and approving, sending back or withdrawing a proposal.

The services (claims.sign_off) check who may do what and whether the proposal
still fits the claim; these views find the proposal or the claim, settle which
version the client saw (as every ledger write does: claims.api.ledger.settled_write)
and turn the answer into HTTP. A proposal writes nothing to the ledger; an approval
writes the verdict's entry, answered as a recorded verdict is. The flow, with
examples: docs/api.md ("Second-editor sign-off").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from claims import sign_off
from claims.api.common import (
    IF_MATCH,
    CachingHeadersMixin,
    ConflictError,
    ErrorSerializer,
    LedgerCursorPagination,
    QueryParameters,
    error_responses,
    json_body,
)
from claims.api.ledger import (
    ENTRY_RESPONSE,
    ETAG_HEADER,
    LOCATION_HEADER,
    STATUS_LABELS,
    LedgerEvidenceSerializer,
    LedgerStatusSerializer,
    RecordReviewSerializer,
    entry_response,
    settled_write,
)
from claims.api.permissions import IsDeskMember
from claims.markdown import render_markdown
from claims.models import Claim, ProposalDecision, VerdictProposal
from claims.ratings import Status

Outcome = ProposalDecision.Outcome

PENDING = "pending"
# What a proposal's `state` may be: pending, or its decision's outcome.
STATES = [(PENDING, "Pending"), *Outcome.choices]
# What the approval queue lists (`?state=`).
QUEUE_STATES = (PENDING, "decided", "all")

# The service refusals that are conflicts with the proposal's or the claim's state
# (409, their code kept), not invalid input.
CONFLICTS = {"proposal_pending", "proposal_stale", "already_decided"}


def proposals() -> QuerySet[VerdictProposal]:
    """Proposals with all that showing one needs, staleness included (the claim's
    speaker is part of its content): two queries for any number of them."""
    return sign_off.proposals().select_related("claim__speaker")


@contextmanager
def conflicts_as_409() -> Iterator[None]:
    """A service's refusal that is a conflict with the state of things (a proposal
    pending, stale or decided already) as a 409 with the service's code and message;
    any other refusal goes on (a 400)."""
    try:
        yield
    except DjangoValidationError as refused:
        code = getattr(refused, "code", None)
        if code not in CONFLICTS:
            raise
        raise ConflictError(refused.messages[0], code=code) from refused


# --- Serializers --------------------------------------------------------------


class ProposalDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, help_text="approved, rejected (sent back) or withdrawn."
    )
    decided_by = serializers.CharField(help_text="Who approved, sent back or withdrew it.")
    decided_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Why it was sent back, for the proposer; else empty.")
    entry = serializers.IntegerField(
        allow_null=True, help_text="The sequence of the ledger entry the approval wrote."
    )
    entry_url = serializers.URLField(
        allow_null=True, help_text="The claim's ledger, where that entry is; null unless approved."
    )


DECIDED_AT = ProposalDecisionSerializer().fields["decided_at"]


class ProposalSerializer(serializers.Serializer):
    """A proposed verdict as the desk reads it, with what became of it."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="This proposal.")
    claim = serializers.SlugField(source="claim.slug", help_text="The claim's slug.")
    claim_url = serializers.SerializerMethodField(help_text="The claim.")
    claim_version = serializers.IntegerField(help_text="The claim version the proposer saw.")
    status = serializers.SerializerMethodField(help_text="The verdict proposed.")
    status_before = serializers.SerializerMethodField(
        help_text="The claim's status when it was proposed."
    )
    explanation = serializers.CharField(help_text="Markdown; readers see it once approved.")
    explanation_html = serializers.SerializerMethodField(help_text="Rendered and sanitised.")
    note = serializers.CharField(help_text="Internal note to the desk.")
    evidence = LedgerEvidenceSerializer(source="evidence_links.all", many=True)
    proposed_by = serializers.CharField(source="proposed_by.username")
    created_at = serializers.DateTimeField()
    state = serializers.SerializerMethodField(
        help_text="pending, or what became of it: approved, rejected (sent back), withdrawn."
    )
    decision = serializers.SerializerMethodField(help_text="Null while pending.")
    stale = serializers.SerializerMethodField(
        help_text="While pending: empty while the verdict fits the claim, else why it no "
        "longer does (the claim's content or status changed since; approving it is a 409). "
        "Empty once decided."
    )

    @staticmethod
    def decision_of(proposal: VerdictProposal) -> ProposalDecision | None:
        # The reverse one-to-one is selected (None when there is none): no query.
        return getattr(proposal, "decision", None)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, proposal: VerdictProposal) -> str:
        return reverse(
            "api:proposal-detail", kwargs={"id": proposal.pk}, request=self.context.get("request")
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_claim_url(self, proposal: VerdictProposal) -> str:
        return reverse(
            "api:claim-detail",
            kwargs={"slug": proposal.claim.slug},
            request=self.context.get("request"),
        )

    @extend_schema_field(LedgerStatusSerializer)
    def get_status(self, proposal: VerdictProposal) -> dict:
        return {"value": proposal.status, "label": STATUS_LABELS[proposal.status]}

    @extend_schema_field(LedgerStatusSerializer)
    def get_status_before(self, proposal: VerdictProposal) -> dict:
        return {"value": proposal.status_before, "label": STATUS_LABELS[proposal.status_before]}

    def get_explanation_html(self, proposal: VerdictProposal) -> str:
        return str(render_markdown(proposal.explanation))

    @extend_schema_field(serializers.ChoiceField(choices=STATES))
    def get_state(self, proposal: VerdictProposal) -> str:
        decision = self.decision_of(proposal)
        return PENDING if decision is None else decision.outcome

    @extend_schema_field(ProposalDecisionSerializer(allow_null=True))
    def get_decision(self, proposal: VerdictProposal) -> dict | None:
        decision = self.decision_of(proposal)
        if decision is None:
            return None
        approved = decision.entry_id is not None
        return {
            "outcome": decision.outcome,
            "decided_by": decision.decided_by.username,
            "decided_at": DECIDED_AT.to_representation(decision.decided_at),
            "reason": decision.reason,
            "entry": decision.entry.sequence if decision.entry is not None else None,
            "entry_url": reverse(
                "api:claim-reviews",
                kwargs={"slug": proposal.claim.slug},
                request=self.context.get("request"),
            )
            if approved
            else None,
        }

    def get_stale(self, proposal: VerdictProposal) -> str:
        if self.decision_of(proposal) is not None:
            return ""
        return sign_off.stale_because(proposal, proposal.claim)


class ProposeVerdictSerializer(RecordReviewSerializer):
    status = serializers.ChoiceField(
        choices=Status.choices,
        help_text="The verdict proposed: a workflow status (unverified, in review) is "
        "recorded directly, never proposed.",
    )


class SendBackSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the verdict is sent back, for the proposer; required."
    )


class QueueQuery(QueryParameters):
    state = serializers.ChoiceField(choices=list(QUEUE_STATES), required=False, default=PENDING)


# --- Schema -------------------------------------------------------------------

PROPOSAL_RESPONSE = OpenApiResponse(ProposalSerializer, description="The proposal.")
PROPOSAL_LOCATION = OpenApiParameter(
    name="Location",
    location=OpenApiParameter.HEADER,
    type=str,
    response=[201],
    description="The new proposal (`/api/v1/proposals/{id}`).",
)
PROPOSAL_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The proposal's id."
)
STATE_PARAMETER = OpenApiParameter(
    "state",
    OpenApiTypes.STR,
    enum=list(QUEUE_STATES),
    default=PENDING,
    description="pending (the default: the approval queue, oldest first), decided or all "
    "(newest first).",
)
DESK_READ_ERRORS = error_responses(400, 401, 403, 404, 429)


def conflict(description: str) -> dict:
    return {409: OpenApiResponse(ErrorSerializer, description=description)}


# --- Views --------------------------------------------------------------------


def proposal_or_404(pk: int) -> VerdictProposal:
    try:
        return proposals().get(pk=pk)
    except VerdictProposal.DoesNotExist:
        raise Http404("No such proposal.") from None


class ClaimProposalsView(CachingHeadersMixin, APIView):
    """A claim's proposed verdicts: read them (GET) or propose one (POST)."""

    permission_classes = [IsDeskMember]
    pagination_class = None
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        operation_id="claims_proposals_list",
        summary="A claim's proposed verdicts",
        description="Every proposal for the claim, newest first, each with what became of it; "
        "not paginated. Desk members only.",
        responses={
            200: OpenApiResponse(
                ProposalSerializer(many=True), description="Proposals, newest first."
            ),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, slug: str):
        claim = get_object_or_404(Claim.objects.visible_to(request.user).only("id"), slug=slug)
        found = proposals().filter(claim=claim).order_by("-created_at", "-id")
        return Response(ProposalSerializer(found, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="claims_proposals_create",
        summary="Propose a verdict",
        description="A verdict for another editor to approve; nothing reaches the ledger "
        "until one does. The body and the version you saw as for recording a verdict. "
        "Editors only.",
        parameters=[IF_MATCH, PROPOSAL_LOCATION],
        request=json_body(ProposeVerdictSerializer),
        responses={
            201: PROPOSAL_RESPONSE,
            **error_responses(400, 401, 403, 404, 412, 429),
            **conflict(
                "The claim changed since the version you sent (`version_conflict`), or a "
                "proposal for it is pending already (`proposal_pending`); nothing was written."
            ),
        },
    )
    def post(self, request, slug: str):
        with conflicts_as_409():
            _, proposal = settled_write(
                request, slug, ProposeVerdictSerializer, sign_off.propose_verdict
            )
        data = ProposalSerializer(proposal_or_404(proposal.pk), context={"request": request}).data
        return Response(
            data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])}
        )


class QueuePagination(LedgerCursorPagination):
    """Keyset pages in the order the view names for the state asked for."""

    def get_ordering(self, request, queryset, view):
        return view.ordering


class ProposalQueueView(CachingHeadersMixin, generics.ListAPIView):
    """The desk's approval queue: pending proposals, oldest first."""

    permission_classes = [IsDeskMember]
    serializer_class = ProposalSerializer
    pagination_class = QueuePagination
    filter_backends: list = []
    http_method_names = ["get", "head", "options"]
    ordering: tuple[str, ...] = ("created_at", "id")

    def get_queryset(self):
        query = QueueQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        state = query.validated_data["state"]
        found = proposals()
        if state == PENDING:
            self.ordering = ("created_at", "id")
            return found.filter(decision__isnull=True)
        self.ordering = ("-created_at", "-id")
        return found if state == "all" else found.filter(decision__isnull=False)

    @extend_schema(
        operation_id="proposals_list",
        summary="The approval queue",
        description="Proposed verdicts waiting for a second editor, oldest first, in cursor "
        "pages; `state` shows the decided ones instead, or all. Desk members only.",
        parameters=[STATE_PARAMETER],
        responses={200: ProposalSerializer(many=True), **DESK_READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProposalView(CachingHeadersMixin, APIView):
    """One proposal, with what became of it."""

    permission_classes = [IsDeskMember]
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="proposals_retrieve",
        summary="A proposed verdict",
        description="With its decision, and while pending whether it is stale. Desk members only.",
        parameters=[PROPOSAL_ID],
        responses={200: PROPOSAL_RESPONSE, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, id: int):
        proposal = proposal_or_404(id)
        return Response(ProposalSerializer(proposal, context={"request": request}).data)


class _DecisionView(CachingHeadersMixin, APIView):
    permission_classes = [IsDeskMember]
    http_method_names = ["post", "options"]

    @staticmethod
    def read_no_body(request) -> None:
        """Approving and withdrawing take no body, but a malformed one (not JSON, nested
        too deep, too big) is refused as on every write (400, 413), never ignored."""
        request.data  # noqa: B018 (parsed for its refusal, if any)


DECIDED_CONFLICT = (
    "The proposal was decided already (`already_decided`), or the claim changed since it "
    "was proposed (`proposal_stale`: send it back); nothing was written."
)


class ProposalApproveView(_DecisionView):
    """Approve another editor's proposed verdict: its ledger entry is written."""

    @extend_schema(
        operation_id="proposals_approve",
        summary="Approve a proposed verdict",
        description="Writes the verdict's ledger entry, naming the proposer as its `editor` "
        "and you as `approved_by`, answered as a recorded verdict is. Editors only, and not "
        "the proposer.",
        parameters=[PROPOSAL_ID, ETAG_HEADER, LOCATION_HEADER],
        request=None,
        responses={
            201: ENTRY_RESPONSE,
            **error_responses(400, 401, 403, 404, 429),
            **conflict(DECIDED_CONFLICT),
        },
    )
    def post(self, request, id: int):
        self.read_no_body(request)
        proposal = proposal_or_404(id)
        with conflicts_as_409():
            entry = sign_off.approve_proposal(proposal=proposal, editor=request.user)
        return entry_response(request, entry, proposal.claim, created=True)


class ProposalSendBackView(_DecisionView):
    """Decline another editor's proposed verdict, saying why."""

    @extend_schema(
        operation_id="proposals_send_back",
        summary="Send a proposed verdict back",
        description="Declines it with a `reason` for the proposer; the ledger is untouched. "
        "Editors only, and not the proposer (who withdraws it instead).",
        parameters=[PROPOSAL_ID],
        request=json_body(SendBackSerializer),
        responses={
            200: PROPOSAL_RESPONSE,
            **error_responses(400, 401, 403, 404, 429),
            **conflict("The proposal was decided already (`already_decided`)."),
        },
    )
    def post(self, request, id: int):
        proposal = proposal_or_404(id)
        body = SendBackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with conflicts_as_409():
            sign_off.send_back_proposal(
                proposal=proposal, editor=request.user, reason=body.validated_data["reason"]
            )
        return Response(ProposalSerializer(proposal, context={"request": request}).data)


class ProposalWithdrawView(_DecisionView):
    """The proposer takes their proposal back."""

    @extend_schema(
        operation_id="proposals_withdraw",
        summary="Withdraw a proposed verdict",
        description="The proposer only; the ledger is untouched.",
        parameters=[PROPOSAL_ID],
        request=None,
        responses={
            200: PROPOSAL_RESPONSE,
            **error_responses(401, 403, 404, 429),
            **conflict("The proposal was decided already (`already_decided`)."),
        },
    )
    def post(self, request, id: int):
        self.read_no_body(request)
        proposal = proposal_or_404(id)
        with conflicts_as_409():
            sign_off.withdraw_proposal(proposal=proposal, editor=request.user)
        return Response(ProposalSerializer(proposal, context={"request": request}).data)
