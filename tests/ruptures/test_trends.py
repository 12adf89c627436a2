"""Supervisor trends: figures checked against a practice worked out by hand, and attacks on
the anonymisation (see ``ruptures.trends``)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.serializers.trends import trend_body
from cases.choices import Role
from ruptures import trends
from ruptures.trends import Cell, Row, protect_row
from tests.ruptures.trends_world import SEPTEMBER, build

pytestmark = pytest.mark.django_db

SEP = trends.period_of(SEPTEMBER, SEPTEMBER)


def body(world, figure, *, period=SEP, by=None, clinician=None) -> dict:
    return trend_body(
        trends.trends_for(
            user=world["sue"],
            practice=world["practice"],
            figure=figure,
            period=period,
            by=by,
            clinician=clinician,
        )
    )


def september(response) -> dict:
    (row,) = [row for row in response["rows"] if row["month"] == "2026-09"]
    return row


@pytest.fixture
def world():
    return build()


# --- Figures worked out by hand ----------------------------------------------------------------
# September 2026: 12 clients, 24 attended sessions, 12 episodes (a1–a5 therapist withdrawals in
# session with Ann, b1–b5 partner withdrawals, a6's sibling confrontation, b6's friend mixed
# rupture), k = 5.


def test_rupture_rate_by_hand(world):
    # 12 episodes / 24 sessions × 100
    assert september(body(world, "rupture-rate"))["total"] == {"rate": 50.0}
    by_kind = september(body(world, "rupture-rate", by="kind"))
    # confrontation (1) and mixed (1) together are still one person each: withdrawal (10/24,
    # 41.7) must go too, or the total would give their sum away
    assert by_kind["cells"] == {"withdrawal": None, "confrontation": None, "mixed": None}
    by_relationship = september(body(world, "rupture-rate", by="relationship"))["cells"]
    # therapist 5/24; partner (5) is the complement chosen for sibling and friend (1 each):
    # therapist and partner are equal, partner comes first by name
    assert by_relationship["therapist"] == {"rate": 20.8}
    assert by_relationship["parent"] == {"rate": 0.0}
    assert [by_relationship[key] for key in ("partner", "sibling", "friend")] == [None] * 3
    # Ann: a1–a5 in her sessions and a6 with her as primary: 6 / 12 of her sessions
    by_clinician = september(body(world, "rupture-rate", by="clinician"))["cells"]
    assert by_clinician == {str(world["ann"].pk): {"rate": 50.0}}


def test_episode_counts_by_hand(world):
    assert september(body(world, "episode-counts"))["total"] == {"episodes": 12}
    markers = september(body(world, "episode-counts", by="marker"))["cells"]
    assert markers["fine_against_tone"] == {"episodes": 5}
    assert markers["emotional_walls"] is None  # a6 alone
    assert markers["stopped_sharing"] is None  # b6 alone
    assert markers["denial"] is None  # their complement
    assert markers["minimal_response"] == {"episodes": 0}
    factors = september(body(world, "episode-counts", by="factor"))
    assert factors["total"] == {"episodes": 12}  # episodes without a factor still count
    assert factors["cells"]["stress"] == {"episodes": 5}
    modality = september(body(world, "episode-counts", by="modality"))["cells"]
    assert modality["individual"] == {"episodes": 5}
    assert modality["outside_session"] == {"episodes": 7}


def test_resolution_by_hand(world):
    # a1–a3 resolved after 4, 6 and 10 days: 3 of 12, median 6
    total = september(body(world, "resolution"))["total"]
    assert total == {"share_resolved": 0.25, "median_days_to_resolution": 6.0}
    ann = september(body(world, "resolution", by="clinician"))["cells"][str(world["ann"].pk)]
    assert ann == {"share_resolved": 0.5, "median_days_to_resolution": 6.0}  # 3 of Ann's 6


def test_measures_by_hand(world):
    # SRS 38, 38, 38, 38, 34, 30 and 36: mean 36.0, two of seven below the cutoff of 36
    assert september(body(world, "measures"))["total"] == {
        "mean_srs": 36.0,
        "mean_ors": None,
        "share_below_srs_cutoff": 0.286,
    }
    # Ann's six would read 36.0 and 0.333, but Bo's one rated client would then be the total
    # minus Ann: Ann's cell is the complement that protects him.
    response = body(world, "measures", by="clinician")
    assert september(response)["cells"] == {str(world["ann"].pk): None}
    assert response["suppressed"] == [
        {"month": "2026-09", "group": str(world["ann"].pk), "reason": "complementary"}
    ]


def test_signal_acknowledgement_by_hand(world):
    # five signals; handled after 2, 3, 7 and 9 days, one not at all: 3 of 5 within 7 days
    assert september(body(world, "signal-acknowledgement"))["total"] == {
        "share_acknowledged_in_7_days": 0.6
    }


def test_strategy_resolution_suppresses_below_k(world):
    response = body(world, "strategy-resolution")
    # three attempts, by three clients, all with one strategy: fewer than k = 5
    row = september(response)
    assert row["cells"]["acknowledge_own_contribution"] is None
    assert row["total"] is None
    assert {"month": "2026-09", "group": None, "reason": "fewer_than_k"} in response["suppressed"]


def test_every_response_states_k_period_and_suppressed_cells(world):
    response = body(world, "rupture-rate", by="kind")

    assert response["k"] == 5
    assert response["period"] == {"from": "2026-09", "to": "2026-09"}
    assert response["suppressed"] == [
        {"month": "2026-09", "group": "withdrawal", "reason": "complementary"},
        {"month": "2026-09", "group": "confrontation", "reason": "fewer_than_k"},
        {"month": "2026-09", "group": "mixed", "reason": "fewer_than_k"},
    ]


# --- Attacks -----------------------------------------------------------------------------------

PERIODS = [
    trends.period_of(dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    trends.period_of(dt.date(2026, 8, 1), dt.date(2026, 9, 1)),
    trends.period_of(dt.date(2026, 9, 1), dt.date(2026, 10, 1)),
    trends.period_of(dt.date(2026, 7, 1), dt.date(2026, 11, 1)),
]


def every_answer(world) -> list:
    """Every query the API allows a supervisor, normalised so two practices compare."""
    ann = world["ann"]
    answers = []
    for figure, spec in trends.FIGURES.items():
        for period in PERIODS:
            queries = [{}] + [{"by": by} for by in spec.dimensions]
            if "clinician" in spec.dimensions:
                queries.append({"clinician": ann})
            for query in queries:
                response = body(world, figure, period=period, **query)
                text = json.dumps({**response, "practice": None, "clinician": None})
                label = ann.get_full_name() or ann.username
                text = text.replace(f'"{label}"', '"<name>"').replace(f'"{ann.pk}"', '"<id>"')
                answers.append(((figure, period, tuple(query)), text))
    return answers


def test_whose_rare_properties_they_are_cannot_be_derived():
    """a6 (Ann's) is the only couple, with the only sibling rupture, the only confrontation
    and the only 'emotional walls'; b6 (Bo's) the only family, friend, mixed and 'stopped
    sharing'. The twin practice swaps them. Every query a supervisor of Ann may make,
    practice-wide and per clinician, over overlapping periods, answers the same in both: no
    answer or combination of answers tells which client has which property."""
    original = every_answer(build(suffix=""))
    twin = every_answer(build(twin=True, suffix="-twin"))

    assert len(original) == len(twin) > 100
    differing = [key for (key, a), (_, b) in zip(original, twin, strict=True) if a != b]
    assert differing == []


def test_a_months_figures_are_the_same_in_every_period_that_includes_it(world):
    for figure, spec in trends.FIGURES.items():
        for by in (None, *spec.dimensions):
            rows = [september(body(world, figure, period=p, by=by)) for p in PERIODS]
            assert all(row == rows[0] for row in rows), (figure, by)


def test_per_clinician_figures_are_the_column_of_the_clinician_breakdown(world):
    ann = str(world["ann"].pk)
    for figure, spec in trends.FIGURES.items():
        if "clinician" not in spec.dimensions:
            continue
        alone = september(body(world, figure, clinician=world["ann"]))
        column = september(body(world, figure, by="clinician"))
        assert alone["cells"] == {ann: column["cells"][ann]}


def test_answers_hold_nothing_identifying(world):
    answers = "\n".join(text for _, text in every_answer(world))
    clients = world["a"] + world["b"]

    for client in clients:
        for value in (client.code, client.name, client.email, client.phone):
            assert not value or value not in answers
        assert f'"{client.pk}"' not in answers
        assert f": {client.pk}," not in answers or client.pk in (0, 1, 2, 5)
    for episode in world["rare"].values():
        assert not episode.description or episode.description not in answers
    assert not re.search(r"\d{4}-\d{2}-\d{2}", answers)  # months only
    assert '"client' not in answers and "date_of_birth" not in answers


def test_clinicians_and_practice_admins_get_no_trends(world):
    from cases import services
    from tests.factories import UserFactory

    admin = UserFactory()
    services.membership_grant(practice=world["practice"], user=admin, role=Role.PRACTICE_ADMIN)
    for user in (world["ann"], admin):
        with pytest.raises(PermissionDenied):
            trends.trends_for(user=user, practice=world["practice"], figure="measures", period=SEP)


def test_per_clinician_figures_only_for_supervisees(world):
    with pytest.raises(trends.TrendsError):
        body(world, "rupture-rate", clinician=world["bo"])


# --- Property: every published cell is 0 or ≥ k, every suppressed cell is protected --------

cells = st.dictionaries(
    keys=st.sampled_from([f"g{n}" for n in range(8)]),
    values=st.integers(min_value=0, max_value=40),
    min_size=1,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations=cells, k=st.integers(min_value=5, max_value=15), data=st.data())
def test_protection_property(populations, k, data):
    hidden = frozenset(
        data.draw(st.sets(st.sampled_from(sorted(populations)), max_size=len(populations) - 1))
    )
    total = sum(populations.values())
    row = Row(
        dt.date(2026, 1, 1),
        Cell({}, (total,)),
        {key: Cell({"n": n}, (n,)) for key, n in populations.items()},
    )

    protect_row(row, k=k, hidden=hidden)

    published = [key for key in row.cells if key not in row.suppressed and key not in hidden]
    # every published cell is 0 or at least k
    assert all(populations[key] == 0 or populations[key] >= k for key in published)
    unknown = [key for key in row.cells if key in row.suppressed or key in hidden]
    at_risk = [key for key in unknown if 0 < populations[key] < k]
    if at_risk and not row.total_suppressed:
        # the row's unknown part is either two or more cells with one of k or more people,
        # or the whole row (then it is the total, itself published only when ≥ k)
        protected = len(unknown) >= 2 and any(populations[key] >= k for key in unknown)
        everything = not published or all(populations[key] == 0 for key in published)
        assert protected or (everything and (total == 0 or total >= k))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=4), min_size=3, max_size=3),
    rare=st.sampled_from(["sibling", "friend", "doctor", "manager"]),
)
def test_random_practices_publish_only_safe_cells(sizes, rare):
    """Random practices through the real queries: every published cell of every figure and
    dimension comes from 0 or at least k clients."""
    from django.db import transaction

    with transaction.atomic():
        world = build(suffix=f"-{sizes}-{rare}")
        _vary(world, sizes, rare)
        k = world["practice"].min_cell_size
        for figure, spec in trends.FIGURES.items():
            for by in (None, *spec.dimensions):
                trend = trends.trends_for(
                    user=world["sue"],
                    practice=world["practice"],
                    figure=figure,
                    period=SEP,
                    by=by,
                )
                for row in trend.rows:
                    if not row.total_suppressed:
                        assert not row.total.too_small(k)
                    for key, cell in row.cells.items():
                        if key not in row.suppressed:
                            assert not cell.too_small(k), (figure, by, key)
        transaction.set_rollback(True)


def _vary(world, sizes, rare):
    """Add a few more episodes of a rare relationship to random clients."""
    from tests.factories import RuptureEpisodeFactory

    people = world["a"] + world["b"]
    for person, count in zip(itertools.cycle(people), sizes, strict=False):
        for _ in range(count):
            RuptureEpisodeFactory(
                client=person,
                relationship=rare,
                detected_on=dt.date(2026, 9, 20),
                markers=["disengagement"],
            )
