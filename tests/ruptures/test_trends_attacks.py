"""Attacks on the privacy of supervisor trends, each one a test that must fail to learn
anything exact about a small group (fewer than 11 clients).

Two kinds of attack:

**Statistical** (subtracting figures, a supervisor-clinician subtracting their own clients,
padding a small cell with one's own records, reading a mean or share of one client, reasoning
from interval widths and "too few to show" flags). They run on *neighbouring worlds*: two
practices built alike (``trends_world.build``) whose September differs only in the records of
one client, a6, Ann's only couple client, whose rupture is the only one with a sibling:

- world 0: a6's rupture is a confrontation, repaired with a hard conversation and resolved;
  a6's mean SRS is 30;
- world 1: the same rupture is a withdrawal, the same repair did not resolve it and it closed
  unresolved; a6's mean SRS is 38.

In both, Bo is a supervisor (of Ann) as well as a clinician and has padded the sibling cell
with a sibling rupture, still open, for each of his clients b1–b5. Each world's month frames
are read once from the database (``releases.month_frames``); then ``releases.measure`` runs
K times per world in memory, with only the plan entries the attacks read and the month's
whole ρ (``rho_of(1.0)``): each measurement gets a larger share of ρ than in the real
release, so the attacker sees less noise than a supervisor would (conservative). The noisy
cells become unsaved ``TrendRelease`` objects read through ``ruptures.trends.Month`` and the
figure computations, exactly as the API reads stored releases. Attackers either read the
published estimates (rates, shares, means, intervals, "too few to show") or, stronger than
anything the API gives, the unrounded noisy sums the figures are made of; each turns a release
into one number, and we classify the world by a threshold at the midpoint of the two sample
means.

The whole month is ρ-zCDP for one client's records with ρ = rho_of(1) ≈ 0.024, so the best
possible test between two neighbours is right with probability at most Φ(√(2ρ)/2) ≈ 0.55 (for
a change of one client's records, two add/remove steps: ≈ 0.59), and ε = 1 alone bounds it by
e/(1+e) ≈ 0.73. We assert accuracy ≤ 0.85 (sampling slack with K = 40 a world) and that the
attacker's estimate is exactly right in at most 25 % of runs. Every attack is also run on the
same figures computed without noise from the same frames: there it must succeed (accuracy 1,
exact every time), which shows the attack is a real one and that the assertions can fail.

**System** attacks (polling a released month before and after a new, resolved or archived
record; changing the supervisee set; sweeping the practice's time zone or SRS cutoff after
release) go through the HTTP API as Sue after ``release_due`` and assert that the bodies are
byte-identical and nothing was recomputed; each also checks that the change did reach the
month's records, so a recomputation would have shown.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from cases import services
from cases.choices import Role
from cases.models import SessionRatingScale
from ruptures import releases, trends
from ruptures import services as rupture_services
from ruptures.choices import (
    Direction,
    EpisodeSource,
    EpisodeStatus,
    Initiator,
    Moment,
    Relationship,
    RuptureKind,
    Strategy,
)
from ruptures.models import PrivacySpend, RuptureEpisode, TrendRelease
from ruptures.releases import MonthWindow, release_due
from tests.api.conftest import client_for
from tests.factories import TherapySessionFactory, UserFactory
from tests.ruptures.trends_world import SEPTEMBER, at, build

pytestmark = pytest.mark.django_db

K = 40  # noisy releases per world
MAX_ACCURACY = 0.85  # e/(1+e) ≈ 0.731 for ε = 1, plus sampling slack
MAX_EXACT = 0.25  # share of runs in which the attacker gets the small group's value exactly
AFTER_LAG = dt.datetime(2026, 10, 9, tzinfo=dt.UTC)  # September closed, lag passed
RARE_STRATEGY = Strategy.HARD_CONVERSATION  # only a6's repair used it
COMMON_STRATEGY = Strategy.ACKNOWLEDGE_OWN_CONTRIBUTION  # a1–a3's resolved repairs
# What the attacks read; the rest of the plan is left out, its share of ρ going to these.
ATTACKED = (
    "sessions",  # rupture-rate's denominator
    "episodes",
    "episodes_by_kind",
    "episodes_by_relationship",
    "repairs_by_strategy",
    "srs",
    "srs_by_modality",
    "ors_by_modality",  # the measures figure reads it beside the SRS
)
PLAN = [releases.PLAN_BY_NAME[name] for name in ATTACKED]
NO_NOISE = 1e-9  # the "scale" of the noise-free contrast release


# --- Neighbouring worlds -----------------------------------------------------------------------


def neighbour_world(variant: int) -> dict:
    """``trends_world.build`` plus Bo's padding; a6's rupture, repair and SRS per variant."""
    world = build(suffix=f"-w{variant}")
    practice, ann, bo = world["practice"], world["ann"], world["bo"]
    # Bo supervises Ann and still sees his own clients: he knows their records exactly.
    services.membership_grant(practice=practice, user=bo, role=Role.SUPERVISOR)
    services.supervision_assign(practice=practice, supervisor=bo, clinician=ann)
    for person in world["b"][:5]:
        rupture_services.episode_open(
            client=person,
            created_by=bo,
            relationship=Relationship.SIBLING,
            direction=Direction.CLIENT,
            kind=RuptureKind.WITHDRAWAL,
            moment=Moment.VULNERABILITY_DISMISSED,
            intensity=2,
            detected_on=dt.date(2026, 9, 20),
            source=EpisodeSource.CLIENT_REPORTED,
        )
    a6 = world["a"][5]
    episode = world["rare"][a6.pk]
    if variant == 1:
        episode = rupture_services.episode_update(
            episode=episode, user=ann, kind=RuptureKind.WITHDRAWAL
        )
        # a6's only SRS: 4 × 9.5 = 38 instead of 4 × 7.5 = 30.
        SessionRatingScale.objects.filter(session__client=a6).update(
            relationship=Decimal("9.5"),
            goals_and_topics=Decimal("9.5"),
            approach_or_method=Decimal("9.5"),
            overall=Decimal("9.5"),
        )
    rupture_services.repair_attempt_record(
        episode=episode,
        recorded_by=ann,
        attempted_on=dt.date(2026, 9, 14),
        initiator=Initiator.BOTH,
        both_engaged=True,
        outcome="resolved" if variant == 0 else "not_resolved",
        resolution_rating=5 if variant == 0 else 1,
        strategies=[RARE_STRATEGY],
    )
    close = (
        rupture_services.episode_resolve
        if variant == 0
        else rupture_services.episode_mark_unresolved
    )
    close(episode=episode, user=ann, on_date=dt.date(2026, 9, 18))
    return world


def exact_measurements(frames: dict, keys: dict, scales: dict) -> dict[str, Any]:
    """The attacked measurements computed without noise from the same frames (the contrast: a
    release that published true counts and sums)."""
    out: dict[str, Any] = {}
    for m in PLAN:
        rows = list(frames[m.frame].iter_rows(named=True))
        combos = itertools.product(*(keys[releases._key_name(m, c)] for c in m.by))
        cells = []
        for combo in combos:
            where = dict(zip(m.by, combo, strict=True))
            matching = [r for r in rows if all(r[c] == v for c, v in where.items())]
            cell: dict[str, Any] = {**where, "len": len(matching)}
            for column in m.sums:
                centre = releases.sum_centre(column)
                cell[column] = sum(r[column] - centre for r in matching)
            cells.append(cell)
        out[m.name] = {
            "by": list(m.by),
            "rho": 0.0,
            "scales": dict.fromkeys(scales[m.name], NO_NOISE),
            "cells": cells,
        }
    return out


def as_month(practice, measurements: dict[str, Any]) -> trends.Month:
    """An unsaved release of September, read the way the API reads stored ones."""
    release = TrendRelease(
        practice=practice,
        month=SEPTEMBER,
        made_at=AFTER_LAG,
        settings=releases.settings_of(practice).as_json(),
        measurements=measurements,
    )
    return trends.Month(release)


@dataclass
class Runs:
    noisy: dict[int, list[trends.Month]]  # world -> K noisy releases
    exact: dict[int, trends.Month]  # world -> the noise-free contrast
    frames: dict[int, dict]


@pytest.fixture(scope="module")
def runs(django_db_setup, django_db_blocker) -> Runs:
    """Frames of both worlds, read once in a transaction that is rolled back; then K noisy
    releases of each world, measured in memory."""
    frames, keys, practices = {}, {}, {}
    with django_db_blocker.unblock(), transaction.atomic():
        for variant in (0, 1):
            world = neighbour_world(variant)
            practice = world["practice"]
            frames[variant] = releases.month_frames(
                practice, MonthWindow(SEPTEMBER, "UTC"), practice.srs_cutoff
            )
            keys[variant] = releases._keys(practice)
            practices[variant] = practice
        transaction.set_rollback(True)
    rho = releases.rho_of(1.0)
    noisy: dict[int, list[trends.Month]] = {0: [], 1: []}
    for _ in range(K):
        for variant in (0, 1):
            measured = releases.measure(frames[variant], keys=keys[variant], rho=rho, plan=PLAN)
            noisy[variant].append(
                as_month(practices[variant], {m.name: m.as_json() for m in measured})
            )
    scales = {name: m["scales"] for name, m in noisy[0][0].release.measurements.items()}
    exact = {
        v: as_month(practices[v], exact_measurements(frames[v], keys[v], scales)) for v in (0, 1)
    }
    return Runs(noisy, exact, frames)


# --- Judging an attacker -----------------------------------------------------------------------


def accuracy(world0: list[float], world1: list[float]) -> float:
    """Share of runs whose world a threshold at the midpoint of the two sample means gets
    right (on the side of the world with the larger mean)."""
    m0, m1 = statistics.fmean(world0), statistics.fmean(world1)
    threshold = (m0 + m1) / 2
    if m1 >= m0:
        right = sum(s < threshold for s in world0) + sum(s >= threshold for s in world1)
    else:
        right = sum(s >= threshold for s in world0) + sum(s < threshold for s in world1)
    return right / (len(world0) + len(world1))


@dataclass
class Verdict:
    accuracy: float
    exact_share: float
    contrast_accuracy: float
    contrast_exact: bool


def judge(
    runs: Runs,
    statistic: Callable[[trends.Month], float],
    exact: Callable[[trends.Month, int], bool],
) -> Verdict:
    stats = {v: [statistic(m) for m in runs.noisy[v]] for v in (0, 1)}
    hits = [exact(m, v) for v in (0, 1) for m in runs.noisy[v]]
    return Verdict(
        accuracy=accuracy(stats[0], stats[1]),
        exact_share=sum(hits) / len(hits),
        contrast_accuracy=accuracy([statistic(runs.exact[0])], [statistic(runs.exact[1])]),
        contrast_exact=all(exact(runs.exact[v], v) for v in (0, 1)),
    )


def assert_fails_to_learn(verdict: Verdict) -> None:
    # Without noise the attack works: the test can tell a leak.
    assert verdict.contrast_accuracy == 1.0
    assert verdict.contrast_exact
    # Against the release it does not.
    assert verdict.accuracy <= MAX_ACCURACY, verdict
    assert verdict.exact_share <= MAX_EXACT, verdict


def settles(estimate: trends.Estimate, truth: float, other: float, times: float = 1.0) -> bool:
    """The published figure alone settles the question: shown, and its interval (times
    ``times``, ends rounded to whole units, as an attacker reading counts would) holds the
    truth and not the other world's value."""
    if estimate.too_few_to_show:
        return False
    low, high = round(estimate.low * times), round(estimate.high * times)
    return low <= truth <= high and not low <= other <= high


def figure(month: trends.Month, name: str, by: str | None, key: str | None) -> dict:
    return trends.FIGURES[name].compute(by, key)([month])


# --- 1. Subtracting one figure from another ----------------------------------------------------

CONFRONTATIONS = {0: 1, 1: 0}  # a6's rupture is the only confrontation in world 0
A6_RESOLVED = {0: 1, 1: 0}


def confrontations_by_subtraction(month: trends.Month) -> float:
    """Episode-counts of the practice minus every other kind's. (Rupture-rate's numerators
    are these same sums over one shared session denominator, so subtracting rates is this
    attack scaled; the attacker here gets the unrounded, unclamped sums.)"""
    others = [k for k in RuptureKind.values if k != RuptureKind.CONFRONTATION]
    total = month.noisy("episodes").value
    return total - sum(month.noisy("episodes_by_kind", kind=k).value for k in others)


def test_subtracting_other_kinds_from_the_episode_total_does_not_reveal_the_one_confrontation(
    runs,
):
    verdict = judge(
        runs,
        confrontations_by_subtraction,
        lambda m, v: round(confrontations_by_subtraction(m)) == CONFRONTATIONS[v],
    )

    assert_fails_to_learn(verdict)


def confrontations_from_rates(month: trends.Month) -> float | None:
    """Rupture-rate of the practice minus every other kind's rupture-rate is the
    confrontations' rate; the practice's episode-counts over its rate undoes the shared
    session denominator: confrontations = (rate − Σ other rates) × episodes / rate. Published
    values only; None when a rate the attacker needs is too few to show."""
    rates = [figure(month, "rupture-rate", None, None)["rate"]]
    rates += [
        figure(month, "rupture-rate", "kind", k)["rate"]
        for k in RuptureKind.values
        if k != RuptureKind.CONFRONTATION
    ]
    episodes = figure(month, "episode-counts", None, None)["episodes"].value
    if any(r.too_few_to_show for r in rates) or not rates[0].value:
        return None
    total, others = rates[0].value, sum(r.value for r in rates[1:])
    return (total - others) * episodes / total


def test_subtracting_rupture_rates_and_undoing_the_rate_with_episode_counts_reveals_nothing(
    runs,
):
    def statistic(m: trends.Month) -> float:
        found = confrontations_from_rates(m)
        return 0.5 if found is None else found  # nothing shown: no better than a coin

    def exact(m: trends.Month, v: int) -> bool:
        found = confrontations_from_rates(m)
        return found is not None and round(found) == CONFRONTATIONS[v]

    assert_fails_to_learn(judge(runs, statistic, exact))


def a6_resolved_by_subtraction(month: trends.Month) -> float:
    """Resolution's resolved episodes minus repair-resolution's resolved attempts with the
    common strategy (one each for a1–a3): what is left is a6's, the only other repair."""
    resolved = month.noisy("episodes", outcome="resolved").value
    common = month.noisy("repairs_by_strategy", strategy=COMMON_STRATEGY, outcome="resolved")
    return resolved - common.value


def test_subtracting_repair_resolution_by_strategy_from_resolution_does_not_reveal_one_outcome(
    runs,
):
    verdict = judge(
        runs,
        a6_resolved_by_subtraction,
        lambda m, v: round(a6_resolved_by_subtraction(m)) == A6_RESOLVED[v],
    )

    assert_fails_to_learn(verdict)


# --- 2. A supervisor who is also a clinician subtracts their own clients ------------------------

RATERS = 7  # a1–a6 and b6 rated SRS in September (the attacker is granted this exactly)
B6_SRS_TENTHS = 360  # Bo's own rated client
ANN_MEAN_SRS = {0: (4 * 38 + 34 + 30) / 6, 1: (4 * 38 + 34 + 38) / 6}


def ann_mean_srs_without_own(month: trends.Month) -> float:
    """Bo takes the practice's SRS sum, puts back the centre of every rater, takes out his own
    client's and divides by Ann's six raters: the mean SRS of Ann's clients."""
    centre = releases.sum_centre("srs")
    total = month.noisy("srs", "srs").value + centre * RATERS
    return (total - B6_SRS_TENTHS) / (RATERS - 1) / releases.MEASURE_SCALE


def test_a_supervisor_subtracting_their_own_clients_does_not_learn_the_others_mean_srs(runs):
    verdict = judge(
        runs,
        ann_mean_srs_without_own,
        lambda m, v: round(ann_mean_srs_without_own(m)) == round(ANN_MEAN_SRS[v]),
    )

    assert_fails_to_learn(verdict)


# --- 3. Padding a small cell with one's own records, then subtracting them ----------------------

PADDED_SIBLINGS = 6  # Bo's five, all still open, and a6's


def sibling_resolved_after_padding(month: trends.Month) -> trends.Estimate:
    """The published share of sibling ruptures resolved, times the cell's size Bo knows (his
    five open ones and a6's), minus his own resolved (none): a6's outcome, as an interval."""
    return figure(month, "resolution", "relationship", Relationship.SIBLING)["share_resolved"]


def padded_statistic(month: trends.Month) -> float:
    share = sibling_resolved_after_padding(month)
    return 0.5 if share.too_few_to_show else share.value * PADDED_SIBLINGS


def test_padding_the_sibling_cell_with_own_records_does_not_reveal_the_last_ones_outcome(runs):
    verdict = judge(
        runs,
        padded_statistic,
        lambda m, v: settles(
            sibling_resolved_after_padding(m),
            A6_RESOLVED[v],
            A6_RESOLVED[1 - v],
            times=PADDED_SIBLINGS,
        ),
    )

    assert_fails_to_learn(verdict)
    # The padding is in both worlds' cells, as the attacker wanted.
    for v in (0, 1):
        episodes = runs.frames[v]["episodes"]
        assert episodes.filter(relationship=Relationship.SIBLING).height == PADDED_SIBLINGS


# --- 7. A mean or share whose numerator is one client -------------------------------------------

A6_SRS = {0: 30, 1: 38}  # the only client seen as a couple who rated
A6_REPAIR_RESOLVED = {0: 1.0, 1: 0.0}  # the only attempt with the rare strategy


def couple_mean_srs(month: trends.Month) -> trends.Estimate:
    return figure(month, "measures", "modality", "couple")["mean_srs"]


def test_the_mean_srs_of_a_one_client_modality_does_not_reveal_that_clients_srs(runs):
    def statistic(m: trends.Month) -> float:
        mean = couple_mean_srs(m)
        return 20.0 if mean.too_few_to_show else mean.value

    def exact(m: trends.Month, v: int) -> bool:
        mean = couple_mean_srs(m)
        return not mean.too_few_to_show and round(mean.value) == A6_SRS[v]

    assert_fails_to_learn(judge(runs, statistic, exact))


def rare_strategy_share(month: trends.Month) -> trends.Estimate:
    return figure(month, "repair-resolution", "strategy", RARE_STRATEGY)["share_resolved"]


def test_the_resolution_share_of_a_one_attempt_strategy_does_not_reveal_its_outcome(runs):
    def statistic(m: trends.Month) -> float:
        share = rare_strategy_share(m)
        return 0.5 if share.too_few_to_show else share.value

    verdict = judge(
        runs,
        statistic,
        lambda m, v: settles(
            rare_strategy_share(m), A6_REPAIR_RESOLVED[v], A6_REPAIR_RESOLVED[1 - v]
        ),
    )

    assert_fails_to_learn(verdict)


# --- 8. Interval reasoning from the published structure ----------------------------------------


def test_noise_scales_are_the_same_in_neighbouring_worlds(runs):
    scales = {
        (v, i): {name: m["scales"] for name, m in month.release.measurements.items()}
        for v in (0, 1)
        for i, month in enumerate(runs.noisy[v])
    }

    first = scales[0, 0]
    assert set(first) == set(ATTACKED)
    assert all(s == first for s in scales.values())
    # And they are the bounds over ρ, nothing of the data: scale × √(2ρ) is the sensitivity.
    episodes = runs.noisy[0][0].release.measurements["episodes"]
    sensitivity = episodes["scales"]["len"] * math.sqrt(2 * episodes["rho"])
    assert sensitivity == pytest.approx(releases.BOUNDS["episodes"], rel=1e-3)


def count_intervals(month: trends.Month) -> Iterator[tuple[str, trends.Estimate, float]]:
    """(cell, published estimate, interval width its public noise scale gives) of every
    episode count by kind and by relationship."""
    for by, keys in (("kind", RuptureKind.values), ("relationship", Relationship.values)):
        for key in keys:
            count = figure(month, "episode-counts", by, key)["episodes"]
            noisy = month.noisy(f"episodes_by_{by}", **{by: key})
            yield f"{by}={key}", count, 2 * trends.Z_COUNT * math.sqrt(noisy.variance)


def too_few_flags(month: trends.Month) -> list[tuple[str, bool, bool]]:
    """(cell, published flag, flag decided on the noisy denominator alone) of the share of
    resolved ruptures by relationship and by kind, and of the mean SRS by modality."""
    flags = []
    for by, keys in (("relationship", Relationship.values), ("kind", RuptureKind.values)):
        for key in keys:
            share = figure(month, "resolution", by, key)["share_resolved"]
            flags.append(
                (
                    f"{by}={key}",
                    share.too_few_to_show,
                    month.noisy(f"episodes_by_{by}", **{by: key}),
                )
            )
    for key in ("individual", "couple", "family", "group"):
        mean = figure(month, "measures", "modality", key)["mean_srs"]
        flags.append(
            (f"modality={key}", mean.too_few_to_show, month.noisy("srs_by_modality", modality=key))
        )
    out = []
    for cell, flag, denominator in flags:
        low, _ = denominator.interval(trends.Z_PART)
        out.append((cell, flag, low <= 0 or denominator.value <= 0))
    return out


def test_interval_widths_and_too_few_flags_depend_on_noisy_values_only(runs):
    widths: dict[int, set[float]] = {0: set(), 1: set()}
    checked = 0
    for v in (0, 1):
        for month in runs.noisy[v]:
            for cell, count, width in count_intervals(month):
                widths[v].add(round(width, 6))
                if count.low > 0:  # not cut at zero: its width is the public scale's alone
                    assert count.high - count.low == pytest.approx(width, abs=0.11), cell
                    checked += 1
            for cell, flag, from_noisy in too_few_flags(month):
                assert flag == from_noisy, cell
    # Four outcome cells of one public scale each, whatever the world.
    outcomes = len(releases.EPISODE_OUTCOMES)
    scales = runs.noisy[0][0].release.measurements
    public = {
        round(2 * trends.Z_COUNT * math.sqrt(outcomes) * scales[name]["scales"]["len"], 6)
        for name in ("episodes_by_kind", "episodes_by_relationship")
    }
    assert widths[0] == widths[1] == public
    assert checked > 0

    # The flags together do not tell the worlds apart either (the rare cells are among them).
    def shown(month: trends.Month) -> float:
        return sum(not flag for _, flag, _ in too_few_flags(month))

    flags = {v: [shown(m) for m in runs.noisy[v]] for v in (0, 1)}
    assert accuracy(flags[0], flags[1]) <= MAX_ACCURACY


# --- System attacks, through the API -----------------------------------------------------------

SEP = {"from": "2026-09", "to": "2026-09"}


def queries(clinician: int | None) -> list[dict[str, Any]]:
    """Every figure: practice-wide, by each of its dimensions, by quarter and rolling year,
    and narrowed to one supervisee."""
    out = []
    for name, spec in trends.FIGURES.items():
        out.append({"figure": name, **SEP})
        out += [{"figure": name, **SEP, "by": by} for by in spec.dimensions]
        out.append({"figure": name, "from": "2026-07", "to": "2026-09", "grain": "quarter"})
        out.append({"figure": name, **SEP, "grain": "rolling_12"})
        if clinician is not None:
            out.append({"figure": name, **SEP, "clinician": clinician})
    return out


def key(query: dict[str, Any]) -> tuple:
    return tuple(sorted(query.items()))


def poll(api, clinician: int | None = None) -> dict[tuple, bytes]:
    """The raw bytes of every answer."""
    answers = {}
    for query in queries(clinician):
        params = {k: v for k, v in query.items() if k != "figure"}
        response = api.get(f"/api/v1/trends/{query['figure']}/", params)
        assert response.status_code == 200, (query, response.content)
        answers[key(query)] = response.content
    return answers


@pytest.fixture
def released():
    """The trends world with August and September released; Sue (Ann's supervisor) polls
    it. Two more attended sessions sit at September's edges in UTC (the practice's zone at
    release), and one in August."""
    cache.clear()  # throttle counters
    world = build()
    a1, b1 = world["a"][0], world["b"][0]
    TherapySessionFactory(client=a1, clinician=world["ann"], starts_at=at(30, 22))
    TherapySessionFactory(client=b1, clinician=world["bo"], starts_at=at(1, 5))
    TherapySessionFactory(
        client=a1, clinician=world["ann"], starts_at=dt.datetime(2026, 8, 20, 10, tzinfo=dt.UTC)
    )
    made = release_due(practices=[world["practice"]], now=AFTER_LAG)
    assert [r.month for r in made] == [dt.date(2026, 8, 1), SEPTEMBER]
    world["releases"] = made
    world["sue_api"] = client_for(world["sue"])
    yield world
    cache.clear()


def frames_of(practice, tz: str = "UTC", cutoff: Decimal = Decimal("36.0")) -> dict:
    return releases.month_frames(practice, MonthWindow(SEPTEMBER, tz), cutoff)


def frames_differ(before: dict, after: dict) -> bool:
    return any(not before[f].equals(after[f]) for f in before)


def assert_nothing_recomputed(world: dict) -> None:
    made = world["releases"]
    stored = list(TrendRelease.objects.filter(practice=world["practice"]).order_by("month"))
    assert stored == made
    for now, then in zip(stored, made, strict=True):
        assert now.measurements == then.measurements
        assert now.made_at == then.made_at
    spends = PrivacySpend.objects.filter(practice=world["practice"])
    assert spends.count() == len(made) * len(releases.PLAN)
    assert {s.release_id for s in spends} == {r.pk for r in made}


def new_episode(world: dict) -> None:
    rupture_services.episode_open(
        client=world["a"][4],
        created_by=world["ann"],
        relationship=Relationship.THERAPIST,
        direction=Direction.CLIENT,
        kind=RuptureKind.CONFRONTATION,
        moment=Moment.EMOTIONAL_CRISIS,
        intensity=4,
        detected_on=dt.date(2026, 9, 28),
        source=EpisodeSource.CLINICIAN_OBSERVED,
    )


def resolve_episode(world: dict) -> None:
    episode = RuptureEpisode.objects.get(client=world["a"][3], status=EpisodeStatus.OPEN)
    rupture_services.repair_attempt_record(
        episode=episode,
        recorded_by=world["ann"],
        attempted_on=dt.date(2026, 9, 20),
        initiator=Initiator.THERAPIST,
        both_engaged=True,
        outcome="resolved",
        resolution_rating=5,
        strategies=[COMMON_STRATEGY],
    )
    rupture_services.episode_resolve(
        episode=episode, user=world["ann"], on_date=dt.date(2026, 9, 25)
    )


def archive_episode(world: dict) -> None:
    episode = RuptureEpisode.objects.get(client=world["a"][0])
    services.record_archive(record=episode, user=world["ann"])


@pytest.mark.parametrize(
    "change",
    [new_episode, resolve_episode, archive_episode],
    ids=["new", "resolved", "archived"],
)
def test_polling_a_released_month_before_and_after_one_record_changes_gives_identical_bytes(
    released, change
):
    world, api = released, released["sue_api"]
    ann = world["ann"].pk
    frames_before = frames_of(world["practice"])
    before = poll(api, clinician=ann)

    change(world)
    # The periodic releaser runs again after the change.
    again = release_due(practices=[world["practice"]], now=AFTER_LAG)
    after = poll(api, clinician=ann)

    # The change reached the month's records: a recomputation would have shown it.
    assert frames_differ(frames_before, frames_of(world["practice"]))
    assert again == []
    assert after == before
    assert_nothing_recomputed(world)


def by_clinician(answers: dict[tuple, bytes]) -> dict[str, dict]:
    return {
        dict(k)["figure"]: json.loads(body)
        for k, body in answers.items()
        if dict(k).get("by") == "clinician"
    }


def test_changing_the_supervisee_set_leaves_every_shared_cell_identical(released):
    world, api = released, released["sue_api"]
    practice, sue, ann, bo = world["practice"], world["sue"], world["ann"], world["bo"]
    before = poll(api)

    # Sue is given Bo as well...
    services.supervision_assign(practice=practice, supervisor=sue, clinician=bo)
    with_bo = poll(api)
    # ... then Ann is taken from her by a practice admin, through the API.
    admin = UserFactory(username="pat-attacks")
    services.membership_grant(practice=practice, user=admin, role=Role.PRACTICE_ADMIN)
    assignment = sue.supervisees_assigned.get(practice=practice, clinician=ann)
    removed = client_for(admin).delete(f"/api/v1/supervision-assignments/{assignment.pk}/")
    assert removed.status_code == 204, removed.content
    without_ann = poll(api)

    # Every answer that does not break down by clinician is byte-identical throughout.
    for answers in (with_bo, without_ann):
        for k, body in answers.items():
            if dict(k).get("by") != "clinician":
                assert body == before[k], k
    # By clinician: the practice-wide totals and each shared column never change; only which
    # columns Sue may see does.
    first, second, third = (by_clinician(a) for a in (before, with_bo, without_ann))
    for name in first:
        rows = [answer[name]["rows"] for answer in (first, second, third)]
        assert [r[0]["total"] for r in rows[1:]] == [rows[0][0]["total"]] * 2
        assert set(rows[0][0]["cells"]) == {str(ann.pk)}
        assert set(rows[1][0]["cells"]) == {str(ann.pk), str(bo.pk)}
        assert set(rows[2][0]["cells"]) == {str(bo.pk)}
        assert rows[1][0]["cells"][str(ann.pk)] == rows[0][0]["cells"][str(ann.pk)]
        assert rows[2][0]["cells"][str(bo.pk)] == rows[1][0]["cells"][str(bo.pk)]
    gone = api.get("/api/v1/trends/rupture-rate/", {**SEP, "clinician": ann.pk})
    assert gone.status_code == 400
    assert_nothing_recomputed(world)


def test_sweeping_the_time_zone_and_srs_cutoff_after_release_changes_no_answer(released):
    world, api = released, released["sue_api"]
    practice = world["practice"]
    before = poll(api, clinician=world["ann"].pk)
    released_frames = frames_of(practice)

    for tz, cutoff in (
        ("Pacific/Kiritimati", Decimal("30.0")),  # UTC+14: 30 September 22:00 is October
        ("Pacific/Pago_Pago", Decimal("39.5")),  # UTC−11: 1 September 05:00 is August
        ("Europe/Paris", Decimal("0.0")),  # 30 September 22:00 UTC is October
    ):
        services.practice_update_settings(practice=practice, timezone=tz, srs_cutoff=cutoff)
        # Measured under the new zone, or the new cutoff, September would differ.
        assert frames_differ(released_frames, frames_of(practice, tz, Decimal("36.0"))), tz
        assert frames_differ(released_frames, frames_of(practice, "UTC", cutoff)), cutoff
        assert release_due(practices=[practice], now=AFTER_LAG) == []

        assert poll(api, clinician=world["ann"].pk) == before, tz
    body = json.loads(before[key({"figure": "measures", **SEP})])
    assert body["releases"][0]["timezone"] == "UTC"
    assert body["releases"][0]["srs_cutoff"] == "36.0"
    assert_nothing_recomputed(world)
