"""``Idempotency-Key`` on creates: a retry creates nothing and answers with the record the first
request created; the same key with a different request answers 422; concurrent requests with
one key create one record.

Requests with the same user and key take a PostgreSQL advisory lock for their transaction,
so the second waits for the first to commit and then finds its record. The create and its
``IdempotencyRecord`` commit together: there is no window in which one exists without the
other.

The record keeps ids, not the first answer: a replay renders the created record as it is now,
through the caller's current scope, as a retrieve would. A caller who has lost access to it
(off the care team, the client archived) gets the 404 of any record out of reach, and no
client's name or note text outlives the record in this table. Keys expire after
``LIFETIME``: they stop replaying at once, and ``records_expire`` (hourly, ``api.tasks``)
deletes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, overload

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from api.models import IdempotencyRecord
from api.permissions import caller
from cases.models import Client

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")
LIFETIME = dt.timedelta(hours=24)
KEY_REUSED = "This Idempotency-Key was used for a different request."
BAD_KEY = "Give 1 to 255 visible ASCII characters, such as a UUID."
NOT_A_CREATE = "An idempotent handler must answer with serializer.data of the record it created."

Handler = Callable[..., Response]
Selector = Callable[..., QuerySet[Any]]
# Renders the record a key created, as the caller may see it now (or raises Http404).
Render = Callable[[Any, Request, IdempotencyRecord], Any]


# What a key's record says of its request and the record it created (the rest is the key).
_RECORD_FIELDS = (
    "method",
    "path",
    "request_hash",
    "status_code",
    "object_type",
    "object_id",
    "client_id",
    "expires_at",
)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = KEY_REUSED
    default_code = "idempotency_key_reused"


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _client_id_of(instance: models.Model) -> int | None:
    """The client whose record ``instance`` belongs to: the client itself, or the one its
    ``client``, its ``session`` or its ``note`` (an addendum's) leads to."""
    if isinstance(instance, Client):
        return instance.pk
    for name in ("client", "session", "note"):
        field = next((f for f in instance._meta.concrete_fields if f.name == name), None)
        if not isinstance(field, models.ForeignKey):
            continue  # absent, or not a relation (a repair attempt's ``note`` is text)
        if field.related_model is Client:
            client_id: int | None = getattr(instance, field.attname)
            return client_id
        parent = getattr(instance, name)
        return _client_id_of(parent) if parent is not None else None
    return None


def _created(response: Response) -> models.Model:
    instance = getattr(getattr(response.data, "serializer", None), "instance", None)
    if not isinstance(instance, models.Model) or instance.pk is None:
        raise TypeError(NOT_A_CREATE)
    return instance


def records_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the records of expired keys; returns how many went. One statement."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _find(queryset: QuerySet[models.Model], record: IdempotencyRecord) -> models.Model:
    if queryset.model._meta.label != record.object_type:
        raise Http404  # made by an endpoint that has since changed what it creates
    return get_object_or_404(queryset, pk=record.object_id)


def _as_retrieved(view: Any, request: Request, record: IdempotencyRecord) -> Any:
    """The created record as the view's retrieve shows it now."""
    instance = _find(view.get_queryset(), record)
    view.check_object_permissions(request, instance)
    return view.get_serializer(instance).data


def _as_selected(selector: Selector, serializer: type[BaseSerializer[Any]]) -> Render:
    def render(view: Any, request: Request, record: IdempotencyRecord) -> Any:
        instance = _find(selector(user=caller(request)), record)
        return serializer(instance, context=view.get_serializer_context()).data

    return render


@overload
def idempotent(handler: Handler) -> Handler: ...
@overload
def idempotent(
    *, selector: Selector, serializer: type[BaseSerializer[Any]]
) -> Callable[[Handler], Handler]: ...
def idempotent(
    handler: Handler | None = None,
    *,
    selector: Selector | None = None,
    serializer: type[BaseSerializer[Any]] | None = None,
) -> Handler | Callable[[Handler], Handler]:
    """Wrap a view method that creates something and answers with its ``serializer.data``.

    A replay finds the created record as the view's retrieve would (its ``get_queryset()``
    and serializer), or, for an action that creates another kind of record (a note's
    addendum), through ``selector(user=caller)`` and ``serializer``."""
    if (selector is None) != (serializer is None):
        raise TypeError("Give both the selector and the serializer of the created record.")
    render = (
        _as_retrieved
        if selector is None or serializer is None
        else _as_selected(selector, serializer)
    )
    if handler is None:
        return lambda inner: _idempotent(inner, render)
    return _idempotent(handler, render)


def _idempotent(handler: Handler, render: Render) -> Handler:
    @wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not KEY_SHAPE.fullmatch(key):
            raise exceptions.ValidationError({HEADER: [BAD_KEY]})
        user = caller(request)
        fingerprint = _fingerprint(request)
        # No savepoint: a failure here fails the whole request, whose transaction (the
        # access audit's, for a write) is rolled back.
        with transaction.atomic(savepoint=False):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{user.pk}:{key}"]
                )
            now = timezone.now()
            record = IdempotencyRecord.objects.filter(
                user=user, key=key, expires_at__gt=now
            ).first()
            if record is not None:
                if record.request_hash != fingerprint:
                    raise KeyReused()
                response = Response(render(view, request, record), status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
            response = handler(view, request, *args, **kwargs)
            if status.is_success(response.status_code):
                instance = _created(response)
                # One statement; an expired record of this key may still be there until
                # records_expire runs, and is replaced.
                IdempotencyRecord.objects.bulk_create(
                    [
                        IdempotencyRecord(
                            user=user,
                            key=key,
                            method=request.method or "",
                            path=request.path[:500],
                            request_hash=fingerprint,
                            status_code=response.status_code,
                            object_type=instance._meta.label,
                            object_id=instance.pk,
                            client_id=_client_id_of(instance),
                            expires_at=now + LIFETIME,
                        )
                    ],
                    update_conflicts=True,
                    unique_fields=["user", "key"],
                    update_fields=[*_RECORD_FIELDS, "created_at"],
                )
            return response

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read by the schema
    return wrapper
