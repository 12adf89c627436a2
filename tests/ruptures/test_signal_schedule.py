"""Signals that time alone brings about (an episode left unrepaired) are raised every morning,
in each practice's own time zone, by the worker: no request needs to trigger them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import Client
from ruptures.choices import SignalRule
from ruptures.models import RuptureEpisode, RuptureSignal
from ruptures.services import DAILY_SIGNALS_HOUR, signals_derive_daily
from tests.databases import run_worker_once
from tests.factories import PracticeFactory, RuptureEpisodeFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def local(day: dt.date, hour: int, minute: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def unrepaired(episode: RuptureEpisode) -> int:
    return RuptureSignal.objects.filter(episode=episode, rule=SignalRule.UNREPAIRED_EPISODE).count()


@pytest.fixture
def episode() -> RuptureEpisode:
    practice = PracticeFactory(timezone="Europe/London", unrepaired_episode_days=30)
    # Detected 31 days before 10 November: past the 30 days the practice allows.
    return RuptureEpisodeFactory(client__practice=practice, detected_on=dt.date(2026, 10, 10))


def test_the_unrepaired_episode_is_raised_in_the_practices_morning_only(episode):
    day = dt.date(2026, 11, 10)

    before_morning = signals_derive_daily(at=local(day, DAILY_SIGNALS_HOUR - 1))
    in_the_morning = signals_derive_daily(at=local(day, DAILY_SIGNALS_HOUR))
    again = signals_derive_daily(at=local(day, DAILY_SIGNALS_HOUR, 40))

    assert (before_morning, in_the_morning, again) == (0, 1, 0)
    assert unrepaired(episode) == 1


def test_an_episode_within_its_days_raises_nothing_yet(episode):
    # 9 November: 30 days after detection, not more.
    signals_derive_daily(at=local(dt.date(2026, 11, 9), DAILY_SIGNALS_HOUR))

    assert unrepaired(episode) == 0


def test_archived_episodes_and_clients_raise_no_signal(episode):
    other = RuptureEpisodeFactory(
        client__practice=episode.practice, detected_on=dt.date(2026, 10, 1)
    )
    RuptureEpisode.objects.filter(pk=episode.pk).update(archived_at=timezone.now())
    Client.objects.filter(pk=other.client_id).update(archived_at=timezone.now())

    raised = signals_derive_daily(at=local(dt.date(2026, 11, 10), DAILY_SIGNALS_HOUR))

    assert raised == 0


def test_derive_signals_raises_them_by_hand_and_again_changes_nothing(capsys):
    practice = PracticeFactory(timezone="Europe/London")
    episode = RuptureEpisodeFactory(
        client__practice=practice, detected_on=timezone.localdate() - dt.timedelta(days=45)
    )

    call_command("derive_signals")
    call_command("derive_signals")

    out = capsys.readouterr().out
    assert "1 signal(s) raised." in out and "0 signal(s) raised." in out
    assert unrepaired(episode) == 1


def test_the_daily_task_runs_every_hour_on_its_own():
    from procrastinate.contrib.django import app

    from ruptures.tasks import derive_daily_signals

    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["derive-daily-signals"].task is derive_daily_signals
    assert periodic["derive-daily-signals"].cron == "0 * * * *"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_raises_the_unrepaired_signal_once_the_day_comes():
    from ruptures.tasks import derive_daily_signals

    practice = PracticeFactory(timezone="Europe/London", unrepaired_episode_days=30)
    episode = RuptureEpisodeFactory(client__practice=practice, detected_on=dt.date(2026, 10, 10))

    # 9 November's morning tick: 30 days, not yet.
    derive_daily_signals.defer(timestamp=int(local(dt.date(2026, 11, 9), 5).timestamp()))
    run_worker_once()
    assert unrepaired(episode) == 0

    # The practice's next day: its morning tick raises the signal, a second tick does not.
    for _ in range(2):
        derive_daily_signals.defer(timestamp=int(local(dt.date(2026, 11, 10), 5).timestamp()))
        run_worker_once()
        assert unrepaired(episode) == 1
