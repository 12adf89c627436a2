"""Every API read and write of clinical data writes an access event (lists with the ids they
returned, refusals included), and practice admins read the log through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from api.audit import AUDIT_UNAVAILABLE
from api.views.cases import ClientViewSet
from cases import services
from cases.audit import AccessEvent, verify_chains
from cases.choices import ClientKind, Role
from cases.models import Client, ProcessNote

pytestmark = pytest.mark.django_db

TODAY = dt.date.today().isoformat()


def events_since(mark: int) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(pk__gt=mark).order_by("pk"))


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def only_event_since(mark: int) -> AccessEvent:
    (event,) = events_since(mark)
    return event


# --- what is recorded ---------------------------------------------------------------------------


def test_a_list_read_records_the_ids_it_returned(api_as, world, clinician, practice):
    mark = last_event_id()

    response = api_as(clinician).get("/api/v1/sessions/", {"page_size": 2})

    returned = [row["id"] for row in response.json()["results"]]
    event = only_event_since(mark)
    assert len(returned) == 2
    assert (event.action, event.resource, event.record_ids) == ("list", "session", returned)
    assert (event.user_id, event.practice_id) == (clinician.pk, practice.pk)
    assert event.client_ids == [world["own"]["client"].pk]
    assert (event.status_code, event.outcome) == (200, "allowed")
    assert event.ip_address == "127.0.0.1"
    assert len(event.request_id) == 32


def test_an_event_carries_the_request_id_of_the_logs(api_as, world, clinician):
    mark = last_event_id()

    response = api_as(clinician).get("/api/v1/clients/", HTTP_X_REQUEST_ID="proxy-7f3a.42")

    assert response["X-Request-ID"] == "proxy-7f3a.42"
    assert only_event_since(mark).request_id == "proxy-7f3a.42"


def test_a_read_of_one_record_names_it_and_its_client(api_as, world, clinician):
    note = world["own"]["note"]
    mark = last_event_id()

    api_as(clinician).get(f"/api/v1/progress-notes/{note.pk}/")

    event = only_event_since(mark)
    assert (event.action, event.resource, event.record_ids) == ("read", "progress-note", [note.pk])
    assert event.client_ids == [world["own"]["client"].pk]


def test_a_create_records_the_new_id_with_the_write(api_as, world, clinician):
    mark = last_event_id()

    response = api_as(clinician).post(
        "/api/v1/process-notes/", {"session": world["own"]["session"].pk, "text": "Stuck."}
    )

    assert response.status_code == 201
    event = only_event_since(mark)
    assert (event.action, event.resource) == ("create", "process-note")
    assert event.record_ids == [response.json()["id"]]
    assert event.client_ids == [world["own"]["client"].pk]


def test_an_action_records_its_name_and_the_records_it_made(api_as, world, clinician):
    signed = world["own"]["signed_note"]
    api = api_as(clinician)
    mark = last_event_id()

    api.post(f"/api/v1/progress-notes/{signed.pk}/addenda/", {"reason": "Late", "text": "Also."})
    episode = world["own"]["episode"]
    api.post(f"/api/v1/rupture-episodes/{episode.pk}/mark-unresolved/", {})
    recurrence = api.post(
        f"/api/v1/rupture-episodes/{episode.pk}/record-recurrence/", {"detected_on": TODAY}
    )

    addendum, closed, recurred = events_since(mark)
    # The addendum is not a progress note: the event names the note it was added to.
    assert (addendum.action, addendum.record_ids) == ("addenda", [signed.pk])
    assert (closed.action, closed.record_ids) == ("mark_unresolved", [episode.pk])
    assert recurred.action == "record_recurrence"
    assert recurred.record_ids == [episode.pk, recurrence.json()["id"]]


def test_an_update_is_recorded(api_as, world, clinician):
    api = api_as(clinician)
    url = f"/api/v1/sessions/{world['own']['session'].pk}/"
    etag = api.get(url)["ETag"]
    mark = last_event_id()

    response = api.patch(url, {"duration_minutes": 45}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    event = only_event_since(mark)
    assert (event.action, event.record_ids) == ("update", [world["own"]["session"].pk])


def test_a_trends_read_is_recorded(api_as, world, supervisor, practice):
    mark = last_event_id()

    api_as(supervisor).get("/api/v1/trends/rupture-rate/")

    event = only_event_since(mark)
    assert (event.resource, event.action, event.practice_id) == ("trend", "read", practice.pk)


# --- refusals and failures ----------------------------------------------------------------------


def test_a_404_is_recorded_as_denied_in_the_records_practice(
    api_as, world, clinician, other_practice
):
    foreign = world["foreign"]["client"]
    mark = last_event_id()

    response = api_as(clinician).get(f"/api/v1/clients/{foreign.pk}/")

    assert response.status_code == 404
    event = only_event_since(mark)
    assert (event.status_code, event.outcome) == (404, "denied")
    # Southside's admins see that someone from elsewhere asked for their client.
    assert (event.practice_id, event.user_id, event.record_ids) == (
        other_practice.pk,
        clinician.pk,
        [foreign.pk],
    )


def test_a_403_is_recorded_as_denied_in_the_callers_practice(api_as, supervisor, practice):
    mark = last_event_id()

    response = api_as(supervisor).get("/api/v1/clients/")

    assert response.status_code == 403
    event = only_event_since(mark)
    assert (event.outcome, event.status_code, event.action) == ("denied", 403, "list")
    assert (event.user_id, event.practice_id, event.record_ids) == (supervisor.pk, practice.pk, [])


def test_an_anonymous_attempt_is_recorded_with_no_user(api_as, world, practice_admin):
    client = world["own"]["client"]
    mark = last_event_id()

    response = api_as(None).get(f"/api/v1/clients/{client.pk}/")

    assert response.status_code == 401
    event = only_event_since(mark)
    assert (event.user_id, event.outcome, event.record_ids) == (None, "denied", [client.pk])
    # The client's practice sees the attempt.
    (shown,) = _log(api_as(practice_admin), outcome="denied")
    assert (shown["id"], shown["user"], shown["username"]) == (event.pk, None, None)


def test_a_write_that_fails_is_rolled_back_and_recorded_as_failed(api_as, world, clinician):
    before = ProcessNote.objects.count()
    mark = last_event_id()

    response = api_as(clinician).post("/api/v1/process-notes/", {"text": "No session."})

    assert response.status_code == 400
    assert ProcessNote.objects.count() == before
    event = only_event_since(mark)
    assert (event.action, event.outcome, event.status_code) == ("create", "failed", 400)


def _recording_fails(monkeypatch) -> None:
    def refuse(**kwargs):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr("api.audit.record_access", refuse)


def test_a_write_that_cannot_be_recorded_is_rolled_back(api_as, clinician, practice, monkeypatch):
    _recording_fails(monkeypatch)

    response = api_as(clinician).post(
        "/api/v1/clients/",
        {"practice": practice.pk, "kind": "individual", "name": "Ada Quill", "intake_date": TODAY},
    )

    assert response.status_code == 503
    assert response.json()["detail"] == AUDIT_UNAVAILABLE
    assert not Client.objects.filter(name="Ada Quill").exists()


def test_a_read_that_cannot_be_recorded_is_withheld(api_as, world, clinician, monkeypatch):
    _recording_fails(monkeypatch)

    response = api_as(clinician).get("/api/v1/clients/")

    assert response.status_code == 503
    assert world["own"]["client"].name not in response.content.decode()


def test_a_refusal_goes_out_even_when_it_cannot_be_recorded(api_as, supervisor, monkeypatch):
    _recording_fails(monkeypatch)

    assert api_as(supervisor).get("/api/v1/clients/").status_code == 403


def test_an_unhandled_error_is_recorded_as_a_failed_500(api_as, clinician, monkeypatch):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ClientViewSet, "list", explode)
    api = api_as(clinician)
    api.raise_request_exception = False
    mark = last_event_id()

    response = api.get("/api/v1/clients/")

    assert response.status_code == 500
    event = only_event_since(mark)
    assert (event.action, event.status_code, event.outcome) == ("list", 500, "failed")


def test_recording_keeps_every_chain_intact(api_as, world, clinician, foreign_clinician):
    for api in (api_as(clinician), api_as(foreign_clinician), api_as(None)):
        api.get("/api/v1/clients/")
        api.get(f"/api/v1/clients/{world['own']['client'].pk}/")

    assert verify_chains().intact


# --- nothing identifying ------------------------------------------------------------------------


def test_events_hold_no_note_text_and_no_identifying_client_fields(api_as, practice, clinician):
    api = api_as(clinician)
    client = api.post(
        "/api/v1/clients/",
        {
            "practice": practice.pk,
            "kind": "individual",
            "name": "Wilhelmina Quarrender",
            "email": "wq@example.org",
            "phone": "+44 20 7946 0999",
            "date_of_birth": "1987-06-05",
            "intake_date": TODAY,
        },
    ).json()
    session = api.post(
        "/api/v1/sessions/",
        {
            "client": client["id"],
            "starts_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
            "duration_minutes": 50,
            "modality": "individual",
            "setting": "video",
            "attendance": "attended",
        },
    ).json()
    api.post(
        "/api/v1/progress-notes/",
        {"session": session["id"], "format": "free", "sections": {"text": "Lighthouse dream."}},
    )
    api.post("/api/v1/process-notes/", {"session": session["id"], "text": "Felt protective."})
    api.get("/api/v1/clients/")
    api.get(f"/api/v1/clients/{client['id']}/")
    api.get("/api/v1/progress-notes/")

    with connection.cursor() as cursor:
        # The hashes are hex: digits such as 1987 occur in them by chance.
        cursor.execute("SELECT (to_jsonb(e) - 'hash' - 'prev_hash')::text FROM cases_accessevent e")
        rows = " ".join(row for (row,) in cursor.fetchall())
    assert len(rows) > 0
    secrets = ["Wilhelmina", "Quarrender", "wq@example.org", "7946", "1987", "Lighthouse"]
    secrets += ["protective", client["code"]]
    assert [secret for secret in secrets if secret in rows] == []


# --- the log, for practice admins ---------------------------------------------------------------


@pytest.fixture
def history(api_as, world, clinician, other_clinician, foreign_clinician):
    """Reads by alice and bob at Northside and by charlie at Southside."""
    api_as(clinician).get(f"/api/v1/clients/{world['own']['client'].pk}/")
    api_as(other_clinician).get(f"/api/v1/clients/{world['other']['client'].pk}/")
    api_as(clinician).get("/api/v1/sessions/")
    api_as(foreign_clinician).get("/api/v1/clients/")
    return world


def _log(api, **filters) -> list[dict]:
    response = api.get("/api/v1/access-events/", filters)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_admins_read_their_practices_log_newest_first(api_as, history, practice_admin, practice):
    events = _log(api_as(practice_admin))

    assert {event["practice"] for event in events} == {practice.pk}
    assert [event["id"] for event in events] == sorted((e["id"] for e in events), reverse=True)
    assert {"alice", "bob"} <= {event["username"] for event in events}
    assert {"charlie"}.isdisjoint(event["username"] for event in events)


def test_admins_filter_the_log_by_user(api_as, history, practice_admin, other_clinician):
    events = _log(api_as(practice_admin), user=other_clinician.pk)

    assert [(e["user"], e["action"], e["resource"]) for e in events] == [
        (other_clinician.pk, "read", "client")
    ]


def test_admins_filter_the_log_by_client(api_as, history, practice_admin):
    client = history["own"]["client"]

    events = _log(api_as(practice_admin), client=client.pk)

    assert {(e["username"], e["resource"]) for e in events} == {
        ("alice", "client"),
        ("alice", "session"),
    }
    assert all(client.pk in e["client_ids"] for e in events)


def test_admins_filter_the_log_by_date(api_as, history, practice_admin):
    api = api_as(practice_admin)
    newest = _log(api)[0]["occurred_at"]
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()

    assert _log(api, occurred_after=later) == []
    assert _log(api, occurred_before=newest)
    assert all(e["occurred_at"] < newest for e in _log(api, occurred_before=newest))


def test_admins_filter_the_log_by_outcome_and_page_through_it(
    api_as, history, practice_admin, supervisor
):
    api_as(supervisor).get("/api/v1/clients/")
    api = api_as(practice_admin)

    denied = _log(api, outcome="denied")
    first = api.get("/api/v1/access-events/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [(e["username"], e["status_code"]) for e in denied] == [("sam", 403)]
    assert len(first["results"]) == 2
    assert first["results"][-1]["id"] > second["results"][0]["id"]


def test_reading_the_log_is_recorded(api_as, history, practice_admin):
    api = api_as(practice_admin)
    shown = [event["id"] for event in _log(api)]

    latest = _log(api)[0]

    assert (latest["resource"], latest["action"], latest["record_ids"]) == (
        "access-event",
        "list",
        shown,
    )


@pytest.mark.parametrize("persona", ["clinician", "supervisor"])
def test_clinicians_and_supervisors_never_read_the_log(api_as, history, request, persona):
    assert api_as(request.getfixturevalue(persona)).get("/api/v1/access-events/").status_code == 403


def test_an_admin_of_another_practice_sees_none_of_this_one(
    api_as, history, foreign_clinician, other_practice, practice
):
    services.membership_grant(
        practice=other_practice, user=foreign_clinician, role=Role.PRACTICE_ADMIN
    )

    events = _log(api_as(foreign_clinician))

    assert events
    assert {event["practice"] for event in events} == {other_practice.pk}


def test_a_discharged_and_reactivated_client_is_one_trail(api_as, practice, clinician):
    """The client's id, not anything about them, ties their events together."""
    client = services.client_create(
        practice=practice,
        kind=ClientKind.INDIVIDUAL,
        name="Noor Adebayo",
        intake_date=timezone.localdate() - dt.timedelta(days=30),
        primary_clinician=clinician,
    )
    api = api_as(clinician)
    api.post(f"/api/v1/clients/{client.pk}/discharge/", {"discharge_date": TODAY})
    api.post(f"/api/v1/clients/{client.pk}/reactivate/")

    trail = AccessEvent.objects.filter(client_ids__contains=[client.pk]).order_by("pk")
    assert [event.action for event in trail] == ["discharge", "reactivate"]


@pytest.mark.django_db(transaction=True)
def test_with_async_reads_a_read_is_still_recorded_in_one_statement(
    api_as, world, clinician, settings, django_assert_num_queries
):
    settings.AUDIT_ASYNC_READS = True
    api = api_as(clinician)
    mark = last_event_id()

    with django_assert_num_queries(1 + 2 + 1):  # auth; clients and care teams; the event
        response = api.get("/api/v1/clients/")

    assert response.status_code == 200
    # Alice's clients, newest first: her couple and her individual client.
    own = world["own"]
    assert only_event_since(mark).record_ids == [own["couple"].pk, own["client"].pk]
    assert verify_chains().intact
