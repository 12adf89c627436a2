"""Changes made through the API carry, in their history, who made them and which request."""

from __future__ import annotations

import pytest

from ruptures.models import RuptureEpisodeEvent  # type: ignore[attr-defined]
from tests.factories import RuptureEpisodeFactory

pytestmark = pytest.mark.django_db


def test_api_changes_carry_the_user_and_the_request(api_as, clinician, client):
    episode = RuptureEpisodeFactory(client=client, created_by=clinician)
    api = api_as(clinician)
    url = f"/api/v1/rupture-episodes/{episode.pk}/"

    response = api.patch(url, {"intensity": 5}, HTTP_IF_MATCH=api.get(url)["ETag"])

    assert response.status_code == 200
    event = RuptureEpisodeEvent.objects.filter(pgh_obj_id=episode.pk, pgh_label="update").get()
    assert event.intensity == 5
    metadata = event.pgh_context.metadata
    assert metadata["user"] == clinician.pk
    assert metadata["request_id"] == response["X-Request-ID"]
