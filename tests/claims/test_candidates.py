"""Candidate claims (claims.candidates): a source's sentences, scored for how worth
checking they are from features an editor can read back, and stored ranked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from claims import candidates
from claims.candidates import SpeakerNames, score_sentence, score_text, sentences
from claims.models import CandidateSentence, CandidateStatus
from sources.models import Source
from tests.factories import ClaimFactory, SourceFactory, SpeakerFactory

BONDI = "the DEA has seized 30 tons of cocaine linked to Maduro"
BOUNTY = "offering a $50 million bounty for the arrest"
UNKNOWN = "It remains unknown which specific cartels the president is targeting"

NAMES = SpeakerNames([("Pam Bondi", ["Bondi"]), ("Nicolás Maduro", ["Maduro", "Nicolas Maduro"])])


def _features(text: str, language: str = "en") -> dict[str, str]:
    return {f.name: f.evidence for f in score_sentence(text, language, NAMES)[1]}


def _score(text: str, language: str = "en") -> Decimal:
    return score_sentence(text, language, NAMES)[0]


# --- The seed articles ------------------------------------------------------------------


def _ranked_seed_candidates() -> list[CandidateSentence]:
    # The seeds are loaded through the pipeline: their candidates are stored already.
    return list(CandidateSentence.objects.order_by("-score", "source__slug", "start"))


def _rank(ranked: list[CandidateSentence], words: str) -> int:
    (rank,) = [i for i, candidate in enumerate(ranked, 1) if words in candidate.text]
    return rank


def test_on_the_seed_articles_the_cocaine_and_the_bounty_rank_above_the_unknown(seeded):
    ranked = _ranked_seed_candidates()
    unknown = _rank(ranked, UNKNOWN)

    assert _rank(ranked, BONDI) < unknown
    assert _rank(ranked, BOUNTY) < unknown
    # Both at the top of the two articles' 29 sentences, the unknown at the bottom.
    assert _rank(ranked, BONDI) <= 3 and _rank(ranked, BOUNTY) <= 3
    assert unknown > len(ranked) - 3
    # Within the Bondi sentence's own article too.
    same_source = [c for c in ranked if c.source_id == ranked[unknown - 1].source_id]
    assert _rank(same_source, BONDI) < _rank(same_source, UNKNOWN)


def test_the_seed_candidates_say_what_scored_them(seeded):
    ranked = _ranked_seed_candidates()
    bondi = ranked[_rank(ranked, BONDI) - 1]
    found = {f["feature"]: f for f in bondi.features}

    assert "30 tons" in found["quantity"]["evidence"]
    assert "Bondi (Pam Bondi)" in found["speaker"]["evidence"]
    assert found["attribution"]["evidence"] == "said"
    assert bondi.score == sum(Decimal(str(f["weight"])) for f in bondi.features)
    unknown = ranked[_rank(ranked, UNKNOWN) - 1]
    assert [f["feature"] for f in unknown.features] == ["speculation"]
    assert unknown.score == 0


def test_every_seed_candidate_is_the_snapshot_at_its_offsets(seeded):
    stored = list(CandidateSentence.objects.select_related("source"))

    assert len(stored) >= 25
    for candidate in stored:
        assert candidate.source.snapshot[candidate.start : candidate.end] == candidate.text
        assert candidate.text == candidate.text.strip()
        assert 0 <= candidate.score <= 1


# --- Each feature -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "with_it", "without_it", "evidence"),
    [
        (
            "quantity",
            "The DEA has seized 30 tons of cocaine in the port this week.",
            "The DEA has seized cocaine in the port this week.",
            "30 tons",
        ),
        (
            "quantity",
            "Washington is offering a $50 million bounty for the arrest of the leader.",
            "Washington is offering a bounty for the arrest of the leader.",
            "$50 million",
        ),
        (
            "quantity",
            "The strike on the vessel killed 11 people aboard, officials confirmed.",
            "The strike on the vessel killed people aboard, officials confirmed.",
            "11 people",
        ),
        (
            "quantity",
            "Unemployment among young workers in the region stands at 12%.",
            "Unemployment among young workers in the region stands high.",
            "12%",
        ),
        (
            "number",
            "The ministry published its report number 4032 on the new border rules.",
            "The ministry published its report on the new border rules.",
            "4032",
        ),
        (
            "speaker",
            "Bondi accused the government of using the cartel to move drugs.",
            "She accused the government of using the cartel to move drugs.",
            "Bondi (Pam Bondi)",
        ),
        (
            "attribution",
            "The government used the cartel to move drugs, the minister said.",
            "The government used the cartel to move drugs into the country.",
            "said",
        ),
        (
            "attribution",
            "According to the report, the government used the cartel to move drugs.",
            "In the report, the government used the cartel to move drugs.",
            "According to",
        ),
        (
            "comparison",
            "The navy now has more warships than the coast guard in the Caribbean.",
            "The navy now has warships and the coast guard in the Caribbean.",
            "more warships than",
        ),
        (
            "comparison",
            "The seizures this year were the largest the agency has made.",
            "The seizures this year were among those the agency has made.",
            "largest",
        ),
        (
            "date",
            "The strike on the vessel in the Caribbean happened on September 2.",
            "The strike on the vessel in the Caribbean happened without warning.",
            "September 2",
        ),
        (
            "date",
            "The government signed the order to deploy troops last week.",
            "The government signed the order to deploy troops abroad.",
            "last week",
        ),
    ],
)
def test_a_sentence_with_the_feature_scores_higher_and_says_why(
    feature, with_it, without_it, evidence
):
    assert _score(with_it) > _score(without_it)
    assert evidence in _features(with_it)[feature]
    assert feature not in _features(without_it)


def test_the_comparison_evidence_is_the_words_that_compare():
    # "-er than" comparisons too, but not "other than" or "rather than".
    assert _features("Cocaine seizures were bigger than ever before in the port.")[
        "comparison"
    ] == ("bigger than")
    assert "comparison" not in _features("Nobody other than the minister signed the order.")


@pytest.mark.parametrize(
    ("feature", "with_it", "without_it", "evidence"),
    [
        (
            "question",
            "Did the DEA seize 30 tons of cocaine linked to the government?",
            "The DEA seized 30 tons of cocaine linked to the government.",
            "?",
        ),
        (
            "speculation",
            "It remains unknown which cartels the government is targeting now.",
            "The government is targeting the cartels it designated in February.",
            "It remains unknown",
        ),
        (
            "speculation",
            "The strikes could extend to cartels inside the country, the minister said.",
            "The strikes extend to cartels inside the country, the minister said.",
            "could",
        ),
        (
            "short",
            "The DEA seized 30 tons.",
            "The DEA seized 30 tons of cocaine on the coast.",
            "5 words",
        ),
        (
            "long",
            "The DEA seized 30 tons of cocaine " + "and more drugs in the port " * 10 + "today.",
            "The DEA seized 30 tons of cocaine in the port today.",
            "words",
        ),
    ],
)
def test_a_sentence_with_a_penalty_scores_lower_and_says_why(
    feature, with_it, without_it, evidence
):
    assert _score(with_it) < _score(without_it)
    assert evidence in _features(with_it)[feature]
    assert feature not in _features(without_it)


def test_may_the_month_is_a_date_not_a_hedge():
    found = _features("The army grew by 5% in May 2024, the minister said.")

    assert found["date"] == "in May 2024"
    assert "speculation" not in found
    assert "speculation" in _features("The army may grow by 5% next year, the minister said.")


def test_the_numbers_of_a_date_are_not_counts():
    found = _features("The September 2 strike was acknowledged by the president.")

    assert "quantity" not in found and "number" not in found
    assert found["date"] == "September 2"


def test_a_speaker_counts_only_named_as_a_name():
    names = SpeakerNames([("Donald Trump", ["Trump"]), ("Marco Rubio", [])])

    assert names.find("Marco Rubio and President Trump’s envoy met.") == [
        ("Marco Rubio", "Marco Rubio"),
        ("Trump", "Donald Trump"),
    ]
    # The card game's trump is not the speaker.
    assert names.find("He played a trump card at the meeting.") == []
    # Accents aside: "Nicolas Maduro" is Nicolás Maduro.
    assert NAMES.find("Nicolas Maduro spoke.") == [("Nicolas Maduro", "Nicolás Maduro")]


def test_scores_are_decimals_of_four_places_from_zero_to_one():
    nothing = score_sentence("It is unclear whether it may or might happen, perhaps?", "en")[0]
    everything = _score(
        "Bondi said on Monday that the DEA seized 30 tons of cocaine, more than last year."
    )

    assert nothing == 0 and everything <= 1
    assert everything == Decimal("0.85")
    assert everything.as_tuple().exponent == -4


# --- Sentences and their offsets -------------------------------------------------------------

TRICKY = [
    "\n\n\nU.S. forces deployed on Thursday. Mr. Smith said so at 5 p.m. in Washington D.C. today!",
    "The same sentence. The same sentence.\n\nThe same sentence.",
    "Line one ends here.\r\nLine two ends there.\r\n",
    "“To date, the DEA has seized 30 tons,” Bondi said. “It is not part of it,” she said.",
    "  Leading spaces. Trailing spaces.   \n\n\n   ",
    "No full stop at the end of this one",
    "Hola. ¿Qué tal estás hoy? Según el ministro, 50 millones de dólares.",
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("language", ["en", "es", "", "pt"])
def test_each_sentence_is_the_text_at_its_offsets_in_order(text, language):
    spans = sentences(text, language)

    assert spans
    previous_end = 0
    for start, end in spans:
        sentence = text[start:end]
        assert sentence and sentence == sentence.strip()
        assert start >= previous_end
        previous_end = end


def test_a_repeated_sentence_is_found_at_each_of_its_places():
    text = "The bounty rose again. The bounty rose again. Then it fell."

    assert [text[s:e] for s, e in sentences(text, "en")] == [
        "The bounty rose again.",
        "The bounty rose again.",
        "Then it fell.",
    ]
    assert sentences(text, "en")[1][0] == text.index("The bounty", 1)


def test_many_repeated_sentences_are_each_found_once_in_order():
    text = "The bounty rose. " * 500 + "Then it fell."

    spans = sentences(text, "en")

    assert len(spans) == 501
    assert [start for start, _ in spans] == [17 * n for n in range(501)]


def test_a_sentence_too_long_to_be_a_claims_words_is_not_scored():
    listing = "Seized: " + ", ".join(f"{n} tons in port {n}" for n in range(100)) + "."

    scored = score_text(f"{listing} The DEA seized 30 tons of cocaine on the coast.", "en")

    assert len(listing) > candidates.MAX_SENTENCE_CHARS
    assert [s.text for s in scored] == ["The DEA seized 30 tons of cocaine on the coast."]


def test_quantulum_reads_the_units_the_patterns_miss():
    found = _features("The new border wall along the river is 5km long, officials said.")

    assert found["quantity"] == "5km"
    assert "quantity" not in _features(
        "The new border wall along the river is long, officials said."
    )


def test_only_the_start_of_a_very_long_text_is_scored(monkeypatch):
    monkeypatch.setattr(candidates, "MAX_CHARS", 300)
    text = "The DEA seized 30 tons of cocaine in the port, officials said.\n" * 20

    scored = score_text(text, "en")

    assert scored and all(s.end <= 300 for s in scored)
    assert len(scored) == 300 // 63  # whole sentences only


def test_sentences_too_short_to_hold_a_claim_are_left_out():
    scored = score_text("Reuters reported. The DEA seized 30 tons of cocaine on the coast.", "en")

    assert [s.text for s in scored] == ["The DEA seized 30 tons of cocaine on the coast."]


# --- Spanish -------------------------------------------------------------------------------

SPANISH = (
    "El Departamento de Estado ofrece una recompensa de 50 millones de dólares por Nicolás "
    "Maduro, dijo el portavoz el 7 de agosto de 2025. No está claro si la operación podría "
    "ampliarse a otros países de la región. Según Bondi, la DEA incautó 30 toneladas de "
    "cocaína, más que el año pasado. ¿Quién pagará la recompensa ofrecida por el gobierno?"
)


def test_a_spanish_text_is_split_and_scored_with_spanish_words():
    scored = score_text(SPANISH, "es", NAMES)
    by_start = {s.text[:12]: s for s in scored}
    bounty, hedge, bondi, question = (
        by_start["El Departame"],
        by_start["No está clar"],
        by_start["Según Bondi,"],
        by_start["¿Quién pagar"],
    )
    bounty_features = {f.name: f.evidence for f in bounty.features}
    bondi_features = {f.name: f.evidence for f in bondi.features}

    assert bounty_features["quantity"] == "50 millones de dólares"
    assert bounty_features["attribution"] == "dijo"
    assert bounty_features["date"] == "7 de agosto de 2025"
    assert bounty_features["speaker"] == "Nicolás Maduro"
    assert bondi_features["attribution"] == "Según"
    assert bondi_features["comparison"] == "más que"
    assert {f.name for f in hedge.features} == {"speculation"}
    assert "question" in {f.name for f in question.features}
    assert [s.text[:12] for s in scored][:2] == ["Según Bondi,", "El Departame"]
    assert scored.index(hedge) > scored.index(bounty)


def test_english_words_do_not_score_a_spanish_sentence_nor_spanish_an_english_one():
    assert "attribution" not in _features("La DEA dijo que incautó la droga en el puerto.", "en")
    assert "attribution" in _features("La DEA dijo que incautó la droga en el puerto.", "es")
    assert "attribution" not in _features("The DEA said it seized the drugs in the port.", "es")


def test_a_language_without_word_lists_still_counts_numbers_dates_names_and_questions():
    found = _features("Bondi disse que a DEA apreendeu 30 toneladas em 2025?", "pt")

    assert set(found) == {"quantity", "speaker", "date", "question"}
    assert found["quantity"] == "30 toneladas"
    assert "attribution" not in found


# --- Stored candidates -----------------------------------------------------------------------

TEXT = (
    "Bondi said the DEA seized 30 tons of cocaine linked to Maduro last month. "
    "It remains unknown which cartels are targeted. "
    "The navy deployed more ships than ever to the Caribbean on Monday. "
    "The strikes killed 11 people aboard two vessels, officials said."
)


@pytest.fixture
def bondi(db):
    SpeakerFactory(name="Pam Bondi", slug="pam-bondi", aliases=["Bondi"])
    return SpeakerFactory(name="Nicolás Maduro", slug="nicolas-maduro", aliases=["Maduro"])


def _stored(source: Source) -> dict[int, CandidateSentence]:
    return {c.start: c for c in CandidateSentence.objects.filter(source=source)}


def test_a_source_added_through_the_pipeline_has_its_candidates_ranked(bondi):
    from claims.source_pipeline import process_source_text

    source = SourceFactory(snapshot=TEXT)
    process_source_text(source)

    ranked = list(CandidateSentence.objects.filter(source=source))  # the model's ordering
    assert [c.text[:10] for c in ranked] == [
        "Bondi said",
        "The strike",
        "The navy d",
        "It remains",
    ]
    assert all(c.status == CandidateStatus.NEW for c in ranked)
    assert {f["feature"] for f in ranked[0].features} >= {"quantity", "speaker", "attribution"}


def test_refreshing_keeps_drafted_and_dismissed_candidates_and_replaces_new_ones(
    bondi, editor, django_assert_num_queries
):
    source = SourceFactory(snapshot=TEXT)
    candidates.refresh_for(source)
    first = _stored(source)
    drafted, dismissed, stale = sorted(first.values(), key=lambda c: c.start)[:3]
    claim = ClaimFactory()
    candidates.mark_drafted(drafted, claim)
    candidates.dismiss(dismissed, user=editor)
    CandidateSentence.objects.filter(pk=stale.pk).update(score=Decimal("0.0100"), features=[])
    speakers = SpeakerNames.load()

    # The delete, the starts kept, one insert for them all, and the savepoint around them.
    with django_assert_num_queries(5):
        stored = candidates.refresh_for(source, speakers=speakers)

    after = _stored(source)
    assert stored == len(first) - 2
    assert set(after) == set(first)  # one candidate a start, none lost
    assert after[drafted.start].pk == drafted.pk
    assert (after[drafted.start].status, after[drafted.start].claim) == ("drafted", claim)
    assert after[dismissed.start].pk == dismissed.pk
    assert after[dismissed.start].status == "dismissed"
    assert after[stale.start].score == first[stale.start].score  # scored afresh
    assert after[stale.start].features == first[stale.start].features


def test_a_drafted_candidate_keeps_its_first_claim_and_is_not_dismissed(bondi, editor):
    source = SourceFactory(snapshot=TEXT)
    candidates.refresh_for(source)
    candidate = CandidateSentence.objects.filter(source=source).first()
    first, second = ClaimFactory(), ClaimFactory()

    candidates.mark_drafted(candidate, first)
    candidates.mark_drafted(candidate, second)
    candidates.dismiss(candidate, user=editor)

    candidate.refresh_from_db()
    assert (candidate.status, candidate.claim) == ("drafted", first)


def test_only_those_who_may_draft_claims_dismiss_candidates(bondi, django_user_model):
    from django.core.exceptions import PermissionDenied

    source = SourceFactory(snapshot=TEXT)
    candidates.refresh_for(source)
    candidate = CandidateSentence.objects.filter(source=source).first()
    reader = django_user_model.objects.create_user("reader")

    with pytest.raises(PermissionDenied):
        candidates.dismiss(candidate, user=reader)
    candidate.refresh_from_db()
    assert candidate.status == "new"


def test_a_source_without_a_language_is_scored_in_the_language_of_its_text(db):
    source = SourceFactory(snapshot=SPANISH, language="")

    candidates.refresh_for(source)

    features = {
        f["feature"]: f["evidence"]
        for c in CandidateSentence.objects.filter(source=source)
        for f in c.features
    }
    assert features["attribution"] in {"dijo", "Según"}


# --- The command ------------------------------------------------------------------------------


def test_score_sources_scores_the_sources_named_or_all(bondi, capsys):
    one, two = SourceFactory(snapshot=TEXT), SourceFactory(snapshot=SPANISH, language="es")

    call_command("score_sources", "--source", one.slug, verbosity=0)
    assert set(CandidateSentence.objects.values_list("source", flat=True)) == {one.pk}
    assert "Scored 1 source(s): 4 candidate claim(s) stored." in capsys.readouterr().out

    call_command("score_sources", "--all", verbosity=0)
    assert set(CandidateSentence.objects.values_list("source", flat=True)) == {one.pk, two.pk}
    # Scoring again stores the same candidates, not a second copy.
    call_command("score_sources", "--all", verbosity=0)
    assert CandidateSentence.objects.filter(source=one).count() == 4


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "Give --source SLUG"),
        (["--all", "--source", "x"], "not both"),
        (["--source", "no-such-source"], "no-such-source"),
    ],
)
def test_score_sources_refuses_what_it_cannot_do(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("score_sources", *arguments, verbosity=0)
