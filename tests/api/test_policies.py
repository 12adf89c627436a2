"""The answers of ``cases.policies`` through the API, where they are not the plain 403.

A colleague named as a session's clinician who is not on the client's care team is refused on
``clinician`` (400), whatever their memberships: what the session serializer answered before
the rule moved to the policy."""

from __future__ import annotations

import pytest

from cases import errors, services
from cases.choices import Role

SESSION = {
    "starts_at": "2026-11-02T09:00:00+00:00",
    "duration_minutes": 50,
    "modality": "individual",
    "setting": "in_person",
}

pytestmark = pytest.mark.django_db


def _refused_on_clinician(response) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {"field": "clinician", "code": "invalid", "message": errors.NOT_IN_CARE_TEAM}
    ]


def test_a_named_colleague_off_the_care_team_is_refused_on_clinician(
    api_as, client, clinician, other_clinician
):
    response = api_as(clinician).post(
        "/api/v1/sessions/",
        {**SESSION, "client": client.pk, "clinician": other_clinician.pk},
        format="json",
    )

    _refused_on_clinician(response)


def test_a_named_colleague_of_another_practice_is_refused_on_clinician_too(
    api_as, client, clinician, other_practice, foreign_clinician
):
    # The caller practises in both practices, so the foreign clinician is a colleague they
    # may name; not a clinician of the client's practice, they are still refused as off the
    # care team, not as a non-member.
    services.membership_grant(practice=other_practice, user=clinician, role=Role.CLINICIAN)

    response = api_as(clinician).post(
        "/api/v1/sessions/",
        {**SESSION, "client": client.pk, "clinician": foreign_clinician.pk},
        format="json",
    )

    _refused_on_clinician(response)


def test_a_named_colleague_on_the_care_team_logs_the_session(
    api_as, client, clinician, other_clinician
):
    services.care_team_add(client=client, clinician=other_clinician)

    response = api_as(clinician).post(
        "/api/v1/sessions/",
        {**SESSION, "client": client.pk, "clinician": other_clinician.pk},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["clinician"] == other_clinician.pk
