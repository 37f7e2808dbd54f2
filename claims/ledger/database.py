"""What each database role may do to the ledger's tables.

Migrations run as the owner of the tables (factcheck.db.roles); after every
`migrate`, the owner grants the app's role what the running app needs and
no more. On the append-only tables (the review ledger, its evidence, its
Merkle tree, the verdicts proposed for sign-off and their decisions, and the
edit history) that is SELECT and INSERT: the app's
role can never UPDATE, DELETE or TRUNCATE them, nor ALTER them or disable
their triggers (only an owner can), whatever its session sets.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections
from psycopg import sql

from factcheck.db import roles


def append_only_tables() -> list[str]:
    """The ledger's tables and the edit history's: written once, never changed."""
    import pghistory.models

    from claims.models import (
        LedgerTreeHash,
        ProposalDecision,
        ProposalEvidence,
        Review,
        ReviewEvidence,
        VerdictProposal,
    )

    models = [Review, ReviewEvidence, LedgerTreeHash]
    # The second-editor sign-off's record: what was proposed, and what became of it.
    models += [VerdictProposal, ProposalEvidence, ProposalDecision]
    models += [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.abstract
    ]
    return sorted({model._meta.db_table for model in models})


def grant_app_privileges(*, using: str) -> bool:
    """Grant the app's role its privileges; False when app and owner are one role."""
    connection = connections[using]
    if not roles.has_separate_owner(connection.settings_dict):
        return False
    app = sql.Identifier(roles.app_role(connection.settings_dict))
    append_only = sql.SQL(", ").join(sql.Identifier(table) for table in append_only_tables())
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            app
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(app),
        # Which migrations ran is the owner's record.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {}").format(app),
        sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(append_only, app),
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return True


def app_role_problems(*, using: str) -> list[str]:
    """What the connected (app) role could do to the ledger that it must not."""
    connection = connections[using]
    tables = append_only_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        if superuser:
            return [f"the app connects as {user!r}, a superuser: it can rewrite the ledger"]
        cursor.execute(
            """
            SELECT c.relname,
                   pg_has_role(current_user, c.relowner, 'USAGE') AS owns,
                   has_table_privilege(c.oid, 'UPDATE') AS can_update,
                   has_table_privilege(c.oid, 'DELETE') AS can_delete,
                   has_table_privilege(c.oid, 'TRUNCATE') AS can_truncate
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
            ORDER BY c.relname
            """,
            [tables],
        )
        rows = cursor.fetchall()
    owned = [table for table, owns, *_ in rows if owns]
    if owned:
        return [
            f"the app's role {user!r} owns the append-only tables ({', '.join(owned)}): it can "
            "alter them, disable their triggers and rewrite the ledger"
        ]
    problems = []
    for table, _owns, can_update, can_delete, can_truncate in rows:
        allowed = [
            name
            for name, allowed in (
                ("UPDATE", can_update),
                ("DELETE", can_delete),
                ("TRUNCATE", can_truncate),
            )
            if allowed
        ]
        if allowed:
            problems.append(f"the app's role {user!r} may {', '.join(allowed)} {table}")
    return problems
