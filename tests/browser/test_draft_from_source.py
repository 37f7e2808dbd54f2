"""Drafting a claim from a source in a real browser: the words selected in the archived
text fill the form, and the draft opens on its own page anchored in them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from claims.models import Claim, Quote
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = "That number is wrong."


def test_words_selected_in_the_text_become_the_drafts_quote(
    live_server, page, editor, source, speaker
):
    login(page, live_server, editor.username, "pw")
    page.goto(live_server.url + reverse("admin:sources_source_change", args=[source.pk]))
    with page.expect_navigation():
        page.get_by_role("link", name="Draft a claim from its words").click()

    # Select the words in the archived text as an editor's mouse would.
    page.evaluate(
        """(words) => {
            const text = document.getElementById("draft-snapshot");
            const node = text.firstChild;
            const start = node.textContent.indexOf(words);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            text.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        }""",
        WORDS,
    )
    expect(page.locator("#id_words")).to_have_value(WORDS)

    # The speaker's autocomplete asks the admin; choosing from it is the admin's own
    # widget, tested by Django: the option is set as its search would set it.
    page.evaluate(
        """([id, name]) => {
            const select = document.getElementById("id_speaker");
            select.add(new Option(name, id, true, true));
        }""",
        [str(speaker.pk), speaker.name],
    )
    page.locator("#id_quote_kind").select_option("direct")
    page.locator("#id_kind").select_option("characterization")
    page.locator("#id_statement").fill("Critics said the port's figure is wrong.")
    with page.expect_navigation():
        page.get_by_role("button", name="Draft the claim").click()

    claim = Claim.objects.get()
    assert page.url.endswith(reverse("admin:claims_claim_change", args=[claim.pk]))
    expect(page.locator(".messagelist")).to_contain_text("Draft claim")
    quote = Quote.objects.get()
    assert quote.exact == WORDS and claim.appearances.get().quote == quote
