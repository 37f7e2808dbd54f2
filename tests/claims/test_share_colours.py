"""The share image's badge colours (claims.sharing._BADGE) are a copy of the status
badges' in claims/static/claims/status.css, which Pillow cannot read: these tests
read the stylesheet and hold the copy to it, so that changing one without the other
fails here rather than on a reader's timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claims import sharing
from claims.ratings import RATINGS

STATIC = Path(__file__).resolve().parents[2] / "claims" / "static" / "claims"

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b")


def _hex(value: str) -> str:
    """A colour as #rrggbb in lower case: #ABC and #aabbcc are the same colour."""
    match = _HEX.fullmatch(value.strip().lower())
    assert match, f"not a hex colour: {value!r}"
    digits = match.group()[1:]
    if len(digits) == 3:
        digits = "".join(2 * digit for digit in digits)
    return f"#{digits}"


def rules(css: str) -> dict[str, dict[str, str]]:
    """Each simple selector's declarations (property -> value), later rules winning,
    as the browser applies them. Enough CSS for a flat stylesheet: no nesting."""
    found: dict[str, dict[str, str]] = {}
    for selectors, body in _RULE.findall(_COMMENT.sub("", css)):
        declarations = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip().lower()] = value.replace("!important", "").strip()
        for selector in selectors.split(","):
            found.setdefault(" ".join(selector.split()), {}).update(declarations)
    return found


def badge_colours(css: str) -> dict[str, tuple[str, str]]:
    """(background, text) of each status's badge, by status value, as the
    stylesheet has them (`.status-in-review` is `in_review`: Rating.css_class)."""
    found = rules(css)
    colours = {}
    for rating in RATINGS:
        declarations = found.get(f".{rating.css_class}")
        assert declarations, f"status.css has no .{rating.css_class} rule"
        colours[rating.value] = (_hex(declarations["background"]), _hex(declarations["color"]))
    return colours


def _normalised(badge: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {value: (_hex(tint), _hex(ink)) for value, (tint, ink) in badge.items()}


def test_the_share_image_colours_each_status_as_its_badge_on_the_page():
    css = badge_colours((STATIC / "status.css").read_text())

    assert set(sharing._BADGE) == {rating.value for rating in RATINGS}
    assert _normalised(sharing._BADGE) == css


def test_the_embedded_cards_top_rule_is_the_badges_text_colour():
    """claims/embed.css draws the card's top rule in each status's colour, a second copy."""
    css = badge_colours((STATIC / "status.css").read_text())
    embed = rules((STATIC / "embed.css").read_text())

    rule = {
        rating.value: _hex(embed[f'.embed-card[data-rating="{rating.value}"]']["border-top-color"])
        for rating in RATINGS
    }

    assert rule == {value: ink for value, (_tint, ink) in css.items()}


# The check itself: it reads what it should, and a copy that drifted fails it.

SAMPLE = """
/* .status-false { color: #000; } is a comment, not a rule */
.status-badge { border: 1px solid currentColor; }
.status-unverified { background: #F1F1F1; color: #3d3d3d; }
.status-in-review,
.status-spare { background: #e8f0fe; color: #174EA6 }
.status-true { background: #e6f4ea; color: #0d5323; }
.status-mostly-true { background: #eef7e4; color: #2f5111; }
.status-mixed { background: #fff4d6; color: #5c4300; }
.status-misleading { background: #fde9d9; color: #7a3300; }
.status-false { background: #fce8e6; color: #8c1d18; }
.status-unsupported { background: #f0ebf8; color: #4a2a7a; }
.status-false { color: #8C1D18; }
"""

SAMPLE_BADGE = {
    "unverified": ("#f1f1f1", "#3d3d3d"),
    "in_review": ("#e8f0fe", "#174ea6"),
    "true": ("#e6f4ea", "#0d5323"),
    "mostly_true": ("#eef7e4", "#2f5111"),
    "mixed": ("#fff4d6", "#5c4300"),
    "misleading": ("#fde9d9", "#7a3300"),
    "false": ("#fce8e6", "#8c1d18"),
    "unsupported": ("#f0ebf8", "#4a2a7a"),
}


def test_the_stylesheet_is_read_past_comments_case_and_selector_lists():
    assert badge_colours(SAMPLE) == SAMPLE_BADGE
    assert _hex("#AbC") == "#aabbcc"


@pytest.mark.parametrize(
    ("status", "colours"),
    [
        ("false", ("#fce8e6", "#8c1d19")),  # the text colour, one step off
        ("mixed", ("#fff4d7", "#5c4300")),  # the background
        ("in_review", ("#5c4300", "#fff4d6")),  # another status's pair
    ],
)
def test_a_copy_that_differs_in_one_colour_fails(status, colours):
    drifted = {**SAMPLE_BADGE, status: colours}

    assert _normalised(drifted) != badge_colours(SAMPLE)


def test_a_stylesheet_that_changed_one_colour_fails():
    changed = SAMPLE.replace("#7a3300", "#7a3301")

    assert _normalised(SAMPLE_BADGE) != badge_colours(changed)


def test_a_status_without_its_rule_is_named():
    with pytest.raises(AssertionError, match=r"no \.status-unsupported rule"):
        badge_colours(SAMPLE.replace(".status-unsupported", ".status-retired"))
