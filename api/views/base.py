from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast

import pghistory
from django.db.models import Model, Prefetch, QuerySet
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request

from api.audit import AccessAuditMixin
from api.concurrency import ArchiveMixin, CreateMixin, RetrieveMixin, UpdateMixin
from api.filters import list_parameters, refuse_unknown_parameters
from api.permissions import IsClinician, IsPracticeAdmin

M = TypeVar("M", bound=Model)
Row = TypeVar("Row")


class ScopedViewSet(AccessAuditMixin, viewsets.GenericViewSet[M]):
    """A viewset whose rows come from a selector that takes the caller, so a row outside the
    caller's scope is absent from lists and answers 404. ``allowed_roles`` is what the schema
    tells a frontend developer about who may call it."""

    selector: ClassVar[Callable[..., QuerySet[Model]]]
    related: ClassVar[tuple[str, ...]] = ()
    prefetch: ClassVar[tuple[str | Prefetch[Any, Any, Any], ...]] = ()
    allowed_roles: ClassVar[str] = ""
    # PUT is not offered: every edit is a partial update.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The row changes of a write carry who made them and which request it was (the
        # token user is known only now, after DRF's authentication). Reads have no history
        # context (settings ``PGHISTORY_MIDDLEWARE_METHODS``).
        if (
            request.method not in SAFE_METHODS
            and request.user is not None
            and request.user.is_authenticated
        ):
            pghistory.context(
                user=request.user.pk, request_id=getattr(request._request, "request_id", "")
            )

    def get_queryset(self) -> QuerySet[M]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation: the model, no caller, no rows.
            return cast(QuerySet[M], self.queryset)
        # A viewset's selector reads rows of its own model.
        queryset = cast(QuerySet[M], type(self).selector(user=self.request.user))
        if self.related:
            queryset = queryset.select_related(*self.related)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset

    def filter_queryset(self, queryset: QuerySet[M, Row]) -> QuerySet[M, Row]:
        if self.action == "list":
            refuse_unknown_parameters(self.request, list_parameters(self))
        return super().filter_queryset(queryset)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "request": self.request}


class ClinicalViewSet(ScopedViewSet[M]):
    permission_classes = [IsAuthenticated, IsClinician]
    allowed_roles = "clinician — rows of clients on the caller's care teams only"


class ClinicalRecordViewSet(
    mixins.ListModelMixin,
    CreateMixin,
    RetrieveMixin,
    UpdateMixin,
    ArchiveMixin,
    ClinicalViewSet[M],
):
    """A clinical record's endpoints: list, create (with ``Idempotency-Key``), read, edit
    (PATCH with ``If-Match``) and archive (DELETE)."""


class PracticeAdminViewSet(ScopedViewSet[M]):
    permission_classes = [IsAuthenticated, IsPracticeAdmin]
    allowed_roles = "practice_admin — rows of the practices the caller administers"
