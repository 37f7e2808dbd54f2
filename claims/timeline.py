"""Claims in time: a claim that holds as of a date, and the newer claim that replaced it.

The bounty on Nicolás Maduro was $15 million, then $25 million, then $50 million:
three claims, each checked against what held when it was made, each keeping its own
verdict. The older claim is superseded by the newer (`Claim.superseded_by`); the
chain runs from the oldest to the newest, and the reader's page of any of them shows
it whole (`reader_chain`).

The rules, in `check_in_time`, which the admin's form, the API and `supersede` call:
- a claim is not superseded by itself, nor by a claim it supersedes, directly or not
  (no cycles);
- when both dates are known, the newer claim holds later than the older: its
  `holds_as_of`, or failing that its `claim_date`, is after the older's, and so are
  the dates of the claims a claim supersedes before its own;
- the speakers may differ: a figure moves whoever states it (the bounty's $25 million
  was announced by the State Department, its $50 million by the Attorney General),
  and a claim's speaker is who made that claim, not who owns the fact.

Superseding is not a correction: it changes neither claim's wording nor verdict, so it
writes no ledger entry, and it is allowed on a published or rated claim
(`superseded_by` and `holds_as_of` are not among Claim.CHECKABLE_FIELDS, so
claims.services.check_claim_edit lets them through). The edit history (pghistory)
records who linked what, and when. A newer claim's verdict is never the older's: each
page takes the verdict of its own claim.

Links are checked and written under a transaction-level advisory lock, so two editors
linking the same claims in opposite directions at once cannot make a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from claims.models import Claim
from claims.services import in_a_transaction, require_permission

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# pg_advisory_xact_lock key serializing links in time (the ledger's is 7_301_451_620,
# tips' 7_301_451_621).
LINK_LOCK_KEY = 7_301_451_631
# The longest chain walked: a bound on the recursive queries, never reached in use.
MOST_LINKS = 100

# Whether `newer` (or a claim newer than it) is `claim`: linking `claim` to it would
# close a cycle.
_CYCLE_SQL = """
WITH RECURSIVE newer(id, depth) AS (
    SELECT %(newer)s::bigint, 0
    UNION ALL
    SELECT c.superseded_by_id, n.depth + 1 FROM claims_claim c JOIN newer n ON c.id = n.id
     WHERE c.superseded_by_id IS NOT NULL AND n.depth < %(most)s
)
SELECT EXISTS (SELECT 1 FROM newer WHERE id = %(claim)s)
"""

# The whole chain a claim is in: up to the newest claim through `superseded_by`, then
# down from it through every claim it supersedes, directly or not. Oldest first.
CHAIN_SQL = """
WITH RECURSIVE newer(id, next_id, depth) AS (
    SELECT id, superseded_by_id, 0 FROM claims_claim WHERE id = %(claim)s
    UNION ALL
    SELECT c.id, c.superseded_by_id, n.depth + 1
      FROM claims_claim c JOIN newer n ON c.id = n.next_id
     WHERE n.depth < %(most)s
), newest AS (
    SELECT id FROM newer ORDER BY depth DESC LIMIT 1
), chain(id, depth) AS (
    SELECT id, 0 FROM newest
    UNION ALL
    SELECT c.id, chain.depth + 1
      FROM claims_claim c JOIN chain ON c.superseded_by_id = chain.id
     WHERE chain.depth < %(most)s
)
SELECT c.id, c.slug, c.statement, c.short_form, c.status, c.published_at, c.claim_date,
       c.holds_as_of, c.quantity, c.unit, c.quantity_qualifier, c.superseded_by_id,
       chain.depth
  FROM chain JOIN claims_claim c ON c.id = chain.id
 ORDER BY chain.depth DESC, coalesce(c.holds_as_of, c.claim_date), c.id
"""


def when(claim: Claim) -> date | None:
    """The date a claim holds as of: `holds_as_of`, else when it was said."""
    return claim.holds_as_of or claim.claim_date


def check_in_time(claim: Claim, *, superseded_by: Claim | None, holds_as_of: date | None) -> None:
    """Refuse, naming the field, a place in time that breaks the rules above: `claim`
    superseded by `superseded_by` and holding as of `holds_as_of` (its other fields as
    they are on `claim`). Takes the links' lock until the transaction ends; call it
    in the transaction that saves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_LOCK_KEY])
    errors: dict[str, str] = {}
    own = holds_as_of or claim.claim_date
    if superseded_by is not None:
        if claim.pk is not None and superseded_by.pk == claim.pk:
            errors["superseded_by"] = "A claim cannot supersede itself."
        elif claim.pk is not None and _newer_than(superseded_by, claim):
            errors["superseded_by"] = (
                f"“{superseded_by.short_statement}” is older than this claim in its chain "
                "(this claim supersedes it, directly or through others): a chain runs one way."
            )
        elif (newer := when(superseded_by)) is not None and own is not None and newer <= own:
            errors["superseded_by"] = (
                f"“{superseded_by.short_statement}” holds as of {newer.isoformat()}, not after "
                f"this claim ({own.isoformat()}): the newer claim must hold later."
            )
    if claim.pk is not None and own is not None and "superseded_by" not in errors:
        later = [
            older
            for older in Claim.objects.filter(superseded_by=claim).only(
                "statement", "short_form", "holds_as_of", "claim_date"
            )
            if (then := when(older)) is not None and then >= own
        ]
        if later:
            then = when(later[0])
            errors["holds_as_of" if holds_as_of else "claim_date"] = (
                f"This claim supersedes “{later[0].short_statement}”, which holds as of "
                f"{then.isoformat() if then else ''}: a newer claim must hold later than "
                "the claims it supersedes."
            )
    if errors:
        raise ValidationError(errors, code="not_in_time")


def _newer_than(claim: Claim, other: Claim) -> bool:
    """Whether `claim` is `other`, or newer than it through superseded_by links:
    one query (a walk bounded by MOST_LINKS)."""
    with connection.cursor() as cursor:
        cursor.execute(_CYCLE_SQL, {"newer": claim.pk, "claim": other.pk, "most": MOST_LINKS})
        (found,) = cursor.fetchone()
    return bool(found)


@in_a_transaction
def supersede(*, older: Claim, newer: Claim | None, editor: User) -> None:
    """Record that `newer` replaces `older` (None: that nothing does any more). The
    older claim's wording, verdict and ledger stay as they are: no ledger entry is
    written, the edit history records the link."""
    require_permission(editor, "claims.change_claim", "Only the desk links claims in time.")
    check_in_time(older, superseded_by=newer, holds_as_of=older.holds_as_of)
    Claim.objects.filter(pk=older.pk).update(superseded_by=newer, updated_at=timezone.now())
    older.superseded_by = newer


def chain(claim: Claim) -> list[Claim]:
    """Every claim in `claim`'s chain, oldest first (`claim` alone when it is in none),
    each with `depth`: how many links from the newest. One query."""
    found = Claim.objects.raw(CHAIN_SQL, {"claim": claim.pk, "most": MOST_LINKS})
    seen: set[int] = set()
    claims = []
    for item in found:
        if item.pk not in seen:  # a cycle the rules refuse, were it ever stored
            seen.add(item.pk)
            claims.append(item)
    return claims


@dataclass(frozen=True)
class InTime:
    """A claim's chain as its reader page shows it: published claims only."""

    claims: list[Claim]  # oldest first, the page's own among them
    current: Claim
    # The nearest newer published claim, when there is one: this claim is superseded.
    newer: Claim | None


def reader_chain(claim: Claim) -> InTime | None:
    """`claim`'s chain as readers see it (its published claims, oldest first), or None
    when no other published claim is in it. One query."""
    claims = chain(claim)
    published = [item for item in claims if item.published_at is not None]
    if len(published) < 2 or all(item.pk != claim.pk for item in published):
        return None
    by_id: dict[int | None, Claim] = {item.pk: item for item in claims}
    current = by_id[claim.pk]
    # Up the links to the first published claim: a draft between them is skipped.
    newer = by_id.get(current.superseded_by_id)
    seen = {current.pk}
    while newer is not None and newer.published_at is None and newer.pk not in seen:
        seen.add(newer.pk)
        newer = by_id.get(newer.superseded_by_id)
    if newer is not None and newer.published_at is None:
        newer = None
    return InTime(claims=published, current=current, newer=newer)
