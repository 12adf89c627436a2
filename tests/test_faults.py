"""Faults (issue 5, point 7): kill the server process and its database connections in the
middle of writes, many times, then show that nothing is half-written and that the audit
chains verify.

The real server (gunicorn, 2 processes × 4 threads) runs as a subprocess against the test
database. Worker threads in this process play clinicians: each registers a client, logs
sessions, writes and edits progress notes, records SRS measures (which derive rupture
signals in the same transaction), opens rupture episodes and records repair attempts, every
create with an ``Idempotency-Key``, every edit with ``If-Match``. Meanwhile the test kills
the whole server with SIGKILL and restarts it, or terminates the server's database
connections with ``pg_terminate_backend``, alternately. Like a real frontend, a worker that
gets no answer (connection refused or reset, a 5xx) sends the same request again, with the
same key, until it gets one.

Then, with the database as the faults left it, every write must be whole: each client has its
care team, each measure its signals, each repairing episode its attempt, each created or
edited row its access event and its history row, each kept idempotency key its row, and
each answer a worker received is in the database. Every kept key replays the record it
created, as it is now, and creates nothing, and ``verify_audit`` finds every chain intact.

The last tests hold, without faults, three things this one ran into: a replayed measure
create answers its scores exactly as the first answer did; two SRS of one client recorded at
once still raise the signal they call for; and a repair attempt does not deadlock with other
writes of its practice.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Model
from knox.models import get_token_model

from api.models import IdempotencyRecord
from cases import services
from cases.audit import AccessEvent, AccessOutcome, record_access, verify_chains
from cases.choices import Attendance, Modality, Role, Setting
from cases.models import (
    CareTeamMember,
    Client,
    Practice,
    ProgressNote,
    SessionRatingScale,
    TherapySession,
    User,
)
from ruptures.choices import EpisodeStatus, SignalRule
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from ruptures.services import measure_record, repair_attempt_record, signals_derive
from tests.api.conftest import client_for
from tests.databases import backend_pid, current_database_url, wait_until_blocked
from tests.factories import (
    PracticeFactory,
    RuptureEpisodeFactory,
    TherapySessionFactory,
    UserFactory,
)

SEED = 20260507
FAULTS = 12  # alternately SIGKILL of the server and pg_terminate_backend of its connections
FAULT_GAP = (0.5, 1.5)  # seconds of writing between two faults
WORKERS = 8  # concurrent clinicians; the server has 2 × 4 threads
STEP_DEADLINE = 45.0  # seconds one request may keep being retried before the worker gives up
BOOT_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
BIN = Path(sys.executable).parent
BASE_DIR = Path(settings.BASE_DIR)

# The resources written, by URL: path, the model, and the access log's resource name.
RESOURCES: dict[str, tuple[str, type[Model]]] = {
    "client": ("/api/v1/clients/", Client),
    "session": ("/api/v1/sessions/", TherapySession),
    "progress-note": ("/api/v1/progress-notes/", ProgressNote),
    "srs": ("/api/v1/measures/srs/", SessionRatingScale),
    "rupture-episode": ("/api/v1/rupture-episodes/", RuptureEpisode),
    "repair-attempt": ("/api/v1/repair-attempts/", RepairAttempt),
}
RESOURCE_OF_PATH = {path: resource for resource, (path, _) in RESOURCES.items()}
SRS_ITEMS = (6.5, 8.0, 8.5, 9.0, 9.5, 10.0)


pytestmark = pytest.mark.slow

# --- The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": current_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_USER": "100000/min",
        "THROTTLE_ANON": "100000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


class Server:
    """gunicorn in its own process group, so one ``killpg`` takes the master and workers."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.groups: list[int] = []
        self.starts = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "5",
                ],
                cwd=BASE_DIR,
                env=server_environment(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.groups.append(self.process.pid)
        self.starts += 1
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/health/")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer /health/:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: no request finishes, no cleanup."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM lets running requests finish), then SIGKILL to make sure."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill_everything()

    def kill_everything(self) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def server_backends() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, coalesce(state, '') FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchall()


def terminate_server_backends() -> tuple[int, int]:
    """Cut every database connection but the test's own; returns (cut, cut mid-transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE cut), "
            "       count(*) FILTER (WHERE cut AND state IN ('active', 'idle in transaction')) "
            "FROM (SELECT state, pg_terminate_backend(pid) AS cut FROM pg_stat_activity "
            "      WHERE datname = %s AND pid <> pg_backend_pid() "
            "        AND backend_type = 'client backend') AS backends",
            [connection.settings_dict["NAME"]],
        )
        cut, busy = cursor.fetchone()
    return cut, busy


def wait_for_no_backends(timeout: float = 20.0) -> None:
    """Backends orphaned by a killed server end when they next talk to their dead client."""
    deadline = time.monotonic() + timeout
    while server_backends() and time.monotonic() < deadline:
        time.sleep(0.1)
    terminate_server_backends()


# --- The clients --------------------------------------------------------------------------------

TRANSIENT = (OSError, http.client.HTTPException)


class Abandoned(Exception):
    """A request got no answer within STEP_DEADLINE."""


class Unexpected(Exception):
    """An answer the workflow did not expect."""


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    data: Any


@dataclasses.dataclass
class Sent:
    token: str
    path: str
    body: dict[str, Any]
    answer: Answer | None = None  # the first 2xx the worker received for this key


@dataclasses.dataclass
class Tally:
    """What the workers did and saw, shared between their threads."""

    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    in_flight: int = 0
    sent: dict[str, Sent] = dataclasses.field(default_factory=dict)
    created: dict[str, set[int]] = dataclasses.field(default_factory=dict)
    edited: dict[int, str] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    @contextlib.contextmanager
    def flying(self) -> Iterator[None]:
        with self.lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1


def send(
    port: int,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a fresh connection; transport errors propagate."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        all_headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/json",
            "Connection": "close",
            **(headers or {}),
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


class Clinician:
    """One worker thread: a clinician's frontend that retries until it gets an answer."""

    def __init__(
        self,
        *,
        number: int,
        user: User,
        practice_id: int,
        token: str,
        port: int,
        tally: Tally,
        stop: threading.Event,
    ) -> None:
        self.number = number
        self.user = user
        self.practice_id = practice_id
        self.token = token
        self.port = port
        self.tally = tally
        self.stop = stop
        # The workflow's shape comes from one generator, the retry pauses from another, so
        # each worker writes the same records whatever the faults hit.
        self.rng = random.Random(SEED * 100 + number)
        self.jitter = random.Random(SEED * 100 + number + 50)

    def run(self) -> None:
        iteration = 0
        try:
            while not self.stop.is_set():
                self.workflow(iteration)
                self.tally.count("workflows completed")
                iteration += 1
        except (Abandoned, Unexpected) as problem:
            with self.tally.lock:
                self.tally.problems.append(f"worker {self.number}: {problem}")
        except Exception as error:  # a bug in the test itself: report it, do not hang
            with self.tally.lock:
                self.tally.problems.append(f"worker {self.number}: {error!r}")

    # -- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send until an answer below 500 comes back, the same request every time."""
        deadline = time.monotonic() + STEP_DEADLINE
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.tally.flying():
                    answer = send(self.port, self.token, method, path, body, headers)
            except TRANSIENT as error:
                self.tally.count(f"no answer ({type(error).__name__})")
            else:
                if answer.status < 500:
                    if attempt > 1:
                        self.tally.count("answered after a retry")
                        if answer.headers.get("idempotent-replayed") == "true":
                            self.tally.count("replayed after a fault (a lost answer recovered)")
                    return answer
                code = answer.data.get("code", "") if isinstance(answer.data, dict) else ""
                self.tally.count(f"HTTP {answer.status} {code}".strip())
            if time.monotonic() > deadline:
                raise Abandoned(f"{method} {path}: no answer after {attempt} attempts")
            time.sleep(self.jitter.uniform(0.05, 0.25))

    def create(self, resource: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        path = RESOURCES[resource][0]
        with self.tally.lock:
            self.tally.sent[key] = Sent(token=self.token, path=path, body=body)
        answer = self.request("POST", path, body, {"Idempotency-Key": key})
        if answer.status != 201:
            raise Unexpected(f"POST {path} answered {answer.status}: {answer.data}")
        with self.tally.lock:
            self.tally.sent[key].answer = answer
            self.tally.created.setdefault(resource, set()).add(answer.data["id"])
        self.tally.count(f"created {resource}")
        return answer.data

    def edit_note(self, note_id: int, text: str) -> None:
        """GET for the ETag, PATCH with If-Match; a 412 after a lost answer means re-read."""
        path = f"/api/v1/progress-notes/{note_id}/"
        for _ in range(20):
            current = self.request("GET", path)
            if current.status != 200:
                raise Unexpected(f"GET {path} answered {current.status}: {current.data}")
            if current.data["sections"] == {"text": text}:
                break  # an earlier PATCH whose answer was lost did commit
            edited = self.request(
                "PATCH", path, {"sections": {"text": text}}, {"If-Match": current.headers["etag"]}
            )
            if edited.status == 200:
                break
            if edited.status != 412:
                raise Unexpected(f"PATCH {path} answered {edited.status}: {edited.data}")
            self.tally.count("412 on a retried edit (its answer was lost)")
        else:
            raise Unexpected(f"PATCH {path} never applied")
        with self.tally.lock:
            self.tally.edited[note_id] = text
        self.tally.count("edited progress-note")

    # -- the workflow --------------------------------------------------------------------------

    def workflow(self, iteration: int) -> None:
        rng, tag = self.rng, f"w{self.number}-i{iteration}"
        client = self.create(
            "client",
            {
                "practice": self.practice_id,
                "kind": "individual",
                "name": f"Fault Client {tag}",
                "intake_date": "2025-01-06",
            },
            key=f"{tag}-client",
        )
        sessions = []
        for k in range(rng.randint(1, 3)):
            starts_at = dt.datetime(2025, 2, 3, 9, tzinfo=dt.UTC) + dt.timedelta(days=7 * k)
            session = self.create(
                "session",
                {
                    "client": client["id"],
                    "starts_at": starts_at.isoformat(),
                    "duration_minutes": 50,
                    "modality": "individual",
                    "setting": rng.choice(["in_person", "video"]),
                    "attendance": "attended",
                },
                key=f"{tag}-session-{k}",
            )
            sessions.append(session)
            note = self.create(
                "progress-note",
                {
                    "session": session["id"],
                    "format": "free",
                    "sections": {"text": f"Session {k} of {tag}: first draft."},
                },
                key=f"{tag}-note-{k}",
            )
            self.edit_note(note["id"], f"Session {k} of {tag}: edited after reading it back.")
            self.create(
                "srs",
                {
                    "session": session["id"],
                    **{
                        item: rng.choice(SRS_ITEMS)
                        for item in (
                            "relationship",
                            "goals_and_topics",
                            "approach_or_method",
                            "overall",
                        )
                    },
                },
                key=f"{tag}-srs-{k}",
            )
        episodes = [
            self.create(
                "rupture-episode",
                {
                    "client": client["id"],
                    "session": rng.choice(sessions)["id"],
                    "relationship": "therapist",
                    "direction": "client",
                    "kind": "withdrawal",
                    "markers": ["denial", "minimal_response"][: rng.randint(1, 2)],
                    "moment": "vulnerability_dismissed",
                    "factors": [],
                    "intensity": rng.randint(1, 5),
                    "source": "clinician_observed",
                },
                key=f"{tag}-episode-{k}",
            )
            for k in range(rng.randint(1, 3))  # a third one raises a repeated-rupture signal
        ]
        for k, episode in enumerate(episodes[: rng.randint(0, len(episodes))]):
            self.create(
                "repair-attempt",
                {
                    "episode": episode["id"],
                    "session": sessions[-1]["id"],
                    "initiator": "therapist",
                    "both_engaged": True,
                    "strategies": ["invite_discussion"],
                    "outcome": "partly_resolved",
                    "resolution_rating": rng.randint(1, 5),
                },
                key=f"{tag}-repair-{k}",
            )


# --- The checks ---------------------------------------------------------------------------------


def ids_without_event(resource: str, action: str, ids: set[int]) -> set[int]:
    """Of ``ids``, those no allowed ``action`` event of ``resource`` names."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(record_ids) FROM cases_accessevent "
            "WHERE resource = %s AND action = %s AND outcome = %s AND status_code < 300",
            [resource, action, AccessOutcome.ALLOWED],
        )
        recorded = {row[0] for row in cursor.fetchall()}
    return ids - recorded


def ids_without_history(model: type[Model], label: str, ids: set[int]) -> set[int]:
    """Of ``ids``, those with no pghistory ``label`` event (the database triggers' record)."""
    events = model.pgh_event_model.objects  # type: ignore[attr-defined]
    recorded = set(events.filter(pgh_label=label).values_list("pgh_obj_id", flat=True))
    return ids - recorded


def row_counts() -> dict[str, int]:
    return {resource: model._default_manager.count() for resource, (_, model) in RESOURCES.items()}


def replay(port: int, key: str, sent: Sent) -> Answer:
    return send(port, sent.token, "POST", sent.path, sent.body, {"Idempotency-Key": key})


def clinicians() -> list[tuple[User, int]]:
    """Two practices, so there are two chains: Northside with two clinicians, Southside one."""
    people = []
    for slug, names in (("northside", ("alice", "bob")), ("southside", ("charlie",))):
        practice = PracticeFactory(slug=slug, name=slug.title())
        for name in names:
            user = UserFactory(username=name)
            services.membership_grant(practice=practice, user=user, role=Role.CLINICIAN)
            people.append((user, practice.pk))
    return people


@pytest.mark.django_db(transaction=True)
def test_killing_the_server_and_its_connections_mid_write_leaves_nothing_half_written(
    tmp_path,
):
    started = time.monotonic()
    rng = random.Random(SEED)
    tally = Tally()
    stop = threading.Event()
    people = clinicians()
    server = Server(free_port(), tmp_path / "gunicorn.log")
    faults: list[str] = []
    try:
        server.start()
        workers = []
        for number in range(WORKERS):
            user, practice_id = people[number % len(people)]
            _, token = get_token_model().objects.create(user=user)
            workers.append(
                Clinician(
                    number=number,
                    user=user,
                    practice_id=practice_id,
                    token=token,
                    port=server.port,
                    tally=tally,
                    stop=stop,
                )
            )
        threads = [threading.Thread(target=worker.run, daemon=True) for worker in workers]
        for thread in threads:
            thread.start()

        # --- The faults, in the middle of writes. ---
        for number in range(FAULTS):
            time.sleep(rng.uniform(*FAULT_GAP))
            deadline = time.monotonic() + 3
            while tally.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            in_flight = tally.in_flight
            if number % 2 == 0:
                server.kill()
                faults.append(f"SIGKILL of gunicorn with {in_flight} requests in flight")
                server.start()
            else:
                cut, busy = terminate_server_backends()
                faults.append(
                    f"pg_terminate_backend of {cut} connections, {busy} of them mid-statement "
                    f"or mid-transaction ({in_flight} requests in flight)"
                )
        stop.set()
        for thread in threads:
            thread.join(timeout=STEP_DEADLINE * 4)
        assert not any(thread.is_alive() for thread in threads), "a worker hung"
        fault_phase = time.monotonic() - started
        summary = "\n".join(
            [*faults, *(f"{what}: {n}" for what, n in sorted(tally.counts.items()))]
        )
        print(f"\n{summary}\nfault phase: {fault_phase:.1f}s")

        # The workers carried on through every fault: nothing refused, nothing given up.
        assert tally.problems == [], f"{tally.problems}\n{server.log_tail()}"
        # The faults did hit requests, and writes succeeded across them.
        no_answers = sum(n for what, n in tally.counts.items() if what.startswith(("no ", "HTTP")))
        assert no_answers > 0, summary
        assert tally.counts["workflows completed"] >= WORKERS, summary
        assert len(tally.created["session"]) >= WORKERS, summary
        assert len(tally.created["srs"]) == len(tally.created["session"]), summary
        assert len(tally.created["repair-attempt"]) >= 1, summary

        # --- With the server idle, the database as the faults left it. ---
        rows = {
            resource: set(model._default_manager.values_list("pk", flat=True))
            for resource, (_, model) in RESOURCES.items()
        }
        keys = {record.key: record for record in IdempotencyRecord.objects.all()}

        # Every answer a worker received is in the database, and nothing else is: a row
        # committed without its kept answer would be created again by the retry.
        for resource in RESOURCES:
            assert tally.created.get(resource, set()) == rows[resource], resource
        assert set(keys) == {key for key, sent in tally.sent.items() if sent.answer}

        # Every kept key names the row it created, which exists.
        for key, record in keys.items():
            resource = RESOURCE_OF_PATH[record.path]
            assert record.status_code == 201, key
            assert record.object_type == RESOURCES[resource][1]._meta.label, key
            assert record.object_id in rows[resource], key
            assert tally.sent[key].answer.data["id"] == record.object_id, key

        # Clients: each has its care team, with its primary clinician on it.
        for client in Client.objects.all():
            team = set(
                CareTeamMember.objects.filter(client=client).values_list("clinician", flat=True)
            )
            assert client.primary_clinician_id in team, client.pk

        # Progress notes: one per session, each session there; every edit answered is there.
        assert not TherapySession.objects.annotate(n=Count("progress_note")).filter(n__gt=1)
        assert set(ProgressNote.objects.values_list("session", flat=True)) <= rows["session"]
        for note_id, text in tally.edited.items():
            assert ProgressNote.objects.get(pk=note_id).sections == {"text": text}, note_id
        assert set(tally.edited) == rows["progress-note"]

        # Measures: one SRS per session, and every signal its rule calls for was raised with
        # it (a measure committed without its signal would be raised now).
        assert not (
            SessionRatingScale.objects.values("session")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        raised_late = {p.slug: signals_derive(practice=p) for p in Practice.objects.all()}
        assert raised_late == dict.fromkeys(raised_late, 0)

        # Episodes: a repair attempt and the move to repairing commit together.
        with_attempts = set(RepairAttempt.objects.values_list("episode", flat=True))
        repairing = set(
            RuptureEpisode.objects.filter(status=EpisodeStatus.REPAIRING).values_list(
                "pk", flat=True
            )
        )
        assert repairing == with_attempts
        assert not RuptureEpisode.objects.filter(
            pk__in=with_attempts, status=EpisodeStatus.OPEN
        ).exists()

        # Every write has its access event (fail closed) and its history row (triggers).
        for resource, (_, model) in RESOURCES.items():
            assert ids_without_event(resource, "create", rows[resource]) == set(), resource
            assert ids_without_history(model, "insert", rows[resource]) == set(), resource
        assert ids_without_event("progress-note", "update", set(tally.edited)) == set()
        assert ids_without_history(ProgressNote, "update", set(tally.edited)) == set()
        # …and no event claims a create that is not there.
        for resource in RESOURCES:
            claimed = AccessEvent.objects.filter(
                resource=resource, action="create", outcome=AccessOutcome.ALLOWED
            ).values_list("record_ids", flat=True)
            assert {i for ids in claimed for i in ids} <= rows[resource], resource

        # --- Every kept key replays through the restarted server and creates nothing. ---
        before = row_counts()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            replays = dict(
                zip(
                    keys,
                    pool.map(lambda key: replay(server.port, key, tally.sent[key]), keys),
                    strict=True,
                )
            )
        for key, answer in replays.items():
            record, sent = keys[key], tally.sent[key]
            assert answer.status == 201, (key, answer.data)
            assert answer.headers.get("idempotent-replayed") == "true", key
            # The record as it is now (notes were edited, episodes moved on), as a GET shows it.
            current = send(server.port, sent.token, "GET", f"{sent.path}{record.object_id}/")
            assert answer.data == current.data, key
            assert sent.answer is not None and answer.data["id"] == sent.answer.data["id"], key
        assert row_counts() == before

        server.stop()
        wait_for_no_backends()

        # --- The audit chains verify, in code and through the command. ---
        report = verify_chains()
        assert report.intact, [chain for chain in report.chains if not chain.intact]
        assert report.events > sum(len(ids) for ids in tally.created.values())
        verified = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"],
            cwd=BASE_DIR,
            env=server_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "OK:" in verified.stdout
        print(
            f"replayed {len(replays)} keys; {report.events} access events in "
            f"{len(report.chains)} chains; {time.monotonic() - started:.1f}s in all"
        )
    finally:
        stop.set()
        server.kill_everything()
        with contextlib.suppress(Exception):
            wait_for_no_backends(timeout=10)


# --- Bugs the checks above stumbled on, pinned without faults -----------------------------------


@pytest.mark.django_db
def test_a_replayed_measure_create_answers_the_first_body(clinician, session):
    api = client_for(clinician)
    body = {
        "session": session.pk,
        "relationship": 9.5,
        "goals_and_topics": 9.0,
        "approach_or_method": 8.5,
        "overall": 9.0,
    }

    first = api.post("/api/v1/measures/srs/", body, HTTP_IDEMPOTENCY_KEY="srs-once")
    again = api.post("/api/v1/measures/srs/", body, HTTP_IDEMPOTENCY_KEY="srs-once")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert SessionRatingScale.objects.filter(session=session).count() == 1
    assert again.json() == first.json()


@pytest.mark.django_db(transaction=True)
def test_two_measures_of_one_client_recorded_at_once_still_raise_their_signal(client, clinician):
    earlier, later = (
        TherapySessionFactory(
            client=client,
            clinician=clinician,
            starts_at=dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC),
            modality=Modality.INDIVIDUAL,
            setting=Setting.IN_PERSON,
            attendance=Attendance.ATTENDED,
        )
        for day in (3, 10)
    )
    first_recorded = threading.Event()
    second_backend: list[int] = []
    failures: list[BaseException] = []

    def record(session: TherapySession, score: float) -> None:
        measure_record(
            measure_model=SessionRatingScale,
            session=session,
            recorded_by=clinician,
            relationship=score,
            goals_and_topics=score,
            approach_or_method=score,
            overall=score,
        )

    def first() -> None:  # the earlier session, 40: recorded, committed last
        try:
            with transaction.atomic():
                record(earlier, 10.0)
                first_recorded.set()
                # Commit once the second is queued behind this transaction's lock.
                assert wait_until_blocked(lambda: second_backend[0] if second_backend else None)
        except BaseException as error:
            failures.append(error)
        finally:
            first_recorded.set()
            connection.close()

    def second() -> None:  # the later session, 38: a drop of 2, still above the cutoff
        try:
            first_recorded.wait(timeout=20)
            second_backend.append(backend_pid())
            record(later, 9.5)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert SessionRatingScale.objects.filter(client=client).count() == 2
    # Each measure derived its signals as it was recorded, so a sweep finds none missing
    # (here it raises the later session's srs_alert: 38 is a drop from 40).
    missed = signals_derive(practice=client.practice, client=client)
    assert missed == 0, list(RuptureSignal.objects.values_list("session", "rule"))
    assert RuptureSignal.objects.filter(session=later, rule=SignalRule.SRS_ALERT).exists()


@pytest.mark.django_db(transaction=True)
def test_a_repair_attempt_and_another_write_of_the_practice_do_not_deadlock(client, clinician):
    episode = RuptureEpisodeFactory(client=client, created_by=clinician)
    practice_locked, other_done = threading.Event(), threading.Event()
    other_backend: list[int] = []
    failures: list[BaseException] = []

    def repair() -> None:  # POST /repair-attempts/: the write, its access event, COMMIT
        try:
            with transaction.atomic():
                attempt = repair_attempt_record(
                    episode=episode,
                    recorded_by=clinician,
                    initiator="therapist",
                    both_engaged=True,
                    outcome="partly_resolved",
                    resolution_rating=3,
                )
                practice_locked.set()
                # Go on once the other write waits on this transaction (or has finished).
                wait_until_blocked(
                    lambda: other_backend[0] if other_backend else None, unless=other_done.is_set
                )
                record_access(
                    user_id=clinician.pk,
                    action="create",
                    resource="repair-attempt",
                    model=RepairAttempt,
                    record_ids=[attempt.pk],
                )
        except DatabaseError as error:
            failures.append(error)
        finally:
            practice_locked.set()
            connection.close()

    def other_write() -> None:  # POST /sessions/ for the same practice, at the same moment
        try:
            with transaction.atomic():
                practice_locked.wait(timeout=20)
                other_backend.append(backend_pid())
                session = services.session_create(
                    client=client,
                    clinician=clinician,
                    starts_at=dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC),
                    duration_minutes=50,
                    modality=Modality.INDIVIDUAL,
                    setting=Setting.IN_PERSON,
                )
                record_access(
                    user_id=clinician.pk,
                    action="create",
                    resource="session",
                    model=TherapySession,
                    record_ids=[session.pk],
                )
        except DatabaseError as error:
            failures.append(error)
        finally:
            other_done.set()
            connection.close()

    threads = [threading.Thread(target=repair), threading.Thread(target=other_write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [str(failure).splitlines()[0] for failure in failures] == []
    assert RepairAttempt.objects.filter(episode=episode).count() == 1
    assert TherapySession.objects.filter(client=client).count() == 1
