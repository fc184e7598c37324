"""The shapes of the duties queries that the benchmark changed: a visitor holding two leader
roles on the visit day counts for the role that started last (the anti-join), and the
president's queries are not widened by the models' default ordering."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities import services
from activities.duties import leader_visit_counts, president_group_visit_counts
from activities.periods import Period
from associations.scope import Scope, activate
from members import services as member_services
from members.models import GroupRole

pytestmark = pytest.mark.django_db
D = datetime.date
JAN = D(2025, 1, 1)


def test_overlapping_leader_roles_count_for_the_latest(world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        head = a.members[0]  # of group 0, village 0 (bare in the shared world)
        member_services.group_role_assign(actor=admin, member=head, role="leader", starts_on=JAN)
        # data as a move between groups can leave it: a second, later role, still open
        other = GroupRole(member=head, role="leader", starts_on=D(2025, 1, 15))
        other.place_under(a.groups[1])
        other.save()
        for day in (10, 20, 25):
            services.visit_record(
                actor=admin,
                visitor=head,
                household=a.households[0],
                visited_on=D(2025, 1, day),
                purpose="policy",
            )
        counts = leader_visit_counts(node=a.villages[0], period=Period.month(2025, 1))
    assert {group: dict(months) for group, months in counts.items()} == {
        a.groups[0].pk: {JAN: 1},
        a.groups[1].pk: {JAN: 2},
    }


def test_president_queries_select_only_what_they_count(world):
    a = world.a
    with (
        activate(Scope.for_node(a.county)),
        CaptureQueriesContext(connection) as queries,
    ):
        president_group_visit_counts(node=a.county, period=Period.year(2025))
    assert len(queries) == 2
    for query in queries.captured_queries:
        assert "ORDER BY" not in query["sql"]
        assert "members_member" not in query["sql"].split("WHERE")[0]
