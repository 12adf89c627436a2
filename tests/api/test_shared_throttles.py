"""Throttles count in a cache every server process shares: with two gunicorn workers the login
limit is the documented 10 a minute, not 10 a worker."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings

from tests.databases import current_database_url
from tests.factories import PASSWORD
from tests.test_faults import Server, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REDIS = ("127.0.0.1", 6379)


def login(port: int, username: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"username": username, "password": PASSWORD})
        conn.request("POST", "/api/v1/auth/login/", body, {"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def logins_through_two_workers(tmp_path, clinician, *, concurrency: int) -> list[int]:
    server = Server(free_port(), tmp_path / "gunicorn.log")
    server.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(lambda _: login(server.port, clinician.username), range(24)))
    finally:
        server.stop()


@pytest.mark.skipif(not redis_answers(), reason="no Redis at 127.0.0.1:6379 on this machine")
def test_two_workers_on_redis_allow_exactly_the_login_limit(clinician, tmp_path, monkeypatch):
    # A database of Redis of its own, emptied first: counters of earlier runs must not count.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/13")
    with socket.create_connection(REDIS, timeout=2) as conn:
        conn.sendall(b"SELECT 13\r\nFLUSHDB\r\n")
        conn.recv(64)

    # Eight at a time, so that both workers answer and their counts race.
    statuses = logins_through_two_workers(tmp_path, clinician, concurrency=8)

    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 14, statuses


def test_two_workers_on_the_database_cache_share_the_login_limit(clinician, tmp_path, monkeypatch):
    monkeypatch.setenv("CACHE_BACKEND", "database")
    subprocess.run(
        [sys.executable, "manage.py", "createcachetable"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": current_database_url(),
        },
        check=True,
        capture_output=True,
    )

    # One at a time: the database cache's increment is not atomic, its sharing is what is
    # tested here (a worker's own memory would let each worker allow 10).
    statuses = logins_through_two_workers(tmp_path, clinician, concurrency=1)

    assert statuses == [200] * 10 + [429] * 14
