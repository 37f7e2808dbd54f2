from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations
from django.test import Client, TransactionTestCase
from django.test.utils import setup_databases, teardown_databases

from claims.ledger import verifier
from claims.ledger.database import append_only_tables
from claims.seeding import load_seed_file
from factcheck.db.roles import as_owner
from tests.factories import (
    ClaimFactory,
    ContributorFactory,
    EditorFactory,
    SourceFactory,
    SpeakerFactory,
    reset_sequences,
)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """The test database, created and migrated by the owner of the tables.

    The tests themselves connect as the app's role, as the running project
    does, so they exercise its privileges (factcheck.db.roles).
    """
    verbosity = request.config.option.verbose
    # A test database of this run's own, so that two runs (a developer's and a
    # tool's, or two checkouts sharing the embedded server) never drop each
    # other's database.
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if not test_settings.get("NAME"):
        test_settings["NAME"] = f"test_{connection.settings_dict['NAME']}_{os.getpid()}"
    with django_db_blocker.unblock(), as_owner():
        config = setup_databases(verbosity=verbosity, interactive=False, keepdb=False)
    yield
    with django_db_blocker.unblock(), as_owner():
        teardown_databases(config, verbosity=verbosity)


# Transactional tests reset the database with TRUNCATE. The app's role may
# not truncate, and the ledger's triggers refuse TRUNCATE from any role; the
# owner lifts those triggers for the reset alone, in its transaction.
_teardown = TransactionTestCase._fixture_teardown
_flush = DatabaseOperations.execute_sql_flush


def _fixture_teardown_as_owner(self):
    with as_owner():
        _teardown(self)


def _flush_with_guards_lifted(self, sql_list):
    tables = append_only_tables()
    lift = [f'ALTER TABLE "{table}" DISABLE TRIGGER USER' for table in tables]
    restore = [f'ALTER TABLE "{table}" ENABLE TRIGGER USER' for table in tables]
    # The published-claim counters (migration 0008) are no model's table: TRUNCATE of
    # the models' leaves them counting claims that are gone, for the next test to read.
    counters = ["DELETE FROM claims_published_count"] if sql_list else []
    return _flush(self, [*lift, *sql_list, *counters, *restore])


TransactionTestCase._fixture_teardown = _fixture_teardown_as_owner
DatabaseOperations.execute_sql_flush = _flush_with_guards_lifted


@pytest.fixture(scope="session")
def signing_key() -> str:
    """A checkpoint signing key for this test run, generated afresh."""
    return verifier.generate_key(settings.LEDGER_ORIGIN)[0]


@pytest.fixture(autouse=True)
def _ledger_checkpoints(settings, signing_key, tmp_path):
    """Every test signs with the run's key into a log of its own: a transactional
    test's ledger starts from nothing, and must not meet another test's log."""
    settings.LEDGER_SIGNING_KEY = signing_key
    settings.LEDGER_CHECKPOINT_LOG = tmp_path / "checkpoints-{database}.jsonl"


@pytest.fixture(autouse=True)
def _verdicts_without_evidence(settings):
    """The desk's evidence rule (settings.REQUIRE_VERDICT_EVIDENCE, on by default) off,
    for the many tests about something else that record a verdict citing nothing, as
    a desk with the rule off does. The tests of the rule turn it on themselves
    (tests/claims/test_verdict_evidence.py), and so does the editor's day in a browser;
    the factories stay faithful to what a test passes in (a verdict's evidence is part
    of what its ledger entry hashes, which many tests compare)."""
    settings.REQUIRE_VERDICT_EVIDENCE = False


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """The page cache (claims.page_cache) off: many tests count the queries of an
    anonymous GET, or GET a page twice. Its own tests turn it on
    (tests/scaleout/test_page_cache.py)."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _factory_sequences():
    """Every test's factory-made values are the same whichever tests ran before."""
    reset_sequences()


@pytest.fixture
def seeded(db):
    """The real seed file, loaded."""
    return load_seed_file(settings.SEEDS_DIR / "ledger.yaml")


@pytest.fixture
def editor(db):
    return EditorFactory(username="ed")


@pytest.fixture
def second_editor(db):
    return EditorFactory(username="ed2")


@pytest.fixture
def contributor(db):
    return ContributorFactory(username="contrib")


@pytest.fixture
def client_for(db):
    """A function from a user to a test client signed in as them (`force_login`,
    no password): `client_for(editor).get(url)`. `client_for(None)` is an anonymous
    client, for tests that go through the roles including no one; pass
    `enforce_csrf_checks=True` for a client that sends no CSRF token, as a forged
    form would."""

    def signed_in(user, *, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if user is not None:
            client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def speaker(db):
    return SpeakerFactory(name="Ada Example", slug="ada-example", role="Minister")


SNAPSHOT = (
    "The minister said the port handled \u201c12 million tonnes\u201d last year.\n"
    "Critics said: \u201cThat number is wrong.\u201d The minister\u2019s office  disagreed."
)


@pytest.fixture
def source(db):
    return SourceFactory(slug="port-article", title="Port article", snapshot=SNAPSHOT)


@pytest.fixture
def claim(db, speaker):
    """A numeric draft: 12 million tonnes, by the speaker above."""
    return ClaimFactory(
        slug="port-12-million-tonnes",
        statement="The port handled 12 million tonnes last year.",
        speaker=speaker,
        numeric=True,
    )


@pytest.fixture(autouse=True)
def _no_word_statistics(monkeypatch):
    """The claim page reads PostgreSQL's word statistics once per LEXEME_STATS_SECONDS
    (claims.search): as if just read, and empty, so that no test counts that query."""
    import time

    from claims import search

    monkeypatch.setattr(search, "_lexeme_stats", (time.monotonic(), {}))
