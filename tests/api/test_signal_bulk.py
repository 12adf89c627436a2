"""Signals acknowledged in bulk (several of one client, to one episode, in one call, all or
none), and signals filtered by the episode they were linked to."""

from __future__ import annotations

import pytest

from ruptures.choices import SignalStatus
from ruptures.models import RuptureSignal
from tests.factories import RuptureEpisodeFactory, RuptureSignalFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/signals/acknowledge/"


@pytest.fixture
def episode(client):
    return RuptureEpisodeFactory(client=client)


def statuses(signals) -> list[str]:
    return list(
        RuptureSignal.objects.filter(pk__in=[s.pk for s in signals])
        .order_by("pk")
        .values_list("status", flat=True)
    )


def test_several_signals_of_a_client_are_linked_to_one_episode_at_once(
    api_as, client, clinician, episode
):
    signals = [RuptureSignalFactory(client=client) for _ in range(3)]

    response = api_as(clinician).post(
        URL, {"signals": [s.pk for s in signals], "episode": episode.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()] == sorted(s.pk for s in signals)
    assert statuses(signals) == [SignalStatus.ACKNOWLEDGED] * 3
    assert set(
        RuptureSignal.objects.filter(pk__in=[s.pk for s in signals]).values_list(
            "linked_episode_id", flat=True
        )
    ) == {episode.pk}


def test_one_handled_signal_refuses_them_all(api_as, client, clinician, episode):
    fresh = RuptureSignalFactory(client=client)
    handled = RuptureSignalFactory(client=client)
    api_as(clinician).post(
        f"/api/v1/signals/{handled.pk}/dismiss/", {"reason": "Measured late."}, format="json"
    )

    response = api_as(clinician).post(
        URL, {"signals": [fresh.pk, handled.pk], "episode": episode.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "signals"
    assert statuses([fresh]) == [SignalStatus.OPEN]


def test_a_signal_of_another_client_refuses_them_all(api_as, client, clinician, episode, practice):
    from tests.factories import ClientFactory

    second = ClientFactory(practice=practice, primary_clinician=clinician)
    mine, theirs = RuptureSignalFactory(client=client), RuptureSignalFactory(client=second)

    response = api_as(clinician).post(
        URL, {"signals": [mine.pk, theirs.pk], "episode": episode.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "episode"
    assert statuses([mine, theirs]) == [SignalStatus.OPEN] * 2


def test_a_signal_out_of_reach_reads_like_one_that_does_not_exist(
    api_as, client, clinician, episode, other_client
):
    mine = RuptureSignalFactory(client=client)
    foreign = RuptureSignalFactory(client=other_client)
    api = api_as(clinician)

    out_of_reach = api.post(
        URL, {"signals": [mine.pk, foreign.pk], "episode": episode.pk}, format="json"
    )
    missing = api.post(URL, {"signals": [mine.pk, 10**12], "episode": episode.pk}, format="json")

    assert out_of_reach.status_code == missing.status_code == 400
    assert [e["code"] for e in out_of_reach.json()["errors"]] == [
        e["code"] for e in missing.json()["errors"]
    ]
    assert out_of_reach.json()["errors"][0]["field"] == "signals.1"
    assert statuses([mine, foreign]) == [SignalStatus.OPEN] * 2


@pytest.mark.parametrize("signals", [[], "one", None])
def test_a_bad_list_answers_400(api_as, clinician, episode, signals):
    response = api_as(clinician).post(
        URL, {"signals": signals, "episode": episode.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("signals")


def test_the_same_signal_twice_answers_400(api_as, client, clinician, episode):
    signal = RuptureSignalFactory(client=client)

    response = api_as(clinician).post(
        URL, {"signals": [signal.pk, signal.pk], "episode": episode.pk}, format="json"
    )

    assert response.status_code == 400
    assert statuses([signal]) == [SignalStatus.OPEN]


def test_supervisors_cannot_acknowledge(api_as, supervisor, client, episode):
    signal = RuptureSignalFactory(client=client)

    response = api_as(supervisor).post(
        URL, {"signals": [signal.pk], "episode": episode.pk}, format="json"
    )

    assert response.status_code == 403


def test_signals_filter_by_the_episode_they_were_linked_to(api_as, client, clinician, episode):
    other_episode = RuptureEpisodeFactory(client=client)
    linked = [RuptureSignalFactory(client=client) for _ in range(2)]
    elsewhere = RuptureSignalFactory(client=client)
    api = api_as(clinician)
    api.post(URL, {"signals": [s.pk for s in linked], "episode": episode.pk}, format="json")
    api.post(URL, {"signals": [elsewhere.pk], "episode": other_episode.pk}, format="json")

    rows = api.get("/api/v1/signals/", {"linked_episode": episode.pk}).json()["results"]

    assert sorted(r["id"] for r in rows) == sorted(s.pk for s in linked)
