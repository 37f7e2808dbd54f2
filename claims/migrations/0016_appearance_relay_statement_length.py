"""Who reported a claim, apart from who said it; and a statement's length limit.

An appearance can name the intermediary its source got the claim from ("according
to The New York Times", "in a post by Mario Nawfal"), so an outlet that only relayed
words is no longer recorded as their speaker. A statement is at most 1,000
characters, in the database too, so no writer (admin, API, import) can store an
article as a claim.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0015_claim_short_form_quantities_media"),
        ("sources", "0003_reader_list_pages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appearance",
            name="relay",
            field=models.CharField(
                blank=True,
                choices=[
                    ("reported_by", "as reported by"),
                    ("according_to", "according to"),
                    ("posted_by", "in a post by"),
                ],
                help_text="When the source passes on what someone else reported or posted.",
                max_length=20,
                verbose_name="relayed",
            ),
        ),
        migrations.AddField(
            model_name="appearance",
            name="relayed_by",
            field=models.CharField(
                blank=True,
                help_text="The outlet or account the source got it from: The New York Times, Mario Nawfal…",
                max_length=200,
                verbose_name="intermediary",
            ),
        ),
        migrations.AlterField(
            model_name="claim",
            name="statement",
            field=models.TextField(
                help_text="The claim in neutral words, checkable on its own (1000 characters at most).",
                max_length=1000,
            ),
        ),
        migrations.AlterField(
            model_name="claimevent",
            name="statement",
            field=models.TextField(
                help_text="The claim in neutral words, checkable on its own (1000 characters at most).",
                max_length=1000,
            ),
        ),
        migrations.AddConstraint(
            model_name="appearance",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("relay", ""), ("relayed_by", "")),
                    models.Q(
                        ("relay__in", ["reported_by", "according_to", "posted_by"]),
                        models.Q(("relayed_by", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="appearance_relay_names_intermediary",
                violation_error_message="Name the intermediary together with how it relayed the claim, or neither.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("statement"), 1000
                ),
                name="claim_statement_length",
                violation_error_message="A statement is 1000 characters at most.",
            ),
        ),
    ]
