"""Onboarding within the practice: a practice admin creates a person, who chooses a password
with a one-time token; the admin deactivates and reactivates them. Admins never see or attach
people of another practice, and never grant themselves a clinical role."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from cases import errors, services
from cases.audit import AccessEvent
from cases.choices import Role
from cases.models import Membership, Practice, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
SET_PASSWORD = "/api/v1/auth/set-password/"
LOGIN = "/api/v1/auth/login/"
NEW_PASSWORD = "a quiet harbour at dusk 42"


def new_person(practice: Practice, username: str = "nia", roles: Any = ("clinician",)) -> dict:
    return {
        "username": username,
        "first_name": "Nia",
        "last_name": "Okafor",
        "email": f"{username}@example.org",
        "practice": practice.pk,
        "roles": list(roles),
    }


def login(username: str, password: str) -> Any:
    return APIClient().post(LOGIN, {"username": username, "password": password}, format="json")


def set_password(uid: str, token: str, password: str = NEW_PASSWORD) -> Any:
    body = {"uid": uid, "token": token, "password": password}
    return APIClient().post(SET_PASSWORD, body, format="json")


def uid_of(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def token_made_hours_ago(user: User, hours: float) -> str:
    """A token as ``default_token_generator`` would have made it ``hours`` ago (Django's own
    tests build old tokens with the generator's timestamped maker)."""
    generator = default_token_generator
    now = generator._num_seconds(generator._now())
    return generator._make_token_with_timestamp(user, now - int(hours * 3600), generator.secret)


@pytest.fixture
def admin_api(api_as, practice_admin) -> APIClient:
    return api_as(practice_admin)


@pytest.fixture
def newcomer(practice, practice_admin) -> User:
    """Created through the service, as ``POST /users/`` does; no password yet."""
    return services.user_create(
        practice=practice,
        username="nia",
        first_name="Nia",
        last_name="Okafor",
        email="nia@example.org",
        roles=[Role.CLINICIAN],
        created_by=practice_admin,
    )


@pytest.fixture
def southside_admin(other_practice, foreign_clinician) -> User:
    services.membership_grant(
        practice=other_practice, user=foreign_clinician, role=Role.PRACTICE_ADMIN
    )
    return foreign_clinician


def test_set_password_tokens_last_72_hours():
    assert settings.PASSWORD_RESET_TIMEOUT == 72 * 60 * 60 == 259200


# --- create, set the password, log in -----------------------------------------------------------


def test_admin_creates_a_person_who_sets_a_password_and_logs_in(admin_api, practice):
    response = admin_api.post(USERS, new_person(practice), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["username"], body["email"], body["is_active"]) == ("nia", "nia@example.org", True)
    assert body["has_password"] is False
    assert [(m["practice"], m["role"], m["is_active"]) for m in body["memberships"]] == [
        (practice.pk, "clinician", True)
    ]
    user = User.objects.get(pk=body["id"])
    assert not user.has_usable_password()
    assert login("nia", NEW_PASSWORD).status_code == 401
    link = body["set_password"]
    assert link["uid"] == uid_of(user)
    expires = dt.datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (timezone.now() + dt.timedelta(hours=72))) < dt.timedelta(minutes=1)

    assert set_password(link["uid"], link["token"]).status_code == 204

    logged_in = login("nia", NEW_PASSWORD)
    assert logged_in.status_code == 200, logged_in.content
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {logged_in.json()['token']}")
    assert me.get("/api/v1/me/").json()["memberships"][0]["role"] == "clinician"
    assert admin_api.get(f"{USERS}{user.pk}/").json()["has_password"] is True


def test_the_token_works_once(newcomer):
    link = services.password_set_token(user=newcomer)
    assert link is not None

    first = set_password(link.uid, link.token)
    again = set_password(link.uid, link.token, password="another long passphrase 7")

    assert first.status_code == 204
    assert again.status_code == 400
    assert again.json()["errors"] == [
        {"field": "token", "code": "invalid", "message": errors.ONBOARDING_LINK_INVALID}
    ]
    assert login("nia", NEW_PASSWORD).status_code == 200
    assert login("nia", "another long passphrase 7").status_code == 401


def test_a_token_within_72_hours_still_works(newcomer):
    response = set_password(uid_of(newcomer), token_made_hours_ago(newcomer, 71))

    assert response.status_code == 204, response.content


def test_used_expired_forged_and_mismatched_tokens_get_one_answer(
    newcomer, practice, practice_admin
):
    other = services.user_create(
        practice=practice,
        username="omar",
        first_name="Omar",
        last_name="Haddad",
        email="omar@example.org",
        roles=[Role.SUPERVISOR],
        created_by=practice_admin,
    )
    used = services.password_set_token(user=other)
    assert used is not None
    assert set_password(used.uid, used.token).status_code == 204
    link = services.password_set_token(user=newcomer)
    assert link is not None

    answers = {
        "used": set_password(used.uid, used.token),
        "expired": set_password(link.uid, token_made_hours_ago(newcomer, 73)),
        "forged": set_password(link.uid, link.token[:-4] + "abcd"),
        "mismatched": set_password(uid_of(other), link.token),
        "no such user": set_password(urlsafe_base64_encode(b"999999999"), link.token),
        "not a uid": set_password("@@@", link.token),
        "blank": set_password("", ""),
    }

    bodies = {name: (r.status_code, r.json()) for name, r in answers.items()}
    assert bodies["used"][0] == 400
    assert all(body == bodies["used"] for body in bodies.values()), bodies
    assert bodies["used"][1]["errors"][0]["field"] == "token"
    # None of them spent the newcomer's good token.
    assert set_password(link.uid, link.token).status_code == 204


@pytest.mark.parametrize("weak", ["short1", "12345678901234", "password1234"])
def test_a_weak_password_is_refused_with_the_validators_message(newcomer, weak):
    link = services.password_set_token(user=newcomer)
    assert link is not None
    with pytest.raises(DjangoValidationError) as caught:
        validate_password(weak, user=newcomer)

    response = set_password(link.uid, link.token, password=weak)

    assert response.status_code == 400
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("password", message) for message in caught.value.messages
    ]
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()
    # The token was not spent on the refused password.
    assert set_password(link.uid, link.token).status_code == 204


def test_a_deactivated_account_cannot_set_its_password(newcomer, practice_admin):
    link = services.password_set_token(user=newcomer)
    assert link is not None
    services.user_deactivate(user=newcomer, by=practice_admin)

    response = set_password(link.uid, link.token)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == errors.ONBOARDING_LINK_INVALID
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_a_retried_create_hands_out_a_token_only_until_the_password_is_set(admin_api, practice):
    body = new_person(practice)

    first = admin_api.post(USERS, body, format="json", HTTP_IDEMPOTENCY_KEY="new-nia")
    replay = admin_api.post(USERS, body, format="json", HTTP_IDEMPOTENCY_KEY="new-nia")

    assert (first.status_code, replay.status_code) == (201, 201), replay.content
    assert replay["Idempotent-Replayed"] == "true"
    assert User.objects.filter(username="nia").count() == 1
    # A lost answer can be fetched again, with a token that works.
    link = replay.json()["set_password"]
    assert set_password(link["uid"], link["token"]).status_code == 204
    # Once the person has a password, no one else is ever handed a token for the account.
    after = admin_api.post(USERS, body, format="json", HTTP_IDEMPOTENCY_KEY="new-nia")
    assert after.status_code == 201
    assert after.json()["set_password"] is None
    assert after.json()["has_password"] is True


# --- what an admin may create -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": []}, "roles"),
        ({"roles": ["clinician", "clinician"]}, "roles"),
        ({"roles": ["therapist"]}, "roles.0"),
        ({"username": "alice"}, "username"),  # taken
        ({"username": "nia okafor"}, "username"),
        ({"email": ""}, "email"),
        ({"email": "nia-at-example"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"password": NEW_PASSWORD}, "password"),  # the person chooses it, nobody else
        ({"is_active": False}, "is_active"),
    ],
)
def test_a_bad_create_is_refused_and_creates_nothing(
    admin_api, practice, clinician, changes, field
):
    before = (User.objects.count(), Membership.objects.count())

    response = admin_api.post(USERS, {**new_person(practice), **changes}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field
    assert (User.objects.count(), Membership.objects.count()) == before


def test_a_practice_the_caller_does_not_administer_reads_as_missing(
    admin_api, practice, other_practice
):
    missing = Practice.objects.latest("pk").pk + 1000

    foreign = admin_api.post(USERS, new_person(other_practice), format="json")
    absent = admin_api.post(USERS, {**new_person(practice), "practice": missing}, format="json")

    assert foreign.status_code == absent.status_code == 400
    assert _without(foreign.json(), other_practice.pk) == _without(absent.json(), missing)
    assert foreign.json()["errors"][0]["field"] == "practice"
    assert not User.objects.filter(username="nia").exists()


def test_several_roles_at_once(admin_api, practice):
    response = admin_api.post(
        USERS, new_person(practice, roles=["supervisor", "clinician"]), format="json"
    )

    assert response.status_code == 201
    assert sorted(m["role"] for m in response.json()["memberships"]) == ["clinician", "supervisor"]


# --- who sees whom ------------------------------------------------------------------------------


def _without(body: dict, pk: int) -> dict:
    """An error body with the id it echoes (DRF's 'Invalid pk "7"') blanked out."""
    return json.loads(json.dumps(body).replace(f'\\"{pk}\\"', '\\"<id>\\"'))


def test_the_list_holds_the_people_of_the_admins_practices_only(
    admin_api,
    practice,
    other_practice,
    clinician,
    other_clinician,
    supervisor,
    practice_admin,
    foreign_clinician,
    newcomer,
):
    response = admin_api.get(USERS)

    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {
        clinician.pk,
        other_clinician.pk,
        supervisor.pk,
        practice_admin.pk,
        newcomer.pk,
    }
    assert foreign_clinician.pk not in listed


def test_a_person_of_both_practices_shows_only_this_practices_roles(
    admin_api, practice, other_practice, foreign_clinician
):
    here = services.membership_grant(
        practice=practice, user=foreign_clinician, role=Role.SUPERVISOR
    )

    row = admin_api.get(f"{USERS}{foreign_clinician.pk}/").json()

    assert row["memberships"] == [
        {"id": here.pk, "practice": practice.pk, "role": "supervisor", "is_active": True}
    ]


def test_a_person_of_another_practice_answers_like_a_missing_one(admin_api, foreign_clinician):
    missing = User.objects.latest("pk").pk + 1000

    for suffix, method in [("", "get"), ("deactivate/", "post"), ("reactivate/", "post")]:
        foreign = getattr(admin_api, method)(f"{USERS}{foreign_clinician.pk}/{suffix}")
        absent = getattr(admin_api, method)(f"{USERS}{missing}/{suffix}")
        assert foreign.status_code == absent.status_code == 404, suffix
        assert foreign.json() == absent.json()
    foreign_clinician.refresh_from_db()
    assert foreign_clinician.is_active


def test_an_admin_of_another_practice_never_sees_this_practices_people(
    api_as, southside_admin, clinician, newcomer
):
    api = api_as(southside_admin)

    listed = {row["id"] for row in api.get(USERS).json()["results"]}
    assert listed == {southside_admin.pk}
    assert api.get(f"{USERS}{newcomer.pk}/").status_code == 404
    assert api.post(f"{USERS}{clinician.pk}/deactivate/").status_code == 404


def test_the_list_filters_deactivated_accounts(admin_api, practice_admin, newcomer, clinician):
    services.user_deactivate(user=newcomer, by=practice_admin)

    inactive = admin_api.get(USERS, {"is_active": "false"}).json()["results"]

    assert [row["id"] for row in inactive] == [newcomer.pk]


def test_the_list_runs_the_same_queries_for_one_person_and_many(
    admin_api, practice, practice_admin, django_assert_num_queries
):
    def listed() -> int:
        # Token with user and the caller's roles; the page of people; their memberships in
        # the caller's practices; the access event.
        with django_assert_num_queries(4):
            response = admin_api.get(USERS, {"page_size": 50})
        assert response.status_code == 200
        return len(response.json()["results"])

    assert listed() == 1
    for n in range(12):
        services.user_create(
            practice=practice,
            username=f"person{n}",
            first_name="P",
            last_name=str(n),
            email=f"p{n}@example.org",
            roles=[Role.CLINICIAN, Role.SUPERVISOR],
            created_by=practice_admin,
        )
    assert listed() == 13


# --- memberships: only people of the practice, and never a clinical role for oneself ----------


def test_a_membership_for_a_person_of_another_practice_answers_like_a_missing_id(
    admin_api, practice, foreign_clinician
):
    missing = User.objects.latest("pk").pk + 1000
    before = Membership.objects.count()

    def attach(user_id: int) -> Any:
        body = {"practice": practice.pk, "user": user_id, "role": "clinician"}
        return admin_api.post("/api/v1/memberships/", body, format="json")

    foreign, absent = attach(foreign_clinician.pk), attach(missing)

    assert foreign.status_code == absent.status_code == 400
    assert _without(foreign.json(), foreign_clinician.pk) == _without(absent.json(), missing)
    assert foreign.json()["errors"][0]["field"] == "user"
    assert Membership.objects.count() == before
    assert not Membership.objects.filter(user=foreign_clinician, practice=practice).exists()


def test_a_membership_for_a_person_just_created_is_accepted(admin_api, practice):
    created = admin_api.post(USERS, new_person(practice), format="json").json()

    response = admin_api.post(
        "/api/v1/memberships/",
        {"practice": practice.pk, "user": created["id"], "role": "supervisor"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Membership.objects.filter(user_id=created["id"], role="supervisor").exists()


@pytest.mark.parametrize("role", ["clinician", "supervisor"])
def test_an_admin_cannot_grant_themselves_a_clinical_role(
    admin_api, practice, practice_admin, role
):
    response = admin_api.post(
        "/api/v1/memberships/",
        {"practice": practice.pk, "user": practice_admin.pk, "role": role},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["detail"] == errors.GRANT_SELF_CLINICAL
    assert not Membership.objects.filter(user=practice_admin, role=role).exists()


def test_an_admin_cannot_reactivate_their_own_revoked_clinical_role(
    admin_api, practice, practice_admin
):
    # Granted by another admin once, revoked since.
    held = services.membership_grant(practice=practice, user=practice_admin, role=Role.CLINICIAN)
    services.membership_revoke(membership=held)
    url = f"/api/v1/memberships/{held.pk}/"

    response = admin_api.patch(
        url, {"is_active": True}, format="json", HTTP_IF_MATCH=admin_api.get(url)["ETag"]
    )

    assert response.status_code == 403
    assert response.json()["detail"] == errors.GRANT_SELF_CLINICAL
    held.refresh_from_db()
    assert not held.is_active


def test_another_admin_may_grant_an_admin_a_clinical_role(api_as, practice, practice_admin):
    second_admin = services.user_create(
        practice=practice,
        username="quinn",
        first_name="Quinn",
        last_name="Lee",
        email="quinn@example.org",
        roles=[Role.PRACTICE_ADMIN],
        created_by=practice_admin,
    )

    response = api_as(second_admin).post(
        "/api/v1/memberships/",
        {"practice": practice.pk, "user": practice_admin.pk, "role": "clinician"},
        format="json",
    )

    assert response.status_code == 201, response.content


# --- deactivate and reactivate ------------------------------------------------------------------


def test_deactivation_revokes_tokens_and_reactivation_lets_them_log_in_again(admin_api, clinician):
    token = login(clinician.username, PASSWORD).json()["token"]
    alice = APIClient()
    alice.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert alice.get("/api/v1/me/").status_code == 200

    off = admin_api.post(f"{USERS}{clinician.pk}/deactivate/")

    assert off.status_code == 200
    assert off.json()["is_active"] is False
    assert alice.get("/api/v1/me/").status_code == 401
    assert login(clinician.username, PASSWORD).status_code == 401
    again = admin_api.post(f"{USERS}{clinician.pk}/deactivate/")
    assert again.status_code == 400
    assert again.json()["errors"][0]["message"] == errors.USER_ALREADY_INACTIVE

    on = admin_api.post(f"{USERS}{clinician.pk}/reactivate/")

    assert on.status_code == 200
    assert on.json()["is_active"] is True
    assert alice.get("/api/v1/me/").status_code == 401  # revoked tokens stay revoked
    assert login(clinician.username, PASSWORD).status_code == 200
    assert admin_api.post(f"{USERS}{clinician.pk}/reactivate/").status_code == 400


def test_an_admin_cannot_deactivate_themselves(admin_api, practice_admin):
    response = admin_api.post(f"{USERS}{practice_admin.pk}/deactivate/")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == errors.DEACTIVATE_SELF
    practice_admin.refresh_from_db()
    assert practice_admin.is_active


def test_an_account_working_in_another_practice_is_not_switched_off_here(
    admin_api, practice, foreign_clinician
):
    services.membership_grant(practice=practice, user=foreign_clinician, role=Role.CLINICIAN)

    response = admin_api.post(f"{USERS}{foreign_clinician.pk}/deactivate/")

    assert response.status_code == 403
    assert response.json()["detail"] == errors.USER_IN_OTHER_PRACTICE
    foreign_clinician.refresh_from_db()
    assert foreign_clinician.is_active


def test_user_requests_write_access_events(admin_api, practice, practice_admin, clinician):
    created = admin_api.post(USERS, new_person(practice), format="json").json()
    admin_api.post(f"{USERS}{clinician.pk}/deactivate/")
    admin_api.get(USERS)

    events = list(
        AccessEvent.objects.filter(resource="user")
        .order_by("id")
        .values_list("user_id", "action", "record_ids", "practice_id", "outcome")
    )

    assert events[:2] == [
        (practice_admin.pk, "create", [created["id"]], practice.pk, "allowed"),
        (practice_admin.pk, "deactivate", [clinician.pk], practice.pk, "allowed"),
    ]
    assert events[2][1] == "list"
    assert created["id"] in events[2][2]


# --- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["clinician", "supervisor", None])
def test_only_practice_admins_reach_users(request, api_as, practice, clinician, persona):
    caller = request.getfixturevalue(persona) if persona else None
    api = api_as(caller)
    expected = 401 if caller is None else 403

    responses = [
        api.get(USERS),
        api.post(USERS, new_person(practice), format="json"),
        api.get(f"{USERS}{clinician.pk}/"),
        api.post(f"{USERS}{clinician.pk}/deactivate/"),
        api.post(f"{USERS}{clinician.pk}/reactivate/"),
    ]

    assert [r.status_code for r in responses] == [expected] * 5
    assert not User.objects.filter(username="nia").exists()
    clinician.refresh_from_db()
    assert clinician.is_active
