"""Builds the SQL of composite "same practice" foreign keys for migrations, and the unique keys
they reference for the models.

Django has no composite foreign keys, so they are written in SQL. Each references a unique
constraint declared on the parent model (``*_id_practice``, ``*_id_client_practice``).
MATCH SIMPLE means a row whose optional link is NULL is not checked, as with any foreign key.
They are checked immediately, so a bad row is refused by the statement that writes it.
"""

from django.db import migrations, models

# Each key: (table, constraint name, child columns, parent table, parent columns).
Key = tuple[str, str, str, str, str]


def operations(keys: list[Key]) -> list[migrations.RunSQL]:
    return [
        migrations.RunSQL(
            sql=(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
                f"REFERENCES {parent} ({parent_columns});"
            ),
            reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT {name};",
        )
        for table, name, columns, parent, parent_columns in keys
    ]


def referenced_key(name: str, *, with_client: bool = False) -> models.UniqueConstraint:
    """The unique key of a parent model that its children's composite foreign keys reference:
    ``(id, practice)``, or ``(id, client, practice)`` where the children must share its client
    too."""
    fields = ["id", "client", "practice"] if with_client else ["id", "practice"]
    return models.UniqueConstraint(fields=fields, name=name)
