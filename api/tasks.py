"""Background work of the API (procrastinate): thin wrappers, so that the same code runs from
the worker and a test."""

from __future__ import annotations

from procrastinate.contrib.django import app

from api import idempotency
from api.authentication import tokens_expire

# Hourly. Expired keys stop replaying at once (the lookup skips them); this removes their rows.
EXPIRE_KEYS_CRON = "23 * * * *"
# Hourly. An expired token is refused at once (authentication reads its expiry); this removes
# the rows of those never presented again, which knox swept on every request.
EXPIRE_TOKENS_CRON = "53 * * * *"


@app.periodic(cron=EXPIRE_KEYS_CRON, periodic_id="expire-idempotency-keys")
@app.task(name="api.expire_idempotency_keys", queueing_lock="expire_idempotency_keys")
def expire_idempotency_keys(timestamp: int | None = None) -> int:
    """Deletes the records of expired ``Idempotency-Key``s; returns how many."""
    return idempotency.records_expire()


@app.periodic(cron=EXPIRE_TOKENS_CRON, periodic_id="expire-tokens")
@app.task(name="api.expire_tokens", queueing_lock="expire_tokens")
def expire_tokens(timestamp: int | None = None) -> int:
    """Deletes the tokens past their idle or absolute expiry; returns how many."""
    return tokens_expire()
