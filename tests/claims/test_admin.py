"""The admin: every page opens, the ledger is read-only, snapshots are archived
as posted and never edited, quotes are anchored from typed words, and the
desk's roles see what they should."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from claims.models import Claim, ExternalReview, Quote, RepeatSuggestion, Review
from claims.tips import receive_tip
from claims.webhooks.models import WebhookDelivery, WebhookSubscription
from sources.models import Source
from tests.conftest import SNAPSHOT
from tests.factories import QuoteFactory, SourceFactory, VerdictFactory

REGISTERED_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _errors(response) -> str:
    """All form errors of an admin add/change page, as one string."""
    form = response.context["adminform"].form
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# --- every registered model -------------------------------------------------


def test_it_registers_the_ledger_and_content_models():
    labels = {model._meta.label for model in REGISTERED_MODELS}
    assert {
        "claims.Speaker",
        "claims.Topic",
        "claims.Claim",
        "claims.Quote",
        "claims.Appearance",
        "claims.Review",
        "sources.Source",
    } <= labels


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_it_opens_changelist_and_change_page_of_every_registered_model(
    model, admin_client, seeded, editor, django_assert_max_num_queries
):
    VerdictFactory(
        claim=Claim.objects.order_by("pk").first(),
        editor=editor,
        evidence=[Source.objects.order_by("pk").first()],
    )
    Token.objects.get_or_create(user=editor)  # the API tokens' admin needs one to open
    # The seeds hold no other fact-checker's review: one made up, to open its pages.
    ExternalReview.objects.create(
        claim=Claim.objects.order_by("pk").first(),
        url="https://factcheck.example.org/made-up",
        publisher_name="Example Fact Check",
        claim_text="Made up for the test.",
        rating_text="Falso",
    )
    # Nor a webhook subscriber, nor a delivery to one.
    subscription = WebhookSubscription.objects.create(url="https://subscriber.example.org/hook")
    WebhookDelivery.objects.create(
        subscription=subscription,
        review=Review.objects.order_by("pk").first(),
        event="verdict.recorded",
        body="{}",
    )
    # Nor a reader's tip.
    receive_tip("The strike footage was made with AI.")
    # Nor a passage of a source suggested as a repeat of a checked claim.
    RepeatSuggestion.objects.create(
        claim=Claim.objects.order_by("pk").first(),
        source=Source.objects.order_by("pk").last(),
        start=0,
        end=20,
        text=Source.objects.order_by("pk").last().snapshot[:20],
        score=Decimal("0.8"),
    )
    assert model._default_manager.exists(), f"no {model._meta.label} to open"

    # The query count must not grow with the number of rows (seeds: ~22 claims). The
    # claims' changelist is the largest, 11: 1. the session, 2. its user, 3.-6. the
    # filters' choices (assignees, topics, speakers, sources), 7. the count, 8. the same
    # count unfiltered, 9. the page, 10.-11. the date hierarchy. Most others take 5-8.
    with django_assert_max_num_queries(12):
        response = admin_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model._default_manager.count()

    obj = model._default_manager.order_by("pk").first()
    # The first claim's change page is the largest, 17: 1. the session, 2. its user,
    # 3.-4. the claim (for the desk's forms, then the change form), 5. its topics, 6. its
    # appearances, 7. the claim model's content type, 8. the ledger with editors, 9. the
    # evidence, 10. the topics to choose from, 11.-16. for each of its two appearances:
    # the claim, the source and the quote its inline form shows, 17. its speaker.
    with django_assert_max_num_queries(20):
        response = admin_client.get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_it_searches_every_registered_changelist(model, admin_client, seeded, editor):
    VerdictFactory(
        claim=Claim.objects.order_by("pk").first(),
        editor=editor,
        evidence=[Source.objects.order_by("pk").first()],
    )
    response = admin_client.get(_url(model, "changelist"), {"q": "Rubio"})
    assert response.status_code == 200


def test_it_finds_a_speaker_by_alias(admin_client, seeded):
    response = admin_client.get(
        _url(Claim.speaker.field.related_model, "changelist"), {"q": "Rubio"}
    )
    assert [speaker.slug for speaker in response.context["cl"].result_list] == ["marco-rubio"]


# --- the ledger is read-only ------------------------------------------------


def test_it_offers_no_add_for_ledger_entries_even_to_a_superuser(admin_client, db):
    response = admin_client.get(_url(Review, "add"))
    assert response.status_code == 403


def test_it_offers_no_change_for_ledger_entries_even_to_a_superuser(
    admin_client, editor, claim, source
):
    review = VerdictFactory(claim=claim, editor=editor, evidence=[source])
    before = Review.objects.values().get(pk=review.pk)
    url = _url(Review, "change", review.pk)

    page = admin_client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert b'name="explanation"' not in page.content

    response = admin_client.post(
        url,
        {
            "claim": claim.pk,
            "claim_version": 2,
            "action": "review",
            "status_before": "unverified",
            "status_after": "true",
            "explanation": "Rewritten history.",
            "note": "",
            "editor": editor.pk,
            "evidence_links-TOTAL_FORMS": "0",
            "evidence_links-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    assert Review.objects.values().get(pk=review.pk) == before
    claim.refresh_from_db()
    assert claim.status == "false"


def test_it_offers_no_delete_for_ledger_entries_even_to_a_superuser(
    admin_client, editor, claim, source
):
    review = VerdictFactory(claim=claim, editor=editor, evidence=[source])
    url = _url(Review, "delete", review.pk)

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


def test_it_offers_no_bulk_delete_of_ledger_entries(admin_client, editor, claim, source):
    review = VerdictFactory(claim=claim, editor=editor, evidence=[source])
    changelist = _url(Review, "changelist")

    response = admin_client.get(changelist)
    assert response.status_code == 200
    assert b"delete_selected" not in response.content
    assert response.context["action_form"] is None
    request = RequestFactory().get(changelist)
    request.user = response.wsgi_request.user
    assert "delete_selected" not in admin.site._registry[Review].get_actions(request)

    # Posting the action anyway does nothing.
    admin_client.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [review.pk], "post": "yes"}
    )
    assert Review.objects.filter(pk=review.pk).exists()


def test_it_shows_ledger_evidence_read_only(admin_client, editor, claim, source):
    review = VerdictFactory(claim=claim, editor=editor, evidence=[source])
    response = admin_client.get(_url(Review, "change", review.pk))
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is False
    assert source.title in response.content.decode()


# --- sources: the snapshot is archived as posted, then never edited ---------

NEW_SNAPSHOT = (
    "Le ministre a d\u00e9clar\u00e9 : \u00ab 12 millions de tonnes \u00bb.\n\n"
    "Critics said  \u201cthat is wrong\u201d \u2014 twice."
)


def _source_form(**overrides) -> dict:
    data = {
        "slug": "ministre-declaration",
        "title": "D\u00e9claration du ministre",
        "outlet": "",
        "author": "",
        "url": "",
        "published_on": "",
        "kind": "statement",
        "snapshot": NEW_SNAPSHOT,
    }
    data.update(overrides)
    return data


def test_it_stores_a_posted_snapshot_with_its_sha256(admin_client, db):
    response = admin_client.post(_url(Source, "add"), _source_form())

    assert response.status_code == 302, _errors(response)
    source = Source.objects.get(slug="ministre-declaration")
    assert source.snapshot == NEW_SNAPSHOT
    assert source.snapshot_sha256 == hashlib.sha256(NEW_SNAPSHOT.encode("utf-8")).hexdigest()
    assert source.kind == "statement"


def test_it_shows_the_snapshot_hash_read_only_on_the_change_page(admin_client, source):
    response = admin_client.get(_url(Source, "change", source.pk))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "snapshot" not in form.fields
    assert "snapshot_sha256" not in form.fields
    assert hashlib.sha256(SNAPSHOT.encode()).hexdigest() in response.content.decode()


def test_it_ignores_a_changed_snapshot_posted_to_the_change_page(admin_client, source):
    url = _url(Source, "change", source.pk)
    response = admin_client.post(
        url,
        _source_form(
            slug=source.slug,
            title="Port article (corrected title)",
            snapshot="Entirely different words.",
            # The management form of the read-only list of the source's quotes.
            **{"quotes-TOTAL_FORMS": "0", "quotes-INITIAL_FORMS": "0"},
        ),
    )

    assert response.status_code == 302, _errors(response)
    source.refresh_from_db()
    assert source.title == "Port article (corrected title)"
    assert source.snapshot == SNAPSHOT
    assert source.snapshot_sha256 == hashlib.sha256(SNAPSHOT.encode()).hexdigest()


# --- quotes: anchored from typed words --------------------------------------


def _quote_form(source, speaker, words, **overrides) -> dict:
    data = {
        "source": source.pk,
        "speaker": speaker.pk,
        "kind": "direct",
        "words": words,
        "context_before": "",
    }
    data.update(overrides)
    return data


def test_it_anchors_a_quote_typed_with_straight_quote_marks(admin_client, source, speaker):
    words = 'Critics said: "That number is wrong."'
    exact = "Critics said: \u201cThat number is wrong.\u201d"
    start = SNAPSHOT.index(exact)
    end = start + len(exact)

    response = admin_client.post(_url(Quote, "add"), _quote_form(source, speaker, words))

    assert response.status_code == 302, _errors(response)
    quote = Quote.objects.get()
    assert (quote.source, quote.speaker, quote.kind) == (source, speaker, "direct")
    assert quote.exact == exact
    assert (quote.start, quote.end) == (start, end)
    assert SNAPSHOT[quote.start : quote.end] == quote.exact
    assert quote.prefix == SNAPSHOT[max(0, start - 40) : start]
    assert quote.suffix == SNAPSHOT[end : end + 40]


def test_it_anchors_words_across_collapsed_whitespace_and_apostrophes(
    admin_client, source, speaker
):
    # The snapshot has "minister\u2019s office  disagreed" (typographic apostrophe,
    # two spaces).
    response = admin_client.post(
        _url(Quote, "add"),
        _quote_form(source, speaker, "The minister's office disagreed", kind="reported"),
    )

    assert response.status_code == 302, _errors(response)
    quote = Quote.objects.get()
    assert quote.exact == "The minister\u2019s office  disagreed"
    assert SNAPSHOT[quote.start : quote.end] == quote.exact
    assert quote.kind == "reported"


def test_it_shows_the_nearest_passage_when_the_words_are_not_in_the_source(
    admin_client, source, speaker
):
    response = admin_client.post(
        _url(Quote, "add"), _quote_form(source, speaker, 'handled "13 million tonnes" last year')
    )

    assert response.status_code == 200
    errors = _errors(response)
    assert "Nearest passage" in errors
    assert "12 million tonnes" in errors
    assert "Nearest passage" in response.content.decode()
    assert not Quote.objects.exists()


def test_it_refuses_words_already_anchored_in_the_source(admin_client, source, speaker):
    existing = QuoteFactory(source=source, speaker=speaker, words="That number is wrong.")

    response = admin_client.post(
        _url(Quote, "add"), _quote_form(source, speaker, "That number is wrong.")
    )

    assert response.status_code == 200
    assert f"already anchored in this source as {existing}" in _errors(response)
    assert list(Quote.objects.all()) == [existing]


REPEATED = (
    "Officials said the port grew by a third. "
    "Critics said the port grew by a third, then shrank. "
    "Nobody else said anything."
)


@pytest.fixture
def repeated_source(db):
    return SourceFactory(slug="repeated", title="Repeated words", snapshot=REPEATED)


def test_it_asks_which_occurrence_when_the_words_repeat(admin_client, repeated_source, speaker):
    response = admin_client.post(
        _url(Quote, "add"), _quote_form(repeated_source, speaker, "the port grew by a third")
    )

    assert response.status_code == 200
    assert "occur 2 times" in _errors(response)
    assert not Quote.objects.exists()


@pytest.mark.parametrize(
    ("context_before", "before"),
    [("Officials said", "Officials said "), ("Critics said", "Critics said ")],
)
def test_it_picks_the_occurrence_after_context_before(
    admin_client, repeated_source, speaker, context_before, before
):
    words = "the port grew by a third"
    start = REPEATED.index(before + words) + len(before)

    response = admin_client.post(
        _url(Quote, "add"),
        _quote_form(repeated_source, speaker, words, context_before=context_before),
    )

    assert response.status_code == 302, _errors(response)
    quote = Quote.objects.get()
    assert (quote.start, quote.end) == (start, start + len(words))
    assert quote.exact == words
    assert quote.prefix == REPEATED[max(0, start - 40) : start]


def test_it_keeps_an_anchored_quote_in_place_on_the_change_page(admin_client, source, speaker):
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    anchor = (quote.exact, quote.start, quote.end)
    other = SourceFactory(slug="other", title="Other", snapshot="12 million tonnes")

    response = admin_client.post(
        _url(Quote, "change", quote.pk),
        {
            "source": other.pk,
            "speaker": speaker.pk,
            "kind": "reported",
            "exact": "something else",
            "start": 0,
            "end": 3,
        },
    )

    assert response.status_code == 302, _errors(response)
    quote.refresh_from_db()
    assert quote.kind == "reported"
    assert quote.source == source
    assert (quote.exact, quote.start, quote.end) == anchor


# --- roles --------------------------------------------------------------------


def test_it_lets_a_contributor_work_on_claims_and_read_the_ledger(
    client, contributor, editor, claim, source
):
    review = VerdictFactory(claim=claim, editor=editor, evidence=[source])
    client.force_login(contributor)

    assert client.get(_url(Claim, "changelist")).status_code == 200
    assert client.get(_url(Claim, "add")).status_code == 200
    assert client.get(_url(Review, "changelist")).status_code == 200
    assert client.get(_url(Review, "change", review.pk)).status_code == 200

    assert client.get(_url(Review, "add")).status_code == 403
    assert client.get(_url(Review, "delete", review.pk)).status_code == 403
    # Contributors add and change; deleting is for editors.
    assert client.get(_url(Claim, "delete", claim.pk)).status_code == 403


def test_it_keeps_contributors_out_of_user_management(client, contributor):
    client.force_login(contributor)
    user_model = type(contributor)

    assert client.get(_url(user_model, "changelist")).status_code == 403


def test_it_lets_an_editor_delete_a_claim_page(client, editor, claim):
    client.force_login(editor)

    assert client.get(_url(Claim, "delete", claim.pk)).status_code == 200


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_it_sends_anonymous_visitors_to_the_admin_login(client, db, model):
    url = _url(model, "changelist")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_it_stores_a_snapshot_with_its_edge_whitespace_exactly(admin_client, db):
    text = "  Indented first line.\nLast line.\n"
    response = admin_client.post(_url(Source, "add"), _source_form(snapshot=text))
    assert response.status_code == 302, _errors(response)
    assert Source.objects.get().snapshot == text


def test_it_undoes_the_crlf_line_endings_browsers_add_to_a_pasted_snapshot(admin_client, db):
    # Browsers submit every textarea with CRLF line endings, whatever was pasted.
    response = admin_client.post(_url(Source, "add"), _source_form(snapshot="One.\r\nTwo.\r\n"))
    assert response.status_code == 302, _errors(response)
    assert Source.objects.get().snapshot == "One.\nTwo.\n"
