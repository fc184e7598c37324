"""Row-level security beneath the scoped managers: proven with raw SQL as a role that is
neither superuser nor table owner (the test's own connection is a superuser, which
PostgreSQL exempts from policies)."""

import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from associations.rls import POLICY, SETTING
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
            cursor.execute("SELECT set_config(%s, 'all', false)", [SETTING])
            cursor.execute("SELECT count(DISTINCT county_id) FROM associations_association")
            assert cursor.fetchone()[0] == 2
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT set_config(%s, '', false)", [SETTING])


def test_grant_app_role_refuses_a_superuser():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="超级用户"):
        call_command("grant_app_role", role="postgres")
