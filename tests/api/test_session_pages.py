"""The session list pages by keys first (api.pagination.KeysFirstCursorPagination): whatever
the order, the direction or the filters, the pages put together are the list, once each, in
order, and hold only the sessions the caller may read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import TherapySession
from tests.factories import ClientFactory, ProgressNoteFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(practice, clinician, other_clinician, client):
    """Sixteen live sessions on alice's two care teams, many of them at the same minute (the
    cursor's position alone cannot separate them); one archived session, one of an archived
    client, and one of a client whose care team she is not on."""
    shared = ClientFactory(
        practice=practice, primary_clinician=other_clinician, care_team=[clinician]
    )
    noon = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    live = [
        TherapySessionFactory(
            client=owner, clinician=clinician, starts_at=noon - dt.timedelta(hours=hours)
        )
        for owner, hours in [(client, 0), (shared, 0), (client, 0), (shared, 0), (client, 1)]
        + [(shared, 1), (client, 2), (shared, 2), (client, 2), (shared, 3), (client, 4)]
        + [(shared, 4), (client, 4), (client, 5), (shared, 6), (client, 7)]
    ]
    archived = TherapySessionFactory(client=client, clinician=clinician, starts_at=noon)
    TherapySession.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    gone = ClientFactory(practice=practice, primary_clinician=clinician)
    TherapySessionFactory(client=gone, clinician=clinician, starts_at=noon)
    type(gone).objects.filter(pk=gone.pk).update(archived_at=timezone.now())
    elsewhere = ClientFactory(practice=practice, primary_clinician=other_clinician)
    TherapySessionFactory(client=elsewhere, clinician=other_clinician, starts_at=noon)
    return live, shared


def _walk(api, params, direction="next"):
    """Every page from the first, following ``next``; or, with ``previous``, back from the
    last page to the first. Answers the ids in list order."""
    page = api.get("/api/v1/sessions/", params).json()
    pages = [page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        pages.append(page["results"])
    if direction == "previous":
        pages = [page["results"]]
        while page["previous"]:
            page = api.get(page["previous"]).json()
            pages.insert(0, page["results"])
    return [row["id"] for results in pages for row in results]


def _expected(live, *, newest_first=True):
    ordered = sorted(live, key=lambda s: (s.starts_at, s.pk), reverse=newest_first)
    return [s.pk for s in ordered]


@pytest.mark.parametrize("page_size", [1, 3, 4, 50])
def test_pages_forward_are_the_list_in_order(api_as, clinician, sessions, page_size):
    live, _ = sessions
    assert _walk(api_as(clinician), {"page_size": page_size}) == _expected(live)


@pytest.mark.parametrize("page_size", [2, 3, 5])
def test_pages_backward_are_the_same_list(api_as, clinician, sessions, page_size):
    live, _ = sessions
    walked = _walk(api_as(clinician), {"page_size": page_size}, direction="previous")
    assert walked == _expected(live)


def test_oldest_first_and_a_client_filter_page_the_same_way(api_as, clinician, sessions):
    live, shared = sessions
    api = api_as(clinician)
    assert _walk(api, {"page_size": 3, "ordering": "starts_at,id"}) == _expected(
        live, newest_first=False
    )
    of_shared = [s for s in live if s.client_id == shared.pk]
    assert _walk(api, {"page_size": 2, "client": shared.pk}) == _expected(of_shared)


def test_each_row_carries_whether_its_session_has_a_note(api_as, clinician, sessions):
    live, _ = sessions
    noted = live[4]
    ProgressNoteFactory(session=noted, author=clinician)
    rows = api_as(clinician).get("/api/v1/sessions/", {"page_size": 50}).json()["results"]
    assert {row["id"] for row in rows if row["has_progress_note"]} == {noted.pk}


def test_another_clinician_pages_only_their_own_care_teams(api_as, other_clinician, sessions):
    live, shared = sessions
    walked = _walk(api_as(other_clinician), {"page_size": 4})
    of_shared = [s.pk for s in live if s.client_id == shared.pk]
    assert set(of_shared) <= set(walked)
    assert not set(walked) & {s.pk for s in live if s.client_id != shared.pk}
