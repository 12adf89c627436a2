from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from django.db.models import Model, QuerySet
from rest_framework import serializers

# A field of whatever value: DRF's fields are generic in four types that code handling
# fields in bulk (``get_fields``) does not know.
AnyField: TypeAlias = "serializers.Field[Any, Any, Any, Any]"


class IdField(serializers.PrimaryKeyRelatedField[Model]):
    """A link by id. Only whole numbers (or their digits as text) are ids: DRF would truncate
    1.5 to 1 and crash on 1e309."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("incorrect_type", data_type="str")
        return super().to_internal_value(data)


class ScopedPrimaryKeyField(IdField):
    """A link to another record, resolved only among the rows the caller may see (a selector
    with ``user=``). A row outside scope reads exactly like one that does not exist."""

    def __init__(
        self, *, model: type[Model], selector: Callable[..., QuerySet[Model]], **kwargs: Any
    ) -> None:
        self.selector = selector
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> QuerySet[Model]:
        return self.selector(user=self.context["request"].user)
