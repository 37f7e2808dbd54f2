"""Indexes for the admin's claim list, which includes drafts (the reader lists'
indexes of 0008 cover published claims only). Built concurrently: on a large
ledger a plain CREATE INDEX would hold up every write while it runs."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("claims", "0008_reader_freshness_counts"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="claim",
            index=models.Index(fields=["created_at", "id"], name="claim_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="claim",
            index=models.Index(fields=["status_changed_at", "id"], name="claim_status_changed_idx"),
        ),
    ]
