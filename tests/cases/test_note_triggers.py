"""A signed progress note is immutable and addenda are append-only in the database itself:
``save()``, ``QuerySet.update()``, ``delete()`` and raw SQL are all refused by triggers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from cases.choices import NoteFormat, NoteStatus
from cases.models import NoteAddendum, ProgressNote
from tests.factories import (
    NoteAddendumFactory,
    ProgressNoteFactory,
    UserFactory,
    sections_for,
)

pytestmark = pytest.mark.django_db

UPDATE = "signed_note_immutable_update"
DELETE = "signed_note_no_delete"


@pytest.fixture
def signed_note() -> ProgressNote:
    return ProgressNoteFactory(signed=True)


def _sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _sections(note: ProgressNote) -> dict:
    return ProgressNote.objects.values_list("sections", flat=True).get(pk=note.pk)


def test_signed_note_rejects_save_with_changed_sections(trigger_refuses, signed_note):
    original = dict(signed_note.sections)
    signed_note.sections = {**signed_note.sections, "plan": "rewritten"}
    with trigger_refuses(UPDATE):
        signed_note.save()
    assert _sections(signed_note) == original


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"sections": sections_for(NoteFormat.SOAP, "rewritten")}, id="sections"),
        pytest.param(
            {"format": NoteFormat.FREE, "sections": sections_for(NoteFormat.FREE)}, id="format"
        ),
        pytest.param(
            {"status": NoteStatus.DRAFT, "signed_by": None, "signed_at": None}, id="unsign"
        ),
        pytest.param({"signed_at": timezone.now()}, id="signed_at"),
        pytest.param({"created_at": timezone.now()}, id="created_at"),
    ],
)
def test_signed_note_rejects_queryset_update(trigger_refuses, signed_note, changes):
    with trigger_refuses(UPDATE):
        ProgressNote.objects.filter(pk=signed_note.pk).update(**changes)


def test_signed_note_rejects_change_of_author_or_signer(trigger_refuses, signed_note):
    someone = UserFactory()
    with trigger_refuses(UPDATE):
        ProgressNote.objects.filter(pk=signed_note.pk).update(author=someone)
    with trigger_refuses(UPDATE):
        ProgressNote.objects.filter(pk=signed_note.pk).update(signed_by=someone)


def test_signed_note_rejects_raw_sql_update(trigger_refuses, signed_note):
    with trigger_refuses(UPDATE):
        _sql(
            "UPDATE cases_progressnote SET sections = '{\"text\": \"x\"}', format = 'free' "
            "WHERE id = %s",
            signed_note.pk,
        )
    assert _sections(signed_note) == signed_note.sections


def test_signed_note_rejects_raw_sql_unsigning(trigger_refuses, signed_note):
    with trigger_refuses(UPDATE):
        _sql(
            "UPDATE cases_progressnote SET status = 'draft', signed_by_id = NULL, "
            "signed_at = NULL WHERE id = %s",
            signed_note.pk,
        )


def test_signed_note_may_be_saved_unchanged(signed_note):
    """Only the frozen columns are compared: ``updated_at`` moving is not a change of content."""
    signed_note.save()
    assert ProgressNote.objects.get(pk=signed_note.pk).is_signed


def test_signed_note_rejects_delete(trigger_refuses, signed_note):
    with trigger_refuses(DELETE):
        signed_note.delete()
    with trigger_refuses(DELETE):
        ProgressNote.objects.filter(pk=signed_note.pk).delete()
    assert ProgressNote.objects.filter(pk=signed_note.pk).exists()


def test_signed_note_rejects_raw_sql_delete(trigger_refuses, signed_note):
    with trigger_refuses(DELETE):
        _sql("DELETE FROM cases_progressnote WHERE id = %s", signed_note.pk)
    assert ProgressNote.objects.filter(pk=signed_note.pk).exists()


def test_draft_note_can_be_updated_in_sql_and_through_the_orm():
    note = ProgressNoteFactory()
    ProgressNote.objects.filter(pk=note.pk).update(sections=sections_for(NoteFormat.SOAP, "v2"))
    _sql(
        "UPDATE cases_progressnote SET format = 'free', sections = '{\"text\": \"v3\"}' "
        "WHERE id = %s",
        note.pk,
    )
    note.refresh_from_db()
    assert (note.format, note.sections) == (NoteFormat.FREE, {"text": "v3"})


def test_draft_note_can_be_signed_in_sql():
    note = ProgressNoteFactory()
    _sql(
        "UPDATE cases_progressnote SET status = 'signed', signed_by_id = author_id, "
        "signed_at = now() WHERE id = %s",
        note.pk,
    )
    note.refresh_from_db()
    assert note.is_signed


def test_draft_note_can_be_deleted():
    first, second = ProgressNoteFactory(), ProgressNoteFactory()
    first.delete()
    _sql("DELETE FROM cases_progressnote WHERE id = %s", second.pk)
    assert not ProgressNote.objects.filter(pk__in=[first.pk, second.pk]).exists()


ADDENDUM = "addendum_append_only"


def test_addendum_rejects_save(trigger_refuses):
    addendum = NoteAddendumFactory()
    addendum.text = "changed my mind"
    with trigger_refuses(ADDENDUM):
        addendum.save()


def test_addendum_rejects_queryset_and_raw_sql_update(trigger_refuses):
    addendum = NoteAddendumFactory()
    with trigger_refuses(ADDENDUM):
        NoteAddendum.objects.filter(pk=addendum.pk).update(reason="other")
    with trigger_refuses(ADDENDUM):
        _sql("UPDATE cases_noteaddendum SET text = 'x' WHERE id = %s", addendum.pk)
    assert NoteAddendum.objects.get(pk=addendum.pk).text == addendum.text


def test_addendum_rejects_delete(trigger_refuses):
    addendum = NoteAddendumFactory()
    with trigger_refuses(ADDENDUM):
        addendum.delete()
    with trigger_refuses(ADDENDUM):
        NoteAddendum.objects.filter(pk=addendum.pk).delete()
    with trigger_refuses(ADDENDUM):
        _sql("DELETE FROM cases_noteaddendum WHERE id = %s", addendum.pk)
    assert NoteAddendum.objects.filter(pk=addendum.pk).exists()
