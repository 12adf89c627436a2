"""Optimistic concurrency: single-record answers carry an ``ETag``; an edit (PATCH) must send
it back in ``If-Match``. Without it the answer is 428, with a stale one 412, so two tabs never
silently overwrite each other.

The check runs with the record locked (SELECT … FOR UPDATE) and compares against its current
representation, so of two concurrent edits sent with the same ETag exactly one wins: the
second waits for the first to commit, then finds the ETag changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from rest_framework import exceptions, mixins, status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.permissions import caller
from cases.services import record_archive

NEED_IF_MATCH = "Send If-Match with the ETag of the version you edited (GET it first)."
STALE = "The record changed since you read it: GET it again and reapply your edit."


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = NEED_IF_MATCH
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = STALE
    default_code = "precondition_failed"


def etag_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def if_match_allows(header: str, current: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or current in tags


def with_etag(response: Response) -> Response:
    if status.is_success(response.status_code) and isinstance(response.data, dict):
        response["ETag"] = etag_of(response.data)
    return response


class CreateMixin(mixins.CreateModelMixin):
    """Create, honouring ``Idempotency-Key``; the answer, first or replayed, carries the new
    record's ETag."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return with_etag(self._create_once(request, *args, **kwargs))

    create.idempotent = True  # type: ignore[attr-defined]  # read by the schema

    @idempotent
    def _create_once(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)


class RetrieveMixin(mixins.RetrieveModelMixin):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return with_etag(super().retrieve(request, *args, **kwargs))


class UpdateMixin(mixins.UpdateModelMixin):
    """PATCH with ``If-Match``, checked against the locked record."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            queryset = view.filter_queryset(view.get_queryset()).select_for_update(of=("self",))
            instance = get_object_or_404(queryset, pk=view.kwargs["pk"])
            view.check_object_permissions(request, instance)
            header = request.headers.get("If-Match")
            if not header:
                raise PreconditionRequired()
            if not if_match_allows(header, etag_of(view.get_serializer(instance).data)):
                raise PreconditionFailed()
            serializer = view.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            view.perform_update(serializer)
        return with_etag(Response(view.get_serializer(view.get_object()).data))


class ArchiveMixin:
    """DELETE archives: the record leaves every list and answers 404 from then on, but stays
    in the database until ``manage.py purge_expired`` removes it after its retention."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        record_archive(record=view.get_object(), user=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
