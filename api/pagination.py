from __future__ import annotations

from base64 import b64decode
from typing import Any
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, transaction
from django.db.models import QuerySet
from rest_framework import exceptions, pagination
from rest_framework.request import Request

from api import errors


def _has_cursor_tokens(encoded: str) -> bool:
    try:
        decoded = b64decode(encoded.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError):
        return False
    return bool({"o", "r", "p"} & set(parse_qs(decoded, keep_blank_values=True)))


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination for lists that grow without bound: stable under inserts, and no
    COUNT(*) over the table. ``page_size`` may be asked for up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as error:
            # A bad cursor is a bad parameter of a list that exists: 400, not 404.
            raise exceptions.ValidationError({"cursor": [errors.INVALID_CURSOR]}) from error
        if encoded is not None and not _has_cursor_tokens(encoded):
            # DRF reads a cursor of none of its tokens as the first page.
            raise exceptions.ValidationError({"cursor": [errors.INVALID_CURSOR]})
        return cursor

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        if request.query_params.get(self.cursor_query_param) is None:
            return super().paginate_queryset(queryset, request, view)
        # A cursor position that is not a value of the ordering field (forged, or made under
        # another ordering) fails only when the query runs, in Python or in PostgreSQL: the
        # savepoint keeps a refused query from spoiling a surrounding transaction.
        try:
            with transaction.atomic():
                return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError, DataError) as error:
            raise exceptions.ValidationError({"cursor": [errors.INVALID_CURSOR]}) from error

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= self.max_page_size:
                raise exceptions.ValidationError(
                    {"page_size": [f"Give a whole number from 1 to {self.max_page_size}."]}
                )
            return size
        return self.page_size


class KeysFirstCursorPagination(CursorPagination):
    """Cursor pagination for lists whose scoping joins many rows: the page's keys are found
    first, from the index columns alone, and only the page's rows are read whole.

    A clinician's session list is the live sessions of every client on their care teams in
    time order. PostgreSQL finds each client's sessions in page order from one index
    (``session_client_time``, which carries ``archived_at``) and keeps the top of the page
    with a bounded heap; the rows of the page, and whatever the view annotates on them, are
    then read by primary key. Reading the rows whole before the top of the page is known
    read every session of the caseload. The row query repeats the list's scoping, so a key
    can only ever bring back a row the caller may read."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        return super().paginate_queryset(_KeysFirst(queryset), request, view)

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> Any:
        if isinstance(queryset, _KeysFirst):
            queryset = queryset.queryset
        return super().get_ordering(request, queryset, view)


class _KeysFirst:
    """What DRF's cursor pagination does to a queryset (order, filter by the cursor's
    position, slice), with the slice read in two steps: the keys, then their rows."""

    def __init__(self, queryset: QuerySet[Any]) -> None:
        self.queryset = queryset

    def order_by(self, *fields: str) -> _KeysFirst:
        return _KeysFirst(self.queryset.order_by(*fields))

    def filter(self, **conditions: Any) -> _KeysFirst:
        return _KeysFirst(self.queryset.filter(**conditions))

    def __getitem__(self, page: slice) -> list[Any]:
        keys = self.queryset.values("pk")[page]
        # One statement: the keys are a subquery of the row query.
        return list(self.queryset.filter(pk__in=keys))
