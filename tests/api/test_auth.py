"""Token lifecycle: login, hashed storage, logout, deactivation, idle and absolute expiry,
lockout with its cool-off, throttling."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db.models import F
from django.utils import timezone
from knox.models import get_token_model
from rest_framework.test import APIClient

from api import errors
from tests.factories import PASSWORD

LOGIN = "/api/v1/auth/login/"


def login(username: str, password: str = PASSWORD, address: str = "10.1.2.3"):
    return APIClient(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password}, format="json"
    )


def with_token(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.fixture
def token(clinician) -> str:
    response = login(clinician.username)
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.mark.django_db
def test_login_issues_a_token_that_works(clinician, token):
    response = with_token(token).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["username"] == clinician.username
    assert response.json()["memberships"][0]["role"] == "clinician"


@pytest.mark.django_db
def test_login_answers_with_the_user_and_expiry(clinician):
    body = login(clinician.username).json()

    assert body["user"]["username"] == clinician.username
    expiry = dt.datetime.fromisoformat(body["expiry"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=29) < expiry - timezone.now() <= dt.timedelta(minutes=30)


@pytest.mark.django_db
def test_tokens_are_stored_hashed(clinician, token):
    stored = get_token_model().objects.get(user=clinician)

    assert token not in {stored.digest, stored.token_key}
    assert len(stored.digest) == 128  # SHA-512 hex


@pytest.mark.django_db
def test_logout_revokes_the_token_at_once(token):
    api = with_token(token)

    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_logout_all_revokes_every_token(clinician):
    first, second = (login(clinician.username).json()["token"] for _ in range(2))

    assert with_token(first).post("/api/v1/auth/logout-all/").status_code == 204
    assert with_token(second).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_deactivating_the_account_revokes_its_tokens(clinician, token):
    clinician.is_active = False
    clinician.save()

    response = with_token(token).get("/api/v1/me/")

    assert response.status_code == 401
    assert not get_token_model().objects.filter(user=clinician).exists()


@pytest.mark.django_db
def test_deactivation_by_bulk_update_is_refused_too(clinician, token):
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)

    assert with_token(token).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_a_token_idle_for_30_minutes_expires(clinician, token):
    get_token_model().objects.filter(user=clinician).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )

    assert with_token(token).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_use_renews_the_idle_expiry(clinician, token):
    tokens = get_token_model().objects.filter(user=clinician)
    tokens.update(expiry=timezone.now() + dt.timedelta(minutes=5))

    assert with_token(token).get("/api/v1/me/").status_code == 200

    renewed = tokens.get().expiry - timezone.now()
    assert dt.timedelta(minutes=29) < renewed <= dt.timedelta(minutes=30)


@pytest.mark.django_db
def test_renewal_never_passes_12_hours_after_login(clinician, token):
    tokens = get_token_model().objects.filter(user=clinician)
    created = timezone.now() - dt.timedelta(hours=11, minutes=50)
    tokens.update(created=created, expiry=timezone.now() + dt.timedelta(minutes=1))

    assert with_token(token).get("/api/v1/me/").status_code == 200
    assert tokens.get().expiry == created + dt.timedelta(hours=12)


@pytest.mark.django_db
def test_a_token_older_than_12_hours_is_refused_however_used(clinician, token):
    tokens = get_token_model().objects.filter(user=clinician)
    tokens.update(
        created=timezone.now() - dt.timedelta(hours=12, seconds=1),
        expiry=timezone.now() - dt.timedelta(seconds=1),
    )

    assert with_token(token).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_unknown_user_and_wrong_password_get_the_same_answer(clinician):
    wrong_password = login(clinician.username, "not the password")
    unknown_user = login("nobody-by-this-name", "not the password")

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.json()["detail"] == errors.INVALID_CREDENTIALS


@pytest.mark.django_db
def test_five_failures_lock_the_username_at_that_address_with_429(clinician):
    for _ in range(5):
        login(clinician.username, "guess", address="10.0.0.1")

    # Even the right password is refused from that address while locked.
    response = login(clinician.username, address="10.0.0.1")

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == 15 * 60


@pytest.mark.django_db
def test_five_failures_from_a_stranger_do_not_lock_the_clinician_out_elsewhere(clinician):
    for _ in range(5):
        login(clinician.username, "guess", address="203.0.113.7")

    assert login(clinician.username, address="10.9.9.9").status_code == 200


@pytest.mark.django_db
def test_fifty_failures_in_an_hour_from_many_addresses_lock_the_username(clinician):
    for n in range(50):
        # One or two failures an address: under both per-address limits.
        login(clinician.username, "guess", address=f"198.51.100.{n % 25}")

    locked = login(clinician.username, address="10.9.9.10")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    # An unknown username is locked alike: the answer tells nothing of which exist.
    for n in range(50):
        login("nobody-by-this-name", "guess", address=f"192.0.2.{n % 25}")
    assert login("nobody-by-this-name", "guess", address="10.9.9.11").json() == locked.json()

    # The limit counts the last hour: older failures fall out of it.
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=61))
    assert login(clinician.username, address="10.9.9.10").status_code == 200


@pytest.mark.django_db
def test_forty_nine_failures_spread_out_do_not_lock_the_username(clinician):
    for n in range(49):
        login(clinician.username, "guess", address=f"198.51.100.{n % 25}")

    assert login(clinician.username, address="10.9.9.12").status_code == 200


@pytest.mark.django_db
def test_repeated_failures_lock_the_address(clinician):
    for n in range(5):
        login(f"someone-{n}", "guess", address="10.0.0.2")

    assert login(clinician.username, address="10.0.0.2").status_code == 429
    assert login(clinician.username, address="10.0.0.3").status_code == 200


@pytest.mark.django_db
def test_lockout_lifts_after_the_cool_off(clinician):
    for _ in range(5):
        login(clinician.username, "guess", address="10.0.0.4")
    assert login(clinician.username, address="10.0.0.4").status_code == 429

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=16))

    assert login(clinician.username, address="10.0.0.4").status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_dodge_the_address_lockout(clinician):
    for n in range(5):
        APIClient(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            LOGIN, {"username": f"someone-{n}", "password": "guess"}, format="json"
        )

    response = APIClient(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.99").post(
        LOGIN, {"username": clinician.username, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429


@pytest.mark.django_db
def test_login_is_throttled_per_address(clinician):
    statuses = [login(clinician.username, address="10.0.0.6").status_code for _ in range(11)]

    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


@pytest.mark.django_db
def test_missing_and_malformed_tokens_answer_401(clinician):
    for header in ("", "Token", "Token abc def", "Token " + "0" * 64, "Bearer abc"):
        api = APIClient()
        if header:
            api.credentials(HTTP_AUTHORIZATION=header)
        response = api.get("/api/v1/me/")
        assert response.status_code == 401, header
        assert response.json()["status"] == 401
