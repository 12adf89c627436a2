"""Participants through the API: a couple's partners each rate the same session, the signals
and the timeline say whose answers they were, and nothing about another care team's couple
leaks through the ``participant`` link (it reads exactly like an id that does not exist)."""

from __future__ import annotations

import pytest

from cases.audit import AccessEvent
from tests.factories import ClientFactory, ParticipantFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

SRS_ITEMS = ("relationship", "goals_and_topics", "approach_or_method", "overall")


def _srs(api, session, participant, item: str):
    body = {"session": session.pk, **dict.fromkeys(SRS_ITEMS, item)}
    if participant is not None:
        body["participant"] = participant
    return api.post("/api/v1/measures/srs/", body, format="json")


@pytest.fixture
def couple(practice, clinician):
    return ClientFactory(practice=practice, kind="couple", primary_clinician=clinician)


def test_a_clinician_names_a_couples_partners_and_each_rates_the_session(api_as, clinician, couple):
    api = api_as(clinician)
    partners = [
        api.post(
            "/api/v1/participants/",
            {"client": couple.pk, "label": label, "role": "partner"},
            format="json",
        )
        for label in ("Robin", "Sky")
    ]
    assert [r.status_code for r in partners] == [201, 201]
    ids = [r.json()["id"] for r in partners]
    assert partners[0].json() == {
        "id": ids[0],
        "client": couple.pk,
        "label": "Robin",
        "role": "partner",
        "created_at": partners[0].json()["created_at"],
    }
    session = TherapySessionFactory(client=couple, clinician=clinician, modality="couple")

    joint = _srs(api, session, None, "9.5")
    assert joint.status_code == 400
    assert joint.json()["errors"][0]["field"] == "participant"
    robin = _srs(api, session, ids[0], "9.5")
    sky = _srs(api, session, ids[1], "5.0")  # 20: below the cutoff
    again = _srs(api, session, ids[0], "9.0")

    assert (robin.status_code, sky.status_code, again.status_code) == (201, 201, 400)
    assert robin.json()["participant"] == ids[0]
    listed = api.get(f"/api/v1/measures/srs/?participant={ids[1]}").json()["results"]
    assert [row["id"] for row in listed] == [sky.json()["id"]]
    signals = api.get(f"/api/v1/signals/?client={couple.pk}").json()["results"]
    assert [(s["rule"], s["participant"]) for s in signals] == [("srs_alert", ids[1])]
    assert api.get(f"/api/v1/signals/?participant={ids[0]}").json()["results"] == []
    timeline = api.get(f"/api/v1/clients/{couple.pk}/timeline/").json()["results"]
    rated = sorted(e["data"]["participant"] for e in timeline if e["type"] == "srs")
    assert rated == sorted(ids)


def test_another_care_teams_participant_reads_like_a_missing_one(
    api_as, clinician, other_clinician, couple, practice
):
    theirs = ParticipantFactory(
        client=ClientFactory(practice=practice, kind="couple", primary_clinician=other_clinician)
    )
    mine = ParticipantFactory(client=couple)
    session = TherapySessionFactory(client=couple, clinician=clinician)
    api = api_as(clinician)

    foreign = _srs(api, session, theirs.pk, "9.5")
    missing = _srs(api, session, 10**12, "9.5")

    assert foreign.status_code == missing.status_code == 400
    # The same answer, but for the id it echoes.
    assert foreign.content.decode().replace(str(theirs.pk), "ID") == (
        missing.content.decode().replace(str(10**12), "ID")
    )
    assert api.get(f"/api/v1/participants/{theirs.pk}/").status_code == 404
    assert _srs(api, session, mine.pk, "9.5").status_code == 201


def test_participants_of_an_individual_client_are_refused(api_as, clinician, client):
    response = api_as(clinician).post(
        "/api/v1/participants/",
        {"client": client.pk, "label": "Partner A", "role": "partner"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "client"


def test_reading_participants_is_an_access_to_the_client(api_as, clinician, couple):
    participant = ParticipantFactory(client=couple)

    api_as(clinician).get(f"/api/v1/participants/{participant.pk}/")

    event = AccessEvent.objects.filter(resource="participant").latest("id")
    assert (event.action, event.record_ids, event.client_ids) == (
        "read",
        [participant.pk],
        [couple.pk],
    )
