"""Database selection: ``DATABASE_URL`` when set, otherwise an embedded PostgreSQL.

The embedded server comes from the ``pgserver`` package, which ships PostgreSQL's binaries
as a wheel, so a fresh clone needs nothing installed by hand. Its data folder (``.pgdata``,
or ``MEND_PGDATA``) lives inside the project, git ignores it, and it is reused across runs.
The server is shared by every process of the project that needs it and stops when the last
of them exits.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
EMBEDDED_DATABASE_NAME = "mend"


def embedded_data_dir() -> Path:
    return Path(os.environ.get("MEND_PGDATA") or BASE_DIR / ".pgdata")


def _forget_dead_processes(data_dir: Path) -> None:
    """pgserver counts the processes using the server in a file and stops the server when the
    last one exits; a process killed outright never leaves that list, and the server would
    then never stop. Drop the ones that are gone."""
    import psutil

    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so pgserver's exit hook stops the server cleanly.
    Servers that manage their own signals (gunicorn) replace this handler later."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def embedded_database_url() -> str:
    # pgserver keeps its lock under the user's runtime folder and warns when there is none.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver  # imported lazily: deployments with DATABASE_URL never start it

    data_dir = embedded_data_dir()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    _exit_on_sigterm()
    # The name is a constant of this module, not input.
    query = f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE_NAME}';"  # noqa: S608
    if "(1 row)" not in server.psql(query):
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE_NAME};")
    return server.get_uri(EMBEDDED_DATABASE_NAME)


def database_config(*, embedded: bool, conn_max_age: int = 60) -> dict[str, Any]:
    """``DATABASE_URL`` when set; otherwise, from the development and test settings only
    (``embedded=True``), the embedded server, started on first use. Anywhere else (base and
    production settings, mypy, ``check``) no database is started: production refuses to
    start without ``DATABASE_URL``, and the others get none."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        if not embedded:
            return {}
        url = embedded_database_url()
    return dict(dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True))


class HealthCheckMiddleware:
    """Django's health check (``conn_health_checks``) costs a ``SELECT 1`` round trip at the
    start of each request that reuses a connection. A connection the server has ended
    (``pg_terminate_backend``, a restart, a crash) has its last words or its end waiting on
    the socket, which a poll sees without a round trip: such a connection is closed here, to
    be opened afresh by the request's first query, and any other counts as checked. First of
    the middleware, so after Django's ``request_started`` receiver, which asks for the check;
    elsewhere (the worker, commands) Django's check runs as before."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        check_open_connections()
        return self.get_response(request)


def check_open_connections() -> None:
    from django.db import connections

    wrapper: Any  # django-stubs know nothing of the health check's attributes
    for wrapper in connections.all(initialized_only=True):
        raw = wrapper.connection
        if (
            raw is None
            or wrapper.vendor != "postgresql"
            or not wrapper.health_check_enabled
            or wrapper.health_check_done
        ):
            continue
        if raw.closed or raw.broken or _has_input(raw.fileno()):
            # On an idle connection anything waiting is the server's goodbye or a notice
            # nobody will read: a fresh connection is right either way.
            wrapper.close()
        else:
            wrapper.health_check_done = True


def _has_input(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def hold() -> None:
    """Start (or join) the embedded server, print its URL, and keep it up until this process
    is told to stop (SIGTERM) or its standard input closes — which happens however the
    process that started it ends, even by SIGKILL. Then, if no other process of the project
    still uses it, the server stops. ``scripts/serve`` runs this beside the web server and the
    worker, which reach the server by the URL and never start one of their own."""
    url = embedded_database_url()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the script, which stops us
    print(url, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1:] != ["hold"]:
        sys.exit("usage: python -m config.database hold")
    hold()
