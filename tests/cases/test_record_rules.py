"""Rules the clinical record holds, tried through the service (refused with its message), the
database (a bulk ``update()`` or raw SQL, refused by a trigger or constraint) and the API:

- a signed progress note fixes its session's start, duration, attendance, modality and
  client, and the session cannot be archived;
- only a draft's author edits or signs it; an archived signed note stays readable by id;
- only the client's primary clinician names another primary or removes others from the team.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import errors, selectors, services
from cases.choices import Attendance, Modality, NoteFormat, NoteStatus, Setting
from cases.models import CareTeamMember, Client, ProgressNote, TherapySession, User
from tests.api.conftest import client_for
from tests.factories import member, sections_for

SESSION_LOCKED = "signed_session_locked"


@pytest.fixture
def draft(session, clinician) -> ProgressNote:
    return services.note_create(
        session=session,
        author=clinician,
        format=NoteFormat.SOAP,
        sections=sections_for(NoteFormat.SOAP),
    )


@pytest.fixture
def signed(draft, clinician) -> ProgressNote:
    return services.note_sign(note=draft, signer=clinician)


@pytest.fixture
def teammate(client, other_clinician) -> User:
    """Bob, on the care team of alice's client; alice stays its primary clinician."""
    services.care_team_add(client=client, clinician=other_clinician)
    return other_clinician


@pytest.fixture
def third(practice, client) -> User:
    """A third clinician of the practice on the same care team."""
    clinician = member(practice, username="cora")
    services.care_team_add(client=client, clinician=clinician)
    return clinician


def _sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _fresh(session: TherapySession) -> TherapySession:
    return TherapySession.objects.get(pk=session.pk)


def _team(client: Client) -> set[int]:
    return set(CareTeamMember.objects.filter(client=client).values_list("clinician_id", flat=True))


def _patch(api: APIClient, url: str, body: dict[str, Any]) -> Any:
    """A PATCH as a frontend sends it: with the ETag of the version just read."""
    etag = api.get(url)["ETag"]
    return api.patch(url, body, HTTP_IF_MATCH=etag)


# --- A signed note fixes its session: the service ------------------------------------------------

LOCKED_CHANGES: list[Any] = [
    pytest.param("starts_at", lambda s: s.starts_at + dt.timedelta(hours=1), id="start"),
    pytest.param("duration_minutes", lambda s: s.duration_minutes + 10, id="duration"),
    pytest.param("attendance", lambda s: Attendance.NO_SHOW, id="attendance"),
    pytest.param("modality", lambda s: Modality.COUPLE, id="modality"),
]


@pytest.mark.parametrize(("field", "changed"), LOCKED_CHANGES)
def test_signed_note_fixes_its_session_in_the_service(
    signed, session, field: str, changed: Callable[[TherapySession], Any]
):
    before = getattr(_fresh(session), field)
    with pytest.raises(ValidationError) as excinfo:
        services.session_update(session=session, **{field: changed(session)})
    assert excinfo.value.message_dict == {field: [errors.SESSION_SIGNED_LOCKED]}
    assert getattr(_fresh(session), field) == before


def test_signed_session_still_takes_its_setting_and_unchanged_values(signed, session):
    services.session_update(
        session=session, setting=Setting.VIDEO, starts_at=session.starts_at, duration_minutes=50
    )
    assert _fresh(session).setting == Setting.VIDEO


def test_a_draft_note_leaves_its_session_editable(draft, session):
    services.session_update(
        session=session, duration_minutes=30, attendance=Attendance.LATE_CANCELLED
    )
    fresh = _fresh(session)
    assert (fresh.duration_minutes, fresh.attendance) == (30, Attendance.LATE_CANCELLED)


def test_signed_session_cannot_be_archived_in_the_service(signed, session, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.record_archive(record=session, user=clinician)
    assert excinfo.value.messages == [errors.SESSION_SIGNED_NOT_ARCHIVABLE]
    assert _fresh(session).archived_at is None


def test_session_with_a_draft_note_can_be_archived(draft, session, clinician):
    services.record_archive(record=session, user=clinician)
    assert _fresh(session).archived_at is not None


# --- …the database -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"starts_at": dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)}, id="start"),
        pytest.param({"duration_minutes": 30}, id="duration"),
        pytest.param({"attendance": Attendance.NO_SHOW}, id="attendance"),
        pytest.param({"modality": Modality.FAMILY}, id="modality"),
        pytest.param({"archived_at": dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)}, id="archive"),
    ],
)
def test_signed_session_refuses_bulk_updates(trigger_refuses, signed, session, change):
    (field, value), before = next(iter(change.items())), _fresh(session)
    with trigger_refuses(SESSION_LOCKED):
        TherapySession.objects.filter(pk=session.pk).update(**change)
    after = _fresh(session)
    assert getattr(after, field) == getattr(before, field) != value


def test_signed_session_refuses_another_client_in_raw_sql(
    trigger_refuses, signed, session, other_client
):
    with trigger_refuses(SESSION_LOCKED):
        _sql(
            "UPDATE cases_therapysession SET client_id = %s WHERE id = %s",
            other_client.pk,
            session.pk,
        )
    assert _fresh(session).client_id == session.client_id


def test_signed_session_takes_a_change_of_setting_in_sql(signed, session):
    TherapySession.objects.filter(pk=session.pk).update(setting=Setting.PHONE)
    assert _fresh(session).setting == Setting.PHONE


def test_session_of_a_draft_note_takes_bulk_updates(draft, session):
    TherapySession.objects.filter(pk=session.pk).update(
        duration_minutes=30, archived_at=timezone.now()
    )
    fresh = _fresh(session)
    assert fresh.duration_minutes == 30 and fresh.archived_at is not None


def test_a_note_signed_straight_in_the_database_locks_its_session_too(
    trigger_refuses, draft, session, clinician
):
    ProgressNote.objects.filter(pk=draft.pk).update(
        status=NoteStatus.SIGNED, signed_by=clinician, signed_at=timezone.now()
    )
    with trigger_refuses(SESSION_LOCKED):
        TherapySession.objects.filter(pk=session.pk).update(duration_minutes=20)


# --- …the API ------------------------------------------------------------------------------------


def test_api_patch_of_a_signed_sessions_start_answers_400(signed, session, clinician):
    api = client_for(clinician)
    response = _patch(api, f"/api/v1/sessions/{session.pk}/", {"starts_at": "2026-01-05T10:00Z"})
    assert response.status_code == 400, response.content
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("starts_at", errors.SESSION_SIGNED_LOCKED)
    ]
    assert _fresh(session).starts_at == session.starts_at


def test_api_patch_of_a_signed_sessions_setting_is_applied(signed, session, clinician):
    api = client_for(clinician)
    response = _patch(api, f"/api/v1/sessions/{session.pk}/", {"setting": "phone"})
    assert response.status_code == 200, response.content
    assert response.json()["setting"] == "phone"


def test_api_delete_of_a_signed_session_answers_400_and_keeps_it(signed, session, clinician):
    api = client_for(clinician)
    response = api.delete(f"/api/v1/sessions/{session.pk}/")
    assert response.status_code == 400, response.content
    assert [e["message"] for e in response.json()["errors"]] == [
        errors.SESSION_SIGNED_NOT_ARCHIVABLE
    ]
    assert api.get(f"/api/v1/sessions/{session.pk}/").status_code == 200


# --- Only a draft's author edits or signs it -----------------------------------------------------


def test_only_the_author_edits_a_draft(draft, teammate):
    with pytest.raises(PermissionDenied) as excinfo:
        services.note_update(
            note=draft, editor=teammate, sections=sections_for(NoteFormat.SOAP, "mine now")
        )
    assert str(excinfo.value) == errors.NOTE_EDITOR_NOT_AUTHOR
    assert ProgressNote.objects.get(pk=draft.pk).sections == sections_for(NoteFormat.SOAP)


def test_only_the_author_signs_a_draft(draft, teammate):
    with pytest.raises(PermissionDenied) as excinfo:
        services.note_sign(note=draft, signer=teammate)
    assert str(excinfo.value) == errors.NOTE_SIGNER_NOT_AUTHOR
    assert ProgressNote.objects.get(pk=draft.pk).status == NoteStatus.DRAFT


def test_database_refuses_a_signature_by_anyone_but_the_author(refused, draft, teammate):
    with refused("note_signed_by_author"):
        ProgressNote.objects.filter(pk=draft.pk).update(
            status=NoteStatus.SIGNED, signed_by=teammate, signed_at=timezone.now()
        )
    assert ProgressNote.objects.get(pk=draft.pk).status == NoteStatus.DRAFT


def test_api_edit_of_a_draft_by_a_teammate_answers_403(draft, teammate):
    response = _patch(
        client_for(teammate),
        f"/api/v1/progress-notes/{draft.pk}/",
        {"sections": sections_for(NoteFormat.SOAP, "mine now")},
    )
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == errors.NOTE_EDITOR_NOT_AUTHOR
    assert ProgressNote.objects.get(pk=draft.pk).sections == sections_for(NoteFormat.SOAP)


def test_api_signature_by_a_teammate_answers_403(draft, teammate):
    response = client_for(teammate).post(f"/api/v1/progress-notes/{draft.pk}/sign/")
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == errors.NOTE_SIGNER_NOT_AUTHOR
    assert ProgressNote.objects.get(pk=draft.pk).status == NoteStatus.DRAFT


# --- An archived signed note stays readable ------------------------------------------------------


def test_archived_signed_note_is_read_by_id_but_left_out_of_lists(signed, clinician):
    services.record_archive(record=signed, user=clinician)
    assert not selectors.progress_note_list(user=clinician).exists()
    assert list(selectors.progress_note_list(user=clinician, include_archived_signed=True)) == [
        signed
    ]


def test_archived_draft_is_gone_from_lookups_too(draft, clinician):
    services.record_archive(record=draft, user=clinician)
    assert not selectors.progress_note_list(user=clinician, include_archived_signed=True).exists()


def test_api_archived_signed_note_stays_readable_to_the_care_team(signed, clinician, teammate):
    api = client_for(clinician)
    assert api.delete(f"/api/v1/progress-notes/{signed.pk}/").status_code == 204
    for reader in (api, client_for(teammate)):
        response = reader.get(f"/api/v1/progress-notes/{signed.pk}/")
        assert response.status_code == 200, response.content
        assert (response.json()["id"], response.json()["status"]) == (signed.pk, "signed")
        assert reader.get("/api/v1/progress-notes/").json()["results"] == []


def test_api_archived_signed_note_stays_out_of_other_care_teams(signed, clinician, other_clinician):
    client_for(clinician).delete(f"/api/v1/progress-notes/{signed.pk}/")
    response = client_for(other_clinician).get(f"/api/v1/progress-notes/{signed.pk}/")
    assert response.status_code == 404


def test_api_archived_draft_answers_404(draft, clinician):
    api = client_for(clinician)
    assert api.delete(f"/api/v1/progress-notes/{draft.pk}/").status_code == 204
    assert api.get(f"/api/v1/progress-notes/{draft.pk}/").status_code == 404


# --- Only the primary clinician changes the primary or removes others ----------------------------


def test_only_the_primary_names_another_primary(client, clinician, teammate):
    with pytest.raises(PermissionDenied) as excinfo:
        services.client_update(client=client, user=teammate, primary_clinician=teammate)
    assert str(excinfo.value) == errors.PRIMARY_CHANGE_PRIMARY_ONLY
    assert Client.objects.get(pk=client.pk).primary_clinician_id == clinician.pk


def test_a_teammate_edits_other_details_and_may_resend_the_same_primary(
    client, clinician, teammate
):
    services.client_update(
        client=client, user=teammate, phone="+44 20 7946 0000", primary_clinician=clinician
    )
    fresh = Client.objects.get(pk=client.pk)
    assert (fresh.phone, fresh.primary_clinician_id) == ("+44 20 7946 0000", clinician.pk)


def test_the_primary_hands_the_client_over(client, clinician, teammate):
    services.client_update(client=client, user=clinician, primary_clinician=teammate)
    assert Client.objects.get(pk=client.pk).primary_clinician_id == teammate.pk


def test_only_the_primary_removes_others_from_the_care_team(client, clinician, teammate, third):
    with pytest.raises(PermissionDenied) as excinfo:
        services.care_team_remove(client=client, clinician=third, user=teammate)
    assert str(excinfo.value) == errors.CARE_TEAM_REMOVE_PRIMARY_ONLY
    assert _team(client) == {clinician.pk, teammate.pk, third.pk}
    services.care_team_remove(client=client, clinician=third, user=clinician)
    assert _team(client) == {clinician.pk, teammate.pk}


def test_anyone_on_the_team_may_leave_it(client, clinician, teammate):
    services.care_team_remove(client=client, clinician=teammate, user=teammate)
    assert _team(client) == {clinician.pk}


def test_api_primary_change_by_a_teammate_answers_403(client, clinician, teammate):
    response = _patch(
        client_for(teammate), f"/api/v1/clients/{client.pk}/", {"primary_clinician": teammate.pk}
    )
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == errors.PRIMARY_CHANGE_PRIMARY_ONLY
    assert Client.objects.get(pk=client.pk).primary_clinician_id == clinician.pk


def test_api_removal_by_a_teammate_answers_403_and_by_the_primary_204(
    client, clinician, teammate, third
):
    url = f"/api/v1/clients/{client.pk}/care-team/{third.pk}/"
    response = client_for(teammate).delete(url)
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == errors.CARE_TEAM_REMOVE_PRIMARY_ONLY
    assert third.pk in _team(client)
    assert client_for(clinician).delete(url).status_code == 204
    assert third.pk not in _team(client)
