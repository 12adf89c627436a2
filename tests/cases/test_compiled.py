"""Querysets compiled once (cases.compiled): each call binds its own values in their places
and reads the rows as they are now; a query whose values cannot be bound safely is refused."""

from __future__ import annotations

import pytest

from cases import selectors
from cases.choices import Role
from cases.compiled import CompiledQuery
from cases.models import Membership, TherapySession
from tests.factories import MembershipFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db


def test_each_call_binds_its_own_values_in_their_places(client, clinician, other_client):
    mine = [TherapySessionFactory(client=client, clinician=clinician) for _ in range(3)]
    TherapySessionFactory(client=other_client)
    sessions = CompiledQuery(
        lambda client_id, above: TherapySession.objects.filter(
            client_id=client_id, id__gt=above, duration_minutes=50
        ).order_by("id"),
        "client_id",
        "above",
    )

    assert [s.pk for s in sessions(client_id=client.pk, above=0)] == [s.pk for s in mine]
    assert [s.pk for s in sessions(above=mine[0].pk, client_id=client.pk)] == [
        s.pk for s in mine[1:]
    ]
    assert list(sessions(client_id=other_client.pk, above=mine[-1].pk)) != []
    # Instances as the ORM makes them: converted values, a model's own methods.
    first = next(iter(sessions(client_id=client.pk, above=0)))
    assert first.starts_at == mine[0].starts_at
    assert first.client_id == client.pk


def test_rows_are_read_afresh_on_every_call(clinician, practice, other_practice):
    before = selectors.user_with_memberships(user_id=clinician.pk)
    assert selectors.held_memberships(user=before) == [(Role.CLINICIAN, practice.pk)]

    MembershipFactory(user=clinician, practice=other_practice, role=Role.SUPERVISOR)
    Membership.objects.filter(user=clinician, practice=practice).update(is_active=False)

    after = selectors.user_with_memberships(user_id=clinician.pk)
    assert selectors.held_memberships(user=after) == [(Role.SUPERVISOR, other_practice.pk)]
    assert selectors.user_with_memberships(user_id=10**12) is None


def test_the_annotation_and_the_query_answer_alike(clinician, supervisor, practice):
    for user in (clinician, supervisor):
        annotated = selectors.held_memberships(
            user=selectors.user_with_memberships(user_id=user.pk)
        )
        assert annotated == sorted(selectors.held_memberships(user=user))
        assert annotated


@pytest.mark.parametrize(
    "build",
    [
        # The value twice: which place would a call bind?
        lambda n: TherapySession.objects.filter(id=n, client_id=n),
        # Written into the SQL text, not passed as a parameter.
        lambda n: TherapySession.objects.extra(where=[f"id <> {int(n)}"]),  # noqa: S610
    ],
)
def test_a_value_not_bound_exactly_once_is_refused(build):
    with pytest.raises(ValueError, match="bound once"):
        list(CompiledQuery(build, "n")(n=1))


def test_a_call_must_give_exactly_the_open_values():
    query = CompiledQuery(lambda n: TherapySession.objects.filter(id=n), "n")
    with pytest.raises(TypeError):
        query(m=1)
