"""Migrations carry copies of what they need; these tests pin the copies to the live rules."""

from __future__ import annotations

import importlib

from claims.ledger import entries, verifier
from claims.models import Claim
from claims.roles import ROLES
from tests.factories import PublicationFactory, VerdictFactory

ledger_v2 = importlib.import_module("claims.migrations.0007_ledger_v2_corrections_tree")
roles_0003 = importlib.import_module("claims.migrations.0003_roles")
roles_0005 = importlib.import_module("claims.migrations.0005_search_and_editor_permissions")
webhooks_0014 = importlib.import_module("claims.migrations.0014_webhooks")
pages_tips_0017 = importlib.import_module("claims.migrations.0017_site_pages_tips")


def test_the_format_2_migration_hashes_entries_exactly_as_the_ledger_does(claim, editor, source):
    PublicationFactory(claim=claim, editor=editor)
    entry = VerdictFactory(
        claim=claim,
        editor=editor,
        explanation="The report gives 9.1 million tonnes — “not 12”.",
        evidence=[source],
        note="Checked by phone.",
    )
    evidence = entries.evidence_of(entry)

    frozen = ledger_v2.entry_header_bytes(entry, evidence)

    live = verifier.entry_bytes(entries.entry_header(entry, entries.entry_body(entry, evidence)))
    assert frozen == live
    assert ledger_v2.sha256_hex(frozen) == entry.entry_hash
    stored_claim = Claim.objects.select_related("speaker").get(pk=claim.pk)
    # The migration's frozen copy gives format 2's keys; entries since commit to the
    # fields added later too (entries.ADDED_LATER), blank here, which reads the same.
    frozen_content = ledger_v2.claim_content(stored_claim)
    assert frozen_content == {
        key: value for key, value in entry.claim_content.items() if key in frozen_content
    }
    assert set(entry.claim_content) - set(frozen_content) == set(entries.ADDED_LATER)
    assert entries.same_content(frozen_content, entry.claim_content)
    stored: dict[int, bytes] = {}
    for n in range(9):
        data = f"leaf {n}".encode()
        frozen_hashes = ledger_v2.stored_hashes(n, data, stored)
        live_hashes = verifier.stored_hashes(n, data, lambda ix: [stored[i] for i in ix])
        assert frozen_hashes == live_hashes
        first = verifier.stored_hash_index(0, n)
        assert ledger_v2.stored_hash_index(0, n) == first
        stored.update({first + k: h for k, h in enumerate(frozen_hashes)})


def test_the_role_migrations_add_up_to_the_roles_defined_today():
    migrated = {name: set(perms) for name, perms in roles_0003.ROLES.items()}
    migrated["Editors"] |= set(roles_0005.EDITORS_GAIN)
    migrated["Editors"] |= set(webhooks_0014.EDITORS_GAIN)
    migrated["Editors"] |= set(pages_tips_0017.EDITORS_GAIN)
    migrated["Contributors"] |= set(pages_tips_0017.CONTRIBUTORS_GAIN)
    # A role changed in claims/roles.py needs a migration of its own.
    assert migrated == {name: set(perms) for name, perms in ROLES.items()}
