from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import serializers


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A link to another record, resolved only among the rows the caller may see (a selector
    with ``user=``). A row outside scope reads exactly like one that does not exist."""

    def __init__(
        self, *, model: type[Model], selector: Callable[..., QuerySet], **kwargs: Any
    ) -> None:
        self.selector = selector
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.selector(user=self.context["request"].user)
