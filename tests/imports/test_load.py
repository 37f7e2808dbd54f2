"""Writing other fact-checkers' reviews (claims.imports.load): one transaction per
file, one review per URL, claims matched by wording, nothing partial, dry runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.urls import reverse

from claims.imports import load as loader
from claims.imports.load import MATCH_SIMILARITY, UNNAMED_CLAIMANT, load
from claims.imports.records import ImportedReview, ImportRefused, ParsedFile
from claims.models import Claim, ClaimKind, ExternalReview, Review, Speaker, SpeakerKind
from tests.factories import ClaimFactory, SpeakerFactory

pytestmark = pytest.mark.django_db


def review(n: int = 1, **overrides) -> ImportedReview:
    fields = {
        "where": f"fixture, record {n}",
        "claim_text": f"The harbour moved {n} million containers in one year.",
        "claimant": "Port Authority",
        "review_url": f"https://factcheck.example.org/harbour-{n}",
        "publisher_name": "Example Fact Check",
        "publisher_site": "https://factcheck.example.org",
        "rating_text": "Mostly False",
        "rating_value": Decimal(2),
        "best_rating": Decimal(5),
        "worst_rating": Decimal(1),
        "date_published": date(2025, 3, 1),
        "language": "en",
        "appearances": ("https://social.example.net/post/1",),
    }
    fields.update(overrides)
    return ImportedReview(**fields)


def test_a_file_creates_claims_speakers_and_reviews_then_a_second_run_changes_nothing():
    parsed = ParsedFile([review(1), review(2, claimant="Facebook posts")])

    first = load(parsed, label="test:first")

    assert (first.created_reviews, first.created_claims, first.created_speakers) == (2, 2, 2)
    stored = ExternalReview.objects.get(url="https://factcheck.example.org/harbour-1")
    assert stored.rating_text == "Mostly False"
    assert stored.scale_text == "2 of 5"
    assert stored.appearances == ["https://social.example.net/post/1"]
    claim = stored.claim
    assert claim.statement == "The harbour moved 1 million containers in one year."
    assert claim.kind == ClaimKind.UNCLASSIFIED
    assert not claim.is_published and claim.status == "unverified"
    assert Speaker.objects.get(name="Facebook posts").kind == SpeakerKind.OTHER
    assert Speaker.objects.get(name="Port Authority").kind == SpeakerKind.PERSON
    # Imports are not the desk's verdicts: the ledger is untouched.
    assert not Review.objects.exists()

    again = load(parsed, label="test:again")

    assert not again.changed
    assert (again.unchanged_reviews, again.created_reviews, again.created_claims) == (2, 0, 0)
    assert ExternalReview.objects.count() == 2 and Claim.objects.count() == 2


def test_the_same_wording_up_to_case_spacing_and_punctuation_joins_an_existing_claim():
    desk = ClaimFactory(statement="The harbour moved 3 million containers in one year.")
    reworded = "“THE HARBOUR moved 3 million containers — in one year”…"

    outcome = load(ParsedFile([review(3, claim_text=reworded)]), label="test")

    assert (outcome.matched_exact, outcome.created_claims) == (1, 0)
    stored = ExternalReview.objects.get()
    assert stored.claim == desk
    assert stored.claim_text == reworded  # their words are kept as they gave them


def test_a_near_wording_joins_a_claim_of_its_claimant_only_with_the_same_numbers():
    authority = SpeakerFactory(name="Port Authority")
    desk = ClaimFactory(
        statement="The harbour authority moved 3 million containers last year.",
        speaker=authority,
    )
    near = "The harbour authority moved 3 million containers in the last year."
    other_number = "The harbour authority moved 5 million containers last year."

    outcome = load(
        ParsedFile(
            [
                review(1, claim_text=near),
                review(2, claim_text=other_number),
                # The same near wording from someone else is their claim, not this one.
                review(
                    3,
                    claim_text="The harbour authority moved 3 million containers over last year.",
                    claimant="Someone Else",
                ),
            ]
        ),
        label="t",
    )

    assert (outcome.matched_similar, outcome.created_claims) == (1, 2)
    assert ExternalReview.objects.get(url__endswith="harbour-1").claim == desk
    assert ExternalReview.objects.get(url__endswith="harbour-2").claim != desk
    assert ExternalReview.objects.get(url__endswith="harbour-3").claim != desk
    assert 0 < MATCH_SIMILARITY < 1


def test_repeats_within_a_file_share_one_claim_and_one_review_per_url():
    twice = review(1)
    parsed = ParsedFile([twice, twice, review(2, claim_text=twice.claim_text.upper(), claimant="")])

    outcome = load(parsed, label="t")

    assert outcome.repeated_in_file == 1
    assert (outcome.created_reviews, outcome.created_claims) == (2, 1)
    assert ExternalReview.objects.values("claim").distinct().count() == 1


def test_a_publishers_changed_rating_in_the_same_file_updates_their_review_not_the_claim():
    load(ParsedFile([review(1)]), label="feed:afp.json")
    claim = ExternalReview.objects.get().claim

    revised = ParsedFile([review(1, rating_text="False", rating_value=Decimal(1))])
    outcome = load(revised, label="feed:afp.json")

    assert (outcome.updated_reviews, outcome.created_claims) == (1, 0)
    stored = ExternalReview.objects.get()
    assert (stored.rating_text, stored.rating_value, stored.claim) == ("False", 1, claim)


def test_another_files_copy_of_a_review_leaves_the_first_import_standing():
    """A data set's copy of a publisher's page, in its own shape: importing both again
    and again changes nothing after the first time."""
    load(ParsedFile([review(1)]), label="html:page.html")
    copy = ParsedFile([review(1, rating_text="mostly-false")])

    for _ in range(2):
        outcome = load(copy, label="claimskg-csv:sample.csv")
        assert (outcome.kept_from_elsewhere, outcome.updated_reviews) == (1, 0)
        assert not outcome.changed
        assert load(ParsedFile([review(1)]), label="html:page.html").unchanged_reviews == 1
    assert ExternalReview.objects.get().rating_text == "Mostly False"


def test_a_review_url_the_database_cannot_hold_refuses_the_file_before_writing():
    parsed = ParsedFile([review(1), review(2, review_url="https://x.example/" + "a" * 2000)])

    with pytest.raises(ImportRefused) as refused:
        load(parsed, label="t")

    assert str(refused.value) == "fixture, record 2: url: longer than 2000 characters"
    assert not ExternalReview.objects.exists() and not Claim.objects.exists()


def test_a_claim_longer_than_a_statement_may_be_refuses_the_file_before_writing():
    parsed = ParsedFile([review(1), review(2, claim_text="word " * 300)])

    with pytest.raises(ImportRefused) as refused:
        load(parsed, label="t")

    assert str(refused.value) == (
        "fixture, record 2: claim: 1,500 characters, longer than a claim's statement may be (1,000)"
    )
    assert not ExternalReview.objects.exists() and not Claim.objects.exists()


def test_a_dry_run_reports_the_same_and_writes_nothing():
    parsed = ParsedFile([review(1), review(2)])

    outcome = load(parsed, label="t", dry_run=True)

    assert (outcome.created_reviews, outcome.created_claims) == (2, 2)
    assert not ExternalReview.objects.exists()
    assert not Claim.objects.exists() and not Speaker.objects.exists()


@pytest.mark.parametrize(
    "dry_run",
    # The real run fails at its commit: a transaction of its own, not the test's.
    [pytest.param(False, marks=pytest.mark.django_db(transaction=True)), True],
)
def test_a_dry_run_fails_where_the_commit_would(monkeypatch, dry_run):
    """The foreign keys are checked when the transaction commits: a dry run, which
    never commits, checks them before it rolls back, or it would report success for
    a file whose real import fails."""
    monkeypatch.setattr(
        loader, "_speakers_for", lambda claimants, outcome: {"ada lovelace": 2_000_000_000}
    )

    with pytest.raises(IntegrityError, match="speaker_id"):
        load(ParsedFile([review(1, claimant="Ada Lovelace")]), label="t", dry_run=dry_run)
    assert not Claim.objects.exists()


def test_a_failure_half_way_writes_nothing_of_the_file(monkeypatch):
    copy_rows = loader.copy_rows

    def broken(model, rows, **kwargs):
        if model is ExternalReview:
            raise RuntimeError("disk full")
        return copy_rows(model, rows, **kwargs)

    monkeypatch.setattr(loader, "copy_rows", broken)
    with pytest.raises(RuntimeError):
        load(ParsedFile([review(1)]), label="t")
    # The claim and speaker were written before the reviews: rolled back with them.
    assert not Claim.objects.exists() and not Speaker.objects.exists()


def test_copied_rows_are_what_the_orm_would_have_written():
    """copy_rows fills defaults, auto_now and the triggers' columns as bulk_create does."""
    load(ParsedFile([review(1, claim_date=date(2024, 5, 6))]), label="t")

    claim = Claim.objects.get()
    assert (claim.status, claim.version, claim.kind) == ("unverified", 1, ClaimKind.UNCLASSIFIED)
    assert claim.created_at is not None and claim.updated_at is not None
    assert claim.claim_date == date(2024, 5, 6)
    assert "harbour" in claim.search_vector  # the search trigger ran
    stored = ExternalReview.objects.get()
    assert stored.extra == {} and stored.appearances == ["https://social.example.net/post/1"]
    assert stored.rating_value == Decimal(2) and stored.created_at is not None
    # The ids came from the sequences: the next rows the ORM writes do not collide.
    assert ClaimFactory().pk > claim.pk
    assert Speaker.objects.create(name="Next", slug="next").pk > claim.speaker_id


def test_nobody_named_is_the_unnamed_claimant():
    load(ParsedFile([review(1, claimant=""), review(2, claimant="  ")]), label="t")

    speaker = Speaker.objects.get()
    assert (speaker.name, speaker.kind) == (UNNAMED_CLAIMANT, SpeakerKind.OTHER)


def test_an_existing_speaker_is_found_whatever_the_case():
    known = Speaker.objects.create(name="Port Authority", slug="port-authority")

    outcome = load(ParsedFile([review(1, claimant="PORT  authority")]), label="t")

    assert outcome.created_speakers == 0
    assert ExternalReview.objects.get().claim.speaker == known


def test_readers_see_other_fact_checkers_apart_from_the_desks_verdict(db, client):
    desk = ClaimFactory(
        statement="The harbour moved 3 million containers in one year.",
        published=True,
        verdict="false",
    )
    page = reverse("claims:detail", kwargs={"slug": desk.slug})
    before = client.get(page)
    load(
        ParsedFile(
            [
                review(
                    3,
                    claim_text=desk.statement,
                    publisher_name="Ex <b>Check</b>",
                    rating_text="Engañoso <script>alert(1)</script>",
                )
            ]
        ),
        label="t",
    )

    after = client.get(page, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200  # the import changed the page: no 304
    html = after.content.decode()
    start = html.index('id="also-checked"')
    section = html[start : html.index("</section>", start)]
    assert "Ex &lt;b&gt;Check&lt;/b&gt;" in section
    assert "Engañoso &lt;script&gt;" in section and "<script>alert" not in html
    assert "2 of 5 on their scale" in section
    assert "They are not our verdict." in section
    assert 'href="https://factcheck.example.org/harbour-3"' in section
    # The desk's own status is still the desk's.
    assert Claim.objects.get(pk=desk.pk).status == "false"


def test_copy_rows_stores_every_kind_of_field_as_bulk_create_does():
    """Values it passes through unconverted (text, numbers, dates, None) and the ones it
    converts (JSON, arrays, decimals, datetimes) read back the same as the ORM's."""
    claim = ClaimFactory()
    fields = {
        "claim_id": claim.pk,
        "publisher_name": "Ex Check",
        "publisher_site": "excheck.example",
        "date_published": date(2024, 2, 29),
        "claim_text": "Wörds, with ‘quotes’ and a tab\tinside.",
        "claimant": "",
        "rating_text": "Pants on Fire!",
        "rating_value": Decimal("1.5"),
        "best_rating": 6,
        "worst_rating": None,
        "language": "es",
        "appearances": ["https://a.example/1", "https://b.example/2"],
        "extra": {"nested": {"list": [1, None, "x"]}},
        "imported_from": "t",
    }
    ExternalReview.objects.bulk_create([ExternalReview(url="https://x.example/orm", **fields)])
    loader.copy_rows(ExternalReview, [{"url": "https://x.example/copy", **fields}])

    orm, copied = (
        ExternalReview.objects.filter(url=url).values().get()
        for url in ["https://x.example/orm", "https://x.example/copy"]
    )
    for name in ["id", "url", "created_at", "updated_at"]:
        orm.pop(name), copied.pop(name)
    assert copied == orm


def test_copy_rows_refuses_a_field_the_model_does_not_have():
    with pytest.raises(ValueError, match="Speaker has no field nmae"):
        loader.copy_rows(Speaker, [{"nmae": "Typo", "slug": "typo"}])
    assert not Speaker.objects.exists()


def test_copy_rows_fills_what_a_row_leaves_out_with_the_fields_defaults():
    [pk] = loader.copy_rows(Speaker, [{"name": "Harbour Master", "slug": "harbour"}], with_ids=True)

    speaker = Speaker.objects.get(pk=pk)
    assert (speaker.kind, speaker.aliases, speaker.description) == ("person", [], "")
    assert speaker.created_at == speaker.updated_at is not None
