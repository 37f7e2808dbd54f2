"""The repeat monitor (claims.repeats): a new source's passages matched against the
desk's published verdicts, suggested as appearances, accepted or dismissed by an
editor in the admin's "Repeats to review" (claims.admin_repeats), and
`manage.py scan_repeats` for the sources that came before a verdict."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from claims import repeats, search
from claims.models import Appearance, Claim, RepeatSuggestion, SuggestionStatus
from claims.ratings import VERDICT_STATUSES
from claims.search import MOST_CLAIMS_PER_WORD
from claims.services import add_appearance, record_review
from factcheck.admin_lists import EstimatedCountPaginator
from sources.models import Source
from tests.api.test_resources import url
from tests.db import owner_connect
from tests.factories import ClaimFactory, SourceFactory, UserFactory

BOUNTY = "us-50-million-bounty-on-maduro"
COCAINE = "dea-seized-30-tons-of-cocaine-linked-to-maduro"
THREAT = "us-military-action-is-criminal-threat"
SEED_SOURCE = "trump-hints-at-strikes-on-cartels-in-venezuela"
QUEUE = "/admin/claims/repeatsuggestion/"

# A new article about the same events, as another outlet writes it: its first sentence
# repeats the bounty claim in other words (0.4955 against the statement).
NEW_ARTICLE = (
    "Caracas braces for more US strikes\n"
    "Washington has offered a $50 million reward for information leading to the arrest of "
    "Nicolás Maduro, officials said on Friday. "
    "Venezuela's foreign ministry called the naval deployment a provocation."
)


def rate(claim: Claim, editor, status: str = "false") -> Claim:
    record_review(
        claim=claim,
        editor=editor,
        status=status,
        explanation="Checked against the record.",
        expected_version=claim.version,
    )
    claim.refresh_from_db()
    return claim


def rate_seed(slug: str, editor, status: str = "false") -> Claim:
    return rate(Claim.objects.get(slug=slug), editor, status)


def new_source(text: str, **fields) -> Source:
    """A source added as the admin and the API add one: saved, then its text processed."""
    from claims.source_pipeline import process_source_text

    source = SourceFactory(snapshot=text, **fields)
    process_source_text(source)
    return source


# --- Passages and the guards -----------------------------------------------------------


def test_passages_are_the_sentences_at_their_offsets():
    text = (
        "Headline without a full stop\n\n  U.S. forces deployed on Thursday, officials said. "
        "Short one. The bounty on Maduro was raised to $50 million last month."
    )

    found = repeats.passages(text)

    assert [p.text for p in found] == [
        "Headline without a full stop",
        "U.S. forces deployed on Thursday, officials said.",
        "The bounty on Maduro was raised to $50 million last month.",
    ]
    assert all(text[p.start : p.end] == p.text for p in found)


def test_a_long_passage_is_probed_in_overlapping_windows():
    words = [f"w{i}" for i in range(45)]
    windows = repeats.probes(" ".join(words))

    assert [w.split()[0] for w in windows] == ["w0", "w10", "w20", "w30"]
    assert all(len(w.split()) <= repeats.PROBE_WORDS for w in windows)
    assert windows[-1].split()[-1] == "w44"
    assert repeats.probes("a short sentence") == ["a short sentence"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a $50 million reward", {Decimal(50_000_000)}),
        ("a $50m reward", {Decimal(50_000_000)}),
        ("50,000,000 dollars", {Decimal(50_000_000)}),
        ("fifty million dollars", {Decimal(50_000_000)}),
        ("50 millones de dólares", {Decimal(50_000_000)}),
        ("ten F-35 jets", {Decimal(10), Decimal(35)}),
        ("nearly seven tons", {Decimal(7)}),
        ("twenty-five people on September 2", {Decimal(25), Decimal(2)}),
        ("2.5 billion", {Decimal("2.5") * 10**9}),
        ("no figure here", set()),
    ],
)
def test_numbers_are_read_as_values(text, expected):
    assert repeats.numbers(text) == expected


BOUNTY_STATEMENT = (
    "The United States offers a $50 million reward for the arrest of Venezuelan "
    "President Nicolás Maduro."
)


@pytest.mark.parametrize(
    ("passage", "repeat"),
    [
        ("Washington offers a $50m reward for the arrest of Nicolás Maduro.", True),
        ("Washington offers a $25 million reward for the arrest of Nicolás Maduro.", False),
        ("Washington offers a $50 billion reward for the arrest of Nicolás Maduro.", False),
        ("The reward for the arrest of Nicolás Maduro was raised to $50 million.", True),
        ("The United States does not offer a $50 million reward for Maduro's arrest.", False),
        ("The State Department denied that it offers a $50 million reward for Maduro.", False),
        # A denial elsewhere in the sentence is not a denial of the claim.
        (
            "Venezuela rejected the charges on Monday, while the United States offers a $50 "
            "million reward for the arrest of Venezuelan President Nicolás Maduro.",
            True,
        ),
    ],
)
def test_the_guards_refuse_other_figures_and_denials(passage, repeat):
    assert repeats.is_repeat(passage, BOUNTY_STATEMENT, BOUNTY_STATEMENT) is repeat


def test_a_denial_claim_is_repeated_by_a_denial():
    statement = (
        "The Venezuelan government denies US allegations that it is involved in drug trafficking."
    )
    assert repeats.is_repeat(
        "Caracas again denied the US allegations that it is involved in drug trafficking.",
        statement,
        statement,
    )
    assert not repeats.is_repeat(
        "The Venezuelan government is involved in drug trafficking, US allegations say.",
        statement,
        statement,
    )


# --- The path: a repeat found in a new source, accepted as an appearance ---------


def test_a_repeat_in_a_new_source_is_suggested_and_accepted_as_an_appearance(
    seeded, editor, client_for
):
    bounty = rate_seed(BOUNTY, editor, "true")
    client = client_for(editor)

    added = client.post(
        reverse("admin:sources_source_add"),
        {
            "title": "Caracas braces for more US strikes",
            "slug": "caracas-braces",
            "kind": "article",
            "snapshot": NEW_ARTICLE,
            "published_on": timezone.localdate().isoformat(),
            "original_retrieved_at_0": "",
            "original_retrieved_at_1": "",
        },
    )

    assert added.status_code == 302, added.content.decode()[:3000]
    source = Source.objects.get(slug="caracas-braces")
    suggestion = RepeatSuggestion.objects.get(source=source)
    assert suggestion.claim == bounty
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.text.startswith("Washington has offered a $50 million reward")
    assert source.snapshot[suggestion.start : suggestion.end] == suggestion.text
    assert suggestion.score >= Decimal(str(repeats.SIMILARITY_THRESHOLD))

    queue = client.get(QUEUE)
    assert queue.status_code == 200
    html = queue.content.decode()
    assert "Repeats to review" in html
    assert "Washington has offered a $50 million reward" in html
    assert f'name="decide" value="accept:{suggestion.pk}"' in html

    accepted = client.post(QUEUE, {"decide": f"accept:{suggestion.pk}"})

    assert accepted.status_code == 302
    suggestion.refresh_from_db()
    appearance = Appearance.objects.get(claim=bounty, source=source)
    assert appearance.quote is None
    assert suggestion.status == SuggestionStatus.ACCEPTED
    assert suggestion.decided_by == editor and suggestion.decided_at is not None
    assert suggestion.appearance == appearance
    # Off the pending list, which is the list's default.
    assert f"accept:{suggestion.pk}" not in client.get(QUEUE).content.decode()

    page = client_for(None).get(reverse("claims:detail", args=[BOUNTY])).content.decode()
    came_back = page[page.index('id="came-back"') :]
    assert "This claim came back" in page
    assert "Caracas braces for more US strikes" in came_back
    assert "repeated in 1 source." in came_back


@pytest.mark.parametrize(("figure", "suggested"), [("50", True), ("25", False)])
def test_a_source_added_through_the_api_stating_another_figure_gives_no_suggestion(
    seeded, editor, contributor, figure, suggested
):
    rate_seed(BOUNTY, editor)
    client = APIClient()
    client.force_authenticate(contributor)

    created = client.post(
        url("source-list"),
        {
            "slug": "bounty-report",
            "title": "Bounty report",
            "kind": "article",
            "snapshot": (
                f"The United States offers a ${figure} million reward for the arrest of "
                "Venezuelan President Nicolás Maduro."
            ),
        },
        format="json",
    )

    assert created.status_code == 201, created.content
    found = RepeatSuggestion.objects.filter(source__slug="bounty-report")
    assert [s.claim.slug for s in found] == ([BOUNTY] if suggested else [])


def test_only_published_claims_with_a_verdict_are_matched(editor, db):
    statements = {
        "rated and published": "The port of Valparaiso handled 12 million containers in 2024.",
        "rated draft": "The tunnel under the Andes cost 4 billion dollars to build.",
        "published, unrated": "The northern railway carried 9 million passengers last winter.",
    }
    published_rated = ClaimFactory(
        statement=statements["rated and published"], published=True, verdict="false"
    )
    ClaimFactory(statement=statements["rated draft"], verdict="false")
    ClaimFactory(statement=statements["published, unrated"], published=True)

    source = new_source(" ".join(statements.values()))

    assert [s.claim for s in RepeatSuggestion.objects.filter(source=source)] == [published_rated]


def test_reworded_repeats_of_the_seed_claims_are_found_and_near_misses_are_not(seeded, editor):
    """A few of the sentences the threshold was measured on (claims.repeats)."""
    for slug in (BOUNTY, COCAINE, THREAT, "september-2-strike-killed-11"):
        rate_seed(slug, editor)
    sentences = {
        # repeats
        "Bondi said U.S. drug agents had seized some 30 tons of cocaine linked to Maduro's "
        "circle.": COCAINE,
        "Venezuela's foreign ministry rejected the accusations again on Monday and described "
        "the US military actions as an unjustifiable, immoral and criminal threat to the "
        "region.": THREAT,
        "Earlier this year the United States doubled its bounty on Maduro to $50 million.": BOUNTY,
        # near misses: another figure, another date, the same names
        "The DEA has seized 13 tons of cocaine linked to Maduro and his associates.": None,
        "A U.S. strike on a boat in the Caribbean on September 15 killed three people.": None,
        "Venezuelan President Nicolás Maduro addressed supporters in Caracas on Saturday.": None,
    }

    source = new_source("\n".join(sentences))

    found = {s.text: s.claim.slug for s in RepeatSuggestion.objects.filter(source=source)}
    assert found == {text: slug for text, slug in sentences.items() if slug}


def test_one_suggestion_per_claim_and_source_the_closest_passage(seeded, editor):
    rate_seed(BOUNTY, editor)
    text = (
        "The bounty on Maduro now stands at $50 million, the State Department said. "
        "The United States offers a $50 million reward for the arrest of Venezuelan "
        "President Nicolás Maduro."
    )

    source = new_source(text)

    (suggestion,) = RepeatSuggestion.objects.filter(source=source)
    assert suggestion.text.startswith("The United States offers a $50 million reward")
    assert suggestion.score == Decimal("1.0000")


def test_a_claim_already_in_the_source_is_not_suggested(seeded, editor):
    rate_seed(BOUNTY, editor)
    seed_source = Source.objects.get(slug=SEED_SOURCE)

    assert repeats.scan_source(seed_source) == []
    assert not RepeatSuggestion.objects.exists()


def test_scanning_again_suggests_nothing_new_even_after_a_dismissal(seeded, editor):
    rate_seed(BOUNTY, editor)
    source = new_source(NEW_ARTICLE)
    suggestion = RepeatSuggestion.objects.get(source=source)
    repeats.dismiss_suggestion(suggestion, editor)

    assert repeats.scan_source(source) == []
    assert RepeatSuggestion.objects.get().status == SuggestionStatus.DISMISSED


def test_a_scan_is_two_statements_whatever_the_source_and_the_claims(
    seeded, editor, django_assert_num_queries
):
    rate_seed(BOUNTY, editor)
    rate_seed(COCAINE, editor)
    short = SourceFactory(snapshot=NEW_ARTICLE)
    long = SourceFactory(
        snapshot=NEW_ARTICLE
        + " DEA agents had seized some 30 tons of cocaine linked to Maduro and his associates."
        + " Officials gave no further details of the operation on Friday." * 40
    )
    search.lexeme_counts()  # the words' statistics, read once a while per process

    with django_assert_num_queries(2):  # the match, the insert
        assert len(repeats.scan_source(short)) == 1
    with django_assert_num_queries(2):
        assert len(repeats.scan_source(long)) == 2
    nothing = SourceFactory(snapshot="Nothing to see here today, nor anything to match.")
    with django_assert_num_queries(1):  # nothing found: nothing inserted
        assert repeats.scan_source(nothing) == []


def _match_params(passage: str, **given) -> dict:
    return {
        "starts": [0],
        "probes": [passage],
        "passages": [passage],
        "config": "factcheck_english",
        "common": [],
        "held": [],
        "most": MOST_CLAIMS_PER_WORD,
        "rarest": repeats.RAREST_WORDS,
        "verdicts": sorted(VERDICT_STATUSES),
        "threshold": repeats.SIMILARITY_THRESHOLD,
        "min_quote_words": repeats.MIN_QUOTE_WORDS,
        "candidates": repeats.CANDIDATES,
        "source": 1,
        **given,
    }


def test_the_candidates_come_from_the_full_text_index(db):
    """On a small table the planner reads the few rated claims by their status; here
    the other ways are taken away (the indexes on status and publication dropped,
    sequential and plain index scans off), in a transaction of the owner's that is
    rolled back, to show that the full-text index on the search vectors answers the
    lookup. pg_trgm's own indexes on the statements and quotes answered it first: 7 s
    a source at 10,000 claims (claims.repeats says why)."""
    passage = "Washington has offered a $50 million reward for the arrest of Nicolás Maduro."
    with owner_connect() as conn, conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(
            "DROP INDEX claim_status_idx, claim_published_idx, claim_status_order_idx,"
            " claim_status_reviewed_idx, claim_list_order_idx, claim_speaker_order_idx,"
            " claim_reviewed_order_idx"
        )
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cur.execute(f"SET LOCAL enable_{scan} = off")
        cur.execute("EXPLAIN " + repeats.MATCH_SQL, _match_params(passage))
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Bitmap Index Scan on claim_search_idx" in plan, plan
    assert "trgm" not in plan, plan


def test_words_held_by_too_many_claims_are_not_looked_up(seeded, editor):
    """The same passage finds the bounty, until the words it shares with it are said to
    be held by more claims than the lookup reads (the statistics, faked here)."""
    rate_seed(BOUNTY, editor)
    passage = "Washington has offered a $50 million reward for the arrest of Nicolás Maduro."
    with connection.cursor() as cursor:
        cursor.execute(repeats.MATCH_SQL, _match_params(passage))
        found = {row[1] for row in cursor.fetchall()}
        cursor.execute("SELECT tsvector_to_array(to_tsvector('factcheck_english', %s))", [passage])
        every_word = cursor.fetchone()[0]
        common = _match_params(
            passage, common=every_word, held=[MOST_CLAIMS_PER_WORD + 1.0] * len(every_word)
        )
        cursor.execute(repeats.MATCH_SQL, common)
        found_when_common = cursor.fetchall()

    assert Claim.objects.get(slug=BOUNTY).pk in found
    assert found_when_common == []


# --- Accepting and dismissing -----------------------------------------------------------


@pytest.fixture
def pending(seeded, editor) -> RepeatSuggestion:
    rate_seed(BOUNTY, editor)
    source = new_source(NEW_ARTICLE)
    return RepeatSuggestion.objects.get(source=source)


def test_a_decided_suggestion_is_refused(pending, editor, second_editor):
    repeats.dismiss_suggestion(pending, editor)

    with pytest.raises(ValidationError) as refused:
        repeats.accept_suggestion(pending, second_editor)

    assert refused.value.code == "already_decided"
    pending.refresh_from_db()
    assert pending.status == SuggestionStatus.DISMISSED and pending.decided_by == editor
    assert not Appearance.objects.filter(source=pending.source).exists()
    with pytest.raises(ValidationError):
        repeats.dismiss_suggestion(pending, second_editor)


def test_whoever_records_appearances_decides_and_nobody_else(pending, contributor):
    outsider = UserFactory(is_staff=True)  # staff, in no group: may not add appearances

    with pytest.raises(PermissionDenied):
        repeats.accept_suggestion(pending, outsider)
    with pytest.raises(PermissionDenied):
        repeats.dismiss_suggestion(pending, outsider)
    appearance = repeats.accept_suggestion(pending, contributor)

    pending.refresh_from_db()
    assert pending.status == SuggestionStatus.ACCEPTED and pending.decided_by == contributor
    assert pending.appearance == appearance


def test_accepting_keeps_an_appearance_recorded_meanwhile(pending, editor):
    recorded, _ = add_appearance(claim=pending.claim, source=pending.source)

    appearance = repeats.accept_suggestion(pending, editor)

    assert appearance == recorded
    assert Appearance.objects.filter(claim=pending.claim, source=pending.source).count() == 1
    pending.refresh_from_db()
    assert pending.appearance == recorded


# --- The admin list ------------------------------------------------------------------


def test_the_list_actions_accept_and_dismiss_several(seeded, editor, client_for):
    rate_seed(BOUNTY, editor)
    rate_seed(COCAINE, editor)
    source = new_source(
        NEW_ARTICLE
        + " Bondi said U.S. drug agents had seized some 30 tons of cocaine linked to Maduro's"
        " circle."
    )
    bounty, cocaine = (
        RepeatSuggestion.objects.get(source=source, claim__slug=slug) for slug in (BOUNTY, COCAINE)
    )
    client = client_for(editor)

    client.post(
        QUEUE, {"action": "dismiss", "_selected_action": [cocaine.pk], "index": 0}, follow=True
    )
    response = client.post(
        QUEUE,
        {"action": "accept", "_selected_action": [bounty.pk, cocaine.pk], "index": 0},
        follow=True,
    )

    bounty.refresh_from_db()
    cocaine.refresh_from_db()
    assert bounty.status == SuggestionStatus.ACCEPTED and bounty.appearance is not None
    assert cocaine.status == SuggestionStatus.DISMISSED  # its first decision stands
    assert "1 suggestion accepted as an appearance." in response.content.decode()
    assert not Appearance.objects.filter(claim__slug=COCAINE, source=source).exists()


def test_the_list_shows_the_passage_escaped_and_refuses_outsiders(editor, client_for, db):
    claim = ClaimFactory(
        statement="The mayor said <b>the bridge</b> cost 2 billion dollars to build.",
        published=True,
        verdict="false",
    )
    new_source("Reporters wrote that the mayor said <b>the bridge</b> cost 2 billion dollars.")
    assert RepeatSuggestion.objects.filter(claim=claim).exists()

    html = client_for(editor).get(QUEUE).content.decode()
    assert "&lt;b&gt;the bridge&lt;/b&gt;" in html
    assert "<b>the bridge</b>" not in html

    outsider = client_for(UserFactory(is_staff=True))
    assert outsider.get(QUEUE).status_code == 403
    suggestion = RepeatSuggestion.objects.get()
    assert outsider.post(QUEUE, {"decide": f"accept:{suggestion.pk}"}).status_code == 403
    assert RepeatSuggestion.objects.get().status == SuggestionStatus.PENDING


def _suggestions(count: int, editor) -> None:
    """`count` more pending suggestions, each of a new rated claim in a new source."""
    start = RepeatSuggestion.objects.count()
    for n in range(start, start + count):
        statement = f"The port of Valparaiso handled {n + 2} million containers in 2024."
        ClaimFactory(statement=statement, published=True, verdict="false", editor=editor)
        new_source(
            f"Officials said the port of Valparaiso handled {n + 2} million containers in 2024."
        )
    assert RepeatSuggestion.objects.count() == start + count


def test_the_list_runs_the_same_queries_for_few_or_many_rows(
    editor, client_for, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 3)
    client = client_for(editor)
    _suggestions(2, editor)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as few:
        response = client.get(QUEUE)
    assert len(response.context["cl"].result_list) == 2
    _suggestions(4, editor)

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE)

    assert len(response.context["cl"].result_list) == 6
    assert response.context["cl"].paginator.estimated


# --- manage.py scan_repeats ----------------------------------------------------------


def test_the_command_finds_repeats_in_sources_that_came_before_the_verdict(seeded, editor):
    earlier = new_source(NEW_ARTICLE, slug="earlier")
    other = new_source(NEW_ARTICLE, slug="other")
    assert not RepeatSuggestion.objects.exists()  # no verdict yet
    rate_seed(BOUNTY, editor)
    out = StringIO()

    call_command("scan_repeats", "--source", "earlier", stdout=out, verbosity=0)

    assert [s.source for s in RepeatSuggestion.objects.all()] == [earlier]
    assert "Scanned 1 source: 1 repeat suggested." in out.getvalue()

    call_command("scan_repeats", "--all", stdout=out, verbosity=0)
    assert {s.source for s in RepeatSuggestion.objects.all()} == {earlier, other}
    assert "Scanned 4 sources: 1 repeat suggested." in out.getvalue()


def test_the_command_scans_the_sources_archived_since_a_date(seeded, editor):
    rate_seed(BOUNTY, editor)
    out = StringIO()
    tomorrow = timezone.localdate() + timedelta(days=1)

    call_command("scan_repeats", "--since", tomorrow.isoformat(), stdout=out, verbosity=0)

    assert "Scanned 0 sources: 0 repeats suggested." in out.getvalue()
    with pytest.raises(CommandError, match="Say which sources"):
        call_command("scan_repeats", stdout=out)
    with pytest.raises(CommandError, match="no-such-source"):
        call_command("scan_repeats", "--source", "no-such-source", stdout=out)
    with pytest.raises(CommandError, match="not a date"):
        call_command("scan_repeats", "--since", "yesterday", stdout=out)
