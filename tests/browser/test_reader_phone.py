"""A claim's page and the claims list on a 360 px phone without JavaScript: the verdict
meter named in words, the quote, the evidence, filters out of the way, and the page's
landmarks, headings and the meter's contrast."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from claims.models import Claim
from claims.seeding import load_seed_file
from sources.models import Source
from tests.browser.conftest import SCREENS, fits_the_width, open_page, save_screenshot
from tests.factories import EditorFactory, VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "/claims/us-50-million-bounty-on-maduro/"
METER_NAME = "Rated Misleading: 2 on a scale from False (1) to True (5)"

# The WCAG 2 contrast ratio of an element's text colour on the first opaque background
# behind it, from the computed styles the browser applied.
CONTRAST = """
(element) => {
  const channels = (css) => css.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  let behind = element;
  let background = [255, 255, 255];
  while (behind) {
    const colour = channels(getComputedStyle(behind).backgroundColor);
    if (colour.length === 3 || colour[3] > 0) {
      background = colour.slice(0, 3);
      break;
    }
    behind = behind.parentElement;
  }
  const text = channels(getComputedStyle(element).color).slice(0, 3);
  const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}
"""


def rate_the_bounty_claim() -> None:
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    claim = Claim.objects.get(slug="us-50-million-bounty-on-maduro")
    editor = EditorFactory(username="dana", first_name="Dana", last_name="Whitfield")
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="misleading",
        explanation="The reward is for information leading to an arrest, not a bounty.",
        evidence=list(Source.objects.order_by("pk")[:1]),
    )


def test_a_claim_on_a_phone_without_javascript(browser, live_server):
    rate_the_bounty_claim()
    evidence = Source.objects.order_by("pk").first()
    with open_page(browser, **SCREENS["phone-nojs"]) as page:
        page.goto(f"{live_server.url}{BOUNTY}")

        meter = page.get_by_role("img", name=METER_NAME)
        expect(meter).to_be_visible()
        expect(page.locator(".verdict-meter-word")).to_have_text("Misleading")
        # The verdict is on the first screen, before anything else the page says.
        assert meter.bounding_box()["y"] + meter.bounding_box()["height"] < 740
        expect(page.locator("#said ~ figure blockquote mark").first).to_be_visible()
        expect(page.locator(".quote-in-context").first).to_contain_text("…")
        ruling = page.locator("section.ruling")
        expect(ruling.get_by_role("link", name=evidence.title)).to_be_visible()
        # The record's hashes wait behind the disclosure.
        expect(page.locator("code.hash").first).to_be_hidden()
        page.locator(".verify-record summary").first.click()
        expect(page.locator("code.hash").first).to_be_visible()
        assert fits_the_width(page)
        save_screenshot(page, "reader-phone-nojs-claim-page")


def test_the_claim_page_passes_basic_accessibility_checks(browser, live_server):
    rate_the_bounty_claim()
    with open_page(browser, **SCREENS["phone-nojs"]) as page:
        page.goto(f"{live_server.url}{BOUNTY}")

        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("contentinfo")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Main")).to_have_count(1)
        expect(page.locator("h1")).to_have_count(1)
        expect(page.get_by_role("img", name=METER_NAME)).to_have_count(1)
        for selector in (".verdict-meter-word", ".verdict-meter-position", ".claim-byline"):
            ratio = page.locator(selector).first.evaluate(CONTRAST)
            assert ratio >= 4.5, (selector, ratio)
        # The number in the rated segment, white on the rating's colour.
        number = page.locator(".verdict-meter-number.is-rated")
        fill = number.evaluate("e => getComputedStyle(e).fill")
        segment = page.locator(".verdict-meter-segment.is-rated").evaluate(
            "e => getComputedStyle(e).fill"
        )
        ratio = page.evaluate(
            """([a, b]) => {
              const lum = (css) => {
                const [r, g, bl] = css.match(/[\\d.]+/g).map(Number).map((c) => {
                  c /= 255;
                  return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
              };
              const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
              return (x + 0.05) / (y + 0.05);
            }""",
            [fill, segment],
        )
        assert ratio >= 4.5, (fill, segment, ratio)


def test_the_list_filters_are_collapsed_on_a_phone(browser, live_server):
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    with open_page(browser, **SCREENS["phone-nojs"]) as page:
        page.goto(f"{live_server.url}/claims/")

        summary = page.locator("details.filters-disclosure > summary")
        expect(summary).to_have_text("Filters")
        expect(page.get_by_label("Speaker’s name")).to_be_hidden()
        # The first claims are on the first screen.
        first = page.locator(".claim-item").first
        assert first.bounding_box()["y"] < 740
        assert fits_the_width(page)
        save_screenshot(page, "reader-phone-nojs-claim-list")

        summary.click()
        expect(page.get_by_label("Speaker’s name")).to_be_visible()
