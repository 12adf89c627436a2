"""Episodes, repair attempts and signals are read through selectors scoped like clients: the
care team sees them, no one else does."""

from __future__ import annotations

import pytest

from cases import services as cases_services
from cases.models import Client, Membership
from ruptures import selectors
from ruptures.choices import SignalRule
from tests.factories import RepairAttemptFactory, RuptureEpisodeFactory, RuptureSignalFactory


def _populate(client: Client) -> None:
    episode = RuptureEpisodeFactory(client=client)
    RepairAttemptFactory(episode=episode)
    RuptureSignalFactory(client=client, episode=episode, rule=SignalRule.UNREPAIRED_EPISODE)


@pytest.fixture
def world(client, other_client, foreign_client, supervisor, practice_admin) -> dict:
    for each in (client, other_client, foreign_client):
        _populate(each)
    return {"client": client, "other_client": other_client, "foreign_client": foreign_client}


def _seen_by(user) -> dict[str, set[int]]:
    return {
        "episode_list": {e.client_id for e in selectors.episode_list(user=user)},
        "repair_attempt_list": {r.client_id for r in selectors.repair_attempt_list(user=user)},
        "signal_list": {s.client_id for s in selectors.signal_list(user=user)},
    }


def _only(*clients: Client) -> dict[str, set[int]]:
    ids = {c.pk for c in clients}
    return {"episode_list": ids, "repair_attempt_list": ids, "signal_list": ids}


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("clinician", ["client"]),
        ("other_clinician", ["other_client"]),
        ("foreign_clinician", ["foreign_client"]),
        ("supervisor", []),
        ("practice_admin", []),
    ],
)
def test_lists_show_the_care_team_rows_only(world, request, persona, sees):
    assert _seen_by(request.getfixturevalue(persona)) == _only(*(world[k] for k in sees))


def test_lists_are_empty_once_the_clinician_membership_is_revoked(world, clinician):
    cases_services.membership_revoke(membership=Membership.objects.get(user=clinician))
    assert _seen_by(clinician) == _only()


def test_lists_are_empty_once_the_user_is_deactivated(world, clinician):
    clinician.is_active = False
    clinician.save()
    assert _seen_by(clinician) == _only()


def test_lists_follow_care_team_changes(world, client, other_client, other_clinician):
    cases_services.care_team_add(client=client, clinician=other_clinician)
    assert _seen_by(other_clinician) == _only(client, other_client)
    cases_services.care_team_remove(client=client, clinician=other_clinician, user=other_clinician)
    assert _seen_by(other_clinician) == _only(other_client)


def test_lists_narrow_to_one_client_or_episode(world, clinician, client, other_client):
    assert selectors.episode_list(user=clinician, client=client).count() == 1
    assert not selectors.episode_list(user=clinician, client=other_client).exists()
    assert selectors.signal_list(user=clinician, client=client).count() == 1
    assert not selectors.signal_list(user=clinician, client=other_client).exists()
    episode = selectors.episode_list(user=clinician).get()
    RepairAttemptFactory(episode=episode)
    assert selectors.repair_attempt_list(user=clinician, episode=episode).count() == 2
    others = RuptureEpisodeFactory(client=other_client)
    RepairAttemptFactory(episode=others)
    assert not selectors.repair_attempt_list(user=clinician, episode=others).exists()


def test_each_list_is_one_query(world, clinician, django_assert_num_queries):
    for select in (selectors.episode_list, selectors.repair_attempt_list, selectors.signal_list):
        # One SELECT each: the care-team and membership scoping are subqueries of it.
        with django_assert_num_queries(1):
            list(select(user=clinician))
