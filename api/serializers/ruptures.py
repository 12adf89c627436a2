"""Serializers of the ruptures app's resources: they shape input and output; the views call
``ruptures.services``."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from api.serializers.fields import ScopedPrimaryKeyField
from cases import selectors as case_selectors
from cases.models import Client, TherapySession
from cases.validators import REASON_MAX_LENGTH
from ruptures import selectors
from ruptures.choices import Factor, Marker
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal

MARKERS_HELP = (
    "Relational signs (scheme relational_signs) for any rupture; 3RS markers (scheme "
    "3rs_2015) for ruptures with the therapist only, matching the kind. The scheme of each "
    "marker is in marker_schemes, in the same order."
)


class RuptureEpisodeSerializer(StrictModelSerializer[RuptureEpisode]):
    client = ScopedPrimaryKeyField(model=Client, selector=case_selectors.client_list)
    session = ScopedPrimaryKeyField(
        model=TherapySession,
        selector=case_selectors.session_list,
        required=False,
        allow_null=True,
    )
    markers = serializers.ListField(
        child=serializers.ChoiceField(choices=Marker.choices),
        required=False,
        max_length=len(Marker.choices),
        help_text=MARKERS_HELP,
    )
    factors = serializers.ListField(
        child=serializers.ChoiceField(choices=Factor.choices),
        required=False,
        max_length=len(Factor.choices),
    )
    recurrence: serializers.PrimaryKeyRelatedField[RuptureEpisode] = (
        serializers.PrimaryKeyRelatedField(
            read_only=True, allow_null=True, help_text="The episode that recurred from this one."
        )
    )

    class Meta:
        model = RuptureEpisode
        fields = [
            "id",
            "client",
            "session",
            "relationship",
            "direction",
            "kind",
            "markers",
            "marker_schemes",
            "moment",
            "factors",
            "intensity",
            "detected_on",
            "source",
            "description",
            "status",
            "closed_on",
            "recurrence_of",
            "recurrence",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "marker_schemes",
            "status",
            "closed_on",
            "recurrence_of",
            "created_by",
            "created_at",
            "updated_at",
        ]
        create_only_fields = ["client", "relationship"]
        extra_kwargs = {
            "intensity": {"min_value": 1, "max_value": 5},
            "kind": {
                "allow_blank": False,
                "help_text": (
                    "The 3RS kind: required for a rupture with the therapist; optional (null) "
                    "for one outside therapy."
                ),
            },
            "detected_on": {
                "required": False,
                "help_text": "Today in the practice's time zone when omitted; never in the future.",
            },
        }


class EpisodeCloseSerializer(StrictSerializer):
    on_date = serializers.DateField(
        required=False,
        help_text="The day it closed, in the practice's time zone; today if omitted.",
    )


class EpisodeRecurrenceSerializer(RuptureEpisodeSerializer):
    """A recurrence: the old episode's relationship, and its other fields as defaults."""

    class Meta(RuptureEpisodeSerializer.Meta):
        fields = [
            field
            for field in RuptureEpisodeSerializer.Meta.fields
            if field not in {"client", "relationship"}
        ]
        create_only_fields: list[str] = []
        extra_kwargs = {
            **RuptureEpisodeSerializer.Meta.extra_kwargs,
            **{
                name: {"required": False} for name in ("direction", "moment", "intensity", "source")
            },
            "kind": {"required": False, "allow_blank": False},
        }


class RepairAttemptSerializer(StrictModelSerializer[RepairAttempt]):
    episode = ScopedPrimaryKeyField(model=RuptureEpisode, selector=selectors.episode_list)
    session = ScopedPrimaryKeyField(
        model=TherapySession,
        selector=case_selectors.session_list,
        required=False,
        allow_null=True,
    )

    class Meta:
        model = RepairAttempt
        fields = [
            "id",
            "episode",
            "client",
            "session",
            "attempted_on",
            "initiator",
            "both_engaged",
            "strategies",
            "outcome",
            "resolution_rating",
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["client", "recorded_by", "created_at"]
        extra_kwargs = {
            "resolution_rating": {"min_value": 1, "max_value": 5},
            "attempted_on": {
                "required": False,
                "help_text": "Today in the practice's time zone when omitted; never in the future.",
            },
            "strategies": {
                "help_text": (
                    "3RS resolution strategies for ruptures with the therapist; relational "
                    "repair moves for every other relationship."
                )
            },
        }


class RuptureSignalSerializer(serializers.ModelSerializer[RuptureSignal]):
    class Meta:
        model = RuptureSignal
        fields = [
            "id",
            "client",
            "rule",
            "session",
            "episode",
            "participant",
            "detail",
            "raised_at",
            "status",
            "linked_episode",
            "dismissal_reason",
            "handled_by",
            "handled_at",
        ]
        read_only_fields = fields


class SignalAcknowledgeSerializer(StrictSerializer):
    episode = ScopedPrimaryKeyField(model=RuptureEpisode, selector=selectors.episode_list)


class SignalsAcknowledgeSerializer(StrictSerializer):
    signals = serializers.ListField(
        child=ScopedPrimaryKeyField(model=RuptureSignal, selector=selectors.signal_list),
        min_length=1,
        max_length=100,
        help_text="Open signals of the episode's client.",
    )
    episode = ScopedPrimaryKeyField(model=RuptureEpisode, selector=selectors.episode_list)


class SignalDismissSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
