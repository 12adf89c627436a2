"""Background work of the ruptures app (procrastinate): thin wrappers over services, so that
the same code runs from the worker, a management command and a test."""

from __future__ import annotations

from procrastinate.contrib.django import app

from ruptures import releases

# Hourly: each practice's month falls due at local midnight plus its publication lag, in its
# own time zone; an hour later at most, it is released.
RELEASE_CRON = "7 * * * *"


@app.periodic(cron=RELEASE_CRON, periodic_id="release-trends")
@app.task(name="ruptures.release_trends", queueing_lock="release_trends")
def release_trends(timestamp: int | None = None) -> int:
    """Releases every due month of every practice; returns how many were made."""
    return len(releases.release_due())
