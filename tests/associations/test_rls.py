"""Row-level security beneath the scoped managers: proven with raw SQL as a role that is
neither superuser nor table owner (the test's own connection is a superuser, which
PostgreSQL exempts from policies)."""

import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from associations.rls import ALL_COUNTIES_ROLE, POLICY, SETTING
from associations.scope import Scope, UnscopedReason, activate, unscoped
from associations.services import scoped_models

pytestmark = pytest.mark.django_db


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SETTING])
        return cursor.fetchone()[0] or ""


@pytest.mark.parametrize("model", scoped_models(), ids=lambda m: m._meta.label)
def test_every_scoped_table_has_a_forced_policy(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
        )
        assert cursor.fetchone() == (True, True)
        cursor.execute(
            "SELECT count(*) FROM pg_policies WHERE tablename = %s AND policyname = %s",
            [table, POLICY],
        )
        assert cursor.fetchone()[0] == 1
        # 'all' only for members of the group role (issue 12)
        cursor.execute(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s",
            [table, POLICY],
        )
        for expression in cursor.fetchone():
            assert f"pg_has_role(CURRENT_USER, '{ALL_COUNTIES_ROLE}'" in expression


def test_the_scope_keeps_the_connection_setting_in_step(world):
    assert setting() == ""
    with activate(Scope.for_node(world.a.villages[0])):
        assert setting() == str(world.a.county.pk)
        with activate(Scope.for_node(world.b.county)):
            assert setting() == str(world.b.county.pk)
        assert setting() == str(world.a.county.pk)
        with unscoped(reason=UnscopedReason.TEST_FIXTURES):
            assert setting() == "all"
        assert setting() == str(world.a.county.pk)
    assert setting() == ""


def test_policies_filter_and_refuse_rows_for_a_non_owner_role(world):
    role = f"jsx_probe_{uuid.uuid4().hex[:8]}"
    call_command("grant_app_role", role=role)
    a, b = world.a, world.b
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {role} TO CURRENT_USER")  # needed to SET ROLE unless superuser
        cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            cursor.execute("SELECT set_config(%s, '', false)", [SETTING])
            cursor.execute("SELECT count(*) FROM associations_association")
            assert cursor.fetchone()[0] == 0  # no scope: no rows
            cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, str(a.county.pk)])
            cursor.execute("SELECT DISTINCT county_id FROM associations_association")
            assert cursor.fetchall() == [(a.county.pk,)]
            cursor.execute(
                "UPDATE associations_association SET name = 'x' WHERE county_id = %s",
                [b.county.pk],
            )
            assert cursor.rowcount == 0  # the other county's rows are not there to update
            cursor.execute("SAVEPOINT before_insert")
            with pytest.raises(Exception, match="row-level security"):
                cursor.execute(
                    "INSERT INTO associations_councilseat "
                    "(county_id, council_id, position, person_name, background, note) "
                    "VALUES (%s, %s, 'director', '越界', 'elder', '')",
                    [b.county.pk, b.councils[b.villages[0].pk].pk],
                )
            cursor.execute("ROLLBACK TO SAVEPOINT before_insert")
            # The app role may set 'all' (set_config is open to every session), but it is not
            # in jsx_all_counties: one SQL injection through it sees no county at all.
            cursor.execute("SELECT set_config(%s, 'all', false)", [SETTING])
            cursor.execute("SELECT count(*) FROM associations_association")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM households_person")
            assert cursor.fetchone()[0] == 0
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT set_config(%s, '', false)", [SETTING])


def test_grant_app_role_refuses_a_superuser():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="超级用户"):
        call_command("grant_app_role", role="postgres")


# --- All-counties database role (issue 12) ---------------------------------------------------


def _count_as(role: str, value: str, table: str, *, distinct: str = "*") -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {role} TO CURRENT_USER")  # needed to SET ROLE unless superuser
        cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])
            cursor.execute(f"SELECT count({distinct}) FROM {table}")
            return cursor.fetchone()[0]
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT set_config(%s, '', false)", [SETTING])


def test_all_counties_needs_the_group_role(world):
    """A raw set_config('app.county_id', 'all') as the app role shows nothing; the same as the
    all-counties role (a member of jsx_all_counties) shows every county's rows."""
    app_role = f"jsx_probe_{uuid.uuid4().hex[:8]}"
    all_role = f"jsx_probe_all_{uuid.uuid4().hex[:8]}"
    call_command("grant_app_role", role=app_role, all_counties=all_role)
    for table in ("associations_association", "households_person", "members_member"):
        assert _count_as(app_role, "all", table) == 0
        assert _count_as(all_role, "all", table, distinct="DISTINCT county_id") == 2
    # Both still see one county when the setting names it.
    a = world.a.county.pk
    assert _count_as(app_role, str(a), "households_person") == len(world.a.persons)
    assert _count_as(all_role, str(a), "households_person") == len(world.a.persons)


def test_the_app_role_cannot_join_the_group_itself(world):
    role = f"jsx_probe_{uuid.uuid4().hex[:8]}"
    call_command("grant_app_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {role} TO CURRENT_USER")
        cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            for statement in (
                f"GRANT {ALL_COUNTIES_ROLE} TO {role}",
                # (SET ROLE is checked against the session user, here the CI role: not tried)
                f"CREATE ROLE {role}_x IN ROLE {ALL_COUNTIES_ROLE}",
            ):
                cursor.execute("SAVEPOINT attempt")
                with pytest.raises(Exception, match=r"permission denied|must have admin option"):
                    cursor.execute(statement)
                cursor.execute("ROLLBACK TO SAVEPOINT attempt")
            cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [ALL_COUNTIES_ROLE])
            assert cursor.fetchone()[0] is False
        finally:
            cursor.execute("RESET ROLE")


def test_grant_app_role_takes_the_app_role_out_of_the_group():
    role = f"jsx_probe_{uuid.uuid4().hex[:8]}"
    call_command("grant_app_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {ALL_COUNTIES_ROLE} TO {role}")
        call_command("grant_app_role", role=role)
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, ALL_COUNTIES_ROLE])
        assert cursor.fetchone()[0] is False


def test_grant_app_role_refuses_a_role_that_can_create_roles():
    from django.core.management import CommandError

    role = f"jsx_probe_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} CREATEROLE")
    with pytest.raises(CommandError, match="CREATEROLE"):
        call_command("grant_app_role", role=role)
    with pytest.raises(CommandError, match="相同"):
        call_command("grant_app_role", role="jsx_x", all_counties="jsx_x")
