"""The desk's workflow on the claim pages of the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from claims import admin as claims_admin
from claims.models import Claim, Review
from factcheck.admin_lists import EstimatedCountPaginator
from tests.factories import ClaimFactory, PublicationFactory, UserFactory, VerdictFactory

BOUNTY = "us-50-million-bounty-on-maduro"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", email="root@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def users(editor, contributor, superuser):
    return {"anonymous": None, "contributor": contributor, "editor": editor, "superuser": superuser}


def _review_url(claim):
    return reverse("admin:claims_claim_record_review", args=[claim.pk])


def _review_data(claim, **overrides):
    return {
        "status": "false",
        "explanation": "The **annual report** says otherwise.",
        "note": "",
        "expected_version": claim.version,
        **overrides,
    }


# Who may do what: (role, may record a verdict / publish, may assign others)
MATRIX = [
    ("anonymous", False),
    ("contributor", False),
    ("editor", True),
    ("superuser", True),
]


@pytest.mark.parametrize(("role", "allowed"), MATRIX)
def test_recording_a_verdict_from_the_claim_page(client_for, users, claim, role, allowed):
    response = client_for(users[role]).post(_review_url(claim), _review_data(claim))

    claim.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        # The top of the claim page, where the message says what was recorded.
        assert response["Location"] == reverse("admin:claims_claim_change", args=[claim.pk])
        assert claim.status == "false"
        assert Review.objects.get().editor == users[role]
    else:
        assert response.status_code in (302, 403)
        if role == "anonymous":
            assert "/admin/login/" in response["Location"]
        assert claim.status == "unverified"
        assert not Review.objects.exists()


@pytest.mark.parametrize(("role", "allowed"), MATRIX)
def test_publishing_from_the_claim_page(client_for, users, claim, role, allowed):
    url = reverse("admin:claims_claim_publication", args=[claim.pk])

    client_for(users[role]).post(url, {"action": "publish", "expected_version": claim.version})

    claim.refresh_from_db()
    assert claim.is_published is allowed
    assert Review.objects.filter(action="publish").exists() is allowed


@pytest.mark.parametrize(("role", "allowed"), MATRIX)
@pytest.mark.parametrize("action", ["mark_in_review", "publish"])
def test_the_changelist_actions(client_for, users, claim, role, allowed, action):
    changelist = reverse("admin:claims_claim_changelist")
    client = client_for(users[role])

    client.post(changelist, {"action": action, "_selected_action": [claim.pk]})

    claim.refresh_from_db()
    changed = claim.status == "in_review" if action == "mark_in_review" else claim.is_published
    assert changed is allowed
    if role != "anonymous":
        offered = client.get(changelist).content.decode()
        assert (f'value="{action}"' in offered) is allowed


def test_unpublishing_asks_for_a_reason_then_records_it(client_for, editor, claim):
    PublicationFactory(claim=claim, editor=editor)
    client = client_for(editor)
    changelist = reverse("admin:claims_claim_changelist")

    first = client.post(changelist, {"action": "unpublish", "_selected_action": [claim.pk]})
    assert first.status_code == 200
    assert "Why is it withdrawn" in first.content.decode()
    assert Claim.objects.get(pk=claim.pk).is_published

    client.post(
        changelist,
        {
            "action": "unpublish",
            "_selected_action": [claim.pk],
            "apply": "1",
            "explanation": "The quote was misattributed.",
        },
    )
    assert not Claim.objects.get(pk=claim.pk).is_published
    assert Review.objects.latest("sequence").explanation == "The quote was misattributed."


@pytest.mark.parametrize("role", ["contributor", "editor"])
def test_anyone_on_the_desk_can_assign_a_claim_to_themselves(client_for, users, claim, role):
    client_for(users[role]).post(
        reverse("admin:claims_claim_changelist"),
        {"action": "assign_to_me", "_selected_action": [claim.pk]},
    )
    assert Claim.objects.get(pk=claim.pk).assignee == users[role]


def test_a_contributor_cannot_assign_work_to_others_from_the_form(
    client_for, contributor, editor, claim
):
    page = client_for(contributor).get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert 'name="assignee"' not in page.content.decode()
    page = client_for(editor).get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert 'name="assignee"' in page.content.decode()


def test_a_contributor_sees_no_way_to_record_a_verdict(client_for, contributor, claim):
    page = client_for(contributor).get(reverse("admin:claims_claim_change", args=[claim.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="record-review"' not in html
    assert 'value="Publish"' not in html
    assert 'id="ledger"' in html  # the ledger itself is readable


def test_a_claim_entered_by_a_contributor_is_a_draft(client_for, contributor, speaker):
    response = client_for(contributor).post(
        reverse("admin:claims_claim_add"),
        {
            "statement": "The bridge cost $2 billion.",
            "slug": "bridge-cost",
            "speaker": speaker.pk,
            "kind": "numeric",
            "quantity": "2000000000",
            "unit": "USD",
            "appearances-TOTAL_FORMS": "0",
            "appearances-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    claim = Claim.objects.get(slug="bridge-cost")
    assert not claim.is_published
    assert claim.status == "unverified"


def test_the_second_editor_gets_the_conflict_and_keeps_their_text(
    client_for, editor, second_editor, claim
):
    loaded_version = claim.version  # both editors open the claim page
    VerdictFactory(
        claim=claim, editor=editor, explanation="First verdict.", expected_version=loaded_version
    )

    their_text = "My own careful explanation, with *emphasis*."
    response = client_for(second_editor).post(
        _review_url(claim),
        _review_data(claim, status="true", explanation=their_text, expected_version=loaded_version),
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "someone else changed this claim" in html
    assert "you saw version 1, it is now version 2" in html
    assert "Not yet verified → False by ed" in html
    assert their_text.replace("*", "") in html.replace("*", "")  # kept in the textarea
    assert 'name="expected_version" value="2"' in html
    assert Review.objects.filter(claim=claim).count() == 1
    claim.refresh_from_db()
    assert claim.status == "false"


def test_a_verdict_without_explanation_is_shown_again_with_the_error(client_for, editor, claim):
    response = client_for(editor).post(_review_url(claim), _review_data(claim, explanation="  "))

    assert response.status_code == 400
    assert "A verdict needs an explanation" in response.content.decode()
    assert not Review.objects.exists()


def test_the_claim_page_shows_the_whole_ledger_newest_first_with_hashes(
    client_for, editor, claim, source
):
    first = VerdictFactory(claim=claim, editor=editor, status="in_review", explanation="")
    second = VerdictFactory(
        claim=claim,
        editor=editor,
        status="false",
        explanation="See <script>alert(1)</script> **the report**.",
        evidence=[source],
    )

    html = client_for(editor).get(reverse("admin:claims_claim_change", args=[claim.pk])).content
    html = html.decode()
    assert html.index(f'id="entry-{second.sequence}"') < html.index(f'id="entry-{first.sequence}"')
    assert f'<code title="previous: {first.entry_hash}">{second.entry_hash}</code>' in html
    assert "<strong>the report</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert source.title in html


def test_the_changelist_runs_the_same_queries_for_10_or_1000_claims(
    client_for, editor, speaker, django_assert_num_queries, monkeypatch
):
    client = client_for(editor)
    url = reverse("admin:claims_claim_changelist")
    # Past this many claims the list shows the planner's estimate instead of counting.
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 100)

    def make(count, start):
        Claim.objects.bulk_create(
            ClaimFactory.build(
                slug=f"c-{n}", statement=f"Claim {n}", speaker=speaker, assignee=editor
            )
            for n in range(start, start + count)
        )

    make(10, 0)
    client.get(url)  # warm the session and permission caches
    # 1. the session, 2. its user, 3. the user's permissions and its groups' (one query),
    # 4. the desk's accounts for the assignee filter, 5. the topics, 6. the planner's
    # estimate of the claims, 7. their count, stopped past 100, 8. the page of claims with
    # speaker, assignee and appearance count: never a query per row, no full count, no
    # menu of speakers or sources, no date hierarchy.
    with django_assert_num_queries(8) as small:
        response = client.get(url)
    assert "10 claims" in response.content.decode()
    assert "about" not in response.content.decode()
    make(990, 10)
    # The same 9 for 1000 claims, no longer counted one by one.
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.context["cl"].paginator.estimated
    assert response.context["cl"].result_count > 100
    assert '<span class="estimated-count"' in response.content.decode()


def test_the_change_page_runs_the_same_queries_however_long_the_ledger(
    client_for, editor, claim, source, django_assert_num_queries, monkeypatch
):
    client = client_for(editor)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    # The page shows this many of the newest entries, then links to the ledger's list.
    monkeypatch.setattr(claims_admin, "LEDGER_SHOWN", 5)
    VerdictFactory(claim=claim, editor=editor, status="false", explanation="x")
    client.get(url)
    # 1. the session, 2. its user, 3. the claim for the desk's forms (speaker, assignee and
    # appearance count joined in), 4. the user's permissions and its groups' (one query),
    # 5. the claim again for the change form, 6. its topics (the picker shows only those),
    # 7. its appearances with sources and quotes, 8. the newest entries of its ledger with
    # their editors and approvers, 9. those entries' evidence with sources, 10. a verdict
    # pending a second editor's approval (none here: its evidence is not read), 11. the
    # speaker the form shows. No list of every topic, speaker or user.
    with django_assert_num_queries(11) as short:
        response = client.get(url)
    assert "every entry of this claim" not in response.content.decode()
    entries = [
        VerdictFactory(
            claim=claim,
            editor=editor,
            status="true" if version % 2 else "false",
            explanation=f"Round {version}",
            evidence=[source],
        )
        for version in range(2, 12)
    ]
    # The same 11 queries with 11 entries in the ledger, of which the newest 5 are shown.
    with django_assert_num_queries(len(short.captured_queries)):
        response = client.get(url)
    html = response.content.decode()
    assert html.count('class="ledger-entry"') == 5
    assert f'id="entry-{entries[-1].sequence}"' in html
    assert f'id="entry-{entries[-6].sequence}"' not in html
    ledger = reverse("admin:claims_review_changelist") + f"?claim__id__exact={claim.pk}"
    assert f'<a href="{ledger}">every entry of this claim</a>' in html
    listed = client.get(ledger)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 11


def test_full_text_search_finds_claims_by_quoted_words(client_for, editor, seeded):
    url = reverse("admin:claims_claim_changelist")
    html = client_for(editor).get(url, {"q": "blow"}).content.decode()
    assert "Lethal strikes on drug traffickers" in html
    html = client_for(editor).get(url, {"q": '"50 million" -seven'}).content.decode()
    assert "$50 million reward" in html
    assert "1 claim" in html


def test_assigned_to_me_filter(client_for, editor, second_editor, speaker):
    ClaimFactory(slug="mine", statement="Mine", speaker=speaker, assignee=editor)
    ClaimFactory(slug="theirs", statement="Theirs", speaker=speaker, assignee=second_editor)
    html = client_for(editor).get(reverse("admin:claims_claim_changelist"), {"assignee": "me"})
    html = html.content.decode()
    assert ">Mine<" in html
    assert ">Theirs<" not in html


def test_the_admin_index_says_whether_the_ledger_verifies(client_for, editor, seeded, superuser):
    html = client_for(editor).get(reverse("admin:index")).content.decode()
    count = Review.objects.count()
    assert f"Ledger verified: {count} entries" in html

    page = client_for(superuser).get(reverse("admin:claims_review_verify"))
    assert page.status_code == 200
    assert f"{count} entries" in page.content.decode()


def test_the_history_page_shows_who_changed_the_wording(client_for, editor, claim):
    editor.groups.add(Group.objects.get(name="Editors"))
    client = client_for(editor)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    form = {
        "statement": "The port handled 12.5 million tonnes last year.",
        "slug": claim.slug,
        "speaker": claim.speaker_id,
        "kind": "numeric",
        "quantity": "12500000",
        "unit": "t",
        "appearances-TOTAL_FORMS": "0",
        "appearances-INITIAL_FORMS": "0",
    }
    assert client.post(url, form).status_code == 302

    history = client.get(reverse("admin:claims_claim_history", args=[claim.pk])).content.decode()
    assert "12.5 million tonnes" in history
    assert "The port handled 12 million tonnes last year." in history  # the wording before
    assert ">ed<" in history


def test_a_verdict_on_wording_edited_since_it_was_loaded_is_held_back(
    client_for, editor, contributor, claim
):
    page = client_for(editor).get(reverse("admin:claims_claim_change", args=[claim.pk]))
    loaded_etag = page.context["review_form"]["expected_etag"].value()
    assert loaded_etag == claim.etag
    # A contributor rewords the claim; the ledger version does not move.
    claim.statement = "The port handled 2 million tonnes last year."
    claim.save()

    held = client_for(editor).post(
        _review_url(claim),
        _review_data(
            claim, status="true", explanation="Matches the report.", expected_etag=loaded_etag
        ),
    )

    html = held.content.decode()
    assert held.status_code == 409
    assert "was edited since you loaded it" in html
    assert "Matches the report." in html
    assert not Review.objects.exists()
    claim.refresh_from_db()
    # Sent again with the wording in view, it is recorded.
    again = client_for(editor).post(
        _review_url(claim),
        _review_data(
            claim, status="true", explanation="Matches the report.", expected_etag=claim.etag
        ),
    )
    assert again.status_code == 302
    assert Review.objects.get().status_after == "true"
