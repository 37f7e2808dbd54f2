"""A source's candidate claims on its admin page: ranked with what scored them, drafted
as a claim (the words anchored as a quote, the draft appearing through it) or
dismissed, by those who may draft claims; the page's queries do not grow with them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.html import escape

from claims import candidates
from claims.models import Appearance, CandidateSentence, Claim, Quote
from tests.claims.test_candidates import TEXT
from tests.factories import ClaimFactory, EditorFactory, SourceFactory, SpeakerFactory

pytestmark = pytest.mark.django_db

BONDI = "Bondi said the DEA seized 30 tons of cocaine linked to Maduro last month."


@pytest.fixture
def bondi(db):
    return SpeakerFactory(name="Pam Bondi", slug="pam-bondi", aliases=["Bondi"])


@pytest.fixture
def scored(db, bondi):
    source = SourceFactory(snapshot=TEXT)
    candidates.refresh_for(source)
    return source


def _change(source) -> str:
    return reverse("admin:sources_source_change", args=[source.pk])


def _draft(source, candidate=None) -> str:
    url = reverse("admin:sources_source_draft_claim", args=[source.pk])
    return f"{url}?candidate={candidate.pk}" if candidate else url


def _dismiss(source, candidate) -> str:
    return reverse("admin:sources_source_dismiss_candidate", args=[source.pk, candidate.pk])


def _candidate(source, words: str) -> CandidateSentence:
    return CandidateSentence.objects.get(source=source, text__startswith=words)


def _section(page: str) -> str:
    start = page.index('id="candidates"')
    return page[start : page.index("</section>", start)]


# --- The list --------------------------------------------------------------------------------


def test_the_source_page_lists_its_candidates_ranked_with_what_scored_them(
    client_for, editor, scored
):
    section = _section(client_for(editor).get(_change(scored)).content.decode())

    assert "Candidate claims" in section
    order = [section.index(escape(words)) for words in (BONDI, "The strikes killed", "It remains")]
    assert order == sorted(order)
    bondi = _candidate(scored, "Bondi said")
    assert f"Score {bondi.score:.2f}" in section
    # The features in words, with their weights and what they found.
    assert "states numbers with units, money or counts (+0.30): 30 tons" in section
    assert "names a known speaker (+0.15): Bondi (Pam Bondi)" in section
    assert "speculates or hedges (-0.25): It remains unknown" in section
    assert f'href="{escape(_draft(scored, bondi))}"' in section
    assert f'action="{_dismiss(scored, bondi)}"' in section


def test_drafted_and_dismissed_candidates_are_not_offered_again(client_for, editor, scored):
    drafted = _candidate(scored, "Bondi said")
    dismissed = _candidate(scored, "The strikes")
    candidates.mark_drafted(drafted, ClaimFactory())
    candidates.dismiss(dismissed, user=editor)

    section = _section(client_for(editor).get(_change(scored)).content.decode())

    assert escape(drafted.text) not in section and escape(dismissed.text) not in section
    assert "The navy deployed" in section


def test_the_top_ten_are_shown_and_the_others_behind_show_all(client_for, editor, bondi):
    text = " ".join(f"Bondi said {n} ships sailed to the port on day {n}." for n in range(1, 14))
    source = SourceFactory(snapshot=text)
    candidates.refresh_for(source)

    section = _section(client_for(editor).get(_change(source)).content.decode())
    top, rest = section.split("<details", 1)

    assert top.count('class="candidate"') == candidates.SHOWN
    assert rest.count('class="candidate"') == 13 - candidates.SHOWN
    assert "Show all 13 candidate claims" in rest
    assert 'start="11"' in rest


def test_a_candidate_is_shown_escaped(client_for, editor, db):
    source = SourceFactory(snapshot="The <script>alert(1)</script> bounty rose to $50 million.")
    candidates.refresh_for(source)

    page = client_for(editor).get(_change(source)).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert escape("The <script>alert(1)</script> bounty") in page


def test_without_add_claim_a_desk_member_sees_the_candidates_but_no_actions(client_for, scored):
    member = _member_who_may_not_draft()

    section = _section(client_for(member).get(_change(scored)).content.decode())

    assert escape(BONDI) in section
    assert "Draft a claim" not in section and "Dismiss" not in section


def test_the_page_runs_the_same_queries_for_many_candidates_as_for_none(
    client_for, editor, bondi, django_assert_num_queries
):
    source = SourceFactory(snapshot="Nothing.")
    client = client_for(editor)
    client.get(_change(source))  # warm the session and content type caches
    # The session, its user, the source (with its quote count), the user's permissions,
    # its quotes, and its candidates: one query for them all.
    with django_assert_num_queries(6):
        assert "No candidate claims" in client.get(_change(source)).content.decode()

    many = SourceFactory(snapshot=" ".join([TEXT] * 5).replace("Monday", "Sunday"))
    candidates.refresh_for(many)
    assert CandidateSentence.objects.filter(source=many).count() == 20
    client.get(_change(many))
    with django_assert_num_queries(6):
        page = client.get(_change(many)).content.decode()
    assert page.count('class="candidate"') == 20


# --- Drafting a claim from a candidate ------------------------------------------------------


def _form(speaker, **overrides):
    return {
        "words": BONDI,
        "speaker": speaker.pk,
        "quote_kind": "reported",
        "statement": "The DEA has seized 30 tons of cocaine linked to Nicolás Maduro.",
        "short_form": "",
        "kind": "event",
        **overrides,
    }


def test_draft_a_claim_opens_the_draft_page_with_the_sentence_as_the_words(
    client_for, editor, scored
):
    candidate = _candidate(scored, "Bondi said")

    response = client_for(editor).get(_draft(scored, candidate))

    assert response.status_code == 200
    assert response.context["form"]["words"].value() == BONDI
    assert "From a candidate claim" in response.content.decode()


def test_saving_the_draft_anchors_the_words_and_marks_the_candidate_drafted(
    client_for, editor, scored, bondi
):
    candidate = _candidate(scored, "Bondi said")

    response = client_for(editor).post(_draft(scored, candidate), _form(bondi))

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:claims_claim_change", args=[claim.pk])
    quote = Quote.objects.get()
    assert (quote.start, quote.end, quote.exact) == (candidate.start, candidate.end, BONDI)
    assert Appearance.objects.get().quote == quote
    candidate.refresh_from_db()
    assert (candidate.status, candidate.claim) == ("drafted", claim)


def test_a_sentence_that_repeats_is_anchored_where_the_candidate_is(client_for, editor, bondi):
    repeated = "Bondi said the DEA seized 30 tons of cocaine last month."
    source = SourceFactory(snapshot=f"{repeated} Then it stopped for a while. {repeated}")
    candidates.refresh_for(source)
    second = CandidateSentence.objects.filter(source=source, text=repeated).order_by("start")[1]

    response = client_for(editor).post(_draft(source, second), _form(bondi, words=repeated))

    assert response.status_code == 302
    assert Quote.objects.get().start == second.start > 0


def test_the_editor_may_shorten_the_words(client_for, editor, scored, bondi):
    candidate = _candidate(scored, "Bondi said")
    words = "the DEA seized 30 tons of cocaine"

    client_for(editor).post(_draft(scored, candidate), _form(bondi, words=words))

    assert Quote.objects.get().exact == words
    candidate.refresh_from_db()
    assert candidate.status == "drafted"


def test_a_refused_draft_leaves_the_candidate_new(client_for, editor, scored, bondi):
    candidate = _candidate(scored, "Bondi said")

    response = client_for(editor).post(
        _draft(scored, candidate), _form(bondi, words="words that are not in the text")
    )

    assert response.status_code == 400
    assert not Claim.objects.exists()
    candidate.refresh_from_db()
    assert (candidate.status, candidate.claim) == ("new", None)


@pytest.mark.parametrize("candidate", ["999999", "abc", "-1", "99999999999999999999999", ""])
def test_an_unknown_candidate_is_not_found(client_for, editor, scored, candidate):
    url = reverse("admin:sources_source_draft_claim", args=[scored.pk])

    assert client_for(editor).get(f"{url}?candidate={candidate}").status_code == 404


def test_another_sources_candidate_is_not_found(client_for, editor, scored, bondi):
    other = SourceFactory(snapshot=TEXT.replace("Monday", "Sunday"))

    response = client_for(editor).post(
        _draft(other, _candidate(scored, "Bondi said")), _form(bondi)
    )

    assert response.status_code == 404
    assert not Claim.objects.exists()


# --- Dismissing -----------------------------------------------------------------------------


def test_dismiss_marks_it_dismissed_and_returns_to_the_list(client_for, editor, scored):
    candidate = _candidate(scored, "It remains")

    client = client_for(editor)
    response = client.post(_dismiss(scored, candidate))

    assert response.status_code == 302
    assert response["Location"] == f"{_change(scored)}#candidates"
    candidate.refresh_from_db()
    assert candidate.status == "dismissed"
    page = client.get(_change(scored)).content.decode()
    assert "no longer offered as a candidate claim" in page


def test_a_contributor_drafts_and_dismisses_too(client_for, contributor, scored, bondi):
    client = client_for(contributor)

    assert client.post(_dismiss(scored, _candidate(scored, "It remains"))).status_code == 302
    candidate = _candidate(scored, "Bondi said")
    assert client.post(_draft(scored, candidate), _form(bondi)).status_code == 302
    assert sorted(CandidateSentence.objects.values_list("status", flat=True)) == [
        "dismissed",
        "drafted",
        "new",
        "new",
    ]


def test_dismissing_is_a_post(client_for, editor, scored):
    candidate = _candidate(scored, "It remains")

    assert client_for(editor).get(_dismiss(scored, candidate)).status_code == 405
    candidate.refresh_from_db()
    assert candidate.status == "new"


def _member_who_may_not_draft():
    member = EditorFactory(username="viewer")
    member.groups.clear()
    member.user_permissions.set(Permission.objects.filter(codename="view_source"))
    return member


def test_a_member_who_may_not_draft_claims_may_not_dismiss(client_for, scored):
    candidate = _candidate(scored, "It remains")

    assert (
        client_for(_member_who_may_not_draft()).post(_dismiss(scored, candidate)).status_code == 403
    )
    candidate.refresh_from_db()
    assert candidate.status == "new"


def test_readers_are_sent_to_log_in(client, scored):
    candidate = _candidate(scored, "It remains")

    response = client.post(_dismiss(scored, candidate))

    assert response.status_code == 302 and "/login/" in response["Location"]
    candidate.refresh_from_db()
    assert candidate.status == "new"


def test_a_forged_dismissal_without_the_csrf_token_is_refused(client_for, editor, scored):
    candidate = _candidate(scored, "It remains")

    response = client_for(editor, enforce_csrf_checks=True).post(_dismiss(scored, candidate))

    assert response.status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == "new"


def test_another_sources_candidate_cannot_be_dismissed_through_this_one(client_for, editor, scored):
    other = SourceFactory(snapshot="Another text, with nothing in it at all.")
    candidate = _candidate(scored, "It remains")

    assert client_for(editor).post(_dismiss(other, candidate)).status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == "new"


# --- Added in the admin ------------------------------------------------------------------------


def test_a_source_added_in_the_admin_has_its_candidates(client_for, editor, bondi):
    response = client_for(editor).post(
        reverse("admin:sources_source_add"),
        {
            "title": "A statement",
            "slug": "a-statement",
            "kind": "statement",
            "snapshot": TEXT,
            "language": "en",
        },
    )

    assert response.status_code == 302
    stored = CandidateSentence.objects.filter(source__slug="a-statement")
    assert stored.count() == 4
    assert stored.first().text == BONDI
    assert stored.first().score > Decimal("0.5")
