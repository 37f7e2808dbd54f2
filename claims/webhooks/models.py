"""Subscriptions, deliveries and their attempts (docs/webhooks.md).

Imported at the end of claims/models.py: these are the `claims` app's models.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

# Standard Webhooks secrets: "whsec_" and the base64 of the key's bytes.
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class WebhookEvent(models.TextChoices):
    RECORDED = "verdict.recorded", "Verdict recorded"
    CORRECTED = "verdict.corrected", "Verdict corrected"
    WITHDRAWN = "verdict.withdrawn", "Verdict withdrawn"


def new_secret() -> str:
    """A fresh signing secret, as Standard Webhooks writes them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def all_events() -> list[str]:
    return list(WebhookEvent.values)


def ledger_tip() -> int:
    """The sequence of the ledger's newest entry (0 when it is empty): one index read."""
    from claims.models import Review

    return Review.objects.aggregate(tip=models.Max("sequence"))["tip"] or 0


class WebhookSubscription(models.Model):
    """A subscriber's endpoint, configured by an editor in the admin."""

    Event = WebhookEvent

    url = models.URLField(
        "URL",
        max_length=2000,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the events are POSTed (http or https; redirects are not followed).",
    )
    description = models.CharField(
        max_length=200, blank=True, help_text="Who the subscriber is, for the desk."
    )
    events = ArrayField(
        models.CharField(max_length=40, choices=WebhookEvent),
        default=all_events,
        help_text="The events this subscriber receives.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Inactive: nothing is sent, and entries recorded meanwhile are never sent.",
    )
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        editable=False,
        help_text="The key the subscriber verifies signatures with (Standard Webhooks).",
    )
    # The worker's place in the ledger: entries up to this sequence have been looked at.
    cursor = models.PositiveBigIntegerField(
        "read up to ledger entry",
        null=True,
        blank=True,
        editable=False,
        help_text="Entries after this one are still to be looked at for this subscriber.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="webhook_subscriptions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "webhook subscription"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(events__contained_by=sorted(WebhookEvent.values))
                & models.Q(events__len__gte=1),
                name="webhook_subscription_events_valid",
                violation_error_message="Choose at least one event.",
            ),
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="webhook_subscription_http_url",
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.url

    def save(self, *args, **kwargs):
        # A new subscriber hears of what happens from now on, not of the whole history.
        if self.cursor is None:
            self.cursor = ledger_tip()
        super().save(*args, **kwargs)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event (a ledger entry) for one subscriber: sent until it is answered with a
    2xx or it has had its attempts. At most one per subscription and entry."""

    Status = DeliveryStatus

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries"
    )
    # No index of its own: the unique constraint below starts with the subscription,
    # and nothing looks deliveries up by entry alone.
    review = models.ForeignKey(
        "claims.Review",
        on_delete=models.PROTECT,
        related_name="webhook_deliveries",
        db_index=False,
        verbose_name="ledger entry",
    )
    event = models.CharField(max_length=40, choices=WebhookEvent)
    # The exact bytes POSTed (and signed), the same for every attempt.
    body = models.TextField()
    status = models.CharField(max_length=20, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, default=timezone.now, help_text="Empty once delivered or failed."
    )
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        # The log is written by the worker only; the admin reads it (and re-queues).
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "review"], name="webhook_delivery_once_per_entry"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (
                    ~models.Q(status=DeliveryStatus.PENDING)
                    & models.Q(next_attempt_at__isnull=True)
                ),
                name="webhook_delivery_pending_is_scheduled",
            ),
        ]
        indexes = [
            # The worker's queue: due deliveries, soonest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status=DeliveryStatus.PENDING),
            ),
            models.Index(fields=["status", "-id"], name="webhook_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription} ({self.message_id})"

    @property
    def message_id(self) -> str:
        """The `webhook-id`: the same for every attempt, so receivers can drop repeats."""
        return f"msg_{self.subscription_id}_{self.review_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery, and what came of it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = "webhook attempt"
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
