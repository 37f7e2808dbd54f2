"""Editors write explanations in Markdown; readers get sanitised HTML.

Markdown passes raw HTML through, so its output is cleaned with nh3 (an
allow-list sanitiser) before it is marked safe: no scripts, no event
handlers, no javascript: links, whatever an editor pastes.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "hr",
    "sup",
    "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitise(
    html: str,
    *,
    tags: set[str] = ALLOWED_TAGS,
    attributes: dict[str, set[str]] = ALLOWED_ATTRIBUTES,
    link_rel: str = "nofollow noopener noreferrer",
) -> SafeString:
    """HTML cleaned down to the allow-list (links: http, https and mailto only; every
    link gets `link_rel`), marked safe."""
    clean = nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
        link_rel=link_rel,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


_renderers = threading.local()


def _renderer() -> md.Markdown:
    """This thread's Markdown converter: building one (its extensions, patterns and
    processors) costs far more than converting an explanation; reset() between uses
    leaves nothing of the previous text behind."""
    renderer = getattr(_renderers, "markdown", None)
    if renderer is None:
        renderer = _renderers.markdown = md.Markdown(
            extensions=["sane_lists"], output_format="html"
        )
    return renderer


@lru_cache(maxsize=2048)
def _rendered(text: str) -> str:
    # A str, not the SafeString: the cache never hands out a mutable result.
    return str(sanitise(_renderer().reset().convert(text)))


def render_markdown(text: str) -> SafeString:
    """The text as sanitised HTML; the same text renders once per process (explanations
    repeat across a claim's page, its API detail, its ledger and the feeds)."""
    return mark_safe(_rendered(text or ""))  # noqa: S308 - sanitised by nh3 in _rendered
