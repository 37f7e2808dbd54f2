"""The reader's claim page in time (templates/claims/_in_time.html): the bounty's
chain of three, in order, each with its own verdict, from any of its pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from claims import timeline
from claims.models import Claim
from tests.factories import ClaimFactory, older_bounty

BOUNTY = "us-50-million-bounty-on-maduro"


@pytest.fixture
def chain(seeded, editor):
    """$15 million (March 2020, rated True) → $25 million (January 2025, rated
    Mostly true) → the seed's $50 million (August 2025, published, not rated)."""
    fifty = Claim.objects.get(slug=BOUNTY)
    Claim.objects.filter(pk=fifty.pk).update(holds_as_of=date(2025, 8, 7))
    made = []
    for millions, held, verdict in (
        (15, date(2020, 3, 26), "true"),
        (25, date(2025, 1, 10), "mostly_true"),
    ):
        made.append(
            older_bounty(
                millions, holds_as_of=held, verdict=verdict, speaker=fifty.speaker, editor=editor
            )
        )
    fifteen, twenty_five = made
    timeline.supersede(older=fifteen, newer=twenty_five, editor=editor)
    timeline.supersede(older=twenty_five, newer=fifty, editor=editor)
    return fifteen, twenty_five, Claim.objects.get(pk=fifty.pk)


def _section(client, claim) -> str:
    html = client.get(reverse("claims:detail", args=[claim.slug])).content.decode()
    start = html.index('<section class="in-time"')
    return html[start : html.index("</section>", start)]


def test_a_superseded_chain_of_three_is_shown_in_order_on_each_page(client, chain):
    fifteen, twenty_five, fifty = chain

    for claim in chain:
        section = _section(client, claim)
        figures = re.findall(r'<strong class="in-time-figure">([^<]+)</strong>', section)
        assert figures == [
            "15,000,000 US dollars",
            "25,000,000 US dollars",
            "50,000,000 US dollars",
        ]
        assert 'as of <time datetime="2020-03-26">26 March 2020</time>' in section
        assert 'as of <time datetime="2025-08-07">7 August 2025</time>' in section
        # Each with its own verdict, in order; the page's own marked, the others linked.
        verdicts = re.findall(r'<span class="in-time-verdict">([^<]+)</span>', section)
        assert verdicts == ["True", "Mostly true", "Not yet verified"]
        current = re.search(r'<li class="[^"]*in-time-current"[^>]*>(.*?)</li>', section, re.S)
        assert current is not None and 'aria-current="page"' in section
        assert escape(claim.short_statement) in current.group(1)
        assert "(this claim)" in current.group(1)
        for other in chain:
            link = f'href="{reverse("claims:detail", args=[other.slug])}"'
            assert (link in section) == (other != claim)


def test_an_older_page_says_it_was_superseded_and_keeps_its_own_verdict(client, chain):
    fifteen, twenty_five, fifty = chain

    html = client.get(reverse("claims:detail", args=[twenty_five.slug])).content.decode()

    section = _section(client, twenty_five)
    assert "Superseded." in section
    assert f'href="{reverse("claims:detail", args=[BOUNTY])}"' in section.split("</p>")[0]
    # The page's verdict is the $25 million's own, never the newer claim's.
    assert "We rate this claim <strong>Mostly true</strong>" in html
    assert "Superseded." not in _section(client, fifty)


def test_a_draft_in_the_chain_is_not_shown_and_is_skipped(client, chain, editor):
    fifteen, twenty_five, fifty = chain
    draft = ClaimFactory(statement="A draft figure.", holds_as_of=date(2022, 1, 1))
    timeline.supersede(older=fifteen, newer=draft, editor=editor)
    timeline.supersede(older=draft, newer=twenty_five, editor=editor)

    section = _section(client, fifteen)

    assert "A draft figure." not in section
    assert f'href="{reverse("claims:detail", args=[twenty_five.slug])}"' in section.split("</p>")[0]


def test_a_claim_in_no_chain_shows_nothing_of_it(client, seeded):
    html = client.get(reverse("claims:detail", args=[BOUNTY])).content.decode()

    assert "This claim in time" not in html


def test_the_chain_costs_the_page_one_query_whatever_its_length(client, chain, editor):
    """The same number of queries for a claim in no chain, in a chain of three, and in a
    chain of five (one of them, reader_chain's, is the chain's whole cost)."""
    alone = ClaimFactory(published=True, editor=editor)

    def count(claim) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("claims:detail", args=[claim.slug])).status_code == 200
        return len(queries)

    in_three = count(chain[2])
    fifteen = chain[0]
    older = [
        ClaimFactory(holds_as_of=date(2010 + n, 1, 1), published=True, editor=editor)
        for n in range(2)
    ]
    timeline.supersede(older=older[0], newer=older[1], editor=editor)
    timeline.supersede(older=older[1], newer=fifteen, editor=editor)

    assert count(chain[2]) == in_three == count(alone)
