"""The composite foreign keys of ``cases/migrations/0002_same_practice.py``: a row that points
at a parent of another practice, or a measure that names another client than its session's,
is refused by the database when it is written."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection

from cases.models import (
    CareTeamMember,
    NoteAddendum,
    ProcessNote,
    ProgressNote,
)
from tests.factories import (
    ClientFactory,
    OutcomeRatingScaleFactory,
    PostSessionQuestionnaireFactory,
    PracticeFactory,
    ProgressNoteFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
    UserFactory,
    WorkingAllianceInventoryFactory,
    sections_for,
)

pytestmark = pytest.mark.django_db


def _migration_keys() -> set[str]:
    module = import_module("cases.migrations.0002_same_practice")
    return {name for _, name, *_ in module.SAME_PRACTICE_KEYS}


def test_care_team_row_must_be_in_the_clients_practice(refused):
    client = ClientFactory()
    with refused("care_team_client_same_practice"):
        CareTeamMember.objects.create(
            practice=PracticeFactory(), client=client, clinician=UserFactory()
        )


def test_session_must_be_in_the_clients_practice(refused):
    client = ClientFactory()
    with refused("session_client_same_practice"):
        TherapySessionFactory(client=client, practice=PracticeFactory())


def test_progress_note_must_be_in_the_sessions_practice(refused):
    session = TherapySessionFactory()
    with refused("note_session_same_practice"):
        ProgressNote.objects.create(
            practice=PracticeFactory(),
            session=session,
            author=session.clinician,
            format="free",
            sections=sections_for("free"),
        )


def test_addendum_must_be_in_the_notes_practice(refused):
    note = ProgressNoteFactory(signed=True)
    with refused("addendum_note_same_practice"):
        NoteAddendum.objects.create(
            practice=PracticeFactory(), note=note, author=note.author, reason="r", text="t"
        )


def test_process_note_must_be_in_the_sessions_practice(refused):
    session = TherapySessionFactory()
    with refused("process_note_session_same_practice"):
        ProcessNote.objects.create(
            practice=PracticeFactory(), session=session, author=session.clinician, text="t"
        )


MEASURE_KEYS = [
    (SessionRatingScaleFactory, "srs_session_same_client"),
    (OutcomeRatingScaleFactory, "ors_session_same_client"),
    (PostSessionQuestionnaireFactory, "psq_session_same_client"),
    (WorkingAllianceInventoryFactory, "wai_session_same_client"),
]


@pytest.mark.parametrize(("factory", "constraint"), MEASURE_KEYS)
def test_measure_must_name_its_sessions_client(refused, factory, constraint):
    session = TherapySessionFactory()
    same_practice_other_client = ClientFactory(practice=session.practice)
    with refused(constraint):
        factory(session=session, client=same_practice_other_client)


@pytest.mark.parametrize(("factory", "constraint"), MEASURE_KEYS)
def test_measure_must_be_in_its_sessions_practice(refused, factory, constraint):
    session = TherapySessionFactory()
    with refused(constraint):
        factory(session=session, practice=PracticeFactory())


def test_moving_a_session_to_another_client_in_sql_is_refused_while_measures_point_at_it(
    refused,
):
    """The measure's key references the session's (id, client, practice): the session cannot
    be re-pointed under it."""
    measure = SessionRatingScaleFactory()
    other = ClientFactory(practice=measure.practice)
    with refused("srs_session_same_client"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_therapysession SET client_id = %s WHERE id = %s",
            [other.pk, measure.session_id],
        )


def test_every_same_practice_key_of_the_migration_is_installed():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable = false "
            "AND conname = ANY(%s)",
            [sorted(_migration_keys())],
        )
        installed = {row[0] for row in cursor.fetchall()}
    assert installed == _migration_keys()
    assert len(installed) == 9
