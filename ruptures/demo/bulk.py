"""Bulk loading through PostgreSQL COPY, with ids the loader assigns itself.

Rows point at each other (a note at its session, a repair at its episode), so ids must be
known before a row is written. Asking the sequence for each id would cost a round trip per
row; instead the tables are locked against other writers for the (single) seeding
transaction, ids are counted up from one ``nextval`` in Python, and each sequence is moved
past the last id at the end.

PostgreSQL's side of a COPY (foreign-key checks, indexes) costs more than generating the rows
in Python, so the two overlap: a writer thread copies one batch while the caller generates the
next. At most two batches are held at once, so memory stays flat.

Foreign keys are checked one of two ways:

- Row by row as rows arrive (the default). Each table is analysed right after its first COPY,
  before any table that points at it is copied: a foreign-key check is a query PostgreSQL
  plans and keeps for the session, and planned against a table never analysed, the composite
  same-practice keys picked the ``practice_id`` index and filtered on ``id``, so each row
  checked walked every row loaded before it. Analysing first halved the COPY's time at
  scale 20.
- At the end, in one query per key (``check_foreign_keys_at_end``): the tables' foreign keys
  are dropped for the load and added back once the tables are analysed, which checks every
  row with a join instead of a lookup a row. This takes an exclusive lock on the tables and
  on those they point at (users, practices) until the seed commits, so the seed asks for it
  only when the demo practice is alone in the database. At the reference scale the COPY
  fell from 6 min 18 s to 3 min 38 s, and the checks at the end take 23 s.

Either way the transaction holds the rule: nothing commits unless every key holds.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Collection, Iterable
from typing import Any

from django.db import connection
from django.db.models import Model

Row = tuple[Any, ...]
Batch = list[tuple["Table", list[Row]]]


class Table:
    """One table written by COPY, an id counter, and the rows buffered since the last flush.

    Its columns are the model's concrete fields in the model's order, which is the order
    every row gives them: the id first, then the rest, less the generated columns (PostgreSQL
    computes them) and the fields named in ``omit`` (the demo leaves them to their
    defaults). A field added to the model is therefore written unless it is omitted here."""

    def __init__(self, model: type[Model], *, omit: Collection[str] = ()) -> None:
        meta = model._meta
        concrete = {field.name for field in meta.concrete_fields}
        if unknown := set(omit) - concrete:
            raise ValueError(f"{meta.label} has no concrete fields {sorted(unknown)}")
        self.name = meta.db_table
        written = [
            field
            for field in meta.concrete_fields
            if field.name not in omit and not field.generated
        ]
        self.fields = tuple(field.name for field in written)
        columns = ", ".join(field.column for field in written)
        self.copy_sql = f"COPY {self.name} ({columns}) FROM STDIN"
        self.rows: list[Row] = []
        self.written = 0
        self.analyzed = False
        self._next_id = 0
        self._last_id = 0

    def check_width(self, row: Row) -> None:
        """Say which table and which fields when the rows do not match the columns (a field
        added to the model that the demo neither writes nor omits): PostgreSQL would only say
        that the COPY is short of data."""
        if len(row) != len(self.fields):
            raise ValueError(
                f"{self.name}: the demo gives {len(row)} values a row, the table's columns are "
                f"{len(self.fields)}: {', '.join(self.fields)}. Write the new field in "
                "ruptures/demo/clinical.py or omit it in ruptures/demo/tables.py."
            )

    def start_ids(self, first: int) -> None:
        self._next_id = first
        self._last_id = first - 1

    def new_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        self._last_id = value
        return value

    @property
    def last_id(self) -> int:
        return self._last_id


class Loader:
    """Buffers rows per table and writes them with COPY, parents before children, so the
    foreign keys (the composite same-practice ones included) can be checked as rows arrive.

    Use as a context manager around ``begin()`` … ``finish()`` so the writer thread is
    stopped whatever happens."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self.tables = list(tables)
        self._raw: Any = None
        self._pending = 0
        self._batches: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None
        self._foreign_keys: list[tuple[str, str, str]] = []
        self._analyze_first_copy = True

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        # Leaving on an error: stop the writer but let the original error through.
        self._stop(raise_error=exc_type is None)

    def begin(self, *, check_foreign_keys_at_end: bool = False) -> None:
        """Lock the tables against other writers, reserve the start of each id range and
        start the writer. Must run inside the seeding transaction; the locks end with it.
        With ``check_foreign_keys_at_end``, the caller must call ``check_foreign_keys()``
        after ``finish()`` (see the module's docstring)."""
        connection.ensure_connection()
        self._raw = connection.connection
        with connection.cursor() as cursor:
            # Deferred foreign keys would queue every check until commit; at a million rows
            # that queue is large. Checking at the end of each COPY keeps it per batch.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            names = ", ".join(table.name for table in self.tables)
            # SHARE ROW EXCLUSIVE lets others read but not write, so no one else can take an
            # id from the ranges counted below.
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
            for table in self.tables:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table.name])
                table.start_ids(cursor.fetchone()[0])
            if check_foreign_keys_at_end:
                self._foreign_keys = self._drop_foreign_keys(cursor)
                self._analyze_first_copy = False
        # The thread uses the raw psycopg connection only, and only while the caller is
        # generating rows, so the two never talk to the database at the same time.
        self._writer = threading.Thread(target=self._write, name="seed-demo-copy", daemon=True)
        self._writer.start()

    def add(self, table: Table, row: Row) -> None:
        table.rows.append(row)
        self._pending += 1

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self) -> None:
        """Hand the buffered rows to the writer; waits while it is still busy with the
        previous batch."""
        batch: Batch = []
        for table in self.tables:
            if table.rows:
                table.check_width(table.rows[0])
                batch.append((table, table.rows))
                table.written += len(table.rows)
                table.rows = []
        self._pending = 0
        if batch:
            self._put(batch)

    def finish(self) -> None:
        """Write what is left, wait for the writer, and move each sequence past the ids
        used."""
        self.flush()
        self._stop()
        with connection.cursor() as cursor:
            for table in self.tables:
                if table.last_id >= 1:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table.name, table.last_id],
                    )

    def check_foreign_keys(self) -> None:
        """Add back the foreign keys dropped by ``begin``, each checking every row in one
        query. Run it once the tables are analysed, so those queries are planned as joins."""
        with connection.cursor() as cursor:
            for table, name, definition in self._foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self._foreign_keys = []

    def _drop_foreign_keys(self, cursor: Any) -> list[tuple[str, str, str]]:
        # Names and definitions as PostgreSQL prints them, so they come back exactly as the
        # migrations made them (deferrable ones included).
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY conrelid::regclass::text, conname",
            [[table.name for table in self.tables]],
        )
        foreign_keys: list[tuple[str, str, str]] = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        return foreign_keys

    def _put(self, batch: Batch | None) -> None:
        while True:
            self._raise_writer_error()
            try:
                self._batches.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def _stop(self, *, raise_error: bool = True) -> None:
        if self._writer is None:
            return
        if self._writer.is_alive():
            # The writer drains the queue (or has failed and stopped taking from it).
            while self._writer.is_alive():
                try:
                    self._batches.put(None, timeout=0.2)
                    break
                except queue.Full:
                    continue
            self._writer.join()
        self._writer = None
        if raise_error:
            self._raise_writer_error()

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _write(self) -> None:
        while (batch := self._batches.get()) is not None:
            try:
                with self._raw.cursor() as cursor:
                    for table, rows in batch:
                        with cursor.copy(table.copy_sql) as copy:
                            for row in rows:
                                copy.write_row(row)
                        if self._analyze_first_copy and not table.analyzed:
                            # Before its children's foreign keys are checked (module doc).
                            cursor.execute(f"ANALYZE {table.name}")
                            table.analyzed = True
            except BaseException as error:  # handed to the caller's thread and re-raised
                self._error = error
                return
