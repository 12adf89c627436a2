"""Edits of a record, the same way in every service: the fields a caller gives are checked
against the ones the service lets them write, then applied."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.core.exceptions import ValidationError
from django.db.models import Model

from cases import errors


def refuse_other_fields(
    given: Mapping[str, object],
    *,
    allowed: Collection[str],
    message: str = errors.FIELD_NOT_EDITABLE,
) -> None:
    """A 400 naming every field of ``given`` outside ``allowed``, before anything is read or
    written: a caller learns at once that such a field is never applied."""
    others = set(given) - set(allowed)
    if others:
        raise ValidationError({field: message for field in others})


def apply_edit(instance: Model, changes: Mapping[str, object]) -> None:
    """Set the (already checked) changes on the instance; the service validates and saves."""
    for field, value in changes.items():
        setattr(instance, field, value)
