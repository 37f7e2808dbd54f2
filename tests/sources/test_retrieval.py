"""When a source's text was taken from the original is not when it was archived here:
the seeds were stored when they were loaded, long after anyone fetched the articles.
The source page says both, and "unknown" rather than the load time; the API and the
admin read and write the first; no page description puts words in quote marks as
somebody's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from rest_framework.test import APIClient

from claims.models import Claim, Quote
from sources.models import Source
from tests.api.test_resources import url
from tests.factories import SourceFactory

SEEDED_SOURCE = "us-forces-deploy-to-southern-caribbean"
_TERM = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>", re.S)
_META = re.compile(
    r'<meta (?:name|property)="(description|og:description|twitter:description)" '
    r'content="([^"]*)"'
)
QUOTE_MARKS = '\u201c\u201d\u201e\u00ab\u00bb"'


def _profile(html: str) -> dict[str, str]:
    """The source page's header terms: {"Archived here": "<time ...>...</time>", ...}."""
    return dict(_TERM.findall(html))


def test_a_seeded_sources_retrieval_from_the_original_is_unknown(seeded, client):
    source = Source.objects.get(slug=SEEDED_SOURCE)
    assert source.original_retrieved_at is None

    html = client.get(reverse("sources:detail", args=[SEEDED_SOURCE])).content.decode()
    profile = _profile(html)

    assert "unknown" in profile["Retrieved from the original"]
    assert "<time" not in profile["Retrieved from the original"]
    archived = timezone.localtime(source.retrieved_at)
    assert f'datetime="{date_format(archived, "c")}"' in profile["Archived here"]
    assert date_format(archived, "j F Y, H:i") in profile["Archived here"]
    assert "Retrieved" not in profile  # the old label, that gave the load time


def test_a_known_retrieval_is_shown_apart_from_the_archive_date(db, client):
    fetched = datetime(2025, 9, 4, 7, 33, tzinfo=UTC)
    source = SourceFactory(slug="fetched", original_retrieved_at=fetched)

    profile = _profile(client.get(reverse("sources:detail", args=["fetched"])).content.decode())

    assert (
        date_format(timezone.localtime(fetched), "j F Y, H:i")
        in profile["Retrieved from the original"]
    )
    assert "unknown" not in profile["Retrieved from the original"]
    assert date_format(timezone.localtime(source.retrieved_at), "j F Y") in profile["Archived here"]


# --- The API -------------------------------------------------------------------------


def test_the_api_reads_the_retrieval_from_the_original(seeded):
    api_client = APIClient()
    detail = api_client.get(url("source-detail", slug=SEEDED_SOURCE)).data
    assert detail["original_retrieved_at"] is None
    assert detail["retrieved_at"] is not None
    listed = api_client.get(url("source-list")).data["results"]
    assert all(item["original_retrieved_at"] is None for item in listed)


def test_the_api_takes_the_retrieval_from_the_original_on_create(contributor):
    client = APIClient()
    client.force_authenticate(contributor)
    payload = {
        "slug": "port-statement",
        "title": "Port statement",
        "kind": "statement",
        "snapshot": "The port handled 9.8 million tonnes last year.",
        "original_retrieved_at": "2025-10-01T08:12:00Z",
    }
    created = client.post(url("source-list"), payload, format="json")
    assert created.status_code == 201, created.content
    assert created.data["original_retrieved_at"] == "2025-10-01T08:12:00Z"
    stored = Source.objects.get(slug="port-statement")
    assert stored.original_retrieved_at == datetime(2025, 10, 1, 8, 12, tzinfo=UTC)
    # When it was archived here is the program's, whatever is sent.
    assert stored.retrieved_at > stored.original_retrieved_at

    unknown = client.post(
        url("source-list"),
        {**payload, "slug": "undated", "original_retrieved_at": None},
        format="json",
    )
    assert unknown.status_code == 201, unknown.content
    assert Source.objects.get(slug="undated").original_retrieved_at is None


# --- The admin -----------------------------------------------------------------------


def test_the_admin_add_form_starts_the_retrieval_at_now(admin_client):
    form = admin_client.get(reverse("admin:sources_source_add")).context["adminform"].form
    initial = form["original_retrieved_at"].initial
    assert abs(initial - timezone.now()) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (("2025-09-04", "07:33:00"), datetime(2025, 9, 4, 7, 33)),
        (("", ""), None),
    ],
)
def test_the_admin_stores_the_retrieval_or_leaves_it_unknown(admin_client, sent, stored):
    response = admin_client.post(
        reverse("admin:sources_source_add"),
        {
            "title": "A statement",
            "slug": "a-statement",
            "kind": "statement",
            "snapshot": "Some text.",
            "original_retrieved_at_0": sent[0],
            "original_retrieved_at_1": sent[1],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    value = Source.objects.get(slug="a-statement").original_retrieved_at
    expected = None if stored is None else timezone.make_aware(stored)
    assert value == expected


def test_the_admin_change_form_edits_the_retrieval(admin_client, db):
    source = SourceFactory(slug="later")
    page = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    assert 'name="original_retrieved_at_0"' in page.content.decode()


# --- Descriptions --------------------------------------------------------------------


def _descriptions(html: str) -> dict[str, str]:
    return {name: unescape(content) for name, content in _META.findall(html)}


@pytest.mark.parametrize(
    "page",
    [
        lambda: reverse("sources:detail", args=[SEEDED_SOURCE]),
        lambda: reverse("sources:list"),
        lambda: reverse("claims:speaker", args=["claudia-sheinbaum"]),
        lambda: reverse("claims:topic", args=["venezuela"]),
    ],
)
def test_no_description_puts_words_in_quote_marks(seeded, client, page):
    html = client.get(page()).content.decode()
    descriptions = _descriptions(html)
    assert descriptions
    statements = list(Claim.objects.values_list("statement", flat=True))
    statements += list(Quote.objects.values_list("exact", flat=True))
    for name, text in descriptions.items():
        # No claim's statement nor a quote's words, and no quote marks at all: what a
        # share card shows in quote marks reads as someone's own words.
        assert not any(mark in text for mark in QUOTE_MARKS), (name, text)
        assert not any(statement in text for statement in statements), (name, text)
