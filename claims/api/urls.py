"""/api/v1/: the router and the endpoints that are not plain collections."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from claims.api import interop, ledger, resources, transparency

router = DefaultRouter()
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
    path("claims/<slug:slug>/reviews/", ledger.ClaimReviewsView.as_view(), name="claim-reviews"),
    path(
        "claims/<slug:slug>/publish",
        ledger.PublicationView.as_view(action="publish"),
        name="claim-publish",
    ),
    path(
        "claims/<slug:slug>/unpublish",
        ledger.PublicationView.as_view(action="unpublish"),
        name="claim-unpublish",
    ),
    path(
        "claims/<slug:slug>/corrections",
        ledger.ClaimCorrectionsView.as_view(),
        name="claim-corrections",
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
    path("ratings", resources.RatingScaleView.as_view(), name="ratings"),
    path("export", ledger.ExportView.as_view(), name="export"),
    path("", include(router.urls)),
]
