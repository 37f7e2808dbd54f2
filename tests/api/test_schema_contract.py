"""What the OpenAPI schema promises generated clients, and what the server does
(issue 10, point 8): who must authenticate, which content types bodies and
answers have, no misleading examples or parameters."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from claims.ledger import checkpoints
from tests.factories import PublicationFactory

NDJSON = "application/x-ndjson"


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("schema") / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(target))
    return json.loads(target.read_text())


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


# The desk's own reads: proposed verdicts and a source's candidate claims, which only
# desk members may see.
DESK_READS = {
    "/api/v1/claims/duplicates",
    "/api/v1/claims/{slug}/proposals/",
    "/api/v1/proposals/",
    "/api/v1/proposals/{id}",
    "/api/v1/sources/{slug}/candidates",
}


def test_public_reads_declare_no_authentication_and_writes_keep_theirs(schema):
    for path, method, operation in operations(schema):
        security = operation.get("security", [])
        where = f"{method.upper()} {path}"
        if method == "get" and path not in DESK_READS:
            # Anyone may call it; a token or a session is optional (desk members see more).
            assert {} in security, where
        else:
            assert {} not in security, where
            assert {"tokenAuth": []} in security and {"cookieAuth": []} in security, where


def test_request_bodies_are_json_and_nothing_else(schema):
    bodies = [
        (f"{method.upper()} {path}", operation["requestBody"]["content"])
        for path, method, operation in operations(schema)
        if "requestBody" in operation
    ]
    assert bodies
    for where, content in bodies:
        # One content type per body: a generated client sends JSON, never multipart.
        assert set(content) == {"application/json"}, where


def _examples(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                yield where, value
            elif key == "examples":
                for name, example in value.items():
                    yield f"{where}/examples/{name}", example.get("value")
            else:
                yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{where}[{index}]")


def test_no_example_is_an_array_of_arrays_or_names_another_api(schema):
    for where, example in _examples(schema):
        assert not (isinstance(example, list) and any(isinstance(i, list) for i in example)), where
        assert "api.example.org" not in json.dumps(example), where
    for path in ("/api/v1/claims/{slug}/reviews/", "/api/v1/ratings"):
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["type"] == "array"
        assert "$ref" in answer["schema"]["items"], path  # an array of objects
        assert "example" not in answer and "examples" not in answer, path


def _query_parameters(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_the_export_and_the_checkpoint_declare_only_what_they_send(schema):
    export = schema["paths"]["/api/v1/export"]["get"]
    assert _query_parameters(export) == {"full"}  # no `format`
    assert set(export["responses"]["200"]["content"]) == {NDJSON}
    checkpoint = schema["paths"]["/api/v1/ledger/checkpoint"]["get"]
    assert _query_parameters(checkpoint) == set()
    assert set(checkpoint["responses"]["200"]["content"]) == {"text/plain"}
    for operation in (export, checkpoint):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert set(response["content"]) == {"application/json"}, status
    format_parameters = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if "format" in _query_parameters(operation)
    ]
    # Only the ClaimReview endpoints offer a choice (JSON-LD or JSON), and honour it.
    assert sorted(format_parameters) == [
        "GET /api/v1/claimreview",
        "GET /api/v1/claims/{slug}/claimreview",
    ]


@pytest.mark.django_db
def test_the_export_is_json_lines_whatever_the_client_asks_for(api_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    for query, accept in (("", "*/*"), ("?format=json", "*/*"), ("", "application/json")):
        response = api_client.get(f"/api/v1/export{query}", HTTP_ACCEPT=accept)
        assert response.status_code == 200, (query, accept)
        assert response["Content-Type"] == NDJSON
        lines = b"".join(response.streaming_content).splitlines()
        assert [json.loads(line)["sequence"] for line in lines] == [1]
    refused = api_client.get("/api/v1/export?full=maybe", HTTP_ACCEPT=NDJSON)
    assert refused.status_code == 400 and refused["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_the_checkpoint_is_the_signed_note_whatever_the_client_asks_for(api_client, claim, editor):
    assert api_client.get("/api/v1/ledger/checkpoint").json()["error"]["status"] == 404
    PublicationFactory(claim=claim, editor=editor)
    note = checkpoints.sign_latest().note
    for query, accept in (("", "*/*"), ("?format=json", "*/*"), ("", "application/json")):
        response = api_client.get(f"/api/v1/ledger/checkpoint{query}", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode() == note  # never a JSON string


def test_claims_search_declares_google_errors(schema):
    search = schema["paths"]["/api/v1/claims:search"]["get"]
    error = schema["components"]["schemas"]["GoogleError"]
    status = schema["components"]["schemas"]["GoogleErrorStatus"]
    for code in ("400", "401", "429"):
        content = search["responses"][code]["content"]
        assert content == {
            "application/json": {"schema": {"$ref": "#/components/schemas/GoogleError"}}
        }
    assert set(error["properties"]) == {"error"}
    assert status["properties"]["code"]["type"] == "integer"
    assert {"code", "message", "status"} <= set(status["required"])
    (enum,) = status["properties"]["status"]["allOf"]
    statuses = schema["components"]["schemas"][enum["$ref"].split("/")[-1]]
    assert {"INVALID_ARGUMENT", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED", "NOT_FOUND"} <= set(
        statuses["enum"]
    )
    # Every other operation keeps the project's own error shape.
    others = [
        response["content"]["application/json"]["schema"]
        for path, method, operation in operations(schema)
        if path != "/api/v1/claims:search"
        for code, response in operation["responses"].items()
        if code.startswith("4") and "content" in response
    ]
    assert others and all(s == {"$ref": "#/components/schemas/Error"} for s in others)


def test_strict_query_parameters_are_declared(schema):
    claims = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/claims/"]["get"]["parameters"]
    }
    assert claims["page_size"]["minimum"] == 1
    assert claims["cursor"]["minLength"] == 1
    assert claims["q"]["minLength"] == 1
    for slug in ("speaker", "topic", "source"):
        assert claims[slug]["pattern"] == "^[-a-zA-Z0-9_]+$", slug
