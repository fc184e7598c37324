import datetime

import pytest
from django.http import Http404

from activities import selectors, services
from activities.periods import Period
from associations.scope import Scope, activate

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def activities(world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        made = {
            "village": services.activity_create(
                actor=admin,
                association=a.villages[0],
                kind="publicity",
                date=D(2025, 5, 29),
                attendees=[a.members[0]],
            ),
            "group": services.activity_create(
                actor=admin, association=a.groups[1], kind="publicity", date=D(2025, 6, 1)
            ),
            "sibling": services.activity_create(
                actor=admin, association=a.villages[1], kind="training", date=D(2025, 6, 2)
            ),
            "township": services.activity_create(
                actor=admin, association=a.townships[0], kind="training", date=D(2024, 6, 2)
            ),
        }
    return a, made


def test_a_village_lists_its_own_and_its_groups_activities(activities):
    a, made = activities
    user = a.users["village_secretary"]
    with activate(Scope.for_node(a.villages[0])):
        listed = list(selectors.activity_list(actor=user))
        assert [x.pk for x in listed] == [made["group"].pk, made["village"].pk]
        assert [x.attendee_count for x in listed] == [0, 1]
        with pytest.raises(Http404):
            selectors.activity_get(actor=user, pk=made["sibling"].pk)


def test_the_township_narrows_by_node_period_and_kind(activities):
    a, made = activities
    user = a.users["township_staff"]
    with activate(Scope.for_node(a.townships[0])):
        in_2025 = selectors.activity_list(actor=user, period=Period.year(2025))
        assert {x.pk for x in in_2025} == {made[k].pk for k in ("village", "group", "sibling")}
        trainings = selectors.activity_list(actor=user, kind="training")
        assert {x.pk for x in trainings} == {made["sibling"].pk, made["township"].pk}
        village = selectors.activity_list(actor=user, node=a.villages[1])
        assert [x.pk for x in village] == [made["sibling"].pk]
        attendees = selectors.activity_attendees(activity=made["village"])
        assert [row.member.person.name for row in attendees] == [a.members[0].person.name]


def test_filters_narrow_the_lists(activities):
    a, made = activities
    user = a.users["township_staff"]
    with activate(Scope.for_node(a.townships[0])):
        found = selectors.activity_list(
            actor=user, filters={"under": a.villages[0].pk, "date_from": "2025-05-30"}
        )
        assert [x.pk for x in found] == [made["group"].pk]
        found = selectors.activity_list(actor=user, filters={"kind": "training", "q": ""})
        assert {x.pk for x in found} == {made["sibling"].pk, made["township"].pk}
        # a node of another county filters everything out
        foreign = selectors.activity_list(actor=user, filters={"under": a.county.pk + 10_000})
        assert not foreign.exists()


def test_open_follow_ups_and_visits_counted_toward_a_pairing(world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        open_visit = services.visit_record(
            actor=admin,
            visitor=a.members[1],
            household=a.households[1],
            visited_on=datetime.date.today(),
            purpose="hardship_help",
            follow_up_needed=True,
        )
        services.visit_record(
            actor=admin,
            visitor=a.members[1],
            household=a.households[1],
            visited_on=datetime.date.today(),
            purpose="condolence",
        )
        found = selectors.visit_list(actor=admin, filters={"follow_up_open": True})
        assert [v.pk for v in found] == [open_visit.pk]
        pairing = open_visit.pairing
        assert selectors.pairing_visit_counts(pairing_ids=[pairing.pk]) == {pairing.pk: 2}
