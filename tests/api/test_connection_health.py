"""The database connection's health check at the start of a request (config.database): a live
connection is not pinged with ``SELECT 1``; one the server has ended is replaced before the
request's first query, so that the request still succeeds, never a 500."""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection
from knox.models import get_token_model

from cases.models import Client, User
from config.database import HealthCheckMiddleware
from tests.databases import backend_pid, current_database_url
from tests.factories import PASSWORD
from tests.test_faults import BASE_DIR, BIN, free_port, server_environment

BOOT_TIMEOUT = 30.0
GONE_TIMEOUT = 10.0


def end_backends(*pids: int) -> None:
    """``pg_terminate_backend``, from a connection of its own, and wait until each is gone:
    by then the server has said goodbye on each socket."""
    with psycopg.connect(current_database_url(), autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + GONE_TIMEOUT
        while admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)]
        ).fetchone():
            assert time.monotonic() < deadline, "the backends did not end"
            time.sleep(0.05)


# --- In process ---------------------------------------------------------------------------------


def start_request() -> None:
    """What a server does as a request comes in, before the view: Django's receivers (among
    them the one that asks for a health check), then the middleware."""
    request_started.send(sender=None)
    HealthCheckMiddleware(lambda request: None)(None)


@pytest.mark.django_db(transaction=True)
def test_a_live_connection_is_not_pinged_as_a_request_starts(monkeypatch):
    # A fresh connection: after an error on the last one, Django's own receiver pings it.
    connection.close()
    backend_pid()
    assert connection.health_check_enabled
    pings: list[int] = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: pings.append(1) or is_usable())

    start_request()
    backend_pid()

    assert pings == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_as_a_request_starts():
    ended = backend_pid()
    end_backends(ended)

    start_request()

    assert backend_pid() != ended


def test_the_check_comes_first_of_the_middleware(settings):
    assert settings.MIDDLEWARE[0] == "config.database.HealthCheckMiddleware"


# --- A real server ------------------------------------------------------------------------------


@contextlib.contextmanager
def one_thread_server() -> Iterator[int]:
    """gunicorn with one worker of one thread, so that every request meets the same
    persistent connection."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "gunicorn.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    "1",
                ],
                cwd=BASE_DIR,
                env=server_environment(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + BOOT_TIMEOUT
            while send(port, "GET", "/health/", fail_quietly=True) != 200:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=15)


def send(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    fail_quietly: bool = False,
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=all_headers)
        return conn.getresponse().status
    except OSError:
        if fail_quietly:
            return 0
        raise
    finally:
        conn.close()


def server_backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",
            [connection.settings_dict["NAME"]],
        )
        return [pid for (pid,) in cursor.fetchall()]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_after_its_connection_is_ended_the_servers_next_request_succeeds(
    client: Client, clinician: User
):
    _, token = get_token_model().objects.create(user=clinician)
    signed_in = {"Authorization": f"Token {token}"}
    requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str], int]] = [
        ("GET", f"/api/v1/clients/{client.pk}/", None, signed_in, 200),
        (
            "POST",
            "/api/v1/sessions/",
            {
                "client": client.pk,
                "starts_at": "2026-11-02T09:00:00+00:00",
                "duration_minutes": 50,
                "modality": "individual",
                "setting": "video",
            },
            {**signed_in, "Idempotency-Key": "after-the-fault"},
            201,
        ),
        (
            "POST",
            "/api/v1/auth/login/",
            {"username": clinician.username, "password": PASSWORD},
            {},
            200,
        ),
        ("GET", "/api/v1/me/", None, signed_in, 200),
    ]
    with one_thread_server() as port:
        assert send(port, "GET", "/api/v1/me/", headers=signed_in) == 200
        for method, path, body, headers, expected in requests:
            pids = server_backend_pids()
            assert pids, "the server keeps its connection between requests"
            end_backends(*pids)

            assert send(port, method, path, body, headers) == expected, (method, path)
