"""The reader's claim page: "This claim came back", the sources a checked claim was
repeated in since its verdict, by month (claims.repeats.came_back), read from what the
page already loads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from claims.models import Claim, Review
from claims.repeats import verdict_since
from tests.factories import AppearanceFactory, QuoteFactory, SourceFactory, VerdictFactory

BOUNTY = "us-50-million-bounty-on-maduro"
PAGE = reverse("claims:detail", args=[BOUNTY])


@pytest.fixture
def bounty(seeded) -> Claim:
    return Claim.objects.get(slug=BOUNTY)


@pytest.fixture
def rated(bounty, editor) -> Claim:
    VerdictFactory(claim=bounty, editor=editor, status="true")
    bounty.refresh_from_db()
    return bounty


def section(client) -> str:
    """The "came back" section of the bounty's page, or "" when there is none."""
    html = client.get(PAGE).content.decode()
    found = re.search(r'<section class="came-back".*?</section>', html, re.S)
    return found.group(0) if found else ""


def repeat_in(claim: Claim, **source_fields) -> None:
    AppearanceFactory(claim=claim, source=SourceFactory(**source_fields))


def test_the_sources_since_the_verdict_are_listed_by_month_newest_first(client, rated):
    today = timezone.localdate()
    later = today + timedelta(days=45)  # always another month
    repeat_in(rated, title="Same day report", published_on=today)
    repeat_in(rated, title="Undated post", published_on=None)  # archived now: after
    repeat_in(rated, title="Before the verdict", published_on=today - timedelta(days=40))
    twice = SourceFactory(
        title="Later article", published_on=later, snapshot="It said so. And again, it said so."
    )
    AppearanceFactory(claim=rated, source=twice)
    AppearanceFactory(claim=rated, quote=QuoteFactory(source=twice, words="It said so."))

    shown = section(client)

    assert "This claim came back" in shown
    assert "repeated in 3 sources over 2 months." in shown
    assert f'Since we rated it on <time datetime="{today:%Y-%m-%d}">' in shown
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", shown, re.S)
    assert [re.search(r">([^<]+)</time>", row).group(1) for row in rows] == [
        date_format(later, "F Y"),
        date_format(today, "F Y"),
    ]
    assert "Later article" in rows[0] and rows[0].count("Later article") == 1
    assert "Same day report" in rows[1] and "Undated post" in rows[1]
    assert "no publication date" in rows[1]
    # Not repeated since: the source published before the verdict and the seed articles,
    # archived before it.
    assert "Before the verdict" not in shown
    assert "Trump hints at expanded military operations" not in shown


def test_no_section_without_a_verdict_or_without_a_repeat_since(client, bounty, editor):
    yesterday = timezone.localdate() - timedelta(days=1)
    repeat_in(bounty, title="A new report", published_on=yesterday)
    assert section(client) == ""  # unverified: nothing was checked to come back

    VerdictFactory(claim=bounty, editor=editor, status="false")
    assert section(client) == ""  # published the day before the verdict


def test_source_titles_are_escaped(client, rated):
    repeat_in(rated, title="<script>alert(1)</script> News", published_on=timezone.localdate())

    shown = section(client)

    assert "&lt;script&gt;alert(1)&lt;/script&gt; News" in shown
    assert "<script>" not in shown


def test_the_section_adds_no_query_however_many_sources(client, rated):
    repeat_in(rated, title="First repeat", published_on=timezone.localdate())
    client.get(PAGE)
    with CaptureQueriesContext(connection) as one:
        assert "First repeat" in section(client)
    for n in range(4):
        repeat_in(rated, title=f"Repeat {n}", published_on=timezone.localdate())

    with CaptureQueriesContext(connection) as five:
        shown = section(client)

    assert "repeated in 5 sources" in shown
    assert len(five.captured_queries) == len(one.captured_queries)


def _entry(status_after: str, day: int) -> Review:
    return Review(status_after=status_after, created_at=datetime(2026, 3, day, tzinfo=UTC))


def test_the_verdict_counts_from_its_first_entry_and_anew_after_a_withdrawal():
    # Newest first, as the page reads the ledger.
    rerated = [_entry("true", 4), _entry("false", 3), _entry("unverified", 1)]
    withdrawn_and_rated_again = [
        _entry("mostly_true", 9),
        _entry("in_review", 8),  # a substantive correction withdrew the verdict
        _entry("false", 3),
        _entry("unverified", 1),
    ]

    assert verdict_since(rerated) == rerated[1].created_at
    assert verdict_since(withdrawn_and_rated_again) == withdrawn_and_rated_again[0].created_at
    assert verdict_since(withdrawn_and_rated_again[1:]) is None
    assert verdict_since([]) is None
