import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_health_reports_database_ok():
    response = HttpClient().get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_health_refuses_writes():
    response = HttpClient().post("/health/")

    assert response.status_code == 405


def test_health_answers_503_when_the_database_is_unreachable():
    # A real refused connection (nothing listens on port 1), in a separate process so the
    # suite's own connection is untouched.
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health/', HTTP_HOST='localhost');"
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )

    status, _, body = result.stdout.strip().partition(" ")
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "error", "database": "unavailable"}
