"""Clients, sessions, progress notes, process notes and measures."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api import filtersets
from api.concurrency import ArchiveMixin, CreateMixin, RetrieveMixin
from api.idempotency import idempotent
from api.pagination import KeysFirstCursorPagination
from api.permissions import caller
from api.serializers import cases as serializers
from api.views.base import ClinicalRecordViewSet, ClinicalViewSet
from cases import selectors, services
from cases.models import (
    CareTeamMember,
    Client,
    OutcomeRatingScale,
    Participant,
    PostSessionQuestionnaire,
    ProcessNote,
    ProgressNote,
    SessionMeasure,
    SessionRatingScale,
    TherapySession,
    User,
    WorkingAllianceInventory,
)
from ruptures import services as rupture_services


class ClientViewSet(ClinicalRecordViewSet[Client]):
    """Clients on the caller's care teams, with identifying fields and care team."""

    queryset = Client.objects.none()
    selector = selectors.client_list
    prefetch = (
        Prefetch(
            "care_team_members",
            # What PersonSerializer shows of each colleague, and nothing else of their row.
            queryset=CareTeamMember.objects.select_related("clinician").only(
                "client_id",
                "clinician__username",
                "clinician__first_name",
                "clinician__last_name",
            ),
        ),
    )
    serializer_class = serializers.ClientSerializer
    filterset_class = filtersets.ClientFilter
    ordering_fields = ["id", "code", "intake_date", "created_at"]
    ordering = ["-id"]
    # DELETE is for leaving the care team; a client is not deleted through the API.

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        user = caller(self.request)
        primary = data.pop("primary_clinician", None) or user
        # The clinician who registers a client keeps access to them.
        serializer.instance = services.client_create(
            primary_clinician=primary, care_team=[user], **data
        )

    def perform_update(self, serializer: Any) -> None:
        services.client_update(
            client=serializer.instance, user=caller(self.request), **serializer.validated_data
        )

    @extend_schema(
        request=serializers.ClientDischargeSerializer, responses=serializers.ClientSerializer
    )
    @action(detail=True, methods=["post"])
    def discharge(self, request: Request, pk: Any = None) -> Response:
        client = self.get_object()
        body = serializers.ClientDischargeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.client_discharge(client=client, **body.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=serializers.ClientSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: Any = None) -> Response:
        services.client_reactivate(client=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=serializers.CareTeamAddSerializer, responses=serializers.ClientSerializer
    )
    @action(detail=True, methods=["post"], url_path="care-team")
    def care_team_add(self, request: Request, pk: Any = None) -> Response:
        client = self.get_object()
        body = serializers.CareTeamAddSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        services.care_team_add(client=client, **body.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"care-team/(?P<clinician_id>[0-9]{1,18})",
    )
    def care_team_remove(
        self, request: Request, pk: Any = None, clinician_id: str = ""
    ) -> Response:
        client = self.get_object()
        clinician = get_object_or_404(
            User, pk=int(clinician_id), care_team_memberships__client=client
        )
        services.care_team_remove(client=client, clinician=clinician, user=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParticipantViewSet(ClinicalRecordViewSet[Participant]):
    """The participants of couple and family clients on the caller's care teams: who answers
    each client-side measure. A display label and a role only; DELETE archives one."""

    queryset = Participant.objects.none()
    selector = selectors.participant_list
    serializer_class = serializers.ParticipantSerializer
    filterset_class = filtersets.ParticipantFilter
    ordering_fields = ["id", "label"]
    ordering = ["client_id", "id"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.participant_create(
            user=caller(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        services.participant_update(
            participant=serializer.instance,
            user=caller(self.request),
            **serializer.validated_data,
        )


class TherapySessionViewSet(ClinicalRecordViewSet[TherapySession]):
    queryset = TherapySession.objects.none()
    selector = selectors.session_list
    serializer_class = serializers.TherapySessionSerializer
    filterset_class = filtersets.TherapySessionFilter
    ordering_fields = ["starts_at", "id"]
    ordering = ["-starts_at", "-id"]
    pagination_class = KeysFirstCursorPagination

    def get_queryset(self) -> QuerySet[TherapySession]:
        # Whether a note exists, probed for the rows of the page only; the note's text is
        # never read for a list of sessions.
        return super().get_queryset().annotate(has_note=selectors.has_progress_note())

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        user = caller(self.request)
        session = services.session_create(
            clinician=data.pop("clinician", None) or user, logged_by=user, **data
        )
        session.has_note = False  # type: ignore[attr-defined]  # just made: no note yet
        serializer.instance = session

    def perform_update(self, serializer: Any) -> None:
        services.session_update(session=serializer.instance, **serializer.validated_data)


class ProgressNoteViewSet(ClinicalRecordViewSet[ProgressNote]):
    """Progress notes. Drafts are edited with PATCH; a signed note is immutable and is
    corrected with addenda."""

    queryset = ProgressNote.objects.none()
    selector = selectors.progress_note_list
    prefetch = ("addenda",)
    serializer_class = serializers.ProgressNoteSerializer
    filterset_class = filtersets.ProgressNoteFilter
    ordering_fields = ["id", "created_at", "signed_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[ProgressNote]:
        if self.action != "retrieve" or getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        # A signed note stays part of the record when archived: out of lists, still read by id.
        return selectors.progress_note_list(
            user=caller(self.request), include_archived_signed=True
        ).prefetch_related(*self.prefetch)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.note_create(
            author=caller(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        services.note_update(
            note=serializer.instance, editor=caller(self.request), **serializer.validated_data
        )

    @extend_schema(request=None, responses=serializers.ProgressNoteSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: Any = None) -> Response:
        services.note_sign(note=self.get_object(), signer=caller(request))
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=serializers.AddendumSerializer,
        responses={201: serializers.AddendumSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent(selector=selectors.addendum_list, serializer=serializers.AddendumSerializer)
    def addenda(self, request: Request, pk: Any = None) -> Response:
        note = self.get_object()
        body = serializers.AddendumSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        addendum = services.addendum_add(note=note, author=caller(request), **body.validated_data)
        return Response(
            serializers.AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED
        )


class ProcessNoteViewSet(ClinicalRecordViewSet[ProcessNote]):
    """Psychotherapy notes: each is readable and writable by its author only, everywhere."""

    queryset = ProcessNote.objects.none()
    selector = selectors.process_note_list
    serializer_class = serializers.ProcessNoteSerializer
    filterset_class = filtersets.ProcessNoteFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    allowed_roles = "clinician — the note's author only"

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.process_note_create(
            author=caller(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        note = serializer.instance
        services.process_note_update(
            note=note,
            author=caller(self.request),
            text=serializer.validated_data.get("text", note.text),
        )


def measure_viewset(measure_model: type[SessionMeasure], serializer: type, title: str) -> type:
    class MeasureViewSet(
        mixins.ListModelMixin,
        CreateMixin,
        RetrieveMixin,
        ArchiveMixin,
        ClinicalViewSet[SessionMeasure],
    ):
        queryset = measure_model._default_manager.none()
        selector = staticmethod(
            lambda *, user: selectors.measure_list(user=user, measure_model=measure_model)
        )
        serializer_class = serializer
        filterset_class = filtersets.measure_filterset(measure_model)
        ordering_fields = ["id", "created_at"]
        ordering = ["-id"]
        http_method_names = ["get", "post", "delete", "head", "options"]

        def perform_create(self, serializer: Any) -> None:
            # Through ruptures: recording a measure derives the rupture signals it raises.
            serializer.instance = rupture_services.measure_record(
                measure_model=measure_model,
                recorded_by=caller(self.request),
                **serializer.validated_data,
            )

    MeasureViewSet.__name__ = f"{measure_model.__name__}ViewSet"
    MeasureViewSet.__qualname__ = MeasureViewSet.__name__
    MeasureViewSet.__doc__ = (
        f"{title}, recorded per attended session. Send the items; the scores are computed "
        "by the server and any rupture signal they raise is derived at once."
    )
    return MeasureViewSet


SessionRatingScaleViewSet = measure_viewset(
    SessionRatingScale, serializers.SessionRatingScaleSerializer, "Session Rating Scale (SRS)"
)
OutcomeRatingScaleViewSet = measure_viewset(
    OutcomeRatingScale, serializers.OutcomeRatingScaleSerializer, "Outcome Rating Scale (ORS)"
)
PostSessionQuestionnaireViewSet = measure_viewset(
    PostSessionQuestionnaire,
    serializers.PostSessionQuestionnaireSerializer,
    "Post-Session Questionnaire (PSQ) rupture items",
)
WorkingAllianceInventoryViewSet = measure_viewset(
    WorkingAllianceInventory,
    serializers.WorkingAllianceInventorySerializer,
    "Working Alliance Inventory, short revised (WAI-SR)",
)
