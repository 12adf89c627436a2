"""Role permissions. Roles gate whole endpoints (403); which rows a caller reaches is the
selectors' business (404 outside scope)."""

from __future__ import annotations

from typing import Any, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from cases.choices import Role
from cases.models import User
from cases.selectors import held_memberships


def caller(request: Request) -> User:
    """The signed-in user of a request that passed ``IsAuthenticated``."""
    return cast(User, request.user)


def memberships_held(request: Request) -> list[tuple[str, int]]:
    """The caller's active ``(role, practice id)`` pairs, read once per request: the role
    checks use the roles, the access log the practices."""
    cached = getattr(request, "_mend_memberships", None)
    if cached is None:
        user = request.user
        cached = held_memberships(user=user) if user is not None and user.is_authenticated else []
        request._mend_memberships = cached  # type: ignore[attr-defined]
    return cached


def roles_of(request: Request) -> set[str]:
    """The caller's active roles in any practice."""
    return {role for role, _ in memberships_held(request)}


class _HasRole(BasePermission):
    role: str = ""
    message = ""

    def has_permission(self, request: Request, view: Any) -> bool:
        return self.role in roles_of(request)


class IsClinician(_HasRole):
    role = Role.CLINICIAN
    message = "Only clinicians work with client records."


class IsPracticeAdmin(_HasRole):
    role = Role.PRACTICE_ADMIN
    message = "Only practice admins manage the practice."


class IsSupervisor(_HasRole):
    role = Role.SUPERVISOR
    message = "Only supervisors read trends."
