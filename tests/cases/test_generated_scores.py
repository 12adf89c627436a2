"""Totals and subscales are generated columns: PostgreSQL computes them from the items, the ORM
cannot set them and SQL cannot write them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, transaction

from cases.models import SessionRatingScale, WorkingAllianceInventory
from tests.factories import (
    OutcomeRatingScaleFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
    WorkingAllianceInventoryFactory,
)

pytestmark = pytest.mark.django_db

# Items 1..12 answered 1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2: every subscale sums differently.
WAI_ANSWERS = {f"item_{n}": (n - 1) % 5 + 1 for n in range(1, 13)}


def test_srs_total_is_the_sum_of_its_four_items():
    srs = SessionRatingScaleFactory(
        relationship=Decimal("7.5"),
        goals_and_topics=Decimal("8.0"),
        approach_or_method=Decimal("6.5"),
        overall=Decimal("9.1"),
    )
    srs.refresh_from_db()
    assert srs.total == Decimal("31.1")


def test_ors_total_is_the_sum_of_its_four_items():
    ors = OutcomeRatingScaleFactory(
        individually=Decimal("4.2"),
        interpersonally=Decimal("5.0"),
        socially=Decimal("6.3"),
        overall=Decimal("3.0"),
    )
    ors.refresh_from_db()
    assert ors.total == Decimal("18.5")
    assert ors.in_clinical_range


def test_ors_at_or_above_25_is_outside_the_clinical_range():
    ors = OutcomeRatingScaleFactory(**dict.fromkeys(["individually", "socially"], Decimal("6.5")))
    ors.refresh_from_db()
    assert ors.total == Decimal("25.0")
    assert not ors.in_clinical_range


def test_wai_subscales_sum_their_items():
    wai = WorkingAllianceInventoryFactory(**WAI_ANSWERS)
    wai.refresh_from_db()
    # task: items 1, 2, 10, 12 -> 1 + 2 + 5 + 2
    assert wai.task == 10
    # bond: items 3, 5, 7, 9 -> 3 + 5 + 2 + 4
    assert wai.bond == 14
    # goal: items 4, 6, 8, 11 -> 4 + 1 + 3 + 1
    assert wai.goal == 9
    assert wai.total == sum(WAI_ANSWERS.values()) == 33


def test_total_follows_an_item_changed_in_sql():
    srs = SessionRatingScaleFactory(
        **dict.fromkeys(
            ["relationship", "goals_and_topics", "approach_or_method", "overall"], Decimal("9")
        )
    )
    SessionRatingScale.objects.filter(pk=srs.pk).update(overall=Decimal("1"))
    srs.refresh_from_db()
    assert srs.total == Decimal("28.0")


def test_orm_cannot_set_a_total():
    session = TherapySessionFactory()
    srs = SessionRatingScale.objects.create(
        practice=session.practice,
        session=session,
        client=session.client,
        recorded_by=session.clinician,
        relationship=Decimal("1"),
        goals_and_topics=Decimal("1"),
        approach_or_method=Decimal("1"),
        overall=Decimal("1"),
        total=Decimal("40"),
    )
    SessionRatingScale.objects.filter(pk=srs.pk).update(total=Decimal("40"))
    srs.refresh_from_db()
    assert srs.total == Decimal("4.0")


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("cases_sessionratingscale", "total"),
        ("cases_outcomeratingscale", "total"),
        ("cases_workingallianceinventory", "task"),
        ("cases_workingallianceinventory", "bond"),
        ("cases_workingallianceinventory", "goal"),
        ("cases_workingallianceinventory", "total"),
    ],
)
def test_sql_cannot_update_a_generated_score(table, column):
    SessionRatingScaleFactory()
    OutcomeRatingScaleFactory()
    WorkingAllianceInventoryFactory()
    with pytest.raises(ProgrammingError) as excinfo, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = 1")  # noqa: S608 (fixed names)
    assert excinfo.value.__cause__.sqlstate == "428C9"  # generated_always


def test_sql_cannot_insert_a_generated_score():
    wai = WorkingAllianceInventoryFactory()
    columns = ", ".join(WAI_ANSWERS)
    with pytest.raises(ProgrammingError) as excinfo, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_workingallianceinventory (practice_id, session_id, client_id, "  # noqa: S608
                f"recorded_by_id, created_at, respondent, {columns}, total) "
                f"SELECT practice_id, session_id, client_id, recorded_by_id, created_at, "
                f"'therapist', {columns}, 60 FROM cases_workingallianceinventory WHERE id = %s",
                [wai.pk],
            )
    assert excinfo.value.__cause__.sqlstate == "428C9"
    assert WorkingAllianceInventory.objects.count() == 1
