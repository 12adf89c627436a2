"""The trends endpoint: who may call it, what it accepts, and that it leaks nothing."""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import Role
from tests.ruptures.trends_world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build()


def test_supervisor_reads_practice_wide_trends(api_as, world):
    response = api_as(world["sue"]).get(
        "/api/v1/trends/rupture-rate/", {"from": "2026-09", "to": "2026-09", "by": "kind"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["k"] == 5
    assert body["period"] == {"from": "2026-09", "to": "2026-09"}
    assert body["rows"][0]["total"] == {"rate": 50.0}
    assert {s["group"] for s in body["suppressed"]} == {"withdrawal", "confrontation", "mixed"}
    assert response["Cache-Control"] == "no-store"


def test_dates_snap_to_whole_months(api_as, world):
    api = api_as(world["sue"])

    by_month = api.get("/api/v1/trends/measures/", {"from": "2026-09", "to": "2026-09"}).json()
    by_day = api.get("/api/v1/trends/measures/", {"from": "2026-09-17", "to": "2026-09-18"})

    assert by_day.json() == by_month


def test_per_clinician_trends_are_for_supervisees_only(api_as, world):
    api = api_as(world["sue"])
    period = {"from": "2026-09", "to": "2026-09"}

    own = api.get("/api/v1/trends/rupture-rate/", {**period, "clinician": world["ann"].pk})
    other = api.get("/api/v1/trends/rupture-rate/", {**period, "clinician": world["bo"].pk})
    breakdown = api.get("/api/v1/trends/rupture-rate/", {**period, "by": "clinician"}).json()

    assert own.status_code == 200
    assert own.json()["rows"][0]["cells"] == {str(world["ann"].pk): {"rate": 50.0}}
    assert other.status_code == 400
    assert other.json()["errors"][0]["field"] == "clinician"
    assert [g["key"] for g in breakdown["groups"]] == [str(world["ann"].pk)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"by": "marker"}, "by"),  # rupture-rate is not broken down by marker
        ({"by": "nonsense"}, "by"),
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-10", "to": "2026-09"}, "from"),
        ({"from": "2020-01", "to": "2026-09"}, "to"),  # over 36 months
        ({"by": "kind", "clinician": 1}, "by"),
        ({"clinician": "x"}, "clinician"),
        ({"practice": 0}, "practice"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_queries_answer_400_naming_the_parameter(api_as, world, query, field):
    if query.get("clinician") == 1:
        query = {**query, "clinician": world["ann"].pk}

    response = api_as(world["sue"]).get("/api/v1/trends/rupture-rate/", query)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field


def test_unknown_figure_is_404(api_as, world):
    assert api_as(world["sue"]).get("/api/v1/trends/happiness/").status_code == 404


def test_clinicians_admins_and_strangers_are_refused(api_as, world):
    from tests.factories import PracticeFactory, UserFactory

    admin = UserFactory()
    services.membership_grant(practice=world["practice"], user=admin, role=Role.PRACTICE_ADMIN)
    elsewhere = UserFactory()
    services.membership_grant(practice=PracticeFactory(), user=elsewhere, role=Role.SUPERVISOR)
    url = "/api/v1/trends/measures/"

    assert api_as(world["ann"]).get(url).status_code == 403
    assert api_as(admin).get(url).status_code == 403
    assert api_as(None).get(url).status_code == 401
    # A supervisor of another practice: this practice does not exist for them.
    assert api_as(elsewhere).get(url, {"practice": world["practice"].pk}).status_code == 404


def test_a_supervisor_of_several_practices_says_which(api_as, world):
    from tests.factories import PracticeFactory

    services.membership_grant(practice=PracticeFactory(), user=world["sue"], role=Role.SUPERVISOR)
    api = api_as(world["sue"])

    assert api.get("/api/v1/trends/measures/").status_code == 400
    chosen = api.get("/api/v1/trends/measures/", {"practice": world["practice"].pk})
    assert chosen.status_code == 200
