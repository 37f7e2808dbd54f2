"""A reader's path in a real browser, on a desk and on a phone, with and
without JavaScript: home, search, a claim, its speaker, its source."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from claims.seeding import load_seed_file
from tests.browser.conftest import SCREENS, fits_the_width, open_page, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "/claims/us-50-million-bounty-on-maduro/"
SPEAKER = "/speakers/us-government/"
SOURCE = "/sources/trump-hints-at-strikes-on-cartels-in-venezuela/"


@pytest.mark.parametrize("screen", SCREENS)
def test_a_reader_searches_opens_a_claim_and_follows_its_speaker_and_source(
    browser, live_server, screen
):
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    with open_page(browser, **SCREENS[screen]) as page:
        page.goto(f"{live_server.url}/")
        expect(page.locator("h1")).to_have_count(1)
        assert fits_the_width(page)
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
        assert fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-03-claim")

        with page.expect_navigation():
            page.locator(f'main a[href="{SPEAKER}"]').first.click()
        expect(page.locator("h1")).to_contain_text("United States Government")
        expect(page.locator("main svg[role='img']")).to_have_count(1)
        assert fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-04-speaker")

        page.goto(f"{live_server.url}{BOUNTY}")
        with page.expect_navigation():
            page.locator(f'main a[href^="{SOURCE}"]').first.click()
        expect(page.locator("h1")).to_contain_text("Trump hints at expanded military operations")
        expect(page.locator("main mark[id^='quote-']").first).to_be_visible()
        assert fits_the_width(page)
        save_screenshot(page, f"reader-{screen}-05-source")
