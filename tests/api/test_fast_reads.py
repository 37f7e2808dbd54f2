"""The claims list is built from plain rows (claims.api.fast), not by
ClaimListSerializer, which stays the schema's documentation: both must give the
same items, and the same bytes once rendered."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from claims.api.fast import FastJSONRenderer
from claims.api.serializers import ClaimListSerializer
from claims.models import Claim
from tests.factories import ClaimFactory, EditorFactory, SpeakerFactory, TopicFactory

pytestmark = pytest.mark.django_db


def serializer_items(slugs: list[str], *, path: str) -> list[dict]:
    """What ClaimListSerializer makes of these claims, in this order."""
    request = APIRequestFactory().get(path)
    claims = (
        Claim.objects.select_related("speaker")
        .prefetch_related("topics")
        .in_bulk(slugs, field_name="slug")
    )
    data = ClaimListSerializer(
        [claims[slug] for slug in slugs], many=True, context={"request": request}
    ).data
    return json.loads(JSONRenderer().render(data))


def every_field_filled() -> None:
    """Claims with every list field set: dated, numeric, several topics, published,
    rated, non-ASCII text and the characters JSON escapes."""
    editor = EditorFactory(username="filler")
    speaker = SpeakerFactory(name="Zoë “Q” Ädams\u2028", slug="zoe-adams")
    topics = [TopicFactory(name=f"Topic {name}", slug=f"t-{name}") for name in "cab"]
    for number in range(3):
        ClaimFactory(
            slug=f"filled-{number}",
            statement=f'Ünïcode "quoted" \\ tab\t line\u2029 {number} \U0001f600',
            speaker=speaker,
            numeric=True,
            claim_date="2024-02-29",
            topics=topics,
            published=True,
            verdict="mostly_true",
            editor=editor,
        )


@pytest.mark.parametrize("fill", [False, True])
def test_fast_list_items_equal_the_serializer_items(seeded, api_client, fill):
    if fill:
        every_field_filled()
    address = reverse("api:claim-list")
    response = api_client.get(address, {"page_size": 200})
    assert response.status_code == 200
    items = json.loads(response.content)["results"]
    assert len(items) == Claim.objects.published().count()
    assert items == serializer_items([item["slug"] for item in items], path=address)
    if fill:
        assert any(item["topics"] == ["t-a", "t-b", "t-c"] for item in items)


def test_fast_renderer_writes_drf_bytes(seeded, api_client):
    address = reverse("api:claim-list")
    every_field_filled()
    data = api_client.get(address, {"page_size": 200}).data
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    assert b"\\u2028" in FastJSONRenderer().render(data)


def test_fast_renderer_leaves_indented_json_to_drf():
    data = {"a": [1, "é"]}
    indented = "application/json; indent=2"
    assert FastJSONRenderer().render(data, indented) == JSONRenderer().render(data, indented)


# --- The claim detail's conditional GET -------------------------------------------


def test_a_304_runs_one_query_before_any_body(seeded, api_client, django_assert_num_queries):
    detail = reverse("api:claim-detail", kwargs={"slug": "us-50-million-bounty-on-maduro"})
    response = api_client.get(detail)
    etag, modified = response["ETag"], response["Last-Modified"]
    with django_assert_num_queries(1):
        not_modified = api_client.get(detail, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == etag
    assert not_modified.content == b""
    with django_assert_num_queries(1):
        assert api_client.get(detail, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # A draft stays a 404 for readers, whatever they send.
    draft = ClaimFactory(slug="a-draft")
    address = reverse("api:claim-detail", kwargs={"slug": draft.slug})
    assert api_client.get(address, HTTP_IF_NONE_MATCH="*").status_code == 404


def test_a_verdict_or_a_correction_changes_the_etag(seeded, editor, api_client):
    from tests.factories import CorrectionFactory, VerdictFactory

    slug = "us-50-million-bounty-on-maduro"
    detail = reverse("api:claim-detail", kwargs={"slug": slug})
    first = api_client.get(detail)["ETag"]
    VerdictFactory(claim=Claim.objects.get(slug=slug), editor=editor, status="misleading")
    after_verdict = api_client.get(detail, HTTP_IF_NONE_MATCH=first)
    assert after_verdict.status_code == 200
    assert after_verdict["ETag"] != first
    CorrectionFactory(claim=slug, editor=editor, changes={"statement": "Corrected."})
    after_correction = api_client.get(detail, HTTP_IF_NONE_MATCH=after_verdict["ETag"])
    assert after_correction.status_code == 200
    assert after_correction.data["statement"] == "Corrected."
    assert after_correction["ETag"] not in {first, after_verdict["ETag"]}


def test_detail_equals_the_serializer_over_public_detail(seeded, editor, api_client):
    """The detail reads only the latest verdict of the ledger; the body is what the
    serializer makes of the claim with its whole ledger."""
    from claims.api.serializers import ClaimDetailSerializer
    from tests.factories import VerdictFactory

    every_field_filled()
    for slug in ["us-50-million-bounty-on-maduro", "filled-1"]:
        claim = Claim.objects.get(slug=slug)
        # Entries after the verdict: a workflow status, then the verdict again.
        VerdictFactory(claim=claim, editor=editor, status="mixed", explanation="Newer *one*.")
        address = reverse("api:claim-detail", kwargs={"slug": slug})
        body = json.loads(api_client.get(address).content)
        request = APIRequestFactory().get(address)
        full = Claim.objects.public_detail().select_related("assignee").get(slug=slug)
        expected = ClaimDetailSerializer(full, context={"request": request}).data
        assert body == json.loads(JSONRenderer().render(expected))
        assert body["explanation"] == "Newer *one*."


def test_the_detail_is_one_statement_verdict_or_not(
    seeded, editor, api_client, django_assert_num_queries
):
    unrated = ClaimFactory(slug="unrated", published=True, editor=editor)
    rated = ClaimFactory(slug="rated", published=True, verdict="false", editor=editor)
    for claim in (unrated, rated):
        address = reverse("api:claim-detail", kwargs={"slug": claim.slug})
        # The claim with its speaker, assignee, topics, verdict's explanation and
        # evidence, and its appearances with their sources and quotes.
        with django_assert_num_queries(1):
            response = api_client.get(address)
        assert response.status_code == 200
        assert (response.data["explanation"] is None) == (claim is unrated)


def every_detail_field_filled(editor) -> list[str]:
    """A claim showing every part of the detail: numeric, topics, an assignee, appearances
    with and without a quote (from a dated and an undated source), a verdict citing
    evidence (in an order that is not the sources'), then a correction."""
    from claims.services import assign_claim
    from tests.factories import (
        AppearanceFactory,
        CorrectionFactory,
        PublicationFactory,
        QuoteFactory,
        SourceFactory,
        VerdictFactory,
    )

    speaker = SpeakerFactory(name="Zoë Ädams", slug="zoe", role="Minister", affiliation="Ünion")
    claim = ClaimFactory(
        slug="every-part",
        statement="Ünïcode\u2028 “quoted” \U0001f600",
        speaker=speaker,
        numeric=True,
        claim_date="2024-02-29",
        topics=[TopicFactory(name=f"Part {name}", slug=f"p-{name}") for name in "ba"],
        editor=editor,
    )
    assign_claim(claim=Claim.objects.get(slug="every-part"), assignee=editor, by=editor)
    dated = SourceFactory(
        slug="dated", published_on="2024-03-01", url="https://example.org/a?b=1&c=é"
    )
    undated = SourceFactory(slug="undated", published_on=None, url="")
    quote = QuoteFactory(source=dated, speaker=speaker)
    AppearanceFactory(claim=claim, source=dated, quote=quote)
    AppearanceFactory(claim=claim, source=undated)
    AppearanceFactory(claim=claim, source=SourceFactory(published_on="2020-01-01"))
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=claim,
        editor=editor,
        status="misleading",
        explanation="Mostly **not**: <script>x</script> see [this](https://example.org).",
        evidence=[undated, dated],
    )
    CorrectionFactory(
        claim=claim.slug, editor=editor, changes={"statement": "Corrected, “still” Ünïcode."}
    )
    return ["undated", "dated"]


@pytest.mark.parametrize("as_desk", [False, True])
def test_every_claim_detail_is_the_serializers_bytes(
    seeded, editor, api_client, editor_client, as_desk
):
    """Byte for byte what ClaimDetailSerializer (over public_detail(), the whole ledger
    prefetched) writes, for every seeded claim and one with every part filled."""
    from claims.api.serializers import ClaimDetailSerializer

    cited = every_detail_field_filled(editor)
    client = editor_client if as_desk else api_client
    claims = Claim.objects.all() if as_desk else Claim.objects.published()
    slugs = list(claims.values_list("slug", flat=True))
    assert "every-part" in slugs
    for slug in slugs:
        address = reverse("api:claim-detail", kwargs={"slug": slug})
        response = client.get(address)
        assert response.status_code == 200
        request = APIRequestFactory().get(address)
        request.user = editor if as_desk else AnonymousUser()
        full = Claim.objects.public_detail().select_related("assignee").get(slug=slug)
        expected = ClaimDetailSerializer(full, context={"request": request}).data
        assert response.content == JSONRenderer().render(expected), slug
    filled = json.loads(client.get(reverse("api:claim-detail", args=["every-part"])).content)
    assert filled["assignee"] == (editor.username if as_desk else None)
    assert [source["slug"] for source in filled["evidence"]] == cited
    # Dated sources first, oldest first; the quote's appearance is the 2024 one.
    assert [appearance["quote"] is not None for appearance in filled["appearances"]] == [
        False,
        True,
        False,
    ]
    assert filled["explanation"] is not None
    assert filled["quantity"] is not None
