from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request

from api import errors


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination for lists that grow without bound: stable under inserts, and no
    COUNT(*) over the table. ``page_size`` may be asked for up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as error:
            # A bad cursor is a bad parameter of a list that exists: 400, not 404.
            raise exceptions.ValidationError({"cursor": [errors.INVALID_CURSOR]}) from error

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
