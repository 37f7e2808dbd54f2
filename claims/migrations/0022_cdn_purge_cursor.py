"""Where the CDN's purges start (claims.cdn): at the ledger's tip when this runs, so
that turning purges on does not purge every page the ledger ever changed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0021_search_languages"),
    ]

    operations = [
        migrations.CreateModel(
            name="CdnPurgeCursor",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("sequence", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO claims_cdnpurgecursor (name, sequence, updated_at)"
            " SELECT 'cdn', coalesce(max(sequence), 0), now() FROM claims_review",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
