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

import functools
import json
import operator
from collections.abc import Callable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction

from .encrypted_fields import BlindIndexField
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


class Row:
    """A new row of a model held as plain attributes (its columns' attnames), for writes of
    thousands of rows where building a model instance per row costs more than the COPY: see
    `row_class`. Foreign keys are set by id (``person_id``), never by object."""

    model: type[models.Model]
    _made_defaults: tuple[tuple[str, Callable], ...] = ()  # (attname, callable default)

    def __init__(self, **values):
        # The other defaults are class attributes: an instance holds only what it was given.
        for name, make in self._made_defaults:
            if name not in values:
                values[name] = make()
        self.__dict__.update(values)

    @property
    def pk(self):
        return self.id

    @pk.setter
    def pk(self, value) -> None:
        self.id = value

    def place_under(self, node) -> None:
        """As ScopedModel.place_under: the node's ancestor keys (the node itself included)."""
        self.__dict__.update(
            county_id=node.county_id,
            township_id=node.township_id,
            village_id=node.village_id,
            group_id=node.group_id,
        )


@functools.cache
def row_class(model: type[models.Model]) -> type[Row]:
    """The Row class of a model: an attribute per concrete field, starting at the field's
    default (the primary key and the timestamps at None: the insert fills them)."""
    attributes: dict = {"model": model, "_made_defaults": ()}
    for field in model._meta.concrete_fields:
        default = _default_of(field)
        if callable(default):
            attributes["_made_defaults"] += ((field.attname, default),)
            attributes[field.attname] = None
        else:
            attributes[field.attname] = default
    return type(f"{model.__name__}Row", (Row,), attributes)


def _default_of(field: models.Field):
    """What a new model instance holds: the field's default (a callable one called per row),
    "" for text without one, else None."""
    if field.primary_key:
        return None
    if field.has_default() and callable(field.default):
        return field.default
    return field.get_default()


def model_of(objs: Sequence) -> type[models.Model]:
    first = objs[0]
    return first.model if isinstance(first, Row) else type(first)


def insert_many(objs: Sequence[models.Model | Row], *, ids: bool = True) -> None:
    """Insert new objects of one model (model instances, or Rows of one model), in bulk;
    afterwards each has its primary key. ``ids=False``: the rows' ids are left to the
    table (nobody reads them: change records), a query less."""
    if not objs:
        return
    model = model_of(objs)
    rows = isinstance(objs[0], Row)
    if len(objs) < COPY_FROM_ROWS:
        made = [_as_instance(model, obj) for obj in objs] if rows else objs
        model._default_manager.bulk_create(made)
        for obj, instance in zip(objs, made, strict=True) if rows else ():
            obj.pk = instance.pk
        return
    require_in_scope(objs)
    with transaction.atomic():
        for obj in objs if not rows else ():
            obj._prepare_related_fields_for_save(operation_name="insert_many")
        if ids:
            assign_ids(model, [obj for obj in objs if obj.pk is None])
        _copy_through_staging(model, objs, with_ids=ids)
    for obj in objs if not rows else ():
        obj._state.adding = False
        obj._state.db = connection.alias


def _as_instance(model: type[models.Model], row: Row) -> models.Model:
    return model(**{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields})


def require_in_scope(objs: Sequence[models.Model | Row]) -> None:
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
            f"有 {len(outside)} 条{model_of(objs)._meta.verbose_name}"
            "不在当前账号的管理范围内,全部未写入。"
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


def _row_reader(fields) -> Callable[[object], list]:
    """How to read the values to write from an object (a model instance or a Row): every
    attribute in one call, then the few fields whose value needs the field's conversion."""
    read_all = operator.attrgetter(*(f.attname for f in fields))
    converted = []
    for index, field in enumerate(fields):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            converted.append((index, lambda obj, _value, f=field: f.pre_save(obj, add=True)))
        elif isinstance(field, BlindIndexField):  # encryption at rest: from the plain value
            converted.append((index, lambda obj, _value, f=field: f.value_of(obj)))
        elif isinstance(field, models.JSONField) and field.encoder is None:
            converted.append((index, lambda _obj, value, f=field: _json_text(f, value)))
        elif getattr(field, "encrypted", False) or field.get_internal_type() not in PLAIN_TYPES:
            converted.append(
                (index, lambda _obj, value, f=field: f.get_db_prep_save(value, connection))
            )

    def read(obj) -> list:
        values = list(read_all(obj)) if len(fields) > 1 else [read_all(obj)]
        for index, convert in converted:
            values[index] = convert(obj, values[index])
        return values

    return read


def _json_text(field: models.JSONField, value):
    """What JSONField.get_db_prep_save makes of a plain value (json.dumps, as psycopg's Jsonb
    dumps it), as the text COPY reads, without its adapter object per value: a snapshot
    writes tens of thousands of them. None (SQL NULL) and expressions go the field's way."""
    if value is None or hasattr(value, "resolve_expression"):
        return field.get_db_prep_save(value, connection)
    if type(value) is dict and not value:  # most of a snapshot's group rows
        return "{}"
    return json.dumps(value)


def _copy_through_staging(model: type[models.Model], objs: Sequence, *, with_ids: bool) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"staging_{model._meta.db_table}")
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    read = _row_reader(fields)
    with connection.cursor() as cursor:
        # ON COMMIT DROP (and the savepoint of the atomic block) clean up after a failure.
        # Without ids the staging table numbers its rows itself (its id is NOT NULL), and the
        # INSERT leaves the table's own identity to give the ids.
        like = "INCLUDING DEFAULTS" if with_ids else "INCLUDING DEFAULTS INCLUDING IDENTITY"
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} (LIKE {table} {like}) ON COMMIT DROP")
        copying = cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for obj in objs:
                copy.write_row(read(obj))
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging}")
        cursor.execute(f"DROP TABLE {staging}")


def insert_select(model: type[models.Model], source: models.QuerySet, columns: dict) -> int:
    """INSERT INTO model's table (columns) SELECT … FROM `source`: rows computed by the
    database from other rows, none travelling to Python (a batch's 20,000 lines, their change
    records). `columns` maps attnames of `model` to expressions over `source`'s model (a
    field name, F(), Value(), functions, subqueries). Returns how many rows were written.

    `source` must be read through a scoped manager and the written rows' place (county_id,
    township_id, …) taken from its rows: what the scope lets it read lies under the scope's
    node, so what it writes does too (row-level security checks the county again)."""
    if not is_unscoped() and current_scope() is None:
        raise NoActiveScope(NO_SCOPE_MESSAGE)
    aliases = {f"c{index}": column for index, column in enumerate(columns.values())}
    select = source.values(
        **{
            alias: models.F(column) if isinstance(column, str) else column
            for alias, column in aliases.items()
        }
    )
    try:
        sql, params = select.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (an empty list of ids)
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    picked = ", ".join(f"source.{quote(alias)}" for alias in aliases)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({names}) "
            f"SELECT {picked} FROM ({sql}) AS source",
            params,
        )
        return cursor.rowcount
