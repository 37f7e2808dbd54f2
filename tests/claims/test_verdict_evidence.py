"""The desk's evidence rule (settings.REQUIRE_VERDICT_EVIDENCE), in its one home,
claims.services.record_review, as the admin and the API show it. The suite turns it
off for tests about something else (tests/conftest.py); here it is set each way."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.models import Review
from claims.services import record_review
from tests.factories import ClaimFactory, SourceFactory

EXPLANATION = "The annual report gives 9.1 million tonnes."


@pytest.fixture
def required(settings):
    settings.REQUIRE_VERDICT_EVIDENCE = True


@pytest.fixture
def optional(settings):
    settings.REQUIRE_VERDICT_EVIDENCE = False


def _record(claim, editor, **kwargs):
    return record_review(
        claim=claim,
        editor=editor,
        expected_version=claim.version,
        **{"status": "false", "explanation": EXPLANATION, **kwargs},
    )


def test_the_default_requires_evidence():
    from factcheck import settings as project_settings

    # tests/conftest.py turns it off for the suite; the project's own default is on.
    assert project_settings.REQUIRE_VERDICT_EVIDENCE is True


def test_on_a_verdict_without_evidence_is_refused(required, editor, claim):
    with pytest.raises(ValidationError) as refused:
        _record(claim, editor)

    assert list(refused.value.message_dict) == ["evidence"]
    assert "at least one evidence source" in refused.value.message_dict["evidence"][0]
    assert not Review.objects.exists()


def test_on_both_refusals_at_once(required, editor, claim):
    with pytest.raises(ValidationError) as refused:
        _record(claim, editor, explanation="")

    assert set(refused.value.message_dict) == {"explanation", "evidence"}


def test_on_a_verdict_with_evidence_is_recorded(required, editor, claim, source):
    entry = _record(claim, editor, evidence=[source])

    assert list(entry.evidence.all()) == [source]


@pytest.mark.parametrize("status", ["in_review", "unverified"])
def test_on_a_workflow_status_needs_no_evidence(required, editor, status):
    claim = ClaimFactory(status="in_review" if status == "unverified" else "unverified")

    assert _record(claim, editor, status=status, explanation="").status_after == status


def test_off_a_verdict_without_evidence_is_recorded(optional, editor, claim):
    assert _record(claim, editor).evidence.count() == 0


def _admin_post(editor, claim, **extra):
    client = Client()
    client.force_login(editor)
    data = {
        "status": "false",
        "explanation": EXPLANATION,
        "note": "",
        "expected_version": claim.version,
        **extra,
    }
    return client.post(reverse("admin:claims_claim_record_review", args=[claim.pk]), data)


def test_on_the_admin_shows_the_refusal_on_the_evidence_field(required, editor, claim):
    response = _admin_post(editor, claim)

    html = response.content.decode()
    assert response.status_code == 400
    row = html[html.index('class="form-row field-evidence errors"') :]
    assert "A verdict must cite at least one evidence source" in row[: row.index("</ul>")]
    assert not Review.objects.exists()


def test_off_the_admin_records_it(optional, editor, claim):
    assert _admin_post(editor, claim).status_code == 302
    assert Review.objects.get().status_after == "false"


def _api_post(editor, claim, **extra):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=editor)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {"status": "false", "explanation": EXPLANATION, "version": claim.version, **extra}
    return client.post(
        reverse("api:claim-reviews", kwargs={"slug": claim.slug}), body, format="json"
    )


def test_on_the_api_answers_400_on_evidence(required, editor, claim):
    response = _api_post(editor, claim)

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["evidence"]
    assert "at least one evidence source" in error["fields"]["evidence"][0]
    assert not Review.objects.exists()


def test_on_the_api_records_a_verdict_citing_a_source(required, editor, claim):
    source = SourceFactory(slug="annual-report")

    response = _api_post(editor, claim, evidence=["annual-report"])

    assert response.status_code == 201
    assert list(Review.objects.get().evidence.all()) == [source]


def test_off_the_api_records_a_verdict_citing_nothing(optional, editor, claim):
    assert _api_post(editor, claim).status_code == 201
