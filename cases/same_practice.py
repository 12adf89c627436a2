"""Builds the SQL of composite "same practice" foreign keys for migrations.

Django has no composite foreign keys, so they are written in SQL. Each references a unique
constraint declared on the parent model (``*_id_practice``, ``*_id_client_practice``).
MATCH SIMPLE means a row whose optional link is NULL is not checked, as with any foreign key.
They are checked immediately, so a bad row is refused by the statement that writes it.
"""

from django.db import migrations

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
