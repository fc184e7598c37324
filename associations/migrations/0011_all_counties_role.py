"""Issue 12: the row-level-security policies honour app.county_id = 'all' only for members of
the group role jsx_all_counties (created here if missing). Every table that carries the
county_isolation policy at the time is rewritten, whichever app created it; policies created by
migrations that run later take the same predicate from associations.rls (which also creates the
role before its first policy), so the order of the apps' migrations does not matter."""

from django.db import migrations

from associations.rls import require_all_counties_role


class Migration(migrations.Migration):
    dependencies = [
        ("associations", "0010_account_security"),
    ]

    operations = [require_all_counties_role()]
