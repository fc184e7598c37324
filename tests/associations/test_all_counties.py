"""Cross-county work on its own connection (issue 12): with an `all_counties` database alias,
every `unscoped()` block runs on it, connected as a role in jsx_all_counties, while the app
connection's role is not in the group and sees nothing under 'all'.

The test database is shared by both connections, so these tests commit (transactional) and
the two roles are assumed on connections of the CI role (SET ROLE / OPTIONS assume_role)."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from associations import all_counties, services
from associations.management.base import find_county
from associations.models import Association, Level, User
from associations.scope import Scope, UnscopedReason, activate, unscoped
from associations.tasks import send_to_every_county

PASSWORD = "Test@pass2026"


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def _without_alias():
    saved = connections.settings.pop(all_counties.ALIAS)
    try:
        yield
    finally:
        connections.settings[all_counties.ALIAS] = saved


@pytest.fixture
def roles(transactional_db):
    """The app connection as an app role outside the group; an all_counties alias assuming a
    role inside it."""
    suffix = uuid.uuid4().hex[:8]
    app_role, all_role = f"jsx_probe_{suffix}", f"jsx_probe_all_{suffix}"
    call_command("grant_app_role", role=app_role, all_counties=all_role)
    default = connections["default"]
    settings_dict = {
        **default.settings_dict,
        "OPTIONS": {**default.settings_dict["OPTIONS"], "assume_role": all_role},
    }
    connections.settings[all_counties.ALIAS] = settings_dict
    with default.cursor() as cursor:
        cursor.execute(f"GRANT {app_role}, {all_role} TO CURRENT_USER")
        cursor.execute(f"SET ROLE {app_role}")
    # Connected here: the test case refuses to open connections of aliases it was not declared
    # with (this one is configured only now), not to use one that is open.
    connections[all_counties.ALIAS].connect()
    try:
        yield app_role, all_role
    finally:
        connections[all_counties.ALIAS].close()
        del connections[all_counties.ALIAS]
        connections.settings.pop(all_counties.ALIAS, None)
        with default.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _counties() -> int:
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        return Association.objects.filter(level=Level.COUNTY).count()


def test_unscoped_work_runs_as_the_all_counties_role(roles):
    app_role, all_role = roles
    assert _current_user() == app_role
    before = _counties()
    county, _admin = services.county_create(
        name="甲县", division_code="131181", admin_username="admin_a", admin_password=PASSWORD
    )
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        assert _current_user() == all_role
        with activate(Scope.for_node(county)):  # a scope inside: still the same connection
            assert _current_user() == all_role
        assert _current_user() == all_role
    assert _current_user() == app_role
    assert _counties() == before + 1
    assert find_county("131181") == county
    assert send_to_every_county(_Recorder()) == before + 1
    # Without the alias the app role's own 'all' sees no county: cross-county work needs it.
    with _without_alias():
        assert _counties() == 0
        assert find_county("131181") is None
        recorder = _Recorder()
        assert send_to_every_county(recorder) == 0
        with pytest.raises(Exception, match="row-level security"):
            services.county_create(
                name="乙县", division_code="131182", admin_username="admin_b",
                admin_password=PASSWORD,
            )  # fmt: skip
    # The county's own scope on the app connection sees its rows.
    with activate(Scope.for_node(county)):
        assert _current_user() == app_role
        assert list(Association.objects.values_list("pk", flat=True)) == [county.pk]
    assert User.objects.get(username="admin_a").node_id == county.pk


def test_a_failed_unscoped_block_leaves_nothing(roles):
    """county_create's unscoped block is one transaction on the all-counties connection: the
    admin's refused password undoes the county inserted before it."""
    with pytest.raises(ValidationError):
        services.county_create(
            name="甲县", division_code="131181", admin_username="admin_a", admin_password="123"
        )
    assert find_county("131181") is None


def test_the_app_connections_transaction_does_not_hold_unscoped_work(roles):
    """The trap, stated: work routed to the other connection is outside a transaction open on
    the app connection, so rolling that back does not undo it (associations/all_counties.py)."""
    with contextlib.suppress(RuntimeError), transaction.atomic():
        services.county_create(
            name="甲县", division_code="131181", admin_username="admin_a", admin_password=PASSWORD
        )
        raise RuntimeError("rolled back on the app connection")
    assert find_county("131181") is not None


def test_the_operators_pages_read_through_the_all_counties_role(roles, client):
    services.county_create(
        name="甲县", division_code="131181", admin_username="admin_a", admin_password=PASSWORD
    )
    operator = User.objects.create_superuser("operator", password=PASSWORD)
    client.force_login(operator)
    assert "甲县" in client.get(reverse("platform-counties")).content.decode()
    response = client.post(
        reverse("platform-county-create"),
        {
            "name": "乙县",
            "division_code": "131182",
            "admin_username": "admin_b",
            "admin_password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert find_county("131182") is not None
    with _without_alias():
        assert "甲县" not in client.get(reverse("platform-counties")).content.decode()


class _Recorder:
    def __init__(self):
        self.sent = []

    def apply_async(self, **kwargs):
        self.sent.append(kwargs)
