"""The delivery worker's two steps (run by `manage.py deliver_webhooks`).

`scan`: the ledger is the outbox. Each subscription keeps a cursor, the sequence
of the last entry looked at for it; the entries past the cursors are read in
sequence order, those that are events become one delivery row per subscription
and entry (unique, so a scan repeated after a crash adds nothing), and the
cursors move past them, all in one transaction. Entries become visible in
sequence order (the ledger's lock orders writers until they commit), so an
entry is never skipped behind a cursor.

`send_due`: each due delivery is locked (`FOR UPDATE SKIP LOCKED`: workers never
take the same one), POSTed, and its attempt recorded in the same transaction; a
worker that dies mid-way leaves the delivery as it was, due, and it is sent again
(subscribers drop repeats by `webhook-id`). A failed attempt is retried after an
exponential backoff with jitter, until `WEBHOOK_MAX_ATTEMPTS`; then it has failed.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claims.models import Review
from claims.webhooks import events, sending, signing
from claims.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    ledger_tip,
)

logger = logging.getLogger(__name__)

# Ledger entries read per scan transaction.
SCAN_BATCH = 500


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the `attempts`-th failure: the base doubled each time,
    capped, then "equal jitter" (between half and all of it), so subscribers that
    failed together are not retried together."""
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS
    cap = settings.WEBHOOK_BACKOFF_MAX_SECONDS
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay / 2 + (rng or random).uniform(0, delay / 2))


# --- scan: ledger entries into deliveries ---------------------------------------


def scan(*, batch: int = SCAN_BATCH) -> int:
    """Turn the ledger's new entries into deliveries, until every cursor is at the tip.
    Returns how many deliveries were created."""
    created = 0
    while True:
        added, more = _scan_batch(batch)
        created += added
        if not more:
            return created


def _scan_batch(batch: int) -> tuple[int, bool]:
    tip = ledger_tip()
    with transaction.atomic():
        # Another worker scanning a subscription holds its row: skip it, it is in hand.
        subscriptions = list(
            WebhookSubscription.objects.select_for_update(skip_locked=True)
            .filter(cursor__lt=tip)
            .order_by("pk")
        )
        if not subscriptions:
            return 0, False
        start = min(s.cursor or 0 for s in subscriptions)
        entries = list(
            Review.objects.filter(sequence__gt=start, sequence__lte=tip)
            .select_related("claim")
            .only(
                "sequence",
                "claim_id",
                "claim__slug",
                "action",
                "status_before",
                "status_after",
                "correction_class",
                "claim_content",
                "created_at",
                "entry_hash",
            )
            .order_by("sequence")[:batch]
        )
        end = entries[-1].sequence if entries else tip
        found = list(events.events_in(entries))
        # Written already by a scan that crashed before moving the cursor: not again
        # (the unique constraint would refuse them anyway; this keeps the count right).
        existing = set(
            WebhookDelivery.objects.filter(
                subscription__in=subscriptions, review__in=[entry.pk for entry, _ in found]
            ).values_list("subscription_id", "review_id")
            if found
            else ()
        )
        now = timezone.now()
        bodies: dict[int, str] = {}
        deliveries = []
        for subscription in subscriptions:
            if subscription.active:
                for entry, event in found:
                    if (
                        entry.sequence > (subscription.cursor or 0)
                        and event in subscription.events
                        and (subscription.pk, entry.pk) not in existing
                    ):
                        if entry.pk not in bodies:
                            bodies[entry.pk] = events.body(entry, event)
                        deliveries.append(
                            WebhookDelivery(
                                subscription=subscription,
                                review=entry,
                                event=event,
                                body=bodies[entry.pk],
                                next_attempt_at=now,
                                created_at=now,
                            )
                        )
            subscription.cursor = max(subscription.cursor or 0, end)
        # Still ignoring conflicts: a subscription's cursor moved back by hand is harmless.
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        WebhookSubscription.objects.bulk_update(subscriptions, ["cursor"])
    return len(deliveries), end < tip


# --- send: due deliveries to their subscribers ------------------------------------


@dataclass(frozen=True)
class Sent:
    delivery_id: int
    ok: bool


def send_due(*, limit: int = 100, now: datetime | None = None) -> list[Sent]:
    """Send up to `limit` deliveries due at `now` (default: now), one transaction each."""
    sent: list[Sent] = []
    while len(sent) < limit:
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscription")
                .filter(
                    status=DeliveryStatus.PENDING,
                    next_attempt_at__lte=now or timezone.now(),
                    subscription__active=True,
                )
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if delivery is None:
                break
            sent.append(Sent(delivery.pk, attempt(delivery)))
    return sent


def attempt(delivery: WebhookDelivery) -> bool:
    """POST the delivery once and record what came of it (in the caller's transaction,
    which holds the delivery's row). True when the subscriber took it."""
    subscription = delivery.subscription
    body = delivery.body.encode()
    started_at = timezone.now()
    outcome = sending.post(
        subscription.url,
        body,
        signing.headers(subscription.secret, delivery.message_id, body),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        response_excerpt=outcome.response_excerpt,
        error=outcome.error,
    )
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        logger.warning(
            "Webhook delivery %s to %s failed after %s attempts: %s",
            delivery.pk,
            subscription.url,
            delivery.attempts,
            outcome.error,
        )
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
        ]
    )
    return outcome.ok


def retry_now(deliveries) -> int:
    """Make pending and failed deliveries due now (the admin's "retry now"); a failed
    one gets one more attempt. Returns how many were re-queued."""
    return deliveries.exclude(status=DeliveryStatus.DELIVERED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )


def run_once(*, limit: int = 100) -> tuple[int, list[Sent]]:
    """One round of the worker: scan the ledger, then send what is due."""
    return scan(), send_due(limit=limit)
