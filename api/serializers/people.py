"""Who the caller is, and the practice-admin resources: memberships, supervision, settings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer
from api.serializers.fields import ScopedPrimaryKeyField
from cases import selectors, services
from cases.choices import Role
from cases.models import Membership, Practice, SupervisionAssignment, User


class PracticeBriefSerializer(serializers.ModelSerializer[Practice]):
    class Meta:
        model = Practice
        # The time zone: "today" and "this week" of the worklist, dates of a body without one.
        fields = ["id", "name", "slug", "timezone"]
        read_only_fields = fields


class MyMembershipSerializer(serializers.ModelSerializer[Membership]):
    practice = PracticeBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["practice", "role"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer[User]):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "memberships"]
        read_only_fields = fields

    def get_memberships(self, user: User) -> list[dict[str, Any]]:
        memberships = selectors.memberships_of(user=user).order_by("practice__name", "role")
        return MyMembershipSerializer(memberships, many=True).data  # type: ignore[return-value]


class MembershipSerializer(StrictModelSerializer[Membership]):
    practice = ScopedPrimaryKeyField(model=Practice, selector=selectors.administered_practices)
    # People of the caller's practices (those created through /users/ among them); anyone
    # else reads as an id that does not exist.
    user = ScopedPrimaryKeyField(model=User, selector=selectors.administered_people)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "practice", "user", "username", "role", "is_active", "created_at"]
        read_only_fields = ["created_at"]
        create_only_fields = ["practice", "user", "role"]


class UserMembershipSerializer(serializers.ModelSerializer[Membership]):
    class Meta:
        model = Membership
        fields = ["id", "practice", "role", "is_active"]
        read_only_fields = fields


class PasswordSetTokenSerializer(serializers.Serializer[services.PasswordSetToken]):
    uid = serializers.CharField()
    token = serializers.CharField(help_text="One use; dies when the password is set.")
    expires_at = serializers.DateTimeField()


class UserSerializer(StrictModelSerializer[User]):
    """A person of the caller's practices, with their memberships there (and nowhere else)."""

    has_password = serializers.BooleanField(source="has_usable_password", read_only=True)
    memberships = UserMembershipSerializer(
        source="administered_memberships", many=True, read_only=True
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "has_password",
            "memberships",
        ]
        read_only_fields = fields


class UserCreateSerializer(UserSerializer):
    """A new person of ``practice`` with ``roles`` there; the answer carries the token with
    which they choose their password (``POST /auth/set-password/``)."""

    practice = ScopedPrimaryKeyField(
        model=Practice, selector=selectors.administered_practices, write_only=True
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        min_length=1,
        max_length=len(Role.choices),
        write_only=True,
    )
    set_password = serializers.SerializerMethodField(
        help_text="For the new person, once; null once they have a password."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "practice", "roles", "set_password"]
        read_only_fields = ["is_active"]
        extra_kwargs = {
            name: {"required": True, "allow_blank": False}
            for name in ("first_name", "last_name", "email")
        }

    @extend_schema_field(PasswordSetTokenSerializer(allow_null=True))
    def get_set_password(self, user: User) -> dict[str, Any] | None:
        token = services.password_set_token(user=user)
        return None if token is None else dict(PasswordSetTokenSerializer(token).data)


class SupervisionAssignmentSerializer(StrictModelSerializer[SupervisionAssignment]):
    practice = ScopedPrimaryKeyField(model=Practice, selector=selectors.administered_practices)
    supervisor = ScopedPrimaryKeyField(model=User, selector=selectors.administered_people)
    clinician = ScopedPrimaryKeyField(model=User, selector=selectors.administered_people)

    class Meta:
        model = SupervisionAssignment
        fields = ["id", "practice", "supervisor", "clinician", "created_at"]
        read_only_fields = ["created_at"]


class PracticeSettingsSerializer(StrictModelSerializer[Practice]):
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
            "srs_min_drop",
            "ors_reliable_change",
            "repeat_rupture_count",
            "repeat_rupture_window_days",
            "unrepaired_episode_days",
            "created_at",
        ]
        read_only_fields = ["slug", "created_at"]
