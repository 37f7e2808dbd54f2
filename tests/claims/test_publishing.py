import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import PermissionDenied, ValidationError

from claims.ledger.verification import verify_ledger
from claims.models import Claim, ClaimEvent, Review
from claims.services import VersionConflict, assign_claim, publish_claim, unpublish_claim
from tests.factories import AppearanceFactory, QuoteFactory, UserFactory, VerdictFactory


def test_a_new_claim_is_a_draft_until_an_editor_publishes_it(claim, editor):
    assert not claim.is_published
    assert not Claim.objects.published().filter(pk=claim.pk).exists()

    entry = publish_claim(claim=claim, editor=editor, expected_version=claim.version)

    claim.refresh_from_db()
    assert claim.is_published and claim.published_at == entry.created_at
    assert (entry.action, entry.status_before, entry.status_after) == (
        "publish",
        "unverified",
        "unverified",
    )
    assert claim.version == 2
    assert Claim.objects.published().filter(pk=claim.pk).exists()


def test_unpublishing_needs_a_reason_and_is_a_ledger_entry(claim, editor):
    publish_claim(claim=claim, editor=editor, expected_version=1)
    with pytest.raises(ValidationError):
        unpublish_claim(claim=claim, editor=editor, expected_version=2, explanation=" ")

    entry = unpublish_claim(
        claim=claim,
        editor=editor,
        expected_version=2,
        explanation="Attributed to the wrong person.",
    )

    claim.refresh_from_db()
    assert not claim.is_published
    assert entry.summary == "Unpublished"
    assert verify_ledger().ok


def test_publishing_twice_is_refused(claim, editor):
    publish_claim(claim=claim, editor=editor, expected_version=1)
    with pytest.raises(ValidationError, match="already published"):
        publish_claim(claim=claim, editor=editor, expected_version=2)
    assert Review.objects.count() == 1


def test_a_contributor_can_neither_publish_nor_unpublish(claim, contributor, editor):
    with pytest.raises(PermissionDenied):
        publish_claim(claim=claim, editor=contributor, expected_version=1)
    publish_claim(claim=claim, editor=editor, expected_version=1)
    with pytest.raises(PermissionDenied):
        unpublish_claim(claim=claim, editor=contributor, expected_version=2, explanation="x")
    assert Review.objects.count() == 1


def test_a_publication_on_a_stale_version_is_refused(claim, editor, second_editor):
    VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    with pytest.raises(VersionConflict, match="Not yet verified → In review by ed"):
        publish_claim(claim=claim, editor=second_editor, expected_version=1)
    assert not Claim.objects.get(pk=claim.pk).is_published


def test_verify_ledger_detects_a_publication_behind_the_ledgers_back(claim, editor):
    Claim.objects.filter(pk=claim.pk).update(published_at="2026-01-01T00:00:00Z")

    report = verify_ledger()

    assert not report.ok
    assert "published, but its ledger says 'unverified' version 1 draft" in report.problems[0]


def test_anyone_on_the_desk_can_take_a_claim_but_only_editors_assign_others(
    claim, editor, contributor
):
    assign_claim(claim=claim, assignee=contributor, by=contributor)
    assert Claim.objects.get(pk=claim.pk).assignee == contributor

    with pytest.raises(PermissionDenied):
        assign_claim(claim=claim, assignee=editor, by=contributor)

    assign_claim(claim=claim, assignee=editor, by=editor)
    assign_claim(claim=claim, assignee=None, by=editor)
    assert Claim.objects.get(pk=claim.pk).assignee is None


def test_only_active_staff_can_be_assigned(claim, editor):
    reader = UserFactory(username="reader")
    with pytest.raises(ValidationError, match="not an active member"):
        assign_claim(claim=claim, assignee=reader, by=editor)


def _search(words):
    query = SearchQuery(words, config="factcheck_english", search_type="websearch")
    return set(Claim.objects.filter(search_vector=query).values_list("slug", flat=True))


def test_the_search_vector_follows_statement_speaker_and_quotes(claim, source, speaker):
    assert _search("port tonnes") == {claim.slug}
    assert _search("Ada") == {claim.slug}  # the speaker's name
    assert _search("wrong") == set()

    quote = QuoteFactory(source=source, speaker=speaker, words="That number is wrong.")
    AppearanceFactory(claim=claim, quote=quote)
    assert _search("wrong") == {claim.slug}  # the quoted words

    speaker.name = "Adélaïde Exemple"
    speaker.save()
    assert _search("Adelaide") == {claim.slug}  # accents folded
    Claim.objects.filter(pk=claim.pk).update(statement="Ships docked at the harbour.")
    assert _search("harbour") == {claim.slug}


def test_edits_are_kept_in_the_history_but_the_search_vector_is_not_an_edit(claim, source, speaker):
    claim.statement = "The port handled 12.5 million tonnes last year."
    claim.save()
    quote = QuoteFactory(source=source, speaker=speaker, words="That number is wrong.")
    AppearanceFactory(claim=claim, quote=quote)

    events = ClaimEvent.objects.filter(pgh_obj=claim).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[1].statement == "The port handled 12.5 million tonnes last year."
