import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3y-" + "x7Q!pL9#vR2@mN5$wT8^zB4&cF6*hJ1(dS0)gK" * 2


# Production needs a database URL and a shared cache; ``check`` connects to neither.
PRODUCTION = {
    "DATABASE_URL": "postgresql://mend@db.example.org:5432/mend",
    "CACHE_BACKEND": "database",
}
UNSET = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "CACHE_BACKEND", "MEND_PGDATA"}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in UNSET}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.production", **PRODUCTION)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", ALLOWED_HOSTS="mend.example.org")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_development_key():
    result = run_manage(
        "check",
        SECRET_KEY="insecure-development-key-not-for-production",
        ALLOWED_HOSTS="mend.example.org",
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug():
    result = run_manage(
        "check", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="mend.example.org", DEBUG="true"
    )

    assert result.returncode != 0
    assert "DEBUG must not be enabled" in result.stderr


def test_production_passes_the_deploy_checks_with_no_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="mend.example.org",
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_database_url():
    result = run_manage(
        "check", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="mend.example.org", DATABASE_URL=""
    )

    assert result.returncode != 0
    assert "DATABASE_URL must name the PostgreSQL database" in result.stderr


def test_production_refuses_a_cache_of_one_process():
    result = run_manage(
        "check", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="mend.example.org", CACHE_BACKEND=""
    )

    assert result.returncode != 0
    assert "cache shared by every server process" in result.stderr


def test_production_takes_redis_as_its_shared_cache():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="mend.example.org",
        CACHE_BACKEND="",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )

    assert result.returncode == 0, result.stderr + result.stdout


def test_the_deploy_check_names_a_cache_of_one_process(tmp_path):
    result = run_manage(
        "check", "--deploy", DJANGO_SETTINGS_MODULE="config.settings.base", CACHE_BACKEND=""
    )

    assert result.returncode != 0
    assert "mend.E001" in result.stderr + result.stdout


@pytest.mark.parametrize("module", ["config.settings.base", "config.settings.production"])
def test_importing_the_settings_starts_no_database(tmp_path, module):
    """Only the development and test entry points start the embedded PostgreSQL; importing
    the others (mypy, ``check``, a misconfigured production) must not."""
    data = tmp_path / "pgdata"
    environment = {key: value for key, value in os.environ.items() if key not in UNSET}
    environment.update(
        MEND_PGDATA=str(data),
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="mend.example.org",
        CACHE_BACKEND="database",
    )
    script = f"import importlib; importlib.import_module({module!r})"

    subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert not data.exists()
