"""The throttles every request passes (``anon``, ``user``), each one round trip to the cache.

DRF's own keep each caller's request times as a list in the cache, read and written back on
every request: two round trips, and a list as long as the rate allows. These count a
caller's requests in fixed windows of the rate's period instead (600/min: the requests of
each clock minute), with one atomic increment a request. A caller may therefore send up to
twice the rate across the boundary of two windows, never more; the login throttle, whose
point is to slow password guessing, keeps DRF's sliding window (``api.views.auth``).

With Redis the increment and the window's expiry go in one pipelined round trip on a
connection kept for the process. Other caches (the database's cache table, process memory in
development) use Django's ``add`` and ``incr``.
"""

from __future__ import annotations

import time
from functools import cache as memoise
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request


@memoise
def _redis(location: str) -> redis.Redis:
    # redis-py's pool opens connections lazily and replaces them in a forked worker.
    return redis.Redis.from_url(location)


def _count(key: str, period: int) -> int:
    """This window's requests of ``key``, this one included."""
    store = caches["default"]
    full_key = store.make_and_validate_key(key)
    if isinstance(store, RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        pipeline = _redis(location).pipeline(transaction=False)
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
