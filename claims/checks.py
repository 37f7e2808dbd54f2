"""System checks of what the ledger's integrity rests on.

Each is a warning when the project runs, and an error under
`manage.py check --deploy`: in production the app's database role must not
be able to rewrite the ledger, and checkpoints must be signed.
"""

from __future__ import annotations

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from claims.ledger import checkpoints, database


def _ledger_role(level):
    def check(app_configs=None, databases=None, **kwargs):
        if databases is not None and DEFAULT_DB_ALIAS not in databases:
            return []
        try:
            problems = database.app_role_problems(using=DEFAULT_DB_ALIAS)
        except DatabaseError as exc:
            return [
                checks.Warning(
                    f"Could not check the app's database role: {exc}".strip(),
                    id="claims.W002",
                )
            ]
        return [
            level(
                f"The ledger is not protected from the app's own database role: {problem}.",
                hint="Connect as a role that does not own the tables (DATABASE_URL) and run "
                "migrations as the owner (DATABASE_OWNER_URL); see README, Database roles.",
                id="claims.E001" if level is checks.Error else "claims.W001",
            )
            for problem in problems
        ]

    return check


def _signing_key(level):
    def check(app_configs=None, **kwargs):
        try:
            signer = checkpoints.signer()
            if signer is not None:
                name = signer.name
                if name == checkpoints.origin():
                    return []
                message = (
                    f"The ledger signing key is named {name!r}, but the checkpoints' origin is "
                    f"{checkpoints.origin()!r}: verifiers expect the key to carry the log's name."
                )
            else:
                message = "No ledger signing key: checkpoints of the ledger are not signed."
        except (OSError, ValueError) as exc:
            message = f"The ledger signing key cannot be used: {exc}"
        return [
            level(
                message,
                hint="Set LEDGER_ORIGIN once and for all (checkpoints under another origin "
                "cannot be proved consistent with these), and LEDGER_SIGNING_KEY_FILE to a file "
                "made with `manage.py ensure_signing_key --file PATH` (or LEDGER_SIGNING_KEY).",
                id="claims.E003" if level is checks.Error else "claims.W003",
            )
        ]

    return check


def register() -> None:
    checks.register(_ledger_role(checks.Warning), checks.Tags.database)
    checks.register(_ledger_role(checks.Error), checks.Tags.security, deploy=True)
    checks.register(_signing_key(checks.Warning))
    checks.register(_signing_key(checks.Error), checks.Tags.security, deploy=True)
