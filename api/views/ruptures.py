"""Rupture episodes with their transitions, repair attempts and rupture signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api import filtersets
from api.concurrency import ArchiveMixin, CreateMixin, RetrieveMixin
from api.idempotency import idempotent
from api.permissions import caller
from api.serializers import ruptures as serializers
from api.views.base import ClinicalRecordViewSet, ClinicalViewSet
from ruptures import selectors, services
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal


class RuptureEpisodeViewSet(ClinicalRecordViewSet[RuptureEpisode]):
    """Rupture episodes, inside therapy and in the client's own relationships. The status
    moves only through the actions; closed episodes are final, and a rupture that comes back
    is recorded with ``record-recurrence``."""

    queryset = RuptureEpisode.objects.none()
    selector = selectors.episode_list
    related = ("recurrence",)
    serializer_class = serializers.RuptureEpisodeSerializer
    filterset_class = filtersets.RuptureEpisodeFilter
    ordering_fields = ["detected_on", "id", "intensity"]
    ordering = ["-detected_on", "-id"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.episode_open(
            created_by=caller(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        services.episode_update(
            episode=serializer.instance, user=caller(self.request), **serializer.validated_data
        )

    def _close(self, request: Request, move: Callable[..., Any]) -> Response:
        episode = self.get_object()
        body = serializers.EpisodeCloseSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        move(episode=episode, user=caller(request), **body.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=serializers.RuptureEpisodeSerializer)
    @action(detail=True, methods=["post"], url_path="start-repair")
    def start_repair(self, request: Request, pk: Any = None) -> Response:
        services.episode_start_repair(episode=self.get_object(), user=caller(request))
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=serializers.EpisodeCloseSerializer, responses=serializers.RuptureEpisodeSerializer
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, services.episode_resolve)

    @extend_schema(
        request=serializers.EpisodeCloseSerializer, responses=serializers.RuptureEpisodeSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-unresolved")
    def mark_unresolved(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, services.episode_mark_unresolved)

    @extend_schema(
        request=serializers.EpisodeCloseSerializer, responses=serializers.RuptureEpisodeSerializer
    )
    @action(detail=True, methods=["post"], url_path="relationship-ended")
    def relationship_ended(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, services.episode_end_relationship)

    @extend_schema(
        request=serializers.EpisodeRecurrenceSerializer,
        responses={201: serializers.RuptureEpisodeSerializer},
    )
    @action(detail=True, methods=["post"], url_path="record-recurrence")
    @idempotent
    def record_recurrence(self, request: Request, pk: Any = None) -> Response:
        episode = self.get_object()
        body = serializers.EpisodeRecurrenceSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        recurrence = services.episode_record_recurrence(
            episode=episode, created_by=caller(request), **body.validated_data
        )
        return Response(self.get_serializer(recurrence).data, status=status.HTTP_201_CREATED)


class RepairAttemptViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    ArchiveMixin,
    ClinicalViewSet[RepairAttempt],
):
    """Attempts to repair an episode. Recording one moves an open episode to repairing."""

    queryset = RepairAttempt.objects.none()
    selector = selectors.repair_attempt_list
    serializer_class = serializers.RepairAttemptSerializer
    filterset_class = filtersets.RepairAttemptFilter
    ordering_fields = ["attempted_on", "id"]
    ordering = ["-attempted_on", "-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.repair_attempt_record(
            recorded_by=caller(self.request), **serializer.validated_data
        )


class RuptureSignalViewSet(
    mixins.ListModelMixin,
    RetrieveMixin,
    ClinicalViewSet[RuptureSignal],
):
    """Possible ruptures derived by the server from measures and episodes. A clinician
    acknowledges one by linking it to an episode, or dismisses it with a reason."""

    queryset = RuptureSignal.objects.none()
    selector = selectors.signal_list
    serializer_class = serializers.RuptureSignalSerializer
    filterset_class = filtersets.RuptureSignalFilter
    ordering_fields = ["raised_at", "id"]
    ordering = ["-raised_at", "-id"]
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        request=serializers.SignalAcknowledgeSerializer,
        responses=serializers.RuptureSignalSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        signal = self.get_object()
        body = serializers.SignalAcknowledgeSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        services.signal_acknowledge(signal=signal, user=caller(request), **body.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        operation_id="signals_acknowledge_many",
        request=serializers.SignalsAcknowledgeSerializer,
        responses=serializers.RuptureSignalSerializer(many=True),
    )
    # Not a page of a list: the signals just acknowledged, all of them.
    @action(
        detail=False,
        methods=["post"],
        url_path="acknowledge",
        pagination_class=None,
        filter_backends=[],
    )
    def acknowledge_many(self, request: Request) -> Response:
        """Several open signals of one client linked to one episode in one call: all of
        them, or none (400 naming why)."""
        body = serializers.SignalsAcknowledgeSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        done = services.signals_acknowledge(user=caller(request), **body.validated_data)
        fresh = self.get_queryset().filter(pk__in=[s.pk for s in done]).order_by("pk")
        return Response(self.get_serializer(fresh, many=True).data)

    @extend_schema(
        request=serializers.SignalDismissSerializer,
        responses=serializers.RuptureSignalSerializer,
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: Any = None) -> Response:
        signal = self.get_object()
        body = serializers.SignalDismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.signal_dismiss(signal=signal, user=caller(request), **body.validated_data)
        return Response(self.get_serializer(self.get_object()).data)
