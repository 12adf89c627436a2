"""HTTP benchmark of Mend's API: Mend under gunicorn, side by side with a bare WSGI server that
runs the same SQL and with a typical DRF endpoint, all driven by wrk.

    DATABASE_URL=... .venv/bin/python -m benchmarks.http [--scale demo|reference]
        [--duration 10] [--rounds 3] [--only sessions client worklist timeline create]

Its own setup: wrk is installed with apt-get when it is missing (run as root); the demo
practice is built when the database has none (``manage.py seed_demo``, or with ``--scale
reference`` the reference data set, which takes a long while); the database must be migrated.

Three servers run side by side, each gunicorn with 2 sync workers on a free port of
127.0.0.1, all with Mend's production settings (``config.settings.production``: DEBUG off,
token authentication, scoping, and the access audit on, durable unless ``AUDIT_ASYNC_READS``):

* **Mend**: ``config.wsgi``.
* **bare**: ``benchmarks.bare``, psycopg and orjson without Django. Per request it looks the
  token up with one SELECT on ``knox_authtoken`` by the token's key (and serves the benchmark
  clinician only), then runs the data statements Mend ran for that request, captured here in
  process: the same SQL text, with the clinician's and client's ids in it, answering each
  row as a JSON object. It leaves out Mend's token and roles lookups, the throttle, the
  access event and transaction control. For the create it runs Mend's INSERT of the session
  with the body's values.
* **typical**: ``benchmarks.typical_drf`` (settings ``benchmarks.typical_settings``), the
  sessions list as a typical DRF developer writes it, in the same project and middleware.

The environment's settings are used with these for the benchmark: a random ``SECRET_KEY``
unless one is set; ``ALLOWED_HOSTS=127.0.0.1``; ``SECURE_SSL_REDIRECT=false`` (plain HTTP on
the loopback; TLS ends at a proxy in production); ``REDIS_URL=redis://127.0.0.1:6379/0``
unless ``REDIS_URL`` or ``CACHE_BACKEND`` is set; ``THROTTLE_USER=1000000/s``, which never
refuses yet keeps the throttle's work real: DRF keeps the time of every request of its window
in the cache, and a one-second window keeps about as many as production's 600 a minute at
most, where a raised per-minute rate would keep a minute of benchmark load.

The caller is the demo clinician with the most care-team clients, logged in with POST
/api/v1/auth/login/ (and out at the end); the client is their active client with the most
sessions. The requests, by name for ``--only``:

    sessions   GET  /api/v1/sessions/?page_size=50    Mend, bare, typical
    client     GET  /api/v1/clients/{id}/             Mend, bare
    worklist   GET  /api/v1/worklist/                 Mend, bare
    timeline   GET  /api/v1/clients/{id}/timeline/    Mend, bare
    create     POST /api/v1/sessions/                 Mend, bare

The create runs last and for at most 5 s a run: every request carries a fresh
``Idempotency-Key`` and a session for the client in 2100 or later, each a minute after the
last. The sessions made for that client and clinician from 2100 on are deleted afterwards
(and before, in case a run was cut short) with their idempotency records and history rows;
their access events stay (the log is append-only), and so do the history contexts of Mend's
creates.

Each request is warmed up on each server, then run ``--rounds`` times on each server in turn
(Mend, bare, typical, Mend, …) so that the machine's noise falls on all alike, with
``wrk -t2 -c8``. Any answer other than 2xx, or any socket error, stops the benchmark. It
prints how many SQL statements each server runs per request (Mend's and typical's counted in
process; Django's connection health check runs no statement on web requests, see
``config.database.HealthCheckMiddleware``), then per request and server the median over the
rounds of req/s, p50 and p99, and Mend's req/s over bare's and over typical's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.test import Client as HttpClient

    from cases.models import Client, Practice, User

BASE_DIR = Path(__file__).resolve().parent.parent
THREADS = 2
CONNECTIONS = 8
WORKERS = 2
WARMUP_SECONDS = 2
WRITE_SECONDS = 5
READY_SECONDS = 60
WRK_TIMEOUT = "10s"
MEND, BARE, TYPICAL = "Mend", "bare", "typical"
REQUEST_NAMES = ("sessions", "client", "worklist", "timeline", "create")
# Sessions written by the benchmark start here or later; nothing else is that far ahead.
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# Minutes between the first starts of two wrk threads' sessions.
WRITE_BLOCK_MINUTES = 100_000
KEY_PREFIX = "benchmark-http"
RESULT_MARKER = "WRK_RESULT "

# What Mend runs around the data of a request, which the bare server leaves out: the Django
# session and the token (it looks the token up itself), the caller's roles (api.permissions),
# the access event (api.audit) and transaction control.
BOOKKEEPING = re.compile(
    r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b"
    r'|SELECT [^;]* FROM "(django_session|knox_authtoken)"'
    r'|SELECT [^;]* FROM "cases_user" WHERE "cases_user"\."id" = '
    r'|SELECT "cases_membership"\."role" AS "role", "cases_membership"\."practice_id"'
    r"|.*\bcases_accessevent\b",
    re.DOTALL,
)
# django-pghistory puts the request's history context before a statement once the view has
# set it: bookkeeping of writes, not part of the data.
HISTORY_CONTEXT = re.compile(
    r"SELECT set_config\('pghistory\.context_id', '[^']*', true\), "
    r"set_config\('pghistory\.context_metadata', '(?:[^']|'')*', true\); "
)
SESSION_INSERT = re.compile(r'INSERT INTO "cases_therapysession" \(([^)]*)\) VALUES')

LUA_COMMON = string.Template(
    r"""
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   non2xx = 0
   first_bad = 0
   sequence = 0
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == 0 then first_bad = status end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("non2xx")
      if first == 0 then first = thread:get("first_bad") end
   end
   local errors = summary.errors
   io.write(string.format(
      "$marker{\"requests\": %.0f, \"duration_us\": %.0f, \"p50_us\": %.0f, \"p99_us\": %.0f, "
      .. "\"non2xx\": %.0f, \"first_bad\": %.0f, \"socket_errors\": %.0f}\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      bad, first, errors.connect + errors.read + errors.write + errors.timeout))
end
"""
)
LUA_CREATE = string.Template(
    r"""
function request()
   sequence = sequence + 1
   local starts = $first_start + ((thread_id - 1) * $block + sequence) * 60
   wrk.headers["Idempotency-Key"] = "$prefix-" .. thread_id .. "-" .. sequence
   local body = string.format(
      '{"client": %d, "starts_at": "%s", "duration_minutes": 50, "modality": "individual", '
      .. '"setting": "in_person", "attendance": "scheduled"}',
      $client, os.date("!%Y-%m-%dT%H:%M:%S+00:00", starts))
   return wrk.format("POST", nil, nil, body)
end
"""
)


class BenchmarkFailed(Exception):
    pass


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    servers: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path.removeprefix('/api/v1')}"


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL database to benchmark (one of your own).")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    if not os.environ.get("REDIS_URL") and not os.environ.get("CACHE_BACKEND"):
        os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    os.environ["THROTTLE_USER"] = "1000000/s"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # No collectstatic for an API benchmark: WhiteNoise's warning about it says nothing here.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    # The in-process requests (statement counts, captured SQL) come from Django's test client.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _run(command: list[str], *, quiet: bool = True, **options: Any) -> None:
    done = subprocess.run(  # noqa: S603 (the benchmark's own commands, no shell)
        command, capture_output=quiet, text=True, check=False, **options
    )
    if done.returncode != 0:
        output = f"\n{done.stdout}{done.stderr}" if quiet else ""
        raise BenchmarkFailed(f"{' '.join(command)} failed ({done.returncode}){output}")


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is not None:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise BenchmarkFailed("wrk is missing, and there is no apt-get to install it with.")
    print("Installing wrk (apt-get update, apt-get install -y wrk)…", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run([apt, "update"], env=environment)
    _run([apt, "install", "-y", "wrk"], env=environment)
    found = shutil.which("wrk")
    if found is None:
        raise BenchmarkFailed("apt-get installed wrk, but it is not on the PATH.")
    return found


def _demo_practice(scale: str) -> Practice:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from cases.models import Client, Practice
    from ruptures.demo import DEMO_PRACTICE_SLUG, Plan, parse_scale

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise BenchmarkFailed("The database is not fully migrated: run `manage.py migrate`.")
    if not Practice.objects.filter(slug=DEMO_PRACTICE_SLUG).exists():
        command = [sys.executable, "manage.py", "seed_demo"]
        if scale == "reference":
            command += ["--scale", "reference"]
            print("No demo practice: building the reference data set (slow).", flush=True)
        else:
            print("No demo practice: building it.", flush=True)
        _run(command, quiet=False, cwd=BASE_DIR)
        # As autovacuum would before long: statistics, and the visibility map that lets the
        # session list read its keys from the index alone (api.pagination).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    practice = Practice.objects.get(slug=DEMO_PRACTICE_SLUG)
    expected = Plan.for_scale(parse_scale("reference" if scale == "reference" else "1")).clients
    clients = Client.objects.filter(practice=practice).count()
    if not expected / 2 <= clients <= expected * 2:
        raise BenchmarkFailed(
            f"The demo practice here has {clients:,} clients, not about the {expected:,} of "
            f"--scale {scale}: give each scale a database of its own."
        )
    return practice


def _caller_and_client(practice: Practice) -> tuple[User, Client, int]:
    """The clinician with the most care-team clients, their active client with the most
    sessions (the longest timeline), and how many care-team clients they have."""
    from django.db.models import Count, Q

    from cases.choices import ClientStatus, Role
    from cases.models import Client, User

    live = Q(care_team_memberships__client__archived_at__isnull=True)
    user = (
        User.objects.filter(
            is_active=True,
            memberships__practice=practice,
            memberships__role=Role.CLINICIAN,
            memberships__is_active=True,
        )
        .annotate(clients=Count("care_team_memberships", filter=live, distinct=True))
        .order_by("-clients", "username")
        .first()
    )
    if user is None:
        raise BenchmarkFailed("The demo practice has no active clinician.")
    client = (
        Client.objects.filter(
            practice=practice,
            care_team_members__clinician=user,
            status=ClientStatus.ACTIVE,
            archived_at__isnull=True,
        )
        .annotate(session_count=Count("sessions", distinct=True))
        .order_by("-session_count", "pk")
        .first()
    )
    if client is None:
        raise BenchmarkFailed(f"{user.username} has no active client.")
    caseload = Client.objects.filter(
        practice=practice, care_team_members__clinician=user, archived_at__isnull=True
    ).count()
    return user, client, caseload


def _targets(client: Client, only: list[str] | None) -> list[Target]:
    every = [
        Target("sessions", "GET", "/api/v1/sessions/?page_size=50", (MEND, BARE, TYPICAL)),
        Target("client", "GET", f"/api/v1/clients/{client.pk}/", (MEND, BARE)),
        Target("worklist", "GET", "/api/v1/worklist/", (MEND, BARE)),
        Target("timeline", "GET", f"/api/v1/clients/{client.pk}/timeline/", (MEND, BARE)),
        Target("create", "POST", "/api/v1/sessions/", (MEND, BARE)),
    ]
    return [target for target in every if not only or target.name in only]


def _create_body(client: Client, starts_at: dt.datetime) -> dict[str, Any]:
    return {
        "client": client.pk,
        "starts_at": starts_at.isoformat(),
        "duration_minutes": 50,
        "modality": "individual",
        "setting": "in_person",
        "attendance": "scheduled",
    }


def _login(user: User) -> str:
    from django.test import Client as HttpClient

    from ruptures.demo import DEMO_PASSWORD

    answer = HttpClient().post(
        "/api/v1/auth/login/",
        {"username": user.username, "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    if answer.status_code != 200:
        raise BenchmarkFailed(
            f"Logging in as {user.username} answered {answer.status_code}: {answer.content[:300]!r}"
        )
    return str(answer.json()["token"])


def _logout(token: str) -> None:
    from django.test import Client as HttpClient

    HttpClient(headers={"Authorization": f"Token {token}"}).post("/api/v1/auth/logout/")


def _send(http: HttpClient, target: Target, body: dict[str, Any] | None, key: str) -> Any:
    if target.method == "POST":
        return http.post(
            target.path, body, content_type="application/json", headers={"Idempotency-Key": key}
        )
    return http.get(target.path)


def _capture(
    http: HttpClient, target: Target, *, body: dict[str, Any] | None = None, key: str = ""
) -> tuple[list[str], list[tuple[str, Any]]]:
    """The statements of one request as sent (``CaptureQueriesContext``, BEGIN and COMMIT
    included), and as handed to the driver (SQL with placeholders, and the parameters)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    handed: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, *rest: Any) -> Any:
        handed.append((sql, params))
        return execute(sql, params, *rest)

    with CaptureQueriesContext(connection) as sent, connection.execute_wrapper(record):
        answer = _send(http, target, body, key)
    if not 200 <= answer.status_code < 300:
        raise BenchmarkFailed(
            f"{target.label} in process answered {answer.status_code}: {answer.content[:300]!r}"
        )
    return [query["sql"] for query in sent.captured_queries], handed


def _without_context(sql: str) -> str:
    return HISTORY_CONTEXT.sub("", sql.lstrip(), count=1)


def _data_statements(sent: list[str]) -> list[str]:
    return [_without_context(sql) for sql in sent if not BOOKKEEPING.match(_without_context(sql))]


def _plain(value: Any) -> Any:
    """A driver parameter as JSON (psycopg's Int2 and Django's choices are int and str)."""
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"Cannot pass {value!r} to the bare server.")


def _session_insert(handed: list[tuple[str, Any]]) -> dict[str, Any]:
    for sql, params in handed:
        match = SESSION_INSERT.match(_without_context(sql))
        if match:
            columns = [name.strip().strip('"') for name in match.group(1).split(",")]
            return {
                "path": "/api/v1/sessions/",
                "sql": _without_context(sql),
                "columns": columns,
                "defaults": {c: _plain(v) for c, v in zip(columns, params, strict=True)},
            }
    raise BenchmarkFailed("Mend's session create ran no INSERT into cases_therapysession.")


@dataclass
class Counts:
    mend: dict[str, int]
    typical: dict[str, int]
    bare: dict[str, int]


def _measure_in_process(
    targets: list[Target], user: User, client: Client, token: str, run_prefix: str
) -> tuple[Counts, dict[str, Any]]:
    """Count each request's statements and capture the bare server's plan."""
    from django.test import Client as HttpClient
    from django.test import override_settings
    from knox.settings import CONSTANTS, knox_settings

    http = HttpClient(headers={"Authorization": f"Token {token}"})
    counts = Counts({}, {}, {})
    plan: dict[str, Any] = {
        "user_id": user.pk,
        "token_key_length": CONSTANTS.TOKEN_KEY_LENGTH,
        "token_hash": knox_settings.SECURE_HASH_ALGORITHM().name,
        "reads": {},
        "create": None,
    }
    for target in targets:
        if target.method == "POST":
            body = _create_body(client, FAR_FUTURE)
            sent, handed = _capture(http, target, body=body, key=f"{run_prefix}-in-process")
            plan["create"] = _session_insert(handed)
            counts.bare[target.name] = 2  # the token, the INSERT
        else:
            _send(http, target, None, "")  # first use of a path: nothing cached is counted
            sent, _ = _capture(http, target)
            data = _data_statements(sent)
            if not data:
                raise BenchmarkFailed(f"Found no data statement in {target.label}.")
            plan["reads"][target.path] = data
            counts.bare[target.name] = 1 + len(data)
        counts.mend[target.name] = len(sent)
        if TYPICAL in target.servers:
            with override_settings(ROOT_URLCONF="benchmarks.typical_drf"):
                _send(http, target, None, "")
                sent, _ = _capture(http, target)
            counts.typical[target.name] = len(sent)
    return counts, plan


def _remove_writes(user: User, client: Client) -> int:
    """Delete the sessions written by the benchmark, with their idempotency records and
    their history rows."""
    from django.apps import apps
    from django.db import transaction

    from api.models import IdempotencyRecord
    from cases.models import TherapySession

    history = apps.get_model("cases", "TherapySessionEvent")
    with transaction.atomic():
        ids = list(
            TherapySession.objects.filter(
                client=client, clinician=user, starts_at__gte=FAR_FUTURE
            ).values_list("pk", flat=True)
        )
        if ids:
            IdempotencyRecord.objects.filter(
                object_type=TherapySession._meta.label, object_id__in=ids
            ).delete()
            TherapySession.objects.filter(pk__in=ids).delete()
            history._default_manager.filter(pgh_obj_id__in=ids).delete()
    return len(ids)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(stack: ExitStack, folder: Path, name: str, app: str, **env: str) -> Server:
    port = _free_port()
    log = folder / f"{name}.log"
    output = stack.enter_context(log.open("wb"))
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(WORKERS), "--worker-class", "sync"]
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, no shell)
        command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=output, stderr=output
    )
    stack.callback(_stop, process)
    return Server(name, port, process, log)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _get(port: int, path: str, token: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_up(server: Server, path: str, token: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if server.process.poll() is not None:
            raise BenchmarkFailed(
                f"The {server.name} server exited ({server.process.returncode}):\n"
                + _tail(server.log)
            )
        try:
            status, body = _get(server.port, path, token)
        except OSError:
            if time.monotonic() > deadline:
                raise BenchmarkFailed(
                    f"The {server.name} server did not answer within {READY_SECONDS} s:\n"
                    + _tail(server.log)
                ) from None
            time.sleep(0.1)
            continue
        if status != 200:
            raise BenchmarkFailed(
                f"The {server.name} server answered {status} to GET {path}: {body[:300]!r}"
            )
        return


class Driver:
    """Runs wrk against one server and one request, each run with a script of its own."""

    def __init__(self, wrk: str, folder: Path, token: str, client: Client, run_prefix: str):
        self.wrk, self.folder, self.token = wrk, folder, token
        self.client, self.run_prefix = client, run_prefix
        self.runs = 0

    def script(self, target: Target) -> Path:
        self.runs += 1
        lua = LUA_COMMON.substitute(marker=RESULT_MARKER)
        if target.method == "POST":
            first = FAR_FUTURE + dt.timedelta(minutes=self.runs * THREADS * WRITE_BLOCK_MINUTES)
            lua += LUA_CREATE.substitute(
                first_start=int(first.timestamp()),
                block=WRITE_BLOCK_MINUTES,
                prefix=f"{self.run_prefix}-{self.runs}",
                client=self.client.pk,
            )
        path = self.folder / f"run{self.runs}.lua"
        path.write_text(lua)
        return path

    def run(self, server: Server, target: Target, seconds: int) -> Run:
        command = [self.wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s"]
        command += ["--timeout", WRK_TIMEOUT, "-s", str(self.script(target))]
        command += ["-H", f"Authorization: Token {self.token}"]
        if target.method == "POST":
            command += ["-H", "Content-Type: application/json"]
        command.append(f"http://127.0.0.1:{server.port}{target.path}")
        done = subprocess.run(  # noqa: S603 (wrk, no shell)
            command, capture_output=True, text=True, check=False
        )
        line = next((x for x in done.stdout.splitlines() if x.startswith(RESULT_MARKER)), None)
        if done.returncode != 0 or line is None:
            raise BenchmarkFailed(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        result = json.loads(line.removeprefix(RESULT_MARKER))
        if result["non2xx"]:
            sample = ""
            if target.method == "GET":
                status, body = _get(server.port, target.path, self.token)
                sample = f"; one more now answers {status}: {body[:300]!r}"
            raise BenchmarkFailed(
                f"{server.name} answered {result['non2xx']:.0f} of {result['requests']:.0f} "
                f"{target.label} with a status other than 2xx (first: "
                f"{result['first_bad']:.0f}){sample}\n{_tail(server.log)}"
            )
        if result["socket_errors"]:
            raise BenchmarkFailed(
                f"{result['socket_errors']:.0f} socket errors (connect, read, write, timeout) "
                f"on {server.name} {target.label}:\n{done.stdout}\n{_tail(server.log)}"
            )
        if not result["requests"]:
            raise BenchmarkFailed(f"{server.name} answered no {target.label} in {seconds} s.")
        return Run(
            rps=result["requests"] / (result["duration_us"] / 1e6),
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
        )


def _print_counts(targets: list[Target], counts: Counts) -> None:

    print(f"\n{'SQL statements per request':<40} {MEND:>6} {TYPICAL:>8} {BARE:>6}")
    for target in targets:
        typical = counts.typical.get(target.name)
        print(
            f"{target.label:<40} {counts.mend[target.name]:>6} "
            f"{typical if typical is not None else '—':>8} {counts.bare[target.name]:>6}"
        )


def _print_table(targets: list[Target], results: dict[tuple[str, str], list[Run]]) -> None:
    print(
        f"\n{'request':<36} {'server':<8} {'req/s':>8} {'rounds':<22} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'Mend/bare':>10} {'Mend/typical':>13}"
    )
    for target in targets:
        rps = {
            server: statistics.median(run.rps for run in results[target.name, server])
            for server in target.servers
        }
        for index, server in enumerate(target.servers):
            runs = results[target.name, server]
            rounds = " ".join(f"{run.rps:.0f}" for run in runs)
            ratios = ["", ""]
            if server == MEND:
                ratios = [
                    f"{rps[MEND] / rps[other]:.2f}" if other in rps else "—"
                    for other in (BARE, TYPICAL)
                ]
            print(
                f"{target.label if index == 0 else '':<36} {server:<8} {rps[server]:>8.1f} "
                f"{rounds:<22} {statistics.median(r.p50_ms for r in runs):>8.2f} "
                f"{statistics.median(r.p99_ms for r in runs):>8.2f} "
                f"{ratios[0]:>10} {ratios[1]:>13}"
            )
    print("Mend/bare, Mend/typical: Mend's median req/s over the other server's.")


def benchmark(args: argparse.Namespace) -> None:
    from django.conf import settings

    wrk = _wrk()
    practice = _demo_practice(args.scale)
    user, client, caseload = _caller_and_client(practice)
    targets = _targets(client, args.only)
    # Reads first: the writes add sessions that the reads would otherwise see.
    targets.sort(key=lambda target: target.method == "POST")
    run_prefix = f"{KEY_PREFIX}-{secrets.token_hex(4)}"
    writes = any(target.method == "POST" for target in targets)
    with ExitStack() as stack:
        if writes:
            _remove_writes(user, client)  # left by a run that was cut short
            stack.callback(
                lambda: print(f"Removed the {_remove_writes(user, client):,} sessions written.")
            )
        token = _login(user)
        stack.callback(_logout, token)
        print(
            f"Practice {practice.slug} (--scale {args.scale}); caller {user.username} "
            f"(clinician, {caseload} care-team clients); client {client.pk}. "
            f"Cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}."
        )
        counts, plan = _measure_in_process(targets, user, client, token, run_prefix)
        _print_counts(targets, counts)

        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mend-http-")))
        plan_file = folder / "bare-plan.json"
        plan_file.write_text(json.dumps(plan))
        servers = {
            MEND: _serve(stack, folder, MEND, "config.wsgi"),
            BARE: _serve(
                stack,
                folder,
                BARE,
                "benchmarks.bare:application",
                BENCHMARK_BARE_PLAN=str(plan_file),
            ),
        }
        if any(TYPICAL in target.servers for target in targets):
            servers[TYPICAL] = _serve(
                stack,
                folder,
                TYPICAL,
                "config.wsgi",
                DJANGO_SETTINGS_MODULE="benchmarks.typical_settings",
            )
        for server in servers.values():
            _wait_until_up(server, "/api/v1/sessions/?page_size=50", token)

        print(
            f"\nwrk -t{THREADS} -c{CONNECTIONS}, {args.duration} s a run "
            f"({min(args.duration, WRITE_SECONDS)} s for writes) after {WARMUP_SECONDS} s of "
            f"warm-up, rounds: {args.rounds}; gunicorn, {WORKERS} sync workers a server",
            flush=True,
        )
        driver = Driver(wrk, folder, token, client, run_prefix)
        results: dict[tuple[str, str], list[Run]] = {}
        for target in targets:
            seconds = args.duration if target.method == "GET" else min(args.duration, WRITE_SECONDS)
            for name in target.servers:
                driver.run(servers[name], target, WARMUP_SECONDS)
            for number in range(1, args.rounds + 1):
                for name in target.servers:
                    run = driver.run(servers[name], target, seconds)
                    results.setdefault((target.name, name), []).append(run)
                    print(
                        f"  {target.name:<9} {name:<8} round {number}: {run.rps:8.1f} req/s, "
                        f"p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms",
                        flush=True,
                    )
        _print_table(targets, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["demo", "reference"], default="demo")
    parser.add_argument("--duration", type=int, default=10, help="seconds a run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server (default 3)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=REQUEST_NAMES,
        metavar="NAME",
        help=f"these requests only: {', '.join(REQUEST_NAMES)}",
    )
    args = parser.parse_args()
    if args.duration < 1 or args.rounds < 1:
        parser.error("--duration and --rounds must be at least 1")
    # Stopped from outside: unwind, so that every server started is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    _setup()
    try:
        benchmark(args)
    except BenchmarkFailed as error:
        sys.exit(f"benchmark failed: {error}")


if __name__ == "__main__":
    main()
