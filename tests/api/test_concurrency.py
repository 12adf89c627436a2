"""Optimistic concurrency (ETag / If-Match) and idempotent creates (Idempotency-Key)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from api import concurrency, idempotency
from api.models import IdempotencyRecord
from cases.models import ProgressNote, TherapySession
from tests.factories import ProgressNoteFactory


@pytest.fixture
def api(api_as, clinician):
    return api_as(clinician)


@pytest.fixture
def draft(session):
    return ProgressNoteFactory(session=session, format="free", sections={"text": "First."})


def note_url(note) -> str:
    return f"/api/v1/progress-notes/{note.pk}/"


@pytest.mark.django_db
def test_single_records_carry_an_etag_that_changes_with_them(api, draft):
    first = api.get(note_url(draft))["ETag"]

    edited = api.patch(note_url(draft), {"sections": {"text": "Second."}}, HTTP_IF_MATCH=first)

    assert first.startswith('"') and first.endswith('"')
    assert edited.status_code == 200
    assert edited["ETag"] != first
    assert api.get(note_url(draft))["ETag"] == edited["ETag"]


@pytest.mark.django_db
def test_an_edit_without_if_match_answers_428(api, draft):
    response = api.patch(note_url(draft), {"sections": {"text": "Blind."}})

    assert response.status_code == 428
    assert response.json()["detail"] == concurrency.NEED_IF_MATCH
    draft.refresh_from_db()
    assert draft.sections == {"text": "First."}


@pytest.mark.django_db
def test_an_edit_with_a_stale_etag_answers_412(api, draft):
    stale = api.get(note_url(draft))["ETag"]
    api.patch(note_url(draft), {"sections": {"text": "Tab one."}}, HTTP_IF_MATCH=stale)

    response = api.patch(note_url(draft), {"sections": {"text": "Tab two."}}, HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    draft.refresh_from_db()
    assert draft.sections == {"text": "Tab one."}


@pytest.mark.django_db
def test_out_of_scope_records_answer_404_before_any_precondition(api_as, other_clinician, draft):
    response = api_as(other_clinician).patch(note_url(draft), {"sections": {"text": "x"}})

    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_edits_of_one_draft_exactly_one_wins(api_as, clinician, draft):
    etag = api_as(clinician).get(note_url(draft))["ETag"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def edit(text: str) -> None:
        try:
            client = api_as(clinician)
            barrier.wait()
            response = client.patch(
                note_url(draft), {"sections": {"text": text}}, HTTP_IF_MATCH=etag
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(text,)) for text in ("Left.", "Right.")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 412]
    draft.refresh_from_db()
    assert draft.sections["text"] in {"Left.", "Right."}


SESSION = {
    "starts_at": "2026-11-02T09:00:00+00:00",
    "duration_minutes": 50,
    "modality": "individual",
    "setting": "video",
}


@pytest.mark.django_db
def test_a_replayed_create_answers_the_created_record_and_creates_nothing(api, client):
    body = {**SESSION, "client": client.pk}

    first = api.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert TherapySession.objects.filter(client=client).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_answers_422(api, client):
    api.post("/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="k-2")

    response = api.post(
        "/api/v1/sessions/",
        {**SESSION, "client": client.pk, "duration_minutes": 30},
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert response.status_code == 422
    assert response.json()["detail"] == idempotency.KEY_REUSED
    assert TherapySession.objects.filter(client=client).count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_user(api_as, clinician, other_clinician, client, other_client):
    api_as(clinician).post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="shared"
    )

    theirs = api_as(other_clinician).post(
        "/api/v1/sessions/",
        {**SESSION, "client": other_client.pk},
        HTTP_IDEMPOTENCY_KEY="shared",
    )

    assert theirs.status_code == 201
    assert TherapySession.objects.count() == 2


@pytest.mark.django_db
def test_expired_keys_no_longer_replay(api, client):
    body = {**SESSION, "client": client.pk}
    api.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="k-3")
    IdempotencyRecord.objects.update(expires_at="2000-01-01T00:00:00Z")

    again = api.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="k-3")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert TherapySession.objects.filter(client=client).count() == 2


@pytest.mark.django_db
def test_a_failed_create_keeps_no_answer(api, client):
    bad = api.post("/api/v1/sessions/", {**SESSION, "client": client.pk, "duration_minutes": 0},
                   HTTP_IDEMPOTENCY_KEY="k-4")  # fmt: skip
    good = api.post("/api/v1/sessions/", {**SESSION, "client": client.pk},
                    HTTP_IDEMPOTENCY_KEY="k-4")  # fmt: skip

    assert (bad.status_code, good.status_code) == (400, 201)


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "has space"])
def test_malformed_keys_answer_400(api, client, key):
    response = api.post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not TherapySession.objects.exists()


@pytest.mark.django_db
def test_action_creates_are_idempotent_too(api, session):
    note = ProgressNoteFactory(session=session, signed=True)
    url = f"/api/v1/progress-notes/{note.pk}/addenda/"
    body = {"reason": "Late entry", "text": "Also discussed sleep."}

    first = api.post(url, body, HTTP_IDEMPOTENCY_KEY="add-1")
    again = api.post(url, body, HTTP_IDEMPOTENCY_KEY="add-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert ProgressNote.objects.get(pk=note.pk).addenda.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_record(api_as, clinician, client):
    barrier = threading.Barrier(4)
    answers: list[tuple[int, int]] = []

    def create() -> None:
        try:
            api = api_as(clinician)
            barrier.wait()
            response = api.post(
                "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert TherapySession.objects.filter(client=client).count() == 1
    assert len(set(answers)) == 1 and answers[0][0] == 201
