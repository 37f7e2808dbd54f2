"""/api/v1/: the router and the endpoints that are not plain collections."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter, DynamicRoute

from claims.api import candidates, interop, ledger, resources, sign_off, transparency
from claims.api.duplicates import ClaimDuplicatesView


class Router(DefaultRouter):
    """The collections; the claims' actions are routed by `claim_action` instead."""

    routes = [route for route in DefaultRouter.routes if not isinstance(route, DynamicRoute)]


def claim_action(name: str):
    """An action of the claims viewset at claims/<slug>/<name>: slugs only and no
    trailing slash, as publish and unpublish have always been."""
    action = getattr(resources.ClaimViewSet, name)
    view = resources.ClaimViewSet.as_view(
        dict(action.mapping), basename="claim", detail=True, **action.kwargs
    )
    return path(f"claims/<slug:slug>/{action.url_path}", view, name=f"claim-{action.url_name}")


router = Router()
router.register("claims", resources.ClaimViewSet, basename="claim")
router.register("speakers", resources.SpeakerViewSet, basename="speaker")
router.register("sources", resources.SourceViewSet, basename="source")
router.register("quotes", resources.QuoteViewSet, basename="quote")
router.register("appearances", resources.AppearanceViewSet, basename="appearance")
router.register("topics", resources.TopicViewSet, basename="topic")

urlpatterns = [
    path("claims:search", interop.GoogleClaimSearchView.as_view(), name="claims-search"),
    path("claimreview", interop.ClaimReviewFeedView.as_view(), name="claimreview-feed"),
    path(
        "claims/<slug:slug>/claimreview",
        interop.ClaimReviewView.as_view(),
        name="claim-claimreview",
    ),
    # No trailing slash: never a claim's own address (claims/<slug>/).
    path("claims/duplicates", ClaimDuplicatesView.as_view(), name="claim-duplicates"),
    path("claims/<slug:slug>/reviews/", ledger.ClaimReviewsView.as_view(), name="claim-reviews"),
    claim_action("publish"),
    claim_action("unpublish"),
    path(
        "claims/<slug:slug>/corrections",
        ledger.ClaimCorrectionsView.as_view(),
        name="claim-corrections",
    ),
    path(
        "claims/<slug:slug>/proposals/",
        sign_off.ClaimProposalsView.as_view(),
        name="claim-proposals",
    ),
    path("proposals/", sign_off.ProposalQueueView.as_view(), name="proposals"),
    path("proposals/<int:id>", sign_off.ProposalView.as_view(), name="proposal-detail"),
    path(
        "proposals/<int:id>/approve",
        sign_off.ProposalApproveView.as_view(),
        name="proposal-approve",
    ),
    path(
        "proposals/<int:id>/send-back",
        sign_off.ProposalSendBackView.as_view(),
        name="proposal-send-back",
    ),
    path(
        "proposals/<int:id>/withdraw",
        sign_off.ProposalWithdrawView.as_view(),
        name="proposal-withdraw",
    ),
    path("ledger/", transparency.LedgerView.as_view(), name="ledger"),
    path("ledger/checkpoint", transparency.CheckpointView.as_view(), name="ledger-checkpoint"),
    path("ledger/checkpoints", transparency.CheckpointLogView.as_view(), name="ledger-checkpoints"),
    path(
        "ledger/proofs/inclusion/<int:sequence>",
        transparency.InclusionProofView.as_view(),
        name="ledger-inclusion-proof",
    ),
    path(
        "ledger/proofs/consistency",
        transparency.ConsistencyProofView.as_view(),
        name="ledger-consistency-proof",
    ),
    path(
        "sources/<slug:slug>/candidates",
        candidates.SourceCandidatesView.as_view(),
        name="source-candidates",
    ),
    path("ratings", resources.RatingScaleView.as_view(), name="ratings"),
    path("export", ledger.ExportView.as_view(), name="export"),
    path("", include(router.urls)),
]
