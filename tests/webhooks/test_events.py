"""Which ledger entries become deliveries: the ledger is the outbox, read by the worker."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim, Review
from claims.services import record_review, unpublish_claim
from claims.webhooks import events, worker
from claims.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.factories import ClaimFactory, CorrectionFactory, PublicationFactory, VerdictFactory

RECORDED, CORRECTED, WITHDRAWN = (
    WebhookEvent.RECORDED,
    WebhookEvent.CORRECTED,
    WebhookEvent.WITHDRAWN,
)


def _current(claim: Claim) -> Claim:
    return Claim.objects.get(pk=claim.pk)


def _story(editor) -> list[tuple[int, str | None]]:
    """A claim's life, entry by entry, with the event each entry should be (None: none)."""
    expected: list[tuple[int, str | None]] = []

    def entry(review: Review, event: str | None) -> None:
        expected.append((review.sequence, event))

    rated = ClaimFactory()
    entry(VerdictFactory(claim=rated, editor=editor, status="false"), None)  # a draft's
    entry(PublicationFactory(claim=rated, editor=editor), RECORDED)  # the verdict goes out
    entry(VerdictFactory(claim=rated, editor=editor, status="mixed"), RECORDED)
    entry(VerdictFactory(claim=rated, editor=editor, status="mixed"), RECORDED)  # restated
    entry(
        CorrectionFactory(
            claim=rated,
            editor=editor,
            correction_class="clarification",
            changes={"statement": "Made-up claim, clearer."},
        ),
        CORRECTED,
    )
    entry(
        CorrectionFactory(
            claim=rated,
            editor=editor,
            correction_class="substantive",
            changes={"statement": "Made-up claim, other meaning."},
        ),
        WITHDRAWN,
    )
    # Back in review after the substantive correction: a correction now is no event.
    entry(
        CorrectionFactory(
            claim=rated,
            editor=editor,
            correction_class="typo",
            changes={"statement": "Made-up claim, other meaning!"},
        ),
        None,
    )
    entry(VerdictFactory(claim=rated, editor=editor, status="true"), RECORDED)
    entry(VerdictFactory(claim=rated, editor=editor, status="in_review"), WITHDRAWN)
    entry(VerdictFactory(claim=rated, editor=editor, status="unverified"), None)
    entry(VerdictFactory(claim=rated, editor=editor, status="unsupported"), RECORDED)
    current = _current(rated)
    entry(
        unpublish_claim(
            claim=current, editor=editor, expected_version=current.version, explanation="Dup."
        ),
        WITHDRAWN,
    )
    entry(VerdictFactory(claim=rated, editor=editor, status="false"), None)  # unpublished

    unrated = ClaimFactory()
    entry(PublicationFactory(claim=unrated, editor=editor), None)  # nothing to say yet
    entry(VerdictFactory(claim=unrated, editor=editor, status="in_review"), None)
    entry(
        CorrectionFactory(
            claim=unrated, editor=editor, changes={"statement": "Unrated, corrected."}
        ),
        None,
    )
    current = _current(unrated)
    entry(
        unpublish_claim(
            claim=current, editor=editor, expected_version=current.version, explanation="Gone."
        ),
        None,
    )
    return expected


@pytest.mark.parametrize("batch", [worker.SCAN_BATCH, 3, 1])
def test_each_entry_is_the_event_a_subscriber_expects(subscription, editor, batch):
    expected = _story(editor)

    created = worker.scan(batch=batch)

    delivered = list(
        WebhookDelivery.objects.order_by("review__sequence").values_list(
            "review__sequence", "event"
        )
    )
    assert delivered == [(sequence, event) for sequence, event in expected if event]
    assert created == len(delivered)
    subscription.refresh_from_db()
    assert subscription.cursor == expected[-1][0]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}


def test_the_body_says_what_happened_with_addresses_and_the_entry_hash(subscription, editor):
    claim = ClaimFactory(published=True, slug="port-claim", statement="The port moved.")
    entry = VerdictFactory(claim=claim, editor=editor, status="misleading", note="Internal!")

    worker.scan()

    delivery = WebhookDelivery.objects.get()
    body = json.loads(delivery.body)
    assert body["type"] == "verdict.recorded"
    data = body["data"]
    assert data["claim"] == {
        "slug": "port-claim",
        "statement": "The port moved.",
        "url": "https://factcheck.example.org/claims/port-claim/",
        "claimreview_url": "https://factcheck.example.org/api/v1/claims/port-claim/claimreview",
        "ledger_url": "https://factcheck.example.org/api/v1/claims/port-claim/reviews/",
    }
    assert data["entry"]["sequence"] == entry.sequence
    assert data["entry"]["hash"] == entry.entry_hash
    assert data["entry"]["action"] == "review"
    assert data["status_before"]["value"] == "unverified"
    assert data["status_after"]["value"] == "misleading"
    assert data["status_after"]["rating_value"] == 2
    assert "Internal!" not in delivery.body
    # Sorted keys, no spaces: the bytes that are signed are reproducible.
    assert delivery.body == json.dumps(body, sort_keys=True, separators=(",", ":"))


def test_a_new_subscriber_hears_only_of_what_happens_after_it_subscribed(db, receiver, editor):
    ClaimFactory(published=True, verdict="false")
    subscription = WebhookSubscription.objects.create(url=receiver.url)
    assert subscription.cursor == Review.objects.order_by("-sequence").first().sequence

    assert worker.scan() == 0
    later = VerdictFactory(claim=Claim.objects.get(), editor=editor, status="true")
    assert worker.scan() == 1
    assert WebhookDelivery.objects.get().review == later


def test_a_subscriber_gets_only_the_events_it_chose(db, receiver, editor):
    withdrawals = WebhookSubscription.objects.create(url=receiver.url, events=[WITHDRAWN])
    everything = WebhookSubscription.objects.create(url=receiver.url + "/all")
    claim = ClaimFactory(published=True, verdict="false")
    VerdictFactory(claim=claim, editor=editor, status="in_review")

    worker.scan()

    assert list(withdrawals.deliveries.values_list("event", flat=True)) == [WITHDRAWN]
    assert sorted(everything.deliveries.values_list("event", flat=True)) == sorted(
        [RECORDED, WITHDRAWN]
    )


def test_an_inactive_subscriber_gets_nothing_and_does_not_fall_behind(db, receiver, editor):
    subscription = WebhookSubscription.objects.create(url=receiver.url, active=False)
    ClaimFactory(published=True, verdict="false")

    assert worker.scan() == 0

    subscription.refresh_from_db()
    assert subscription.cursor == Review.objects.order_by("-sequence").first().sequence


def test_scanning_again_adds_nothing_even_from_an_old_cursor(subscription, editor):
    ClaimFactory(published=True, verdict="false")
    first = worker.scan()
    rows = list(WebhookDelivery.objects.values_list("pk", "review_id", "event"))

    WebhookSubscription.objects.update(cursor=0)  # as if a crash had lost the cursor's move
    again = worker.scan()

    assert first == 1
    assert again == 0
    assert list(WebhookDelivery.objects.values_list("pk", "review_id", "event")) == rows


def test_a_scan_that_dies_midway_writes_nothing_and_the_next_one_writes_all(
    subscription, editor, monkeypatch
):
    before = subscription.cursor
    for status in ("false", "true"):
        ClaimFactory(published=True, verdict=status)
    real_body = events.body
    made = []

    def dying_body(entry, event):
        if made:
            raise RuntimeError("the worker's process is killed")
        made.append(entry)
        return real_body(entry, event)

    monkeypatch.setattr(events, "body", dying_body)
    with pytest.raises(RuntimeError):
        worker.scan()

    assert not WebhookDelivery.objects.exists()
    subscription.refresh_from_db()
    assert subscription.cursor == before

    monkeypatch.setattr(events, "body", real_body)
    assert worker.scan() == 2


def test_recording_a_verdict_does_nothing_for_webhooks(subscription, editor):
    """The verdict path stays as fast as it was: no query of it touches the webhooks'
    tables, and nothing is sent or queued until the worker reads the ledger."""
    claim = ClaimFactory(published=True)

    with CaptureQueriesContext(connection) as queries:
        record_review(
            claim=claim,
            editor=editor,
            status="false",
            explanation="Checked.",
            expected_version=claim.version,
        )

    assert not [q["sql"] for q in queries.captured_queries if "webhook" in q["sql"].lower()]
    assert not WebhookDelivery.objects.exists()
    assert worker.scan() == 1
