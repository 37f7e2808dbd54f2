"""Claims in time (claims.timeline): the bounty's $15 million, $25 million and $50
million as a chain, its rules, and the older verdicts left as they were."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from claims import timeline
from claims.models import Claim, Review
from claims.services import check_claim_edit
from tests.factories import ClaimFactory, VerdictFactory, older_bounty

BOUNTY = "us-50-million-bounty-on-maduro"


@pytest.fixture
def bounty(seeded, editor):
    """The seed claim ($50 million), as of 7 August 2025, with the $15 million of
    March 2020 and the $25 million of January 2025 before it: published, the older
    two rated, none linked yet."""
    fifty = Claim.objects.get(slug=BOUNTY)
    Claim.objects.filter(pk=fifty.pk).update(holds_as_of=date(2025, 8, 7))
    fifty.refresh_from_db()
    older = {}
    for millions, held, verdict in (
        (15, date(2020, 3, 26), "true"),
        (25, date(2025, 1, 10), "true"),
    ):
        older[millions] = older_bounty(
            millions, holds_as_of=held, verdict=verdict, speaker=fifty.speaker, editor=editor
        )
    return older[15], older[25], fifty


def _chained(bounty, editor):
    fifteen, twenty_five, fifty = bounty
    timeline.supersede(older=fifteen, newer=twenty_five, editor=editor)
    timeline.supersede(older=twenty_five, newer=fifty, editor=editor)
    return fifteen, twenty_five, fifty


def test_a_chain_of_three_is_read_oldest_first_from_any_of_them(
    bounty, editor, django_assert_num_queries
):
    fifteen, twenty_five, fifty = _chained(bounty, editor)

    for claim in (fifteen, twenty_five, fifty):
        with django_assert_num_queries(1):
            found = timeline.chain(claim)
        assert [c.slug for c in found] == [fifteen.slug, twenty_five.slug, fifty.slug]
    assert [c.quantity_text for c in found] == [
        "15,000,000 US dollars",
        "25,000,000 US dollars",
        "50,000,000 US dollars",
    ]
    assert timeline.chain(ClaimFactory()) != []  # a claim alone is its own chain


def test_cycles_and_itself_are_refused(bounty, editor):
    fifteen, twenty_five, fifty = _chained(bounty, editor)

    for older, newer in ((fifty, fifteen), (fifty, twenty_five), (twenty_five, fifteen)):
        with pytest.raises(ValidationError) as refused:
            timeline.supersede(older=older, newer=newer, editor=editor)
        assert (
            "older than this claim in its chain" in refused.value.message_dict["superseded_by"][0]
        )
    with pytest.raises(ValidationError) as itself:
        timeline.supersede(older=fifty, newer=fifty, editor=editor)
    assert itself.value.message_dict["superseded_by"] == ["A claim cannot supersede itself."]
    assert Claim.objects.get(pk=fifty.pk).superseded_by_id is None


def test_the_newer_claim_must_hold_later(bounty, editor):
    fifteen, twenty_five, _ = bounty

    with pytest.raises(ValidationError) as refused:
        timeline.supersede(older=twenty_five, newer=fifteen, editor=editor)

    assert "the newer claim must hold later" in refused.value.message_dict["superseded_by"][0]


def test_a_date_moved_before_an_older_claim_is_refused(bounty, editor):
    fifteen, twenty_five, _ = _chained(bounty, editor)
    twenty_five.holds_as_of = date(2019, 1, 1)

    with pytest.raises(ValidationError) as refused:
        timeline.check_in_time(twenty_five, superseded_by=None, holds_as_of=date(2019, 1, 1))

    assert fifteen.short_statement in refused.value.message_dict["holds_as_of"][0]


def test_undated_claims_may_be_linked(db, editor):
    older, newer = ClaimFactory(), ClaimFactory()

    timeline.supersede(older=older, newer=newer, editor=editor)

    assert Claim.objects.get(pk=older.pk).superseded_by == newer


def test_the_older_verdict_and_ledger_are_untouched(bounty, editor):
    fifteen, twenty_five, fifty = bounty
    entries = Review.objects.count()
    twenty_five_version = twenty_five.version

    _chained(bounty, editor)
    # Superseding wrote no ledger entry; the newer claim is rated afterwards.
    assert Review.objects.count() == entries
    VerdictFactory(claim=fifty, editor=editor, status="false", explanation="Not offered.")

    twenty_five.refresh_from_db()
    assert (twenty_five.status, twenty_five.version) == ("true", twenty_five_version)
    assert Claim.objects.get(pk=fifty.pk).status == "false"
    assert twenty_five.superseded_by_id == fifty.pk


def test_superseding_a_published_rated_claim_is_no_correction_but_is_in_its_history(bounty, editor):
    fifteen, twenty_five, _ = bounty
    assert twenty_five.is_locked
    check_claim_edit(claim=twenty_five, changed=["superseded_by", "holds_as_of"])  # allowed

    timeline.supersede(older=fifteen, newer=twenty_five, editor=editor)

    events = apps.get_model("claims", "ClaimEvent").objects.filter(pgh_obj_id=fifteen.pk)
    assert events.order_by("-pgh_id").first().superseded_by_id == twenty_five.pk


def test_only_the_desk_links_claims(bounty, db):
    from tests.factories import UserFactory

    fifteen, twenty_five, _ = bounty
    with pytest.raises(Exception, match="Only the desk"):
        timeline.supersede(older=fifteen, newer=twenty_five, editor=UserFactory())


# --- The admin and the API ---------------------------------------------------------


def test_the_admin_links_a_published_claim_and_refuses_a_cycle(bounty, editor, client_for):
    fifteen, twenty_five, fifty = _chained(bounty, editor)
    client = client_for(editor)
    change = reverse("admin:claims_claim_change", args=[fifty.pk])
    page = client.get(change).content.decode()
    assert 'name="holds_as_of"' in page
    assert 'name="superseded_by"' in page and "admin-autocomplete" in page

    # The fields a locked claim still sends; superseded by its own oldest claim.
    form = {
        "slug": fifty.slug,
        "holds_as_of": "2025-08-07",
        "superseded_by": str(fifteen.pk),
        "appearances-TOTAL_FORMS": "0",
        "appearances-INITIAL_FORMS": "0",
    }
    refused = client.post(change, form)

    assert refused.status_code == 200
    assert "older than this claim in its chain" in refused.content.decode()
    assert Claim.objects.get(pk=fifty.pk).superseded_by_id is None

    newest = ClaimFactory(holds_as_of=date(2026, 1, 1), published=True, editor=editor)
    accepted = client.post(change, {**form, "superseded_by": str(newest.pk)})

    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    assert Claim.objects.get(pk=fifty.pk).superseded_by == newest


def test_the_api_shows_and_writes_the_chain(bounty, editor, client_for):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    fifteen, twenty_five, fifty = bounty
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    address = reverse("api:claim-detail", args=[twenty_five.slug])

    linked = client.patch(address, {"superseded_by": fifty.slug}, format="json", HTTP_IF_MATCH="*")

    assert linked.status_code == 200, linked.content
    assert (linked.json()["holds_as_of"], linked.json()["superseded_by"]) == ("2025-01-10", BOUNTY)
    client.patch(
        reverse("api:claim-detail", args=[fifteen.slug]),
        {"superseded_by": twenty_five.slug},
        format="json",
        HTTP_IF_MATCH="*",
    )
    read = client.get(address).json()
    assert (read["superseded_by"], read["supersedes"]) == (BOUNTY, [fifteen.slug])
    assert APIClient().get(reverse("api:claim-detail", args=[BOUNTY])).json()["supersedes"] == [
        twenty_five.slug
    ]

    cycle = client.patch(
        reverse("api:claim-detail", args=[BOUNTY]),
        {"superseded_by": fifteen.slug},
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert cycle.status_code == 400
    assert "superseded_by" in cycle.json()["error"]["fields"]
