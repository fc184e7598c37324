"""The scope: which part of the association tree the current request, task or command may see.

A `Scope` lives in a ContextVar. Every scoped model's default manager filters by it and raises
`NoActiveScope` when none is active: "no scope" never means "everything". The only way to see
across counties is `unscoped(reason=...)`, whose reasons are the closed list in `UnscopedReason`
and whose call sites are checked by tests/associations/test_scope_meta.py.
"""

from __future__ import annotations

import contextlib
import enum
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import sql

from . import all_counties, encrypted_fields, rls

NO_SCOPE_MESSAGE = (
    "A scoped model was queried with no active scope. Enter one with "
    "associations.scope.activate(Scope.for_node(node)), or pass --county to a command."
)


class NoActiveScope(RuntimeError):
    """A scoped model was queried outside any scope."""


class UnscopedReason(enum.Enum):
    TENANT_CREATION = "creating a county (tenant) and its first admin"
    PLATFORM_OPERATOR = "the platform operator's cross-county pages"
    COMMAND_COUNTY_LOOKUP = "a management command resolving its --county argument"
    SCHEMA_MIGRATION = "data migrations"
    TEST_FIXTURES = "test fixtures building a multi-county world"
    SCHEDULED_FANOUT = "a periodic task listing the counties to send one scoped task each"
    KEY_ROTATION = "re-encrypting every county's identifiers under the current key"


@dataclass(frozen=True)
class Scope:
    """A node of the tree and everything under it. `level` is the node's Level value."""

    county_id: int
    node_id: int
    level: str

    @classmethod
    def for_node(cls, node) -> Scope:
        return cls(county_id=node.county_id, node_id=node.pk, level=node.level)

    @property
    def ancestor_field(self) -> str:
        """The denormalised key that holds this node for every row beneath it."""
        return f"{self.level}_id"

    def lookup(self) -> dict:
        return {self.ancestor_field: self.node_id}


class _AllCounties:
    """The sentinel `unscoped()` puts in the ContextVar."""

    def __init__(self, reason: UnscopedReason):
        self.reason = reason


_current: ContextVar[Scope | _AllCounties | None] = ContextVar("association_scope", default=None)


def current_scope() -> Scope | None:
    value = _current.get()
    return value if isinstance(value, Scope) else None


def is_unscoped() -> bool:
    return isinstance(_current.get(), _AllCounties)


def _database_setting(value) -> str:
    if isinstance(value, Scope):
        return str(value.county_id)
    return rls.ALL_COUNTIES if isinstance(value, _AllCounties) else ""


def _set(value):
    """Enter a scope value in the ContextVar and in the connection's row-level-security
    setting; returns the token `leave` needs."""
    token = _current.set(value)
    if _database_setting(value) != _database_setting(token.old_value):
        rls.set_connection_county(_database_setting(value))
    return token


def enter(scope: Scope | None):
    """For middleware: set the scope and return the token to `leave` with."""
    return _set(scope)


def leave(token) -> None:
    leaving = _current.get()
    _current.reset(token)
    restored = _current.get()
    if _database_setting(leaving) != _database_setting(restored):
        rls.set_connection_county(_database_setting(restored))


@contextlib.contextmanager
def activate(scope: Scope):
    token = _set(scope)
    try:
        yield scope
    finally:
        leave(token)


@contextlib.contextmanager
def unscoped(*, reason: UnscopedReason):
    if not isinstance(reason, UnscopedReason):
        raise TypeError("unscoped() needs an UnscopedReason from the listed set.")
    # On the all-counties connection when one is configured (associations/all_counties.py):
    # the app role's own 'all' is refused by the row-level-security policies.
    route = reason is not UnscopedReason.SCHEMA_MIGRATION
    with all_counties.default_connection_is_all_counties(route) as moved:
        token = _set(_AllCounties(reason))
        try:
            with transaction.atomic() if moved else contextlib.nullcontext():
                yield
        finally:
            leave(token)


def scope_filter() -> dict | None:
    """The filter the active scope imposes; None under `unscoped`. Raises outside any scope."""
    value = _current.get()
    if isinstance(value, Scope):
        return value.lookup()
    if isinstance(value, _AllCounties):
        return None
    raise NoActiveScope(NO_SCOPE_MESSAGE)


class PendingScopeQuery(sql.Query):
    """The query of a queryset built outside any scope. It gets the scope when the queryset
    is next cloned inside one (forms and serializers clone their querysets per request);
    compiling it before that raises."""

    def get_compiler(self, *args, **kwargs):
        raise NoActiveScope(NO_SCOPE_MESSAGE)


def _resolve_pending(query: sql.Query) -> None:
    if type(query) is not PendingScopeQuery or _current.get() is None:
        return
    query.__class__ = sql.Query
    lookup = scope_filter()
    if lookup is not None:
        query.add_q(models.Q(**lookup))


class ScopedQuerySet(models.QuerySet):
    def _clone(self):
        clone = super()._clone()
        _resolve_pending(clone._query)
        return clone

    def _refuse_if_pending(self):
        if type(self.query) is PendingScopeQuery:
            scope_filter()  # raises: no scope is active

    def update(self, **kwargs):
        self._refuse_if_pending()
        # Encryption at rest: an encrypted field's blind index is written with it.
        kwargs = encrypted_fields.with_indexes(self.model, kwargs)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        # Encryption at rest: an encrypted field's blind index is written with it.
        fields = encrypted_fields.index_fields_for(self.model, fields)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def _update(self, values):
        self._refuse_if_pending()
        return super()._update(values)

    def delete(self):
        self._refuse_if_pending()
        return super().delete()


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    def get_queryset(self):
        queryset = super().get_queryset()
        if _current.get() is None:
            queryset.query.__class__ = PendingScopeQuery
            return queryset
        lookup = scope_filter()
        return queryset.filter(**lookup) if lookup is not None else queryset
