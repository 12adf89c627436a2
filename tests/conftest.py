"""Persona fixtures (healthchecks' alice / bob / charlie) and database helpers.

Northside is the practice under test. ``clinician`` (alice) holds the care team of ``client``;
``other_clinician`` (bob) practises at Northside on another care team (``other_client``);
``foreign_clinician`` (charlie) practises at Southside (``foreign_client``). ``supervisor``
supervises alice; ``practice_admin`` runs Northside. People and clients are created through
the services, the way the application creates them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pgtrigger
import pytest
from django.core.management.commands import flush
from django.db import IntegrityError, ProgrammingError, transaction
from django.utils import timezone

from cases import services
from cases.choices import Attendance, ClientKind, Modality, Role, Setting
from cases.models import Client, Practice, TherapySession, User
from tests.factories import PracticeFactory, UserFactory

# The access log refuses TRUNCATE; Django's flush, which ends every transactional test
# (``django_db(transaction=True)``), empties every table with it.
AUDIT_TRUNCATE_GUARDS = (
    "cases.AccessEvent:access_event_no_truncate",
    "cases.AccessChainHead:access_chain_head_no_truncate",
)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_guards() -> Iterator[None]:
    """Transactional tests end with ``flush``; let it, and only it, empty the access log."""
    handle = flush.Command.handle

    def handle_ignoring_guards(self, *args, **options):  # type: ignore[no-untyped-def]
        with pgtrigger.ignore(*AUDIT_TRUNCATE_GUARDS):
            return handle(self, *args, **options)

    flush.Command.handle = handle_ignoring_guards  # type: ignore[method-assign]
    yield
    flush.Command.handle = handle  # type: ignore[method-assign]


def _person(practice: Practice, role: str, username: str) -> User:
    user = UserFactory(username=username)
    services.membership_grant(practice=practice, user=user, role=role)
    return user


@pytest.fixture
def practice(db) -> Practice:
    return PracticeFactory(name="Northside Therapy", slug="northside")


@pytest.fixture
def other_practice(db) -> Practice:
    return PracticeFactory(name="Southside Counselling", slug="southside")


@pytest.fixture
def clinician(practice) -> User:
    return _person(practice, Role.CLINICIAN, "alice")


@pytest.fixture
def other_clinician(practice) -> User:
    return _person(practice, Role.CLINICIAN, "bob")


@pytest.fixture
def foreign_clinician(other_practice) -> User:
    return _person(other_practice, Role.CLINICIAN, "charlie")


@pytest.fixture
def supervisor(practice, clinician) -> User:
    user = _person(practice, Role.SUPERVISOR, "sam")
    services.supervision_assign(practice=practice, supervisor=user, clinician=clinician)
    return user


@pytest.fixture
def practice_admin(practice) -> User:
    return _person(practice, Role.PRACTICE_ADMIN, "pat")


def _client(practice: Practice, clinician: User, name: str) -> Client:
    return services.client_create(
        practice=practice,
        kind=ClientKind.INDIVIDUAL,
        name=name,
        intake_date=timezone.localdate() - dt.timedelta(days=365),
        primary_clinician=clinician,
    )


@pytest.fixture
def client(practice, clinician) -> Client:
    """Alice's client: the unit of care, not an HTTP client. (It shadows pytest-django's
    ``client`` fixture, a Django test client, which no test here needs.)"""
    return _client(practice, clinician, "Dana Whitfield")


@pytest.fixture
def other_client(practice, other_clinician) -> Client:
    return _client(practice, other_clinician, "Eli Navarro")


@pytest.fixture
def foreign_client(other_practice, foreign_clinician) -> Client:
    return _client(other_practice, foreign_clinician, "Farah Odum")


@pytest.fixture
def session(client, clinician) -> TherapySession:
    """An attended session of alice with her client, last week."""
    return services.session_create(
        client=client,
        clinician=clinician,
        starts_at=timezone.now() - dt.timedelta(days=7),
        duration_minutes=50,
        modality=Modality.INDIVIDUAL,
        setting=Setting.IN_PERSON,
        attendance=Attendance.ATTENDED,
    )


@pytest.fixture
def refused() -> Callable[..., AbstractContextManager]:
    """``with refused("constraint_name"):`` expects the database to refuse the statements in
    the block with an ``IntegrityError`` naming that constraint. The block runs in a
    savepoint, so the test can go on using the database afterwards."""

    @contextmanager
    def check(constraint: str) -> Iterator[None]:
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            yield
        assert excinfo.value.__cause__.diag.constraint_name == constraint

    return check


@pytest.fixture
def trigger_refuses() -> Callable[..., AbstractContextManager]:
    """``with trigger_refuses("trigger_name"):`` expects a pgtrigger ``Protect`` trigger of
    that name to refuse the statements in the block. The trigger's ``RAISE EXCEPTION``
    (SQLSTATE P0001) reaches Django as a ``ProgrammingError``."""

    @contextmanager
    def check(trigger: str) -> Iterator[None]:
        with pytest.raises(ProgrammingError) as excinfo, transaction.atomic():
            yield
        diag = excinfo.value.__cause__.diag
        assert diag.message_primary.startswith("pgtrigger: Cannot")
        assert f"pgtrigger_{trigger}_" in diag.context

    return check
