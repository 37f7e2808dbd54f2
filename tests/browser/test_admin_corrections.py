"""An editor corrects a typo in a published, rated claim from its admin page, in a
real browser: the checkable fields are read-only above, the correction goes
through "Correct this claim", and the ledger shows it with the verdict kept."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from claims.models import Claim, Review
from claims.seeding import load_seed_file
from tests.browser.conftest import login
from tests.factories import VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY_SLUG = "us-50-million-bounty-on-maduro"
REASON = "The statement said **$50 milion**; the sources say $50 million."


def test_an_editor_corrects_a_typo_and_the_verdict_stands(live_server, page, screenshot, editor):
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    claim = Claim.objects.get(slug=BOUNTY_SLUG)
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="true",
        explanation="The State Department's notice says so.",
    )
    claim.refresh_from_db()
    original = claim.statement
    corrected = original.replace("reward", "reward,", 1)
    assert corrected != original
    entries_before = Review.objects.count()

    login(page, live_server, editor.username, "pw")
    page.goto(f"{live_server.url}{reverse('admin:claims_claim_change', args=[claim.pk])}")

    # Above: the checkable fields read-only, and why.
    expect(page.locator("#claim_form .field-statement .readonly")).to_have_text(original)
    expect(page.locator("#claim_form textarea[name=statement]")).to_have_count(0)
    expect(page.locator("#locked-note")).to_contain_text("change only through a correction")
    screenshot(page, "correct-01-locked-claim")

    # Below: the correction, prefilled with the claim as it is.
    page.locator("#locked-note").get_by_role("link", name="Correct this claim").click()
    section = page.locator("#correct")
    form = section.locator("form")
    statement = form.get_by_label("Statement")
    expect(statement).to_have_value(original)
    expect(form.locator(".field-speaker .select2-selection__rendered")).to_have_text(
        re.compile(re.escape(claim.speaker.name))
    )
    expect(form.locator("input[name=correction_class]:checked")).to_have_count(0)
    statement.fill(corrected)
    form.get_by_role("radio", name=re.compile(r"^Typo")).check()
    form.get_by_label("Reason").fill(REASON)
    section.scroll_into_view_if_needed()
    screenshot(page, "correct-02-form-filled")

    with page.expect_navigation():
        form.get_by_role("button", name="Record correction").click()

    expect(page.locator(".messagelist .success")).to_contain_text(
        re.compile(r"Recorded ledger entry #\d+: Typo correction\.")
    )
    row = page.locator("#ledger tbody tr").first
    expect(row).to_contain_text("Typo correction")
    expect(row.locator(".change-statement del")).to_have_text(original)
    expect(row.locator(".change-statement ins")).to_have_text(corrected)
    expect(row.locator(".ledger-explanation strong")).to_have_text("$50 milion")
    expect(page.locator("#claim_form .field-statement .readonly")).to_have_text(corrected)
    screenshot(page, "correct-03-ledger-after")

    claim.refresh_from_db()
    assert claim.statement == corrected
    assert claim.status == "true"
    assert Review.objects.count() == entries_before + 1
    entry = Review.objects.latest("sequence")
    assert (entry.action, entry.correction_class, entry.editor) == ("correction", "typo", editor)
    assert entry.changes == {"statement": {"from": original, "to": corrected}}
    assert entry.explanation == REASON
