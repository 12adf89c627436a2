"""Query filters of the list endpoints (django-filter). Ids filter the caller's own scope and
never reveal whether a row outside it exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.errors import NAIVE_DATETIME
from cases.audit import AccessOutcome
from cases.choices import (
    Attendance,
    ClientKind,
    ClientStatus,
    Modality,
    NoteFormat,
    NoteStatus,
    ParticipantRole,
)
from cases.choices import Setting as SessionSetting
from cases.models import (
    AccessEvent,
    Client,
    Membership,
    Participant,
    ProcessNote,
    ProgressNote,
    SupervisionAssignment,
    TherapySession,
    User,
)
from ruptures.choices import (
    EpisodeSource,
    EpisodeStatus,
    Factor,
    Initiator,
    Marker,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    SignalRule,
    SignalStatus,
)
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    # django-filter's stubs fix a NumberFilter's form field to decimals; ids are integers.
    field_class = forms.IntegerField  # type: ignore[assignment]


class AwareDateTimeFormField(filters.fields.IsoDateTimeField):
    """As the API's datetimes: a filter time must carry its time zone. The check reads the
    text as sent: Django's field makes a naive time aware (in the server's zone) as it parses."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # not a real date: the field below says so
            if parsed is not None and timezone.is_naive(parsed):
                raise forms.ValidationError(NAIVE_DATETIME, code="naive")
        result = super().to_python(value)
        if result is None:
            return None
        try:
            # In UTC: Python takes offsets PostgreSQL refuses (beyond ±15:59).
            return result.astimezone(dt.UTC)
        except OverflowError as error:
            raise forms.ValidationError("Enter a valid date/time.", code="invalid") from error


class AwareDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = AwareDateTimeFormField


class ClientFilter(filters.FilterSet):
    practice = IdFilter(field_name="practice_id")
    primary_clinician = IdFilter(field_name="primary_clinician_id")
    status = filters.ChoiceFilter(choices=ClientStatus.choices)
    kind = filters.ChoiceFilter(choices=ClientKind.choices)

    class Meta:
        model = Client
        fields = ["practice", "primary_clinician", "status", "kind"]


class TherapySessionFilter(filters.FilterSet):
    client = IdFilter(field_name="client_id")
    clinician = IdFilter(field_name="clinician_id")
    starts_after = AwareDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = AwareDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    attendance = filters.MultipleChoiceFilter(choices=Attendance.choices)
    modality = filters.ChoiceFilter(choices=Modality.choices)
    setting = filters.ChoiceFilter(choices=SessionSetting.choices)

    class Meta:
        model = TherapySession
        fields = [
            "client",
            "clinician",
            "starts_after",
            "starts_before",
            "attendance",
            "modality",
            "setting",
        ]


class ProgressNoteFilter(filters.FilterSet):
    client = IdFilter(field_name="session__client_id")
    session = IdFilter(field_name="session_id")
    status = filters.ChoiceFilter(choices=NoteStatus.choices)
    format = filters.ChoiceFilter(choices=NoteFormat.choices)

    class Meta:
        model = ProgressNote
        fields = ["client", "session", "status", "format"]


class ProcessNoteFilter(filters.FilterSet):
    session = IdFilter(field_name="session_id")

    class Meta:
        model = ProcessNote
        fields = ["session"]


class ParticipantFilter(filters.FilterSet):
    client = IdFilter(field_name="client_id")
    role = filters.ChoiceFilter(choices=ParticipantRole.choices)

    class Meta:
        model = Participant
        fields = ["client", "role"]


class MeasureFilter(filters.FilterSet):
    client = IdFilter(field_name="client_id")
    session = IdFilter(field_name="session_id")
    participant = IdFilter(field_name="participant_id")


def measure_filterset(measure_model: type) -> type[filters.FilterSet]:
    meta = type(
        "Meta", (), {"model": measure_model, "fields": ["client", "session", "participant"]}
    )
    return type(f"{measure_model.__name__}Filter", (MeasureFilter,), {"Meta": meta})


class RuptureEpisodeFilter(filters.FilterSet):
    client = IdFilter(field_name="client_id")
    session = IdFilter(field_name="session_id")
    status = filters.MultipleChoiceFilter(choices=EpisodeStatus.choices)
    relationship = filters.MultipleChoiceFilter(choices=Relationship.choices)
    kind = filters.MultipleChoiceFilter(choices=RuptureKind.choices)
    moment = filters.MultipleChoiceFilter(choices=Moment.choices)
    source = filters.ChoiceFilter(choices=EpisodeSource.choices)
    marker = filters.ChoiceFilter(
        choices=Marker.choices, method="filter_contains", label="Has this marker"
    )
    factor = filters.ChoiceFilter(
        choices=Factor.choices, method="filter_contains", label="Has this factor"
    )
    detected_after = filters.DateFilter(field_name="detected_on", lookup_expr="gte")
    detected_before = filters.DateFilter(field_name="detected_on", lookup_expr="lte")

    class Meta:
        model = RuptureEpisode
        fields: list[str] = []  # every filter is declared above

    def filter_contains(
        self, queryset: QuerySet[RuptureEpisode], name: str, value: str
    ) -> QuerySet[RuptureEpisode]:
        column = "markers" if name == "marker" else "factors"
        return queryset.filter(**{f"{column}__contains": [value]})


class RepairAttemptFilter(filters.FilterSet):
    episode = IdFilter(field_name="episode_id")
    client = IdFilter(field_name="client_id")
    outcome = filters.MultipleChoiceFilter(choices=RepairOutcome.choices)
    initiator = filters.ChoiceFilter(choices=Initiator.choices)
    attempted_after = filters.DateFilter(field_name="attempted_on", lookup_expr="gte")
    attempted_before = filters.DateFilter(field_name="attempted_on", lookup_expr="lte")

    class Meta:
        model = RepairAttempt
        fields: list[str] = []  # every filter is declared above


class RuptureSignalFilter(filters.FilterSet):
    client = IdFilter(field_name="client_id")
    status = filters.MultipleChoiceFilter(choices=SignalStatus.choices)
    rule = filters.MultipleChoiceFilter(choices=SignalRule.choices)
    raised_after = AwareDateTimeFilter(field_name="raised_at", lookup_expr="gte")
    raised_before = AwareDateTimeFilter(field_name="raised_at", lookup_expr="lt")
    linked_episode = IdFilter(field_name="linked_episode_id", help_text="Acknowledged to it.")
    participant = IdFilter(
        field_name="participant_id", help_text="Raised by this participant's answers."
    )

    class Meta:
        model = RuptureSignal
        fields = [
            "client",
            "status",
            "rule",
            "raised_after",
            "raised_before",
            "linked_episode",
            "participant",
        ]


class MembershipFilter(filters.FilterSet):
    practice = IdFilter(field_name="practice_id")
    user = IdFilter(field_name="user_id")
    role = filters.ChoiceFilter(choices=Membership._meta.get_field("role").choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = Membership
        fields = ["practice", "user", "role", "is_active"]


class UserFilter(filters.FilterSet):
    is_active = filters.BooleanFilter(help_text="false: the deactivated accounts.")

    class Meta:
        model = User
        fields = ["is_active"]


class SupervisionAssignmentFilter(filters.FilterSet):
    practice = IdFilter(field_name="practice_id")
    supervisor = IdFilter(field_name="supervisor_id")
    clinician = IdFilter(field_name="clinician_id")

    class Meta:
        model = SupervisionAssignment
        fields = ["practice", "supervisor", "clinician"]


# Resource and action names of the access log (letters, digits, "-" and "_").
NAME = RegexValidator(r"^[a-z][a-z0-9_-]{0,39}$", "Give a resource or action name, such as srs.")


class AccessEventFilter(filters.FilterSet):
    practice = IdFilter(field_name="practice_id")
    user = IdFilter(field_name="user_id")
    client = IdFilter(method="filter_client", label="Touched this client")
    resource = filters.CharFilter(validators=[NAME], help_text="As in the URL: session, srs…")
    action = filters.CharFilter(validators=[NAME], help_text="list, read, create, update, …")
    outcome = filters.ChoiceFilter(choices=AccessOutcome.choices)
    occurred_after = AwareDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = AwareDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = [
            "practice",
            "user",
            "client",
            "resource",
            "action",
            "outcome",
            "occurred_after",
            "occurred_before",
        ]

    def filter_client(
        self, queryset: QuerySet[AccessEvent], name: str, value: int
    ) -> QuerySet[AccessEvent]:
        return queryset.filter(client_ids__contains=[value])
