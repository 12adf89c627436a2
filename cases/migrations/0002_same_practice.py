"""Composite foreign keys that hold related cases rows to one practice and one client."""

from django.db import migrations

from cases import same_practice

# (table, constraint name, child columns, parent table, parent columns)
SAME_PRACTICE_KEYS = [
    (
        "cases_careteammember",
        "care_team_client_same_practice",
        "client_id, practice_id",
        "cases_client",
        "id, practice_id",
    ),
    (
        "cases_therapysession",
        "session_client_same_practice",
        "client_id, practice_id",
        "cases_client",
        "id, practice_id",
    ),
    (
        "cases_progressnote",
        "note_session_same_practice",
        "session_id, practice_id",
        "cases_therapysession",
        "id, practice_id",
    ),
    (
        "cases_noteaddendum",
        "addendum_note_same_practice",
        "note_id, practice_id",
        "cases_progressnote",
        "id, practice_id",
    ),
    (
        "cases_processnote",
        "process_note_session_same_practice",
        "session_id, practice_id",
        "cases_therapysession",
        "id, practice_id",
    ),
    (
        "cases_sessionratingscale",
        "srs_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "cases_outcomeratingscale",
        "ors_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "cases_postsessionquestionnaire",
        "psq_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
    (
        "cases_workingallianceinventory",
        "wai_session_same_client",
        "session_id, client_id, practice_id",
        "cases_therapysession",
        "id, client_id, practice_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = same_practice.operations(SAME_PRACTICE_KEYS)
