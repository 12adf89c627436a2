"""Build the demo practice: staff, clients, their records, and the signals those raise.

Everything happens in one transaction: an interrupted run leaves nothing behind, and a
``--reset`` either replaces the demo practice or leaves the old one as it was.

The demo's rows have no insert history: inside that transaction the history triggers skip the
seed's inserts (``cases.history.demo_seeding``). Its updates are recorded as any others (the
signal history below back-dates every signal and marks most handled: one "update" event a
signal), and so is whatever anyone changes afterwards.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from cases.history import demo_seeding
from cases.models import Practice
from ruptures.demo.bulk import Loader
from ruptures.demo.clinical import ClientGenerator, Context
from ruptures.demo.people import DEMO_PRACTICE_SLUG, DEMO_TIMEZONE, create_practice
from ruptures.demo.plan import Plan
from ruptures.demo.reset import delete_practice
from ruptures.demo.signal_history import give_signals_history
from ruptures.demo.tables import Tables
from ruptures.models import RuptureSignal
from ruptures.releases import releasing_due
from ruptures.services import signals_derive

DEFAULT_SEED = 2026
# Rows buffered before a COPY round: big enough that each COPY is efficient, small enough
# that memory stays flat (a few tens of MB) whatever the scale.
FLUSH_ROWS = 20_000
# Serialises concurrent seeders so two runs cannot both decide the practice is missing.
ADVISORY_LOCK_KEY = "mend.seed_demo"


@dataclass
class SeedResult:
    practice: Practice
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    signals: int = 0
    releases: int = 0  # trends months released
    seconds: float = 0.0
    # Wall time of each phase, for benchmarking the reference data set.
    phases: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    phases[name] = time.monotonic() - started


def demo_practice() -> Practice | None:
    return Practice.objects.filter(slug=DEMO_PRACTICE_SLUG).first()


def seed_demo(
    *,
    scale: float,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    today: dt.date | None = None,
    progress: bool = False,
) -> SeedResult:
    """Create the demo practice unless it exists; with ``reset``, replace it."""
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [ADVISORY_LOCK_KEY])
        existing = demo_practice()
        phases: dict[str, float] = {}
        if existing is not None:
            if not reset:
                return SeedResult(practice=existing, created=False)
            with _timed(phases, "reset"):
                delete_practice(existing)
        with demo_seeding():
            result = _build(scale=scale, seed=seed, today=today, progress=progress, phases=phases)
    result.seconds = time.monotonic() - started
    return result


def _build(
    *, scale: float, seed: int, today: dt.date | None, progress: bool, phases: dict[str, float]
) -> SeedResult:
    plan = Plan.for_scale(scale)
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    tz = ZoneInfo(DEMO_TIMEZONE)
    today, now = _today_and_now(today, tz)
    since = today - dt.timedelta(days=plan.history_days + 30)

    with _timed(phases, "staff"):
        staff = create_practice(
            rng=rng, clinicians=plan.clinicians, supervisors=plan.supervisors, since=since
        )
    tables = Tables()
    # Alone in the database, nobody else is kept waiting by the locks that checking the
    # foreign keys at the end takes (ruptures.demo.bulk).
    alone = not Practice.objects.exclude(pk=staff.practice.pk).exists()
    with _timed(phases, "clinical records (generate + COPY)"), Loader(tables.in_order()) as loader:
        loader.begin(check_foreign_keys_at_end=alone)
        context = Context(
            practice_id=staff.practice.pk,
            tz=tz,
            today=today,
            now=now,
            history_days=plan.history_days,
            course_sessions=plan.course_sessions,
            clinicians=staff.clinicians,
            loader=loader,
            tables=tables,
        )
        _write_clients(ClientGenerator(context, rng), clients=plan.clients, progress=progress)

    with _timed(phases, "statistics"), connection.cursor() as cursor:
        # Fresh statistics before the foreign keys and the set-based signal queries plan
        # their joins; ANALYZE sees this transaction's own rows.
        for table in loader.tables:
            cursor.execute(f"ANALYZE {table.name}")
    with _timed(phases, "foreign keys"):
        loader.check_foreign_keys()
    with _timed(phases, "signals"):
        signals = signals_derive(practice=staff.practice, today=today)
        # Recorded (one "update" event a signal): the setting only ever skips inserts, so it
        # can never hide a change to a row that existed before the seed.
        give_signals_history(practice_id=staff.practice.pk, now=now)
    with connection.cursor() as cursor:
        # Foreign-key checks plan their lookups from these statistics; stale ones (an empty
        # table) make every later delete or insert that checks a signal scan the practice.
        cursor.execute(f"ANALYZE {RuptureSignal._meta.db_table}")
    with _timed(phases, "trends releases"):
        # Supervisors find the past months released, as after the worker's first run.
        released = sum(1 for _ in releasing_due(practices=[staff.practice], now=now))
    return SeedResult(
        practice=staff.practice,
        created=True,
        counts={table.name: table.written for table in loader.tables},
        signals=signals,
        releases=released,
        phases=phases,
    )


def _today_and_now(today: dt.date | None, tz: ZoneInfo) -> tuple[dt.date, dt.datetime]:
    if today is None:
        now = timezone.now()
        return now.astimezone(tz).date(), now
    # A pinned day makes the output identical from one day to the next (tests).
    return today, dt.datetime.combine(today, dt.time(12), tzinfo=tz)


def _write_clients(generator: ClientGenerator, *, clients: int, progress: bool) -> None:
    """Every client's record, COPYed in rounds of about FLUSH_ROWS rows."""
    loader = generator.ctx.loader
    with tqdm(
        total=clients,
        unit="client",
        desc="Seeding demo",
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        # The headline clinicians (the first two) each get two active clients for sure.
        pinned = [clinician for clinician in generator.ctx.clinicians[:2] for _ in range(2)]
        for number in range(clients):
            if number < len(pinned):
                generator.generate(primary=pinned[number], active=True)
            else:
                generator.generate()
            if loader.pending >= FLUSH_ROWS:
                loader.flush()
            bar.update(1)
        loader.finish()
