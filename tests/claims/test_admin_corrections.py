"""Corrections on the desk: a published or rated claim's checkable fields are
read-only in the admin, and editors change them through "Correct this claim",
which writes a correction entry in the ledger."""

from decimal import Decimal

import pytest
from django.urls import reverse

from claims.forms import ClaimAdminForm
from claims.models import MEDIA_FIELDS, Claim, Review
from claims.services import publish_claim
from tests.factories import (
    CorrectionFactory,
    PublicationFactory,
    SpeakerFactory,
    VerdictFactory,
)

LOCKED_NOTE = "change only through a correction recorded in the ledger"


def _change_url(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def _correct_url(claim):
    return reverse("admin:claims_claim_correct", args=[claim.pk])


def _ledger(claim):
    return list(Review.objects.filter(claim=claim).order_by("sequence").values())


def _snapshot(claim):
    """What a refused edit must leave as it was: the row and its ledger."""
    row = Claim.objects.filter(pk=claim.pk).values().get()
    return row, _ledger(claim)


def _checkable_fields(claim):
    """The claim's checkable fields as both its forms post them, unchanged."""
    return {
        "statement": claim.statement,
        "speaker": claim.speaker_id,
        "claim_date": claim.claim_date.isoformat() if claim.claim_date else "",
        "kind": claim.kind,
        "quantity": "" if claim.quantity is None else str(claim.quantity),
        "unit": claim.unit,
        "media_authenticity": claim.media_authenticity,
        "short_form": claim.short_form,
        "quantity_qualifier": claim.quantity_qualifier,
        **{name: getattr(claim, name) for name in MEDIA_FIELDS},
    }


def _change_form(claim, **changes):
    """The claim's admin form as the page posts it, with `changes` typed in."""
    return {
        **_checkable_fields(claim),
        "slug": claim.slug,
        "appearances-TOTAL_FORMS": "0",
        "appearances-INITIAL_FORMS": "0",
        **changes,
    }


def _correction(claim, **overrides):
    """The correction form as an editor sends it: the current values, then `overrides`."""
    return {
        **_checkable_fields(claim),
        "correction_class": "typo",
        "reason": "The statement misspelt *tonnes*.",
        "note": "",
        "expected_version": claim.version,
        **overrides,
    }


@pytest.fixture
def other_speaker(db):
    return SpeakerFactory(name="Bea Other", slug="bea-other")


@pytest.fixture
def published(claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def rated_draft(claim, editor):
    VerdictFactory(claim=claim, editor=editor)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def rated(published, editor):
    VerdictFactory(claim=published, editor=editor)
    published.refresh_from_db()
    return published


EDITS = {
    "statement": {"statement": "The port handled 20 million tonnes last year."},
    "speaker": {"speaker": "other"},
    "quantity": {"quantity": "20000000"},
}


def _edit(name, other_speaker):
    return {
        field: other_speaker.pk if value == "other" else value
        for field, value in EDITS[name].items()
    }


# --- locked fields: read-only for everyone ------------------------------------


@pytest.mark.parametrize("state", ["published", "rated_draft"])
@pytest.mark.parametrize("edit", list(EDITS))
def test_a_contributor_cannot_edit_the_checkable_fields_of_a_published_or_rated_claim(
    client_for, request, contributor, other_speaker, state, edit
):
    claim = request.getfixturevalue(state)
    before = _snapshot(claim)
    client = client_for(contributor)

    response = client.post(_change_url(claim), _change_form(claim, **_edit(edit, other_speaker)))

    assert response.status_code == 200  # shown again, refused in words
    assert "can change only through a correction" in response.content.decode()
    assert _snapshot(claim) == before

    page = client.get(_change_url(claim))
    html = page.content.decode()
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not set(Claim.CHECKABLE_FIELDS) & set(form.fields)
    assert set(Claim.CHECKABLE_FIELDS) <= set(page.context["adminform"].readonly_fields)
    for name in ("statement", "speaker", "quantity"):
        assert f'name="{name}"' not in html
    assert f'<div class="readonly">{claim.statement}</div>' in html
    assert LOCKED_NOTE in html
    assert "ask an editor" in html
    assert 'id="correct"' not in html  # the correction form is for editors


def test_a_change_form_without_the_locked_fields_saves_the_others(
    client_for, contributor, published
):
    before_statement = published.statement
    form = _change_form(published, slug="port-tonnes-2024")
    for name in Claim.CHECKABLE_FIELDS:
        form.pop(name)

    response = client_for(contributor).post(_change_url(published), form)

    assert response.status_code == 302
    published.refresh_from_db()
    assert published.slug == "port-tonnes-2024"
    assert published.statement == before_statement


@pytest.mark.parametrize("status", [None, "in_review"])
def test_a_draft_without_a_verdict_stays_editable(
    client_for, contributor, editor, claim, other_speaker, status
):
    if status:
        VerdictFactory(claim=claim, editor=editor, status=status, explanation="")
        claim.refresh_from_db()
    client = client_for(contributor)
    page = client.get(_change_url(claim)).content.decode()
    assert 'name="statement"' in page
    assert LOCKED_NOTE not in page

    response = client.post(
        _change_url(claim),
        _change_form(
            claim,
            statement="The port handled 20 million tonnes last year.",
            speaker=other_speaker.pk,
            quantity="20000000",
        ),
    )

    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.statement == "The port handled 20 million tonnes last year."
    assert claim.speaker == other_speaker
    assert claim.quantity == Decimal("20000000")


def test_an_edit_sent_from_a_form_opened_before_the_claim_was_published_is_refused(
    client_for, contributor, editor, claim
):
    client = client_for(contributor)
    assert 'name="statement"' in client.get(_change_url(claim)).content.decode()
    PublicationFactory(claim=claim, editor=editor)
    before = _snapshot(claim)

    typed = "The port handled 13 million tonnes last year."
    response = client.post(_change_url(claim), _change_form(claim, statement=typed))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This claim is published: its statement can change only through a correction" in html
    assert typed in html  # kept, to copy into a request for a correction
    assert _snapshot(claim) == before


def test_the_last_check_before_the_save_refuses_what_the_form_let_through(
    client_for, monkeypatch, contributor, editor, claim
):
    # The claim is published between the form's check and the save.
    def clean_then_publish(form):
        publish_claim(claim=claim, editor=editor, expected_version=claim.version)
        return form.cleaned_data

    monkeypatch.setattr(ClaimAdminForm, "clean", clean_then_publish)
    before = _snapshot(claim)

    response = client_for(contributor).post(
        _change_url(claim), _change_form(claim, statement="The port handled 1 tonne.")
    )

    assert response.status_code == 403
    assert _snapshot(claim) == before  # the publication in the same request too


# --- the correction form ---------------------------------------------------------


def test_an_editor_sees_the_correction_form_prefilled_with_no_class_chosen(
    client_for, editor, rated
):
    page = client_for(editor).get(_change_url(rated))

    html = page.content.decode()
    form = page.context["correction_form"]
    assert 'id="correct"' in html
    assert f'action="{_correct_url(rated)}"' in html
    assert form["statement"].value() == rated.statement
    assert form["speaker"].value() == rated.speaker_id
    assert form["expected_version"].value() == rated.version
    assert form["correction_class"].value() is None
    assert 'name="correction_class" value="typo"' in html
    assert "checked" not in html.split('id="correct"')[1].split("</form>")[0]
    assert "the verdict is withdrawn" in html  # each class with its description
    assert "readers see it" in html
    assert 'href="#correct">Correct this claim</a>, below' in html  # the locked fields' line


def test_a_draft_says_it_is_edited_directly(client_for, editor, claim):
    html = client_for(editor).get(_change_url(claim)).content.decode()

    assert 'id="correct-draft"' in html
    assert "edit its fields directly" in html
    assert 'name="correction_class"' not in html


def test_a_typo_correction_keeps_the_verdict_and_records_the_change(client_for, editor, rated):
    before = _ledger(rated)
    new_statement = "The port handled 12 million tonnes last year, it said."

    response = client_for(editor).post(
        _correct_url(rated), _correction(rated, statement=new_statement), follow=True
    )

    entry = Review.objects.latest("sequence")
    assert response.redirect_chain[-1][0].endswith("#ledger")
    assert f"Recorded ledger entry #{entry.sequence}: Typo correction." in (
        response.content.decode()
    )
    rated.refresh_from_db()
    assert rated.statement == new_statement
    assert rated.status == "false"
    assert len(_ledger(rated)) == len(before) + 1
    assert entry.action == "correction"
    assert entry.correction_class == "typo"
    assert entry.editor == editor
    assert entry.explanation == "The statement misspelt *tonnes*."
    # Only what changed: the quantity posted as "12000000.0000" is the same number.
    assert entry.changes == {
        "statement": {"from": "The port handled 12 million tonnes last year.", "to": new_statement}
    }


def test_a_substantive_correction_puts_the_claim_back_in_review(
    client_for, editor, rated, speaker, other_speaker
):
    response = client_for(editor).post(
        _correct_url(rated),
        _correction(
            rated,
            correction_class="substantive",
            speaker=other_speaker.pk,
            quantity="9000000",
            reason="It was the other minister, and 9 million.",
        ),
    )

    assert response.status_code == 302
    rated.refresh_from_db()
    assert rated.status == "in_review"
    assert rated.speaker == other_speaker
    assert rated.quantity == Decimal("9000000")
    entry = Review.objects.latest("sequence")
    assert entry.correction_class == "substantive"
    assert (entry.status_before, entry.status_after) == ("false", "in_review")
    assert entry.changes == {
        "speaker": {
            "from": {"id": speaker.pk, "name": "Ada Example"},
            "to": {"id": other_speaker.pk, "name": "Bea Other"},
        },
        "quantity": {"from": "12000000", "to": "9000000"},
    }


def test_a_stale_version_is_a_conflict_that_keeps_the_editors_text(
    client_for, editor, second_editor, rated
):
    loaded = rated.version
    VerdictFactory(
        claim=rated,
        editor=second_editor,
        status="true",
        explanation="Re-read.",
        expected_version=loaded,
    )
    before = _ledger(rated)
    typed = "The port handled 12 million tonnes in 2024."

    response = client_for(editor).post(
        _correct_url(rated),
        _correction(
            rated,
            statement=typed,
            reason="Said *which* year.",
            note="Checked with the desk.",
            expected_version=loaded,
        ),
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "someone else changed this claim" in html
    assert f"you saw version {loaded}, it is now version {loaded + 1}" in html
    assert typed in html
    assert "Said *which* year." in html
    assert "Checked with the desk." in html
    assert response.context["correction_form"]["correction_class"].value() == "typo"
    assert f'name="expected_version" value="{loaded + 1}"' in html
    assert _ledger(rated) == before
    rated.refresh_from_db()
    assert rated.statement != typed


def test_sending_again_after_a_conflict_does_not_undo_the_other_correction(
    client_for, editor, second_editor, rated
):
    loaded = Claim.objects.get(pk=rated.pk)  # the first editor opens the page
    CorrectionFactory(
        claim=rated, correction_class="clarification", changes={"quantity": Decimal("12500000")}
    )
    typed = "The port handled 12 million tonnes last year, the minister said."

    conflict = client_for(editor).post(_correct_url(loaded), _correction(loaded, statement=typed))

    assert conflict.status_code == 409
    form = conflict.context["correction_form"]
    assert form["statement"].value() == typed  # theirs
    assert form["quantity"].value() == "12500000"  # the other editor's, not the stale one
    again = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    assert client_for(editor).post(_correct_url(rated), again).status_code == 302
    rated.refresh_from_db()
    assert rated.statement == typed
    assert rated.quantity == Decimal("12500000")


def test_a_field_both_editors_corrected_keeps_yours_and_says_what_it_reads_now(
    client_for, editor, second_editor, rated
):
    loaded = Claim.objects.get(pk=rated.pk)
    CorrectionFactory(
        claim=rated, changes={"statement": "The port handled 12 million tons last year."}
    )
    typed = "The port handled 12 million metric tonnes last year."

    response = client_for(editor).post(_correct_url(loaded), _correction(loaded, statement=typed))

    assert response.status_code == 409
    form = response.context["correction_form"]
    assert form["statement"].value() == typed
    assert "it now reads: The port handled 12 million tons last year." in " ".join(
        form.errors["statement"]
    )


def test_a_correction_without_a_reason_is_shown_again_naming_the_reason(client_for, editor, rated):
    before = _snapshot(rated)

    response = client_for(editor).post(
        _correct_url(rated), _correction(rated, statement="The port handled 12 Mt.", reason="  ")
    )

    assert response.status_code == 400
    assert "reason" in response.context["correction_form"].errors
    assert "The port handled 12 Mt." in response.content.decode()
    assert _snapshot(rated) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"correction_class": ""}, "correction_class"),
        ({"correction_class": "rewrite"}, "correction_class"),
        ({}, "__all__"),  # nothing changed
    ],
)
def test_an_invalid_correction_is_shown_again_with_its_error(
    client_for, editor, rated, overrides, field
):
    before = _snapshot(rated)

    response = client_for(editor).post(_correct_url(rated), _correction(rated, **overrides))

    assert response.status_code == 400
    assert field in response.context["correction_form"].errors
    assert _snapshot(rated) == before


def test_a_correction_the_claims_rules_refuse_is_shown_again_with_the_rule(
    client_for, editor, rated
):
    before = _snapshot(rated)

    response = client_for(editor).post(_correct_url(rated), _correction(rated, quantity=""))

    assert response.status_code == 400
    errors = response.context["correction_form"].errors
    assert "A numeric claim needs its quantity." in " ".join(
        str(message) for messages in errors.values() for message in messages
    )
    assert _snapshot(rated) == before


def test_a_draft_without_a_verdict_is_not_corrected_but_edited(client_for, editor, claim):
    response = client_for(editor).post(_correct_url(claim), _correction(claim, statement="Other."))

    assert response.status_code == 400
    assert "edit its fields directly" in response.content.decode()
    assert not Review.objects.exists()


def test_a_contributor_cannot_send_a_correction(client_for, contributor, rated):
    before = _snapshot(rated)

    response = client_for(contributor).post(
        _correct_url(rated), _correction(rated, statement="The port handled 1 tonne.")
    )

    assert response.status_code == 403
    assert _snapshot(rated) == before


# --- the ledger table --------------------------------------------------------------


def test_the_ledger_shows_a_correction_with_its_changes_and_reason_escaped(
    client_for, editor, rated, other_speaker
):
    client_for(editor).post(
        _correct_url(rated),
        _correction(
            rated,
            correction_class="clarification",
            statement="The port handled <b>12</b> million tonnes last year.",
            speaker=other_speaker.pk,
            quantity="9000000",
            reason="Quoted the **other** minister. <script>alert(1)</script>",
        ),
    )
    entry = Review.objects.latest("sequence")

    html = client_for(editor).get(_change_url(rated)).content.decode()
    row = html.split(f'id="entry-{entry.sequence}"')[1].split("</tr>")[0]
    assert "Clarification correction" in row
    assert "Statement:" in row
    assert "<del>The port handled 12 million tonnes last year.</del>" in row
    assert "<ins>The port handled &lt;b&gt;12&lt;/b&gt; million tonnes last year.</ins>" in row
    assert "Speaker:" in row
    assert "<del>Ada Example</del>" in row
    assert "<ins>Bea Other</ins>" in row
    assert "<del>12,000,000</del>" in row  # a missing zero shows
    assert "<ins>9,000,000</ins>" in row
    assert "<strong>other</strong>" in row  # the reason, as Markdown
    assert "<script" not in row
    assert "<script>alert(1)</script>" not in html
