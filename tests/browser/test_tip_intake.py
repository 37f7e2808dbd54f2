"""A reader suggests a claim on a 360 px phone without JavaScript, and the desk finds
it in the admin's queue of reader tips."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from claims.models import Tip
from tests.browser.conftest import SCREENS, fits_the_width, login, open_page, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "The minister said the port handled 12 million tonnes last year."


def test_a_reader_sends_a_tip_without_javascript_and_the_editor_sees_it(
    browser, live_server, page, editor
):
    cache.clear()  # the tip throttle's counters, shared with other tests of this process
    refused: list[str] = []
    with open_page(browser, **SCREENS["phone-nojs"]) as phone:
        phone.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        phone.goto(f"{live_server.url}/")
        with phone.expect_navigation():
            phone.locator("footer").get_by_role("link", name="Suggest a claim").click()
        expect(phone.locator("h1")).to_have_text("Suggest a claim to check")
        # The honeypot is out of sight and out of the tab order.
        expect(phone.locator("#id_website")).not_to_be_in_viewport()
        assert phone.locator("#id_website").get_attribute("tabindex") == "-1"
        assert fits_the_width(phone)
        save_screenshot(phone, "tip-phone-nojs-01-form")

        phone.get_by_label("What was said?").fill(CLAIM)
        phone.get_by_label("Where did you see it? (optional)").fill("Evening news, channel 4")
        phone.get_by_label("Your email (optional)").fill("reader@example.org")
        with phone.expect_navigation():
            phone.get_by_role("button", name="Send the suggestion").click()

        expect(phone).to_have_url(f"{live_server.url}/suggest/thanks/")
        expect(phone.locator("h1")).to_have_text("Thank you")
        assert fits_the_width(phone)
        save_screenshot(phone, "tip-phone-nojs-02-thanks")
    assert not refused
    assert Tip.objects.get().text == CLAIM

    login(page, live_server, editor.username, "pw")
    page.goto(f"{live_server.url}/admin/claims/tipgroup/")
    row = page.locator("#result_list tbody tr").filter(has_text="port handled 12 million")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("New")
    with page.expect_navigation():
        row.locator("th a, td a").first.click()
    expect(page.locator("main, #content").first).to_contain_text("Evening news, channel 4")
    expect(page.locator("main, #content").first).to_contain_text("reader@example.org")
    save_screenshot(page, "tip-desk-01-group")
