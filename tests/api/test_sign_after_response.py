"""A ledger write made during a request is answered first and signed once the answer
has gone out (claims.ledger.after_response); elsewhere it
is signed as it commits. The log may lag by one answer, never skip an entry."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from claims.ledger import checkpoints
from claims.ledger.after_response import AfterResponseMiddleware
from claims.models import Claim, Review
from claims.services import record_review
from tests.api.test_ledger_api import body, reviews_url
from tests.factories import PublicationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_size() -> int:
    latest = checkpoints.latest()
    return latest.size if latest else 0


def _verdict(claim: Claim, editor) -> Review:
    return record_review(
        claim=claim,
        editor=editor,
        status="false",
        explanation="The port's own figures say 9 million.",
        expected_version=Claim.objects.get(pk=claim.pk).version,
    )


def test_the_answer_goes_out_before_the_signature(claim, editor):
    def view(request):
        _verdict(claim, editor)
        _verdict(claim, editor)
        return HttpResponse("recorded")

    response = AfterResponseMiddleware(view)(RequestFactory().post("/"))
    # Both entries committed; no checkpoint yet: the server has not sent the answer.
    assert Review.objects.count() == 2
    assert _signed_size() == 0

    response.close()  # what the WSGI server does once the last byte is out
    latest = checkpoints.latest()
    assert latest is not None and latest.size == 2
    # One signature for the request, covering both of its entries.
    assert len(list(checkpoints.read_log())) == 1


def test_a_request_that_wrote_nothing_signs_nothing(claim):
    response = AfterResponseMiddleware(lambda request: HttpResponse("read"))(
        RequestFactory().get("/")
    )
    response.close()
    assert checkpoints.latest() is None


def test_a_view_that_fails_after_a_commit_still_gets_it_signed(claim, editor):
    def view(request):
        _verdict(claim, editor)
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        AfterResponseMiddleware(view)(RequestFactory().post("/"))
    assert _signed_size() == 1


def test_outside_a_request_the_commit_signs(claim, editor):
    _verdict(claim, editor)
    assert _signed_size() == 1


def test_through_the_whole_stack_the_client_finds_it_signed(editor_client, claim, editor):
    PublicationFactory(claim=claim, editor=editor)
    assert _signed_size() == 1
    version = Claim.objects.get(pk=claim.pk).version
    response = editor_client.post(reviews_url(claim), body(version), format="json")
    assert response.status_code == 201, response.content
    # The test client closes the response, as a server does, before it returns.
    assert _signed_size() == 2 == response.json()["sequence"]
