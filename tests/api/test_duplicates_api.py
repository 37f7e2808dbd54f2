"""Likely duplicates through the API: a new claim's POST answers 409 with them unless
`confirm_new`, and desk members may ask first (claims.api.duplicates)."""

from __future__ import annotations

from django.urls import reverse

from claims import duplicates
from claims.models import Claim

BOUNTY = "us-50-million-bounty-on-maduro"


def _claim(statement: str, **extra) -> dict:
    return {
        "slug": "washington-bounty",
        "statement": statement,
        "speaker": "us-government",
        "kind": "numeric",
        "quantity": "50000000",
        "unit": "USD",
        **extra,
    }


def test_a_near_duplicate_posted_is_refused_with_its_duplicates(seeded, contributor_client):
    count = Claim.objects.count()

    response = contributor_client.post(
        reverse("api:claim-list"),
        _claim("Washington put a $50 million bounty on Maduro"),
        format="json",
    )

    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "possible_duplicates"
    assert "confirm_new" in error["message"]
    first = error["duplicates"][0]
    assert first["slug"] == BOUNTY
    assert first["statement"] == Claim.objects.get(slug=BOUNTY).statement
    assert first["score"] >= duplicates.THRESHOLD
    assert first["matched"] == "words"
    assert first["api_url"].endswith(reverse("api:claim-detail", args=[BOUNTY]))
    assert Claim.objects.count() == count


def test_confirm_new_creates_it_anyway(seeded, contributor_client):
    response = contributor_client.post(
        reverse("api:claim-list"),
        _claim("Washington put a $50 million bounty on Maduro", confirm_new=True),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert "confirm_new" not in response.json()
    assert Claim.objects.get(slug="washington-bounty").statement.startswith("Washington")


def test_a_different_figure_is_created_at_once(seeded, contributor_client):
    response = contributor_client.post(
        reverse("api:claim-list"),
        _claim(
            "The US offers $25 million for the arrest of Venezuelan President Nicolás Maduro.",
            quantity="25000000",
            short_form="US offers $25 million for Maduro's arrest",
        ),
        format="json",
    )

    assert response.status_code == 201, response.content


def test_the_desk_asks_before_posting(seeded, contributor_client, api_client):
    address = reverse("api:claim-duplicates")
    asked = {"statement": "The US offers $25 million for the arrest of Nicolás Maduro."}

    response = contributor_client.get(address, asked)

    assert response.status_code == 200
    assert response.json()["duplicates"] == []
    assert [m["slug"] for m in response.json()["other_figures"]] == [BOUNTY]
    found = contributor_client.get(
        address, {"statement": "Washington put a $50 million bounty on Maduro"}
    )
    assert [m["slug"] for m in found.json()["duplicates"]][:1] == [BOUNTY]
    assert api_client.get(address, asked).status_code == 401
    missing = contributor_client.get(address)
    assert missing.status_code == 400 and "statement" in missing.json()["error"]["fields"]


def test_the_schema_declares_the_409_and_confirm_new(db, api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/claims/"]["post"]
    assert "409" in create["responses"]
    body = schema["components"]["schemas"]["ClaimWriteRequest"]["properties"]
    assert body["confirm_new"]["type"] == "boolean"
    assert "/api/v1/claims/duplicates" in schema["paths"]
