"""Webhooks (claims/webhooks, docs/webhooks.md): subscriptions, their deliveries and
each delivery's attempts; editors manage the subscriptions and read the delivery log.
"""

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import claims.webhooks.models

# Copied, not imported from claims/roles.py: editing the roles later must not
# change what this migration does.
EDITORS_GAIN = [
    ("claims", "add_webhooksubscription"),
    ("claims", "change_webhooksubscription"),
    ("claims", "delete_webhooksubscription"),
    ("claims", "view_webhooksubscription"),
    ("claims", "view_webhookdelivery"),
    ("claims", "view_webhookattempt"),
]


def grant_editor_permissions(apps, schema_editor):
    # The permissions of the models created above.
    create_permissions(global_apps.get_app_config("claims"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    editors, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Editors")
    for app_label, codename in EDITORS_GAIN:
        editors.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0013_counts_skip_unchanged"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookSubscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        help_text="Where the events are POSTed (http or https; redirects are not followed).",
                        max_length=2000,
                        validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                        verbose_name="URL",
                    ),
                ),
                (
                    "description",
                    models.CharField(
                        blank=True, help_text="Who the subscriber is, for the desk.", max_length=200
                    ),
                ),
                (
                    "events",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("verdict.recorded", "Verdict recorded"),
                                ("verdict.corrected", "Verdict corrected"),
                                ("verdict.withdrawn", "Verdict withdrawn"),
                            ],
                            max_length=40,
                        ),
                        default=claims.webhooks.models.all_events,
                        help_text="The events this subscriber receives.",
                    ),
                ),
                (
                    "active",
                    models.BooleanField(
                        default=True,
                        help_text="Inactive: nothing is sent, and entries recorded meanwhile are never sent.",
                    ),
                ),
                (
                    "secret",
                    models.CharField(
                        default=claims.webhooks.models.new_secret,
                        editable=False,
                        help_text="The key the subscriber verifies signatures with (Standard Webhooks).",
                        max_length=100,
                    ),
                ),
                (
                    "cursor",
                    models.PositiveBigIntegerField(
                        blank=True,
                        editable=False,
                        help_text="Entries after this one are still to be looked at for this subscriber.",
                        null=True,
                        verbose_name="read up to ledger entry",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="webhook_subscriptions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook subscription",
                "ordering": ["pk"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        choices=[
                            ("verdict.recorded", "Verdict recorded"),
                            ("verdict.corrected", "Verdict corrected"),
                            ("verdict.withdrawn", "Verdict withdrawn"),
                        ],
                        max_length=40,
                    ),
                ),
                ("body", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        blank=True,
                        default=django.utils.timezone.now,
                        help_text="Empty once delivered or failed.",
                        null=True,
                    ),
                ),
                ("last_status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "review",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="webhook_deliveries",
                        to="claims.review",
                        verbose_name="ledger entry",
                    ),
                ),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deliveries",
                        to="claims.webhooksubscription",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook delivery",
                "verbose_name_plural": "webhook deliveries",
                "ordering": ["-pk"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="WebhookAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField()),
                ("started_at", models.DateTimeField()),
                ("duration_ms", models.PositiveIntegerField()),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_excerpt", models.TextField(blank=True)),
                ("error", models.TextField(blank=True)),
                (
                    "delivery",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tries",
                        to="claims.webhookdelivery",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook attempt",
                "ordering": ["delivery", "number"],
                "default_permissions": ("view",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("delivery", "number"), name="webhook_attempt_number"
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="webhooksubscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "events__contained_by",
                        ["verdict.corrected", "verdict.recorded", "verdict.withdrawn"],
                    ),
                    ("events__len__gte", 1),
                ),
                name="webhook_subscription_events_valid",
                violation_error_message="Choose at least one event.",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhooksubscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("url__startswith", "http://"), ("url__startswith", "https://"), _connector="OR"
                ),
                name="webhook_subscription_http_url",
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["next_attempt_at", "id"],
                name="webhook_delivery_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["status", "-id"], name="webhook_delivery_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("subscription", "review"), name="webhook_delivery_once_per_entry"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "delivered", "failed"])),
                name="webhook_delivery_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("next_attempt_at__isnull", False), ("status", "pending")),
                    models.Q(
                        models.Q(("status", "pending"), _negated=True),
                        ("next_attempt_at__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="webhook_delivery_pending_is_scheduled",
            ),
        ),
        migrations.RunPython(grant_editor_permissions, migrations.RunPython.noop),
    ]
