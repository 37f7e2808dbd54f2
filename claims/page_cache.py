"""A cache of anonymous reader pages and API reads, shared by every process through
Redis (REDIS_URL; the "pages" cache), or each process's own memory without it, and
dropped precisely when a ledger write changes what a page shows.

**What is kept.** A GET without a session cookie, a messages cookie or an
`Authorization` header (factcheck.conditional.carries_credentials: what the anonymous
304 shortcut serves too), answered 200, `public`, without a cookie set, not streamed,
that used no CSRF token and varies on nothing but `Accept`, `Cookie` and
`Authorization`, is kept settings.PAGE_CACHE_SECONDS (0: no page cache at all). Its key
is the scheme (the API's links are absolute), the host, the path with its query
string and the class of its `Accept` (`accept_class`: DRF chooses a renderer by it);
nothing else. A HEAD is answered from a GET's entry, without the body; a conditional
GET from an entry's validators (a 304). An answer from the cache says `X-Cache: hit`,
one that went to the view `X-Cache: miss`; the API's are counted by the anonymous
throttle as the view would count them (over the rate: the view answers, 429).

**What each entry shows.** An entry keeps, beside the answer, the surrogate keys its
view named (claims.cdn: `claim-<id>`, `speaker-<id>`, `topic-<id>`, `source-<id>`, or
LISTS) and, for each, its *generation*: a counter in the cache (`pagecache:gen:<key>`).
A hit reads the entry, then its keys' generations in one `get_many`, and serves it
only if every one is what the entry recorded: no database query at all.

**What a ledger write drops.** Every verdict, correction, publication and withdrawal
is a ledger entry (claims.ledger.entries.append_entry), which calls
`invalidate_after_commit(claim_id)` as it commits: that bumps the generations of
claims.cdn.keys_for_claims (the claim, its speaker, topics and sources, and LISTS) in
the writer's thread, before its answer goes out, so that once the editor has seen a
withdrawal, no reader is served the withdrawn verdict from here. Other pages stay:
a verdict on one claim leaves another claim's page kept, and drops every list.

**The race, and why none is left.** A page rendered while a write commits may show
what was there before the write; stored with generations read after the bump, it
would look current. So an invalidation bumps a global generation, the *epoch*, first,
then its keys'; a miss reads the epoch before the view runs, and after it reads its
keys' generations and then the epoch again, and stores the page only if the epoch
did not move. Take a write W the page does not show: W committed after the view
began reading, so W's bump began after the first read of the epoch. Either the
epoch's bump came before the second read (the epoch moved: not stored), or after it,
and then so did the bump of W's keys (they come after the epoch's), so the generations
stored are older than W's and the entry is stale from the moment W's bump lands. On
Redis the bump is one MULTI/EXEC and the reads one MGET; on the local memory cache
`get_many` reads in order, keys before the epoch. A write that lands while pages
render (the epoch moved) costs those pages their storing, nothing else. What is left
is the instant between the writer's COMMIT and its bump (one cache round trip, in
the same thread): no answer to its writer, nor any page built after it, is stale.

A generation is never created at a small number: a counter the cache dropped (memory
full, an eviction) comes back at a random 62-bit value, so it cannot climb back to a
value an old entry recorded; an entry whose generations are missing is not served.

**Read replicas.** A page may be built from a replica that has not replayed a write
whose bump is done; so with replicas, each write bumps its keys again once the
replicas in use have replayed it (claims.ledger.after_response, after the writer's
answer, as claims.cdn waits before purging; a replica that does not within
DATABASE_REPLICA_MAX_LAG_SECONDS is left out of reads).

**Not dropped.** What is not a ledger entry (a speaker renamed, an appearance added,
a new template) changes pages that are not dropped: they are at most
PAGE_CACHE_SECONDS old, as the CDN's are at most CDN_SHARED_MAX_AGE. A page whose
body carries a CSP nonce keeps it, as a CDN's copy does.

**Without Redis.** Each process's memory holds its own pages and generations, and
a write bumps only its own process's: another worker would keep a withdrawn verdict
until PAGE_CACHE_SECONDS. So the page cache is off by default without REDIS_URL
(settings), for an operator to turn on with a single process.

If the cache cannot be reached, pages are built as if there were none (logged).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from claims import cdn
from claims.ledger.after_response import after_response
from factcheck.conditional import BASE_MARKUP_VERSION, carries_credentials, default_cache_control
from factcheck.db import read_routing

logger = logging.getLogger(__name__)

ALIAS = "pages"
GENERATION = "pagecache:gen:"
EPOCH = "pagecache:epoch"
# The entries' format and the frame's markup: either changed, no old entry is read.
PAGE = f"pagecache:v1:{BASE_MARKUP_VERSION}:page:"
# The `Vary` an entry may carry: what its key covers, or what an anonymous request
# without a session (the only kind kept) does not differ by.
KEPT_VARY = {"accept", "cookie", "authorization"}
# Django's cookie storage of flash messages: a page shows them, and clears them.
MESSAGES_COOKIE = "messages"


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def _cache() -> Any:
    return caches[ALIAS]


def _generation(key: str) -> str:
    return GENERATION + key


def _fresh() -> int:
    return secrets.randbits(62)


# --- Generations ----------------------------------------------------------------------


def _bump(cache: Any, names: list[str]) -> None:
    """Add one to each counter, in order, creating a missing one at a random value."""
    if isinstance(cache, RedisCache):
        # One MULTI/EXEC: atomic, and in one round trip. (Django's incr() checks
        # existence, then INCRs: a counter evicted in between would restart at 1.)
        client = cache._cache.get_client(cache.make_and_validate_key(names[0]), write=True)
        with client.pipeline(transaction=True) as pipe:
            for name in names:
                full = cache.make_and_validate_key(name)
                pipe.set(full, _fresh(), nx=True)
                pipe.incr(full)
            pipe.execute()
        return
    for name in names:
        while True:
            cache.add(name, _fresh(), timeout=None)
            try:
                cache.incr(name)
                break
            except ValueError:  # dropped between add() and incr(): again
                continue


def invalidate(keys: Iterable[str]) -> None:
    """Every kept page naming one of these surrogate keys is stale from now on."""
    names = sorted({_generation(key) for key in keys})
    if names and enabled():
        _bump(_cache(), [EPOCH, *names])


def invalidate_claims(claim_ids: Iterable[int]) -> None:
    """The pages a ledger write on these claims may have changed (claims.cdn)."""
    invalidate(cdn.keys_for_claims(claim_ids))


def invalidate_after_commit(claim_id: int) -> Callable[[], None]:
    """For `transaction.on_commit`, by each ledger write (claims.ledger.entries):
    drops its claim's pages as it commits, and again once the replicas replayed it."""

    def committed() -> None:
        if not enabled():
            return
        try:
            invalidate_claims([claim_id])
        except Exception:
            logger.exception("Page cache not invalidated for claim %s", claim_id)
        if read_routing.replica_aliases():
            position = read_routing.primary_position()
            after_response(lambda: _invalidate_once_replayed(claim_id, position))

    return committed


def _invalidate_once_replayed(claim_id: int, position: int) -> None:
    try:
        read_routing.wait_until_replayed(
            position, timeout=settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        )
        invalidate_claims([claim_id])
    except Exception:
        logger.exception("Page cache not invalidated after replay for claim %s", claim_id)


def _epoch(cache: Any) -> Any:
    epoch = cache.get(EPOCH)
    if epoch is None:
        cache.add(EPOCH, _fresh(), timeout=None)
        epoch = cache.get(EPOCH)
    return epoch


# --- Keys -----------------------------------------------------------------------------


def accept_class(accept: str) -> str:
    """What DRF's negotiation can tell apart in `Accept`, as few classes as is safe:
    `any` (none, or */*), `json` (application/json alone, without parameters: DRF's
    JSON renderer reads `indent`), `html` (text/html among types none of which names
    JSON: a browser's), else the header itself."""
    value = " ".join(accept.lower().split())
    if value in ("", "*/*"):
        return "any"
    if value == "application/json":
        return "json"
    types = [part.split(";")[0].strip() for part in value.split(",")]
    if "text/html" in types and not any("json" in kind for kind in types):
        return "html"
    return "accept=" + value


def page_key(request: HttpRequest) -> str:
    parts = [
        request.scheme or "",
        request.get_host(),
        accept_class(request.headers.get("accept", "")),
        request.get_full_path(),
    ]
    return PAGE + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _eligible(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and enabled()
        and not carries_credentials(request)
        and MESSAGES_COOKIE not in request.COOKIES
    )


# --- Storing and answering --------------------------------------------------------------


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # a cookie set, or a CSRF token in the body: this reader's own
    if cdn.is_personal(request):
        return False
    default_cache_control(request, response)
    directives = {
        d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",")
    }
    if "public" not in directives or directives & {"private", "no-store", "no-cache"}:
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= KEPT_VARY


def _throttled(request: HttpRequest) -> bool:
    """A DRF view's answer: counted by the anonymous throttle when answered from here."""
    match = getattr(request, "resolver_match", None)
    view_class = getattr(getattr(match, "func", None), "cls", None)
    return bool(view_class is not None and getattr(view_class, "throttle_classes", ()))


def _store(cache: Any, key: str, epoch: Any, request: HttpRequest, response: HttpResponse) -> bool:
    keys = sorted(getattr(request, "surrogate_keys", None) or {cdn.LISTS})
    names = [_generation(k) for k in keys]
    # The keys' generations first, the epoch last (get_many reads in order).
    current = cache.get_many([*names, EPOCH])
    missing = [name for name in names if name not in current]
    if missing:
        for name in missing:
            cache.add(name, _fresh(), timeout=None)
        current = cache.get_many([*names, EPOCH])
    if current.get(EPOCH) != epoch or any(name not in current for name in names):
        return False  # a write landed while the page was built: not kept
    entry = {
        "status": response.status_code,
        "headers": [(k, v) for k, v in response.headers.items() if k.lower() != "x-cache"],
        "body": response.content,
        "keys": keys,
        "generations": [current[name] for name in names],
        "throttled": _throttled(request),
    }
    cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
    return True


def _lookup(cache: Any, key: str) -> dict[str, Any] | None:
    entry = cache.get(key)
    if entry is None:
        return None
    names = [_generation(k) for k in entry["keys"]]
    current = cache.get_many(names)
    if any(current.get(n) != g for n, g in zip(names, entry["generations"], strict=True)):
        return None
    return entry


def _answer(request: HttpRequest, entry: dict[str, Any]) -> HttpResponseBase | None:
    if entry["throttled"]:
        from claims.api.common import _AnonymousThrottle

        if not _AnonymousThrottle().allow_request(request, None):  # type: ignore[arg-type]
            return None  # the view answers: 429
    response = HttpResponse(
        b"" if request.method == "HEAD" else entry["body"], status=entry["status"]
    )
    for name, value in entry["headers"]:
        response.headers[name] = value
    # The CDN's directives and keys, as the view's answer got them (claims.cdn).
    request.surrogate_keys = set(entry["keys"])  # type: ignore[attr-defined]
    not_modified: HttpResponseBase | None = get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
        response=response,
    )
    answer: HttpResponseBase = response
    if not_modified is not None and not_modified is not response:
        if "X-Frame-Options" in response:
            not_modified.headers["X-Frame-Options"] = response["X-Frame-Options"]
        answer = not_modified
    answer["X-Cache"] = "hit"
    return answer


class PageCacheMiddleware:
    """Anonymous GETs and HEADs answered from the page cache, and its misses kept.

    Inside claims.cdn.SharedCacheMiddleware, so that a kept answer gets the CDN's
    directives and keys afresh (from the keys the entry names), and outside sessions,
    authentication, CSRF, the anonymous 304 shortcut and the view, so that what it
    keeps is what they produced, and a hit costs none of them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not _eligible(request):
            return self.get_response(request)
        try:
            key = page_key(request)
        except DisallowedHost:
            return self.get_response(request)
        cache = _cache()
        epoch = None
        try:
            entry = _lookup(cache, key)
            if entry is not None:
                answer = _answer(request, entry)
                if answer is not None:
                    return answer
            if request.method == "GET":
                epoch = _epoch(cache)
        except Exception:
            logger.exception("Page cache unreachable: building the page")
        response = self.get_response(request)
        if epoch is not None and _storable(request, response):
            try:
                _store(cache, key, epoch, request, response)  # type: ignore[arg-type]
            except Exception:
                logger.exception("Page cache unreachable: page not kept")
        response["X-Cache"] = "miss"
        return response
