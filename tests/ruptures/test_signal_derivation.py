"""The five signal rules of DESIGN.md with the practice's thresholds. Signals are raised by the
server: recording a measure derives its rules (``ruptures.services.measure_record``),
opening an episode derives the repeated-rupture rule, and ``signals_derive`` sweeps them all."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_UP, Decimal

import pytest
from django.utils import timezone

from cases import services as cases_services
from cases.choices import Attendance, Modality, Respondent, Setting
from cases.models import (
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    Practice,
    SessionRatingScale,
    TherapySession,
    WorkingAllianceInventory,
)
from ruptures import services
from ruptures.choices import (
    Direction,
    EpisodeSource,
    Initiator,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    SignalRule,
    SignalStatus,
)
from ruptures.models import RuptureSignal

TODAY = timezone.localdate()


def _session(client, clinician, days_ago: int) -> TherapySession:
    return cases_services.session_create(
        client=client,
        clinician=clinician,
        starts_at=timezone.now() - dt.timedelta(days=days_ago),
        duration_minutes=50,
        modality=Modality.INDIVIDUAL,
        setting=Setting.IN_PERSON,
        attendance=Attendance.ATTENDED,
    )


def _four_items(total: str) -> list[Decimal]:
    """Four 0–10 items, one decimal each, that add up to ``total``."""
    whole = Decimal(total)
    item = (whole / 4).quantize(Decimal("0.1"), rounding=ROUND_UP)
    return [item, item, item, whole - 3 * item]


def _srs(client, clinician, total: str, days_ago: int = 7) -> TherapySession:
    session = _session(client, clinician, days_ago)
    items = dict(
        zip(
            ["relationship", "goals_and_topics", "approach_or_method", "overall"],
            _four_items(total),
            strict=True,
        )
    )
    measure = services.measure_record(
        measure_model=SessionRatingScale, session=session, recorded_by=clinician, **items
    )
    assert measure.total == Decimal(total)
    return session


def _ors(client, clinician, total: str, days_ago: int = 7) -> TherapySession:
    session = _session(client, clinician, days_ago)
    items = dict(
        zip(
            ["individually", "interpersonally", "socially", "overall"],
            _four_items(total),
            strict=True,
        )
    )
    services.measure_record(
        measure_model=OutcomeRatingScale, session=session, recorded_by=clinician, **items
    )
    return session


def _psq(session, clinician, respondent=Respondent.CLIENT, **answers) -> None:
    services.measure_record(
        measure_model=PostSessionQuestionnaire,
        session=session,
        recorded_by=clinician,
        respondent=respondent,
        **answers,
    )


def _episode(client, clinician, days_ago: int, relationship=Relationship.PARTNER):
    return services.episode_open(
        client=client,
        created_by=clinician,
        relationship=relationship,
        direction=Direction.CLIENT,
        kind=RuptureKind.WITHDRAWAL,
        moment=Moment.REPEATED_MISUNDERSTANDING,
        intensity=3,
        detected_on=TODAY - dt.timedelta(days=days_ago),
        source=EpisodeSource.CLIENT_REPORTED,
    )


def _signals(rule: str, **filters) -> list[RuptureSignal]:
    return list(RuptureSignal.objects.filter(rule=rule, **filters).order_by("id"))


def _set(practice: Practice, **settings) -> None:
    Practice.objects.filter(pk=practice.pk).update(**settings)


# --- SRS ------------------------------------------------------------------------------------------


def test_srs_below_the_cutoff_raises_a_signal(client, clinician):
    session = _srs(client, clinician, "35.9")
    [signal] = _signals(SignalRule.SRS_ALERT)
    assert (signal.client, signal.session, signal.status) == (client, session, SignalStatus.OPEN)
    assert signal.practice_id == client.practice_id
    assert signal.detail == {
        "srs_total": 35.9,
        "previous_srs_total": None,
        "cutoff": 36.0,
        "min_drop": 1.0,
    }


def test_srs_at_the_cutoff_raises_nothing(client, clinician):
    _srs(client, clinician, "36.0")
    assert _signals(SignalRule.SRS_ALERT) == []


def test_srs_drop_raises_a_signal_even_above_the_cutoff(client, clinician):
    _srs(client, clinician, "39.5", days_ago=14)
    dropped = _srs(client, clinician, "38.5", days_ago=7)
    [signal] = _signals(SignalRule.SRS_ALERT)
    assert signal.session == dropped
    assert signal.detail["previous_srs_total"] == 39.5


def test_srs_rise_above_the_cutoff_raises_nothing(client, clinician):
    _srs(client, clinician, "37.0", days_ago=14)
    _srs(client, clinician, "38.0", days_ago=7)
    assert _signals(SignalRule.SRS_ALERT) == []


def test_previous_srs_is_the_previous_session_not_the_previous_entry(client, clinician):
    later = _srs(client, clinician, "38.0", days_ago=7)
    assert _signals(SignalRule.SRS_ALERT) == []
    # Entered late, the earlier session's higher SRS makes the later one a drop.
    _srs(client, clinician, "39.0", days_ago=14)
    [signal] = _signals(SignalRule.SRS_ALERT)
    assert signal.session == later


def test_previous_srs_is_the_same_clients(client, other_client, clinician, other_clinician):
    _srs(other_client, other_clinician, "40.0", days_ago=14)
    _srs(client, clinician, "38.0", days_ago=7)
    assert _signals(SignalRule.SRS_ALERT) == []


@pytest.mark.parametrize(("cutoff", "raised"), [("33.0", False), ("33.1", True), ("30", False)])
def test_srs_cutoff_is_the_practices(practice, client, clinician, cutoff, raised):
    _set(practice, srs_cutoff=Decimal(cutoff))
    _srs(client, clinician, "33.0")
    assert bool(_signals(SignalRule.SRS_ALERT)) is raised


def test_changing_the_cutoff_changes_what_a_sweep_raises(practice, client, clinician):
    _srs(client, clinician, "34.0")
    RuptureSignal.objects.all().delete()
    _set(practice, srs_cutoff=Decimal("30.0"))
    assert services.signals_derive(practice=practice) == 0
    _set(practice, srs_cutoff=Decimal("34.5"))
    assert services.signals_derive(practice=practice) == 1


# --- PSQ ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "raised"),
    [
        ({"rupture_experienced": True, "tension": 3, "resolution": 3}, True),
        ({"rupture_experienced": True, "tension": 5, "resolution": 1}, True),
        ({"rupture_experienced": True, "tension": 2, "resolution": 1}, False),
        ({"rupture_experienced": True, "tension": 5, "resolution": 4}, False),
        ({"rupture_experienced": False}, False),
    ],
)
def test_psq_rupture_with_tension_and_little_resolution_raises(session, clinician, answers, raised):
    _psq(session, clinician, **answers)
    signals = _signals(SignalRule.PSQ_RUPTURE)
    assert bool(signals) is raised
    if raised:
        assert signals[0].session == session
        assert signals[0].detail["tension"] == answers["tension"]


def test_psq_from_client_and_therapist_raise_one_signal_each(session, clinician):
    rupture = {"rupture_experienced": True, "tension": 4, "resolution": 2}
    _psq(session, clinician, Respondent.CLIENT, **rupture)
    _psq(session, clinician, Respondent.THERAPIST, **rupture)
    signals = _signals(SignalRule.PSQ_RUPTURE)
    assert [s.detail["respondent"] for s in signals] == ["client", "therapist"]


# --- ORS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("second", "raised"), [("25.0", True), ("25.1", False), ("31.0", False)])
def test_ors_reliable_deterioration_raises(client, clinician, second, raised):
    _ors(client, clinician, "30.0", days_ago=14)
    later = _ors(client, clinician, second, days_ago=7)
    signals = _signals(SignalRule.ORS_DETERIORATION)
    assert [s.session for s in signals] == ([later] if raised else [])


def test_first_ors_raises_nothing_however_low(client, clinician):
    _ors(client, clinician, "2.0")
    assert _signals(SignalRule.ORS_DETERIORATION) == []


def test_ors_reliable_change_is_the_practices(practice, client, clinician):
    _set(practice, ors_reliable_change=Decimal("3.0"))
    _ors(client, clinician, "30.0", days_ago=14)
    _ors(client, clinician, "27.0", days_ago=7)
    [signal] = _signals(SignalRule.ORS_DETERIORATION)
    assert signal.detail == {
        "ors_total": 27.0,
        "previous_ors_total": 30.0,
        "reliable_change": 3.0,
    }


def test_measures_without_a_rule_raise_nothing(session, clinician):
    services.measure_record(
        measure_model=WorkingAllianceInventory,
        session=session,
        recorded_by=clinician,
        **{f"item_{n}": 1 for n in range(1, 13)},
    )
    assert not RuptureSignal.objects.exists()


# --- Repeated ruptures ----------------------------------------------------------------------------


def test_third_rupture_of_a_relationship_within_90_days_raises(client, clinician):
    _episode(client, clinician, days_ago=80)
    _episode(client, clinician, days_ago=40)
    assert _signals(SignalRule.REPEATED_RUPTURE) == []
    third = _episode(client, clinician, days_ago=1)
    [signal] = _signals(SignalRule.REPEATED_RUPTURE)
    assert signal.episode == third
    assert signal.detail == {
        "relationship": "partner",
        "episodes_in_window": 3,
        "window_days": 90,
    }


def test_three_ruptures_spread_over_more_than_90_days_raise_nothing(client, clinician):
    _episode(client, clinician, days_ago=200)
    _episode(client, clinician, days_ago=120)
    _episode(client, clinician, days_ago=30)
    assert _signals(SignalRule.REPEATED_RUPTURE) == []


def test_ruptures_of_different_relationships_are_not_counted_together(client, clinician):
    _episode(client, clinician, days_ago=30, relationship=Relationship.PARTNER)
    _episode(client, clinician, days_ago=20, relationship=Relationship.MANAGER)
    _episode(client, clinician, days_ago=10, relationship=Relationship.PARENT)
    assert _signals(SignalRule.REPEATED_RUPTURE) == []


def test_ruptures_of_other_clients_are_not_counted(
    client, other_client, clinician, other_clinician
):
    _episode(other_client, other_clinician, days_ago=30)
    _episode(other_client, other_clinician, days_ago=20)
    _episode(client, clinician, days_ago=10)
    assert _signals(SignalRule.REPEATED_RUPTURE) == []


def test_repeat_count_and_window_are_the_practices(practice, client, clinician):
    _set(practice, repeat_rupture_count=2, repeat_rupture_window_days=10)
    _episode(client, clinician, days_ago=30)
    _episode(client, clinician, days_ago=15)
    assert _signals(SignalRule.REPEATED_RUPTURE) == []
    second_in_window = _episode(client, clinician, days_ago=6)
    assert [s.episode for s in _signals(SignalRule.REPEATED_RUPTURE)] == [second_in_window]


# --- Unrepaired episodes --------------------------------------------------------------------------


@pytest.mark.parametrize(("days_open", "raised"), [(31, True), (30, False)])
def test_episode_open_over_30_days_without_repair_raises(
    practice, client, clinician, days_open, raised
):
    episode = _episode(client, clinician, days_ago=40)
    services.signals_derive(practice=practice, today=episode.detected_on + dt.timedelta(days_open))
    signals = _signals(SignalRule.UNREPAIRED_EPISODE)
    assert [s.episode for s in signals] == ([episode] if raised else [])
    if raised:
        assert signals[0].detail == {"days_open": days_open}


def test_episode_with_a_repair_attempt_raises_nothing(practice, client, clinician):
    episode = _episode(client, clinician, days_ago=60)
    services.repair_attempt_record(
        episode=episode,
        recorded_by=clinician,
        attempted_on=episode.detected_on,
        initiator=Initiator.CLIENT,
        both_engaged=False,
        outcome=RepairOutcome.NOT_RESOLVED,
        resolution_rating=1,
    )
    assert services.signals_derive(practice=practice, today=TODAY) == 0
    assert _signals(SignalRule.UNREPAIRED_EPISODE) == []


def test_closed_episode_raises_nothing(practice, client, clinician):
    episode = _episode(client, clinician, days_ago=60)
    services.episode_end_relationship(episode=episode, user=clinician, on_date=TODAY)
    services.signals_derive(practice=practice, today=TODAY)
    assert _signals(SignalRule.UNREPAIRED_EPISODE) == []


def test_unrepaired_days_are_the_practices(practice, client, clinician):
    _set(practice, unrepaired_episode_days=5)
    episode = _episode(client, clinician, days_ago=6)
    services.signals_derive(practice=practice, today=TODAY)
    assert [s.episode for s in _signals(SignalRule.UNREPAIRED_EPISODE)] == [episode]


# --- Idempotence and scope ------------------------------------------------------------------------


def test_derivation_is_idempotent(practice, client, clinician):
    _srs(client, clinician, "30.0", days_ago=14)
    session = _srs(client, clinician, "29.0", days_ago=7)
    _psq(session, clinician, rupture_experienced=True, tension=4, resolution=1)
    for days in (80, 50, 45):
        _episode(client, clinician, days_ago=days)
    first = services.signals_derive(practice=practice, today=TODAY)
    assert first == 3  # the three episodes are open and unrepaired for over 30 days
    count = RuptureSignal.objects.count()
    assert services.signals_derive(practice=practice, today=TODAY) == 0
    assert services.signals_derive(practice=practice, client=client, today=TODAY) == 0
    assert RuptureSignal.objects.count() == count == 2 + 1 + 1 + 3


def test_handled_signal_is_not_raised_again(practice, client, clinician):
    _srs(client, clinician, "20.0")
    [signal] = _signals(SignalRule.SRS_ALERT)
    services.signal_dismiss(signal=signal, user=clinician, reason="Rated in a hurry.")
    assert services.signals_derive(practice=practice) == 0
    [again] = _signals(SignalRule.SRS_ALERT)
    assert (again.pk, again.status) == (signal.pk, SignalStatus.DISMISSED)


def test_derivation_stays_in_its_practice(
    practice, other_practice, client, foreign_client, clinician, foreign_clinician
):
    _srs(foreign_client, foreign_clinician, "10.0")
    RuptureSignal.objects.all().delete()
    assert services.signals_derive(practice=practice) == 0
    # A client of another practice named with this practice finds nothing either.
    assert services.signals_derive(practice=practice, client=foreign_client) == 0
    assert services.signals_derive(practice=other_practice) == 1
    assert RuptureSignal.objects.get().practice == other_practice


def test_derivation_for_one_client_leaves_the_others(
    practice, client, other_client, clinician, other_clinician
):
    _srs(client, clinician, "10.0")
    _srs(other_client, other_clinician, "10.0")
    RuptureSignal.objects.all().delete()
    assert services.signals_derive(practice=practice, client=client) == 1
    assert RuptureSignal.objects.get().client == client


def test_opening_an_episode_derives_only_the_repeated_rupture_rule(practice, client, clinician):
    episode = _episode(client, clinician, days_ago=90)
    assert _signals(SignalRule.UNREPAIRED_EPISODE) == []
    # The unrepaired rule waits for a sweep.
    assert services.signals_derive(practice=practice) == 1
    assert [s.episode for s in _signals(SignalRule.UNREPAIRED_EPISODE)] == [episode]
