"""Who the caller is, and the practice-admin resources: memberships, supervision, settings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.base import StrictModelSerializer
from api.serializers.fields import ScopedPrimaryKeyField
from cases import selectors, services
from cases.choices import Role
from cases.models import Membership, Practice, SupervisionAssignment, User


def _admin_practices(*, user: User) -> Any:
    return selectors.practices_where(user=user, role=Role.PRACTICE_ADMIN)


class PracticeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practice
        # The time zone: "today" and "this week" of the worklist, dates of a body without one.
        fields = ["id", "name", "slug", "timezone"]
        read_only_fields = fields


class MyMembershipSerializer(serializers.ModelSerializer):
    practice = PracticeBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["practice", "role"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "memberships"]
        read_only_fields = fields

    def get_memberships(self, user: User) -> list[dict[str, Any]]:
        memberships = selectors.memberships_of(user=user).order_by("practice__name", "role")
        return MyMembershipSerializer(memberships, many=True).data  # type: ignore[return-value]


class MembershipSerializer(StrictModelSerializer):
    practice = ScopedPrimaryKeyField(model=Practice, selector=_admin_practices)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "practice", "user", "username", "role", "is_active", "created_at"]
        read_only_fields = ["created_at"]
        create_only_fields = ["practice", "user", "role"]

    def create(self, validated_data: dict[str, Any]) -> Membership:
        validated_data.pop("is_active", None)
        return services.membership_grant(**validated_data)

    def update(self, instance: Membership, validated_data: dict[str, Any]) -> Membership:
        if validated_data.get("is_active") is False:
            return services.membership_revoke(membership=instance)
        if validated_data.get("is_active") is True:
            return services.membership_grant(
                practice=instance.practice, user=instance.user, role=instance.role
            )
        return instance


class SupervisionAssignmentSerializer(StrictModelSerializer):
    practice = ScopedPrimaryKeyField(model=Practice, selector=_admin_practices)
    supervisor = ScopedPrimaryKeyField(model=User, selector=selectors.administered_people)
    clinician = ScopedPrimaryKeyField(model=User, selector=selectors.administered_people)

    class Meta:
        model = SupervisionAssignment
        fields = ["id", "practice", "supervisor", "clinician", "created_at"]
        read_only_fields = ["created_at"]

    def create(self, validated_data: dict[str, Any]) -> SupervisionAssignment:
        return services.supervision_assign(**validated_data)


class PracticeSettingsSerializer(StrictModelSerializer):
    class Meta:
        model = Practice
        fields = [
            "id",
            "name",
            "slug",
            "timezone",
            "trends_epsilon",
            "trends_publication_lag_days",
            "retention_years",
            "srs_cutoff",
            "ors_reliable_change",
            "repeat_rupture_count",
            "repeat_rupture_window_days",
            "unrepaired_episode_days",
            "created_at",
        ]
        read_only_fields = ["slug", "created_at"]

    def update(self, instance: Practice, validated_data: dict[str, Any]) -> Practice:
        return services.practice_update_settings(practice=instance, **validated_data)
