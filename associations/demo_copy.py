"""The demo seeds' SQL, shared by every app that seeds a large county (households' persons,
activities' year of records): ids taken from the sequences in one block, COPY of generated
tuples (through a temporary table when row-level security applies to the role), the deferred
foreign-key checks run at once, and ANALYZE of the new rows.

Unlike `associations.bulk.insert_many`, which takes model instances or Rows and checks them
against the active scope, these take plain tuples in the order of a column list: for the
hundreds of thousands of rows of the large demo county, where even a Row per row costs more
than the COPY. The seeds run inside the county's scope, and row-level security checks the
INSERT … SELECT for a role it applies to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from psycopg.copy import QueuedLibpqWriter


def check_columns(model, columns: list[str]) -> None:
    """The COPY column lists must follow the models: a new column fails loudly here."""
    expected = {f.column for f in model._meta.concrete_fields} - ({"id"} - set(columns))
    if expected != set(columns):
        raise RuntimeError(
            f"{model._meta.label}: demo columns differ from the model by "
            f"{sorted(expected ^ set(columns))}; update the demo's column list."
        )


def allocate_ids(table: str, count: int) -> list[int] | range:
    """`count` ids from the table's sequence. Only the first and last come back to Python
    when they form one block (no concurrent session took ids in between): the usual case."""
    if not count:
        return []
    sequence = "pg_get_serial_sequence(%s, 'id')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(v), max(v) FROM (SELECT nextval({sequence}) AS v "
            "FROM generate_series(1, %s)) AS taken",
            [table, count],
        )
        first, last = cursor.fetchone()
        if last - first + 1 == count:
            return range(first, last + 1)
        # Another session took ids in between: leave this block unused, keep every id.
        cursor.execute(f"SELECT nextval({sequence}) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY the rows into the model's table. PostgreSQL refuses COPY FROM into a table whose
    row-level security applies to the current role (the app role, CI): then the rows go into
    a temporary table first and move with one INSERT … SELECT, which the policy checks."""
    check_columns(model, columns)
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_security_active(%s::regclass)", [table])
        (policed,) = cursor.fetchone()
        target = f"demo_staging_{table}" if policed else table
        if policed:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} AS SELECT {names} FROM {table} LIMIT 0"
            )
        try:
            statement = f"COPY {target} ({names}) FROM STDIN"
            # A writer thread sends the data, so producing rows overlaps the server's work.
            with cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for row in rows:
                    copy.write_row(row)
            if policed:
                cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target}")
            return cursor.cursor.rowcount
        finally:
            if policed:
                cursor.execute(f"DROP TABLE IF EXISTS {target}")


def check_deferred_foreign_keys(*models) -> None:
    """Run the deferred foreign-key checks of these tables now, then defer them again."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(conname), ', ') FROM pg_constraint "
            "WHERE contype = 'f' AND condeferrable AND condeferred "
            "AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        (names,) = cursor.fetchone()
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def analyze(*models) -> None:
    """Planner statistics for the new rows, so the first list page after seeding is planned
    for 500,000 persons, not for an empty table (autovacuum may be off or slow to come)."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
