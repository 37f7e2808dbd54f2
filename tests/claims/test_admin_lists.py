"""The desk's change lists at scale: no full counts, no menu of every related row,
orders an index can serve, and as many queries for many rows as for few."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.admin import ClaimAdmin, SpeakerFilter
from claims.models import Appearance, Claim, Quote, Review
from factcheck.admin_lists import EstimatedCountPaginator
from sources.models import Source
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    VerdictFactory,
)


def _sidebar(response) -> str:
    html = response.content.decode()
    start = html.index('<search id="changelist-filter"')
    return html[start : html.index("</search>", start)]


def _listed(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


CLAIMS = reverse("admin:claims_claim_changelist")


# --- the paginator ---------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, 3, 5])
def test_a_short_list_is_counted_exactly(db, speaker, rows, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 5)
    ClaimFactory.create_batch(rows, speaker=speaker)
    paginator = EstimatedCountPaginator(Claim.objects.order_by("pk"), 2)
    assert paginator.count == rows
    assert not paginator.estimated


def test_a_long_list_takes_the_planners_estimate_never_less_than_counted(db, speaker, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 5)
    ClaimFactory.create_batch(9, speaker=speaker)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_claim")
    paginator = EstimatedCountPaginator(Claim.objects.order_by("pk"), 2)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count >= 6  # whatever the statistics say, never less than counted
    assert paginator.estimated
    explain, capped = (query["sql"] for query in queries.captured_queries)
    assert "EXPLAIN" in explain
    assert "LIMIT 6" in capped
    # A filter the planner overestimates, or underestimates: never below what was counted.
    filtered = EstimatedCountPaginator(Claim.objects.filter(statement__contains="claim"), 2)
    assert filtered.count >= 6
    assert filtered.estimated


# --- filters that never list every related row -------------------------------------


def test_the_claims_filters_list_no_speaker_source_or_outsider(client_for, editor, speaker, db):
    speakers = SpeakerFactory.create_batch(25)
    for each in speakers:
        AppearanceFactory(claim=ClaimFactory(speaker=each))
    sidebar = _sidebar(client_for(editor).get(CLAIMS))
    assert not any(each.name in sidebar for each in speakers)
    assert not any(source.title in sidebar for source in Source.objects.all())
    assert 'name="speaker"' in sidebar
    assert 'name="source"' in sidebar


def test_the_speaker_filter_takes_a_typed_name_and_offers_the_matches(client_for, editor, db):
    ada = SpeakerFactory(name="Ada Lovelace")
    adam = SpeakerFactory(name="Adam Smith")
    bob = SpeakerFactory(name="Bob Dylan")
    for each in (ada, adam, bob):
        ClaimFactory(speaker=each, statement=f"{each.name} said it.")
    client = client_for(editor)

    response = client.get(CLAIMS, {"speaker": "ada", "status": "unverified"})
    assert _listed(response) == {"Ada Lovelace said it.", "Adam Smith said it."}
    sidebar = _sidebar(response)
    # The matches, as links narrowing to one of them, the other filters kept.
    assert f'href="?speaker={ada.pk}&amp;status=unverified"' in sidebar
    assert f'href="?speaker={adam.pk}&amp;status=unverified"' in sidebar
    assert "Bob Dylan" not in sidebar
    # The typed text stays in the field; the list's other parameters ride along hidden.
    assert 'name="speaker" value="ada"' in sidebar
    assert '<input type="hidden" name="status" value="unverified">' in sidebar

    response = client.get(CLAIMS, {"speaker": str(adam.pk)})
    assert _listed(response) == {"Adam Smith said it."}
    assert 'class="selected"><a href="?speaker=' in _sidebar(response)

    response = client.get(CLAIMS, {"speaker": "nobody"})
    assert _listed(response) == set()
    assert "No speaker matches" in _sidebar(response)


def test_the_speaker_filter_offers_only_the_first_matches(client_for, editor, db, monkeypatch):
    monkeypatch.setattr(SpeakerFilter, "shown", 3)
    for n in range(5):
        ClaimFactory(speaker=SpeakerFactory(name=f"Same name {n}"), statement=f"Said {n}.")
    response = client_for(editor).get(CLAIMS, {"speaker": "same name"})
    sidebar = _sidebar(response)
    assert sidebar.count("Same name") == 3
    assert "more: type more of the name" in sidebar
    # The list shows the claims of the speakers offered, however many more match.
    assert _listed(response) == {"Said 0.", "Said 1.", "Said 2."}


def test_the_source_filter_finds_claims_appearing_in_sources_by_title_or_id(client_for, editor, db):
    port = SourceFactory(title="Port authority report")
    harbour = SourceFactory(title="Harbour news")
    in_port = ClaimFactory(statement="In the port report.")
    in_both = ClaimFactory(statement="In both.")
    ClaimFactory(statement="In the news only.")
    AppearanceFactory(claim=in_port, source=port)
    AppearanceFactory(claim=in_both, source=port)
    AppearanceFactory(claim=in_both, source=harbour)
    client = client_for(editor)
    # Each claim once, though it appears in the source twice over.
    assert _listed(client.get(CLAIMS, {"source": "port"})) == {in_port.statement, in_both.statement}
    assert _listed(client.get(CLAIMS, {"source": str(harbour.pk)})) == {in_both.statement}


def test_the_assignee_filter_lists_the_desk_not_everyone_with_a_claim(
    client_for, editor, second_editor, db
):
    sidebar = _sidebar(client_for(editor).get(CLAIMS))
    assert "Assigned to me" in sidebar
    assert f"?assignee={second_editor.pk}" in sidebar


# --- orders served by indexes ----------------------------------------------------


def _page_query(client, url, params=None) -> str:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return queries.captured_queries[-1]["sql"]


def test_the_claims_list_breaks_ties_in_the_direction_of_its_sort(client_for, editor, speaker):
    ClaimFactory(speaker=speaker)
    client = client_for(editor)
    newest_first = _page_query(client, CLAIMS)
    assert 'ORDER BY "claims_claim"."created_at" DESC, "claims_claim"."id" DESC' in newest_first
    index = ClaimAdmin.list_display.index("status_changed_at") + 1  # after the checkbox
    ascending = _page_query(client, CLAIMS, {"o": str(index)})
    assert 'ORDER BY "claims_claim"."status_changed_at" ASC, "claims_claim"."id" ASC' in ascending
    descending = _page_query(client, CLAIMS, {"o": f"-{index}"})
    assert (
        'ORDER BY "claims_claim"."status_changed_at" DESC, "claims_claim"."id" DESC' in descending
    )


def test_the_claims_list_sorts_only_by_columns_an_index_serves(client_for, editor, speaker):
    ClaimFactory(speaker=speaker)
    html = client_for(editor).get(CLAIMS).content.decode()
    sortable = re.findall(r'<th scope="col" class="sortable column-([\w-]+)', html)
    assert sortable == ["status_changed_at"]


# --- the other lists: the same queries for few or many rows --------------------------


def _many(editor, count: int) -> None:
    for n in range(count):
        speaker = SpeakerFactory()
        source = SourceFactory()
        quote = QuoteFactory(source=source, speaker=speaker)
        claim = ClaimFactory(speaker=speaker, statement=f"Harbour claim {n}.")
        AppearanceFactory(claim=claim, quote=quote)
        VerdictFactory(claim=claim, editor=editor, status="false", evidence=[source])


LISTS = [
    ("claims", "claim", {}),
    ("claims", "claim", {"q": "harbour", "status": "false"}),
    ("claims", "speaker", {}),
    ("claims", "quote", {"speaker": "speaker"}),
    ("claims", "appearance", {"source": "source", "q": "harbour"}),
    ("claims", "review", {"editor": "ed", "q": "harbour"}),
    ("sources", "source", {}),
]


@pytest.mark.parametrize(
    ("app", "model", "params"), LISTS, ids=[f"{m}-{'-'.join(p)}" for _, m, p in LISTS]
)
def test_each_list_runs_the_same_queries_for_few_or_many_rows(
    client_for, editor, app, model, params, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 3)
    client = client_for(editor)
    url = reverse(f"admin:{app}_{model}_changelist")
    _many(editor, 2)
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url, params)
    assert response.status_code == 200
    assert not response.context["cl"].paginator.estimated
    _many(editor, 4)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url, params)
    assert response.context["cl"].paginator.estimated
    # Never the admin's second, unfiltered count.
    assert response.context["cl"].full_result_count is None


def test_the_quotes_and_appearances_lists_filter_by_typed_speaker_and_source(
    client_for, editor, db
):
    _many(editor, 1)
    quote = Quote.objects.get()
    client = client_for(editor)
    quotes = reverse("admin:claims_quote_changelist")
    assert client.get(quotes, {"speaker": quote.speaker.name}).context["cl"].result_count == 1
    assert client.get(quotes, {"source": "no such title"}).context["cl"].result_count == 0
    appearances = reverse("admin:claims_appearance_changelist")
    response = client.get(appearances, {"source": str(quote.source.pk)})
    assert response.context["cl"].result_count == 1
    assert client.get(appearances, {"q": "nothing-like-it"}).context["cl"].result_count == 0
    assert client.get(appearances, {"q": "harbour"}).context["cl"].result_count == 1
    assert Appearance.objects.count() == 1


def test_the_ledger_list_finds_an_entry_by_its_hash_or_its_claims_words(client_for, editor, db):
    _many(editor, 2)
    entry = Review.objects.order_by("sequence").first()
    assert entry is not None
    client = client_for(editor)
    url = reverse("admin:claims_review_changelist")
    response = client.get(url, {"q": entry.entry_hash[:10].upper()})
    assert [found.pk for found in response.context["cl"].result_list] == [entry.pk]
    assert client.get(url, {"q": "harbour"}).context["cl"].result_count == 2
    response = client.get(url, {"editor": editor.username})
    assert response.context["cl"].result_count == 2
