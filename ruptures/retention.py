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
from dataclasses import dataclass

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone

from cases.audit import AccessOutcome, record_access
from cases.models import Client

PURGE_ACTION = "purge"
PREVIEW_ACTION = "purge_preview"

# Signed notes and addenda refuse DELETE to everyone else; the purge alone passes. Its deletes
# are not recorded as history either: the history of the record goes with it (below).
_PURGED_MODELS = (
    "cases.Client",
    "cases.CareTeamMember",
    "cases.TherapySession",
    "cases.ProgressNote",
    "cases.NoteAddendum",
    "cases.ProcessNote",
    "cases.SessionRatingScale",
    "cases.OutcomeRatingScale",
    "cases.PostSessionQuestionnaire",
    "cases.WorkingAllianceInventory",
    "cases.Participant",
    "ruptures.RuptureEpisode",
    "ruptures.RepairAttempt",
    "ruptures.RuptureSignal",
)
_GUARDS = (
    "cases.ProgressNote:signed_note_no_delete",
    "cases.NoteAddendum:addendum_append_only",
    *(f"{model}:delete_delete" for model in _PURGED_MODELS),
)

# The change history (django-pghistory event tables) of the record, by how each table names it.
_HISTORY_DELETES = (
    *(
        (f"DELETE FROM {table} WHERE client_id = %s", "client")  # noqa: S608 (tables listed here)
        for table in (
            "cases_careteammemberevent",
            "cases_therapysessionevent",
            "cases_sessionratingscaleevent",
            "cases_outcomeratingscaleevent",
            "cases_postsessionquestionnaireevent",
            "cases_workingallianceinventoryevent",
            "cases_participantevent",
            "ruptures_ruptureepisodeevent",
            "ruptures_repairattemptevent",
            "ruptures_rupturesignalevent",
        )
    ),
    ("DELETE FROM cases_clientevent WHERE pgh_obj_id = %s", "client"),
    ("DELETE FROM cases_progressnoteevent WHERE session_id = ANY(%s)", "sessions"),
    ("DELETE FROM cases_processnoteevent WHERE session_id = ANY(%s)", "sessions"),
    ("DELETE FROM cases_noteaddendumevent WHERE note_id = ANY(%s)", "notes"),
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

# Children before parents; every statement is bound to one client.
_DELETES = (
    "DELETE FROM ruptures_rupturesignal WHERE client_id = %s",
    "DELETE FROM ruptures_repairattempt WHERE client_id = %s",
    "DELETE FROM ruptures_ruptureepisode WHERE client_id = %s",
    "DELETE FROM cases_sessionratingscale WHERE client_id = %s",
    "DELETE FROM cases_outcomeratingscale WHERE client_id = %s",
    "DELETE FROM cases_postsessionquestionnaire WHERE client_id = %s",
    "DELETE FROM cases_workingallianceinventory WHERE client_id = %s",
    "DELETE FROM cases_participant WHERE client_id = %s",
    "DELETE FROM cases_processnote WHERE session_id IN "
    "(SELECT id FROM cases_therapysession WHERE client_id = %s)",
    "DELETE FROM cases_noteaddendum WHERE note_id IN (SELECT n.id FROM cases_progressnote n "
    "JOIN cases_therapysession s ON s.id = n.session_id WHERE s.client_id = %s)",
    "DELETE FROM cases_progressnote WHERE session_id IN "
    "(SELECT id FROM cases_therapysession WHERE client_id = %s)",
    "DELETE FROM cases_therapysession WHERE client_id = %s",
    "DELETE FROM cases_careteammember WHERE client_id = %s",
    "DELETE FROM cases_client WHERE id = %s",
)


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
        with pgtrigger.ignore(*_GUARDS), connection.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(s.id), array_agg(n.id) FILTER (WHERE n.id IS NOT NULL) "
                "FROM cases_therapysession s LEFT JOIN cases_progressnote n ON n.session_id = s.id "
                "WHERE s.client_id = %s",
                [record.client_id],
            )
            sessions, notes = cursor.fetchone()
            for statement in _DELETES:
                cursor.execute(statement, [record.client_id])
                deleted += cursor.rowcount
            keys = {"client": record.client_id, "sessions": sessions or [], "notes": notes or []}
            # Positional parameters: pgtrigger.ignore prefixes each statement.
            for statement, key in _HISTORY_DELETES:
                cursor.execute(statement, [keys[key]])
    return deleted
