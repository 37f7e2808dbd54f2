"""The history triggers' helper functions, ours after every migrate and answering as
the libraries' own (factcheck.db.trigger_helpers)."""

from __future__ import annotations

import json
import uuid

import pgtrigger
import pytest
from django.db import connection, transaction
from pghistory.models import Events

from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def _scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_installed_helpers_are_the_ones_without_a_subtransaction():
    for name in ["_pgtrigger_should_ignore", "_pgh_attach_context"]:
        source = _scalar("SELECT prosrc FROM pg_proc WHERE proname = %s", [name])
        assert "EXCEPTION" not in source.upper(), name
        assert ", true)" in source, name


# Transactional: what a transaction-local setting leaves once its transaction ends.
@pytest.mark.django_db(transaction=True)
def test_should_ignore_answers_as_pgtriggers_own():
    assert _scalar("SELECT _pgtrigger_should_ignore('a_trigger')") is False
    with transaction.atomic():
        _scalar("SELECT set_config('pgtrigger.ignore', '{a_trigger,another}', true)")
        assert _scalar("SELECT _pgtrigger_should_ignore('a_trigger')") is True
        assert _scalar("SELECT _pgtrigger_should_ignore('third')") is False
    # A transaction-local setting leaves '' behind, not nothing: still nothing ignored.
    assert _scalar("SELECT current_setting('pgtrigger.ignore', true)") in ("", None)
    assert _scalar("SELECT _pgtrigger_should_ignore('a_trigger')") is False


@pytest.mark.django_db(transaction=True)
def test_attach_context_records_the_context_once_set_and_nothing_otherwise():
    assert _scalar("SELECT _pgh_attach_context()") is None
    context_id = uuid.uuid4()
    with transaction.atomic():
        _scalar("SELECT set_config('pghistory.context_id', %s, true)", [str(context_id)])
        _scalar("SELECT set_config('pghistory.context_metadata', %s, true)", ['{"user": 7}'])
        assert _scalar("SELECT _pgh_attach_context()") == context_id
        stored = _scalar("SELECT metadata FROM pghistory_context WHERE id = %s", [context_id])
        assert json.loads(stored) == {"user": 7}
    assert _scalar("SELECT _pgh_attach_context()") is None


def test_ignoring_a_history_trigger_from_python_still_works(speaker):
    with pgtrigger.ignore("claims.Claim:insert_insert"):
        quiet = ClaimFactory(speaker=speaker, slug="quiet")
    recorded = ClaimFactory(speaker=speaker, slug="recorded")
    assert not Events.objects.tracks(quiet).exists()
    assert Events.objects.tracks(recorded).filter(pgh_label="insert").exists()
