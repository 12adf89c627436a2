"""Entries of a client's timeline (``api.views.timeline``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

from api.serializers.base import Body
from ruptures.selectors import TIMELINE_KINDS, TimelineEntry


def _session(s: Any) -> dict[str, Any]:
    note = getattr(s, "progress_note", None)
    return {
        "starts_at": s.starts_at,
        "duration_minutes": s.duration_minutes,
        "modality": s.modality,
        "setting": s.setting,
        "attendance": s.attendance,
        "clinician": s.clinician_id,
        "progress_note": None if note is None else {"id": note.pk, "status": note.status},
    }


def _measure(m: Any, *fields: str) -> dict[str, Any]:
    return {
        "session": m.session_id,
        "participant": m.participant_id,
        **{f: getattr(m, f) for f in fields},
    }


# By entry kind: the record's fields (the record is the kind's model instance).
DATA: dict[str, Callable[[Any], dict[str, Any]]] = {
    "session": _session,
    "srs": lambda m: _measure(m, "total"),
    "ors": lambda m: _measure(m, "total"),
    "psq": lambda m: _measure(m, "respondent", "rupture_experienced", "tension", "resolution"),
    "wai_sr": lambda m: _measure(m, "respondent", "total", "task", "bond", "goal"),
    "episode": lambda e: {
        "session": e.session_id,
        "relationship": e.relationship,
        "direction": e.direction,
        "kind": e.kind,
        "markers": e.markers,
        "moment": e.moment,
        "factors": e.factors,
        "intensity": e.intensity,
        "status": e.status,
        "detected_on": e.detected_on,
        "closed_on": e.closed_on,
        "recurrence_of": e.recurrence_of_id,
    },
    "repair_attempt": lambda r: {
        "episode": r.episode_id,
        "session": r.session_id,
        "attempted_on": r.attempted_on,
        "initiator": r.initiator,
        "both_engaged": r.both_engaged,
        "strategies": r.strategies,
        "outcome": r.outcome,
        "resolution_rating": r.resolution_rating,
    },
    "signal": lambda g: {
        "rule": g.rule,
        "status": g.status,
        "session": g.session_id,
        "episode": g.episode_id,
        "participant": g.participant_id,
        "linked_episode": g.linked_episode_id,
        "detail": g.detail,
        "handled_at": g.handled_at,
    },
}


def entry_body(entry: TimelineEntry, record: Any) -> dict[str, Any]:
    return {"type": entry.kind, "id": entry.id, "at": entry.at, "data": DATA[entry.kind](record)}


class TimelineEntrySerializer(serializers.Serializer[Body]):
    type = serializers.ChoiceField(choices=list(TIMELINE_KINDS))
    id = serializers.IntegerField()
    at = serializers.DateTimeField(
        help_text="When: a session's start (its measures too), an episode's detection day or a "
        "repair attempt's day (from midnight in the practice's time zone), a signal's raising."
    )
    data = serializers.DictField(  # type: ignore[assignment]  # the entry's, not Serializer.data
        help_text="The entry's fields, by type (docs/api.md)."
    )


class TimelinePageSerializer(serializers.Serializer[Body]):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True, help_text="Always null: follow `next`.")
    results = TimelineEntrySerializer(many=True)
