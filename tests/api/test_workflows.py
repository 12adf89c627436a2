"""Clinical workflows through the API, end to end: what a frontend does, step by step."""

from __future__ import annotations

import pytest
from django.test import override_settings

from cases.models import ProgressNote
from ruptures.models import RuptureSignal


@pytest.fixture
def api(api_as, clinician):
    return api_as(clinician)


def new_session(api, client, **fields):
    body = {
        "client": client.pk,
        "starts_at": "2026-11-02T09:00:00+01:00",
        "duration_minutes": 50,
        "modality": "individual",
        "setting": "video",
        "attendance": "attended",
        **fields,
    }
    response = api.post("/api/v1/sessions/", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_session_with_a_signed_note_and_an_addendum(api, client, clinician):
    session = new_session(api, client)
    assert session["starts_at"] == "2026-11-02T08:00:00Z"
    assert session["clinician"] == clinician.pk

    note = api.post(
        "/api/v1/progress-notes/",
        {
            "session": session["id"],
            "format": "soap",
            "sections": {
                "subjective": "Felt brushed off last week.",
                "objective": "Guarded, brief answers.",
                "assessment": "Withdrawal rupture.",
                "plan": "Invite discussion of the alliance.",
            },
        },
    ).json()
    assert note["status"] == "draft"

    signed = api.post(f"/api/v1/progress-notes/{note['id']}/sign/").json()
    assert signed["status"] == "signed"
    assert signed["signed_by"] == clinician.pk

    url = f"/api/v1/progress-notes/{note['id']}/"
    edit = api.patch(url, {"sections": {"text": "x"}}, HTTP_IF_MATCH=api.get(url)["ETag"])
    assert edit.status_code == 400
    assert ProgressNote.objects.get(pk=note["id"]).sections["plan"].startswith("Invite")

    addendum = api.post(
        f"/api/v1/progress-notes/{note['id']}/addenda/",
        {"reason": "Late entry", "text": "Client phoned to say the session helped."},
    )
    assert addendum.status_code == 201
    listed = api.get("/api/v1/progress-notes/", {"session": session["id"]}).json()["results"]
    assert [a["reason"] for a in listed[0]["addenda"]] == ["Late entry"]
    assert api.get(f"/api/v1/sessions/{session['id']}/").json()["has_progress_note"] is True


@pytest.mark.django_db
def test_note_sections_are_validated_per_format(api, client):
    session = new_session(api, client)

    response = api.post(
        "/api/v1/progress-notes/",
        {"session": session["id"], "format": "dap", "sections": {"subjective": "x"}},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sections"


@pytest.mark.django_db
def test_rupture_then_repair_then_resolution(api, client):
    session = new_session(api, client)
    episode = api.post(
        "/api/v1/rupture-episodes/",
        {
            "client": client.pk,
            "session": session["id"],
            "relationship": "therapist",
            "direction": "client",
            "kind": "withdrawal",
            "markers": ["minimal_response", "denial"],
            "moment": "vulnerability_dismissed",
            "factors": ["stress"],
            "intensity": 3,
            "detected_on": "2026-11-02",
            "source": "clinician_observed",
            "description": "Went quiet after I moved on from her mother.",
        },
    )
    assert episode.status_code == 201, episode.content
    episode = episode.json()
    assert episode["marker_schemes"] == ["3rs_2015", "3rs_2015"]
    assert episode["markers"] == ["denial", "minimal_response"]
    assert episode["status"] == "open"

    early = api.post(f"/api/v1/rupture-episodes/{episode['id']}/resolve/")
    assert early.status_code == 400

    repair = api.post(
        "/api/v1/repair-attempts/",
        {
            "episode": episode["id"],
            "session": session["id"],
            "attempted_on": "2026-11-02",
            "initiator": "therapist",
            "both_engaged": True,
            "strategies": ["acknowledge_own_contribution", "invite_discussion"],
            "outcome": "resolved",
            "resolution_rating": 4,
        },
    )
    assert repair.status_code == 201, repair.content
    assert repair.json()["client"] == client.pk
    assert api.get(f"/api/v1/rupture-episodes/{episode['id']}/").json()["status"] == "repairing"

    resolved = api.post(
        f"/api/v1/rupture-episodes/{episode['id']}/resolve/", {"on_date": "2026-11-03"}
    ).json()
    assert (resolved["status"], resolved["closed_on"]) == ("resolved", "2026-11-03")

    again = api.post(f"/api/v1/rupture-episodes/{episode['id']}/mark-unresolved/")
    assert again.status_code == 400

    recurrence = api.post(
        f"/api/v1/rupture-episodes/{episode['id']}/record-recurrence/",
        {"detected_on": "2026-11-10", "intensity": 4},
    )
    assert recurrence.status_code == 201, recurrence.content
    recurrence = recurrence.json()
    assert recurrence["recurrence_of"] == episode["id"]
    assert (recurrence["relationship"], recurrence["kind"], recurrence["intensity"]) == (
        "therapist",
        "withdrawal",
        4,
    )
    assert (
        api.get(f"/api/v1/rupture-episodes/{episode['id']}/").json()["recurrence"]
        == (recurrence["id"])
    )

    listed = api.get("/api/v1/rupture-episodes/", {"client": client.pk, "status": "resolved"})
    assert [row["id"] for row in listed.json()["results"]] == [episode["id"]]


@pytest.mark.django_db
def test_relational_strategies_do_not_fit_an_alliance_rupture(api, client):
    episode = api.post(
        "/api/v1/rupture-episodes/",
        {
            "client": client.pk,
            "relationship": "therapist",
            "direction": "client",
            "kind": "confrontation",
            "markers": ["complaints_about_progress"],
            "moment": "unresolved_conflict",
            "intensity": 2,
            "detected_on": "2026-11-02",
            "source": "client_reported",
        },
    ).json()

    response = api.post(
        "/api/v1/repair-attempts/",
        {
            "episode": episode["id"],
            "attempted_on": "2026-11-02",
            "initiator": "therapist",
            "both_engaged": False,
            "strategies": ["hard_conversation"],
            "outcome": "not_resolved",
            "resolution_rating": 1,
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "strategies"


@pytest.mark.django_db
def test_measures_are_scored_by_the_server_and_raise_signals(api, client):
    first = new_session(api, client)
    second = new_session(api, client, starts_at="2026-11-09T09:00:00+00:00")

    srs = api.post(
        "/api/v1/measures/srs/",
        {
            "session": first["id"],
            "relationship": 9.5,
            "goals_and_topics": 9.5,
            "approach_or_method": 9,
            "overall": 9.5,
        },
    ).json()
    assert srs["total"] == 37.5
    assert RuptureSignal.objects.count() == 0

    # A drop of a point (the practice's default minimum), still above the cutoff of 36.
    dip = api.post(
        "/api/v1/measures/srs/",
        {
            "session": second["id"],
            "relationship": 8.5,
            "goals_and_topics": 9.5,
            "approach_or_method": 9,
            "overall": 9.5,
        },
    ).json()
    assert dip["total"] == 36.5

    signals = api.get("/api/v1/signals/", {"status": "open"}).json()["results"]
    assert [(s["rule"], s["session"]) for s in signals] == [("srs_alert", second["id"])]
    assert signals[0]["detail"]["previous_srs_total"] == 37.5

    wai = api.post(
        "/api/v1/measures/wai-sr/",
        {"session": first["id"], **{f"item_{n}": (n % 5) + 1 for n in range(1, 13)}},
    ).json()
    # task: items 1, 2, 10, 12 → 2+3+1+3; bond: 3, 5, 7, 9 → 4+1+3+5; goal: 4, 6, 8, 11 → 5+2+4+2
    assert (wai["task"], wai["bond"], wai["goal"], wai["total"]) == (9, 13, 13, 35)

    forged = api.post(
        "/api/v1/measures/ors/",
        {
            "session": first["id"],
            "individually": 5,
            "interpersonally": 5,
            "socially": 5,
            "overall": 5,
            "total": 40,
        },
    )
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["field"] == "total"


@pytest.mark.django_db
def test_signal_is_acknowledged_by_linking_an_episode_or_dismissed_with_reason(
    api, client, clinician
):
    from tests.factories import RuptureEpisodeFactory, RuptureSignalFactory

    episode = RuptureEpisodeFactory(client=client, created_by=clinician)
    first, second = RuptureSignalFactory(client=client), RuptureSignalFactory(client=client)

    acknowledged = api.post(f"/api/v1/signals/{first.pk}/acknowledge/", {"episode": episode.pk})
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["linked_episode"] == episode.pk

    assert api.post(f"/api/v1/signals/{second.pk}/dismiss/", {"reason": "  "}).status_code == 400
    dismissed = api.post(f"/api/v1/signals/{second.pk}/dismiss/", {"reason": "Holiday dip."})
    assert dismissed.json()["status"] == "dismissed"

    twice = api.post(f"/api/v1/signals/{second.pk}/dismiss/", {"reason": "Again."})
    assert twice.status_code == 400


@pytest.mark.django_db
def test_sessions_filter_by_date_range_and_paginate_by_cursor(api, client):
    for day in range(1, 8):
        new_session(api, client, starts_at=f"2026-10-0{day}T09:00:00+00:00")

    in_range = api.get(
        "/api/v1/sessions/",
        {"starts_after": "2026-10-03T00:00:00Z", "starts_before": "2026-10-06T00:00:00Z"},
    ).json()["results"]
    assert [row["starts_at"][:10] for row in in_range] == ["2026-10-05", "2026-10-04", "2026-10-03"]

    page = api.get("/api/v1/sessions/", {"page_size": 3}).json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.django_db
def test_practice_admin_manages_supervision_and_settings(
    api_as, practice_admin, practice, clinician, other_clinician, supervisor
):
    api = api_as(practice_admin)

    assignment = api.post(
        "/api/v1/supervision-assignments/",
        {"practice": practice.pk, "supervisor": supervisor.pk, "clinician": other_clinician.pk},
    )
    assert assignment.status_code == 201, assignment.content

    self_supervision = api.post(
        "/api/v1/supervision-assignments/",
        {"practice": practice.pk, "supervisor": supervisor.pk, "clinician": supervisor.pk},
    )
    assert self_supervision.status_code == 400

    url = f"/api/v1/practices/{practice.pk}/"
    etag = api.get(url)["ETag"]
    too_small = api.patch(url, {"trends_epsilon": "0.05"}, HTTP_IF_MATCH=etag)
    assert too_small.status_code == 400
    assert too_small.json()["errors"][0]["field"] == "trends_epsilon"
    bad_zone = api.patch(url, {"timezone": "Mars/Olympus"}, HTTP_IF_MATCH=etag)
    assert bad_zone.status_code == 400
    ok = api.patch(url, {"srs_cutoff": 35, "timezone": "Europe/London"}, HTTP_IF_MATCH=etag)
    assert ok.json()["srs_cutoff"] == 35.0


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.mend.example"])
def test_cors_answers_only_configured_origins(api_as, clinician):
    api = api_as(clinician)

    allowed = api.options(
        "/api/v1/me/",
        HTTP_ORIGIN="https://app.mend.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    foreign = api.options(
        "/api/v1/me/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert allowed["Access-Control-Allow-Origin"] == "https://app.mend.example"
    assert "Access-Control-Allow-Origin" not in foreign


@pytest.mark.django_db
def test_the_schema_and_docs_are_served(api_as):
    anonymous = api_as(None)

    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = anonymous.get("/api/docs/")

    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/v1/sessions/"]["get"]
    assert "clinician" in operation["x-roles"]
    assert docs.status_code == 200
