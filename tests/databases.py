"""The test database as a URL, for the real processes a test starts (gunicorn, the worker),
and the worker itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection


def current_database_url() -> str:
    """pytest-django's ``test_…`` database, on whichever server the suite runs: the machine's
    (``HOST``/``PORT``) or the embedded one, reached through its socket folder, which
    dj-database-url keeps in ``OPTIONS['host']``."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    name = quote(db["NAME"], safe="")
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    port = db.get("PORT") or db.get("OPTIONS", {}).get("port") or ""
    if host.startswith("/"):
        query = {"host": host, **({"port": str(port)} if port else {})}
        return f"postgresql://{login}/{name}?{urlencode(query)}"
    return f"postgresql://{login}{host or '127.0.0.1'}:{port or 5432}/{name}"


def run_worker_once() -> None:
    """The worker of scripts/serve, on the test database, in a process of its own;
    ``--one-shot``: it stops once the queue is empty. The data it needs must be committed
    (``django_db(transaction=True)``)."""
    worker = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": current_database_url(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr  # noqa: S101


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def wait_until_blocked(
    waiter: Callable[[], int | None],
    *,
    unless: Callable[[], bool] = lambda: False,
    timeout: float = 20,
) -> bool:
    """Poll until the backend ``waiter()`` names waits on a lock held by this connection's
    backend (``pg_blocking_pids``), or ``unless()`` (the other finished without waiting);
    False when ``timeout`` seconds pass first. For tests that hold a lock and must know the
    other transaction has reached it, without a fixed wait."""
    holder = backend_pid()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not unless():
        pid = waiter()
        if pid is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder, pid])
                if cursor.fetchone()[0]:
                    return True
        time.sleep(0.01)
    return unless()
