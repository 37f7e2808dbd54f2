"""A write and the answer that reports it stand or fall together
(factcheck.middleware.AtomicWritesMiddleware)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from claims.api.serializers import ClaimDetailSerializer
from claims.models import Claim, Speaker


@csrf_exempt
def _write_then_refuse(request):
    Speaker.objects.create(name="Written before the refusal", slug="written-then-refused")
    return JsonResponse({"error": "refused after writing"}, status=400)


@csrf_exempt
def _write_then_accept(request):
    Speaker.objects.create(name="Kept", slug="kept")
    return HttpResponse(status=204)


urlpatterns = [
    path("write-then-refuse/", _write_then_refuse),
    path("write-then-accept/", _write_then_accept),
    path("", include("factcheck.urls")),
]

CLAIM_BODY = {
    "slug": "port-handled-12-million-tonnes",
    "statement": "The port handled 12 million tonnes last year.",
    "speaker": "ada-example",
    "kind": "numeric",
    "quantity": "12000000",
    "unit": "t",
}


def test_it_rolls_back_a_claim_whose_answer_fails_to_render(
    contributor_client, speaker, monkeypatch
):
    def broken(self, instance):
        raise RuntimeError("the answer cannot be built")

    monkeypatch.setattr(ClaimDetailSerializer, "to_representation", broken)
    contributor_client.raise_request_exception = False

    response = contributor_client.post("/api/v1/claims/", CLAIM_BODY, format="json")

    assert response.status_code == 500
    assert not Claim.objects.filter(slug=CLAIM_BODY["slug"]).exists()


def test_it_sends_location_as_a_plain_str(contributor_client, speaker):
    """WSGI servers refuse a str subclass (DRF's Hyperlink) in a header."""
    response = contributor_client.post("/api/v1/claims/", CLAIM_BODY, format="json")

    assert response.status_code == 201
    location = response.headers["Location"]
    assert type(location) is str
    assert location.endswith(f"/api/v1/claims/{CLAIM_BODY['slug']}/")


@pytest.mark.urls(__name__)
def test_it_undoes_what_a_view_wrote_before_refusing(db):
    response = Client().post("/write-then-refuse/")

    assert response.status_code == 400
    assert not Speaker.objects.filter(slug="written-then-refused").exists()


@pytest.mark.urls(__name__)
def test_it_keeps_what_an_accepted_write_wrote(db):
    response = Client().post("/write-then-accept/")

    assert response.status_code == 204
    assert Speaker.objects.filter(slug="kept").exists()
