"""``Idempotency-Key`` on creates: a replay returns the first answer and creates nothing; the
same key with a different request answers 422; concurrent requests with one key create one
record.

Requests with the same user and key take a PostgreSQL advisory lock for their transaction,
so the second waits for the first to commit and then finds its answer. The create and the
kept answer commit together: there is no window in which one exists without the other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.models import IdempotencyRecord
from api.permissions import caller

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")
LIFETIME = dt.timedelta(hours=24)
KEY_REUSED = "This Idempotency-Key was used for a different request."
BAD_KEY = "Give 1 to 255 visible ASCII characters, such as a UUID."


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = KEY_REUSED
    default_code = "idempotency_key_reused"


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a view method that creates something."""

    @wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not KEY_SHAPE.fullmatch(key):
            raise exceptions.ValidationError({HEADER: [BAD_KEY]})
        user = caller(request)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
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
                response = Response(record.response_body, status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
            response = handler(view, request, *args, **kwargs)
            if status.is_success(response.status_code):
                IdempotencyRecord.objects.filter(user=user, expires_at__lte=now).delete()
                IdempotencyRecord.objects.update_or_create(
                    user=user,
                    key=key,
                    defaults={
                        "method": request.method,
                        "path": request.path[:500],
                        "request_hash": fingerprint,
                        "status_code": response.status_code,
                        # DRF's encoder, so a replay reads exactly as the first answer did.
                        "response_body": json.loads(json.dumps(response.data, cls=JSONEncoder)),
                        "expires_at": now + LIFETIME,
                    },
                )
            return response

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read by the schema
    return wrapper
