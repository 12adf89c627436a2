"""Background work of the API (procrastinate): thin wrappers, so that the same code runs from
the worker and a test."""

from __future__ import annotations

from procrastinate.contrib.django import app

from api import idempotency

# Hourly. Expired keys stop replaying at once (the lookup skips them); this removes their rows.
EXPIRE_KEYS_CRON = "23 * * * *"


@app.periodic(cron=EXPIRE_KEYS_CRON, periodic_id="expire-idempotency-keys")
@app.task(name="api.expire_idempotency_keys", queueing_lock="expire_idempotency_keys")
def expire_idempotency_keys(timestamp: int | None = None) -> int:
    """Deletes the records of expired ``Idempotency-Key``s; returns how many."""
    return idempotency.records_expire()
