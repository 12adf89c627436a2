"""Every read of the cases app that could leak data takes the caller and scopes by them.

A clinician sees the clients on whose care team they are, in practices where they hold an
active clinician membership, and whatever hangs off those clients. Process notes are their
author's alone. Nothing here returns rows of a practice the caller is not an active member of.
"""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from cases.choices import NoteStatus, Role
from cases.compiled import CompiledQuery
from cases.models import (
    AccessEvent,
    Client,
    Membership,
    NoteAddendum,
    Participant,
    Practice,
    ProcessNote,
    ProgressNote,
    SessionMeasure,
    SupervisionAssignment,
    TherapySession,
    User,
)


def memberships_of(*, user: User) -> QuerySet[Membership]:
    if not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, is_active=True).select_related("practice")


def active_memberships(user: str = "pk") -> ArraySubquery:
    """An annotation: the active memberships of the user at ``user`` (an outer reference),
    each as ``"role:practice id"``; ``held_memberships`` reads it."""
    return ArraySubquery(
        Membership.objects.filter(user=OuterRef(user), is_active=True)
        .order_by("practice_id", "role")
        .values(held=Concat("role", Value(":"), Cast("practice_id", CharField())))
    )


def _with_memberships(user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk=user_id).annotate(held_memberships=active_memberships())


# Every request reads its user afresh (api.authentication): one statement, compiled once.
_user_with_memberships = CompiledQuery(_with_memberships, "user_id")


def user_with_memberships(*, user_id: int) -> User | None:
    """The user, read with their active memberships in the same statement (one snapshot)."""
    return next(iter(_user_with_memberships(user_id=user_id)), None)


def held_memberships(*, user: User) -> list[tuple[str, int]]:
    """The user's active ``(role, practice id)`` pairs: from the annotation when the user
    was read with it, else queried."""
    if not user.is_active:
        return []
    annotated: list[str] | None = getattr(user, "held_memberships", None)
    if annotated is None:
        return list(memberships_of(user=user).values_list("role", "practice_id"))
    pairs = [held.rpartition(":") for held in annotated]
    return [(role, int(practice_id)) for role, _, practice_id in pairs]


def practices_where(*, user: User, role: str) -> QuerySet[Practice]:
    if not user.is_active:
        return Practice.objects.none()
    return Practice.objects.filter(
        memberships__user=user, memberships__role=role, memberships__is_active=True
    )


def has_role(*, user: User, role: str, practice: Practice | None = None) -> bool:
    memberships = memberships_of(user=user).filter(role=role)
    if practice is not None:
        memberships = memberships.filter(practice=practice)
    return memberships.exists()


def colleague_clinicians(*, user: User) -> QuerySet[User]:
    """Active clinicians of the practices where the caller practises: whom they may name as a
    client's clinician. Anyone else reads as an id that does not exist."""
    return User.objects.filter(
        is_active=True,
        memberships__role=Role.CLINICIAN,
        memberships__is_active=True,
        memberships__practice__in=practices_where(user=user, role=Role.CLINICIAN),
    ).distinct()


def administered_practices(*, user: User) -> QuerySet[Practice]:
    """The practices the caller administers: what a practice admin reads and changes."""
    return practices_where(user=user, role=Role.PRACTICE_ADMIN)


def clinician_practices(*, user: User) -> QuerySet[Practice]:
    """The practices where the caller practises: where they may register a client."""
    return practices_where(user=user, role=Role.CLINICIAN)


def administered_people(*, user: User) -> QuerySet[User]:
    """Members of the practices the caller administers."""
    return User.objects.filter(
        memberships__practice__in=administered_practices(user=user)
    ).distinct()


def membership_list(*, user: User) -> QuerySet[Membership]:
    """Every membership (revoked ones too) of the practices the caller administers."""
    return Membership.objects.filter(practice__in=administered_practices(user=user))


def supervision_assignment_list(*, user: User) -> QuerySet[SupervisionAssignment]:
    """The supervision assignments of the practices the caller administers."""
    return SupervisionAssignment.objects.filter(practice__in=administered_practices(user=user))


def user_list(*, user: User) -> QuerySet[User]:
    """The people of the practices the caller administers (any membership there, revoked or
    not, of any account, active or not), each with ``administered_memberships``: their
    memberships in those practices only. Their roles elsewhere are not this admin's
    business."""
    practices = practices_where(user=user, role=Role.PRACTICE_ADMIN)
    memberships = Membership.objects.filter(practice__in=practices)
    return User.objects.filter(pk__in=memberships.values("user_id")).prefetch_related(
        Prefetch(
            "memberships",
            queryset=memberships.order_by("practice_id", "role"),
            to_attr="administered_memberships",
        )
    )


def client_list(*, user: User) -> QuerySet[Client]:
    """Archived records (``archived_at`` set by DELETE) are out of every list and lookup
    here and below, and so is whatever hangs off an archived client, session or episode."""
    return Client.objects.filter(
        care_team_members__clinician=user,
        practice__in=practices_where(user=user, role=Role.CLINICIAN),
        archived_at__isnull=True,
    )


def participant_list(*, user: User) -> QuerySet[Participant]:
    """The participants of couple and family clients on the caller's care teams."""
    return Participant.objects.filter(client__in=client_list(user=user), archived_at__isnull=True)


def session_list(*, user: User, client: Client | None = None) -> QuerySet[TherapySession]:
    sessions = TherapySession.objects.filter(
        client__in=client_list(user=user), archived_at__isnull=True
    )
    if client is not None:
        sessions = sessions.filter(client=client)
    return sessions


def has_progress_note() -> Exists:
    """An annotation: the session has a progress note (archived or not)."""
    return Exists(ProgressNote.objects.filter(session=OuterRef("pk")))


def progress_note_list(
    *, user: User, include_archived_signed: bool = False
) -> QuerySet[ProgressNote]:
    """``include_archived_signed``: a signed note stays part of the record when archived; it
    leaves lists, but the care team still reads it by its id (the API's GET ``{id}/``)."""
    live = Q(archived_at__isnull=True)
    if include_archived_signed:
        live |= Q(status=NoteStatus.SIGNED)
    return ProgressNote.objects.filter(live, session__in=session_list(user=user))


def addendum_list(*, user: User, note: ProgressNote | None = None) -> QuerySet[NoteAddendum]:
    addenda = NoteAddendum.objects.filter(note__in=progress_note_list(user=user))
    if note is not None:
        addenda = addenda.filter(note=note)
    return addenda


def process_note_list(*, user: User) -> QuerySet[ProcessNote]:
    """The author's own process notes, in practices where they still practise."""
    return ProcessNote.objects.filter(
        author=user,
        practice__in=practices_where(user=user, role=Role.CLINICIAN),
        archived_at__isnull=True,
        session__archived_at__isnull=True,
        session__client__archived_at__isnull=True,
    )


def measure_list(
    *, user: User, measure_model: type[SessionMeasure], client: Client | None = None
) -> QuerySet[SessionMeasure]:
    measures = measure_model._default_manager.filter(
        session__in=session_list(user=user), archived_at__isnull=True
    )
    if client is not None:
        measures = measures.filter(client=client)
    return measures


def supervisees_of(*, user: User, practice: Practice) -> QuerySet[User]:
    """Clinicians this supervisor is assigned to in the practice, while both roles are live."""
    if not has_role(user=user, role=Role.SUPERVISOR, practice=practice):
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        supervisors_assigned__supervisor=user,
        supervisors_assigned__practice=practice,
        memberships__practice=practice,
        memberships__role=Role.CLINICIAN,
        memberships__is_active=True,
    ).distinct()


def access_event_list(*, user: User) -> QuerySet[AccessEvent]:
    """The access log of the practices the caller administers. Clinicians and supervisors
    never read it."""
    return AccessEvent.objects.filter(
        practice__in=practices_where(user=user, role=Role.PRACTICE_ADMIN)
    )
