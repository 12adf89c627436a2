"""The caller (``me``) and the practice-admin resources."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import filtersets
from api.concurrency import CreateMixin, RetrieveMixin, UpdateMixin
from api.serializers import people as serializers
from api.views.base import PracticeAdminViewSet
from cases.choices import Role
from cases.models import Membership, Practice, SupervisionAssignment
from cases.selectors import practices_where


class MeView(APIView):
    """Who the caller is, and their roles in each practice."""

    permission_classes = [IsAuthenticated]
    allowed_roles = "any signed-in user"

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.MeSerializer(request.user).data)


def _administered_memberships(*, user):  # type: ignore[no-untyped-def]
    return Membership.objects.filter(
        practice__in=practices_where(user=user, role=Role.PRACTICE_ADMIN)
    )


def _administered_assignments(*, user):  # type: ignore[no-untyped-def]
    return SupervisionAssignment.objects.filter(
        practice__in=practices_where(user=user, role=Role.PRACTICE_ADMIN)
    )


class MembershipViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    UpdateMixin,
    PracticeAdminViewSet,
):
    """Who holds which role in the practice. Revoke with ``is_active: false``."""

    queryset = Membership.objects.none()
    selector = _administered_memberships
    related = ("user",)
    serializer_class = serializers.MembershipSerializer
    filterset_class = filtersets.MembershipFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class SupervisionAssignmentViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    mixins.DestroyModelMixin,
    PracticeAdminViewSet,
):
    """Which supervisor supervises which clinician."""

    queryset = SupervisionAssignment.objects.none()
    selector = _administered_assignments
    serializer_class = serializers.SupervisionAssignmentSerializer
    filterset_class = filtersets.SupervisionAssignmentFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]


class PracticeViewSet(
    mixins.ListModelMixin,
    RetrieveMixin,
    UpdateMixin,
    PracticeAdminViewSet,
):
    """The practices the caller administers, with their settings."""

    queryset = Practice.objects.none()
    selector = staticmethod(lambda *, user: practices_where(user=user, role=Role.PRACTICE_ADMIN))
    serializer_class = serializers.PracticeSettingsSerializer
    ordering_fields = ["id", "name"]
    ordering = ["id"]
    http_method_names = ["get", "patch", "head", "options"]
