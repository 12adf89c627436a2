"""Request throttles, each one round trip to the cache: per user and per address for every
request (``user``, ``anon``), and per address for logins (``login``).

DRF's own keep each caller's request times as a list in the cache, read and written back on
every request: two round trips, a list as long as the rate allows, and concurrent requests
slipping through between the read and the write. These count a caller's requests in fixed
windows of the rate's period instead (600/min: the requests of each clock minute), with one
atomic increment a request, so concurrent requests on several workers cannot pass the limit.
A caller may send up to twice the rate across the boundary of two windows, never more.

With Redis the increment and the window's expiry go in one pipelined round trip, on the
cache's own connection pool. Other caches use Django's ``add`` and ``incr``: in process
memory (development) they are atomic; the database cache shares the count, but its increment
is not atomic, so a burst of simultaneous requests may pass a limit by a few.
"""

from __future__ import annotations

import time
from typing import Any, cast

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request


def _count(key: str, period: int) -> int:
    """This window's requests of ``key``, this one included."""
    store = caches["default"]
    full_key = store.make_and_validate_key(key)
    if isinstance(store, RedisCache):
        # A client on the cache's own connection pool, made as Django's RedisCache makes its
        # own (its ``RedisCacheClient``, which django-stubs do not declare).
        client = cast(Any, store)._cache.get_client(full_key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, period + 1, nx=True)
        count, _ = pipeline.execute()
        return int(count)
    store.add(key, 0, period + 1)
    try:
        return int(store.incr(key))
    except ValueError:  # expired between the two calls: this request opens a new count
        store.set(key, 1, period + 1)
        return 1


class _WindowThrottle(throttling.SimpleRateThrottle):
    num_requests: int
    duration: int
    wait_seconds: float

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        period = int(self.duration)
        window = int(now // period)
        self.wait_seconds = period - (now - window * period)
        return _count(f"{key}:{window}", period) <= self.num_requests

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonRateThrottle(_WindowThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_WindowThrottle, throttling.UserRateThrottle):
    pass


class LoginRateThrottle(_WindowThrottle):
    """Login attempts per address, whoever they claim to be."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
