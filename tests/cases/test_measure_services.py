"""Measures are recorded through ``measure_record``: attended sessions only, once each, scored
by the database and returned with their scores."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import errors, services
from cases.choices import Attendance, Respondent
from cases.models import (
    MEASURE_MODELS,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    SessionRatingScale,
    WorkingAllianceInventory,
)

SRS = {
    "relationship": Decimal("9.2"),
    "goals_and_topics": Decimal("8.5"),
    "approach_or_method": Decimal("7.0"),
    "overall": Decimal("9.9"),
}
ORS = {
    "individually": Decimal("5.5"),
    "interpersonally": Decimal("4.0"),
    "socially": Decimal("6.1"),
    "overall": Decimal("5.0"),
}
PSQ = {"respondent": Respondent.CLIENT, "rupture_experienced": False}
WAI = {f"item_{n}": (n - 1) % 5 + 1 for n in range(1, 13)}
VALUES = {
    SessionRatingScale: SRS,
    OutcomeRatingScale: ORS,
    PostSessionQuestionnaire: PSQ,
    WorkingAllianceInventory: WAI,
}


def _record(model, session, user, **values):
    return services.measure_record(
        measure_model=model, session=session, recorded_by=user, **(values or VALUES[model])
    )


def test_srs_total_is_scored_and_returned(session, clinician):
    srs = _record(SessionRatingScale, session, clinician)
    assert srs.total == Decimal("34.6")
    assert srs.client_id == session.client_id
    assert srs.practice_id == session.practice_id


def test_ors_total_is_scored_and_returned(session, clinician):
    assert _record(OutcomeRatingScale, session, clinician).total == Decimal("20.6")


def test_wai_subscales_are_scored_and_returned(session, clinician):
    wai = _record(WorkingAllianceInventory, session, clinician)
    assert (wai.task, wai.bond, wai.goal, wai.total) == (10, 14, 9, 33)
    assert wai.respondent == Respondent.CLIENT


NOT_ATTENDED = [a for a in Attendance.values if a != Attendance.ATTENDED]


@pytest.mark.parametrize(
    ("model", "attendance"),
    [(SessionRatingScale, attendance) for attendance in NOT_ATTENDED]
    + [(model, Attendance.NO_SHOW) for model in MEASURE_MODELS[1:]],
)
def test_measure_refuses_a_session_that_was_not_attended(session, clinician, model, attendance):
    services.session_update(session=session, attendance=attendance)
    with pytest.raises(ValidationError) as excinfo:
        _record(model, session, clinician)
    assert excinfo.value.messages == [errors.MEASURE_NEEDS_ATTENDANCE]
    assert not model.objects.exists()


@pytest.mark.parametrize("model", MEASURE_MODELS)
def test_measure_refuses_a_second_one_for_the_session(session, clinician, model):
    _record(model, session, clinician)
    with pytest.raises(ValidationError) as excinfo:
        _record(model, session, clinician)
    assert excinfo.value.messages == [errors.MEASURE_EXISTS]
    assert model.objects.count() == 1


@pytest.mark.parametrize("model", [PostSessionQuestionnaire, WorkingAllianceInventory])
def test_client_and_therapist_may_each_answer(session, clinician, model):
    _record(model, session, clinician, **{**VALUES[model], "respondent": Respondent.CLIENT})
    _record(model, session, clinician, **{**VALUES[model], "respondent": Respondent.THERAPIST})
    assert model.objects.filter(session=session).count() == 2


@pytest.mark.parametrize("model", MEASURE_MODELS)
def test_measure_refuses_someone_not_on_the_care_team(session, other_clinician, model):
    with pytest.raises(PermissionDenied) as excinfo:
        _record(model, session, other_clinician)
    assert str(excinfo.value) == errors.NOT_IN_CARE_TEAM


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (SessionRatingScale, "total"),
        (OutcomeRatingScale, "total"),
        (WorkingAllianceInventory, "task"),
        (WorkingAllianceInventory, "total"),
        (SessionRatingScale, "client"),
        (SessionRatingScale, "practice"),
    ],
)
def test_measure_refuses_server_owned_fields(session, clinician, model, field):
    with pytest.raises(ValidationError) as excinfo:
        _record(model, session, clinician, **{**VALUES[model], field: 1})
    assert excinfo.value.message_dict == {field: ["This field is not part of the measure."]}
    assert not model.objects.exists()


@pytest.mark.parametrize(
    ("model", "values"),
    [
        pytest.param(SessionRatingScale, {**SRS, "overall": Decimal("10.5")}, id="srs-over-10"),
        pytest.param(OutcomeRatingScale, {**ORS, "socially": Decimal("-1")}, id="ors-negative"),
        pytest.param(WorkingAllianceInventory, {**WAI, "item_7": 6}, id="wai-6"),
        pytest.param(WorkingAllianceInventory, {**WAI, "item_1": 0}, id="wai-0"),
        pytest.param(
            PostSessionQuestionnaire,
            {**PSQ, "rupture_experienced": False, "tension": 4},
            id="psq-tension-without-rupture",
        ),
        pytest.param(
            PostSessionQuestionnaire,
            {
                "respondent": Respondent.THERAPIST,
                "rupture_experienced": True,
                "tension": 9,
                "resolution": 1,
            },
            id="psq-tension-9",
        ),
    ],
)
def test_measure_refuses_items_out_of_range(session, clinician, model, values):
    with pytest.raises(ValidationError):
        _record(model, session, clinician, **values)
    assert not model.objects.exists()


def test_psq_rupture_needs_tension_and_resolution(session, clinician):
    with pytest.raises(ValidationError):
        _record(
            PostSessionQuestionnaire,
            session,
            clinician,
            respondent=Respondent.CLIENT,
            rupture_experienced=True,
        )


def test_session_with_measures_cannot_lose_its_attendance(session, clinician):
    _record(SessionRatingScale, session, clinician)
    with pytest.raises(ValidationError):
        services.session_update(session=session, attendance=Attendance.NO_SHOW)
