"""The noise is what the release says it is: over many releases of one small month, each with
its own noise draw, every measured count and sum is centred on the exact value, spreads by the
scale OpenDP reported, and the published 90 % intervals hold the exact figure about 90 % of
the time."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

import polars as pl
import pytest

from ruptures import releases, trends
from ruptures.releases import MonthWindow
from tests.ruptures.trends_world import SEPTEMBER, build

pytestmark = pytest.mark.django_db

DRAWS = 200
# Every measurement with its real share of the month's budget, so the scales are the ones a
# release uses.
MEASURED = ("episodes", "sessions_by_clinician", "srs", "signals")


@pytest.fixture(scope="module")
def draws(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            world = build()
            practice = world["practice"]
            frames = releases.month_frames(practice, MonthWindow(SEPTEMBER, "UTC"), Decimal(36))
            keys = releases._keys(practice)
            transaction.set_rollback(True)
    rho = releases.rho_of(1.0)
    total_weight = sum(m.weight for m in releases.PLAN)
    plan = [releases.PLAN_BY_NAME[name] for name in MEASURED]
    share = rho * sum(m.weight for m in plan) / total_weight
    runs = [
        {m.name: m for m in releases.measure(frames, keys=keys, rho=share, plan=plan)}
        for _ in range(DRAWS)
    ]
    return frames, runs


def _spread_matches(values: list[float], exact: float, scale: float) -> None:
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    # The sample standard deviation of 200 Gaussian draws is within 18 % of the true one far
    # more often than 1 time in 10,000; the mean within 4 standard errors likewise.
    assert sd == pytest.approx(scale, rel=0.18)
    assert abs(mean - exact) < 4 * scale / math.sqrt(len(values))


def test_counts_spread_by_the_scale_opendp_reports(draws):
    frames, runs = draws
    exact = frames["episodes"].height  # September's episodes (within their bounds)
    scale = runs[0]["episodes"].scales["len"]

    totals = [sum(c["len"] for c in run["episodes"].cells) for run in runs]
    open_cells = [
        next(c["len"] for c in run["episodes"].cells if c["outcome"] == "open") for run in runs
    ]

    # The total sums four outcome cells: four noise draws.
    _spread_matches(totals, exact, scale * 2)
    exact_open = frames["episodes"].filter(frames["episodes"]["outcome"] == "open").height
    _spread_matches(open_cells, exact_open, scale)
    assert all(run["episodes"].scales["len"] == scale for run in runs)


def test_a_clinicians_column_spreads_by_its_scale(draws):
    frames, runs = draws
    sessions = frames["sessions"]
    clinician = sessions["clinician"][0]
    exact = sessions.filter(sessions["clinician"] == clinician).height
    scale = runs[0]["sessions_by_clinician"].scales["len"]

    values = [
        next(c["len"] for c in run["sessions_by_clinician"].cells if c["clinician"] == clinician)
        for run in runs
    ]

    _spread_matches(values, exact, scale)


def test_clamped_sums_spread_by_their_scale(draws):
    frames, runs = draws
    srs = frames["srs"]
    centre = releases.sum_centre("srs")
    exact = sum(v - centre for v in srs["srs"])
    scale = runs[0]["srs"].scales["srs"]

    values = [run["srs"].cells[0]["srs"] for run in runs]

    _spread_matches(values, exact, scale)
    # A client's month counts once, its sum by at most half the SRS range (in tenths).
    sensitivity = scale * math.sqrt(2 * runs[0]["srs"].rho / 3)
    assert sensitivity == pytest.approx(200, rel=1e-3)


def test_published_intervals_hold_the_exact_figure_about_90_percent_of_the_time(draws):
    frames, runs = draws
    exact = frames["episodes"].height
    scale = runs[0]["episodes"].scales["len"]

    held = 0
    for run in runs:
        noisy = trends.Noisy(
            sum(c["len"] for c in run["episodes"].cells),
            len(run["episodes"].cells) * scale**2,
        )
        estimate = trends.count_estimate(noisy)
        held += estimate.low <= exact <= estimate.high

    # Binomial(200, ≥ 0.9): below 0.83 or above 0.98 is a one-in-thousands event. The
    # clamping at zero can only widen an interval, so coverage may sit a little above 90 %.
    assert 0.83 <= held / DRAWS <= 0.98


def test_share_intervals_hold_the_exact_share_at_least_90_percent_of_the_time():
    """A month of a large practice (3,000 signals, two in three acknowledged in time), so
    that the share is shown: then its interval holds the exact share at least 90 % of the
    time (Bonferroni over the two noisy parts)."""
    signals = pl.DataFrame(
        {
            "client_id": list(range(3000)),
            "clinician": ["1"] * 3000,
            "acknowledged_in_7_days": ["no" if i % 3 == 0 else "yes" for i in range(3000)],
        }
    )
    keys = {"acknowledged_in_7_days": ["yes", "no"], "clinician": ["1"]}
    plan = [releases.PLAN_BY_NAME["signals"]]
    share = releases.rho_of(1.0) * plan[0].weight / sum(m.weight for m in releases.PLAN)
    exact = 2000 / 3000

    held = shown = 0
    for _ in range(200):
        (measured,) = releases.measure({"signals": signals}, keys=keys, rho=share, plan=plan)
        scale = measured.scales["len"]
        yes = next(c["len"] for c in measured.cells if c["acknowledged_in_7_days"] == "yes")
        everything = sum(c["len"] for c in measured.cells)
        estimate = trends.ratio_estimate(
            trends.Noisy(yes, scale**2), trends.Noisy(everything, 2 * scale**2)
        )
        if not estimate.too_few_to_show:
            shown += 1
            held += estimate.low <= exact <= estimate.high

    assert shown == 200
    assert held / shown >= 0.9
