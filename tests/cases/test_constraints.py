"""Every CheckConstraint and UniqueConstraint of cases.models, tried straight against the
database (no services, no ``full_clean``) and seen refused by name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cases.choices import NOTE_SECTIONS, ClientStatus, NoteFormat, NoteStatus, Respondent, Role
from cases.models import ORS_ITEMS, SRS_ITEMS, WAI_ITEMS, Client, ProgressNote
from tests.factories import (
    CareTeamMemberFactory,
    ClientFactory,
    MembershipFactory,
    NoteAddendumFactory,
    OutcomeRatingScaleFactory,
    PostSessionQuestionnaireFactory,
    PracticeFactory,
    ProcessNoteFactory,
    ProgressNoteFactory,
    SessionRatingScaleFactory,
    SupervisionAssignmentFactory,
    TherapySessionFactory,
    UserFactory,
    WorkingAllianceInventoryFactory,
    sections_for,
)

pytestmark = pytest.mark.django_db


# --- Practice, membership, supervision ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param(
            {"trends_epsilon": Decimal("0.09")}, "practice_trends_epsilon_range", id="eps-low"
        ),
        pytest.param(
            {"trends_epsilon": Decimal("4.01")}, "practice_trends_epsilon_range", id="eps-high"
        ),
        pytest.param(
            {"trends_publication_lag_days": 6}, "practice_publication_lag_range", id="lag-6"
        ),
        pytest.param(
            {"trends_publication_lag_days": 91}, "practice_publication_lag_range", id="lag-91"
        ),
        pytest.param({"retention_years": 0}, "practice_retention_positive", id="retention-0"),
        pytest.param(
            {"srs_cutoff": Decimal("40.1")}, "practice_srs_cutoff_range", id="srs-cutoff-over-40"
        ),
        pytest.param(
            {"srs_cutoff": Decimal("-0.1")}, "practice_srs_cutoff_range", id="srs-cutoff-negative"
        ),
        pytest.param(
            {"ors_reliable_change": Decimal("0")}, "practice_ors_change_range", id="ors-change-0"
        ),
        pytest.param(
            {"ors_reliable_change": Decimal("40.5")},
            "practice_ors_change_range",
            id="ors-change-over-40",
        ),
        pytest.param({"repeat_rupture_count": 1}, "practice_repeat_count_min", id="repeat-1"),
        pytest.param(
            {"repeat_rupture_window_days": 0}, "practice_signal_days_positive", id="window-0"
        ),
        pytest.param(
            {"unrepaired_episode_days": 0}, "practice_signal_days_positive", id="unrepaired-0"
        ),
    ],
)
def test_practice_settings_out_of_range_are_refused(refused, fields, constraint):
    with refused(constraint):
        PracticeFactory(**fields)


def test_practice_settings_at_their_floors_are_accepted():
    practice = PracticeFactory(
        trends_epsilon=Decimal("0.1"),
        trends_publication_lag_days=7,
        retention_years=1,
        srs_cutoff=Decimal("40.0"),
        ors_reliable_change=Decimal("0.1"),
        repeat_rupture_count=2,
        repeat_rupture_window_days=1,
        unrepaired_episode_days=1,
    )
    practice.refresh_from_db()
    assert practice.trends_epsilon == Decimal("0.1")


def test_practice_trends_epsilon_cannot_be_raised_past_4_by_update(refused):
    practice = PracticeFactory()
    with refused("practice_trends_epsilon_range"):
        type(practice).objects.filter(pk=practice.pk).update(trends_epsilon=Decimal("9"))


def test_practice_slug_is_unique(refused):
    PracticeFactory(slug="northside")
    with refused("cases_practice_slug_key"):
        PracticeFactory(slug="northside")


def test_membership_role_is_unique_per_user_and_practice(refused):
    membership = MembershipFactory()
    with refused("membership_unique_role"):
        MembershipFactory(practice=membership.practice, user=membership.user, role=membership.role)


def test_membership_may_hold_several_roles():
    membership = MembershipFactory(role=Role.CLINICIAN)
    MembershipFactory(practice=membership.practice, user=membership.user, role=Role.SUPERVISOR)
    assert membership.user.memberships.count() == 2


def test_membership_role_must_be_known(refused):
    with refused("membership_role_valid"):
        MembershipFactory(role="owner")


def test_supervision_assignment_is_unique(refused):
    assignment = SupervisionAssignmentFactory()
    with refused("supervision_unique"):
        SupervisionAssignmentFactory(
            practice=assignment.practice,
            supervisor=assignment.supervisor,
            clinician=assignment.clinician,
        )


def test_supervisor_cannot_supervise_themselves_in_the_database(refused):
    user = UserFactory()
    with refused("supervision_not_self"):
        SupervisionAssignmentFactory(supervisor=user, clinician=user)


# --- Clients ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"kind": "group"}, "client_kind_valid", id="kind"),
        pytest.param({"code": "abcd-efgh"}, "client_code_format", id="code-lowercase"),
        pytest.param({"code": "AB12"}, "client_code_format", id="code-too-short"),
        pytest.param({"code": "ABCD EFGH"}, "client_code_format", id="code-space"),
        pytest.param({"name": "   "}, "client_name_not_blank", id="name-blank"),
        pytest.param(
            {"status": ClientStatus.DISCHARGED, "discharge_date": None},
            "client_discharge_date_matches_status",
            id="discharged-without-date",
        ),
        pytest.param(
            {
                "status": ClientStatus.ACTIVE,
                "intake_date": dt.date(2024, 1, 1),
                "discharge_date": dt.date(2024, 6, 1),
            },
            "client_discharge_date_matches_status",
            id="active-with-discharge-date",
        ),
        pytest.param(
            {
                "status": ClientStatus.DISCHARGED,
                "intake_date": dt.date(2024, 6, 1),
                "discharge_date": dt.date(2024, 5, 31),
            },
            "client_discharge_after_intake",
            id="discharged-before-intake",
        ),
        # A status outside the choices fails the discharge rule too, and PostgreSQL checks
        # constraints in name order, so that rule names it; client_status_valid backs it up.
        pytest.param(
            {"status": "archived"}, "client_discharge_date_matches_status", id="status-unknown"
        ),
    ],
)
def test_invalid_client_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        ClientFactory(**fields)


def test_client_code_is_unique_within_a_practice(refused):
    first = ClientFactory(code="ABCD-1234")
    with refused("client_code_unique"):
        ClientFactory(practice=first.practice, code="ABCD-1234")


def test_the_same_client_code_may_exist_in_two_practices():
    ClientFactory(code="ABCD-1234")
    ClientFactory(code="ABCD-1234")
    assert Client.objects.filter(code="ABCD-1234").count() == 2


def test_client_code_cannot_be_rewritten_to_a_bad_format_in_sql(refused):
    client = ClientFactory()
    with refused("client_code_format"), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_client SET code = 'x' WHERE id = %s", [client.pk])


def test_clinician_is_on_a_care_team_once(refused):
    member = CareTeamMemberFactory()
    with refused("care_team_unique"):
        CareTeamMemberFactory(client=member.client, clinician=member.clinician)


# --- Sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"duration_minutes": 0}, "session_duration_range", id="duration-0"),
        pytest.param({"duration_minutes": 601}, "session_duration_range", id="duration-601"),
        pytest.param({"modality": "online"}, "session_modality_valid", id="modality"),
        pytest.param({"setting": "car"}, "session_setting_valid", id="setting"),
        pytest.param({"attendance": "maybe"}, "session_attendance_valid", id="attendance"),
    ],
)
def test_invalid_session_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        TherapySessionFactory(**fields)


@pytest.mark.parametrize("minutes", [1, 600])
def test_session_duration_bounds_are_accepted(minutes):
    assert TherapySessionFactory(duration_minutes=minutes).pk


# --- Progress notes, addenda, process notes ---------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param(
            {"format": "essay", "sections": {"text": "x"}}, "note_format_valid", id="format"
        ),
        pytest.param(
            {"format": NoteFormat.BIRP, "sections": {"behavior": "x", "plan": "y"}},
            "note_sections_match_format",
            id="birp-missing-sections",
        ),
        pytest.param(
            {"status": NoteStatus.SIGNED},
            "note_signature_matches_status",
            id="signed-without-signature",
        ),
        pytest.param(
            {"signed_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},
            "note_signature_matches_status",
            id="draft-with-signed-at",
        ),
        # A status outside the choices fails the signature rule first (name order).
        pytest.param({"status": "final"}, "note_signature_matches_status", id="status-unknown"),
    ],
)
def test_invalid_progress_note_rows_are_refused(refused, fields, constraint):
    with refused(constraint):
        ProgressNoteFactory(**fields)


# The trigger runs before the check constraints: a section the format does not define is
# refused by it even when a required one is missing too.
@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {"format": NoteFormat.SOAP, "sections": sections_for(NoteFormat.DAP)},
            id="soap-with-dap-sections",
        ),
        pytest.param(
            {"format": NoteFormat.FREE, "sections": sections_for(NoteFormat.SOAP)},
            id="free-without-text",
        ),
        pytest.param(
            {"format": NoteFormat.DAP, "sections": []},
            id="sections-not-an-object",
        ),
        pytest.param(
            {
                "format": NoteFormat.DAP,
                "sections": {**sections_for(NoteFormat.DAP), "subjective": "x"},
            },
            id="dap-with-an-extra-section",
        ),
    ],
)
def test_note_with_sections_its_format_does_not_define_is_refused(trigger_refuses, fields):
    with trigger_refuses("note_sections_exactly_format"):
        ProgressNoteFactory(**fields)


@pytest.mark.parametrize("note_format", list(NOTE_SECTIONS))
def test_each_format_with_its_own_sections_is_accepted(note_format):
    assert ProgressNoteFactory(format=note_format, sections=sections_for(note_format)).pk


def test_signed_note_without_signer_is_refused(refused):
    with refused("note_signature_matches_status"):
        ProgressNoteFactory(status=NoteStatus.SIGNED, signed_at=timezone.now())


def test_session_has_one_progress_note(refused):
    note = ProgressNoteFactory()
    with refused("cases_progressnote_session_id_key"):
        ProgressNote.objects.create(
            practice=note.practice,
            session=note.session,
            author=note.author,
            format=NoteFormat.FREE,
            sections={"text": "a second note"},
        )


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"reason": " \n"}, "addendum_reason_not_blank", id="reason"),
        pytest.param({"text": "  "}, "addendum_text_not_blank", id="text"),
    ],
)
def test_blank_addendum_is_refused(refused, fields, constraint):
    with refused(constraint):
        NoteAddendumFactory(**fields)


def test_blank_process_note_is_refused(refused):
    with refused("process_note_not_blank"):
        ProcessNoteFactory(text="\t ")


# --- Measures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "items", "outside", "constraint"),
    [
        (
            SessionRatingScaleFactory,
            SRS_ITEMS,
            [Decimal("-0.1"), Decimal("10.1")],
            "srs_items_range",
        ),
        (
            OutcomeRatingScaleFactory,
            ORS_ITEMS,
            [Decimal("-0.1"), Decimal("10.1")],
            "ors_items_range",
        ),
        (WorkingAllianceInventoryFactory, WAI_ITEMS, [0, 6], "wai_items_range"),
    ],
)
def test_every_measure_item_out_of_range_is_refused(refused, factory, items, outside, constraint):
    session = TherapySessionFactory()
    for item in items:
        for value in outside:
            with refused(constraint):
                factory(session=session, **{item: value})
    assert not factory._meta.model.objects.exists()


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("10")])
def test_srs_and_ors_items_at_their_bounds_are_accepted(value):
    srs = SessionRatingScaleFactory(**dict.fromkeys(SRS_ITEMS, value))
    ors = OutcomeRatingScaleFactory(**dict.fromkeys(ORS_ITEMS, value))
    assert srs.pk and ors.pk


@pytest.mark.parametrize("value", [1, 5])
def test_wai_items_at_their_bounds_are_accepted(value):
    assert WorkingAllianceInventoryFactory(**dict.fromkeys(WAI_ITEMS, value)).pk


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"rupture_experienced": False, "tension": 3}, id="tension-without-rupture"),
        pytest.param(
            {"rupture_experienced": False, "resolution": 3}, id="resolution-without-rupture"
        ),
        pytest.param({"rupture": True, "tension": 0}, id="tension-0"),
        pytest.param({"rupture": True, "tension": 6}, id="tension-6"),
        pytest.param({"rupture": True, "resolution": 0}, id="resolution-0"),
        pytest.param({"rupture": True, "resolution": 6}, id="resolution-6"),
    ],
)
def test_psq_ratings_must_match_the_rupture_answer(refused, fields):
    with refused("psq_ratings_match_rupture"):
        PostSessionQuestionnaireFactory(**fields)


@pytest.mark.parametrize("missing", ["tension", "resolution"])
def test_psq_rupture_without_ratings_is_refused(refused, missing):
    with refused("psq_ratings_match_rupture"):
        PostSessionQuestionnaireFactory(rupture=True, **{missing: None})


@pytest.mark.parametrize(
    ("factory", "constraint"),
    [
        (PostSessionQuestionnaireFactory, "psq_respondent_valid"),
        (WorkingAllianceInventoryFactory, "wai_respondent_valid"),
    ],
)
def test_measure_respondent_must_be_known(refused, factory, constraint):
    with refused(constraint):
        factory(respondent="supervisor")


@pytest.mark.parametrize(
    ("factory", "constraint"),
    [
        (SessionRatingScaleFactory, "srs_one_per_session"),
        (OutcomeRatingScaleFactory, "ors_one_per_session"),
        (PostSessionQuestionnaireFactory, "psq_one_per_session_respondent"),
        (WorkingAllianceInventoryFactory, "wai_one_per_session_respondent"),
    ],
)
def test_measure_is_recorded_once_per_session(refused, factory, constraint):
    first = factory()
    with refused(constraint):
        factory(session=first.session)


@pytest.mark.parametrize(
    "factory", [PostSessionQuestionnaireFactory, WorkingAllianceInventoryFactory]
)
def test_client_and_therapist_may_both_answer_for_one_session(factory):
    first = factory(respondent=Respondent.CLIENT)
    second = factory(session=first.session, respondent=Respondent.THERAPIST)
    assert second.pk
