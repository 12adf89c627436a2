"""The worklist answer (``GET /api/v1/worklist/``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from api.serializers.base import Body
from cases.models import Client, TherapySession
from ruptures.selectors import Worklist


def _client(client: Client) -> dict[str, Any]:
    return {"client": client.pk, "client_code": client.code, "client_name": client.name}


def _session(session: TherapySession) -> dict[str, Any]:
    return {
        "id": session.pk,
        **_client(session.client),
        "starts_at": session.starts_at,
        "duration_minutes": session.duration_minutes,
        "modality": session.modality,
        "setting": session.setting,
        "attendance": session.attendance,
    }


def _last_attempt(annotated: dict[str, Any]) -> dict[str, Any] | None:
    """The selector annotates each live episode with its last repair attempt."""
    if annotated["last_attempt_id"] is None:
        return None
    return {
        "id": annotated["last_attempt_id"],
        "attempted_on": annotated["last_attempt_on"],
        "outcome": annotated["last_attempt_outcome"],
    }


def worklist_body(work: Worklist, *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = work.sessions_today
    return {
        "counts": {
            "open_signals": sum(row["count"] for row in work.open_signals),
            "live_episodes": len(work.live_episodes),
            "unsigned_notes": len(work.unsigned_notes),
            "sessions_today": len(today),
            "sessions_this_week": len(work.sessions_this_week),
        },
        "open_signals": [
            {
                "client": row["client_id"],
                "client_code": row["client__code"],
                "client_name": row["client__name"],
                "rule": row["rule"],
                "count": row["count"],
                "oldest_raised_at": row["oldest_raised_at"],
                "signals": sorted(row["signal_ids"]),
            }
            for row in work.open_signals
        ],
        "live_episodes": [
            {
                "id": e.pk,
                **_client(e.client),
                "status": e.status,
                "relationship": e.relationship,
                "kind": e.kind,
                "detected_on": e.detected_on,
                "days_since_detection": (work.today[e.practice_id] - e.detected_on).days,
                "last_repair_attempt": _last_attempt(vars(e)),
            }
            for e in work.live_episodes
        ],
        "unsigned_notes": [
            {
                "id": note.pk,
                "session": note.session_id,
                **_client(note.session.client),
                "session_starts_at": note.session.starts_at,
                "hours_since_session": int((now - note.session.starts_at).total_seconds() // 3600),
            }
            for note in work.unsigned_notes
        ],
        "sessions_today": [_session(s) for s in today],
        "sessions_this_week": [_session(s) for s in work.sessions_this_week],
    }


class _ClientFields(serializers.Serializer[Body]):
    client = serializers.IntegerField()
    client_code = serializers.CharField()
    client_name = serializers.CharField()


class OpenSignalsSerializer(_ClientFields):
    rule = serializers.CharField()
    count = serializers.IntegerField()
    oldest_raised_at = serializers.DateTimeField()
    signals = serializers.ListField(child=serializers.IntegerField(), help_text="Their ids.")


class LastAttemptSerializer(serializers.Serializer[Body]):
    id = serializers.IntegerField()
    attempted_on = serializers.DateField()
    outcome = serializers.CharField()


class LiveEpisodeSerializer(_ClientFields):
    id = serializers.IntegerField()
    status = serializers.CharField()
    relationship = serializers.CharField()
    kind = serializers.CharField(allow_null=True, help_text="Null outside therapy when not given.")
    detected_on = serializers.DateField()
    days_since_detection = serializers.IntegerField(help_text="In the practice's time zone.")
    last_repair_attempt = LastAttemptSerializer(allow_null=True)


class UnsignedNoteSerializer(_ClientFields):
    id = serializers.IntegerField()
    session = serializers.IntegerField()
    session_starts_at = serializers.DateTimeField()
    hours_since_session = serializers.IntegerField()


class WorklistSessionSerializer(_ClientFields):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    modality = serializers.CharField()
    setting = serializers.CharField()
    attendance = serializers.CharField()


class WorklistCountsSerializer(serializers.Serializer[Body]):
    open_signals = serializers.IntegerField()
    live_episodes = serializers.IntegerField()
    unsigned_notes = serializers.IntegerField()
    sessions_today = serializers.IntegerField()
    sessions_this_week = serializers.IntegerField()


class WorklistSerializer(serializers.Serializer[Body]):
    counts = WorklistCountsSerializer()
    open_signals = OpenSignalsSerializer(many=True, help_text="Per client and rule.")
    live_episodes = LiveEpisodeSerializer(many=True, help_text="Open or being repaired.")
    unsigned_notes = UnsignedNoteSerializer(
        many=True, help_text="Drafts of sessions that ended more than 24 hours ago."
    )
    sessions_today = WorklistSessionSerializer(many=True)
    sessions_this_week = WorklistSessionSerializer(
        many=True, help_text="Monday to Sunday, in the practice's time zone."
    )
