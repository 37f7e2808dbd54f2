"""`migrate`, run as the owner of the tables.

The app connects as a role that owns nothing (factcheck.db.roles); schema
changes need the owner, and the owner then grants the app's role exactly
what it needs (claims.ledger.database, on post_migrate).
"""

from django.core.management.commands import migrate

from factcheck.db.roles import as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
