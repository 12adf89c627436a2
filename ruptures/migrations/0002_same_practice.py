"""Composite foreign keys that keep episodes, repairs and signals with one client and one
practice. See ``cases/migrations/0002_same_practice.py`` for the pattern."""

from django.db import migrations

from cases import same_practice

SAME_PRACTICE_KEYS = [
    (
        "ruptures_ruptureepisode",
        "episode_client_same_practice",
        "client_id, practice_id",
        "cases_client",
        "id, practice_id",
    ),
    (
        "ruptures_ruptureepisode",
        "episode_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_ruptureepisode",
        "episode_recurrence_same_client",
        "recurrence_of_id, client_id, practice_id",
        "ruptures_ruptureepisode",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_repairattempt",
        "repair_episode_same_client",
        "episode_id, client_id, practice_id",
        "ruptures_ruptureepisode",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_repairattempt",
        "repair_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_rupturesignal",
        "signal_client_same_practice",
        "client_id, practice_id",
        "cases_client",
        "id, practice_id",
    ),
    (
        "ruptures_rupturesignal",
        "signal_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_rupturesignal",
        "signal_episode_same_client",
        "episode_id, client_id, practice_id",
        "ruptures_ruptureepisode",
        "id, client_id, practice_id",
    ),
    (
        "ruptures_rupturesignal",
        "signal_linked_episode_same_client",
        "linked_episode_id, client_id, practice_id",
        "ruptures_ruptureepisode",
        "id, client_id, practice_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("ruptures", "0001_initial"), ("cases", "0002_same_practice")]

    operations = same_practice.operations(SAME_PRACTICE_KEYS)
