"""The figures table against a village built by hand, whose answers were worked out on paper
(see the comments)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from associations.scope import Scope, activate
from households import services
from households.figures import Period, figures, sex_ratio

pytestmark = pytest.mark.django_db
D = datetime.date


def person(actor, village, **fields):
    fields.setdefault("marital_status", "unmarried")
    return services.person_create(actor=actor, village=village, **fields)


@pytest.fixture
def village(world):
    """Village t1v1 of county A, period 2026-Q1 (2026-01-01 .. 2026-03-31).

    Household H (fixture): head M 1980-04-01, spouse F 1982-04-01 (married), both registered;
      + daughter 2010-05-05 (15 at period end), + son 2026-02-10 (birth in Q1, 2nd of mother).
    Household H2 (inflow): head M 1990, wife F 1992 (married, inflow);
      + daughter 2026-03-15 (birth in Q1, 1st, floating), + son 2026-04-02 (after the period).
    No household: F 1960 died 2026-03-01 (death in Q1); M 1940 died 2025-12-31 (before);
      F 2011-03-31 (exactly 15 at end); F 1976-04-01 married (49 at end);
      F 1976-03-31 married (50 at end: not childbearing age).
    """
    a = world.a
    v = a.villages[3]
    actor = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        h = a.households[3]
        spouse = next(p for p in a.persons if p.household_id == h.pk and p.sex == "female")
        person(
            actor,
            v,
            household=h,
            name="大女",
            sex="female",
            birth_date=D(2010, 5, 5),
            relation_to_head="daughter",
            mother=spouse,
        )
        person(
            actor,
            v,
            household=h,
            name="小子",
            sex="male",
            birth_date=D(2026, 2, 10),
            relation_to_head="son",
            mother=spouse,
        )
        h2 = services.household_create(actor=actor, village=v, number="0099", residency="inflow")
        person(
            actor,
            v,
            household=h2,
            name="流入夫",
            sex="male",
            birth_date=D(1990, 1, 1),
            relation_to_head="head",
            residency="inflow",
            marital_status="married",
        )
        wife = person(
            actor,
            v,
            household=h2,
            name="流入妻",
            sex="female",
            birth_date=D(1992, 3, 3),
            relation_to_head="spouse",
            residency="inflow",
            marital_status="married",
        )
        person(
            actor,
            v,
            household=h2,
            name="流入女",
            sex="female",
            birth_date=D(2026, 3, 15),
            relation_to_head="daughter",
            residency="inflow",
            mother=wife,
        )
        person(
            actor,
            v,
            household=h2,
            name="流入子",
            sex="male",
            birth_date=D(2026, 4, 2),
            relation_to_head="son",
            residency="inflow",
            mother=wife,
        )
        person(
            actor,
            v,
            name="故一",
            sex="female",
            birth_date=D(1960, 1, 1),
            marital_status="widowed",
            is_deceased=True,
            died_on=D(2026, 3, 1),
        )
        person(
            actor,
            v,
            name="故二",
            sex="male",
            birth_date=D(1940, 1, 1),
            is_deceased=True,
            died_on=D(2025, 12, 31),
        )
        person(actor, v, name="十五", sex="female", birth_date=D(2011, 3, 31))
        person(
            actor, v, name="四九", sex="female", birth_date=D(1976, 4, 1), marital_status="married"
        )
        person(
            actor, v, name="五十", sex="female", birth_date=D(1976, 3, 31), marital_status="married"
        )
    return v


def test_village_figures_match_the_hand_count(world, village):
    with activate(Scope.for_node(world.a.county)):
        table = figures(node=village, period=Period.parse("2026-Q1"))
    total = table.total.values
    assert total["households"] == 2
    # Alive on 03-31: H 4 (head, spouse, daughter, son) + H2 3 (son not yet born) + 3 loose.
    assert (total["population"], total["registered"], total["inflow"], total["outflow"]) == (
        10,
        7,
        3,
        0,
    )
    # spouse 44, daughter 15, wife 34, 十五 15, 四九 49; 五十 is 50; 故一 died.
    assert total["women_15_49"] == 5
    assert total["married_women_15_49"] == 3  # spouse, wife, 四九
    assert (total["births"], total["births_male"], total["births_female"]) == (2, 1, 1)
    assert (total["births_order_1"], total["births_order_2"], total["births_order_3"]) == (1, 1, 0)
    assert (total["births_registered"], total["births_floating"]) == (1, 1)
    assert (total["deaths"], total["deaths_male"], total["deaths_female"]) == (1, 0, 1)
    assert table.total.sex_ratio == "1.00:1"
    # Rows by member group: H sits in a group, H2 and the loose persons in none.
    assert sum(r.values["population"] for r in table.rows) == 10
    assert {r.unit.pk if r.unit else None for r in table.rows} == {world.a.groups[6].pk, None}


def test_third_child_and_household_fallback(world, village):
    a = world.a
    actor = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        h = a.households[3]
        # No mother recorded: order from the household's children (daughter 2010, son 2026-02).
        person(
            actor,
            village,
            household=h,
            name="三孩",
            sex="male",
            birth_date=D(2026, 3, 20),
            relation_to_head="son",
        )
        table = figures(node=village, period=Period.parse("2026-Q1"))
    assert table.total.values["births_order_3"] == 1


def test_township_rows_are_its_villages_in_constant_queries(world, village):
    a = world.a
    with activate(Scope.for_node(a.county)), CaptureQueriesContext(connection) as queries:
        table = figures(node=a.townships[1], period=Period.parse("2026"))
    assert [r.unit.pk for r in table.rows] == [a.villages[2].pk, a.villages[3].pk]
    assert len(queries) <= 4  # persons, households, births, the unit names
    # A year: births in 2026 include the April son.
    assert table.total.values["births"] == 3


def test_scope_limits_the_figures(world, village):
    a = world.a
    with activate(Scope.for_node(a.villages[2])):  # a sibling village's secretary scope
        table = figures(node=a.villages[2], period=Period.parse("2026-Q1"))
    assert table.total.values["births"] == 0


@pytest.mark.parametrize(
    ("key", "start", "end", "label"),
    [
        ("2026", D(2026, 1, 1), D(2026, 12, 31), "2026年"),
        ("2026-h1", D(2026, 1, 1), D(2026, 6, 30), "2026年上半年"),
        ("2026-H2", D(2026, 7, 1), D(2026, 12, 31), "2026年下半年"),
        ("2026-Q1", D(2026, 1, 1), D(2026, 3, 31), "2026年第一季度"),
        ("2024-Q4", D(2024, 10, 1), D(2024, 12, 31), "2024年第四季度"),
    ],
)
def test_periods(key, start, end, label):
    period = Period.parse(key)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize("key", ["2026-Q5", "26", "2026Q1", ""])
def test_bad_periods(key):
    with pytest.raises(ValidationError):
        Period.parse(key)


@pytest.mark.parametrize(
    ("boys", "girls", "text"), [(95, 86, "1.10:1"), (1, 1, "1.00:1"), (3, 0, "—")]
)
def test_sex_ratio(boys, girls, text):
    assert sex_ratio(boys, girls) == text
