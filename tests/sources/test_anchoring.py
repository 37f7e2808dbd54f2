import pytest

from sources.anchoring import AnchorError, locate, nearest_passage

TEXT = (
    "Sheinbaum said the deployment was \u201cabsolutely ruled out.\u201d\n"
    "\u201cIt is not part of any agreement,\u201d she said. "
    'Trump said, "> You\u2019re going to find out," to reporters.  Often   ten ships.'
)


def test_it_anchors_exact_words_with_offsets_prefix_and_suffix():
    anchor = locate(TEXT, "absolutely ruled out.")

    assert TEXT[anchor.start : anchor.end] == anchor.exact == "absolutely ruled out."
    assert TEXT.endswith(anchor.suffix, 0, anchor.end + len(anchor.suffix))
    assert anchor.prefix == TEXT[max(0, anchor.start - 40) : anchor.start]
    assert anchor.prefix.endswith("was \u201c")
    assert anchor.suffix.startswith("\u201d\n")


def test_it_treats_straight_and_typographic_quote_marks_alike():
    anchor = locate(TEXT, "You're going to find out")

    # The stored exact text is what the source prints, curly apostrophe included.
    assert anchor.exact == "You\u2019re going to find out"


def test_it_matches_typographic_marks_typed_around_the_words():
    anchor = locate(TEXT, '"It is not part of any agreement,"')

    assert anchor.exact == "\u201cIt is not part of any agreement,\u201d"


def test_it_forgives_whitespace_differences_but_keeps_the_original_span():
    anchor = locate(TEXT, "to reporters. Often ten ships.")

    assert anchor.exact == "to reporters.  Often   ten ships."


def test_it_refuses_changed_words_and_shows_the_nearest_passage():
    with pytest.raises(AnchorError) as caught:
        locate(TEXT, "absolutely rolled out.")

    assert "not in the source" in str(caught.value)
    assert caught.value.nearest == "\u201cabsolutely ruled out.\u201d"
    assert caught.value.similarity > 0.8
    assert "Nearest passage" in str(caught.value)


def test_it_refuses_a_different_case():
    with pytest.raises(AnchorError):
        locate(TEXT, "Absolutely ruled out")


def test_it_refuses_a_match_inside_a_longer_word():
    # "ten" occurs inside "Often"; only the whole word "ten" counts.
    anchor = locate(TEXT, "ten")
    assert TEXT[anchor.start - 1] == " " and TEXT[anchor.end] == " "
    with pytest.raises(AnchorError):
        locate(TEXT, "ft")


def test_it_asks_which_occurrence_when_words_repeat():
    text = "He said no. Then she said no. Then they said no."
    with pytest.raises(AnchorError, match="occur 3 times"):
        locate(text, "said no")

    anchor = locate(text, "said no", context_before="Then she")
    assert anchor.start == text.index("she said no") + len("she ")


def test_it_refuses_an_empty_quote():
    with pytest.raises(AnchorError, match="empty"):
        locate(TEXT, "  \n ")


def test_nearest_passage_finds_the_most_similar_window():
    passage, ratio = nearest_passage(TEXT, "you are going to find out")

    assert "going to find out" in passage
    assert 0.5 < ratio < 1


def test_it_refuses_context_that_is_not_before_the_only_occurrence():
    with pytest.raises(AnchorError, match="never right after"):
        locate(TEXT, "absolutely ruled out", context_before="Trump said")
    assert locate(TEXT, "absolutely ruled out", context_before="deployment was").start > 0
