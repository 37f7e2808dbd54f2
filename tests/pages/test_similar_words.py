"""Similar claims are looked up by the claim's rarest words, as PostgreSQL's own
statistics rank them (claims.search.lexeme_frequencies): a common word's posting
list is what made the lookup grow with the table."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from claims import search, views
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
    monkeypatch.setattr(
        search, "lexeme_frequencies", lambda: {"valparaiso": 0.4, "harbour": 0.3, "offici": 0.2}
    )
    monkeypatch.setattr(views, "lexeme_frequencies", search.lexeme_frequencies)
    rarest = _words(claim)
    assert "valparaiso" not in rarest
    assert {"million", "barrel"} <= rarest


@pytest.mark.django_db(transaction=True)
def test_the_frequencies_are_postgresqls_statistics(monkeypatch):
    for number in range(40):
        ClaimFactory(statement=f"The million figure number {number} was common.")
    ClaimFactory(statement="A zeppelin appeared once.")
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_claim")
    monkeypatch.setattr(search, "_lexeme_stats", (0.0, {}))
    frequencies = search.lexeme_frequencies()
    assert frequencies["million"] > 0.9
    # (A table this small has every word listed; a large one only its common ones.)
    assert frequencies.get("zeppelin", 0) < 0.1
    # Remembered: no second read.
    monkeypatch.setattr(connection, "cursor", None)
    assert search.lexeme_frequencies() is frequencies
