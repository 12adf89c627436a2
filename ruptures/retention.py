"""Retention: what ``manage.py purge_expired`` may remove, and removing it.

The unit of retention is a client's whole record. It expires when the practice's retention
period (``Practice.retention_years``, default 7) has passed since the client's last service —
the later of their last attended session, their discharge and their intake — and it is not on
legal hold. Archiving (DELETE through the API) hides a record; only the purge removes rows, and
it removes every row of an expired client, archived or not, in one transaction per client,
after writing an access event that says so. The record's change history goes with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast

import pgtrigger
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from cases.audit import AccessOutcome, record_access
from cases.history import DELETE_TRIGGER, event_model
from cases.model_graph import AnyForeignKey, path_to, rows_under
from cases.models import Client

PURGE_ACTION = "purge"
PREVIEW_ACTION = "purge_preview"

# Signed notes and addenda refuse DELETE to everyone else; the purge alone passes.
_PROTECTED = (
    "cases.ProgressNote:signed_note_no_delete",
    "cases.NoteAddendum:addendum_append_only",
)

_EXPIRED = """
SELECT c.id, c.code, p.slug, service.last
FROM cases_client c
JOIN cases_practice p ON p.id = c.practice_id
CROSS JOIN LATERAL (
    SELECT GREATEST(
        c.intake_date,
        c.discharge_date,
        (SELECT max((s.starts_at AT TIME ZONE p.timezone)::date)
         FROM cases_therapysession s
         WHERE s.client_id = c.id AND s.attendance = 'attended')
    ) AS last
) AS service
WHERE NOT c.legal_hold
  AND service.last + make_interval(years => p.retention_years) < %(today)s
  AND (%(practice)s::text IS NULL OR p.slug = %(practice)s)
ORDER BY p.id, c.id
"""


@dataclass(frozen=True)
class _Plan:
    """What purging one client takes; every statement is bound to the client's id alone."""

    guards: tuple[str, ...]
    deletes: tuple[str, ...]  # the record's rows, children before parents
    history_deletes: tuple[str, ...]  # their change history; run while the rows still exist


def _reaching_client(path: Sequence[AnyForeignKey], *, own_id: str) -> str:
    """SQL: this row reaches the client (the one parameter) through ``path``, its chain of
    foreign keys; ``own_id`` is the column naming the client in the client's own row."""
    if not path:
        return f"{own_id} = %s"
    key, *rest = path
    if not rest:
        return f"{key.column} = %s"
    parent = cast("type[Model]", key.related_model)._meta.db_table
    inner = _reaching_client(rest, own_id=own_id)
    return f"{key.column} IN (SELECT {key.target_field.column} FROM {parent} WHERE {inner})"  # noqa: S608


@cache
def _plan() -> _Plan:
    """The record is the client and every row it holds through enforced foreign keys
    (``cases.model_graph``), so a table added under the client is purged without being
    listed here. Each row is found by its shortest chain of keys to the client."""
    guards = list(_PROTECTED)
    deletes: list[str] = []
    history: list[str] = []
    for model in rows_under(Client):
        path = path_to(model, Client)
        found = _reaching_client(path, own_id="id")
        deletes.append(f"DELETE FROM {model._meta.db_table} WHERE {found}")  # noqa: S608
        events = event_model(model)
        if events is not None:
            # The purge's deletes are not recorded as history: the history goes too. A
            # snapshot names the client as its row does, the client's own by ``pgh_obj``.
            guards.append(f"{model._meta.label}:{DELETE_TRIGGER}")
            found = _reaching_client(path, own_id="pgh_obj_id")
            history.append(f"DELETE FROM {events._meta.db_table} WHERE {found}")  # noqa: S608
    return _Plan(guards=tuple(guards), deletes=tuple(deletes), history_deletes=tuple(history))


@dataclass(frozen=True)
class ExpiredRecord:
    client_id: int
    code: str
    practice: str
    last_service: dt.date


def expired_records(
    *, today: dt.date | None = None, practice: str | None = None
) -> list[ExpiredRecord]:
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRED, {"today": today or timezone.localdate(), "practice": practice})
        return [ExpiredRecord(*row) for row in cursor.fetchall()]


def record_preview(records: list[ExpiredRecord]) -> None:
    """A dry run reads which clients are due: that is an access too."""
    if records:
        record_access(
            user_id=None,
            action=PREVIEW_ACTION,
            resource="client",
            model=Client,
            record_ids=[r.client_id for r in records],
            outcome=AccessOutcome.ALLOWED,
        )


def purge(record: ExpiredRecord) -> int:
    """Remove one client's whole record; returns the number of rows deleted."""
    deleted = 0
    with transaction.atomic():
        # The event first, while the database can still say whose record it was.
        record_access(
            user_id=None,
            action=PURGE_ACTION,
            resource="client",
            model=Client,
            record_ids=[record.client_id],
            outcome=AccessOutcome.ALLOWED,
        )
        plan = _plan()
        with pgtrigger.ignore(*plan.guards), connection.cursor() as cursor:
            # Positional parameters: pgtrigger.ignore prefixes each statement.
            for statement in plan.history_deletes:
                cursor.execute(statement, [record.client_id])
            for statement in plan.deletes:
                cursor.execute(statement, [record.client_id])
                deleted += cursor.rowcount
    return deleted
