"""Wrong API tokens are throttled per client address (claims.api.authentication).

TOKEN_FAILURE_LIMIT wrong tokens from one address within TOKEN_FAILURE_WINDOW
seconds, and every request from it that carries a token is answered 429 in
the API's error shape, with Retry-After, until the window ends; right tokens
never count, requests without a token never stop, other addresses are not
affected. (tests/api/conftest.py clears the cache before each test.)
"""

from __future__ import annotations

import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RATINGS = "/api/v1/ratings"
LIMIT = 10  # TOKEN_FAILURE_LIMIT's default


def _client(address: str = "203.0.113.7", token: str = "") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _guess(n: int) -> str:
    return f"{n:040x}"


def test_after_the_limit_of_wrong_tokens_the_address_gets_429(editor):
    guesser = _client()
    statuses = [
        guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {_guess(n)}").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [401] * LIMIT

    refused = guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {_guess(LIMIT)}")
    assert refused.status_code == 429
    assert 590 <= int(refused["Retry-After"]) <= 600
    error = refused.json()["error"]
    assert error["status"] == 429
    assert error["code"] == "throttled"
    assert error["message"].startswith("Too many requests with a wrong token from your address.")
    assert error["fields"] == {}

    # A right token from that address is refused too until the window ends: a
    # right guess must not be told from a wrong one.
    right = Token.objects.create(user=editor).key
    assert guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {right}").status_code == 429
    # Writes as well, and nothing is written.
    write = guesser.post(
        "/api/v1/topics/",
        {"slug": "ports", "name": "Ports"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {right}",
    )
    assert write.status_code == 429


def test_requests_without_a_token_and_other_addresses_go_on(editor):
    guesser = _client()
    for n in range(LIMIT + 1):
        guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {_guess(n)}")
    assert guesser.get(RATINGS, HTTP_AUTHORIZATION="Token x").status_code == 429

    assert _client().get(RATINGS).status_code == 200  # the same address, anonymously
    right = Token.objects.create(user=editor).key
    elsewhere = _client("198.51.100.2", right).get("/api/v1/claims/")
    assert elsewhere.status_code == 200


def test_right_tokens_never_count(editor):
    client = _client(token=Token.objects.create(user=editor).key)
    assert {client.get(RATINGS).status_code for _ in range(3 * LIMIT)} == {200}


def test_malformed_token_headers_count_as_failures():
    guesser = _client()
    for header in ["Token", "Token a b", *[f"Token {_guess(n)}" for n in range(LIMIT - 2)]]:
        assert guesser.get(RATINGS, HTTP_AUTHORIZATION=header).status_code == 401
    assert guesser.get(RATINGS, HTTP_AUTHORIZATION="Token y").status_code == 429


def test_the_window_ends(settings, editor):
    settings.TOKEN_FAILURE_WINDOW = 1
    guesser = _client()
    for n in range(LIMIT):
        guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {_guess(n)}")
    assert guesser.get(RATINGS, HTTP_AUTHORIZATION="Token x").status_code == 429

    time.sleep(1.1)
    right = Token.objects.create(user=editor).key
    assert guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {right}").status_code == 200


def test_behind_a_proxy_each_client_counts_alone(settings, editor):
    settings.PROXY_COUNT = 1
    proxy = _client("127.0.0.1")
    for n in range(LIMIT):
        proxy.get(
            RATINGS,
            HTTP_AUTHORIZATION=f"Token {_guess(n)}",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.7",
        )
    locked = proxy.get(
        RATINGS, HTTP_AUTHORIZATION="Token x", HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.7"
    )
    assert locked.status_code == 429
    right = Token.objects.create(user=editor).key
    other = proxy.get(
        RATINGS, HTTP_AUTHORIZATION=f"Token {right}", HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert other.status_code == 200


def test_a_limit_of_zero_turns_it_off(settings):
    settings.TOKEN_FAILURE_LIMIT = 0
    guesser = _client()
    statuses = {
        guesser.get(RATINGS, HTTP_AUTHORIZATION=f"Token {_guess(n)}").status_code
        for n in range(LIMIT + 5)
    }
    assert statuses == {401}


def test_a_token_authenticates_its_user_as_stored_and_an_inactive_one_is_refused(editor):
    token = Token.objects.create(user=editor)
    me = _client(token=token.key).get("/api/v1/claims/?page_size=1")
    assert me.status_code == 200
    assert "private" in me["Cache-Control"]  # read as the editor, not anonymously

    editor.is_active = False
    editor.save()
    refused = _client(token=token.key).get(RATINGS)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "User inactive or deleted."
    wrong = _client(address="203.0.113.8", token=_guess(1)).get(RATINGS)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "Invalid token."
