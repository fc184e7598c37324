"""The registered indicators on hand-worked values for 2025 Q1 in county A (the shared world
plus the records below), and the query count of a whole county, which does not grow with
villages.

County A, 2025 Q1 (January-March). Village v0 = a.villages[0] (a small village: 3-2-1), its
groups g0, g1; its head's member `head` leads g0 from 2025-01-01 and holds the president's
seat. The other villages have nothing in 2025 except what is listed.

activities   g0: Jan 10, Feb 10 publicity; Mar 10 会员小组会 (head attends)
             g1: Feb 5 publicity; Mar 20 培训
             v0: Feb 15 理事会; Mar 1 会员代表大会; Mar 8 publicity on 妇女节 (3.8)
visits       head: Jan 5, 12, 20 to home (g0); Jan 25 to `away` (g1, 困难帮扶); Feb 1, 2 home
hardship     2025 roster: home, away (v0); v1's household (assisted Feb 2);
             v2's household (paired only since the world was built, after 2025)
council v0   president (cadre) + 3 五老 + 2 贤达 directors: meets 3-2-1
members      v1: the spouse joins 2025-06-01 (after the quarter); v2: the spouse, a
             member since 2020, left 2025-03-01: neither counts on 31 March

expected (v0 / v1 / v2 / v3)
- council_quarterly          Q1 met in v0                          100 / 0 / 0 / 0
- group_activity_share       g0 every month, g1 not (Feb, Mar)     50 / 0 / 0 / 0
- leader_visit_share         g0: Jan 4 ✓, Feb 2 ✗, Mar 0 ✗; g1 no leader: 1 of 6
                                                                   16.67 / 0 / 0 / 0
- president_group_visits     Jan {g0, g1} ✓ (2 groups: 2 needed), Feb {g0}, Mar {g0}
                                                                   33.33 / 0 / 0 / 0
- congress_held, training_held                                     1 / 0 / 0 / 0
- themed_day_publicity       Q1 holds 3.8 only                     100 / 0 / 0 / 0
- hardship_assisted_share    v0: away helped, home not; v1 helped; v2 not; v3 none in roster
                                                                   50 / 100 / 0 / 100
- council_model              v0 meets 3-2-1; the others have 1 seat of 5-3-3  1 / 0 / 0 / 0
- membership_ratio           members on the roll 31 March ÷ 常住人口 (2 people each)
                                                                   50 / 50 / 50 / 50
- group level: group_activity_months g0 100, g1 66.67; leader_visit_months g0 33.33, g1 0
"""

import datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities import catalogues
from activities import services as activity_services
from associations import services as association_services
from associations.models import CouncilPosition, DirectorBackground
from associations.periods import Period
from households import services as household_services
from members import services as member_services
from reports.indicators import REGISTRY, compute, indicators_for, percent

pytestmark = pytest.mark.django_db
Q1 = Period.quarter(2025, 1)


@pytest.fixture
def q1(world):
    a = world.a
    admin = a.users["county_admin"]
    v0, g0, g1 = a.villages[0], a.groups[0], a.groups[1]
    with a.scope():
        head = a.members[0]
        member_services.group_role_assign(
            actor=admin, member=head, role="leader", starts_on=datetime.date(2025, 1, 1)
        )
        council = a.councils[v0.pk]
        member_services.seat_link_member(actor=admin, seat=a.seats[council.pk], member=head)
        association_services.association_update(actor=admin, association=v0, is_small_village=True)
        for n, background in enumerate(["elder"] * 3 + ["notable"] * 2):
            association_services.council_seat_add(
                actor=admin,
                council=council,
                position=CouncilPosition.DIRECTOR,
                person_name=f"理事{n}",
                background=DirectorBackground(background),
            )
        home = a.households[0]
        away = household_services.household_create(actor=admin, village=v0, group=g1, number="0100")

        def activity(node, day, kind="publicity", **fields):
            activity_services.activity_create(
                actor=admin, association=node, kind=kind, date=D2(day), **fields
            )

        def visit(household, day, purpose="policy"):
            activity_services.visit_record(
                actor=admin, visitor=head, household=household, visited_on=D2(day), purpose=purpose
            )

        women_day = next(d for d in catalogues.themed_days(county_id=a.county.pk) if d.month == 3)
        activity(g0, "01-10")
        activity(g0, "02-10")
        activity(g0, "03-10", "meeting", meeting_type="group_meeting", attendees=[head])
        activity(g1, "02-05")
        activity(g1, "03-20", "training")
        activity(v0, "02-15", "meeting", meeting_type="council")
        activity(v0, "03-01", "meeting", meeting_type="congress")
        activity(v0, "03-08", themed_day=women_day)
        activity(a.villages[1], "05-29")  # after the quarter
        for day in ("01-05", "01-12", "01-20", "02-01", "02-02"):
            visit(home, day)
        visit(away, "01-25", "hardship_help")
        for household in (home, away, a.households[1], a.households[2]):
            household_services.hardship_record(
                actor=admin, household=household, year=2025, reasons=["illness"]
            )
        household_services.assistance_add(
            actor=admin,
            household=a.households[1],
            kind="relief",
            given_on=datetime.date(2025, 2, 2),
            amount=D("200"),
            given_by="镇协会",
        )
        member_services.member_register(
            actor=admin,
            person=a.persons[3],
            association=a.villages[1],
            group=a.groups[2],
            joined_on=datetime.date(2025, 6, 1),
        )
        spouse = member_services.member_register(
            actor=admin,
            person=a.persons[5],
            association=a.villages[2],
            group=a.groups[4],
            joined_on=datetime.date(2020, 1, 1),
        )
        member_services.member_leave(
            actor=admin, member=spouse, left_on=datetime.date(2025, 3, 1), reason="moved_out"
        )
        yield a


def D2(month_day: str) -> datetime.date:
    return datetime.date.fromisoformat(f"2025-{month_day}")


def values(a, key):
    result = compute(key, county=a.county, period=Q1)
    if REGISTRY[key].level == "group":
        return [result[g.pk] for g in a.groups[:4]]
    return [result[v.pk] for v in a.villages]


EXPECTED = {
    "council_quarterly": ["100.00", "0.00", "0.00", "0.00"],
    "group_activity_share": ["50.00", "0.00", "0.00", "0.00"],
    "leader_visit_share": ["16.67", "0.00", "0.00", "0.00"],
    "president_group_visits": ["33.33", "0.00", "0.00", "0.00"],
    "congress_held": ["1", "0", "0", "0"],
    "training_held": ["1", "0", "0", "0"],
    "themed_day_publicity": ["100.00", "0.00", "0.00", "0.00"],
    "hardship_assisted_share": ["50.00", "100.00", "0.00", "100.00"],
    "council_model": ["1", "0", "0", "0"],
    "membership_ratio": ["50.00", "50.00", "50.00", "50.00"],
    "group_activity_months": ["100.00", "66.67", "0.00", "0.00"],
    "leader_visit_months": ["33.33", "0.00", "0.00", "0.00"],
    # no care subsidies in this world: nothing late, nothing unnoticed
    # (tests/reports/test_benefit_indicators.py works them out on payments and notices)
    "benefit_paid_on_time": ["100.00", "100.00", "100.00", "100.00"],
    "benefit_notice_share": ["100.00", "100.00", "100.00", "100.00"],
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_hand_worked_values(q1, key):
    with q1.scope():
        assert values(q1, key) == [D(v) for v in EXPECTED[key]]


def test_every_registered_indicator_is_hand_worked_here():
    assert set(REGISTRY) == set(EXPECTED)
    for indicator in REGISTRY.values():
        assert indicator.name and indicator.unit and indicator.description
        assert indicator.definition.endswith("。")
    assert {i.key for i in indicators_for("group")} == {
        "group_activity_months",
        "leader_visit_months",
    }


def test_whole_county_results_cover_every_node_and_not_the_other_county(q1, world):
    with q1.scope():
        for key, indicator in REGISTRY.items():
            result = compute(key, county=q1.county, period=Q1)
            nodes = q1.groups if indicator.level == "group" else q1.villages
            assert set(result) == {n.pk for n in nodes}, key


def test_a_quarter_later_in_the_year_still_counts_the_congress_held_before_it(q1):
    with q1.scope():
        q2 = compute("congress_held", county=q1.county, period=Period.quarter(2025, 2))
        q4_2024 = compute("congress_held", county=q1.county, period=Period.quarter(2024, 4))
    assert q2[q1.villages[0].pk] == 1 and q4_2024[q1.villages[0].pk] == 0


def test_a_half_year_and_a_year(q1):
    """The first half of 2025: council met in Q1, not Q2 → 50; a year → 25. The group
    activity of g0 stops in March: not every month of the half-year."""
    v0 = q1.villages[0].pk
    with q1.scope():
        half = Period.half(2025, 1)
        assert compute("council_quarterly", county=q1.county, period=half)[v0] == D("50.00")
        year = Period.year(2025)
        assert compute("council_quarterly", county=q1.county, period=year)[v0] == D("25.00")
        assert compute("group_activity_share", county=q1.county, period=half)[v0] == D("0.00")
        # 3.8 and 5.29 fall in the first half; v0 marked one of them
        assert compute("themed_day_publicity", county=q1.county, period=half)[v0] == D("50.00")


def test_percent_rounds_half_up_and_has_no_value_without_a_whole():
    assert percent(1, 6) == D("16.67")
    assert percent(1, 8) == D("12.50")
    assert percent(1, 0) is None


def test_the_query_count_does_not_grow_with_villages(q1):
    a = q1
    admin = a.users["county_admin"]

    def run_all():
        with CaptureQueriesContext(connection) as queries:
            for key in REGISTRY:
                compute(key, county=a.county, period=Q1)
        return len(queries)

    with a.scope():
        run_all()  # the themed-day catalogue is read (and seeded) once
        before = run_all()
        for n in range(3):
            village = association_services.association_create(
                actor=admin,
                parent=a.townships[1],
                name=f"新村{n}",
                division_code=f"{a.townships[1].division_code}{300 + n:03d}",
            )
            for g in range(2):
                group = association_services.association_create(
                    actor=admin,
                    parent=village,
                    name=f"新村{n}第{g + 1}组",
                    division_code=f"{village.division_code}{g + 1:03d}",
                )
                activity_services.activity_create(
                    actor=admin, association=group, kind="publicity", date=D2(f"02-0{g + 1}")
                )
        after = run_all()
        result = compute("group_activity_share", county=a.county, period=Q1)
    assert before == after
    assert before <= 3 * len(REGISTRY)  # a handful each
    assert len(result) == 7  # the three new villages are counted: 0 (one month of three)
