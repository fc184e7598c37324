"""Row-level security on `county_id`: defence in depth beneath the scoped managers.

Every scoped table gets a policy that admits a row only when the connection's `app.county_id`
setting names the row's county ('all' under `unscoped`); with no setting, no row. The scope
context managers keep the setting in step with the active scope. PostgreSQL applies policies
to every role except superusers and roles with BYPASSRLS, so production connects as an app
role that does not own the tables (`manage.py grant_app_role`) while migrations run as the
owner. Apps enable it in a migration with `enable_row_level_security(...)`."""

from __future__ import annotations

from django.db import connection, migrations

SETTING = "app.county_id"
ALL_COUNTIES = "all"
POLICY = "county_isolation"
_PREDICATE = (
    f"current_setting('{SETTING}', true) = '{ALL_COUNTIES}' "
    f"OR county_id = nullif(nullif(current_setting('{SETTING}', true), ''), "
    f"'{ALL_COUNTIES}')::bigint"
)


def _enable(table: str) -> str:
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; "
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY; "
        f"CREATE POLICY {POLICY} ON {table} USING ({_PREDICATE}) WITH CHECK ({_PREDICATE});"
    )


def _disable(table: str) -> str:
    return (
        f"DROP POLICY IF EXISTS {POLICY} ON {table}; "
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; "
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
    )


def enable_row_level_security(*tables: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=[_enable(t) for t in tables], reverse_sql=[_disable(t) for t in tables]
    )


def set_connection_county(value: str) -> None:
    """Point the connection's policy setting at a county id, 'all', or '' (nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])
