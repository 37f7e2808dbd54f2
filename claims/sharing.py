"""Sharing a claim: its share image, its embeddable verdict card, and oEmbed.

* `/claims/<slug>/share.png` (`claims:share-image`): a 1200x630 PNG drawn with
  Pillow (the size Open Graph and X's large cards crop least), with the short
  statement, who said it, the rating in words, a meter of its place on the
  scale, and the publisher. Fonts come from the font-roboto package, never
  from the system or the network.
* `/claims/<slug>/embed/` (`claims:embed`): a small standalone page of the
  verdict, the one route other sites may frame.
* `/oembed` (`claims:oembed`): the oEmbed 1.0 provider (https://oembed.com)
  for claim pages, answering `rich` with an <iframe> of the card. It resolves
  addresses of this site only, against its own URLconf: it never fetches.

Only published claims are shared; anything else is a 404, as the claim page
is. The image and the card answer conditional GETs from the reader pages'
change stamp (claims.freshness), like every reader page.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from importlib.resources import files
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe
from PIL import Image, ImageDraw, ImageFont

from claims import freshness
from claims.claimreview import absolute_url, publisher_url, site_root
from claims.models import Claim
from claims.ratings import RATINGS, Group, Rating, get_rating
from factcheck.conditional import page_condition

_View = TypeVar("_View", bound=Callable[..., Any])

SHARE_WIDTH, SHARE_HEIGHT = 1200, 630
# Shared caches (a CDN, a platform's crawler) may keep the image and the card this
# long without asking; after that a revalidation is a 304 from one query. Short,
# because a verdict can change or be withdrawn and the share should follow soon.
SHARED_MAX_AGE = 300
# How long an oEmbed consumer may keep the answer: the card it frames is live, so
# only the title and the thumbnail's address age with it.
OEMBED_CACHE_AGE = 3600
# The card's natural size, for oEmbed's `width` and `height`: at 500 pixels wide a
# claim's short form and the meter take 317 pixels in Chromium, and narrower, about
# 0.4 pixel more for each pixel less (the words wrap; the meter shrinks). Past that,
# the card scrolls inside its frame rather than being cut off.
EMBED_WIDTH, EMBED_HEIGHT = 500, 340
EMBED_GROWTH = 0.4


# --- Conditional GET and caching ----------------------------------------------


def _shared_claim_state(request: HttpRequest, slug: str) -> dict | None:
    """None for a draft or no claim, so a conditional GET of a 404 is never a 304.
    The publisher's name is drawn on both, and is a setting, not a row."""
    return freshness.stamp_state_if(
        "SELECT 1 FROM claims_claim WHERE slug = %s AND published_at IS NOT NULL",
        [slug],
        {"slug": slug, "publisher": settings.PUBLISHER_NAME},
    )


# The site's policy, but any page may frame the card. Its styles and scripts stay
# under the site's rule: files of ours only.
EMBED_CSP = {**cast(dict[str, list[str]], settings.SECURE_CSP), "frame-ancestors": ["*"]}


def _shared(markup_version: str, *, frameable: bool = False) -> Callable[[_View], _View]:
    """page_condition() and shared caching for a claim's share image or card; with
    `frameable`, any site may frame it.

    The anonymous 304 (factcheck.conditional) is answered before the rest of the
    stack, so it gets here what the 200 has: the same Cache-Control (a cache
    refreshes its stored headers from a 304) and, for a frameable view, no
    X-Frame-Options: the middleware adds the site's DENY, which the browser would
    merge into the stored card and then refuse to show it in a frame.
    """

    def decorator(view: _View) -> _View:
        conditional: Any = cache_control(public=True, max_age=SHARED_MAX_AGE)(
            page_condition(markup_version, _shared_claim_state)(view)
        )
        shortcut = conditional.anonymous_not_modified

        @wraps(shortcut)
        def anonymous_not_modified(request: HttpRequest, *args: Any, **kwargs: Any):
            response = shortcut(request, *args, **kwargs)
            if response is not None:
                patch_cache_control(response, public=True, max_age=SHARED_MAX_AGE)
                if frameable:
                    del response["X-Frame-Options"]
            return response

        if frameable:
            conditional = xframe_options_exempt(csp_override(EMBED_CSP)(conditional))
        conditional.anonymous_not_modified = anonymous_not_modified
        return conditional

    return decorator


# --- The share image ---------------------------------------------------------

_FONTS = files("font_roboto") / "files"
_MARGIN = 64
_TEXT_WIDTH = SHARE_WIDTH - 2 * _MARGIN
_INK = (29, 29, 31)  # the site's --text
_MUTED = (85, 85, 85)  # the site's --muted: 7.5:1 on white
_PAPER = (255, 255, 255)
_OFF_SCALE = (226, 226, 230)

# Each status's badge colours, as claims/static/claims/status.css has them (pairs
# that meet WCAG AA for text), so the image reads like the page it links to.
_BADGE: dict[str, tuple[str, str]] = {
    "unverified": ("#f1f1f1", "#3d3d3d"),
    "in_review": ("#e8f0fe", "#174ea6"),
    "true": ("#e6f4ea", "#0d5323"),
    "mostly_true": ("#eef7e4", "#2f5111"),
    "mixed": ("#fff4d6", "#5c4300"),
    "misleading": ("#fde9d9", "#7a3300"),
    "false": ("#fce8e6", "#8c1d18"),
    "unsupported": ("#f0ebf8", "#4a2a7a"),
}
# The meter's positions, worst to best, as the scale orders them.
_SCALE = sorted((r for r in RATINGS if r.group is Group.SCALE), key=lambda r: r.rating_value or 0)
# The statement takes the largest of these sizes at which it fits whole.
_STATEMENT_SIZES = (56, 48, 40)
# The statement's box, and the meter's top, below the speaker's line.
_STATEMENT_TOP, _STATEMENT_BOTTOM = 196, 432
_METER_TOP = 516
_ELLIPSIS = "\u2026"


@lru_cache(maxsize=16)
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    """Loaded once per process: parsing the face costs more than drawing with it.
    BASIC layout: no Raqm shaping, which Latin text does not need and costs time."""
    with (_FONTS / f"Roboto-{weight}.ttf").open("rb") as face:
        return ImageFont.truetype(
            io.BytesIO(face.read()), size, layout_engine=ImageFont.Layout.BASIC
        )


def _fit_prefix(word: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    """How many of the word's first characters fit in `width` (at least one, so a
    glyph wider than the line still makes progress)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The line cut to end with an ellipsis within `width`."""
    room = width - font.getlength(_ELLIPSIS)
    line = line.rstrip()
    if not line or font.getlength(line[:1]) > room:
        return _ELLIPSIS
    return line[: _fit_prefix(line, font, room)].rstrip(" ,;:.-\u2013\u2014") + _ELLIPSIS


def one_line(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """`text` whole if it fits in `width`, else cut with an ellipsis: a name, not a
    paragraph, so a long word is cut where the line ends rather than dropped."""
    return text if font.getlength(text) <= width else _ellipsize(text, font, width)


def wrap_text(
    text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int
) -> tuple[list[str], bool]:
    """`text` in lines no wider than `width`, at most `max_lines`, and whether it was
    cut (the last line then ends in an ellipsis). A word longer than a line (a URL,
    a hashtag) is broken where it must be, never drawn past the edge."""
    lines: list[str] = []
    current, current_width = "", 0.0
    # Each word is measured once and a line's width is their sum: measuring the
    # growing line again at each word was most of the time spent laying out.
    space = font.getlength(" ")
    for word in text.split():
        word_width = font.getlength(word)
        candidate_width = current_width + space + word_width if current else word_width
        if candidate_width <= width:
            current = f"{current} {word}" if current else word
            current_width = candidate_width
            continue
        if current:
            lines.append(current)
        while word_width > width:
            cut = _fit_prefix(word, font, width)
            lines.append(word[:cut])
            word = word[cut:]
            word_width = font.getlength(word)
        current, current_width = word, word_width
        if len(lines) >= max_lines:
            # Words are left over: no need to lay out the rest of a long text.
            break
    else:
        if current:
            lines.append(current)
        if len(lines) <= max_lines:
            return lines, False
    lines = lines[:max_lines]
    lines[-1] = _ellipsize(lines[-1], font, width)
    return lines, True


@dataclass(frozen=True)
class ShareCard:
    """What the image shows: everything that changes it, and nothing else."""

    statement: str
    speaker: str
    status: str
    publisher: str

    @property
    def digest(self) -> str:
        payload = "\x1f".join(
            ["share-image-1", self.statement, self.speaker, self.status, self.publisher]
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def _statement_lines(statement: str) -> tuple[ImageFont.FreeTypeFont, int, list[str]]:
    """The largest size at which the whole statement fits its box, else the smallest,
    cut with an ellipsis."""
    box = _STATEMENT_BOTTOM - _STATEMENT_TOP
    for size in _STATEMENT_SIZES:
        font = _font("Bold", size)
        line_height = round(size * 1.2)
        max_lines = box // line_height
        lines, cut = wrap_text(statement, font, _TEXT_WIDTH, max_lines)
        if not cut or size == _STATEMENT_SIZES[-1]:
            return font, line_height, lines
    raise AssertionError("unreachable: the smallest size always returns")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def _blend(light: str, dark: str, share: float) -> tuple[int, int, int]:
    """`share` of the dark colour over the light one."""
    return tuple(  # type: ignore[return-value]
        round(a + (b - a) * share) for a, b in zip(_rgb(light), _rgb(dark), strict=True)
    )


def _draw_meter(draw: ImageDraw.ImageDraw, rating: Rating, top: int) -> None:
    """Five segments, False to True, as the page's meter (claims/_verdict_meter.html)
    draws them: the claim's one filled in its colour, pointed at, and its label in
    bold, so the position is drawn and written, never told by colour alone. A
    status off the scale greys every segment and says why over them."""
    gap = 10
    height = 28
    width = (_TEXT_WIDTH - gap * (len(_SCALE) - 1)) / len(_SCALE)
    on_scale = rating.rating_value is not None
    for position, step in enumerate(_SCALE):
        left = _MARGIN + position * (width + gap)
        box = (round(left), top, round(left + width), top + height)
        tint, ink = _BADGE[step.value]
        current = step.value == rating.value
        if current:
            draw.rounded_rectangle(box, radius=6, fill=ink)
            middle = left + width / 2
            draw.polygon(
                [(middle - 14, top - 22), (middle + 14, top - 22), (middle, top - 6)], fill=ink
            )
        elif on_scale:
            draw.rounded_rectangle(box, radius=6, fill=_blend(tint, ink, 0.3))
        else:
            draw.rounded_rectangle(box, radius=6, fill=_OFF_SCALE)
        label_font = _font("Bold" if current else "Regular", 24)
        label = one_line(step.label, label_font, width)
        draw.text(
            (left + width / 2, top + height + 14),
            label,
            font=label_font,
            fill=_INK if current else _MUTED,
            anchor="ma",
        )
    if not on_scale:
        note_font = _font("Medium", 22)
        note = "Off this scale" if rating.is_verdict else "Not rated yet"
        note_width = note_font.getlength(note) + 40
        centre = SHARE_WIDTH / 2
        draw.rounded_rectangle(
            (centre - note_width / 2, top - 4, centre + note_width / 2, top + height + 4),
            radius=(height + 8) // 2,
            fill=_PAPER,
            outline=_MUTED,
            width=2,
        )
        draw.text((centre, top + height / 2), note, font=note_font, fill=_INK, anchor="mm")


def _scale_words(rating: Rating) -> str:
    if rating.scale_position:
        return f"{rating.scale_position} on the scale from False to True"
    if rating.is_verdict:
        return "A finding off the true\u2013false scale"
    return "No verdict yet"


def render_share_image(card: ShareCard) -> bytes:
    """The card as PNG bytes, 1200x630."""
    rating = get_rating(card.status)
    tint, ink = _BADGE[rating.value]
    image = Image.new("RGB", (SHARE_WIDTH, SHARE_HEIGHT), _PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SHARE_WIDTH, 12), fill=ink)

    # The publisher, and what this is.
    heading = _font("Medium", 30)
    kind = _font("Regular", 28)
    kind_text = "Fact check"
    kind_width = kind.getlength(kind_text)
    publisher = one_line(card.publisher, heading, _TEXT_WIDTH - kind_width - 32)
    draw.text((_MARGIN, 48), publisher, font=heading, fill=_INK)
    draw.text((SHARE_WIDTH - _MARGIN - kind_width, 50), kind_text, font=kind, fill=_MUTED)

    # The rating in words, in its badge's colours, and its place on the scale.
    badge_font = _font("Bold", 40)
    label = one_line(rating.label, badge_font, _TEXT_WIDTH // 2)
    label_width = badge_font.getlength(label)
    badge = (_MARGIN, 110, round(_MARGIN + label_width + 48), 170)
    draw.rounded_rectangle(badge, radius=30, fill=tint, outline=ink, width=3)
    draw.text(
        ((badge[0] + badge[2]) / 2, (badge[1] + badge[3]) / 2),
        label,
        font=badge_font,
        fill=ink,
        anchor="mm",
    )
    scale_font = _font("Regular", 28)
    scale_left = badge[2] + 24
    scale = one_line(_scale_words(rating), scale_font, SHARE_WIDTH - _MARGIN - scale_left)
    draw.text((scale_left, 140), scale, font=scale_font, fill=_MUTED, anchor="lm")

    # The claim, then who said it right under its last line: a short claim sits a
    # little lower, so it does not leave the meter alone at the bottom.
    font, line_height, lines = _statement_lines(card.statement)
    said_font = _font("Regular", 30)
    said = one_line(f"Said by {card.speaker}", said_font, _TEXT_WIDTH)
    block = len(lines) * line_height + 12 + 36
    y = _STATEMENT_TOP + max(0, (_STATEMENT_BOTTOM + 48 - _STATEMENT_TOP - block) // 3)
    for line in lines:
        draw.text((_MARGIN, y), line, font=font, fill=_INK)
        y += line_height
    draw.text((_MARGIN, y + 12), said, font=said_font, fill=_MUTED)

    _draw_meter(draw, rating, _METER_TOP)

    out = io.BytesIO()
    # A few flat colours and their anti-aliased edges fit a 256-colour palette with
    # no visible loss: a third of the bytes, and faster to compress than RGB.
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG")
    return out.getvalue()


def share_image_bytes(card: ShareCard) -> bytes:
    """The rendered image, kept in the cache by what it shows: any write bumps the
    change stamp, but only a change to this claim's words, speaker or status (or the
    publisher's name) draws a new one."""
    key = f"share-image:{card.digest}"
    image = cache.get(key)
    if image is None:
        image = render_share_image(card)
        cache.set(key, image, timeout=24 * 3600)
    return image


@require_safe
@_shared("share-image-1")
def share_image(request: HttpRequest, slug: str) -> HttpResponse:
    claim = get_object_or_404(
        Claim.objects.published()
        .select_related("speaker")
        .only("slug", "statement", "short_form", "status", "speaker__name"),
        slug=slug,
    )
    card = ShareCard(
        statement=claim.short_statement,
        speaker=claim.speaker.name,
        status=claim.status,
        publisher=settings.PUBLISHER_NAME,
    )
    return HttpResponse(share_image_bytes(card), content_type="image/png")


# --- The embeddable verdict card ----------------------------------------------


@require_safe
@_shared("embed-1", frameable=True)
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    claim = get_object_or_404(
        Claim.objects.published()
        .select_related("speaker")
        .only("slug", "statement", "short_form", "status", "speaker__name"),
        slug=slug,
    )
    return render(
        request,
        "claims/embed_card.html",
        {"claim": claim, "rating": get_rating(claim.status)},
    )


# --- oEmbed --------------------------------------------------------------------


class _BadRequest(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _dimension(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(name, f"{name} must be a whole number of pixels.") from None
    if value < 1:
        raise _BadRequest(name, f"{name} must be at least 1.")
    return value


def _claim_slug(url: str, request: HttpRequest) -> str | None:
    """The slug of the claim page `url` names on this site, by resolving its path
    against our own URLconf; None for any other address. Nothing is fetched."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    ours = urlsplit(site_root(request))
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != ours.netloc.lower():
        return None
    prefix = ours.path.rstrip("/")
    if not parts.path.startswith(prefix + "/"):
        return None
    try:
        match = resolve(parts.path[len(prefix) :])
    except Resolver404:
        return None
    if match.view_name not in ("claims:detail", "claims:embed"):
        return None
    return match.kwargs["slug"]


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    """An error in the shape the API's errors have."""
    fields = {field: [message]} if field else {}
    body = {"error": {"status": status, "code": code, "message": message, "fields": fields}}
    return JsonResponse(body, status=status)


@require_safe
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed for a claim page: `url` (required), `format` (json; xml is 501, as
    the spec allows), `maxwidth`, `maxheight`."""
    response_format = request.GET.get("format", "json").strip().lower() or "json"
    if response_format != "json":
        return _error(501, "not_implemented", "Only format=json is provided.")
    url = request.GET.get("url", "").strip()
    if not url:
        return _error(400, "invalid", "The url parameter is required.", "url")
    try:
        max_width = _dimension(request, "maxwidth")
        max_height = _dimension(request, "maxheight")
    except _BadRequest as error:
        return _error(400, "invalid", str(error), error.field)
    slug = _claim_slug(url, request)
    claim = (
        Claim.objects.published()
        .select_related("speaker")
        .only("slug", "statement", "short_form", "status", "version", "speaker__name")
        .filter(slug=slug)
        .first()
        if slug is not None
        else None
    )
    if claim is None:
        return _error(404, "not_found", "Not a published claim page of this site.")

    width = min(EMBED_WIDTH, max_width or EMBED_WIDTH)
    height = EMBED_HEIGHT + math.ceil((EMBED_WIDTH - width) * EMBED_GROWTH)
    height = min(height, max_height or height)
    title = f"{claim.short_statement} \u2013 {get_rating(claim.status).label}"
    embed_url = absolute_url(reverse("claims:embed", kwargs={"slug": claim.slug}), request)
    html = format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy"'
        ' style="border:0;max-width:100%"></iframe>',
        embed_url,
        width,
        height,
        f"Fact check: {title}",
    )
    data: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "author_name": settings.PUBLISHER_NAME,
        "author_url": publisher_url(request),
        "provider_name": settings.PUBLISHER_NAME,
        "provider_url": site_root(request) + "/",
        "cache_age": OEMBED_CACHE_AGE,
        "html": str(html),
        "width": width,
        "height": height,
    }
    # The spec: a thumbnail must respect maxwidth and maxheight too. There is one
    # size of it, so it is left out when it would not fit.
    if (max_width or SHARE_WIDTH) >= SHARE_WIDTH and (max_height or SHARE_HEIGHT) >= SHARE_HEIGHT:
        data.update(
            # Versioned as the page's og:image is (templates/claims/_share_meta.html).
            thumbnail_url=absolute_url(
                reverse("claims:share-image", kwargs={"slug": claim.slug}), request
            )
            + f"?v={claim.version}",
            thumbnail_width=SHARE_WIDTH,
            thumbnail_height=SHARE_HEIGHT,
        )
    response = JsonResponse(data)
    response["Cache-Control"] = f"public, max-age={OEMBED_CACHE_AGE}"
    return response
