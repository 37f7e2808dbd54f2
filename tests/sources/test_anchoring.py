from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sources import anchoring
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


# --- The nearest passage: bounded, and still the right one ----------------------------

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


def _seed_quotes() -> list[tuple[str, str]]:
    """(snapshot, words) of every quote in the seed file, each in its article."""
    ledger = yaml.safe_load((SEEDS_DIR / "ledger.yaml").read_text())
    files = {source["slug"]: source["file"] for source in ledger["sources"]}
    quotes = []
    for claim in ledger["claims"]:
        for appearance in claim.get("appearances", []):
            if "quote" in appearance:
                snapshot = (SEEDS_DIR / files[appearance["source"]]).read_text()
                quotes.append((snapshot, appearance["quote"]["words"]))
    return quotes


def _typo(words: str) -> str:
    """One letter changed in the longest word: what a desk mistypes."""
    longest = max(words.split(), key=len)
    middle = len(longest) // 2
    changed = longest[:middle] + ("x" if longest[middle] != "x" else "y") + longest[middle + 1 :]
    return words.replace(longest, changed, 1)


@pytest.mark.parametrize(("snapshot", "words"), _seed_quotes())
def test_a_typo_in_a_seed_quote_shows_the_passage_it_meant(snapshot, words):
    exact = locate(snapshot, words).exact

    with pytest.raises(AnchorError) as caught:
        locate(snapshot, _typo(words))

    # The passage is the quote as printed (give or take a word at either end).
    assert exact in caught.value.nearest
    assert len(caught.value.nearest.split()) <= len(exact.split()) + 1
    assert caught.value.similarity > 0.75
    assert f"Nearest passage ({caught.value.similarity:.0%} similar)" in str(caught.value)


def test_the_nearest_passage_is_found_far_into_a_long_snapshot():
    filler = " ".join(f"word{n}" for n in range(12_000))  # some 100,000 characters
    text = f"{filler} The minister said the port handled 12 million tonnes. {filler}"

    with pytest.raises(AnchorError) as caught:
        locate(text, "the port handled 21 million tonnes")

    assert caught.value.nearest == "the port handled 12 million tonnes."


def test_the_search_reads_no_more_than_the_snapshot_cap(monkeypatch):
    seen: list[int] = []
    align = anchoring.fuzz.partial_ratio_alignment

    def spy(target, haystack, **kwargs):
        seen.append(len(haystack))
        return align(target, haystack, **kwargs)

    monkeypatch.setattr(anchoring.fuzz, "partial_ratio_alignment", spy)
    beyond = anchoring.NEAREST_MAX_SNAPSHOT_CHARS
    text = "lorem ipsum " * (beyond // 6) + "the port handled 12 million tonnes"

    with pytest.raises(AnchorError) as caught:
        locate(text, "the port handled 21 million tonnes")

    assert seen == [anchoring.NEAREST_MAX_SNAPSHOT_CHARS]
    # Past the cap it is not seen, and the message says where it looked.
    assert "12 million" not in caught.value.nearest
    assert f"first {beyond:,} characters" in str(caught.value)
    # The exact search has no cap: the words past it are found.
    assert locate(text, "the port handled 12 million tonnes").start > beyond


def test_a_quote_over_the_cap_is_refused_without_a_search(monkeypatch):
    def no_search(*args, **kwargs):
        raise AssertionError("a quote over the cap must not be searched for")

    monkeypatch.setattr(anchoring.fuzz, "partial_ratio_alignment", no_search)
    words = " ".join(f"w{n}" for n in range(anchoring.NEAREST_MAX_WORDS + 1))

    with pytest.raises(AnchorError) as caught:
        locate(TEXT, words)

    message = str(caught.value)
    assert "not in the source" in message
    assert (
        f"too long to look for the nearest passage (at most {anchoring.NEAREST_MAX_WORDS} words"
        in message
    )
    assert caught.value.nearest == ""
    # The message repeats the beginning of the quote, not all of it.
    assert "w0 w1" in message and f"w{anchoring.NEAREST_MAX_WORDS}" not in message
    with pytest.raises(AnchorError, match="too long"):
        locate(TEXT, "x" * (anchoring.NEAREST_MAX_CHARS + 1))


def test_a_quote_over_the_cap_is_still_anchored_when_it_is_there():
    words = " ".join(f"w{n}" for n in range(anchoring.NEAREST_MAX_WORDS * 2))
    text = f"Before. {words} After."

    assert locate(text, words).start == len("Before. ")


def test_nothing_similar_gives_no_passage():
    with pytest.raises(AnchorError) as caught:
        locate("aaaa bbbb", "zzz")

    assert caught.value.nearest == ""
    assert "Nearest passage" not in str(caught.value)
    assert nearest_passage("aaaa bbbb", "zzz") == ("", 0.0)


# --- The normalised text: the same as a loop over every character -------------------


def _normalized_by_hand(text: str) -> tuple[str, list[int]]:
    """The rule, one character at a time: each run of whitespace is one space at the
    run's start; every other character is itself, its quote marks unified."""
    chars: list[str] = []
    origin: list[int] = []
    in_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if not in_space:
                chars.append(" ")
                origin.append(index)
            in_space = True
            continue
        in_space = False
        chars.append(char.translate(anchoring._QUOTE_MARKS))
        origin.append(index)
    return "".join(chars), origin


_TRICKY = list(
    " \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u2028\u3000ab.'\"\u2018\u2019\u201c\u201d\u00ab\u2032"
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.text(alphabet=st.sampled_from(_TRICKY)), st.text()))
def test_the_normalised_text_and_its_offsets_follow_the_rule(text):
    norm = anchoring._Normalized(text)
    expected_text, expected_origin = _normalized_by_hand(text)

    assert norm.text == expected_text
    assert [norm.origin(index) for index in range(len(norm.text))] == expected_origin
