"""A clinician on the care team acknowledges a signal by linking it to an episode of the same
client, or dismisses it with a reason; either way it is handled once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.errors import NOT_IN_CARE_TEAM
from cases.models import SessionRatingScale
from ruptures import errors, services
from ruptures.choices import (
    Direction,
    EpisodeSource,
    Moment,
    Relationship,
    RuptureKind,
    SignalRule,
    SignalStatus,
)
from ruptures.models import RuptureEpisode, RuptureSignal
from tests.factories import RuptureEpisodeFactory


@pytest.fixture
def signal(session, clinician) -> RuptureSignal:
    """The SRS alert a low SRS raises when it is recorded."""
    services.measure_record(
        measure_model=SessionRatingScale,
        session=session,
        recorded_by=clinician,
        relationship=Decimal("7"),
        goals_and_topics=Decimal("7"),
        approach_or_method=Decimal("7"),
        overall=Decimal("7"),
    )
    return RuptureSignal.objects.get(rule=SignalRule.SRS_ALERT, session=session)


@pytest.fixture
def episode(client, clinician) -> RuptureEpisode:
    return services.episode_open(
        client=client,
        created_by=clinician,
        relationship=Relationship.THERAPIST,
        direction=Direction.CLIENT,
        kind=RuptureKind.WITHDRAWAL,
        moment=Moment.OTHER,
        intensity=2,
        detected_on=timezone.localdate() - dt.timedelta(days=7),
        source=EpisodeSource.CLINICIAN_OBSERVED,
    )


def _fresh(signal: RuptureSignal) -> RuptureSignal:
    return RuptureSignal.objects.get(pk=signal.pk)


def test_acknowledge_links_the_signal_to_an_episode(signal, episode, clinician):
    services.signal_acknowledge(signal=signal, user=clinician, episode=episode)
    handled = _fresh(signal)
    assert handled.status == SignalStatus.ACKNOWLEDGED
    assert handled.linked_episode == episode
    assert handled.handled_by == clinician
    assert handled.handled_at is not None
    assert list(episode.acknowledged_signals.all()) == [handled]


def test_acknowledge_refuses_an_episode_of_another_client(signal, clinician, client):
    other = RuptureEpisodeFactory(client__practice=client.practice)
    with pytest.raises(ValidationError) as excinfo:
        services.signal_acknowledge(signal=signal, user=clinician, episode=other)
    assert excinfo.value.message_dict == {"episode": [errors.SIGNAL_EPISODE_OTHER_CLIENT]}
    assert _fresh(signal).status == SignalStatus.OPEN


def test_dismiss_records_the_reason(signal, clinician):
    services.signal_dismiss(signal=signal, user=clinician, reason="  Client had a migraine.  ")
    handled = _fresh(signal)
    assert handled.status == SignalStatus.DISMISSED
    assert handled.dismissal_reason == "Client had a migraine."
    assert handled.handled_by == clinician
    assert handled.linked_episode is None


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_dismiss_needs_a_reason(signal, clinician, reason):
    with pytest.raises(ValidationError) as excinfo:
        services.signal_dismiss(signal=signal, user=clinician, reason=reason)
    assert excinfo.value.message_dict == {"reason": [errors.DISMISSAL_NEEDS_REASON]}
    assert _fresh(signal).status == SignalStatus.OPEN


@pytest.mark.parametrize("first", ["acknowledge", "dismiss"])
@pytest.mark.parametrize("second", ["acknowledge", "dismiss"])
def test_handled_signal_cannot_be_handled_again(signal, episode, clinician, first, second):
    def handle(how: str) -> None:
        if how == "acknowledge":
            services.signal_acknowledge(signal=signal, user=clinician, episode=episode)
        else:
            services.signal_dismiss(signal=signal, user=clinician, reason="Not a rupture.")

    handle(first)
    with pytest.raises(ValidationError) as excinfo:
        handle(second)
    status = SignalStatus.ACKNOWLEDGED if first == "acknowledge" else SignalStatus.DISMISSED
    assert excinfo.value.messages == [errors.SIGNAL_HANDLED.format(status=status)]
    assert _fresh(signal).status == status


def test_handled_signal_is_refused_even_through_a_stale_copy(signal, episode, clinician):
    stale = _fresh(signal)
    services.signal_dismiss(signal=signal, user=clinician, reason="Not a rupture.")
    assert stale.status == SignalStatus.OPEN
    with pytest.raises(ValidationError) as excinfo:
        services.signal_acknowledge(signal=stale, user=clinician, episode=episode)
    assert excinfo.value.messages == [errors.SIGNAL_HANDLED.format(status="dismissed")]


@pytest.mark.parametrize("persona", ["other_clinician", "foreign_clinician", "supervisor"])
def test_signal_handling_refuses_someone_not_on_the_care_team(signal, request, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied) as excinfo:
        services.signal_dismiss(signal=signal, user=user, reason="Not mine to judge.")
    assert str(excinfo.value) == NOT_IN_CARE_TEAM
    assert _fresh(signal).status == SignalStatus.OPEN
