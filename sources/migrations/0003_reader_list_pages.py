"""The sources list's order, a page at a time. Built concurrently, not to hold up
writes on a large archive."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sources", "0002_history"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="source",
            index=models.Index(
                models.OrderBy(models.F("retrieved_at"), descending=True),
                models.F("id"),
                name="source_list_order_idx",
            ),
        ),
    ]
