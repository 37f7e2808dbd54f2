"""Similar claims are looked up by the claim's rarest words, as PostgreSQL's own
statistics rank them (claims.search.lexeme_counts), and never by a word so common
that reading its posting list would grow with the table."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from claims import search, views
from claims.search import MOST_CLAIMS_PER_WORD
from factcheck.db.roles import as_owner
from tests.factories import ClaimFactory


def _words(claim) -> set[str]:
    query = views._similar_words(claim)
    assert query is not None
    raw = query.get_source_expressions()[-1].value
    return set(re.findall(r"'([^']+)':A", raw))


def test_the_rarest_words_are_chosen(seeded, monkeypatch):
    claim = ClaimFactory(
        published=True, statement="Officials counted million barrels near Valparaiso harbour."
    )
    claim.refresh_from_db()
    # Without statistics: the longest words.
    longest = _words(claim)
    assert "valparaiso" in longest
    # The longest words are common here: the rarer ones take their place.
    counts = {"valparaiso": 400, "harbour": 300, "offici": 200}
    monkeypatch.setattr(views, "lexeme_counts", lambda: counts)
    rarest = _words(claim)
    assert "valparaiso" not in rarest
    assert {"million", "barrel"} <= rarest
    # A word held by too many claims is never used; with no telling word, no lookup.
    counts.update(million=MOST_CLAIMS_PER_WORD + 1, barrel=4_000)
    assert "million" not in _words(claim)
    every = dict.fromkeys(["offici", "count", "million", "barrel", "near", "valparaiso", "harbour"])
    counts.update(dict.fromkeys(every, MOST_CLAIMS_PER_WORD * 2))
    assert views._similar_words(claim) is None


@pytest.mark.django_db(transaction=True)
def test_the_frequencies_are_postgresqls_statistics(monkeypatch):
    for number in range(40):
        ClaimFactory(statement=f"The million figure number {number} was common.")
    ClaimFactory(statement="A zeppelin appeared once.")
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_claim")
    monkeypatch.setattr(search, "_lexeme_stats", (0.0, {}))
    counts = search.lexeme_counts()
    assert 35 <= counts["million"] <= 41
    # (A table this small has every word listed; a large one only its common ones.)
    assert counts.get("zeppelin", 0) <= 2
    # Remembered: no second read.
    monkeypatch.setattr(connection, "cursor", None)
    assert search.lexeme_counts() is counts
