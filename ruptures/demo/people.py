"""The demo practice and its staff: memberships, roles and supervision.

A few hundred rows at most, so the ORM writes them; the password is hashed once and the hash
shared, because hashing per user (PBKDF2) would cost seconds at the reference scale.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from cases.choices import Role
from cases.models import Membership, Practice, SupervisionAssignment, User
from ruptures.demo import vocabulary as words
from ruptures.demo.clinical import NOTE_FORMAT, Clinician

DEMO_PRACTICE_NAME = "Riverside Counselling"
DEMO_PRACTICE_SLUG = "riverside-counselling"
DEMO_TIMEZONE = "Europe/London"
# One documented password for every demo login; it passes the project's validators.
DEMO_PASSWORD = "mend-demo-2026"  # noqa: S105 (published demo credential, not a secret)
STAFF_EMAIL_DOMAIN = "riverside.example.org"


class UsernameTaken(Exception):
    """A demo username belongs to a user outside the demo practice."""


@dataclass
class StaffMember:
    username: str
    first_name: str
    last_name: str
    roles: list[str]


@dataclass
class Staff:
    practice: Practice
    clinicians: list[Clinician]


def plan_staff(rng: random.Random, *, clinicians: int, supervisors: int) -> list[StaffMember]:
    """The headline logins, then generated staff: clinicians, about half of the extra
    supervisors drawn from them (a clinician who also supervises), the rest supervising only."""
    members = [
        StaffMember(username, first, last, list(roles))
        for username, first, last, roles in words.HEADLINE_STAFF
    ]
    taken = {member.username for member in members}

    def new_member(roles: list[str]) -> StaffMember:
        first = rng.choice(words.FIRST_NAMES)
        last = rng.choice(words.LAST_NAMES)
        base = f"{first}.{last}".lower().replace("'", "")
        username, suffix = base, 2
        while username in taken:
            username, suffix = f"{base}{suffix}", suffix + 1
        taken.add(username)
        return StaffMember(username, first, last, roles)

    extra_clinicians = max(0, clinicians - sum(Role.CLINICIAN in m.roles for m in members))
    extra_supervisors = max(0, supervisors - sum(Role.SUPERVISOR in m.roles for m in members))
    clinicians_who_supervise = min(extra_clinicians, (extra_supervisors + 1) // 2)
    for number in range(extra_clinicians):
        roles = [Role.CLINICIAN.value]
        if number < clinicians_who_supervise:
            roles.append(Role.SUPERVISOR.value)
        members.append(new_member(roles))
    for _ in range(extra_supervisors - clinicians_who_supervise):
        members.append(new_member([Role.SUPERVISOR.value]))
    return members


def create_practice(
    *, rng: random.Random, clinicians: int, supervisors: int, since: dt.date
) -> Staff:
    members = plan_staff(rng, clinicians=clinicians, supervisors=supervisors)
    _refuse_taken_usernames(members)
    practice = Practice.objects.create(
        name=DEMO_PRACTICE_NAME, slug=DEMO_PRACTICE_SLUG, timezone=DEMO_TIMEZONE
    )
    by_name = _create_users(practice, members, since)
    supervisors_all = [by_name[m.username] for m in members if Role.SUPERVISOR in m.roles]
    only_supervise = [by_name[m.username] for m in members if m.roles == [Role.SUPERVISOR.value]]
    clinician_users = [by_name[m.username] for m in members if Role.CLINICIAN in m.roles]
    _assign_supervisors(practice, clinician_users, supervisors_all, only_supervise)
    profiles = _clinician_profiles(rng, clinician_users, supervisors_all)
    return Staff(practice=practice, clinicians=profiles)


def _refuse_taken_usernames(members: list[StaffMember]) -> None:
    usernames = [m.username for m in members]
    clash = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if clash:
        raise UsernameTaken(
            "These demo usernames already belong to users outside the demo practice: "
            f"{', '.join(clash[:10])}. Rename or remove them first."
        )


def _create_users(
    practice: Practice, members: list[StaffMember], since: dt.date
) -> dict[str, User]:
    """The staff's users and memberships, by username."""
    password = make_password(DEMO_PASSWORD)
    joined = dt.datetime.combine(since, dt.time(9), tzinfo=dt.UTC)
    users = User.objects.bulk_create(
        User(
            username=m.username,
            first_name=m.first_name,
            last_name=m.last_name,
            email=f"{m.username}@{STAFF_EMAIL_DOMAIN}",
            password=password,
            date_joined=joined,
        )
        for m in members
    )
    by_name = {user.username: user for user in users}
    Membership.objects.bulk_create(
        Membership(practice=practice, user=by_name[m.username], role=role)
        for m in members
        for role in m.roles
    )
    return by_name


def _assign_supervisors(
    practice: Practice,
    clinician_users: list[User],
    supervisors_all: list[User],
    only_supervise: list[User],
) -> None:
    assignments = []
    for index, clinician in enumerate(clinician_users):
        # Clinicians who supervise are supervised by someone who only supervises; the rest
        # are spread over every supervisor but themselves.
        if clinician in supervisors_all:
            pool = only_supervise
        else:
            pool = supervisors_all
        pool = [s for s in pool if s.pk != clinician.pk]
        if pool:
            supervisor = pool[index % len(pool)]
            assignments.append(
                SupervisionAssignment(practice=practice, supervisor=supervisor, clinician=clinician)
            )
    SupervisionAssignment.objects.bulk_create(assignments)


def _clinician_profiles(
    rng: random.Random, clinician_users: list[User], supervisors_all: list[User]
) -> list[Clinician]:
    profiles = []
    for number, user in enumerate(clinician_users):
        supervises = user in supervisors_all
        # The headline clinicians use every measure, so their logins show all of Mend.
        headline = number < 2
        profiles.append(
            Clinician(
                id=user.pk,
                note_format=NOTE_FORMAT.pick(rng),
                uses_pcoms=headline or rng.random() < 0.2,
                therapist_psq=headline or rng.random() < 0.15,
                # Part-timers and clinicians who also supervise carry smaller caseloads.
                caseload=0.6 if supervises else rng.choice((0.5, 1.0, 1.0, 1.0)),
            )
        )
    return profiles
