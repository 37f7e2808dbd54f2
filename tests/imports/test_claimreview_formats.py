"""The ClaimReview parsers against small hand-written files with the quirks of real ones.

Every fixture under fixtures/claimreview/ is invented (example.org publishers,
made-up claims) in the layouts the web publishes: article pages with
ld+json, DataFeeds, Fact Check Tools responses, ClaimsKG CSV and JSON.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claims.imports.claimreview import (
    PARSERS,
    parse_claimskg_csv,
    parse_claimskg_json,
    parse_datafeed,
    parse_factcheck_search,
    parse_html,
    sniff,
)
from claims.imports.records import ImportedReview, ImportRefused, ParsedFile

FIXTURES = Path(__file__).parent / "fixtures" / "claimreview"

CLAIMSKG_HEADER = (
    ",rating_ratingValue,rating_worstRating,rating_bestRating,rating_alternateName,"
    "creativeWork_author_name,creativeWork_datePublished,creativeWork_author_sameAs,"
    "claimReview_author_name,claimReview_author_url,claimReview_url,claimReview_claimReviewed,"
    "claimReview_datePublished,claimReview_source,claimReview_author,extra_body,"
    "extra_refered_links,extra_title,extra_tags,extra_entities_claimReview_claimReviewed,"
    "extra_entities_body,extra_entities_keywords,extra_entities_author,related_links"
)


def claim_review(**fields: Any) -> dict[str, Any]:
    """A complete ClaimReview; each test changes the fields it is about."""
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://factcheck.example.org/checks/one",
        "claimReviewed": "The lake froze in August",
        "author": {"@type": "Organization", "name": "Factcheck Example"},
        "datePublished": "2024-01-02",
        "itemReviewed": {"@type": "Claim", "datePublished": "2024-01-01"},
        "reviewRating": {"@type": "Rating", "alternateName": "False"},
    }
    review.update(fields)
    return {key: value for key, value in review.items() if value is not None}


def write_page(tmp_path: Path, *blocks: Any, head: str = "", html_attributes: str = "") -> Path:
    scripts = "\n".join(
        f'<script type="application/ld+json">{block if isinstance(block, str) else json.dumps(block)}</script>'
        for block in blocks
    )
    page = tmp_path / "page.html"
    page.write_text(
        f"<!DOCTYPE html><html{html_attributes}><head>{head}{scripts}</head><body></body></html>",
        encoding="utf-8",
    )
    return page


def only_review(parsed: ParsedFile) -> ImportedReview:
    assert len(parsed.reviews) == 1, parsed.reviews
    return parsed.reviews[0]


def refusal(parse: Any, path: Path) -> ImportRefused:
    with pytest.raises(ImportRefused) as refused:
        parse(path)
    return refused.value


# --- Article pages ------------------------------------------------------------------


def test_a_claim_review_inside_graph_beside_other_objects_is_found():
    parsed = parse_html(FIXTURES / "graph_page.html")

    review = only_review(parsed)
    assert review.where == "graph_page.html, ld+json block 1 @graph[2]"
    assert review.review_url == "https://verif.example.org/articles/tour-horloge"
    assert review.language == "fr"
    assert review.extra["title"] == "Non, la tour de l'horloge ne penche pas"


def test_claim_reviewed_as_a_list_joins_its_non_empty_items_with_a_note():
    parsed = parse_html(FIXTURES / "graph_page.html")

    assert only_review(parsed).claim_text == (
        "La tour de l'horloge penche de 12 degrés / La tour penche depuis 2020"
    )
    assert any("claimReviewed is a list of 2" in note for note in parsed.notes)


def test_entities_line_breaks_and_runs_of_spaces_in_the_claim_are_cleaned(tmp_path):
    page = write_page(
        tmp_path,
        claim_review(claimReviewed="  Caf&eacute; &amp; bar\r\n   open   &quot;all night&quot; "),
    )

    assert only_review(parse_html(page)).claim_text == 'Café & bar open "all night"'


def test_author_as_a_list_takes_the_first_with_a_name():
    review = only_review(parse_html(FIXTURES / "graph_page.html"))

    assert review.publisher_name == "Vérif Exemple"
    assert review.publisher_site == "https://verif.example.org"


def test_claimant_from_a_list_of_authors_joins_their_names():
    review = only_review(parse_html(FIXTURES / "graph_page.html"))

    assert review.claimant == "Jeanne Exemple, Le Blog Fictif"


@pytest.mark.parametrize(
    ("author", "claimant"),
    [
        ({"@type": "Person", "name": "A. Speaker"}, "A. Speaker"),
        ("Social media", "Social media"),
        ([{"@type": "Person", "name": "One"}, {"@type": "Person", "name": "Two"}], "One, Two"),
        (None, ""),
    ],
)
def test_claimant_is_an_object_a_list_a_plain_name_or_nobody(tmp_path, author, claimant):
    item_reviewed = {"@type": "Claim", "datePublished": "2024-01-01"}
    if author is not None:
        item_reviewed["author"] = author
    page = write_page(tmp_path, claim_review(itemReviewed=item_reviewed))

    assert only_review(parse_html(page)).claimant == claimant


def test_appearances_from_objects_lists_and_strings_deduplicated_in_order():
    review = only_review(parse_html(FIXTURES / "graph_page.html"))

    assert review.appearances == (
        "https://social.example.net/post/1",
        "https://social.example.net/post/2",
        "https://blog.example.com/la-tour",
    )


def test_the_scale_minus_one_throughout_means_no_numeric_rating():
    review = only_review(parse_html(FIXTURES / "graph_page.html"))

    assert review.rating_text == "Faux"
    assert (review.rating_value, review.best_rating, review.worst_rating) == (None, None, None)


def test_several_blocks_and_lists_give_every_claim_review_and_note_the_block_that_is_not_json():
    parsed = parse_html(FIXTURES / "several_blocks.html")

    assert [review.where for review in parsed.reviews] == [
        "several_blocks.html, ld+json block 3",
        "several_blocks.html, ld+json block 4 [0]",
        "several_blocks.html, ld+json block 4 [1]",
    ]
    assert any(
        note.startswith("several_blocks.html, ld+json block 2: not valid JSON") and "line 1" in note
        for note in parsed.notes
    )


def test_a_scale_of_one_to_six_and_a_sentence_with_a_trailing_carriage_return():
    review = parse_html(FIXTURES / "several_blocks.html").reviews[0]

    assert review.rating_text == (
        "Não é verdade que a ponte foi inaugurada em 1990; a obra terminou em 2003."
    )
    assert (review.rating_value, review.best_rating, review.worst_rating) == (
        Decimal(2),
        Decimal(6),
        Decimal(1),
    )


def test_a_plain_string_author_and_a_language_object():
    review = parse_html(FIXTURES / "several_blocks.html").reviews[0]

    assert review.publisher_name == "Checagem Exemplo"
    assert review.publisher_site == ""
    assert review.language == "pt"
    assert review.claimant == "Redes sociais"


def test_without_url_or_author_the_page_canonical_and_publisher_stand_in():
    parsed = parse_html(FIXTURES / "several_blocks.html")
    review = parsed.reviews[1]

    # The page's address, numbered: the first review of the page gave it as its own.
    page = "https://checagem.example.org/2023/11/ponte-e-balsa/"
    assert [r.review_url for r in parsed.reviews[:2]] == [f"{page}#claim-1", f"{page}#claim-2"]
    assert any("shares its URL with another claim's review" in note for note in parsed.notes)
    assert review.publisher_name == "Checagem Exemplo"
    # A site written without a scheme, as some publishers do.
    assert review.publisher_site == "https://checagem.example.org"
    assert review.language == "pt-BR"
    assert review.claimant == ""


def test_a_person_as_author_yields_to_the_publishing_organisation():
    review = parse_html(FIXTURES / "several_blocks.html").reviews[2]

    assert review.publisher_name == "Checagem Exemplo"
    assert review.extra["review_author"] == "Ana Exemplo"


@pytest.mark.parametrize(
    ("html_path", "index", "words"),
    [
        ("graph_page.html", 0, "Faux"),
        ("several_blocks.html", 1, "Falso"),
        # Given as `name` when there is no alternateName.
        ("several_blocks.html", 2, "錯誤"),
    ],
)
def test_rating_words_are_kept_verbatim_in_any_language(html_path, index, words):
    assert parse_html(FIXTURES / html_path).reviews[index].rating_text == words


@pytest.mark.parametrize(
    ("rating_value", "expected"),
    [
        ("3", Decimal(3)),
        (3, Decimal(3)),
        (3.5, Decimal("3.5")),
        (" 4 ", Decimal(4)),
        ("", None),
        (None, None),
        ("missing", None),
    ],
)
def test_rating_values_as_strings_numbers_empty_null_or_missing(tmp_path, rating_value, expected):
    rating: dict[str, Any] = {"@type": "Rating", "alternateName": "False", "bestRating": "5"}
    if rating_value != "missing":
        rating["ratingValue"] = rating_value
    page = write_page(tmp_path, claim_review(reviewRating=rating))

    review = only_review(parse_html(page))
    assert review.rating_value == expected
    assert review.best_rating == Decimal(5)
    assert review.worst_rating is None


def test_a_rating_value_that_is_not_a_number_is_left_empty_with_a_note(tmp_path):
    rating = {"@type": "Rating", "alternateName": "False", "ratingValue": "false"}
    parsed = parse_html(write_page(tmp_path, claim_review(reviewRating=rating)))

    assert only_review(parsed).rating_value is None
    assert any("reviewRating.ratingValue 'false' is not a number" in note for note in parsed.notes)


@pytest.mark.parametrize(
    "written",
    [
        "2024-03-05",
        "2024-3-5",
        "2024-03-05 23:10",
        "2024-03-05 23:10:59",
        "2024-03-05T23:10:59",
        "2024-03-05T23:10:59Z",
        "2024-03-05T23:10:59+05:30",
        "2024-03-05T23:10:59+0530",
        "2024-03-05T23:10:59-05:00",
        "2024-03-05T23:10:59.123456+00:00",
        "2024-03-05T23:10",
    ],
)
def test_every_date_form_gives_the_calendar_date_as_written(tmp_path, written):
    page = write_page(
        tmp_path,
        claim_review(
            datePublished=written, itemReviewed={"@type": "Claim", "datePublished": written}
        ),
    )

    parsed = parse_html(page)
    review = only_review(parsed)
    # 23:10 at -05:00 is the 6th in UTC: the date stays the one the publisher wrote.
    assert review.date_published == date(2024, 3, 5)
    assert review.claim_date == date(2024, 3, 5)
    assert parsed.notes == []


def test_missing_and_unreadable_dates_are_empty_with_notes_naming_the_field():
    parsed = parse_html(FIXTURES / "several_blocks.html")
    review = parsed.reviews[2]

    assert review.date_published is None
    assert review.claim_date is None
    assert "several_blocks.html, ld+json block 4 [1]: no datePublished" in parsed.notes
    assert (
        "several_blocks.html, ld+json block 4 [1]: itemReviewed.datePublished 'terça passada'"
        " is not a date; left empty"
    ) in parsed.notes


@pytest.mark.parametrize("written", ["2024-02-30", "2024-03-05T25:00:00", "05/03/2024"])
def test_impossible_dates_are_not_dates(tmp_path, written):
    parsed = parse_html(write_page(tmp_path, claim_review(datePublished=written)))

    assert only_review(parsed).date_published is None
    assert any("datePublished" in note and written in note for note in parsed.notes)


@pytest.mark.parametrize(
    "script_type",
    [
        "application/ld+json",
        "Application/LD+JSON",
        "  application/ld+json  ",
        "application/ld+json; charset=utf-8",
    ],
)
def test_the_script_type_may_vary_in_case_spacing_and_charset(tmp_path, script_type):
    page = tmp_path / "page.html"
    page.write_text(
        f'<html><head><script type="{script_type}">{json.dumps(claim_review())}</script></head></html>',
        encoding="utf-8",
    )

    assert only_review(parse_html(page)).claim_text == "The lake froze in August"


def test_a_page_without_claim_review_is_refused_with_the_number_of_blocks():
    refused = refusal(parse_html, FIXTURES / "no_claimreview.html")

    assert [str(problem) for problem in refused.problems] == [
        "no_claimreview.html: no ClaimReview in any of its 1 ld+json blocks"
    ]


def test_a_page_without_any_ld_json_block_is_refused():
    refused = refusal(parse_html, FIXTURES / "no_ldjson.html")

    assert "no ld+json block" in str(refused)


def test_a_page_whose_only_claim_review_block_is_not_json_is_refused(tmp_path):
    page = write_page(tmp_path, '{"@type": "ClaimReview", "claimReviewed": "x",}')

    refused = refusal(parse_html, page)
    assert "no ClaimReview in any of its 1 ld+json blocks (1 not valid JSON)" in str(refused)


def test_a_claim_review_without_claim_is_refused_naming_the_field(tmp_path):
    page = write_page(tmp_path, claim_review(claimReviewed=["", "  "]))

    refused = refusal(parse_html, page)
    assert [(problem.where, problem.field) for problem in refused.problems] == [
        ("page.html, ld+json block 1", "claimReviewed")
    ]


def test_a_claim_review_with_no_url_anywhere_is_refused(tmp_path):
    page = write_page(tmp_path, claim_review(url=None))

    assert [problem.field for problem in refusal(parse_html, page).problems] == ["url"]


@pytest.mark.parametrize(
    ("head", "url"),
    [
        (
            '<link rel="canonical" href="https://factcheck.example.org/c">'
            '<meta property="og:url" content="https://factcheck.example.org/og">',
            "https://factcheck.example.org/c",
        ),
        (
            '<meta property="og:url" content="https://factcheck.example.org/og">',
            "https://factcheck.example.org/og",
        ),
    ],
)
def test_the_review_url_falls_back_to_canonical_then_og_url(tmp_path, head, url):
    page = write_page(tmp_path, claim_review(url=None), head=head)

    assert only_review(parse_html(page)).review_url == url


def test_without_any_author_or_publisher_the_og_site_name_publishes(tmp_path):
    page = write_page(
        tmp_path,
        claim_review(author=None),
        head='<meta property="og:site_name" content="Factcheck &amp; Co">',
    )

    assert only_review(parse_html(page)).publisher_name == "Factcheck & Co"


def test_without_any_publisher_name_the_page_is_refused_naming_author(tmp_path):
    page = write_page(
        tmp_path, claim_review(author={"@type": "Organization", "url": "https://x.example"})
    )

    assert [problem.field for problem in refusal(parse_html, page).problems] == ["author"]


def test_every_review_of_a_page_is_checked_before_refusing(tmp_path):
    page = write_page(
        tmp_path, [claim_review(claimReviewed=""), claim_review(author=None, url=None)]
    )

    refused = refusal(parse_html, page)
    assert [(problem.where, problem.field) for problem in refused.problems] == [
        ("page.html, ld+json block 1 [0]", "claimReviewed"),
        ("page.html, ld+json block 1 [1]", "url"),
        ("page.html, ld+json block 1 [1]", "author"),
    ]


def test_the_language_falls_back_to_the_html_lang_attribute(tmp_path):
    with_language = write_page(
        tmp_path, claim_review(inLanguage="es"), html_attributes=' lang="en"'
    )
    assert only_review(parse_html(with_language)).language == "es"

    without = write_page(tmp_path, claim_review(), html_attributes=' lang="en-GB"')
    assert only_review(parse_html(without)).language == "en-GB"

    nowhere = write_page(tmp_path, claim_review())
    assert only_review(parse_html(nowhere)).language == ""


def test_a_claim_review_under_a_web_page_main_entity_is_found(tmp_path):
    page = write_page(tmp_path, {"@type": "WebPage", "mainEntity": claim_review()})

    assert only_review(parse_html(page)).where == "page.html, ld+json block 1 mainEntity"


def test_raw_newlines_inside_json_strings_are_read_as_crawlers_read_them(tmp_path):
    block = json.dumps(claim_review(claimReviewed="PLACEHOLDER")).replace(
        "PLACEHOLDER", "first line\nsecond\tline"
    )
    page = write_page(tmp_path, block)

    assert only_review(parse_html(page)).claim_text == "first line second line"


# --- DataFeed -----------------------------------------------------------------------


def test_a_data_feed_skips_its_tombstones_with_a_note():
    parsed = parse_datafeed(FIXTURES / "feed.json")

    assert [review.where for review in parsed.reviews] == [
        "feed.json, dataFeedElement[0]",
        "feed.json, dataFeedElement[2], item[0]",
        "feed.json, dataFeedElement[2], item[1]",
    ]
    assert [note for note in parsed.notes if "dataFeedElement[1]" in note] == [
        "feed.json, dataFeedElement[1]: deleted on 2024-02-01T10:00:00Z (a tombstone); skipped"
    ]


def test_a_feed_item_gives_its_url_to_a_claim_review_without_one():
    first, bridge, ferry = parse_datafeed(FIXTURES / "feed.json").reviews

    assert first.review_url == "https://factcheck.example.org/checks/rainfall-record"
    assert (first.rating_value, first.best_rating, first.worst_rating) == (
        Decimal(2),
        Decimal(5),
        Decimal(1),
    )
    assert first.appearances == ("https://video.example.net/watch/rain",)
    assert first.language == "en"
    assert bridge.review_url.endswith("#bridge") and ferry.review_url.endswith("#ferry")
    assert bridge.claimant == "Social media"
    assert bridge.date_published == date(2024, 3, 19)


def test_data_feed_items_written_back_to_back_are_all_read():
    parsed = parse_datafeed(FIXTURES / "concatenated_items.json")

    assert [(review.where, review.review_url) for review in parsed.reviews] == [
        ("concatenated_items.json, object 1", "https://pruefstelle.example.org/elch"),
        ("concatenated_items.json, object 2", "https://pruefstelle.example.org/zug"),
    ]
    assert parsed.reviews[0].rating_text == "Das Foto ist eine Montage."
    assert parsed.reviews[0].appearances == ("https://social.example.net/elch",)


def test_a_list_of_feed_items_and_a_single_item(tmp_path):
    item = {"@type": "DataFeedItem", "item": claim_review()}
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([item, item]), encoding="utf-8")
    single = tmp_path / "single.json"
    single.write_text(json.dumps(item), encoding="utf-8")

    assert [review.where for review in parse_datafeed(listed).reviews] == [
        "list.json, [0]",
        "list.json, [1]",
    ]
    assert only_review(parse_datafeed(single)).where == "single.json"


def test_invalid_json_is_refused_with_its_line_and_column():
    refused = refusal(parse_datafeed, FIXTURES / "broken_feed.json")

    assert [str(problem) for problem in refused.problems] == [
        "broken_feed.json: not valid JSON: Expecting ',' delimiter at line 4, column 87"
    ]


def test_a_second_object_that_is_not_json_is_refused_with_its_own_line(tmp_path):
    feed = tmp_path / "feed.json"
    item = json.dumps({"@type": "DataFeedItem", "item": claim_review()})
    feed.write_text(f"{item}\n{item}\n{{oops}}\n", encoding="utf-8")

    assert "at line 3, column 2" in str(refusal(parse_datafeed, feed))


def test_a_feed_without_any_claim_review_is_refused(tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text('{"@type": "DataFeed", "dataFeedElement": []}', encoding="utf-8")

    assert "no ClaimReview" in str(refusal(parse_datafeed, feed))


# --- Fact Check Tools claims:search -------------------------------------------------


def test_claims_search_gives_one_record_per_claim_review():
    parsed = parse_factcheck_search(FIXTURES / "factcheck_search.json")

    english, french, portuguese = parsed.reviews
    assert english.where == "factcheck_search.json, claims[0], claimReview[0]"
    assert english.claim_text == french.claim_text == "The city's tap water contains gold"
    assert english.claimant == "Viral post"
    assert english.claim_date == date(2024, 2, 10)
    assert english.date_published == date(2024, 2, 12)
    assert (english.publisher_name, english.publisher_site) == (
        "Factcheck Example",
        "https://factcheck.example.org",
    )
    assert (english.rating_text, english.language) == ("False", "en")
    assert english.extra == {"title": "No, there is no gold in the tap water"}
    # A publisher known only by its site is named by it.
    assert (french.publisher_name, french.publisher_site) == (
        "verif.example.org",
        "https://verif.example.org",
    )
    assert portuguese.publisher_site == "https://checagem.example.org"
    assert portuguese.claim_date is None
    assert parsed.notes == ["factcheck_search.json, claims[1], claimReview[0]: no claimDate"]


def test_claims_search_as_a_list_one_claim_or_responses_back_to_back(tmp_path):
    claim = {
        "text": "A claim",
        "claimReview": [{"publisher": {"name": "P"}, "url": "https://p.example.org/r"}],
    }
    for content, count in [
        (json.dumps([claim, claim]), 2),
        (json.dumps(claim), 1),
        (json.dumps({"claims": [claim]}) + json.dumps({"claims": [claim, claim]}), 3),
    ]:
        path = tmp_path / "search.json"
        path.write_text(content, encoding="utf-8")
        assert len(parse_factcheck_search(path).reviews) == count


def test_a_claims_search_review_without_url_is_refused(tmp_path):
    path = tmp_path / "search.json"
    path.write_text(
        json.dumps(
            {"claims": [{"text": "A claim", "claimReview": [{"publisher": {"name": "P"}}]}]}
        ),
        encoding="utf-8",
    )

    assert [
        (problem.where, problem.field) for problem in refusal(parse_factcheck_search, path).problems
    ] == [("search.json, claims[0], claimReview[0]", "url")]


# --- ClaimsKG -----------------------------------------------------------------------


def test_claimskg_fields_hold_newlines_quotes_and_commas_and_records_name_their_first_line():
    parsed = parse_claimskg_csv(FIXTURES / "claimskg.csv")

    first = parsed.reviews[0]
    assert first.where == "claimskg.csv, record 2"
    assert first.claim_text == 'The "solar tax" doubles bills, and starts in May'
    assert first.extra == {"title": 'Is there a "solar tax"?', "tags": "energy, tax"}
    assert (first.rating_text, first.rating_value, first.best_rating, first.worst_rating) == (
        "Misleading",
        Decimal(2),
        Decimal(5),
        Decimal(1),
    )
    assert (first.date_published, first.claim_date) == (date(2024, 1, 20), date(2024, 1, 15))
    assert (first.publisher_name, first.publisher_site) == (
        "factcheck_example",
        "https://factcheck.example.org",
    )
    # The record after a three-line record starts on line 5.
    assert [review.where for review in parsed.reviews[1:]] == [
        f"claimskg.csv, record {line}" for line in (5, 6, 7, 8, 9)
    ]


def test_claimskg_rows_that_repeat_are_all_kept():
    reviews = parse_claimskg_csv(FIXTURES / "claimskg.csv").reviews

    assert reviews[0].review_url == reviews[1].review_url
    assert reviews[0].claim_text == reviews[1].claim_text


def test_claimskg_rows_wrapped_in_extra_quotes_are_unwrapped():
    review = parse_claimskg_csv(FIXTURES / "claimskg.csv").reviews[2]

    assert review.claim_text == "Flyover in Example Nagar collapsed, says viral post"
    assert review.claimant == "Facebook user Ravi Example"
    assert review.extra == {
        "title": "Fact Check: Viral flyover photo is from 2015",
        "tags": "Flyover, Example Nagar",
        "review_author": "Priya Example,Dev Example",
    }
    assert review.date_published == date(2023, 7, 4)


def test_claimskg_writer_or_publisher_in_the_claimant_column_is_not_a_claimant():
    parsed = parse_claimskg_csv(FIXTURES / "claimskg.csv")
    writer, party, publisher = parsed.reviews[3:]

    assert writer.claimant == ""
    assert writer.extra["review_author"] == "Sam Writer"
    assert writer.claim_text == "“The moon base opens next year”"
    assert party.claimant == "Example Party"
    assert publisher.claimant == ""
    assert any(
        "in 1 records creativeWork_author_name is the review's writer" in note
        for note in parsed.notes
    )


def test_claimskg_minus_one_scale_is_no_numeric_rating():
    review = parse_claimskg_csv(FIXTURES / "claimskg.csv").reviews[4]

    assert review.rating_text == "Unproven"
    assert (review.rating_value, review.best_rating, review.worst_rating) == (None, None, None)
    assert review.claim_date == date(2024, 2, 3)


def test_claimskg_records_without_claim_or_url_refuse_the_file_naming_line_and_field():
    refused = refusal(parse_claimskg_csv, FIXTURES / "claimskg_missing_claim.csv")

    assert [(problem.where, problem.field) for problem in refused.problems] == [
        ("claimskg_missing_claim.csv, record 5", "claimReview_claimReviewed"),
        ("claimskg_missing_claim.csv, record 6", "claimReview_url"),
    ]


def test_a_csv_without_the_claimskg_columns_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,statement\n1,something\n", encoding="utf-8")

    assert "not a ClaimsKG CSV" in str(refusal(parse_claimskg_csv, path))


def test_claimskg_json_records_back_to_back():
    parsed = parse_claimskg_json(FIXTURES / "claimskg_record.json")

    snow, statue = parsed.reviews
    assert snow.where == "claimskg_record.json, object 1"
    assert (snow.claim_text, snow.claimant) == (
        "Snow fell in Example City in July.",
        "Example Weather Blog",
    )
    assert snow.review_url == "https://factcheck.example.org/checks/july-snow"
    assert (snow.publisher_name, snow.publisher_site) == (
        "factcheck_example",
        "https://factcheck.example.org",
    )
    assert (snow.rating_text, snow.rating_value) == ("FALSE", Decimal(1))
    assert (snow.claim_date, snow.date_published, snow.language) == (date(2023, 6, 14), None, "en")
    assert snow.extra["keywords"] == "weather, hoax"
    # ClaimsKG's -1 is its OTHER class, not a number on a scale.
    assert (statue.rating_text, statue.rating_value) == ("OTHER", None)
    assert "claimskg_record.json, object 2: no date" in parsed.notes


# --- Choosing a parser --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("graph_page.html", "html"),
        ("no_ldjson.html", "html"),
        ("feed.json", "datafeed"),
        ("concatenated_items.json", "datafeed"),
        ("factcheck_search.json", "factcheck-search"),
        ("claimskg.csv", "claimskg-csv"),
        ("claimskg_record.json", "claimskg-json"),
    ],
)
def test_sniff_names_the_parser_a_file_needs(name, expected):
    assert sniff(FIXTURES / name) == expected
    assert expected in PARSERS


def test_sniff_reads_content_whatever_the_extension(tmp_path):
    cases = {
        "page.txt": "<!DOCTYPE html><html></html>",
        "claims.txt": json.dumps([{"text": "t", "claimReview": []}]),
        "item.txt": json.dumps({"@type": ["DataFeedItem"], "item": []}),
        "other.csv": "id,statement\n",
        "other.json": json.dumps({"hello": "world"}),
        "dump.txt": CLAIMSKG_HEADER + "\n0,,,,False\n",
    }
    results = {}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        results[name] = sniff(path)

    assert results == {
        "page.txt": "html",
        "claims.txt": "factcheck-search",
        "item.txt": "datafeed",
        "other.csv": None,
        "other.json": None,
        "dump.txt": "claimskg-csv",
    }


def test_sniff_decides_from_the_first_bytes_of_a_feed_longer_than_it_reads(tmp_path):
    feed = tmp_path / "big.json"
    elements = [{"@type": "DataFeedItem", "item": [claim_review(claimReviewed="x" * 1000)]}] * 200
    feed.write_text(
        json.dumps({"@type": "DataFeed", "dataFeedElement": elements}), encoding="utf-8"
    )

    assert sniff(feed) == "datafeed"


def test_every_parser_is_listed_by_name():
    names = {name: parser.__name__ for name, parser in PARSERS.items()}

    assert names == {
        "html": "parse_html",
        "datafeed": "parse_datafeed",
        "factcheck-search": "parse_factcheck_search",
        "claimskg-csv": "parse_claimskg_csv",
        "claimskg-json": "parse_claimskg_json",
    }
