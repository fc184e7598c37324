"""The all-counties connection: where cross-county work (`unscoped`) runs (issue 12).

The row-level-security policies honour app.county_id = 'all' only for members of the group role
jsx_all_counties (associations/rls.py), and the app role is not one. With the setting or
environment variable ALL_COUNTIES_DATABASE_URL, the database alias `all_counties` connects as a
role that is, and every `unscoped` block runs on it; without it (development, tests) the block
runs on the default connection as before, whose role must then be in the group.

Routing is done by `unscoped` itself rather than by a DATABASE_ROUTERS router: for the length
of the block the default alias *is* the all-counties connection, in this thread or task only
(`connections` keeps one per thread and async context). So everything the block does follows:
ORM queries, the raw cursors (`set_config` of the policy setting, sequence ids, COPY in
associations/bulk.py) and `transaction.atomic()` without `using`. A router would move ORM
queries only, leave the 'all' setting and the atomic blocks on the app connection, and tag the
instances it loads with the other alias, so that they would be saved through it later, outside
any scope.

Transactions: a connection's transaction cannot hold another connection's work. An
`unscoped` block moved to the all-counties connection is therefore one transaction of its
own there (blocks nested in it join it), committed when the block ends. Work a caller did
before on the app connection, in a `transaction.atomic()` still open, is not visible to the
block, and rolling that transaction back does not undo the block: keep cross-county work in
its own block (as `county_create` does) and do not rely on an enclosing transaction of the
app connection. Without the alias nothing moves and the block is part of the app
connection's transaction, as before.
Migrations (UnscopedReason.SCHEMA_MIGRATION) are never moved: they run on the migration's
connection, as the tables' owner.
"""

from __future__ import annotations

import contextlib

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections

ALIAS = "all_counties"


def configured() -> bool:
    return ALIAS in connections.settings


@contextlib.contextmanager
def default_connection_is_all_counties(route: bool):
    """While the block runs, `connections['default']` is the all-counties connection (when one
    is configured and `route`); afterwards the app connection is put back. Yields whether this
    block moved it (False inside an outer block that did)."""
    if not route or not configured():
        yield False
        return
    app = connections[DEFAULT_DB_ALIAS]
    other = connections[ALIAS]
    if app is other:
        yield False
        return
    connections[DEFAULT_DB_ALIAS] = other
    try:
        yield True
    finally:
        connections[DEFAULT_DB_ALIAS] = app


@checks.register(checks.Tags.security, deploy=True)
def check_all_counties_alias(app_configs=None, **kwargs):
    if configured():
        return []
    return [
        checks.Warning(
            "ALL_COUNTIES_DATABASE_URL is not set: cross-county work runs on the app "
            "connection, whose role would then have to be in jsx_all_counties.",
            hint="Create the role with `manage.py grant_app_role --role <app role> "
            "--all-counties <all-counties role>` and set ALL_COUNTIES_DATABASE_URL.",
            id="associations.W001",
        )
    ]
