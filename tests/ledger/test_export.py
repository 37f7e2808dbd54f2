"""The ledger export reads plain rows through a server-side cursor and encodes
with orjson: its bytes must stay exactly what the ORM-built export wrote."""

from __future__ import annotations

import json

import pytest
from django.db.models import Prefetch

from claims.ledger import entries, export, verifier
from claims.models import Claim, Review, ReviewEvidence
from claims.sign_off import approve_proposal, propose_verdict
from tests.factories import CorrectionFactory, VerdictFactory

pytestmark = pytest.mark.django_db


def orm_export(*, full: bool) -> bytes:
    """The export as it was built before the row reader: Review instances with their
    claim, editor and evidence, the header from entries.entry_header, json.dumps."""
    reviews = (
        Review.objects.select_related("claim", "editor", "approved_by")
        .prefetch_related(
            Prefetch(
                "evidence_links",
                queryset=ReviewEvidence.objects.select_related("source").order_by("position"),
            )
        )
        .order_by("sequence")
    )
    out = []
    for review in reviews:
        body = entries.entry_body(review, entries.evidence_of(review))
        header = entries.entry_header(review, body)
        line = {
            "sequence": review.sequence,
            "created_at": header["created_at"],
            "previous_hash": review.previous_hash,
            "body_sha256": header["body_sha256"],
            "entry_hash": review.entry_hash,
            "leaf_index": review.leaf_index,
        }
        if full or review.claim.is_published:
            line |= {"body": body, "claim": review.claim.slug, "editor": review.editor.username}
            if review.approved_by is not None:
                line["approved_by"] = review.approved_by.username
        else:
            line["redacted"] = True
        if full:
            line |= {"note": review.note, "note_salt": review.note_salt}
        out.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return b"".join(out)


@pytest.mark.parametrize("full", [False, True])
def test_export_is_byte_identical_to_the_orm_export_on_the_seeds(
    seeded, editor, second_editor, full
):
    # Evidence, a correction (changes), a note, a verdict signed off by a second
    # editor, and a draft's redacted entry too.
    claim = Claim.objects.filter(published_at__isnull=False).order_by("pk")[0]
    sources = list(claim.appearances.values_list("source", flat=True))
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="misleading",
        explanation="Näive “quotes”, a tab\tand a line\nbreak; **bold** \u2028.",
        note="Called the office \x1f.",
        evidence=[a.source for a in claim.appearances.all()][:2],
    )
    CorrectionFactory(claim=claim.slug, editor=editor, changes={"statement": "Fixed wörding."})
    for other in Claim.objects.exclude(pk=claim.pk).order_by("pk")[:2]:
        proposal = propose_verdict(
            claim=other,
            editor=editor,
            status="mixed",
            explanation="Signed off.",
            expected_version=other.version,
        )
        approve_proposal(proposal=proposal, editor=second_editor)
    assert sources
    expected = orm_export(full=full)
    assert expected.count(b"\n") == Review.objects.count()
    assert b"".join(export.export_lines(full=full, chunk_size=7)) == expected
    assert b'"approved_by":"ed2"' in expected
    report = verifier.verify_export(
        expected.splitlines(keepends=True), checkpoint_note=None, verifier_key=None
    )
    assert report.ok, report.problems
    if not full:
        assert b'"redacted":true' in expected or not Claim.objects.drafts().exists()


def test_export_runs_one_query_whatever_the_ledger_size(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        lines = list(export.export_lines(full=False, chunk_size=5))
    assert len(lines) == Review.objects.count()


@pytest.mark.django_db(transaction=True)
def test_the_export_reads_in_a_transaction_so_its_cursor_streams(seeded):
    """Outside a transaction Django declares the server-side cursor WITH HOLD, and
    PostgreSQL computes the whole result before the first row: seconds at a million
    entries. In one, rows stream as they are read."""
    from django.db import connection

    assert not connection.in_atomic_block
    lines = export.export_lines(full=False, chunk_size=5)
    first = next(lines)
    assert connection.in_atomic_block  # held open while the export is read
    rest = list(lines)
    assert not connection.in_atomic_block
    assert 1 + len(rest) == Review.objects.count()
    assert first.startswith(b'{"sequence":1,')


@pytest.mark.parametrize(
    "value",
    [
        "".join(chr(c) for c in range(0x20)) + '"\\/\x7f',
        "é “quotes” \u2028\u2029 \U0001f600 日本",
        "",
    ],
)
def test_orjson_encodes_a_line_as_json_dumps_did(value):
    line = {"s": value, "n": 2**53 - 1, "none": None, "t": True, "l": [1, {"k": value}]}
    legacy = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    assert export.encode_line(line) == legacy
