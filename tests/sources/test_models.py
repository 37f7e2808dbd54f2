import hashlib

import pytest
from django.db import IntegrityError, connection, transaction

from sources.models import Source
from tests.factories import SourceFactory


def test_the_snapshot_hash_is_computed_by_the_database(db):
    text = "Caf\u00e9 \u201cquoted\u201d\r\nline two"
    source = SourceFactory(snapshot=text)

    assert source.snapshot_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_typed_hash_cannot_be_stored(db):
    source = SourceFactory(snapshot="text")
    with (
        pytest.raises(Exception, match="generated column"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE sources_source SET snapshot_sha256 = %s WHERE id = %s",
            ["0" * 64, source.pk],
        )


def test_retrieval_time_is_set_by_the_program(db):
    source = SourceFactory(snapshot="text")
    assert source.retrieved_at is not None
    assert "retrieved_at" not in [f.name for f in Source._meta.get_fields() if f.editable]


def test_two_sources_cannot_share_a_url_but_many_can_have_none(db):
    SourceFactory.create_batch(2)
    SourceFactory(url="https://example.org/a")
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(url="https://example.org/a")


def test_an_empty_snapshot_is_refused(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(snapshot="")
