"""Corrections as a reader meets them in a real browser, on a desk and on a phone,
with and without JavaScript: a corrected claim, a withdrawn verdict, the
corrections log and the policy."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from playwright.sync_api import expect

from claims.models import Claim, CorrectionClass
from claims.seeding import load_seed_file
from tests.browser.conftest import SCREENS, fits_the_width, open_page, save_screenshot
from tests.factories import CorrectionFactory, VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "us-50-million-bounty-on-maduro"
STRIKE = "september-2-strike-killed-11"


def _corrected_ledger() -> None:
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    VerdictFactory(
        claim=Claim.objects.get(slug=BOUNTY),
        explanation="The State Department's notice offers **$25 million**.",
    )
    CorrectionFactory(
        claim=BOUNTY,
        correction_class=CorrectionClass.CLARIFICATION,
        reason="We named the office that made the offer, as the notice does.",
        changes={
            "statement": "The United States State Department offers a $50 million reward for "
            "the arrest of Venezuelan President Nicolás Maduro."
        },
    )
    VerdictFactory(
        claim=Claim.objects.get(slug=STRIKE),
        status="mostly_true",
        explanation="The strike was reported by several outlets.",
    )
    CorrectionFactory(
        claim=STRIKE,
        correction_class=CorrectionClass.SUBSTANTIVE,
        reason="Our wording left out that the vessel was said to carry drugs, which is part "
        "of what was claimed; the date was missing.",
        changes={
            "statement": "A US military strike on a vessel said to be carrying drugs in the "
            "Caribbean on September 2 killed 11 people.",
            "claim_date": date(2025, 9, 2),
        },
    )


@pytest.mark.parametrize("screen", SCREENS)
def test_a_reader_finds_corrections_on_the_claim_the_log_and_the_policy(
    browser, live_server, screen
):
    _corrected_ledger()
    with open_page(browser, **SCREENS[screen]) as page:
        page.goto(f"{live_server.url}/claims/{BOUNTY}/")
        corrections = page.locator("section.corrections")
        expect(corrections).to_contain_text("Clarification")
        expect(corrections).to_contain_text("Statement:")
        expect(page.locator("section.ruling")).to_contain_text("Corrected since this verdict")
        # Proofs sit behind each entry's "Verify this record" disclosure, closed at first.
        expect(page.locator("a.proof-link").first).to_be_hidden()
        page.locator("section.history details summary").first.click()
        expect(page.locator("a.proof-link").first).to_be_visible()
        assert fits_the_width(page)
        save_screenshot(page, f"corrections-{screen}-01-claim")

        page.goto(f"{live_server.url}/claims/{STRIKE}/")
        expect(page.locator("section.verdict")).to_contain_text("Verdict withdrawn.")
        expect(page.locator('script[type="application/ld+json"]')).to_have_count(0)
        assert fits_the_width(page)
        save_screenshot(page, f"corrections-{screen}-02-withdrawn")

        with page.expect_navigation():
            page.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Corrections"
            ).click()
        expect(page.locator("h1")).to_have_text("Corrections and verdict changes")
        expect(page.locator("li.change-item")).to_have_count(4)
        expect(page.locator("li.change-item").first).to_contain_text("Substantive correction")
        assert fits_the_width(page)
        save_screenshot(page, f"corrections-{screen}-03-log")

        with page.expect_navigation():
            page.locator("main").get_by_role("link", name="Our corrections policy").click()
        expect(page.locator("h1")).to_have_text("Corrections policy")
        expect(page.locator("main")).to_contain_text("Substantive")
        assert fits_the_width(page)
        save_screenshot(page, f"corrections-{screen}-04-policy")
