"""The reader pages' change stamp and counters (claims.freshness, migration 0008):
every edit of what a page shows changes its ETag, a 304 costs one query, the
counters follow publication, and the stamp is bumped at commit, not before."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from claims import freshness
from claims.models import Claim, CorrectionClass, Quote, Speaker, Topic
from claims.services import unpublish_claim
from factcheck import conditional
from factcheck.db.roles import as_owner
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    CorrectionFactory,
    SourceFactory,
    VerdictFactory,
)

BOUNTY = "us-50-million-bounty-on-maduro"
PAGES = [
    "/",
    "/claims/",
    "/claims/?status=unverified",
    f"/claims/{BOUNTY}/",
    "/topics/",
    "/topics/venezuela/",
    "/status/unverified/",
    "/corrections/",
]


@pytest.fixture
def bounty(seeded):
    return Claim.objects.get(slug=BOUNTY)


def _publish(claim, editor):
    from claims.services import publish_claim

    publish_claim(claim=claim, editor=editor, expected_version=claim.version)


def _unpublish(claim, editor):
    claim.refresh_from_db()
    unpublish_claim(
        claim=claim, editor=editor, expected_version=claim.version, explanation="Withdrawn."
    )


def _edit_speaker(claim, editor):
    speaker = claim.speaker
    speaker.name = "Someone Else"
    speaker.save()


def _edit_source(claim, editor):
    source = claim.appearances.first().source
    source.title = "Retitled"
    source.save()


def _rename_topic(claim, editor):
    Topic.objects.filter(slug="venezuela").update(name="Venezuela, renamed")


def _add_topic(claim, editor):
    claim.topics.add(Topic.objects.create(name="Ports", slug="ports"))


def _add_appearance(claim, editor):
    AppearanceFactory(claim=claim, source=SourceFactory(report=True, slug="later"))


def _edit_quote(claim, editor):
    Quote.objects.filter(appearances__claim=claim).update(kind=Quote.Kind.REPORTED)


def _rename_editor(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")
    freshness_before = freshness.current_stamp()
    editor.username = "renamed-editor"
    editor.save()
    assert freshness.current_stamp() != freshness_before


def _rename_editor_in_full(claim, editor):
    """Bylines show the full name: a new last name is a new page."""
    VerdictFactory(claim=claim, editor=editor, status="false")
    freshness_before = freshness.current_stamp()
    editor.last_name = "Renamed"
    editor.save(update_fields=["last_name"])
    assert freshness.current_stamp() != freshness_before


def _verdict(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")


def _correction(claim, editor):
    VerdictFactory(claim=claim, editor=editor, status="false")
    CorrectionFactory(
        claim=claim,
        editor=editor,
        correction_class=CorrectionClass.SUBSTANTIVE,
        changes={"statement": "The United States offers a reward for Maduro."},
    )


EDITS = [
    _verdict,
    _correction,
    _unpublish,
    _edit_speaker,
    _edit_source,
    _rename_topic,
    _add_topic,
    _add_appearance,
    _edit_quote,
    _rename_editor,
    _rename_editor_in_full,
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.__name__.strip("_"))
def test_every_kind_of_edit_changes_the_etags(client, seeded, editor, bounty, edit):
    etags = {url: client.get(url)["ETag"] for url in PAGES}
    assert all(etags.values())

    edit(bounty, editor)

    for url, etag in etags.items():
        response = client.get(url, headers={"if-none-match": etag})
        if response.status_code == 410:  # the claim page, once unpublished
            assert edit is _unpublish and url == f"/claims/{BOUNTY}/"
            continue
        assert response.status_code == 200, url
        assert response["ETag"] != etag, url


def test_a_publication_changes_the_etags(client, seeded, editor, speaker):
    draft = ClaimFactory(slug="fresh", statement="A fresh claim.", speaker=speaker)
    etags = {url: client.get(url)["ETag"] for url in PAGES}

    _publish(draft, editor)

    for url, etag in etags.items():
        assert client.get(url, headers={"if-none-match": etag}).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    [*PAGES, "/speakers/pam-bondi/", "/sources/us-forces-deploy-to-southern-caribbean/"],
)
def test_a_304_costs_one_query(client, seeded, url, django_assert_num_queries):
    etag = client.get(url)["ETag"]

    with django_assert_num_queries(1) as captured:
        response = client.get(url, headers={"if-none-match": etag})

    assert response.status_code == 304
    assert "claims_reader_stamp" in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize(
    "url", ["/claims/no-such-claim/", "/topics/no-such-topic/", "/status/bogus/"]
)
def test_a_page_that_is_not_there_gets_no_304(client, seeded, url):
    assert client.get(url, headers={"if-none-match": "*"}).status_code == 404


def test_a_draft_claim_page_gets_no_304(client, seeded, speaker):
    ClaimFactory(slug="drafty", statement="A draft.", speaker=speaker)
    assert client.get("/claims/drafty/", headers={"if-none-match": "*"}).status_code == 404


def _counts() -> dict[str, dict[str, int]]:
    return {scope: freshness.counts(scope) for scope in ("status", "topic", "speaker", "source")}


def _counted_by_hand() -> dict[str, dict[str, int]]:
    published = Claim.objects.published()
    by = {"status": {}, "topic": {}, "speaker": {}, "source": {}}
    for claim in published.prefetch_related("topics", "appearances"):
        by["status"][claim.status] = by["status"].get(claim.status, 0) + 1
        key = str(claim.speaker_id)
        by["speaker"][key] = by["speaker"].get(key, 0) + 1
        for topic in claim.topics.all():
            by["topic"][str(topic.pk)] = by["topic"].get(str(topic.pk), 0) + 1
        for appearance in claim.appearances.all():
            key = str(appearance.source_id)
            by["source"][key] = by["source"].get(key, 0) + 1
    return by


def test_the_counters_follow_publication_verdicts_topics_and_appearances(
    seeded, editor, speaker, bounty
):
    assert _counts() == _counted_by_hand()

    draft = ClaimFactory(slug="counted", statement="Counted.", speaker=speaker)
    draft.topics.add(Topic.objects.get(slug="venezuela"))
    AppearanceFactory(claim=draft, source=Source.objects.first())
    assert _counts() == _counted_by_hand()  # a draft counts nowhere

    _publish(draft, editor)
    VerdictFactory(claim=bounty, editor=editor, status="false")
    assert _counts() == _counted_by_hand()
    VerdictFactory(claim=bounty, editor=editor, status="false")  # the same status again
    VerdictFactory(claim=bounty, editor=editor, status="misleading")
    assert _counts() == _counted_by_hand()
    bounty.topics.clear()
    AppearanceFactory(claim=bounty, source=SourceFactory(report=True, slug="counted-source"))
    CorrectionFactory(
        claim=bounty,
        editor=editor,
        correction_class=CorrectionClass.CLARIFICATION,
        changes={"speaker": Speaker.objects.exclude(pk=bounty.speaker_id).first()},
    )
    assert _counts() == _counted_by_hand()

    _unpublish(draft, editor)
    assert _counts() == _counted_by_hand()


@pytest.mark.django_db(transaction=True)
def test_the_stamp_moves_only_when_the_writer_commits(speaker):
    """A reader never sees a stamp newer than the data: the bump is visible at commit."""
    before = freshness.current_stamp()
    seen_inside: list[tuple] = []

    with transaction.atomic():
        Speaker.objects.filter(pk=speaker.pk).update(name="Renamed in a transaction")

        def read_elsewhere() -> None:
            # Another connection, as another reader would be.
            try:
                seen_inside.append(freshness.current_stamp())
            finally:
                connections.close_all()

        reader = threading.Thread(target=read_elsewhere)
        reader.start()
        reader.join()

    assert seen_inside == [before]
    after = freshness.current_stamp()
    assert after[0] > before[0] and after[1] >= before[1]
    assert connection.in_atomic_block is False


@pytest.mark.django_db(transaction=True)
def test_the_suites_reset_between_tests_leaves_no_counter_behind(editor, speaker):
    """tests/conftest.py: the flush empties the counters too, which no model holds."""
    ClaimFactory(
        slug="counted-then-flushed", speaker=speaker, published=True, verdict="false", editor=editor
    )
    assert _counts()["status"] == {"false": 1}

    with as_owner():
        call_command("flush", interactive=False, verbosity=0)

    assert _counts() == {"status": {}, "topic": {}, "speaker": {}, "source": {}}


def test_a_new_frame_of_the_site_changes_every_pages_etag(client, seeded, monkeypatch):
    """The header and footer are on every page: a change to them (BASE_MARKUP_VERSION)
    is a new page everywhere, not a 304 with the old frame."""
    etags = {url: client.get(url)["ETag"] for url in PAGES}

    monkeypatch.setattr(conditional, "BASE_MARKUP_VERSION", "base-next")

    for url, etag in etags.items():
        response = client.get(url, headers={"if-none-match": etag})
        assert response.status_code == 200, url
        assert response["ETag"] != etag, url
