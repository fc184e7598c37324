"""Rewriting encrypted columns in batches, in SQL: the data migration that encrypts the
identifiers stored before encryption at rest (households 0009), and `rotate_keys`, which
re-encrypts every value under the current key.

Both walk a table by id (keyset pagination: `id > last`, `LIMIT batch`), one transaction per
batch with the batch's rows locked (FOR UPDATE), so a write by the application in between is
never overwritten with an older value; stopping half-way loses nothing, and running again
picks up only the rows still to do: plain rows are those whose blind index is still empty,
rows to rotate those holding a value under a key other than the current one.

Every county's rows: callers run these under `unscoped` (row-level security)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction

from . import crypto

BATCH = 1000


@dataclass(frozen=True)
class Column:
    name: str
    index: str  # its blind index column

    def context(self, table: str) -> str:
        return f"{table}.{self.name}"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]


def encrypted_tables() -> list[Table]:
    """Every table with encrypted columns, from the models."""
    tables = []
    for model in apps.get_models():
        columns = tuple(
            Column(f.column, f.index_field.column)
            for f in model._meta.concrete_fields
            if getattr(f, "encrypted", False)
        )
        if columns:
            tables.append(Table(model._meta.db_table, columns))
    return tables


def _batches(table: Table, where: str, params: list, batch: int):
    """Lists of (id, values…) rows, each yielded inside its own transaction, rows locked."""
    q = connection.ops.quote_name
    names = ", ".join(q(c.name) for c in table.columns)
    last = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {names} FROM {q(table.name)} WHERE id > %s AND ({where}) "
                "ORDER BY id LIMIT %s FOR UPDATE",
                [last, *params, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            yield cursor, rows
        last = rows[-1][0]


def _write(cursor, table: Table, updates: list[tuple]) -> None:
    """updates: (id, value, index, value, index, …) in the order of table.columns."""
    q = connection.ops.quote_name
    sets, aliases = [], ["id"]
    for number, column in enumerate(table.columns):
        sets += [f"{q(column.name)} = u.v{number}", f"{q(column.index)} = u.i{number}"]
        aliases += [f"v{number}", f"i{number}"]
    columns = list(zip(*updates, strict=True))
    arrays = [list(columns[0]), *(list(c) for c in columns[1:])]
    types = ["bigint[]", *(["text[]"] * (len(arrays) - 1))]
    unnest = ", ".join(f"%s::{t}" for t in types)
    cursor.execute(
        f"UPDATE {q(table.name)} AS t SET {', '.join(sets)} "
        f"FROM unnest({unnest}) AS u({', '.join(aliases)}) WHERE t.id = u.id",
        arrays,
    )


def encrypt_plain(table: Table, *, batch: int = BATCH, progress: Callable | None = None) -> int:
    """Encrypt the values stored in plain text (their blind index still empty); returns the
    number of rows written."""
    q = connection.ops.quote_name
    where = " OR ".join(
        f"({q(c.index)} IS NULL AND {q(c.name)} IS NOT NULL)" for c in table.columns
    )
    done = 0
    for cursor, rows in _batches(table, where, [], batch):
        updates = []
        for pk, *values in rows:
            row = [pk]
            for column, value in zip(table.columns, values, strict=True):
                context = column.context(table.name)
                if value is None:
                    row += [None, None]
                elif crypto.key_id_of(value) in crypto.keyring().ciphers:
                    # Written already by the new code (an index is missing only on plain rows)
                    row += [
                        value,
                        crypto.blind_index(crypto.decrypt(value, context=context), context=context),
                    ]
                else:
                    row += [
                        crypto.encrypt(value, context=context),
                        crypto.blind_index(value, context=context),
                    ]
            updates.append(tuple(row))
        _write(cursor, table, updates)
        done += len(rows)
        if progress:
            progress(table.name, done)
    return done


def rotate(table: Table, *, batch: int = BATCH, progress: Callable | None = None) -> int:
    """Re-encrypt under the current key every value stored under another; returns the number
    of rows rewritten. The blind index stays (its key does not rotate)."""
    q = connection.ops.quote_name
    current = crypto.current_key_id()
    prefix = f"{current}{crypto.SEPARATOR}%"
    where = " OR ".join(f"{q(c.name)} NOT LIKE %s" for c in table.columns)
    done = 0
    for cursor, rows in _batches(table, where, [prefix] * len(table.columns), batch):
        updates = []
        for pk, *values in rows:
            row = [pk]
            for column, value in zip(table.columns, values, strict=True):
                context = column.context(table.name)
                if value is None:
                    row += [None, None]
                    continue
                plain = crypto.decrypt(value, context=context)
                if crypto.key_id_of(value) != current:
                    value = crypto.encrypt(plain, context=context)
                row += [value, crypto.blind_index(plain, context=context)]
            updates.append(tuple(row))
        _write(cursor, table, updates)
        done += len(rows)
        if progress:
            progress(table.name, done)
    return done


def pending(table: Table) -> int:
    """Rows still holding a value under a key other than the current one."""
    q = connection.ops.quote_name
    prefix = f"{crypto.current_key_id()}{crypto.SEPARATOR}%"
    where = " OR ".join(f"{q(c.name)} NOT LIKE %s" for c in table.columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {q(table.name)} WHERE {where}", [prefix] * len(table.columns)
        )
        return cursor.fetchone()[0]


def decrypt_to_plain(table: Table, *, batch: int = BATCH) -> int:
    """The reverse of encrypt_plain (migrating back): plain values, empty indexes."""
    q = connection.ops.quote_name
    where = " OR ".join(f"{q(c.index)} IS NOT NULL" for c in table.columns)
    done = 0
    for cursor, rows in _batches(table, where, [], batch):
        updates = []
        for pk, *values in rows:
            row = [pk]
            for column, value in zip(table.columns, values, strict=True):
                plain = (
                    None
                    if value is None
                    else crypto.decrypt(value, context=column.context(table.name))
                )
                row += [plain, None]
            updates.append(tuple(row))
        _write(cursor, table, updates)
        done += len(rows)
    return done
