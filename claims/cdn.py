"""A CDN (or any shared cache) in front of the reader pages and the API: what it may
keep, what each answer shows, and what a ledger write makes stale.

**What it may keep.** An answer that its view marks `public` (the reader pages,
claims.site_pages.reader_cache; the API's anonymous reads, claims.api.common) is
given, for a request without a login or an `Authorization` header, `s-maxage`
(settings.CDN_SHARED_MAX_AGE: an hour when purges are sent, a minute otherwise),
`stale-while-revalidate` and `stale-if-error`. Browsers keep their own `max-age`
(a minute): a purge reaches the CDN, never a reader's browser. The same answer to a
logged-in editor or an API client with a token is `private`: what they see may be
theirs alone (drafts, desk links), and a shared cache must not keep it.

**What each answer shows.** `Surrogate-Key` (Fastly, Varnish's xkey; space-separated)
and `Cache-Tag` (Cloudflare, Akamai; comma-separated) name it: `claim-<id>` for a
claim's own page and API detail, with the speaker, topics and sources it shows
(`speaker-<id>`, `topic-<id>`, `source-<id>`) and the claims it links to (similar
claims, its chain in time); `speaker-<id>`, `topic-<id>` and `source-<id>` for those
pages; and LISTS for every other answer (home, lists, search, feeds, sitemaps, the
API's lists, the ledger's own pages), which any ledger write may change: a CDN
keeps those LIST_MAX_AGE at most.

**What a ledger write makes stale.** Every verdict, correction, publication and
withdrawal is a ledger entry (claims.ledger.entries), so the ledger is this
module's outbox: `send_purges` reads the entries after the sequence last purged
(CdnPurgeCursor), names the keys of their claims (`keys_for_claims`: the claim, its
speaker, topics and sources; LISTS only for an entry that `takes_away`: lists are
kept LIST_MAX_AGE), POSTs them to settings.CDN_PURGE_URL and moves
the cursor on only when the CDN answered 2xx. It runs after each ledger write's
answer has gone out (claims.ledger.checkpoints.after_response), and `manage.py
send_purges` retries what a failure left (a CDN that was down): a purge may come
late, never be skipped. A withdrawn verdict is thus purged with its withdrawal.
With read replicas (factcheck.db.read_routing), a purge waits until the replicas
in use have replayed the write (those that have not within
DATABASE_REPLICA_MAX_LAG_SECONDS are left out), since the CDN fetches the page
again at once.

What is not a ledger entry (a speaker's new name, an appearance added) changes pages
that are not purged: they are at most CDN_SHARED_MAX_AGE old.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.cache import patch_cache_control

from claims.ledger.after_response import after_response
from factcheck.conditional import default_cache_control
from factcheck.db import read_routing

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

# Every answer no view named more precisely: lists, search, feeds, the ledger's pages.
LISTS = "claims"
# How long a CDN keeps those (s-maxage): at 10 verdicts a second, purging every list
# on each would empty them ten times a second at every edge. They are purged when
# something is taken away from readers (`takes_away`); a new verdict reaches them
# within this.
LIST_MAX_AGE = 60
# Ledger entries read per purge request, at most.
PURGE_BATCH = 1_000
CURSOR_NAME = "cdn"


def claim_key(pk: int) -> str:
    return f"claim-{pk}"


def speaker_key(pk: int) -> str:
    return f"speaker-{pk}"


def topic_key(pk: int) -> str:
    return f"topic-{pk}"


def source_key(pk: int) -> str:
    return f"source-{pk}"


# --- Naming what an answer shows --------------------------------------------------


def tag(request: Any, keys: Iterable[str]) -> None:
    """Name what this answer shows (a Django or a DRF request)."""
    plain = getattr(request, "_request", request)
    known: set[str] = getattr(plain, "surrogate_keys", set())
    known.update(keys)
    plain.surrogate_keys = known


def claim_page_keys(
    *,
    claim: Any,
    topics: Iterable[Any] = (),
    appearances: Iterable[Any] = (),
    sources: Iterable[Any] = (),
    linked_claims: Iterable[Any] = (),
) -> set[str]:
    """A claim's page: the claim, its speaker, topics, the sources it appears in or
    cites, and the claims it links to; from what the page read (no query)."""
    keys = {claim_key(claim.pk), speaker_key(claim.speaker_id)}
    keys.update(topic_key(topic.pk) for topic in topics)
    keys.update(source_key(appearance.source_id) for appearance in appearances)
    keys.update(source_key(source.pk) for source in sources)
    keys.update(claim_key(other.pk) for other in linked_claims)
    return keys


def is_personal(request: HttpRequest) -> bool:
    """An answer to a logged-in user or a token's holder: not for a shared cache."""
    if request.headers.get("authorization"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SharedCacheMiddleware:
    """The shared cache's directives and keys on public answers; `private` on personal ones.

    Outside the anonymous 304 shortcut (factcheck.conditional), so that its 304s carry
    the same directives as the pages they stand for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return response
        default_cache_control(request, response)
        directives = {
            d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",")
        }
        if "public" not in directives:
            return response
        if is_personal(request):
            # patch_cache_control drops `public` when `private` is set.
            patch_cache_control(response, private=True)
            return response
        keys = getattr(request, "surrogate_keys", None) or {LISTS}
        shared_age = settings.CDN_SHARED_MAX_AGE
        if LISTS in keys:
            shared_age = min(shared_age, LIST_MAX_AGE)
        patch_cache_control(
            response,
            s_maxage=shared_age,
            stale_while_revalidate=settings.CDN_STALE_WHILE_REVALIDATE,
            stale_if_error=settings.CDN_STALE_IF_ERROR,
        )
        if response.status_code != 304:
            # A 304 updates the headers a cache stored: it names nothing, so that the
            # stored answer keeps its own keys.
            named = sorted(keys)
            response["Surrogate-Key"] = " ".join(named)
            response["Cache-Tag"] = ",".join(named)
        return response


# --- Purging what a ledger write changed ---------------------------------------------

# The keys of some claims' pages and of every page listing them, in one statement.
_CLAIM_KEYS_SQL = """
    SELECT c.id, c.speaker_id,
           ARRAY(SELECT t.topic_id FROM claims_claim_topics t WHERE t.claim_id = c.id),
           ARRAY(SELECT DISTINCT a.source_id FROM claims_appearance a WHERE a.claim_id = c.id)
      FROM claims_claim c
     WHERE c.id = ANY(%s)
"""


def keys_for_claims(claim_ids: Iterable[int]) -> set[str]:
    """What a ledger write on these claims may have changed: their pages, their
    speakers', topics' and sources' pages, and every list (LISTS)."""
    keys = {LISTS}
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_KEYS_SQL, [sorted(set(claim_ids))])
        for claim_id, speaker_id, topic_ids, source_ids in cursor.fetchall():
            keys.add(claim_key(claim_id))
            keys.add(speaker_key(speaker_id))
            keys.update(topic_key(pk) for pk in topic_ids)
            keys.update(source_key(pk) for pk in source_ids)
    return keys


def takes_away(action: str, status_before: str, status_after: str) -> bool:
    """An entry that takes something away from readers: a claim withdrawn from them, or
    a verdict taken back. Lists are purged for these only; a new verdict or wording
    reaches them within LIST_MAX_AGE."""
    from claims.models import Review
    from claims.ratings import get_rating

    if action == Review.Action.UNPUBLISH:
        return True
    return get_rating(status_before).is_verdict and not get_rating(status_after).is_verdict


class PurgeFailed(Exception):
    """The CDN did not take the purge: the cursor stays, the next send retries."""


def post_purge(keys: set[str]) -> None:
    """One purge request: the keys as JSON and in a Surrogate-Key header (as Fastly's
    purge by key reads them), with the bearer token when one is set."""
    ordered = sorted(keys)
    request = urllib.request.Request(
        settings.CDN_PURGE_URL,
        data=json.dumps({"surrogate_keys": ordered}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Surrogate-Key": " ".join(ordered)},
    )
    if settings.CDN_PURGE_TOKEN:
        request.add_header("Authorization", f"Bearer {settings.CDN_PURGE_TOKEN}")
    try:
        with urllib.request.urlopen(  # noqa: S310 (the operator's own URL, from settings)
            request, timeout=settings.CDN_PURGE_TIMEOUT_SECONDS
        ) as answer:
            status = answer.status
    except urllib.error.HTTPError as refused:
        raise PurgeFailed(f"{settings.CDN_PURGE_URL} answered {refused.code}") from refused
    except (OSError, ValueError) as failure:
        raise PurgeFailed(f"{settings.CDN_PURGE_URL}: {failure}") from failure
    if not 200 <= status < 300:
        raise PurgeFailed(f"{settings.CDN_PURGE_URL} answered {status}")


def send_purges() -> int:
    """Purge the keys of every ledger entry not purged yet, a batch at a time; returns
    the entries covered. Raises PurgeFailed (what was sent before stays sent)."""
    from claims.models import CdnPurgeCursor, Review

    if not settings.CDN_PURGE_URL:
        return 0
    covered = 0
    while True:
        # The cursor's row lock orders senders: a second one waits, then sends what
        # the first did not cover (its own write's entries), never the same twice.
        with transaction.atomic():
            cursor, _ = CdnPurgeCursor.objects.select_for_update().get_or_create(name=CURSOR_NAME)
            entries = list(
                Review.objects.filter(sequence__gt=cursor.sequence)
                .order_by("sequence")
                .values_list("sequence", "claim_id", "action", "status_before", "status_after")[
                    :PURGE_BATCH
                ]
            )
            if not entries:
                return covered
            if read_routing.replica_aliases():
                # The CDN fetches the pages again as soon as they are purged: from
                # replicas that have these entries, or from none.
                read_routing.wait_until_replayed(
                    read_routing.primary_position(),
                    timeout=settings.DATABASE_REPLICA_MAX_LAG_SECONDS,
                )
            keys = keys_for_claims(entry[1] for entry in entries)
            if not any(takes_away(*entry[2:]) for entry in entries):
                keys.discard(LISTS)
            post_purge(keys)
            cursor.sequence = entries[-1][0]
            cursor.save(update_fields=["sequence", "updated_at"])
        covered += len(entries)


def purge_after_commit() -> None:
    """Called as each ledger write commits (claims.ledger.entries)."""
    if settings.CDN_PURGE_URL:
        after_response(send_purges_logged)


def send_purges_logged() -> None:
    """After a ledger write's answer: a failure is logged (and retried by the next
    write or `manage.py send_purges`), never raised to the editor."""
    try:
        send_purges()
    except PurgeFailed as failure:
        logger.warning("CDN purge not sent, will be retried: %s", failure)
    except Exception:
        logger.exception("CDN purge failed, will be retried")
