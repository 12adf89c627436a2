"""The caller (``me``) and the practice-admin resources."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import filtersets
from api.concurrency import CreateMixin, RetrieveMixin, UpdateMixin
from api.permissions import caller
from api.serializers import people as serializers
from api.views.base import PracticeAdminViewSet
from cases import selectors, services
from cases.models import Membership, Practice, SupervisionAssignment, User


class MeView(APIView):
    """Who the caller is, and their roles in each practice."""

    permission_classes = [IsAuthenticated]
    allowed_roles = "any signed-in user"

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.MeSerializer(caller(request)).data)


class MembershipViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    UpdateMixin,
    PracticeAdminViewSet[Membership],
):
    """Who holds which role in the practice. Revoke with ``is_active: false``."""

    queryset = Membership.objects.none()
    selector = selectors.membership_list
    related = ("user",)
    serializer_class = serializers.MembershipSerializer
    filterset_class = filtersets.MembershipFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("is_active", None)  # a new membership is active
        serializer.instance = services.membership_grant(**data, granted_by=caller(self.request))

    def perform_update(self, serializer: Any) -> None:
        membership = serializer.instance
        is_active = serializer.validated_data.get("is_active")
        if is_active is False:
            services.membership_revoke(membership=membership)
        elif is_active is True:
            services.membership_grant(
                practice=membership.practice,
                user=membership.user,
                role=membership.role,
                granted_by=caller(self.request),
            )


class SupervisionAssignmentViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    mixins.DestroyModelMixin,
    PracticeAdminViewSet[SupervisionAssignment],
):
    """Which supervisor supervises which clinician."""

    queryset = SupervisionAssignment.objects.none()
    selector = selectors.supervision_assignment_list
    serializer_class = serializers.SupervisionAssignmentSerializer
    filterset_class = filtersets.SupervisionAssignmentFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.supervision_assign(**serializer.validated_data)


class PracticeViewSet(
    mixins.ListModelMixin,
    RetrieveMixin,
    UpdateMixin,
    PracticeAdminViewSet[Practice],
):
    """The practices the caller administers, with their settings."""

    queryset = Practice.objects.none()
    selector = selectors.administered_practices
    serializer_class = serializers.PracticeSettingsSerializer
    ordering_fields = ["id", "name"]
    ordering = ["id"]
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer: Any) -> None:
        services.practice_update_settings(practice=serializer.instance, **serializer.validated_data)


class UserViewSet(mixins.ListModelMixin, CreateMixin, RetrieveMixin, PracticeAdminViewSet[User]):
    """The people of the caller's practices. Creating one answers with a one-time token with
    which they choose their password (``POST /auth/set-password/``, within 72 hours)."""

    queryset = User.objects.none()
    selector = selectors.user_list
    serializer_class = serializers.UserSerializer
    filterset_class = filtersets.UserFilter
    ordering_fields = ["id", "username"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self) -> type[serializers.UserSerializer]:
        if self.action == "create":
            return serializers.UserCreateSerializer
        return serializers.UserSerializer

    def perform_create(self, serializer: Any) -> None:
        user = services.user_create(created_by=caller(self.request), **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=user.pk)

    @extend_schema(request=None, responses=serializers.UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: Any = None) -> Response:
        """Switch the account off and revoke its tokens at once."""
        services.user_deactivate(user=self.get_object(), by=caller(request))
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=serializers.UserSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: Any = None) -> Response:
        """Switch the account on again; the person logs in with their password."""
        services.user_reactivate(user=self.get_object(), by=caller(request))
        return Response(self.get_serializer(self.get_object()).data)
