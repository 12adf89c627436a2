"""The README's API walkthrough, run verbatim with bash and curl against a live server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from cases import services
from cases.choices import ClientKind, Role
from tests.factories import UserFactory

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    block = re.search(
        r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S
    )
    assert block, "the README lost its walkthrough markers"
    return block.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
@pytest.mark.django_db(transaction=True)
def test_readme_walkthrough_runs_as_written(live_server, practice):
    # The demo's Ellen Brooks, with an active client of her own.
    ellen = UserFactory(username="ellen.brooks")
    ellen.set_password("mend-demo-2026")
    ellen.save()
    services.membership_grant(practice=practice, user=ellen, role=Role.CLINICIAN)
    services.client_create(
        practice=practice,
        kind=ClientKind.INDIVIDUAL,
        name="Harriet Vale",
        intake_date=timezone.localdate(),
        primary_clinician=ellen,
    )
    script = walkthrough().replace("http://127.0.0.1:8000", live_server.url)

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["signed", "resolved", "resolved"]
    assert lines[3] == "['denial', 'minimal_response']"
    assert lines[4] == "['acknowledge_own_contribution', 'invite_discussion']"
    assert lines[5].startswith("2026-11-16T10:00:00")
    assert int(lines[6]) >= 0  # live episodes on the worklist
    assert lines[7] in {
        "session",
        "srs",
        "ors",
        "psq",
        "wai_sr",
        "episode",
        "repair_attempt",
        "signal",
    }
