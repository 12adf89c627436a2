"""Rupture episodes, repair attempts and the signals that point at ruptures someone may miss."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cases import same_practice
from cases.history import track_history
from cases.models import Client, Participant, TherapySession
from cases.models.base import Archivable, PracticeScoped
from cases.validators import OBSERVATION_MAX_LENGTH, REASON_MAX_LENGTH
from ruptures.choices import (
    CLOSED_STATUSES,
    CONFRONTATION_MARKERS,
    EPISODE_TRANSITIONS,
    MARKER_SCHEME_OF,
    RELATIONAL_MARKERS,
    RESOLVING_OUTCOMES,
    RRS_MARKERS,
    WITHDRAWAL_MARKERS,
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
    SignalRule,
    SignalStatus,
    Strategy,
)


def _transition_pairs() -> str:
    return ", ".join(
        f"('{old}', '{new}')" for old, targets in EPISODE_TRANSITIONS.items() for new in targets
    )


_RESOLVING = ", ".join(f"'{outcome}'" for outcome in RESOLVING_OUTCOMES)


def markers_condition() -> Q:
    """Relational signs fit every rupture; 3RS markers fit only the alliance, and only those
    of its kind (withdrawal, confrontation, either for mixed)."""
    relational = list(RELATIONAL_MARKERS)
    alliance = Q(relationship=Relationship.THERAPIST)
    return (
        (
            alliance
            & Q(
                kind=RuptureKind.WITHDRAWAL,
                markers__contained_by=list(WITHDRAWAL_MARKERS) + relational,
            )
        )
        | (
            alliance
            & Q(
                kind=RuptureKind.CONFRONTATION,
                markers__contained_by=list(CONFRONTATION_MARKERS) + relational,
            )
        )
        | (
            alliance
            & Q(kind=RuptureKind.MIXED, markers__contained_by=list(RRS_MARKERS) + relational)
        )
        | Q(markers__contained_by=relational)
    )


def _marker_schemes_sql() -> str:
    """The body of the trigger that writes each marker's scheme beside it, in the markers'
    order, whoever writes the row (an unknown marker gets none, and the markers check refuses
    the row)."""
    branches = " ".join(
        "WHEN m IN ({markers}) THEN '{scheme}'".format(
            markers=", ".join(
                f"'{marker}'" for marker, of in MARKER_SCHEME_OF.items() if of == scheme
            ),
            scheme=scheme,
        )
        for scheme in MarkerScheme.values
    )
    return (
        "NEW.marker_schemes := ARRAY(SELECT CASE "  # noqa: S608 (the schema's own values)
        f"{branches} END "
        "FROM unnest(NEW.markers) WITH ORDINALITY AS u(m, i) ORDER BY i); "
        "RETURN NEW;"
    )


@track_history()
class RuptureEpisode(PracticeScoped, Archivable):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="rupture_episodes")
    session = models.ForeignKey(
        TherapySession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rupture_episodes",
    )
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    # The 3RS kind: required for the alliance, optional for a rupture outside therapy.
    # No kind is NULL, not "": the database's checks and the trends' COALESCE read it as absent.
    kind = models.CharField(  # noqa: DJ001
        max_length=16, choices=RuptureKind.choices, null=True, blank=True
    )
    markers = ArrayField(
        models.CharField(max_length=40, choices=Marker.choices), default=list, blank=True
    )
    # The scheme of each marker, in the markers' order: written by the server (a trigger for
    # every writer), never by a caller.
    marker_schemes = ArrayField(
        models.CharField(max_length=20, choices=MarkerScheme.choices),
        default=list,
        blank=True,
        editable=False,
    )
    moment = models.CharField(max_length=32, choices=Moment.choices)
    factors = ArrayField(
        models.CharField(max_length=20, choices=Factor.choices), default=list, blank=True
    )
    intensity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    detected_on = models.DateField()
    source = models.CharField(max_length=20, choices=EpisodeSource.choices)
    description = models.TextField(
        blank=True,
        max_length=OBSERVATION_MAX_LENGTH,
        validators=[MaxLengthValidator(OBSERVATION_MAX_LENGTH)],
    )
    status = models.CharField(
        max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.OPEN
    )
    closed_on = models.DateField(null=True, blank=True)
    recurrence_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recurrence",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            same_practice.referenced_key("episode_id_practice"),
            same_practice.referenced_key("episode_id_client_practice", with_client=True),
            models.CheckConstraint(
                condition=Q(relationship__in=Relationship.values),
                name="episode_relationship_valid",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="episode_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RuptureKind.values), name="episode_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(moment__in=Moment.values), name="episode_moment_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=EpisodeSource.values), name="episode_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EpisodeStatus.values), name="episode_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(intensity__gte=1, intensity__lte=5), name="episode_intensity_range"
            ),
            models.CheckConstraint(
                condition=Q(kind__isnull=False) | ~Q(relationship=Relationship.THERAPIST),
                name="episode_kind_for_alliance",
            ),
            models.CheckConstraint(condition=markers_condition(), name="episode_markers_valid"),
            models.CheckConstraint(
                condition=Q(
                    marker_schemes__len=F("markers__len"),
                    marker_schemes__contained_by=MarkerScheme.values,
                ),
                name="episode_schemes_match_markers",
            ),
            models.CheckConstraint(
                condition=Q(factors__contained_by=Factor.values), name="episode_factors_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=CLOSED_STATUSES, closed_on__isnull=False)
                    | (~Q(status__in=CLOSED_STATUSES) & Q(closed_on__isnull=True))
                ),
                name="episode_closed_on_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("detected_on")),
                name="episode_closed_after_detected",
            ),
            models.CheckConstraint(
                condition=~Q(recurrence_of=F("id")), name="episode_not_own_recurrence"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-detected_on", "-id"], name="episode_client_time"),
            models.Index(fields=["practice", "detected_on"], name="episode_practice_time"),
            models.Index(
                fields=["practice", "status"],
                name="episode_practice_live",
                condition=Q(status__in=[EpisodeStatus.OPEN, EpisodeStatus.REPAIRING]),
            ),
        ]
        triggers = [
            # The service checks transitions first with a clear message; this holds the rule
            # for every other writer, raw SQL included.
            pgtrigger.Protect(
                name="episode_status_transitions",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.status IS DISTINCT FROM NEW.status "
                    f"AND (OLD.status, NEW.status) NOT IN ({_transition_pairs()})"
                ),
            ),
            # Each marker's scheme, derived from the marker for every writer.
            pgtrigger.Trigger(
                name="episode_marker_schemes",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=_marker_schemes_sql(),
            ),
            # Resolution is reached through repair: an attempt that resolved or partly
            # resolved the rupture, not archived. (Named to fire after the transitions
            # trigger, which answers first for a move that is not allowed at all.)
            pgtrigger.Trigger(
                name="episode_status_via_repair",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.status IS DISTINCT FROM NEW.status "
                    f"AND NEW.status = '{EpisodeStatus.RESOLVED}'"
                ),
                func=(
                    "IF NOT EXISTS (SELECT 1 FROM ruptures_repairattempt r "  # noqa: S608
                    "WHERE r.episode_id = NEW.id AND r.archived_at IS NULL "
                    f"AND r.outcome IN ({_RESOLVING})) "
                    "THEN RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table: an "
                    "episode is resolved only after a repair attempt that resolved or partly "
                    "resolved it', TG_TABLE_NAME; END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk} ({self.relationship}, {self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


@track_history()
class RepairAttempt(PracticeScoped, Archivable):
    episode = models.ForeignKey(
        RuptureEpisode, on_delete=models.PROTECT, related_name="repair_attempts"
    )
    # The episode's client, repeated so the same-client rule holds for the session too.
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attempted_on = models.DateField()
    initiator = models.CharField(max_length=16, choices=Initiator.choices)
    both_engaged = models.BooleanField()
    strategies = ArrayField(
        models.CharField(max_length=40, choices=Strategy.choices), default=list, blank=True
    )
    outcome = models.CharField(max_length=20, choices=RepairOutcome.choices)
    resolution_rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    note = models.TextField(
        blank=True,
        max_length=OBSERVATION_MAX_LENGTH,
        validators=[MaxLengthValidator(OBSERVATION_MAX_LENGTH)],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(initiator__in=Initiator.values), name="repair_initiator_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=RepairOutcome.values), name="repair_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(strategies__contained_by=Strategy.values),
                name="repair_strategies_valid",
            ),
            models.CheckConstraint(
                condition=Q(resolution_rating__gte=1, resolution_rating__lte=5),
                name="repair_rating_range",
            ),
            # "You can't fix an empathic rupture alone": an attempt both people started is
            # one both engaged in.
            models.CheckConstraint(
                condition=~Q(initiator=Initiator.BOTH) | Q(both_engaged=True),
                name="repair_both_initiated_both_engaged",
            ),
        ]
        indexes = [
            models.Index(fields=["episode", "attempted_on"], name="repair_episode_time"),
            models.Index(fields=["practice", "attempted_on"], name="repair_practice_time"),
        ]

    def __str__(self) -> str:
        return f"Repair attempt {self.pk} on episode {self.episode_id}"


@track_history()
class RuptureSignal(PracticeScoped):
    """A possible rupture someone may be missing, derived by the server from measures and
    episodes. ``dedup_key`` makes derivation idempotent: the same evidence raises one signal."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="rupture_signals")
    rule = models.CharField(max_length=24, choices=SignalRule.choices)
    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    episode = models.ForeignKey(
        RuptureEpisode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The participant of a couple or family whose answers raised it (the measure rules).
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict)
    dedup_key = models.CharField(max_length=80)
    raised_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=SignalStatus.choices, default=SignalStatus.OPEN
    )
    linked_episode = models.ForeignKey(
        RuptureEpisode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_signals",
    )
    dismissal_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "dedup_key"], name="signal_dedup"),
            models.CheckConstraint(
                condition=Q(rule__in=SignalRule.values), name="signal_rule_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SignalStatus.values), name="signal_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status=SignalStatus.OPEN,
                        linked_episode__isnull=True,
                        dismissal_reason="",
                        handled_by__isnull=True,
                        handled_at__isnull=True,
                    )
                    | Q(
                        status=SignalStatus.ACKNOWLEDGED,
                        linked_episode__isnull=False,
                        dismissal_reason="",
                        handled_by__isnull=False,
                        handled_at__isnull=False,
                    )
                    | Q(
                        status=SignalStatus.DISMISSED,
                        linked_episode__isnull=True,
                        dismissal_reason__regex=r"\S",
                        handled_by__isnull=False,
                        handled_at__isnull=False,
                    )
                ),
                name="signal_handling_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status", "-raised_at"], name="signal_practice_idx"),
            models.Index(fields=["client", "-raised_at"], name="signal_client_idx"),
        ]
        triggers = [
            # A handled signal stays handled: its acknowledgement or dismissal, who made it and
            # when, and the evidence it stood on are the record.
            pgtrigger.Protect(
                name="signal_handled_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"OLD.status <> '{SignalStatus.OPEN}' AND OLD.* IS DISTINCT FROM NEW.*"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} signal {self.pk} ({self.status})"


class TrendRelease(PracticeScoped):
    """One practice's trends for one month, computed once with differential privacy
    (``ruptures.releases``) and never changed: every trends answer reads these rows only.

    ``measurements`` holds the noisy histograms and sums, each with the scale of its noise;
    ``settings`` holds everything the release was made with (time zone, SRS cutoff, ε, δ, ρ,
    the contribution bounds and the budget plan), so that later changes of the practice's
    settings reach later releases only."""

    month = models.DateField()  # the first day of the month released
    made_at = models.DateTimeField()
    settings = models.JSONField()
    library_version = models.CharField(max_length=40)  # opendp's, for the record
    measurements = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "month"], name="release_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="release_month_starts_on_first"),
        ]
        triggers = [
            # Frozen: what supervisors have read stays what they read.
            pgtrigger.Protect(name="release_frozen", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"trends release {self.month:%Y-%m} of practice {self.practice_id}"


class PrivacySpend(PracticeScoped):
    """The budget ledger: the privacy loss (zCDP ρ) each measurement of a release spent
    against its month's budget. Append-only; a release that would take a month past its
    budget is refused before anything is computed."""

    month = models.DateField()
    release = models.ForeignKey(
        TrendRelease, on_delete=models.PROTECT, null=True, blank=True, related_name="spends"
    )
    measurement = models.CharField(max_length=60)
    rho = models.FloatField()
    budget_rho = models.FloatField()  # the month's whole budget when this was spent
    spent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rho__gt=0), name="spend_positive"),
            models.CheckConstraint(
                condition=Q(rho__lte=F("budget_rho")), name="spend_within_budget"
            ),
        ]
        indexes = [models.Index(fields=["practice", "month"], name="spend_month_idx")]
        triggers = [
            pgtrigger.Protect(
                name="spend_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measurement}: ρ {self.rho:.5f} of {self.month:%Y-%m}"


__all__ = ["PrivacySpend", "RepairAttempt", "RuptureEpisode", "RuptureSignal", "TrendRelease"]
