"""Serializers of the cases app's resources: they shape input and output; the views call
``cases.services``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from api.serializers.fields import ScopedPrimaryKeyField
from cases import selectors
from cases.models import (
    Client,
    NoteAddendum,
    OutcomeRatingScale,
    Participant,
    PostSessionQuestionnaire,
    Practice,
    ProcessNote,
    ProgressNote,
    SessionMeasure,
    SessionRatingScale,
    TherapySession,
    User,
    WorkingAllianceInventory,
)
from cases.validators import NOTE_TEXT_MAX_LENGTH


class PersonSerializer(serializers.ModelSerializer[User]):
    """A colleague as the API shows them: no contact details."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


def _colleague(help_text: str) -> ScopedPrimaryKeyField:
    """A clinician of the caller's practices, named in the input; the caller when omitted."""
    return ScopedPrimaryKeyField(
        model=User, selector=selectors.colleague_clinicians, required=False, help_text=help_text
    )


class ClientSerializer(StrictModelSerializer[Client]):
    practice = ScopedPrimaryKeyField(model=Practice, selector=selectors.clinician_practices)
    primary_clinician = _colleague("A clinician of the practice; the caller when omitted.")
    care_team = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            "practice",
            "code",
            "kind",
            "name",
            "date_of_birth",
            "email",
            "phone",
            "status",
            "intake_date",
            "discharge_date",
            "primary_clinician",
            "care_team",
            "legal_hold",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["code", "status", "discharge_date", "created_at", "updated_at"]
        create_only_fields = ["practice"]

    def get_care_team(self, client: Client) -> list[dict[str, Any]]:
        members = [member.clinician for member in client.care_team_members.all()]
        return PersonSerializer(members, many=True).data  # type: ignore[return-value]


class ClientDischargeSerializer(StrictSerializer):
    discharge_date = serializers.DateField()


class CareTeamAddSerializer(StrictSerializer):
    clinician = ScopedPrimaryKeyField(model=User, selector=selectors.colleague_clinicians)


class ParticipantSerializer(StrictModelSerializer[Participant]):
    """A member of a couple or family client: a display label and a role, nothing else."""

    client = ScopedPrimaryKeyField(model=Client, selector=selectors.client_list)

    class Meta:
        model = Participant
        fields = ["id", "client", "label", "role", "created_at"]
        read_only_fields = ["created_at"]
        create_only_fields = ["client"]


class TherapySessionSerializer(StrictModelSerializer[TherapySession]):
    client = ScopedPrimaryKeyField(model=Client, selector=selectors.client_list)
    clinician = _colleague("A clinician on the client's care team; the caller when omitted.")
    has_progress_note = serializers.SerializerMethodField()

    class Meta:
        model = TherapySession
        fields = [
            "id",
            "client",
            "clinician",
            "starts_at",
            "duration_minutes",
            "modality",
            "setting",
            "attendance",
            "has_progress_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["client", "clinician"]
        extra_kwargs = {"duration_minutes": {"min_value": 1, "max_value": 600}}

    def get_has_progress_note(self, session: TherapySession) -> bool:
        annotated = getattr(session, "has_note", None)  # lists and lookups (the viewset)
        return hasattr(session, "progress_note") if annotated is None else annotated


class AddendumSerializer(StrictModelSerializer[NoteAddendum]):
    class Meta:
        model = NoteAddendum
        fields = ["id", "author", "reason", "text", "created_at"]
        read_only_fields = ["author", "created_at"]


class ProgressNoteSerializer(StrictModelSerializer[ProgressNote]):
    session = ScopedPrimaryKeyField(model=TherapySession, selector=selectors.session_list)
    sections = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=NOTE_TEXT_MAX_LENGTH),
        help_text=(
            "The sections of the format, each text: soap: subjective, objective, assessment, "
            "plan; dap: data, assessment, plan; birp: behavior, intervention, response, plan; "
            "free: text."
        ),
    )
    addenda = AddendumSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressNote
        fields = [
            "id",
            "session",
            "author",
            "format",
            "sections",
            "status",
            "signed_by",
            "signed_at",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "author",
            "status",
            "signed_by",
            "signed_at",
            "created_at",
            "updated_at",
        ]
        create_only_fields = ["session"]


class ProcessNoteSerializer(StrictModelSerializer[ProcessNote]):
    session = ScopedPrimaryKeyField(model=TherapySession, selector=selectors.session_list)

    class Meta:
        model = ProcessNote
        fields = ["id", "session", "text", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["session"]


class MeasureSerializer(StrictModelSerializer[SessionMeasure]):
    """Items in, scores out: totals and subscales are computed by the database."""

    session = ScopedPrimaryKeyField(model=TherapySession, selector=selectors.session_list)
    participant = ScopedPrimaryKeyField(
        model=Participant,
        selector=selectors.participant_list,
        required=False,
        allow_null=True,
        help_text=(
            "Who answered, for a couple or family client with participants (required then, "
            "on the client's side); null otherwise."
        ),
    )

    class Meta:
        common_fields = ["id", "session", "client", "participant", "recorded_by", "created_at"]
        read_only_fields = ["client", "recorded_by", "created_at"]
        # One measure per session, respondent and participant is the service's and the
        # database's rule (with its own message); DRF's validator would make them required.
        validators: list[Any] = []


class SessionRatingScaleSerializer(MeasureSerializer):
    class Meta(MeasureSerializer.Meta):
        model = SessionRatingScale
        fields = [
            *MeasureSerializer.Meta.common_fields,
            "relationship",
            "goals_and_topics",
            "approach_or_method",
            "overall",
            "total",
        ]


class OutcomeRatingScaleSerializer(MeasureSerializer):
    class Meta(MeasureSerializer.Meta):
        model = OutcomeRatingScale
        fields = [
            *MeasureSerializer.Meta.common_fields,
            "individually",
            "interpersonally",
            "socially",
            "overall",
            "total",
        ]


class PostSessionQuestionnaireSerializer(MeasureSerializer):
    class Meta(MeasureSerializer.Meta):
        model = PostSessionQuestionnaire
        fields = [
            *MeasureSerializer.Meta.common_fields,
            "respondent",
            "rupture_experienced",
            "tension",
            "resolution",
        ]


class WorkingAllianceInventorySerializer(MeasureSerializer):
    class Meta(MeasureSerializer.Meta):
        model = WorkingAllianceInventory
        fields = [
            *MeasureSerializer.Meta.common_fields,
            "respondent",
            *[f"item_{n}" for n in range(1, 13)],
            "task",
            "bond",
            "goal",
            "total",
        ]
