"""The shared page cache (claims.page_cache): anonymous pages and API reads kept in the
"pages" cache, answered without a query, and dropped exactly when a ledger write
changes what they show; in each process's memory, and in Redis when one answers at
127.0.0.1:6379 (skipped otherwise). And the API's throttles, counted atomically
(claims.api.throttles)."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import caches

from claims import cdn, page_cache
from claims.api.throttles import count_request
from claims.models import Claim
from claims.services import record_review, unpublish_claim
from tests.api.conftest import _token_client
from tests.factories import ClaimFactory, SpeakerFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIS = "redis://127.0.0.1:6379/0"
PREFIX = f"test-pagecache-{os.getpid()}"


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _flush_prefix() -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    for name in client.scan_iter(match=f"{PREFIX}:*"):
        client.delete(name)


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    """The page cache on, in local memory or in Redis (under this run's own key
    prefix, flushed before and after: nothing else in that Redis is touched)."""
    if request.param == "redis":
        if not _redis_answers():
            pytest.skip("no Redis server answers at 127.0.0.1:6379")
        redis_cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": PREFIX,
        }
        settings.CACHES = {"default": redis_cache, "pages": redis_cache}
        _flush_prefix()
    else:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "pages": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "test-pages",
            },
        }
        caches["pages"].clear()
        caches["default"].clear()
    settings.PAGE_CACHE_SECONDS = 300
    yield request.param
    if request.param == "redis":
        _flush_prefix()
    else:
        caches["pages"].clear()
        caches["default"].clear()


@pytest.fixture
def published(editor):
    """A published, rated claim, and an unrelated published, rated one."""
    claim = ClaimFactory(
        slug="port-claim",
        statement="The port handled 12 million tonnes last year.",
        speaker=SpeakerFactory(slug="ada"),
        published=True,
        verdict="false",
        editor=editor,
    )
    other = ClaimFactory(
        slug="school-claim",
        statement="Every school in the valley got a new roof this spring.",
        speaker=SpeakerFactory(slug="bo"),
        published=True,
        verdict="true",
        editor=editor,
    )
    return {"claim": claim, "other": other}


def _verdict(claim: Claim, editor, status: str, explanation: str) -> None:
    record_review(
        claim=claim,
        editor=editor,
        status=status,
        explanation=explanation,
        expected_version=Claim.objects.get(pk=claim.pk).version,
    )


def _page(claim: Claim) -> str:
    return f"/claims/{claim.slug}/"


def _api(claim: Claim) -> str:
    return f"/api/v1/claims/{claim.slug}/"


# --- Hits ---------------------------------------------------------------------------------


def test_a_second_anonymous_get_is_a_hit_without_a_query(
    client, published, backend, django_assert_num_queries
):
    claim = published["claim"]
    for url in (_page(claim), _api(claim), "/claims/"):
        first = client.get(url)
        assert first.status_code == 200 and first["X-Cache"] == "miss"

        with django_assert_num_queries(0):
            again = client.get(url)

        assert again.status_code == 200 and again["X-Cache"] == "hit"
        assert again.content == first.content
        # Still the CDN's: its directives and keys, given afresh (claims.cdn).
        assert again["Cache-Control"] == first["Cache-Control"]
        assert "s-maxage=" in again["Cache-Control"]
        assert again["Surrogate-Key"] == first["Surrogate-Key"]
        assert again["ETag"] == first["ETag"]


def test_the_key_is_the_path_its_query_the_host_and_the_accept_class(client, published, backend):
    claim = published["claim"]
    assert client.get(_api(claim))["X-Cache"] == "miss"
    assert client.get(_api(claim), HTTP_ACCEPT="*/*")["X-Cache"] == "hit"
    assert client.get(_api(claim), HTTP_ACCEPT="application/json")["X-Cache"] == "miss"
    assert client.get(_api(claim), HTTP_ACCEPT="application/json")["X-Cache"] == "hit"
    indented = client.get(_api(claim), HTTP_ACCEPT="application/json; indent=4")
    assert indented["X-Cache"] == "miss"
    assert client.get(_api(claim) + "?format=json")["X-Cache"] == "miss"
    assert client.get(_api(claim), HTTP_HOST="testserver:8000")["X-Cache"] == "miss"
    # Two browsers' Accept: one class, one answer.
    chrome = client.get(_page(claim), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    firefox = client.get(_page(claim), HTTP_ACCEPT="text/html, */*;q=0.5")
    assert (chrome["X-Cache"], firefox["X-Cache"]) == ("miss", "hit")
    assert firefox.content == chrome.content


def test_an_answer_carrying_a_csrf_token_is_never_kept(client, published, backend):
    """The browsable API's forms carry a CSRF token: the reader's own."""
    browsable = {"HTTP_ACCEPT": "text/html", "HTTP_COOKIE": "csrftoken=" + "a" * 32}
    url = _api(published["claim"])
    first = client.get(url, **browsable)
    assert first["Content-Type"].startswith("text/html") and first["X-Cache"] == "miss"
    assert client.get(url, **browsable)["X-Cache"] == "miss"


def test_head_and_a_conditional_get_are_answered_from_a_gets_entry(
    client, published, backend, django_assert_num_queries
):
    url = _page(published["claim"])
    first = client.get(url)

    with django_assert_num_queries(0):
        head = client.head(url)
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert head.status_code == 200 and head["X-Cache"] == "hit" and head.content == b""
    assert not_modified.status_code == 304 and not_modified["X-Cache"] == "hit"
    assert "s-maxage=" in not_modified["Cache-Control"]


# --- What a ledger write drops -----------------------------------------------------------


def test_a_verdict_on_the_claim_drops_its_page_and_api_read(client, editor, published, backend):
    claim = published["claim"]
    for url in (_page(claim), _api(claim)):
        client.get(url)
        assert client.get(url)["X-Cache"] == "hit"

    _verdict(claim, editor, "true", "Revised: the harbour ledger says 12.1 million.")

    page, api = client.get(_page(claim)), client.get(_api(claim))
    assert page["X-Cache"] == "miss" and "the harbour ledger" in page.content.decode()
    assert api["X-Cache"] == "miss" and "the harbour ledger" in api.json()["explanation"]
    assert client.get(_page(claim))["X-Cache"] == "hit"


def test_a_verdict_on_another_claim_leaves_the_page_and_drops_the_lists(
    client, editor, published, backend
):
    claim, other = published["claim"], published["other"]
    page = client.get(_page(claim))
    assert f"claim-{other.pk}" not in page["Surrogate-Key"]
    client.get("/claims/")
    client.get("/api/v1/claims/")

    _verdict(other, editor, "false", "The roofs were patched, not replaced.")

    assert client.get(_page(claim))["X-Cache"] == "hit"
    assert client.get(_api(claim))["X-Cache"] == "miss"  # never asked for yet
    assert client.get("/claims/")["X-Cache"] == "miss"
    assert client.get("/api/v1/claims/")["X-Cache"] == "miss"


def test_a_withdrawal_is_never_answered_from_the_cache(client, editor, published, backend):
    claim = published["claim"]
    assert client.get(_page(claim)).status_code == 200
    assert client.get(_page(claim))["X-Cache"] == "hit"
    client.get(_api(claim))

    unpublish_claim(
        claim=claim,
        editor=editor,
        expected_version=Claim.objects.get(pk=claim.pk).version,
        explanation="Published by mistake.",
    )

    assert client.get(_page(claim)).status_code == 410
    assert client.get(_page(claim)).status_code == 410
    assert client.get(_api(claim)).status_code in (404, 410)


def test_a_write_landing_while_the_page_renders_never_leaves_it_kept(
    client, editor, published, backend, monkeypatch
):
    """The race: the view has read the claim, then a verdict commits (and bumps its
    keys) before the page is stored. The page built from the old read is not kept."""
    claim = published["claim"]
    real_tag = cdn.tag
    landed = []

    def tag_then_a_write_lands(request, keys):
        real_tag(request, keys)
        if not landed:
            landed.append(True)
            _verdict(claim, editor, "true", "Revised while the page was rendering.")

    monkeypatch.setattr(cdn, "tag", tag_then_a_write_lands)
    racing = client.get(_page(claim))
    monkeypatch.setattr(cdn, "tag", real_tag)

    assert landed and racing["X-Cache"] == "miss"
    assert "Revised while the page" not in racing.content.decode()  # built before it
    after = client.get(_page(claim))
    assert after["X-Cache"] == "miss" and "Revised while the page" in after.content.decode()
    assert client.get(_page(claim))["X-Cache"] == "hit"


def test_a_bump_of_any_key_while_rendering_means_not_kept(client, published, backend, monkeypatch):
    """The epoch: even a bump this page's keys were read after is seen."""
    claim = published["claim"]
    real_tag = cdn.tag

    def tag_then_bump(request, keys):
        real_tag(request, keys)
        page_cache.invalidate({"speaker-0"})

    monkeypatch.setattr(cdn, "tag", tag_then_bump)
    client.get(_page(claim))
    monkeypatch.setattr(cdn, "tag", real_tag)

    assert client.get(_page(claim))["X-Cache"] == "miss"
    assert client.get(_page(claim))["X-Cache"] == "hit"


def test_a_dropped_generation_never_revives_an_old_entry(client, editor, published, backend):
    claim = published["claim"]
    client.get(_page(claim))
    pages = caches["pages"]
    pages.delete(page_cache._generation(cdn.claim_key(claim.pk)))  # evicted

    assert client.get(_page(claim))["X-Cache"] == "miss"
    page_cache.invalidate({cdn.claim_key(claim.pk)})
    assert client.get(_page(claim))["X-Cache"] == "miss"
    assert client.get(_page(claim))["X-Cache"] == "hit"


# --- Who never gets a kept answer ----------------------------------------------------------


def test_editors_and_token_clients_never_get_a_kept_answer(
    client, client_for, editor, published, backend
):
    claim = published["claim"]
    signed_in, token_holder = client_for(editor), _token_client(editor)

    for _ in range(2):
        page = signed_in.get(_page(claim))
        api = token_holder.get(_api(claim))
        for response in (page, api):
            assert response.status_code == 200
            assert "X-Cache" not in response and "private" in response["Cache-Control"]
        # What they got is not kept for anyone either; and what anyone got is not theirs.
        assert client.get(_page(claim))["X-Cache"] == ("miss", "hit")[_]
        assert client.get(_api(claim))["X-Cache"] == ("miss", "hit")[_]


def test_nothing_is_kept_when_the_page_cache_is_off(client, published, backend, settings):
    settings.PAGE_CACHE_SECONDS = 0
    url = _page(published["claim"])
    client.get(url)
    assert "X-Cache" not in client.get(url)


def test_a_kept_api_read_counts_against_the_anonymous_rate(client, published, backend, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": None})
    url = _api(published["claim"])
    assert client.get(url)["X-Cache"] == "miss"
    assert client.get(url)["X-Cache"] == "hit"
    limited = client.get(url)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


# --- Throttling counters -------------------------------------------------------------------


def test_concurrent_requests_are_all_counted(backend):
    """Threads counting the same client at once: none is lost, each gets its own place."""
    cache = caches["default"]
    threads, per_thread = 8, 25
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def count():
        start.wait()
        for _ in range(per_thread):
            n, left = count_request(cache, "throttle:test:1.2.3.4", 60)
            assert 0 < left <= 60
            with lock:
                seen.append(n)

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(seen) == list(range(1, threads * per_thread + 1))
    assert cache.get("throttle:test:1.2.3.4") == threads * per_thread


def test_concurrent_api_requests_are_all_counted(published, backend, monkeypatch):
    """Through the API's own throttle, from threads: every request counted."""
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "10/minute", "user": None})
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def read():
        from django.db import connection

        start.wait()
        try:
            for _ in range(4):
                status = APIClient().get("/api/v1/ratings").status_code
                with lock:
                    statuses.append(status)
        finally:
            connection.close()

    workers = [threading.Thread(target=read) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(statuses) == [200] * 10 + [429] * 6
