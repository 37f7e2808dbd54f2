"""The API's rate limits, counted atomically in the cache (Redis when REDIS_URL is set).

DRF's SimpleRateThrottle keeps, per client, the list of its request times in the
cache: a get, then a set of the list with the new time. Two processes answering the
same client at once both read the list before either writes it, and one request goes
uncounted; under load a client gets far more than its rate. These throttles keep a
counter instead, moved by one atomic operation:

- a window opens at a client's first request and lasts the rate's period (a fixed
  window anchored there, not at the clock's minute: a client never gets twice its
  rate across a boundary it did not start);
- each request adds one to the window's counter, and is allowed while the counter
  is within the rate (a refused request counts too: the window's end does not move,
  so that changes nothing but the counter);
- Retry-After is the time left in the window.

On Redis the counter is one MULTI/EXEC (`SET key 0 EX period NX`, `INCR key`, `PTTL
key`): the window opens, counts and tells its end in one round trip that no other
client's command interleaves with. Elsewhere (the local memory cache: one process)
`add` then `incr`, each atomic, with the window's end in a key of its own.

The rates, their names (`anon`, `user`) and the switch to turn one off (a None rate,
settings._throttle_rate) are DRF's, read from the same settings.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (its throttle settings)
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Not DRF's own key format: a counter where DRF kept a list (during a rolling
# deploy, both run against the same Redis).
KEY_FORMAT = "throttle:%(scope)s:%(ident)s"


def count_request(cache: Any, key: str, period: int) -> tuple[int, float]:
    """Count one request in `key`'s window of `period` seconds, opening one if none is
    open; returns the window's count, this request included, and the seconds left."""
    if isinstance(cache, RedisCache):
        name = cache.make_and_validate_key(key)
        # Django's RedisCache has no atomic "create or increment"; its client does.
        client = cache._cache.get_client(name, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=period, nx=True)
            pipe.incr(name)
            pipe.pttl(name)
            _, count, left_ms = pipe.execute()
        if left_ms < 0:  # no expiry (written by something else): give it one
            client.expire(name, period)
            left_ms = period * 1000
        return int(count), left_ms / 1000
    now = time.time()
    until_key = f"{key}:until"
    if cache.add(key, 1, timeout=period):
        cache.set(until_key, now + period, timeout=period)
        return 1, float(period)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr(): this opens one
        cache.set(key, 1, timeout=period)
        cache.set(until_key, now + period, timeout=period)
        return 1, float(period)
    until = cache.get(until_key)
    return int(count), (until - now) if until else float(period)


class AtomicRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and keys, counted by count_request."""

    cache_format = KEY_FORMAT
    # Set by SimpleRateThrottle.__init__ from the rate (not in DRF's stubs).
    num_requests: int
    duration: int
    _left: float = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self._left = count_request(self.cache, self.key, self.duration)
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(self._left, 0.001)


class AtomicAnonRateThrottle(AtomicRateThrottle, AnonRateThrottle):
    """AnonRateThrottle (scope `anon`), counted atomically."""


class AtomicUserRateThrottle(AtomicRateThrottle, UserRateThrottle):
    """UserRateThrottle (scope `user`), counted atomically."""
