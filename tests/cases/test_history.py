"""Change history (django-pghistory): every insert, update and delete of a clinical table is
recorded by PostgreSQL triggers — bulk updates and raw SQL included — with who and which
request made it when it came through the API."""

from __future__ import annotations

import pytest
from django.db import connection

from cases.history import demo_seeding
from cases.models import ClientEvent, TherapySessionEvent  # type: ignore[attr-defined]
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db


def test_inserts_updates_and_deletes_are_recorded(client, clinician):
    session = TherapySessionFactory(client=client, clinician=clinician, duration_minutes=50)
    session.duration_minutes = 45
    session.save()
    pk = session.pk
    session.delete()

    events = TherapySessionEvent.objects.filter(pgh_obj_id=pk).order_by("pgh_id")
    assert [(e.pgh_label, e.duration_minutes) for e in events] == [
        ("insert", 50),
        ("update", 45),
        ("delete", 45),
    ]


def test_bulk_updates_and_raw_sql_are_recorded(client):
    type(client).objects.filter(pk=client.pk).update(phone="020 7946 0002")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_client SET email = 'new@example.org' WHERE id = %s", [client.pk]
        )

    updates = ClientEvent.objects.filter(pgh_obj_id=client.pk, pgh_label="update")
    assert [(e.phone, e.email) for e in updates.order_by("pgh_id")][-2:] == [
        ("020 7946 0002", client.email),
        ("020 7946 0002", "new@example.org"),
    ]


def test_demo_seeding_skips_inserts_only_and_ends_with_its_block(client, clinician):
    with demo_seeding():
        seeded = TherapySessionFactory(client=client, clinician=clinician, duration_minutes=50)
        seeded.duration_minutes = 45
        seeded.save()
    after = TherapySessionFactory(client=client, clinician=clinician)

    labels = TherapySessionEvent.objects.filter(pgh_obj_id=seeded.pk).values_list(
        "pgh_label", flat=True
    )
    # Only the insert is skipped: a change to a row is recorded whoever makes it.
    assert list(labels) == ["update"]
    # The test runs inside a transaction that outlives the block: the setting does not.
    assert TherapySessionEvent.objects.filter(pgh_obj_id=after.pk, pgh_label="insert").exists()


def test_demo_seeding_is_undone_when_its_block_fails(client, clinician):
    with pytest.raises(RuntimeError), demo_seeding():
        raise RuntimeError

    session = TherapySessionFactory(client=client, clinician=clinician)

    assert TherapySessionEvent.objects.filter(pgh_obj_id=session.pk, pgh_label="insert").exists()
