"""The OpenAPI schema, its docs, the common error format and throttling."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.throttling import SimpleRateThrottle


def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in [
        "/api/v1/claims/",
        "/api/v1/claims/{slug}/",
        "/api/v1/claims/{slug}/reviews/",
        "/api/v1/claims/{slug}/claimreview",
        "/api/v1/claimreview",
        "/api/v1/claims:search",
        "/api/v1/export",
        "/api/v1/ratings",
    ]:
        assert path in paths, path
    # Every operation documents its errors, in the one error format.
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert any(code.startswith("4") for code in codes), f"{method.upper()} {path}"
    assert "Error" in schema["components"]["schemas"]


@pytest.mark.django_db
def test_the_docs_are_served_without_any_cdn(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_the_api_guide_is_served_with_the_docs_and_linked_from_them(client):
    page = client.get("/api/guide/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>The API guide" in html
    # Rendered as the ledger's format is: headings with anchors, tables, code.
    assert '<h2 id="6-versions-etags-and-if-match">' in html
    assert "<table>" in html and "<pre><code" in html
    assert "<script" not in html.split('<article class="ledger-format">')[1]
    assert client.get("/api/guide/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    # The schema's description, which Swagger UI and Redoc show, links to it.
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "(/api/guide/)" in schema["info"]["description"]


@pytest.mark.django_db
def test_every_4xx_has_the_same_shape(api_client):
    missing = api_client.get("/api/v1/claims/no-such-claim/")
    assert missing.status_code == 404
    body = missing.json()["error"]
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert body["message"]
    assert body["fields"] == {}

    refused = api_client.post("/api/v1/speakers/", {"name": "X"}, format="json")
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == 401


@pytest.mark.django_db
def test_anonymous_clients_are_throttled_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": None})

    statuses = [api_client.get("/api/v1/ratings").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = api_client.get("/api/v1/ratings")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_authenticated_clients_have_their_own_budget(editor_client, api_client, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/minute", "user": "5/minute"}
    )
    assert api_client.get("/api/v1/ratings").status_code == 200
    assert api_client.get("/api/v1/ratings").status_code == 429
    assert [editor_client.get("/api/v1/ratings").status_code for _ in range(5)] == [200] * 5
    assert editor_client.get("/api/v1/ratings").status_code == 429
