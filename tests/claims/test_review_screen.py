"""The claim page's review screen: the verdict form first, a preview that records
nothing, evidence added in place (atomically), the claim's sources beside the
form, the message after recording, errors inside the admin layout; and the
claim form's message for a statement over the limit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import STATEMENT_MAX, Claim, Review
from claims.templatetags.reader import quote_in_context
from sources.models import Source
from tests.factories import AppearanceFactory, QuoteFactory, VerdictFactory

NEW_TEXT = "The port authority's 2024 report: 9.1 million tonnes handled.\nPage 4."


def _change_url(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def _review_url(claim):
    return reverse("admin:claims_claim_record_review", args=[claim.pk])


def _verdict(claim, **overrides):
    return {
        "status": "false",
        "explanation": "The annual report gives **9.1 million tonnes**.",
        "note": "",
        "expected_version": claim.version,
        "expected_etag": claim.etag,
        **overrides,
    }


def _new_source(**overrides):
    return {
        "new_source-title": "Port authority annual report 2024",
        "new_source-url": "https://port.example.org/report-2024",
        "new_source-outlet": "Port authority",
        "new_source-kind": "report",
        "new_source-snapshot": NEW_TEXT,
        **overrides,
    }


def _in_the_admin_layout(html: str) -> bool:
    return all(
        marker in html
        for marker in (
            'id="header"',
            'class="breadcrumbs"',
            'id="claim_form"',
            'id="record-review"',
        )
    )


def test_the_verdict_form_comes_first_with_the_claims_sources_beside_it(
    client_for, editor, claim, source
):
    quote = QuoteFactory(source=source, speaker=claim.speaker, words="12 million tonnes")
    AppearanceFactory(claim=claim, quote=quote)

    html = client_for(editor).get(_change_url(claim)).content.decode()

    assert html.index('id="record-review"') < html.index('id="claim_form"')
    sources = html[html.index('class="review-sources"') :]
    assert "Port article" in sources
    assert "<mark>12 million tonnes</mark>" in sources
    # The words around the quote as readers see them: cut at word boundaries.
    assert str(quote_in_context(quote)) in sources
    assert f'name="cite" value="{source.pk}"' in sources
    assert 'name="preview"' in html
    assert 'name="new_source-snapshot"' in html and 'enctype="multipart/form-data"' in html


def test_preview_renders_the_markdown_escaped_and_records_nothing(client_for, editor, claim):
    explanation = "The report says **9.1 million**. <script>alert('x')</script>"

    response = client_for(editor).post(
        _review_url(claim), {**_verdict(claim, explanation=explanation), "preview": "Preview"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _in_the_admin_layout(html)
    preview = html[html.index('id="review-preview"') :]
    preview = preview[: preview.index("</div>")]
    assert "<strong>9.1 million</strong>" in preview
    assert "<script>" not in preview
    assert "alert" not in preview or "&lt;script&gt;" in preview
    # The form keeps what was typed, and nothing is recorded.
    assert "The report says **9.1 million**." in html
    assert not Review.objects.exists()
    assert Claim.objects.get(pk=claim.pk).version == claim.version


def test_preview_keeps_a_new_source_unsaved(client_for, editor, claim):
    response = client_for(editor).post(
        _review_url(claim), {**_verdict(claim), **_new_source(), "preview": "Preview"}
    )

    assert response.status_code == 200
    assert not Source.objects.filter(url="https://port.example.org/report-2024").exists()
    assert "port.example.org/report-2024" in response.content.decode()


def test_a_source_added_in_place_is_created_and_cited(client_for, editor, claim):
    response = client_for(editor).post(_review_url(claim), {**_verdict(claim), **_new_source()})

    assert response.status_code == 302
    source = Source.objects.get(url="https://port.example.org/report-2024")
    assert source.snapshot == NEW_TEXT  # the pasted text, exactly
    assert (source.title, source.outlet, source.kind) == (
        "Port authority annual report 2024",
        "Port authority",
        "report",
    )
    assert source.slug == "port-authority-annual-report-2024"
    entry = Review.objects.get()
    assert list(entry.evidence.all()) == [source]


def test_a_source_uploaded_in_place_is_created_and_cited(client_for, editor, claim):
    upload = SimpleUploadedFile("report.txt", NEW_TEXT.encode(), content_type="text/plain")
    data = {**_verdict(claim), **_new_source(**{"new_source-snapshot": ""})}

    response = client_for(editor).post(_review_url(claim), {**data, "new_source-upload": upload})

    assert response.status_code == 302
    source = Source.objects.get(url="https://port.example.org/report-2024")
    assert source.snapshot == NEW_TEXT
    assert list(Review.objects.get().evidence.all()) == [source]


def test_a_refused_verdict_adds_no_source(client_for, editor, claim):
    response = client_for(editor).post(
        _review_url(claim), {**_verdict(claim, explanation="  "), **_new_source()}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert _in_the_admin_layout(html)
    assert "A verdict needs an explanation" in html
    assert not Source.objects.filter(title="Port authority annual report 2024").exists()
    assert not Review.objects.exists()
    # What was typed for the source is still there, to send again.
    assert "https://port.example.org/report-2024" in html


def test_a_verdict_refused_by_a_conflict_adds_no_source(client_for, editor, second_editor, claim):
    loaded = _verdict(claim)
    VerdictFactory(claim=claim, editor=second_editor, expected_version=claim.version)

    response = client_for(editor).post(_review_url(claim), {**loaded, **_new_source()})

    assert response.status_code == 409
    assert "someone else changed this claim" in response.content.decode()
    assert not Source.objects.filter(title="Port authority annual report 2024").exists()
    assert Review.objects.count() == 1


def test_a_new_source_with_errors_is_shown_with_them_and_nothing_is_recorded(
    client_for, editor, claim
):
    data = {**_verdict(claim), **_new_source(**{"new_source-snapshot": ""})}

    response = client_for(editor).post(_review_url(claim), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert _in_the_admin_layout(html)
    assert "Paste the text or upload a file" in html
    assert not Review.objects.exists()


def test_ticking_the_claims_source_cites_it(client_for, editor, claim, source):
    AppearanceFactory(claim=claim, source=source)

    response = client_for(editor).post(_review_url(claim), {**_verdict(claim), "cite": [source.pk]})

    assert response.status_code == 302
    assert list(Review.objects.get().evidence.all()) == [source]


def test_after_recording_the_message_is_at_the_top_of_the_claim_page(client_for, editor, claim):
    response = client_for(editor).post(_review_url(claim), _verdict(claim), follow=True)

    (url, status), *_ = response.redirect_chain
    assert url == _change_url(claim)  # no fragment: the page opens at its top
    html = response.content.decode()
    entry = Review.objects.get()
    message = f"Recorded ledger entry #{entry.sequence}: Not yet verified → False."
    assert message in html
    assert html.index('class="messagelist"') < html.index('id="record-review"')


def test_a_field_error_is_shown_on_its_field(client_for, editor, claim):
    response = client_for(editor).post(_review_url(claim), _verdict(claim, status=""))

    html = response.content.decode()
    assert response.status_code == 400
    row = html[html.index('class="form-row field-status errors"') :]
    assert "This field is required." in row[: row.index("</div>")]


@pytest.mark.parametrize("page", ["change", "add"])
def test_a_statement_over_the_limit_is_refused_in_words(client_for, editor, claim, page):
    statement = "The port handled a lot. " * 249 + "The port handled a lot!!"
    assert len(statement) == 6000
    data = {
        "statement": statement,
        "slug": "too-long" if page == "add" else claim.slug,
        "speaker": claim.speaker_id,
        "kind": "event",
        "appearances-TOTAL_FORMS": "0",
        "appearances-INITIAL_FORMS": "0",
    }
    url = reverse("admin:claims_claim_add") if page == "add" else _change_url(claim)

    response = client_for(editor).post(url, data)

    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index("field-statement") :]
    message = (
        f"The statement is 6000 characters long; a statement is at most {STATEMENT_MAX} characters."
    )
    assert message in row[: row.index("</textarea>")]
    # No maxlength: a browser would cut a pasted statement without a word.
    assert 'maxlength="1000"' not in row[: row.index("</textarea>")]
    assert Claim.objects.get(pk=claim.pk).statement == claim.statement


def _folded(html: str, legend: str) -> bool:
    """Whether the fieldset headed `legend` is inside a <details> (the admin's collapse)."""
    heading = html.index(f">{legend}<")
    return html.rfind("<details", 0, heading) > html.rfind("</details>", 0, heading)


def test_the_number_and_media_fields_fold_away_where_they_do_not_apply(client_for, editor):
    from tests.factories import ClaimFactory

    plain = ClaimFactory(kind="event")
    numeric = ClaimFactory(numeric=True)
    client = client_for(editor)

    plain_page = client.get(_change_url(plain)).content.decode()
    numeric_page = client.get(_change_url(numeric)).content.decode()
    new_page = client.get(reverse("admin:claims_claim_add")).content.decode()

    assert _folded(plain_page, "Number") and _folded(plain_page, "The media")
    assert not _folded(numeric_page, "Number") and _folded(numeric_page, "The media")
    assert not _folded(new_page, "Number") and not _folded(new_page, "The media")
