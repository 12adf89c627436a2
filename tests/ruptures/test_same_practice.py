"""The composite foreign keys of ``ruptures/migrations/0002_same_practice.py``: episodes,
repairs and signals stay with one client and one practice, whoever writes them."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection
from django.utils import timezone

from ruptures.choices import SignalStatus
from ruptures.models import RuptureEpisode
from tests.factories import (
    ClientFactory,
    PracticeFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    TherapySessionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode() -> RuptureEpisode:
    return RuptureEpisodeFactory()


@pytest.fixture
def neighbour(episode):
    """Another client of the same practice."""
    return ClientFactory(practice=episode.practice)


def test_episode_must_be_in_the_clients_practice(refused):
    with refused("episode_client_same_practice"):
        RuptureEpisodeFactory(practice=PracticeFactory())


def test_episode_session_must_be_the_clients(refused, episode, neighbour):
    with refused("episode_session_same_client"):
        RuptureEpisodeFactory(
            client=episode.client, session=TherapySessionFactory(client=neighbour)
        )


def test_episode_recurrence_must_be_of_the_same_client(refused, episode, neighbour):
    old = RuptureEpisodeFactory(client=neighbour, closed=True)
    with refused("episode_recurrence_same_client"):
        RuptureEpisodeFactory(client=episode.client, recurrence_of=old)


def test_repair_attempt_must_name_its_episodes_client(refused, episode, neighbour):
    with refused("repair_episode_same_client"):
        RepairAttemptFactory(episode=episode, client=neighbour)


def test_repair_attempt_must_be_in_its_episodes_practice(refused, episode):
    with refused("repair_episode_same_client"):
        RepairAttemptFactory(episode=episode, practice=PracticeFactory())


def test_repair_attempt_session_must_be_the_clients(refused, episode, neighbour):
    with refused("repair_session_same_client"):
        RepairAttemptFactory(episode=episode, session=TherapySessionFactory(client=neighbour))


def test_signal_must_be_in_the_clients_practice(refused):
    with refused("signal_client_same_practice"):
        RuptureSignalFactory(practice=PracticeFactory())


def test_signal_session_must_be_the_clients(refused, episode, neighbour):
    with refused("signal_session_same_client"):
        RuptureSignalFactory(client=episode.client, session=TherapySessionFactory(client=neighbour))


def test_signal_episode_must_be_the_clients(refused, episode, neighbour):
    with refused("signal_episode_same_client"):
        RuptureSignalFactory(client=neighbour, episode=episode)


def test_signal_can_only_be_linked_to_an_episode_of_its_client(refused, episode, neighbour):
    with refused("signal_linked_episode_same_client"):
        RuptureSignalFactory(
            client=neighbour,
            status=SignalStatus.ACKNOWLEDGED,
            linked_episode=episode,
            handled_by=episode.created_by,
            handled_at=timezone.now(),
        )


def test_linking_a_signal_to_another_clients_episode_in_sql_is_refused(refused, episode, neighbour):
    signal = RuptureSignalFactory(client=neighbour)
    with refused("signal_linked_episode_same_client"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ruptures_rupturesignal SET status = 'acknowledged', linked_episode_id = %s, "
            "handled_by_id = %s, handled_at = now() WHERE id = %s",
            [episode.pk, episode.created_by_id, signal.pk],
        )


def test_moving_an_episode_to_another_client_in_sql_is_refused_while_repairs_point_at_it(
    refused, episode, neighbour
):
    RepairAttemptFactory(episode=episode)
    with refused("repair_episode_same_client"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ruptures_ruptureepisode SET client_id = %s WHERE id = %s",
            [neighbour.pk, episode.pk],
        )


def test_every_same_practice_key_of_the_migration_is_installed():
    module = import_module("ruptures.migrations.0002_same_practice")
    expected = {name for _, name, *_ in module.SAME_PRACTICE_KEYS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable = false "
            "AND conname = ANY(%s)",
            [sorted(expected)],
        )
        installed = {row[0] for row in cursor.fetchall()}
    assert installed == expected
    assert len(installed) == 9
