"""Every CheckConstraint and UniqueConstraint of ruptures.models, tried straight against the
database and seen refused by name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from ruptures.choices import (
    CONFRONTATION_MARKERS,
    MARKER_SCHEME_OF,
    RELATIONAL_MARKERS,
    RELATIONAL_MOVES,
    RRS_STRATEGIES,
    WITHDRAWAL_MARKERS,
    EpisodeStatus,
    Factor,
    Marker,
    Relationship,
    RuptureKind,
    SignalStatus,
)
from ruptures.models import RuptureEpisode
from tests.factories import (
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


# --- Episodes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"relationship": "boss"}, "episode_relationship_valid", id="relationship"),
        pytest.param({"direction": "nobody"}, "episode_direction_valid", id="direction"),
        pytest.param({"kind": "sulking"}, "episode_kind_valid", id="kind"),
        pytest.param({"moment": "bedtime"}, "episode_moment_valid", id="moment"),
        pytest.param({"source": "rumour"}, "episode_source_valid", id="source"),
        pytest.param({"status": "paused"}, "episode_status_valid", id="status"),
        pytest.param({"intensity": 0}, "episode_intensity_range", id="intensity-0"),
        pytest.param({"intensity": 6}, "episode_intensity_range", id="intensity-6"),
        pytest.param(
            {"relationship": Relationship.THERAPIST, "kind": None},
            "episode_kind_for_alliance",
            id="alliance-without-kind",
        ),
        pytest.param(
            {"kind": RuptureKind.WITHDRAWAL, "markers": [Marker.COMPLAINTS_ABOUT_THERAPIST]},
            "episode_markers_valid",
            id="withdrawal-with-confrontation-marker",
        ),
        pytest.param(
            {"kind": RuptureKind.CONFRONTATION, "markers": [Marker.DEFENDS_SELF, Marker.DENIAL]},
            "episode_markers_valid",
            id="confrontation-with-withdrawal-marker",
        ),
        pytest.param(
            {"relationship": Relationship.PARENT, "markers": [Marker.MINIMAL_RESPONSE]},
            "episode_markers_valid",
            id="relational-with-3rs-marker",
        ),
        pytest.param({"markers": ["sighing"]}, "episode_markers_valid", id="unknown-marker"),
        pytest.param({"factors": ["boredom"]}, "episode_factors_valid", id="unknown-factor"),
        pytest.param(
            {"status": EpisodeStatus.RESOLVED, "closed_on": None},
            "episode_closed_on_matches_status",
            id="resolved-without-closed-on",
        ),
        pytest.param(
            {"status": EpisodeStatus.RELATIONSHIP_ENDED, "closed_on": None},
            "episode_closed_on_matches_status",
            id="ended-without-closed-on",
        ),
        pytest.param(
            {"status": EpisodeStatus.OPEN, "closed_on": TODAY},
            "episode_closed_on_matches_status",
            id="open-with-closed-on",
        ),
        pytest.param(
            {"status": EpisodeStatus.REPAIRING, "closed_on": TODAY},
            "episode_closed_on_matches_status",
            id="repairing-with-closed-on",
        ),
        pytest.param(
            {
                "status": EpisodeStatus.UNRESOLVED,
                "detected_on": TODAY,
                "closed_on": TODAY - dt.timedelta(days=1),
            },
            "episode_closed_after_detected",
            id="closed-before-detected",
        ),
    ],
)
def test_invalid_episode_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        RuptureEpisodeFactory(**fields)


@pytest.mark.parametrize(
    ("relationship", "kind", "markers"),
    [
        (Relationship.THERAPIST, RuptureKind.WITHDRAWAL, WITHDRAWAL_MARKERS),
        (Relationship.THERAPIST, RuptureKind.CONFRONTATION, CONFRONTATION_MARKERS),
        (Relationship.THERAPIST, RuptureKind.MIXED, WITHDRAWAL_MARKERS + CONFRONTATION_MARKERS),
        (Relationship.THERAPIST, RuptureKind.MIXED, (Marker.DENIAL, Marker.DISENGAGEMENT)),
        (Relationship.THERAPIST, RuptureKind.WITHDRAWAL, RELATIONAL_MARKERS),
        (Relationship.PARTNER, RuptureKind.WITHDRAWAL, RELATIONAL_MARKERS),
        (Relationship.COWORKER, RuptureKind.CONFRONTATION, RELATIONAL_MARKERS),
        (Relationship.FRIEND, None, RELATIONAL_MARKERS),
    ],
)
def test_markers_of_the_right_scheme_are_accepted(relationship, kind, markers):
    episode = RuptureEpisodeFactory(
        relationship=relationship, kind=kind, markers=list(markers), factors=list(Factor)
    )
    episode.refresh_from_db()
    assert episode.marker_schemes == [MARKER_SCHEME_OF[marker] for marker in markers]


def test_episode_closed_on_its_detection_day_is_accepted():
    assert RuptureEpisodeFactory(closed=True, detected_on=TODAY, closed_on=TODAY).pk


def test_episode_cannot_be_its_own_recurrence(refused):
    episode = RuptureEpisodeFactory(closed=True)
    with refused("episode_not_own_recurrence"):
        RuptureEpisode.objects.filter(pk=episode.pk).update(recurrence_of=F("id"))


def test_episode_has_at_most_one_recurrence(refused):
    old = RuptureEpisodeFactory(closed=True)
    RuptureEpisodeFactory(client=old.client, recurrence_of=old)
    with refused("ruptures_ruptureepisode_recurrence_of_id_key"):
        RuptureEpisodeFactory(client=old.client, recurrence_of=old)


# --- Repair attempts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"initiator": "nobody"}, "repair_initiator_valid", id="initiator"),
        pytest.param({"outcome": "perfect"}, "repair_outcome_valid", id="outcome"),
        pytest.param({"strategies": ["shouting"]}, "repair_strategies_valid", id="strategy"),
        pytest.param({"resolution_rating": 0}, "repair_rating_range", id="rating-0"),
        pytest.param({"resolution_rating": 6}, "repair_rating_range", id="rating-6"),
    ],
)
def test_invalid_repair_attempt_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        RepairAttemptFactory(**fields)


def test_every_known_strategy_is_accepted_by_the_database():
    attempt = RepairAttemptFactory(strategies=list(RRS_STRATEGIES + RELATIONAL_MOVES))
    assert len(attempt.strategies) == 17


# --- Signals ----------------------------------------------------------------------------------


def _handled(**fields) -> dict:
    return {"handled_by": UserFactory(), "handled_at": timezone.now(), **fields}


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"rule": "hunch"}, "signal_rule_valid", id="rule"),
        # An unknown status matches no branch of the handling rule, which PostgreSQL checks
        # before signal_status_valid (constraints are checked in name order).
        pytest.param({"status": "snoozed"}, "signal_handling_matches_status", id="status-unknown"),
        pytest.param(
            {"handled_at": timezone.now()},
            "signal_handling_matches_status",
            id="open-with-handled-at",
        ),
        pytest.param(
            {"dismissal_reason": "noise"},
            "signal_handling_matches_status",
            id="open-with-dismissal-reason",
        ),
        pytest.param(
            {"status": SignalStatus.ACKNOWLEDGED, "handled_at": timezone.now()},
            "signal_handling_matches_status",
            id="acknowledged-without-episode-or-handler",
        ),
        pytest.param(
            {"status": SignalStatus.DISMISSED, "dismissal_reason": "noise"},
            "signal_handling_matches_status",
            id="dismissed-without-handler",
        ),
    ],
)
def test_invalid_signal_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        RuptureSignalFactory(**fields)


def test_acknowledged_signal_needs_an_episode(refused):
    with refused("signal_handling_matches_status"):
        RuptureSignalFactory(**_handled(status=SignalStatus.ACKNOWLEDGED))


def test_acknowledged_signal_carries_no_dismissal_reason(refused):
    episode = RuptureEpisodeFactory()
    with refused("signal_handling_matches_status"):
        RuptureSignalFactory(
            client=episode.client,
            **_handled(
                status=SignalStatus.ACKNOWLEDGED, linked_episode=episode, dismissal_reason="x"
            ),
        )


@pytest.mark.parametrize("reason", ["", "  \n"])
def test_dismissed_signal_needs_a_reason(refused, reason):
    with refused("signal_handling_matches_status"):
        RuptureSignalFactory(**_handled(status=SignalStatus.DISMISSED, dismissal_reason=reason))


def test_dismissed_signal_links_no_episode(refused):
    episode = RuptureEpisodeFactory()
    with refused("signal_handling_matches_status"):
        RuptureSignalFactory(
            client=episode.client,
            **_handled(
                status=SignalStatus.DISMISSED, dismissal_reason="noise", linked_episode=episode
            ),
        )


def test_open_signal_links_no_episode(refused):
    episode = RuptureEpisodeFactory()
    with refused("signal_handling_matches_status"):
        RuptureSignalFactory(client=episode.client, linked_episode=episode)


def test_handled_signals_in_the_right_shape_are_accepted():
    episode = RuptureEpisodeFactory()
    acknowledged = RuptureSignalFactory(
        client=episode.client,
        **_handled(status=SignalStatus.ACKNOWLEDGED, linked_episode=episode),
    )
    dismissed = RuptureSignalFactory(
        **_handled(status=SignalStatus.DISMISSED, dismissal_reason="x")
    )
    assert acknowledged.pk and dismissed.pk


def test_signal_evidence_is_raised_once_per_practice(refused):
    signal = RuptureSignalFactory(dedup_key="srs_alert:session:1")
    with refused("signal_dedup"):
        RuptureSignalFactory(
            practice=signal.practice, client=signal.client, dedup_key=signal.dedup_key
        )
    # The same key in another practice is another piece of evidence.
    assert RuptureSignalFactory(dedup_key=signal.dedup_key).pk
