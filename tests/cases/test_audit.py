"""The access log in PostgreSQL: append-only, hash-chained per practice by a trigger, and
checked by ``manage.py verify_audit``, which names the first broken row of a chain."""

from __future__ import annotations

import threading
from io import StringIO

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.audit import (
    GENESIS_HASH,
    AccessChainHead,
    AccessEvent,
    AccessOutcome,
    hash_sql,
    record_access,
    verify_chains,
)
from cases.models import Client, Practice, ProgressNote, TherapySession
from tests.factories import ProgressNoteFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

APPEND_ONLY = "cases.AccessEvent:access_event_append_only"


def record(practice: Practice | None, **kwargs) -> int:
    """One event in ``practice``'s chain (no records, so it goes to the fallback practice)."""
    fields = {"user_id": None, "action": "read", "resource": "client", "model": None}
    fields.update(kwargs)
    (event_id,) = record_access(
        fallback_practice_ids=[practice.pk] if practice is not None else [], **fields
    )
    return event_id


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def verify() -> tuple[str, str]:
    """``manage.py verify_audit``: its output, and the error it exits with ("" when OK)."""
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def chain(practice: Practice | None) -> list[AccessEvent]:
    return list(
        AccessEvent.objects.filter(practice=practice).order_by("seq")
        if practice is not None
        else AccessEvent.objects.filter(practice__isnull=True).order_by("seq")
    )


# --- append-only --------------------------------------------------------------------------------


def test_access_events_refuse_update_delete_and_truncate(practice, trigger_refuses):
    event_id = record(practice)

    with trigger_refuses("access_event_append_only"):
        sql("UPDATE cases_accessevent SET status_code = 200 WHERE id = %s", [event_id])
    with trigger_refuses("access_event_append_only"):
        sql("DELETE FROM cases_accessevent WHERE id = %s", [event_id])
    with trigger_refuses("access_event_no_truncate"):
        sql("TRUNCATE cases_accessevent")
    with trigger_refuses("access_event_append_only"):
        AccessEvent.objects.filter(pk=event_id).update(action="delete")

    assert AccessEvent.objects.filter(pk=event_id, action="read").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cases_accesschainhead SET seq = seq - 1",
        "DELETE FROM cases_accesschainhead",
        f"INSERT INTO cases_accesschainhead VALUES (987654, 1, '{GENESIS_HASH}')",  # noqa: S608
    ],
)
def test_chain_heads_move_only_when_an_event_is_recorded(practice, statement):
    record(practice)

    with pytest.raises(ProgrammingError, match="chain heads move only"), transaction.atomic():
        sql(statement)

    assert AccessChainHead.objects.get(chain=practice.pk).seq == 1


def test_chain_heads_refuse_truncate(practice, trigger_refuses):
    record(practice)

    with trigger_refuses("access_chain_head_no_truncate"):
        sql("TRUNCATE cases_accesschainhead")


# --- the chain ----------------------------------------------------------------------------------


def test_chain_is_intact_after_many_events_across_two_practices(practice, other_practice):
    for n in range(60):
        record([practice, other_practice, None][n % 3], status_code=200 + n % 5)

    for owner in (practice, other_practice, None):
        events = chain(owner)
        assert [event.seq for event in events] == list(range(1, 21))
        assert events[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
        head = AccessChainHead.objects.get(chain=owner.pk if owner else 0)
        assert (head.seq, head.hash) == (20, events[-1].hash)
    report = verify_chains()
    assert report.intact
    assert (len(report.chains), report.events) == (3, 60)
    output, error = verify()
    assert error == ""
    assert "OK: 3 chains, 60 events" in output


def test_the_trigger_sets_the_chain_columns_whatever_the_writer_sends(practice):
    record(practice)
    forged = AccessEvent.objects.create(
        practice=practice,
        action="read",
        resource="client",
        outcome=AccessOutcome.ALLOWED,
        seq=1,
        prev_hash="f" * 64,
        hash="e" * 64,
    )

    stored = AccessEvent.objects.get(pk=forged.pk)
    assert stored.seq == 2
    assert stored.prev_hash == chain(practice)[0].hash
    assert stored.hash not in ("e" * 64, "f" * 64)
    # RETURNING hands the writer what the trigger set.
    assert (forged.seq, forged.hash, forged.occurred_at) == (2, stored.hash, stored.occurred_at)
    assert verify_chains().intact


def test_ignoring_pgtrigger_triggers_does_not_skip_the_chain(practice):
    with pgtrigger.ignore():
        record(practice)

    assert chain(practice)[0].seq == 1
    assert verify_chains().intact


def test_the_trigger_and_the_verifier_hash_the_same_canonical_form():
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'cases_access_event_chain'")
        (source,) = cursor.fetchone()

    assert hash_sql("NEW", "NEW.prev_hash") in source


def test_an_event_takes_the_database_clock(practice):
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (before,) = cursor.fetchone()

    event = AccessEvent.objects.get(pk=record(practice))

    assert event.occurred_at >= before


# --- where events go ----------------------------------------------------------------------------


def test_events_go_to_the_practice_of_their_records(
    clinician, client, foreign_clinician, foreign_client, practice, other_practice
):
    own = TherapySessionFactory(client=client, clinician=clinician)
    foreign = TherapySessionFactory(client=foreign_client, clinician=foreign_clinician)

    ids = record_access(
        user_id=clinician.pk,
        action="list",
        resource="session",
        model=TherapySession,
        record_ids=[foreign.pk, own.pk],
        fallback_practice_ids=[practice.pk],
        status_code=200,
    )

    events = AccessEvent.objects.filter(pk__in=ids).order_by("practice_id")
    assert [(e.practice_id, e.record_ids, e.client_ids) for e in events] == sorted(
        [
            (practice.pk, [own.pk], [client.pk]),
            (other_practice.pk, [foreign.pk], [foreign_client.pk]),
        ]
    )


def test_notes_find_their_client_through_their_session(clinician, client, practice):
    note = ProgressNoteFactory(session=TherapySessionFactory(client=client, clinician=clinician))

    (event_id,) = record_access(
        user_id=clinician.pk,
        action="read",
        resource="progress-note",
        model=ProgressNote,
        record_ids=[note.pk],
    )

    event = AccessEvent.objects.get(pk=event_id)
    assert (event.practice_id, event.client_ids) == (practice.pk, [client.pk])


def test_ids_of_no_record_go_to_the_callers_practices_or_to_no_practice(
    practice, other_practice, clinician
):
    missing = Client.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    placed = record_access(
        user_id=clinician.pk,
        action="read",
        resource="client",
        model=Client,
        record_ids=[missing + 1000],
        fallback_practice_ids=[other_practice.pk, practice.pk],
        status_code=404,
        outcome=AccessOutcome.DENIED,
    )
    anonymous = record_access(
        user_id=None,
        action="list",
        resource="client",
        model=Client,
        status_code=401,
        outcome=AccessOutcome.DENIED,
    )

    placed_events = AccessEvent.objects.filter(pk__in=placed)
    assert sorted(e.practice_id for e in placed_events) == sorted([practice.pk, other_practice.pk])
    assert all(e.record_ids == [missing + 1000] for e in placed_events)
    (nowhere,) = AccessEvent.objects.filter(pk__in=anonymous)
    assert (nowhere.practice_id, nowhere.record_ids, nowhere.seq) == (None, [], 1)


# --- verify_audit names the first broken row ------------------------------------------------------


@pytest.fixture
def chained(practice, other_practice) -> list[AccessEvent]:
    """Five events in Northside's chain, with Southside's interleaved."""
    for _ in range(5):
        record(practice, status_code=200)
        record(other_practice, status_code=200)
    return chain(practice)


def test_verify_audit_names_a_row_changed_in_sql(chained, practice):
    target = chained[2]
    with pgtrigger.ignore(APPEND_ONLY):
        sql("UPDATE cases_accessevent SET status_code = 404 WHERE id = %s", [target.pk])

    output, error = verify()

    assert error.startswith("The audit log is broken in 1 of 2 chains")
    assert f"practice {practice.pk}: BROKEN at event {target.pk} (seq 3)" in output
    assert "its content does not match its hash" in output


def test_verify_audit_names_the_row_after_a_deleted_one(chained, practice):
    with pgtrigger.ignore(APPEND_ONLY):
        sql("DELETE FROM cases_accessevent WHERE id = %s", [chained[1].pk])

    output, error = verify()

    assert error
    assert f"BROKEN at event {chained[2].pk} (seq 3)" in output
    assert "the events before it are missing (seq 2)" in output


def test_verify_audit_sees_the_newest_events_deleted(chained, practice):
    with pgtrigger.ignore(APPEND_ONLY):
        sql("DELETE FROM cases_accessevent WHERE id = %s", [chained[-1].pk])

    output, error = verify()

    assert error
    assert f"practice {practice.pk}: BROKEN at its end" in output
    assert "records seq 5 but the chain ends at seq 4" in output


def test_verify_audit_names_reordered_rows(chained, practice):
    first, second = chained[1], chained[2]
    with pgtrigger.ignore(APPEND_ONLY):
        sql("UPDATE cases_accessevent SET seq = 1000 WHERE id = %s", [first.pk])
        sql("UPDATE cases_accessevent SET seq = 2 WHERE id = %s", [second.pk])
        sql("UPDATE cases_accessevent SET seq = 3 WHERE id = %s", [first.pk])

    output, error = verify()

    assert error
    assert f"BROKEN at event {second.pk} (seq 2)" in output
    assert "is not the hash of the event before it" in output


def test_verify_audit_names_a_row_rewritten_with_a_fresh_hash_of_its_own(chained, practice):
    """Recomputing the changed row's hash is not enough: the next row still points at the
    old one."""
    target = chained[1]
    with pgtrigger.ignore(APPEND_ONLY):
        sql(
            f"UPDATE cases_accessevent e SET user_id = 4242, "  # noqa: S608
            f"hash = {hash_sql('e', 'e.prev_hash').replace('e.user_id', '4242')} "
            "WHERE id = %s",
            [target.pk],
        )

    output, error = verify()

    assert error
    assert f"BROKEN at event {chained[2].pk} (seq 3)" in output


def test_verify_audit_leaves_intact_chains_out_of_the_alarm(chained, other_practice):
    with pgtrigger.ignore(APPEND_ONLY):
        sql("UPDATE cases_accessevent SET action = 'delete' WHERE id = %s", [chained[0].pk])

    output, _ = verify()

    assert f"practice {other_practice.pk}: 5 events, intact" in output


# --- concurrency (real transactions, real connections) ------------------------------------------


def _in_thread(work) -> BaseException | None:
    """Run ``work`` on a connection of its own; return what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001  # reported to the test
            raised.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return raised[0] if raised else None


def _record_waiting_at_most(practice: Practice, timeout: str) -> None:
    with transaction.atomic():
        sql(f"SET LOCAL lock_timeout = '{timeout}'")
        record(practice)


@pytest.mark.django_db(transaction=True)
def test_recording_waits_for_its_own_practice_only(practice, other_practice):
    holding, release = threading.Event(), threading.Event()

    def hold_northside() -> None:
        with transaction.atomic():
            record(practice)
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=lambda: _in_thread(hold_northside))
    holder.start()
    try:
        assert holding.wait(30)
        southside = _in_thread(lambda: _record_waiting_at_most(other_practice, "3s"))
        northside = _in_thread(lambda: _record_waiting_at_most(practice, "300ms"))
    finally:
        release.set()
        holder.join(30)

    assert southside is None
    assert isinstance(northside, OperationalError)
    assert "lock timeout" in str(northside)
    assert verify_chains().intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_practice_form_one_chain(practice):
    def burst() -> None:
        for _ in range(15):
            record(practice)
            record(None)

    threads = [threading.Thread(target=lambda: _in_thread(burst)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [event.seq for event in chain(practice)] == list(range(1, 91))
    report = verify_chains()
    assert report.intact
    assert report.events == 180


@pytest.mark.django_db(transaction=True)
def test_an_event_recorded_without_waiting_for_the_disk_is_chained_the_same(practice):
    record(practice)
    with CaptureQueriesContext(connection) as queries:
        record(practice, durable=False)

    assert len(queries) == 1
    assert "synchronous_commit" in queries[0]["sql"]
    assert [event.seq for event in chain(practice)] == [1, 2]
    assert verify_chains().intact
