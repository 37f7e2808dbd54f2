"""pgtrigger's and pghistory's per-row helper functions, without a subtransaction each.

Every history trigger (pghistory, built on pgtrigger) calls two SQL functions for
each row it records: `_pgtrigger_should_ignore`, which reads the `pgtrigger.ignore`
setting, and `_pgh_attach_context`, which reads pghistory's context. Both read
their setting inside `BEGIN ... EXCEPTION WHEN OTHERS`, because the setting may
be missing: in PL/pgSQL every such block is a subtransaction, two per row. For an
import of ten thousand claims they were two thirds of the database's time (2.0 of
2.9 s), and they cost every verdict too.

The versions below read the settings with `current_setting(name, true)`, which
answers NULL for a missing setting, and treat an empty one (what a transaction-local
setting leaves behind) as missing, as the originals' exception handlers did. They
answer the same for every input (tests/factcheck/test_trigger_helpers.py).

Both libraries recreate their versions when they install a trigger (pgtrigger with
every trigger's SQL, pghistory in its migrations), so these are installed again
after every `migrate` (claims.apps, post_migrate), last.
"""

from __future__ import annotations

from django.db import connections

SHOULD_IGNORE = r"""
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    _pgtrigger_ignore TEXT[] := NULLIF(current_setting('pgtrigger.ignore', true), '')::text[];
BEGIN
    IF _pgtrigger_ignore IS NULL THEN
        RETURN FALSE;
    END IF;
    RETURN trigger_name = ANY(_pgtrigger_ignore);
END
$$;
"""

ATTACH_CONTEXT = r"""
CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS UUID LANGUAGE plpgsql AS $$
DECLARE
    _pgh_context_id UUID := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
    _pgh_context_metadata JSONB :=
        NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
BEGIN
    IF _pgh_context_id IS NOT NULL AND _pgh_context_metadata IS NOT NULL THEN
        INSERT INTO pghistory_context (id, metadata, created_at, updated_at)
            VALUES (_pgh_context_id, _pgh_context_metadata, NOW(), NOW())
            ON CONFLICT (id) DO UPDATE
                SET metadata = EXCLUDED.metadata,
                    updated_at = EXCLUDED.updated_at
                WHERE pghistory_context.metadata != EXCLUDED.metadata;
        RETURN _pgh_context_id;
    END IF;
    RETURN NULL;
END
$$;
"""


def install(*, using: str) -> None:
    """Replace the two helpers (as the functions' owner: run from `migrate`)."""
    with connections[using].cursor() as cursor:
        cursor.execute(SHOULD_IGNORE)
        cursor.execute(ATTACH_CONTEXT)
