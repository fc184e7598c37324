"""The figures table against villages built by hand, whose answers were worked out on paper
(see the comments): the table itself, birth order, the sex ratio, periods, the page and its
Excel export."""

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from associations import services as association_services
from associations.scope import Scope, activate
from households import services
from households.figures import (
    COLUMNS,
    TABLE_COLUMNS,
    Period,
    figures,
    sex_ratio,
    sex_ratio_per_100,
)
from households.models import Household

pytestmark = pytest.mark.django_db
D = datetime.date
H1 = Period.parse("2026-H1")  # 2026-01-01 .. 2026-06-30, ended before today


def person(actor, village, **fields):
    fields.setdefault("marital_status", "unmarried")
    fields.setdefault("name", "某人")
    return services.person_create(actor=actor, village=village, **fields)


# --- a village of three-generation households ------------------------------------------------


@pytest.fixture
def stats_village(world):
    """A new village 统计村 of county A's second township, with one member group 第一组.

    Ages are on 2026-06-30, the end of 2026-H1. "reg" 户籍常住, "out" 流出, "in" 流入.

    第一组:
      H1 0001 (reg household), three generations, no mother recorded on anyone:
        1 head M 1950 married reg · 2 spouse F 1952 (74) · 3 son M 1975 married reg
        4 child_in_law F 1978-08-01 (47, married, reg) · 5 daughter F 1980 (46, unmarried, out)
        6 grandchild M 2026-02-15 reg, BIRTH: the couple's first child → 一孩, although the
          head has two children (the old rule counted them: 三孩及以上).
      H2 0002 (reg household), the son's couple works away:
        7 head M 1955 died 2026-04-01 (DEATH, male) · 8 spouse F 1957 widowed reg
        9 son M 1982 married out · 10 child_in_law F 1984 (42, married, out)
        11 grandchild F 2010-04-01 (16, unmarried, reg: a woman of childbearing age)
        12 grandchild M 2026-05-20 out, BIRTH → 二孩 (after 11), 流动
      H3 0003 (reg household), a young couple:
        13 head M 1990 married · 14 spouse F 1992 (34, married, reg)
        15 daughter F 2016, mother 14 · 16 son M 2019, NO mother recorded (imported so)
        17 daughter F 2026-04-05 reg, mother 14, BIRTH → 三孩及以上: 15 by the mother, and 16
           as a son of the household whose mother is the head's spouse
      18 (no household) F 1940 died 2025-12-31: dead before the period, no death in it
    No group:
      H4 0004 (流入 household): 19 head M 1993 married in · 20 spouse F 1995 (31, married, in)
        21 son M 2026-01-20 in, mother 20, BIRTH → 一孩, 流动
        22 son M 2026-07-01 in, mother 20: born after the period, nowhere in its figures
      H5 0005 (reg household): 23 head F 1960 widowed · 24 sibling F 1988 (38, unmarried, reg)
        25 relation 其他 F 2026-06-30 (the last day) reg, no mother, BIRTH → 孩次未知
      26 F 2011-06-30 reg (exactly 15: counted) · 27 F 1976-06-30 married reg (exactly 50: not)
      28 F 1976-07-01 married out (49: counted) · 29 F 1945 died 2026-06-30 (DEATH, female)
    """
    a = world.a
    actor = a.users["county_admin"]
    with a.scope():
        village = association_services.association_create(
            actor=actor, parent=a.townships[1], name="统计村", division_code="130534101299"
        )
        group = association_services.association_create(
            actor=actor, parent=village, name="统计村第一组", division_code="130534101299001"
        )

        def household(number, residency="registered", in_group=True):
            return services.household_create(
                actor=actor,
                village=village,
                group=group if in_group else None,
                number=number,
                residency=residency,
            )

        def member(home, relation, sex, born, **fields):
            return person(
                actor,
                village,
                household=home,
                relation_to_head=relation,
                sex=sex,
                birth_date=born,
                **fields,
            )

        married = {"marital_status": "married"}
        out, inflow = {"residency": "outflow"}, {"residency": "inflow"}
        h1 = household("0001")
        member(h1, "head", "male", D(1950, 3, 1), **married)
        member(h1, "spouse", "female", D(1952, 5, 1), **married)
        member(h1, "son", "male", D(1975, 6, 1), **married)
        member(h1, "child_in_law", "female", D(1978, 8, 1), **married)
        member(h1, "daughter", "female", D(1980, 2, 1), **out)
        member(h1, "grandchild", "male", D(2026, 2, 15), name="长孙")

        h2 = household("0002")
        member(
            h2, "head", "male", D(1955, 1, 1), is_deceased=True, died_on=D(2026, 4, 1), **married
        )
        member(h2, "spouse", "female", D(1957, 1, 1), marital_status="widowed")
        member(h2, "son", "male", D(1982, 1, 1), **married, **out)
        member(h2, "child_in_law", "female", D(1984, 1, 1), **married, **out)
        member(h2, "grandchild", "female", D(2010, 4, 1))
        member(h2, "grandchild", "male", D(2026, 5, 20), **out)

        h3 = household("0003")
        member(h3, "head", "male", D(1990, 1, 1), **married)
        mother = member(h3, "spouse", "female", D(1992, 1, 1), **married)
        member(h3, "daughter", "female", D(2016, 1, 1), mother=mother)
        member(h3, "son", "male", D(2019, 1, 1))
        member(h3, "daughter", "female", D(2026, 4, 5), mother=mother)

        person(
            actor,
            village,
            group=group,
            sex="female",
            birth_date=D(1940, 1, 1),
            marital_status="widowed",
            is_deceased=True,
            died_on=D(2025, 12, 31),
        )

        h4 = household("0004", residency="inflow", in_group=False)
        member(h4, "head", "male", D(1993, 1, 1), **married, **inflow)
        mother = member(h4, "spouse", "female", D(1995, 1, 1), **married, **inflow)
        member(h4, "son", "male", D(2026, 1, 20), mother=mother, **inflow)
        member(h4, "son", "male", D(2026, 7, 1), mother=mother, **inflow)

        h5 = household("0005", in_group=False)
        member(h5, "head", "female", D(1960, 1, 1), marital_status="widowed")
        member(h5, "sibling", "female", D(1988, 1, 1))
        member(h5, "other", "female", D(2026, 6, 30))

        person(actor, village, sex="female", birth_date=D(2011, 6, 30))
        person(actor, village, sex="female", birth_date=D(1976, 6, 30), **married)
        person(actor, village, sex="female", birth_date=D(1976, 7, 1), **married, **out)
        person(
            actor,
            village,
            sex="female",
            birth_date=D(1945, 1, 1),
            marital_status="widowed",
            is_deceased=True,
            died_on=D(2026, 6, 30),
        )
    village.first_group = group
    return village


# Worked out by hand from the fixture's docstring (numbers are the persons listed there).
GROUP_ROW = {
    # H1, H2, H3, all registered households.
    "households": 3,
    "households_registered": 3,
    "households_floating": 0,
    # Alive on 06-30: H1 1-6 (6), H2 8-12 (5; 7 died), H3 13-17 (5); 18 died: 16 persons,
    # of whom out: 5, 9, 10, 12 (4); in: none; reg: the other 12.
    "registered": 12,
    "inflow": 0,
    "outflow": 4,
    "hukou_population": 16,  # 12 + 4
    "resident_population": 12,  # 12 + 0
    # Women 15-49: 4 (reg), 5 (out), 10 (out), 11 (reg, 16), 14 (reg).
    "women_15_49": 5,
    "women_15_49_registered": 3,
    "women_15_49_floating": 2,
    # Married of them: 4 (reg), 10 (out), 14 (reg).
    "married_women_15_49": 3,
    "married_women_15_49_registered": 2,
    "married_women_15_49_floating": 1,
    # Births: 6 M reg 一孩, 12 M out 二孩, 17 F reg 三孩及以上.
    "births": 3,
    "births_male": 2,
    "births_female": 1,
    "births_registered": 2,
    "births_registered_male": 1,
    "births_registered_female": 1,
    "births_floating": 1,
    "births_floating_male": 1,
    "births_floating_female": 0,
    "births_order_1": 1,
    "births_order_2": 1,
    "births_order_3": 1,
    "births_order_unknown": 0,
    # Deaths: 7 (M, 04-01); 18 died before the period.
    "deaths": 1,
    "deaths_male": 1,
    "deaths_female": 0,
}
NO_GROUP_ROW = {
    # H4 (流入), H5 (reg).
    "households": 2,
    "households_registered": 1,
    "households_floating": 1,
    # Alive on 06-30: 19, 20, 21, 23, 24, 25, 26, 27, 28 (22 born 07-01, 29 died 06-30): 9,
    # of whom in: 19, 20, 21 (3); out: 28 (1); reg: 23, 24, 25, 26, 27 (5).
    "registered": 5,
    "inflow": 3,
    "outflow": 1,
    "hukou_population": 6,  # 5 + 1
    "resident_population": 8,  # 5 + 3
    # Women 15-49: 20 (in), 24 (reg), 26 (reg, exactly 15), 28 (out, 49); 27 is 50.
    "women_15_49": 4,
    "women_15_49_registered": 2,
    "women_15_49_floating": 2,
    # Married of them: 20 (in), 28 (out).
    "married_women_15_49": 2,
    "married_women_15_49_registered": 0,
    "married_women_15_49_floating": 2,
    # Births: 21 M in 一孩, 25 F reg 未知.
    "births": 2,
    "births_male": 1,
    "births_female": 1,
    "births_registered": 1,
    "births_registered_male": 0,
    "births_registered_female": 1,
    "births_floating": 1,
    "births_floating_male": 1,
    "births_floating_female": 0,
    "births_order_1": 1,
    "births_order_2": 0,
    "births_order_3": 0,
    "births_order_unknown": 1,
    # Deaths: 29 (F, 06-30, the last day).
    "deaths": 1,
    "deaths_male": 0,
    "deaths_female": 1,
}
TOTAL_ROW = {key: GROUP_ROW[key] + NO_GROUP_ROW[key] for key in GROUP_ROW}


def test_hand_worked_totals_are_consistent():
    """The hand count agrees with itself: the definitions hold on every row."""
    assert set(GROUP_ROW) == {c.key for c in COLUMNS}
    for row in (GROUP_ROW, NO_GROUP_ROW, TOTAL_ROW):
        assert row["hukou_population"] == row["registered"] + row["outflow"]
        assert row["resident_population"] == row["registered"] + row["inflow"]
        for key in ("households", "women_15_49", "married_women_15_49", "births"):
            assert row[key] == row[f"{key}_registered"] + row[f"{key}_floating"]
    assert TOTAL_ROW["hukou_population"] == 22 and TOTAL_ROW["resident_population"] == 20
    assert (TOTAL_ROW["births_male"], TOTAL_ROW["births_female"]) == (3, 2)


def test_village_figures_match_the_hand_count(world, stats_village):
    with activate(Scope.for_node(world.a.county)):
        table = figures(node=stats_village, period=H1)
    rows = {row.unit.pk if row.unit else None: row for row in table.rows}
    assert list(rows) == [None, stats_village.first_group.pk]  # "未分小组" sorts first
    assert rows[stats_village.first_group.pk].values == GROUP_ROW
    assert rows[None].values == NO_GROUP_ROW
    assert table.total.values == TOTAL_ROW
    # Both notations of the sex ratio: 2 boys, 1 girl; 1 and 1; 3 and 2.
    group = rows[stats_village.first_group.pk]
    assert (group.sex_ratio, str(group.sex_ratio_per_100)) == ("2.00:1", "200.0")
    assert (rows[None].sex_ratio, str(rows[None].sex_ratio_per_100)) == ("1.00:1", "100.0")
    assert (table.total.sex_ratio, str(table.total.sex_ratio_per_100)) == ("1.50:1", "150.0")
    cells = table.total.cells()
    assert len(cells) == len(TABLE_COLUMNS) and cells[-2:] == [
        "1.50:1",
        table.total.sex_ratio_per_100,
    ]


def test_township_total_adds_the_village(world, stats_village):
    """The village is one row of its township, with the same figures as its own total."""
    with activate(Scope.for_node(world.a.county)):
        township = figures(node=world.a.townships[1], period=H1)
    row = next(r for r in township.rows if r.unit.pk == stats_village.pk)
    assert row.values == TOTAL_ROW


# --- birth order -----------------------------------------------------------------------------


def _orders(village, period=H1) -> tuple[int, int, int, int]:
    with activate(Scope.for_node(village)):
        total = figures(node=village, period=period).total.values
    return tuple(total[f"births_order_{k}"] for k in ("1", "2", "3", "unknown"))


def test_first_grandchild_is_a_first_child(world, stats_village):
    """H1 alone: the newborn grandson is 一孩 although the head has two children."""
    group = stats_village.first_group
    with activate(Scope.for_node(group)):
        table = figures(node=group, period=H1)
    # The group's rows are the group itself; its births are H1's, H2's and H3's.
    assert table.total.values["births_order_1"] == 1
    with activate(Scope.for_node(world.a.county)):
        h1 = Household.objects.get(village=stats_village, number="0001")
        grandson = h1.members.get(name="长孙")
        # Recording the household's second grandchild makes it 二孩, the first stays 一孩.
        services.person_create(
            actor=world.a.users["county_admin"],
            village=stats_village,
            household=h1,
            name="次孙",
            sex="female",
            birth_date=D(2026, 6, 1),
            relation_to_head="grandchild",
            marital_status="unmarried",
        )
    assert grandson.birth_date == D(2026, 2, 15)
    assert _orders(stats_village) == (2, 2, 1, 1)  # 一孩 H1 + H4; 二孩 H2 + H1's second


def test_ambiguous_grandchild_is_unknown_until_its_mother_is_recorded(world, stats_village):
    """Two married sons and their wives in one household: whose is the new grandchild?"""
    actor = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        home = services.household_create(actor=actor, village=stats_village, number="0006")
        for relation, sex, year in (
            ("head", "male", 1950),
            ("spouse", "female", 1952),
            ("son", "male", 1975),
            ("son", "male", 1978),
            ("child_in_law", "female", 1977),
        ):
            person(
                actor,
                stats_village,
                household=home,
                relation_to_head=relation,
                sex=sex,
                birth_date=D(year, 1, 1),
                marital_status="married",
            )
        second_wife = person(
            actor,
            stats_village,
            household=home,
            relation_to_head="child_in_law",
            sex="female",
            birth_date=D(1980, 1, 1),
            marital_status="married",
        )
        person(  # the elder couple's child
            actor,
            stats_village,
            household=home,
            relation_to_head="grandchild",
            sex="male",
            birth_date=D(2004, 1, 1),
        )
        newborn = person(
            actor,
            stats_village,
            household=home,
            relation_to_head="grandchild",
            sex="female",
            birth_date=D(2026, 3, 1),
        )
    # Fixture: 一孩 2 (H1, H4), 二孩 1, 三孩 1, 未知 1; the new grandchild adds an unknown.
    assert _orders(stats_village) == (2, 1, 1, 2)
    with activate(Scope.for_node(world.a.county)):
        services.person_update(actor=actor, person=newborn, mother=second_wife)
    # Her mother's first child: the elder grandchild is not hers.
    assert _orders(stats_village) == (3, 1, 1, 1)


def test_unmarried_middle_generation_is_not_a_couple(world, stats_village):
    """A grandchild whose household has no married son, daughter or child-in-law recorded:
    its parents are unknown, so is its order."""
    actor = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        home = services.household_create(actor=actor, village=stats_village, number="0007")
        person(
            actor,
            stats_village,
            household=home,
            relation_to_head="head",
            sex="female",
            birth_date=D(1955, 1, 1),
            marital_status="widowed",
        )
        person(
            actor,
            stats_village,
            household=home,
            relation_to_head="grandchild",
            sex="male",
            birth_date=D(2026, 1, 5),
        )
    assert _orders(stats_village) == (2, 1, 1, 2)


def test_third_child_by_household_when_no_mother_is_recorded(world, stats_village):
    """H3 gets a fourth child with no mother recorded: the head's sons and daughters born
    before (15, 16, 17) make it 三孩及以上; a half-sibling (mother outside) is not counted."""
    actor = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        h3 = Household.objects.get(village=stats_village, number="0003")
        elsewhere = person(actor, stats_village, sex="female", birth_date=D(1991, 1, 1))
        person(  # the head's child by another woman: not a sibling of the newborns
            actor,
            stats_village,
            household=h3,
            relation_to_head="son",
            sex="male",
            birth_date=D(2012, 1, 1),
            mother=elsewhere,
        )
        person(
            actor,
            stats_village,
            household=h3,
            relation_to_head="son",
            sex="male",
            birth_date=D(2026, 6, 2),
        )
        table = figures(node=stats_village, period=H1)
    assert table.total.values["births_order_3"] == 2  # 17 and the new son
    assert _orders(stats_village) == (2, 1, 2, 1)


# --- the sex ratio ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("boys", "girls", "text", "per_100"),
    [
        (95, 86, "1.10:1", "110.5"),  # seed 001's half-year
        (1, 1, "1.00:1", "100.0"),
        (201, 200, "1.01:1", "100.5"),  # 1.005 rounds half up (a float would give 1.00)
        (2021, 2000, "1.01:1", "101.1"),  # 101.05 rounds half up
        (0, 3, "0:1", "0.0"),  # no boys: said plainly, never "0.00:1"
        (3, 0, "—", None),  # no girls: no ratio
        (0, 0, "—", None),
    ],
)
def test_sex_ratio(boys, girls, text, per_100):
    assert sex_ratio(boys, girls) == text
    value = sex_ratio_per_100(boys, girls)
    assert (None if value is None else str(value)) == per_100


# --- periods and queries ---------------------------------------------------------------------


def test_county_figures_take_the_same_queries_with_more_villages(world, stats_village):
    """Set-based: adding a village with births adds rows, not queries."""
    a = world.a
    actor = a.users["county_admin"]

    def count() -> int:
        with activate(Scope.for_node(a.county)), CaptureQueriesContext(connection) as queries:
            figures(node=a.county, period=Period.parse("2026"))
        return len(queries)

    before = count()
    assert before <= 7  # persons, deaths, households, births, their siblings, the unit names
    with activate(Scope.for_node(a.county)):
        for index in range(2):
            village = association_services.association_create(
                actor=actor,
                parent=a.townships[0],
                name=f"新村{index}",
                division_code=f"13053410029{index}",
            )
            home = services.household_create(actor=actor, village=village, number="0001")
            mother = person(
                actor,
                village,
                household=home,
                relation_to_head="head",
                sex="female",
                birth_date=D(1990, 1, 1),
                marital_status="married",
            )
            for born in (D(2026, 2, 1), D(2026, 9, 1)):
                person(
                    actor,
                    village,
                    household=home,
                    relation_to_head="daughter",
                    sex="female",
                    birth_date=born,
                    mother=mother,
                )
    assert count() == before


def test_scope_limits_the_figures(world, stats_village):
    a = world.a
    with activate(Scope.for_node(a.villages[2])):  # a sibling village's secretary scope
        table = figures(node=a.villages[2], period=H1)
    assert table.total.values["births"] == 0


@pytest.mark.parametrize(
    ("key", "start", "end", "label", "normal"),
    [
        ("2026", D(2026, 1, 1), D(2026, 12, 31), "2026年", "2026"),
        (" 2026-h1 ", D(2026, 1, 1), D(2026, 6, 30), "2026年上半年", "2026-H1"),
        ("2026-H2", D(2026, 7, 1), D(2026, 12, 31), "2026年下半年", "2026-H2"),
        ("2026-Q1", D(2026, 1, 1), D(2026, 3, 31), "2026年第一季度", "2026-Q1"),
        ("2024-Q4", D(2024, 10, 1), D(2024, 12, 31), "2024年第四季度", "2024-Q4"),
    ],
)
def test_periods(key, start, end, label, normal):
    period = Period.parse(key)
    assert (period.start, period.end, period.label, period.key) == (start, end, label, normal)


@pytest.mark.parametrize("key", ["2026-Q5", "26", "2026Q1", "", "0000", "0001-Q1", "9999"])
def test_bad_periods(key):
    with pytest.raises(ValidationError):
        Period.parse(key)


def test_past_and_open_periods():
    today = D(2026, 11, 30)
    assert Period.parse("2026-H1").is_past(today) and not Period.parse("2026-H1").is_open(today)
    assert Period.parse("2026-Q4").is_open(today) and not Period.parse("2026-Q4").is_past(today)
    assert not Period.parse("2027").is_past(today) and not Period.parse("2027").is_open(today)


# --- the page and its export -----------------------------------------------------------------


def _get(client, user, name, node, period=None):
    client.force_login(user)
    query = {"period": period} if period is not None else {}
    return client.get(reverse(name, kwargs={"pk": node.pk}), query)


def _cells_of(values: dict) -> list:
    """A row of the page or the sheet, from the hand count, as displayed."""
    return [values[c.key] for c in COLUMNS]


def test_figures_page_shows_the_table_its_definitions_and_the_past_period_note(
    client, world, stats_village
):
    response = _get(client, world.a.users["county_admin"], "node-figures", stats_village, "2026-H1")
    assert response.status_code == 200
    body = response.content.decode()
    # Two header rows: the unit heading spans both; each group spans its columns.
    stub = '<span class="nb">会员</span><span class="nb">小组</span>'  # may wrap between
    assert f'<th scope="col" rowspan="2" class="stub">{stub}</th>' in body
    for label, span in (("户数", 3), ("人口", 5), ("育龄妇女", 3), ("已婚育龄妇女", 3)):
        assert f'<th scope="colgroup" colspan="{span}" class="group">{label}</th>' in body
    for label, span in (("出生", 3), ("常住出生", 3), ("流动出生", 3), ("出生孩次", 4)):
        assert f'<th scope="colgroup" colspan="{span}" class="group">{label}</th>' in body
    assert '<th scope="colgroup" colspan="2" class="group">出生性别比</th>' in body
    second = re.findall(r'<th scope="col" class="num" title="([^"]+)">(.*?)</th>', body)
    assert [title for title, _ in second] == [c.title for c in TABLE_COLUMNS]
    assert [re.sub(r"<[^>]+>", "", label) for _, label in second] == [
        c.label for c in TABLE_COLUMNS
    ]
    assert second[3:8] == [
        ("户籍人口", '<span class="nb">户籍</span><span class="nb">人口</span>'),
        ("常住人口", '<span class="nb">常住</span><span class="nb">人口</span>'),
        ("户籍常住人口", '<span class="nb">户籍</span><span class="nb">常住</span>'),
        ("流入人口", '<span class="nb">流入</span>'),
        ("流出人口", '<span class="nb">流出</span>'),
    ]
    assert "总人口" not in body
    # The formulas and which population the membership ratio uses.
    assert "户籍人口 = 户籍常住 + 流出;常住人口 = 户籍常住 + 流入" in body
    assert "会员占比按常住人口计算" in body
    # A past period: today's registry, not what was reported then.
    assert "本表是按今天的登记数据推算的2026年上半年数字" in body
    assert "不是当时上报的数字" in body
    total = response.context["total"]
    assert total.label == "合计"
    assert total.cells == [*_cells_of(TOTAL_ROW), "1.50:1", "150.0"]
    lines = {line.label: line.cells for line in response.context["lines"]}
    assert lines["未分小组"] == [*_cells_of(NO_GROUP_ROW), "1.00:1", "100.0"]
    assert lines["统计村第一组"] == [*_cells_of(GROUP_ROW), "2.00:1", "200.0"]
    export = reverse("node-figures-export", kwargs={"pk": stats_village.pk})
    assert f'href="{export}?period=2026-H1"' in body


def test_figures_page_of_the_current_period_says_it_is_open(client, world):
    a = world.a
    response = _get(client, a.users["township_staff"], "node-figures", a.villages[0])
    assert response.status_code == 200
    body = response.content.decode()
    assert "尚未结束" in body and "不是当时上报的数字" not in body
    total = response.context["total"]
    # The fixture household: head and spouse, registered: 户数 1 (常住 1), 户籍人口 2, 常住人口 2.
    assert total.cells[:5] == [1, 1, 0, 2, 2]
    # No births: no girls, no ratio.
    assert total.cells[-2:] == ["—", "—"]


def test_figures_export_carries_the_same_table(client, world, stats_village):
    user = world.a.users["county_admin"]
    page = _get(client, user, "node-figures", stats_village, "2026-H1")
    response = _get(client, user, "node-figures-export", stats_village, "2026-H1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert "%E7%BB%9F%E8%AE%A1%E6%9D%91" in response["Content-Disposition"]  # 统计村
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "统计村人口统计表(2026年上半年)"
    made_on = f"制表日期:{timezone.localdate():%Y-%m-%d}"
    assert made_on in sheet["A2"].value and "统计期:2026-01-01 至 2026-06-30" in sheet["A2"].value
    assert "不是当时上报的数字" in sheet["A3"].value  # the past-period note
    width = 1 + len(TABLE_COLUMNS)
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:AG1", "A2:AG2", "A3:AG3", "A4:A5"} <= merged and width == 33
    # The two header rows: groups merged over their columns, the labels below.
    assert sheet["A4"].value == "会员\n小组"  # wrapped where the page wraps it
    assert [sheet.cell(4, c).value for c in (2, 5, 10, 13)] == [
        "户数",
        "人口",
        "育龄妇女",
        "已婚育龄妇女",
    ]
    assert {"B4:D4", "E4:I4", "J4:L4", "M4:O4", "P4:R4", "S4:U4", "V4:X4", "Y4:AB4"} <= merged
    assert {"AC4:AE4", "AF4:AG4"} <= merged
    labels = [sheet.cell(5, c).value for c in range(2, width + 1)]
    assert [label.replace("\n", "") for label in labels] == [c.label for c in TABLE_COLUMNS]
    assert labels[3] == "户籍\n人口" and labels[25] == "三孩\n及以上"
    assert sheet.freeze_panes == "B6" and sheet.print_title_rows == "$4:$5"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    # The rows are the page's, value for value.
    lines = [*page.context["lines"], page.context["total"]]
    for offset, line in enumerate(lines):
        row = [sheet.cell(6 + offset, c).value for c in range(1, width + 1)]
        *counts, ratio, per_100 = line.cells
        assert row == [line.label, *counts, ratio, float(per_100)]
    assert sheet.cell(6 + len(lines), 1).value is None  # a blank row, then the notes
    notes = [sheet.cell(r, 1).value for r in range(7 + len(lines), sheet.max_row + 1)]
    assert notes[0] == "口径说明" and notes[1].startswith("户籍人口 = 户籍常住 + 流出")


def test_bad_period_is_the_pages_400_on_both(client, world):
    a = world.a
    for name in ("node-figures", "node-figures-export"):
        for bad in ("2026-Q9", "0000"):
            response = _get(client, a.users["township_staff"], name, a.villages[0], bad)
            assert response.status_code == 400, (name, bad)
            assert response["Content-Type"].startswith("text/html")
            assert "统计期" in response.content.decode()


def test_another_countys_node_is_404_on_both(client, world):
    for name in ("node-figures", "node-figures-export"):
        response = _get(client, world.a.users["county_admin"], name, world.b.villages[0])
        assert response.status_code == 404
        sibling = _get(client, world.a.users["village_secretary"], name, world.a.villages[1])
        assert sibling.status_code == 404


def test_node_page_states_the_membership_ratio_definition(client, world):
    a = world.a
    response = _get(client, a.users["village_secretary"], "node-detail", a.villages[0])
    body = response.content.decode()
    # One member (the head) among the head and spouse, both 户籍常住.
    assert "会员占常住人口 50.0%" in body and "常住人口 = 户籍常住 + 流入" in body
