import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from associations import selectors, services
from associations.models import CouncilPosition, DirectorBackground
from associations.scope import Scope, activate

pytestmark = pytest.mark.django_db


def fill_council(world, village, elders, notables, cadres):
    council = world.a.councils[village.pk]
    admin = world.a.users["county_admin"]
    plan = (
        [DirectorBackground.ELDER] * elders
        + [DirectorBackground.NOTABLE] * notables
        + [DirectorBackground.CADRE] * (cadres - 1)  # the president (a cadre) is seated
    )
    for i, background in enumerate(plan):
        services.council_seat_add(
            actor=admin,
            council=council,
            position=CouncilPosition.DIRECTOR,
            person_name=f"理事{i}",
            background=background,
        )
    return council


@pytest.mark.parametrize(
    ("small", "seats", "met", "missing"),
    [
        (False, (5, 3, 3), True, []),
        (False, (4, 3, 3), False, ["还缺 1 名五老"]),
        (False, (5, 1, 2), False, ["还缺 2 名社会贤达·致富能人·积极分子", "还缺 1 名村干部"]),
        (True, (3, 2, 1), True, []),
        (True, (2, 2, 1), False, ["还缺 1 名五老"]),
    ],
)
def test_council_model_check(world, small, seats, met, missing):
    village = world.a.villages[0]
    with world.a.scope():
        services.association_update(
            actor=world.a.users["county_admin"], association=village, is_small_village=small
        )
        fill_council(world, village, *seats)
        council = selectors.current_council(association=village)
        check = selectors.council_model_check(council=council)
    assert check.model_name == ("3-2-1" if small else "5-3-3")
    assert check.is_met is met
    assert check.missing_text() == missing


def test_no_model_check_above_village(world):
    with world.a.scope():
        council = services.council_create(
            actor=world.a.users["county_admin"],
            association=world.a.townships[0],
            term_number=1,
            starts_on="2024-01-01",
            ends_on="2029-01-01",
        )
        assert selectors.council_model_check(council=council) is None


def test_children_and_counts_take_constant_queries(world):
    a = world.a
    with activate(Scope.for_node(a.county)):
        with CaptureQueriesContext(connection) as queries:
            children = selectors.association_children(node=a.county)
            counts = selectors.subtree_counts(node=a.county)
        assert len(queries) == 3  # children, their sub-counts, the subtree counts
    assert [c.sub_count for c in children] == [2, 2]
    assert counts == {"county": 0, "township": 2, "village": 4, "group": 8}


def test_next_child_code(world):
    a = world.a
    with a.scope():
        assert selectors.next_child_code(parent=a.county) == "130534102"
        assert (
            selectors.next_child_code(parent=a.villages[0]) == a.villages[0].division_code + "003"
        )


def test_current_council_orders_seats_by_office(world):
    village = world.a.villages[0]
    with world.a.scope():
        fill_council(world, village, 1, 1, 2)
        services.council_seat_add(
            actor=world.a.users["county_admin"],
            council=world.a.councils[village.pk],
            position=CouncilPosition.SECRETARY_GENERAL,
            person_name="秘书长甲",
            background=DirectorBackground.CADRE,
        )
        council = selectors.current_council(association=village)
        positions = [s.position for s in council.seats.all()]
    assert positions[:2] == ["president", "secretary_general"]


def test_staff_list_is_the_actors_subtree(world):
    a = world.a
    with activate(Scope.for_node(a.townships[0])):
        usernames = {u.username for u in selectors.staff_list(actor=a.users["township_staff"])}
    assert "village_secretary_130534" in usernames
    assert "township_staff_sibling_130534" not in usernames
    assert not any(name.endswith("130535") for name in usernames)
