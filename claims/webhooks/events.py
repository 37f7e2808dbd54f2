"""Which ledger entries are events, and what subscribers are told of them.

An entry is judged with the claim's publication as it stood just before it,
which the ledger itself says (its last publish or unpublish entry), never with
the claim as it is when the worker reads it: a verdict followed by an
unpublication is two events, whenever the worker gets to them.

- `verdict.recorded`: a verdict (claims.ratings.VERDICT_STATUSES) recorded on a
  published claim, or a claim carrying a verdict published: either way a
  ClaimReview appears or changes.
- `verdict.corrected`: a typo or clarification correction of a published claim
  whose verdict stands.
- `verdict.withdrawn`: the ClaimReview of a published verdict is gone: the claim
  unpublished, corrected substantively (back in review), or reviewed back to a
  workflow status. What claims.api.interop tells harvesters with a tombstone.

Entries about drafts, and about published claims without a verdict, are no event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.urls import reverse

from claims.claimreview import absolute_url, claim_url
from claims.models import Review, ReviewAction
from claims.ratings import VERDICT_STATUSES, get_rating
from claims.webhooks.models import WebhookEvent


def event_of(entry: Review, *, was_published: bool) -> WebhookEvent | None:
    """The event `entry` is, given whether its claim was published just before it."""
    had_verdict = entry.status_before in VERDICT_STATUSES
    has_verdict = entry.status_after in VERDICT_STATUSES
    if entry.action == ReviewAction.PUBLISH:
        return WebhookEvent.RECORDED if has_verdict else None
    if entry.action == ReviewAction.UNPUBLISH:
        return WebhookEvent.WITHDRAWN if had_verdict else None
    if not was_published:
        return None
    if entry.action == ReviewAction.REVIEW:
        if has_verdict:
            return WebhookEvent.RECORDED
        return WebhookEvent.WITHDRAWN if had_verdict else None
    if entry.action == ReviewAction.CORRECTION and had_verdict:
        return WebhookEvent.CORRECTED if has_verdict else WebhookEvent.WITHDRAWN
    return None


def published_before(entries: Sequence[Review]) -> dict[int, bool]:
    """Whether each entry's claim was published just before the first of `entries`
    (in sequence order): one query, on the index of each claim's entries."""
    if not entries:
        return {}
    claim_ids = {entry.claim_id for entry in entries}
    latest = (
        Review.objects.filter(
            claim_id__in=claim_ids,
            sequence__lt=entries[0].sequence,
            action__in=[ReviewAction.PUBLISH, ReviewAction.UNPUBLISH],
        )
        .order_by("claim_id", "-sequence")
        .distinct("claim_id")
        .values_list("claim_id", "action")
    )
    published = dict.fromkeys(claim_ids, False)
    published.update({claim_id: action == ReviewAction.PUBLISH for claim_id, action in latest})
    return published


def events_in(entries: Sequence[Review]) -> Iterable[tuple[Review, WebhookEvent]]:
    """The entries that are events, with their event; `entries` in sequence order,
    consecutive (the claim's publication is followed from one to the next)."""
    published = published_before(entries)
    for entry in entries:
        event = event_of(entry, was_published=published[entry.claim_id])
        if entry.action == ReviewAction.PUBLISH:
            published[entry.claim_id] = True
        elif entry.action == ReviewAction.UNPUBLISH:
            published[entry.claim_id] = False
        if event is not None:
            yield entry, event


def payload(entry: Review, event: WebhookEvent) -> dict[str, Any]:
    """What a subscriber receives (docs/webhooks.md has an example).

    `entry.claim` is read with the entry (its slug makes the addresses). The
    statement is the one the entry committed to; nothing of the desk's internal
    notes is ever sent.
    """
    claim = entry.claim
    return {
        "type": event.value,
        "timestamp": entry.created_at.isoformat(),
        "data": {
            "claim": {
                "slug": claim.slug,
                "statement": entry.claim_content["statement"],
                "url": claim_url(claim),
                "claimreview_url": absolute_url(
                    reverse("api:claim-claimreview", kwargs={"slug": claim.slug})
                ),
                "ledger_url": absolute_url(
                    reverse("api:claim-reviews", kwargs={"slug": claim.slug})
                ),
            },
            "entry": {
                "sequence": entry.sequence,
                "hash": entry.entry_hash,
                "action": entry.action,
                "correction_class": entry.correction_class or None,
                "recorded_at": entry.created_at.isoformat(),
                "inclusion_proof_url": absolute_url(
                    reverse("api:ledger-inclusion-proof", kwargs={"sequence": entry.sequence})
                ),
            },
            "status_before": get_rating(entry.status_before).as_data(),
            "status_after": get_rating(entry.status_after).as_data(),
        },
    }


def body(entry: Review, event: WebhookEvent) -> str:
    """The payload as the bytes sent and signed (sorted keys, no spaces), as text."""
    return orjson.dumps(payload(entry, event), option=orjson.OPT_SORT_KEYS).decode()
