"""The typical DRF server of the HTTP benchmark (``benchmarks.http``): the sessions list as a DRF
developer would usually write it, to compare Mend's with.

A ``ListAPIView`` with nested ``ModelSerializer``s for the client and the clinician,
``select_related``, cursor pagination of 50, knox's token authentication, ``IsAuthenticated``
and the sessions of the clients on the caller's care teams. It runs in the same project with
the same middleware, database and throttles (``benchmarks.typical_settings``), but without
Mend's roles lookup, access event, membership and archive scoping or strict parameters.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.urls import path
from knox.auth import TokenAuthentication
from rest_framework import generics, pagination, permissions, serializers

from api.serializers.cases import TherapySessionSerializer as MendSessionSerializer
from cases.models import Client, TherapySession, User


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "code", "name", "status"]


class ClinicianSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name"]


class SessionSerializer(serializers.ModelSerializer):
    client = ClientSerializer(read_only=True)
    clinician = ClinicianSerializer(read_only=True)

    class Meta:
        model = TherapySession
        # Mend's fields, nested here, without its probe for a progress note.
        fields = [name for name in MendSessionSerializer.Meta.fields if name != "has_progress_note"]


class SessionPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    ordering = ("-starts_at", "-id")


class SessionList(generics.ListAPIView):
    serializer_class = SessionSerializer
    authentication_classes = [TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = SessionPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[TherapySession]:
        return TherapySession.objects.filter(
            client__care_team_members__clinician=cast(User, self.request.user)
        ).select_related("client", "clinician")


urlpatterns = [path("api/v1/sessions/", SessionList.as_view())]
