"""Remove the demo practice and everything in it, for ``seed_demo --reset``.

Only the demo practice's rows go (``WHERE practice_id = …``), so other practices in the same
database are untouched. Signed notes, addenda, trends releases and
the privacy ledger are protected by triggers against deletion; the reset is the one writer
allowed past them, and only for these statements.

Deleting row by row costs a foreign-key check per child table per row (minutes at the
reference scale), so when the demo practice is the only one in the database its tables are
truncated instead, which takes a moment, together with the rows of other tables that point
into them (the idempotency records of its writes), when each such row does.
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


# Tables outside the practice's own whose foreign keys the database enforces into them (the
# idempotency records of writes on its clients, for one): their key columns, per table.
_REFERRERS_SQL = """
SELECT c.conrelid::regclass::text, array_agg(a.attname::text ORDER BY a.attname)
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
WHERE c.contype = 'f'
  AND c.confrelid = ANY(%(tables)s::regclass[])
  AND NOT c.conrelid = ANY(%(tables)s::regclass[])
GROUP BY c.conrelid
"""


def _truncate() -> bool:
    """Empty the clinical tables at once, with the rows elsewhere that point into them; False,
    with nothing changed, when a table outside them holds a row that points at none of them
    (and so is not the practice's to take)."""
    tables = [model._meta.db_table for model in delete_order()]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_REFERRERS_SQL, {"tables": tables})
            referrers = cursor.fetchall()
            for table, columns in referrers:
                unrelated = " AND ".join(f'"{column}" IS NULL' for column in columns)
                # Names from the catalogue.
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {unrelated})")  # noqa: S608
                if cursor.fetchone()[0]:
                    return False
            names = ", ".join([*tables, *(table for table, _ in referrers)])
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
