"""Filters of the reader pages: a quote in its context, a person's name."""

from __future__ import annotations

import re
from typing import Literal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from claims.languages import desk_language
from claims.models import Quote
from claims.ratings import Rating
from sources.anchoring import CONTEXT_CHARS

register = template.Library()

_SPACE = re.compile(r"\s+")
ELLIPSIS = "…"


def cut_at_words(
    text: str, *, at: Literal["start", "end"], whole: bool = False
) -> tuple[str, bool]:
    """Context cut from a longer text at a fixed length, cut back to whole words.

    `at` is the side where the longer text was cut: "start" for what came before a
    quote (its prefix), "end" for what came after (its suffix). The word the cut fell
    in is left out, since half a word ("…ican drug cartels") reads as another word.
    A paragraph break ends the context: what lies beyond it is another paragraph.
    `whole`: that side is the edge of the document itself, nothing was cut there.

    Returns the words and whether more text lies beyond them on that side (so the
    reader should see an ellipsis there).
    """
    if at == "start":
        if "\n" in text:
            return text.rsplit("\n", 1)[1].lstrip(), False
        if whole or not text:
            return text, False
        if text[0].isspace():
            return text.lstrip(), True
        space = _SPACE.search(text)
        return (text[space.end() :], True) if space else ("", True)
    if "\n" in text:
        return text.split("\n", 1)[0].rstrip(), False
    if whole or not text:
        return text, False
    if text[-1].isspace():
        return text.rstrip(), True
    last_space = None
    for last_space in _SPACE.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return (text[: last_space.start()], True) if last_space else ("", True)


@register.filter
def quote_in_context(quote: Quote, around: str | None = None) -> SafeString:
    """The quote's words marked, between the words around them in its source, each
    side cut at a word boundary, with an ellipsis where the source goes on.

    `around`: the language of the source's text (its `lang` on the page, the page's
    own when it is not known); the words carry their own `lang` when it is another."""
    # The anchor keeps up to CONTEXT_CHARS each side (sources.anchoring): fewer on a
    # side means the snapshot ends there.
    before, more_before = cut_at_words(
        quote.prefix, at="start", whole=len(quote.prefix) == quote.start
    )
    after, more_after = cut_at_words(
        quote.suffix, at="end", whole=len(quote.suffix) < CONTEXT_CHARS
    )
    own = ""
    if around is not None and quote.language != (around or desk_language()):
        own = quote.language
    return format_html(
        "{}{}<mark{}>{}</mark>{}{}",
        ELLIPSIS if more_before else "",
        before,
        format_html(' lang="{}"', own) if own else "",
        quote.exact,
        after,
        ELLIPSIS if more_after else "",
    )


@register.filter
def rating_sentence(rating: Rating) -> str:
    """The rating in one sentence of plain text, for descriptions and share cards."""
    if rating.rating_value is not None:
        return (
            f"Our rating: {rating.label} ({rating.scale_position} on our scale from False to True)."
        )
    if rating.is_verdict:
        return f"Our rating: {rating.label}."
    return f"Not rated yet: {rating.label.lower()}."


@register.filter
def display_name(user) -> str:
    """The name a reader sees for a member of the desk: the full name, else the username."""
    if user is None:
        return ""
    return user.get_full_name().strip() or user.get_username()
