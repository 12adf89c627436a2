"""Token authentication for a browser frontend (django-rest-knox) and the lockout answer.

Knox stores only a SHA-512 digest of each token, expires a token after 30 idle minutes and
12 hours in all (settings ``REST_KNOX``), and refuses the tokens of deactivated users.

A token found in the database is then kept in the cache (settings ``AUTH_TOKEN_CACHE``), so
that a request reads only its user's row, with their memberships in the same statement. The
entry is keyed by the token's key and digest and holds the user's id, the token's creation
and idle expiry, and the digest again: nothing that signs anyone in. Revocation still takes
effect at once:

- every deletion of a token row (logout, logout everywhere, deactivation, expiry, a cascade)
  puts a tombstone in the entry's place, at once and again when the deletion commits
  (``forget_token``, from ``api.receivers``). A request that read the row just before it went
  only ever *adds* its entry, which the tombstone refuses, and adds nothing once it has taken
  longer than a tombstone lasts;
- renewing the idle expiry writes the entry first and the row second; a row found gone then
  puts the tombstone back;
- the user's row is read on every request, so a deactivated account is refused at once, even
  one switched off by a bulk update, which deletes no token.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from hmac import compare_digest
from typing import Any, Protocol, TypedDict, cast

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import router, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from api import errors
from cases.models import User
from cases.selectors import active_memberships, user_with_memberships

TOKEN_SHAPE = re.compile(rb"[0-9a-fA-F]{8,256}")
REFUSAL = "Invalid token."  # knox's message
REVOKED = "revoked"
# A tombstone outlives any request that read the row before it was deleted: such a request
# adds its entry within WRITE_WINDOW of reading the row, or not at all.
TOMBSTONE_SECONDS = 300
WRITE_WINDOW = 60.0


class KnoxToken(Protocol):
    """What Mend reads and writes of knox's ``AuthToken`` (knox ships no types)."""

    token_key: str
    digest: str
    user_id: int
    user: User
    created: dt.datetime
    expiry: dt.datetime | None


class CachedToken(TypedDict):
    """A token's cache entry: nothing in it signs anyone in."""

    user: int
    digest: str
    created: dt.datetime
    expiry: dt.datetime | None


def token_cache() -> BaseCache | None:
    alias = settings.AUTH_TOKEN_CACHE
    return caches[alias] if alias else None


def token_cache_key(token_key: str, digest: str) -> str:
    return f"auth-token:{token_key}:{digest}"


def forget_token(auth_token: KnoxToken, using: str | None = None) -> None:
    """Refuse the cached entry of a deleted token: now, and again once the deletion commits,
    in case a request that read the row before then has added its entry since."""
    cache = token_cache()
    if cache is None:
        return
    key = token_cache_key(auth_token.token_key, auth_token.digest)
    cache.set(key, REVOKED, TOMBSTONE_SECONDS)
    transaction.on_commit(lambda: cache.set(key, REVOKED, TOMBSTONE_SECONDS), using=using)


def tokens_expire(*, now: dt.datetime | None = None) -> int:
    """Deletes the tokens whose idle or absolute expiry has passed; returns how many. Each
    deletion sends ``post_delete``, so the cache forgets them too."""
    model = get_token_model()
    deleted: dict[str, int]
    _, deleted = model.objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted.get(model._meta.label, 0)


def _entry(auth_token: KnoxToken) -> CachedToken:
    return {
        "user": auth_token.user_id,
        "digest": auth_token.digest,
        "created": auth_token.created,
        "expiry": auth_token.expiry,
    }


def _lifetime(expiry: dt.datetime | None) -> int | None:
    """Seconds until ``expiry``: the entry goes from the cache when the token dies."""
    if expiry is None:
        return None
    return max(1, math.ceil((expiry - timezone.now()).total_seconds()))


def _live(entry: object, digest: str) -> bool:
    return (
        isinstance(entry, dict)
        and compare_digest(entry["digest"], digest)
        and (entry["expiry"] is None or entry["expiry"] > timezone.now())
    )


def _renewed_expiry(auth_token: KnoxToken) -> dt.datetime | None:
    """The idle expiry this use moves the token to, or None while the stored one is less than
    ``MIN_REFRESH_INTERVAL`` behind (knox's rule: at most one write a minute)."""
    if not knox_settings.AUTO_REFRESH or auth_token.expiry is None:
        return None
    renewed: dt.datetime = timezone.now() + knox_settings.TOKEN_TTL
    if knox_settings.AUTO_REFRESH_MAX_TTL is not None:
        renewed = min(renewed, auth_token.created + knox_settings.AUTO_REFRESH_MAX_TTL)
    if (renewed - auth_token.expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
        return renewed
    return None


def _store_expiry(auth_token: KnoxToken, expiry: dt.datetime) -> bool:
    """Writes the renewed expiry; False when the row is gone (revoked meanwhile)."""
    return bool(get_token_model().objects.filter(digest=auth_token.digest).update(expiry=expiry))


# knox ships no types: its class is Any to the checker.
class TokenAuthentication(KnoxTokenAuthentication):  # type: ignore[misc]
    def authenticate(self, request: Request) -> tuple[User, KnoxToken] | None:
        # Knox passes over a header of another scheme, and the caller hears only that no
        # credentials came. Mend has one scheme: say which (a frontend sending the usual
        # "Bearer" is the common mistake).
        header = get_authorization_header(request).split()
        if header and header[0].lower() != self.authenticate_header(request).encode().lower():
            raise exceptions.AuthenticationFailed(errors.WRONG_AUTHORIZATION_SCHEME)
        authenticated: tuple[User, KnoxToken] | None = super().authenticate(request)
        return authenticated

    def authenticate_credentials(self, token: bytes) -> tuple[User, KnoxToken]:
        # Knox tokens are hex. Anything else (bytes that are not UTF-8, a NUL the database
        # would refuse) is a bad token, answered 401 before any lookup.
        if not TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed(REFUSAL)
        text = token.decode()
        token_key = text[: CONSTANTS.TOKEN_KEY_LENGTH]
        digest = hash_token(text)
        cache = token_cache()
        key = token_cache_key(token_key, digest)
        if cache is not None:
            entry = cache.get(key)
            if _live(entry, digest):
                auth_token = self._cached_token(token_key, entry)
                self.validate_user(auth_token)
                self._renew_cached(auth_token, cache, key)
                return auth_token.user, auth_token
            if entry is not None and entry != REVOKED:
                cache.delete(key)  # past its expiry here: the row decides
        read_at = time.monotonic()
        auth_token = self._stored_token(token_key, digest)
        self.validate_user(auth_token)
        self._renew_stored(auth_token)
        if cache is not None and time.monotonic() - read_at < WRITE_WINDOW:
            # Only ever added: a tombstone left by a revocation since the read refuses it.
            cache.add(key, _entry(auth_token), _lifetime(auth_token.expiry))
        return auth_token.user, auth_token

    def _stored_token(self, token_key: str, digest: str) -> KnoxToken:
        """The token's row with its user and their memberships (one query); an expired one
        is deleted and refused. The user's other expired tokens are left to the hourly
        ``api.expire_tokens``."""
        candidates = (
            get_token_model()
            .objects.filter(token_key=token_key)
            .select_related("user")
            .annotate(held_memberships=active_memberships("user_id"))
        )
        for auth_token in candidates:
            if not compare_digest(auth_token.digest, digest):
                continue
            auth_token.user.held_memberships = auth_token.held_memberships
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=type(self), username=username, source="auth_token")
                break
            return cast(KnoxToken, auth_token)
        raise exceptions.AuthenticationFailed(REFUSAL)

    def _cached_token(self, token_key: str, entry: CachedToken) -> KnoxToken:
        """The token as the cache knows it, with its user and their memberships read afresh
        (one query)."""
        user = user_with_memberships(user_id=entry["user"])
        if user is None:
            raise exceptions.AuthenticationFailed(REFUSAL)
        auth_token = get_token_model()(
            digest=entry["digest"],
            token_key=token_key,
            user=user,
            created=entry["created"],
            expiry=entry["expiry"],
        )
        # A row as read from the database: ``request.auth.delete()`` (logout) deletes it.
        auth_token._state.adding = False
        auth_token._state.db = router.db_for_write(type(auth_token))
        return cast(KnoxToken, auth_token)

    def _renew_stored(self, auth_token: KnoxToken) -> None:
        renewed = _renewed_expiry(auth_token)
        if renewed is None:
            return
        if not _store_expiry(auth_token, renewed):
            raise exceptions.AuthenticationFailed(REFUSAL)
        auth_token.expiry = renewed

    def _renew_cached(self, auth_token: KnoxToken, cache: BaseCache, key: str) -> None:
        renewed = _renewed_expiry(auth_token)
        if renewed is None:
            return
        auth_token.expiry = renewed
        # The entry first, the row second: a revocation in between leaves no row to renew,
        # and the entry is refused again.
        cache.set(key, _entry(auth_token), _lifetime(renewed))
        try:
            kept = _store_expiry(auth_token, renewed)
        except BaseException:
            cache.delete(key)
            raise
        if not kept:
            cache.set(key, REVOKED, TOMBSTONE_SECONDS)
            raise exceptions.AuthenticationFailed(REFUSAL)


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = JsonResponse(
        errors.error_body(
            status=429, code="locked_out", detail=errors.LOCKED_OUT.format(minutes=minutes)
        ),
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
