"""The worklist: a clinician's caseload at a glance, in one request with a constant number of
queries, for their care teams only."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from cases import services
from cases.choices import Attendance, Modality, Setting
from cases.models import Practice
from ruptures.choices import EpisodeStatus, SignalRule
from tests.api.test_query_counts import AUTH
from tests.factories import (
    ProgressNoteFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    TherapySessionFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/worklist/"


def sessions_at(client, clinician, starts: list[dt.datetime]):
    return [
        TherapySessionFactory(client=client, clinician=clinician, starts_at=at) for at in starts
    ]


def test_the_worklist_shows_what_needs_attention_with_counts(api_as, client, clinician):
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(client.practice.timezone)
    RuptureSignalFactory(client=client, rule=SignalRule.SRS_ALERT)
    RuptureSignalFactory(client=client, rule=SignalRule.SRS_ALERT)
    RuptureSignalFactory(client=client, rule=SignalRule.PSQ_RUPTURE)
    open_episode = RuptureEpisodeFactory(
        client=client, detected_on=timezone.localdate() - dt.timedelta(days=12)
    )
    repairing = RuptureEpisodeFactory(client=client, detected_on=timezone.localdate())
    attempt = RepairAttemptFactory(episode=repairing, outcome="partly_resolved")
    type(repairing).objects.filter(pk=repairing.pk).update(status=EpisodeStatus.REPAIRING)
    RuptureEpisodeFactory(client=client, closed=True)  # closed: not live
    old, recent = sessions_at(
        client, clinician, [now - dt.timedelta(days=3), now - dt.timedelta(hours=2)]
    )
    late = ProgressNoteFactory(session=old)  # a draft, its session ended days ago
    ProgressNoteFactory(session=recent)  # a draft within its 24 hours
    local_now = now.astimezone(zone)
    today = services.session_create(
        client=client,
        clinician=clinician,
        starts_at=local_now.replace(hour=23, minute=0, second=0, microsecond=0),
        duration_minutes=50,
        modality=Modality.INDIVIDUAL,
        setting=Setting.VIDEO,
        attendance=Attendance.SCHEDULED,
    )

    body = api_as(clinician).get(URL).json()

    assert body["counts"]["open_signals"] == 3
    rules = {(row["rule"], row["count"]) for row in body["open_signals"]}
    assert rules == {("srs_alert", 2), ("psq_rupture", 1)}
    assert all(row["client"] == client.pk for row in body["open_signals"])
    live = {e["id"]: e for e in body["live_episodes"]}
    assert set(live) == {open_episode.pk, repairing.pk}
    assert live[open_episode.pk]["days_since_detection"] == 12
    assert live[open_episode.pk]["last_repair_attempt"] is None
    assert live[repairing.pk]["last_repair_attempt"]["id"] == attempt.pk
    assert [n["id"] for n in body["unsigned_notes"]] == [late.pk]
    assert body["counts"]["unsigned_notes"] == 1
    assert today.pk in [s["id"] for s in body["sessions_today"]]
    assert today.pk in [s["id"] for s in body["sessions_this_week"]]
    assert body["counts"]["sessions_today"] == len(body["sessions_today"])


def test_the_week_and_today_are_the_practices_own(api_as, client, clinician):
    """In Auckland, 23:30 UTC is already tomorrow: the practice's today, not the server's."""
    Practice.objects.filter(pk=client.practice_id).update(timezone="Pacific/Auckland")
    zone = zoneinfo.ZoneInfo("Pacific/Auckland")
    local_today = timezone.now().astimezone(zone).date()
    noon = dt.datetime.combine(local_today, dt.time(12), tzinfo=zone)
    yesterday = noon - dt.timedelta(days=1)
    session_today, session_yesterday = sessions_at(client, clinician, [noon, yesterday])

    body = api_as(clinician).get(URL).json()

    today_ids = [s["id"] for s in body["sessions_today"]]
    assert session_today.pk in today_ids and session_yesterday.pk not in today_ids
    monday = local_today - dt.timedelta(days=local_today.weekday())
    week_ids = [s["id"] for s in body["sessions_this_week"]]
    assert (session_yesterday.pk in week_ids) == (yesterday.date() >= monday)


def test_the_worklist_holds_no_foreign_rows(
    api_as, client, clinician, other_client, foreign_client
):
    for someone in (other_client, foreign_client):
        RuptureSignalFactory(client=someone)
        RuptureEpisodeFactory(client=someone)
        ProgressNoteFactory(
            session=TherapySessionFactory(
                client=someone, starts_at=timezone.now() - dt.timedelta(days=3)
            )
        )

    body = api_as(clinician).get(URL).json()

    clients = {row["client"] for part in body.values() if isinstance(part, list) for row in part}
    assert clients <= {client.pk}
    assert body["counts"] == dict.fromkeys(body["counts"], 0)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("supervisor", 403), ("practice_admin", 403), (None, 401), ("foreign_clinician", 200)],
)
def test_who_may_read_a_worklist(request, api_as, persona, status):
    caller = request.getfixturevalue(persona) if persona else None

    assert api_as(caller).get(URL).status_code == status


@pytest.mark.parametrize("rows", [1, 50])
def test_the_worklist_runs_a_constant_number_of_queries(
    api_as, client, clinician, django_assert_num_queries, rows
):
    now = timezone.now()
    for n in range(rows):
        RuptureSignalFactory(client=client, rule=SignalRule.SRS_ALERT)
        RuptureEpisodeFactory(client=client)
        ProgressNoteFactory(
            session=TherapySessionFactory(
                client=client, starts_at=now - dt.timedelta(days=2, hours=n)
            )
        )
    api = api_as(clinician)

    # AUTH, then: the caller's practices; open signals by client and rule; live episodes with
    # their last attempt; late drafts; the week's sessions.
    with django_assert_num_queries(AUTH + 5):
        response = api.get(URL)

    assert response.status_code == 200
    assert response.json()["counts"]["live_episodes"] == rows


def test_reading_the_worklist_is_an_access_event_naming_its_clients(api_as, client, clinician):
    from cases.audit import AccessEvent

    RuptureSignalFactory(client=client)

    api_as(clinician).get(URL)

    event = AccessEvent.objects.filter(resource="worklist").latest("seq")
    assert event.client_ids == [client.pk]
    assert event.outcome == "allowed"


def test_me_shows_each_practices_time_zone(api_as, clinician, practice):
    body = api_as(clinician).get("/api/v1/me/").json()

    zones = {m["practice"]["id"]: m["practice"]["timezone"] for m in body["memberships"]}
    assert zones[practice.pk] == practice.timezone


def test_a_worklist_with_query_parameters_answers_400(api_as, clinician):
    response = api_as(clinician).get(URL, {"client": 1})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "client"
