"""``scripts/serve`` on the embedded database leaves nothing running however it stops: Ctrl-C
(SIGINT), SIGTERM, or a port already taken. Each run starts the web server, the worker and the
embedded PostgreSQL of a data folder of its own."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

START_TIMEOUT = 600  # a fresh data folder: initdb, every migration, the demo practice


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def pgdata(tmp_path_factory) -> Path:
    # One folder for the module: the later runs find it migrated and seeded.
    return tmp_path_factory.mktemp("serve") / "pgdata"


def serve(pgdata: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    environment.update(MEND_PGDATA=str(pgdata), MEND_ADDRESS=f"127.0.0.1:{port}")
    with log.open("ab") as out:
        return subprocess.Popen(
            ["bash", str(settings.BASE_DIR / "scripts" / "serve")],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health/")
        response = conn.getresponse()
        return response.status == 200 and json.loads(response.read())["database"] == "ok"
    except (OSError, http.client.HTTPException, ValueError):
        return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)


def left_running(pgdata: Path, port: int) -> list[str]:
    """Processes of this run still alive: its postgres, runserver or worker."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if str(pgdata) in command or f"127.0.0.1:{port}" in command:
            found.append(command)
        elif "procrastinate worker" in command and _environment_has(process, str(pgdata)):
            found.append(command)
    return found


def _environment_has(process: psutil.Process, value: str) -> bool:
    try:
        return any(value in v for v in process.environ().values())
    except (psutil.Error, OSError):
        return False


def assert_nothing_left(pgdata: Path, port: int, log: Path) -> None:
    wait_until(lambda: not left_running(pgdata, port), 60, "processes were left running", log)
    handles = json.loads((pgdata / ".handle_pids.json").read_text())
    assert handles == [], handles


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_serve_stops_the_server_the_worker_and_the_database(pgdata, tmp_path, stop):
    port, log = free_port(), tmp_path / "serve.log"
    process = serve(pgdata, port, log)
    try:
        wait_until(lambda: healthy(port), START_TIMEOUT, "serve did not come up", log)
        running = left_running(pgdata, port)
        assert any("procrastinate worker" in c for c in running), running
        assert any("postgres" in c and str(pgdata) in c for c in running), running

        process.send_signal(stop)  # to the script's PID, as the user did

        process.wait(timeout=120)
        assert_nothing_left(pgdata, port, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_taken_port_stops_everything_it_started(pgdata, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        process = serve(pgdata, port, log)
        try:
            process.wait(timeout=START_TIMEOUT)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)

    assert process.returncode != 0
    assert "That port is already in use" in log.read_text(errors="replace")
    assert_nothing_left(pgdata, port, log)
