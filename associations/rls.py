"""Row-level security on `county_id`: defence in depth beneath the scoped managers.

Every scoped table gets a policy that admits a row only when the connection's `app.county_id`
setting names the row's county ('all' under `unscoped`); with no setting, no row. The scope
context managers keep the setting in step with the active scope. PostgreSQL applies policies
to every role except superusers and roles with BYPASSRLS, so production connects as an app
role that does not own the tables (`manage.py grant_app_role`) while migrations run as the
owner. Apps enable it in a migration with `enable_row_level_security(...)`.

'all' is honoured only for a role that is a member of the group role `jsx_all_counties`
(issue 12): the app role can set the value (set_config is open to every session) but it is not
in the group, so one SQL injection through it cannot cross counties. Cross-county work
(`unscoped`) runs on the `all_counties` database alias when one is configured
(associations/all_counties.py), connected as a role in the group. The role that runs
migrations is put in the group too: FORCE ROW LEVEL SECURITY applies to the tables' owner, and
data migrations read across counties (it owns the tables, so this gives it nothing new)."""

from __future__ import annotations

from django.db import connection, migrations

SETTING = "app.county_id"
ALL_COUNTIES = "all"
POLICY = "county_isolation"
# The group role whose members alone may see all counties (a cluster-wide name: every
# database of the cluster shares it).
ALL_COUNTIES_ROLE = "jsx_all_counties"
_PREDICATE = (
    f"(current_setting('{SETTING}', true) = '{ALL_COUNTIES}' "
    f"AND pg_has_role(current_user, '{ALL_COUNTIES_ROLE}', 'MEMBER')) "
    f"OR county_id = nullif(nullif(current_setting('{SETTING}', true), ''), "
    f"'{ALL_COUNTIES}')::bigint"
)
# Before any policy names the group role: create it if missing (NOLOGIN; a concurrent
# migration in another database of the cluster may create it first) and put the role that runs
# the migration in it, unless it already is (superusers are members of every role).
ENSURE_ALL_COUNTIES_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ALL_COUNTIES_ROLE}') THEN
        BEGIN
            CREATE ROLE {ALL_COUNTIES_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT pg_has_role(current_user, '{ALL_COUNTIES_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT {ALL_COUNTIES_ROLE} TO %I', current_user);
    END IF;
END
$$;
"""


def _enable(table: str) -> str:
    return (
        f"{ENSURE_ALL_COUNTIES_ROLE}"
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


def _policy_tables_sql() -> str:
    return (
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_policies "
        f"WHERE policyname = '{POLICY}' AND schemaname = current_schema() ORDER BY tablename"
    )


def _rewrite_policies(predicate: str):
    """A migration step that puts `predicate` in every county_isolation policy of the schema:
    the tables are those that carry the policy, whichever app's migration created it."""

    def rewrite(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(ENSURE_ALL_COUNTIES_ROLE)
            cursor.execute(_policy_tables_sql())
            for (table,) in cursor.fetchall():
                cursor.execute(
                    f"ALTER POLICY {POLICY} ON {table} USING ({predicate}) WITH CHECK ({predicate})"
                )

    return rewrite


# The predicate before issue 12, for reversing the migration that replaced it.
_PREDICATE_BEFORE_GROUP_ROLE = (
    f"current_setting('{SETTING}', true) = '{ALL_COUNTIES}' "
    f"OR county_id = nullif(nullif(current_setting('{SETTING}', true), ''), "
    f"'{ALL_COUNTIES}')::bigint"
)


def require_all_counties_role() -> migrations.RunPython:
    """Rewrites every table's policy so that 'all' needs membership in ALL_COUNTIES_ROLE."""
    return migrations.RunPython(
        _rewrite_policies(_PREDICATE), _rewrite_policies(_PREDICATE_BEFORE_GROUP_ROLE)
    )


def set_connection_county(value: str) -> None:
    """Point the connection's policy setting at a county id, 'all', or '' (nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])
