"""Drafting a claim from words of a source's text, in the sources admin: the words
anchored as the speaker's quote, the draft appearing through it, in one step, and
nothing written when any part is refused."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from claims.models import Appearance, Claim, Quote
from tests.factories import EditorFactory

pytestmark = pytest.mark.django_db


def _url(source):
    return reverse("admin:sources_source_draft_claim", args=[source.pk])


def _form(speaker, **overrides):
    return {
        "words": "the port handled \u201c12 million tonnes\u201d last year",
        "speaker": speaker.pk,
        "quote_kind": "reported",
        "statement": "The port handled 12 million tonnes last year.",
        "short_form": "",
        "kind": "event",
        **overrides,
    }


def test_the_source_page_offers_to_draft_a_claim_from_its_words(client_for, editor, source):
    html = client_for(editor).get(reverse("admin:sources_source_change", args=[source.pk]))

    assert _url(source) in html.content.decode()


def test_an_editor_drafts_a_claim_anchored_in_the_chosen_words(client_for, editor, source, speaker):
    client = client_for(editor)
    page = client.get(_url(source)).content.decode()
    assert 'id="draft-snapshot"' in page and "12 million tonnes" in page

    response = client.post(_url(source), _form(speaker))

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:claims_claim_change", args=[claim.pk])
    assert claim.statement == "The port handled 12 million tonnes last year."
    assert claim.published_at is None and claim.speaker == speaker and claim.kind == "event"
    quote = Quote.objects.get()
    assert (quote.source, quote.speaker, quote.kind) == (source, speaker, "reported")
    assert source.snapshot[quote.start : quote.end] == quote.exact
    assert quote.exact == "the port handled \u201c12 million tonnes\u201d last year"
    appearance = Appearance.objects.get()
    assert (appearance.claim, appearance.source, appearance.quote) == (claim, source, quote)


def test_without_a_statement_the_draft_says_the_quoted_words(client_for, editor, source, speaker):
    client_for(editor).post(_url(source), _form(speaker, statement=""))

    assert Claim.objects.get().statement == Quote.objects.get().exact


def test_words_that_are_not_in_the_text_are_refused_and_nothing_is_written(
    client_for, editor, source, speaker
):
    response = client_for(editor).post(_url(source), _form(speaker, words="13 million tonnes"))

    assert response.status_code == 400
    assert response.context["form"].errors["words"]
    assert not Claim.objects.exists() and not Quote.objects.exists()


def test_a_claim_the_model_refuses_leaves_no_quote_behind(client_for, editor, source, speaker):
    """A numeric claim needs its quantity, which this form does not ask for: the refusal
    is shown above the fields, and the quote anchored first is rolled back with it."""
    response = client_for(editor).post(_url(source), _form(speaker, kind="numeric"))

    assert response.status_code == 400
    assert "quantity" in " ".join(response.context["form"].non_field_errors())
    assert not Claim.objects.exists() and not Quote.objects.exists()


def test_a_long_statement_needs_its_short_form(client_for, editor, source, speaker):
    long_statement = "The port handled twelve million tonnes of cargo last year, " * 2

    response = client_for(editor).post(_url(source), _form(speaker, statement=long_statement))

    assert response.status_code == 400
    assert response.context["form"].errors["short_form"]
    assert not Claim.objects.exists()


def test_a_contributor_drafts_claims_too(client_for, contributor, source, speaker):
    assert client_for(contributor).post(_url(source), _form(speaker)).status_code == 302
    assert Claim.objects.count() == 1


def test_a_desk_member_who_may_not_add_claims_is_refused(client_for, source, speaker):
    member = EditorFactory(username="viewer")
    member.user_permissions.remove(*Permission.objects.filter(codename="add_claim"))
    member.groups.clear()
    member.user_permissions.add(*Permission.objects.filter(codename="view_source"))

    response = client_for(member).post(_url(source), _form(speaker))

    assert response.status_code == 403
    assert not Claim.objects.exists()


def test_readers_are_sent_to_log_in(client, source, speaker):
    response = client.post(_url(source), _form(speaker))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Claim.objects.exists()
