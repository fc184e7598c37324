"""Inserting thousands of rows at once: an import's new persons, households and members, and
the change records of any bulk write.

Django's `bulk_create` binds every value of every row into one statement (client-side, with
psycopg) that the server then parses: for 10,000 members that is most of an import's time.
`insert_many` sends large batches with COPY instead. PostgreSQL refuses `COPY FROM` into a
table that row-level security polices, so the rows go into a temporary staging table and
move with one `INSERT … SELECT`, which the policy checks and which raises Django's
IntegrityError like any other write. Ids come from the table's sequence first, so the caller
holds them at once, as after `bulk_create`.

The rows bypass the scoped manager, so before anything is written each object must sit under
the active scope's node (`OutsideScope` otherwise): the same rule the scoped reads keep."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connection, models, transaction

from .scope import NO_SCOPE_MESSAGE, NoActiveScope, current_scope, is_unscoped

# Below this, one ordinary multi-row INSERT is cheaper than the staging table's statements.
COPY_FROM_ROWS = 500
# Field types whose Python value is what psycopg writes: no conversion by the field needed.
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DecimalField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


class OutsideScope(PermissionError):
    """A bulk write tried to place a row outside the node the active scope allows."""


def insert_many(objs: Sequence[models.Model]) -> None:
    """Insert new objects of one model, in bulk; afterwards each has its primary key."""
    if not objs:
        return
    model = type(objs[0])
    if len(objs) < COPY_FROM_ROWS:
        model._default_manager.bulk_create(objs)
        return
    require_in_scope(objs)
    with transaction.atomic():
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="insert_many")
        assign_ids(model, [obj for obj in objs if obj.pk is None])
        _copy_through_staging(model, objs)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def require_in_scope(objs: Sequence[models.Model]) -> None:
    """Every scoped object must lie under the active scope's node (any node when unscoped)."""
    if is_unscoped() or not hasattr(objs[0], "county_id"):
        return
    scope = current_scope()
    if scope is None:
        raise NoActiveScope(NO_SCOPE_MESSAGE)
    attname = scope.ancestor_field
    outside = [obj for obj in objs if getattr(obj, attname) != scope.node_id]
    if outside:
        raise OutsideScope(
            f"有 {len(outside)} 条{objs[0]._meta.verbose_name}不在当前账号的管理范围内,全部未写入。"
        )


def assign_ids(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Give the objects ids from the table's sequence, in one query."""
    if not objs:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk


def _column_readers(model: type[models.Model]) -> list[Callable[[models.Model], object]]:
    """For each concrete field, how to read the value to write from an object."""
    readers = []
    for field in model._meta.concrete_fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            readers.append(lambda obj, f=field: f.pre_save(obj, add=True))
        elif field.get_internal_type() in PLAIN_TYPES:
            readers.append(lambda obj, name=field.attname: getattr(obj, name))
        else:
            readers.append(
                lambda obj, f=field: f.get_db_prep_save(getattr(obj, f.attname), connection)
            )
    return readers


def _copy_through_staging(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"staging_{model._meta.db_table}")
    names = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
    readers = _column_readers(model)
    with connection.cursor() as cursor:
        # ON COMMIT DROP (and the savepoint of the atomic block) clean up after a failure.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        copying = cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for obj in objs:
                copy.write_row([read(obj) for read in readers])
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging}")
        cursor.execute(f"DROP TABLE {staging}")
