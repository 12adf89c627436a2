"""Every list endpoint runs the same number of queries for 1 row and for 50 (DESIGN.md's
performance budget), pinned per endpoint with the queries named."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.audit import record_access
from cases.models import Client
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    OutcomeRatingScaleFactory,
    PostSessionQuestionnaireFactory,
    ProcessNoteFactory,
    ProgressNoteFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    SupervisionAssignmentFactory,
    TherapySessionFactory,
    UserFactory,
    WorkingAllianceInventoryFactory,
)

# Every request reads its user with the caller's roles in one statement (with the token too,
# on the token's first use; the cache knows the token afterwards, api.authentication), and
# last writes its access event (one INSERT, which finds the practice and client of each row
# listed and chains the event, in the database).
AUTH = 2


def _sessions(client, clinician, n):
    return [TherapySessionFactory(client=client, clinician=clinician) for _ in range(n)]


def make_clients(client, clinician, n):
    for _ in range(n - 1):
        other = ClientFactory(practice=client.practice, primary_clinician=clinician)
        services.care_team_add(client=other, clinician=clinician)


def make_sessions(client, clinician, n):
    _sessions(client, clinician, n)


def make_notes(client, clinician, n):
    for session in _sessions(client, clinician, n):
        ProgressNoteFactory(session=session)


def make_process_notes(client, clinician, n):
    for session in _sessions(client, clinician, n):
        ProcessNoteFactory(session=session)


def measure_maker(factory):
    def make(client, clinician, n):
        for session in _sessions(client, clinician, n):
            factory(session=session)

    return make


def make_episodes(client, clinician, n):
    for _ in range(n):
        RuptureEpisodeFactory(client=client)


def make_repairs(client, clinician, n):
    episode = RuptureEpisodeFactory(client=client)
    for _ in range(n):
        RepairAttemptFactory(episode=episode)


def make_signals(client, clinician, n):
    for _ in range(n):
        RuptureSignalFactory(client=client)


def make_memberships(client, clinician, n):
    for _ in range(n - 1):
        MembershipFactory(practice=client.practice, user=UserFactory())


def make_assignments(client, clinician, n):
    for _ in range(n):
        SupervisionAssignmentFactory(practice=client.practice, clinician=clinician)


def make_access_events(client, clinician, n):
    for _ in range(n):
        record_access(
            user_id=clinician.pk,
            action="read",
            resource="client",
            model=Client,
            record_ids=[client.pk],
            status_code=200,
        )


# (path, who lists it, builder, queries after AUTH, what they are)
LISTS = [
    ("/api/v1/clients/", "clinician", make_clients, 2, "clients; care teams with clinicians"),
    ("/api/v1/sessions/", "clinician", make_sessions, 1, "sessions joined to their notes"),
    ("/api/v1/progress-notes/", "clinician", make_notes, 2, "notes; their addenda"),
    ("/api/v1/process-notes/", "clinician", make_process_notes, 1, "the author's notes"),
    ("/api/v1/measures/srs/", "clinician", measure_maker(SessionRatingScaleFactory), 1, "SRS"),
    ("/api/v1/measures/ors/", "clinician", measure_maker(OutcomeRatingScaleFactory), 1, "ORS"),
    (
        "/api/v1/measures/psq/",
        "clinician",
        measure_maker(PostSessionQuestionnaireFactory),
        1,
        "PSQ",
    ),
    (
        "/api/v1/measures/wai-sr/",
        "clinician",
        measure_maker(WorkingAllianceInventoryFactory),
        1,
        "WAI-SR",
    ),
    ("/api/v1/rupture-episodes/", "clinician", make_episodes, 1, "episodes with recurrence"),
    ("/api/v1/repair-attempts/", "clinician", make_repairs, 1, "repair attempts"),
    ("/api/v1/signals/", "clinician", make_signals, 1, "signals"),
    ("/api/v1/memberships/", "practice_admin", make_memberships, 1, "memberships with users"),
    ("/api/v1/supervision-assignments/", "practice_admin", make_assignments, 1, "assignments"),
    ("/api/v1/access-events/", "practice_admin", make_access_events, 1, "events with users"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "persona", "build", "queries", "what"), LISTS, ids=[row[0] for row in LISTS]
)
@pytest.mark.parametrize("rows", [1, 50])
def test_list_query_count_does_not_grow_with_rows(
    request, api_as, client, clinician, django_assert_num_queries,
    path, persona, build, queries, what, rows,
):  # fmt: skip
    caller = request.getfixturevalue(persona)
    build(client, clinician, rows)
    api = api_as(caller)

    # AUTH, then: {what}
    with django_assert_num_queries(AUTH + queries):
        response = api.get(path, {"page_size": 50})

    assert response.status_code == 200
    assert len(response.json()["results"]) >= min(rows, 50)


# Detail and create paths, AUTH included (a real token: its first use reads it with its user,
# later ones the user alone, the token coming from the cache).
SESSION = {
    "starts_at": "2026-11-02T09:00:00+00:00",
    "duration_minutes": 50,
    "modality": "individual",
    "setting": "video",
}


@pytest.mark.django_db
def test_client_detail_query_count(api_as, client, clinician, django_assert_num_queries):
    api = api_as(clinician)

    # AUTH, then: the client in the caller's scope; its care team with clinicians.
    with django_assert_num_queries(AUTH + 2):
        response = api.get(f"/api/v1/clients/{client.pk}/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_session_detail_query_count(api_as, client, clinician, django_assert_num_queries):
    session = TherapySessionFactory(client=client, clinician=clinician)
    api = api_as(clinician)

    # AUTH, then: the session in the caller's scope, joined to its note.
    with django_assert_num_queries(AUTH + 1):
        response = api.get(f"/api/v1/sessions/{session.pk}/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_session_create_query_count(api_as, client, clinician, django_assert_num_queries):
    api = api_as(clinician)

    # AUTH, then: the transaction (a savepoint and its release here, inside the test's
    # transaction); the key's advisory lock; its record; the client; the caller on its care
    # team; INSERTs of the session and of the key's record.
    with django_assert_num_queries(AUTH + 8):
        response = api.post(
            "/api/v1/sessions/",
            {**SESSION, "client": client.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="session-1",
        )

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_token_used_again_is_not_read_again(api_as, client, clinician):
    api = api_as(clinician)
    url = f"/api/v1/clients/{client.pk}/"
    assert api.get(url).status_code == 200

    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)

    assert response.status_code == 200
    assert [q["sql"] for q in captured.captured_queries if "knox_authtoken" in q["sql"]] == []
    # The user's row is still read, so that a deactivated account is refused at once.
    assert any('FROM "cases_user"' in q["sql"] for q in captured.captured_queries)
