"""`runserver` (staticfiles' own), whose autoreloader holds the embedded server.

With the autoreloader on, runserver is two processes: the one started (the
reloader) runs the server in a child and starts a new child on every code
change. Only the child uses the database, yet the reloader is what `make
run`'s caller signals: on SIGTERM it kills the child with SIGKILL, which
cannot take itself out of the embedded server's list of users, so the server
kept running. Here the reloader joins the server too, before its first
child: on SIGTERM, Ctrl-C or a child's crash it exits normally, drops the
killed child from the list and, being the last user, stops the server
(factcheck.db.server). The server also stays up while children are replaced.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.utils import autoreload

from factcheck.db.server import ensure_server, uses_embedded_server


class Command(RunserverCommand):
    def run(self, **options: Any) -> None:
        is_reloader = options["use_reloader"] and not os.environ.get(
            autoreload.DJANGO_AUTORELOAD_ENV
        )
        if is_reloader and uses_embedded_server():
            ensure_server(settings.EMBEDDED_PGDATA)
        super().run(**options)
