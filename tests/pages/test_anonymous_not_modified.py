"""An anonymous conditional GET of an unchanged page or API claim is answered 304
before the middleware stack (factcheck.conditional.AnonymousNotModifiedMiddleware):
the same status and validators as the whole stack gives, from one query, and never
for anyone who may see more than the public, nor for a page that changed or is gone."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from claims.models import Claim
from factcheck.conditional import AnonymousNotModifiedMiddleware
from tests.factories import ClaimFactory

BOUNTY = "us-50-million-bounty-on-maduro"
URLS = [
    "/",
    "/claims/",
    f"/claims/{BOUNTY}/",
    "/topics/venezuela/",
    "/speakers/",
    f"/api/v1/claims/{BOUNTY}/",
]
# What the whole stack adds that a 304 needs not repeat: DRF's list of methods, and
# the length of an empty body.
NOT_REPEATED = {"allow", "content-length"}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _headers(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in NOT_REPEATED}


def _shortcut_answers(monkeypatch) -> list[str]:
    answered: list[str] = []
    real = AnonymousNotModifiedMiddleware.answer

    def spy(request):
        response = real(request)
        if response is not None:
            answered.append(request.path)
        return response

    monkeypatch.setattr(AnonymousNotModifiedMiddleware, "answer", staticmethod(spy))
    return answered


@pytest.mark.parametrize("url", URLS)
def test_the_shortcut_304_is_the_whole_stacks_304_from_one_query(
    client, seeded, url, monkeypatch, django_assert_num_queries
):
    first = client.get(url)
    assert first.status_code == 200
    answered = _shortcut_answers(monkeypatch)

    with django_assert_num_queries(1):
        early = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert early.status_code == 304
    assert answered == [url.split("?")[0]]

    # A session cookie (of nobody) sends the same request down the whole stack.
    client.cookies["sessionid"] = "nobody"
    whole = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert whole.status_code == 304
    assert answered == [url.split("?")[0]]
    assert _headers(early) == _headers(whole)


@pytest.mark.parametrize("url", ["/claims/", f"/api/v1/claims/{BOUNTY}/"])
def test_if_modified_since_and_head_take_the_shortcut_too(client, seeded, url, monkeypatch):
    first = client.get(url)
    answered = _shortcut_answers(monkeypatch)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.head(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert len(answered) == 2


@pytest.mark.parametrize("url", URLS)
def test_credentials_always_go_the_whole_way(client, seeded, editor, url, monkeypatch):
    client.force_login(editor)
    first = client.get(url)
    answered = _shortcut_answers(monkeypatch)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    client.logout()
    client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_AUTHORIZATION="Token nope")
    assert answered == []


def test_a_changed_page_gets_its_200(client, seeded, editor):
    first = client.get(f"/claims/{BOUNTY}/")
    speaker = Claim.objects.get(slug=BOUNTY).speaker
    speaker.name = "Someone Else"
    speaker.save()
    again = client.get(f"/claims/{BOUNTY}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert b"Someone Else" in again.content


def test_a_draft_claim_is_never_a_304_on_the_page_or_the_api(client, seeded, speaker):
    draft = ClaimFactory(speaker=speaker)
    assert client.get(f"/claims/{draft.slug}/", HTTP_IF_NONE_MATCH="*").status_code == 404
    api = client.get(f"/api/v1/claims/{draft.slug}/", HTTP_IF_NONE_MATCH=draft.etag)
    assert api.status_code == 404


def test_the_api_shortcut_counts_against_the_anonymous_rate(client, seeded, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    # DRF reads the rates into the class once; patched here, restored after.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    url = f"/api/v1/claims/{BOUNTY}/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 429


def test_a_failed_query_leaves_the_answer_to_the_whole_stack(client, seeded, monkeypatch):
    """The shortcut skips Django's per-request health check; if its query fails (a
    server restarted under a kept connection), the check runs and the whole stack
    answers as it would have."""
    from django.db import OperationalError, connection

    from claims import freshness

    first = client.get("/claims/")
    real = freshness.stamp_state
    failures = []

    def fails_once(*args, **kwargs):
        if not failures:
            failures.append(connection.health_check_done)
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(freshness, "stamp_state", fails_once)
    answered = _shortcut_answers(monkeypatch)
    connection.health_check_done = False
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    response = client.get("/claims/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 304
    # The shortcut had skipped the check, then gave up; the whole stack checked.
    assert failures == [True]
    assert answered == []
    assert checks == [1]
