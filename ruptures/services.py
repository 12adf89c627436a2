"""Every write of the ruptures app: episodes and their transitions, repair attempts, and the
derivation and handling of rupture signals."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from cases import policies
from cases import services as cases_services
from cases.edits import apply_edit, refuse_other_fields
from cases.models import (
    Client,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    Practice,
    SessionRatingScale,
    TherapySession,
    User,
)
from cases.services import MeasureModel, MeasureValues, lock_client_for_signals
from ruptures import errors
from ruptures.choices import (
    CLOSED_STATUSES,
    CONFRONTATION_MARKERS,
    EPISODE_TRANSITIONS,
    MARKER_SCHEME_OF,
    RELATIONAL_MARKERS,
    RELATIONAL_MOVES,
    RESOLVING_OUTCOMES,
    RRS_MARKERS,
    RRS_STRATEGIES,
    WITHDRAWAL_MARKERS,
    EpisodeStatus,
    Initiator,
    MarkerScheme,
    Relationship,
    RuptureKind,
    SignalRule,
    SignalStatus,
)
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal


def practice_today(practice: Practice) -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.timezone))


def _require_care_team(*, client: Client, user: User) -> None:
    # Anyone but the client's care team is refused alike (403), a non-clinician included:
    # unlike the cases services, which tell a non-clinician so (400).
    policies.require_care_team(client=client, user=user, name_non_members=False)


def _check_session(*, session: TherapySession | None, client: Client) -> None:
    if session is not None and session.client_id != client.pk:
        raise ValidationError({"session": errors.SESSION_OTHER_CLIENT})


def _check_not_future(*, field: str, value: dt.date, practice: Practice) -> None:
    if value > practice_today(practice):
        raise ValidationError({field: errors.DATE_IN_FUTURE})


def allowed_markers(*, relationship: str, kind: str | None) -> tuple[str, ...]:
    """Relational signs fit every rupture; 3RS markers fit only the alliance, those of its
    kind (the database's ``markers_condition``)."""
    if relationship != Relationship.THERAPIST:
        return RELATIONAL_MARKERS
    if kind == RuptureKind.WITHDRAWAL:
        return WITHDRAWAL_MARKERS + RELATIONAL_MARKERS
    if kind == RuptureKind.CONFRONTATION:
        return CONFRONTATION_MARKERS + RELATIONAL_MARKERS
    return RRS_MARKERS + RELATIONAL_MARKERS


def _check_kind_and_markers(episode: RuptureEpisode) -> None:
    alliance = episode.relationship == Relationship.THERAPIST
    if alliance and not episode.kind:
        raise ValidationError({"kind": errors.KIND_NEEDED_FOR_ALLIANCE})
    allowed = allowed_markers(relationship=episode.relationship, kind=episode.kind)
    # Unknown markers are left to the field's own validation.
    wrong = ", ".join(m for m in episode.markers if m in MARKER_SCHEME_OF and m not in allowed)
    if wrong and alliance:
        message = errors.MARKERS_WRONG_SCHEME.format(
            scheme=MarkerScheme.RRS_2015.label, kind=episode.kind, markers=wrong
        )
        raise ValidationError({"markers": message})
    if wrong:
        message = errors.MARKERS_ALLIANCE_ONLY.format(
            relationship=episode.relationship, markers=wrong
        )
        raise ValidationError({"markers": message})


def _validate_and_save(episode: RuptureEpisode) -> None:
    episode.kind = episode.kind or None
    episode.markers = sorted(set(episode.markers))
    # The trigger writes the same for every writer; set here so the instance says it too.
    episode.marker_schemes = [MARKER_SCHEME_OF[m] for m in episode.markers if m in MARKER_SCHEME_OF]
    episode.factors = sorted(set(episode.factors))
    _check_kind_and_markers(episode)
    episode.full_clean(validate_unique=False)
    episode.save()


# --- Episodes ----------------------------------------------------------------------------------


@transaction.atomic
def episode_open(
    *,
    client: Client,
    created_by: User,
    relationship: str,
    direction: str,
    kind: str | None = None,
    moment: str,
    intensity: int,
    detected_on: dt.date | None = None,
    source: str,
    markers: list[str] | None = None,
    factors: list[str] | None = None,
    description: str = "",
    session: TherapySession | None = None,
    recurrence_of: RuptureEpisode | None = None,
) -> RuptureEpisode:
    _require_care_team(client=client, user=created_by)
    _check_session(session=session, client=client)
    lock_client_for_signals(client_id=client.pk)
    detected_on = detected_on or practice_today(client.practice)
    _check_not_future(field="detected_on", value=detected_on, practice=client.practice)
    if recurrence_of is not None:
        _check_can_recur(original=recurrence_of, client=client, detected_on=detected_on)
    episode = RuptureEpisode(
        practice_id=client.practice_id,
        client=client,
        session=session,
        relationship=relationship,
        direction=direction,
        kind=kind,
        markers=list(markers or []),
        moment=moment,
        factors=list(factors or []),
        intensity=intensity,
        detected_on=detected_on,
        source=source,
        description=description,
        recurrence_of=recurrence_of,
        created_by=created_by,
    )
    _validate_and_save(episode)
    signals_derive(practice=client.practice, client=client, rules=(SignalRule.REPEATED_RUPTURE,))
    return episode


class EpisodeFields(TypedDict, total=False):
    """What is observed of a rupture, beyond its client and relationship: what a recurrence
    may set anew (the rest it takes from the episode that recurred)."""

    direction: str
    kind: str | None
    markers: list[str]
    moment: str
    factors: list[str]
    intensity: int
    source: str
    description: str
    session: TherapySession | None


class EpisodeChanges(EpisodeFields, total=False):
    """What may change of a live episode."""

    detected_on: dt.date


EPISODE_EDITABLE_FIELDS = tuple(EpisodeChanges.__annotations__)
RECURRENCE_FIELDS = tuple(EpisodeFields.__annotations__)


def _lock_episode(episode: RuptureEpisode) -> RuptureEpisode:
    # ``of=("self",)``: the practice row joined in must not be locked too, or every write of
    # the practice would queue behind this one (and deadlock with the access log's chain).
    return (
        RuptureEpisode.objects.select_for_update(of=("self",))
        .select_related("practice")
        .get(pk=episode.pk)
    )


def _require_live(episode: RuptureEpisode) -> None:
    if episode.status in CLOSED_STATUSES:
        raise ValidationError(errors.EPISODE_CLOSED.format(status=episode.status))


@transaction.atomic
def episode_update(
    *, episode: RuptureEpisode, user: User, **changes: Unpack[EpisodeChanges]
) -> RuptureEpisode:
    """Edit what was observed while the episode is live. The relationship is what the episode
    is about, so it is fixed; a different relationship is a different episode."""
    refuse_other_fields(changes, allowed=EPISODE_EDITABLE_FIELDS)
    locked = _lock_episode(episode)
    _require_care_team(client=locked.client, user=user)
    _require_live(locked)
    if "session" in changes:
        _check_session(session=changes["session"], client=locked.client)
    if "detected_on" in changes:
        _check_not_future(
            field="detected_on", value=changes["detected_on"], practice=locked.practice
        )
    apply_edit(locked, changes)
    _validate_and_save(locked)
    return locked


@transaction.atomic
def episode_transition(
    *, episode: RuptureEpisode, user: User, to_status: str, on_date: dt.date | None = None
) -> RuptureEpisode:
    locked = _lock_episode(episode)
    _require_care_team(client=locked.client, user=user)
    _require_live(locked)
    if to_status not in EPISODE_TRANSITIONS[locked.status]:
        if to_status == EpisodeStatus.RESOLVED and locked.status == EpisodeStatus.OPEN:
            raise ValidationError(errors.RESOLVE_NEEDS_REPAIR)
        raise ValidationError(
            errors.TRANSITION_NOT_ALLOWED.format(old=locked.status, new=to_status)
        )
    if (
        to_status == EpisodeStatus.RESOLVED
        and not RepairAttempt.objects.filter(
            episode=locked, archived_at__isnull=True, outcome__in=RESOLVING_OUTCOMES
        ).exists()
    ):
        raise ValidationError(errors.RESOLVE_NEEDS_REPAIR)
    if to_status in CLOSED_STATUSES:
        closed_on = on_date or practice_today(locked.practice)
        if closed_on < locked.detected_on:
            raise ValidationError({"closed_on": errors.DATE_BEFORE_DETECTION})
        _check_not_future(field="closed_on", value=closed_on, practice=locked.practice)
        locked.closed_on = closed_on
    locked.status = to_status
    locked.full_clean(validate_unique=False)
    locked.save()
    return locked


def episode_start_repair(*, episode: RuptureEpisode, user: User) -> RuptureEpisode:
    return episode_transition(episode=episode, user=user, to_status=EpisodeStatus.REPAIRING)


def episode_resolve(
    *, episode: RuptureEpisode, user: User, on_date: dt.date | None = None
) -> RuptureEpisode:
    return episode_transition(
        episode=episode, user=user, to_status=EpisodeStatus.RESOLVED, on_date=on_date
    )


def episode_mark_unresolved(
    *, episode: RuptureEpisode, user: User, on_date: dt.date | None = None
) -> RuptureEpisode:
    return episode_transition(
        episode=episode, user=user, to_status=EpisodeStatus.UNRESOLVED, on_date=on_date
    )


def episode_end_relationship(
    *, episode: RuptureEpisode, user: User, on_date: dt.date | None = None
) -> RuptureEpisode:
    """Walking away isn't failure; it's honesty. The episode closes as ``relationship_ended``."""
    return episode_transition(
        episode=episode, user=user, to_status=EpisodeStatus.RELATIONSHIP_ENDED, on_date=on_date
    )


def _check_can_recur(*, original: RuptureEpisode, client: Client, detected_on: dt.date) -> None:
    if original.client_id != client.pk:
        raise ValidationError({"recurrence_of": errors.RECURRENCE_OTHER_CLIENT})
    if original.status not in CLOSED_STATUSES:
        raise ValidationError(errors.RECURRENCE_NEEDS_CLOSED.format(status=original.status))
    if RuptureEpisode.objects.filter(recurrence_of=original).exists():
        raise ValidationError(errors.RECURRENCE_EXISTS, code="unique")
    if detected_on < original.detected_on:
        raise ValidationError({"detected_on": errors.DATE_BEFORE_DETECTION})


@transaction.atomic
def episode_record_recurrence(
    *,
    episode: RuptureEpisode,
    created_by: User,
    detected_on: dt.date | None = None,
    **fields: Unpack[EpisodeFields],
) -> RuptureEpisode:
    """A closed rupture that comes back: a new episode linked to the old, with the old one's
    description of the rupture as defaults and the same relationship."""
    locked = _lock_episode(episode)
    _require_care_team(client=locked.client, user=created_by)
    detected_on = detected_on or practice_today(locked.practice)
    _check_can_recur(original=locked, client=locked.client, detected_on=detected_on)
    refuse_other_fields(
        fields, allowed=RECURRENCE_FIELDS, message=errors.RECURRENCE_FIELD_NOT_SETTABLE
    )
    defaults: EpisodeFields = {
        "direction": locked.direction,
        "kind": locked.kind,
        "markers": locked.markers,
        "moment": locked.moment,
        "factors": locked.factors,
        "intensity": locked.intensity,
        "source": locked.source,
    }
    merged: EpisodeFields = {**defaults, **fields}
    return episode_open(
        client=locked.client,
        created_by=created_by,
        relationship=locked.relationship,
        detected_on=detected_on,
        recurrence_of=locked,
        **merged,
    )


# --- Repair attempts ---------------------------------------------------------------------------


@transaction.atomic
def repair_attempt_record(
    *,
    episode: RuptureEpisode,
    recorded_by: User,
    attempted_on: dt.date | None = None,
    initiator: str,
    both_engaged: bool,
    outcome: str,
    resolution_rating: int,
    strategies: list[str] | None = None,
    note: str = "",
    session: TherapySession | None = None,
) -> RepairAttempt:
    """Record an attempt to repair a live episode; an open episode moves to ``repairing``."""
    locked = _lock_episode(episode)
    _require_care_team(client=locked.client, user=recorded_by)
    _require_live(locked)
    _check_session(session=session, client=locked.client)
    if initiator == Initiator.BOTH and not both_engaged:
        raise ValidationError({"both_engaged": errors.BOTH_INITIATED_NEEDS_BOTH_ENGAGED})
    attempted_on = attempted_on or practice_today(locked.practice)
    if attempted_on < locked.detected_on:
        raise ValidationError({"attempted_on": errors.DATE_BEFORE_DETECTION})
    _check_not_future(field="attempted_on", value=attempted_on, practice=locked.practice)
    strategies = sorted(set(strategies or []))
    fitting = RRS_STRATEGIES if locked.relationship == Relationship.THERAPIST else RELATIONAL_MOVES
    wrong = [s for s in strategies if s not in fitting]
    if wrong:
        raise ValidationError(
            {
                "strategies": errors.STRATEGIES_WRONG_KIND.format(
                    relationship=locked.relationship, items=", ".join(wrong)
                )
            }
        )
    attempt = RepairAttempt(
        practice_id=locked.practice_id,
        episode=locked,
        client_id=locked.client_id,
        session=session,
        attempted_on=attempted_on,
        initiator=initiator,
        both_engaged=both_engaged,
        strategies=strategies,
        outcome=outcome,
        resolution_rating=resolution_rating,
        note=note,
        recorded_by=recorded_by,
    )
    attempt.full_clean()
    attempt.save()
    if locked.status == EpisodeStatus.OPEN:
        locked.status = EpisodeStatus.REPAIRING
        locked.save(update_fields=["status", "updated_at"])
    return attempt


# --- Signals: handling -------------------------------------------------------------------------


def _lock_open_signal(signal: RuptureSignal) -> RuptureSignal:
    locked = RuptureSignal.objects.select_for_update().get(pk=signal.pk)
    if locked.status != SignalStatus.OPEN:
        raise ValidationError(errors.SIGNAL_HANDLED.format(status=locked.status))
    return locked


@transaction.atomic
def signal_acknowledge(
    *, signal: RuptureSignal, user: User, episode: RuptureEpisode
) -> RuptureSignal:
    _require_care_team(client=signal.client, user=user)
    locked = _lock_open_signal(signal)
    if episode.client_id != locked.client_id:
        raise ValidationError({"episode": errors.SIGNAL_EPISODE_OTHER_CLIENT})
    locked.status = SignalStatus.ACKNOWLEDGED
    locked.linked_episode = episode
    locked.handled_by = user
    locked.handled_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def signals_acknowledge(
    *, signals: list[RuptureSignal], user: User, episode: RuptureEpisode
) -> list[RuptureSignal]:
    """Several open signals of one client linked to one episode of that client, all or none."""
    ids = [signal.pk for signal in signals]
    if len(set(ids)) != len(ids):
        raise ValidationError({"signals": errors.SIGNALS_REPEATED})
    for client in {signal.client for signal in signals}:
        _require_care_team(client=client, user=user)
    # In id order: two bulk acknowledgements of overlapping signals never deadlock.
    locked = list(RuptureSignal.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    for signal in locked:
        if signal.client_id != episode.client_id:
            raise ValidationError({"episode": errors.SIGNAL_EPISODE_OTHER_CLIENT})
        if signal.status != SignalStatus.OPEN:
            raise ValidationError(
                {"signals": errors.SIGNAL_HANDLED_OF.format(id=signal.pk, status=signal.status)}
            )
    now = timezone.now()
    for signal in locked:
        signal.status = SignalStatus.ACKNOWLEDGED
        signal.linked_episode = episode
        signal.handled_by = user
        signal.handled_at = now
        signal.save()
    return locked


@transaction.atomic
def signal_dismiss(*, signal: RuptureSignal, user: User, reason: str) -> RuptureSignal:
    _require_care_team(client=signal.client, user=user)
    locked = _lock_open_signal(signal)
    if not reason or not reason.strip():
        raise ValidationError({"reason": errors.DISMISSAL_NEEDS_REASON})
    locked.status = SignalStatus.DISMISSED
    locked.dismissal_reason = reason.strip()
    locked.handled_by = user
    locked.handled_at = timezone.now()
    locked.full_clean(exclude=["detail"], validate_unique=False)
    locked.save()
    return locked


# --- Signals: derivation -----------------------------------------------------------------------
#
# Each rule is one INSERT … SELECT over a practice, optionally narrowed to one client, so the
# same code serves a single new measure and a whole practice (the demo data, a nightly sweep).
# ``dedup_key`` names the evidence; ON CONFLICT makes re-running a rule a no-op.

_SCOPE = (
    "AND {alias}.practice_id = %(practice)s "
    "AND (%(client)s::bigint IS NULL OR {alias}.client_id = %(client)s)"
)

_INSERT = """
INSERT INTO ruptures_rupturesignal
    (practice_id, client_id, rule, session_id, episode_id, participant_id, detail, dedup_key,
     raised_at, status, dismissal_reason)
SELECT practice_id, client_id, %(rule)s, session_id, episode_id, participant_id, detail,
       dedup_key,
       statement_timestamp(),
       'open', ''
FROM ({query}) AS evidence
ON CONFLICT (practice_id, dedup_key) DO NOTHING
"""

# The measure rules compare each respondent with themselves: a couple's or family's participant
# (``participant_id``) with their own earlier answers, and raise one signal per participant,
# whose dedup key ends in ``:participant:<id>``.

# SRS below the cutoff, or lower than the respondent's previous SRS (by session time) by at
# least the practice's minimum drop (default 1 point; smaller moves are the scale's noise).
_SRS_ALERT = """
SELECT practice_id, client_id, session_id, NULL::bigint AS episode_id, participant_id,
       jsonb_build_object('srs_total', total, 'previous_srs_total', previous_total,
                          'cutoff', cutoff, 'min_drop', min_drop) AS detail,
       'srs_alert:session:' || session_id || coalesce(':participant:' || participant_id, '')
           AS dedup_key
FROM (
    SELECT m.practice_id, m.client_id, m.session_id, m.participant_id, m.total,
           p.srs_cutoff AS cutoff, p.srs_min_drop AS min_drop,
           lag(m.total) OVER (
               PARTITION BY m.client_id, m.participant_id ORDER BY s.starts_at, s.id
           ) AS previous_total
    FROM cases_sessionratingscale m
    JOIN cases_therapysession s ON s.id = m.session_id
    JOIN cases_practice p ON p.id = m.practice_id
    WHERE TRUE {scope}
) AS series
WHERE total < cutoff OR previous_total - total >= min_drop
"""

# A PSQ rupture reported with tension of 3 or more and resolution of 3 or less.
_PSQ_RUPTURE = """
SELECT m.practice_id, m.client_id, m.session_id, NULL::bigint AS episode_id, m.participant_id,
       jsonb_build_object('respondent', m.respondent, 'tension', m.tension,
                          'resolution', m.resolution) AS detail,
       'psq_rupture:' || m.respondent || ':session:' || m.session_id
           || coalesce(':participant:' || m.participant_id, '') AS dedup_key
FROM cases_postsessionquestionnaire m
WHERE m.rupture_experienced AND m.tension >= 3 AND m.resolution <= 3 {scope}
"""

# ORS falling by the reliable-change amount or more from the respondent's previous ORS.
_ORS_DETERIORATION = """
SELECT practice_id, client_id, session_id, NULL::bigint AS episode_id, participant_id,
       jsonb_build_object('ors_total', total, 'previous_ors_total', previous_total,
                          'reliable_change', reliable_change) AS detail,
       'ors_deterioration:session:' || session_id
           || coalesce(':participant:' || participant_id, '') AS dedup_key
FROM (
    SELECT m.practice_id, m.client_id, m.session_id, m.participant_id, m.total,
           p.ors_reliable_change AS reliable_change,
           lag(m.total) OVER (
               PARTITION BY m.client_id, m.participant_id ORDER BY s.starts_at, s.id
           ) AS previous_total
    FROM cases_outcomeratingscale m
    JOIN cases_therapysession s ON s.id = m.session_id
    JOIN cases_practice p ON p.id = m.practice_id
    WHERE TRUE {scope}
) AS series
WHERE previous_total - total >= reliable_change
"""

# The same relationship ruptured N or more times within the window (N and the window from the
# practice), raised on the episode that reaches N.
_REPEATED_RUPTURE = """
SELECT e.practice_id, e.client_id, e.session_id, e.id AS episode_id,
       NULL::bigint AS participant_id,
       jsonb_build_object('relationship', e.relationship, 'episodes_in_window', counted.n,
                          'window_days', p.repeat_rupture_window_days) AS detail,
       'repeated_rupture:episode:' || e.id AS dedup_key
FROM ruptures_ruptureepisode e
JOIN cases_practice p ON p.id = e.practice_id
CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM ruptures_ruptureepisode earlier
    WHERE earlier.client_id = e.client_id
      AND earlier.relationship = e.relationship
      AND earlier.detected_on <= e.detected_on
      AND earlier.detected_on > e.detected_on - p.repeat_rupture_window_days
) AS counted
WHERE counted.n >= p.repeat_rupture_count {scope}
"""

# An episode still open, with no repair attempt, longer than the practice allows.
_UNREPAIRED_EPISODE = """
SELECT e.practice_id, e.client_id, e.session_id, e.id AS episode_id,
       NULL::bigint AS participant_id,
       jsonb_build_object('days_open', %(today)s::date - e.detected_on) AS detail,
       'unrepaired_episode:episode:' || e.id AS dedup_key
FROM ruptures_ruptureepisode e
JOIN cases_practice p ON p.id = e.practice_id
JOIN cases_client c ON c.id = e.client_id AND c.archived_at IS NULL
WHERE e.status = 'open' AND e.archived_at IS NULL
  AND %(today)s::date - e.detected_on > p.unrepaired_episode_days
  AND NOT EXISTS (SELECT 1 FROM ruptures_repairattempt r WHERE r.episode_id = e.id) {scope}
"""

SIGNAL_RULE_SQL: dict[str, tuple[str, str]] = {
    SignalRule.SRS_ALERT: (_SRS_ALERT, "m"),
    SignalRule.PSQ_RUPTURE: (_PSQ_RUPTURE, "m"),
    SignalRule.ORS_DETERIORATION: (_ORS_DETERIORATION, "m"),
    SignalRule.REPEATED_RUPTURE: (_REPEATED_RUPTURE, "e"),
    SignalRule.UNREPAIRED_EPISODE: (_UNREPAIRED_EPISODE, "e"),
}

# Rules whose evidence is the passing of time, not a record: derived daily for every practice
# (``signals_derive_daily``, run by the worker), since no request would raise them.
TIME_RULES: tuple[str, ...] = (SignalRule.UNREPAIRED_EPISODE,)
# The practice's local hour at which its day's time-based signals are derived.
DAILY_SIGNALS_HOUR = 5

MEASURE_RULES: dict[type, tuple[str, ...]] = {
    SessionRatingScale: (SignalRule.SRS_ALERT,),
    OutcomeRatingScale: (SignalRule.ORS_DETERIORATION,),
    PostSessionQuestionnaire: (SignalRule.PSQ_RUPTURE,),
}


@transaction.atomic
def signals_derive(
    *,
    practice: Practice,
    client: Client | None = None,
    rules: tuple[str, ...] | None = None,
    today: dt.date | None = None,
) -> int:
    """Raise every signal the evidence supports for a practice (or one client of it).
    Returns how many new signals were raised; signals already raised are left as they are."""
    params = {
        "practice": practice.pk,
        "client": client.pk if client is not None else None,
        "today": today or practice_today(practice),
    }
    raised = 0
    with connection.cursor() as cursor:
        for rule in rules or tuple(SIGNAL_RULE_SQL):
            query, alias = SIGNAL_RULE_SQL[rule]
            sql = _INSERT.format(query=query.format(scope=_SCOPE.format(alias=alias)))
            cursor.execute(sql, {**params, "rule": rule})  # noqa: S608 (fixed SQL, bound values)
            raised += cursor.rowcount
    return raised


def signals_derive_daily(*, at: dt.datetime, every_hour: bool = False) -> int:
    """The time-based signals of every practice whose local time at ``at`` is its early
    morning (``DAILY_SIGNALS_HOUR``), for its local date; ``every_hour`` takes every practice
    whatever its hour (``manage.py derive_signals``). Idempotent: a signal already raised is
    never raised again. Returns how many were raised."""
    raised = 0
    for practice in Practice.objects.order_by("pk"):
        local = at.astimezone(zoneinfo.ZoneInfo(practice.timezone))
        if every_hour or local.hour == DAILY_SIGNALS_HOUR:
            raised += signals_derive(practice=practice, rules=TIME_RULES, today=local.date())
    return raised


def signals_derive_for_measure(*, measure: Any) -> int:
    rules = MEASURE_RULES.get(type(measure))
    if not rules:
        return 0
    return signals_derive(practice=measure.practice, client=measure.client, rules=rules)


# --- Measures ----------------------------------------------------------------------------------


@transaction.atomic
def measure_record(
    *,
    measure_model: MeasureModel,
    session: TherapySession,
    recorded_by: User,
    **values: Unpack[MeasureValues],
) -> Model:
    """Record one measure for a session (``cases.services.measure_record``) and, in the same
    transaction, derive the rupture signals it raises: a low or falling SRS, a PSQ rupture,
    a falling ORS."""
    measure = cases_services.measure_record(
        measure_model=measure_model, session=session, recorded_by=recorded_by, **values
    )
    signals_derive_for_measure(measure=measure)
    return measure
