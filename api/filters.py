from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    """DRF ignores unknown ordering terms; a frontend developer would rather hear about them."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params:
            terms = [term.strip() for term in params.split(",") if term.strip()]
            valid = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            unknown = [term for term in terms if term.removeprefix("-") not in valid]
            if unknown or not terms:
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            f"Order by one of: {', '.join(sorted(valid))} "
                            "(prefix - for descending)."
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)
