"""Browser tests: a real Chromium drives the Django admin through Playwright.

Run them alone with ``pytest tests/browser`` or select them with ``-m browser``
(registered in pyproject.toml; ``make pytest FAST=1`` leaves them out).
They need Debian's Chromium at /usr/bin/chromium (Playwright's own browser
download is not used).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# Playwright's sync API runs an asyncio event loop in the test's own thread.
# Django sees that running loop and refuses ORM calls made from the same
# thread (SynchronousOnlyOperation), although they are plain synchronous code
# here: the loop only waits on the browser. Tests must read and write the
# database around the page, so we tell Django this thread is safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS_DIR = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# Generous for a cold first page (static files, the embedded database), short
# enough that a missing element fails the test instead of hanging it.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}; install it with "
            "`apt-get install -y chromium` (Playwright's own browser download is not used).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def java_script_enabled() -> bool:
    """Override (or parametrize indirectly) to load pages without JavaScript."""
    return True


@contextmanager
def open_page(browser, **options: Any) -> Iterator:
    """A fresh browser context (no cookies shared between tests) made with `options`
    (Playwright's new_context: viewport, java_script_enabled...), and its page; the
    context is closed after."""
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser, java_script_enabled):
    """A fresh browser context (no cookies shared between tests) and its page."""
    with open_page(browser, viewport=VIEWPORT, java_script_enabled=java_script_enabled) as page:
        yield page


# The screens a reader's path is walked on (new_context options): a desk, a phone, a
# phone without JavaScript.
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "java_script_enabled": True},
    "phone": {"viewport": {"width": 360, "height": 740}, "java_script_enabled": True},
    "phone-nojs": {"viewport": {"width": 360, "height": 740}, "java_script_enabled": False},
}


def fits_the_width(page) -> bool:
    """No horizontal scrolling: the page is no wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG in artifacts/screenshots/<name>.png; returns its path."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    return save_screenshot


def login(page, live_server, username: str, password: str, *, screenshot_as: str = "") -> None:
    """Log in through the admin's own login form; returns on the admin index.

    With `screenshot_as`, the filled-in form is saved under that name before it is sent.
    """
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    form = page.locator("#login-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    if screenshot_as:
        save_screenshot(page, screenshot_as)
    with page.expect_navigation():
        form.get_by_role("button", name="Log in").click()
    errors = page.locator(".errornote")
    if errors.count():
        pytest.fail(f"Login as {username!r} refused: {errors.first.inner_text()}", pytrace=False)
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text(username)
