"""The change record: services call `record_change` / `record_changes` for every write.

The source (which request, task, import or command caused a change) lives in a ContextVar
that the scope middleware, `ScopedTask`, the import commit and the management commands set."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from contextvars import ContextVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Coalesce, JSONObject, Left, Now

from .bulk import Row, insert_many, insert_select, row_class
from .encrypted_fields import BlindIndexField
from .models import Association, ChangeRecord
from .sources import SYSTEM

# The stored form of a source is defined in sources.py (for_request, for_task, …).
_source: ContextVar[str] = ContextVar("change_source", default=SYSTEM)


def current_source() -> str:
    return _source.get()


@contextlib.contextmanager
def change_source(label: str):
    token = _source.set(label[:200])
    try:
        yield
    finally:
        _source.reset(token)


def enter_source(label: str):
    return _source.set(label[:200])


def leave_source(token) -> None:
    _source.reset(token)


def snapshot(obj: models.Model | Row, fields: list[str] | None = None) -> dict:
    """The object's concrete field values as JSON-safe data, keyed by field name (also of a
    bulk.Row)."""
    model = obj.model if isinstance(obj, Row) else type(obj)
    return {
        name: _json_safe(getattr(obj, attname))
        for name, attname in _attnames(model, tuple(fields or ()))
    }


@functools.cache
def _attnames(model: type[models.Model], fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = fields or [
        f.name
        for f in model._meta.concrete_fields
        if f.name not in {"id", "created_at", "updated_at"} and not isinstance(f, BlindIndexField)
    ]
    return tuple((name, model._meta.get_field(name).attname) for name in names)


_ENCODER = DjangoJSONEncoder()


# Encryption at rest: a snapshot holds the plain values (services compare snapshots to find
# a change); what is stored of an encrypted field (ID number, phone) is its mask, never the
# plain text.
@functools.cache
def _masks(model: type[models.Model]) -> dict[str, Callable[[str], str]]:
    return {f.name: f.mask for f in model._meta.concrete_fields if getattr(f, "encrypted", False)}


def at_rest(model: type[models.Model], values: dict | None) -> dict | None:
    """The values as a change record stores them: encrypted fields masked."""
    masks = _masks(model)
    if not values or not masks or masks.keys().isdisjoint(values):
        return values
    return {
        name: masks[name](value) if name in masks and isinstance(value, str) else value
        for name, value in values.items()
    }


def _json_safe(value):
    """What a round trip through DjangoJSONEncoder and json.loads gives, without the text."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    return _ENCODER.default(value)


def _actor_label(actor) -> str:
    if actor is None:
        return "系统"
    name = getattr(actor, "display_name", "") or actor.get_username()
    return f"{name}({actor.get_username()})" if name != actor.get_username() else name


def build_change(
    *,
    actor,
    node: Association,
    obj: models.Model,
    action: str,
    before: dict | None,
    after: dict | None,
) -> ChangeRecord:
    record = ChangeRecord(
        node=node,
        object_type=obj._meta.label,
        object_id=obj.pk,
        object_label=str(obj)[:200],
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        source=current_source(),
        before=at_rest(type(obj), before),
        after=at_rest(type(obj), after),
    )
    record.place_under(node)
    return record


def record_change(**kwargs) -> ChangeRecord:
    record = build_change(**kwargs)
    record.save()
    return record


# Personal identifiers inside change records are shown as the detail pages show them: a diff
# must not reveal what a page masks. Apps register a redactor per model and stored field
# (households: a person's ID number and phone, a household's phone); `redacted` applies them
# for a viewer. An association's office phone is public and is not registered.
_REDACTORS: dict[tuple[str, str], Callable[[object, str], str]] = {}


def register_redactor(object_type: str, field: str, redact: Callable[[object, str], str]):
    _REDACTORS[(object_type, field)] = redact


def redacted(records, user) -> list[ChangeRecord]:
    """The records with registered fields redacted for `user` (in-memory copies only)."""
    records = list(records)
    for record in records:
        for values in (record.before, record.after):
            for (object_type, field), redact in _REDACTORS.items():
                value = values.get(field) if values else None
                # Stored masked already (encryption at rest, `at_rest`): shown as stored.
                if record.object_type == object_type and value and "*" not in str(value):
                    values[field] = redact(user, value)
    return records


def record_changes(records: list[ChangeRecord]) -> None:
    """For bulk writes: one change record per row, inserted in bulk."""
    insert_many(records)


PLACE_COLUMNS = ("county_id", "township_id", "village_id", "group_id")
# Field types whose value a JSON object built by the database holds as a snapshot holds it
# (DjangoJSONEncoder): numbers and text as they are, decimals and dates as their text.
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveSmallIntegerField",
    "TextField",
}
_AS_TEXT = {"DecimalField", "DateField"}


def record_changes_of_rows(
    actor,
    rows: models.QuerySet,
    *,
    action: str,
    label,
    before: dict | None,
    after: dict | list[str],
) -> int:
    """One change record per row of `rows` (a scoped queryset), written by the database in one
    INSERT … SELECT: for bulk writes of tens of thousands of rows, where building each record
    in Python costs more than the write. `label`: an expression giving what str() gives a row;
    `before`/`after`: values the same for every row, or (`after`) the names of fields whose
    own values each record holds. Encrypted fields are refused: the database cannot mask
    them as `at_rest` does. Returns how many records were written."""
    model = rows.model
    names = set(before or ()) | set(after)
    if names & _masks(model).keys():
        raise ValueError(f"{model._meta.label}: encrypted fields need record_changes")
    columns = {
        **{column: column for column in PLACE_COLUMNS},
        "node_id": Coalesce(*reversed(PLACE_COLUMNS)),
        "object_type": Value(model._meta.label),
        "object_id": "pk",
        "object_label": Left(label, 200),
        "action": Value(action),
        "actor_label": Value(_actor_label(actor)),
        "source": Value(current_source()),
        "after": _json_of(model, after),
        "at": Now(),
    }
    if getattr(actor, "pk", None):
        columns["actor_id"] = Value(actor.pk)
    if before is not None:  # else SQL NULL, as a record's save writes None
        columns["before"] = Value(_json_safe(before), output_field=models.JSONField())
    return insert_select(ChangeRecord, rows, columns)


def _json_of(model: type[models.Model], values: dict | list[str]):
    if isinstance(values, dict):
        return Value(_json_safe(values), output_field=models.JSONField())
    fields = {}
    for name, attname in _attnames(model, tuple(values)):
        kind = model._meta.get_field(name).get_internal_type()
        if kind in _AS_TEXT:
            fields[name] = Cast(attname, models.CharField())
        elif kind in _AS_IS:
            fields[name] = models.F(attname)
        else:
            raise TypeError(f"{model._meta.label}.{name}: {kind} is not snapshotted in SQL")
    return JSONObject(**fields)


class ChangeRows:
    """The change records of a bulk write of thousands of objects, built as plain rows (no
    model instance per record) with what build_change gives each, and inserted in bulk
    without reading their ids back."""

    def __init__(self, actor):
        self.actor_id = actor.pk if getattr(actor, "pk", None) else None
        self.actor_label = _actor_label(actor)
        self.source = current_source()
        self.rows: list[Row] = []

    def add(self, *, node: Association, obj, action: str, before: dict | None, after: dict):
        """``obj``: a model instance, or a bulk.Row (its str is the record's label)."""
        model = obj.model if isinstance(obj, Row) else type(obj)
        row = row_class(ChangeRecord)(
            node_id=node.pk,
            object_type=model._meta.label,
            object_id=obj.pk,
            object_label=str(obj)[:200],
            action=action,
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            source=self.source,
            before=at_rest(model, before),
            after=at_rest(model, after),
        )
        row.place_under(node)
        self.rows.append(row)

    def insert(self) -> None:
        insert_many(self.rows, ids=False)
