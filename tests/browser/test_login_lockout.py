"""The admin's login page after too many failed logins, in a real browser:
it says why the right password is refused and for how long."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _try(page, username: str, password: str) -> None:
    form = page.locator("#login-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Log in").click()


def test_a_locked_out_editor_is_told_why_and_for_how_long(live_server, page, screenshot, editor):
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    for attempt in range(4):
        _try(page, editor.username, f"wrong-{attempt}")
        expect(page.locator(".errornote")).to_contain_text("Please enter the correct username")

    _try(page, editor.username, "wrong-5")
    note = page.locator(".errornote")
    expect(note).to_contain_text("Too many failed logins")
    expect(note).to_contain_text("for the next 15 minutes")
    expect(page.locator("#login-form").get_by_label("Username")).to_have_value(editor.username)
    screenshot(page, "login-lockout")

    _try(page, editor.username, "pw")  # the right password, too late
    expect(page.locator(".errornote")).to_contain_text("Too many failed logins")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    assert not refused
