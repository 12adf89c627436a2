"""The role table of DESIGN.md as one parametrised matrix: every endpoint × method × persona.

Personas: ``owner`` (alice, on the client's care team), ``other`` (bob, same practice, another
care team), ``foreign`` (charlie, another practice), ``supervisor`` (sam, supervises alice),
``admin`` (pat, practice admin of Northside), ``anon`` (no token). Objects outside a caller's
scope answer 404; roles with no business on an endpoint answer 403; no token answers 401.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cases.models import Membership, SupervisionAssignment

PERSONAS = ("owner", "other", "foreign", "supervisor", "admin", "anon")


def expect(owner, other=None, foreign=None, supervisor=403, admin=403, anon=401):
    """Statuses per persona; ``other`` and ``foreign`` default to 404 (out of scope)."""
    return {
        "owner": owner,
        "other": 404 if other is None else other,
        "foreign": 404 if foreign is None else foreign,
        "supervisor": supervisor,
        "admin": admin,
        "anon": anon,
    }


LIST = expect(200, other=200, foreign=200)
CREATE = expect(201, other=400, foreign=400)
NOT_OFFERED = expect(405, other=405, foreign=405)
ADMIN_ONLY = {**expect(403, other=403, foreign=403, admin=200), "supervisor": 403}
EVERYONE = {persona: 200 for persona in PERSONAS} | {"anon": 401}

TODAY = dt.date.today().isoformat()


def own(key, attribute="pk"):
    return lambda w: getattr(w["own"][key], attribute)


CASES = [
    # --- me
    ("GET", "/api/v1/me/", None, EVERYONE),
    # --- clients
    ("GET", "/api/v1/clients/", None, LIST),
    (
        "POST",
        "/api/v1/clients/",
        lambda w: {
            "practice": w["own"]["client"].practice_id,
            "kind": "couple",
            "name": "Robin and Sky Hale",
            "intake_date": "2026-01-05",
        },
        # Bob practises at Northside too, so he may register a client there.
        expect(201, other=201, foreign=400),
    ),
    ("GET", "/api/v1/clients/{client}/", None, expect(200)),
    ("PATCH", "/api/v1/clients/{client}/", lambda w: {"phone": "+44 20 7946 0000"}, expect(200)),
    ("DELETE", "/api/v1/clients/{client}/", None, expect(204)),
    ("PUT", "/api/v1/clients/{client}/", lambda w: {"name": "X"}, NOT_OFFERED),
    (
        "POST",
        "/api/v1/clients/{client}/discharge/",
        lambda w: {"discharge_date": TODAY},
        expect(200),
    ),
    ("POST", "/api/v1/clients/{client}/reactivate/", None, expect(400)),
    (
        "POST",
        "/api/v1/clients/{client}/care-team/",
        lambda w: {"clinician": w["other"]["session"].clinician_id},
        expect(200),
    ),
    ("DELETE", "/api/v1/clients/{client}/care-team/{clinician}/", None, expect(400)),
    # --- a clinician's worklist and a client's timeline
    ("GET", "/api/v1/worklist/", None, expect(200, other=200, foreign=200)),
    ("GET", "/api/v1/clients/{client}/timeline/", None, expect(200)),
    ("POST", "/api/v1/clients/{client}/timeline/", lambda w: {}, NOT_OFFERED),
    # --- participants of couples and families
    ("GET", "/api/v1/participants/", None, LIST),
    (
        "POST",
        "/api/v1/participants/",
        lambda w: {"client": w["own"]["couple"].pk, "label": "Partner C", "role": "partner"},
        CREATE,
    ),
    ("GET", "/api/v1/participants/{participant}/", None, expect(200)),
    ("PATCH", "/api/v1/participants/{participant}/", lambda w: {"label": "Sky"}, expect(200)),
    ("DELETE", "/api/v1/participants/{participant}/", None, expect(204)),
    # --- sessions
    ("GET", "/api/v1/sessions/", None, LIST),
    (
        "POST",
        "/api/v1/sessions/",
        lambda w: {
            "client": w["own"]["client"].pk,
            "starts_at": "2026-11-02T09:00:00+00:00",
            "duration_minutes": 50,
            "modality": "individual",
            "setting": "in_person",
        },
        CREATE,
    ),
    ("GET", "/api/v1/sessions/{session}/", None, expect(200)),
    ("PATCH", "/api/v1/sessions/{session}/", lambda w: {"duration_minutes": 45}, expect(200)),
    ("DELETE", "/api/v1/sessions/{session}/", None, expect(204)),
    # --- progress notes
    ("GET", "/api/v1/progress-notes/", None, LIST),
    (
        "POST",
        "/api/v1/progress-notes/",
        lambda w: {
            "session": w["own"]["empty_session"].pk,
            "format": "free",
            "sections": {"text": "Talked about the move."},
        },
        CREATE,
    ),
    ("GET", "/api/v1/progress-notes/{note}/", None, expect(200)),
    (
        "PATCH",
        "/api/v1/progress-notes/{note}/",
        lambda w: {"format": "free", "sections": {"text": "Rewritten."}},
        expect(200),
    ),
    ("POST", "/api/v1/progress-notes/{note}/sign/", None, expect(200)),
    ("DELETE", "/api/v1/progress-notes/{signed_note}/", None, expect(204)),
    (
        "POST",
        "/api/v1/progress-notes/{signed_note}/addenda/",
        lambda w: {"reason": "Late entry", "text": "Also discussed sleep."},
        expect(201),
    ),
    # --- process notes: the author's alone
    ("GET", "/api/v1/process-notes/", None, LIST),
    (
        "POST",
        "/api/v1/process-notes/",
        lambda w: {"session": w["own"]["session"].pk, "text": "I felt defensive."},
        CREATE,
    ),
    ("GET", "/api/v1/process-notes/{process_note}/", None, expect(200)),
    (
        "PATCH",
        "/api/v1/process-notes/{process_note}/",
        lambda w: {"text": "On reflection, irritated."},
        expect(200),
    ),
    # --- measures
    ("GET", "/api/v1/measures/srs/", None, LIST),
    (
        "POST",
        "/api/v1/measures/srs/",
        lambda w: {
            "session": w["own"]["empty_session"].pk,
            "relationship": 9,
            "goals_and_topics": 8.5,
            "approach_or_method": 9,
            "overall": 9.5,
        },
        CREATE,
    ),
    ("GET", "/api/v1/measures/srs/{srs}/", None, expect(200)),
    ("GET", "/api/v1/measures/ors/", None, LIST),
    (
        "POST",
        "/api/v1/measures/ors/",
        lambda w: {
            "session": w["own"]["empty_session"].pk,
            "individually": 5,
            "interpersonally": 6,
            "socially": 7,
            "overall": 6,
        },
        CREATE,
    ),
    ("GET", "/api/v1/measures/ors/{ors}/", None, expect(200)),
    ("GET", "/api/v1/measures/psq/", None, LIST),
    (
        "POST",
        "/api/v1/measures/psq/",
        lambda w: {
            "session": w["own"]["empty_session"].pk,
            "respondent": "therapist",
            "rupture_experienced": True,
            "tension": 3,
            "resolution": 4,
        },
        CREATE,
    ),
    ("GET", "/api/v1/measures/psq/{psq}/", None, expect(200)),
    ("GET", "/api/v1/measures/wai-sr/", None, LIST),
    (
        "POST",
        "/api/v1/measures/wai-sr/",
        lambda w: {
            "session": w["own"]["empty_session"].pk,
            **{f"item_{n}": 4 for n in range(1, 13)},
        },
        CREATE,
    ),
    ("GET", "/api/v1/measures/wai-sr/{wai}/", None, expect(200)),
    ("DELETE", "/api/v1/measures/srs/{srs}/", None, expect(204)),
    # --- rupture episodes
    ("GET", "/api/v1/rupture-episodes/", None, LIST),
    (
        "POST",
        "/api/v1/rupture-episodes/",
        lambda w: {
            "client": w["own"]["client"].pk,
            "relationship": "partner",
            "direction": "client",
            "kind": "withdrawal",
            "markers": ["fine_against_tone"],
            "moment": "vulnerability_dismissed",
            "factors": ["stress"],
            "intensity": 3,
            "detected_on": TODAY,
            "source": "client_reported",
        },
        CREATE,
    ),
    ("GET", "/api/v1/rupture-episodes/{episode}/", None, expect(200)),
    ("PATCH", "/api/v1/rupture-episodes/{episode}/", lambda w: {"intensity": 4}, expect(200)),
    ("POST", "/api/v1/rupture-episodes/{episode}/start-repair/", None, expect(200)),
    ("POST", "/api/v1/rupture-episodes/{episode}/resolve/", None, expect(400)),
    ("POST", "/api/v1/rupture-episodes/{episode}/mark-unresolved/", None, expect(200)),
    ("POST", "/api/v1/rupture-episodes/{episode}/relationship-ended/", None, expect(200)),
    (
        "POST",
        "/api/v1/rupture-episodes/{episode}/record-recurrence/",
        lambda w: {"detected_on": TODAY},
        expect(400),
    ),
    # --- repair attempts
    ("GET", "/api/v1/repair-attempts/", None, LIST),
    (
        "POST",
        "/api/v1/repair-attempts/",
        lambda w: {
            "episode": w["own"]["episode"].pk,
            "attempted_on": TODAY,
            "initiator": "therapist",
            "both_engaged": True,
            "strategies": ["acknowledge_own_contribution"],
            "outcome": "partly_resolved",
            "resolution_rating": 3,
        },
        CREATE,
    ),
    ("GET", "/api/v1/repair-attempts/{repair}/", None, expect(200)),
    ("DELETE", "/api/v1/repair-attempts/{repair}/", None, expect(204)),
    ("DELETE", "/api/v1/rupture-episodes/{episode}/", None, expect(204)),
    ("DELETE", "/api/v1/process-notes/{process_note}/", None, expect(204)),
    # --- signals
    ("GET", "/api/v1/signals/", None, LIST),
    ("GET", "/api/v1/signals/{signal}/", None, expect(200)),
    ("POST", "/api/v1/signals/", lambda w: {"client": w["own"]["client"].pk}, NOT_OFFERED),
    (
        "POST",
        "/api/v1/signals/{signal}/acknowledge/",
        lambda w: {"episode": w["own"]["episode"].pk},
        expect(200),
    ),
    (
        "POST",
        "/api/v1/signals/{dismiss_signal}/dismiss/",
        lambda w: {"reason": "Discussed; the dip was about a bereavement."},
        expect(200),
    ),
    # --- trends: supervisors only
    (
        "GET",
        "/api/v1/trends/rupture-rate/",
        None,
        {**expect(403, other=403, foreign=403), "supervisor": 200},
    ),
    (
        "GET",
        "/api/v1/trends/measures/?by=clinician",
        None,
        {**expect(403, other=403, foreign=403), "supervisor": 200},
    ),
    # --- practice admin
    ("GET", "/api/v1/memberships/", None, ADMIN_ONLY),
    (
        "POST",
        "/api/v1/memberships/",
        lambda w: {
            "practice": w["own"]["client"].practice_id,
            "user": w["other"]["session"].clinician_id,
            "role": "supervisor",
        },
        {**ADMIN_ONLY, "admin": 201},
    ),
    ("GET", "/api/v1/memberships/{membership}/", None, ADMIN_ONLY),
    ("PATCH", "/api/v1/memberships/{membership}/", lambda w: {"is_active": False}, ADMIN_ONLY),
    ("GET", "/api/v1/supervision-assignments/", None, ADMIN_ONLY),
    ("GET", "/api/v1/supervision-assignments/{assignment}/", None, ADMIN_ONLY),
    ("DELETE", "/api/v1/supervision-assignments/{assignment}/", None, {**ADMIN_ONLY, "admin": 204}),
    ("GET", "/api/v1/practices/", None, ADMIN_ONLY),
    ("GET", "/api/v1/practices/{practice}/", None, ADMIN_ONLY),
    ("PATCH", "/api/v1/practices/{practice}/", lambda w: {"srs_cutoff": 35}, ADMIN_ONLY),
    # --- people of the practice: practice admins only; setting a password: anyone with a token
    ("GET", "/api/v1/users/", None, ADMIN_ONLY),
    (
        "POST",
        "/api/v1/users/",
        lambda w: {
            "username": "newcomer",
            "first_name": "Nia",
            "last_name": "Okafor",
            "email": "nia@example.org",
            "practice": w["own"]["client"].practice_id,
            "roles": ["clinician"],
        },
        {**ADMIN_ONLY, "admin": 201},
    ),
    ("GET", "/api/v1/users/{clinician}/", None, ADMIN_ONLY),
    ("POST", "/api/v1/users/{clinician}/deactivate/", None, ADMIN_ONLY),
    ("POST", "/api/v1/users/{clinician}/reactivate/", None, {**ADMIN_ONLY, "admin": 400}),
    ("DELETE", "/api/v1/users/{clinician}/", None, {**ADMIN_ONLY, "admin": 405}),
    (
        "POST",
        "/api/v1/auth/set-password/",
        lambda w: {"uid": "MQ", "token": "forged-token", "password": "a long passphrase"},
        {persona: 400 for persona in PERSONAS},
    ),
    # --- the access log: practice admins only
    ("GET", "/api/v1/access-events/", None, ADMIN_ONLY),
    ("GET", "/api/v1/access-events/?client={client}", None, ADMIN_ONLY),
    ("POST", "/api/v1/access-events/", lambda w: {"action": "read"}, {**ADMIN_ONLY, "admin": 405}),
]


def _path_ids(world, clinician, practice) -> dict:
    ids = {key: getattr(value, "pk", None) for key, value in world["own"].items()}
    ids["clinician"] = clinician.pk
    ids["practice"] = practice.pk
    ids["membership"] = Membership.objects.get(user=clinician, role="clinician").pk
    ids["assignment"] = SupervisionAssignment.objects.get(clinician=clinician).pk
    return ids


@pytest.fixture
def personas(clinician, other_clinician, foreign_clinician, supervisor, practice_admin):
    return {
        "owner": clinician,
        "other": other_clinician,
        "foreign": foreign_clinician,
        "supervisor": supervisor,
        "admin": practice_admin,
        "anon": None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    CASES,
    ids=[f"{method} {path}" for method, path, _, _ in CASES],
)
def test_role_matrix(
    api_as, world, personas, practice, clinician, persona, method, path, body, expected
):
    url = path.format(**_path_ids(world, clinician, practice))
    payload = body(world) if body else None
    headers = {}
    if method == "PATCH":
        # Edits carry the ETag of the version read; whoever may read it, the owner or admin.
        reader = personas["admin"] if expected["admin"] == 200 else personas["owner"]
        headers["HTTP_IF_MATCH"] = api_as(reader).get(url)["ETag"]

    response = api_as(personas[persona]).generic(
        method,
        url,
        data="" if payload is None else json.dumps(payload),
        content_type="application/json",
        **headers,
    )

    assert response.status_code == expected[persona], response.content
    if response.status_code >= 400:
        body_json = response.json()
        assert body_json["status"] == response.status_code
        assert {"code", "detail", "errors"} <= set(body_json)


LISTS = [path for method, path, _, expected in CASES if method == "GET" and expected is LIST]

# The record each list endpoint returns, by key of ``records_for``.
LIST_RECORD = {
    "/api/v1/clients/": "client",
    "/api/v1/participants/": "participant",
    "/api/v1/sessions/": "session",
    "/api/v1/progress-notes/": "note",
    "/api/v1/process-notes/": "process_note",
    "/api/v1/measures/srs/": "srs",
    "/api/v1/measures/ors/": "ors",
    "/api/v1/measures/psq/": "psq",
    "/api/v1/measures/wai-sr/": "wai",
    "/api/v1/rupture-episodes/": "episode",
    "/api/v1/repair-attempts/": "repair",
    "/api/v1/signals/": "signal",
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("persona", ["owner", "other", "foreign"])
def test_lists_hold_no_foreign_rows(api_as, world, personas, persona, path):
    mine = {"owner": "own", "other": "other", "foreign": "foreign"}[persona]
    key = LIST_RECORD[path]

    response = api_as(personas[persona]).get(path)

    assert response.status_code == 200
    returned = {row["id"] for row in response.json()["results"]}
    assert world[mine][key].pk in returned
    strangers = {group[key].pk for name, group in world.items() if name != mine}
    assert not returned & strangers


@pytest.mark.django_db
def test_admin_of_another_practice_gets_404_for_northside_rows(
    api_as, world, clinician, practice, foreign_clinician, other_practice
):
    from cases import services

    southside_admin = foreign_clinician
    services.membership_grant(practice=other_practice, user=southside_admin, role="practice_admin")
    membership = Membership.objects.get(user=clinician, role="clinician")
    api = api_as(southside_admin)

    assert api.get(f"/api/v1/memberships/{membership.pk}/").status_code == 404
    assert api.get(f"/api/v1/practices/{practice.pk}/").status_code == 404
    assert api.get(f"/api/v1/users/{clinician.pk}/").status_code == 404
    listed = {row["id"] for row in api.get("/api/v1/memberships/").json()["results"]}
    assert membership.pk not in listed


@pytest.mark.django_db
def test_process_notes_are_the_authors_alone_even_on_the_care_team(
    api_as, world, client, other_clinician
):
    from cases import services

    services.care_team_add(client=client, clinician=other_clinician)
    note = world["own"]["process_note"]
    api = api_as(other_clinician)

    assert api.get(f"/api/v1/process-notes/{note.pk}/").status_code == 404
    listed = {row["id"] for row in api.get("/api/v1/process-notes/").json()["results"]}
    assert note.pk not in listed
    # Bob, now on the team, does see the session and its progress note.
    assert api.get(f"/api/v1/sessions/{world['own']['session'].pk}/").status_code == 200


@pytest.mark.django_db
def test_clinician_cannot_link_records_across_practices(api_as, world, clinician):
    api = api_as(clinician)
    foreign = world["foreign"]

    responses = [
        api.post(
            "/api/v1/progress-notes/",
            {"session": foreign["empty_session"].pk, "format": "free", "sections": {"text": "x"}},
        ),
        api.post(
            "/api/v1/repair-attempts/",
            {
                "episode": foreign["episode"].pk,
                "attempted_on": TODAY,
                "initiator": "therapist",
                "both_engaged": True,
                "outcome": "resolved",
                "resolution_rating": 4,
            },
        ),
        api.post(
            f"/api/v1/signals/{world['own']['signal'].pk}/acknowledge/",
            {"episode": foreign["episode"].pk},
        ),
        api.post(
            "/api/v1/rupture-episodes/",
            {
                "client": world["own"]["client"].pk,
                "session": foreign["session"].pk,
                "relationship": "therapist",
                "direction": "client",
                "kind": "withdrawal",
                "moment": "other",
                "intensity": 2,
                "detected_on": TODAY,
                "source": "clinician_observed",
            },
        ),
    ]

    assert [r.status_code for r in responses] == [400, 400, 400, 400]
    fields = [r.json()["errors"][0]["field"] for r in responses]
    assert fields == ["session", "episode", "episode", "session"]


@pytest.mark.django_db
def test_server_owned_fields_are_refused_not_applied(api_as, world, clinician):
    episode = world["own"]["episode"]
    api = api_as(clinician)

    url = f"/api/v1/rupture-episodes/{episode.pk}/"
    response = api.patch(
        url, {"status": "resolved", "intensity": 5}, HTTP_IF_MATCH=api.get(url)["ETag"]
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"
    episode.refresh_from_db()
    assert (episode.status, episode.intensity) == ("open", 3)


@pytest.mark.django_db
def test_clinical_responses_are_not_stored_by_browsers(api_as, world, clinician):
    response = api_as(clinician).get("/api/v1/clients/")

    assert response["Cache-Control"] == "no-store"
