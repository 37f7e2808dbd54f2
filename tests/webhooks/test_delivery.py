"""Deliveries POSTed to a real receiver on 127.0.0.1: delivered, signed, retried."""

from __future__ import annotations

import io
import json
import random
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from claims.management.commands.deliver_webhooks import Command as DeliverWebhooks
from claims.webhooks import sending, signing, worker
from claims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.factories import ClaimFactory, VerdictFactory
from tests.webhooks.conftest import Reply, subscriber_accepts, unreachable_url


def _a_verdict(editor):
    claim = ClaimFactory(published=True)
    return VerdictFactory(claim=claim, editor=editor, status="false")


def test_a_verdict_is_delivered_signed_as_a_subscriber_verifies_it(subscription, editor, receiver):
    entry = _a_verdict(editor)

    created, sent = worker.run_once()

    assert created == 1
    assert [item.ok for item in sent] == [True]
    (request,) = receiver.received
    assert request.path == "/hooks/factcheck"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == f"msg_{subscription.pk}_{entry.pk}"
    assert subscriber_accepts(subscription.secret, request)
    body = json.loads(request.body)
    assert body["type"] == "verdict.recorded"
    assert body["data"]["entry"]["hash"] == entry.entry_hash
    # What a subscriber must refuse: another body, another secret, an old timestamp.
    tampered = type(request)(request.path, request.headers, request.body.replace(b"false", b"true"))
    assert not subscriber_accepts(subscription.secret, tampered)
    assert not subscriber_accepts(WebhookSubscription(url="http://x").secret, request)
    stale = dict(
        request.headers, **{"webhook-timestamp": str(int(timezone.now().timestamp()) - 3600)}
    )
    assert not subscriber_accepts(
        subscription.secret, type(request)(request.path, stale, request.body)
    )

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is not None
    (attempt,) = delivery.tries.all()
    assert (attempt.number, attempt.status_code, attempt.response_excerpt, attempt.error) == (
        1,
        200,
        "ok",
        "",
    )
    assert attempt.duration_ms < 3000


def test_a_500_is_retried_after_a_backoff_with_the_same_id_and_a_fresh_signature(
    subscription, editor, receiver
):
    receiver.then(Reply(500, b"database is down"), Reply(204, b""))
    _a_verdict(editor)

    before = timezone.now()
    worker.run_once()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    # Base 30 s, the first retry: between half of it and all of it.
    assert before + timedelta(seconds=15) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=30)

    assert worker.send_due() == []  # not due yet
    assert len(receiver.received) == 1

    sent = worker.send_due(now=delivery.next_attempt_at)

    assert [item.ok for item in sent] == [True]
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert subscriber_accepts(subscription.secret, first)
    assert subscriber_accepts(subscription.secret, second)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
    log = list(delivery.tries.values_list("number", "status_code", "response_excerpt", "error"))
    assert log == [(1, 500, "database is down", "HTTP 500"), (2, 204, "", "")]


def test_it_gives_up_after_the_last_attempt_and_retry_now_gives_one_more(
    subscription, editor, receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.then(*[Reply(503, b"busy")] * 3)
    _a_verdict(editor)
    worker.run_once()
    delivery = WebhookDelivery.objects.get()
    worker.send_due(now=delivery.next_attempt_at + timedelta(hours=2))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert worker.send_due(now=timezone.now() + timedelta(days=30)) == []

    assert worker.retry_now(WebhookDelivery.objects.all()) == 1
    worker.send_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.received) == 3


def test_a_redirect_is_not_followed(subscription, editor, receiver):
    receiver.then(Reply(302, b"", {"Location": "/elsewhere"}))
    _a_verdict(editor)

    worker.run_once()

    assert [request.path for request in receiver.received] == ["/hooks/factcheck"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302
    assert "redirect to '/elsewhere' not followed" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    subscription, editor, receiver, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.then(Reply(200, b"late", delay=5))
    _a_verdict(editor)

    worker.run_once()

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert "timed out" in attempt.error
    assert 250 <= attempt.duration_ms < 3000
    assert WebhookDelivery.objects.get().status == "pending"


def test_an_unreachable_subscriber_is_a_failed_attempt(db, editor):
    WebhookSubscription.objects.create(url=unreachable_url())
    _a_verdict(editor)

    worker.run_once()

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()


def test_a_worker_that_dies_mid_send_loses_nothing(subscription, editor, receiver, monkeypatch):
    _a_verdict(editor)
    real_post = sending.post

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process stopped while the POST was on its way

    monkeypatch.setattr(sending, "post", killed)
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert not WebhookAttempt.objects.exists()

    monkeypatch.setattr(sending, "post", real_post)
    assert [item.ok for item in worker.send_due()] == [True]
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_the_running_worker_delivers_what_is_recorded_while_it_runs(receiver, editor):
    WebhookSubscription.objects.create(url=receiver.url)
    command = DeliverWebhooks(stdout=io.StringIO())
    rounds = []
    real_round = command._round

    def round_then_record(limit):
        busy = real_round(limit)
        rounds.append(busy)
        if len(rounds) == 2:  # the worker is idle and waiting: a verdict is recorded
            _a_verdict(editor)
        return busy

    command._round = round_then_record

    command.serve(receiver.answered, wait=0.05, limit=100)  # until the receiver answers

    assert len(rounds) >= 3
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == "delivered"
    assert "1 new deliveries; 1 sent, 1 delivered" in command.stdout.getvalue()


def test_the_worker_command_delivers_once_and_exits(subscription, editor, receiver):
    _a_verdict(editor)

    call_command("deliver_webhooks", "--once")

    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == "delivered"


def test_only_http_and_https_addresses_are_posted_to():
    outcome = sending.post("file:///etc/passwd", b"{}", {}, timeout=1)
    assert outcome.status_code is None
    assert "not an http or https URL" in outcome.error


def test_signatures_match_the_standard_webhooks_test_vector():
    # The specification's published example, which its reference libraries verify.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bm9wZQ== {expected}",
    }
    signing.verify(secret, headers, body, now=1614265330 + 10)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers, body + b" ", now=1614265330)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers, body, now=1614265330 + 600)


def test_the_backoff_doubles_up_to_its_cap_with_jitter(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 100
    rng = random.Random(7)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)]:
        delays = {worker.backoff(attempts, rng=rng).total_seconds() for _ in range(20)}
        assert all(full / 2 <= delay <= full for delay in delays), (attempts, delays)
        assert len(delays) > 1  # jittered


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_take_the_same_delivery(receiver, editor):
    WebhookSubscription.objects.create(url=receiver.url)
    _a_verdict(editor)
    worker.scan()
    held, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.select_for_update().get()  # sending it, say
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        assert worker.send_due() == []  # skipped, not waited for
        assert receiver.received == []
    finally:
        release.set()
        thread.join()

    assert [item.ok for item in worker.send_due()] == [True]
    assert len(receiver.received) == 1


def test_the_docs_verification_code_accepts_a_delivery_and_refuses_a_forgery(
    subscription, editor, receiver
):
    """docs/webhooks.md's subscriber code, run as printed, on what the receiver got."""
    text = (Path(django_settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    code = next(
        block.split("\n", 1)[1]
        for block in text.split("```python")[1:]
        if "def verify(" in block.split("```")[0]
    ).split("```")[0]
    namespace: dict = {}
    exec(code, namespace)
    verify = namespace["verify"]
    _a_verdict(editor)
    worker.run_once()
    (request,) = receiver.received

    assert verify(subscription.secret, request.headers, request.body)
    assert not verify(subscription.secret, request.headers, request.body + b" ")
    assert not verify(WebhookSubscription(url="http://x").secret, request.headers, request.body)
