"""Export, restore into an empty database, export again: the same bytes, the same ledger.

These tests commit (transactional): the restore writes into a database that the
owner's flush emptied (tests/exchange/conftest.py), with the ledger's triggers as
in production; `manage.py restore` runs as the owner of the tables, as `migrate`
does (tests/exchange/test_refusals.py restores as the app's own role too).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from claims.exchange.restore import non_empty_sections
from claims.ledger import checkpoints
from claims.ledger.verification import verify_ledger
from claims.models import Claim, ExternalReview, Review
from tests.exchange.conftest import EMAIL, NUMERIC_SLUG, PASSWORD, build_desk, empty_database
from tests.exchange.conftest import row_counts as counts

pytestmark = pytest.mark.django_db(transaction=True)


def _pages(client, slug: str) -> tuple[bytes, dict]:
    page = client.get(f"/claims/{slug}/")
    assert page.status_code == 200
    api = client.get(f"/api/v1/claims/{slug}/")
    assert api.status_code == 200
    return page.content, api.json()


def test_export_restore_export_is_byte_identical_and_the_ledger_verifies(
    client, export_path: Path, tmp_path: Path
):
    build_desk(seeds=True)
    before = verify_ledger()
    assert before.ok, before.problems
    page_before, api_before = _pages(client, NUMERIC_SLUG)
    derived = _derived()
    held = counts()
    log = checkpoints.log_path()
    log_bytes = log.read_bytes()

    call_command("export", str(export_path), "--no-progress", "--verify", verbosity=0)
    first = export_path.read_bytes()

    empty_database()
    assert non_empty_sections() == []
    log.unlink()  # a new server: the log comes from the file

    call_command("restore", str(export_path), "--no-progress", verbosity=0)

    assert counts() == held  # the history restored as it was, not recorded anew
    assert _derived() == derived  # search vectors and published counters, by the triggers
    assert log.read_bytes() == log_bytes  # the checkpoint log, byte for byte
    after = verify_ledger()
    assert after.ok, after.problems
    assert (after.entries, after.root) == (before.entries, before.root)
    assert after.last.entry_hash == before.last.entry_hash
    assert after.checkpoints_checked == before.checkpoints_checked > 0
    call_command("verify_ledger", verbosity=0)

    again = tmp_path / "again.jsonl"
    call_command("export", str(again), "--no-progress", verbosity=0)
    assert again.read_bytes() == first

    # The readers' pages and the API show the same claim, its verdict, quote and review.
    page_after, api_after = _pages(client, NUMERIC_SLUG)
    assert api_after == api_before
    claim = Claim.objects.get(slug=NUMERIC_SLUG)
    for text in (
        claim.statement,
        "Zoë Example",
        "12 million tonnes",
        "Other Checker",
        "Court filing",
    ):
        assert text.encode() in page_after
        assert text.encode() in page_before
    # Accounts come back by id and name, in their groups, without a usable password.
    editor = Review.objects.get(sequence=after.entries).editor
    assert editor.has_perm("claims.record_review")
    ed = type(editor).objects.get(username="ed")
    assert (ed.first_name, ed.last_name, ed.email) == ("Ada", "Ödön-Lovelace", "")
    assert not ed.has_usable_password() and not ed.check_password(PASSWORD)
    assert ExternalReview.objects.get().extra["large"] == 10**30

    # A second restore finds a database that is not empty, and writes nothing.
    with pytest.raises(CommandError, match="the database is not empty: it already holds users"):
        call_command("restore", str(export_path), "--no-progress", verbosity=0)
    assert counts() == held


def _derived() -> dict[str, object]:
    """What triggers derive from the rows: the claims' search vectors, the counters."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, search_vector::text FROM claims_claim ORDER BY id")
        vectors = cursor.fetchall()
        cursor.execute(
            "SELECT scope, key, n FROM claims_published_count WHERE n > 0 ORDER BY scope, key"
        )
        published = cursor.fetchall()
    assert vectors and published
    return {"vectors": vectors, "published": published}


def test_the_file_holds_no_password_email_or_token(export_path: Path):
    from rest_framework.authtoken.models import Token

    build_desk()
    call_command("export", str(export_path), "--no-progress", verbosity=0)
    data = export_path.read_bytes()
    token = Token.objects.get().key
    for secret in (EMAIL, "reader@desk.example.org", token, "md5$", PASSWORD, "last_login"):
        assert secret.encode() not in data
    assert b'"username":"ed"' in data


def test_refused_into_a_database_that_is_not_empty(export_path: Path):
    build_desk()
    call_command("export", str(export_path), "--no-progress", verbosity=0)
    held = counts()
    log = checkpoints.log_path().read_bytes()

    with pytest.raises(CommandError, match="nothing was written: the database is not empty"):
        call_command("restore", str(export_path), "--no-progress", verbosity=0)
    with pytest.raises(CommandError, match="the database is not empty"):
        call_command("restore", str(export_path), "--check", verbosity=0)

    assert counts() == held
    assert checkpoints.log_path().read_bytes() == log
    assert verify_ledger().ok
