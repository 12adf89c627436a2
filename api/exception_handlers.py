"""Maps every error the API can meet to the one error format of ``api.errors``.

Domain errors (Django's ``ValidationError``, the refusals of ``cases.policies`` and Django's
``PermissionDenied``, ``TrendsError``) are translated here and nowhere else. Database errors
that bad input can still reach (a value out of a column's range, a race on a unique row) become
400 and 409 rather than 500.

A duplicate (a second record where only one may be: a second progress note of a session, a
measure already recorded, a membership held already) answers 400 with the code ``unique``,
whether the serializer, the service or the database refused it: any validation error whose
every item has the code ``unique``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from psycopg.errors import UniqueViolation
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from api import errors
from cases.policies import NotPermitted
from ruptures.trends import TrendsError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = errors.CONFLICT
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class BadRequest(exceptions.APIException):
    """A request Django refuses to read (``SuspiciousOperation``: more than
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` query parameters, say). Translated here, in the view,
    because with DEBUG Django would answer it with an HTML page."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = errors.BAD_REQUEST
    default_code = "bad_request"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        if NON_FIELD_ERRORS in detail:  # Django's "__all__"
            detail.setdefault("non_field_errors", []).extend(detail.pop(NON_FIELD_ERRORS))
        return exceptions.ValidationError(detail)
    if isinstance(exc, NotPermitted) and exc.field is not None:
        # Refused about a person the caller named: bad input on that field, not a 403.
        return exceptions.ValidationError({exc.field: [str(exc)]})
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, TrendsError):
        return exceptions.ValidationError({exc.field: [str(exc)]})
    if isinstance(exc, Http404):
        return exceptions.NotFound(errors.NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return BadRequest(errors.TOO_MANY_PARAMETERS)
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    if isinstance(exc, DataError):
        return exceptions.ValidationError(
            {"non_field_errors": ["A value is out of range or malformed."]}
        )
    if isinstance(exc, IntegrityError):
        if isinstance(exc.__cause__, UniqueViolation):  # a race the service's check lost
            return exceptions.ValidationError(
                {"non_field_errors": [ErrorDetail(errors.DUPLICATE, code="unique")]}
            )
        return Conflict()
    return exc


def flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error details as a flat list of ``{field, code, message}``."""
    if isinstance(detail, dict):
        return [
            item
            for key, value in detail.items()
            for item in flatten(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [
                {
                    "field": path or "non_field_errors",
                    "code": getattr(item, "code", "invalid"),
                    "message": str(item),
                }
                for item in detail
            ]
        return [
            item
            for index, value in enumerate(detail)
            for item in flatten(value, f"{path}.{index}" if path else str(index))
        ]
    return [
        {
            "field": path or "non_field_errors",
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's handler500 answers in the same format
    if isinstance(exc, exceptions.ValidationError):
        items = flatten(exc.detail)
        duplicate = bool(items) and all(item["code"] == "unique" for item in items)
        response.data = errors.error_body(
            status=response.status_code,
            code="unique" if duplicate else "invalid",
            detail=errors.DUPLICATE if duplicate else errors.VALIDATION_FAILED,
            errors=items,
        )
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = errors.error_body(
            status=response.status_code,
            code=getattr(detail, "code", None) or exc.default_code,
            detail=str(detail),
            # Field problems found before any serializer (api.parsers.SurrogateInBody).
            errors=getattr(exc, "field_errors", None),
        )
    return response
