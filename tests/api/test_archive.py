"""DELETE archives: the record leaves lists and lookups (404) but stays in the database."""

from __future__ import annotations

import pytest

from cases.models import Client, ProgressNote, TherapySession
from ruptures.models import RuptureEpisode
from tests.factories import (
    ProgressNoteFactory,
    RuptureEpisodeFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_as, clinician):
    return api_as(clinician)


def test_a_deleted_session_answers_404_and_leaves_the_list_but_stays(api, session):
    url = f"/api/v1/sessions/{session.pk}/"

    assert api.delete(url).status_code == 204

    assert api.get(url).status_code == 404
    assert session.pk not in {row["id"] for row in api.get("/api/v1/sessions/").json()["results"]}
    session.refresh_from_db()
    assert session.archived_at is not None


def test_a_signed_note_is_archived_not_deleted(api, session):
    note = ProgressNoteFactory(session=session, signed=True)

    assert api.delete(f"/api/v1/progress-notes/{note.pk}/").status_code == 204

    kept = ProgressNote.objects.get(pk=note.pk)
    assert (kept.status, kept.archived_at is not None) == ("signed", True)
    # Part of the record: out of the list, still read by its id (tests/cases/test_record_rules).
    assert api.get("/api/v1/progress-notes/").json()["results"] == []
    assert api.get(f"/api/v1/progress-notes/{note.pk}/").status_code == 200


def test_what_hangs_off_an_archived_client_disappears_with_it(api, client, clinician):
    session = TherapySessionFactory(client=client, clinician=clinician)
    note = ProgressNoteFactory(session=session)
    srs = SessionRatingScaleFactory(session=session)
    episode = RuptureEpisodeFactory(client=client)

    assert api.delete(f"/api/v1/clients/{client.pk}/").status_code == 204

    for path in ("sessions", "progress-notes", "measures/srs", "rupture-episodes"):
        assert api.get(f"/api/v1/{path}/").json()["results"] == [], path
    for url in (
        f"/api/v1/sessions/{session.pk}/",
        f"/api/v1/progress-notes/{note.pk}/",
        f"/api/v1/measures/srs/{srs.pk}/",
        f"/api/v1/rupture-episodes/{episode.pk}/",
    ):
        assert api.get(url).status_code == 404, url
    assert Client.objects.filter(pk=client.pk).exists()
    assert RuptureEpisode.objects.filter(pk=episode.pk, archived_at__isnull=True).exists()


def test_an_archived_session_cannot_be_linked(api, session):
    api.delete(f"/api/v1/sessions/{session.pk}/")

    response = api.post(
        "/api/v1/progress-notes/",
        {"session": session.pk, "format": "free", "sections": {"text": "x"}},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "session"


def test_deleting_twice_answers_404(api, session):
    url = f"/api/v1/sessions/{session.pk}/"
    api.delete(url)

    assert api.delete(url).status_code == 404


def test_others_cannot_archive(api_as, other_clinician, session):
    response = api_as(other_clinician).delete(f"/api/v1/sessions/{session.pk}/")

    assert response.status_code == 404
    assert TherapySession.objects.get(pk=session.pk).archived_at is None


def test_signals_and_admin_records_are_not_deleted(api, api_as, practice_admin, client):
    from tests.factories import RuptureSignalFactory

    signal = RuptureSignalFactory(client=client)

    assert api.delete(f"/api/v1/signals/{signal.pk}/").status_code == 405
    practice = client.practice_id
    assert api_as(practice_admin).delete(f"/api/v1/practices/{practice}/").status_code == 405


def test_a_client_is_registered_and_put_on_legal_hold(api, practice):
    created = api.post(
        "/api/v1/clients/",
        {"practice": practice.pk, "kind": "individual", "name": "Ivo Brandt",
         "intake_date": "2026-01-05", "legal_hold": True},
    )  # fmt: skip
    url = f"/api/v1/clients/{created.json()['id']}/"

    released = api.patch(url, {"legal_hold": False}, HTTP_IF_MATCH=created["ETag"])

    assert created.status_code == 201 and created.json()["legal_hold"] is True
    assert released.json()["legal_hold"] is False
