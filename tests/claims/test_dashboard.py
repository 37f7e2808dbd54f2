"""The desk's dashboard on the admin index (claims.dashboard): its queues, the median
time to verdict, open claims per member, the ledger's latest activity, and the
claim list's queue filter the counts link to."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import dashboard
from claims.models import Claim
from tests.factories import (
    ClaimFactory,
    PublicationFactory,
    UserFactory,
    VerdictFactory,
)

INDEX = reverse("admin:index")
CHANGELIST = reverse("admin:claims_claim_changelist")


def _created_days_ago(claim, days):
    """Back-date a claim's creation (the ledger's entries cannot be back-dated)."""
    Claim.objects.filter(pk=claim.pk).update(created_at=timezone.now() - timedelta(days=days))
    claim.refresh_from_db()
    return claim


def _rated_after(days, editor, **kwargs):
    """A claim created `days` ago and rated now: `days` to its first verdict."""
    claim = _created_days_ago(ClaimFactory(**kwargs), days)
    VerdictFactory(claim=claim, editor=editor, status="false")
    return claim


@pytest.fixture
def desk(editor, second_editor, settings):
    """A known desk: which claim is in which queue, and who holds what."""
    settings.DESK_STALE_DAYS = 7
    fresh_unassigned = ClaimFactory(statement="Fresh and unassigned.")
    stale_unassigned = _created_days_ago(ClaimFactory(statement="Old and forgotten."), 10)
    mine = ClaimFactory(statement="Mine to check.", assignee=editor)
    # Old, but in review since a moment ago: a recent ledger entry, so not stale.
    in_review = _created_days_ago(
        ClaimFactory(statement="Being checked.", assignee=second_editor), 10
    )
    VerdictFactory(claim=in_review, editor=second_editor, status="in_review", explanation="")
    # Rated: in no queue, whoever holds it.
    rated = [
        _rated_after(2, editor, statement="Rated after two days.", assignee=editor),
        _rated_after(4, editor, statement="Rated after four days."),
        _rated_after(6, second_editor, statement="Rated after six days."),
    ]
    # Rated again later: its first verdict is what counts.
    VerdictFactory(claim=rated[2], editor=editor, status="true")
    published = PublicationFactory(
        claim=ClaimFactory(statement="Published, unrated."), editor=editor
    )
    return {
        "fresh_unassigned": fresh_unassigned,
        "stale_unassigned": stale_unassigned,
        "mine": mine,
        "in_review": in_review,
        "rated": rated,
        "published": published.claim,
    }


def _queues(board):
    return {queue.key: queue for queue in board.queues}


def test_the_queues_count_and_list_the_right_claims(desk, editor):
    board = dashboard.dashboard(editor)
    queues = _queues(board)

    assert {key: queue.count for key, queue in queues.items()} == {
        # fresh, stale, and the published one nobody holds
        "unassigned": 3,
        "mine": 1,
        "in_review": 1,
        "awaiting_approval": 0,
        "stale": 1,
    }
    listed = {key: [row["statement"] for row in queue.claims] for key, queue in queues.items()}
    # Who has waited longest first.
    assert listed["unassigned"] == [
        "Old and forgotten.",
        "Fresh and unassigned.",
        "Published, unrated.",
    ]
    assert listed["mine"] == ["Mine to check."]
    assert listed["in_review"] == ["Being checked."]
    assert listed["stale"] == ["Old and forgotten."]
    assert board.stale_days == 7


def test_mine_is_the_viewers_own(desk, second_editor):
    queues = _queues(dashboard.dashboard(second_editor))

    assert queues["mine"].count == 1
    assert [row["statement"] for row in queues["mine"].claims] == ["Being checked."]


def test_stale_follows_the_setting_and_the_clock(client_for, desk, editor, settings, monkeypatch):
    settings.DESK_STALE_DAYS = 30
    assert _queues(dashboard.dashboard(editor))["stale"].count == 0

    settings.DESK_STALE_DAYS = 7
    # Eight days on, nothing recorded meanwhile: every open claim is stale.
    later = timezone.now() + timedelta(days=8)
    stale = _queues(dashboard.dashboard(editor, at=later))["stale"]
    assert stale.count == 5
    monkeypatch.setattr(dashboard, "now", lambda: later)
    listed = client_for(editor).get(CHANGELIST, {"queue": "stale"}).context["cl"].result_list
    assert len(listed) == 5


def test_median_time_to_verdict_is_from_creation_to_the_first_verdict(desk, editor):
    board = dashboard.dashboard(editor)

    # 2, 4 and 6 days; the second verdict of the six-day claim does not count.
    assert board.verdicts_in_window == 3
    assert abs(board.median_to_verdict - timedelta(days=4)) < timedelta(minutes=1)


def test_median_time_to_verdict_covers_the_last_90_days_only(desk, editor):
    board = dashboard.dashboard(editor, at=timezone.now() + timedelta(days=91))

    assert board.verdicts_in_window == 0
    assert board.median_to_verdict is None


def test_open_claims_per_member(desk, editor, second_editor):
    members = {
        member.username: member.open_claims for member in dashboard.dashboard(editor).members
    }

    # The editor also holds a rated claim: not open, not counted.
    assert members["ed"] == 1
    assert members["ed2"] == 1


def test_the_latest_activity_has_verdicts_publications_and_corrections(desk, editor):
    activity = dashboard.dashboard(editor).activity

    newest = activity[0]
    assert newest.action == "publish"
    assert newest.claim == desk["published"]
    assert newest.editor == editor
    verdicts = [entry for entry in activity if entry.action == "review"]
    assert [entry.status_after for entry in verdicts][:2] == ["true", "false"]
    assert [entry.sequence for entry in activity] == sorted(
        (entry.sequence for entry in activity), reverse=True
    )


def test_counts_stop_at_the_cap(desk, editor, monkeypatch):
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)

    unassigned = _queues(dashboard.dashboard(editor))["unassigned"]

    assert unassigned.capped
    assert unassigned.shown_count == "2+"


def test_five_queries_whatever_the_data(db, editor, django_assert_num_queries):
    with django_assert_num_queries(5):
        dashboard.dashboard(editor)
    for number in range(3):
        claim = ClaimFactory(assignee=editor if number % 2 else None)
        VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
        VerdictFactory(claim=ClaimFactory(), editor=editor)
    with django_assert_num_queries(5):
        board = dashboard.dashboard(editor)
    assert _queues(board)["in_review"].count == 3


def test_the_admin_index_shows_the_dashboard_with_links_to_the_filtered_list(
    client_for, desk, editor
):
    editor.first_name, editor.last_name = "Dana", "Whitfield"
    editor.save(update_fields=["first_name", "last_name"])

    html = client_for(editor).get(INDEX).content.decode()

    # The activity names editors as bylines do.
    activity = html[html.index('id="ledger-activity"') :]
    assert "<td>Dana Whitfield</td>" in activity

    assert 'id="desk-dashboard"' in html
    for key in ("unassigned", "mine", "in_review", "awaiting_approval", "stale"):
        assert f'href="{CHANGELIST}?queue={key}"' in html
    assert "Old and forgotten." in html
    assert 'id="time-to-verdict"' in html and "4 days" in html
    assert 'id="ledger-activity"' in html
    assert reverse("admin:claims_claim_change", args=[desk["published"].pk]) in html
    assert "Published" in html
    assert reverse("admin:authtoken_tokenproxy_own") in html


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("unassigned", {"Fresh and unassigned.", "Old and forgotten.", "Published, unrated."}),
        ("mine", {"Mine to check."}),
        ("in_review", {"Being checked."}),
        ("stale", {"Old and forgotten."}),
    ],
)
def test_the_claim_list_filters_by_queue(client_for, desk, editor, queue, expected):
    response = client_for(editor).get(CHANGELIST, {"queue": queue})

    assert response.status_code == 200
    assert {claim.statement for claim in response.context["cl"].result_list} == expected


def test_the_admin_index_costs_the_same_however_much_the_desk_holds(
    client_for, db, editor, django_assert_num_queries
):
    client = client_for(editor)
    client.get(INDEX)  # the ledger's verification is cached from here on
    # The session, its user, the user's permissions, the ledger's tip (for the cached
    # verification), the dashboard's five, the user's recent edits.
    with django_assert_num_queries(10):
        client.get(INDEX)
    for number in range(4):
        claim = ClaimFactory(assignee=editor if number % 2 else None)
        VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
        PublicationFactory(claim=ClaimFactory(), editor=editor)
    client.get(INDEX)
    with django_assert_num_queries(10):
        response = client.get(INDEX)
    assert response.context is not None
    assert 'id="desk-dashboard"' in response.content.decode()


def test_only_the_desk_sees_it(client_for, db):
    outsider = UserFactory(is_staff=True)  # in the admin, but in no role of the desk
    response = client_for(outsider).get(INDEX)

    assert response.status_code == 200
    assert 'id="desk-dashboard"' not in response.content.decode()
