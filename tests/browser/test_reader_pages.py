"""A reader's path in a real browser, on a desk and on a phone, with and
without JavaScript: home, search, a claim, its speaker, its source."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from claims.seeding import load_seed_file
from tests.browser.conftest import TIMEOUT_MS, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "/claims/us-50-million-bounty-on-maduro/"
SPEAKER = "/speakers/us-government/"
SOURCE = "/sources/trump-hints-at-strikes-on-cartels-in-venezuela/"

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "java_script_enabled": True},
    "phone": {"viewport": {"width": 360, "height": 740}, "java_script_enabled": True},
    "phone-nojs": {"viewport": {"width": 360, "height": 740}, "java_script_enabled": False},
}


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_reader_searches_opens_a_claim_and_follows_its_speaker_and_source(
    browser, live_server, screen
):
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    context = browser.new_context(**SCREENS[screen])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        expect(page.locator("h1")).to_have_count(1)
        assert _fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-01-home")

        search = page.get_by_role("search").get_by_label("Search claims")
        search.fill("bounty")
        with page.expect_navigation():
            search.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/claims/?q=bounty")
        first_result = page.locator(f'main a[href="{BOUNTY}"]').first
        expect(first_result).to_be_visible()
        expect(page.locator("main mark").first).to_contain_text("bounty")
        save_screenshot(page, f"reader-{screen}-02-search")

        with page.expect_navigation():
            first_result.click()
        expect(page.locator("h1")).to_contain_text("$50 million")
        expect(page.locator("main")).to_contain_text("Not yet verified")
        assert _fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-03-claim")

        with page.expect_navigation():
            page.locator(f'main a[href="{SPEAKER}"]').first.click()
        expect(page.locator("h1")).to_contain_text("United States Government")
        expect(page.locator("main svg[role='img']")).to_have_count(1)
        assert _fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-04-speaker")

        page.goto(f"{live_server.url}{BOUNTY}")
        with page.expect_navigation():
            page.locator(f'main a[href^="{SOURCE}"]').first.click()
        expect(page.locator("h1")).to_contain_text("Trump hints at expanded military operations")
        expect(page.locator("main mark[id^='quote-']").first).to_be_visible()
        assert _fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-05-source")
    finally:
        context.close()
