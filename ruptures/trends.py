"""Supervisor trends: figures of rupture and repair read from the frozen monthly releases.

Every number here is post-processing of the noisy measurements a release stored
(``ruptures.releases``): sums of noisy counts, ratios of noisy sums, with their noise carried
along, so answering spends no privacy and reads nothing but releases. A month that has no
release yet (the current one among them) is never shown; quarters and rolling twelve months
are sums of monthly releases.

Each published value carries a 90 % interval:
- a count: its noisy value ± 1.645 standard deviations of its noise (the noise is Gaussian,
  of the standard deviation OpenDP reports);
- a share, rate or mean: the ratio of two noisy sums, bounded by the ratios of their 95 %
  intervals; both hold together at least 90 % of the time (Bonferroni), whatever the
  correlation between the two.
A ratio whose noisy denominator could be zero within its interval is "too few to show": the
decision reads only noisy values, so it reveals nothing the release did not.

Nothing identifying leaves: no client ids or codes, no names of clients, no text, no dates
finer than a month. Clinicians appear (by id and name) only to their supervisors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from cases.choices import Modality, Role
from cases.models import Practice, User
from cases.selectors import has_role, practices_where, supervisees_of
from ruptures import releases
from ruptures.choices import (
    Factor,
    Initiator,
    Marker,
    Moment,
    Relationship,
    RuptureKind,
    Strategy,
)
from ruptures.models import TrendRelease

MAX_MONTHS = 36
DEFAULT_MONTHS = 12
INTERVAL_LEVEL = 0.9
Z_COUNT = 1.6448536269514722  # two-sided 90 %
Z_PART = 1.959963984540054  # two-sided 95 % for each part of a ratio (Bonferroni: ≥ 90 %)
GRAINS = ("month", "quarter", "rolling_12")

NOT_A_SUPERVISOR = "Only the practice's supervisors read its trends."
NOT_YOUR_PRACTICE = "Not a practice where you supervise."
SEVERAL_PRACTICES = "You supervise in several practices: say which one."
NOT_A_SUPERVISEE = "Not one of your supervisees."
NO_SUPERVISEES = "You have no supervisees in this practice."
BOTH_CLINICIAN_AND_BY = "Narrow to one clinician or break down by a dimension, not both."
PERIOD_BACKWARDS = "The period must start before it ends."
PERIOD_TOO_LONG = f"A period covers at most {MAX_MONTHS} months."


class TrendsError(ValueError):
    """A request for figures that cannot be answered as asked (the API answers 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- Noisy arithmetic --------------------------------------------------------------------------


@dataclass(frozen=True)
class Noisy:
    """A sum of noisy released values and the variance of its noise."""

    value: float = 0.0
    variance: float = 0.0

    def __add__(self, other: Noisy) -> Noisy:
        return Noisy(self.value + other.value, self.variance + other.variance)

    def interval(self, z: float) -> tuple[float, float]:
        half = z * math.sqrt(self.variance)
        return self.value - half, self.value + half


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    too_few_to_show: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "too_few_to_show": self.too_few_to_show,
        }


TOO_FEW = Estimate(None, None, None, too_few_to_show=True)


def _count_interval(n: Noisy, z: float) -> tuple[float, float]:
    """The interval of a count, which is never negative. The ends are clamped at 0, and the
    upper end is kept at least ``z`` standard deviations above 0, so that a very negative
    noisy value reads "between 0 and a few noise widths", never a falsely exact [0, 0]. Both
    only widen the interval: it holds the true count at least as often as before."""
    low, high = n.interval(z)
    return max(0.0, low), max(high, z * math.sqrt(n.variance))


def count_estimate(n: Noisy) -> Estimate:
    low, high = _count_interval(n, Z_COUNT)
    return Estimate(float(max(0, round(n.value))), round(low, 1), round(high, 1))


def ratio_estimate(
    numerator: Noisy,
    denominator: Noisy,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
    bounds: tuple[float, float] = (0.0, 1.0),
    places: int = 3,
    counted: bool = True,
) -> Estimate:
    """``offset + scale × numerator / denominator``, clamped to ``bounds``. ``counted``: the
    numerator is a count (never negative), not a centred sum."""
    d_low, d_high = _count_interval(denominator, Z_PART)
    if d_low <= 0 or denominator.value <= 0:
        return TOO_FEW
    if counted:
        n_low, n_high = _count_interval(numerator, Z_PART)
    else:
        n_low, n_high = numerator.interval(Z_PART)
    low = n_low / d_high if n_low >= 0 else n_low / d_low
    high = n_high / d_low if n_high >= 0 else n_high / d_high

    def shown(x: float) -> float:
        return round(min(max(offset + scale * x, bounds[0]), bounds[1]), places)

    return Estimate(shown(numerator.value / denominator.value), shown(low), shown(high))


# --- Reading a release -------------------------------------------------------------------------


class Month:
    """One release, readable by measurement and keys."""

    def __init__(self, release: TrendRelease) -> None:
        self.release = release
        self.month: dt.date = release.month
        self._measurements: dict[str, Any] = release.measurements
        # (measurement, column) -> value -> cells: a clinician's cells without a scan of all.
        self._index: dict[tuple[str, str], dict[Any, list[dict[str, Any]]]] = {}

    def keys(self, measurement: str, column: str) -> set[str]:
        return {str(key) for key in self._by(measurement, column)}

    def _by(self, measurement: str, column: str) -> dict[Any, list[dict[str, Any]]]:
        index = self._index.get((measurement, column))
        if index is None:
            index = {}
            for cell in self._measurements[measurement]["cells"]:
                index.setdefault(cell[column], []).append(cell)
            self._index[(measurement, column)] = index
        return index

    def noisy(self, measurement: str, column: str = "len", **where: Any) -> Noisy:
        m = self._measurements[measurement]
        sd = m["scales"][column]
        cells: list[dict[str, Any]] = m["cells"]
        if where:
            (first, wanted), *rest = where.items()
            index = self._by(measurement, first)
            cells = [cell for value in _values(wanted) for cell in index.get(value, [])]
            cells = [c for c in cells if all(c.get(k) in _values(v) for k, v in rest)]
        return Noisy(sum(cell[column] or 0 for cell in cells), len(cells) * sd * sd)


def _values(wanted: Any) -> Iterable[Any]:
    return wanted if isinstance(wanted, (tuple, frozenset, set, list)) else (wanted,)


def _over(months: Iterable[Month], part: Callable[[Month], Noisy]) -> Noisy:
    total = Noisy()
    for month in months:
        total = total + part(month)
    return total


# --- Figures -----------------------------------------------------------------------------------

OUTCOME_LABELS = {
    "resolved": "Resolved",
    "unresolved": "Unresolved",
    "relationship_ended": "Relationship ended",
    "open": "Still open",
}
WITHIN_DAYS = {
    days: frozenset(band for band, _, last in releases.RESOLUTION_BANDS if last <= days)
    for days in (7, 30, 90)
}

Part = Callable[[Iterable[Month]], dict[str, Estimate]]


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    values: dict[str, str]  # value name -> what it means
    dimensions: tuple[str, ...]
    # (group key or None for the total) -> a function of the row's months -> its values
    compute: Callable[[str | None, str | None], Part]


def _where(by: str | None, key: str | None) -> dict[str, Any]:
    return {} if by is None or key is None else {by: key}


def _episodes(months: Iterable[Month], by: str | None, key: str | None, **extra: Any) -> Noisy:
    """Episodes of one group (or all), from the measurement taken by that dimension."""
    if by is None or key is None:
        return _over(months, lambda m: m.noisy("episodes", **extra))
    if by == "outcome":
        return _over(months, lambda m: m.noisy("episodes", outcome=key))
    return _over(months, lambda m: m.noisy(f"episodes_by_{by}", **{by: key}, **extra))


def _rupture_rate(by: str | None, key: str | None) -> Part:
    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        months = list(months)
        episodes = _episodes(months, by, key)
        if by in ("clinician", "modality") and key is not None:
            sessions = _over(months, lambda m: m.noisy(f"sessions_by_{by}", **{by: key}))
        else:
            sessions = _over(months, lambda m: m.noisy("sessions"))
        return {
            "rate": ratio_estimate(episodes, sessions, scale=100, bounds=(0, math.inf), places=1)
        }

    return part


def _episode_counts(by: str | None, key: str | None) -> Part:
    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        return {"episodes": count_estimate(_episodes(list(months), by, key))}

    return part


def _resolution(by: str | None, key: str | None) -> Part:
    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        months = list(months)
        everything = _episodes(months, by, key)
        out: dict[str, Estimate] = {
            f"share_{outcome}": ratio_estimate(
                _episodes(months, by, key, outcome=outcome), everything
            )
            for outcome in OUTCOME_LABELS
        }
        if by is None or key is None:
            # Time to resolution: a histogram of day bands, practice-wide.
            resolved = _over(months, lambda m: m.noisy("resolved_by_days"))
            for days, bands in WITHIN_DAYS.items():

                def within(m: Month, bands: frozenset[str] = bands) -> Noisy:
                    return m.noisy("resolved_by_days", days=bands)

                out[f"share_of_resolved_within_{days}_days"] = ratio_estimate(
                    _over(months, within), resolved
                )
        return out

    return part


def _repair_resolution(by: str | None, key: str | None) -> Part:
    name = "repairs" if by is None or key is None else f"repairs_by_{by}"
    where = _where(by, key)

    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        months = list(months)
        attempts = _over(months, lambda m: m.noisy(name, **where))
        resolved = _over(months, lambda m: m.noisy(name, outcome="resolved", **where))
        some = _over(
            months,
            lambda m: m.noisy(name, outcome=("resolved", "partly_resolved"), **where),
        )
        return {
            "share_resolved": ratio_estimate(resolved, attempts),
            "share_resolved_or_partly": ratio_estimate(some, attempts),
        }

    return part


def _mean(months: list[Month], name: str, column: str, where: dict[str, Any]) -> Estimate:
    centred = _over(months, lambda m: m.noisy(name, column, **where))
    n = _over(months, lambda m: m.noisy(name, **where))
    centre = releases.sum_centre(column)
    low, high = releases.CLAMPS[column]
    return ratio_estimate(
        centred,
        n,
        scale=1 / releases.MEASURE_SCALE,
        offset=centre / releases.MEASURE_SCALE,
        bounds=(low, high),
        places=1,
        counted=False,
    )


def _measures(by: str | None, key: str | None) -> Part:
    suffix = "" if by is None or key is None else f"_by_{by}"
    where = _where(by, key)

    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        months = list(months)
        rated = _over(months, lambda m: m.noisy(f"srs{suffix}", **where))
        below = _over(months, lambda m: m.noisy(f"srs{suffix}", "below_cutoff", **where))
        return {
            "mean_srs": _mean(months, f"srs{suffix}", "srs", where),
            "mean_ors": _mean(months, f"ors{suffix}", "ors", where),
            "share_below_srs_cutoff": ratio_estimate(below, rated),
        }

    return part


def _acknowledgement(by: str | None, key: str | None) -> Part:
    name = "signals" if by is None or key is None else f"signals_by_{by}"
    where = _where(by, key)

    def part(months: Iterable[Month]) -> dict[str, Estimate]:
        months = list(months)
        raised = _over(months, lambda m: m.noisy(name, **where))
        handled = _over(months, lambda m: m.noisy(name, acknowledged_in_7_days="yes", **where))
        return {"share_acknowledged_in_7_days": ratio_estimate(handled, raised)}

    return part


FIGURES: dict[str, Figure] = {
    figure.name: figure
    for figure in (
        Figure(
            name="rupture-rate",
            description="Rupture episodes detected per 100 attended sessions.",
            values={"rate": "rupture episodes per 100 attended sessions"},
            dimensions=("clinician", "modality", "relationship", "kind"),
            compute=_rupture_rate,
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
                "outcome",
                "clinician",
                "modality",
            ),
            compute=_episode_counts,
        ),
        Figure(
            name="resolution",
            description=(
                "Of the episodes detected in the period, the share in each outcome when the "
                "month was released, and how soon the resolved ones were resolved. Walking "
                "away (relationship ended) is an outcome of its own, not a failure."
            ),
            values={
                "share_resolved": "share of the episodes resolved (0–1)",
                "share_unresolved": "share of the episodes closed unresolved (0–1)",
                "share_relationship_ended": "share of the episodes closed as the relationship "
                "ended (0–1)",
                "share_open": "share of the episodes still open or being repaired (0–1)",
                "share_of_resolved_within_7_days": "of the resolved, the share resolved within "
                "7 days of detection (0–1; practice-wide rows only)",
                "share_of_resolved_within_30_days": "… within 30 days (0–1; practice-wide)",
                "share_of_resolved_within_90_days": "… within 90 days (0–1; practice-wide)",
            },
            dimensions=("clinician", "modality", "relationship", "kind"),
            compute=_resolution,
        ),
        Figure(
            name="repair-resolution",
            description=(
                "Of the repair attempts made in the period, the share that resolved the "
                "rupture, by strategy, by whether both people engaged, by who initiated."
            ),
            values={
                "share_resolved": "share of attempts that resolved (0–1)",
                "share_resolved_or_partly": "share of attempts that resolved or partly "
                "resolved (0–1)",
            },
            dimensions=("strategy", "both_engaged", "initiator", "clinician"),
            compute=_repair_resolution,
        ),
        Figure(
            name="measures",
            description=(
                "Mean SRS and ORS of the clients rated in the period (each client's month "
                "counts once, as the mean of their ratings), and the share of those client "
                "months whose mean SRS was below the practice's cutoff."
            ),
            values={
                "mean_srs": "mean of clients' monthly mean SRS totals (0–40)",
                "mean_ors": "mean of clients' monthly mean ORS totals (0–40)",
                "share_below_srs_cutoff": "share of rated client months below the SRS cutoff "
                "in force when the month was released (0–1)",
            },
            dimensions=("clinician", "modality"),
            compute=_measures,
        ),
        Figure(
            name="signal-acknowledgement",
            description="Share of rupture signals acknowledged within 7 days of being raised.",
            values={"share_acknowledged_in_7_days": "share of signals (0–1)"},
            dimensions=("clinician",),
            compute=_acknowledgement,
        ),
    )
}
# Clinician first: every figure breaks down by it (and the API schema lists it first).
DIMENSIONS = ["clinician"] + sorted(
    {d for figure in FIGURES.values() for d in figure.dimensions} - {"clinician"}
)


# --- Groups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    key: str
    label: str


_CHOICES: dict[str, Any] = {
    "relationship": Relationship,
    "moment": Moment,
    "marker": Marker,
    "factor": Factor,
    "strategy": Strategy,
    "initiator": Initiator,
}


def _groups(figure: Figure, dimension: str | None, *, clinicians: Iterable[User]) -> list[Group]:
    if dimension is None:
        return []
    if dimension == "clinician":
        return [Group(str(u.pk), u.get_full_name() or u.username) for u in clinicians]
    if dimension == "modality":
        groups = [Group(v, str(label)) for v, label in Modality.choices]
        if figure.name in ("episode-counts", "resolution"):
            groups.append(Group(releases.OUTSIDE_SESSION, "Outside a session"))
        return groups
    if dimension == "outcome":
        return [Group(k, v) for k, v in OUTCOME_LABELS.items()]
    if dimension == "both_engaged":
        return [Group("yes", "Both people engaged"), Group("no", "Not both")]
    if dimension == "kind":
        return [
            *(Group(v, str(label)) for v, label in RuptureKind.choices),
            Group(releases.NO_KIND, "No 3RS kind (outside therapy)"),
        ]
    return [Group(v, str(label)) for v, label in _CHOICES[dimension].choices]


# --- Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the month after the last

    @property
    def months(self) -> list[dt.date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = releases.next_month(month)
        return months

    @property
    def last(self) -> dt.date:
        return self.months[-1]


def period_of(first: dt.date, last: dt.date) -> Period:
    """Whole months from the month of ``first`` to the month of ``last``, both included."""
    start, end = first.replace(day=1), releases.next_month(last.replace(day=1))
    if start >= end:
        raise TrendsError("from", PERIOD_BACKWARDS)
    if len(Period(start, end).months) > MAX_MONTHS:
        raise TrendsError("to", PERIOD_TOO_LONG)
    return Period(start, end)


def default_period(practice: Practice) -> Period:
    """The last twelve released months (or an empty year before now, if none is)."""
    latest = (
        TrendRelease.objects.filter(practice=practice)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    last = latest or releases.months_before(dt.date.today().replace(day=1), 1)
    return period_of(releases.months_before(last, DEFAULT_MONTHS - 1), last)


def requested_period(
    *, practice: Practice, first: dt.date | None = None, last: dt.date | None = None
) -> Period:
    """The months asked for, either end left out taking its default: the last ends at the
    practice's last released month, the first is twelve months before the last."""
    if first is None and last is None:
        return default_period(practice)
    last = last or default_period(practice).last
    first = first or releases.months_before(last.replace(day=1), DEFAULT_MONTHS - 1)
    return period_of(first, last)


# --- Who reads which practice's figures ----------------------------------------------------------


def supervised_practice(*, user: User, practice_id: int | None = None) -> Practice:
    """The practice whose trends the supervisor asks for: the one named, or the only one
    where they supervise. A practice where they do not supervise reads like one that does not
    exist."""
    practices = practices_where(user=user, role=Role.SUPERVISOR)
    if practice_id is not None:
        chosen = practices.filter(pk=practice_id).first()
        if chosen is None:
            raise TrendsError("practice", NOT_YOUR_PRACTICE)
        return chosen
    found = list(practices[:2])
    if len(found) != 1:
        raise TrendsError("practice", SEVERAL_PRACTICES)
    return found[0]


def supervisee(*, user: User, practice: Practice, clinician_id: int) -> User:
    """One of the supervisor's supervisees in the practice; anyone else reads exactly like an
    id that does not exist."""
    found = supervisees_of(user=user, practice=practice).filter(pk=clinician_id).first()
    if found is None:
        raise TrendsError("clinician", NOT_A_SUPERVISEE)
    return found


# --- Rows --------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str  # "2026-09", "2026-Q3" or "2025-10/2026-09"
    months: list[dt.date]
    total: dict[str, Estimate]
    cells: dict[str, dict[str, Estimate]] = field(default_factory=dict)


def _row_spans(
    period: Period, grain: str, released: list[dt.date]
) -> list[tuple[str, list[dt.date]]]:
    """Which released months each row sums."""
    have = set(released)
    if grain == "month":
        return [(m.strftime("%Y-%m"), [m]) for m in period.months if m in have]
    if grain == "quarter":
        spans: dict[str, list[dt.date]] = {}
        for m in period.months:
            if m in have:
                spans.setdefault(f"{m.year}-Q{(m.month - 1) // 3 + 1}", []).append(m)
        return list(spans.items())
    rows = []
    for m in period.months:
        if m in have:
            span = [x for x in released if releases.months_before(m, 11) <= x <= m]
            rows.append((f"{releases.months_before(m, 11):%Y-%m}/{m:%Y-%m}", span))
    return rows


@dataclass
class Trend:
    figure: Figure
    practice: Practice
    period: Period
    grain: str
    by: str | None
    clinician: User | None
    groups: list[Group]
    rows: list[Row]
    releases: list[TrendRelease]


def trends_for(
    *,
    user: User,
    practice: Practice,
    figure: str,
    period: Period,
    by: str | None = None,
    clinician: User | None = None,
    grain: str = "month",
) -> Trend:
    """Figures of a practice for a supervisor of it, read from its releases. ``by`` breaks
    them down by one dimension; ``clinician`` narrows them to one supervisee (the same cells
    as that clinician's column of ``by=clinician``). The practice-wide figures are the same
    for every supervisor; per-clinician columns are shown to that clinician's supervisors."""
    if not has_role(user=user, role=Role.SUPERVISOR, practice=practice):
        raise PermissionDenied(NOT_A_SUPERVISOR)
    spec = FIGURES[figure]
    dimension = _dimension(spec, by=by, clinician=clinician, grain=grain)
    supervisees = _columns(user=user, practice=practice, dimension=dimension, clinician=clinician)

    # One query: every release the rows need (rolling years reach back eleven months).
    reach = releases.months_before(period.start, 11) if grain == "rolling_12" else period.start
    found = list(
        TrendRelease.objects.filter(
            practice=practice, month__gte=reach, month__lt=period.end
        ).order_by("month")
    )
    by_month = {r.month: Month(r) for r in found}
    groups = _groups(spec, dimension, clinicians=supervisees)
    rows = []
    for label, span in _row_spans(period, grain, sorted(by_month)):
        months = [by_month[m] for m in span]
        row = Row(label, span, spec.compute(None, None)(months))
        for group in groups:
            present = [m for m in months if _has_key(m, dimension, group.key)]
            if present:
                row.cells[group.key] = spec.compute(dimension, group.key)(present)
        rows.append(row)
    shown = {m for row in rows for m in row.months}
    return Trend(
        figure=spec,
        practice=practice,
        period=period,
        grain=grain,
        by=by,
        clinician=clinician,
        groups=groups,
        rows=rows,
        releases=[r for r in found if r.month in shown],
    )


def _dimension(spec: Figure, *, by: str | None, clinician: User | None, grain: str) -> str | None:
    """What the rows break down by, once the request's choices are checked."""
    if clinician is not None and by is not None:
        raise TrendsError("by", BOTH_CLINICIAN_AND_BY)
    dimension = "clinician" if clinician is not None else by
    if dimension is not None and dimension not in spec.dimensions:
        raise TrendsError("by", f"{spec.name} breaks down by: {', '.join(spec.dimensions)}.")
    if grain not in GRAINS:
        raise TrendsError("grain", f"grain is one of: {', '.join(GRAINS)}.")
    return dimension


def _columns(
    *, user: User, practice: Practice, dimension: str | None, clinician: User | None
) -> list[User]:
    """The clinicians whose columns this supervisor may see: their supervisees, or the one
    asked for."""
    supervisees = list(supervisees_of(user=user, practice=practice).order_by("id"))
    if clinician is not None and clinician.pk not in {u.pk for u in supervisees}:
        raise TrendsError("clinician", NOT_A_SUPERVISEE)
    if dimension == "clinician" and not supervisees:
        raise TrendsError("by", NO_SUPERVISEES)
    return [clinician] if clinician is not None else supervisees


def _has_key(month: Month, dimension: str | None, key: str) -> bool:
    """Clinicians are keys of a release only if they practised when it was made."""
    if dimension != "clinician":
        return True
    return key in month.keys("sessions_by_clinician", "clinician")
