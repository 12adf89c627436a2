"""Schemathesis over the whole OpenAPI schema the API serves at /api/schema/, inside the test
suite, against the pytest-django test database.

Each operation of the schema is one test. Requests go through Django's own WSGI handler in this
thread, so they see the test's transaction. Checks: no server error, every status code
documented, every response in its documented content type and schema, unsupported methods
answer 405, a missing token answers 401.

* (a) As the role each endpoint is for (the clinician for clinical records, the practice admin
  for the practice's people and settings), over realistic records written through the
  services: first one realistic request that must succeed, then schema-valid requests
  (positive) and schema-violating ones (negative) made up by Hypothesis, derandomized, a few
  per operation. Path ids and linked ids are drawn from those records (and from other care
  teams and practices, which must answer 404 or 400) as often as they are made up.
* (b) As anonymous: every operation but login and set-password answers 401, whatever else the
  request holds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test.utils import override_settings
from django.urls import get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from knox.models import get_token_model
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from cases import services as case_services
from cases.choices import Attendance, ClientKind, Modality, NoteFormat, Respondent, Setting
from cases.models import (
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    SessionRatingScale,
    User,
    WorkingAllianceInventory,
)
from ruptures import services as rupture_services
from ruptures.models import RuptureSignal
from tests.factories import PASSWORD

# The project's WSGI application under the test settings (config.wsgi would load production).
APP = WSGIHandler()
SCHEMA_PATH = "/api/schema/"

# Per operation; about 290 tests in all stay well under three minutes on two cores.
EXAMPLES_AS_OWNER = 15
NEGATIVE_EXAMPLES_AS_OWNER = 10
EXAMPLES_AS_ANONYMOUS = 5

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
METHODS = ("get", "post", "put", "patch", "delete")


def _load_schema() -> Any:
    # Schema generation reads no rows; the host is one ALLOWED_HOSTS must accept.
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        return schemathesis.openapi.from_wsgi(SCHEMA_PATH, APP)


SCHEMA = _load_schema()
OPERATIONS = {
    operation.label: operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())
}


def _needs_token(operation: Any) -> bool:
    security = operation.definition.raw.get("security", SCHEMA.raw_schema.get("security", []))
    return bool(security) and {} not in security


def _role_for(path: str) -> str:
    """Who an endpoint is for: the practice admin runs the practice and reads its access log,
    supervisors read trends and list their supervisees, clinicians work with everything else."""
    if path.startswith(
        (
            "/api/v1/memberships",
            "/api/v1/practices",
            "/api/v1/supervision-assignments",
            "/api/v1/access-events",
            "/api/v1/users",
        )
    ):
        return "practice_admin"
    if path.startswith(("/api/v1/trends", "/api/v1/supervisees")):
        return "supervisor"
    return "clinician"


# Fuzzing every operation takes minutes: in every run, but `-m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

# Operations known to fail a check, with the reason; empty when the code is right.
KNOWN_OWNER_FAILURES: dict[str, str] = {}
KNOWN_ANONYMOUS_FAILURES: dict[str, str] = {}


def _params(failures: dict[str, str]) -> list[Any]:
    return [
        pytest.param(
            label,
            id=label,
            marks=[pytest.mark.xfail(strict=True, reason=failures[label])]
            if label in failures
            else [],
        )
        for label in sorted(OPERATIONS)
    ]


# --- the world the requests meet ---------------------------------------------------------------


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Django closes "old" connections when a request starts and finishes; inside the test's
    transaction that would close the connection under the test, so, as Django's own test
    client does, the WSGI handler runs without that hook here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(monkeypatch, settings) -> None:
    """Hundreds of requests a minute from one address and one user: throttling and the login
    lockout would answer 429 (documented) to most of them and hide everything else."""
    rates = {"anon": "100000/min", "user": "100000/min", "login": "100000/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    settings.AXES_FAILURE_LIMIT = 100_000


@pytest.fixture
def clinical_world(
    practice,
    clinician,
    other_clinician,
    foreign_clinician,
    supervisor,
    practice_admin,
    client,
    other_client,
    foreign_client,
    session,
) -> SimpleNamespace:
    """Realistic records of alice's, written through the services (``records``), and the ids a
    request may name (``ids``): alice's own first, then rows of other care teams and
    practices."""
    today = timezone.localdate()
    now = timezone.now()

    def new_session(days_ago: float, attendance: str = Attendance.ATTENDED, **kwargs: Any):
        return case_services.session_create(
            client=kwargs.get("for_client", client),
            clinician=kwargs.get("clinician", clinician),
            starts_at=now - dt.timedelta(days=days_ago),
            duration_minutes=50,
            modality=Modality.INDIVIDUAL,
            setting=Setting.VIDEO,
            attendance=attendance,
        )

    second = new_session(3)
    upcoming = new_session(-2, Attendance.SCHEDULED)
    spare = new_session(1)  # attended, no note, no measure
    draft = case_services.note_create(
        session=session,
        author=clinician,
        format=NoteFormat.SOAP,
        sections={"subjective": "Tired.", "objective": "Flat.", "assessment": "-", "plan": "+"},
    )
    signed = case_services.note_create(
        session=second,
        author=clinician,
        format=NoteFormat.FREE,
        sections={"text": "Talked about her sister."},
    )
    signed = case_services.note_sign(note=signed, signer=clinician)
    case_services.addendum_add(
        note=signed, author=clinician, reason="Late entry", text="She also mentioned sleep."
    )
    process_note = case_services.process_note_create(
        session=session, author=clinician, text="I noticed I wanted to rescue."
    )

    def srs(on: Any, value: str) -> Any:
        return rupture_services.measure_record(
            measure_model=SessionRatingScale,
            session=on,
            recorded_by=clinician,
            relationship=Decimal(value),
            goals_and_topics=Decimal(value),
            approach_or_method=Decimal(value),
            overall=Decimal(value),
        )

    srs_first = srs(session, "9.5")
    srs_second = srs(second, "7.0")  # a drop, and below the cutoff: raises a signal
    ors = rupture_services.measure_record(
        measure_model=OutcomeRatingScale,
        session=session,
        recorded_by=clinician,
        individually=Decimal("5.0"),
        interpersonally=Decimal("6.5"),
        socially=Decimal("7.0"),
        overall=Decimal("6.0"),
    )
    psq = rupture_services.measure_record(  # tension with little resolution: raises a signal
        measure_model=PostSessionQuestionnaire,
        session=second,
        recorded_by=clinician,
        respondent=Respondent.CLIENT,
        rupture_experienced=True,
        tension=4,
        resolution=2,
    )
    wai = rupture_services.measure_record(
        measure_model=WorkingAllianceInventory,
        session=session,
        recorded_by=clinician,
        respondent=Respondent.CLIENT,
        **{f"item_{n}": 4 for n in range(1, 13)},
    )

    def episode(relationship: str, kind: str, markers: list[str], days_ago: int, **kwargs: Any):
        return rupture_services.episode_open(
            client=client,
            created_by=clinician,
            relationship=relationship,
            direction="client",
            kind=kind,
            markers=markers,
            moment="vulnerability_dismissed",
            factors=["stress"],
            intensity=3,
            detected_on=today - dt.timedelta(days=days_ago),
            source="clinician_observed",
            **kwargs,
        )

    open_episode = episode("therapist", "withdrawal", ["minimal_response"], 2, session=second)
    repairing = episode("partner", "mixed", ["fine_against_tone"], 20)
    repair = rupture_services.repair_attempt_record(
        episode=repairing,
        recorded_by=clinician,
        attempted_on=today - dt.timedelta(days=10),
        initiator="both",
        both_engaged=True,
        strategies=["acknowledge_rupture", "active_listening"],
        outcome="partly_resolved",
        resolution_rating=3,
    )
    closed = episode("parent", "confrontation", [], 40)
    rupture_services.episode_mark_unresolved(
        episode=closed, user=clinician, on_date=today - dt.timedelta(days=30)
    )
    discharged = case_services.client_create(
        practice=practice,
        kind=ClientKind.COUPLE,
        name="Sam and Jo Reyes",
        intake_date=today - dt.timedelta(days=400),
        primary_clinician=clinician,
    )
    case_services.client_discharge(client=discharged, discharge_date=today - dt.timedelta(days=5))
    partner = case_services.participant_create(
        client=discharged, label="Jo", role="partner", user=clinician
    )
    case_services.care_team_add(client=client, clinician=other_clinician)
    other_session = new_session(4, for_client=other_client, clinician=other_clinician)
    foreign_session = new_session(4, for_client=foreign_client, clinician=foreign_clinician)
    signals = list(RuptureSignal.objects.filter(client=client).order_by("pk"))
    assert len(signals) >= 2, "the fixture's SRS and PSQ should each raise a rupture signal"
    assignment = practice.supervision_assignments.get()

    sessions = [session.pk, second.pk, upcoming.pk, spare.pk]
    people = [clinician.pk, other_clinician.pk, supervisor.pk, foreign_clinician.pk]
    ids = {
        # Path ids, by resource.
        "clients": [client.pk, discharged.pk, other_client.pk, foreign_client.pk],
        "sessions": [*sessions, other_session.pk, foreign_session.pk],
        "progress-notes": [draft.pk, signed.pk],
        "process-notes": [process_note.pk],
        "participants": [partner.pk],
        "measures/srs": [srs_first.pk, srs_second.pk],
        "measures/ors": [ors.pk],
        "measures/psq": [psq.pk],
        "measures/wai-sr": [wai.pk],
        "rupture-episodes": [open_episode.pk, repairing.pk, closed.pk],
        "repair-attempts": [repair.pk],
        "signals": [signal.pk for signal in signals],
        "memberships": list(practice.memberships.values_list("pk", flat=True)),
        "practices": [practice.pk, practice.pk + 1000],
        "supervision-assignments": [assignment.pk],
        "care-team": [other_clinician.pk, clinician.pk],
        # Linked records in bodies, by field name.
        "client": [client.pk, discharged.pk, other_client.pk],
        "session": [*sessions, other_session.pk],
        "episode": [open_episode.pk, repairing.pk, closed.pk],
        "participant": [partner.pk],
        "practice": [practice.pk],
        "clinician": people,
        "primary_clinician": people,
        "supervisor": people,
        "user": people,
        # People, by path: the practice's, one of another practice, and the admin (who may
        # not deactivate themselves: 400).
        "users": [other_clinician.pk, supervisor.pk, foreign_clinician.pk, practice_admin.pk],
    }
    records = SimpleNamespace(
        today=today,
        practice=practice,
        clinician=clinician,
        other_clinician=other_clinician,
        foreign_clinician=foreign_clinician,
        supervisor=supervisor,
        client=client,
        discharged=discharged,
        partner=partner,
        session=session,
        spare=spare,
        draft=draft,
        signed=signed,
        process_note=process_note,
        srs=srs_first,
        ors=ors,
        psq=psq,
        wai=wai,
        open_episode=open_episode,
        repairing=repairing,
        closed=closed,
        repair=repair,
        signals=signals,
        assignment=assignment,
        membership=practice.memberships.get(user=other_clinician),
        practice_admin=practice_admin,
    )
    return SimpleNamespace(ids=ids, records=records)


def _deactivated(r: SimpleNamespace) -> int:
    case_services.user_deactivate(user=r.other_clinician, by=r.practice_admin)
    return r.other_clinician.pk


def _set_password_body(r: SimpleNamespace) -> dict[str, str]:
    """A person just created by the practice admin, and their set-password token."""
    newcomer = case_services.user_create(
        practice=r.practice,
        username="newcomer",
        first_name="Nia",
        last_name="Okafor",
        email="nia@example.org",
        roles=["clinician"],
        created_by=r.practice_admin,
    )
    link = case_services.password_set_token(user=newcomer)
    assert link is not None
    return {"uid": link.uid, "token": link.token, "password": "a quiet harbour at dusk 42"}


def _measure_items(names: list[str], value: float) -> dict[str, float]:
    return dict.fromkeys(names, value)


# One realistic request per operation that must succeed: (path parameters, body).
REALISTIC: dict[str, Callable[[SimpleNamespace], tuple[dict[str, int], Any]]] = {
    "POST /api/v1/auth/login/": lambda r: ({}, {"username": "alice", "password": PASSWORD}),
    # The schema lists ``by`` values alphabetically; the first (both_engaged) is a breakdown
    # of repair attempts.
    "GET /api/v1/trends/{figure}/": lambda r: ({"figure": "repair-resolution"}, None),
    "POST /api/v1/clients/": lambda r: (
        {},
        {
            "practice": r.practice.pk,
            "kind": "individual",
            "name": "Robin Vale",
            "date_of_birth": "1990-04-01",
            "intake_date": str(r.today),
        },
    ),
    "PATCH /api/v1/clients/{id}/": lambda r: ({"id": r.client.pk}, {"phone": "555-0100"}),
    "POST /api/v1/clients/{id}/care-team/": lambda r: (
        {"id": r.client.pk},
        {"clinician": r.other_clinician.pk},
    ),
    "DELETE /api/v1/clients/{id}/care-team/{clinician_id}/": lambda r: (
        {"id": r.client.pk, "clinician_id": r.other_clinician.pk},
        None,
    ),
    "POST /api/v1/clients/{id}/discharge/": lambda r: (
        {"id": r.client.pk},
        {"discharge_date": str(r.today)},
    ),
    "POST /api/v1/clients/{id}/reactivate/": lambda r: ({"id": r.discharged.pk}, None),
    "POST /api/v1/sessions/": lambda r: (
        {},
        {
            "client": r.client.pk,
            "starts_at": "2026-03-02T09:30:00+01:00",
            "duration_minutes": 50,
            "modality": "individual",
            "setting": "in_person",
            "attendance": "attended",
        },
    ),
    "PATCH /api/v1/sessions/{id}/": lambda r: (
        {"id": r.session.pk},
        {"duration_minutes": 45, "setting": "phone"},
    ),
    "POST /api/v1/progress-notes/": lambda r: (
        {},
        {
            "session": r.spare.pk,
            "format": "dap",
            "sections": {"data": "Quiet.", "assessment": "Guarded.", "plan": "Check in."},
        },
    ),
    "PATCH /api/v1/progress-notes/{id}/": lambda r: (
        {"id": r.draft.pk},
        {"sections": {"subjective": "s", "objective": "o", "assessment": "a", "plan": "p"}},
    ),
    "POST /api/v1/progress-notes/{id}/sign/": lambda r: ({"id": r.draft.pk}, None),
    "POST /api/v1/progress-notes/{id}/addenda/": lambda r: (
        {"id": r.signed.pk},
        {"reason": "Correction", "text": "The sister is older, not younger."},
    ),
    "POST /api/v1/participants/": lambda r: (
        {},
        {"client": r.discharged.pk, "label": "Sam", "role": "partner"},
    ),
    "PATCH /api/v1/participants/{id}/": lambda r: ({"id": r.partner.pk}, {"label": "Jo R."}),
    "POST /api/v1/process-notes/": lambda r: (
        {},
        {"session": r.spare.pk, "text": "Felt shut out when she changed the subject."},
    ),
    "PATCH /api/v1/process-notes/{id}/": lambda r: (
        {"id": r.process_note.pk},
        {"text": "On reflection: my own fatigue."},
    ),
    "POST /api/v1/measures/srs/": lambda r: (
        {},
        {
            "session": r.spare.pk,
            **_measure_items(
                ["relationship", "goals_and_topics", "approach_or_method", "overall"], 9.1
            ),
        },
    ),
    "POST /api/v1/measures/ors/": lambda r: (
        {},
        {
            "session": r.spare.pk,
            **_measure_items(["individually", "interpersonally", "socially", "overall"], 6.5),
        },
    ),
    "POST /api/v1/measures/psq/": lambda r: (
        {},
        {"session": r.spare.pk, "respondent": "therapist", "rupture_experienced": False},
    ),
    "POST /api/v1/measures/wai-sr/": lambda r: (
        {},
        {
            "session": r.spare.pk,
            "respondent": "therapist",
            **{f"item_{n}": 3 for n in range(1, 13)},
        },
    ),
    "POST /api/v1/rupture-episodes/": lambda r: (
        {},
        {
            "client": r.client.pk,
            "session": r.spare.pk,
            "relationship": "therapist",
            "direction": "client",
            "kind": "confrontation",
            "markers": ["complaints_about_progress"],
            "moment": "repeated_misunderstanding",
            "factors": ["resentment"],
            "intensity": 4,
            "detected_on": str(r.today),
            "source": "client_reported",
            "description": "Said the sessions are going nowhere.",
        },
    ),
    "PATCH /api/v1/rupture-episodes/{id}/": lambda r: (
        {"id": r.open_episode.pk},
        {"intensity": 4, "factors": ["stress", "exhaustion"]},
    ),
    "POST /api/v1/rupture-episodes/{id}/start-repair/": lambda r: (
        {"id": r.open_episode.pk},
        None,
    ),
    "POST /api/v1/rupture-episodes/{id}/resolve/": lambda r: ({"id": r.repairing.pk}, {}),
    "POST /api/v1/rupture-episodes/{id}/mark-unresolved/": lambda r: (
        {"id": r.open_episode.pk},
        {"on_date": str(r.today)},
    ),
    "POST /api/v1/rupture-episodes/{id}/relationship-ended/": lambda r: (
        {"id": r.repairing.pk},
        {},
    ),
    "POST /api/v1/rupture-episodes/{id}/record-recurrence/": lambda r: (
        {"id": r.closed.pk},
        {"detected_on": str(r.today), "intensity": 2},
    ),
    "POST /api/v1/repair-attempts/": lambda r: (
        {},
        {
            "episode": r.open_episode.pk,
            "attempted_on": str(r.today),
            "initiator": "therapist",
            "both_engaged": True,
            "strategies": ["acknowledge_own_contribution"],
            "outcome": "resolved",
            "resolution_rating": 4,
            "note": "She laughed at the end.",
        },
    ),
    "POST /api/v1/signals/{id}/acknowledge/": lambda r: (
        {"id": r.signals[0].pk},
        {"episode": r.open_episode.pk},
    ),
    "POST /api/v1/signals/acknowledge/": lambda r: (
        {},
        {"signals": [signal.pk for signal in r.signals], "episode": r.open_episode.pk},
    ),
    "POST /api/v1/signals/{id}/dismiss/": lambda r: (
        {"id": r.signals[1].pk},
        {"reason": "Rated low on purpose, she said."},
    ),
    "POST /api/v1/memberships/": lambda r: (
        {},
        {"practice": r.practice.pk, "user": r.supervisor.pk, "role": "clinician"},
    ),
    "PATCH /api/v1/memberships/{id}/": lambda r: ({"id": r.membership.pk}, {"is_active": False}),
    "POST /api/v1/supervision-assignments/": lambda r: (
        {},
        {
            "practice": r.practice.pk,
            "supervisor": r.supervisor.pk,
            "clinician": r.other_clinician.pk,
        },
    ),
    "DELETE /api/v1/supervision-assignments/{id}/": lambda r: ({"id": r.assignment.pk}, None),
    "POST /api/v1/users/": lambda r: (
        {},
        {
            "username": "nia.okafor",
            "first_name": "Nia",
            "last_name": "Okafor",
            "email": "nia@example.org",
            "practice": r.practice.pk,
            "roles": ["clinician", "supervisor"],
        },
    ),
    "POST /api/v1/users/{id}/deactivate/": lambda r: ({"id": r.other_clinician.pk}, None),
    "POST /api/v1/users/{id}/reactivate/": lambda r: ({"id": _deactivated(r)}, None),
    "POST /api/v1/auth/set-password/": lambda r: ({}, _set_password_body(r)),
    "PATCH /api/v1/practices/{id}/": lambda r: (
        {"id": r.practice.pk},
        {"srs_cutoff": 35.5, "timezone": "Europe/London"},
    ),
}


def _realistic_case(operation: Any, world: SimpleNamespace) -> Case:
    make = REALISTIC.get(operation.label)
    if make is not None:
        path_parameters, body = make(world.records)
    else:  # the reads: the caller's first own record, or the first value the schema allows
        path_parameters, body = {}, None
        for parameter in operation.definition.raw.get("parameters", []):
            if parameter["in"] != "path":
                continue
            own = world.ids.get(_resource(operation.path)) or parameter["schema"].get("enum")
            path_parameters[parameter["name"]] = own[0]
    if body is None:
        return operation.Case(path_parameters=path_parameters)
    return operation.Case(path_parameters=path_parameters, body=body, media_type="application/json")


def _documented_value_cases(operation: Any, path_parameters: dict[str, Any]) -> list[Case]:
    """One request per query parameter the schema gives a list of values for, with its first
    value: a documented filter value must work."""
    cases = []
    for parameter in operation.definition.raw.get("parameters", []):
        schema = parameter.get("schema", {})
        values = schema.get("enum") or schema.get("items", {}).get("enum")
        if parameter["in"] == "query" and values:
            cases.append(
                operation.Case(
                    path_parameters=path_parameters, query={parameter["name"]: values[0]}
                )
            )
    return cases


def _resource(path: str) -> str:
    parts = path.removeprefix("/api/v1/").split("/")
    return "/".join(parts[:2]) if parts[0] == "measures" else parts[0]


def _declared_fields(operation: Any) -> set[str] | None:
    """The body fields the schema declares for ``operation`` (None: no JSON object body)."""
    body = operation.definition.raw.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = SCHEMA.raw_schema["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    properties = schema.get("properties")
    return set(properties) if properties is not None else None


def _path_parameters(operation: Any, ids: dict[str, list[int]]) -> list[dict[str, int]]:
    own = ids.get(_resource(operation.path), [])
    if "{clinician_id}" in operation.path:
        return [{"id": pk, "clinician_id": other} for pk in own[:2] for other in ids["care-team"]]
    return [{"id": pk} for pk in own] if "{id}" in operation.path else []


def _cases(operation: Any, ids: dict[str, list[int]], mode: GenerationMode) -> Any:
    """Generated cases for ``operation``, with real ids as often as made-up ones."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    strategies += [
        operation.as_strategy(generation_mode=mode, path_parameters=parameters)
        for parameters in _path_parameters(operation, ids)
    ]
    cases = st.one_of(strategies)
    if mode != GenerationMode.POSITIVE:
        return cases  # a swapped id could turn a negative case into a valid one
    declared = _declared_fields(operation)

    @st.composite
    def with_real_links(draw: Callable) -> Case:
        case = draw(cases)
        if isinstance(case.body, dict):
            # The schema allows properties it does not declare; the API refuses them (see
            # test_request_bodies_declare_that_unknown_fields_are_refused). Mostly drop them,
            # and mostly link real records, so that requests get past validation.
            if declared is not None and draw(st.integers(0, 4)):
                case.body = {key: value for key, value in case.body.items() if key in declared}
            for field in list(case.body):
                if field in ids and draw(st.integers(0, 4)):
                    case.body[field] = draw(st.sampled_from(ids[field]))
        return case

    return with_real_links()


def _fuzz(cases: Any, examples: int, send: Callable[[Case], Any]) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases)
    def run(case: Case) -> None:
        send(case)

    run()


def _call(case: Case, headers: dict[str, str] | None) -> Any:
    # A savepoint per request, as each request has its own transaction in production: a
    # database error the API answers with a 4xx must not abort the examples that follow.
    with transaction.atomic():
        return case.call(headers=headers)


def _token(user: User) -> str:
    return get_token_model().objects.create(user=user)[1]


# --- (a) as the role each endpoint is for, over realistic data ---------------------------------


@pytest.mark.parametrize("label", _params(KNOWN_OWNER_FAILURES))
def test_operation_conforms_to_the_schema_for_its_role(
    label, clinical_world, request, wsgi_in_test_transaction, unthrottled
):
    """A realistic request, then schema-valid and schema-violating ones: no 5xx, and every
    answer documented and in its schema. All three runs happen; every failure is reported."""
    operation = OPERATIONS[label]
    caller = request.getfixturevalue(_role_for(operation.path))
    lists_exist = operation.method == "get" and "{" not in operation.path

    def send(case: Case, extra: dict[str, str] | None = None) -> Any:
        # A fresh token each time: logout and logout-all revoke the one they are sent with.
        headers = {"Authorization": f"Token {_token(caller)}", **(extra or {})}
        response = _call(case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if lists_exist:
            assert response.status_code != 404, (
                f"{label} answered 404 to {case.as_curl_command()}: a list that exists "
                f"never answers 404 ({response.text[:300]})"
            )
        return response

    def realistic() -> None:
        first = _realistic_case(operation, clinical_world)
        cases = [first, *_documented_value_cases(operation, first.path_parameters)]
        if operation.method == "patch":  # an edit that changes nothing is a valid edit
            cases.append(operation.Case(path_parameters=first.path_parameters, body={}))
        for case in cases:
            extra = {}
            if operation.method == "patch":  # edits carry the ETag of the version read
                read = OPERATIONS[f"GET {operation.path}"].Case(
                    path_parameters=case.path_parameters
                )
                token = {"Authorization": f"Token {_token(caller)}"}
                extra["If-Match"] = _call(read, token).headers["etag"][0]
            response = send(case, extra)
            assert 200 <= response.status_code < 300, (
                f"the realistic request {case.as_curl_command()} answered "
                f"{response.status_code}: {response.text[:500]}"
            )

    runs = [
        ("realistic", realistic),
        (
            "positive",
            lambda: _fuzz(
                _cases(operation, clinical_world.ids, GenerationMode.POSITIVE),
                EXAMPLES_AS_OWNER,
                send,
            ),
        ),
        (
            "negative",
            lambda: _fuzz(
                _cases(operation, clinical_world.ids, GenerationMode.NEGATIVE),
                NEGATIVE_EXAMPLES_AS_OWNER,
                send,
            ),
        ),
    ]
    failures = []
    for name, run in runs:
        try:
            run()
        except Exception as failure:  # every run goes ahead; all are reported below
            failures.append((name, failure))
    if failures:
        report = "\n\n".join(f"--- {name} ---\n{failure}" for name, failure in failures)
        raise AssertionError(f"{label}:\n{report}") from failures[0][1]


# --- (b) as anonymous --------------------------------------------------------------------------


@pytest.mark.parametrize("label", _params(KNOWN_ANONYMOUS_FAILURES))
def test_operation_answers_anonymous_callers_with_401(
    label, db, wsgi_in_test_transaction, unthrottled
):
    operation = OPERATIONS[label]
    needs_token = _needs_token(operation)

    def send(case: Case) -> None:
        if case.headers:
            case.headers = {
                name: value
                for name, value in case.headers.items()
                if name.lower() != "authorization"
            }
        response = _call(case, None)
        case.validate_response(response, checks=CHECKS)
        if needs_token:
            assert response.status_code == 401, (
                f"{label} answered {response.status_code} without a token to "
                f"{case.as_curl_command()}: {response.text[:300]}"
            )
            challenge = response.headers.get("www-authenticate", [""])[0]
            assert challenge.startswith("Token"), response.headers

    path_parameters = {
        parameter["name"]: parameter["schema"].get("enum", [1])[0]
        for parameter in operation.definition.raw.get("parameters", [])
        if parameter["in"] == "path"
    }
    for case in _documented_value_cases(operation, path_parameters):
        send(case)
    _fuzz(_cases(operation, {}, GenerationMode.POSITIVE), EXAMPLES_AS_ANONYMOUS, send)


def test_every_operation_but_login_requires_a_token():
    open_operations = sorted(label for label, op in OPERATIONS.items() if not _needs_token(op))
    assert open_operations == ["POST /api/v1/auth/login/", "POST /api/v1/auth/set-password/"]


# --- unsupported methods -----------------------------------------------------------------------


def _undeclared_methods() -> list[tuple[str, str]]:
    pairs = []
    for path in sorted({operation.path for operation in OPERATIONS.values()}):
        declared = {op.method for op in OPERATIONS.values() if op.path == path}
        pairs += [(method, path) for method in METHODS if method not in declared]
    return pairs


@pytest.mark.parametrize(("method", "path"), _undeclared_methods())
def test_method_the_schema_does_not_offer_answers_405(
    method, path, request, wsgi_in_test_transaction, unthrottled
):
    # DRF refuses a method before it looks the record up, so any id will do.
    caller = request.getfixturevalue(_role_for(path))
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    browser = WerkzeugClient(APP)
    with transaction.atomic():
        response = browser.open(
            url,
            method=method.upper(),
            headers={"Authorization": f"Token {_token(caller)}", "Host": "localhost"},
            json={},
        )
    body = response.get_json()
    assert response.status_code == 405, (method, url, response.status_code, body)
    assert body["status"] == 405 and body["code"] and body["detail"], body
    assert body["errors"] == [], body
    allowed = {name.strip().lower() for name in response.headers.get("Allow", "").split(",")}
    assert method not in allowed, response.headers.get("Allow")


# --- the schema itself -------------------------------------------------------------------------


def _served_operations() -> set[tuple[str, str]]:
    """(method, route) pairs the URLconf serves under /api/v1/."""

    def routes(resolver: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for pattern in resolver.url_patterns:
            text = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                yield from routes(pattern, text)
            else:
                yield text, pattern.callback

    served = set()
    for route, callback in routes(get_resolver()):
        if "v1/" not in route or "(?P<format>" in route:
            continue
        cls = callback.cls
        actions = getattr(callback, "actions", None)
        offered = set(actions) if actions else {m for m in METHODS if hasattr(cls, m)}
        served |= {(m, route) for m in offered & set(cls.http_method_names) & set(METHODS)}
    return served


def test_schema_documents_every_route_the_api_serves():
    served = _served_operations()
    assert len(served) == len(OPERATIONS), (
        f"{len(served)} (method, route) pairs served, {len(OPERATIONS)} documented:\n"
        + "\n".join(sorted(f"{m.upper()} {r}" for m, r in served))
    )


def test_request_bodies_declare_that_unknown_fields_are_refused():
    components = SCHEMA.raw_schema["components"]["schemas"]
    open_bodies = sorted(
        name
        for name, component in components.items()
        if name.endswith("Request") and component.get("additionalProperties") is not False
    )
    assert open_bodies == [], open_bodies


def test_list_parameters_are_declared_as_the_server_reads_them():
    loose = []
    for label, operation in sorted(OPERATIONS.items()):
        for parameter in operation.definition.raw.get("parameters", []):
            schema = parameter.get("schema", {})
            name = parameter["name"]
            if name == "page_size" and (schema.get("minimum"), schema.get("maximum")) != (1, 200):
                loose.append(f"{label} ?{name}: {schema}")
            if schema.get("type") == "number":
                loose.append(f"{label} ?{name}: {schema}")
    assert loose == [], "\n".join(loose)
