"""Django's PostgreSQL backend, connecting as the app's role or as the owner's.

The running app connects as a role that may read the ledger and append to
it, nothing more; migrations (and the test suite's set-up and resets) run as
the role that owns the tables. `settings.DATABASES["default"]["OWNER"]`
holds the owner's credentials; `factcheck.db.roles.as_owner()` switches the
process's connections to them.
"""

from typing import Any

from django.db.backends.postgresql import base

from factcheck.db import roles


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if roles.owner_mode_active():
            params.update(roles.owner_credentials(self.settings_dict))
        return params
