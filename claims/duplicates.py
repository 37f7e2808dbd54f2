"""Likely duplicates of a claim being entered: the existing claims it most likely
repeats, so that a repeat becomes an appearance of one claim, not a second claim.

Creating a claim (the admin's add form, the draft-a-claim page of a source, the API's
POST) asks `check` first; the desk sees the likely duplicates, with why each was
found, and either adds an appearance to one of them or saves the new claim anyway.

How a claim is found. Candidates come from the full-text GIN index on the claims'
search vectors (`claim_search_idx`: statement, speaker's names and aliases, quoted
words), as the reader page's similar claims do: the claims holding two of the new
statement's rarest words (PostgreSQL's statistics of the most common words,
claims.search.lexeme_counts; words held by more than MOST_CLAIMS_PER_WORD claims are left
out), the RAREST_WORDS rarest at most, enough that a claim sharing WORD_SHARE of the
statement's words holds two of them. The first CANDIDATES the index yields are
scored, each on the row the lookup read:

- **statement**: pg_trgm's similarity of the new statement to the claim's;
- **quote**: the same to the closest of the quotes the claim appears through;
- **words**: the share of the new statement's words (stemmed, in its language's search
  configuration) that the claim's search vector holds, once it holds MIN_SHARED_WORDS
  of them (a two-word statement shares all its words with too many claims).

Its score is the highest of the three, and says which one (`Match.matched`). Claims
scoring at or above THRESHOLD are likely duplicates, best first.

Why not pg_trgm's own GIN indexes (claim_statement_trgm_idx, quote_exact_trgm_idx)?
Measured on the benchmark's million synthetic statements (80 to 150 characters,
benchmarks/generate.py), `statement % text` through claim_statement_trgm_idx took
3.3 to 12 s at a similarity threshold of 0.3, 1.0 to 2.9 s at 0.45, 0.3 to 1.7 s at
0.7 and 0.1 to 0.5 s even at 0.9: a statement's common trigrams match most rows,
which the index reads whatever the threshold. This module's whole statement took 4
to 16 ms on the same million (a statement of the table found again, reworded, or none
found), the full-text lookup itself under 1 ms; the trigrams score the candidates it
yields instead.

THRESHOLD, measured (tests/claims/test_duplicates.py keeps some of these): against
the seed ledger's 22 claims, on 16 rewordings of seed claims as an editor or another
outlet would write them and 12 claims on other subjects or other facts of the same
events:
- 14 of the 16 rewordings score 0.62 to 1.0, all by their words: "Washington put a
  $50 million bounty on Maduro" 0.83 (5 of its 6 words; statement 0.19, quote 0.36),
  "The US is offering a $50 million reward for Maduro's arrest" 0.86 (statement
  0.47), "A US strike on a boat in the Caribbean killed 11 people on September 2."
  0.89 (statement 0.74), "The US deployed 10 F-35 jets to Puerto Rico." 0.75, "Nearly
  7 tons of seized cocaine are tied to Maduro personally." 0.62; the two missed share
  3 of their 6 words, 0.5: "Venezuela says the strike video was made with AI" and
  "Maduro has a 50 million dollar price on his head";
- of the 12 others, one scores above: "Trump says the US will strike cartels in
  Venezuela" 0.67 (4 of 6 words) for the claim that Trump, asked whether the US would
  attack cartels inside Venezuela, answered that reporters would find out: close
  enough for the desk to look. The rest score at most 0.5 ("Sheinbaum says Mexico will
  cooperate with the US on security", 3 of 6 words); "Colombia's president criticised
  the US strikes" shares 3 of its 5 words (0.6), which MIN_SHARED_WORDS leaves
  uncounted. Claims sharing a quote with a seed claim score high by it (0.86 to 0.88
  by words: the DEA's 30 tons and the 7 tons linked to Maduro, both from one
  sentence of Pam Bondi's) and are told apart by their numbers, below.

What the scores cannot tell: "$25 million" from "$50 million" (0.78 by words, 0.69 by
statement), nor a claim from its denial. So a claim is a likely duplicate only when
the numbers of one statement are all among the other's (claims.repeats.numbers:
"$50 million", "$50m", "50,000,000" and "fifty million" are one number; a date one of
them leaves out is no other claim), and when both, or neither, deny (claims.repeats.
denies). A claim that matches but states other numbers is not a duplicate: it may be
the same claim at another time, an older or newer figure (claims.timeline), and is
listed apart (`Check.other_figures`) for the desk to link in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from claims.languages import search_config
from claims.models import Appearance, Claim, Speaker
from claims.repeats import denies, numbers
from claims.search import MOST_CLAIMS_PER_WORD, lexeme_counts
from claims.services import add_appearance, anchor_quote, in_a_transaction, require_permission
from claims.tips import normalize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from sources.models import Source

# The score at or above which a claim is a likely duplicate (measured: above).
THRESHOLD = 0.6
# Words of the new statement a claim must hold before their share counts.
MIN_SHARED_WORDS = 4
# The share of the statement's words that the candidate lookup guarantees to find
# (pigeonhole: a claim holding this share holds two of the rarest words looked up).
WORD_SHARE = THRESHOLD
# The rarest words looked up, at most (their pairs: 28 at 8).
RAREST_WORDS = 8
# The claims the index yields that are scored, at most.
CANDIDATES = 200
# Matches above the threshold read back with their speakers, before the guards.
READ_BACK = 30

# One statement: the new statement's words, its rarest, the lookup through the
# full-text index, and each candidate's three scores (the quote's through the claim's
# appearances), with its speaker.
MATCH_SQL = r"""
WITH q AS MATERIALIZED (
    SELECT %(text)s::text AS text, vector, tsvector_to_array(vector) AS words
      FROM to_tsvector(%(config)s::regconfig, %(text)s) AS vector
), rare AS MATERIALIZED (
    SELECT coalesce(array_agg(word ORDER BY held, length(word) DESC, word), '{}') AS words
      FROM (SELECT w.word, coalesce(c.held, 0) AS held
              FROM q CROSS JOIN unnest(q.words) AS w(word)
              LEFT JOIN unnest(%(common)s::text[], %(held)s::float8[]) AS c(word, held)
                     ON c.word = w.word
             WHERE coalesce(c.held, 0) <= %(most)s
               AND strpos(w.word, '''') = 0 AND strpos(w.word, E'\\') = 0
             ORDER BY 2, length(w.word) DESC, w.word
             LIMIT (SELECT least(%(rarest)s, greatest(2, cardinality(q.words)
                          - ceil(%(share)s * cardinality(q.words))::int + 2)) FROM q)
           ) AS telling
), lookup AS MATERIALIZED (
    SELECT CASE WHEN cardinality(rare.words) > 1 THEN
                (SELECT string_agg(format('''%%s'' & ''%%s''', a.word, b.word), ' | ')
                   FROM unnest(rare.words) WITH ORDINALITY AS a(word, i)
                   JOIN unnest(rare.words) WITH ORDINALITY AS b(word, j) ON a.i < b.j)::tsquery
           WHEN cardinality(rare.words) = 1 THEN format('''%%s''', rare.words[1])::tsquery
           END AS query
      FROM rare
), candidates AS MATERIALIZED (
    SELECT c.id, c.slug, c.statement, c.status, c.published_at, c.speaker_id, c.search_vector
      FROM claims_claim c CROSS JOIN lookup
     WHERE c.search_vector @@ lookup.query AND c.id <> ALL(%(exclude)s::bigint[])
     LIMIT %(candidates)s
), scored AS MATERIALIZED (
    SELECT cand.id, cand.slug, cand.statement, cand.status, cand.published_at,
           cand.speaker_id, similarity(cand.statement, q.text) AS statement_score,
           best.exact AS quote, best.score AS quote_score,
           -- Its words less those the claim's vector holds: what it does not share.
           cardinality(q.words)
               - length(ts_delete(q.vector, tsvector_to_array(cand.search_vector))) AS shared,
           cardinality(q.words) AS total
      FROM candidates cand CROSS JOIN q
      LEFT JOIN LATERAL (
           SELECT qt.exact, similarity(qt.exact, q.text) AS score
             FROM claims_appearance a JOIN claims_quote qt ON qt.id = a.quote_id
            WHERE a.claim_id = cand.id
            ORDER BY 2 DESC, qt.id LIMIT 1) AS best ON true
), ranked AS (
    SELECT scored.*, greatest(
               statement_score, coalesce(quote_score, 0),
               CASE WHEN shared >= %(min_shared)s THEN shared::float8 / total ELSE 0 END
           ) AS score
      FROM scored
)
SELECT r.id, r.slug, r.statement, r.status, r.published_at, r.speaker_id, s.slug, s.name,
       r.score, r.statement_score, r.quote, r.quote_score, r.shared, r.total
  FROM ranked r JOIN claims_speaker s ON s.id = r.speaker_id
 WHERE r.score >= %(threshold)s
 ORDER BY r.score DESC, r.id DESC
 LIMIT %(read_back)s
"""


@dataclass(frozen=True)
class Match:
    """An existing claim that a new statement matches, and why."""

    claim: Claim  # its slug, statement, status, publication and speaker (name, slug)
    score: float
    # "statement", "quote" (one of the quotes it appears through) or "words" (its
    # statement, speaker's names and quotes hold that share of the new statement's words)
    matched: str
    quote: str  # the closest quote's words, when it matched by a quote
    shared_words: int
    words: int

    @property
    def why(self) -> str:
        if self.matched == "statement":
            return "Its statement is worded closely."
        if self.matched == "quote":
            return f"It appears through the words “{self.quote}”."
        return (
            f"It holds {self.shared_words} of the {self.words} words of this statement "
            "(in its statement, its speaker's name or its quotes)."
        )

    def as_data(self) -> dict:
        return {
            "slug": self.claim.slug,
            "statement": self.claim.statement,
            "speaker": self.claim.speaker.slug,
            "status": self.claim.status,
            "published": self.claim.is_published,
            "score": round(self.score, 4),
            "matched": self.matched,
            "why": self.why,
        }


@dataclass(frozen=True)
class Check:
    """What the desk is shown before a new claim is saved."""

    duplicates: list[Match]
    # Matches stating other numbers: not the same claim, perhaps the same one in time.
    other_figures: list[Match]


def check(
    statement: str,
    *,
    language: str = "",
    exclude: Iterable[Claim | int] = (),
    limit: int = 5,
) -> Check:
    """The likely duplicates of `statement` (and the close matches stating other
    numbers), best first, `limit` of each at most; one query. `language` picks the
    search configuration its words are read in (English when blank); `exclude`
    leaves out claims (the one being edited)."""
    text = " ".join(statement.split())
    if not text:
        return Check([], [])
    common = lexeme_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            MATCH_SQL,
            {
                "text": text,
                "config": search_config(language),
                "common": list(common),
                "held": list(common.values()),
                "most": MOST_CLAIMS_PER_WORD,
                "rarest": RAREST_WORDS,
                "share": WORD_SHARE,
                "exclude": [getattr(claim, "pk", claim) for claim in exclude],
                "candidates": CANDIDATES,
                "min_shared": MIN_SHARED_WORDS,
                "threshold": THRESHOLD,
                "read_back": READ_BACK,
            },
        )
        rows = cursor.fetchall()
    duplicates: list[Match] = []
    other_figures: list[Match] = []
    figures, denial = numbers(text), denies(normalize(text).split())
    for row in rows:
        match = _match(row)
        theirs = numbers(match.claim.statement)
        if denies(normalize(match.claim.statement).split()) != denial:
            continue  # a claim and its denial are two claims, whatever the numbers
        if figures <= theirs or theirs <= figures:
            duplicates.append(match)
        else:
            other_figures.append(match)
    return Check(duplicates[:limit], other_figures[:limit])


def likely_duplicates(
    statement: str,
    *,
    language: str = "",
    exclude: Iterable[Claim | int] = (),
    limit: int = 5,
) -> list[Match]:
    """The existing claims most likely to be `statement`'s claim, best first (`check`)."""
    return check(statement, language=language, exclude=exclude, limit=limit).duplicates


def _match(row: tuple) -> Match:
    (
        pk,
        slug,
        statement,
        status,
        published_at,
        speaker_id,
        speaker_slug,
        speaker_name,
        score,
        statement_score,
        quote,
        quote_score,
        shared,
        total,
    ) = row
    claim = Claim(
        pk=pk,
        slug=slug,
        statement=statement,
        status=status,
        published_at=published_at,
        speaker=Speaker(pk=speaker_id, slug=speaker_slug, name=speaker_name),
    )
    if score == statement_score:
        matched = "statement"
    elif quote_score is not None and score == quote_score:
        matched = "quote"
    else:
        matched = "words"
    return Match(
        claim=claim,
        score=float(score),
        matched=matched,
        quote=quote if matched == "quote" else "",
        shared_words=shared,
        words=total,
    )


@in_a_transaction
def add_as_appearance(
    *,
    claim: Claim,
    source: Source,
    speaker: Speaker,
    words: str,
    quote_kind: str,
    editor: User,
    context_before: str = "",
) -> Appearance:
    """What the desk does instead of a new claim that repeats `claim`: the words
    anchored in `source` as `speaker`'s quote, and `claim` appearing through them.
    Nothing is written unless both hold."""
    require_permission(editor, "claims.add_appearance", "Only the desk records appearances.")
    quote, _ = anchor_quote(
        source=source, speaker=speaker, words=words, kind=quote_kind, context_before=context_before
    )
    appearance, _ = add_appearance(claim=claim, source=source, quote=quote)
    return appearance
