"""What every Mend serializer shares: strict input, aware datetimes, and no writes of its own
(the views call the services)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias, TypeVar

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from api import errors
from api.serializers.fields import AnyField, IdField

WRITES_THROUGH_SERVICES = "A serializer does not write: the view calls the service."

# What a plain (not model) serializer shapes: an action's input body, or a JSON object the
# view builds itself (``worklist_body``, ``trend_body``) and the schema describes.
Body: TypeAlias = Mapping[str, object]
M = TypeVar("M", bound=models.Model)

# The mixin's ``super()`` is the serializer it is mixed into; at run time it stays a plain
# class, so the MRO is the serializers' own.
if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer[Any]
else:
    _SerializerBase = object


class StrictInputMixin(_SerializerBase):
    """Refuse unknown and server-owned fields on write with a 400 that names them, instead
    of DRF's silent ignore: a frontend that sends ``status`` or ``total`` should learn at once
    that it is not applied. Fields listed in ``Meta.create_only_fields`` are writable on create
    and read-only afterwards."""

    def get_fields(self) -> dict[str, AnyField]:
        fields = super().get_fields()
        if getattr(self, "instance", None) is not None:
            for name in getattr(getattr(self, "Meta", None), "create_only_fields", ()):
                if name in fields:
                    fields[name].read_only = True
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields
            problems: dict[str, list[str]] = {}
            for key in data:
                field = fields.get(key)
                if field is None:
                    problems[str(key)] = [errors.UNKNOWN_FIELD]
                elif field.read_only:
                    problems[str(key)] = [errors.READ_ONLY_FIELD]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its time zone: a session at "10:00" is ambiguous across a
    practice's clinicians and daylight-saving changes, so a naive time is refused."""

    default_error_messages = {"naive": errors.NAIVE_DATETIME}

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("invalid", format="ISO 8601")


class StrictSerializer(StrictInputMixin, serializers.Serializer[Body]):
    """For action bodies that are not a model (a discharge date, a dismissal reason)."""


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer[M]):
    serializer_related_field = IdField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: AwareDateTimeField,
    }

    # Serializers shape input and output; every write is the view's call of a service. Were a
    # view to call save(), ModelSerializer would write the row itself, past the service's
    # rules: refused instead.
    def create(self, validated_data: Any) -> NoReturn:
        raise NotImplementedError(WRITES_THROUGH_SERVICES)

    def update(self, instance: M, validated_data: Any) -> NoReturn:
        raise NotImplementedError(WRITES_THROUGH_SERVICES)
