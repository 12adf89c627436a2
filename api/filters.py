from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from api import errors


class StrictOrderingFilter(OrderingFilter):
    """DRF ignores unknown ordering terms; a frontend developer would rather hear about them."""

    def get_ordering(self, request: Request, queryset: QuerySet[Model], view: Any) -> Any:
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


def list_parameters(view: Any) -> set[str]:
    """The query parameters a list view reads: its filterset's filters, the ordering
    parameter, and the paginator's cursor and page size."""
    names: set[str] = set()
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        names |= set(filterset_class.base_filters)
    for backend in getattr(view, "filter_backends", ()):
        if issubclass(backend, OrderingFilter):
            names.add(backend.ordering_param)
    paginator = getattr(view, "paginator", None)
    for attribute in ("cursor_query_param", "page_size_query_param", "page_query_param"):
        name = getattr(paginator, attribute, None)
        if name:
            names.add(name)
    return names


def refuse_unknown_parameters(request: Request, allowed: set[str]) -> None:
    """A misspelt filter must not quietly answer with every row: 400 naming it."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        message = (
            errors.UNKNOWN_PARAMETER.format(allowed=", ".join(sorted(allowed)))
            if allowed
            else errors.NO_PARAMETERS
        )
        raise exceptions.ValidationError({name: [message] for name in unknown})
