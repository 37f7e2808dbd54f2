"""The publisher's own pages (methodology, rating scale, about, contact), with starting
text for an editor to adapt; and readers' tips, grouped when several readers send the
same claim (claims.tips). Editors edit the pages; the desk handles the tips.
"""

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Copied, not imported from claims/roles.py: editing the roles later must not
# change what this migration does.
EDITORS_GAIN = [
    ("claims", "change_sitepage"),
    ("claims", "view_sitepage"),
    ("claims", "change_tipgroup"),
    ("claims", "delete_tipgroup"),
    ("claims", "view_tipgroup"),
    ("claims", "view_tip"),
]
CONTRIBUTORS_GAIN = [
    ("claims", "change_tipgroup"),
    ("claims", "view_tipgroup"),
    ("claims", "view_tip"),
]

# Starting text, honest about what the software does; the publisher adapts it.
PAGES = [
    (
        "methodology",
        "How we check claims",
        """We check claims made in public: by officials, candidates, organisations, and posts and messages that many people share. This page says how a claim is chosen, checked, rated and corrected here.

### How we choose a claim

We look for claims that are checkable (a fact, a figure, an event, a quote, not an opinion), that matter to many people, and that are spreading. Readers suggest claims too, through the [suggest a claim](/suggest/) form; a suggestion does not mean a check, and a check does not depend on who made the claim.

### How we record it

Each claim is written down in neutral words, with who said it, when, and where: every place it appeared is linked to an archived copy of the source, and quoted words are found in that copy by the software, never typed in by hand.

### How we check it

An editor looks for the best available evidence: official data, documents, the people involved, independent experts. Every source we cite is archived and linked from the verdict, so readers can follow the same path. We contact the person or organisation who made the claim when we can.

### How we rate it

Each verdict uses one rating of our [rating scale](/about/rating-scale/), from True to False, or Unsupported when no available evidence supports or refutes the claim. The explanation says why that rating and not another.

### How we correct it

Every verdict, correction and publication is an entry in an append-only ledger: the database refuses to change or delete an entry, each entry is chained to the one before by its hash, and we sign its checkpoints. A correction is a new entry with its reason, never a silent edit; the [corrections policy](/corrections/policy/) explains the rest, and [the ledger's format](/ledger/format/) how anyone can verify it.

*The publisher should add here who does the checking, who reviews a verdict before it is published, and how the work is funded.*""",
    ),
    (
        "rating-scale",
        "Our rating scale",
        """Every verdict uses one rating of this scale. On the scale, from True (5) to False (1), a rating says how accurate a claim is; Unsupported is off the scale: it says that no available evidence supports or refutes the claim, not how true it is.

The explanation of each verdict says why it got its rating. A rating can change when new evidence arrives: the earlier verdict stays in the claim's history.""",
    ),
    (
        "about",
        "About us",
        """This site is a fact-check ledger: claims and quotes, who said them, where and when, the evidence, and our verdicts, each on the record.

### What makes it different

Every verdict and every correction is an entry in an append-only, hash-chained ledger, so what we published cannot be quietly rewritten: each claim's page shows its full history, and anyone can download the ledger and verify it.

*The publisher should add here who runs this site, who funds it, its editorial independence, and the fact-checking codes of principles it has signed, if any.*""",
    ),
    (
        "contact",
        "Contact us",
        """*The publisher fills in here how to reach the desk: an email address or a contact form, a postal address, and whom to write to about what.*

To suggest a claim for us to check, use the [suggest a claim](/suggest/) form.

To ask for a correction, see the [corrections policy](/corrections/policy/): include the address of the claim's page, what you think is wrong, and your evidence.""",
    ),
]


def create_pages(apps, schema_editor):
    SitePage = apps.get_model("claims", "SitePage")
    for slug, title, body in PAGES:
        SitePage.objects.get_or_create(slug=slug, defaults={"title": title, "body": body})


def grant_permissions(apps, schema_editor):
    # The permissions of the models created above.
    create_permissions(global_apps.get_app_config("claims"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for name, gain in (("Editors", EDITORS_GAIN), ("Contributors", CONTRIBUTORS_GAIN)):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in gain:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0016_appearance_relay_statement_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TipGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "text",
                    models.TextField(
                        help_text="The first tip's words, as sent.", verbose_name="claim"
                    ),
                ),
                ("normalized", models.TextField(editable=False)),
                (
                    "tip_count",
                    models.PositiveIntegerField(default=1, editable=False, verbose_name="tips"),
                ),
                (
                    "first_received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="first received",
                    ),
                ),
                (
                    "last_received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="last received",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("accepted", "Accepted"),
                            ("dismissed", "Dismissed"),
                        ],
                        default="new",
                        editable=False,
                        max_length=10,
                    ),
                ),
                ("handled_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "claim",
                    models.ForeignKey(
                        blank=True,
                        help_text="The claim the desk recorded from these tips, if any.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tip_groups",
                        to="claims.claim",
                    ),
                ),
                (
                    "handled_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "reader tip",
                "verbose_name_plural": "reader tips",
                "ordering": ["-last_received_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Tip",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField(max_length=1000, verbose_name="what was said")),
                (
                    "where_seen",
                    models.CharField(blank=True, max_length=500, verbose_name="where seen"),
                ),
                (
                    "email",
                    models.EmailField(
                        blank=True,
                        help_text="Only to answer this reader about this tip.",
                        max_length=254,
                    ),
                ),
                (
                    "received_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tips",
                        to="claims.tipgroup",
                    ),
                ),
            ],
            options={
                "ordering": ["received_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SitePage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "slug",
                    models.CharField(
                        choices=[
                            ("about", "About"),
                            ("methodology", "Methodology"),
                            ("rating-scale", "Rating scale"),
                            ("contact", "Contact"),
                        ],
                        max_length=20,
                        unique=True,
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                (
                    "body",
                    models.TextField(
                        help_text="Markdown. Headings start at ### (the page's title is its only top heading); raw HTML is removed."
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        help_text="Who saved it last.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "site page",
                "ordering": ["slug"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("slug__in", ["about", "methodology", "rating-scale", "contact"])
                        ),
                        name="sitepage_slug_valid",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="tipgroup",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["normalized"],
                condition=models.Q(("status", "new")),
                name="tipgroup_normalized_trgm_idx",
                opclasses=["gin_trgm_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="tipgroup",
            index=models.Index(fields=["status", "-last_received_at"], name="tipgroup_queue_idx"),
        ),
        migrations.AddConstraint(
            model_name="tipgroup",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.MD5("normalized"),
                condition=models.Q(("status", "new")),
                name="tipgroup_one_open_per_text",
            ),
        ),
        migrations.AddConstraint(
            model_name="tipgroup",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["new", "accepted", "dismissed"])),
                name="tipgroup_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="tipgroup",
            constraint=models.CheckConstraint(
                condition=models.Q(("tip_count__gte", 1)), name="tipgroup_count"
            ),
        ),
        migrations.AddConstraint(
            model_name="tipgroup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("handled_at__isnull", True), ("status", "new")),
                    models.Q(
                        models.Q(("status", "new"), _negated=True), ("handled_at__isnull", False)
                    ),
                    _connector="OR",
                ),
                name="tipgroup_handled_when_not_new",
            ),
        ),
        migrations.AddConstraint(
            model_name="tipgroup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("claim__isnull", True), ("status", "accepted"), _connector="OR"
                ),
                name="tipgroup_claim_when_accepted",
                violation_error_message="Only an accepted tip links to a claim.",
            ),
        ),
        migrations.AddIndex(
            model_name="tip",
            index=models.Index(fields=["group", "received_at"], name="tip_group_received_idx"),
        ),
        migrations.AddConstraint(
            model_name="tip",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("text", ""), _negated=True),
                    django.db.models.lookups.LessThanOrEqual(
                        django.db.models.functions.text.Length("text"), 1000
                    ),
                ),
                name="tip_text_length",
            ),
        ),
        migrations.RunPython(create_pages, migrations.RunPython.noop),
        migrations.RunPython(grant_permissions, migrations.RunPython.noop),
    ]
