"""Querysets compiled to SQL once per process, for the statements every request runs.

Django builds and compiles a queryset's SQL each time it is evaluated. For a lookup by
primary key that Python work takes longer than PostgreSQL takes to answer, and a few such
lookups run on every request in the same shape: the caller with their memberships, for one.
``CompiledQuery`` keeps the ORM the one place such a query is written: it builds the queryset
once with stand-in values, keeps the SQL Django wrote, and from then on binds each call's
values in the stand-ins' places and reads the rows as model instances (``RawQuerySet``, with
Django's converters and any annotation as an attribute).

Only integer parameters (ids) can be left open; every other value is fixed when the queryset
is built. A stand-in that Django folds into the SQL text, or repeats, is refused when the
query is first compiled, so a query that cannot be compiled this way fails loudly, never
binds a value in the wrong place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from django.db.models.query import RawQuerySet

M = TypeVar("M", bound=Model)

# Stand-ins for the open values: integers no id takes (ids are positive).
_FIRST_STAND_IN = -7_300_000_000_000_000


@dataclass(frozen=True)
class _Compiled(Generic[M]):
    model: type[M]
    database: str
    sql: str
    params: tuple[Any, ...]
    slots: tuple[str | None, ...]  # the open value each parameter takes, if any


class CompiledQuery(Generic[M]):
    """``build(**ids)`` returns the queryset; calling the ``CompiledQuery`` with the same
    keyword arguments returns its rows, from SQL compiled at the first call."""

    def __init__(self, build: Callable[..., QuerySet[M]], *names: str) -> None:
        self._build = build
        self._names = names
        self._compiled: _Compiled[M] | None = None

    def __call__(self, **ids: int) -> RawQuerySet[M]:
        if set(ids) != set(self._names):
            raise TypeError(f"Give exactly {', '.join(self._names)}.")
        compiled = self._compiled or self._compile()
        params = [
            value if slot is None else int(ids[slot])
            for value, slot in zip(compiled.params, compiled.slots, strict=True)
        ]
        manager = compiled.model._default_manager.db_manager(compiled.database)
        return manager.raw(compiled.sql, params)

    def _compile(self) -> _Compiled[M]:
        stand_ins = {name: _FIRST_STAND_IN - n for n, name in enumerate(self._names)}
        queryset = self._build(**stand_ins)
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
        by_value = {value: name for name, value in stand_ins.items()}
        slots = tuple(by_value.get(value) if type(value) is int else None for value in params)
        for name, value in stand_ins.items():
            if slots.count(name) != 1 or str(value) in sql:
                raise ValueError(f"{name} must be bound once, as a parameter of the query.")
        self._compiled = _Compiled(queryset.model, queryset.db, sql, tuple(params), slots)
        return self._compiled
