"""Malformed input of every shape gets a 4xx in the one error format, never a 500 and never a
stack trace (DESIGN.md, Security). Each request is made against the real endpoints by the
owning clinician (or the practice admin, for the practice's settings and people), and every
refused write is checked to have written nothing.

Each request runs in a savepoint, as each request runs in its own transaction in production:
a database error that the API turns into a 4xx must not poison the test's transaction for the
row counts that follow.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cases.choices import NoteFormat
from cases.models import (
    CareTeamMember,
    Client,
    Membership,
    NoteAddendum,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    ProcessNote,
    ProgressNote,
    SessionRatingScale,
    SupervisionAssignment,
    TherapySession,
    WorkingAllianceInventory,
)
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from tests.factories import (
    ProcessNoteFactory,
    ProgressNoteFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ERROR_KEYS = {"status", "code", "detail", "errors"}
ERROR_ITEM_KEYS = {"field", "code", "message"}

# The rows a refused write must leave alone.
WRITTEN_MODELS = (
    Client,
    CareTeamMember,
    TherapySession,
    ProgressNote,
    NoteAddendum,
    ProcessNote,
    SessionRatingScale,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    WorkingAllianceInventory,
    RuptureEpisode,
    RepairAttempt,
    RuptureSignal,
    Membership,
    SupervisionAssignment,
)


# --- helpers -----------------------------------------------------------------------------------


class RawJSON(str):
    """A JSON token written into the body as is: numbers Python's ``json.dumps`` cannot spell
    (``1e309``, which a JSON parser reads as infinity)."""


def encode(body: Any) -> str:
    raws: dict[str, str] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, RawJSON):
            key = f"__raw_{len(raws)}__"
            raws[key] = str(value)
            return key
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(body))
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text


def send(
    api: APIClient,
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: str | bytes | None = None,
    content_type: str = "application/json",
    **extra: Any,
) -> Any:
    data = raw if raw is not None else (encode(body) if body is not None else "")
    if method.upper() in {"PATCH", "PUT"} and "HTTP_IF_MATCH" not in extra:
        # Edits may require the record's ETag (DESIGN.md, Integrity): send the current one, so
        # that what is refused is the body, not a missing precondition.
        with transaction.atomic():
            current = api.get(url)
        if current.get("ETag"):
            extra["HTTP_IF_MATCH"] = current["ETag"]
    with transaction.atomic():
        return api.generic(method.upper(), url, data, content_type=content_type, **extra)


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is ``status`` in the one error format; ``field`` is named in ``errors``."""
    content = response.content
    assert b"Traceback" not in content, content
    assert response.status_code == status, (response.status_code, content[:2000])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(content)
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, body
    assert body["status"] == status, body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["errors"], list), body
    for item in body["errors"]:
        assert set(item) == ERROR_ITEM_KEYS, body
        assert all(isinstance(item[key], str) and item[key] for key in ERROR_ITEM_KEYS), body
    if field is not None:
        named = [item["field"] for item in body["errors"]]
        assert field in named, f"expected {field!r} among {named}: {body}"
    return body


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def row_state(model: type, pk: int) -> dict[str, Any]:
    return model.objects.filter(pk=pk).values().get()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- records of the owning clinician -----------------------------------------------------------


@pytest.fixture
def api(api_as, clinician) -> APIClient:
    """The owning clinician's client; a server error comes back as a response to assert on."""
    api_client = api_as(clinician)
    api_client.raise_request_exception = False
    return api_client


@pytest.fixture
def records(practice, clinician, other_clinician, client, session) -> SimpleNamespace:
    """Alice's records: a session with a draft note, a process note, an SRS, an open signal and
    an open episode; and a blank attended session with no note or measure yet, for creates.
    They are written straight through the ORM (tests/factories.py): what is under test is how
    the API meets bad input, and hundreds of tests share this fixture."""
    today = timezone.localdate()
    return SimpleNamespace(
        practice=practice,
        clinician=clinician,
        other_clinician=other_clinician,
        client=client,
        session=session,
        blank=TherapySessionFactory(client=client, clinician=clinician),
        note=ProgressNoteFactory(session=session, author=clinician, format=NoteFormat.DAP),
        process_note=ProcessNoteFactory(session=session, author=clinician),
        srs=SessionRatingScaleFactory(session=session, recorded_by=clinician),
        episode=RuptureEpisodeFactory(
            client=client,
            session=session,
            markers=["denial"],
            factors=["stress"],
            detected_on=today - dt.timedelta(days=3),
            created_by=clinician,
        ),
        signal=RuptureSignalFactory(client=client, session=session),
        today=today,
    )


# What a valid create looks like at each endpoint; the tests spoil one thing at a time.
CREATES: dict[str, tuple[str, Callable[[SimpleNamespace], dict[str, Any]]]] = {
    "client": (
        "/api/v1/clients/",
        lambda r: {
            "practice": r.practice.pk,
            "kind": "individual",
            "name": "Robin Vale",
            "date_of_birth": "1990-04-01",
            "email": "robin@example.org",
            "intake_date": str(r.today - dt.timedelta(days=30)),
        },
    ),
    "session": (
        "/api/v1/sessions/",
        lambda r: {
            "client": r.client.pk,
            "starts_at": "2026-03-01T10:00:00+01:00",
            "duration_minutes": 50,
            "modality": "individual",
            "setting": "video",
            "attendance": "attended",
        },
    ),
    "progress_note": (
        "/api/v1/progress-notes/",
        lambda r: {
            "session": r.blank.pk,
            "format": "soap",
            "sections": {"subjective": "s", "objective": "o", "assessment": "a", "plan": "p"},
        },
    ),
    "process_note": (
        "/api/v1/process-notes/",
        lambda r: {"session": r.blank.pk, "text": "Noticed my own impatience."},
    ),
    "srs": (
        "/api/v1/measures/srs/",
        lambda r: {
            "session": r.blank.pk,
            "relationship": 9.5,
            "goals_and_topics": 9,
            "approach_or_method": 8.5,
            "overall": 9,
        },
    ),
    "ors": (
        "/api/v1/measures/ors/",
        lambda r: {
            "session": r.blank.pk,
            "individually": 6,
            "interpersonally": 5.5,
            "socially": 7,
            "overall": 6,
        },
    ),
    "psq": (
        "/api/v1/measures/psq/",
        lambda r: {
            "session": r.blank.pk,
            "respondent": "client",
            "rupture_experienced": True,
            "tension": 3,
            "resolution": 4,
        },
    ),
    "wai": (
        "/api/v1/measures/wai-sr/",
        lambda r: {
            "session": r.blank.pk,
            "respondent": "client",
            **{f"item_{n}": 4 for n in range(1, 13)},
        },
    ),
    "episode": (
        "/api/v1/rupture-episodes/",
        lambda r: {
            "client": r.client.pk,
            "session": r.blank.pk,
            "relationship": "therapist",
            "direction": "client",
            "kind": "withdrawal",
            "markers": ["minimal_response"],
            "moment": "vulnerability_dismissed",
            "factors": ["exhaustion"],
            "intensity": 3,
            "detected_on": str(r.today - dt.timedelta(days=1)),
            "source": "clinician_observed",
            "description": "Went quiet after the holiday came up.",
        },
    ),
    "repair": (
        "/api/v1/repair-attempts/",
        lambda r: {
            "episode": r.episode.pk,
            "session": r.session.pk,
            "attempted_on": str(r.today),
            "initiator": "therapist",
            "both_engaged": True,
            "strategies": ["clarify_misunderstanding"],
            "outcome": "partly_resolved",
            "resolution_rating": 3,
            "note": "Named the shift.",
        },
    ),
}


DROP = object()  # a change that leaves the field out of the body


def create_request(records: SimpleNamespace, endpoint: str, **changes: Any) -> tuple[str, dict]:
    url, make = CREATES[endpoint]
    body = make(records)
    for field, value in changes.items():
        if callable(value):
            value = value(records)
        if value is DROP:
            body.pop(field, None)
        else:
            body[field] = value
    return url, body


def refused_create(
    api: APIClient, records: SimpleNamespace, endpoint: str, field: str | None, **changes: Any
) -> dict[str, Any]:
    url, body = create_request(records, endpoint, **changes)
    before = row_counts()
    response = send(api, "POST", url, body)
    error = assert_error(response, 400, field)
    assert row_counts() == before, "a refused create wrote rows"
    return error


# Where each kind of record is edited, and the model behind it.
DETAILS: dict[str, tuple[str, type, str]] = {
    "client": ("/api/v1/clients/{}/", Client, "client"),
    "session": ("/api/v1/sessions/{}/", TherapySession, "session"),
    "progress_note": ("/api/v1/progress-notes/{}/", ProgressNote, "note"),
    "process_note": ("/api/v1/process-notes/{}/", ProcessNote, "process_note"),
    "episode": ("/api/v1/rupture-episodes/{}/", RuptureEpisode, "episode"),
}


def refused_patch(
    api: APIClient, records: SimpleNamespace, kind: str, body: Any, field: str | None
) -> dict[str, Any]:
    template, model, attribute = DETAILS[kind]
    pk = getattr(records, attribute).pk
    before = row_state(model, pk)
    counts = row_counts()
    response = send(api, "PATCH", template.format(pk), body)
    error = assert_error(response, 400, field)
    assert row_state(model, pk) == before, "a refused edit changed the row"
    assert row_counts() == counts
    return error


# --- the baseline: every valid body is accepted ------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(CREATES))
def test_valid_create_is_accepted_so_each_refusal_below_is_the_spoilt_field(api, records, endpoint):
    url, body = create_request(records, endpoint)
    before = sum(row_counts().values())
    response = send(api, "POST", url, body)
    assert response.status_code == 201, response.content
    assert sum(row_counts().values()) > before


# --- wrong JSON types --------------------------------------------------------------------------


WRONG_TYPES = [
    # integer fields
    ("session", "duration_minutes", "fifty"),
    ("session", "duration_minutes", [50]),
    ("session", "duration_minutes", {"minutes": 50}),
    ("session", "duration_minutes", True),
    ("session", "duration_minutes", 50.5),
    ("session", "duration_minutes", RawJSON("1e309")),
    ("episode", "intensity", "high"),
    ("episode", "intensity", [3]),
    ("repair", "resolution_rating", {"value": 3}),
    ("wai", "item_1", "four"),
    ("psq", "tension", [3]),
    # primary keys
    ("session", "client", "abc"),
    ("session", "client", True),
    ("session", "client", [1]),
    ("session", "client", {"id": 1}),
    ("session", "client", ""),
    pytest.param(
        "session",
        "client",
        lambda r: r.client.pk + 0.5,
        id="session-client-float",
    ),
    pytest.param(
        "process_note",
        "session",
        lambda r: r.blank.pk + 0.25,
        id="process_note-session-float",
    ),
    pytest.param("session", "client", RawJSON("1e309")),
    pytest.param("process_note", "session", RawJSON("1e309")),
    pytest.param("episode", "client", RawJSON("-1e309")),
    pytest.param("repair", "episode", RawJSON("1e309")),
    pytest.param("client", "practice", RawJSON("1e309")),
    ("process_note", "session", False),
    ("progress_note", "session", {"id": 1}),
    ("episode", "session", ["1"]),
    ("repair", "episode", True),
    ("client", "practice", "northside"),
    ("client", "primary_clinician", [1]),
    # text fields
    ("client", "name", {"first": "Robin"}),
    ("client", "name", ["Robin"]),
    ("client", "name", True),
    ("process_note", "text", {"text": "x"}),
    ("process_note", "text", ["x"]),
    ("episode", "description", False),
    ("repair", "note", {"a": 1}),
    # objects
    ("progress_note", "sections", ["s", "o", "a", "p"]),
    ("progress_note", "sections", "subjective: s"),
    ("progress_note", "sections", 4),
    ("progress_note", "sections", True),
    # lists
    ("episode", "markers", "minimal_response"),
    ("episode", "markers", {"minimal_response": True}),
    ("episode", "factors", "stress"),
    ("episode", "factors", True),
    ("repair", "strategies", "clarify_misunderstanding"),
    ("repair", "strategies", {"a": 1}),
    # booleans
    ("repair", "both_engaged", "maybe"),
    ("repair", "both_engaged", [True]),
    ("repair", "both_engaged", {"value": True}),
    ("repair", "both_engaged", 2),
    ("psq", "rupture_experienced", "sometimes"),
    # numbers with decimals
    ("srs", "relationship", "high"),
    ("srs", "relationship", [9]),
    ("srs", "overall", {"value": 9}),
    ("ors", "socially", True),
    # choices
    ("session", "modality", ["individual"]),
    ("session", "setting", {"video": True}),
    ("session", "attendance", 1),
    ("episode", "kind", True),
    # dates and times
    ("session", "starts_at", 1767261600),
    ("session", "starts_at", ["2026-03-01T10:00:00Z"]),
    ("session", "starts_at", {"date": "2026-03-01"}),
    ("session", "starts_at", True),
    ("episode", "detected_on", 20260301),
    ("episode", "detected_on", ["2026-03-01"]),
    ("client", "intake_date", {"y": 2026}),
    ("repair", "attempted_on", False),
]


@pytest.mark.parametrize(("endpoint", "field", "value"), WRONG_TYPES)
def test_wrong_json_type_is_refused_naming_the_field(api, records, endpoint, field, value):
    refused_create(api, records, endpoint, field, **{field: value})


REQUIRED_FIELDS = [
    ("client", "practice"),
    ("client", "kind"),
    ("client", "name"),
    ("client", "intake_date"),
    ("session", "client"),
    ("session", "starts_at"),
    ("session", "duration_minutes"),
    ("session", "modality"),
    ("session", "setting"),
    ("progress_note", "session"),
    ("progress_note", "format"),
    ("progress_note", "sections"),
    ("process_note", "session"),
    ("process_note", "text"),
    ("srs", "relationship"),
    ("ors", "overall"),
    ("psq", "rupture_experienced"),
    ("wai", "item_12"),
    ("episode", "client"),
    ("episode", "relationship"),
    ("episode", "kind"),
    ("episode", "intensity"),
    ("episode", "detected_on"),
    ("repair", "episode"),
    ("repair", "both_engaged"),
    ("repair", "outcome"),
    ("repair", "resolution_rating"),
]


@pytest.mark.parametrize(("endpoint", "field"), REQUIRED_FIELDS)
def test_null_for_a_required_field_is_refused_naming_it(api, records, endpoint, field):
    refused_create(api, records, endpoint, field, **{field: None})


# Dates that default to the practice's today when omitted are left out.
@pytest.mark.parametrize(
    ("endpoint", "field"),
    [pair for pair in REQUIRED_FIELDS if pair not in {("episode", "detected_on")}],
)
def test_missing_required_field_is_refused_naming_it(api, records, endpoint, field):
    refused_create(api, records, endpoint, field, **{field: DROP})


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"subjective": ["s"], "objective": "o", "assessment": "a", "plan": "p"}, None),
        ({"subjective": {"t": "s"}, "objective": "o", "assessment": "a", "plan": "p"}, None),
        ({"subjective": None, "objective": "o", "assessment": "a", "plan": "p"}, None),
        ({"subjective": "s", "objective": "o", "assessment": "a"}, "sections"),
        ({"data": "d", "assessment": "a", "plan": "p"}, "sections"),
        ({}, "sections"),
    ],
)
def test_note_sections_of_the_wrong_shape_are_refused(api, records, sections, field):
    error = refused_create(api, records, "progress_note", field, sections=sections)
    assert all(item["field"].startswith("sections") for item in error["errors"]), error


# --- unknown choice values ---------------------------------------------------------------------

UNKNOWN_CHOICES = [
    ("client", "kind", "group"),
    ("client", "kind", "Individual"),
    ("session", "modality", "telepathy"),
    ("session", "modality", ""),
    ("session", "setting", "carrier_pigeon"),
    ("session", "attendance", "maybe"),
    ("session", "attendance", "ATTENDED"),
    ("progress_note", "format", "haiku"),
    ("psq", "respondent", "parent"),
    ("wai", "respondent", "supervisor"),
    ("episode", "relationship", "neighbour"),
    ("episode", "relationship", "therapist "),
    ("episode", "direction", "nobody"),
    ("episode", "kind", "sulking"),
    ("episode", "moment", "eclipse"),
    ("episode", "source", "rumour"),
    ("repair", "initiator", "the_dog"),
    ("repair", "outcome", "perfect"),
]


@pytest.mark.parametrize(("endpoint", "field", "value"), UNKNOWN_CHOICES)
def test_unknown_choice_value_is_refused_naming_the_field(api, records, endpoint, field, value):
    refused_create(api, records, endpoint, field, **{field: value})


@pytest.mark.parametrize(
    ("endpoint", "field", "value", "named"),
    [
        ("episode", "markers", ["bogus"], "markers.0"),
        ("episode", "markers", ["minimal_response", "sulking"], "markers.1"),
        ("episode", "markers", [None], "markers.0"),
        ("episode", "factors", ["bad_luck"], "factors.0"),
        ("episode", "factors", [["stress"]], "factors.0"),
        ("repair", "strategies", ["bribery"], "strategies.0"),
        ("repair", "strategies", [1], "strategies.0"),
    ],
)
def test_unknown_item_of_a_choice_list_is_refused_naming_its_position(
    api, records, endpoint, field, value, named
):
    refused_create(api, records, endpoint, named, **{field: value})


@pytest.mark.parametrize(
    ("endpoint", "changes", "field"),
    [
        # A relational sign may mark a rupture with the therapist; a withdrawal marker beside
        # it still does not fit a confrontation.
        (
            "episode",
            {"kind": "confrontation", "markers": ["fine_against_tone", "denial"]},
            "markers",
        ),
        # A confrontation marker does not fit a withdrawal.
        ("episode", {"markers": ["defends_self"]}, "markers"),
        # A 3RS marker does not fit a rupture with a partner.
        ("episode", {"relationship": "partner", "markers": ["denial"]}, "markers"),
        # A relational repair move does not fit a rupture with the therapist.
        ("repair", {"strategies": ["hard_conversation"]}, "strategies"),
    ],
)
def test_valid_choice_from_the_wrong_scheme_is_refused_naming_the_field(
    api, records, endpoint, changes, field
):
    refused_create(api, records, endpoint, field, **changes)


# --- out-of-range and over-precise measures and ratings ----------------------------------------

MEASURE_ITEMS = [
    ("srs", "relationship", 10.1),
    ("srs", "relationship", -1),
    ("srs", "goals_and_topics", 5.55),
    ("srs", "approach_or_method", 10.05),
    ("srs", "overall", "NaN"),
    ("srs", "overall", "Infinity"),
    ("srs", "overall", "-Infinity"),
    ("srs", "relationship", RawJSON("1e309")),
    ("srs", "relationship", RawJSON("-1e309")),
    ("srs", "relationship", "1e309"),
    ("srs", "relationship", 1e308),
    ("srs", "relationship", 2**63),
    ("srs", "relationship", -0.1),
    ("ors", "individually", 11),
    ("ors", "interpersonally", -0.5),
    ("ors", "socially", 3.14),
    ("ors", "overall", "nan"),
    ("wai", "item_1", 0),
    ("wai", "item_6", 6),
    ("wai", "item_12", -1),
    ("wai", "item_3", 2.5),
    ("wai", "item_4", 2**63),
    ("psq", "tension", 0),
    ("psq", "tension", 6),
    ("psq", "resolution", 0),
    ("psq", "resolution", 6),
    ("psq", "resolution", 2**63),
    ("episode", "intensity", 0),
    ("episode", "intensity", 6),
    ("episode", "intensity", -1),
    ("episode", "intensity", 2**63),
    ("repair", "resolution_rating", 0),
    ("repair", "resolution_rating", 6),
    ("session", "duration_minutes", 0),
    ("session", "duration_minutes", 601),
    ("session", "duration_minutes", -50),
    ("session", "duration_minutes", 2**63),
    ("session", "duration_minutes", -(2**63) - 1),
]


@pytest.mark.parametrize(("endpoint", "field", "value"), MEASURE_ITEMS)
def test_out_of_range_or_over_precise_score_is_refused_naming_the_field(
    api, records, endpoint, field, value
):
    refused_create(api, records, endpoint, field, **{field: value})


def test_psq_tension_without_a_rupture_is_refused(api, records):
    refused_create(api, records, "psq", None, rupture_experienced=False, tension=3, resolution=2)


def test_psq_tension_without_a_rupture_names_the_ratings(api, records):
    error = refused_create(
        api, records, "psq", None, rupture_experienced=False, tension=3, resolution=2
    )
    named = {item["field"] for item in error["errors"]}
    assert named & {"tension", "resolution"}, error
    assert "__all__" not in named, error


@pytest.mark.parametrize(
    "changes",
    [
        {"tension": DROP},
        {"resolution": DROP},
        {"tension": None, "resolution": None},
    ],
    ids=["no-tension", "no-resolution", "null-ratings"],
)
def test_psq_rupture_without_its_ratings_is_refused(api, records, changes):
    refused_create(api, records, "psq", None, **changes)


# --- huge numbers for ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ("session", "client"),
        ("progress_note", "session"),
        ("process_note", "session"),
        ("srs", "session"),
        ("episode", "client"),
        ("episode", "session"),
        ("repair", "episode"),
        ("client", "practice"),
        ("client", "primary_clinician"),
    ],
)
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30, 0, -1])
def test_id_out_of_range_or_unknown_is_refused_naming_the_field(
    api, records, endpoint, field, value
):
    refused_create(api, records, endpoint, field, **{field: value})


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/clients/9223372036854775808/",
        "/api/v1/sessions/99999999999999999999999999/",
        "/api/v1/progress-notes/-1/",
        "/api/v1/rupture-episodes/0/",
        "/api/v1/signals/abc/",
        "/api/v1/measures/srs/1.5/",
    ],
)
def test_id_in_the_path_that_is_out_of_range_or_not_a_number_answers_404(api, records, url):
    assert_error(send(api, "GET", url), 404)


def test_action_on_an_out_of_range_id_answers_404_and_writes_nothing(api, records):
    before = row_counts()
    response = send(
        api, "POST", "/api/v1/signals/9223372036854775808/dismiss/", {"reason": "Seen it."}
    )
    assert_error(response, 404)
    assert row_counts() == before


# --- unknown and read-only fields --------------------------------------------------------------

UNKNOWN_OR_READ_ONLY_ON_CREATE = [
    ("client", "bogus", 1),
    ("client", "code", "ABCD-EFGH"),
    ("client", "status", "discharged"),
    ("client", "discharge_date", "2026-01-01"),
    ("client", "care_team", [1]),
    ("client", "id", 999),
    ("client", "created_at", "2026-01-01T00:00:00Z"),
    ("session", "has_progress_note", True),
    ("session", "updated_at", "2026-01-01T00:00:00Z"),
    ("session", "practice", 1),
    ("progress_note", "author", 1),
    ("progress_note", "status", "signed"),
    ("progress_note", "signed_by", 1),
    ("progress_note", "signed_at", "2026-01-01T00:00:00Z"),
    ("progress_note", "addenda", []),
    ("process_note", "author", 1),
    ("srs", "total", 40),
    ("srs", "client", 1),
    ("srs", "recorded_by", 1),
    ("ors", "total", 0),
    ("wai", "total", 60),
    ("wai", "task", 20),
    ("wai", "bond", 20),
    ("wai", "goal", 20),
    ("episode", "marker_schemes", ["relational_signs"]),
    ("episode", "status", "resolved"),
    ("episode", "closed_on", "2026-01-01"),
    ("episode", "recurrence_of", 1),
    ("episode", "recurrence", 1),
    ("episode", "created_by", 1),
    ("repair", "client", 1),
    ("repair", "recorded_by", 1),
    ("repair", "Outcome", "resolved"),
    ("repair", " ", "blank name"),
]


@pytest.mark.parametrize(("endpoint", "field", "value"), UNKNOWN_OR_READ_ONLY_ON_CREATE)
def test_unknown_or_read_only_field_on_create_is_refused_naming_it(
    api, records, endpoint, field, value
):
    refused_create(api, records, endpoint, field, **{field: value})


UNKNOWN_OR_READ_ONLY_ON_EDIT = [
    ("client", {"practice": 1}, "practice"),
    ("client", {"code": "ABCD-EFGH"}, "code"),
    ("client", {"status": "discharged"}, "status"),
    ("client", {"discharge_date": "2026-01-01"}, "discharge_date"),
    ("client", {"care_team": []}, "care_team"),
    ("client", {"nickname": "R"}, "nickname"),
    ("session", {"client": 1}, "client"),
    ("session", {"clinician": 1}, "clinician"),
    ("session", {"id": 1}, "id"),
    ("session", {"has_progress_note": False}, "has_progress_note"),
    ("progress_note", {"session": 1}, "session"),
    ("progress_note", {"author": 2}, "author"),
    ("progress_note", {"status": "signed"}, "status"),
    ("progress_note", {"signed_at": "2026-01-01T00:00:00Z"}, "signed_at"),
    ("process_note", {"session": 1}, "session"),
    ("process_note", {"author": 2}, "author"),
    ("episode", {"client": 1}, "client"),
    ("episode", {"relationship": "partner"}, "relationship"),
    ("episode", {"status": "resolved"}, "status"),
    ("episode", {"marker_schemes": ["relational_signs"]}, "marker_schemes"),
    ("episode", {"created_by": 2}, "created_by"),
    ("episode", {"severity": 5}, "severity"),
]


@pytest.mark.parametrize(("kind", "body", "field"), UNKNOWN_OR_READ_ONLY_ON_EDIT)
def test_unknown_or_read_only_field_on_edit_is_refused_and_changes_nothing(
    api, records, kind, body, field
):
    refused_patch(api, records, kind, body, field)


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("session", {"duration_minutes": "long"}, "duration_minutes"),
        ("session", {"modality": "telepathy"}, "modality"),
        ("session", {"starts_at": "2026-01-01T10:00:00"}, "starts_at"),
        ("session", {"starts_at": None}, "starts_at"),
        ("client", {"name": None}, "name"),
        ("client", {"intake_date": "yesterday"}, "intake_date"),
        ("client", {"primary_clinician": "alice"}, "primary_clinician"),
        ("progress_note", {"sections": ["a"]}, "sections"),
        ("progress_note", {"format": "haiku"}, "format"),
        ("process_note", {"text": {"t": 1}}, "text"),
        ("episode", {"intensity": 6}, "intensity"),
        ("episode", {"markers": ["bogus"]}, "markers.0"),
        ("episode", {"detected_on": "2026-13-01"}, "detected_on"),
        # A valid change beside a refused one is not applied either.
        ("session", {"duration_minutes": 40, "bogus": 1}, "bogus"),
        ("episode", {"intensity": 1, "status": "resolved"}, "status"),
    ],
)
def test_malformed_edit_is_refused_and_changes_nothing(api, records, kind, body, field):
    refused_patch(api, records, kind, body, field)


@pytest.mark.parametrize(
    "kind",
    [
        "client",
        "session",
        "progress_note",
        pytest.param(
            "process_note",
        ),
        "episode",
    ],
)
def test_empty_edit_is_answered_without_a_server_error(api, records, kind):
    template, model, attribute = DETAILS[kind]
    pk = getattr(records, attribute).pk
    response = send(api, "PATCH", template.format(pk), {})
    assert b"Traceback" not in response.content
    assert response.status_code == 200, response.content


# --- the practice admin's settings and people -------------------------------------------------


@pytest.fixture
def admin_api(api_as, practice_admin) -> APIClient:
    api_client = api_as(practice_admin)
    api_client.raise_request_exception = False
    return api_client


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "UTC+25"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": "../../etc/localtime"}, "timezone"),
        ({"timezone": "Europe/London\x00"}, "timezone"),
        ({"timezone": ["UTC"]}, "timezone"),
        ({"trends_epsilon": "0.05"}, "trends_epsilon"),
        ({"trends_epsilon": 2**63}, "trends_epsilon"),
        ({"trends_epsilon": "one"}, "trends_epsilon"),
        ({"trends_publication_lag_days": 3}, "trends_publication_lag_days"),
        ({"retention_years": 0}, "retention_years"),
        ({"srs_cutoff": 40.1}, "srs_cutoff"),
        ({"srs_cutoff": 35.55}, "srs_cutoff"),
        ({"srs_cutoff": "NaN"}, "srs_cutoff"),
        ({"srs_cutoff": RawJSON("1e309")}, "srs_cutoff"),
        ({"ors_reliable_change": 0}, "ors_reliable_change"),
        ({"repeat_rupture_count": 1}, "repeat_rupture_count"),
        ({"unrepaired_episode_days": -1}, "unrepaired_episode_days"),
        ({"slug": "elsewhere"}, "slug"),
        ({"name": None}, "name"),
        ({"k": 3}, "k"),
    ],
)
def test_malformed_practice_setting_is_refused_and_changes_nothing(
    admin_api, practice, body, field
):
    before = row_state(type(practice), practice.pk)
    response = send(admin_api, "PATCH", f"/api/v1/practices/{practice.pk}/", body)
    assert_error(response, 400, field)
    assert row_state(type(practice), practice.pk) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": "superuser"}, "role"),
        ({"role": ["clinician"]}, "role"),
        ({"user": "bob"}, "user"),
        ({"user": 2**63}, "user"),
        ({"practice": None}, "practice"),
        ({"is_active": "maybe"}, "is_active"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_malformed_membership_is_refused_and_writes_nothing(
    admin_api, practice, other_clinician, changes, field
):
    body = {"practice": practice.pk, "user": other_clinician.pk, "role": "supervisor", **changes}
    before = row_counts()
    response = send(admin_api, "POST", "/api/v1/memberships/", body)
    assert_error(response, 400, field)
    assert row_counts() == before


# --- dates and times ---------------------------------------------------------------------------

MALFORMED_DATETIMES = [
    "2026-01-01T10:00:00",  # naive: ambiguous across time zones
    "2026-01-01 10:00",
    "2026-01-01",
    "2026-13-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T25:00:00Z",
    "2026-01-01T10:61:00Z",
    "yesterday",
    "now",
    "",
    "2026-01-01T10:00:00+25:00",
    "2026-01-01T10:00:00+24:00",
    "2026-01-01T10:00:00 Europe/London",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    # In range as written, out of range once moved to UTC.
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:30:00-01:00",
]


@pytest.mark.parametrize("value", MALFORMED_DATETIMES)
def test_malformed_datetime_is_refused_on_create(api, records, value):
    refused_create(api, records, "session", "starts_at", starts_at=value)


@pytest.mark.parametrize("value", MALFORMED_DATETIMES[:4] + MALFORMED_DATETIMES[-4:])
def test_malformed_datetime_is_refused_on_edit(api, records, value):
    refused_patch(api, records, "session", {"starts_at": value}, "starts_at")


def test_naive_datetime_is_refused_with_the_time_zone_message(api, records):
    error = refused_create(api, records, "session", "starts_at", starts_at="2026-01-01T10:00:00")
    messages = [item["message"] for item in error["errors"] if item["field"] == "starts_at"]
    assert any("time zone" in message for message in messages), error


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00-05:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z"]
)
def test_datetime_at_the_edge_of_the_range_never_breaks_the_api(api, records, value):
    """These are in range once moved to UTC (0001-01-01T05:00Z, 9999-12-31T09:59:59Z), so
    accepting them is allowed; what is not allowed is a 5xx, now or when reading them back."""
    url, body = create_request(records, "session", starts_at=value)
    response = send(api, "POST", url, body)
    if response.status_code != 201:
        assert_error(response, 400, "starts_at")
        return
    listed = send(api, "GET", "/api/v1/sessions/?ordering=starts_at")
    assert listed.status_code == 200, listed.content
    detail = send(api, "GET", f"/api/v1/sessions/{response.json()['id']}/")
    assert detail.status_code == 200, detail.content


MALFORMED_DATES = [
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "01/02/2026",
    "2026/01/02",
    "0000-01-01",
    "10000-01-01",
    "-2026-01-01",
    "yesterday",
    "",
    "2026-01-01T00:00:00Z",
    "2026-01-01\x00",
]


@pytest.mark.parametrize("value", MALFORMED_DATES)
@pytest.mark.parametrize(
    ("endpoint", "field"),
    [("episode", "detected_on"), ("client", "intake_date"), ("repair", "attempted_on")],
)
def test_malformed_date_is_refused_naming_the_field(api, records, endpoint, field, value):
    refused_create(api, records, endpoint, field, **{field: value})


@pytest.mark.parametrize("value", ["2026-02-30", "soon", 20260101, ""])
def test_malformed_date_in_an_action_body_is_refused(api, records, value):
    before = row_state(Client, records.client.pk)
    response = send(
        api,
        "POST",
        f"/api/v1/clients/{records.client.pk}/discharge/",
        {"discharge_date": value},
    )
    assert_error(response, 400, "discharge_date")
    assert row_state(Client, records.client.pk) == before


# --- bodies of the wrong shape -----------------------------------------------------------------


MALFORMED_BODIES = [
    pytest.param("[1, 2]", id="list"),
    pytest.param("[]", id="empty-list"),
    pytest.param('"a string"', id="string"),
    pytest.param("42", id="number"),
    pytest.param("true", id="boolean"),
    pytest.param("null", id="null"),
    pytest.param("{", id="truncated"),
    pytest.param('{"session": 1,}', id="trailing-comma"),
    pytest.param("{'session': 1}", id="single-quotes"),
    pytest.param('{"session": NaN}', id="nan-literal"),
    pytest.param('{"session": Infinity}', id="infinity-literal"),
    pytest.param("not json at all", id="plain-text"),
    pytest.param(b"\xff\xfe{\x00}", id="invalid-utf8"),
    pytest.param(b'{"text": "\xc3\x28"}', id="invalid-utf8-in-string"),
    pytest.param("\ufeff{}", id="bom"),
    pytest.param("[" * 500 + "]" * 500, id="nested-500"),
    pytest.param("[" * 1000 + "]" * 1000, id="nested-1000"),
    pytest.param("[" * 50_000 + "]" * 50_000, id="nested-50000"),
    pytest.param('{"a":' * 2000 + "1" + "}" * 2000, id="nested-objects"),
]


@pytest.mark.parametrize("raw", MALFORMED_BODIES)
@pytest.mark.parametrize(
    "url", ["/api/v1/process-notes/", "/api/v1/sessions/", "/api/v1/rupture-episodes/"]
)
def test_body_that_is_not_a_json_object_is_refused(api, records, url, raw):
    before = row_counts()
    assert_error(send(api, "POST", url, raw=raw), 400)
    assert row_counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"discharge_date": "2026-01-01"', id="truncated"),
        pytest.param("[]", id="list"),
        pytest.param('"2026-01-01"', id="string"),
        pytest.param("[" * 1000 + "]" * 1000, id="nested-1000"),
    ],
)
def test_action_body_that_is_not_a_json_object_is_refused(api, records, raw):
    before = row_state(Client, records.client.pk)
    url = f"/api/v1/clients/{records.client.pk}/discharge/"
    assert_error(send(api, "POST", url, raw=raw), 400)
    assert row_state(Client, records.client.pk) == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[]", id="list"),
        pytest.param("{", id="truncated"),
        pytest.param("[" * 1000 + "]" * 1000, id="nested-1000"),
    ],
)
def test_edit_body_that_is_not_a_json_object_is_refused(api, records, raw):
    before = row_state(TherapySession, records.session.pk)
    url = f"/api/v1/sessions/{records.session.pk}/"
    assert_error(send(api, "PATCH", url, raw=raw), 400)
    assert row_state(TherapySession, records.session.pk) == before


@pytest.mark.parametrize(
    ("endpoint", "field", "value", "named"),
    [
        ("client", "name", "Robin\x00Vale", "name"),
        ("client", "email", "robin\x00@example.org", "email"),
        ("client", "phone", "555\x000100", "phone"),
        ("process_note", "text", "\x00", "text"),
        ("episode", "description", "went quiet\x00", "description"),
        ("repair", "note", "\x00\x00", "note"),
        (
            "progress_note",
            "sections",
            {"subjective": "s\x00", "objective": "o", "assessment": "a", "plan": "p"},
            "sections.subjective",
        ),  # noqa: E501
        ("client", "name", "\ud800", "name"),
        ("process_note", "text", "lone surrogate \udfff", "text"),
    ],
)
def test_nul_byte_or_lone_surrogate_in_a_string_is_refused_naming_the_field(
    api, records, endpoint, field, value, named
):
    refused_create(api, records, endpoint, named, **{field: value})


def test_nul_byte_in_an_action_reason_is_refused(api, records):
    before = row_state(RuptureSignal, records.signal.pk)
    response = send(
        api,
        "POST",
        f"/api/v1/signals/{records.signal.pk}/dismiss/",
        {"reason": "seen\x00it"},
    )
    assert_error(response, 400, "reason")
    assert row_state(RuptureSignal, records.signal.pk) == before


@pytest.mark.parametrize(
    ("endpoint", "field", "length"),
    [
        ("client", "name", 201),
        ("client", "phone", 41),
        ("client", "email", 300),
        ("progress_note", "sections", 50_001),
    ],
)
def test_overlong_string_is_refused_naming_the_field(api, records, endpoint, field, length):
    if field == "sections":
        value: Any = {"subjective": "s" * length, "objective": "o", "assessment": "a", "plan": "p"}
        named = "sections.subjective"
    elif field == "email":
        value, named = "r" * length + "@example.org", field
    else:
        value, named = "7" * length, field
    refused_create(api, records, endpoint, named, **{field: value})


# --- content types and sizes -------------------------------------------------------------------

WRONG_CONTENT_TYPES = [
    ("text/plain", '{"session": 1, "text": "x"}'),
    (
        "multipart/form-data; boundary=xyz",
        '--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nx\r\n--xyz--\r\n',
    ),  # noqa: E501
    ("application/x-www-form-urlencoded", "session=1&text=x"),
    ("application/xml", "<note><text>x</text></note>"),
    ("text/html", "<p>x</p>"),
    ("application/octet-stream", "\x00\x01"),
    ("", '{"session": 1, "text": "x"}'),
    ("json", '{"session": 1, "text": "x"}'),
]


@pytest.mark.parametrize(("content_type", "raw"), WRONG_CONTENT_TYPES)
def test_body_in_another_content_type_answers_415(api, records, content_type, raw):
    before = row_counts()
    for url in ("/api/v1/process-notes/", "/api/v1/sessions/"):
        response = send(api, "POST", url, raw=raw, content_type=content_type)
        assert_error(response, 415)
    assert row_counts() == before


@pytest.mark.parametrize(("content_type", "raw"), WRONG_CONTENT_TYPES[:3])
def test_edit_in_another_content_type_answers_415(api, records, content_type, raw):
    before = row_state(ProcessNote, records.process_note.pk)
    url = f"/api/v1/process-notes/{records.process_note.pk}/"
    assert_error(send(api, "PATCH", url, raw=raw, content_type=content_type), 415)
    assert row_state(ProcessNote, records.process_note.pk) == before


@pytest.mark.parametrize(("content_type", "raw"), WRONG_CONTENT_TYPES[:3])
def test_login_in_another_content_type_answers_415(content_type, raw):
    anonymous = APIClient()
    anonymous.raise_request_exception = False
    assert_error(
        send(anonymous, "POST", "/api/v1/auth/login/", raw=raw, content_type=content_type), 415
    )  # noqa: E501


def _oversized(limit: int, session_pk: int) -> str:
    return json.dumps({"session": session_pk, "text": "x" * (limit + 1)})


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/api/v1/process-notes/"),
        ("POST", "/api/v1/sessions/"),
        ("PATCH", "/api/v1/process-notes/{process_note}/"),
        ("POST", "/api/v1/progress-notes/{note}/addenda/"),
    ],
)
def test_body_over_the_size_limit_answers_413_and_writes_nothing(api, records, method, url):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    url = url.format(process_note=records.process_note.pk, note=records.note.pk)
    before = row_counts()
    note_before = row_state(ProcessNote, records.process_note.pk)
    response = send(api, method, url, raw=_oversized(limit, records.blank.pk))
    assert_error(response, 413)
    assert row_counts() == before
    assert row_state(ProcessNote, records.process_note.pk) == note_before


def test_login_body_over_the_size_limit_answers_413():
    anonymous = APIClient()
    anonymous.raise_request_exception = False
    raw = json.dumps({"username": "alice", "password": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    assert_error(send(anonymous, "POST", "/api/v1/auth/login/", raw=raw), 413)


@pytest.mark.parametrize("content_length", ["abc", "-1", "", "1"])
def test_nonsense_content_length_is_refused_without_writing(api, records, content_length):
    raw = json.dumps({"session": records.blank.pk, "text": "x"})
    before = row_counts()
    response = send(api, "POST", "/api/v1/process-notes/", raw=raw, CONTENT_LENGTH=content_length)
    assert_error(response, 400)
    assert row_counts() == before


# --- lists: cursors, page sizes, ordering, filters ---------------------------------------------


BAD_CURSORS = [
    pytest.param("/api/v1/sessions/", "garbage", id="garbage"),
    pytest.param("/api/v1/sessions/", "%FF%FE", id="not-ascii"),
    pytest.param("/api/v1/sessions/", "!!!", id="not-base64"),
    pytest.param("/api/v1/sessions/", "Zm9v", id="base64-foo"),
    pytest.param("/api/v1/clients/", b64("o=abc"), id="offset-not-a-number"),
    pytest.param("/api/v1/clients/", b64("o=-1"), id="negative-offset"),
    pytest.param("/api/v1/clients/", b64("r=abc"), id="reverse-not-a-number"),
    pytest.param("/api/v1/clients/", b64("hello world"), id="no-tokens"),  # noqa: E501
    pytest.param("/api/v1/clients/", b64("p=abc"), id="clients-position-abc"),  # noqa: E501
    pytest.param("/api/v1/clients/", b64("p=\x00"), id="clients-position-nul"),  # noqa: E501
    pytest.param(
        "/api/v1/progress-notes/",
        b64("p=1.5"),
        id="notes-position-float",
    ),  # noqa: E501
    pytest.param(
        "/api/v1/rupture-episodes/?ordering=intensity",
        b64("p=high"),
        id="episodes-position-by-intensity",
    ),  # noqa: E501
    pytest.param(
        "/api/v1/sessions/",
        b64("p=notadate"),
        id="sessions-position-notadate",
    ),  # noqa: E501
    pytest.param(
        "/api/v1/sessions/",
        b64("p=2026-13-01T00:00:00Z"),
        id="sessions-position-month-13",
    ),  # noqa: E501
    pytest.param(
        "/api/v1/rupture-episodes/",
        b64("p=notadate"),
        id="episodes-position-notadate",
    ),  # noqa: E501
    pytest.param(
        "/api/v1/signals/",
        b64("p=yesterday"),
        id="signals-position-yesterday",
    ),  # noqa: E501
]


@pytest.mark.parametrize(("url", "cursor"), BAD_CURSORS)
def test_bad_cursor_answers_400_naming_the_cursor(api, records, url, cursor):
    joiner = "&" if "?" in url else "?"
    assert_error(send(api, "GET", f"{url}{joiner}cursor={cursor}"), 400, "cursor")


@pytest.mark.parametrize("page_size", ["0", "-1", "201", "abc", "", "1.5", "1e2", str(2**63)])
@pytest.mark.parametrize("url", ["/api/v1/sessions/", "/api/v1/signals/", "/api/v1/clients/"])
def test_bad_page_size_answers_400_naming_it(api, records, url, page_size):
    assert_error(send(api, "GET", f"{url}?page_size={page_size}"), 400, "page_size")


@pytest.mark.parametrize(
    ("url", "ordering"),
    [
        ("/api/v1/sessions/", "bogus"),
        ("/api/v1/sessions/", "client__name"),
        ("/api/v1/sessions/", "starts_at,bogus"),
        pytest.param(
            "/api/v1/sessions/",
            "--id",
        ),
        ("/api/v1/sessions/", ","),
        ("/api/v1/sessions/", "-"),
        ("/api/v1/clients/", "name"),
        ("/api/v1/clients/", "client__practice__name"),
        ("/api/v1/rupture-episodes/", "description"),
        ("/api/v1/signals/", "?"),
    ],
)
def test_unknown_ordering_answers_400_naming_it(api, records, url, ordering):
    assert_error(send(api, "GET", f"{url}?ordering={ordering}"), 400, "ordering")


BAD_FILTERS = [
    ("/api/v1/sessions/?client=abc", "client"),
    ("/api/v1/sessions/?client=1.5", "client"),
    ("/api/v1/sessions/?clinician=%00", "clinician"),
    ("/api/v1/sessions/?starts_after=notadate", "starts_after"),
    ("/api/v1/sessions/?starts_after=2026-13-01T00:00:00Z", "starts_after"),
    ("/api/v1/sessions/?starts_before=yesterday", "starts_before"),
    ("/api/v1/sessions/?attendance=bogus", "attendance"),
    ("/api/v1/sessions/?modality=telepathy", "modality"),
    ("/api/v1/sessions/?setting=moon", "setting"),
    ("/api/v1/clients/?status=bogus", "status"),
    ("/api/v1/clients/?kind=group", "kind"),
    ("/api/v1/clients/?practice=northside", "practice"),
    ("/api/v1/progress-notes/?status=bogus", "status"),
    pytest.param(
        "/api/v1/progress-notes/?format=haiku",
        "format",
    ),
    ("/api/v1/progress-notes/?session=abc", "session"),
    ("/api/v1/process-notes/?session=[1]", "session"),
    ("/api/v1/measures/srs/?client=abc", "client"),
    ("/api/v1/measures/wai-sr/?session=1e3", "session"),
    ("/api/v1/rupture-episodes/?status=bogus", "status"),
    ("/api/v1/rupture-episodes/?relationship=neighbour", "relationship"),
    ("/api/v1/rupture-episodes/?kind=sulking", "kind"),
    ("/api/v1/rupture-episodes/?moment=eclipse", "moment"),
    ("/api/v1/rupture-episodes/?source=rumour", "source"),
    ("/api/v1/rupture-episodes/?marker=bogus", "marker"),
    ("/api/v1/rupture-episodes/?factor=bad_luck", "factor"),
    ("/api/v1/rupture-episodes/?detected_after=notadate", "detected_after"),
    ("/api/v1/rupture-episodes/?detected_before=2026-02-30", "detected_before"),
    ("/api/v1/rupture-episodes/?detected_after=0000-01-01", "detected_after"),
    ("/api/v1/repair-attempts/?outcome=perfect", "outcome"),
    ("/api/v1/repair-attempts/?initiator=the_dog", "initiator"),
    ("/api/v1/repair-attempts/?episode=abc", "episode"),
    ("/api/v1/repair-attempts/?attempted_after=soon", "attempted_after"),
    ("/api/v1/signals/?status=bogus", "status"),
    ("/api/v1/signals/?rule=bogus", "rule"),
    ("/api/v1/signals/?raised_after=notadate", "raised_after"),
    ("/api/v1/signals/?client=%F0%9F%98%80", "client"),
    ("/api/v1/rupture-episodes/?status=open&status=bogus", "status"),
    ("/api/v1/sessions/?attendance=attended&attendance=", "attendance"),
]


@pytest.mark.parametrize(("url", "field"), BAD_FILTERS)
def test_bad_filter_value_answers_400_naming_the_filter(api, records, url, field):
    assert_error(send(api, "GET", url), 400, field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sessions/?client=9223372036854775808",
        "/api/v1/sessions/?client=-1",
        "/api/v1/sessions/?starts_after=0001-01-01T00:00:00%2B14:00",
        "/api/v1/sessions/?starts_before=9999-12-31T23:59:59-14:00",
        "/api/v1/signals/?raised_after=9999-12-31T23:59:59-14:00",
        "/api/v1/rupture-episodes/?detected_after=0001-01-01&detected_before=9999-12-31",
        "/api/v1/clients/?cursor=" + b64("o=99999999999999999999"),
    ],
)
def test_extreme_but_well_formed_filter_never_breaks_the_list(api, records, url):
    response = send(api, "GET", url)
    assert b"Traceback" not in response.content
    assert response.status_code in {200, 400}, response.content
    if response.status_code == 400:
        assert_error(response, 400)


# --- unknown URLs and methods ------------------------------------------------------------------


UNROUTED_URLS = [
    "/api/v1/nope/",
    "/api/v1/patients/",
    "/api/v1/clients/1/nope/",
    "/api/v1/measures/phq9/",
    "/api/v1/sessions/1/2/3/",
    "/api/v1/",
    "/api/v1",
    "/api/v2/clients/",
    "/api/",
    "/api/v1/sessions.xml",
]
# Routed to a view, but naming nothing that exists: 404 for the clinician (authentication
# comes first, so anonymous callers get 401).
UNKNOWN_RECORD_URLS = [
    "/api/v1/clients/abc/",
    "/api/v1/clients/%00/",
    "/api/v1/clients/999999999/",
    "/api/v1/rupture-episodes/1e3/",
]


@pytest.mark.parametrize("url", UNROUTED_URLS)
@pytest.mark.parametrize("as_clinician", [True, False], ids=["clinician", "anonymous"])
def test_unknown_url_under_the_api_answers_404_json(api, url, as_clinician):
    caller = api if as_clinician else APIClient(raise_request_exception=False)
    assert_error(send(caller, "GET", url), 404)


@pytest.mark.parametrize("url", UNKNOWN_RECORD_URLS)
def test_unknown_record_answers_404_json(api, url):
    assert_error(send(api, "GET", url), 404)


@pytest.mark.parametrize("url", UNKNOWN_RECORD_URLS)
def test_unknown_record_answers_401_to_anonymous(url):
    assert_error(send(APIClient(raise_request_exception=False), "GET", url), 401)


def test_post_to_an_unknown_url_answers_404_and_writes_nothing(api, records):
    before = row_counts()
    response = send(api, "POST", "/api/v1/patients/", {"name": "Robin"})
    assert_error(response, 404)
    assert row_counts() == before


UNSUPPORTED_METHODS = [
    ("PUT", "/api/v1/clients/{client}/"),
    ("PUT", "/api/v1/clients/"),
    ("DELETE", "/api/v1/clients/"),
    ("PUT", "/api/v1/sessions/{session}/"),
    ("PUT", "/api/v1/progress-notes/{note}/"),
    ("PUT", "/api/v1/process-notes/{process_note}/"),
    ("PATCH", "/api/v1/measures/srs/{srs}/"),
    ("PUT", "/api/v1/measures/srs/{srs}/"),
    ("PUT", "/api/v1/rupture-episodes/{episode}/"),
    ("POST", "/api/v1/signals/"),
    ("PATCH", "/api/v1/signals/{signal}/"),
    ("DELETE", "/api/v1/signals/{signal}/"),
    ("GET", "/api/v1/signals/{signal}/dismiss/"),
    ("GET", "/api/v1/progress-notes/{note}/sign/"),
    ("DELETE", "/api/v1/rupture-episodes/{episode}/resolve/"),
    ("PATCH", "/api/v1/me/"),
    ("POST", "/api/v1/me/"),
    ("DELETE", "/api/v1/me/"),
    ("GET", "/api/v1/auth/logout/"),
    ("TRACE", "/api/v1/sessions/"),
    ("BREW", "/api/v1/sessions/"),
]


@pytest.mark.parametrize(("method", "template"), UNSUPPORTED_METHODS)
def test_unsupported_method_answers_405_and_writes_nothing(api, records, method, template):
    url = template.format(
        client=records.client.pk,
        session=records.session.pk,
        note=records.note.pk,
        process_note=records.process_note.pk,
        srs=records.srs.pk,
        episode=records.episode.pk,
        signal=records.signal.pk,
    )
    before = row_counts()
    states = {
        (model, obj.pk): row_state(model, obj.pk)
        for model, obj in [
            (Client, records.client),
            (TherapySession, records.session),
            (ProgressNote, records.note),
            (ProcessNote, records.process_note),
            (RuptureEpisode, records.episode),
            (RuptureSignal, records.signal),
        ]
    }
    response = send(api, method, url, {"duration_minutes": 10, "reason": "x"})
    assert_error(response, 405)
    assert row_counts() == before
    assert all(row_state(model, pk) == state for (model, pk), state in states.items())


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_login_answers_405_to_anything_but_post(method):
    anonymous = APIClient(raise_request_exception=False)
    assert_error(send(anonymous, method, "/api/v1/auth/login/", {"username": "alice"}), 405)


# --- malformed Authorization headers -----------------------------------------------------------

BAD_AUTHORIZATION = [
    pytest.param("Token", id="no-token"),
    pytest.param("Token ", id="empty-token"),
    pytest.param("Token a b", id="token-with-space"),
    pytest.param("Token \u00ff\u00ff", id="latin-1-bytes"),
    pytest.param("Token \u00e9t\u00e9", id="latin-1-accented"),
    pytest.param("Bearer x", id="bearer"),
    pytest.param("Basic YWxpY2U6cGFzc3dvcmQ=", id="basic"),
    pytest.param("token abc", id="lowercase-keyword"),
    pytest.param("Token " + "a" * 10_000, id="very-long-token"),
    pytest.param("Token " + "0" * 64, id="well-shaped-unknown-token"),
    pytest.param("Token\tabc", id="tab"),
    pytest.param(
        "Token abc\x00",
        id="nul-byte",
    ),
    pytest.param("Token\u00a0abc", id="no-break-space"),
    pytest.param(",,,", id="commas"),
]


@pytest.mark.parametrize("header", BAD_AUTHORIZATION)
def test_malformed_authorization_header_answers_401(header):
    anonymous = APIClient(raise_request_exception=False)
    response = send(anonymous, "GET", "/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert_error(response, 401)
    assert response.get("WWW-Authenticate", "").startswith("Token"), response.headers


@pytest.mark.parametrize("header", BAD_AUTHORIZATION[:6])
def test_write_with_a_malformed_authorization_header_answers_401_and_writes_nothing(
    records, header
):
    anonymous = APIClient(raise_request_exception=False)
    url, body = create_request(records, "process_note")
    before = row_counts()
    response = send(anonymous, "POST", url, body, HTTP_AUTHORIZATION=header)
    assert_error(response, 401)
    assert row_counts() == before


def test_latin_1_bytes_in_the_token_answer_401_on_a_clinical_list(records):
    # The header arrives as raw bytes; WSGI hands them on as latin-1 text.
    anonymous = APIClient(raise_request_exception=False)
    header = b"Token \xff\xfe\xfd".decode("latin-1")
    assert_error(send(anonymous, "GET", "/api/v1/sessions/", HTTP_AUTHORIZATION=header), 401)
