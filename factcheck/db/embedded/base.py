"""Django's PostgreSQL backend, pointed at the embedded server on first connect.

Starting the server lazily means commands that never touch the database
(`manage.py help`, `makemigrations --check` on a clean tree, ruff) start
nothing.
"""

from django.conf import settings
from django.db.backends.postgresql import base

from factcheck.db.server import ensure_database, ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        endpoint = ensure_server(settings.EMBEDDED_PGDATA)
        self.settings_dict.update(HOST=endpoint.host, PORT=endpoint.port, USER=endpoint.user)
        # Only the project's own database is created here; test databases are
        # created (and dropped) by Django's test machinery through "postgres".
        if self.settings_dict["NAME"] == settings.EMBEDDED_DATABASE_NAME:
            ensure_database(endpoint, self.settings_dict["NAME"])
        return super().get_connection_params()
