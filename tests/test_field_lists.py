"""A model's new field is a decision for every hand-written list of its fields: each list
either includes it or names it as left out on purpose (api/field_lists.py). The factories give
every field a row needs. (docs/adding-a-field.md)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Collection

import pytest
from django.db.models import NOT_PROVIDED, Field, Model
from factory.django import DjangoModelFactory
from rest_framework.serializers import ModelSerializer

import api.serializers
from api.field_lists import SERIALIZER_LEFT_OUT, SERVICE_FIELDS, ServiceFields
from cases.models import SIGNED_SESSION_COLUMNS, TherapySession
from cases.services import SESSION_SIGNED_FIELDS
from tests import factories

REGISTRY = "api/field_lists.py"


def _model_serializers() -> dict[str, type[ModelSerializer]]:
    found = {}
    for module_info in pkgutil.iter_modules(api.serializers.__path__):
        module = importlib.import_module(f"{api.serializers.__name__}.{module_info.name}")
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and issubclass(cls, ModelSerializer)
                and cls.__module__ == module.__name__
                and hasattr(getattr(cls, "Meta", None), "model")
            ):
                found[cls.__name__] = cls
    return found


SERIALIZERS = _model_serializers()


def _problems(model: type[Model], fields: Collection[str], left_out: Collection[str], where: str):
    label = model._meta.label
    concrete = [field.name for field in model._meta.concrete_fields]
    problems = [
        f"{label}.{name} is neither in {where} nor left out of it in {REGISTRY}"
        for name in concrete
        if name not in fields and name not in left_out
    ]
    problems += [
        f"{label}.{name} is left out of {where} in {REGISTRY} but "
        + ("the list includes it" if name in fields else f"{label} has no such field")
        for name in left_out
        if name in fields or name not in concrete
    ]
    return problems


@pytest.mark.parametrize("entry", SERVICE_FIELDS, ids=lambda entry: entry.name)
def test_each_service_field_list_decides_every_field_of_its_model(entry: ServiceFields) -> None:
    problems = _problems(entry.model, entry.fields, entry.left_out, entry.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(SERIALIZERS))
def test_each_serializer_decides_every_field_of_its_model(name: str) -> None:
    serializer = SERIALIZERS[name]
    assert name in SERIALIZER_LEFT_OUT, f"{name} is not in SERIALIZER_LEFT_OUT in {REGISTRY}"
    meta = serializer.Meta
    where = f"{name}.Meta.fields ({serializer.__module__})"
    problems = _problems(meta.model, meta.fields, SERIALIZER_LEFT_OUT[name], where)
    assert not problems, "\n".join(problems)


def test_the_registry_names_only_serializers_that_exist() -> None:
    assert set(SERIALIZER_LEFT_OUT) - set(SERIALIZERS) == set()


def test_the_serializer_scan_finds_serializers() -> None:
    """The scan sees real classes (an empty scan would pass every check above)."""
    assert {"ClientSerializer", "RuptureEpisodeSerializer"} <= set(SERIALIZERS)


def test_the_session_fields_signing_fixes_are_the_triggers_columns() -> None:
    column_of = {field.name: field.column for field in TherapySession._meta.concrete_fields}
    assert tuple(column_of[name] for name in SESSION_SIGNED_FIELDS) == SIGNED_SESSION_COLUMNS


def _needs_a_value(field: Field) -> bool:
    """A row cannot be written without it: the ORM would send nothing valid of its own."""
    return not (
        field.primary_key
        or field.null
        or field.has_default()
        or field.db_default is not NOT_PROVIDED
        or field.generated
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        # Text without a default is written as "" (Django's default for it), allowed if blank.
        or (field.empty_strings_allowed and field.blank)
    )


FACTORIES = [
    factory
    for factory in vars(factories).values()
    if inspect.isclass(factory)
    and issubclass(factory, DjangoModelFactory)
    and factory._meta.model is not None
]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda factory: factory.__name__)
def test_each_factory_gives_every_field_a_row_needs(factory: type[DjangoModelFactory]) -> None:
    model = factory._meta.model
    given = set(factory._meta.declarations) | set(factory._meta.parameters)
    missing = [
        f"{model._meta.label}.{field.name}"
        for field in model._meta.concrete_fields
        if _needs_a_value(field) and field.name not in given
    ]
    assert not missing, f"tests/factories.py: {factory.__name__} gives no value for {missing}"
