"""The possible duplicates' box on a 360 px phone: each likely duplicate is a block, its
way on ("This is it") in view, and the page no wider than the screen."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from claims.models import Claim
from claims.seeding import load_seed_file
from tests.browser.conftest import SCREENS, fits_the_width, login, open_page, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_duplicates_box_fits_a_phone(live_server, browser, editor):
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    bounty = Claim.objects.get(slug="us-50-million-bounty-on-maduro")

    with open_page(browser, **SCREENS["phone"]) as page:
        login(page, live_server, editor.username, "pw")
        page.goto(f"{live_server.url}/admin/claims/claim/add/")
        page.fill("#id_statement", "Washington put a $50 million bounty on Maduro.")
        page.fill("#id_slug", "washington-bounty")
        page.select_option("#id_kind", "numeric")
        # The speaker's autocomplete, answered as the widget would: an option chosen.
        page.evaluate(
            """(pk) => { const s = document.querySelector('#id_speaker');
                         const o = new Option('', pk, true, true); s.appendChild(o); }""",
            str(bounty.speaker_id),
        )
        with page.expect_navigation():
            page.click("input[name=_save]")

        box = page.locator("#possible-duplicates")
        expect(box).to_contain_text(bounty.statement)
        way_on = box.get_by_role("link", name="This is it: add an appearance there")
        expect(way_on).to_be_visible()
        assert way_on.bounding_box()["x"] + way_on.bounding_box()["width"] <= 360
        assert fits_the_width(page)
        save_screenshot(page, "duplicates-box-phone")
