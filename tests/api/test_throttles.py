"""The per-caller throttles (api.throttling): a caller gets the rate per window and then 429
with Retry-After in the project's error format, others are not counted with them, a new
window lets them in again, and the count is atomic under concurrency, in process memory and
in Redis alike."""

from __future__ import annotations

import concurrent.futures
import socket
import time

import pytest
from django.core.cache import caches
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle

from api import throttling
from tests.api.conftest import client_for

REDIS = "redis://127.0.0.1:6379/14"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    if request.param == "memory":
        yield
        return
    if not redis_answers():
        pytest.skip("no Redis at 127.0.0.1:6379 on this machine")
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS}
    with override_settings(CACHES={"default": redis_cache}):
        caches["default"].clear()
        yield
        caches["default"].clear()


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**rates: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates}
        )

    return set_rates


@pytest.mark.django_db
def test_a_caller_gets_the_rate_then_429_and_others_are_not_counted(
    backend, rates, clinician, other_clinician
):
    rates(user="3/min")
    api = client_for(clinician)
    assert [api.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]

    refused = api.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert client_for(other_clinician).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_anonymous_callers_are_throttled_by_address(backend, rates):
    rates(anon="2/min")
    anonymous = client_for(None)
    # The API's documentation page is open to anyone.
    statuses = [anonymous.get("/api/docs/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert anonymous.get("/api/docs/", REMOTE_ADDR="10.9.8.7").status_code == 200


@pytest.mark.django_db
def test_a_new_window_lets_the_caller_in_again(backend, rates, clinician):
    rates(user="2/s")
    api = client_for(clinician)
    statuses = [api.get("/api/v1/me/").status_code for _ in range(3)]
    # Two in the window; a third in the same second is refused (should the second have just
    # turned, the window restarted and the third passed: then the fourth is the refused one).
    if statuses[2] == 200:
        statuses.append(api.get("/api/v1/me/").status_code)
    assert statuses[-1] == 429

    deadline = time.monotonic() + 5
    while api.get("/api/v1/me/").status_code == 429:
        assert time.monotonic() < deadline, "the next window never came"


def test_concurrent_requests_are_counted_once_each(backend):
    key = f"throttle_test_{time.monotonic_ns()}"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: throttling._count(key, 60), range(64)))
    assert sorted(counts) == list(range(1, 65))
