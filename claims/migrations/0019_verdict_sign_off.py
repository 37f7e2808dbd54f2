"""Second-editor sign-off: a verdict may wait for another editor's approval.

The proposals and what became of them are written once, like the ledger: the
same triggers refuse UPDATE, DELETE and TRUNCATE on them from any role, and the
app's role is granted only SELECT and INSERT (claims.ledger.database). The
ledger entry an approval writes names the approver (`approved_by`), never the
proposer (a CHECK constraint).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APPEND_ONLY = ["claims_verdictproposal", "claims_proposalevidence", "claims_proposaldecision"]

GUARDS = "\n".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION factcheck_ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION factcheck_ledger_refuse_change();
"""
    for table in APPEND_ONLY
)
NO_GUARDS = "\n".join(
    f"DROP TRIGGER {table}_append_only ON {table}; DROP TRIGGER {table}_no_truncate ON {table};"
    for table in APPEND_ONLY
)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0018_bylines_stamp_names"),
        ("sources", "0004_original_retrieved_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProposalDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("approved", "Approved"),
                            ("rejected", "Sent back"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "reason",
                    models.TextField(
                        blank=True, help_text="Why it was sent back, for the proposer."
                    ),
                ),
                (
                    "decided_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
            ],
            options={
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="ProposalEvidence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
            ],
            options={
                "verbose_name_plural": "proposal evidence",
                "ordering": ["proposal", "position"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="VerdictProposal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "claim_version",
                    models.PositiveIntegerField(help_text="The claim version the proposer saw."),
                ),
                ("claim_content", models.JSONField(editable=False)),
                (
                    "status_before",
                    models.CharField(
                        choices=[
                            ("unverified", "Not yet verified"),
                            ("in_review", "In review"),
                            ("true", "True"),
                            ("mostly_true", "Mostly true"),
                            ("mixed", "Mixed"),
                            ("misleading", "Misleading"),
                            ("false", "False"),
                            ("unsupported", "Unsupported"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("unverified", "Not yet verified"),
                            ("in_review", "In review"),
                            ("true", "True"),
                            ("mostly_true", "Mostly true"),
                            ("mixed", "Mixed"),
                            ("misleading", "Misleading"),
                            ("false", "False"),
                            ("unsupported", "Unsupported"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "explanation",
                    models.TextField(help_text="Markdown, shown to readers once approved."),
                ),
                ("note", models.TextField(blank=True, help_text="Internal note for the desk.")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "default_permissions": ("view",),
            },
        ),
        migrations.AddField(
            model_name="review",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="approved_reviews",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True),
                    models.Q(
                        ("action", "review"),
                        models.Q(("approved_by", models.F("editor")), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="review_approved_by_another",
                violation_error_message="Only a verdict is approved, and by another editor.",
            ),
        ),
        migrations.AddField(
            model_name="proposaldecision",
            name="decided_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposal_decisions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="proposaldecision",
            name="entry",
            field=models.OneToOneField(
                blank=True,
                help_text="The ledger entry the approval wrote.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="approval",
                to="claims.review",
            ),
        ),
        migrations.AddField(
            model_name="proposalevidence",
            name="source",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposal_links",
                to="sources.source",
            ),
        ),
        migrations.AddField(
            model_name="verdictproposal",
            name="claim",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposals",
                to="claims.claim",
            ),
        ),
        migrations.AddField(
            model_name="verdictproposal",
            name="evidence",
            field=models.ManyToManyField(
                blank=True,
                related_name="proposals",
                through="claims.ProposalEvidence",
                to="sources.source",
            ),
        ),
        migrations.AddField(
            model_name="verdictproposal",
            name="proposed_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdict_proposals",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="proposalevidence",
            name="proposal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="evidence_links",
                to="claims.verdictproposal",
            ),
        ),
        migrations.AddField(
            model_name="proposaldecision",
            name="proposal",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="decision",
                to="claims.verdictproposal",
            ),
        ),
        migrations.AddIndex(
            model_name="verdictproposal",
            index=models.Index(fields=["claim", "-created_at"], name="proposal_claim_idx"),
        ),
        migrations.AddConstraint(
            model_name="verdictproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        ["false", "misleading", "mixed", "mostly_true", "true", "unsupported"],
                    )
                ),
                name="proposal_is_a_verdict",
                violation_error_message="Only a verdict waits for a second editor.",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposalevidence",
            constraint=models.UniqueConstraint(
                fields=("proposal", "source"), name="proposal_evidence_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="proposalevidence",
            constraint=models.UniqueConstraint(
                fields=("proposal", "position"), name="proposal_evidence_position"
            ),
        ),
        migrations.AddConstraint(
            model_name="proposaldecision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("outcome", "approved"), ("entry__isnull", False)),
                    models.Q(
                        models.Q(("outcome", "approved"), _negated=True), ("entry__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="decision_approval_has_entry",
                violation_error_message="An approval, and only an approval, writes an entry.",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposaldecision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("outcome", "rejected"), _negated=True),
                    models.Q(("reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="decision_rejection_has_reason",
                violation_error_message="Say why the verdict is sent back.",
            ),
        ),
        migrations.RunSQL(sql=GUARDS, reverse_sql=NO_GUARDS),
    ]
