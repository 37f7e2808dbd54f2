"""The speaker list and a source's claims, a page at a time. Built concurrently,
not to hold up writes on a large ledger."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("claims", "0009_admin_list_order"),
        ("sources", "0003_reader_list_pages"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="appearance",
            index=models.Index(fields=["source", "id"], name="appearance_source_order_idx"),
        ),
        AddIndexConcurrently(
            model_name="speaker",
            index=models.Index(fields=["name", "id"], name="speaker_name_order_idx"),
        ),
    ]
