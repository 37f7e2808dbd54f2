"""When a source's text was taken from the original document, apart from when it was
stored here (`retrieved_at`): the seeds were loaded long after their articles were
fetched, and a page saying "Retrieved" at the load time misled readers. Unknown (null)
for every source stored before.
"""

import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0003_reader_list_pages"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="source",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="source",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="source",
            name="delete_delete",
        ),
        migrations.AlterField(
            model_name="source",
            name="retrieved_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="archived here"
            ),
        ),
        migrations.AlterField(
            model_name="sourceevent",
            name="retrieved_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="archived here"
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="original_retrieved_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the text was taken from the original document; empty when unknown.",
                null=True,
                verbose_name="retrieved from the original",
            ),
        ),
        migrations.AddField(
            model_name="sourceevent",
            name="original_retrieved_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the text was taken from the original document; empty when unknown.",
                null=True,
                verbose_name="retrieved from the original",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="source",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "sources_sourceevent" ("author", "created_at", "id", "kind", "original_retrieved_at", "outlet", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "retrieved_at", "slug", "title", "updated_at", "url") VALUES (NEW."author", NEW."created_at", NEW."id", NEW."kind", NEW."original_retrieved_at", NEW."outlet", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."published_on", NEW."retrieved_at", NEW."slug", NEW."title", NEW."updated_at", NEW."url"); RETURN NULL;',
                    hash="521a8fa5873e0e5ca6878da287068dd69f6567bf",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_c3ed3",
                    table="sources_source",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="source",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."author" IS DISTINCT FROM (NEW."author") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."original_retrieved_at" IS DISTINCT FROM (NEW."original_retrieved_at") OR OLD."outlet" IS DISTINCT FROM (NEW."outlet") OR OLD."published_on" IS DISTINCT FROM (NEW."published_on") OR OLD."retrieved_at" IS DISTINCT FROM (NEW."retrieved_at") OR OLD."slug" IS DISTINCT FROM (NEW."slug") OR OLD."title" IS DISTINCT FROM (NEW."title") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at") OR OLD."url" IS DISTINCT FROM (NEW."url"))',
                    func='INSERT INTO "sources_sourceevent" ("author", "created_at", "id", "kind", "original_retrieved_at", "outlet", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "retrieved_at", "slug", "title", "updated_at", "url") VALUES (NEW."author", NEW."created_at", NEW."id", NEW."kind", NEW."original_retrieved_at", NEW."outlet", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."published_on", NEW."retrieved_at", NEW."slug", NEW."title", NEW."updated_at", NEW."url"); RETURN NULL;',
                    hash="f687c2a8b07b2e5dc35b1be3fb09566a987e6b38",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_e6185",
                    table="sources_source",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="source",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "sources_sourceevent" ("author", "created_at", "id", "kind", "original_retrieved_at", "outlet", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "retrieved_at", "slug", "title", "updated_at", "url") VALUES (OLD."author", OLD."created_at", OLD."id", OLD."kind", OLD."original_retrieved_at", OLD."outlet", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."published_on", OLD."retrieved_at", OLD."slug", OLD."title", OLD."updated_at", OLD."url"); RETURN NULL;',
                    hash="8d0868441c83fc78a7b30baa53623c29fd33c189",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_fde77",
                    table="sources_source",
                    when="AFTER",
                ),
            ),
        ),
    ]
