"""The project's PostgreSQL backend, pointed at the embedded server on first connect.

Starting the server lazily means commands that never touch the database
(`manage.py help`, `makemigrations --check` on a clean tree, ruff) start
nothing. On first connect it also creates the two roles (the tables' owner
and the app's role, see factcheck.db.roles) and the project's database,
owned by the owner.
"""

from typing import Any

from django.conf import settings

from factcheck.db import roles
from factcheck.db.postgresql import base
from factcheck.db.server import ensure_roles_and_database, ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        endpoint = ensure_server(settings.EMBEDDED_PGDATA)
        self.settings_dict.update(HOST=endpoint.host, PORT=endpoint.port)
        # Test databases are created (and dropped) by Django's test machinery,
        # as the owner; only the roles and the project's own database are made here.
        ensure_roles_and_database(
            endpoint,
            name=settings.EMBEDDED_DATABASE_NAME,
            owner=roles.owner_role(self.settings_dict),
            app=roles.app_role(self.settings_dict),
        )
        return super().get_connection_params()
