"""Every answer under /api/ (and /health/) is JSON in the one error format, whatever the
request: lone surrogates in a body, hidden characters in names, text past its cap, a missing
trailing slash, an unknown path, a wrong method or scheme, an unknown or naive list parameter,
a duplicate (docs/api.md, "Errors" and "Lists").

Some answers differ only with DEBUG (Django's HTML debug pages); those tests run with it on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.test import Client as DjangoClient
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.models import get_token_model
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api.exception_handlers import exception_handler
from api.filters import list_parameters
from cases import services as case_services
from cases.choices import NoteFormat, Role
from cases.models import Client, Membership, NoteAddendum, ProcessNote, ProgressNote, User
from config.errors import api_not_found
from ruptures import services as rupture_services
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from tests.factories import (
    PASSWORD,
    PostSessionQuestionnaireFactory,
    ProgressNoteFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYS = {"status", "code", "detail", "errors"}
ITEM_KEYS = {"field", "code", "message"}


def error_of(
    response: Any, status: int, *, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """``response`` is ``status`` in the one error format (JSON, UTF-8), with ``code`` and an
    item naming ``field`` when given."""
    assert response.status_code == status, (response.status_code, response.content[:1500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content.decode("utf-8"))
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == status, body
    assert all(set(item) == ITEM_KEYS for item in body["errors"]), body
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in [item["field"] for item in body["errors"]], body
    return body


def quiet(api: APIClient) -> APIClient:
    api.raise_request_exception = False  # a server error comes back as a response to check
    return api


@pytest.fixture
def api(api_as, clinician) -> APIClient:
    return quiet(api_as(clinician))


@pytest.fixture
def anonymous() -> APIClient:
    return quiet(APIClient())


@pytest.fixture
def records(practice, clinician, client, session) -> SimpleNamespace:
    """Alice's records: a session with a signed note; blank attended sessions for creates; an
    open signal; an open and a closed episode."""
    # Fixed times, older than ``session`` (last week) and in this order, whatever the factory's
    # sequence has reached in the run.
    weeks_ago = timezone.now() - dt.timedelta(days=60)
    signed_session = TherapySessionFactory(client=client, clinician=clinician, starts_at=weeks_ago)
    return SimpleNamespace(
        practice=practice,
        client=client,
        session=session,
        blank=TherapySessionFactory(
            client=client, clinician=clinician, starts_at=weeks_ago + dt.timedelta(hours=1)
        ),
        signed=ProgressNoteFactory(
            session=signed_session, author=clinician, format=NoteFormat.FREE, signed=True
        ),
        signal=RuptureSignalFactory(client=client, session=session),
        episode=RuptureEpisodeFactory(client=client, created_by=clinician),
        closed=RuptureEpisodeFactory(client=client, created_by=clinician, closed=True),
    )


def etag(api: APIClient, url: str) -> str:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response["ETag"]


def rows() -> dict[str, int]:
    models = (Client, ProgressNote, NoteAddendum, ProcessNote, RuptureEpisode, RepairAttempt)
    return {model.__name__: model.objects.count() for model in models}


# --- 2. lone surrogates anywhere in a body -----------------------------------------------------

# (method, where, raw JSON body with \u escapes, the field the answer names). The bodies are
# written as JSON text: a lone surrogate is what a client's "\ud800" escape parses to.
SURROGATE_BODIES = [
    pytest.param("POST", "login", r'{"username": "al\ud800ice", "password": "x"}', "username",
                 id="login-value"),
    pytest.param("POST", "login", r'{"username": "alice", "password": "x", "\udfff": 1}',
                 "non_field_errors", id="login-key"),
    pytest.param("POST", "login", r'{"username": {"first": "\ud800"}, "password": "x"}',
                 "username.first", id="login-nested-value"),
    pytest.param("POST", "sessions", r'{"modality": "\ud800"}', "modality",
                 id="session-choice-value"),
    pytest.param("POST", "sessions", r'{"\ud800": "individual"}', "non_field_errors",
                 id="session-key"),
    pytest.param("POST", "progress-notes", r'{"format": "free", "sections": {"text": "\udc00"}}',
                 "sections.text", id="note-nested-value"),
    pytest.param("POST", "progress-notes", r'{"format": "free", "sections": {"t\ud800": "x"}}',
                 "sections", id="note-nested-key"),
    pytest.param("POST", "rupture-episodes", r'{"markers": ["denial", "\ud800"]}', "markers.1",
                 id="episode-list-item"),
    pytest.param("PATCH", "client", r'{"name": "Robin \ud800"}', "name", id="client-edit-value"),
    pytest.param("PATCH", "client", r'{"name": "Robin", "\ud800": true}', "non_field_errors",
                 id="client-edit-key"),
    pytest.param("POST", "dismiss", r'{"reason": "\udfff"}', "reason", id="dismiss-value"),
    pytest.param("POST", "addenda", r'{"reason": "r", "text": "t", "x": {"\udbff": 1}}', "x",
                 id="addendum-nested-key"),
]  # fmt: skip


def url_of(where: str, r: SimpleNamespace) -> str:
    return {
        "login": "/api/v1/auth/login/",
        "sessions": "/api/v1/sessions/",
        "progress-notes": "/api/v1/progress-notes/",
        "rupture-episodes": "/api/v1/rupture-episodes/",
        "client": f"/api/v1/clients/{r.client.pk}/",
        "dismiss": f"/api/v1/signals/{r.signal.pk}/dismiss/",
        "addenda": f"/api/v1/progress-notes/{r.signed.pk}/addenda/",
    }[where]


@pytest.mark.parametrize(("method", "where", "raw", "field"), SURROGATE_BODIES)
def test_lone_surrogate_in_a_body_answers_400_parse_error_naming_where(
    api, anonymous, records, method, where, raw, field
):
    caller = anonymous if where == "login" else api
    url = url_of(where, records)
    extra = {"HTTP_IF_MATCH": etag(api, url)} if method == "PATCH" else {}
    before, client_before = rows(), Client.objects.filter(pk=records.client.pk).values().get()
    response = caller.generic(method, url, raw, content_type="application/json", **extra)
    body = error_of(response, 400, code="parse_error", field=field)
    assert "surrogate" in body["detail"], body
    assert rows() == before
    assert Client.objects.filter(pk=records.client.pk).values().get() == client_before


def test_surrogate_pair_escapes_are_text_and_accepted(api, records):
    # "\ud83d\ude00" is one character (😀): only a lone half is refused.
    raw = json.dumps({"session": records.blank.pk, "text": "x"}).replace(
        '"x"', r'"smiled \ud83d\ude00"'
    )
    response = api.generic("POST", "/api/v1/process-notes/", raw, content_type="application/json")
    assert response.status_code == 201, response.content
    assert ProcessNote.objects.get(pk=response.json()["id"]).text == "smiled \U0001f600"


def test_an_error_echoing_a_lone_surrogate_still_renders():
    # Whatever reaches the handler (a field named or a message quoting a client's bad input),
    # the error body can be encoded: the parser is not the only guard.
    response = exception_handler(exceptions.ValidationError({"\ud800": ["bad \udfff"]}), {})
    assert response is not None
    rendered = json.loads(JSONRenderer().render(response.data).decode("utf-8"))
    assert rendered["errors"] == [{"field": "\\ud800", "code": "invalid", "message": "bad \\udfff"}]


# --- 2. names and phones are plain text --------------------------------------------------------

HIDDEN_CHARACTERS = [
    pytest.param("\x07", id="control-bell"),
    pytest.param("\t", id="control-tab"),
    pytest.param("\x1b", id="control-escape"),
    pytest.param("\x7f", id="control-delete"),
    pytest.param("\x85", id="control-c1-next-line"),
    pytest.param("\u202a", id="bidi-embedding-lre"),
    pytest.param("\u202e", id="bidi-override-rlo"),
    pytest.param("\u2066", id="bidi-isolate-lri"),
    pytest.param("\u2069", id="bidi-isolate-pdi"),
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u200c", id="zero-width-non-joiner"),
    pytest.param("\u200d", id="zero-width-joiner"),
    pytest.param("\u2060", id="word-joiner"),
    pytest.param("\ufeff", id="zero-width-no-break-space"),
]


def new_client(r: SimpleNamespace, **fields: Any) -> dict[str, Any]:
    return {
        "practice": r.practice.pk,
        "kind": "individual",
        "name": "Robin Vale",
        "phone": "555-0100",
        "intake_date": str(timezone.localdate()),
        **fields,
    }


@pytest.mark.parametrize("character", HIDDEN_CHARACTERS)
@pytest.mark.parametrize(
    ("field", "value"), [("name", "Robin{}Vale"), ("phone", "555{}0100")], ids=["name", "phone"]
)
def test_hidden_character_in_a_client_name_or_phone_is_refused_naming_it(
    api, records, field, value, character
):
    before = rows()
    body = {field: value.format(character)}
    response = api.post("/api/v1/clients/", new_client(records, **body), format="json")
    error_of(response, 400, field=field)
    item = next(item for item in response.json()["errors"] if item["field"] == field)
    assert item["code"] == "hidden_character", item
    assert f"U+{ord(character):04X}" in item["message"], item
    assert rows() == before


def test_hidden_character_in_an_edited_name_is_refused_and_changes_nothing(api, records):
    url = f"/api/v1/clients/{records.client.pk}/"
    response = api.patch(
        url, {"name": "Dana\u202eWhitfield"}, format="json", HTTP_IF_MATCH=etag(api, url)
    )
    error_of(response, 400, field="name")
    assert Client.objects.get(pk=records.client.pk).name == "Dana Whitfield"


@pytest.mark.parametrize("field", ["name", "phone"])
def test_the_service_refuses_hidden_characters_too(practice, clinician, field):
    # The rule is the model field's: every writer meets it, not only the API.
    values = {"name": "Robin Vale", "phone": "", field: "Robin\u2066Vale"}
    with pytest.raises(DjangoValidationError) as caught:
        case_services.client_create(
            practice=practice,
            kind="individual",
            intake_date=timezone.localdate(),
            primary_clinician=clinician,
            **values,
        )
    assert field in caught.value.message_dict


@pytest.mark.parametrize(
    ("name", "phone"),
    [
        ("Zoë Ñúñez-O'Brien", "+44 (0)20 7946 0958"),
        ("محمد عبد الله", "555 0100"),
        ("李小龍", ""),
    ],
)
def test_names_in_any_script_are_accepted(api, records, name, phone):
    response = api.post(
        "/api/v1/clients/", new_client(records, name=name, phone=phone), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == name


# --- 2. every free-text field has a cap --------------------------------------------------------

# (what, endpoint, field as named in errors, the documented cap). The numbers are written out:
# they are the ones docs/api.md promises.
CAPS = [
    pytest.param("episode", "description", 10_000, id="episode-description"),
    pytest.param("repair", "note", 10_000, id="repair-attempt-note"),
    pytest.param("addendum", "text", 50_000, id="addendum-text"),
    pytest.param("addendum", "reason", 500, id="addendum-reason"),
    pytest.param("process_note", "text", 50_000, id="process-note-text"),
    pytest.param("progress_note", "sections.text", 50_000, id="progress-note-section"),
    pytest.param("dismiss", "reason", 500, id="dismissal-reason"),
]


def capped_request(what: str, field: str, text: str, r: SimpleNamespace) -> tuple[str, dict]:
    today = str(timezone.localdate())
    if what == "episode":
        return "/api/v1/rupture-episodes/", {
            "client": r.client.pk,
            "relationship": "therapist",
            "direction": "client",
            "kind": "withdrawal",
            "moment": "vulnerability_dismissed",
            "intensity": 2,
            "source": "clinician_observed",
            "description": text,
        }
    if what == "repair":
        return "/api/v1/repair-attempts/", {
            "episode": r.episode.pk,
            "attempted_on": today,
            "initiator": "therapist",
            "both_engaged": True,
            "outcome": "partly_resolved",
            "resolution_rating": 3,
            "note": text,
        }
    if what == "addendum":
        body = {"reason": "Late entry", "text": "More.", field: text}
        return f"/api/v1/progress-notes/{r.signed.pk}/addenda/", body
    if what == "process_note":
        return "/api/v1/process-notes/", {"session": r.blank.pk, "text": text}
    if what == "progress_note":
        return "/api/v1/progress-notes/", {
            "session": r.blank.pk,
            "format": "free",
            "sections": {"text": text},
        }
    assert what == "dismiss"
    return f"/api/v1/signals/{r.signal.pk}/dismiss/", {"reason": text}


@pytest.mark.parametrize(("what", "field", "cap"), CAPS)
def test_free_text_is_refused_one_past_its_cap_and_accepted_at_it(api, records, what, field, cap):
    # One over first: a refused request changes nothing, so the same record takes the second.
    url, body = capped_request(what, field, "x" * (cap + 1), records)
    before = rows()
    error_of(api.post(url, body, format="json"), 400, field=field)
    assert rows() == before
    url, body = capped_request(what, field, "x" * cap, records)
    response = api.post(url, body, format="json")
    assert response.status_code in {200, 201}, response.content[:1000]


def _service_call(what: str, text: str, r: SimpleNamespace, clinician: User) -> Any:
    if what == "episode":
        return rupture_services.episode_open(
            client=r.client,
            created_by=clinician,
            relationship="therapist",
            direction="client",
            kind="withdrawal",
            moment="vulnerability_dismissed",
            intensity=2,
            source="clinician_observed",
            description=text,
        )
    if what == "repair":
        return rupture_services.repair_attempt_record(
            episode=r.episode,
            recorded_by=clinician,
            initiator="therapist",
            both_engaged=True,
            outcome="partly_resolved",
            resolution_rating=3,
            note=text,
        )
    if what == "addendum":
        return case_services.addendum_add(note=r.signed, author=clinician, reason="r", text=text)
    if what == "process_note":
        return case_services.process_note_create(session=r.blank, author=clinician, text=text)
    assert what == "progress_note"
    return case_services.note_create(
        session=r.blank, author=clinician, format="free", sections={"text": text}
    )


@pytest.mark.parametrize(
    ("what", "field", "cap"),
    [
        ("episode", "description", 10_000),
        ("repair", "note", 10_000),
        ("addendum", "text", 50_000),
        ("process_note", "text", 50_000),
        ("progress_note", "sections.text", 50_000),
    ],
)
def test_the_services_hold_the_caps_too(records, clinician, what, field, cap):
    with pytest.raises(DjangoValidationError) as caught, transaction.atomic():
        _service_call(what, "x" * (cap + 1), records, clinician)
    assert field in caught.value.message_dict, caught.value
    _service_call(what, "x" * cap, records, clinician)


def test_docs_list_every_cap():
    text = (ROOT / "docs" / "api.md").read_text()
    for field, cap in [
        ("`description`", "10,000"),
        ("`note`", "10,000"),
        ("addendum `text`", "50,000"),
        ("addendum `reason`", "500"),
        ("process note `text`", "50,000"),
        ("each of `sections`", "50,000"),
        ("dismissal `reason`", "500"),
        ("client `name`", "200"),
        ("client `phone`", "40"),
    ]:
        assert any(field in line and cap in line for line in text.splitlines()), (field, cap)


# --- 3. a missing trailing slash ---------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_post_without_the_trailing_slash_creates_the_record(api, records, settings, debug):
    settings.DEBUG = debug
    before = Client.objects.count()
    response = api.post("/api/v1/clients", new_client(records, name="Slashless"), format="json")
    assert response.status_code == 201, (response.status_code, response.content[:500])
    assert Client.objects.filter(name="Slashless").count() == 1
    assert Client.objects.count() == before + 1


def test_login_and_logout_without_the_trailing_slash(anonymous, clinician):
    response = anonymous.post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    signed_in = quiet(APIClient())
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert signed_in.get("/api/v1/me").status_code == 200
    assert signed_in.post("/api/v1/auth/logout").status_code == 204
    error_of(signed_in.get("/api/v1/me"), 401)


def test_actions_and_edits_without_the_trailing_slash(api, records, clinician):
    draft = ProgressNoteFactory(session=records.blank, author=clinician)
    response = api.post(f"/api/v1/progress-notes/{draft.pk}/sign")
    assert response.status_code == 200, response.content
    assert ProgressNote.objects.get(pk=draft.pk).is_signed
    url = f"/api/v1/clients/{records.client.pk}"
    response = api.patch(url, {"phone": "555-0199"}, format="json", HTTP_IF_MATCH=etag(api, url))
    assert response.status_code == 200, response.content
    assert Client.objects.get(pk=records.client.pk).phone == "555-0199"


def test_supervisor_reads_without_the_trailing_slash(api_as, supervisor):
    api = quiet(api_as(supervisor))
    response = api.get("/api/v1/supervisees")
    assert response.status_code == 200, response.content
    assert [person["name"] for person in response.json()] == ["alice"]
    response = api.get("/api/v1/trends/rupture-rate")
    assert response.status_code == 200, response.content
    assert response.json()["figure"] == "rupture-rate"


def _schema_paths() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(schema["paths"])


def test_every_documented_route_resolves_with_and_without_its_slash():
    paths = _schema_paths()
    assert len(paths) > 40
    for documented in paths:
        path = re.sub(r"\{[a-z_]+\}", "1", documented)
        with_slash, without = resolve(path), resolve(path.rstrip("/"))
        assert with_slash.func is not api_not_found, path
        assert without.func is with_slash.func, (path, without.func)


# --- 3. unknown paths, over-long URLs, methods on /health/ -------------------------------------

UNKNOWN_PATHS = [
    ("GET", "/api/v1/nope/"),
    ("GET", "/api/v1/nope"),
    ("POST", "/api/v1/nope"),
    ("POST", "/api/v1/patients/"),
    ("DELETE", "/api/v1/clients/1/nope/"),
    ("GET", "/api/nope"),
    ("GET", "/api/"),
    ("GET", "/api"),
    ("POST", "/api"),
    ("PUT", "/api/v2/clients/"),
]


@pytest.mark.parametrize(("method", "url"), UNKNOWN_PATHS)
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_unknown_path_under_the_api_answers_json_404(api, settings, method, url, debug):
    settings.DEBUG = debug
    before = rows()
    error_of(api.generic(method, url, "{}", content_type="application/json"), 404, code="not_found")
    assert rows() == before


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_over_long_urls_are_answered_in_json(api, records, settings, debug):
    # gunicorn refuses a request line over its --limit-request-line (4094 bytes by default)
    # with its own 414 before Mend sees it (docs/api.md); whatever reaches Mend answers JSON.
    settings.DEBUG = debug
    error_of(api.get("/api/v1/" + "x" * 20_000), 404)
    error_of(api.get("/api/v1/sessions/?ordering=" + "x" * 20_000), 400, field="ordering")
    error_of(api.get("/api/v1/sessions/?" + "x" * 20_000 + "=1"), 400)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_more_query_parameters_than_django_reads_answer_json_400(api, settings, debug):
    settings.DEBUG = debug
    query = "&".join(["client=1"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    error_of(api.get(f"/api/v1/sessions/?{query}"), 400, code="bad_request")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("url", ["/health/", "/health"])
def test_health_answers_other_methods_with_json_405(method, url):
    # As a browser would send them: with CSRF checks, which answer an HTML 403 before a view.
    response = DjangoClient(enforce_csrf_checks=True).generic(method, url)
    error_of(response, 405, code="method_not_allowed")
    assert response["Allow"] == "GET"


def test_health_answers_without_the_trailing_slash():
    response = DjangoClient().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# --- 3. the Token scheme -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Basic", "JWT"])
def test_another_authorization_scheme_is_told_to_use_token(records, clinician, scheme):
    _, token = get_token_model().objects.create(user=clinician)
    caller = quiet(APIClient())
    caller.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    body = error_of(caller.get("/api/v1/me/"), 401, code="authentication_failed")
    assert "Authorization: Token <token>" in body["detail"], body
    before = rows()
    response = caller.post(
        "/api/v1/process-notes/", {"session": records.blank.pk, "text": "x"}, format="json"
    )
    error_of(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")
    assert rows() == before


# --- 3. list parameters ------------------------------------------------------------------------

UNKNOWN_PARAMETERS = [
    (Role.CLINICIAN, "/api/v1/sessions/?clinet=1", "clinet"),
    (Role.CLINICIAN, "/api/v1/sessions/?status=open", "status"),
    (Role.CLINICIAN, "/api/v1/clients/?name=Dana", "name"),
    (Role.CLINICIAN, "/api/v1/progress-notes/?search=sister", "search"),
    (Role.CLINICIAN, "/api/v1/process-notes/?client=1", "client"),
    (Role.CLINICIAN, "/api/v1/measures/srs/?page=2", "page"),
    (Role.CLINICIAN, "/api/v1/rupture-episodes/?status=open&limit=5", "limit"),
    (Role.CLINICIAN, "/api/v1/repair-attempts/?offset=10", "offset"),
    (Role.CLINICIAN, "/api/v1/signals/?format=json", "format"),
    (Role.PRACTICE_ADMIN, "/api/v1/memberships/?username=bob", "username"),
    (Role.PRACTICE_ADMIN, "/api/v1/supervision-assignments/?clinicians=1", "clinicians"),
    (Role.PRACTICE_ADMIN, "/api/v1/practices/?name=Northside", "name"),
    (Role.PRACTICE_ADMIN, "/api/v1/access-events/?ip_address=127.0.0.1", "ip_address"),
    (Role.SUPERVISOR, "/api/v1/supervisees/?clinician=1", "clinician"),
]


@pytest.fixture
def as_role(api_as, clinician, supervisor, practice_admin) -> Any:
    people = {Role.CLINICIAN: clinician, Role.SUPERVISOR: supervisor}
    people[Role.PRACTICE_ADMIN] = practice_admin
    return lambda role: quiet(api_as(people[role]))


@pytest.mark.parametrize(("role", "url", "parameter"), UNKNOWN_PARAMETERS)
def test_unknown_list_parameter_answers_400_naming_it(records, as_role, role, url, parameter):
    body = error_of(as_role(role).get(url), 400, field=parameter)
    named = [item["field"] for item in body["errors"]]
    assert named == [parameter], body


def test_list_accepts_exactly_the_parameters_its_schema_documents():
    # The allowed set is read from the view (filterset, ordering, paginator); the schema is
    # made from the same view: a parameter documented but refused, or accepted but not
    # documented, fails here.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        handler: Any = resolve(path).func
        if get is None or "{" in path or not hasattr(handler, "actions"):
            continue  # not the list of a router's viewset
        documented = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
        assert list_parameters(handler.cls()) == documented, path
        checked += 1
    assert checked >= 15  # clients … access-events


def test_known_list_parameters_are_still_accepted(api, records):
    response = api.get(
        f"/api/v1/sessions/?client={records.client.pk}&attendance=attended"
        "&starts_after=2020-01-01T00:00:00Z&ordering=-starts_at&page_size=2"
    )
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [
        records.session.pk,  # last week
        records.blank.pk,  # two months old, after the signed one
    ]
    assert response.json()["next"] is not None


NAIVE_FILTERS = [
    (Role.CLINICIAN, "/api/v1/sessions/?starts_after=2026-03-01T10:00:00", "starts_after"),
    (Role.CLINICIAN, "/api/v1/sessions/?starts_before=2026-03-01T10:00", "starts_before"),
    (Role.CLINICIAN, "/api/v1/sessions/?starts_after=2026-03-01", "starts_after"),
    (Role.CLINICIAN, "/api/v1/signals/?raised_after=2026-03-01T10:00:00", "raised_after"),
    (Role.CLINICIAN, "/api/v1/signals/?raised_before=2026-03-01 10:00:00", "raised_before"),
    (Role.PRACTICE_ADMIN, "/api/v1/access-events/?occurred_after=2026-03-01T10:00:00",
     "occurred_after"),
    (Role.PRACTICE_ADMIN, "/api/v1/access-events/?occurred_before=2026-03-01T10:00:00.5",
     "occurred_before"),
]  # fmt: skip


@pytest.mark.parametrize(("role", "url", "parameter"), NAIVE_FILTERS)
def test_naive_datetime_filter_answers_400_asking_for_a_time_zone(
    records, as_role, role, url, parameter
):
    body = error_of(as_role(role).get(url), 400, field=parameter)
    item = next(item for item in body["errors"] if item["field"] == parameter)
    assert item["code"] == "naive", item


@pytest.mark.parametrize("hours", [0, 1, -5.5], ids=["utc", "plus-1", "minus-5-30"])
def test_aware_datetime_filters_are_applied(api, records, hours):
    # Alice's three sessions are in the past: tomorrow keeps all before it and none after.
    zone = dt.timezone(dt.timedelta(hours=hours))
    tomorrow = (timezone.now() + dt.timedelta(days=1)).astimezone(zone).isoformat()
    tomorrow = tomorrow.replace("+", "%2B")
    before = api.get(f"/api/v1/sessions/?starts_before={tomorrow}")
    assert before.status_code == 200, before.content
    assert len(before.json()["results"]) == 3
    assert api.get(f"/api/v1/sessions/?starts_after={tomorrow}").json()["results"] == []


# --- 3. one code for duplicates ----------------------------------------------------------------


def test_second_progress_note_of_a_session_answers_unique(api, records, clinician):
    ProgressNoteFactory(session=records.blank, author=clinician)
    body = {"session": records.blank.pk, "format": "free", "sections": {"text": "Again."}}
    response = api.post("/api/v1/progress-notes/", body, format="json")
    error_of(response, 400, code="unique", field="session")


@pytest.mark.parametrize(
    ("url", "factory", "body", "field"),
    [
        (
            "/api/v1/measures/srs/",
            SessionRatingScaleFactory,
            dict.fromkeys(["relationship", "goals_and_topics", "approach_or_method", "overall"], 9),
            # One SRS per session and participant (couples): a rule of two fields, like the
            # PSQ's session and respondent.
            "non_field_errors",
        ),
        (
            "/api/v1/measures/psq/",
            PostSessionQuestionnaireFactory,
            {"respondent": "client", "rupture_experienced": False},
            "non_field_errors",
        ),
    ],
    ids=["srs", "psq"],
)
def test_measure_recorded_twice_answers_unique(api, records, clinician, url, factory, body, field):
    factory(session=records.blank, recorded_by=clinician)
    response = api.post(url, {"session": records.blank.pk, **body}, format="json")
    error_of(response, 400, code="unique", field=field)


def test_second_recurrence_of_an_episode_answers_unique(api, records, clinician):
    url = f"/api/v1/rupture-episodes/{records.closed.pk}/record-recurrence/"
    assert api.post(url, {}, format="json").status_code == 201
    error_of(api.post(url, {}, format="json"), 400, code="unique")


def test_membership_and_supervision_held_already_answer_unique(
    api_as, practice, practice_admin, supervisor, clinician
):
    admin = quiet(api_as(practice_admin))
    body = {"practice": practice.pk, "user": clinician.pk, "role": "clinician"}
    error_of(admin.post("/api/v1/memberships/", body, format="json"), 400, code="unique")
    assert Membership.objects.filter(user=clinician, role=Role.CLINICIAN).count() == 1
    body = {"practice": practice.pk, "supervisor": supervisor.pk, "clinician": clinician.pk}
    response = admin.post("/api/v1/supervision-assignments/", body, format="json")
    error_of(response, 400, code="unique")


def test_duplicate_the_database_refuses_answers_unique(records, clinician):
    # Two requests racing past the service's check: the second meets the unique index.
    ProgressNoteFactory(session=records.blank, author=clinician)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        ProgressNoteFactory(session=records.blank, author=clinician)
    response = exception_handler(caught.value, {})
    assert response is not None
    assert (response.status_code, response.data["code"]) == (400, "unique"), response.data


def test_other_refusals_keep_the_code_invalid(api, records):
    response = api.post("/api/v1/process-notes/", {"session": records.blank.pk}, format="json")
    error_of(response, 400, code="invalid", field="text")


def test_unique_is_documented():
    text = (ROOT / "docs" / "api.md").read_text()
    assert "`unique`" in text


def test_signal_dismissed_once_then_refused_is_not_a_duplicate(api, records):
    url = f"/api/v1/signals/{records.signal.pk}/dismiss/"
    assert api.post(url, {"reason": "Seen."}, format="json").status_code == 200
    error_of(api.post(url, {"reason": "Again."}, format="json"), 400, code="invalid")
    assert RuptureSignal.objects.get(pk=records.signal.pk).dismissal_reason == "Seen."
