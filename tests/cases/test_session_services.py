"""Therapy sessions are created by a clinician on the client's care team, for an active client,
at a time-zone-aware start."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import errors, services
from cases.choices import Attendance, Modality, Role, Setting
from cases.models import Membership, TherapySession

LAST_WEEK = timezone.now() - dt.timedelta(days=7)


def _create(client, clinician, **overrides) -> TherapySession:
    fields = {
        "starts_at": LAST_WEEK,
        "duration_minutes": 50,
        "modality": Modality.INDIVIDUAL,
        "setting": Setting.VIDEO,
    }
    return services.session_create(client=client, clinician=clinician, **{**fields, **overrides})


def test_session_create_records_a_session(client, clinician):
    session = _create(client, clinician)
    assert session.practice_id == client.practice_id
    assert session.attendance == Attendance.SCHEDULED
    assert TherapySession.objects.filter(client=client, clinician=clinician).count() == 1


def test_session_create_refuses_a_clinician_not_on_the_care_team(client, other_clinician):
    with pytest.raises(PermissionDenied) as excinfo:
        _create(client, other_clinician)
    assert str(excinfo.value) == errors.NOT_IN_CARE_TEAM
    assert not TherapySession.objects.exists()


def test_session_create_refuses_a_clinician_of_another_practice(client, foreign_clinician):
    with pytest.raises(ValidationError) as excinfo:
        _create(client, foreign_clinician)
    assert excinfo.value.messages == [errors.NOT_A_MEMBER.format(role="clinician")]


def test_session_create_refuses_a_clinician_whose_membership_was_revoked(
    client, clinician, practice
):
    services.membership_revoke(
        membership=Membership.objects.get(user=clinician, practice=practice, role=Role.CLINICIAN)
    )
    with pytest.raises(ValidationError) as excinfo:
        _create(client, clinician)
    assert excinfo.value.messages == [errors.NOT_A_MEMBER.format(role="clinician")]


def test_session_create_refuses_a_discharged_client(client, clinician):
    services.client_discharge(client=client, discharge_date=timezone.localdate())
    with pytest.raises(ValidationError) as excinfo:
        _create(client, clinician)
    assert excinfo.value.messages == [errors.CLIENT_DISCHARGED]


def test_session_create_refuses_a_naive_start(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _create(client, clinician, starts_at=dt.datetime(2025, 3, 4, 10, 0))  # noqa: DTZ001
    assert excinfo.value.message_dict == {"starts_at": [errors.NAIVE_DATETIME]}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"duration_minutes": 0}, id="duration-0"),
        pytest.param({"duration_minutes": 601}, id="duration-601"),
        pytest.param({"modality": "online"}, id="modality"),
        pytest.param({"setting": "car"}, id="setting"),
        pytest.param({"attendance": "maybe"}, id="attendance"),
    ],
)
def test_session_create_refuses_invalid_fields(client, clinician, fields):
    with pytest.raises(ValidationError) as excinfo:
        _create(client, clinician, **fields)
    assert set(excinfo.value.message_dict) >= set(fields)
    assert not TherapySession.objects.exists()


def test_session_update_changes_attendance(session):
    services.session_update(session=session, attendance=Attendance.NO_SHOW)
    session.refresh_from_db()
    assert session.attendance == Attendance.NO_SHOW


def test_session_update_refuses_a_naive_start(session):
    with pytest.raises(ValidationError) as excinfo:
        services.session_update(session=session, starts_at=dt.datetime(2025, 3, 4, 10))  # noqa: DTZ001
    assert excinfo.value.message_dict == {"starts_at": [errors.NAIVE_DATETIME]}


def test_session_update_refuses_moving_the_session_to_another_client(session, other_client):
    with pytest.raises(ValidationError) as excinfo:
        services.session_update(session=session, client=other_client, clinician=None)
    assert set(excinfo.value.message_dict) == {"client", "clinician"}
    session.refresh_from_db()
    assert session.client_id != other_client.pk
