"""The demo county's year of activities and visits (activities.demo)."""

import datetime
import random
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities.demo import seed_activities
from activities.demo_plan import Place, PlannedMember, World, YearPlan
from activities.duties import duties
from activities.models import Activity, Attendance, HomeVisit, MaterialHandout
from activities.periods import Period
from associations import demo
from associations.demo import TreeShape, seed_county
from associations.management.base import find_county
from associations.models import Association, ChangeRecord, Level
from associations.scope import Scope, activate
from households.demo import PeopleScale, seed_people
from households.models import Household
from members.demo import seed_members
from members.models import GroupRole, Member, Pairing, SeatHolder

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)
FIRST_MONTH = datetime.date(2025, 12, 1)  # the twelve months up to TODAY's


@pytest.fixture
def fixed_today(monkeypatch):
    """Every seed step (members' join dates, the year of activities) reads the same today."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def demo_county(fixed_today):
    county, created = seed_county(code="131128", name="阜城县", scale="demo")
    assert created
    return county


def _places(county):
    return {n.pk: n for n in Association.objects.filter(county_id=county.pk)}


def test_every_group_works_in_most_months_with_some_misses(demo_county):
    with activate(Scope.for_node(demo_county)):
        groups = set(Association.objects.filter(level=Level.GROUP).values_list("pk", flat=True))
        months = defaultdict(set)
        for group_id, date in Activity.objects.filter(group__isnull=False).values_list(
            "group_id", "date"
        ):
            months[group_id].add(date.replace(day=1))
        held = Counter(len(months[g]) for g in groups)
        assert len(groups) == 60
        # Most groups hold their activity in at least 9 of the 12 months …
        assert sum(n for months_held, n in held.items() if months_held >= 9) >= 0.8 * 60
        # … no group in all of them is the rule, not the exception: months are missed …
        assert sum(12 - months_held for months_held in (len(months[g]) for g in groups)) >= 30
        # … and a couple of groups are clearly weak.
        assert 1 <= sum(n for months_held, n in held.items() if months_held <= 6) <= 6
        every_month = {d.replace(day=1) for m in months.values() for d in m}
        assert min(every_month) == FIRST_MONTH and max(every_month) == TODAY.replace(day=1)
        # A group activity is a 会员小组会, a publicity stand or volunteer work.
        kinds = Counter(
            Activity.objects.filter(group__isnull=False).values_list("kind", "meeting_type")
        )
        assert set(kinds) == {
            ("meeting", "group_meeting"),
            ("publicity", ""),
            ("volunteer", ""),
        }
        assert kinds[("meeting", "group_meeting")] > kinds[("publicity", "")] > 0
        group = Association.objects.filter(level=Level.GROUP).order_by("division_code").first()
        meeting = Activity.objects.filter(group=group, meeting_type="group_meeting").first()
        assert meeting.place == f"{group.parent.name}委会{group.name}活动点"


def test_nothing_is_dated_after_today_or_before_the_year(demo_county):
    with activate(Scope.for_node(demo_county)):
        activities = list(Activity.objects.all())
        visits = list(HomeVisit.objects.all())
        assert activities and visits
        for activity in activities:
            assert FIRST_MONTH <= activity.date <= TODAY
            if activity.end_date is not None:
                assert activity.date <= activity.end_date <= TODAY
        for visit in visits:
            assert FIRST_MONTH <= visit.visited_on <= TODAY
            if visit.follow_up_done_on is not None:
                assert visit.follow_up_needed
                assert visit.visited_on <= visit.follow_up_done_on <= TODAY
        assert any(v.follow_up_needed and v.follow_up_done_on is None for v in visits)
        assert any(v.follow_up_done_on for v in visits)


def test_attendees_are_members_of_the_activitys_subtree_on_the_day(demo_county):
    with activate(Scope.for_node(demo_county)):
        places = _places(demo_county)
        members = {m.pk: m for m in Member.objects.all()}
        rows = list(Attendance.objects.select_related("activity"))
        assert len(rows) > 300
        for row in rows:
            activity, member = row.activity, members[row.member_id]
            node = places[activity.association_id]
            assert getattr(member, f"{node.level}_id") == node.pk
            assert member.joined_on <= activity.date
            placed = (row.county_id, row.township_id, row.village_id, row.group_id)
            assert placed == (
                activity.county_id,
                activity.township_id,
                activity.village_id,
                activity.group_id,
            )
        assert len({(r.activity_id, r.member_id) for r in rows}) == len(rows)


def test_leaders_visit_their_own_groups_and_presidents_several_groups(demo_county):
    with activate(Scope.for_node(demo_county)):
        leaders = dict(
            GroupRole.objects.filter(role=GroupRole.Role.LEADER).values_list(
                "member_id", "group_id"
            )
        )
        presidents = set(SeatHolder.objects.values_list("member_id", flat=True))
        households = {h.pk: h for h in Household.objects.all()}
        members = {m.pk: m for m in Member.objects.all()}
        pairings = {p.pk: p for p in Pairing.objects.all()}
        per_leader_month = Counter()
        president_groups = defaultdict(set)
        for visit in HomeVisit.objects.all():
            visitor, household = members[visit.visitor_id], households[visit.household_id]
            assert household.village_id == visitor.village_id
            assert visit.visited_on >= visitor.joined_on
            assert (visit.village_id, visit.group_id) == (visitor.village_id, visitor.group_id)
            pairing = pairings.get(visit.pairing_id)
            if pairing is not None:  # linked only to the visitor's pairing with the household
                assert (pairing.member_id, pairing.household_id) == (visitor.pk, household.pk)
            else:
                assert not any(
                    p.member_id == visitor.pk
                    and p.household_id == household.pk
                    and p.starts_on <= visit.visited_on
                    and (p.ends_on is None or p.ends_on >= visit.visited_on)
                    for p in pairings.values()
                )
            if visitor.pk in presidents:
                president_groups[(visitor.pk, visit.visited_on.month)].add(household.group_id)
                continue
            assert visitor.pk in leaders  # only leaders and presidents make visits
            assert household.group_id == leaders[visitor.pk]
            per_leader_month[(visitor.pk, visit.visited_on.replace(day=1))] += 1
        counts = Counter(per_leader_month.values())
        assert max(counts) <= 5
        assert counts[3] + counts[4] > counts[2] > 0  # usually 3-4, sometimes 2
        assert presidents and president_groups
        # The president is a member of the village (a group leader only if all are), named on
        # the seat.
        holders = SeatHolder.objects.select_related("seat__council", "member__person")
        assert holders.count() == Association.objects.filter(level=Level.VILLAGE).count()
        for holder in holders:
            assert holder.member.village_id == holder.seat.council.association_id
            assert holder.seat.position == "president"
            assert holder.seat.person_name == holder.member.person.name
            others = [
                m
                for m in members.values()
                if m.village_id == holder.member.village_id and m.group_id and m.pk not in leaders
            ]
            assert holder.member_id not in leaders or not others
        assert max(len(groups) for groups in president_groups.values()) >= 3


def test_councils_congresses_trainings_themed_days_and_services(demo_county):
    with activate(Scope.for_node(demo_county)):
        villages = list(Association.objects.filter(level=Level.VILLAGE))
        at_villages = Activity.objects.filter(group__isnull=True, village__isnull=False)
        councils = Counter(
            at_villages.filter(meeting_type="council").values_list("village_id", flat=True)
        )
        # Five quarters touch the year (2025 Q4 … 2026 Q4): most villages meet in most.
        assert max(councils.values()) <= 5
        assert sum(councils.values()) >= 0.75 * 5 * len(villages)
        assert any(councils[v.pk] < 5 for v in villages)  # some miss a quarter
        congress = set(
            at_villages.filter(meeting_type="congress").values_list("village_id", flat=True)
        )
        training = set(at_villages.filter(kind="training").values_list("village_id", flat=True))
        assert len(villages) - 3 <= len(congress) <= len(villages)
        assert len(villages) - 3 <= len(training) <= len(villages)

        themed = Activity.objects.filter(themed_day__isnull=False).select_related("themed_day")
        passed = {
            datetime.date(2025, 12, 1),
            datetime.date(2026, 3, 8),
            datetime.date(2026, 5, 29),
            datetime.date(2026, 7, 11),
            datetime.date(2026, 9, 25),
            datetime.date(2026, 10, 28),
        }  # 2026-12-01 has not happened yet
        assert {a.date for a in themed} == passed
        for activity in themed:
            assert (activity.date.month, activity.date.day) == (
                activity.themed_day.month,
                activity.themed_day.day,
            )
            assert activity.kind == "publicity"
        townships = Association.objects.filter(level=Level.TOWNSHIP).count()
        at_townships = themed.filter(village__isnull=True)
        assert at_townships.count() == townships * len(passed)
        assert themed.filter(village__isnull=False, group__isnull=True).exists()
        handouts = MaterialHandout.objects.filter(activity__in=at_townships)
        units = {(h.material.name, h.material.unit) for h in handouts.select_related("material")}
        assert {("宣传资料", "份"), ("横幅", "幅"), ("展板", "块")} <= units
        assert all(h.quantity > 0 for h in MaterialHandout.objects.all())
        assert all(a.participants > 0 and a.consultations > 0 for a in at_townships)

        services = Counter(Activity.objects.filter(kind="service").values_list("service_type"))
        assert {("free_clinic",), ("health_check",), ("condolence",)} <= set(services)
        for activity in Activity.objects.filter(service_type="condolence"):
            assert datetime.date(2026, 2, 2) <= activity.date <= datetime.date(2026, 2, 15)


def test_the_duties_show_a_realistic_mix(demo_county):
    with activate(Scope.for_node(demo_county)):
        table = duties(node=demo_county, period=Period.quarter(2026, 3))
        group_activity = [t.met for g in table.groups.values() for t in g.activities.values()]
        led = [g for g in table.groups.values() if g.leader_id]
        visits = [t.met for g in led for t in g.leader_visits.values()]
        presidents = [
            t.met for v in table.villages.values() for t in v.president_group_visits.values()
        ]
        councils = [t.met for v in table.villages.values() for t in v.council_meetings.values()]
        for tallies, low, high in (
            (group_activity, 0.75, 0.97),
            (visits, 0.6, 0.95),
            (presidents, 0.6, 0.99),
            (councils, 0.6, 0.99),
        ):
            share = sum(tallies) / len(tallies)
            assert low <= share <= high, (tallies, share)


def test_seeding_again_changes_nothing(demo_county, capsys):
    with activate(Scope.for_node(demo_county)):
        before = (Activity.objects.count(), HomeVisit.objects.count(), Attendance.objects.count())
        assert seed_activities(county=demo_county, rng=random.Random(1)) is None
        after = (Activity.objects.count(), HomeVisit.objects.count(), Attendance.objects.count())
        assert after == before
    call_command("seed_demo", county="131128", name="阜城县")
    assert "已存在,未做修改" in capsys.readouterr().out


def test_seed_demo_reports_the_activity_figures(fixed_today, capsys):
    call_command("seed_demo", county="131127", name="景县")
    out = capsys.readouterr().out
    county = find_county("131127")
    with activate(Scope.for_node(county)):
        activities, visits = Activity.objects.count(), HomeVisit.objects.count()
        assert 600 <= activities <= 1200
        assert f"活动 {activities} 次" in out and f"入户随访 {visits} 次" in out
        assert ChangeRecord.objects.filter(object_type="activities.Activity").count() == activities
        assert ChangeRecord.objects.filter(object_type="activities.HomeVisit").count() == visits


def test_a_tiny_county_through_the_large_path(fixed_today, monkeypatch):
    """The large scale's path (one summary change record per village) on a tiny tree: the
    counts returned are the rows written, and the rules hold."""
    monkeypatch.setitem(demo.SCALES, "tiny", TreeShape(townships=1, villages=2, groups=5))
    county, _created = seed_county(code="131122", name="武邑县", scale="tiny", with_people=False)
    rng = random.Random(5)
    with activate(Scope.for_node(county)):
        seed_people(county=county, scale=PeopleScale(households_per_village=(20, 20)), rng=rng)
        seed_members(county=county, rng=rng, share=0.4)
        # One leader is paired with every household of the group from June: their visits
        # from then on count toward the pairing, as the services link them.
        role = GroupRole.objects.filter(role=GroupRole.Role.LEADER).order_by("id").first()
        paired_from = datetime.date(2026, 6, 1)
        paired = list(Household.objects.filter(group_id=role.group_id))
        for household in paired:
            pairing = Pairing(member_id=role.member_id, household=household, starts_on=paired_from)
            pairing.place_under(household.group)
            pairing.save()
        counts = seed_activities(county=county, rng=rng, today=TODAY, history_per_row=False)
        assert counts["activities"] == Activity.objects.count() > 5 * 10
        assert counts["attendance"] == Attendance.objects.count() > 0
        assert counts["handouts"] == MaterialHandout.objects.count() > 0
        assert counts["visits"] == HomeVisit.objects.count() > 5 * 12 * 2
        summaries = list(ChangeRecord.objects.filter(object_label="批量生成演示数据"))
        summaries = [r for r in summaries if r.object_type == "activities.Activity"]
        assert len(summaries) == counts["change_records"] == 3  # two villages, the township
        assert sum(r.after["activities"] for r in summaries) == counts["activities"]
        assert sum(r.after["visits"] for r in summaries) == counts["visits"]
        assert not ChangeRecord.objects.filter(object_type="activities.HomeVisit").exists()
        assert max(Activity.objects.values_list("date", flat=True)) <= TODAY
        per_group_month = Counter(
            (a.group_id, a.date.replace(day=1))
            for a in Activity.objects.filter(group__isnull=False)
        )
        assert max(per_group_month.values()) <= 2
        leader_visits = list(HomeVisit.objects.filter(visitor_id=role.member_id))
        assert {v.pairing_id is not None for v in leader_visits} == {True, False}
        for visit in leader_visits:
            # (a leader who is also the president visits other groups' households too)
            linked = visit.visited_on >= paired_from and visit.household in paired
            assert (visit.pairing_id is not None) == linked
            if visit.pairing_id:
                assert visit.pairing.household_id == visit.household_id
        assert not HomeVisit.objects.exclude(visitor_id=role.member_id).filter(
            pairing__isnull=False
        )
        assert seed_activities(county=county, rng=rng, today=TODAY) is None


def _synthetic_world(groups: int = 40) -> World:
    """One township, one village, `groups` groups of five members (one the leader) and four
    households each; ids are made up (the plan never reads the database)."""
    township = Place(2, Level.TOWNSHIP, "城关镇", (1, 2, None, None))
    village = Place(3, Level.VILLAGE, "东王庄村", (1, 2, 3, None))
    group_places = [
        Place(100 + g, Level.GROUP, f"第{g}组", (1, 2, 3, 100 + g)) for g in range(groups)
    ]
    long_ago = datetime.date(2015, 1, 1)
    members = {
        g.id: [PlannedMember(1000 + 10 * g.id + i, g.key, long_ago, f"会员{i}") for i in range(5)]
        for g in group_places
    }
    return World(
        townships=[township],
        villages=[village],
        groups={village.id: group_places},
        members=members,
        village_members={village.id: [m for ms in members.values() for m in ms]},
        leaders={g.id: members[g.id][0] for g in group_places},
        presidents={village.id: members[group_places[0].id][1]},
        council_size={village.id: 11},
        households={g.id: [5000 + 10 * g.id + i for i in range(4)] for g in group_places},
        themes={"红五月": 1, "预防艾滋病": 2},
        themed_days=[(1, 5, 29, "会员活动日"), (2, 12, 1, "世界艾滋病日")],
        materials={("宣传资料", "份"): 1, ("横幅", "幅"): 2},
    )


@pytest.mark.parametrize(
    ("today", "low", "high"),
    [
        (datetime.date(2026, 8, 3), 0.0, 0.25),  # three days in: few groups have met yet
        (datetime.date(2026, 8, 31), 0.75, 1.0),  # the month is over: most have
    ],
)
def test_the_current_month_is_as_far_along_as_today(today, low, high):
    plan = YearPlan(_synthetic_world(), random.Random(3), today).build()
    month = today.replace(day=1)
    assert all(a.date <= today for a in plan.activities)
    assert all(v.visited_on <= today for v in plan.visits)
    met = {a.place.id for a in plan.activities if a.place.level == Level.GROUP and a.date >= month}
    assert low <= len(met) / 40 <= high
    visits = [v for v in plan.visits if v.visited_on >= month]
    assert low * 40 * 2 <= len(visits) <= high * 40 * 5
    # Themed days in the window only (September 2025 to today), at township and village.
    above_groups = [a for a in plan.activities if a.themed_day_id and a.place.level != "group"]
    assert sorted({(a.themed_day_id, a.date) for a in above_groups}) == [
        (1, datetime.date(2026, 5, 29)),
        (2, datetime.date(2025, 12, 1)),
    ]
