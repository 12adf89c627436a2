"""May this user act on this client, this note, this account or membership: each rule once.

The services ask these before they write. A refusal raises ``NotPermitted`` (Django's
``PermissionDenied``), which the API answers with 403, or with 400 on ``field`` when the refusal
is about a person the caller named in the input. Which rows a caller can reach at all is the
selectors' business (404 outside scope); these rules decide what may be done to a row in reach.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from cases import errors
from cases.choices import Role
from cases.models import (
    CareTeamMember,
    Client,
    Membership,
    Practice,
    ProcessNote,
    ProgressNote,
    User,
)
from cases.selectors import has_role, practices_where

CLINICAL_ROLES = (Role.CLINICIAN, Role.SUPERVISOR)


class NotPermitted(PermissionDenied):
    """A policy's refusal. ``field``: the input that named the person refused (a colleague
    named as a session's clinician); the API then answers 400 on that field, not 403."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- People and their roles --------------------------------------------------------------------


def require_member(*, practice: Practice, user: User, role: str) -> None:
    """``user`` holds an active ``role`` in ``practice``. A person named for a role they do
    not hold is invalid input (``ValidationError``), not a refusal of the caller."""
    if not Membership.objects.filter(
        practice=practice, user=user, role=role, is_active=True, user__is_active=True
    ).exists():
        raise ValidationError(errors.NOT_A_MEMBER.format(role=role.replace("_", " ")))


def require_practice_admin(*, practice: Practice, user: User) -> None:
    if not has_role(user=user, role=Role.PRACTICE_ADMIN, practice=practice):
        raise NotPermitted(errors.NOT_PRACTICE_ADMIN)


def require_may_grant(*, user: User, role: str, granted_by: User | None) -> None:
    """A practice admin may not grant themselves a clinical role: the access that comes with
    it is for another admin to give."""
    if granted_by is not None and granted_by.pk == user.pk and role in CLINICAL_ROLES:
        raise NotPermitted(errors.GRANT_SELF_CLINICAL)


def require_account_in_reach(*, user: User, by: User) -> None:
    """Switching an account off or on reaches every practice it works in: only an admin of
    all of them (where it holds an active role) may."""
    administered = practices_where(user=by, role=Role.PRACTICE_ADMIN)
    if not Membership.objects.filter(user=user, practice__in=administered).exists():
        raise NotPermitted(errors.NOT_PRACTICE_ADMIN)
    elsewhere = Membership.objects.filter(user=user, is_active=True).exclude(
        practice__in=administered
    )
    if elsewhere.exists():
        raise NotPermitted(errors.USER_IN_OTHER_PRACTICE)


# --- Clients and their care teams --------------------------------------------------------------


def require_care_team(
    *, client: Client, user: User, field: str | None = None, name_non_members: bool = True
) -> None:
    """``user`` is an active clinician of the client's practice and on its care team: one
    query when so; further queries say which it is not.

    ``field``: ``user`` was named in the input under this name by someone else; a person off
    the care team is refused on that field whatever their memberships.
    ``name_non_members``: a person with no active clinician membership of the practice is told
    so (``NOT_A_MEMBER``, invalid input: 400), as the cases services answer; without it they
    are refused like anyone off the team (403), as the ruptures services answer."""
    if CareTeamMember.objects.filter(
        client=client,
        clinician=user,
        clinician__is_active=True,
        clinician__memberships__practice_id=client.practice_id,
        clinician__memberships__role=Role.CLINICIAN,
        clinician__memberships__is_active=True,
    ).exists():
        return
    if (
        field is not None
        and not CareTeamMember.objects.filter(client=client, clinician=user).exists()
    ):
        raise NotPermitted(errors.NOT_IN_CARE_TEAM, field=field)
    if name_non_members:
        require_member(practice=client.practice, user=user, role=Role.CLINICIAN)
    raise NotPermitted(errors.NOT_IN_CARE_TEAM, field=field)


def require_primary_to_name_primary(*, client: Client, user: User, new_primary: User) -> None:
    """Only the client's primary clinician names another primary clinician."""
    if new_primary.pk != client.primary_clinician_id and user.pk != client.primary_clinician_id:
        raise NotPermitted(errors.PRIMARY_CHANGE_PRIMARY_ONLY)


def require_may_remove_from_care_team(*, client: Client, clinician: User, user: User) -> None:
    """Anyone on the team may leave it; only the primary clinician removes others."""
    if user.pk not in (clinician.pk, client.primary_clinician_id):
        raise NotPermitted(errors.CARE_TEAM_REMOVE_PRIMARY_ONLY)


# --- Notes -------------------------------------------------------------------------------------


def require_author(*, note: ProgressNote | ProcessNote, user: User, refusal: str) -> None:
    """Only a note's author edits or signs its draft, and a process note is its author's
    alone; ``refusal`` says which act was refused."""
    if note.author_id != user.pk:
        raise NotPermitted(refusal)


def require_may_archive(*, record: Model, user: User) -> None:
    """A process note is archived by its author; any other clinical record by the care team
    of its client."""
    if isinstance(record, ProcessNote):
        require_author(note=record, user=user, refusal=errors.PROCESS_NOTE_AUTHOR_ONLY)
        return
    if isinstance(record, Client):
        client = record
    elif isinstance(record, ProgressNote):  # the one record whose client is its session's
        client = record.session.client
    else:  # every other clinical record names its client
        client = cast(Client, cast(Any, record).client)
    require_care_team(client=client, user=user)
