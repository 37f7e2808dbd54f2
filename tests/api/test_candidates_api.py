"""GET /api/v1/sources/<slug>/candidates: a source's candidate claims, ranked, with the
features that scored them; desk members only, read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims import candidates
from claims.models import CandidateSentence
from tests.api.conftest import _token_client
from tests.claims.test_candidates import TEXT
from tests.factories import ClaimFactory, SourceFactory, SpeakerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(db):
    SpeakerFactory(name="Pam Bondi", slug="pam-bondi", aliases=["Bondi"])
    source = SourceFactory(slug="port-article", snapshot=TEXT)
    candidates.refresh_for(source)
    return source


def _url(slug: str = "port-article") -> str:
    return f"/api/v1/sources/{slug}/candidates"


def test_a_desk_member_reads_the_candidates_ranked_with_their_features(editor_client, source):
    response = editor_client.get(_url())

    assert response.status_code == 200
    body = response.json()
    assert [c["text"][:10] for c in body] == [
        "Bondi said",
        "The strike",
        "The navy d",
        "It remains",
    ]
    scores = [Decimal(c["score"]) for c in body]
    assert scores == sorted(scores, reverse=True)
    first = body[0]
    assert TEXT[first["start"] : first["end"]] == first["text"]
    assert first["status"] == "new" and first["claim"] is None
    quantity = next(f for f in first["features"] if f["feature"] == "quantity")
    assert quantity["label"] == "states numbers with units, money or counts"
    assert quantity["weight"] == 0.3
    assert "30 tons" in quantity["evidence"]
    assert "private" in response["Cache-Control"]


def test_a_contributor_reads_them_too(contributor_client, source):
    assert contributor_client.get(_url()).status_code == 200


def test_drafted_and_dismissed_candidates_are_asked_for_by_status(editor_client, editor, source):
    first, second = CandidateSentence.objects.filter(source=source)[:2]
    claim = ClaimFactory(slug="dea-seized-30-tons")
    candidates.mark_drafted(first, claim)
    candidates.dismiss(second, user=editor)

    new = editor_client.get(_url()).json()
    drafted = editor_client.get(_url(), {"status": "drafted"}).json()
    every = editor_client.get(_url(), {"status": "all"}).json()

    assert {c["id"] for c in new} == set(
        CandidateSentence.objects.filter(status="new").values_list("id", flat=True)
    )
    assert [(c["id"], c["claim"]) for c in drafted] == [(first.pk, "dea-seized-30-tons")]
    assert [c["id"] for c in editor_client.get(_url(), {"status": "dismissed"}).json()] == [
        second.pk
    ]
    assert len(every) == 4 and every[0]["id"] == first.pk


@pytest.mark.parametrize("status", ["old", "", " "])
def test_a_status_that_is_none_of_them_is_a_400(editor_client, source, status):
    response = editor_client.get(_url(), {"status": status})

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_readers_must_authenticate_and_non_members_are_refused(api_client, source):
    assert api_client.get(_url()).status_code == 401
    reader = _token_client(UserFactory(username="reader"))
    assert reader.get(_url()).status_code == 403


def test_an_unknown_source_is_a_404(editor_client, source):
    response = editor_client.get(_url("no-such-source"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_is_read_only(editor_client, source):
    assert editor_client.post(_url(), {}, format="json").status_code == 405
    assert CandidateSentence.objects.filter(source=source).count() == 4


def test_its_queries_do_not_grow_with_the_candidates(
    editor_client, source, django_assert_num_queries
):
    editor_client.get(_url())
    # The token and its user, the source, the candidates with their drafted claims.
    with django_assert_num_queries(3):
        few = editor_client.get(_url(), {"status": "all"}).json()
    for candidate in CandidateSentence.objects.filter(source=source)[:2]:
        candidates.mark_drafted(candidate, ClaimFactory())
    longer = SourceFactory(slug="long-article", snapshot=" ".join([TEXT] * 5))
    candidates.refresh_for(longer)
    with django_assert_num_queries(3):
        many = editor_client.get(_url("long-article"), {"status": "all"}).json()
    assert len(few) == 4 and len(many) == 20


def test_the_schema_documents_it(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/sources/{slug}/candidates"]["get"]

    assert operation["operationId"] == "sources_candidates_list"
    assert {p["name"] for p in operation["parameters"]} == {"slug", "status"}
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
    assert {} not in operation.get("security", [])  # no anonymous reads
    item = schema["components"]["schemas"]["Candidate"]
    assert set(item["properties"]) == {
        "id",
        "start",
        "end",
        "text",
        "score",
        "status",
        "features",
        "claim",
    }
