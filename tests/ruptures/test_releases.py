"""Trends releases: when a month is due, what a release holds, that it never changes, the
budget ledger, the contribution bounds, and the real worker running the periodic task."""

from __future__ import annotations

import datetime as dt
import math
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from ruptures import releases
from ruptures.models import PrivacySpend, TrendRelease
from ruptures.releases import BudgetExceeded, MonthWindow, release_due, release_month
from tests.databases import run_worker_once
from tests.factories import PracticeFactory, RuptureEpisodeFactory, TherapySessionFactory
from tests.ruptures.trends_world import SEPTEMBER, build

pytestmark = pytest.mark.django_db

AFTER_LAG = dt.datetime(2026, 10, 9, tzinfo=dt.UTC)  # September closed + 8 days


@pytest.fixture
def world():
    return build()


def test_a_month_is_due_only_after_it_closed_and_its_lag_passed():
    practice = PracticeFactory(timezone="UTC", trends_publication_lag_days=7)

    # 7 October, 23:59 UTC: September closed 6 days 23:59 ago.
    assert releases.due_until(practice, dt.datetime(2026, 10, 7, 23, 59, tzinfo=dt.UTC)) == dt.date(
        2026, 8, 1
    )
    assert releases.due_until(practice, dt.datetime(2026, 10, 8, 0, 0, tzinfo=dt.UTC)) == dt.date(
        2026, 9, 1
    )


def test_the_lag_is_counted_in_the_practice_time_zone():
    practice = PracticeFactory(timezone="Pacific/Auckland", trends_publication_lag_days=7)

    # 7 October 12:00 UTC is already 8 October in Auckland.
    assert releases.due_until(practice, dt.datetime(2026, 10, 7, 12, tzinfo=dt.UTC)) == dt.date(
        2026, 9, 1
    )


def test_release_records_its_settings_library_and_time(world):
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    assert release.month == SEPTEMBER
    assert release.made_at == AFTER_LAG
    assert release.library_version.startswith("opendp 0.16")
    assert release.settings["timezone"] == "UTC"
    assert release.settings["srs_cutoff"] == "36.0"
    assert release.settings["epsilon"] == 1.0
    assert release.settings["delta"] == releases.DELTA
    assert math.isclose(release.settings["rho"], releases.rho_of(1.0))
    assert release.settings["bounds"] == releases.BOUNDS
    assert set(release.settings["plan"]) == {m.name for m in releases.PLAN}
    assert set(release.measurements) == {m.name for m in releases.PLAN}


def test_a_release_holds_only_noisy_numbers_and_public_keys(world):
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    public = releases._keys(world["practice"])
    for name, measured in release.measurements.items():
        assert measured["scales"]["len"] > 0, name
        for cell in measured["cells"]:
            assert set(cell) <= {*measured["by"], "len", "srs", "ors", "below_cutoff"}
            # Keys with no records get their noise too: a cell's presence or value never
            # tells that nobody is in it.
            assert all(cell[column] is not None for column in measured["scales"]), name
            for column in measured["by"]:
                key = releases._key_name(releases.PLAN_BY_NAME[name], column)
                assert cell[column] in public[key], (name, column)


def test_every_key_is_released_present_in_the_data_or_not(world):
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    cells = release.measurements["episodes_by_relationship"]["cells"]
    keys = {(c["relationship"], c["outcome"]) for c in cells}
    # Nobody had a rupture with a manager in September; the cell is there all the same.
    assert ("manager", "open") in keys
    assert len(keys) == 11 * len(releases.EPISODE_OUTCOMES)


def test_release_is_frozen_in_the_database(world, trigger_refuses):
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    for trigger, statement in (
        ("release_frozen", "UPDATE ruptures_trendrelease SET measurements = '{}' WHERE id = %s"),
        ("release_frozen", "DELETE FROM ruptures_trendrelease WHERE id = %s"),
        ("spend_append_only", "UPDATE ruptures_privacyspend SET rho = 1e-6 WHERE release_id = %s"),
        ("spend_append_only", "DELETE FROM ruptures_privacyspend WHERE release_id = %s"),
    ):
        with trigger_refuses(trigger), connection.cursor() as cursor:
            cursor.execute(statement, [release.pk])


def test_releasing_again_changes_nothing(world):
    first = release_due(practices=[world["practice"]], now=AFTER_LAG)
    second = release_due(practices=[world["practice"]], now=AFTER_LAG)
    again = release_month(practice=world["practice"], month=SEPTEMBER)

    assert len(first) == 1
    assert second == []
    assert again.pk == first[0].pk
    assert again.measurements == first[0].measurements
    assert PrivacySpend.objects.filter(practice=world["practice"]).count() == len(releases.PLAN)


def test_the_first_run_backfills_every_closed_month():
    practice = PracticeFactory(timezone="UTC")
    RuptureEpisodeFactory(client__practice=practice, detected_on=dt.date(2026, 6, 20))

    made = release_due(practices=[practice], now=AFTER_LAG)

    assert [r.month for r in made] == [dt.date(2026, m, 1) for m in (6, 7, 8, 9)]


def test_release_trends_command_is_idempotent(world, capsys):
    call_command("release_trends")
    first = capsys.readouterr().out
    call_command("release_trends")
    second = capsys.readouterr().out

    assert "released" in first
    assert "Nothing was due" in second
    months = TrendRelease.objects.filter(practice=world["practice"]).values_list("month", flat=True)
    # Run today: every month from September to the last one past its lag, once each.
    assert len(set(months)) == len(months) >= 1


def test_the_ledger_records_each_measurement_within_the_month_budget(world):
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    spends = PrivacySpend.objects.filter(release=release)
    budget = releases.rho_of(1.0)
    assert {s.measurement for s in spends} == {m.name for m in releases.PLAN}
    assert all(s.budget_rho == pytest.approx(budget) for s in spends)
    assert sum(s.rho for s in spends) == pytest.approx(budget, rel=1e-9)
    assert sum(s.rho for s in spends) <= budget * (1 + 1e-9)


def test_the_ledger_refuses_a_release_that_would_overspend(world):
    practice = world["practice"]
    budget = releases.rho_of(float(practice.trends_epsilon))
    # A quarter of September's budget is already spent (an earlier, custom measurement).
    PrivacySpend.objects.create(
        practice=practice,
        month=SEPTEMBER,
        measurement="earlier",
        rho=budget / 4,
        budget_rho=budget,
        spent_at=AFTER_LAG,
    )

    with pytest.raises(BudgetExceeded, match="privacy budget"):
        release_month(practice=practice, month=SEPTEMBER, now=AFTER_LAG)

    assert not TrendRelease.objects.filter(practice=practice).exists()
    assert PrivacySpend.objects.filter(practice=practice).count() == 1


def test_a_spend_above_its_budget_is_refused_by_the_database(world, refused):
    with refused("spend_within_budget"):
        PrivacySpend.objects.create(
            practice=world["practice"],
            month=SEPTEMBER,
            measurement="too much",
            rho=0.5,
            budget_rho=0.1,
            spent_at=AFTER_LAG,
        )


def test_settings_changes_reach_later_releases_only(world):
    practice = world["practice"]
    (september,) = release_due(practices=[practice], now=AFTER_LAG)
    practice.trends_epsilon = Decimal("2.00")
    practice.timezone = "Europe/Paris"
    practice.srs_cutoff = Decimal("30.0")
    practice.save()

    (october,) = release_due(practices=[practice], now=dt.datetime(2026, 11, 9, tzinfo=dt.UTC))

    september.refresh_from_db()
    assert september.settings["epsilon"] == 1.0
    assert september.settings["timezone"] == "UTC"
    assert october.settings["epsilon"] == 2.0
    assert october.settings["timezone"] == "Europe/Paris"
    assert october.settings["srs_cutoff"] == "30.0"
    # Twice the ε buys less noise: the same measurement's scale shrinks.
    assert (
        october.measurements["episodes"]["scales"]["len"]
        < september.measurements["episodes"]["scales"]["len"]
    )


def test_a_time_zone_change_never_puts_a_record_in_two_releases(world):
    """September is released in UTC; the practice then moves to UTC+14. October starts where
    September's release ended, so a session of 30 September 22:00 UTC (already 1 October in
    the new zone) counts in September only."""
    practice = world["practice"]
    edge = TherapySessionFactory(
        client=world["a"][0], starts_at=dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC)
    )
    (september,) = release_due(practices=[practice], now=AFTER_LAG)
    practice.timezone = "Pacific/Kiritimati"
    practice.save()

    (october,) = release_due(practices=[practice], now=dt.datetime(2026, 11, 9, tzinfo=dt.UTC))

    assert october.settings["window"]["start_at"] == september.settings["window"]["end_at"]
    window = releases._window(practice, dt.date(2026, 10, 1), "Pacific/Kiritimati")
    october_sessions = releases.month_frames(practice, window, Decimal(36))["sessions"]
    assert edge.client_id not in october_sessions["client_id"].to_list()
    september_window = releases.MonthWindow(SEPTEMBER, "UTC")
    assert september_window.instants()[1] == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


# --- Contribution bounds -----------------------------------------------------------------------


def test_a_client_with_100_episodes_moves_the_counts_by_at_most_its_bound(world):
    practice = world["practice"]
    window = MonthWindow(SEPTEMBER, "UTC")
    before = releases.month_frames(practice, window, Decimal(36))
    heavy = world["b"][0]
    for day in range(100):
        RuptureEpisodeFactory(
            client=heavy,
            detected_on=SEPTEMBER + dt.timedelta(days=day % 30),
            markers=[
                "denial",
                "minimal_response",
                "abstract_communication",
                "deferential_appeasing",
            ],
            factors=["stress", "resentment", "exhaustion"],
        )

    after = releases.month_frames(practice, window, Decimal(36))

    episodes_bound = releases.BOUNDS["episodes"]
    assert after["episodes"].height - before["episodes"].height <= episodes_bound
    assert after["markers"].height - before["markers"].height <= releases.FRAME_BOUND["markers"]
    for frame in ("episodes", "markers", "factors"):
        rows = after[frame].filter(after[frame]["client_id"] == heavy.pk).height
        assert rows <= releases.FRAME_BOUND[frame], frame
    # The record itself keeps all of them.
    assert heavy.rupture_episodes.count() >= 100


def test_the_noise_is_calibrated_to_the_bounds_not_to_the_data(world):
    """OpenDP's noise scale times sqrt(2ρ) is the sensitivity it proved: one client moves an
    episode histogram by its episode bound, a session histogram by its session bound."""
    (release,) = release_due(practices=[world["practice"]], now=AFTER_LAG)

    def sensitivity(name: str) -> float:
        measured = release.measurements[name]
        return measured["scales"]["len"] * math.sqrt(2 * measured["rho"])

    assert sensitivity("episodes") == pytest.approx(releases.BOUNDS["episodes"], rel=1e-3)
    assert sensitivity("sessions_by_clinician") == pytest.approx(
        releases.BOUNDS["sessions"], rel=1e-3
    )
    # Repairs and strategies: at most `repairs` rows of one client in any one cell.
    assert sensitivity("repairs") == pytest.approx(releases.BOUNDS["repairs"], rel=1e-3)


# --- The worker ---------------------------------------------------------------------------------


def test_the_release_task_is_periodic():
    from procrastinate.contrib.django import app

    from ruptures.tasks import RELEASE_CRON, release_trends

    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["release-trends"].task is release_trends
    assert periodic["release-trends"].cron == RELEASE_CRON


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_releases_the_due_months():
    from ruptures.tasks import release_trends

    world = build()
    release_trends.defer(timestamp=int(time.time()))

    run_worker_once()

    assert TrendRelease.objects.filter(practice=world["practice"], month=SEPTEMBER).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM procrastinate_jobs WHERE task_name = %s",
            ["ruptures.release_trends"],
        )
        statuses = [row[0] for row in cursor.fetchall()]
    # Ours, and the periodic one the worker defers itself when an hourly tick has just passed.
    assert statuses and set(statuses) == {"succeeded"}
