"""Rules the rupture record holds, tried through the service (refused with its message), the
database (a bulk ``update()``, raw SQL or a factory row, refused by a trigger or constraint)
and the API:

- an episode is resolved only after a repair attempt that resolved or partly resolved it;
- a repair attempt both people initiated is one both engaged in;
- relational signs may mark a rupture with the therapist beside its 3RS markers, each marker
  stored with its scheme;
- a rupture outside therapy need not carry a 3RS kind, and releases and trends count it
  under ``none``;
- the SRS-drop signal waits for the practice's minimum drop (default 1 point).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cases import services as cases_services
from cases.choices import Attendance, Modality, Setting
from cases.models import SRS_ITEMS, Practice, SessionRatingScale, TherapySession
from ruptures import errors, releases, services
from ruptures.choices import (
    MARKER_SCHEME_OF,
    Direction,
    EpisodeSource,
    EpisodeStatus,
    Initiator,
    Marker,
    MarkerScheme,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    SignalRule,
    Strategy,
)
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from tests.api.conftest import client_for
from tests.factories import RepairAttemptFactory, RuptureEpisodeFactory
from tests.ruptures.trends_world import SEPTEMBER, build

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DETECTED = TODAY - dt.timedelta(days=10)
VIA_REPAIR = "episode_status_via_repair"
SCHEMES_TRIGGER = "ruptures.RuptureEpisode:episode_marker_schemes"


def _open(client, user, **overrides: Any) -> RuptureEpisode:
    fields = {
        "relationship": Relationship.THERAPIST,
        "direction": Direction.CLIENT,
        "kind": RuptureKind.WITHDRAWAL,
        "moment": Moment.VULNERABILITY_DISMISSED,
        "intensity": 3,
        "detected_on": DETECTED,
        "source": EpisodeSource.CLINICIAN_OBSERVED,
        "markers": [Marker.MINIMAL_RESPONSE],
    }
    return services.episode_open(client=client, created_by=user, **{**fields, **overrides})


def _repair(episode, user, **overrides: Any) -> RepairAttempt:
    fields = {
        "attempted_on": DETECTED + dt.timedelta(days=1),
        "initiator": Initiator.THERAPIST,
        "both_engaged": True,
        "outcome": RepairOutcome.RESOLVED,
        "resolution_rating": 4,
        "strategies": [Strategy.INVITE_DISCUSSION],
    }
    return services.repair_attempt_record(
        episode=episode, recorded_by=user, **{**fields, **overrides}
    )


def _status(episode: RuptureEpisode) -> str:
    return RuptureEpisode.objects.values_list("status", flat=True).get(pk=episode.pk)


def _sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def episode(client, clinician) -> RuptureEpisode:
    return _open(client, clinician)


# --- Resolved only after a repair that resolved or partly resolved it ---------------------------


@pytest.mark.parametrize("outcome", [RepairOutcome.NOT_RESOLVED, RepairOutcome.WORSENED])
def test_resolve_after_only_failed_repairs_is_refused(episode, clinician, outcome):
    _repair(episode, clinician, outcome=outcome, resolution_rating=1)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_resolve(episode=episode, user=clinician)
    assert excinfo.value.messages == [errors.RESOLVE_NEEDS_REPAIR]
    assert _status(episode) == EpisodeStatus.REPAIRING


@pytest.mark.parametrize("outcome", [RepairOutcome.RESOLVED, RepairOutcome.PARTLY_RESOLVED])
def test_resolve_after_a_repair_that_resolved_or_partly_resolved(episode, clinician, outcome):
    _repair(episode, clinician, outcome=RepairOutcome.NOT_RESOLVED, resolution_rating=1)
    _repair(episode, clinician, outcome=outcome)
    resolved = services.episode_resolve(episode=episode, user=clinician)
    assert (resolved.status, _status(episode)) == (EpisodeStatus.RESOLVED,) * 2


def test_an_archived_repair_does_not_resolve(episode, clinician):
    attempt = _repair(episode, clinician)
    cases_services.record_archive(record=attempt, user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        services.episode_resolve(episode=episode, user=clinician)
    assert excinfo.value.messages == [errors.RESOLVE_NEEDS_REPAIR]
    assert _status(episode) == EpisodeStatus.REPAIRING


def _repairing(outcome: str) -> RuptureEpisode:
    episode = RuptureEpisodeFactory(status=EpisodeStatus.REPAIRING)
    RepairAttemptFactory(episode=episode, outcome=outcome)
    return episode


def test_database_refuses_a_resolution_after_failed_repairs(trigger_refuses):
    episode = _repairing(RepairOutcome.WORSENED)
    with trigger_refuses(VIA_REPAIR):
        RuptureEpisode.objects.filter(pk=episode.pk).update(
            status=EpisodeStatus.RESOLVED, closed_on=episode.detected_on
        )
    with trigger_refuses(VIA_REPAIR):
        _sql(
            "UPDATE ruptures_ruptureepisode SET status = 'resolved', closed_on = detected_on "
            "WHERE id = %s",
            episode.pk,
        )
    assert _status(episode) == EpisodeStatus.REPAIRING


def test_database_refuses_a_resolution_on_an_archived_repair(trigger_refuses):
    episode = _repairing(RepairOutcome.RESOLVED)
    RepairAttempt.objects.filter(episode=episode).update(archived_at=timezone.now())
    with trigger_refuses(VIA_REPAIR):
        RuptureEpisode.objects.filter(pk=episode.pk).update(
            status=EpisodeStatus.RESOLVED, closed_on=episode.detected_on
        )


def test_database_takes_a_resolution_after_a_partly_resolving_repair():
    episode = _repairing(RepairOutcome.PARTLY_RESOLVED)
    RuptureEpisode.objects.filter(pk=episode.pk).update(
        status=EpisodeStatus.RESOLVED, closed_on=episode.detected_on
    )
    assert _status(episode) == EpisodeStatus.RESOLVED


def test_other_closings_need_no_resolving_repair():
    episode = _repairing(RepairOutcome.WORSENED)
    RuptureEpisode.objects.filter(pk=episode.pk).update(
        status=EpisodeStatus.UNRESOLVED, closed_on=episode.detected_on
    )
    assert _status(episode) == EpisodeStatus.UNRESOLVED


def test_api_resolve_without_a_resolving_repair_answers_400(episode, clinician):
    _repair(episode, clinician, outcome=RepairOutcome.NOT_RESOLVED, resolution_rating=2)
    response = client_for(clinician).post(f"/api/v1/rupture-episodes/{episode.pk}/resolve/")
    assert response.status_code == 400, response.content
    assert [e["message"] for e in response.json()["errors"]] == [errors.RESOLVE_NEEDS_REPAIR]
    assert _status(episode) == EpisodeStatus.REPAIRING


# --- Initiated by both means both engaged --------------------------------------------------------


def test_repair_initiated_by_both_needs_both_engaged(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _repair(episode, clinician, initiator=Initiator.BOTH, both_engaged=False)
    assert excinfo.value.message_dict == {
        "both_engaged": [errors.BOTH_INITIATED_NEEDS_BOTH_ENGAGED]
    }
    assert not RepairAttempt.objects.exists()
    assert _status(episode) == EpisodeStatus.OPEN


def test_repair_initiated_by_one_may_engage_one(episode, clinician):
    attempt = _repair(episode, clinician, initiator=Initiator.CLIENT, both_engaged=False)
    assert (attempt.initiator, attempt.both_engaged) == (Initiator.CLIENT, False)


def test_database_refuses_both_initiated_without_both_engaged(refused):
    with refused("repair_both_initiated_both_engaged"):
        RepairAttemptFactory(initiator=Initiator.BOTH, both_engaged=False)
    attempt = RepairAttemptFactory(initiator=Initiator.BOTH, both_engaged=True)
    with refused("repair_both_initiated_both_engaged"):
        RepairAttempt.objects.filter(pk=attempt.pk).update(both_engaged=False)
    assert RepairAttempt.objects.get(pk=attempt.pk).both_engaged is True


def test_api_repair_initiated_by_both_without_both_engaged_answers_400(episode, clinician):
    response = client_for(clinician).post(
        "/api/v1/repair-attempts/",
        {
            "episode": episode.pk,
            "attempted_on": DETECTED.isoformat(),
            "initiator": "both",
            "both_engaged": False,
            "outcome": "partly_resolved",
            "resolution_rating": 3,
        },
    )
    assert response.status_code == 400, response.content
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("both_engaged", errors.BOTH_INITIATED_NEEDS_BOTH_ENGAGED)
    ]
    assert not RepairAttempt.objects.exists()


# --- Relational signs in the alliance, each marker with its scheme -------------------------------


def test_alliance_rupture_takes_relational_signs_beside_its_3rs_markers(client, clinician):
    episode = _open(
        client,
        clinician,
        kind=RuptureKind.CONFRONTATION,
        markers=[Marker.SURFACE_AFFECTION, Marker.DEFENDS_SELF, Marker.DISENGAGEMENT],
    )
    expected = (
        [Marker.DEFENDS_SELF, Marker.DISENGAGEMENT, Marker.SURFACE_AFFECTION],
        [MarkerScheme.RRS_2015, MarkerScheme.RELATIONAL_SIGNS, MarkerScheme.RELATIONAL_SIGNS],
    )
    assert (episode.markers, episode.marker_schemes) == expected
    episode.refresh_from_db()
    assert (episode.markers, episode.marker_schemes) == expected


def test_alliance_rupture_still_refuses_3rs_markers_of_another_kind(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _open(
            client,
            clinician,
            kind=RuptureKind.CONFRONTATION,
            markers=[Marker.DISENGAGEMENT, Marker.DENIAL],
        )
    expected = errors.MARKERS_WRONG_SCHEME.format(
        scheme=MarkerScheme.RRS_2015.label, kind=RuptureKind.CONFRONTATION, markers=Marker.DENIAL
    )
    assert excinfo.value.message_dict == {"markers": [expected]}


def test_rupture_outside_therapy_still_refuses_3rs_markers(client, clinician):
    with pytest.raises(ValidationError) as excinfo:
        _open(
            client,
            clinician,
            relationship=Relationship.PARTNER,
            markers=[Marker.EMOTIONAL_WALLS, Marker.DENIAL],
        )
    expected = errors.MARKERS_ALLIANCE_ONLY.format(
        relationship=Relationship.PARTNER, markers=Marker.DENIAL
    )
    assert excinfo.value.message_dict == {"markers": [expected]}


def test_database_writes_each_markers_scheme_whatever_a_writer_sends():
    episode = RuptureEpisodeFactory(markers=[Marker.DENIAL, Marker.FINE_AGAINST_TONE])
    episode.refresh_from_db()
    assert episode.marker_schemes == [MarkerScheme.RRS_2015, MarkerScheme.RELATIONAL_SIGNS]
    _sql(
        "UPDATE ruptures_ruptureepisode SET marker_schemes = ARRAY['relational_signs', "
        "'relational_signs'], markers = ARRAY['stopped_sharing', 'minimal_response'] "
        "WHERE id = %s",
        episode.pk,
    )
    episode.refresh_from_db()
    assert episode.markers == [Marker.STOPPED_SHARING, Marker.MINIMAL_RESPONSE]
    assert episode.marker_schemes == [MarkerScheme.RELATIONAL_SIGNS, MarkerScheme.RRS_2015]


def test_database_refuses_schemes_that_do_not_match_the_markers(refused):
    episode = RuptureEpisodeFactory(markers=[Marker.DENIAL])
    # Past the trigger that writes them, the check still holds their number and names.
    with pgtrigger.ignore(SCHEMES_TRIGGER):
        with refused("episode_schemes_match_markers"):
            RuptureEpisode.objects.filter(pk=episode.pk).update(marker_schemes=[])
        with refused("episode_schemes_match_markers"):
            RuptureEpisode.objects.filter(pk=episode.pk).update(marker_schemes=["hunch"])
    episode.refresh_from_db()
    assert episode.marker_schemes == [MarkerScheme.RRS_2015]


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param(
            {"relationship": Relationship.SIBLING, "markers": [Marker.MINIMAL_RESPONSE]},
            "episode_markers_valid",
            id="3rs-outside-therapy",
        ),
        pytest.param(
            {
                "kind": RuptureKind.WITHDRAWAL,
                "markers": [Marker.DISENGAGEMENT, Marker.DEFENDS_SELF],
            },
            "episode_markers_valid",
            id="relational-beside-3rs-of-another-kind",
        ),
    ],
)
def test_database_still_refuses_markers_that_do_not_fit(refused, fields, constraint):
    with refused(constraint):
        RuptureEpisodeFactory(**fields)


def test_api_alliance_rupture_with_a_relational_sign_answers_its_schemes(client, clinician):
    response = client_for(clinician).post(
        "/api/v1/rupture-episodes/",
        {
            "client": client.pk,
            "relationship": "therapist",
            "direction": "client",
            "kind": "withdrawal",
            "markers": ["fine_against_tone", "minimal_response"],
            "moment": "vulnerability_dismissed",
            "intensity": 2,
            "detected_on": DETECTED.isoformat(),
            "source": "clinician_observed",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["markers"] == ["fine_against_tone", "minimal_response"]
    assert body["marker_schemes"] == ["relational_signs", "3rs_2015"]
    assert body["marker_schemes"] == [MARKER_SCHEME_OF[m] for m in body["markers"]]


# --- No 3RS kind outside therapy -----------------------------------------------------------------


def test_rupture_outside_therapy_needs_no_kind(client, clinician):
    episode = _open(
        client,
        clinician,
        relationship=Relationship.FRIEND,
        kind=None,
        markers=[Marker.STOPPED_SHARING],
    )
    episode.refresh_from_db()
    assert (episode.relationship, episode.kind) == (Relationship.FRIEND, None)


@pytest.mark.parametrize("kind", [None, ""])
def test_alliance_rupture_needs_a_kind(client, clinician, kind):
    with pytest.raises(ValidationError) as excinfo:
        _open(client, clinician, kind=kind, markers=[])
    assert excinfo.value.message_dict == {"kind": [errors.KIND_NEEDED_FOR_ALLIANCE]}
    assert not RuptureEpisode.objects.exists()


def test_alliance_rupture_cannot_lose_its_kind(episode, clinician):
    with pytest.raises(ValidationError) as excinfo:
        services.episode_update(episode=episode, user=clinician, kind=None, markers=[])
    assert excinfo.value.message_dict == {"kind": [errors.KIND_NEEDED_FOR_ALLIANCE]}
    assert RuptureEpisode.objects.get(pk=episode.pk).kind == RuptureKind.WITHDRAWAL


def test_database_refuses_an_alliance_rupture_without_a_kind(refused):
    episode = RuptureEpisodeFactory(relationship=Relationship.THERAPIST)
    with refused("episode_kind_for_alliance"):
        RuptureEpisode.objects.filter(pk=episode.pk).update(kind=None)
    partner = RuptureEpisodeFactory(relationship=Relationship.PARTNER)
    RuptureEpisode.objects.filter(pk=partner.pk).update(kind=None)
    assert RuptureEpisode.objects.get(pk=partner.pk).kind is None


def _episode_body(client, **fields: Any) -> dict[str, Any]:
    return {
        "client": client.pk,
        "relationship": "partner",
        "direction": "both",
        "markers": ["functional_coexistence"],
        "moment": "hollow_affection",
        "intensity": 3,
        "detected_on": DETECTED.isoformat(),
        "source": "client_reported",
        **fields,
    }


def test_api_rupture_outside_therapy_without_a_kind_answers_201_with_null(client, clinician):
    api = client_for(clinician)
    response = api.post("/api/v1/rupture-episodes/", _episode_body(client))
    assert response.status_code == 201, response.content
    assert response.json()["kind"] is None
    listed = api.get("/api/v1/rupture-episodes/", {"client": client.pk}).json()["results"]
    assert [row["kind"] for row in listed] == [None]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"relationship": "therapist", "markers": []}, None, id="alliance-no-kind"),
        pytest.param({"kind": ""}, "invalid_choice", id="blank"),
    ],
)
def test_api_refuses_an_alliance_rupture_without_a_kind_or_a_blank_kind(
    client, clinician, fields, message
):
    response = client_for(clinician).post(
        "/api/v1/rupture-episodes/", _episode_body(client, **fields)
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["field"] == "kind"
    if message is None:
        assert error["message"] == errors.KIND_NEEDED_FOR_ALLIANCE
    else:
        assert error["code"] == message
    assert not RuptureEpisode.objects.exists()


def test_a_rupture_without_a_kind_is_released_under_none():
    world = build()
    person = world["b"][0]
    RuptureEpisodeFactory(
        client=person,
        relationship=Relationship.PARENT,
        kind=None,
        markers=[Marker.EMOTIONAL_WALLS],
        detected_on=SEPTEMBER + dt.timedelta(days=12),
    )
    practice = world["practice"]
    window = releases.MonthWindow(SEPTEMBER, practice.timezone)
    frame = releases.month_frames(practice, window, practice.srs_cutoff, bounded=False)["episodes"]
    assert frame.filter(frame["kind"] == releases.NO_KIND).height == 1
    assert frame["kind"].null_count() == 0

    release = releases.release_month(
        practice=practice, month=SEPTEMBER, now=dt.datetime(2026, 10, 9, tzinfo=dt.UTC)
    )
    keys = {(c["kind"], c["outcome"]) for c in release.measurements["episodes_by_kind"]["cells"]}
    assert {kind for kind, _ in keys} == {*RuptureKind.values, releases.NO_KIND}
    assert len(keys) == 4 * len(releases.EPISODE_OUTCOMES)

    response = client_for(world["sue"]).get(
        "/api/v1/trends/episode-counts/", {"from": "2026-09", "to": "2026-09", "by": "kind"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [g["key"] for g in body["groups"]] == [*RuptureKind.values, releases.NO_KIND]
    assert releases.NO_KIND in body["rows"][0]["cells"]


# --- The SRS drop that raises a signal -----------------------------------------------------------


def _srs_session(client, clinician, total: str, days_ago: int) -> TherapySession:
    session = cases_services.session_create(
        client=client,
        clinician=clinician,
        starts_at=timezone.now() - dt.timedelta(days=days_ago),
        duration_minutes=50,
        modality=Modality.INDIVIDUAL,
        setting=Setting.IN_PERSON,
        attendance=Attendance.ATTENDED,
    )
    tenths = int(Decimal(total) * 10)
    items = [Decimal(tenths // 4 + (n < tenths % 4)) / 10 for n in range(4)]
    measure = services.measure_record(
        measure_model=SessionRatingScale,
        session=session,
        recorded_by=clinician,
        **dict(zip(SRS_ITEMS, items, strict=True)),
    )
    assert measure.total == Decimal(total)  # type: ignore[attr-defined]
    return session


def _srs_alerts() -> list[RuptureSignal]:
    return list(RuptureSignal.objects.filter(rule=SignalRule.SRS_ALERT))


@pytest.mark.parametrize(
    ("min_drop", "later", "raised"),
    [
        pytest.param(None, "39.6", False, id="default-0.4-drop"),
        pytest.param(None, "39.0", False, id="default-0.5-drop"),
        pytest.param(None, "38.6", False, id="default-0.9-drop"),
        pytest.param(None, "38.5", True, id="default-1.0-drop"),
        pytest.param("0.1", "39.0", True, id="0.1-setting-0.5-drop"),
        pytest.param("2.0", "38.0", False, id="2.0-setting-1.5-drop"),
    ],
)
def test_srs_drop_raises_a_signal_from_the_practices_minimum(
    practice, client, clinician, min_drop, later, raised
):
    if min_drop is not None:
        cases_services.practice_update_settings(practice=practice, srs_min_drop=Decimal(min_drop))
    _srs_session(client, clinician, "39.5", days_ago=14)
    dropped = _srs_session(client, clinician, later, days_ago=7)
    alerts = _srs_alerts()
    assert [a.session_id for a in alerts] == ([dropped.pk] if raised else [])
    if raised:
        expected = Decimal(min_drop or "1.0")
        assert Decimal(str(alerts[0].detail["min_drop"])) == expected


def test_the_default_minimum_drop_is_one_point(practice):
    assert Practice.objects.get(pk=practice.pk).srs_min_drop == Decimal("1.0")


@pytest.mark.parametrize("value", ["0.0", "40.1", "-1"])
def test_the_minimum_drop_is_range_checked_by_the_service(practice, value):
    with pytest.raises(ValidationError) as excinfo:
        cases_services.practice_update_settings(practice=practice, srs_min_drop=Decimal(value))
    assert set(excinfo.value.message_dict) == {"srs_min_drop"}
    assert Practice.objects.get(pk=practice.pk).srs_min_drop == Decimal("1.0")


@pytest.mark.parametrize("value", ["0.0", "40.1"])
def test_the_minimum_drop_is_range_checked_by_the_database(refused, practice, value):
    with refused("practice_srs_min_drop_range"):
        Practice.objects.filter(pk=practice.pk).update(srs_min_drop=Decimal(value))


def test_api_practice_settings_read_and_change_the_minimum_drop(practice, practice_admin):
    api = client_for(practice_admin)
    url = f"/api/v1/practices/{practice.pk}/"
    read = api.get(url)
    assert read.json()["srs_min_drop"] == 1.0
    changed = api.patch(url, {"srs_min_drop": 0.5}, HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200, changed.content
    assert Practice.objects.get(pk=practice.pk).srs_min_drop == Decimal("0.5")
    refused = api.patch(url, {"srs_min_drop": 0}, HTTP_IF_MATCH=changed["ETag"])
    assert refused.status_code == 400, refused.content
    assert [e["field"] for e in refused.json()["errors"]] == ["srs_min_drop"]
