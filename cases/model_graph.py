"""Which tables hold rows that belong to a row of another, and in what order they can go.

Read from the models (``_meta``), so a table added later is found without being listed: the
demo reset (everything of a practice) and the retention purge (everything of a client) both
delete what hangs under one row, children before parents.

Only foreign keys the database enforces count. Those it does not (``db_constraint=False``: the
change history, the access log, idempotency keys) point at rows without holding them; whoever
removes rows decides about those separately.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias, cast

from django.apps import apps
from django.db.models import ForeignKey, Model

# A foreign key to whichever model: what it holds is read from ``related_model``.
AnyForeignKey: TypeAlias = "ForeignKey[Any, Any]"


def held_by(model: type[Model]) -> list[AnyForeignKey]:
    """The foreign keys (one-to-ones included) of ``model`` that the database enforces."""
    return [
        field
        for field in model._meta.concrete_fields
        # django-stubs do not declare ``db_constraint``; every ForeignKey has it.
        if isinstance(field, ForeignKey) and field.db_constraint  # type: ignore[attr-defined]
    ]


def rows_under(root: type[Model]) -> list[type[Model]]:
    """``root`` and every model whose rows it holds, at any depth, children before parents."""
    under = {root}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model not in under and any(f.related_model in under for f in held_by(model)):
                under.add(model)
                grew = True
    return children_first(under)


def children_first(models: Iterable[type[Model]]) -> list[type[Model]]:
    """``models`` ordered so that each comes before every model of the set it points at
    (a model pointing at itself aside). Ties keep the order the app registry lists models in,
    so the order is the same on every run."""
    wanted = set(models)
    remaining = [model for model in apps.get_models() if model in wanted]
    ordered: list[type[Model]] = []
    while remaining:
        parents = {
            field.related_model
            for model in remaining
            for field in held_by(model)
            if field.related_model is not model
        }
        ready = [model for model in remaining if model not in parents]
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {remaining}")
        ordered.extend(ready)
        remaining = [model for model in remaining if model not in ready]
    return ordered


def path_to(model: type[Model], root: type[Model]) -> list[AnyForeignKey]:
    """The shortest chain of enforced foreign keys from ``model`` to ``root`` (empty for
    ``root`` itself). A direct key is preferred, then the first found in field order."""
    paths: dict[type[Model], list[AnyForeignKey]] = {model: []}
    frontier = [model]
    while frontier and root not in paths:
        following: list[type[Model]] = []
        for current in frontier:
            for field in held_by(current):
                parent = cast("type[Model]", field.related_model)  # resolved: apps loaded
                if parent not in paths:
                    paths[parent] = [*paths[current], field]
                    following.append(parent)
        frontier = following
    if root in paths:
        return paths[root]
    raise ValueError(f"{model._meta.label} does not point at {root._meta.label}")
