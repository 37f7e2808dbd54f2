"""The research data sets' parsers (claims.imports.datasets), on small hand-written
files with the real files' quirks (/work/shared/data/README.md). No database."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from claims.imports.datasets import (
    MAX_PROBLEMS,
    PARSERS,
    parse_factcellar,
    parse_factcellar_csv,
    parse_liar,
    parse_snopes,
    parse_snopes_csv,
    politifact_rating,
    sniff,
    speaker_display_name,
)
from claims.imports.records import ImportedReview, ImportRefused, Problem

FIXTURES = Path(__file__).parent / "fixtures" / "datasets"
LIAR = FIXTURES / "liar_sample.tsv"
LIAR_BAD = FIXTURES / "liar_bad_rows.tsv"
FACTCELLAR = FIXTURES / "factcellar_by_issue.json"
FACTCELLAR_CSV = FIXTURES / "factcellar_flat.csv"
SNOPES_INVALID = FIXTURES / "snopes_invalid.json"
SNOPES_VALID = FIXTURES / "snopes_valid.json"
SNOPES_CSV = FIXTURES / "snopes_repaired.csv"

MINT_URL = "https://www.politifact.com/factchecks/2023/mar/07/viral-image/mint-not-ending-quarters/"


def by_url(reviews: list[ImportedReview]) -> dict[str, ImportedReview]:
    return {review.review_url: review for review in reviews}


def liar_line(liar_id: str, label: str = "true", statement: str = "A statement.") -> str:
    cells = [liar_id, label, statement, "economy", "ann-lee", "", "Ohio", "democrat"]
    return "\t".join([*cells, "0", "0", "0", "0", "0", "a speech"]) + "\n"


# LIAR -------------------------------------------------------------------------


def test_liar_gives_one_review_per_line_where_a_quoting_csv_reader_merges_lines():
    lines = LIAR.read_text(encoding="utf-8").splitlines()
    with LIAR.open(newline="", encoding="utf-8") as file:
        quoting_reader_rows = list(csv.reader(file, delimiter="\t"))

    reviews = parse_liar(LIAR).reviews

    # The statement of line 2 opens a quote it never closes.
    assert len(quoting_reader_rows) < len(lines) == 10
    assert len(reviews) == 10
    assert [review.where for review in reviews] == [
        f"liar_sample.tsv, line {n}" for n in range(1, 11)
    ]


def test_liar_statements_keep_their_quote_marks():
    reviews = by_url(parse_liar(LIAR).reviews)

    assert reviews["urn:liar:102"].claim_text == (
        '"The new toll will cost every commuter a thousand dollars a year.'
    )
    assert reviews["urn:liar:104"].claim_text == (
        '"We have hired more teachers than any governor before me."'
    )


def test_liar_party_none_is_left_out_and_empty_columns_too():
    reviews = by_url(parse_liar(LIAR).reviews)

    assert reviews["urn:liar:102"].extra == {
        "subjects": "taxes,transportation",
        "speaker_slug": "chain-email",
        "context": "an email",
    }
    assert reviews["urn:liar:104"].extra == {
        "subjects": "education",
        "speaker_slug": "tom-whitfield",
        "job": "Governor",
        "state": "Nevada",
        "party": "republican",
        "context": "a campaign speech",
    }
    assert "party" not in reviews["urn:liar:106"].extra


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("barack-obama", "Barack Obama"),
        ("chain-email", "Chain email"),
        ("facebook-posts", "Facebook posts"),
        ("viral-image", "Viral image"),
        (
            "national-republican-congressional-committee",
            "National Republican Congressional Committee",
        ),
        ("GaGOP", "GaGOP"),
        ("Rhode_Island_Catholic", "Rhode Island Catholic"),
        ("13th-district-gop-slate", "13th District Gop Slate"),
    ],
)
def test_speaker_display_name(slug, name):
    assert speaker_display_name(slug) == name


def test_liar_claimants_are_display_names():
    claimants = {review.review_url: review.claimant for review in parse_liar(LIAR).reviews}

    assert claimants["urn:liar:101"] == "Maria Delgado"
    assert claimants["urn:liar:102"] == "Chain email"
    assert claimants["urn:liar:103"] == "Facebook posts"
    assert claimants["urn:liar:105"] == "KyGOP"


@pytest.mark.parametrize(
    ("liar_id", "words", "value"),
    [
        ("103", "Pants on Fire!", 1),
        ("102", "False", 2),
        ("105", "Mostly False", 3),  # LIAR's "barely-true"
        ("101", "Half True", 4),
        ("104", "Mostly True", 5),
        ("106", "True", 6),
    ],
)
def test_liar_labels_are_politifact_words_from_1_worst_to_6_best(liar_id, words, value):
    review = by_url(parse_liar(LIAR).reviews)[f"urn:liar:{liar_id}"]

    assert (review.rating_text, review.rating_value) == (words, Decimal(value))
    assert (review.worst_rating, review.best_rating) == (Decimal(1), Decimal(6))


def test_liar_review_is_a_urn_by_publisher_politifact_with_no_dates():
    review = parse_liar(LIAR).reviews[0]

    assert review.review_url == "urn:liar:101"
    assert (review.publisher_name, review.publisher_site) == (
        "PolitiFact",
        "https://www.politifact.com",
    )
    assert (review.date_published, review.claim_date, review.language) == (None, None, "en")


def test_liar_repeated_statement_is_two_reviews():
    reviews = by_url(parse_liar(LIAR).reviews)

    first, second = reviews["urn:liar:101"], reviews["urn:liar:107"]
    assert first.claim_text == second.claim_text
    assert (first.claimant, first.rating_text) == ("Maria Delgado", "Half True")
    assert (second.claimant, second.rating_text) == ("Greg Oyelaran", "False")


def test_liar_bad_rows_refuse_the_file_naming_line_and_column():
    with pytest.raises(ImportRefused) as refused:
        parse_liar(LIAR_BAD)

    assert refused.value.problems == [
        Problem(
            "liar_bad_rows.tsv, line 2", "columns", "13 tab-separated columns, where LIAR has 14"
        ),
        Problem(
            "liar_bad_rows.tsv, line 3",
            "label",
            "'mostly-fals' is not one of pants-fire, false, barely-true, half-true, mostly-true, true",
        ),
        Problem("liar_bad_rows.tsv, line 4", "statement", "empty"),
    ]


def test_liar_refusal_stops_at_the_problem_limit(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("".join(liar_line(f"{n}.json", label="fibs") for n in range(80)))

    with pytest.raises(ImportRefused) as refused:
        parse_liar(path)

    assert len(refused.value.problems) == MAX_PROBLEMS
    assert refused.value.problems[-1].where == f"bad.tsv, line {MAX_PROBLEMS}"


def test_liar_id_is_checked(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text(liar_line("2635") + liar_line("12.json"))

    with pytest.raises(ImportRefused) as refused:
        parse_liar(path)

    assert refused.value.problems == [
        Problem("ids.tsv, line 1", "id", "'2635' is not a LIAR id such as '2635.json'")
    ]


def test_liar_same_id_twice_is_one_review_unless_the_lines_differ(tmp_path):
    same = tmp_path / "same.tsv"
    same.write_text(liar_line("7.json") + liar_line("7.json"))
    differing = tmp_path / "differing.tsv"
    differing.write_text(liar_line("7.json") + liar_line("7.json", label="false"))

    parsed = parse_liar(same)
    with pytest.raises(ImportRefused) as refused:
        parse_liar(differing)

    assert [review.review_url for review in parsed.reviews] == ["urn:liar:7"]
    assert parsed.notes == ["same.tsv, line 2: repeats same.tsv, line 1, left out"]
    assert refused.value.problems[0].where == "differing.tsv, line 2"


def test_liar_lines_end_at_newlines_only(tmp_path):
    # "\u2028" and "\x0c" end lines for str.splitlines(), not for LIAR.
    path = tmp_path / "crlf.tsv"
    path.write_bytes(
        (liar_line("1.json", statement="One\u2028two") + liar_line("2.json", statement="x\x0cy"))
        .replace("\n", "\r\n")
        .encode()
    )

    reviews = parse_liar(path).reviews

    assert [(review.claim_text, review.extra["context"]) for review in reviews] == [
        ("One two", "a speech"),
        ("x y", "a speech"),
    ]


def test_liar_file_that_is_not_utf8_is_refused_at_its_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(
        liar_line("1.json").encode() + liar_line("2.json", statement="Caf\xe9").encode("latin-1")
    )

    with pytest.raises(ImportRefused) as refused:
        parse_liar(path)

    assert refused.value.problems[0].where == "latin1.tsv, line 2"


def test_liar_parses_a_full_sized_file(tmp_path):
    # Its speed is `make bench`'s to show (the import row), not a timed test's: on a
    # shared machine a timing fails with the load, not with the code.
    path = tmp_path / "big.tsv"
    path.write_text(
        "".join(liar_line(f"{n}.json", statement=f"Statement {n}.") for n in range(12_836))
    )

    reviews = parse_liar(path).reviews

    assert len(reviews) == 12_836
    assert [review.claim_text for review in reviews[:2]] == ["Statement 0.", "Statement 1."]


# FactCellar -------------------------------------------------------------------


def test_factcellar_gives_one_review_per_url_with_its_issues_merged():
    reviews = parse_factcellar(FACTCELLAR).reviews

    assert len(reviews) == 5
    assert len({review.review_url for review in reviews}) == 5
    mint = by_url(reviews)[MINT_URL]
    assert mint.extra["issues"] == "coins-and-currency,economy"
    assert mint.where == "factcellar_by_issue.json, economy/False[0]"


def test_factcellar_dates():
    reviews = by_url(parse_factcellar(FACTCELLAR).reviews)
    mint = reviews[MINT_URL]
    rent = reviews[
        "https://www.politifact.com/factchecks/2021/jun/14/instagram-posts/no-law-bans-rent-in-cash/"
    ]

    assert (str(mint.claim_date), str(mint.date_published)) == ("2023-03-03", "2023-03-07")
    assert (rent.claim_date, str(rent.date_published)) == (None, "2021-06-14")


def test_factcellar_statements_keep_their_quote_marks_without_surrounding_space():
    texts = [review.claim_text for review in parse_factcellar(FACTCELLAR).reviews]

    assert texts[:3] == [
        "\u201cThe mint will stop making quarters next month.\u201d",
        '"Banks will charge a fee on every cash deposit starting in January."',
        "Says the state\u2019s unemployment rate is the lowest it has been in 20 years.",
    ]


def test_factcellar_pseudo_speakers_are_claimants_as_given():
    claimants = [review.claimant for review in parse_factcellar(FACTCELLAR).reviews]

    assert claimants == [
        "Viral image",
        "Facebook posts",
        "Carla Benitez",
        "Instagram posts",
        "Jonah Pryce",
    ]


def test_factcellar_ratings_are_on_the_truth_o_meter_or_have_no_number():
    ratings = [
        (review.rating_text, review.rating_value, review.best_rating)
        for review in parse_factcellar(FACTCELLAR).reviews
    ]

    assert ratings == [
        ("False", Decimal(2), Decimal(6)),
        ("False", Decimal(2), Decimal(6)),
        ("Mostly True", Decimal(5), Decimal(6)),
        ("Pants on Fire", Decimal(1), Decimal(6)),
        ("Full Flop", None, None),
    ]


@pytest.mark.parametrize(
    ("given", "words", "value"),
    [
        ("pants-fire", "Pants on Fire!", 1),
        ("Pants on Fire", "Pants on Fire", 1),
        ("barely-true", "Mostly False", 3),
        ("Mostly False", "Mostly False", 3),
        ("half-true", "Half True", 4),
        ("True", "True", 6),
        ("Half Flip", "Half Flip", None),
    ],
)
def test_politifact_rating(given, words, value):
    assert politifact_rating(given) == (words, None if value is None else Decimal(value))


def test_factcellar_listings_of_one_url_that_disagree_refuse_the_file(tmp_path):
    data = json.loads(FACTCELLAR.read_text())
    data["coins-and-currency"]["True"] = data["coins-and-currency"].pop("False")
    path = tmp_path / "disagree.json"
    path.write_text(json.dumps(data))

    with pytest.raises(ImportRefused) as refused:
        parse_factcellar(path)

    assert refused.value.problems == [
        Problem(
            "disagree.json, coins-and-currency/True[0]",
            "statement_url",
            f"{MINT_URL} is also at disagree.json, economy/False[0], which says otherwise",
        )
    ]


def test_factcellar_bad_date_and_missing_field_refuse_the_file(tmp_path):
    data = json.loads(FACTCELLAR.read_text())
    data["economy"]["False"][1]["fact_check_date"] = "2022-12-02"
    del data["elections"]["Full Flop"][0]["statement_text"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))

    with pytest.raises(ImportRefused) as refused:
        parse_factcellar(path)

    assert refused.value.problems == [
        Problem("bad.json, elections/Full Flop[0]", "statement_text", "missing"),
        Problem(
            "bad.json, economy/False[1]",
            "fact_check_date",
            "'2022-12-02' is not a date like 'August 25, 2024' or '23 June 2020'",
        ),
    ]


def test_factcellar_scorecards_are_not_claims(tmp_path):
    path = tmp_path / "scorecards.json"
    path.write_text(json.dumps({"https://example.org/abortion/": {"True": {"checks": 3}}}))

    with pytest.raises(ImportRefused) as refused:
        parse_factcellar(path)

    assert refused.value.problems == [
        Problem("scorecards.json, https://example.org/abortion//True", "", "not a list of entries")
    ]


def test_factcellar_csv_says_what_the_json_says():
    from_csv = parse_factcellar_csv(FACTCELLAR_CSV).reviews
    from_json = by_url(parse_factcellar(FACTCELLAR).reviews)

    assert len(from_csv) == 4
    for review in from_csv:
        json_review = from_json[review.review_url]
        assert (review.claim_text, review.claimant, review.rating_text) == (
            json_review.claim_text,
            json_review.claimant,
            json_review.rating_text,
        )
        assert (review.claim_date, review.date_published) == (
            json_review.claim_date,
            json_review.date_published,
        )


def test_factcellar_csv_issues_are_sorted_and_lines_counted_across_multiline_fields():
    reviews = parse_factcellar_csv(FACTCELLAR_CSV).reviews

    assert [review.extra["issues"] for review in reviews] == [
        "coins-and-currency,economy",
        "economy",
        "economy,jobs",
        "housing",
    ]
    # The third record's statement runs over two lines.
    assert [review.where for review in reviews][2:] == [
        "factcellar_flat.csv, line 4",
        "factcellar_flat.csv, line 6",
    ]


def test_factcellar_csv_without_a_column_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("statement_url,rating,statement_text\nhttps://example.org/1,True,Words\n")

    with pytest.raises(ImportRefused) as refused:
        parse_factcellar_csv(path)

    assert refused.value.problems[0].where == "short.csv, line 1"
    assert refused.value.problems[0].why.startswith("no column author_name, author_url")


# Snopes -----------------------------------------------------------------------


def test_snopes_invalid_json_is_refused_at_its_line_and_column():
    with pytest.raises(ImportRefused) as refused:
        parse_snopes(SNOPES_INVALID)

    assert refused.value.problems == [
        Problem("snopes_invalid.json, line 18, column 26", "", "Expecting ',' delimiter")
    ]


def test_snopes_valid_json_of_the_same_shape_is_imported():
    parsed = parse_snopes(SNOPES_VALID)
    ghost, tea, bridge = parsed.reviews

    assert (
        ghost.claim_text
        == "The ghost of a lighthouse keeper still lights the lamp on stormy nights."
    )
    assert (ghost.publisher_name, ghost.publisher_site) == ("Snopes", "https://www.snopes.com")
    assert str(ghost.date_published) == "2019-10-12"
    assert (
        tea.claim_text
        == 'A "miracle" tea company is giving away free samples to anyone who shares its post.'
    )
    assert (bridge.date_published, "fact_checker" in bridge.extra) == (None, False)
    assert parsed.notes == ["snopes_valid.json, [3]: no statement, left out"]


def test_snopes_author_is_the_fact_checker_and_nobody_is_the_claimant():
    ghost = parse_snopes(SNOPES_VALID).reviews[0]

    assert ghost.claimant == ""
    assert ghost.extra == {
        "title": "The Lighthouse Keeper Who Never Left",
        "subtitle": "A tale told to tourists for a century.",
        "fact_checker": "Irene Vogt",
    }


def test_snopes_truth_ratings_have_numbers_and_the_others_only_words():
    ratings = [
        (review.rating_text, review.rating_value, review.best_rating)
        for review in parse_snopes(SNOPES_VALID).reviews + parse_snopes_csv(SNOPES_CSV).reviews
    ]

    assert ratings == [
        ("legend", None, None),
        ("scam", None, None),
        ("mostly-true", Decimal(4), Decimal(5)),
        ("correct-attribution", None, None),
        ("scam", None, None),
        ("outdated", None, None),
        ("miscaptioned", None, None),
        ("false", Decimal(1), Decimal(5)),
        ("true", Decimal(5), Decimal(5)),
    ]


def test_snopes_json_item_of_another_shape_is_refused(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text(
        json.dumps([{"url": "https://www.snopes.com/x/", "evaluation": 3, "statement": "S"}])
    )

    with pytest.raises(ImportRefused) as refused:
        parse_snopes(path)

    assert refused.value.problems == [Problem("odd.json, [0]", "evaluation", "not text")]


def test_snopes_repaired_csv():
    parsed = parse_snopes_csv(SNOPES_CSV)
    reviews = parsed.reviews

    assert len(reviews) == 6
    assert reviews[0].claim_text == 'The mayor said potholes give the city "character."'
    assert reviews[0].extra["title"] == 'Did the Mayor Say Potholes Are "Character"?'
    # The second record's subtitle runs over two lines.
    assert reviews[1].extra["subtitle"] == 'The "free sample" comes with a monthly charge.'
    assert [review.where for review in reviews[1:3]] == [
        "snopes_repaired.csv, line 3",
        "snopes_repaired.csv, line 5",
    ]
    assert {review.claimant for review in reviews} == {""}
    assert parsed.notes == [
        "snopes_repaired.csv, line 8: repeats snopes_repaired.csv, line 7, left out",
        "snopes_repaired.csv, line 9: no statement, left out",
    ]


def test_snopes_csv_row_with_an_extra_cell_is_refused(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text(
        "url,evaluation,statement\n"
        "https://www.snopes.com/a/,false,Fine.\n"
        "https://www.snopes.com/b/,false,Not, quoted.\n"
    )

    with pytest.raises(ImportRefused) as refused:
        parse_snopes_csv(path)

    assert refused.value.problems == [
        Problem("extra.csv, line 3", "columns", "4 columns, where the header has 3")
    ]


# Choosing a parser --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "format_name"),
    [
        (LIAR, "liar"),
        (LIAR_BAD, "liar"),
        (FACTCELLAR, "factcellar"),
        (FACTCELLAR_CSV, "factcellar-csv"),
        (SNOPES_INVALID, "snopes"),
        (SNOPES_VALID, "snopes"),
        (SNOPES_CSV, "snopes-csv"),
    ],
)
def test_sniff_names_the_parser(path, format_name):
    assert sniff(path) == format_name
    assert format_name in PARSERS


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scorecards.json", '{"https://example.org/a/": {"True": {"checks": 3}}}'),
        ("list.json", "[1, 2, 3]"),
        ("claims.csv", "claimReviewed,ratingName,url\nWords,False,https://example.org/\n"),
        ("short.tsv", "1.json\ttrue\tWords\n"),
        ("empty.tsv", ""),
    ],
)
def test_sniff_knows_what_it_does_not_know(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)

    assert sniff(path) is None


def test_sniff_of_a_missing_file_is_none(tmp_path):
    assert sniff(tmp_path / "absent.tsv") is None


def test_parsers_by_name():
    parsers_by_name = dict(PARSERS)

    assert parsers_by_name == {
        "liar": parse_liar,
        "factcellar": parse_factcellar,
        "factcellar-csv": parse_factcellar_csv,
        "snopes": parse_snopes,
        "snopes-csv": parse_snopes_csv,
    }
