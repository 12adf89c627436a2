"""Benchmarks of the trends releases: how long a release takes and how much memory, how close
the published figures come to the exact ones, and how fast a trends answer is.

    DATABASE_URL=... .venv/bin/python -m benchmarks.trends release --month 2026-09
    DATABASE_URL=... .venv/bin/python -m benchmarks.trends release --history
    DATABASE_URL=... .venv/bin/python -m benchmarks.trends utility [--months 12] [--draws 3]
    DATABASE_URL=... .venv/bin/python -m benchmarks.trends response [--repeat 7]

It reads the demo practice (``manage.py seed_demo``, or ``--scale reference`` for the
reference data set). ``release`` and ``utility`` compute releases inside a transaction that is
rolled back, so the database keeps no release and no ledger entry from them; ``response``
reads the releases the practice has (``manage.py release_trends``).

``utility`` compares each published figure with the exact figure computed from every record
(no noise, no contribution bounds) at three levels: practice-wide monthly, per clinician
monthly, per clinician quarterly. It reports, per figure value, the median relative error of
the shown cells, the median half-width of their 90 % intervals, and the share of cells shown
(not "too few to show").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cases.models import Practice
    from ruptures.trends import Month


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ["THROTTLE_USER"] = "100000/min"
    import django

    django.setup()


def _practice() -> Practice:
    from cases.models import Practice
    from ruptures.demo.people import DEMO_PRACTICE_SLUG

    return Practice.objects.get(slug=DEMO_PRACTICE_SLUG)


def _month(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y-%m").date()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def release(args: argparse.Namespace) -> None:
    import pgtrigger
    from django.db import transaction
    from django.utils import timezone

    from ruptures import releases
    from ruptures.models import PrivacySpend, TrendRelease

    practice = _practice()
    before = _peak_rss_mb()
    with transaction.atomic():
        # The demo is released already: forget its releases for this transaction only.
        with pgtrigger.ignore(
            "ruptures.TrendRelease:release_frozen", "ruptures.PrivacySpend:spend_append_only"
        ):
            PrivacySpend.objects.filter(practice=practice).delete()
            TrendRelease.objects.filter(practice=practice).delete()
        started = time.perf_counter()
        if args.history:
            made = releases.release_due(practices=[practice], now=timezone.now())
        else:
            made = [releases.release_month(practice=practice, month=_month(args.month))]
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    rows = sum(sum(len(m["cells"]) for m in r.measurements.values()) for r in made)
    print(
        f"{len(made)} month(s) released in {seconds:.2f} s "
        f"({seconds / max(len(made), 1):.2f} s a month), {rows} noisy cells; "
        f"peak RSS {_peak_rss_mb():.0f} MB (before: {before:.0f} MB); rolled back"
    )


def _exact_month(frames: dict[str, Any], keys: dict[str, list[str]], month: dt.date) -> Month:
    """A release-shaped month with the exact counts and sums of every cell (no noise)."""
    import polars as pl

    from ruptures import releases, trends
    from ruptures.models import TrendRelease

    measurements = {}
    for m in releases.PLAN:
        frame = frames[m.frame]
        aggregates = [pl.len().alias("len")] + [
            (pl.col(c) - releases.sum_centre(c)).sum().alias(c) for c in m.sums
        ]
        if m.by:
            grid = pl.DataFrame({m.by[0]: keys[releases._key_name(m, m.by[0])]})
            for column in m.by[1:]:
                grid = grid.join(
                    pl.DataFrame({column: keys[releases._key_name(m, column)]}), how="cross"
                )
            counted = frame.group_by(list(m.by)).agg(aggregates)
            cells = grid.join(counted, on=list(m.by), how="left").fill_null(0)
        else:
            cells = frame.select(aggregates)
        measurements[m.name] = {
            "by": list(m.by),
            "rho": 0.0,
            "scales": {"len": 0.0, **dict.fromkeys(m.sums, 0.0)},
            "cells": cells.to_dicts(),
        }
    return trends.Month(TrendRelease(month=month, measurements=measurements))


def utility(args: argparse.Namespace) -> None:
    from django.db import transaction

    from ruptures import releases, trends
    from ruptures.models import TrendRelease

    practice = _practice()
    chosen = releases.settings_of(practice)
    if args.epsilon is not None:
        chosen = releases.ReleaseSettings(
            timezone=chosen.timezone, srs_cutoff=chosen.srs_cutoff, epsilon=args.epsilon
        )
    keys = releases._keys(practice)
    last = releases.due_until(practice, releases.timezone.now())
    months = [releases.months_before(last, n) for n in reversed(range(args.months))]
    clinicians = keys["clinician"]
    noisy: list[list[trends.Month]] = []  # per draw, per month
    exact: list[trends.Month] = []
    with transaction.atomic():
        for month in months:
            window = releases.MonthWindow(month, chosen.timezone)
            frames = releases.month_frames(practice, window, chosen.srs_cutoff)
            raw = releases.month_frames(practice, window, chosen.srs_cutoff, bounded=False)
            exact.append(_exact_month(raw, keys, month))
        for _ in range(args.draws):
            draw = []
            for month in months:
                window = releases.MonthWindow(month, chosen.timezone)
                frames = releases.month_frames(practice, window, chosen.srs_cutoff)
                measured = releases.measure(frames, keys=keys, rho=chosen.rho)
                release = TrendRelease(
                    month=month, measurements={m.name: m.as_json() for m in measured}
                )
                draw.append(trends.Month(release))
            noisy.append(draw)
        transaction.set_rollback(True)

    quarters = [list(range(i, i + 3)) for i in range(0, len(months) - 2, 3)]
    levels = {
        "practice, month": [(None, None, [i]) for i in range(len(months))],
        "clinician, month": [("clinician", c, [i]) for c in clinicians for i in range(len(months))],
        "clinician, quarter": [("clinician", c, q) for c in clinicians for q in quarters],
    }
    print(
        f"practice {practice.slug}: {len(months)} months to {last:%Y-%m}, "
        f"{len(clinicians)} clinicians, ε = {chosen.epsilon} a month, {args.draws} draw(s)"
    )
    header = f"{'figure / value':<58}"
    for level in levels:
        header += f" | {level:^26}"
    print(header)
    print(f"{'':<58}" + " | median err  ±90% half  shown" * len(levels))
    for name, figure in trends.FIGURES.items():
        values = list(figure.values)
        results: dict[str, dict[str, list[tuple[float, float, float] | None]]] = {
            v: {level: [] for level in levels} for v in values
        }
        for level, cells in levels.items():
            for by, key, span in cells:
                truth = figure.compute(by, key)([exact[i] for i in span])
                for draw in noisy:
                    got = figure.compute(by, key)([draw[i] for i in span])
                    for value in values:
                        if value not in truth:
                            continue
                        t, g = truth[value], got[value]
                        if t.value is None or t.value == 0:
                            continue
                        if g.too_few_to_show:
                            results[value][level].append(None)
                        else:
                            error = abs(g.value - t.value) / abs(t.value)
                            half = (g.high - g.low) / 2
                            results[value][level].append((error, half, t.value))
        for value in values:
            line = f"{name + ' / ' + value:<58}"
            for level in levels:
                found = results[value][level]
                shown = [r for r in found if r is not None]
                if not found:
                    line += f" | {'—':^26}"
                    continue
                if shown:
                    err = statistics.median(r[0] for r in shown)
                    half = statistics.median(r[1] for r in shown)
                    line += f" | {err:>9.0%} {half:>9.3g} {len(shown) / len(found):>5.0%}"
                else:
                    line += f" | {'—':>9} {'—':>9} {0:>5.0%}"
            print(line)


def response(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from cases.choices import Role
    from cases.models import User
    from ruptures.models import TrendRelease

    settings.ALLOWED_HOSTS = ["*"]
    practice = _practice()
    user = User.objects.filter(
        memberships__practice=practice, memberships__role=Role.SUPERVISOR
    ).order_by("username")[0]
    user.set_password("benchmark-password-0")
    user.save()
    http = Client()
    token = http.post(
        "/api/v1/auth/login/",
        {"username": user.username, "password": "benchmark-password-0"},
        content_type="application/json",
    ).json()["token"]
    last = TrendRelease.objects.filter(practice=practice).order_by("-month")[0].month
    print(f"practice {practice.slug}, supervisor {user.username}, median of {args.repeat}")
    print(f"{'request':<52} {'ms':>8} {'queries':>8}")
    for months, grain in ((1, "month"), (12, "month"), (12, "rolling_12"), (36, "quarter")):
        first = last
        for _ in range(months - 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        query = {
            "from": first.strftime("%Y-%m"),
            "to": last.strftime("%Y-%m"),
            "grain": grain,
            "by": "clinician",
        }

        def get(query: dict[str, str] = query) -> None:
            answer = http.get(
                "/api/v1/trends/resolution/", query, HTTP_AUTHORIZATION=f"Token {token}"
            )
            assert answer.status_code == 200, answer.content  # noqa: S101

        get()
        statements: list[str] = []

        def count(
            execute: Any,
            sql: str,
            params: Any,
            many: bool,
            context: Any,
            statements: list[str] = statements,
        ) -> Any:
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            get()
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            get()
            samples.append(time.perf_counter() - started)
        label = f"resolution by clinician, {months} months, {grain}"
        print(f"{label:<52} {statistics.median(samples) * 1000:>8.1f} {len(statements):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser("release", help="time and memory of releasing")
    which = timed.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="one month, YYYY-MM")
    which.add_argument("--history", action="store_true", help="every due month")
    useful = commands.add_parser("utility", help="published vs exact figures")
    useful.add_argument("--months", type=int, default=12)
    useful.add_argument("--draws", type=int, default=3, help="independent releases a month")
    useful.add_argument("--epsilon", type=float, default=None, help="instead of the practice's")
    answered = commands.add_parser("response", help="time of a trends answer")
    answered.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    _setup()
    {"release": release, "utility": utility, "response": response}[args.command](args)


if __name__ == "__main__":
    main()
