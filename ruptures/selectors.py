"""Reads of the ruptures app, scoped by the caller exactly as ``cases.selectors`` scopes
clients: a clinician sees episodes, repairs and signals of clients on their care teams."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Client, User
from cases.selectors import client_list
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal


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
