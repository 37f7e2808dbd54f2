"""Bad input anywhere is a 400 or a 413 in the right format, never a 500 (factcheck.bad_input):
the API's JSON error under /api/, the site's error page elsewhere, and nothing written."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.contrib.admin.views.main import ChangeList
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import exceptions
from rest_framework.authtoken.models import Token

from claims.models import (
    Appearance,
    Claim,
    ProposalDecision,
    Quote,
    Review,
    Speaker,
    Topic,
    VerdictProposal,
)
from claims.sign_off import propose_verdict
from factcheck import bad_input
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    EditorFactory,
    TopicFactory,
    UserFactory,
)

CLAIM = "the-port-handled-12-million-tonnes"
SPEAKER = "ada-example"
SOURCE = "port-article"
TOPIC = "ports"

# Every write route of the API (claims/api/urls.py and its router), with its methods.
WRITE_ROUTES = [
    ("POST", "claim-list"),
    ("PUT", "claim-detail"),
    ("PATCH", "claim-detail"),
    ("POST", "claim-reviews"),
    ("POST", "claim-publish"),
    ("POST", "claim-unpublish"),
    ("POST", "claim-corrections"),
    ("POST", "claim-proposals"),
    ("POST", "proposal-approve"),
    ("POST", "proposal-send-back"),
    ("POST", "proposal-withdraw"),
    ("POST", "speaker-list"),
    ("PUT", "speaker-detail"),
    ("PATCH", "speaker-detail"),
    ("POST", "source-list"),
    ("PUT", "source-detail"),
    ("PATCH", "source-detail"),
    ("POST", "quote-list"),
    ("POST", "appearance-list"),
    ("DELETE", "appearance-detail"),
    ("POST", "topic-list"),
    ("PUT", "topic-detail"),
    ("PATCH", "topic-detail"),
]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
NUL_BODY = {
    key: f"a\x00{key}"
    for key in (
        "slug",
        "name",
        "title",
        "statement",
        "speaker",
        "source",
        "claim",
        "words",
        "status",
        "explanation",
        "snapshot",
        "note",
    )
}
BAD_BODIES = {
    "100,000 nested [": "[" * 100_000,
    "speaker 500 deep": '{"speaker": ' + "[" * 500 + f'"{SPEAKER}"' + "]" * 500 + "}",
    "over the upload limit": json.dumps({"statement": "a" * LIMIT}),
    "NUL in JSON strings": json.dumps(NUL_BODY),
}


def _api_write_routes() -> set[tuple[str, str]]:
    """(method, name) of every route under /api/ whose view writes."""
    found = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "api" and pattern.name:
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions is not None:
                    methods = {method.upper() for method in actions}
                else:
                    view = callback.view_class
                    methods = {m.upper() for m in view.http_method_names if hasattr(view, m)}
                found.update((method, pattern.name) for method in methods & WRITE_METHODS)

    walk(get_resolver().url_patterns)
    return found


def test_the_list_of_write_routes_is_every_write_route_of_the_api():
    assert set(WRITE_ROUTES) == _api_write_routes()
    assert len(WRITE_ROUTES) >= 16


@pytest.fixture
def desk(db, speaker, source):
    """One of everything the write routes write to: a published claim with a topic and an
    appearance, its speaker, the source, an editor (superuser) with a token."""
    topic = TopicFactory(slug=TOPIC, name="Ports")
    claim = ClaimFactory(slug=CLAIM, speaker=speaker, topics=[topic], published=True)
    AppearanceFactory(claim=claim, source=source)
    # A verdict another editor proposed, for the routes that decide one.
    propose_verdict(
        claim=claim,
        editor=EditorFactory(username="proposer"),
        status="false",
        explanation="The port's report gives 9.1 million tonnes.",
        expected_version=claim.version,
    )
    return EditorFactory(username="ed", is_superuser=True)


@pytest.fixture
def editor_client(desk):
    client = Client(raise_request_exception=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=desk).key}"
    return client


def _address(name: str) -> str:
    kwargs: dict[str, object] = {}
    if name.startswith("claim-") and name != "claim-list":
        kwargs = {"slug": CLAIM}
    elif name == "speaker-detail":
        kwargs = {"slug": SPEAKER}
    elif name == "source-detail":
        kwargs = {"slug": SOURCE}
    elif name == "topic-detail":
        kwargs = {"slug": TOPIC}
    elif name == "appearance-detail":
        kwargs = {"pk": Appearance.objects.order_by("pk").values_list("pk", flat=True).first()}
    elif name.startswith("proposal-"):
        kwargs = {"id": VerdictProposal.objects.values_list("pk", flat=True).get()}
    return reverse(f"api:{name}", kwargs=kwargs or None)


def _everything() -> tuple:
    """What a write would change: every row count, the ledger's tip, the newest change
    of each table that records one, the claims' versions and the topics."""
    return (
        [
            model.objects.count()
            for model in (
                Claim,
                Speaker,
                Source,
                Topic,
                Quote,
                Appearance,
                VerdictProposal,
                ProposalDecision,
            )
        ],
        Review.objects.aggregate(Max("sequence")),
        [model.objects.aggregate(Max("updated_at")) for model in (Claim, Speaker, Source)],
        sorted(Claim.objects.values_list("slug", "version", "published_at")),
        sorted(Topic.objects.values_list("slug", "name")),
    )


def _assert_api_error(response, statuses: set[int]) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["code"] and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def _send(client: Client, method: str, address: str, body: str):
    return getattr(client, method.lower())(address, body, content_type="application/json")


@pytest.mark.parametrize("body_name", list(BAD_BODIES))
@pytest.mark.parametrize(("method", "name"), WRITE_ROUTES)
def test_a_bad_body_on_any_write_route_is_refused_and_nothing_is_written(
    editor_client, method, name, body_name
):
    before = _everything()
    address = _address(name)

    response = _send(editor_client, method, address, BAD_BODIES[body_name])

    if method == "DELETE" and body_name != "over the upload limit":
        # A DELETE reads no body: whatever is in it cannot break anything, nor write.
        assert response.status_code in {204, 404}
        return
    expected = {413} if body_name == "over the upload limit" else {400}
    error = _assert_api_error(response, expected)
    if body_name == "NUL in JSON strings" and method != "DELETE":
        assert error["fields"] and all(
            message == ["Null characters are not allowed."] for message in error["fields"].values()
        )
    if "nested" in body_name or "deep" in body_name:
        assert "nested more than 32 deep" in error["message"]
    assert _everything() == before


@pytest.mark.parametrize(("method", "name"), WRITE_ROUTES)
def test_a_nul_in_the_query_string_of_any_write_route_is_refused(editor_client, method, name):
    before = _everything()

    response = _send(editor_client, method, _address(name) + "?q=%00&version=1", "{}")

    error = _assert_api_error(response, {400})
    assert error["fields"] == {"q": ["Null characters are not allowed."]}
    assert _everything() == before


def test_a_list_nested_just_under_the_limit_is_an_ordinary_400(editor_client):
    depth = bad_input.MAX_JSON_DEPTH - 1
    body = '{"speaker": ' + "[" * depth + f'"{SPEAKER}"' + "]" * depth + ', "topics": [[[["x"]]]]}'

    response = _send(editor_client, "POST", reverse("api:claim-list"), body)

    error = _assert_api_error(response, {400})
    assert error["code"] == "invalid"


def test_too_many_values_in_a_json_body_are_refused(editor_client):
    topics = [f"t{n}" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]

    response = _send(
        editor_client, "POST", reverse("api:claim-list"), json.dumps({"topics": topics})
    )

    error = _assert_api_error(response, {400})
    assert f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} values" in error["message"]


# --- Reads: the query string and the path, before any view ------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "/api/v1/claims/?q=%00",
        "/api/v1/claims/?speaker=a%00b",
        "/api/v1/speakers/?search=%00",
        "/api/v1/claims/?%00=1",
        "/api/v1/claims/a%00b/",
        "/api/v1/ledger/?after=%00",
    ],
)
def test_a_nul_anywhere_in_an_api_address_is_the_apis_400(db, address):
    response = Client().get(address)

    error = _assert_api_error(response, {400})
    assert error["code"] == "invalid"


@pytest.mark.parametrize(
    "address",
    [
        "/claims/?q=%00",
        "/claims/?q=a%00b&status=true",
        "/sources/?q=%00",
        "/speakers/%00/",
        "/claims/?%00=x",
        "/admin/claims/claim/?q=%00",
    ],
)
def test_a_nul_anywhere_in_a_page_address_is_the_sites_400_page(db, address):
    response = Client().get(address)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Bad request</h1>" in page
    assert "null character (%00)" in page
    assert "\x00" not in page


def test_the_nul_rule_is_checked_before_any_view_runs(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert Client().get("/claims/?q=%00").status_code == 400


def test_too_many_query_parameters_are_a_400(db):
    many = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    assert Client().get(f"/claims/?{many}").status_code == 400
    error = _assert_api_error(Client().get(f"/api/v1/claims/?{many}"), {400})
    assert error["code"] == "too_many_fields"


# --- Bodies over the limit: 413, up front or wherever Django finds them --------------------


def test_a_body_over_the_limit_is_a_413_before_anything_reads_it(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().post(
            "/api/v1/claims/", "x" * (LIMIT + 1), content_type="application/json"
        )

    error = _assert_api_error(response, {413})
    assert error["code"] == "too_large"
    assert f"{LIMIT:,} bytes" in error["message"]


def test_a_form_over_the_limit_is_the_sites_413_page(db):
    response = Client().post("/admin/login/", {"username": "x" * (LIMIT + 1)})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Request too large</h1>" in response.content.decode()


def test_a_multipart_body_over_the_limit_is_a_413_when_its_parser_finds_it(editor_client):
    """Multipart bodies are measured without their files, so only the parser can tell:
    Django's RequestDataTooBig reaches handler400, which answers 413 in the right format."""
    form = {"slug": "big", "name": "x" * (LIMIT + 1)}

    error = _assert_api_error(editor_client.post("/api/v1/speakers/", form), {413})
    assert error["code"] == "too_large"
    assert not Speaker.objects.filter(slug="big").exists()

    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    site = Client(raise_request_exception=False)
    site.force_login(superuser)
    page = site.post("/admin/claims/speaker/add/", form)
    assert page.status_code == 413
    assert "<h1>Request too large</h1>" in page.content.decode()


def test_a_host_not_allowed_gets_a_400_page_that_does_not_name_it(db):
    response = Client().get("/claims/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()
    with_nul = Client().get("/claims/?q=%00<script>", HTTP_HOST="evil.example")
    assert with_nul.status_code == 400
    assert "<script>" not in with_nul.content.decode()


# --- The parser itself ------------------------------------------------------------------


def _parse(body: str):
    return bad_input.JSONParser().parse(io.BytesIO(body.encode()), "application/json", {})


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("[" * 33 + "]" * 33, True),
        ("[" * 32 + "]" * 32, False),
        ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside a string are text
        ('{"a": "\\"[[[[", "b": [[1]]}', False),  # so are those after an escaped quote
        ('["\\\\", ' + "[" * 40 + "]" * 40 + "]", True),  # an escaped backslash ends no string
        ("{" * 40, True),
    ],
)
def test_the_depth_is_measured_outside_strings(text, deeper):
    assert bad_input.json_depth_exceeds(text, 32) is deeper


def test_the_parser_refuses_what_it_must_and_parses_the_rest():
    assert _parse('{"a": [1, {"b": "c"}], "d": null}') == {"a": [1, {"b": "c"}], "d": None}
    with pytest.raises(exceptions.ParseError, match="nested more than 32 deep"):
        _parse("[" * 100_000)
    with pytest.raises(exceptions.ParseError, match="JSON parse error"):
        _parse('{"a": ')
    with pytest.raises(exceptions.ValidationError) as caught:
        _parse('{"a": "ok", "b": {"c": ["x\\u0000"]}}')
    assert caught.value.detail == {"b": ["Null characters are not allowed."]}
    with pytest.raises(exceptions.ValidationError):
        _parse('{"a\\u0000": 1}')
    assert _parse('{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # a backslash, then u0000


def test_the_parser_applies_djangos_size_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(bad_input.ContentTooLarge):
        _parse('{"a": "0123456789"}')
    assert _parse('{"a": 1}') == {"a": 1}


# --- The admin's date hierarchy (Django ticket #37357) ------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "retrieved_at__year=99999999999",  # OverflowError in Django 6.1
        "retrieved_at__year=9999",  # the year after: ValueError outside Django's try
        "retrieved_at__year=2024&retrieved_at__month=99999999999",
        "retrieved_at__year=2024&retrieved_at__month=2&retrieved_at__day=30",
    ],
)
def test_a_date_hierarchy_out_of_range_is_a_bad_filter_not_a_500(db, source, query):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get(f"/admin/sources/source/?{query}")

    assert response.status_code == 302
    assert response["Location"] == "/admin/sources/source/?e=1"
    assert client.get("/admin/sources/source/?retrieved_at__year=2024").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=99999999999",
        "claim_date__year=99999999999",
        "claim_date__year=0",
        "claim_date__month=13",
        "published_at__day=99999999999",
        "claim_date__year__gte=99999999999",
    ],
)
def test_any_date_part_out_of_range_is_a_bad_filter_not_a_500(db, query):
    ClaimFactory()
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get(f"/admin/claims/claim/?{query}")

    assert response.status_code == 302
    assert response["Location"] == "/admin/claims/claim/?e=1"
    assert client.get("/admin/claims/claim/?claim_date__year=2024").status_code == 200


def test_the_date_hierarchy_fix_is_applied_once():
    patched = ChangeList.get_filters
    bad_input.refuse_out_of_range_admin_dates()

    assert ChangeList.get_filters is patched
    assert patched.refuses_out_of_range_dates
