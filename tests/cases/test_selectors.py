"""Reads are scoped by the caller: a clinician sees the clients on their care teams in
practices where they hold an active clinician membership, and what hangs off those clients;
no one else sees anything of them. Process notes are their author's alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cases import selectors, services
from cases.choices import Role
from cases.models import Client, Membership, SessionRatingScale
from tests.factories import (
    CareTeamMemberFactory,
    ClientFactory,
    NoteAddendumFactory,
    ProcessNoteFactory,
    ProgressNoteFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
)


def _populate(client: Client) -> None:
    session = TherapySessionFactory(client=client)
    note = ProgressNoteFactory(session=session, signed=True)
    NoteAddendumFactory(note=note)
    ProcessNoteFactory(session=session)
    SessionRatingScaleFactory(session=session)


@pytest.fixture
def world(client, other_client, foreign_client, supervisor, practice_admin) -> dict:
    """Alice's, Bob's and Charlie's clients, each with a session, a signed note and its
    addendum, a process note and an SRS."""
    for each in (client, other_client, foreign_client):
        _populate(each)
    return {"client": client, "other_client": other_client, "foreign_client": foreign_client}


# Each list selector, and how to find the client a row belongs to.
LISTS: dict[str, tuple[Callable, Callable]] = {
    "client_list": (selectors.client_list, lambda row: row),
    "session_list": (selectors.session_list, lambda row: row.client),
    "progress_note_list": (selectors.progress_note_list, lambda row: row.session.client),
    "addendum_list": (selectors.addendum_list, lambda row: row.note.session.client),
    "measure_list": (
        lambda user: selectors.measure_list(user=user, measure_model=SessionRatingScale),
        lambda row: row.client,
    ),
}


def _clients_seen(name: str, user) -> set[int]:
    select, client_of = LISTS[name]
    rows = select(user=user) if name != "measure_list" else select(user)
    return {client_of(row).pk for row in rows}


def _seen_by(user) -> dict[str, set[int]]:
    """For every list selector, the clients whose rows it shows ``user``."""
    return {name: _clients_seen(name, user) for name in LISTS}


def _only(*clients: Client) -> dict[str, set[int]]:
    return dict.fromkeys(LISTS, {c.pk for c in clients})


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
    user = request.getfixturevalue(persona)
    assert _seen_by(user) == _only(*(world[key] for key in sees))


def test_lists_are_empty_once_the_clinician_membership_is_revoked(world, clinician):
    services.membership_revoke(membership=Membership.objects.get(user=clinician))
    assert _seen_by(clinician) == _only()


def test_lists_are_empty_once_the_user_is_deactivated(world, clinician):
    clinician.is_active = False
    clinician.save()
    assert _seen_by(clinician) == _only()


def test_lists_follow_care_team_changes(world, client, other_clinician, other_client):
    services.care_team_add(client=client, clinician=other_clinician)
    assert _seen_by(other_clinician) == _only(client, other_client)
    services.care_team_remove(client=client, clinician=other_clinician, user=other_clinician)
    assert _seen_by(other_clinician) == _only(other_client)


def test_care_team_row_in_a_practice_without_membership_shows_nothing(
    world, client, clinician, foreign_client
):
    """A care-team row alone is not access: the practice membership must be live too."""
    CareTeamMemberFactory(client=foreign_client, clinician=clinician)
    assert _seen_by(clinician) == _only(client)


def test_supervisor_who_also_practises_sees_only_their_own_care_team(
    world, practice, supervisor, client
):
    services.membership_grant(practice=practice, user=supervisor, role=Role.CLINICIAN)
    assert _clients_seen("client_list", supervisor) == set()
    services.care_team_add(client=client, clinician=supervisor)
    assert _clients_seen("client_list", supervisor) == {client.pk}


def test_clinician_of_two_practices_sees_their_clients_in_both(
    world, clinician, other_practice, foreign_client
):
    services.membership_grant(practice=other_practice, user=clinician, role=Role.CLINICIAN)
    services.care_team_add(client=foreign_client, clinician=clinician)
    assert _seen_by(clinician) == _only(world["client"], foreign_client)


def test_session_list_for_one_client(world, clinician, client, other_client):
    TherapySessionFactory(client=client)
    assert selectors.session_list(user=clinician, client=client).count() == 2
    assert not selectors.session_list(user=clinician, client=other_client).exists()


def test_addendum_list_for_one_note(world, clinician, client):
    note = selectors.progress_note_list(user=clinician).get()
    second = NoteAddendumFactory(note=note)
    assert selectors.addendum_list(user=clinician, note=note).count() == 2
    assert second in selectors.addendum_list(user=clinician, note=note)


def test_measure_list_for_one_client(world, clinician, client, other_client):
    assert (
        selectors.measure_list(
            user=clinician, measure_model=SessionRatingScale, client=client
        ).count()
        == 1
    )
    assert not selectors.measure_list(
        user=clinician, measure_model=SessionRatingScale, client=other_client
    ).exists()


def test_each_list_is_one_query(world, clinician, django_assert_num_queries):
    for name, (select, _) in LISTS.items():
        # One SELECT each: the care-team and membership scoping are subqueries of it.
        with django_assert_num_queries(1):
            list(select(user=clinician) if name != "measure_list" else select(clinician))


# --- Process notes -----------------------------------------------------------------------------


def test_process_notes_are_their_authors_alone(world, client, clinician, other_clinician):
    alices = list(selectors.process_note_list(user=clinician))
    assert [note.author for note in alices] == [clinician]
    # Bob joins the care team and writes his own process note on the same session.
    services.care_team_add(client=client, clinician=other_clinician)
    bobs = ProcessNoteFactory(session=alices[0].session, author=other_clinician)
    assert list(selectors.process_note_list(user=clinician)) == alices
    bob_sees = set(selectors.process_note_list(user=other_clinician))
    assert bobs in bob_sees
    assert not bob_sees & set(alices)


@pytest.mark.parametrize("persona", ["supervisor", "practice_admin"])
def test_process_notes_are_hidden_from_non_authors(world, request, persona):
    assert not selectors.process_note_list(user=request.getfixturevalue(persona)).exists()


def test_process_notes_of_another_practice_stay_there(world, foreign_clinician, clinician):
    charlies = selectors.process_note_list(user=foreign_clinician).get()
    assert charlies.practice == world["foreign_client"].practice
    assert charlies not in selectors.process_note_list(user=clinician)


def test_process_notes_are_hidden_once_the_author_no_longer_practises(world, clinician):
    assert selectors.process_note_list(user=clinician).exists()
    services.membership_revoke(membership=Membership.objects.get(user=clinician))
    assert not selectors.process_note_list(user=clinician).exists()


# --- Supervision ---------------------------------------------------------------------------------


def test_supervisees_of_returns_only_assigned_clinicians(
    practice, supervisor, clinician, other_clinician
):
    assert list(selectors.supervisees_of(user=supervisor, practice=practice)) == [clinician]


def test_supervisees_of_is_empty_for_someone_without_the_supervisor_role(
    practice, supervisor, clinician, other_clinician, practice_admin
):
    for user in (clinician, other_clinician, practice_admin):
        assert not selectors.supervisees_of(user=user, practice=practice).exists()


def test_supervisees_of_is_empty_in_another_practice(supervisor, other_practice):
    assert not selectors.supervisees_of(user=supervisor, practice=other_practice).exists()


def test_supervisees_of_is_empty_once_the_supervisor_role_is_revoked(
    practice, supervisor, clinician
):
    services.membership_revoke(
        membership=Membership.objects.get(user=supervisor, role=Role.SUPERVISOR)
    )
    assert not selectors.supervisees_of(user=supervisor, practice=practice).exists()


def test_supervisees_of_drops_a_clinician_who_no_longer_practises(practice, supervisor, clinician):
    services.membership_revoke(
        membership=Membership.objects.get(user=clinician, role=Role.CLINICIAN)
    )
    assert not selectors.supervisees_of(user=supervisor, practice=practice).exists()


def test_supervisees_of_drops_a_deactivated_clinician(practice, supervisor, clinician):
    clinician.is_active = False
    clinician.save()
    assert not selectors.supervisees_of(user=supervisor, practice=practice).exists()


def test_supervisees_of_lists_each_clinician_once(practice, supervisor, clinician, other_clinician):
    services.supervision_assign(practice=practice, supervisor=supervisor, clinician=other_clinician)
    services.membership_grant(practice=practice, user=clinician, role=Role.SUPERVISOR)
    supervisees = list(selectors.supervisees_of(user=supervisor, practice=practice))
    assert sorted(u.pk for u in supervisees) == sorted([clinician.pk, other_clinician.pk])


# --- Memberships --------------------------------------------------------------------------------


def test_has_role_follows_active_memberships(practice, other_practice, supervisor):
    assert selectors.has_role(user=supervisor, role=Role.SUPERVISOR, practice=practice)
    assert not selectors.has_role(user=supervisor, role=Role.SUPERVISOR, practice=other_practice)
    assert not selectors.has_role(user=supervisor, role=Role.CLINICIAN)
    supervisor.is_active = False
    supervisor.save()
    assert not selectors.has_role(user=supervisor, role=Role.SUPERVISOR)
    assert not selectors.memberships_of(user=supervisor).exists()


def test_client_list_lists_each_client_once(client, clinician, practice):
    ClientFactory(practice=practice)  # someone else's
    assert list(selectors.client_list(user=clinician)) == [client]
