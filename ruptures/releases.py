"""Trends releases: a practice's month, computed once with differential privacy and frozen.

A month is released when it has closed (in the practice's time zone) and the practice's
publication lag has passed. The release holds every measurement the trends figures are built
from, for the whole practice, whoever will read it; trends answers only ever read releases
(``ruptures.trends``), so late entries, archives, settings changes and supervision changes
never reach a released month.

**Privacy.** Every measurement is made by OpenDP (its Polars context): the privacy unit is one
client's records in one month (``client_id`` is the identifier); each client's contribution is
truncated to the bounds of ``BOUNDS`` and every value is clamped to its range; each noisy count
and sum gets Gaussian noise calibrated by OpenDP under zero-concentrated DP. The month's budget
is the practice's ε (with ``DELTA``) turned into zCDP's ρ, split across the measurements by the
weights of ``PLAN``; the ledger (``PrivacySpend``) records every spend and refuses a release
that would take a month past its budget. Nothing but noisy numbers and their noise scales is
stored; the keys every histogram is taken over are public (choices, the practice's clinicians),
so no cell's presence depends on the data.

docs/trends.md explains the guarantee, the bounds and the plan in plain words.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import version
from typing import Any, cast

import polars as pl
from django.db import connection, transaction
from django.db.models import Min, Sum
from django.utils import timezone
from opendp import measurements, measures
from opendp.accuracy import summarize_polars_measurement
from opendp.context import Context, _translate_measure_distance, loss_of, unit_of
from opendp.extras.polars import DPExpr, Margin, dp_len
from opendp.mod import Measurement as DPMeasurement
from opendp.mod import enable_features

from cases.choices import Modality, Role
from cases.models import Membership, Practice, TherapySession
from ruptures.choices import (
    Factor,
    Initiator,
    Marker,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    Strategy,
)
from ruptures.models import PrivacySpend, RuptureEpisode, TrendRelease

enable_features("contrib")

DELTA = 1e-6  # the δ of the (ε, δ) guarantee: far below one over any practice's clients
MAX_BACKFILL_MONTHS = 36
OUTSIDE_SESSION = "outside_session"
# The kind key of an episode with no 3RS kind (allowed outside therapy).
NO_KIND = "none"

OVER_BUDGET = "This release would spend more than the month's privacy budget."


class BudgetExceeded(Exception):
    """The ledger refuses a release that would take its month past the budget."""


# --- What one client may contribute to one month's release -------------------------------------

BOUNDS: dict[str, int] = {
    # Rows a client contributes per month; the earliest are kept, the rest left out of the
    # release (never out of the record).
    "sessions": 5,  # attended sessions (a weekly client has 4 or 5)
    "episodes": 2,  # rupture episodes detected
    "repairs": 3,  # repair attempts made
    # SRS and ORS: one value a client-month, the mean of the client's ratings that month, so
    # that a client who rates every week weighs as much as one who rated once; for a couple or
    # family, the mean of its participants' means, so each partner weighs alike.
    "signals": 3,  # rupture signals raised
    # Values a record contributes to a multi-valued breakdown; the first ones are kept.
    "markers_per_episode": 3,
    "factors_per_episode": 2,
    "strategies_per_repair": 3,
}
# Values are clamped to these ranges before they are summed.
CLAMPS: dict[str, tuple[int, int]] = {
    "srs": (0, 40),  # a client's mean SRS total of the month (of its respondents' means)
    "ors": (0, 40),  # a client's mean ORS total of the month (of its respondents' means)
    "days_to_resolution": (0, 365),  # counted in the last band beyond
}
# Measures are summed in tenths (they have one decimal), centred on the middle of their range
# so that the noise is calibrated to half the range.
MEASURE_SCALE = 10

# Time to resolution is published as a histogram of day bands: (name, first day, last day).
RESOLUTION_BANDS: tuple[tuple[str, int, int], ...] = (
    ("resolved_0_7", 0, 7),
    ("resolved_8_30", 8, 30),
    ("resolved_31_90", 31, 90),
    ("resolved_91_365", 91, 365),
)
EPISODE_OUTCOMES = (
    "resolved",
    "unresolved",
    "relationship_ended",
    "open",  # open or being repaired when the month was released
)


# --- The measurements and the budget plan ------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One noisy histogram of a frame: the count of rows in every combination of the ``by``
    keys (all of them, present in the data or not), and optionally noisy clamped sums."""

    name: str
    frame: str
    by: tuple[str, ...]
    weight: float  # share of the month's budget, relative to the plan's total
    sums: tuple[str, ...] = ()  # columns of CLAMPS summed beside the count
    # Rows one client may put into any one cell (default: all its rows).
    per_group: int | None = None


# Frames: what one row is, and how many rows one client may contribute.
FRAME_BOUND = {
    "sessions": BOUNDS["sessions"],
    "episodes": BOUNDS["episodes"],
    "markers": BOUNDS["episodes"] * BOUNDS["markers_per_episode"],
    "factors": BOUNDS["episodes"] * BOUNDS["factors_per_episode"],
    "repairs": BOUNDS["repairs"],
    "strategies": BOUNDS["repairs"] * BOUNDS["strategies_per_repair"],
    "resolutions": BOUNDS["episodes"],
    "srs": 1,
    "ors": 1,
    "signals": BOUNDS["signals"],
}

# The plan: where a month's budget goes. Supervisors asked first for each supervisee's
# column (rupture rate, resolution, SRS) and for the practice-wide figures, so those weigh
# most; the finer breakdowns (moment, marker, factor, modality) share what is left. Every
# episode breakdown is taken jointly with the episode's outcome, so one measurement gives
# the counts, the outcome shares and the time to resolution of that breakdown at once.
PLAN: tuple[Measurement, ...] = (
    Measurement("sessions", "sessions", (), 3),
    Measurement("sessions_by_clinician", "sessions", ("clinician",), 4),
    Measurement("sessions_by_modality", "sessions", ("modality",), 1),
    Measurement("episodes", "episodes", ("outcome",), 4),
    Measurement("episodes_by_clinician", "episodes", ("clinician", "outcome"), 4),
    Measurement("episodes_by_modality", "episodes", ("modality", "outcome"), 1),
    Measurement("episodes_by_relationship", "episodes", ("relationship", "outcome"), 2),
    Measurement("episodes_by_kind", "episodes", ("kind", "outcome"), 2),
    Measurement("episodes_by_moment", "episodes", ("moment",), 1),
    Measurement("episodes_by_marker", "markers", ("marker",), 1, per_group=BOUNDS["episodes"]),
    Measurement("episodes_by_factor", "factors", ("factor",), 1, per_group=BOUNDS["episodes"]),
    Measurement("resolved_by_days", "resolutions", ("days",), 1),
    Measurement("repairs", "repairs", ("outcome",), 2),
    Measurement("repairs_by_clinician", "repairs", ("clinician", "outcome"), 2),
    Measurement("repairs_by_both_engaged", "repairs", ("both_engaged", "outcome"), 1.5),
    Measurement("repairs_by_initiator", "repairs", ("initiator", "outcome"), 1.5),
    Measurement(
        "repairs_by_strategy",
        "strategies",
        ("strategy", "outcome"),
        1.5,
        per_group=BOUNDS["repairs"],
    ),
    Measurement("srs", "srs", (), 2, sums=("srs", "below_cutoff")),
    Measurement("srs_by_clinician", "srs", ("clinician",), 2, sums=("srs", "below_cutoff")),
    Measurement("srs_by_modality", "srs", ("modality",), 0.5, sums=("srs", "below_cutoff")),
    Measurement("ors", "ors", (), 2, sums=("ors",)),
    Measurement("ors_by_clinician", "ors", ("clinician",), 2, sums=("ors",)),
    Measurement("ors_by_modality", "ors", ("modality",), 0.5, sums=("ors",)),
    Measurement("signals", "signals", ("acknowledged_in_7_days",), 1.5),
    Measurement("signals_by_clinician", "signals", ("clinician", "acknowledged_in_7_days"), 1.5),
)
PLAN_BY_NAME = {m.name: m for m in PLAN}

# Ranges the sums are clamped to, in the units they are summed in.
SUM_RANGES: dict[str, tuple[int, int]] = {
    "srs": (CLAMPS["srs"][0] * MEASURE_SCALE, CLAMPS["srs"][1] * MEASURE_SCALE),
    "ors": (CLAMPS["ors"][0] * MEASURE_SCALE, CLAMPS["ors"][1] * MEASURE_SCALE),
    "below_cutoff": (0, 1),
}


def sum_centre(column: str) -> int:
    low, high = SUM_RANGES[column]
    return (low + high) // 2


def rho_of(epsilon: float, delta: float = DELTA) -> float:
    """The zCDP ρ whose (ε, δ)-DP guarantee is the practice's ε at ``DELTA`` (OpenDP's
    conversion)."""
    rho = _translate_measure_distance(
        (epsilon, delta),
        measures.approximate(measures.max_divergence()),
        measures.zero_concentrated_divergence(),
    )
    return float(cast(float, rho))


# --- Keys: public, never read from the month's data --------------------------------------------


def _keys(practice: Practice) -> dict[str, list[str]]:
    clinicians = (
        Membership.objects.filter(practice=practice, role=Role.CLINICIAN)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    return {
        "clinician": [str(pk) for pk in clinicians],
        "modality": [*Modality.values, OUTSIDE_SESSION],
        "session_modality": list(Modality.values),
        "relationship": list(Relationship.values),
        "kind": [*RuptureKind.values, NO_KIND],
        "moment": list(Moment.values),
        "marker": list(Marker.values),
        "factor": list(Factor.values),
        "strategy": list(Strategy.values),
        "initiator": list(Initiator.values),
        "both_engaged": ["yes", "no"],
        "outcome": list(EPISODE_OUTCOMES),
        "days": [band for band, _, _ in RESOLUTION_BANDS],
        "repair_outcome": list(RepairOutcome.values),
        "acknowledged_in_7_days": ["yes", "no"],
    }


def _key_name(measurement: Measurement, column: str) -> str:
    if column == "outcome" and measurement.frame in ("repairs", "strategies"):
        return "repair_outcome"
    if column == "modality" and measurement.frame in ("sessions", "srs", "ors"):
        return "session_modality"
    return column


# --- The month's records, bounded -------------------------------------------------------------

# Each frame's rows for one practice and month, every client's rows numbered from its earliest
# (``n``) so that only the first FRAME_BOUND of them are kept. Archived records and everything
# of an archived client are left out, as everywhere else.
_MONTH_OF_SESSIONS = """
    s.practice_id = %(practice)s AND s.archived_at IS NULL AND s.attendance = 'attended'
    AND s.starts_at >= %(start_at)s AND s.starts_at < %(end_at)s
"""

# A client's SRS or ORS ratings of the month, each with how many its respondent gave: the
# client's value is the mean of its respondents' means (a couple's partners, a family's
# members, each once however often they rated; an individual client is one respondent).
_RATINGS = f"""
    SELECT s.client_id, s.clinician_id, s.modality, coalesce(m.participant_id, 0) AS respondent,
           LEAST(GREATEST(m.total, 0), 40) AS value,
           count(*) OVER (PARTITION BY s.client_id, m.participant_id) AS ratings
    FROM {{table}} m
    JOIN cases_therapysession s ON s.id = m.session_id
    JOIN cases_client c ON c.id = s.client_id AND c.archived_at IS NULL
    WHERE m.archived_at IS NULL AND {_MONTH_OF_SESSIONS}
"""

_FRAME_SQL: dict[str, str] = {
    "sessions": f"""
        SELECT s.client_id, s.clinician_id::text AS clinician, s.modality,
               row_number() OVER (PARTITION BY s.client_id ORDER BY s.starts_at, s.id) AS n
        FROM cases_therapysession s
        JOIN cases_client c ON c.id = s.client_id AND c.archived_at IS NULL
        WHERE {_MONTH_OF_SESSIONS}
    """,
    "episodes": """
        SELECT e.id, e.client_id,
               COALESCE(s.clinician_id, c.primary_clinician_id)::text AS clinician,
               COALESCE(s.modality, 'outside_session') AS modality,
               e.relationship, COALESCE(e.kind, 'none') AS kind, -- 'none': NO_KIND
               e.moment, e.markers, e.factors,
               CASE WHEN e.status IN ('open', 'repairing') THEN 'open' ELSE e.status END
                   AS outcome,
               CASE WHEN e.status = 'resolved' THEN
                   CASE
                       WHEN e.closed_on - e.detected_on <= 7 THEN 'resolved_0_7'
                       WHEN e.closed_on - e.detected_on <= 30 THEN 'resolved_8_30'
                       WHEN e.closed_on - e.detected_on <= 90 THEN 'resolved_31_90'
                       ELSE 'resolved_91_365'
                   END
               END AS days,
               row_number() OVER (
                   PARTITION BY e.client_id ORDER BY e.detected_on, e.id
               ) AS n
        FROM ruptures_ruptureepisode e
        JOIN cases_client c ON c.id = e.client_id AND c.archived_at IS NULL
        LEFT JOIN cases_therapysession s ON s.id = e.session_id
        WHERE e.practice_id = %(practice)s AND e.archived_at IS NULL
          AND e.detected_on >= %(start)s AND e.detected_on < %(end)s
    """,
    "repairs": """
        SELECT r.id, r.client_id,
               COALESCE(s.clinician_id, c.primary_clinician_id)::text AS clinician,
               r.initiator, CASE WHEN r.both_engaged THEN 'yes' ELSE 'no' END AS both_engaged,
               r.outcome, r.strategies,
               row_number() OVER (
                   PARTITION BY r.client_id ORDER BY r.attempted_on, r.id
               ) AS n
        FROM ruptures_repairattempt r
        JOIN ruptures_ruptureepisode e ON e.id = r.episode_id AND e.archived_at IS NULL
        JOIN cases_client c ON c.id = r.client_id AND c.archived_at IS NULL
        LEFT JOIN cases_therapysession s ON s.id = r.session_id
        WHERE r.practice_id = %(practice)s AND r.archived_at IS NULL
          AND r.attempted_on >= %(start)s AND r.attempted_on < %(end)s
    """,
    "srs": f"""
        SELECT client_id,
               (mode() WITHIN GROUP (ORDER BY clinician_id))::text AS clinician,
               mode() WITHIN GROUP (ORDER BY modality) AS modality,
               round(sum(value / ratings) / count(DISTINCT respondent) * 10)::int AS srs,
               (sum(value / ratings) / count(DISTINCT respondent) < %(srs_cutoff)s)::int
                   AS below_cutoff,
               1 AS n
        FROM ({_RATINGS.format(table="cases_sessionratingscale")}) AS ratings
        GROUP BY client_id
    """,
    "ors": f"""
        SELECT client_id,
               (mode() WITHIN GROUP (ORDER BY clinician_id))::text AS clinician,
               mode() WITHIN GROUP (ORDER BY modality) AS modality,
               round(sum(value / ratings) / count(DISTINCT respondent) * 10)::int AS ors,
               1 AS n
        FROM ({_RATINGS.format(table="cases_outcomeratingscale")}) AS ratings
        GROUP BY client_id
    """,
    "signals": """
        SELECT g.client_id,
               COALESCE(s.clinician_id, c.primary_clinician_id)::text AS clinician,
               CASE WHEN g.status = 'acknowledged'
                         AND g.handled_at <= g.raised_at + interval '7 days'
                    THEN 'yes' ELSE 'no' END AS acknowledged_in_7_days,
               row_number() OVER (PARTITION BY g.client_id ORDER BY g.raised_at, g.id) AS n
        FROM ruptures_rupturesignal g
        JOIN cases_client c ON c.id = g.client_id AND c.archived_at IS NULL
        LEFT JOIN cases_therapysession s ON s.id = g.session_id
        WHERE g.practice_id = %(practice)s
          AND g.raised_at >= %(start_at)s AND g.raised_at < %(end_at)s
    """,
}

_SCHEMA: dict[str, dict[str, Any]] = {
    "sessions": {"client_id": pl.Int64, "clinician": pl.String, "modality": pl.String},
    "episodes": {
        "client_id": pl.Int64,
        "clinician": pl.String,
        "modality": pl.String,
        "relationship": pl.String,
        "kind": pl.String,
        "moment": pl.String,
        "outcome": pl.String,
    },
    "resolutions": {"client_id": pl.Int64, "days": pl.String},
    "markers": {"client_id": pl.Int64, "marker": pl.String},
    "factors": {"client_id": pl.Int64, "factor": pl.String},
    "repairs": {
        "client_id": pl.Int64,
        "clinician": pl.String,
        "initiator": pl.String,
        "both_engaged": pl.String,
        "outcome": pl.String,
    },
    "strategies": {"client_id": pl.Int64, "strategy": pl.String, "outcome": pl.String},
    "srs": {
        "client_id": pl.Int64,
        "clinician": pl.String,
        "modality": pl.String,
        "srs": pl.Int64,
        "below_cutoff": pl.Int64,
    },
    "ors": {"client_id": pl.Int64, "clinician": pl.String, "modality": pl.String, "ors": pl.Int64},
    "signals": {"client_id": pl.Int64, "clinician": pl.String, "acknowledged_in_7_days": pl.String},
}


@dataclass(frozen=True)
class MonthWindow:
    """A month: its dates, and the instants its timestamped records (sessions, measures,
    signals) fall between, local midnight to local midnight in the practice's time zone,
    unless a neighbouring release already fixed an end (see ``release_month``)."""

    month: dt.date
    tz: str
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None

    @property
    def end(self) -> dt.date:
        return next_month(self.month)

    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        zone = zoneinfo.ZoneInfo(self.tz)
        return (
            self.start_at or dt.datetime.combine(self.month, dt.time(), tzinfo=zone),
            self.end_at or dt.datetime.combine(self.end, dt.time(), tzinfo=zone),
        )

    def params(self, practice: Practice, srs_cutoff: Decimal) -> dict[str, Any]:
        start_at, end_at = self.instants()
        return {
            "practice": practice.pk,
            "start": self.month,
            "end": self.end,
            "start_at": start_at,
            "end_at": end_at,
            "srs_cutoff": srs_cutoff,
        }


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def month_frames(
    practice: Practice, window: MonthWindow, srs_cutoff: Decimal, *, bounded: bool = True
) -> dict[str, pl.DataFrame]:
    """The month's rows of every frame, each client's cut to its bounds (earliest first) and
    every multi-valued field to its first values. Only client ids, categories and clamped
    measures: no text, no dates. ``bounded=False`` keeps every row, for measuring what the
    bounds cost (benchmarks), never for a release."""
    params = window.params(practice, srs_cutoff)
    rows: dict[str, list[dict[str, Any]]] = {}
    big = 10**9
    for frame, sql in _FRAME_SQL.items():
        limit = FRAME_BOUND[frame] if bounded else big
        rows[frame] = [r for r in _fetch(sql, params) if r["n"] <= limit]
    if not bounded:
        markers, factors, strategies = big, big, big
    else:
        markers = BOUNDS["markers_per_episode"]
        factors = BOUNDS["factors_per_episode"]
        strategies = BOUNDS["strategies_per_repair"]
    rows["resolutions"] = [e for e in rows["episodes"] if e["days"] is not None]
    rows["markers"] = [
        {"client_id": e["client_id"], "marker": marker}
        for e in rows["episodes"]
        for marker in e["markers"][:markers]
    ]
    rows["factors"] = [
        {"client_id": e["client_id"], "factor": factor}
        for e in rows["episodes"]
        for factor in e["factors"][:factors]
    ]
    rows["strategies"] = [
        {"client_id": r["client_id"], "strategy": strategy, "outcome": r["outcome"]}
        for r in rows["repairs"]
        for strategy in r["strategies"][:strategies]
    ]
    return {
        frame: pl.DataFrame(
            [{k: r[k] for k in schema} for r in rows[frame]], schema=schema, orient="row"
        )
        for frame, schema in _SCHEMA.items()
    }


# --- Measuring ---------------------------------------------------------------------------------


@dataclass
class Measured:
    name: str
    by: tuple[str, ...]
    rho: float
    scales: dict[str, float]  # column -> standard deviation of its noise
    cells: list[dict[str, Any]]  # the by keys, then the noisy "len" and sums

    def as_json(self) -> dict[str, Any]:
        return {"by": list(self.by), "rho": self.rho, "scales": self.scales, "cells": self.cells}


def measure(
    frames: dict[str, pl.DataFrame],
    *,
    keys: dict[str, list[str]],
    rho: float,
    plan: Sequence[Measurement] = PLAN,
) -> list[Measured]:
    """Runs the plan's measurements through OpenDP, one compositor a frame, each spending its
    measurements' share of ``rho``."""
    total_weight = sum(m.weight for m in plan)
    results: list[Measured] = []
    for frame, group in itertools.groupby(
        sorted(plan, key=lambda m: m.frame), key=lambda m: m.frame
    ):
        measurements = list(group)
        frame_rho = rho * sum(m.weight for m in measurements) / total_weight
        margins = [Margin(by=list(m.by), max_length=10_000_000) for m in measurements]
        context = Context.compositor(
            data=frames[frame].lazy(),
            privacy_unit=unit_of(contributions=1, identifier="client_id"),
            privacy_loss=loss_of(rho=frame_rho),
            split_by_weights=[m.weight for m in measurements],
            margins=margins,
        )
        for measurement, d_mid in zip(measurements, list(context.d_mids or []), strict=True):
            results.append(
                _measure_one(context, measurement, keys=keys, rho=float(cast(float, d_mid)))
            )
    return results


def _measure_one(
    context: Context, m: Measurement, *, keys: dict[str, list[str]], rho: float
) -> Measured:
    query = context.query().truncate_per_group(FRAME_BOUND[m.frame])
    if m.per_group is not None:
        query = query.truncate_per_group(m.per_group, by=list(m.by))
    aggregates = [dp_len(signed=True)]
    for column in m.sums:
        low, high = SUM_RANGES[column]
        centre = sum_centre(column)
        centred = DPExpr(pl.col(column) - centre)
        aggregates.append(centred.sum((low - centre, high - centre)).alias(column))
    if m.by:
        key_frame = pl.LazyFrame({m.by[0]: keys[_key_name(m, m.by[0])]})
        for column in m.by[1:]:
            key_frame = key_frame.join(
                pl.LazyFrame({column: keys[_key_name(m, column)]}), how="cross"
            )
        query = query.group_by(*m.by).agg(*aggregates).with_keys(key_frame)
    else:
        query = query.select(*aggregates)
    measurement = _calibrated(context, cast(pl.LazyFrame, query.polars_plan), rho)
    summary = summarize_polars_measurement(measurement, None)
    scales = {row["column"]: float(row["scale"]) for row in summary.iter_rows(named=True)}
    released = context(measurement).collect()
    cells = list(released.iter_rows(named=True))
    return Measured(m.name, m.by, rho, scales, _sorted(cells, m.by))


def _calibrated(context: Context, plan: pl.LazyFrame, rho: float) -> DPMeasurement:
    """The measurement of ``plan`` with the least noise that spends no more than ``rho``.

    ``LazyFrameQuery.resolve`` finds the noise scale by bisection, hundreds of privacy-map
    evaluations a query (about 2 s each here). The Gaussian mechanism's zCDP loss falls with
    the square of its scale, so one evaluation at scale 1 gives the scale directly; OpenDP's
    own check then confirms it, nudging the scale up in the rare case rounding needs it."""
    accountant = context.accountant

    def make(scale: float) -> DPMeasurement:
        return measurements.make_private_lazyframe(
            input_domain=accountant.input_domain,
            input_metric=accountant.input_metric,
            output_measure=accountant.output_measure,
            lazyframe=plan,
            global_scale=scale,
        )

    scale = math.sqrt(make(1.0).map(context.d_in) / rho)
    for _ in range(100):
        measurement = make(scale)
        if measurement.check(context.d_in, rho):
            return measurement
        scale *= 1.000001
    raise BudgetExceeded(OVER_BUDGET)  # pragma: no cover - the scale above always converges


def _sorted(cells: list[dict[str, Any]], by: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted(cells, key=lambda c: tuple(str(c[k]) for k in by))


# --- Releasing ---------------------------------------------------------------------------------


@dataclass
class ReleaseSettings:
    timezone: str
    srs_cutoff: Decimal
    epsilon: float
    delta: float = DELTA
    rho: float = field(init=False)

    def __post_init__(self) -> None:
        self.rho = rho_of(self.epsilon, self.delta)

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "srs_cutoff": str(self.srs_cutoff),
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": self.rho,
            "privacy_unit": "one client's records in one month",
            "bounds": BOUNDS,
            "clamps": {k: list(v) for k, v in CLAMPS.items()},
            "plan": {m.name: m.weight for m in PLAN},
            "interval_level": 0.9,
        }


def settings_of(practice: Practice) -> ReleaseSettings:
    return ReleaseSettings(
        timezone=practice.timezone,
        srs_cutoff=practice.srs_cutoff,
        epsilon=float(practice.trends_epsilon),
    )


def due_until(practice: Practice, now: dt.datetime) -> dt.date | None:
    """The last month of the practice that is due for release at ``now``: closed, in the
    practice's time zone, at least the publication lag ago."""
    local_today = now.astimezone(zoneinfo.ZoneInfo(practice.timezone)).date()
    closed_before = local_today - dt.timedelta(days=practice.trends_publication_lag_days)
    # The month that contains closed_before is still within its lag; the one before is due.
    last = (closed_before.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return last


def first_month(practice: Practice, until: dt.date) -> dt.date:
    """Releases start at the month of the practice's first attended session or episode (its
    opening, which supervisors know anyway), at most MAX_BACKFILL_MONTHS back."""
    earliest_session = TherapySession.objects.filter(practice=practice).aggregate(
        first=Min("starts_at")
    )["first"]
    earliest_episode = RuptureEpisode.objects.filter(practice=practice).aggregate(
        first=Min("detected_on")
    )["first"]
    zone = zoneinfo.ZoneInfo(practice.timezone)
    candidates = [practice.created_at.astimezone(zone).date()]
    if earliest_session is not None:
        candidates.append(earliest_session.astimezone(zone).date())
    if earliest_episode is not None:
        candidates.append(earliest_episode)
    start = min(candidates).replace(day=1)
    floor = until
    for _ in range(MAX_BACKFILL_MONTHS - 1):
        floor = (floor - dt.timedelta(days=1)).replace(day=1)
    return max(start, floor)


def release_month(
    *, practice: Practice, month: dt.date, now: dt.datetime | None = None
) -> TrendRelease:
    """Releases one month of one practice, or returns its release if it has one. The budget
    ledger and the release commit together."""
    now = now or timezone.now()
    month = month.replace(day=1)
    with transaction.atomic():
        # One releaser a practice at a time; a second finds the release made.
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        existing = TrendRelease.objects.filter(practice=locked, month=month).first()
        if existing is not None:
            return existing
        chosen = settings_of(locked)
        spent = (
            PrivacySpend.objects.filter(practice=locked, month=month).aggregate(total=Sum("rho"))[
                "total"
            ]
            or 0.0
        )
        if spent + chosen.rho > chosen.rho * (1 + 1e-9):
            raise BudgetExceeded(OVER_BUDGET)
        window = _window(locked, month, chosen.timezone)
        frames = month_frames(locked, window, chosen.srs_cutoff)
        measured = measure(frames, keys=_keys(locked), rho=chosen.rho)
        start_at, end_at = window.instants()
        release = TrendRelease.objects.create(
            practice=locked,
            month=month,
            made_at=now,
            settings={
                **chosen.as_json(),
                "window": {"start_at": start_at.isoformat(), "end_at": end_at.isoformat()},
            },
            library_version=f"opendp {version('opendp')}",
            measurements={m.name: m.as_json() for m in measured},
        )
        PrivacySpend.objects.bulk_create(
            PrivacySpend(
                practice=locked,
                month=month,
                release=release,
                measurement=m.name,
                rho=m.rho,
                budget_rho=chosen.rho,
                spent_at=now,
            )
            for m in measured
        )
    return release


def _window(practice: Practice, month: dt.date, tz: str) -> MonthWindow:
    """The month in ``tz``, joined to the windows of the neighbouring months' releases: after
    a change of time zone, a record near a month's edge must not count in two releases (two
    spends of its client's ε) nor fall between them."""
    neighbours = {
        r.month: r.settings.get("window")
        for r in TrendRelease.objects.filter(
            practice=practice,
            month__in=[months_before(month, 1), next_month(month)],
        )
    }
    before, after = neighbours.get(months_before(month, 1)), neighbours.get(next_month(month))
    return MonthWindow(
        month,
        tz,
        start_at=dt.datetime.fromisoformat(before["end_at"]) if before else None,
        end_at=dt.datetime.fromisoformat(after["start_at"]) if after else None,
    )


def months_before(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def release_due(
    *, practices: Iterable[Practice] | None = None, now: dt.datetime | None = None
) -> list[TrendRelease]:
    """Releases every due month of every practice that has none yet (the first run backfills
    the history). Safe to run again, and from several workers at once."""
    return list(releasing_due(practices=practices, now=now))


def releasing_due(
    *, practices: Iterable[Practice] | None = None, now: dt.datetime | None = None
) -> Iterator[TrendRelease]:
    """``release_due``, one release at a time: a backfill of many months need not hold them
    all (each release's measurements are a few megabytes in Python)."""
    now = now or timezone.now()
    for practice in practices if practices is not None else Practice.objects.order_by("pk"):
        until = due_until(practice, now)
        if until is None:
            continue
        month = first_month(practice, until)
        released = set(
            TrendRelease.objects.filter(practice=practice, month__gte=month).values_list(
                "month", flat=True
            )
        )
        while month <= until:
            if month not in released:
                yield release_month(practice=practice, month=month, now=now)
            month = next_month(month)
