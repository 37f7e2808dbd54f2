"""The desk's workflow in a real browser: an editor finds a seeded claim and
records a verdict through the claim page; a contributor sees no way to do so
and is refused when trying anyway; the admin index reports the ledger."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from claims.models import Claim, Review
from claims.seeding import load_seed_file
from sources.models import Source
from tests.browser.conftest import login

# live_server needs a transactional database (the conftest's user fixtures
# re-create the roles that its flushes wipe).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNTY = "The United States offers a $50 million reward"
EVIDENCE_TITLE = (
    "US air and naval forces set to deploy to the Southern Caribbean against drug cartels"
)
EXPLANATION = "The State Department's Rewards for Justice offer was raised to $50 million."
SHA256_HEX = re.compile(r"\b[0-9a-f]{64}\b")


def _load_seeds() -> None:
    load_seed_file(settings.SEEDS_DIR / "ledger.yaml")


def _bounty_claim() -> Claim:
    return Claim.objects.get(statement__startswith=BOUNTY)


def _ledger(claim: Claim) -> list[dict]:
    return list(claim.reviews.order_by("sequence").values())


def _open_bounty_claim_from_search(page, live_server, screenshot, name: str) -> None:
    """From anywhere in the admin: Claims, search "50 million", open the bounty claim."""
    page.goto(f"{live_server.url}{reverse('admin:claims_claim_changelist')}")
    expect(page.locator("#result_list")).to_be_visible()
    search = page.locator("#changelist-search")
    search.locator("input[name=q]").fill("50 million")
    with page.expect_navigation():
        search.locator("input[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]q=50\+million"))
    result = page.locator("#result_list tbody tr").filter(has_text=BOUNTY)
    expect(result).to_have_count(1)
    screenshot(page, name)
    with page.expect_navigation():
        result.get_by_role("link", name=re.compile(re.escape(BOUNTY))).click()
    expect(page.locator("#claim_form")).to_be_visible()
    # Published: the words a verdict judges are read-only, changed only by a correction.
    expect(page.locator("#claim_form .field-statement .readonly")).to_contain_text(BOUNTY)


def _verification_status(page):
    """The status badge of the Verification fieldset, opened first if it is collapsed."""
    field = page.locator(".field-status_badge")
    expect(field).to_have_count(1)
    fieldset = page.locator("fieldset").filter(has=field)
    summary = fieldset.locator("summary")
    if summary.count() and not field.is_visible():
        summary.click()
    expect(field).to_be_visible()
    return field.locator(".status-badge")


def test_an_editor_records_a_verdict_from_the_claim_page(live_server, page, screenshot, editor):
    _load_seeds()
    claim = _bounty_claim()
    before = _ledger(claim)

    login(page, live_server, editor.username, "pw", screenshot_as="editor-01-login")
    _open_bounty_claim_from_search(page, live_server, screenshot, "editor-02-search-results")

    section = page.locator("#record-review")
    form = section.locator("form")
    expect(form).to_have_attribute(
        "action", reverse("admin:claims_claim_record_review", args=[claim.pk])
    )
    expect(_verification_status(page)).to_have_text("Not yet verified")
    screenshot(page, "editor-03-claim-before")

    form.locator("select[name=status]").select_option(label="Mostly true")
    form.locator("textarea[name=explanation]").fill(EXPLANATION)

    # The evidence field is select2 (the admin's autocomplete): open it, type, pick.
    evidence = form.locator("select[name=evidence] + .select2-container")
    evidence.locator(".select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill("US air")
    option = page.locator(".select2-results__option", has_text=EVIDENCE_TITLE)
    expect(option).to_have_count(1)
    option.click()
    expect(evidence.locator(".select2-selection__choice")).to_contain_text(EVIDENCE_TITLE)
    form.locator("textarea[name=note]").fill("Checked against the State Department notice.")
    screenshot(page, "editor-04-form-filled")

    with page.expect_navigation():
        form.get_by_role("button", name="Record review").click()

    expect(page).to_have_url(
        re.compile(re.escape(reverse("admin:claims_claim_change", args=[claim.pk])) + "(#.*)?$")
    )
    expect(page.locator(".messagelist .success")).to_contain_text("Recorded ledger entry #")
    first_row = page.locator("#ledger tbody tr").first
    expect(first_row).to_contain_text("Mostly true")
    expect(first_row).to_contain_text(editor.username)
    expect(first_row).to_contain_text(EVIDENCE_TITLE)
    expect(first_row.locator("code")).to_have_text(SHA256_HEX)
    expect(_verification_status(page)).to_contain_text("Mostly true")
    screenshot(page, "editor-05-claim-after")

    after = _ledger(claim)
    new = [entry for entry in after if entry not in before]
    assert len(after) == len(before) + 1
    assert len(new) == 1
    (entry,) = new
    assert entry["action"] == Review.Action.REVIEW
    assert entry["status_after"] == "mostly_true"
    assert entry["editor_id"] == editor.pk
    assert entry["explanation"] == EXPLANATION
    review = Review.objects.get(pk=entry["id"])
    assert list(review.evidence.values_list("title", flat=True)) == [EVIDENCE_TITLE]
    assert first_row.locator("code").inner_text() == review.entry_hash
    claim.refresh_from_db()
    assert claim.status == "mostly_true"


def test_a_contributor_can_neither_see_nor_use_the_verdict_form(
    live_server, page, screenshot, contributor
):
    _load_seeds()
    claim = _bounty_claim()
    before = _ledger(claim)
    version_before = claim.version

    login(page, live_server, contributor.username, "pw")

    # The changelist offers the contributor no verdict or publication action.
    page.goto(f"{live_server.url}{reverse('admin:claims_claim_changelist')}")
    actions = page.locator("#changelist-form select[name=action] option")
    expect(actions.first).to_be_attached()
    labels = [label.strip() for label in actions.all_inner_texts()]
    assert "Assign to me" in labels  # the dropdown is there, with what contributors may do
    assert not [
        label for label in labels if "review" in label.lower() or "publish" in label.lower()
    ]

    _open_bounty_claim_from_search(page, live_server, screenshot, "contributor-01-search-results")
    expect(page.locator("#publication")).to_be_visible()  # the page's desk part rendered
    expect(page.locator("#ledger")).to_be_visible()
    expect(page.locator("#record-review")).to_have_count(0)
    expect(page.locator("input[value='Record review']")).to_have_count(0)
    expect(page.get_by_role("button", name="Record review")).to_have_count(0)
    expect(page.locator("input[value='Publish'], input[value='Unpublish']")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^(Un)?publish$", re.I))).to_have_count(0)
    screenshot(page, "contributor-02-claim")

    # Sending the form anyway, with the page's own CSRF token, is refused.
    token = page.locator("#claim_form input[name=csrfmiddlewaretoken]").input_value()
    cookie = next(c for c in page.context.cookies() if c["name"] == "csrftoken")
    source = Source.objects.get(title=EVIDENCE_TITLE)
    response = page.request.post(
        f"{live_server.url}{reverse('admin:claims_claim_record_review', args=[claim.pk])}",
        form={
            "csrfmiddlewaretoken": token,
            "expected_version": str(claim.version),
            "status": "mostly_true",
            "explanation": EXPLANATION,
            "evidence": str(source.pk),
            "note": "",
            "record_review": "Record review",
        },
        headers={"X-CSRFToken": cookie["value"], "Referer": page.url},
        max_redirects=0,
    )
    assert response.status == 403
    assert "CSRF" not in response.text()  # refused for the role, not for the token

    assert _ledger(claim) == before
    claim.refresh_from_db()
    assert claim.version == version_before
    assert claim.status == "unverified"


def test_the_admin_index_reports_the_verified_ledger(live_server, page, screenshot, editor):
    _load_seeds()
    entries = Review.objects.count()
    assert entries == Claim.objects.count() > 0
    assert Review.objects.filter(action=Review.Action.PUBLISH).count() == entries

    login(page, live_server, editor.username, "pw")

    status = page.locator("#ledger-status")
    expect(status).to_contain_text(f"Ledger verified: {entries} entries")
    screenshot(page, "index-ledger-status")
