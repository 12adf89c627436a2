"""purge_expired removes only records past retention and not on legal hold, dry run by
default, and writes its own access events."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from cases.audit import AccessEvent, verify_chains
from cases.models import Client, ProgressNote, TherapySession
from ruptures.models import RuptureEpisode
from ruptures.retention import PREVIEW_ACTION, PURGE_ACTION
from tests.factories import (
    ClientFactory,
    NoteAddendumFactory,
    ProgressNoteFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 22)


def old_client(practice, clinician, *, last_session: dt.date, **fields) -> Client:
    client = ClientFactory(
        practice=practice, primary_clinician=clinician, intake_date=dt.date(2012, 1, 9), **fields
    )
    session = TherapySessionFactory(
        client=client,
        clinician=clinician,
        starts_at=dt.datetime.combine(last_session, dt.time(10), tzinfo=dt.UTC),
    )
    note = ProgressNoteFactory(session=session, signed=True)
    NoteAddendumFactory(note=note)
    SessionRatingScaleFactory(session=session)
    episode = RuptureEpisodeFactory(client=client, session=session, detected_on=last_session)
    RepairAttemptFactory(episode=episode, attempted_on=last_session)
    RuptureSignalFactory(client=client, episode=episode)
    return client


def run(*args: str) -> str:
    out = StringIO()
    call_command("purge_expired", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def clients(practice, clinician):
    return {
        # last service 2018-06-01 + 7 years = 2025-06-01 < today: expired
        "expired": old_client(practice, clinician, last_session=dt.date(2018, 6, 1)),
        # 2020-01-01 + 7 = 2027: not yet
        "recent": old_client(practice, clinician, last_session=dt.date(2020, 1, 1)),
        "held": old_client(practice, clinician, last_session=dt.date(2015, 3, 1), legal_hold=True),
        # discharged later than the last session: the discharge is the last service
        "discharged": old_client(
            practice,
            clinician,
            last_session=dt.date(2018, 1, 1),
            status="discharged",
            discharge_date=dt.date(2020, 2, 1),
        ),
    }


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(clients):
    before = (Client.objects.count(), TherapySession.objects.count())

    output = run()

    assert "dry run" in output
    assert clients["expired"].code in output
    for kept in ("recent", "held", "discharged"):
        assert clients[kept].code not in output
    assert (Client.objects.count(), TherapySession.objects.count()) == before
    assert AccessEvent.objects.filter(action=PREVIEW_ACTION).count() == 1


def test_execute_removes_the_whole_expired_record_and_only_it(clients):
    expired = clients["expired"]

    run("--execute")

    assert not Client.objects.filter(pk=expired.pk).exists()
    assert not TherapySession.objects.filter(client_id=expired.pk).exists()
    assert not RuptureEpisode.objects.filter(client_id=expired.pk).exists()
    # the signed note went too, which nothing else may delete
    assert not ProgressNote.objects.filter(session__client_id=expired.pk).exists()
    for kept in ("recent", "held", "discharged"):
        assert Client.objects.filter(pk=clients[kept].pk).exists()
        assert ProgressNote.objects.filter(session__client=clients[kept]).exists()


def test_the_purge_writes_its_events_and_the_chain_holds(clients, practice):
    run("--execute")

    event = AccessEvent.objects.get(action=PURGE_ACTION)
    assert event.record_ids == [clients["expired"].pk]
    assert event.client_ids == [clients["expired"].pk]
    assert event.practice_id == practice.pk
    assert verify_chains().intact


def test_signed_notes_stay_protected_outside_the_purge(clients):
    from django.db import ProgrammingError, connection, transaction

    note = ProgressNote.objects.get(session__client=clients["recent"])
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_progressnote WHERE id = %s", [note.pk])


def test_a_shorter_retention_period_brings_records_due(clients, practice):
    practice.retention_years = 5
    practice.save()

    output = run()

    assert clients["recent"].code in output  # 2020 + 5 = 2025
    assert clients["held"].code not in output


def test_the_purge_takes_the_records_history_with_it(clients):
    from cases.models import ClientEvent, TherapySessionEvent  # type: ignore[attr-defined]

    expired, recent = clients["expired"], clients["recent"]
    Client.objects.filter(pk=expired.pk).update(phone="020 7946 0001")  # a change to forget
    assert ClientEvent.objects.filter(pgh_obj_id=expired.pk).exists()

    run("--execute")

    assert not ClientEvent.objects.filter(pgh_obj_id=expired.pk).exists()
    assert not TherapySessionEvent.objects.filter(client_id=expired.pk).exists()
    assert TherapySessionEvent.objects.filter(client_id=recent.pk).exists()
