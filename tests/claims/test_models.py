import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from claims.models import Appearance, Claim, Quote
from claims.ratings import BY_VALUE, RATINGS, Status, get_rating
from claims.services import add_appearance, anchor_quote
from tests.factories import ClaimFactory, SourceFactory, SpeakerFactory


def test_a_numeric_claim_needs_a_quantity(speaker):
    with pytest.raises(IntegrityError, match="claim_numeric_has_quantity"), transaction.atomic():
        ClaimFactory.build(speaker=speaker, kind=Claim.Kind.NUMERIC).save()


def test_a_quantity_needs_a_unit(speaker):
    claim = ClaimFactory.build(speaker=speaker, kind=Claim.Kind.NUMERIC, quantity=3)
    with pytest.raises(ValidationError, match="A quantity needs its unit"):
        claim.full_clean()
    with pytest.raises(IntegrityError, match="claim_quantity_has_unit"), transaction.atomic():
        claim.save()


def test_the_database_refuses_a_status_outside_the_scale(claim):
    with pytest.raises(IntegrityError, match="claim_status_valid"), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(status="pants_on_fire")


def test_slugs_are_unique(claim, speaker):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimFactory.build(speaker=speaker, slug=claim.slug).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        SpeakerFactory(name="Other", slug=speaker.slug)


def test_a_speaker_with_claims_cannot_be_deleted(claim, speaker):
    with pytest.raises(Exception, match="protected"), transaction.atomic():
        speaker.delete()


def test_anchor_quote_stores_the_span_the_program_found(source, speaker):
    quote, _ = anchor_quote(source=source, speaker=speaker, words='"That number is wrong."')

    assert quote.exact == "\u201cThat number is wrong.\u201d"
    assert source.snapshot[quote.start : quote.end] == quote.exact
    assert quote.selectors[1] == {
        "type": "TextPositionSelector",
        "start": quote.start,
        "end": quote.end,
    }
    # Anchoring the same words again gives the same quote, not a duplicate.
    assert (
        anchor_quote(source=source, speaker=speaker, words="\u201cThat number is wrong.\u201d")[0]
        == quote
    )


def test_anchor_quote_refuses_missing_words_and_writes_nothing(source, speaker):
    with pytest.raises(ValidationError) as caught:
        anchor_quote(source=source, speaker=speaker, words="12 billion tonnes")

    assert "Nearest passage" in caught.value.message_dict["words"][0]
    assert "12 million tonnes" in caught.value.message_dict["words"][0]
    assert Quote.objects.count() == 0


def test_the_same_words_cannot_be_attributed_to_two_speakers(source, speaker):
    anchor_quote(source=source, speaker=speaker, words="That number is wrong.")
    other = SpeakerFactory(name="Critic", slug="critic")
    with pytest.raises(ValidationError, match="already attributed"):
        anchor_quote(source=source, speaker=other, words="That number is wrong.")


def test_the_database_refuses_a_quote_that_is_not_at_its_offsets(source, speaker):
    with pytest.raises(DatabaseError, match="does not match the snapshot"), transaction.atomic():
        Quote.objects.create(
            source=source, speaker=speaker, exact="12 billion tonnes", start=36, end=53
        )
    quote, _ = anchor_quote(source=source, speaker=speaker, words="12 million tonnes")
    with pytest.raises(DatabaseError, match="does not match the snapshot"), transaction.atomic():
        Quote.objects.filter(pk=quote.pk).update(prefix="tampered ")


def test_the_database_refuses_to_change_an_archived_snapshot(source):
    with pytest.raises(IntegrityError, match="archived"), transaction.atomic():
        source.snapshot = "A different text."
        source.save()
    source.refresh_from_db()
    assert source.snapshot.startswith("The minister said")


def test_an_appearance_is_recorded_once_per_quote_and_once_per_bare_source(claim, source, speaker):
    quote, _ = anchor_quote(source=source, speaker=speaker, words="12 million tonnes")

    first, _ = add_appearance(claim=claim, source=source, quote=quote)
    assert add_appearance(claim=claim, source=source, quote=quote)[0] == first
    bare, _ = add_appearance(claim=claim, source=source)
    assert add_appearance(claim=claim, source=source)[0] == bare
    assert Appearance.objects.filter(claim=claim).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Appearance.objects.create(claim=claim, source=source)


def test_an_appearance_quote_must_come_from_its_source(claim, source, speaker):
    quote, _ = anchor_quote(source=source, speaker=speaker, words="12 million tonnes")
    other = SourceFactory(slug="other", title="Other", snapshot="Other text.")
    with pytest.raises(ValidationError, match="must come from"):
        add_appearance(claim=claim, source=other, quote=quote)


def test_the_rating_scale_maps_verdicts_to_claimreview():
    scale = [r for r in RATINGS if r.rating_value is not None]
    assert [r.rating_value for r in sorted(scale, key=lambda r: r.rating_value)] == [1, 2, 3, 4, 5]
    assert get_rating("false").claimreview_rating() == {
        "@type": "Rating",
        "alternateName": "False",
        "name": "False",
        "ratingValue": 1,
        "bestRating": 5,
        "worstRating": 1,
    }
    # Off the scale: a label, no number that would claim an order.
    assert get_rating("unsupported").claimreview_rating() == {
        "@type": "Rating",
        "alternateName": "Unsupported",
        "name": "Unsupported",
    }
    # Workflow states are never published as a verdict.
    assert get_rating("unverified").claimreview_rating() is None
    assert get_rating("in_review").claimreview_rating() is None
    assert set(Status.values) == set(BY_VALUE)


@pytest.mark.django_db
def test_the_status_column_accepts_exactly_the_scale():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'claim_status_valid'"
        )
        definition = cursor.fetchone()[0]
    for value in Status.values:
        assert f"'{value}'" in definition
