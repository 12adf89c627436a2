"""Remove the demo practice and everything in it, for ``seed_demo --reset``.

Only the demo practice's rows go (``WHERE practice_id = …``), so other practices in the same
database are untouched. Signed notes, addenda, trends releases and
the privacy ledger are protected by triggers against deletion; the reset is the one writer
allowed past them, and only for these statements.

Deleting row by row costs a foreign-key check per child table per row (minutes at the
reference scale), so when the demo practice is the only one in the database its tables are
truncated instead, which takes a moment.
"""

from __future__ import annotations

from functools import cache

import pgtrigger
from django.db import DatabaseError, connection, transaction
from django.db.models import Model

from cases.model_graph import rows_under
from cases.models import Membership, Practice, User


@cache
def delete_order() -> tuple[type[Model], ...]:
    """Every table whose rows the practice holds, children before parents (from the models'
    foreign keys), but its memberships: ``delete_practice`` reads them first to find the users
    to remove, and deletes them itself."""
    return tuple(model for model in rows_under(Practice) if model not in (Practice, Membership))


PROTECTED_DELETES = (
    "cases.ProgressNote:signed_note_no_delete",
    "cases.NoteAddendum:addendum_append_only",
    # A practice's releases and its budget ledger go only with the practice itself.
    "ruptures.TrendRelease:release_frozen",
    "ruptures.PrivacySpend:spend_append_only",
)


def delete_practice(practice: Practice) -> None:
    """Delete the practice, its clinical data, and the users who belong to no other practice."""
    members = set(Membership.objects.filter(practice=practice).values_list("user_id", flat=True))
    elsewhere = set(
        Membership.objects.filter(user_id__in=members)
        .exclude(practice=practice)
        .values_list("user_id", flat=True)
    )
    if Practice.objects.exclude(pk=practice.pk).exists() or not _truncate():
        _delete_rows(practice)
    Membership.objects.filter(practice=practice).delete()
    User.objects.filter(pk__in=members - elsewhere).delete()
    practice.delete()


def _truncate() -> bool:
    """Empty the clinical tables at once; False if something outside them refers to them
    (a table added later), in which case nothing was changed."""
    names = ", ".join(model._meta.db_table for model in delete_order())
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {names}")
    except DatabaseError:
        return False
    return True


def _delete_rows(practice: Practice) -> None:
    with pgtrigger.ignore(*PROTECTED_DELETES), connection.cursor() as cursor:
        # Each deleted parent row is checked against its children by the foreign keys;
        # with stale statistics those checks can pick a scan of the whole practice per row.
        # Fresh statistics keep them on the key indexes.
        for model in delete_order():
            cursor.execute(f"ANALYZE {model._meta.db_table}")
        for model in delete_order():
            # The table name comes from the model, the practice id is bound.
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE practice_id = %s",  # noqa: S608
                [practice.pk],
            )
