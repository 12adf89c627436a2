"""Change history (django-pghistory): how the clinical tables are tracked, written once.

Every insert, update and delete of a tracked table is recorded by PostgreSQL triggers, raw SQL
and bulk writes included. One exception: the rows the demo seed (``manage.py seed_demo``)
writes have no insert event. At the reference scale the seed loads a few million rows; an
event per row doubled the time of loading them, and recorded nothing anyone did. The
seed says so with a setting local to its own transaction (``demo_seeding``), which the insert
triggers' condition reads; every other write, before or after the seed on the same
connection, is recorded as always. Updates and deletes are recorded whoever makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pghistory
import pghistory.models
import pgtrigger
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model

# A custom setting (PostgreSQL accepts any name with a dot). Unset, or anything but 'on', means
# inserts are recorded.
SEEDING_SETTING = "mend.seeding"
# ``current_setting(…, true)`` is NULL when the setting was never defined on this connection.
INSERT_RECORDED = pgtrigger.Condition(
    f"current_setting('{SEEDING_SETTING}', true) IS DISTINCT FROM 'on'"
)

_M = TypeVar("_M", bound=type[Model])


def track_history(*, exclude: list[str] | None = None) -> Callable[[_M], _M]:
    """``pghistory.track`` with Mend's trackers: inserts (unless the demo seed is writing),
    updates and deletes. ``exclude`` names fields left out of the snapshot (generated
    columns)."""
    decorate: Callable[[_M], _M] = pghistory.track(
        pghistory.InsertEvent(condition=INSERT_RECORDED),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
    )
    return decorate


@contextmanager
def demo_seeding() -> Iterator[None]:
    """Inserts made inside the block are not recorded as history.

    For the demo seed only. The setting is local to the transaction (``set_config(…, true)``)
    and the block runs in one (a savepoint when nested), so it can never outlive the block:
    on success it is put back as it was; on an error the rollback undoes it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [SEEDING_SETTING])
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config(%s, 'on', true)", [SEEDING_SETTING])
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [SEEDING_SETTING, previous or ""])


# The trigger ``pghistory.DeleteEvent`` puts on a tracked table: it records each delete.
DELETE_TRIGGER = "delete_delete"


def event_model(model: type[Model]) -> type[Model] | None:
    """The table of ``model``'s change history, or None if it has none."""
    for candidate in apps.get_models():
        if issubclass(candidate, pghistory.models.Event):
            if candidate.pgh_tracked_model is model:
                return candidate
    return None
