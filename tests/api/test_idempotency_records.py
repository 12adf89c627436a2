"""What an ``Idempotency-Key`` keeps, and for how long: ids, never the answer. A replay renders
the created record as it is now, through the caller's current access; keys expire by a
periodic task; the retention purge takes a client's keys with the client."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from api import errors, idempotency
from api.models import IdempotencyRecord
from api.tasks import EXPIRE_KEYS_CRON, expire_idempotency_keys
from cases import services
from cases.models import Client, TherapySession, User
from ruptures.models import RuptureEpisode
from tests.factories import ProgressNoteFactory, RuptureEpisodeFactory

pytestmark = pytest.mark.django_db

SESSION = {
    "starts_at": "2026-11-02T09:00:00+00:00",
    "duration_minutes": 50,
    "modality": "individual",
    "setting": "video",
}
NOT_FOUND = errors.error_body(status=404, code="not_found", detail=errors.NOT_FOUND)


@pytest.fixture
def api(api_as, clinician):
    return api_as(clinician)


@pytest.fixture
def teammate(client, other_clinician) -> User:
    """Bob, added to the care team of alice's client (and removable from it: not primary)."""
    services.care_team_add(client=client, clinician=other_clinician)
    return other_clinician


def record_of(user: User, key: str) -> IdempotencyRecord:
    return IdempotencyRecord.objects.get(user=user, key=key)


# --- A replay renders the record as it is now --------------------------------------------------


def test_a_replay_renders_the_record_as_edited_since(api, session):
    body = {"session": session.pk, "format": "free", "sections": {"text": "First draft."}}
    first = api.post("/api/v1/progress-notes/", body, HTTP_IDEMPOTENCY_KEY="note-1")
    assert first.status_code == 201, first.content
    edited = api.patch(
        f"/api/v1/progress-notes/{first.json()['id']}/",
        {"sections": {"text": "Read back and corrected."}},
        HTTP_IF_MATCH=first["ETag"],
    )
    assert edited.status_code == 200, edited.content

    again = api.post("/api/v1/progress-notes/", body, HTTP_IDEMPOTENCY_KEY="note-1")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["sections"] == {"text": "Read back and corrected."}
    assert again.json() == edited.json()
    # The ETag is the record's current one, so the next PATCH can use it.
    assert again["ETag"] == edited["ETag"] != first["ETag"]


def test_a_replayed_recurrence_renders_the_new_episode_as_it_is_now(api, client, clinician):
    episode = RuptureEpisodeFactory(client=client, created_by=clinician, closed=True)
    url = f"/api/v1/rupture-episodes/{episode.pk}/record-recurrence/"
    first = api.post(url, {"intensity": 4}, HTTP_IDEMPOTENCY_KEY="again-1")
    assert first.status_code == 201, first.content
    recurrence = first.json()
    current = api.get(f"/api/v1/rupture-episodes/{recurrence['id']}/")
    edited = api.patch(
        f"/api/v1/rupture-episodes/{recurrence['id']}/",
        {"intensity": 5},
        HTTP_IF_MATCH=current["ETag"],
    )
    assert edited.status_code == 200, edited.content

    again = api.post(url, {"intensity": 4}, HTTP_IDEMPOTENCY_KEY="again-1")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert (again.json()["id"], again.json()["recurrence_of"]) == (recurrence["id"], episode.pk)
    assert again.json()["intensity"] == 5
    assert RuptureEpisode.objects.filter(recurrence_of=episode).count() == 1
    assert record_of(clinician, "again-1").object_type == "ruptures.RuptureEpisode"


def test_a_replayed_addendum_is_rendered_as_an_addendum(api, session, clinician, client):
    note = ProgressNoteFactory(session=session, signed=True)
    url = f"/api/v1/progress-notes/{note.pk}/addenda/"
    body = {"reason": "Late entry", "text": "Also discussed sleep."}

    first = api.post(url, body, HTTP_IDEMPOTENCY_KEY="add-1")
    again = api.post(url, body, HTTP_IDEMPOTENCY_KEY="add-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert set(again.json()) == {"id", "author", "reason", "text", "created_at"}
    record = record_of(clinician, "add-1")
    assert (record.object_type, record.object_id) == ("cases.NoteAddendum", first.json()["id"])
    assert record.client_id == client.pk


# --- …through the caller's current access -------------------------------------------------------


def test_a_replay_after_leaving_the_care_team_answers_404(api_as, api, teammate, client):
    bob = api_as(teammate)
    body = {**SESSION, "client": client.pk}
    first = bob.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == 201, first.content
    services.care_team_remove(client=client, clinician=teammate, user=teammate)

    again = bob.post("/api/v1/sessions/", body, HTTP_IDEMPOTENCY_KEY="s-1")

    assert again.status_code == 404
    assert again.json() == NOT_FOUND
    assert again.json() == bob.get(f"/api/v1/sessions/{first.json()['id']}/").json()
    assert "Idempotent-Replayed" not in again
    # The session is there, for those who may see it; nothing was created again.
    assert api.get(f"/api/v1/sessions/{first.json()['id']}/").status_code == 200
    assert TherapySession.objects.filter(client=client).count() == 1


def test_a_replayed_addendum_after_leaving_the_care_team_answers_404(
    api_as, session, teammate, client
):
    note = ProgressNoteFactory(session=session, signed=True)
    bob = api_as(teammate)
    url = f"/api/v1/progress-notes/{note.pk}/addenda/"
    body = {"reason": "Covering session", "text": "Client asked about fees."}
    assert bob.post(url, body, HTTP_IDEMPOTENCY_KEY="add-2").status_code == 201
    services.care_team_remove(client=client, clinician=teammate, user=teammate)

    again = bob.post(url, body, HTTP_IDEMPOTENCY_KEY="add-2")

    assert again.status_code == 404
    assert again.json() == NOT_FOUND
    assert note.addenda.count() == 1


def test_a_replay_after_the_client_is_archived_answers_404(api, practice):
    body = {
        "practice": practice.pk,
        "kind": "individual",
        "name": "Rowan Achterberg",
        "intake_date": "2026-01-05",
    }
    first = api.post("/api/v1/clients/", body, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 201, first.content
    assert api.delete(f"/api/v1/clients/{first.json()['id']}/").status_code == 204

    again = api.post("/api/v1/clients/", body, HTTP_IDEMPOTENCY_KEY="c-1")

    assert again.status_code == 404
    assert again.json() == NOT_FOUND
    assert again.json() == api.get(f"/api/v1/clients/{first.json()['id']}/").json()
    assert Client.objects.filter(name="Rowan Achterberg").count() == 1


def test_the_same_key_with_another_request_still_answers_422(api, client):
    api.post("/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="s-2")

    other = api.post(
        "/api/v1/sessions/",
        {**SESSION, "client": client.pk, "duration_minutes": 30},
        HTTP_IDEMPOTENCY_KEY="s-2",
    )

    assert other.status_code == 422
    assert other.json()["detail"] == idempotency.KEY_REUSED


# --- What is kept --------------------------------------------------------------------------------


def test_the_kept_row_holds_ids_and_no_clinical_text(api, practice, clinician):
    created = api.post(
        "/api/v1/clients/",
        {
            "practice": practice.pk,
            "kind": "individual",
            "name": "Marisol Quenby",
            "email": "marisol.quenby@example.org",
            "phone": "+44 20 7946 0321",
            "intake_date": "2026-01-05",
        },
        HTTP_IDEMPOTENCY_KEY="c-2",
    ).json()
    session = api.post(
        "/api/v1/sessions/", {**SESSION, "client": created["id"]}, HTTP_IDEMPOTENCY_KEY="s-3"
    ).json()
    note = api.post(
        "/api/v1/process-notes/",
        {"session": session["id"], "text": "Felt pulled to rescue her from the brother."},
        HTTP_IDEMPOTENCY_KEY="p-1",
    ).json()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r::text FROM api_idempotencyrecord r WHERE r.user_id = %s", [clinician.pk]
        )
        rows = "\n".join(row[0] for row in cursor.fetchall()).lower()
    columns = {f.column for f in IdempotencyRecord._meta.concrete_fields}

    assert rows.count("\n") == 2  # three rows
    for text in ("marisol", "quenby", "example.org", "7946", "rescue", "brother"):
        assert text not in rows
    assert columns == {
        "id", "user_id", "key", "method", "path", "request_hash", "status_code",
        "object_type", "object_id", "client_id", "created_at", "expires_at",
    }  # fmt: skip
    kept = {
        r.key: (r.object_type, r.object_id, r.client_id, r.status_code)
        for r in IdempotencyRecord.objects.filter(user=clinician)
    }
    assert kept == {
        "c-2": ("cases.Client", created["id"], created["id"], 201),
        "s-3": ("cases.TherapySession", session["id"], created["id"], 201),
        "p-1": ("cases.ProcessNote", note["id"], created["id"], 201),
    }


def test_a_record_of_no_client_keeps_no_client(api_as, practice, practice_admin, other_clinician):
    admin = api_as(practice_admin)
    body = {"practice": practice.pk, "user": other_clinician.pk, "role": "supervisor"}

    first = admin.post("/api/v1/memberships/", body, HTTP_IDEMPOTENCY_KEY="m-1")
    again = admin.post("/api/v1/memberships/", body, HTTP_IDEMPOTENCY_KEY="m-1")

    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    record = record_of(practice_admin, "m-1")
    assert (record.object_type, record.object_id) == ("cases.Membership", first.json()["id"])
    assert record.client_id is None


# --- Expiry ----------------------------------------------------------------------------------


def kept(
    user: User, key: str, expires_at: dt.datetime, client: Client | None = None
) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/sessions/",
        request_hash="0" * 64,
        status_code=201,
        object_type="cases.TherapySession",
        object_id=1,
        client=client,
        expires_at=expires_at,
    )


def test_records_expire_deletes_the_expired_records_only(clinician, other_clinician):
    now = timezone.now()
    kept(clinician, "old", now - dt.timedelta(hours=1))
    kept(other_clinician, "just-now", now)
    kept(clinician, "live", now + dt.timedelta(seconds=1))
    kept(other_clinician, "fresh", now + idempotency.LIFETIME)

    assert idempotency.records_expire(now=now) == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"live", "fresh"}
    assert idempotency.records_expire(now=now) == 0


def test_the_expiry_task_is_periodic_and_deletes_expired_records(clinician):
    kept(clinician, "old", timezone.now() - dt.timedelta(minutes=1))
    kept(clinician, "live", timezone.now() + dt.timedelta(hours=1))
    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}

    assert periodic["expire-idempotency-keys"].task is expire_idempotency_keys
    assert periodic["expire-idempotency-keys"].cron == EXPIRE_KEYS_CRON
    assert expire_idempotency_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]


def test_a_keyed_create_leaves_other_expired_keys_to_the_task(api, clinician, client):
    kept(clinician, "old", timezone.now() - dt.timedelta(hours=1))

    created = api.post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="new"
    )

    assert created.status_code == 201
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"old", "new"}


def test_an_expired_key_not_yet_deleted_is_taken_over_by_a_new_create(api, clinician, client):
    kept(clinician, "reused", timezone.now() - dt.timedelta(hours=1))

    created = api.post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="reused"
    )

    assert created.status_code == 201
    assert "Idempotent-Replayed" not in created
    record = record_of(clinician, "reused")
    assert (record.object_type, record.object_id) == ("cases.TherapySession", created.json()["id"])
    assert record.expires_at > timezone.now()


# --- The retention purge ---------------------------------------------------------------------

TODAY = dt.date(2026, 11, 22)
# A client past retention: last attended session 2018-06-01, + 7 years < TODAY.
PURGED = {
    "name": "Ottoline Vasquez-Brandt",
    "email": "ottoline.vb@example.net",
    "phone": "+1 415 555 0187",
}
NOTE_TEXTS = {
    "subjective": "Dreams of the flooded lighthouse again",
    "objective": "Tearful when naming the grandmother Wilhelmina",
    "assessment": "Grief complicated by the estrangement from Casimir",
    "plan": "Return to the letter she never sent to Thaddeus",
}
PROCESS_TEXT = "My own irritation at her silences about the Okonkwo affair"
ADDENDUM_TEXT = "Later recalled the quarrel at the Esterhazy wedding"


def database_as_text() -> tuple[list[str], str]:
    """Every row of every table of the public schema, as PostgreSQL prints it, lowercased."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(row[0] for row in cursor.fetchall())
        rows: list[str] = []
        for table in tables:
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608
            rows.extend(f"{table}: {row[0]}" for row in cursor.fetchall())
    return tables, "\n".join(rows).lower()


def test_the_purge_leaves_no_trace_of_the_client_in_any_table(api, practice, clinician, client):
    old = api.post(
        "/api/v1/clients/",
        {"practice": practice.pk, "kind": "individual", "intake_date": "2012-01-09", **PURGED},
        HTTP_IDEMPOTENCY_KEY="old-client",
    ).json()
    session = api.post(
        "/api/v1/sessions/",
        {
            **SESSION,
            "client": old["id"],
            "starts_at": "2018-06-01T10:00:00+00:00",
            "attendance": "attended",
        },
        HTTP_IDEMPOTENCY_KEY="old-session",
    ).json()
    note = api.post(
        "/api/v1/progress-notes/",
        {"session": session["id"], "format": "soap", "sections": NOTE_TEXTS},
        HTTP_IDEMPOTENCY_KEY="old-note",
    ).json()
    assert api.post(f"/api/v1/progress-notes/{note['id']}/sign/").status_code == 200
    addendum = api.post(
        f"/api/v1/progress-notes/{note['id']}/addenda/",
        {"reason": "Late entry", "text": ADDENDUM_TEXT},
        HTTP_IDEMPOTENCY_KEY="old-addendum",
    )
    process = api.post(
        "/api/v1/process-notes/",
        {"session": session["id"], "text": PROCESS_TEXT},
        HTTP_IDEMPOTENCY_KEY="old-process-note",
    )
    assert (addendum.status_code, process.status_code) == (201, 201), process.content
    # A client of the same clinician who is not due: their key stays.
    kept_session = api.post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="kept"
    )
    assert kept_session.status_code == 201
    assert IdempotencyRecord.objects.filter(client_id=old["id"]).count() == 5
    secrets = [*PURGED.values(), *NOTE_TEXTS.values(), PROCESS_TEXT, ADDENDUM_TEXT]
    tables, before = database_as_text()
    # The search can find them: they are in the database now.
    assert {"api_idempotencyrecord", "cases_client", "cases_accessevent"} <= set(tables)
    assert all(secret.lower() in before for secret in secrets)

    out = StringIO()
    call_command("purge_expired", "--today", TODAY.isoformat(), "--execute", stdout=out)

    assert not Client.objects.filter(pk=old["id"]).exists()
    _, after = database_as_text()
    found = [secret for secret in secrets if secret.lower() in after]
    assert found == [], [
        line for line in after.splitlines() if any(s.lower() in line for s in found)
    ]
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"kept"}
    replay = api.post(
        "/api/v1/sessions/", {**SESSION, "client": client.pk}, HTTP_IDEMPOTENCY_KEY="kept"
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"


def test_deleting_a_client_with_raw_sql_cascades_to_its_keys(api, practice, clinician):
    """The database holds the cascade itself (the purge is raw SQL, not the ORM)."""
    created = api.post(
        "/api/v1/clients/",
        {
            "practice": practice.pk,
            "kind": "individual",
            "name": "Ines Falk",
            "intake_date": "2026-01-05",
        },
        HTTP_IDEMPOTENCY_KEY="c-3",
    ).json()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confdeltype FROM pg_constraint "
            "WHERE conrelid = 'api_idempotencyrecord'::regclass "
            "AND confrelid = 'cases_client'::regclass"
        )
        assert cursor.fetchall() == [("c",)]  # ON DELETE CASCADE
        cursor.execute("DELETE FROM cases_careteammember WHERE client_id = %s", [created["id"]])
        cursor.execute("DELETE FROM cases_client WHERE id = %s", [created["id"]])

    assert not IdempotencyRecord.objects.filter(key="c-3").exists()
