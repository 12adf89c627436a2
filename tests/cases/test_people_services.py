"""Memberships, supervision, clients and care teams, written through cases.services."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from cases import errors, services
from cases.choices import ClientKind, ClientStatus, Role
from cases.models import CareTeamMember, Client, Membership, SupervisionAssignment
from tests.factories import UserFactory

NOT_A_CLINICIAN = errors.NOT_A_MEMBER.format(role="clinician")
NOT_A_SUPERVISOR = errors.NOT_A_MEMBER.format(role="supervisor")


def _care_team(client: Client) -> set:
    return set(CareTeamMember.objects.filter(client=client).values_list("clinician", flat=True))


def _new_client(practice, primary, **kwargs) -> Client:
    return services.client_create(
        practice=practice,
        kind=ClientKind.COUPLE,
        name="Robin and Sam Park",
        intake_date=dt.date(2025, 1, 6),
        primary_clinician=primary,
        **kwargs,
    )


# --- Memberships and supervision ---------------------------------------------------------------


def test_membership_grant_reactivates_a_revoked_membership(practice, clinician):
    membership = Membership.objects.get(user=clinician, practice=practice)
    services.membership_revoke(membership=membership)
    assert not Membership.objects.get(pk=membership.pk).is_active
    again = services.membership_grant(practice=practice, user=clinician, role=Role.CLINICIAN)
    assert again.pk == membership.pk
    assert again.is_active


def test_supervision_assign_refuses_self(practice, clinician):
    services.membership_grant(practice=practice, user=clinician, role=Role.SUPERVISOR)
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(practice=practice, supervisor=clinician, clinician=clinician)
    assert excinfo.value.messages == [errors.SUPERVISE_SELF]


def test_supervision_assign_refuses_a_supervisor_without_the_role(
    practice, clinician, other_clinician
):
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(
            practice=practice, supervisor=other_clinician, clinician=clinician
        )
    assert excinfo.value.messages == [NOT_A_SUPERVISOR]


def test_supervision_assign_refuses_a_supervisee_who_is_not_a_clinician(
    practice, supervisor, practice_admin
):
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(
            practice=practice, supervisor=supervisor, clinician=practice_admin
        )
    assert excinfo.value.messages == [NOT_A_CLINICIAN]


def test_supervision_assign_refuses_a_clinician_of_another_practice(
    practice, supervisor, foreign_clinician
):
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(
            practice=practice, supervisor=supervisor, clinician=foreign_clinician
        )
    assert excinfo.value.messages == [NOT_A_CLINICIAN]
    assert not SupervisionAssignment.objects.filter(clinician=foreign_clinician).exists()


def test_supervision_assign_refuses_a_revoked_supervisor(practice, supervisor, other_clinician):
    membership = Membership.objects.get(user=supervisor, role=Role.SUPERVISOR)
    services.membership_revoke(membership=membership)
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(
            practice=practice, supervisor=supervisor, clinician=other_clinician
        )
    assert excinfo.value.messages == [NOT_A_SUPERVISOR]


def test_supervision_assign_refuses_a_deactivated_user(practice, supervisor, other_clinician):
    other_clinician.is_active = False
    other_clinician.save()
    with pytest.raises(ValidationError) as excinfo:
        services.supervision_assign(
            practice=practice, supervisor=supervisor, clinician=other_clinician
        )
    assert excinfo.value.messages == [NOT_A_CLINICIAN]


def test_supervision_assign_is_idempotent(practice, supervisor, clinician):
    again = services.supervision_assign(
        practice=practice, supervisor=supervisor, clinician=clinician
    )
    assert SupervisionAssignment.objects.filter(supervisor=supervisor).get() == again


# --- Clients -----------------------------------------------------------------------------------


def test_client_create_issues_a_pseudonymous_code_and_a_care_team(
    practice, clinician, other_clinician
):
    created = _new_client(practice, clinician, care_team=[other_clinician, clinician])
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", created.code)
    assert created.status == ClientStatus.ACTIVE
    assert _care_team(created) == {clinician.pk, other_clinician.pk}


def test_client_create_retries_a_colliding_code(practice, clinician, monkeypatch):
    codes = iter(["AAAA-AAAA", "AAAA-AAAA", "BBBB-BBBB"])
    monkeypatch.setattr(services, "generate_client_code", lambda: next(codes))
    first = _new_client(practice, clinician)
    second = _new_client(practice, clinician)
    assert (first.code, second.code) == ("AAAA-AAAA", "BBBB-BBBB")
    assert Client.objects.filter(practice=practice).count() == 2


def test_client_create_gives_up_after_repeated_collisions(practice, clinician, monkeypatch):
    monkeypatch.setattr(services, "generate_client_code", lambda: "AAAA-AAAA")
    _new_client(practice, clinician)
    with pytest.raises(IntegrityError):
        _new_client(practice, clinician)
    assert Client.objects.filter(practice=practice).count() == 1


def test_client_create_refuses_a_primary_clinician_of_another_practice(practice, foreign_clinician):
    with pytest.raises(ValidationError) as excinfo:
        _new_client(practice, foreign_clinician)
    assert excinfo.value.messages == [NOT_A_CLINICIAN]
    assert not Client.objects.exists()


def test_client_create_refuses_a_care_team_member_of_another_practice(
    practice, clinician, foreign_clinician
):
    with pytest.raises(ValidationError) as excinfo:
        _new_client(practice, clinician, care_team=[foreign_clinician])
    assert excinfo.value.messages == [NOT_A_CLINICIAN]
    assert not Client.objects.exists()


def test_client_create_refuses_a_supervisor_as_primary_clinician(practice, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        _new_client(practice, supervisor)
    assert excinfo.value.messages == [NOT_A_CLINICIAN]


def test_client_create_refuses_a_blank_name(practice, clinician):
    with pytest.raises(ValidationError):
        services.client_create(
            practice=practice,
            kind=ClientKind.INDIVIDUAL,
            name="  ",
            intake_date=dt.date(2025, 1, 6),
            primary_clinician=clinician,
        )
    assert not Client.objects.exists()


def test_client_update_refuses_server_owned_fields(client, practice):
    original_code = client.code
    with pytest.raises(ValidationError) as excinfo:
        services.client_update(
            client=client,
            user=client.primary_clinician,
            code="ZZZZ-ZZZZ",
            status=ClientStatus.DISCHARGED,
        )
    assert set(excinfo.value.message_dict) == {"code", "status"}
    client.refresh_from_db()
    assert client.code == original_code


def test_client_update_puts_a_new_primary_clinician_on_the_care_team(
    client, clinician, other_clinician
):
    services.client_update(client=client, user=clinician, primary_clinician=other_clinician)
    client.refresh_from_db()
    assert client.primary_clinician == other_clinician
    assert _care_team(client) == {clinician.pk, other_clinician.pk}


def test_client_update_refuses_a_primary_clinician_of_another_practice(
    client, clinician, foreign_clinician
):
    with pytest.raises(ValidationError) as excinfo:
        services.client_update(client=client, user=clinician, primary_clinician=foreign_clinician)
    assert excinfo.value.messages == [NOT_A_CLINICIAN]
    client.refresh_from_db()
    assert client.primary_clinician == clinician
    assert foreign_clinician.pk not in _care_team(client)


def test_client_discharge_and_reactivate(client):
    services.client_discharge(client=client, discharge_date=timezone.localdate())
    client.refresh_from_db()
    assert (client.status, client.discharge_date) == (
        ClientStatus.DISCHARGED,
        timezone.localdate(),
    )
    services.client_reactivate(client=client)
    client.refresh_from_db()
    assert (client.status, client.discharge_date) == (ClientStatus.ACTIVE, None)


def test_client_discharge_refuses_a_date_before_intake(client):
    with pytest.raises(ValidationError) as excinfo:
        services.client_discharge(
            client=client, discharge_date=client.intake_date - dt.timedelta(days=1)
        )
    assert excinfo.value.message_dict == {"discharge_date": [errors.DISCHARGE_BEFORE_INTAKE]}


def test_client_discharge_refuses_a_discharged_client(client):
    services.client_discharge(client=client, discharge_date=timezone.localdate())
    with pytest.raises(ValidationError) as excinfo:
        services.client_discharge(client=client, discharge_date=timezone.localdate())
    assert excinfo.value.messages == [errors.ALREADY_DISCHARGED]


def test_client_reactivate_refuses_an_active_client(client):
    with pytest.raises(ValidationError) as excinfo:
        services.client_reactivate(client=client)
    assert excinfo.value.messages == [errors.NOT_DISCHARGED]


# --- Care teams --------------------------------------------------------------------------------


def test_care_team_add_refuses_a_clinician_of_another_practice(client, foreign_clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.care_team_add(client=client, clinician=foreign_clinician)
    assert excinfo.value.messages == [NOT_A_CLINICIAN]
    assert foreign_clinician.pk not in _care_team(client)


@pytest.mark.parametrize("persona", ["supervisor", "practice_admin"])
def test_care_team_add_refuses_someone_without_a_clinician_role(client, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(ValidationError) as excinfo:
        services.care_team_add(client=client, clinician=user)
    assert excinfo.value.messages == [NOT_A_CLINICIAN]


def test_care_team_add_refuses_a_user_with_no_membership(client):
    with pytest.raises(ValidationError) as excinfo:
        services.care_team_add(client=client, clinician=UserFactory())
    assert excinfo.value.messages == [NOT_A_CLINICIAN]


def test_care_team_add_and_remove(client, clinician, other_clinician):
    services.care_team_add(client=client, clinician=other_clinician)
    services.care_team_add(client=client, clinician=other_clinician)
    assert _care_team(client) == {clinician.pk, other_clinician.pk}
    services.care_team_remove(client=client, clinician=other_clinician, user=clinician)
    assert _care_team(client) == {clinician.pk}


def test_care_team_remove_refuses_the_primary_clinician(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.care_team_remove(client=client, clinician=clinician, user=clinician)
    assert excinfo.value.messages == [errors.PRIMARY_NOT_REMOVABLE]
    assert _care_team(client) == {clinician.pk}
