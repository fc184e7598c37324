"""Model fields for identifiers encrypted at rest (associations.crypto).

    id_number = EncryptedCharField("居民身份证号码", max_length=18, null=True, mask=...)
    id_number_index = BlindIndexField(source="id_number")

- `EncryptedCharField` holds the plain text in Python and the ciphertext in the database
  (a text column: `k1:` + base64). `max_length` limits the plain text, as forms show it.
- `BlindIndexField` is the keyed HMAC of its source's value. Its attribute is computed from
  the source whenever the source is loaded, so every write path writes it with the value:
  save(), bulk_create(), bulk.insert_many (its COPY reads the attribute), bulk_update and
  update() through the scoped queryset (which add the index to the fields they write).
- Lookups on the encrypted field compare the index: exact, in, in_list, any_of (and isnull
  on the column). Anything else (contains, startswith, ranges, …) raises FieldError: a
  ciphertext cannot be searched by part, nor ordered.
- `mask`: what the change history stores of the value (associations.history), never the
  plain text."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import EmptyResultSet, FieldError
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col
from django.db.models.query_utils import DeferredAttribute

from . import crypto


def mask_everything(value: str) -> str:
    return "*" * len(value)


class EncryptedDescriptor(DeferredAttribute):
    """Setting the value (loading it included) marks its blind index loaded too: the index is
    computed from the value (BlindIndexDescriptor), and a save of a row read with .only(...)
    then writes both."""

    def __set__(self, instance, value):
        data = instance.__dict__
        data[self.field.attname] = value
        index = self.field.index_attname
        if index is not None and index not in data:
            data[index] = None


class EncryptedCharField(models.CharField):
    descriptor_class = EncryptedDescriptor
    encrypted = True
    description = "Text encrypted at rest (AES-GCM), with a keyed blind index"

    def __init__(self, *args, mask: Callable[[str], str] | None = None, **kwargs):
        self.mask = mask or mask_everything
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "associations.encrypted_fields.EncryptedCharField", args, kwargs

    def db_type(self, connection):
        return "text"

    def rel_db_type(self, connection):
        return "text"

    @property
    def context(self) -> str:
        """The associated data: the table and column the value belongs to."""
        return f"{self.model._meta.db_table}.{self.column}"

    @property
    def index_field(self) -> BlindIndexField:
        found = getattr(self, "_index_field", None)
        if found is None:
            found = next(
                (
                    f
                    for f in self.model._meta.concrete_fields
                    if isinstance(f, BlindIndexField) and f.source == self.name
                ),
                None,
            )
            if found is None:
                raise FieldError(f"{self.model._meta.label}.{self.name} has no BlindIndexField.")
            self._index_field = found
        return found

    @property
    def index_attname(self) -> str | None:
        try:
            return self.index_field.attname
        except FieldError:  # a model state without its index (migrations)
            return None

    def index_of(self, value) -> str | None:
        if value is None:
            return None
        return crypto.blind_index(str(value), context=self.context)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value), context=self.context)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt(value, context=self.context)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        lookup = INDEX_LOOKUPS.get(lookup_name)
        if lookup is None:
            raise FieldError(
                f"{self.model._meta.label}.{self.name} is encrypted: it can only be matched "
                f"exactly (exact, in, in_list, any_of, isnull), not by {lookup_name!r}."
            )
        return lookup

    def get_transform(self, lookup_name):
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: no {lookup_name!r} on it."
        )


class BlindIndexDescriptor(DeferredAttribute):
    """The index follows the source: computed from the source's loaded value, so a changed
    value is never written with a stale index."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        source = self.field.source_field
        data = instance.__dict__
        if source.attname in data:
            return source.index_of(data[source.attname])
        return super().__get__(instance, cls)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    descriptor_class = BlindIndexDescriptor
    description = "Keyed HMAC-SHA256 of an encrypted field's value"

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs["max_length"] = 64
        kwargs["editable"] = False
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("max_length", "editable", "null", "blank"):
            kwargs.pop(key, None)
        return name, "associations.encrypted_fields.BlindIndexField", args, kwargs

    @property
    def source_field(self) -> EncryptedCharField:
        return self.model._meta.get_field(self.source)

    def value_of(self, obj) -> str | None:
        """The index of an object's (a model instance's or a bulk.Row's) source value."""
        return self.source_field.index_of(getattr(obj, self.source_field.attname))


def index_fields_for(model, names) -> list[str]:
    """`names` (fields to write) plus the blind index of each encrypted field among them."""
    names = list(names)
    for name in list(names):
        field = model._meta.get_field(name)
        if getattr(field, "encrypted", False):
            index = field.index_field.name
            if index not in names:
                names.append(index)
    return names


def with_indexes(model, values: dict) -> dict:
    """update(**values): the blind index of each encrypted field set to a plain value."""
    extra = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        if getattr(field, "encrypted", False) and field.index_field.name not in values:
            # (bulk_update sends both, each as a CASE over the rows)
            if hasattr(value, "resolve_expression"):
                raise FieldError(f"{model._meta.label}.{name} is encrypted: set it to a value.")
            extra[field.index_field.name] = field.index_of(value)
    return {**values, **extra} if extra else values


# --- lookups: compare the blind index --------------------------------------------------------


class IndexLookup(Lookup):
    prepare_rhs = False

    def index_sql(self, compiler, connection):
        if not isinstance(self.lhs, Col):
            raise FieldError("An encrypted field can only be compared as a column.")
        field = self.lhs.target
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError(
                f"{field.model._meta.label}.{field.name} is encrypted: compare it with values."
            )
        sql, params = compiler.compile(field.index_field.get_col(self.lhs.alias))
        return field, sql, list(params)

    def values(self, field) -> list[str]:
        indexes = [field.index_of(v) for v in self.rhs if v is not None]
        if not indexes:
            raise EmptyResultSet
        return list(dict.fromkeys(indexes))

    def get_db_prep_lookup(self, value, connection):  # never the ciphertext of the value
        return "%s", [value]

    def process_rhs(self, compiler, connection):  # pragma: no cover - as_sql does it all
        raise NotImplementedError


class IndexExact(IndexLookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        field, sql, params = self.index_sql(compiler, connection)
        return f"{sql} = %s", [*params, field.index_of(self.rhs)]


class IndexIn(IndexLookup):
    lookup_name = "in"

    def as_sql(self, compiler, connection):
        field, sql, params = self.index_sql(compiler, connection)
        indexes = self.values(field)
        return f"{sql} IN ({', '.join(['%s'] * len(indexes))})", [*params, *indexes]


class IndexInList(IndexLookup):
    lookup_name = "in_list"

    def as_sql(self, compiler, connection):
        field, sql, params = self.index_sql(compiler, connection)
        return f"{sql} IN (SELECT unnest(%s::text[]))", [*params, self.values(field)]


class IndexAnyOf(IndexLookup):
    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        field, sql, params = self.index_sql(compiler, connection)
        return f"{sql} = ANY(%s::text[])", [*params, self.values(field)]


INDEX_LOOKUPS = {
    "exact": IndexExact,
    "in": IndexIn,
    "in_list": IndexInList,
    "any_of": IndexAnyOf,
}
