"""The token cache (api.authentication): a token already used costs its user's row alone, every
revocation still takes effect at once, knox's expiry rules hold, and nothing in the cache
could sign anyone in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import get_token_model
from procrastinate.contrib.django import app

from api import authentication
from api.authentication import REVOKED, TokenAuthentication, token_cache, token_cache_key
from api.tasks import EXPIRE_TOKENS_CRON, expire_tokens
from cases import services
from cases.models import User
from tests.api.test_auth import login, with_token
from tests.databases import run_worker_once
from tests.factories import UserFactory

ME = "/api/v1/me/"


@pytest.fixture
def token(clinician) -> str:
    response = login(clinician.username)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def used(token: str):
    """A client of ``token`` after one request, which leaves the token in the cache."""
    api = with_token(token)
    assert api.get(ME).status_code == 200
    return api


def row_of(user: User):
    return get_token_model().objects.get(user=user)


def key_of(row) -> str:
    return token_cache_key(row.token_key, row.digest)


def token_writes(captured: CaptureQueriesContext) -> list[str]:
    sql = (query["sql"] for query in captured.captured_queries)
    return [statement for statement in sql if statement.startswith('UPDATE "knox_authtoken"')]


def age(row, *, expiry: dt.datetime, created: dt.datetime | None = None) -> None:
    """Moves the token's times in its row and in its cache entry alike, as time passing would."""
    created = created or row.created
    get_token_model().objects.filter(pk=row.pk).update(expiry=expiry, created=created)
    entry = token_cache().get(key_of(row))
    token_cache().set(key_of(row), {**entry, "expiry": expiry, "created": created})


# --- What the cache holds -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_used_token_is_cached_as_its_user_expiry_and_digest(clinician, token):
    used(token)
    row = row_of(clinician)

    assert token_cache().get(key_of(row)) == {
        "user": clinician.pk,
        "digest": row.digest,
        "created": row.created,
        "expiry": row.expiry,
    }


def everything_cached() -> list[tuple[bytes, bytes]]:
    """Every key and stored (pickled) value of the cache, whichever of the project's it is."""
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        return [(key.encode(), value) for key, value in backend._cache.items()]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client()
        return [(key, client.get(key)) for key in client.scan_iter()]
    pytest.skip("reads the process-memory or Redis cache")


@pytest.mark.django_db
def test_nothing_in_the_cache_could_sign_anyone_in(clinician, token):
    used(token)
    cached = everything_cached()

    assert any(b"auth-token:" in key for key, _ in cached)
    for key, value in cached:
        assert token.encode() not in key
        assert token.encode() not in value


@pytest.mark.django_db
def test_without_a_token_cache_every_request_reads_the_token(settings, clinician, token):
    settings.AUTH_TOKEN_CACHE = None
    api = used(token)

    with CaptureQueriesContext(connection) as captured:
        assert api.get(ME).status_code == 200

    assert any("knox_authtoken" in q["sql"] for q in captured.captured_queries)
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get(ME).status_code == 401


# --- Revocation, at once, of a token the cache knows --------------------------------------------


@pytest.mark.django_db
def test_logout_revokes_a_cached_token_at_once(token):
    api = used(token)
    used(token)

    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get(ME).status_code == 401


@pytest.mark.django_db
def test_logout_everywhere_revokes_every_cached_token(clinician):
    first, second = (login(clinician.username).json()["token"] for _ in range(2))
    used(first)
    used(second)

    assert with_token(first).post("/api/v1/auth/logout-all/").status_code == 204

    assert with_token(first).get(ME).status_code == 401
    assert with_token(second).get(ME).status_code == 401


@pytest.mark.django_db
def test_deactivation_revokes_a_cached_token_at_once(clinician, practice_admin, token):
    api = used(token)

    services.user_deactivate(user=clinician, by=practice_admin)

    assert api.get(ME).status_code == 401


@pytest.mark.django_db
def test_deactivation_by_bulk_update_refuses_a_cached_token(clinician, token):
    api = used(token)

    User.objects.filter(pk=clinician.pk).update(is_active=False)

    assert api.get(ME).status_code == 401


@pytest.mark.django_db
def test_a_bulk_delete_of_tokens_reaches_the_cache(clinician, token):
    api = used(token)
    row = row_of(clinician)

    # Not a "fast delete", which would send no signal: each token is forgotten.
    get_token_model().objects.filter(user=clinician).delete()

    assert token_cache().get(key_of(row)) == REVOKED
    assert api.get(ME).status_code == 401


@pytest.mark.django_db
def test_a_request_that_read_the_token_just_before_its_revocation_does_not_cache_it(
    monkeypatch, clinician, token
):
    read = TokenAuthentication._stored_token

    def read_then_revoke(self, token_key, digest):
        auth_token = read(self, token_key, digest)
        get_token_model().objects.filter(digest=auth_token.digest).delete()  # a logout elsewhere
        return auth_token

    monkeypatch.setattr(TokenAuthentication, "_stored_token", read_then_revoke)
    assert with_token(token).get(ME).status_code == 200  # it had read the row in time
    monkeypatch.undo()

    assert with_token(token).get(ME).status_code == 401


@pytest.mark.django_db
def test_a_token_revoked_while_its_renewal_is_written_is_refused(clinician, token):
    api = used(token)
    row = row_of(clinician)
    age(row, expiry=timezone.now() + dt.timedelta(minutes=5))
    # Gone between this request's cache read and its write: no signal has told the cache.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM knox_authtoken WHERE digest = %s", [row.digest])

    assert api.get(ME).status_code == 401
    assert token_cache().get(key_of(row)) == REVOKED


# --- Knox's expiry rules, with the cache ---------------------------------------------------------


@pytest.mark.django_db
def test_a_cached_token_idle_for_30_minutes_is_refused_and_deleted(clinician, token):
    api = used(token)
    row = row_of(clinician)

    age(row, expiry=timezone.now() - dt.timedelta(seconds=1))

    assert api.get(ME).status_code == 401
    assert not get_token_model().objects.filter(user=clinician).exists()


@pytest.mark.django_db
def test_a_cached_token_is_renewed_in_the_database_at_most_once_a_minute(clinician, token):
    api = used(token)
    row = row_of(clinician)

    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert api.get(ME).status_code == 200
    assert token_writes(captured) == []

    # Five idle minutes later.
    age(row, expiry=timezone.now() + dt.timedelta(minutes=25))
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert api.get(ME).status_code == 200

    assert len(token_writes(captured)) == 1
    renewed = row_of(clinician).expiry
    assert dt.timedelta(minutes=29) < renewed - timezone.now() <= dt.timedelta(minutes=30)
    assert token_cache().get(key_of(row))["expiry"] == renewed


@pytest.mark.django_db
def test_renewal_of_a_cached_token_stops_12_hours_after_login(clinician, token):
    api = used(token)
    row = row_of(clinician)
    created = timezone.now() - dt.timedelta(hours=11, minutes=50)

    age(row, created=created, expiry=timezone.now() + dt.timedelta(minutes=1))

    assert api.get(ME).status_code == 200
    assert row_of(clinician).expiry == created + dt.timedelta(hours=12)
    assert token_cache().get(key_of(row))["expiry"] == created + dt.timedelta(hours=12)


# --- Expired tokens of nobody's request: the hourly task -----------------------------------------


@pytest.mark.django_db
def test_a_request_leaves_the_users_other_expired_tokens_to_the_hourly_task(clinician, token):
    stale, _ = get_token_model().objects.create(user=clinician)
    get_token_model().objects.filter(pk=stale.pk).update(
        expiry=timezone.now() - dt.timedelta(minutes=1)
    )

    with CaptureQueriesContext(connection) as captured:
        assert with_token(token).get(ME).status_code == 200

    assert not [q for q in captured.captured_queries if q["sql"].startswith("DELETE")]
    assert expire_tokens() == 1
    assert list(get_token_model().objects.values_list("user", flat=True)) == [clinician.pk]
    assert expire_tokens() == 0


@pytest.mark.django_db
def test_the_token_expiry_task_runs_every_hour():
    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}

    assert periodic["expire-tokens"].task is expire_tokens
    assert periodic["expire-tokens"].cron == EXPIRE_TOKENS_CRON


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_deletes_the_expired_tokens():
    tokens = get_token_model().objects
    expired, _ = tokens.create(user=UserFactory())
    live, _ = tokens.create(user=UserFactory())
    tokens.filter(pk=expired.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))

    expire_tokens.defer()
    run_worker_once()

    assert list(tokens.values_list("pk", flat=True)) == [live.pk]


def test_tokens_expire_answers_how_many_it_deleted(db, clinician):
    tokens = get_token_model().objects
    for _ in range(2):
        tokens.create(user=clinician, expiry=dt.timedelta(seconds=-1))

    assert authentication.tokens_expire() == 2


@pytest.mark.django_db
def test_a_revoked_membership_refuses_a_cached_token_at_once(clinician, client, token):
    """The roles come with the user's row, read afresh on every request: a bulk update that
    revokes the membership (no signal, no cache write) takes effect on the next request."""
    api = used(token)
    assert api.get(f"/api/v1/clients/{client.pk}/").status_code == 200

    clinician.memberships.update(is_active=False)

    assert api.get(f"/api/v1/clients/{client.pk}/").status_code == 403
