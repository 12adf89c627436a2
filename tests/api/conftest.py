"""API test helpers: an authenticated DRF client per persona, and the persona table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from knox.models import get_token_model
from rest_framework.test import APIClient

from cases.models import User


def client_for(user: User | None) -> APIClient:
    """A DRF test client that sends a real token of ``user`` (anonymous for None)."""
    api = APIClient()
    if user is not None:
        _, token = get_token_model().objects.create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.fixture
def api_as() -> Callable[[User | None], APIClient]:
    return client_for


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


def records_for(client, clinician) -> dict:
    """One of every clinical record, for one client, written straight through factories."""
    from tests.factories import (
        ClientFactory,
        OutcomeRatingScaleFactory,
        ParticipantFactory,
        PostSessionQuestionnaireFactory,
        ProcessNoteFactory,
        ProgressNoteFactory,
        RepairAttemptFactory,
        RuptureEpisodeFactory,
        RuptureSignalFactory,
        SessionRatingScaleFactory,
        TherapySessionFactory,
        WorkingAllianceInventoryFactory,
    )

    session = TherapySessionFactory(client=client, clinician=clinician)
    empty_session = TherapySessionFactory(client=client, clinician=clinician)
    signed_session = TherapySessionFactory(client=client, clinician=clinician)
    episode = RuptureEpisodeFactory(client=client, created_by=clinician)
    couple = ClientFactory(practice=client.practice, kind="couple", primary_clinician=clinician)
    return {
        "client": client,
        "couple": couple,
        "participant": ParticipantFactory(client=couple),
        "session": session,
        "empty_session": empty_session,
        "note": ProgressNoteFactory(session=session, author=clinician),
        "signed_note": ProgressNoteFactory(session=signed_session, author=clinician, signed=True),
        "process_note": ProcessNoteFactory(session=session, author=clinician),
        "srs": SessionRatingScaleFactory(session=session, recorded_by=clinician),
        "ors": OutcomeRatingScaleFactory(session=session, recorded_by=clinician),
        "psq": PostSessionQuestionnaireFactory(session=session, recorded_by=clinician),
        "wai": WorkingAllianceInventoryFactory(session=session, recorded_by=clinician),
        "episode": episode,
        "repair": RepairAttemptFactory(episode=episode, recorded_by=clinician),
        "signal": RuptureSignalFactory(client=client),
        "dismiss_signal": RuptureSignalFactory(client=client),
    }


@pytest.fixture
def world(clinician, client, other_clinician, other_client, foreign_clinician, foreign_client):
    """Records of alice's client (``own``) and of the clients of bob (same practice, other
    care team) and charlie (other practice)."""
    return {
        "own": records_for(client, clinician),
        "other": records_for(other_client, other_clinician),
        "foreign": records_for(foreign_client, foreign_clinician),
    }
