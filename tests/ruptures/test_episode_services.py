"""Rupture episodes and repair attempts, written through ruptures.services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.errors import NOT_IN_CARE_TEAM
from ruptures import errors, services
from ruptures.choices import (
    RELATIONAL_MOVES,
    RRS_STRATEGIES,
    Direction,
    EpisodeSource,
    EpisodeStatus,
    Factor,
    Initiator,
    Marker,
    MarkerScheme,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    Strategy,
)
from ruptures.models import RepairAttempt, RuptureEpisode
from tests.factories import TherapySessionFactory

TODAY = timezone.localdate()
DETECTED = TODAY - dt.timedelta(days=10)


def _open(client, user, **overrides) -> RuptureEpisode:
    fields = {
        "relationship": Relationship.THERAPIST,
        "direction": Direction.CLIENT,
        "kind": RuptureKind.WITHDRAWAL,
        "moment": Moment.VULNERABILITY_DISMISSED,
        "intensity": 3,
        "detected_on": DETECTED,
        "source": EpisodeSource.CLINICIAN_OBSERVED,
        "markers": [Marker.MINIMAL_RESPONSE],
    }
    return services.episode_open(client=client, created_by=user, **{**fields, **overrides})


def _repair(episode, user, **overrides) -> RepairAttempt:
    fields = {
        "attempted_on": DETECTED + dt.timedelta(days=1),
        "initiator": Initiator.THERAPIST,
        "both_engaged": True,
        "outcome": RepairOutcome.RESOLVED,
        "resolution_rating": 4,
        "strategies": [Strategy.INVITE_DISCUSSION],
    }
    return services.repair_attempt_record(
        episode=episode, recorded_by=user, **{**fields, **overrides}
    )


@pytest.fixture
def episode(client, clinician) -> RuptureEpisode:
    return _open(client, clinician)


@pytest.fixture
def partner_episode(client, clinician) -> RuptureEpisode:
    return _open(
        client,
        clinician,
        relationship=Relationship.PARTNER,
        direction=Direction.BOTH,
        moment=Moment.HOLLOW_AFFECTION,
        markers=[Marker.SURFACE_AFFECTION, Marker.FINE_AGAINST_TONE],
        factors=[Factor.STRESS, Factor.EXHAUSTION, Factor.STRESS],
    )


def _status(episode: RuptureEpisode) -> str:
    return RuptureEpisode.objects.values_list("status", flat=True).get(pk=episode.pk)


# --- Opening and editing -------------------------------------------------------------------------


def test_episode_open_stores_the_3rs_scheme_beside_3rs_markers(episode, client):
    assert episode.marker_schemes == [MarkerScheme.RRS_2015]
    episode.refresh_from_db()
    assert episode.marker_schemes == [MarkerScheme.RRS_2015]
    assert (episode.status, episode.closed_on) == (EpisodeStatus.OPEN, None)
    assert episode.practice_id == client.practice_id


def test_episode_open_takes_relational_signs_outside_therapy(partner_episode):
    assert partner_episode.marker_schemes == [MarkerScheme.RELATIONAL_SIGNS] * 2
    assert partner_episode.markers == sorted([Marker.SURFACE_AFFECTION, Marker.FINE_AGAINST_TONE])
    assert partner_episode.factors == [Factor.EXHAUSTION, Factor.STRESS]


@pytest.mark.parametrize(
    ("relationship", "kind", "markers", "wrong"),
    [
        pytest.param(
            Relationship.THERAPIST,
            RuptureKind.WITHDRAWAL,
            [Marker.DENIAL, Marker.COMPLAINTS_ABOUT_THERAPIST],
            [Marker.COMPLAINTS_ABOUT_THERAPIST],
            id="withdrawal-with-confrontation-marker",
        ),
        pytest.param(
            Relationship.THERAPIST,
            RuptureKind.CONFRONTATION,
            [Marker.SELF_CRITICISM],
            [Marker.SELF_CRITICISM],
            id="confrontation-with-withdrawal-marker",
        ),
    ],
)
def test_episode_open_refuses_3rs_markers_of_another_kind(
    client, clinician, relationship, kind, markers, wrong
):
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, relationship=relationship, kind=kind, markers=markers)
    expected = errors.MARKERS_WRONG_SCHEME.format(
        scheme=MarkerScheme.RRS_2015.label, kind=kind, markers=", ".join(wrong)
    )
    assert excinfo.value.message_dict == {"markers": [expected]}
    assert not RuptureEpisode.objects.exists()


def test_episode_open_refuses_3rs_markers_outside_therapy(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _open(
            client,
            clinician,
            relationship=Relationship.SIBLING,
            markers=[Marker.STOPPED_SHARING, Marker.MINIMAL_RESPONSE],
        )
    expected = errors.MARKERS_ALLIANCE_ONLY.format(
        relationship=Relationship.SIBLING, markers=Marker.MINIMAL_RESPONSE
    )
    assert excinfo.value.message_dict == {"markers": [expected]}
    assert not RuptureEpisode.objects.exists()


def test_episode_open_refuses_a_future_detection_date(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, detected_on=TODAY + dt.timedelta(days=1))
    assert excinfo.value.message_dict == {"detected_on": [errors.DATE_IN_FUTURE]}


def test_episode_open_accepts_today(client, clinician):
    assert _open(client, clinician, detected_on=TODAY).detected_on == TODAY


def test_episode_open_refuses_a_session_of_another_client(client, clinician, other_client):
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, session=TherapySessionFactory(client=other_client))
    assert excinfo.value.message_dict == {"session": [errors.SESSION_OTHER_CLIENT]}


@pytest.mark.parametrize("persona", ["other_clinician", "foreign_clinician", "supervisor"])
def test_episode_open_refuses_someone_not_on_the_care_team(client, request, persona):
    with pytest.raises(PermissionDenied) as excinfo:
        _open(client, request.getfixturevalue(persona))
    assert str(excinfo.value) == NOT_IN_CARE_TEAM


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"intensity": 6}, id="intensity"),
        pytest.param({"factors": ["boredom"]}, id="factor"),
        pytest.param({"moment": "bedtime"}, id="moment"),
    ],
)
def test_episode_open_refuses_invalid_fields(client, clinician, fields):
    with pytest.raises(ValidationError):
        _open(client, clinician, **fields)
    assert not RuptureEpisode.objects.exists()


def test_episode_update_edits_a_live_episode(episode, clinician):
    services.episode_update(
        episode=episode,
        user=clinician,
        kind=RuptureKind.MIXED,
        markers=[Marker.DENIAL, Marker.DEFENDS_SELF],
        intensity=4,
    )
    episode.refresh_from_db()
    assert (episode.kind, episode.intensity) == (RuptureKind.MIXED, 4)
    assert episode.markers == [Marker.DEFENDS_SELF, Marker.DENIAL]


def test_episode_update_refuses_changing_the_relationship(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_update(episode=episode, user=clinician, relationship="partner")
    assert set(excinfo.value.message_dict) == {"relationship"}


def test_episode_update_refuses_markers_that_no_longer_fit_the_kind(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_update(episode=episode, user=clinician, kind=RuptureKind.CONFRONTATION)
    assert excinfo.value.message_dict == {
        "markers": [
            errors.MARKERS_WRONG_SCHEME.format(
                scheme=MarkerScheme.RRS_2015.label,
                kind=RuptureKind.CONFRONTATION,
                markers=Marker.MINIMAL_RESPONSE,
            )
        ]
    }


def test_episode_update_refuses_a_closed_episode(episode, clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_update(episode=episode, user=clinician, intensity=1)
    assert excinfo.value.messages == [errors.EPISODE_CLOSED.format(status="unresolved")]


def test_episode_update_refuses_someone_not_on_the_care_team(episode, other_clinician):
    with pytest.raises(PermissionDenied):
        services.episode_update(episode=episode, user=other_clinician, intensity=1)


# --- Transitions ---------------------------------------------------------------------------------


def test_open_episode_cannot_be_resolved_without_repair(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_resolve(episode=episode, user=clinician)
    assert excinfo.value.messages == [errors.RESOLVE_NEEDS_REPAIR]
    assert _status(episode) == EpisodeStatus.OPEN


def test_repair_attempt_moves_an_open_episode_to_repairing(episode, clinician):
    attempt = _repair(episode, clinician)
    assert attempt.client_id == episode.client_id
    assert _status(episode) == EpisodeStatus.REPAIRING


def test_repairing_episode_can_be_resolved(episode, clinician):
    _repair(episode, clinician)
    resolved = services.episode_resolve(episode=episode, user=clinician)
    assert (resolved.status, resolved.closed_on) == (EpisodeStatus.RESOLVED, TODAY)


def test_episode_cannot_be_resolved_without_any_repair_attempt(episode, clinician):
    services.episode_start_repair(episode=episode, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_resolve(episode=episode, user=clinician)
    assert excinfo.value.messages == [errors.RESOLVE_NEEDS_REPAIR]


@pytest.mark.parametrize(
    "close",
    [
        services.episode_mark_unresolved,
        services.episode_end_relationship,
    ],
)
def test_open_episode_can_close_without_repair(episode, clinician, close):
    closed = close(episode=episode, user=clinician, on_date=DETECTED)
    assert closed.is_closed
    assert closed.closed_on == DETECTED


@pytest.mark.parametrize(
    "closed_status",
    [EpisodeStatus.RESOLVED, EpisodeStatus.UNRESOLVED, EpisodeStatus.RELATIONSHIP_ENDED],
)
def test_closed_episodes_are_final(episode, clinician, closed_status):
    _repair(episode, clinician)
    services.episode_transition(episode=episode, user=clinician, to_status=closed_status)
    for to_status in EpisodeStatus.values:
        with pytest.raises(ValidationError) as excinfo:
            services.episode_transition(episode=episode, user=clinician, to_status=to_status)
        assert excinfo.value.messages == [errors.EPISODE_CLOSED.format(status=closed_status)]
    assert _status(episode) == closed_status


@pytest.mark.parametrize(
    ("start", "to_status"),
    [
        (EpisodeStatus.REPAIRING, EpisodeStatus.OPEN),
        (EpisodeStatus.OPEN, EpisodeStatus.OPEN),
        (EpisodeStatus.REPAIRING, EpisodeStatus.REPAIRING),
        (EpisodeStatus.OPEN, "paused"),
    ],
)
def test_transition_not_in_the_table_is_refused(episode, clinician, start, to_status):
    if start == EpisodeStatus.REPAIRING:
        _repair(episode, clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_transition(episode=episode, user=clinician, to_status=to_status)
    assert excinfo.value.messages == [
        errors.TRANSITION_NOT_ALLOWED.format(old=start, new=to_status)
    ]


def test_closing_before_detection_is_refused(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_mark_unresolved(
            episode=episode, user=clinician, on_date=DETECTED - dt.timedelta(days=1)
        )
    assert excinfo.value.message_dict == {"closed_on": [errors.DATE_BEFORE_DETECTION]}
    assert _status(episode) == EpisodeStatus.OPEN


def test_closing_in_the_future_is_refused(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_end_relationship(
            episode=episode, user=clinician, on_date=TODAY + dt.timedelta(days=1)
        )
    assert excinfo.value.message_dict == {"closed_on": [errors.DATE_IN_FUTURE]}


def test_transition_refuses_someone_not_on_the_care_team(episode, other_clinician):
    with pytest.raises(PermissionDenied) as excinfo:
        services.episode_mark_unresolved(episode=episode, user=other_clinician)
    assert str(excinfo.value) == NOT_IN_CARE_TEAM


# --- Recurrences ---------------------------------------------------------------------------------


def test_recurrence_is_a_new_episode_linked_to_the_closed_one(partner_episode, clinician):
    services.episode_end_relationship(episode=partner_episode, user=clinician, on_date=TODAY)
    recurrence = services.episode_record_recurrence(
        episode=partner_episode, created_by=clinician, detected_on=TODAY, intensity=5
    )
    assert recurrence.pk != partner_episode.pk
    assert recurrence.recurrence_of == partner_episode
    assert partner_episode.recurrence == recurrence
    assert recurrence.status == EpisodeStatus.OPEN
    assert recurrence.relationship == partner_episode.relationship
    assert recurrence.markers == partner_episode.markers
    assert recurrence.intensity == 5


@pytest.mark.parametrize("status", [EpisodeStatus.OPEN, EpisodeStatus.REPAIRING])
def test_recurrence_is_refused_for_a_live_episode(episode, clinician, status):
    if status == EpisodeStatus.REPAIRING:
        _repair(episode, clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_record_recurrence(episode=episode, created_by=clinician, detected_on=TODAY)
    assert excinfo.value.messages == [errors.RECURRENCE_NEEDS_CLOSED.format(status=status)]
    assert RuptureEpisode.objects.count() == 1


def test_recurrence_is_recorded_once(episode, clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    services.episode_record_recurrence(episode=episode, created_by=clinician, detected_on=TODAY)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_record_recurrence(episode=episode, created_by=clinician, detected_on=TODAY)
    assert excinfo.value.messages == [errors.RECURRENCE_EXISTS]
    assert RuptureEpisode.objects.count() == 2


def test_recurrence_cannot_be_detected_before_the_episode(episode, clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_record_recurrence(
            episode=episode, created_by=clinician, detected_on=DETECTED - dt.timedelta(days=1)
        )
    assert excinfo.value.message_dict == {"detected_on": [errors.DATE_BEFORE_DETECTION]}


def test_recurrence_cannot_change_the_relationship(episode, clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_record_recurrence(
            episode=episode, created_by=clinician, detected_on=TODAY, relationship="partner"
        )
    assert set(excinfo.value.message_dict) == {"relationship"}


def test_recurrence_refuses_someone_not_on_the_care_team(episode, clinician, other_clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    with pytest.raises(PermissionDenied):
        services.episode_record_recurrence(
            episode=episode, created_by=other_clinician, detected_on=TODAY
        )


def test_episode_open_refuses_a_recurrence_of_a_live_episode(episode, client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, recurrence_of=episode)
    assert excinfo.value.messages == [
        errors.RECURRENCE_NEEDS_CLOSED.format(status=EpisodeStatus.OPEN)
    ]


def test_episode_open_refuses_a_recurrence_of_another_clients_episode(
    client, clinician, other_client, other_clinician
):
    theirs = _open(other_client, other_clinician)
    services.episode_mark_unresolved(episode=theirs, user=other_clinician)
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, recurrence_of=theirs)
    assert excinfo.value.message_dict["recurrence_of"] == [errors.RECURRENCE_OTHER_CLIENT]


# --- Repair attempts -----------------------------------------------------------------------------


def test_alliance_repair_takes_every_3rs_strategy(episode, clinician):
    attempt = _repair(episode, clinician, strategies=list(reversed(RRS_STRATEGIES)))
    assert attempt.strategies == sorted(RRS_STRATEGIES)


def test_relational_repair_takes_every_relational_move(partner_episode, clinician):
    attempt = _repair(
        partner_episode, clinician, strategies=list(RELATIONAL_MOVES), initiator=Initiator.BOTH
    )
    assert attempt.strategies == sorted(RELATIONAL_MOVES)
    assert attempt.initiator == Initiator.BOTH


def test_alliance_repair_refuses_relational_moves(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _repair(
            episode,
            clinician,
            strategies=[Strategy.VALIDATE_DEFENSIVE_POSTURE, Strategy.HARD_CONVERSATION],
        )
    assert excinfo.value.message_dict == {
        "strategies": [
            errors.STRATEGIES_WRONG_KIND.format(
                relationship=Relationship.THERAPIST, items=Strategy.HARD_CONVERSATION
            )
        ]
    }
    assert not RepairAttempt.objects.exists()
    assert _status(episode) == EpisodeStatus.OPEN


def test_relational_repair_refuses_3rs_strategies(partner_episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _repair(
            partner_episode,
            clinician,
            strategies=[Strategy.LINK_TO_ALLIANCE_PATTERNS, Strategy.ACTIVE_LISTENING],
        )
    assert excinfo.value.message_dict == {
        "strategies": [
            errors.STRATEGIES_WRONG_KIND.format(
                relationship=Relationship.PARTNER, items=Strategy.LINK_TO_ALLIANCE_PATTERNS
            )
        ]
    }


def test_repair_before_detection_is_refused(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _repair(episode, clinician, attempted_on=DETECTED - dt.timedelta(days=1))
    assert excinfo.value.message_dict == {"attempted_on": [errors.DATE_BEFORE_DETECTION]}


def test_repair_in_the_future_is_refused(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _repair(episode, clinician, attempted_on=TODAY + dt.timedelta(days=1))
    assert excinfo.value.message_dict == {"attempted_on": [errors.DATE_IN_FUTURE]}
    assert _status(episode) == EpisodeStatus.OPEN


def test_repair_refuses_a_session_of_another_client(episode, clinician, other_client):
    with pytest.raises(ValidationError) as excinfo:
        _repair(episode, clinician, session=TherapySessionFactory(client=other_client))
    assert excinfo.value.message_dict == {"session": [errors.SESSION_OTHER_CLIENT]}


def test_repair_of_a_closed_episode_is_refused(episode, clinician):
    services.episode_mark_unresolved(episode=episode, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        _repair(episode, clinician)
    assert excinfo.value.messages == [errors.EPISODE_CLOSED.format(status="unresolved")]


@pytest.mark.parametrize("persona", ["other_clinician", "foreign_clinician"])
def test_repair_refuses_someone_not_on_the_care_team(episode, request, persona):
    with pytest.raises(PermissionDenied) as excinfo:
        _repair(episode, request.getfixturevalue(persona))
    assert str(excinfo.value) == NOT_IN_CARE_TEAM
    assert _status(episode) == EpisodeStatus.OPEN


@pytest.mark.parametrize("rating", [0, 6])
def test_repair_refuses_a_rating_outside_1_to_5(episode, clinician, rating):
    with pytest.raises(ValidationError):
        _repair(episode, clinician, resolution_rating=rating)
    assert _status(episode) == EpisodeStatus.OPEN
