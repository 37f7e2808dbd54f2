"""Editors manage subscriptions in the admin and read the delivery log."""

from __future__ import annotations

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from claims.models import Review
from claims.webhooks import worker
from claims.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import ClaimFactory, ContributorFactory, EditorFactory
from tests.webhooks.conftest import unreachable_url

SUBSCRIPTIONS = "admin:claims_webhooksubscription"
DELIVERIES = "admin:claims_webhookdelivery"


def test_an_editor_adds_a_subscription_and_is_shown_its_secret(client, db):
    ClaimFactory(published=True, verdict="false")
    editor = EditorFactory()  # the Editors group as the migrations made it
    client.force_login(editor)

    assert client.get(reverse(f"{SUBSCRIPTIONS}_add")).status_code == 200
    response = client.post(
        reverse(f"{SUBSCRIPTIONS}_add"),
        {
            "url": "https://partner.example.net/hooks",
            "description": "Partner newsroom",
            "events": ["verdict.recorded", "verdict.withdrawn"],
            "active": "on",
        },
    )

    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(f"{SUBSCRIPTIONS}_change", args=[subscription.pk])
    assert subscription.created_by == editor
    assert subscription.events == ["verdict.recorded", "verdict.withdrawn"]
    assert subscription.secret.startswith("whsec_")
    assert subscription.cursor == Review.objects.order_by("-sequence").first().sequence
    page = client.get(response["Location"])
    assert subscription.secret in page.content.decode()


def test_a_subscription_needs_an_http_address_and_an_event(client, db):
    client.force_login(EditorFactory())

    response = client.post(
        reverse(f"{SUBSCRIPTIONS}_add"),
        {"url": "ftp://partner.example.net/hooks", "events": [], "active": "on"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"url", "events"}
    assert not WebhookSubscription.objects.exists()


def test_contributors_cannot_see_subscriptions_or_their_deliveries(client, db):
    client.force_login(ContributorFactory())

    assert client.get(reverse(f"{SUBSCRIPTIONS}_changelist")).status_code == 403
    assert client.get(reverse(f"{DELIVERIES}_changelist")).status_code == 403


def test_turning_a_subscription_back_on_starts_from_the_ledgers_tip(client, db, editor):
    subscription = WebhookSubscription.objects.create(
        url="https://partner.example.net/hooks", active=False
    )
    ClaimFactory(published=True, verdict="false")  # while it is off
    client.force_login(editor)

    client.post(
        reverse(f"{SUBSCRIPTIONS}_change", args=[subscription.pk]),
        {
            "url": subscription.url,
            "description": "",
            "events": subscription.events,
            "active": "on",
        },
    )

    subscription.refresh_from_db()
    assert subscription.active
    assert subscription.cursor == Review.objects.order_by("-sequence").first().sequence
    assert worker.scan() == 0


def test_the_delivery_log_is_read_only_filtered_and_retried_now(client, db, editor, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    subscription = WebhookSubscription.objects.create(url=unreachable_url())
    other = WebhookSubscription.objects.create(url="https://other.example.net/hooks", active=False)
    ClaimFactory(published=True, verdict="false")
    worker.run_once()  # refused, and one attempt is all it has
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    client.force_login(editor)

    listed = client.get(
        reverse(f"{DELIVERIES}_changelist"),
        {"status__exact": "failed", "subscription__id__exact": subscription.pk},
    )
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [delivery]
    elsewhere = client.get(
        reverse(f"{DELIVERIES}_changelist"), {"subscription__id__exact": other.pk}
    )
    assert list(elsewhere.context["cl"].result_list) == []
    page = client.get(reverse(f"{DELIVERIES}_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "refused" in page.content.decode().lower()  # the attempt's error, inline
    assert client.get(reverse(f"{DELIVERIES}_add")).status_code == 403

    response = client.post(
        reverse(f"{DELIVERIES}_changelist"),
        {"action": "retry_now", ACTION_CHECKBOX_NAME: [delivery.pk]},
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None


def test_retry_now_is_for_those_who_manage_subscriptions(client, db, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    WebhookSubscription.objects.create(url=unreachable_url())
    ClaimFactory(published=True, verdict="false")
    worker.run_once()
    delivery = WebhookDelivery.objects.get(status="failed")
    viewer = ContributorFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client.force_login(viewer)

    page = client.get(reverse(f"{DELIVERIES}_changelist"))
    client.post(
        reverse(f"{DELIVERIES}_changelist"),
        {"action": "retry_now", ACTION_CHECKBOX_NAME: [delivery.pk]},
    )

    assert page.status_code == 200
    assert page.context["action_form"] is None  # no action offered
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_the_pages_open_within_the_admin_suites_query_budget(
    admin_client, db, editor, receiver, django_assert_max_num_queries
):
    """The budget tests/claims/test_admin.py sets every registered model's pages."""
    subscription = WebhookSubscription.objects.create(url=receiver.url)
    ClaimFactory(published=True, verdict="false")
    worker.run_once()
    delivery = WebhookDelivery.objects.get()

    for name, obj in [(SUBSCRIPTIONS, subscription), (DELIVERIES, delivery)]:
        with django_assert_max_num_queries(12):
            assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200
        with django_assert_max_num_queries(12):
            assert (
                admin_client.get(reverse(f"{name}_changelist"), {"q": "Rubio"}).status_code == 200
            )
        with django_assert_max_num_queries(20):
            page = admin_client.get(reverse(f"{name}_change", args=[obj.pk]))
        assert page.status_code == 200
        assert page.context["original"] == obj
