"""Reads of the ruptures app, scoped by the caller exactly as ``cases.selectors`` scopes
clients: a clinician sees episodes, repairs and signals of clients on their care teams."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from cases.choices import NoteStatus, Role
from cases.models import Client, Practice, ProgressNote, TherapySession, User
from cases.selectors import client_list, practices_where, progress_note_list, session_list
from ruptures.choices import EpisodeStatus, SignalStatus
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal

LIVE_STATUSES = (EpisodeStatus.OPEN, EpisodeStatus.REPAIRING)


def episode_list(*, user: User, client: Client | None = None) -> QuerySet[RuptureEpisode]:
    episodes = RuptureEpisode.objects.filter(
        client__in=client_list(user=user), archived_at__isnull=True
    )
    if client is not None:
        episodes = episodes.filter(client=client)
    return episodes


def repair_attempt_list(
    *, user: User, episode: RuptureEpisode | None = None
) -> QuerySet[RepairAttempt]:
    attempts = RepairAttempt.objects.filter(
        episode__in=episode_list(user=user), archived_at__isnull=True
    )
    if episode is not None:
        attempts = attempts.filter(episode=episode)
    return attempts


def signal_list(*, user: User, client: Client | None = None) -> QuerySet[RuptureSignal]:
    signals = RuptureSignal.objects.filter(client__in=client_list(user=user))
    if client is not None:
        signals = signals.filter(client=client)
    return signals


# --- The worklist: a clinician's caseload at a glance -----------------------------------------

UNSIGNED_AFTER = dt.timedelta(hours=24)


@dataclass
class Worklist:
    """What needs the caller's attention across their care teams, each part with its rows in
    a fixed order (the frontend shows them as they come)."""

    open_signals: Sequence[dict[str, Any]]  # per client and rule
    live_episodes: Sequence[RuptureEpisode]
    unsigned_notes: Sequence[ProgressNote]
    sessions_this_week: Sequence[TherapySession]
    today: dict[int, dt.date]  # practice -> its local date

    @property
    def sessions_today(self) -> list[TherapySession]:
        return [
            s
            for s in self.sessions_this_week
            if s.starts_at.astimezone(_zone(s.practice)).date() == self.today[s.practice_id]
        ]

    @property
    def client_ids(self) -> set[int]:
        return (
            {row["client_id"] for row in self.open_signals}
            | {e.client_id for e in self.live_episodes}
            | {n.session.client_id for n in self.unsigned_notes}
            | {s.client_id for s in self.sessions_this_week}
        )


def _zone(practice: Practice) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(practice.timezone)


def worklist(*, user: User, now: dt.datetime | None = None) -> Worklist:
    """Five queries, whatever the caseload: the caller's practices (for their time zones),
    open signals grouped by client and rule, live episodes with their last repair attempt,
    draft notes of sessions that ended over 24 hours ago, and the week's sessions."""
    now = now or timezone.now()
    practices = list(practices_where(user=user, role=Role.CLINICIAN))
    today = {p.pk: now.astimezone(_zone(p)).date() for p in practices}

    open_signals = list(
        signal_list(user=user)
        .filter(status=SignalStatus.OPEN)
        .values("client_id", "client__code", "client__name", "client__practice_id", "rule")
        .annotate(count=Count("id"), oldest_raised_at=Min("raised_at"), signal_ids=ArrayAgg("id"))
        .order_by("oldest_raised_at", "client_id", "rule")
    )

    attempts = RepairAttempt.objects.filter(
        episode=OuterRef("pk"), archived_at__isnull=True
    ).order_by("-attempted_on", "-id")
    live_episodes = list(
        episode_list(user=user)
        .filter(status__in=LIVE_STATUSES)
        .select_related("client", "practice")
        .annotate(
            last_attempt_id=Subquery(attempts.values("id")[:1]),
            last_attempt_on=Subquery(attempts.values("attempted_on")[:1]),
            last_attempt_outcome=Subquery(attempts.values("outcome")[:1]),
        )
        .order_by("detected_on", "id")
    )

    ends = ExpressionWrapper(
        F("session__starts_at") + F("session__duration_minutes") * dt.timedelta(minutes=1),
        output_field=DateTimeField(),
    )
    unsigned_notes = list(
        progress_note_list(user=user)
        .filter(status=NoteStatus.DRAFT)
        .alias(session_ends=ends)
        .filter(session_ends__lt=now - UNSIGNED_AFTER)
        .select_related("session", "session__client")
        .order_by("session__starts_at", "id")
    )

    # Each practice's week, Monday to Sunday, in its own time zone.
    weeks = Q(pk__in=[])
    for practice in practices:
        monday = today[practice.pk] - dt.timedelta(days=today[practice.pk].weekday())
        start = dt.datetime.combine(monday, dt.time(), tzinfo=_zone(practice))
        weeks |= Q(
            practice=practice,
            starts_at__gte=start,
            starts_at__lt=dt.datetime.combine(
                monday + dt.timedelta(days=7), dt.time(), tzinfo=_zone(practice)
            ),
        )
    sessions_this_week = list(
        session_list(user=user)
        .filter(weeks)
        .select_related("client", "practice")
        .order_by("starts_at", "id")
    )
    return Worklist(open_signals, live_episodes, unsigned_notes, sessions_this_week, today)


# --- A client's timeline ----------------------------------------------------------------------

TIMELINE_KINDS = ("session", "srs", "ors", "psq", "wai_sr", "episode", "repair_attempt", "signal")

# One row per entry of the client's story: its kind, id and moment. Dates (episodes, repair
# attempts) count from the start of their day in the practice's time zone. Archived records,
# and whatever hangs off an archived session or episode, are left out; process notes are not
# part of it at all. The client's scope is checked by the caller (``client_list``).
_TIMELINE = """
WITH client AS (
    SELECT c.id, p.timezone AS tz FROM cases_client c
    JOIN cases_practice p ON p.id = c.practice_id WHERE c.id = %(client)s
),
sessions AS (
    SELECT s.id, s.starts_at FROM cases_therapysession s
    WHERE s.client_id = %(client)s AND s.archived_at IS NULL
),
episodes AS (
    SELECT e.id, e.detected_on FROM ruptures_ruptureepisode e
    WHERE e.client_id = %(client)s AND e.archived_at IS NULL
),
entries AS (
    SELECT 'session' AS kind, id, starts_at AS at FROM sessions
    UNION ALL
    SELECT 'srs', m.id, s.starts_at FROM cases_sessionratingscale m
        JOIN sessions s ON s.id = m.session_id WHERE m.archived_at IS NULL
    UNION ALL
    SELECT 'ors', m.id, s.starts_at FROM cases_outcomeratingscale m
        JOIN sessions s ON s.id = m.session_id WHERE m.archived_at IS NULL
    UNION ALL
    SELECT 'psq', m.id, s.starts_at FROM cases_postsessionquestionnaire m
        JOIN sessions s ON s.id = m.session_id WHERE m.archived_at IS NULL
    UNION ALL
    SELECT 'wai_sr', m.id, s.starts_at FROM cases_workingallianceinventory m
        JOIN sessions s ON s.id = m.session_id WHERE m.archived_at IS NULL
    UNION ALL
    SELECT 'episode', e.id, e.detected_on::timestamp AT TIME ZONE client.tz
        FROM episodes e, client
    UNION ALL
    SELECT 'repair_attempt', r.id, r.attempted_on::timestamp AT TIME ZONE client.tz
        FROM ruptures_repairattempt r JOIN episodes e ON e.id = r.episode_id, client
        WHERE r.archived_at IS NULL
    UNION ALL
    SELECT 'signal', g.id, g.raised_at FROM ruptures_rupturesignal g
        WHERE g.client_id = %(client)s
)
SELECT kind, id, at FROM entries
WHERE %(after_at)s::timestamptz IS NULL
   OR (at, kind, id) < (%(after_at)s::timestamptz, %(after_kind)s::text, %(after_id)s::bigint)
ORDER BY at DESC, kind DESC, id DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    id: int
    at: dt.datetime


def client_timeline(
    *, client: Client, after: TimelineEntry | None = None, limit: int = 50
) -> list[TimelineEntry]:
    """The client's entries, newest first, after ``after`` (a cursor: the last entry of the
    previous page). One query, whatever the page size."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TIMELINE,
            {
                "client": client.pk,
                "after_at": after.at if after else None,
                "after_kind": after.kind if after else None,
                "after_id": after.id if after else None,
                "limit": limit,
            },
        )
        return [TimelineEntry(kind, pk, at) for kind, pk, at in cursor.fetchall()]
