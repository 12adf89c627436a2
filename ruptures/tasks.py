"""Background work of the ruptures app (procrastinate): thin wrappers over services, so that
the same code runs from the worker, a management command and a test."""

from __future__ import annotations

import datetime as dt

from procrastinate.contrib.django import app

from ruptures import releases, services

# Hourly: each practice's month falls due at local midnight plus its publication lag, in its
# own time zone; an hour later at most, it is released.
RELEASE_CRON = "7 * * * *"


@app.periodic(cron=RELEASE_CRON, periodic_id="release-trends")
@app.task(name="ruptures.release_trends", queueing_lock="release_trends")
def release_trends(timestamp: int | None = None) -> int:
    """Releases every due month of every practice; returns how many were made."""
    return sum(1 for _ in releases.releasing_due())


@app.periodic(cron="0 * * * *", periodic_id="derive-daily-signals")
@app.task(name="ruptures.derive_daily_signals", queueing_lock="derive_daily_signals")
def derive_daily_signals(timestamp: int) -> int:
    """Hourly: the practices whose local time has just reached its early morning get their
    time-based signals (the episode left unrepaired); returns how many were raised."""
    at = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return services.signals_derive_daily(at=at)
