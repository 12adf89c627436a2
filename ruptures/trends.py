"""Supervisor trends: anonymised monthly figures of rupture and repair, computed in PostgreSQL.

Each figure is one aggregate query over a practice and a whole-month period, grouped by month
and, optionally, one dimension (``GROUPING SETS`` gives the cells and each month's total in one
pass). Python then only decides what to publish over the small grid of cells:

1. **Small cells.** A cell whose population (the distinct clients whose records make it) is
   between 1 and k - 1 is suppressed. Zero may show.
2. **Complementary suppression.** Every month's total is published in the undivided query, so a
   lone suppressed cell could be recovered by subtraction. In every row where something is
   suppressed (or hidden from this supervisor: clinicians they do not supervise), further cells
   are suppressed until the unknown part of the row holds at least two cells and one of them has
   k clients or more; the unknown cells then only ever add up to a group of at least k people.
   If no such cell is left, all the row is unknown and stands or falls with its total.
3. **Months are atoms.** Periods are whole months, figures are per month, and nothing is summed
   across months, so two overlapping queries never difference into a smaller group; every
   decision above depends on the month's own cells only, so a month reads the same in every
   query that includes it.

Nothing identifying leaves: no client ids or codes, no names of clients, no free text, no dates
finer than a month, no ages. Clinicians appear (by id and name) only to their supervisors.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection

from cases.choices import Modality, Role
from cases.models import Practice, User
from cases.selectors import has_role, supervisees_of
from ruptures.choices import Factor, Marker, Moment, Relationship, RuptureKind, Strategy

MAX_MONTHS = 36
OUTSIDE_SESSION = "outside_session"  # episodes and signals not tied to a session have no modality
TOTAL = None  # the group key of a month's total in the SQL results (GROUPING SETS)
NO_GROUP = "(none)"


NOT_A_SUPERVISOR = "Only the practice's supervisors read its trends."


class TrendsError(ValueError):
    """A request for figures that cannot be answered as asked (the API answers 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- Figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    values: dict[str, str]  # value name -> what it means
    dimensions: tuple[str, ...]  # the ``by`` it accepts
    sql: str  # one aggregate query; see ``_query``
    compute: Callable[[dict[str, Any]], dict[str, float | None]]
    # The distinct-client counts a cell is built from; all must be 0 or >= k.
    populations: tuple[str, ...] = ("clients",)
    # The breakdown it always has (strategy resolution is by strategy by nature).
    inherent: str | None = None


def _ratio(numerator: Any, denominator: Any, scale: int = 1, places: int = 3) -> float | None:
    if not denominator:
        return None
    return round(float(numerator) * scale / float(denominator), places)


def _round(value: Any, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


# Month of a timestamp in the practice's time zone, and of a date.
_MONTH_TS = "date_trunc('month', {column} AT TIME ZONE %(tz)s)::date"
_MONTH_DATE = "date_trunc('month', {column})::date"

# Episodes of the practice detected in the period, with the dimensions they can be cut by.
_EPISODES = """
    SELECT e.id, e.client_id, e.relationship, e.kind, e.moment, e.markers, e.factors,
           e.status, e.detected_on, e.closed_on,
           date_trunc('month', e.detected_on)::date AS month,
           COALESCE(s.clinician_id, c.primary_clinician_id) AS clinician,
           COALESCE(s.modality, 'outside_session') AS modality
    FROM ruptures_ruptureepisode e
    JOIN cases_client c ON c.id = e.client_id
    LEFT JOIN cases_therapysession s ON s.id = e.session_id
    WHERE e.practice_id = %(practice)s
      AND e.detected_on >= %(start)s AND e.detected_on < %(end)s
      AND e.archived_at IS NULL AND c.archived_at IS NULL
"""

# Attended sessions of the practice in the period (months in the practice's time zone).
_SESSIONS = """
    SELECT s.id, s.client_id, s.clinician_id AS clinician, s.modality,
           date_trunc('month', s.starts_at AT TIME ZONE %(tz)s)::date AS month
    FROM cases_therapysession s
    JOIN cases_client c ON c.id = s.client_id AND c.archived_at IS NULL
    WHERE s.practice_id = %(practice)s AND s.attendance = 'attended'
      AND s.starts_at >= %(start_at)s AND s.starts_at < %(end_at)s
      AND s.archived_at IS NULL
"""

_RUPTURE_RATE = f"""
WITH episodes AS ({_EPISODES}), sessions AS ({_SESSIONS}),
numerator AS (
    SELECT month, grp, GROUPING(grp) = 1 AS is_total,
           count(*) AS episodes, count(DISTINCT client_id) AS clients
    FROM (SELECT *, {{group}} AS grp FROM episodes) AS e
    GROUP BY GROUPING SETS ((month, grp), (month))
),
denominator AS (
    SELECT month, grp, GROUPING(grp) = 1 AS is_total,
           count(*) AS sessions, count(DISTINCT client_id) AS session_clients
    FROM (SELECT *, {{session_group}} AS grp FROM sessions) AS s
    GROUP BY GROUPING SETS ((month, grp), (month))
)
SELECT COALESCE(n.month, d.month) AS month,
       CASE WHEN n.month IS NULL THEN d.grp ELSE n.grp END AS grp,
       COALESCE(n.is_total, d.is_total) AS is_total,
       COALESCE(n.episodes, 0) AS episodes, COALESCE(n.clients, 0) AS clients,
       COALESCE(d.sessions, 0) AS sessions, COALESCE(d.session_clients, 0) AS session_clients
FROM numerator n
FULL JOIN denominator d
    ON d.month = n.month AND d.is_total = n.is_total AND d.grp IS NOT DISTINCT FROM n.grp
"""

_EPISODE_COUNTS = f"""
WITH episodes AS ({_EPISODES})
SELECT month, grp, GROUPING(grp) = 1 AS is_total,
       count(DISTINCT id) AS episodes, count(DISTINCT client_id) AS clients
FROM episodes {{unnest}}
GROUP BY GROUPING SETS ((month, grp), (month))
"""

_RESOLUTION = f"""
WITH episodes AS ({_EPISODES})
SELECT month, grp, GROUPING(grp) = 1 AS is_total, count(*) AS episodes,
       count(*) FILTER (WHERE status = 'resolved') AS resolved,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY closed_on - detected_on)
           FILTER (WHERE status = 'resolved') AS median_days,
       count(DISTINCT client_id) AS clients
FROM (SELECT *, {{group}} AS grp FROM episodes) AS e
GROUP BY GROUPING SETS ((month, grp), (month))
"""

_STRATEGY_RESOLUTION = """
SELECT date_trunc('month', r.attempted_on)::date AS month, strategy AS grp,
       GROUPING(strategy) = 1 AS is_total, count(DISTINCT r.id) AS attempts,
       count(DISTINCT r.id) FILTER (WHERE r.outcome = 'resolved') AS resolved,
       count(DISTINCT r.client_id) AS clients
FROM ruptures_repairattempt r
JOIN ruptures_ruptureepisode e ON e.id = r.episode_id AND e.archived_at IS NULL
JOIN cases_client c ON c.id = r.client_id AND c.archived_at IS NULL
CROSS JOIN LATERAL unnest(r.strategies) AS strategy
WHERE r.practice_id = %(practice)s AND r.archived_at IS NULL
  AND r.attempted_on >= %(start)s AND r.attempted_on < %(end)s
GROUP BY GROUPING SETS ((1, 2), (1))
"""

_MEASURES = f"""
WITH sessions AS ({_SESSIONS}),
scored AS (
    SELECT s.*, srs.total AS srs, ors.total AS ors, p.srs_cutoff
    FROM sessions s
    JOIN cases_practice p ON p.id = %(practice)s
    LEFT JOIN cases_sessionratingscale srs
        ON srs.session_id = s.id AND srs.archived_at IS NULL
    LEFT JOIN cases_outcomeratingscale ors
        ON ors.session_id = s.id AND ors.archived_at IS NULL
    WHERE srs.id IS NOT NULL OR ors.id IS NOT NULL
)
SELECT month, grp, GROUPING(grp) = 1 AS is_total,
       avg(srs) AS mean_srs, avg(ors) AS mean_ors,
       count(srs) AS srs_sessions, count(*) FILTER (WHERE srs < srs_cutoff) AS below_cutoff,
       count(DISTINCT client_id) AS clients
FROM (SELECT *, {{group}} AS grp FROM scored) AS m
GROUP BY GROUPING SETS ((month, grp), (month))
"""

_SIGNALS = """
WITH signals AS (
    SELECT g.client_id, g.status, g.raised_at, g.handled_at,
           date_trunc('month', g.raised_at AT TIME ZONE %(tz)s)::date AS month,
           COALESCE(s.clinician_id, c.primary_clinician_id) AS clinician
    FROM ruptures_rupturesignal g
    JOIN cases_client c ON c.id = g.client_id
    LEFT JOIN cases_therapysession s ON s.id = g.session_id
    WHERE g.practice_id = %(practice)s AND c.archived_at IS NULL
      AND g.raised_at >= %(start_at)s AND g.raised_at < %(end_at)s
)
SELECT month, grp, GROUPING(grp) = 1 AS is_total, count(*) AS signals,
       count(*) FILTER (
           WHERE status = 'acknowledged' AND handled_at <= raised_at + interval '7 days'
       ) AS acknowledged_in_7_days,
       count(DISTINCT client_id) AS clients
FROM (SELECT *, {group} AS grp FROM signals) AS g
GROUP BY GROUPING SETS ((month, grp), (month))
"""

FIGURES: dict[str, Figure] = {
    figure.name: figure
    for figure in (
        Figure(
            name="rupture-rate",
            description="Rupture episodes detected per 100 attended sessions.",
            values={"rate": "rupture episodes per 100 attended sessions"},
            dimensions=("clinician", "modality", "relationship", "kind"),
            sql=_RUPTURE_RATE,
            compute=lambda r: {"rate": _ratio(r["episodes"] or 0, r["sessions"], 100, 1)},
            populations=("clients", "session_clients"),
        ),
        Figure(
            name="episode-counts",
            description="Rupture episodes detected, counted by a category of the episode.",
            values={"episodes": "rupture episodes detected"},
            dimensions=(
                "kind",
                "relationship",
                "moment",
                "marker",
                "factor",
                "clinician",
                "modality",
            ),
            sql=_EPISODE_COUNTS,
            compute=lambda r: {"episodes": r["episodes"] or 0},
        ),
        Figure(
            name="resolution",
            description=(
                "Of the episodes detected in the month, the share resolved so far and the "
                "median days from detection to resolution."
            ),
            values={
                "share_resolved": "share of the month's episodes now resolved (0–1)",
                "median_days_to_resolution": "median days from detection to resolution",
            },
            dimensions=("clinician", "modality", "relationship", "kind"),
            sql=_RESOLUTION,
            compute=lambda r: {
                "share_resolved": _ratio(r["resolved"], r["episodes"]),
                "median_days_to_resolution": _round(r["median_days"]),
            },
        ),
        Figure(
            name="strategy-resolution",
            description="Of the repair attempts that used a strategy, the share that resolved.",
            values={"share_resolved": "share of attempts with the strategy that resolved (0–1)"},
            dimensions=(),
            sql=_STRATEGY_RESOLUTION,
            compute=lambda r: {"share_resolved": _ratio(r["resolved"], r["attempts"])},
            inherent="strategy",
        ),
        Figure(
            name="measures",
            description="Mean SRS and ORS, and the share of sessions below the SRS cutoff.",
            values={
                "mean_srs": "mean SRS total (0–40)",
                "mean_ors": "mean ORS total (0–40)",
                "share_below_srs_cutoff": "share of SRS-rated sessions below the cutoff (0–1)",
            },
            dimensions=("clinician", "modality"),
            sql=_MEASURES,
            compute=lambda r: {
                "mean_srs": _round(r["mean_srs"]),
                "mean_ors": _round(r["mean_ors"]),
                "share_below_srs_cutoff": _ratio(r["below_cutoff"], r["srs_sessions"]),
            },
        ),
        Figure(
            name="signal-acknowledgement",
            description="Share of rupture signals acknowledged within 7 days of being raised.",
            values={"share_acknowledged_in_7_days": "share of signals (0–1)"},
            dimensions=("clinician",),
            sql=_SIGNALS,
            compute=lambda r: {
                "share_acknowledged_in_7_days": _ratio(r["acknowledged_in_7_days"], r["signals"])
            },
        ),
    )
}

# Where each dimension lives in the episode and session rows.
_GROUP_COLUMN = {
    None: "'all'",
    "clinician": "clinician::text",
    "modality": "modality",
    "relationship": "relationship",
    "kind": "kind",
    "moment": "moment",
}
# LEFT JOIN keeps episodes with no marker (or factor) in the month's total.
_UNNEST = {
    "marker": "LEFT JOIN LATERAL unnest(markers) AS grp ON TRUE",
    "factor": "LEFT JOIN LATERAL unnest(factors) AS grp ON TRUE",
}


def _query(figure: Figure, by: str | None) -> str:
    group = _GROUP_COLUMN.get(by, "'all'")
    if figure.name == "episode-counts":
        unnest = _UNNEST.get(by or "", f"CROSS JOIN LATERAL (SELECT {group} AS grp) AS g")
        # Columns are referenced unqualified: the lateral sees the episode row.
        return figure.sql.format(unnest=unnest)
    if figure.name == "rupture-rate":
        # A dimension of the episode alone does not split the sessions it is a rate of.
        session_group = group if by in (None, "clinician", "modality") else "'all'"
        return figure.sql.format(group=group, session_group=session_group)
    if figure.inherent:
        return figure.sql
    return figure.sql.format(group=group)


# --- Groups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    key: str
    label: str


def _groups(
    dimension: str | None, *, clinicians: Iterable[User], sessions_only: bool
) -> list[Group]:
    if dimension is None:
        return []
    if dimension == "clinician":
        return [Group(str(u.pk), u.get_full_name() or u.username) for u in clinicians]
    choices: dict[str, Any] = {
        "kind": RuptureKind,
        "relationship": Relationship,
        "moment": Moment,
        "marker": Marker,
        "factor": Factor,
        "strategy": Strategy,
    }
    if dimension == "modality":
        groups = [Group(v, str(label)) for v, label in Modality.choices]
        if not sessions_only:
            groups.append(Group(OUTSIDE_SESSION, "Outside a session"))
        return groups
    return [Group(v, str(label)) for v, label in choices[dimension].choices]


# --- Anonymisation -----------------------------------------------------------------------------


@dataclass
class Cell:
    values: dict[str, float | None]
    populations: tuple[int, ...]

    @property
    def clients(self) -> int:
        return self.populations[0]

    def too_small(self, k: int) -> bool:
        return any(0 < population < k for population in self.populations)


@dataclass
class Row:
    month: dt.date
    total: Cell
    cells: dict[str, Cell]
    suppressed: dict[str, str] = field(default_factory=dict)  # group -> reason
    total_suppressed: bool = False


def protect_row(row: Row, *, k: int, hidden: frozenset[str] = frozenset()) -> Row:
    """Suppress small cells, then enough others that no suppressed or hidden cell can be
    recovered from the month's total (see the module's docstring)."""
    for key, cell in row.cells.items():
        if key not in hidden and cell.too_small(k):
            row.suppressed[key] = "fewer_than_k"
    row.total_suppressed = row.total.too_small(k)

    def unknown() -> list[str]:
        return [key for key in row.cells if key in row.suppressed or key in hidden]

    def needs_cover() -> bool:
        return bool(row.suppressed) or any(
            0 < row.cells[key].clients < k for key in hidden if key in row.cells
        )

    def covered() -> bool:
        cells = [row.cells[key] for key in unknown() if row.cells[key].clients > 0]
        return len(unknown()) >= 2 and any(cell.clients >= k for cell in cells)

    while needs_cover() and not covered():
        candidates = [
            (cell.clients < k, cell.clients, key)
            for key, cell in row.cells.items()
            if key not in row.suppressed and key not in hidden and cell.clients > 0
        ]
        if not candidates:
            # Everything is unknown: it is one group, the month's total population.
            break
        # Prefer the smallest cell that brings k people; failing that, the smallest.
        _, _, key = min(candidates)
        row.suppressed[key] = "complementary"
    return row


# --- Entry point -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the month after the last

    @property
    def months(self) -> list[dt.date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = _next_month(month)
        return months


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def period_of(first: dt.date, last: dt.date) -> Period:
    """Whole months from the month of ``first`` to the month of ``last``, both included."""
    start, end = first.replace(day=1), _next_month(last.replace(day=1))
    if start >= end:
        raise TrendsError("from", "The period must start before it ends.")
    if len(Period(start, end).months) > MAX_MONTHS:
        raise TrendsError("to", f"A period covers at most {MAX_MONTHS} months.")
    return Period(start, end)


@dataclass
class Trend:
    figure: Figure
    practice: Practice
    k: int
    period: Period
    by: str | None
    clinician: User | None
    groups: list[Group]
    rows: list[Row]


def trends_for(
    *,
    user: User,
    practice: Practice,
    figure: str,
    period: Period,
    by: str | None = None,
    clinician: User | None = None,
) -> Trend:
    """Figures of a practice for a supervisor of it. ``by`` breaks them down by one dimension;
    ``clinician`` narrows them to one supervisee (the same cells as that clinician's column of
    ``by=clinician``)."""
    if not has_role(user=user, role=Role.SUPERVISOR, practice=practice):
        raise PermissionDenied(NOT_A_SUPERVISOR)
    spec = FIGURES[figure]
    if clinician is not None and by is not None:
        raise TrendsError("by", "Narrow to one clinician or break down by a dimension, not both.")
    dimension = "clinician" if clinician is not None else by
    if dimension is not None and dimension not in spec.dimensions:
        raise TrendsError("by", f"{figure} breaks down by: {', '.join(spec.dimensions) or '—'}.")
    supervisees = list(supervisees_of(user=user, practice=practice).order_by("id"))
    if clinician is not None and clinician.pk not in {u.pk for u in supervisees}:
        raise TrendsError("clinician", "Per-clinician figures are for your supervisees only.")
    if dimension == "clinician" and not supervisees:
        raise TrendsError("by", "You have no supervisees in this practice.")

    grouping = spec.inherent or dimension
    groups = _groups(
        grouping,
        clinicians=supervisees,
        sessions_only=figure in ("rupture-rate", "measures"),
    )
    rows = _rows(spec, practice=practice, period=period, by=grouping, keys=[g.key for g in groups])
    visible = {g.key for g in groups}
    k = practice.min_cell_size
    for row in rows:
        # Cells the caller does not see (clinicians they do not supervise, episodes of no
        # group) still make up the total, so they are protected like suppressed ones.
        protect_row(row, k=k, hidden=frozenset(row.cells) - visible)
        for key in list(row.cells):
            if key not in visible:
                del row.cells[key]
                row.suppressed.pop(key, None)
    if clinician is not None:
        groups = [g for g in groups if g.key == str(clinician.pk)]
        for row in rows:
            row.cells = {key: c for key, c in row.cells.items() if key == str(clinician.pk)}
            row.suppressed = {
                key: r for key, r in row.suppressed.items() if key == str(clinician.pk)
            }
    return Trend(spec, practice, k, period, by, clinician, groups, rows)


def _params(practice: Practice, period: Period) -> dict[str, Any]:
    tz = zoneinfo.ZoneInfo(practice.timezone)
    return {
        "practice": practice.pk,
        "tz": practice.timezone,
        "start": period.start,
        "end": period.end,
        "start_at": dt.datetime.combine(period.start, dt.time(), tzinfo=tz),
        "end_at": dt.datetime.combine(period.end, dt.time(), tzinfo=tz),
    }


def _rows(
    spec: Figure, *, practice: Practice, period: Period, by: str | None, keys: list[str]
) -> list[Row]:
    """One row a month; a cell for every group found, and a zero cell for every group asked
    for and not found."""
    params = _params(practice, period)
    with connection.cursor() as cursor:
        cursor.execute(_query(spec, by), params)
        columns = [column.name for column in cursor.description]
        results = [dict(zip(columns, record, strict=True)) for record in cursor.fetchall()]

    empty: dict[str, Any] = dict.fromkeys(columns)
    by_month: dict[dt.date, dict[str | None, dict[str, Any]]] = {}
    for result in results:
        # A cell of no group (an episode without markers, say) is kept, hidden, under NO_GROUP.
        key = TOTAL if result["is_total"] else (result["grp"] or NO_GROUP)
        by_month.setdefault(result["month"], {})[key] = result

    def cell(result: dict[str, Any]) -> Cell:
        clean = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in result.items()}
        return Cell(
            values=spec.compute(clean),
            populations=tuple(int(clean[p] or 0) for p in spec.populations),
        )

    rows = []
    for month in period.months:
        found = by_month.get(month, {})
        total = cell(found.get(TOTAL, empty))
        if by is None:
            rows.append(Row(month, total, {}))
            continue
        results_by_group = {key: r for key, r in found.items() if key is not TOTAL}
        for key in keys:
            results_by_group.setdefault(key, empty)
        if spec.name == "rupture-rate" and by not in ("clinician", "modality"):
            # Kind and relationship split the episodes, not the sessions they are a rate of.
            month_total = found.get(TOTAL, empty)
            results_by_group = {
                key: {
                    **r,
                    "sessions": month_total["sessions"],
                    "session_clients": month_total["session_clients"],
                }
                for key, r in results_by_group.items()
                if key != "all"
            }
        cells = {str(key): cell(result) for key, result in results_by_group.items()}
        rows.append(Row(month, total, cells))
    return rows
