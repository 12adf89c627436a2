"""Every list endpoint runs the same number of queries for 1 row and for 50 (DESIGN.md's
performance budget), pinned per endpoint with the queries named."""

from __future__ import annotations

import pytest

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

# Every request reads the token with its user, the user's other tokens (expiry sweep by
# django-rest-knox) and the caller's roles, and last writes its access event (one INSERT, which
# finds the practice and client of each row listed and chains the event, in the database).
AUTH = 4


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
