"""Triggers of the ruptures tables: an episode moves only along the allowed transitions and a
handled signal stays as it was handled, whoever writes the SQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.utils import timezone

from ruptures.choices import (
    CLOSED_STATUSES,
    EPISODE_TRANSITIONS,
    EpisodeStatus,
    RepairOutcome,
    SignalStatus,
)
from ruptures.models import RuptureEpisode, RuptureSignal
from tests.factories import (
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TRANSITIONS = "episode_status_transitions"
SIGNAL_FINAL = "signal_handled_final"


def _sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _in_status(status: str) -> RuptureEpisode:
    detected = timezone.localdate() - dt.timedelta(days=10)
    return RuptureEpisodeFactory(
        status=status,
        detected_on=detected,
        closed_on=detected if status in CLOSED_STATUSES else None,
    )


def _move_in_sql(episode: RuptureEpisode, status: str) -> None:
    _sql(
        "UPDATE ruptures_ruptureepisode SET status = %s, "
        "closed_on = CASE WHEN %s THEN detected_on END WHERE id = %s",
        status,
        status in CLOSED_STATUSES,
        episode.pk,
    )


ALLOWED = [(old, new) for old, targets in EPISODE_TRANSITIONS.items() for new in targets]
REFUSED = [
    (old, new)
    for old, new in itertools.permutations(EpisodeStatus.values, 2)
    if (old, new) not in ALLOWED
]


def test_the_transition_table_is_the_designed_one():
    assert set(ALLOWED) == {
        ("open", "repairing"),
        ("open", "unresolved"),
        ("open", "relationship_ended"),
        ("repairing", "resolved"),
        ("repairing", "unresolved"),
        ("repairing", "relationship_ended"),
    }


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_transitions_pass_in_sql(old, new):
    episode = _in_status(old)
    if new == EpisodeStatus.RESOLVED:  # resolution also needs a repair that resolved it
        RepairAttemptFactory(episode=episode, outcome=RepairOutcome.RESOLVED)
    _move_in_sql(episode, new)
    episode.refresh_from_db()
    assert episode.status == new


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_other_transitions_are_refused_in_sql(trigger_refuses, old, new):
    episode = _in_status(old)
    with trigger_refuses(TRANSITIONS):
        _move_in_sql(episode, new)
    episode.refresh_from_db()
    assert episode.status == old


def test_closed_episode_cannot_be_reopened_through_the_orm(trigger_refuses):
    episode = _in_status(EpisodeStatus.RESOLVED)
    with trigger_refuses(TRANSITIONS):
        RuptureEpisode.objects.filter(pk=episode.pk).update(
            status=EpisodeStatus.OPEN, closed_on=None
        )
    episode.status, episode.closed_on = EpisodeStatus.REPAIRING, None
    with trigger_refuses(TRANSITIONS):
        episode.save()


def test_open_episode_cannot_jump_to_resolved_through_the_orm(trigger_refuses):
    episode = _in_status(EpisodeStatus.OPEN)
    with trigger_refuses(TRANSITIONS):
        RuptureEpisode.objects.filter(pk=episode.pk).update(
            status=EpisodeStatus.RESOLVED, closed_on=episode.detected_on
        )


def test_unchanged_status_passes_the_trigger():
    episode = _in_status(EpisodeStatus.RESOLVED)
    RuptureEpisode.objects.filter(pk=episode.pk).update(intensity=5)
    episode.refresh_from_db()
    assert (episode.status, episode.intensity) == (EpisodeStatus.RESOLVED, 5)


# --- Signals -----------------------------------------------------------------------------------


@pytest.fixture
def acknowledged() -> RuptureSignal:
    episode = RuptureEpisodeFactory()
    return RuptureSignalFactory(
        client=episode.client,
        status=SignalStatus.ACKNOWLEDGED,
        linked_episode=episode,
        handled_by=episode.created_by,
        handled_at=timezone.now(),
    )


@pytest.fixture
def dismissed() -> RuptureSignal:
    signal = RuptureSignalFactory()
    return RuptureSignalFactory(
        status=SignalStatus.DISMISSED,
        dismissal_reason="Client was unwell, not a rupture.",
        handled_by=signal.client.primary_clinician,
        handled_at=timezone.now(),
    )


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            "UPDATE ruptures_rupturesignal SET status = 'open', linked_episode_id = NULL, "
            "handled_by_id = NULL, handled_at = NULL WHERE id = %s",
            id="reopen",
        ),
        pytest.param(
            "UPDATE ruptures_rupturesignal SET status = 'dismissed', linked_episode_id = NULL, "
            "dismissal_reason = 'changed my mind' WHERE id = %s",
            id="acknowledged-to-dismissed",
        ),
    ],
)
def test_acknowledged_signal_cannot_be_reopened_or_redone_in_sql(
    trigger_refuses, acknowledged, statement
):
    with trigger_refuses(SIGNAL_FINAL):
        _sql(statement, acknowledged.pk)
    acknowledged.refresh_from_db()
    assert acknowledged.status == SignalStatus.ACKNOWLEDGED


def test_acknowledged_signal_cannot_be_relinked(trigger_refuses, acknowledged):
    another = RuptureEpisodeFactory(client=acknowledged.client)
    with trigger_refuses(SIGNAL_FINAL):
        RuptureSignal.objects.filter(pk=acknowledged.pk).update(linked_episode=another)
    acknowledged.refresh_from_db()
    assert acknowledged.linked_episode_id != another.pk


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            "UPDATE ruptures_rupturesignal SET status = 'open', dismissal_reason = '', "
            "handled_by_id = NULL, handled_at = NULL WHERE id = %s",
            id="reopen",
        ),
        pytest.param(
            "UPDATE ruptures_rupturesignal SET dismissal_reason = 'something else' WHERE id = %s",
            id="new-reason",
        ),
    ],
)
def test_dismissed_signal_cannot_be_reopened_or_changed_in_sql(
    trigger_refuses, dismissed, statement
):
    with trigger_refuses(SIGNAL_FINAL):
        _sql(statement, dismissed.pk)
    dismissed.refresh_from_db()
    assert (dismissed.status, dismissed.dismissal_reason) == (
        SignalStatus.DISMISSED,
        "Client was unwell, not a rupture.",
    )


def test_open_signal_can_be_handled_in_sql():
    signal = RuptureSignalFactory()
    _sql(
        "UPDATE ruptures_rupturesignal SET status = 'dismissed', dismissal_reason = 'noise', "
        "handled_by_id = %s, handled_at = now() WHERE id = %s",
        signal.client.primary_clinician_id,
        signal.pk,
    )
    signal.refresh_from_db()
    assert signal.status == SignalStatus.DISMISSED


@pytest.mark.parametrize("column", ["handled_at", "handled_by_id"])
def test_handled_signal_keeps_who_handled_it_and_when(trigger_refuses, acknowledged, column):
    values = {
        "handled_at": timezone.now() - dt.timedelta(days=30),
        "handled_by_id": UserFactory().pk,
    }
    with trigger_refuses(SIGNAL_FINAL):
        RuptureSignal.objects.filter(pk=acknowledged.pk).update(**{column: values[column]})
