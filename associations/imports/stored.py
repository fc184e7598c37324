"""Rows an import reads to compare the file with, as light read-only tuples: a 10,000-row
file compares with 10,000 stored persons (and members), and most of them do not change.
Building a Django model for each (and parsing its two timestamps) cost more than the whole
check of the rows, so a stored row is a named tuple of the model's columns, and the model is
built only for a row that changes (`as_model`, with the timestamps left deferred: an import
sets updated_at itself and never reads created_at).

The reads go through the model's scoped manager like any other (the caller's queryset), only
without the model's default ordering, which joins the tables it sorts by."""

from __future__ import annotations

import functools
from collections import namedtuple

from django.db import DEFAULT_DB_ALIAS, models

NOT_READ = ("created_at", "updated_at")


@functools.cache
def stored_class(model: type[models.Model]) -> type:
    """A named tuple of the model's columns (attnames; the timestamps left out), with `pk`
    and `as_model()`."""
    fields = tuple(f.attname for f in model._meta.concrete_fields if f.attname not in NOT_READ)
    base = namedtuple(f"Stored{model.__name__}", fields)

    def as_model(self) -> models.Model:
        return model.from_db(DEFAULT_DB_ALIAS, fields, self)

    def label(self) -> str:
        return f"{model.__name__} {self.id}"  # what import-export's row result keeps

    return type(
        base.__name__,
        (base,),
        {
            "__slots__": (),
            "model": model,
            "fields": fields,
            "pk": property(lambda self: self.id),
            "as_model": as_model,
            "__str__": label,
        },
    )


def read_stored(queryset: models.QuerySet) -> list:
    """The queryset's rows as stored tuples of its model, in no particular order."""
    make = stored_class(queryset.model)._make
    return [
        make(row) for row in queryset.order_by().values_list(*stored_class(queryset.model).fields)
    ]


def is_stored(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "as_model")
