"""An editor's day in a real browser, with the desk's evidence rule on (the default):
log in, pick a claim from the dashboard's queue, preview the explanation, add the
evidence in place, record the verdict, read the message, and find the verdict
live on the public claim page."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as project_settings
from django.urls import reverse
from playwright.sync_api import expect

from claims.models import Claim, Review
from claims.seeding import load_seed_file
from sources.models import Source
from tests.browser.conftest import login, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPLANATION = "The figure in the **State Department notice** is lower than the claim says."
SOURCE_TITLE = "State Department notice, archived by the desk"
SOURCE_URL = "https://www.state.gov/example-notice"
SOURCE_TEXT = "Notice. The reward offered is stated in full in this archived text.\n"


def test_an_editors_day(live_server, page, screenshot, editor, settings):
    settings.REQUIRE_VERDICT_EVIDENCE = True
    load_seed_file(project_settings.SEEDS_DIR / "ledger.yaml")

    login(page, live_server, editor.username, "pw")

    # The dashboard's queue: the seeded claims are open and nobody holds them.
    queue = page.locator("#queue-unassigned")
    expect(queue).to_be_visible()
    expect(queue.locator(".desk-count")).to_have_text(str(Claim.objects.count()))
    screenshot(page, "editor-day-01-dashboard")
    first = queue.locator("ol li a").first
    href = first.get_attribute("href")
    claim = Claim.objects.get(pk=int(re.search(r"/claim/(\d+)/change/", href)[1]))
    with page.expect_navigation():
        first.click()

    # The review screen, first on the page.
    form = page.locator("#review-form")
    expect(form).to_be_visible()
    expect(form).to_be_in_viewport()
    expect(page.locator(".review-sources")).to_be_visible()
    form.locator("select[name=status]").select_option(label="Mostly true")
    form.locator("textarea[name=explanation]").fill(EXPLANATION)
    page.locator("#new-source summary").click()
    form.locator("input[name='new_source-title']").fill(SOURCE_TITLE)
    form.locator("input[name='new_source-url']").fill(SOURCE_URL)
    form.locator("textarea[name='new_source-snapshot']").fill(SOURCE_TEXT)

    # Preview: the explanation rendered, nothing recorded, the typing kept.
    with page.expect_navigation():
        form.get_by_role("button", name="Preview").click()
    expect(page.locator("#review-preview strong")).to_have_text("State Department notice")
    assert not Review.objects.filter(claim=claim, action=Review.Action.REVIEW).exists()
    assert not Source.objects.filter(url=SOURCE_URL).exists()
    expect(form.locator("input[name='new_source-title']")).to_have_value(SOURCE_TITLE)
    screenshot(page, "editor-day-02-preview")

    with page.expect_navigation():
        form.get_by_role("button", name="Record review").click()

    message = page.locator(".messagelist .success")
    expect(message).to_contain_text("Recorded ledger entry #")
    expect(message).to_contain_text(SOURCE_TITLE)
    expect(message).to_be_in_viewport()
    screenshot(page, "editor-day-03-recorded")
    entry = Review.objects.filter(claim=claim).latest("sequence")
    assert entry.status_after == "mostly_true"
    assert list(entry.evidence.values_list("url", flat=True)) == [SOURCE_URL]

    # Live for readers.
    page.goto(f"{live_server.url}{reverse('claims:detail', args=[claim.slug])}")
    expect(page.locator("main")).to_contain_text("Mostly true")
    expect(page.locator("ul.evidence")).to_contain_text(SOURCE_TITLE)
    screenshot(page, "editor-day-04-public")


def test_a_verdict_signed_off_by_a_second_editor(
    live_server, browser, page, screenshot, editor, second_editor, settings
):
    """With the desk's sign-off on: the first editor proposes (evidence added in
    place), the second finds it in the dashboard's queue and approves it, and only
    then is the verdict live, naming both."""
    settings.REQUIRE_VERDICT_EVIDENCE = True
    settings.VERDICT_SIGN_OFF = True
    load_seed_file(project_settings.SEEDS_DIR / "ledger.yaml")
    claim = Claim.objects.published().order_by("pk").first()
    entries_before = Review.objects.filter(claim=claim).count()

    login(page, live_server, editor.username, "pw")
    page.goto(f"{live_server.url}{reverse('admin:claims_claim_change', args=[claim.pk])}")
    form = page.locator("#review-form")
    form.locator("select[name=status]").select_option(label="Mostly true")
    form.locator("textarea[name=explanation]").fill(EXPLANATION)
    page.locator("#new-source summary").click()
    form.locator("input[name='new_source-title']").fill(SOURCE_TITLE)
    form.locator("input[name='new_source-url']").fill(SOURCE_URL)
    form.locator("textarea[name='new_source-snapshot']").fill(SOURCE_TEXT)
    with page.expect_navigation():
        form.get_by_role("button", name="Propose for approval").click()

    expect(page.locator(".messagelist .success")).to_contain_text("second editor's approval")
    waiting = page.locator("#pending-proposal")
    expect(waiting).to_contain_text("Waiting for a second editor")
    expect(waiting.get_by_role("button", name="Approve and record the verdict")).to_have_count(0)
    screenshot(page, "sign-off-01-proposed")
    assert Review.objects.filter(claim=claim).count() == entries_before
    public = f"{live_server.url}{reverse('claims:detail', args=[claim.slug])}"

    # The second editor, in a browser of their own.
    with open_page(browser, viewport={"width": 1280, "height": 900}) as second:
        login(second, live_server, second_editor.username, "pw")
        queue = second.locator("#queue-awaiting_approval")
        expect(queue.locator(".desk-count")).to_have_text("1")
        with second.expect_navigation():
            queue.locator("ol li a").first.click()
        panel = second.locator("#pending-proposal")
        expect(panel).to_be_in_viewport()
        expect(panel).to_contain_text(SOURCE_TITLE)
        screenshot(second, "sign-off-02-to-approve")
        with second.expect_navigation():
            panel.get_by_role("button", name="Approve and record the verdict").click()
        expect(second.locator(".messagelist .success")).to_contain_text("approved by you")
        expect(second.locator("#pending-proposal")).to_have_count(0)
        screenshot(second, "sign-off-03-approved")

    entry = Review.objects.filter(claim=claim).latest("sequence")
    assert (entry.editor, entry.approved_by, entry.status_after) == (
        editor,
        second_editor,
        "mostly_true",
    )
    page.goto(public)
    expect(page.locator("main")).to_contain_text("Mostly true")
    expect(page.locator("ul.evidence")).to_contain_text(SOURCE_TITLE)
    expect(page.locator("main")).to_contain_text("approved by")
    screenshot(page, "sign-off-04-public")
