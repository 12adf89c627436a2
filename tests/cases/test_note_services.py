"""Progress notes (draft, signed, addenda) and process notes, written through cases.services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import errors, services
from cases.choices import NOTE_SECTIONS, NoteFormat, NoteStatus
from cases.models import NoteAddendum, ProcessNote, ProgressNote
from tests.factories import sections_for


@pytest.fixture
def note(session, clinician) -> ProgressNote:
    return services.note_create(
        session=session,
        author=clinician,
        format=NoteFormat.SOAP,
        sections=sections_for(NoteFormat.SOAP),
    )


@pytest.fixture
def signed_note(note, clinician) -> ProgressNote:
    return services.note_sign(note=note, signer=clinician)


@pytest.fixture
def process_note(session, clinician) -> ProcessNote:
    return services.process_note_create(
        session=session, author=clinician, text="I noticed I hurried past her grief."
    )


# --- Progress notes ----------------------------------------------------------------------------


@pytest.mark.parametrize("note_format", list(NOTE_SECTIONS))
def test_note_create_keeps_the_sections_of_its_format(session, clinician, note_format):
    created = services.note_create(
        session=session,
        author=clinician,
        format=note_format,
        sections=sections_for(note_format),
    )
    assert list(created.sections) == list(NOTE_SECTIONS[note_format])
    assert created.status == NoteStatus.DRAFT


def test_note_create_refuses_an_author_not_on_the_care_team(session, other_clinician):
    with pytest.raises(PermissionDenied) as excinfo:
        services.note_create(
            session=session,
            author=other_clinician,
            format=NoteFormat.FREE,
            sections=sections_for(NoteFormat.FREE),
        )
    assert str(excinfo.value) == errors.NOT_IN_CARE_TEAM
    assert not ProgressNote.objects.exists()


def test_note_create_refuses_a_second_note_for_the_session(note, session, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_create(
            session=session,
            author=clinician,
            format=NoteFormat.FREE,
            sections=sections_for(NoteFormat.FREE),
        )
    assert excinfo.value.messages == [errors.NOTE_EXISTS]


@pytest.mark.parametrize(
    ("note_format", "sections"),
    [
        pytest.param(NoteFormat.SOAP, sections_for(NoteFormat.DAP), id="soap-with-dap"),
        pytest.param(NoteFormat.DAP, {"data": "x", "assessment": "y"}, id="dap-missing-plan"),
        pytest.param(NoteFormat.FREE, {"text": "x", "plan": "y"}, id="free-with-extra"),
        pytest.param(NoteFormat.BIRP, ["behavior"], id="not-an-object"),
    ],
)
def test_note_create_refuses_sections_of_another_format(session, clinician, note_format, sections):
    with pytest.raises(ValidationError) as excinfo:
        services.note_create(
            session=session, author=clinician, format=note_format, sections=sections
        )
    expected = errors.NOTE_SECTIONS_MISMATCH.format(
        format=note_format, expected=", ".join(NOTE_SECTIONS[note_format])
    )
    assert excinfo.value.message_dict == {"sections": [expected]}


def test_note_create_refuses_sections_that_are_not_text(session, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_create(
            session=session, author=clinician, format=NoteFormat.FREE, sections={"text": 42}
        )
    assert excinfo.value.message_dict == {"sections": [errors.NOTE_SECTION_NOT_TEXT]}


def test_note_create_refuses_an_unknown_format(session, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_create(
            session=session, author=clinician, format="essay", sections={"text": "x"}
        )
    assert set(excinfo.value.message_dict) == {"format"}


def test_note_update_edits_a_draft(note, clinician):
    services.note_update(
        note=note, editor=clinician, format=NoteFormat.FREE, sections={"text": "rewritten"}
    )
    note.refresh_from_db()
    assert (note.format, note.sections) == (NoteFormat.FREE, {"text": "rewritten"})


def test_note_update_refuses_a_format_change_without_matching_sections(note, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_update(note=note, editor=clinician, format=NoteFormat.DAP)
    assert excinfo.value.message_dict == {
        "sections": [
            errors.NOTE_SECTIONS_MISMATCH.format(format="dap", expected="data, assessment, plan")
        ]
    }


def test_note_update_refuses_a_signed_note(signed_note, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_update(
            note=signed_note, editor=clinician, sections=sections_for(NoteFormat.SOAP, "new")
        )
    assert excinfo.value.messages == [errors.NOTE_SIGNED_IMMUTABLE]
    signed_note.refresh_from_db()
    assert signed_note.sections == sections_for(NoteFormat.SOAP)


def test_note_update_refuses_a_note_signed_since_it_was_read(note, clinician):
    stale = ProgressNote.objects.get(pk=note.pk)
    services.note_sign(note=note, signer=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.note_update(
            note=stale, editor=clinician, sections=sections_for(NoteFormat.SOAP, "new")
        )
    assert excinfo.value.messages == [errors.NOTE_SIGNED_IMMUTABLE]


def test_note_sign_records_the_signer_and_time(note, clinician):
    signed = services.note_sign(note=note, signer=clinician)
    signed.refresh_from_db()
    assert signed.status == NoteStatus.SIGNED
    assert signed.signed_by == clinician
    assert signed.signed_at is not None


@pytest.mark.parametrize("persona", ["other_clinician", "supervisor"])
def test_note_sign_refuses_someone_other_than_the_author(note, persona, request, client):
    signer = request.getfixturevalue(persona)
    if persona == "other_clinician":
        services.care_team_add(client=client, clinician=signer)
    with pytest.raises(PermissionDenied) as excinfo:
        services.note_sign(note=note, signer=signer)
    assert str(excinfo.value) == errors.NOTE_SIGNER_NOT_AUTHOR
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT


def test_note_sign_refuses_an_empty_note(session, clinician):
    empty = services.note_create(
        session=session,
        author=clinician,
        format=NoteFormat.SOAP,
        sections=sections_for(NoteFormat.SOAP, " \n "),
    )
    with pytest.raises(ValidationError) as excinfo:
        services.note_sign(note=empty, signer=clinician)
    assert excinfo.value.messages == [errors.NOTE_EMPTY]


def test_note_sign_accepts_a_note_with_one_section_written(session, clinician):
    partial = services.note_create(
        session=session,
        author=clinician,
        format=NoteFormat.DAP,
        sections={"data": "", "assessment": "Low mood, engaged.", "plan": ""},
    )
    assert services.note_sign(note=partial, signer=clinician).is_signed


def test_note_sign_refuses_a_signed_note(signed_note, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.note_sign(note=signed_note, signer=clinician)
    assert excinfo.value.messages == [errors.NOTE_ALREADY_SIGNED]


# --- Addenda ------------------------------------------------------------------------------------


def test_addendum_add_appends_to_a_signed_note(signed_note, clinician):
    addendum = services.addendum_add(
        note=signed_note, author=clinician, reason="Late entry", text="Also discussed sleep."
    )
    assert addendum.practice_id == signed_note.practice_id
    assert list(signed_note.addenda.all()) == [addendum]


def test_addendum_add_refuses_a_draft(note, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.addendum_add(note=note, author=clinician, reason="r", text="t")
    assert excinfo.value.messages == [errors.NOTE_NOT_SIGNED]
    assert not NoteAddendum.objects.exists()


def test_addendum_add_refuses_an_author_not_on_the_care_team(signed_note, other_clinician):
    with pytest.raises(PermissionDenied) as excinfo:
        services.addendum_add(note=signed_note, author=other_clinician, reason="r", text="t")
    assert str(excinfo.value) == errors.NOT_IN_CARE_TEAM


@pytest.mark.parametrize(("reason", "text"), [(" ", "text"), ("reason", "\n")])
def test_addendum_add_refuses_blank_reason_or_text(signed_note, clinician, reason, text):
    with pytest.raises(ValidationError):
        services.addendum_add(note=signed_note, author=clinician, reason=reason, text=text)
    assert not NoteAddendum.objects.exists()


# --- Process notes ------------------------------------------------------------------------------


def test_process_note_create_refuses_someone_not_on_the_care_team(session, other_clinician):
    with pytest.raises(PermissionDenied) as excinfo:
        services.process_note_create(session=session, author=other_clinician, text="t")
    assert str(excinfo.value) == errors.NOT_IN_CARE_TEAM


def test_process_note_update_by_its_author(process_note, clinician):
    services.process_note_update(note=process_note, author=clinician, text="Second thoughts.")
    process_note.refresh_from_db()
    assert process_note.text == "Second thoughts."


def test_process_note_update_refuses_anyone_but_the_author(process_note, other_clinician, client):
    services.care_team_add(client=client, clinician=other_clinician)
    with pytest.raises(PermissionDenied) as excinfo:
        services.process_note_update(note=process_note, author=other_clinician, text="mine now")
    assert str(excinfo.value) == errors.PROCESS_NOTE_AUTHOR_ONLY
    process_note.refresh_from_db()
    assert process_note.text == "I noticed I hurried past her grief."


def test_process_note_update_refuses_blank_text(process_note, clinician):
    with pytest.raises(ValidationError):
        services.process_note_update(note=process_note, author=clinician, text="  ")
    process_note.refresh_from_db()
    assert process_note.text.strip()
