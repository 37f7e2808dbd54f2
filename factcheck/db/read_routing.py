"""Per request, whether reads go to a read replica (DATABASE_REPLICA_URLS) or the primary.

The rules (ReadRoutingMiddleware, outermost of everything that queries):

- GET and HEAD read from a replica: reader pages and the API, for anonymous
  readers and signed-in editors alike (the session itself is always read on the
  primary, factcheck.db.routers.PRIMARY_APPS);
- every other method, everything under PRIMARY_PATHS (the admin, the ledger's
  proofs and checkpoints) and every request with an `Authorization` header (API
  clients with a token, who keep no cookie) read the primary;
- read-your-writes: a request that may have written (any other method, answered
  below 400) gets a signed cookie holding the primary's WAL position after its
  commit. While that cookie lives (READ_YOUR_WRITES_SECONDS), its holder reads
  only from a replica that has replayed past that position, else from the primary.
  The WAL position rather than the ledger's last `sequence`: it covers every
  write (a claim's wording, a source, a session), not only ledger entries, and
  comparing it needs no query of its own (the health check below reads each
  replica's replay position). The window only bounds the cookie's life: it must
  exceed DATABASE_REPLICA_MAX_LAG_SECONDS + DATABASE_REPLICA_CHECK_SECONDS, after
  which every replica still in use has replayed the write;
- a replica that cannot be reached, is not a standby, or lags more than
  DATABASE_REPLICA_MAX_LAG_SECONDS is left out, and with none left reads go to
  the primary. Each replica's health is one query, asked at most once per
  DATABASE_REPLICA_CHECK_SECONDS per process and remembered.

The choice lives in a ContextVar (factcheck.db.routers), reset when the request
ends. Raw cursors on `django.db.connection` still read the primary: correct,
only not offloaded.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from factcheck.db import routers

logger = logging.getLogger(__name__)

SAFE = ("GET", "HEAD")
# Read the primary whatever the method: the admin is where the desk works (it must
# see its own and its colleagues' writes at once); the ledger's proofs are asked
# for tree sizes named by checkpoints signed from the primary, which a replica
# may not have yet.
PRIMARY_PATHS = ("/admin/", "/api/v1/ledger/")
COOKIE = "fc_wrote"
SALT = "factcheck.db.read_routing"

# One query on the replica. `lag` is 0 when it has replayed all the WAL it has
# received and is still receiving (an idle primary sends nothing, so the age of
# the last replayed transaction says nothing then); otherwise the age of the
# last transaction it replayed (NULL: none since it started, so unknown).
HEALTH_SQL = """
    SELECT pg_is_in_recovery(),
           pg_last_wal_replay_lsn() - '0/0'::pg_lsn,
           CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
                 AND EXISTS (SELECT FROM pg_stat_wal_receiver)
                THEN 0
                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
           END
"""
WAL_POSITION_SQL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"


@dataclass(frozen=True)
class Health:
    usable: bool
    checked_at: float  # time.monotonic()
    replayed: int | None = None  # WAL position replayed, in bytes
    lag: float | None = None
    reason: str = ""


_health: dict[str, Health] = {}
_checking: set[str] = set()
_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return list(settings.DATABASE_REPLICAS)


def forget_health() -> None:
    """Drop every remembered answer, so the next request asks again (tests, a reload)."""
    with _lock:
        _health.clear()


def health(alias: str) -> Health:
    """The replica's health, asked at most every DATABASE_REPLICA_CHECK_SECONDS."""
    now = time.monotonic()
    with _lock:
        known = _health.get(alias)
        if known is not None and now - known.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
            return known
        if alias in _checking:
            # Another thread is asking: its last answer stands meanwhile, and a
            # replica never asked about yet is not used.
            return known or Health(False, now, reason="being checked")
        _checking.add(alias)
    try:
        found = _check(alias)
    finally:
        with _lock:
            _checking.discard(alias)
    _remember(alias, found)
    return found


def _check(alias: str) -> Health:
    now = time.monotonic()
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(HEALTH_SQL)
            in_recovery, replayed, lag = cursor.fetchone()
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            connection.close()
        return Health(False, now, reason=f"unreachable ({str(exc).strip() or type(exc).__name__})")
    if not in_recovery:
        # A promoted replica (or a URL naming a primary) goes its own way from now on.
        return Health(False, now, reason="not a standby (pg_is_in_recovery() is false)")
    replayed = int(replayed) if replayed is not None else None
    if lag is None:
        return Health(False, now, replayed, None, "behind, with nothing replayed since it started")
    lag = float(lag)
    if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        return Health(False, now, replayed, lag, f"lags {lag:.1f} s")
    return Health(True, now, replayed, lag)


def _remember(alias: str, found: Health) -> None:
    with _lock:
        before = _health.get(alias)
        _health[alias] = found
    if not found.usable and (before is None or before.usable):
        logger.warning("Read replica %s left out, reads go elsewhere: %s", alias, found.reason)
    elif found.usable and before is not None and not before.usable:
        logger.info("Read replica %s back in use", alias)


def mark_unusable(alias: str, reason: str) -> None:
    """Leave the replica out until its next check is due."""
    _remember(alias, Health(False, time.monotonic(), reason=reason))


def choose(written: int | None = None) -> str:
    """A usable replica, at random (that has replayed WAL position `written`, if
    given), or the primary when there is none."""
    candidates = []
    for alias in replica_aliases():
        found = health(alias)
        if found.usable and (
            written is None or (found.replayed is not None and found.replayed >= written)
        ):
            candidates.append(alias)
    random.shuffle(candidates)
    for alias in candidates:
        # No query: opens the connection if there is none, so a replica that went
        # down since its check (its connection dropped after the failed request)
        # costs no request a 503.
        try:
            connections[alias].ensure_connection()
        except DatabaseError as exc:
            mark_unusable(alias, f"unreachable ({str(exc).strip() or type(exc).__name__})")
            continue
        return alias
    return DEFAULT_DB_ALIAS


def route(request: HttpRequest) -> str:
    """The alias this request reads from."""
    if not replica_aliases() or request.method not in SAFE:
        return DEFAULT_DB_ALIAS
    if request.path_info.startswith(PRIMARY_PATHS) or "authorization" in request.headers:
        return DEFAULT_DB_ALIAS
    return choose(written_at(request))


def written_at(request: HttpRequest) -> int | None:
    """The primary's WAL position after this client's last write, while it counts."""
    value = request.get_signed_cookie(
        COOKIE, default=None, salt=SALT, max_age=settings.READ_YOUR_WRITES_SECONDS
    )
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class ReadRoutingMiddleware:
    """Routes the request's reads (see the module's rules); outside every middleware
    that queries, so the anonymous 304's change stamp and the page are read from the
    same database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        alias = route(request)
        token = routers.read_from(alias)
        try:
            response = self.get_response(request)
        finally:
            routers.reset(token)
        if alias != DEFAULT_DB_ALIAS and _broke(alias):
            mark_unusable(alias, "its connection broke during a request")
        if request.method not in SAFE and response.status_code < 400 and replica_aliases():
            _remember_write(request, response)
        return response


def _broke(alias: str) -> bool:
    connection = connections[alias]
    if not connection.errors_occurred:
        return False
    raw = connection.connection
    return raw is None or bool(raw.closed or getattr(raw, "broken", False))


def _remember_write(request: HttpRequest, response: HttpResponse) -> None:
    if "authorization" in request.headers:
        return  # token clients keep no cookie, and read the primary anyway
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(WAL_POSITION_SQL)
            (position,) = cursor.fetchone()
    except DatabaseError:
        logger.exception("Could not read the primary's WAL position after a write")
        return
    response.set_signed_cookie(
        COOKIE,
        str(int(position)),
        salt=SALT,
        max_age=settings.READ_YOUR_WRITES_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def signed_position(position: int) -> str:
    """The cookie's value for WAL position `position` (tests)."""
    return signing.get_cookie_signer(salt=COOKIE + SALT).sign(str(position))


REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn"


def primary_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(WAL_POSITION_SQL)
        return int(cursor.fetchone()[0])


def wait_until_replayed(position: int, *, timeout: float, poll: float = 0.05) -> list[str]:
    """Return once every replica in use has replayed the primary's WAL `position`, or
    after `timeout` seconds, leaving out those that have not (until their next
    check); returns those left out.

    For claims.cdn: a purge makes the CDN fetch the page again at once, from
    whichever database reads go to. A replica that has not replayed the write
    would answer with the page before it, and the CDN would keep that for
    CDN_SHARED_MAX_AGE."""
    deadline = time.monotonic() + timeout
    pending = [alias for alias in replica_aliases() if health(alias).usable]
    while True:
        behind = []
        for alias in pending:
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute(REPLAYED_SQL)
                    replayed = cursor.fetchone()[0]
            except DatabaseError as exc:
                mark_unusable(alias, f"unreachable ({str(exc).strip() or type(exc).__name__})")
                continue
            if replayed is None or int(replayed) < position:
                behind.append(alias)
        if not behind:
            return []
        if time.monotonic() >= deadline:
            for alias in behind:
                mark_unusable(alias, f"had not replayed a write within {timeout:g} s")
            return behind
        pending = behind
        time.sleep(poll)
