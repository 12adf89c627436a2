"""The trends endpoint over frozen releases: who may call it, what each answer states, that
late records, archives, resolutions, settings and supervision changes never alter a released
month, that every supervisor reads the same numbers, and that nothing identifying leaves."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.choices import Role
from cases.models import Client
from ruptures import releases, trends
from ruptures.releases import release_due
from tests.factories import (
    PracticeFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    TherapySessionFactory,
    UserFactory,
)
from tests.ruptures.trends_world import SEPTEMBER, at, build

pytestmark = pytest.mark.django_db

AFTER_LAG = dt.datetime(2026, 10, 9, tzinfo=dt.UTC)
SEP = {"from": "2026-09", "to": "2026-09"}
ALL_QUERIES = [
    (name, by) for name, figure in trends.FIGURES.items() for by in (None, *figure.dimensions)
]


@pytest.fixture
def world():
    built = build()
    release_due(practices=[built["practice"]], now=AFTER_LAG)
    return built


def get(api, figure: str, **params) -> dict:
    response = api.get(f"/api/v1/trends/{figure}/", {**SEP, **params})
    assert response.status_code == 200, response.content
    return response.json()


def every_answer(api) -> dict[tuple[str, str | None], dict]:
    return {
        (figure, by): get(api, figure, **({"by": by} if by else {})) for figure, by in ALL_QUERIES
    }


# --- What an answer states ---------------------------------------------------------------------


def test_an_answer_states_its_privacy_terms_period_and_release_times(api_as, world):
    body = get(api_as(world["sue"]), "rupture-rate")

    assert body["privacy"] == {
        "privacy_unit": "one client's records in one month",
        "epsilon_per_month": 1.0,
        "delta_per_month": releases.DELTA,
        "interval_level": 0.9,
    }
    assert body["period"] == {"from": "2026-09", "to": "2026-09"}
    assert body["releases"] == [
        {
            "month": "2026-09",
            "released_at": AFTER_LAG.isoformat(),
            "epsilon": 1.0,
            "timezone": "UTC",
            "srs_cutoff": "36.0",
        }
    ]
    assert [row["period"] for row in body["rows"]] == ["2026-09"]


def test_the_months_not_yet_released_are_never_shown(api_as, world):
    body = get(api_as(world["sue"]), "episode-counts", **{"from": "2026-08", "to": "2026-11"})

    # September is released; October and November are not, August had no records.
    assert [row["period"] for row in body["rows"]] == ["2026-09"]
    assert [r["month"] for r in body["releases"]] == ["2026-09"]


def test_every_cell_of_every_figure_has_a_number_with_its_interval_or_says_too_few(api_as, world):
    supervisor = api_as(world["sue"])
    shown = too_few = 0
    for (figure, by), body in every_answer(supervisor).items():
        row = body["rows"][0]
        cells = [row["total"], *row["cells"].values()]
        if by is not None:
            assert set(row["cells"]) == {g["key"] for g in body["groups"]}, (figure, by)
        for cell in cells:
            assert set(cell) == set(trends.FIGURES[figure].values) or by is not None
            for estimate in cell.values():
                if estimate["too_few_to_show"]:
                    assert estimate["value"] is estimate["low"] is estimate["high"] is None
                    too_few += 1
                else:
                    assert estimate["low"] <= estimate["value"] <= estimate["high"], (figure, by)
                    shown += 1
    assert shown > 0


def test_counts_always_show_a_number_with_its_interval(api_as, world):
    body = get(api_as(world["sue"]), "episode-counts", by="relationship")

    for estimate in [body["rows"][0]["total"]["episodes"]] + [
        cell["episodes"] for cell in body["rows"][0]["cells"].values()
    ]:
        assert not estimate["too_few_to_show"]
        assert 0 <= estimate["low"] <= estimate["value"] <= estimate["high"]
        assert estimate["high"] - estimate["low"] > 0


def test_a_count_interval_is_the_noise_scale_opendp_reported(api_as, world):
    body = get(api_as(world["sue"]), "episode-counts")
    release = releases.TrendRelease.objects.get(practice=world["practice"])

    measured = release.measurements["episodes"]
    noisy = sum(cell["len"] for cell in measured["cells"])
    # The total is the sum of the outcome cells: their variances add.
    sd = measured["scales"]["len"] * math.sqrt(len(measured["cells"]))
    estimate = body["rows"][0]["total"]["episodes"]
    assert estimate["value"] == max(0, round(noisy))
    assert estimate["high"] == pytest.approx(
        max(noisy + trends.Z_COUNT * sd, trends.Z_COUNT * sd), abs=0.06
    )


# --- Who may read what -------------------------------------------------------------------------


def test_per_clinician_figures_are_for_supervisees_only(api_as, world):
    api = api_as(world["sue"])

    breakdown = get(api, "rupture-rate", by="clinician")
    own = get(api, "rupture-rate", clinician=world["ann"].pk)

    assert [g["key"] for g in breakdown["groups"]] == [str(world["ann"].pk)]
    assert own["rows"][0]["cells"] == {
        str(world["ann"].pk): breakdown["rows"][0]["cells"][str(world["ann"].pk)]
    }
    assert own["rows"][0]["total"] == breakdown["rows"][0]["total"]


def test_a_clinician_who_is_not_a_supervisee_reads_like_one_that_does_not_exist(api_as, world):
    api = api_as(world["sue"])
    missing = max(Client.objects.order_by("-pk").values_list("pk", flat=True)[:1]) + 10_000

    not_mine = api.get("/api/v1/trends/rupture-rate/", {**SEP, "clinician": world["bo"].pk})
    absent = api.get("/api/v1/trends/rupture-rate/", {**SEP, "clinician": missing})

    assert not_mine.status_code == absent.status_code == 400
    assert not_mine.json() == absent.json()
    assert not_mine.json()["errors"][0]["field"] == "clinician"


def test_supervisees_lists_the_callers_supervisees(api_as, world):
    response = api_as(world["sue"]).get("/api/v1/supervisees/")

    assert response.status_code == 200
    ann = world["ann"]
    assert response.json() == [{"id": ann.pk, "name": ann.get_full_name() or ann.username}]
    assert api_as(world["ann"]).get("/api/v1/supervisees/").status_code == 403
    assert api_as(None).get("/api/v1/supervisees/").status_code == 401


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
        ({"grain": "week"}, "grain"),
        ({"to": "9999-12"}, "to"),  # no month after it to end the period
        ({"from": "0001-01", "to": "1900-12", "grain": "rolling_12"}, "from"),
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
    admin = UserFactory()
    services.membership_grant(practice=world["practice"], user=admin, role=Role.PRACTICE_ADMIN)
    elsewhere = UserFactory()
    services.membership_grant(practice=PracticeFactory(), user=elsewhere, role=Role.SUPERVISOR)
    url = "/api/v1/trends/measures/"

    assert api_as(world["ann"]).get(url).status_code == 403
    assert api_as(admin).get(url).status_code == 403
    assert api_as(None).get(url).status_code == 401
    # A supervisor of another practice: this one reads like a practice that does not exist.
    foreign = api_as(elsewhere).get(url, {"practice": world["practice"].pk})
    absent = api_as(elsewhere).get(url, {"practice": 10**9})
    assert foreign.status_code == 400
    assert foreign.json() == absent.json()


def test_a_supervisor_of_several_practices_says_which(api_as, world):
    services.membership_grant(practice=PracticeFactory(), user=world["sue"], role=Role.SUPERVISOR)
    api = api_as(world["sue"])

    assert api.get("/api/v1/trends/measures/").status_code == 400
    chosen = api.get("/api/v1/trends/measures/", {"practice": world["practice"].pk})
    assert chosen.status_code == 200


# --- Frozen ------------------------------------------------------------------------------------


def test_records_entered_late_for_a_released_month_change_nothing(api_as, world):
    supervisor, clinician = api_as(world["sue"]), api_as(world["ann"])
    before = every_answer(supervisor)
    person = world["a"][0]

    session = clinician.post(
        "/api/v1/sessions/",
        {
            "client": person.pk,
            "starts_at": at(24).isoformat(),
            "duration_minutes": 50,
            "modality": "individual",
            "setting": "in_person",
            "attendance": "attended",
        },
        format="json",
    )
    assert session.status_code == 201, session.content
    episode = clinician.post(
        "/api/v1/rupture-episodes/",
        {
            "client": person.pk,
            "session": session.json()["id"],
            "relationship": "therapist",
            "direction": "client",
            "kind": "confrontation",
            "markers": ["complaints_about_therapist"],
            "moment": "repeated_misunderstanding",
            "intensity": 4,
            "source": "clinician_observed",
            "detected_on": "2026-09-24",
        },
        format="json",
    )
    assert episode.status_code == 201, episode.content
    srs = clinician.post(
        "/api/v1/measures/srs/",
        {
            "session": session.json()["id"],
            "relationship": "2.0",
            "goals_and_topics": "2.0",
            "approach_or_method": "2.0",
            "overall": "2.0",
        },
        format="json",
    )
    assert srs.status_code == 201, srs.content

    assert every_answer(supervisor) == before


def test_archives_resolutions_settings_and_supervision_changes_change_nothing(api_as, world):
    supervisor = api_as(world["sue"])
    before = every_answer(supervisor)
    practice = world["practice"]

    # A client archived, an episode resolved, the practice's settings swept, Sue given Bo.
    Client.objects.filter(pk=world["b"][1].pk).update(archived_at=AFTER_LAG)
    episode = world["rare"][world["b"][5].pk]
    RepairAttemptFactory(episode=episode, outcome="resolved", attempted_on=dt.date(2026, 9, 20))
    type(episode).objects.filter(pk=episode.pk).update(status="repairing")
    type(episode).objects.filter(pk=episode.pk).update(
        status="resolved", closed_on=dt.date(2026, 9, 21)
    )
    services.practice_update_settings(
        practice=practice,
        timezone="Pacific/Kiritimati",
        srs_cutoff=Decimal("20.0"),
        trends_epsilon=Decimal("4.00"),
    )
    services.supervision_assign(practice=practice, supervisor=world["sue"], clinician=world["bo"])
    release_due(practices=[practice], now=AFTER_LAG)

    after = every_answer(supervisor)
    # Bo's column is new to Sue; everything she saw before reads the same.
    for key, body in before.items():
        row = after[key]["rows"][0]
        assert row["total"] == body["rows"][0]["total"], key
        for group, cell in body["rows"][0]["cells"].items():
            assert row["cells"][group] == cell, (key, group)
        assert after[key]["releases"] == body["releases"]


def test_a_new_month_is_released_with_the_settings_in_force_then(api_as, world):
    practice = world["practice"]
    services.practice_update_settings(practice=practice, trends_epsilon=Decimal("2.00"))
    TherapySessionFactory(client=world["a"][0], starts_at=dt.datetime(2026, 10, 5, tzinfo=dt.UTC))

    release_due(practices=[practice], now=dt.datetime(2026, 11, 9, tzinfo=dt.UTC))
    body = get(api_as(world["sue"]), "rupture-rate", **{"from": "2026-09", "to": "2026-10"})

    assert body["privacy"]["epsilon_per_month"] == [1.0, 2.0]
    assert [r["epsilon"] for r in body["releases"]] == [1.0, 2.0]


# --- The same for every supervisor -------------------------------------------------------------


def test_two_supervisors_with_different_supervisees_read_the_same_shared_cells(api_as, world):
    ray = UserFactory(username="ray")
    services.membership_grant(practice=world["practice"], user=ray, role=Role.SUPERVISOR)
    for clinician in (world["ann"], world["bo"]):
        services.supervision_assign(practice=world["practice"], supervisor=ray, clinician=clinician)

    sue, ray_api = every_answer(api_as(world["sue"])), every_answer(api_as(ray))

    ann = str(world["ann"].pk)
    for key, body in sue.items():
        theirs = ray_api[key]["rows"][0]
        assert theirs["total"] == body["rows"][0]["total"], key
        if key[1] == "clinician":
            assert theirs["cells"][ann] == body["rows"][0]["cells"][ann]
            assert set(theirs["cells"]) == {ann, str(world["bo"].pk)}
        else:
            assert theirs["cells"] == body["rows"][0]["cells"], key


def test_a_supervisor_who_is_also_a_clinician_reads_the_same_numbers(api_as, world):
    services.membership_grant(practice=world["practice"], user=world["bo"], role=Role.SUPERVISOR)
    services.supervision_assign(
        practice=world["practice"], supervisor=world["bo"], clinician=world["ann"]
    )

    assert every_answer(api_as(world["bo"])) == every_answer(api_as(world["sue"]))


# --- Periods -----------------------------------------------------------------------------------


@pytest.fixture
def three_months():
    """The world, with records from July: July, August and September are released."""
    built = build()
    TherapySessionFactory(client=built["a"][0], starts_at=dt.datetime(2026, 7, 6, tzinfo=dt.UTC))
    RuptureEpisodeFactory(client=built["a"][1], detected_on=dt.date(2026, 8, 3))
    release_due(practices=[built["practice"]], now=AFTER_LAG)
    return built


def test_quarters_and_rolling_years_are_sums_of_the_monthly_releases(api_as, three_months):
    api = api_as(three_months["sue"])
    period = {"from": "2026-07", "to": "2026-09"}
    stored = releases.TrendRelease.objects.filter(practice=three_months["practice"])

    quarter = get(api, "episode-counts", grain="quarter", **period)
    rolling = get(api, "episode-counts", grain="rolling_12", **period)
    monthly = get(api, "episode-counts", **period)

    noisy = sum(c["len"] for r in stored for c in r.measurements["episodes"]["cells"])
    variance = sum(
        r.measurements["episodes"]["scales"]["len"] ** 2 * len(r.measurements["episodes"]["cells"])
        for r in stored
    )
    (row,) = quarter["rows"]
    assert row["period"] == "2026-Q3"
    assert row["months"] == ["2026-07", "2026-08", "2026-09"]
    assert row["total"]["episodes"]["value"] == max(0, round(noisy))
    sd = math.sqrt(variance)
    assert row["total"]["episodes"]["high"] == pytest.approx(
        max(noisy + trends.Z_COUNT * sd, trends.Z_COUNT * sd), abs=0.06
    )
    # Three months of noise: the quarter's interval is √3 times as wide as a month's.
    months = [r["total"]["episodes"] for r in monthly["rows"]]
    assert [r["period"] for r in monthly["rows"]] == ["2026-07", "2026-08", "2026-09"]
    for width in [m["high"] - m["low"] for m in months if m["low"] > 0]:
        assert width == pytest.approx(2 * trends.Z_COUNT * math.sqrt(variance / 3), abs=0.2)
    # The rolling year of September sums every released month up to it.
    assert [r["period"] for r in rolling["rows"]][-1] == "2025-10/2026-09"
    assert rolling["rows"][-1]["months"] == ["2026-07", "2026-08", "2026-09"]
    assert rolling["rows"][-1]["total"] == row["total"]


def test_a_longer_period_reads_releases_in_the_same_number_of_queries(api_as, three_months):
    api = api_as(three_months["sue"])

    def queries(**params) -> int:
        with CaptureQueriesContext(connection) as captured:
            get(api, "resolution", by="clinician", **params)
        return len(captured.captured_queries)

    one = queries(**{"from": "2026-09", "to": "2026-09"})
    twelve = queries(**{"from": "2025-10", "to": "2026-09", "grain": "rolling_12"})

    assert one == twelve


# --- Nothing identifying -----------------------------------------------------------------------


def test_no_answer_holds_an_identifier_a_name_or_a_date(api_as, world):
    text = json.dumps(list(every_answer(api_as(world["sue"])).values()))
    text = re.sub(r'"released_at": "[^"]*"', "", text)
    clients = [*world["a"], *world["b"]]

    for person in clients:
        assert person.code not in text
        assert person.name not in text
        assert f'"{person.pk}"' not in text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text) is None  # months only


def test_twin_practices_answer_with_the_same_structure_and_noise(api_as):
    """The twin swaps which clients have the rare properties. Its answers differ only in noisy
    values: the same groups, cells and flags' places, and the same noise scales (set by the
    budget and the bounds, never by the data)."""
    first, second = build(), build(twin=True, suffix="2")
    release_due(practices=[first["practice"], second["practice"]], now=AFTER_LAG)

    def shape(body: dict) -> object:
        return {
            "groups": [g["label"] for g in body["groups"]],
            "rows": [
                {
                    "total": sorted(row["total"]),
                    "cells": [sorted(v) for v in row["cells"].values()],
                }
                for row in body["rows"]
            ],
        }

    a, b = every_answer(api_as(first["sue"])), every_answer(api_as(second["sue"]))
    for key in a:
        assert shape(a[key])["rows"] == shape(b[key])["rows"], key
    one, two = (
        releases.TrendRelease.objects.get(practice=w["practice"], month=SEPTEMBER)
        for w in (first, second)
    )
    assert {k: v["scales"] for k, v in one.measurements.items()} == {
        k: v["scales"] for k, v in two.measurements.items()
    }
