"""Every kind of page under the Content-Security-Policy, in a real browser.

The reader pages, the admin (login, index, lists, a claim with its desk
forms, the add forms with their widgets' scripts), the API's Swagger UI and
Redoc (drf-spectacular-sidecar, served from the project), the browsable API
and the error pages must work under the policy (SECURE_CSP, and the pages
that have one of their own) with nothing refused: Chromium reports each
refused script, style, image, font, connection or worker as a console error
and as a `securitypolicyviolation` event, and this test fails on either,
naming the page and what was refused.
"""

from __future__ import annotations

import pytest
from django.urls import path
from playwright.sync_api import expect

from claims.models import Claim
from claims.seeding import load_seed_file
from factcheck import urls as project_urls
from tests.browser.conftest import SCREENSHOTS_DIR, VIEWPORT, login, open_page
from tests.factories import VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "/claims/us-50-million-bounty-on-maduro/"

# Refused on purpose, and nothing else: Redoc's bundle fetches its "API docs by Redocly"
# logo from Redocly's CDN, and the pages load nothing from elsewhere (Redoc hides the
# image when it fails).
DELIBERATELY_REFUSED = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)

# Collects the violations each document reports (Playwright's init scripts run in every
# document before its own scripts, whatever its policy).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"}` +
    (event.sample ? ` (${event.sample})` : "")
  );
});
"""


def boom(request):
    raise RuntimeError("A server error, on purpose: the 500 page under the policy.")


# The project's URLs, and one that fails, for the 500 page.
urlpatterns = [path("boom/", boom), *project_urls.urlpatterns]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


class Violations:
    """What the browser refused on each page, from its console and its events."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.console: list[str] = []
        self.found: dict[str, list[str]] = {}
        self.pages = 0
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.console.append(message.text)

    def visit(self, path: str, ready: str = "main, #content", **options: str) -> None:
        self.page.goto(self.base_url + path)
        self.settle(options.pop("label", path), ready, **options)

    def settle(self, label: str, ready: str = "body", *, name: str = "") -> None:
        """Wait for the page to show `ready` and go quiet, then take what it refused."""
        self.pages += 1
        problems = []
        try:
            # Generous: Redoc and Swagger UI build their pages from the whole schema
            # in the browser, which takes seconds on a busy machine.
            expect(self.page.locator(ready).first).to_be_visible(timeout=30_000)
        except AssertionError:
            problems.append(f"nothing matching {ready!r} was shown")
        self.page.wait_for_load_state("networkidle")
        events = self.page.evaluate("window.__cspViolations || []")
        refused = [*self.console, *events]
        self.console.clear()
        problems += [p for p in refused if not any(url in p for url in DELIBERATELY_REFUSED)]
        if problems:
            self.found[label] = problems
        if name:  # what the screen shows (some of these pages are very long)
            SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"))

    def assert_none(self) -> None:
        report = "\n".join(
            f"{label}:\n  " + "\n  ".join(problems) for label, problems in self.found.items()
        )
        assert not self.found, f"Content-Security-Policy violations:\n{report}"


def test_no_page_breaks_the_content_security_policy(browser, live_server, editor, settings):
    settings.ROOT_URLCONF = __name__
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    # A verdict: the claim's page carries ClaimReview JSON-LD, a data block that the
    # policy leaves alone (no nonce needed, none given).
    claim = Claim.objects.get(slug=BOUNTY.split("/")[2])
    VerdictFactory(claim=claim, editor=editor, status="true")
    editor.set_password("pw")
    editor.save()
    with open_page(browser, viewport=VIEWPORT) as page:
        seen = Violations(page, live_server.url)

        # The reader pages, the documents with an inline style, the error pages.
        for path_ in [
            "/",
            "/claims/",
            "/claims/?q=bounty",
            "/speakers/",
            "/speakers/us-government/",
            "/sources/",
            "/sources/trump-hints-at-strikes-on-cartels-in-venezuela/",
            "/topics/",
            "/corrections/",
            "/corrections/policy/",
            "/ledger/format/",
        ]:
            seen.visit(path_)
        seen.visit(BOUNTY)
        assert page.locator('script[type="application/ld+json"]').count() == 1
        seen.visit("/api/guide/")
        # Revalidated (If-None-Match, 304): the stored page keeps the policy its nonce is in.
        page.reload()
        seen.settle("/api/guide/ (reloaded, 304)", "main")
        seen.visit("/no-such-page/")
        seen.visit("/boom/", "main h1", label="the 500 page")
        expect(page.locator("h1")).to_have_text("Something went wrong on our side")
        # Its inline style applied: the page's text is centred in a column.
        assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"

        # The API's documentation and the browsable API, anonymously.
        seen.visit("/api/docs/", ".swagger-ui .info", name="csp-swagger-ui")
        page.locator(".opblock-summary").first.click()
        seen.settle("/api/docs/ (an operation opened)", ".opblock-body")
        seen.visit("/api/redoc/", "[role=menu]", label="/api/redoc/")
        page.get_by_placeholder("Search...").fill("claims")
        seen.settle("/api/redoc/ (searched)", "[data-role='search:results']", name="csp-redoc")
        seen.visit("/api/v1/claims/?format=api", ".response-info")

        # The admin, as an editor: login, index, lists, a claim and its desk forms.
        seen.visit("/admin/login/?next=/admin/", "#login-form", name="csp-admin-login")
        login(page, live_server, editor.username, "pw")
        seen.settle("/admin/ (after logging in)", "#content")
        for path_ in [
            "/admin/claims/claim/",
            "/admin/claims/claim/add/",
            "/admin/sources/source/add/",
            "/admin/claims/quote/add/",
            "/admin/claims/review/",
            f"/admin/claims/claim/{claim.pk}/history/",
        ]:
            seen.visit(path_, "#content")
        seen.visit(f"/admin/claims/claim/{claim.pk}/change/", "#content", name="csp-admin-claim")
        # A correction sent empty: its form again on a page of its own, with the errors.
        with page.expect_navigation():
            page.get_by_role("button", name="Record correction").click()
        seen.settle("the correction's own page", ".errorlist", name="csp-admin-correction")

        # Signed in: the browsable API's forms, and Swagger UI with the session.
        seen.visit("/api/v1/claims/", ".response-info", name="csp-browsable-api")
        seen.visit("/api/docs/", ".swagger-ui .info", label="/api/docs/ (signed in)")

    assert seen.pages >= 30
    seen.assert_none()
