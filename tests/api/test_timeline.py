"""A client's timeline: every session, measure score, episode, repair attempt and signal in
one date-ordered, cursor-paginated list, under the same access rules and access events as
every clinical read, and never a process note."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.audit import AccessEvent
from tests.api.test_query_counts import AUTH
from tests.factories import (
    OutcomeRatingScaleFactory,
    PostSessionQuestionnaireFactory,
    ProcessNoteFactory,
    ProgressNoteFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
    WorkingAllianceInventoryFactory,
)

pytestmark = pytest.mark.django_db

PROCESS_TEXT = "Felt the pull to rescue her again."


def url(client) -> str:
    return f"/api/v1/clients/{client.pk}/timeline/"


@pytest.fixture
def story(client, clinician):
    """Three weeks of one client: a session a week with measures, an episode in the second,
    a repair in the third, a signal, and a process note that must never show."""
    now = timezone.now()
    sessions = [
        TherapySessionFactory(
            client=client, clinician=clinician, starts_at=now - dt.timedelta(days=d)
        )
        for d in (21, 14, 7)
    ]
    for session in sessions:
        SessionRatingScaleFactory(session=session)
        OutcomeRatingScaleFactory(session=session)
    PostSessionQuestionnaireFactory(session=sessions[1])
    WorkingAllianceInventoryFactory(session=sessions[2])
    ProgressNoteFactory(session=sessions[0])
    episode = RuptureEpisodeFactory(
        client=client, session=sessions[1], detected_on=(now - dt.timedelta(days=14)).date()
    )
    RepairAttemptFactory(
        episode=episode, session=sessions[2], attempted_on=(now - dt.timedelta(days=7)).date()
    )
    RuptureSignalFactory(client=client, session=sessions[1])
    ProcessNoteFactory(session=sessions[2], author=clinician, text=PROCESS_TEXT)
    return sessions


def everything(api, client) -> list[dict]:
    entries, next_url = [], url(client)
    while next_url:
        body = api.get(next_url, {"page_size": 4} if "cursor" not in next_url else {}).json()
        entries += body["results"]
        next_url = body["next"]
    return entries


def test_the_timeline_tells_the_whole_story_newest_first(api_as, client, clinician, story):
    entries = everything(api_as(clinician), client)

    kinds = [e["type"] for e in entries]
    assert sorted(set(kinds)) == sorted(
        ["session", "srs", "ors", "psq", "wai_sr", "episode", "repair_attempt", "signal"]
    )
    assert kinds.count("session") == 3 and kinds.count("srs") == 3
    moments = [e["at"] for e in entries]
    assert moments == sorted(moments, reverse=True)
    assert len({(e["type"], e["id"]) for e in entries}) == len(entries)  # pages never overlap
    first_session = next(e for e in entries if e["type"] == "session" and e["id"] == story[0].pk)
    assert first_session["data"]["progress_note"]["status"] == "draft"
    assert PROCESS_TEXT not in str(entries) and "process" not in str(kinds)


def test_archived_records_leave_the_timeline(api_as, client, clinician, story):
    type(story[0]).objects.filter(pk=story[0].pk).update(archived_at=timezone.now())

    entries = everything(api_as(clinician), client)

    sessions = [e["id"] for e in entries if e["type"] == "session"]
    assert story[0].pk not in sessions
    assert len([e for e in entries if e["type"] == "srs"]) == 2  # its measure went with it


def test_another_care_teams_client_answers_404_and_is_recorded_as_denied(
    api_as, other_client, clinician
):
    response = api_as(clinician).get(url(other_client))

    assert response.status_code == 404
    event = AccessEvent.objects.filter(resource="client-timeline").latest("seq")
    assert event.outcome == "denied"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("supervisor", 403), ("practice_admin", 403), (None, 401), ("foreign_clinician", 404)],
)
def test_who_may_read_a_timeline(request, api_as, client, persona, status):
    caller = request.getfixturevalue(persona) if persona else None

    assert api_as(caller).get(url(client)).status_code == status


def test_reading_a_timeline_is_an_access_event_of_the_client(api_as, client, clinician, story):
    api_as(clinician).get(url(client))

    event = AccessEvent.objects.filter(resource="client-timeline").latest("seq")
    assert event.client_ids == [client.pk]
    assert event.outcome == "allowed"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJhdCI6ICJ4In0="}, "cursor"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_queries_answer_400(api_as, client, clinician, query, field):
    response = api_as(clinician).get(url(client), query)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("sessions", [1, 25])
def test_a_page_costs_the_same_queries_whatever_it_holds(
    api_as, client, clinician, django_assert_num_queries, sessions
):
    now = timezone.now()
    for n in range(sessions):
        session = TherapySessionFactory(client=client, starts_at=now - dt.timedelta(days=n + 1))
        SessionRatingScaleFactory(session=session)
        RuptureEpisodeFactory(client=client, detected_on=(now - dt.timedelta(days=n + 1)).date())
    api = api_as(clinician)

    # AUTH, then: the client in the caller's scope; the page of entries; one query for each
    # of the eight kinds of entry.
    with django_assert_num_queries(AUTH + 10):
        response = api.get(url(client), {"page_size": 50})

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(3 * sessions, 50)
