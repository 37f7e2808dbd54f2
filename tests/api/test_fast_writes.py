"""A verdict through the API without waste: no savepoints inside the request's
transaction, the entry answered as written (not read back), the checkpoint
signed from one read of the tree."""

from __future__ import annotations

import importlib

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from pghistory.models import Events

from claims.ledger import checkpoints, tree
from claims.models import LEDGER_LOCK_KEY, Claim, Review
from claims.services import VersionConflict, record_review
from tests.api.test_ledger_api import body, reviews_url
from tests.factories import CorrectionFactory, PublicationFactory, SourceFactory, VerdictFactory

pytestmark = pytest.mark.django_db


def test_a_verdict_runs_a_fixed_number_of_queries(
    editor_client, claim, editor, source, django_assert_num_queries
):
    PublicationFactory(claim=claim, editor=editor)
    version = Claim.objects.get(pk=claim.pk).version
    evidence = [source.slug, SourceFactory().slug]
    # The token; the claim, locked (the write uses that read); the evidence; the
    # editor's permissions (one query); the ledger's lock and tip (one function); the
    # evidence's snapshot hashes; the entry, its evidence, its tree hashes and the
    # claim's update (one function); the request's own savepoint and its release
    # (tests run inside a transaction). This entry completes no subtree: no tree read.
    with django_assert_num_queries(10):
        response = editor_client.post(
            reviews_url(claim), body(version, evidence=evidence), format="json"
        )
    assert response.status_code == 201, response.content


def test_the_answer_is_the_entry_as_the_ledger_reads_it(editor_client, claim, editor, source):
    """Answered from memory, the entry shows exactly what a read of it shows,
    byte for byte: evidence, the JSON fields in the order PostgreSQL keeps them."""
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(claim=claim, editor=editor, status="false")
    CorrectionFactory(
        claim=claim.slug, editor=editor, changes={"statement": "Corrected.", "unit": "t"}
    )
    version = Claim.objects.get(pk=claim.pk).version
    evidence = [SourceFactory().slug, source.slug]
    posted = editor_client.post(
        reviews_url(claim),
        body(version, evidence=evidence, note="Internal.", explanation="Now **this**."),
        format="json",
    )
    assert posted.status_code == 201, posted.content
    listed = editor_client.get(reviews_url(claim))
    newest = listed.json()[0]
    assert posted.json() == newest
    # The ledger's list opens with the newest entry: the same bytes.
    assert listed.content[1 : 1 + len(posted.content)] == posted.content
    assert [item["source"] for item in newest["evidence"]] == evidence


def test_a_refusal_leaves_the_callers_transaction_usable(claim, editor):
    with transaction.atomic():
        with pytest.raises(VersionConflict):
            record_review(
                claim=claim,
                editor=editor,
                status="false",
                explanation="Why.",
                expected_version=claim.version + 5,
            )
        assert Claim.objects.filter(pk=claim.pk).exists()
        entry = record_review(
            claim=claim,
            editor=editor,
            status="false",
            explanation="Why.",
            expected_version=Claim.objects.get(pk=claim.pk).version,
        )
    assert Review.objects.get().pk == entry.pk


def test_a_failure_once_writing_began_rolls_back_the_whole_transaction(claim, editor, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the tree is unwritable")

    monkeypatch.setattr(tree, "new_hashes", broken)
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            record_review(
                claim=claim,
                editor=editor,
                status="false",
                explanation="Why.",
                expected_version=claim.version,
            )
        # Half an entry (stored, without its tree hash) can never commit.
        assert transaction.get_rollback()
        with pytest.raises(TransactionManagementError):
            Review.objects.count()
    assert not Review.objects.exists()


def test_signing_reads_the_tree_once(claim, editor, django_assert_num_queries):
    signed = None
    for status in ["false", "misleading", "mostly_true"]:
        VerdictFactory(claim=claim, editor=editor, status=status)
        # The ledger's size, then every stored hash both roots and the new leaves need.
        with django_assert_num_queries(2):
            signed = checkpoints.sign_latest()
        assert signed is not None
        assert signed.size == tree.size()
        assert signed.root == tree.root(signed.size)
        assert list(signed.leaves) == tree.leaf_hashes(signed.size - 1, signed.size)
    # Nothing new: still one read of the tree, to check the signed root.
    with django_assert_num_queries(2):
        assert checkpoints.sign_latest() == signed


def test_the_claims_history_names_the_editor_of_a_verdict_and_of_a_correction(
    editor_client, claim, editor
):
    """The write is one function call: pghistory's context still reaches the claim's
    history events, as it does for any write of a request."""
    PublicationFactory(claim=claim, editor=editor)
    version = Claim.objects.get(pk=claim.pk).version
    assert editor_client.post(reviews_url(claim), body(version), format="json").status_code == 201
    CorrectionFactory(claim=claim.slug, editor=editor, changes={"statement": "Corrected words."})

    verdict_event, *_ = Events.objects.tracks(claim).filter(pgh_diff__has_key="status")
    assert verdict_event.pgh_diff["status"][1] == "false"
    assert verdict_event.pgh_context["user"] == editor.pk
    assert verdict_event.pgh_context["url"] == reviews_url(claim)
    correction_event = Events.objects.tracks(claim).get(pgh_diff__has_key="statement")
    assert correction_event.pgh_diff["statement"][1] == "Corrected words."
    stored = Claim.objects.get(pk=claim.pk)
    assert stored.statement == "Corrected words."
    assert stored.version == Review.objects.filter(claim=claim).latest("sequence").claim_version


def test_every_taker_of_the_ledgers_lock_takes_the_same_key():
    """The chain trigger (0002) and the locked tip (0012) must serialise on one key."""
    for name in ["0002_ledger_guards", "0012_ledger_write_in_one_statement"]:
        migration = importlib.import_module(f"claims.migrations.{name}")
        assert migration.LEDGER_LOCK_KEY == LEDGER_LOCK_KEY
