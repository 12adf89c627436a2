"""Logs carry a request id on every line and nothing a clinic must keep out of them."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from config.logging import JsonFormatter, RequestIdFilter
from tests.factories import PASSWORD

NOTE_TEXT = "She said her brother never listens when she talks about the miscarriage."
CLIENT = {
    "name": "Marisol Quintero-Vance",
    "email": "marisol.qv@example.org",
    "phone": "07700 900123",
}


def formatted(records: list[logging.LogRecord]) -> list[str]:
    formatter, stamp = JsonFormatter(), RequestIdFilter()
    lines = []
    for record in records:
        if not hasattr(record, "request_id"):
            stamp.filter(record)
        lines.append(formatter.format(record))
    return lines


@pytest.mark.django_db
def test_a_clinical_workflow_leaves_no_secrets_or_clinical_content_in_the_logs(
    caplog, clinician, practice
):
    caplog.set_level(logging.DEBUG)
    anonymous = APIClient()
    anonymous.post(
        "/api/v1/auth/login/", {"username": clinician.username, "password": "wrong-" + PASSWORD}
    )
    login = anonymous.post(
        "/api/v1/auth/login/", {"username": clinician.username, "password": PASSWORD}
    )
    token = login.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client = api.post(
        "/api/v1/clients/",
        {"practice": practice.pk, "kind": "individual", "intake_date": "2026-01-05",
         "date_of_birth": "1987-03-14", **CLIENT},
    ).json()  # fmt: skip
    session = api.post(
        "/api/v1/sessions/",
        {"client": client["id"], "starts_at": "2026-11-02T09:00:00Z", "duration_minutes": 50,
         "modality": "individual", "setting": "video", "attendance": "attended"},
    ).json()  # fmt: skip
    note = api.post(
        "/api/v1/progress-notes/",
        {"session": session["id"], "format": "free", "sections": {"text": NOTE_TEXT}},
    ).json()
    api.post(f"/api/v1/progress-notes/{note['id']}/sign/")
    # Refused requests log at WARNING: a forbidden edit of the signed note, a bad body.
    api.patch(f"/api/v1/progress-notes/{note['id']}/", {"sections": {"text": NOTE_TEXT}},
              HTTP_IF_MATCH="*")  # fmt: skip
    api.post("/api/v1/process-notes/", {"session": session["id"], "text": NOTE_TEXT, "x": 1})
    api.post("/api/v1/process-notes/", {"session": session["id"], "text": NOTE_TEXT})
    api.post("/api/v1/auth/logout/")
    api.get("/api/v1/me/")  # 401 with the revoked token

    lines = formatted(caplog.records)
    text = "\n".join(lines)

    assert lines, "the workflow logged nothing at all"
    secrets = [PASSWORD, token, NOTE_TEXT, client["code"], "1987-03-14", *CLIENT.values()]
    for secret in secrets:
        assert secret not in text
    assert "Marisol" not in text and "miscarriage" not in text


@pytest.mark.django_db
def test_every_request_has_an_id_in_its_answer_and_its_log_lines(caplog, api_as, clinician):
    caplog.set_level(logging.INFO)

    response = api_as(clinician).get("/api/v1/clients/999999/")

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    warnings = [json.loads(line) for line in formatted(caplog.records)]
    assert any(w["request_id"] == request_id and "Not Found" in w["message"] for w in warnings)


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(api_as, clinician):
    api = api_as(clinician)

    kept = api.get("/api/v1/me/", HTTP_X_REQUEST_ID="lb-7f3a.19:2")["X-Request-ID"]
    replaced = api.get("/api/v1/me/", HTTP_X_REQUEST_ID="x\nInjected: yes")["X-Request-ID"]

    assert kept == "lb-7f3a.19:2"
    assert replaced != "x\nInjected: yes" and len(replaced) == 32


def test_development_prints_each_line_and_each_traceback_once(tmp_path):
    """Django's own console handler (its default logging in DEBUG) used to print every
    django.* line a second time, and a 500's traceback twice."""
    script = (
        "import django, logging; django.setup()\n"
        "log = logging.getLogger('django.request')\n"
        "log.warning('probe-line-7f3a')\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    log.error('probe-error-7f3a', exc_info=True)\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": "postgresql://mend@db.example.org:5432/mend",
        "MEND_PGDATA": str(tmp_path / "pgdata"),
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    output = result.stdout + result.stderr
    assert output.count("probe-line-7f3a") == 1
    assert output.count("probe-error-7f3a") == 1
    assert output.count("Traceback") == 1


def test_json_lines_carry_the_fields_mend_documents():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    RequestIdFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert set(line) >= {"time", "level", "logger", "request_id", "message"}
    assert line["level"] == "ERROR" and line["logger"] == "django.request"
