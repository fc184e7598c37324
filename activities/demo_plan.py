"""The demo county's year of work, planned in memory: what each group, village and township
did in the twelve months up to today (activities.demo writes it).

- Every group holds its monthly 会员小组会 or a publicity stand in most months (one month in
  ten is missed; a few weak groups manage fewer than half), attended by the group's members;
  a month now and then has a second activity.
- Each group leader visits households of the group, usually 3-4 times a month, sometimes 2
  (weak groups' leaders 0-2).
- Each village president visits households of 2-4 different groups a month.
- The council (理事会) meets once a quarter in most villages; a 会员代表大会 and a 培训 once
  in the current year (a few villages have not held them yet).
- Themed days (3.8, 5.29, 7.11, 9.25, 10.28, 12.1) that have passed: a publicity stand at
  every township and at about half the villages, with materials handed out; the 红五月
  campaign in May; township free clinics and health checks; 慰问 before the Spring Festival.

Nothing is dated after today, and the current month, quarter and year are only as far along
as today is; attendees and visitors were members on the day."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from associations.models import Level

from .models import Activity, HomeVisit
from .periods import last_day_of_month, quarter_of

MEETING, PUBLICITY, TRAINING, SERVICE, VOLUNTEER = (
    Activity.Kind.MEETING,
    Activity.Kind.PUBLICITY,
    Activity.Kind.TRAINING,
    Activity.Kind.SERVICE,
    Activity.Kind.VOLUNTEER,
)
# Each group: the chance it holds its monthly activity (a weak group: WEAK_GROUP_ACTIVITY).
GROUP_ACTIVITY = 0.9
WEAK_GROUP_ACTIVITY = 0.4
WEAK_GROUP_SHARE = 0.04  # of the county's groups, at least two
# A leader's visits in a month (weights); a weak group's leader's.
LEADER_VISITS = {2: 25, 3: 55, 4: 18, 5: 2}
WEAK_LEADER_VISITS = {0: 30, 1: 40, 2: 30}
PRESIDENT_GROUPS = {2: 25, 3: 50, 4: 25}
COUNCIL_HELD = 0.88  # per village and quarter
CONGRESS_HELD = 0.92  # per village, this year (in March-June)
TRAINING_HELD = 0.9  # (in April-November)
VILLAGE_THEMED_DAY = 0.55
SPRING_FESTIVAL = {
    2024: datetime.date(2024, 2, 10),
    2025: datetime.date(2025, 1, 29),
    2026: datetime.date(2026, 2, 17),
    2027: datetime.date(2027, 2, 6),
    2028: datetime.date(2028, 1, 26),
    2029: datetime.date(2029, 2, 13),
    2030: datetime.date(2030, 2, 3),
}
# The campaign theme a themed day's publicity usually carries.
THEMED_DAY_THEMES = {
    (3, 8): "关爱女孩",
    (5, 29): "红五月",
    (7, 11): "婚育新风进万家",
    (9, 25): "幸福家庭",
    (10, 28): "生育关怀",
    (12, 1): "预防艾滋病",
}
GROUP_MEETING_SUMMARIES = [
    "传达县、乡计生协工作安排,通报本组会员发展和入户随访情况。",
    "学习优化生育政策和育儿补贴办法,组长布置本月入户随访任务。",
    "交流结对帮扶情况,讨论本组困难家庭的帮扶办法。",
    "核对本组家庭户信息变化,登记新生儿和迁入迁出情况。",
    "开展生殖健康知识学习,发放宣传资料,解答会员提问。",
]
PUBLICITY_SUMMARIES = [
    "在村文化广场设宣传台,悬挂横幅、摆放展板,发放宣传资料并现场解答咨询。",
    "组织会员入户发放宣传资料,讲解政策,登记群众需求。",
    "结合集市日开展宣传,设立咨询台,发放宣传品和药具。",
]
VISIT_NOTES = {
    HomeVisit.Purpose.POLICY: [
        "讲解育儿补贴和奖励扶助政策,户主表示清楚。",
        "宣传优化生育政策,留下宣传资料。",
    ],
    HomeVisit.Purpose.REPRODUCTIVE_HEALTH: [
        "讲解孕期保健和免费孕前检查,提醒按时体检。",
        "了解避孕药具使用情况,送去药具。",
    ],
    HomeVisit.Purpose.HARDSHIP_HELP: [
        "了解家庭收入和就医情况,协助申请临时救助。",
        "帮助联系农技员,指导发展庭院种植。",
    ],
    HomeVisit.Purpose.CONDOLENCE: ["看望老人,送去慰问品,老人身体尚好。", "节前慰问,了解生活需求。"],
    HomeVisit.Purpose.INFO_CHECK: [
        "核实家庭成员和联系电话,信息无变化。",
        "核实新生儿出生登记,已更新户内信息。",
    ],
    HomeVisit.Purpose.OTHER: ["了解家庭近况,无特殊需求。"],
}
PURPOSE_WEIGHTS = {
    HomeVisit.Purpose.POLICY: 28,
    HomeVisit.Purpose.REPRODUCTIVE_HEALTH: 20,
    HomeVisit.Purpose.HARDSHIP_HELP: 14,
    HomeVisit.Purpose.CONDOLENCE: 10,
    HomeVisit.Purpose.INFO_CHECK: 22,
    HomeVisit.Purpose.OTHER: 6,
}
FOLLOW_UP = 0.1
FOLLOW_UP_DONE = 0.75


@dataclass(slots=True)
class Place:
    id: int
    level: str
    name: str
    key: tuple  # (county, township, village, group) ids, the node's ancestor keys


@dataclass(slots=True)
class PlannedMember:
    id: int
    key: tuple
    joined_on: datetime.date
    name: str


@dataclass(slots=True)
class PlannedActivity:
    place: Place
    kind: str
    date: datetime.date
    title: str
    meeting_type: str = ""
    service_type: str = ""
    end_date: datetime.date | None = None
    theme_id: int | None = None
    themed_day_id: int | None = None
    participants: int = 0
    consultations: int = 0
    trainees: int = 0
    organiser: str = ""
    summary: str = ""
    attendees: list[int] = field(default_factory=list)
    handouts: list[tuple[int, int]] = field(default_factory=list)  # (material id, quantity)
    venue: str = ""  # the place field
    id: int | None = None


@dataclass(slots=True)
class PlannedVisit:
    visitor: PlannedMember
    household_id: int
    visited_on: datetime.date
    purpose: str
    notes: str
    follow_up_needed: bool
    follow_up_done_on: datetime.date | None
    pairing_id: int | None = None
    id: int | None = None


@dataclass
class World:
    """What the plan draws on, read from the seeded county (activities.demo loads it)."""

    townships: list[Place]
    villages: list[Place]
    groups: dict[int, list[Place]]  # by village id
    members: dict[int, list[PlannedMember]]  # by group id (or village id for those without)
    village_members: dict[int, list[PlannedMember]]  # by village id
    leaders: dict[int, PlannedMember]  # by group id
    presidents: dict[int, PlannedMember]  # by village id
    council_size: dict[int, int]  # by village id
    households: dict[int, list[int]]  # by group id
    themes: dict[str, int]  # name → id
    themed_days: list[tuple[int, int, int, str]]  # (id, month, day, name)
    materials: dict[tuple[str, str], int]  # (name, unit) → id
    # (member id, household id) → [(starts_on, ends_on, pairing id)]: 结对帮扶 that exist
    pairings: dict[tuple[int, int], list] = field(default_factory=dict)

    def pairing_on(self, member_id: int, household_id: int, day: datetime.date) -> int | None:
        """The member's pairing with the household running on the day (as the services link
        a visit to it)."""
        for starts_on, ends_on, pairing_id in self.pairings.get((member_id, household_id), ()):
            if starts_on <= day and (ends_on is None or ends_on >= day):
                return pairing_id
        return None


def months_up_to(today: datetime.date, count: int = 12) -> list[datetime.date]:
    """The first days of the `count` months ending with today's, oldest first."""
    months, day = [], today.replace(day=1)
    for _ in range(count):
        months.append(day)
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return months[::-1]


def _hall(village_name: str) -> str:
    """后陈洼村 → 后陈洼村委会; an enterprise association keeps its name."""
    return village_name + "委会" if village_name.endswith("村") else village_name


def venue(activity: PlannedActivity, names: dict[int, str]) -> str:
    """Where an activity took place, from its level and kind."""
    place, kind = activity.place, activity.kind
    if place.level == Level.GROUP:
        village = names[place.key[2]]
        if kind == MEETING:
            return f"{_hall(village)}{place.name}活动点"
        return f"{village}{place.name}" if kind == VOLUNTEER else f"{village}文化广场"
    if place.level == Level.VILLAGE:
        if kind == SERVICE:
            return f"{place.name}困难家庭家中"
        return f"{place.name}文化广场" if kind == PUBLICITY else f"{_hall(place.name)}会议室"
    if kind == SERVICE:
        return f"{place.name}卫生院"
    return f"{place.name}各村" if activity.end_date else f"{place.name}政府门前广场"


class YearPlan:
    def __init__(self, world: World, rng: random.Random, today: datetime.date):
        self.world, self.rng, self.today = world, rng, today
        self.months = months_up_to(today)
        self.start = self.months[0]
        self.activities: list[PlannedActivity] = []
        self.visits: list[PlannedVisit] = []

    # --- helpers ---------------------------------------------------------------------------

    def day_in(self, first: datetime.date, last: datetime.date) -> datetime.date | None:
        """A random day from first (not before the window) to last; None if that day is still
        to come: so the current month, quarter and year are as far along as today is (on the
        3rd, few groups have met yet), not crammed into the days gone by."""
        first = max(first, self.start)
        if last < first:
            return None
        day = first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))
        return day if day <= self.today else None

    def weighted(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    @staticmethod
    def active(members: list[PlannedMember], day: datetime.date) -> list[PlannedMember]:
        return [m for m in members if m.joined_on <= day]

    def some(self, members: list[PlannedMember], low: float, high: float, cap: int = 10**6):
        if not members:
            return []
        k = max(1, min(cap, round(len(members) * self.rng.uniform(low, high))))
        return self.rng.sample(members, k)

    def handouts(self, spec: list[tuple[str, str, float, int, int]]) -> list[tuple[int, int]]:
        """(name, unit, chance, low, high) → [(material id, quantity)] for the drawn ones."""
        picked = []
        for name, unit, chance, low, high in spec:
            material = self.world.materials.get((name, unit))
            if material is not None and self.rng.random() < chance:
                picked.append((material, self.rng.randint(low, high)))
        return picked

    def passed_themed_days(self) -> list[tuple[int, str, datetime.date]]:
        """(themed day id, name, date) of every themed day from the window's start to today."""
        days = []
        for themed_day_id, month, day, name in self.world.themed_days:
            for year in sorted({self.start.year, self.today.year}):
                try:
                    date = datetime.date(year, month, day)
                except ValueError:  # 2.29 in a common year
                    continue
                if self.start <= date <= self.today:
                    days.append((themed_day_id, name, date))
        return sorted(days, key=lambda d: d[2])

    # --- the plan --------------------------------------------------------------------------

    def build(self) -> YearPlan:
        themed = self.passed_themed_days()
        for township in self.world.townships:
            self.township_year(township, themed)
        every_group = [g.id for v in self.world.villages for g in self.world.groups.get(v.id, [])]
        count = min(len(every_group), max(2, round(len(every_group) * WEAK_GROUP_SHARE)))
        weak = set(self.rng.sample(every_group, count))
        for village in self.world.villages:
            self.village_year(village, themed)
            groups = self.world.groups.get(village.id, [])
            for group in groups:
                self.group_year(group, weak=group.id in weak, themed=themed)
            self.president_year(village, groups)
        names = {p.id: p.name for p in self.world.villages + self.world.townships}
        for activity in self.activities:
            activity.venue = venue(activity, names)
        return self

    def group_year(self, group: Place, *, weak: bool, themed) -> None:
        members = self.world.members.get(group.id, [])
        leader = self.world.leaders.get(group.id)
        households = self.world.households.get(group.id, [])
        for month in self.months:
            month_end = last_day_of_month(month.year, month.month)
            if self.rng.random() < (WEAK_GROUP_ACTIVITY if weak else GROUP_ACTIVITY):
                self.group_activity(group, month, month_end, members, leader, themed)
                if not weak and self.rng.random() < 0.08:
                    self.group_activity(group, month, month_end, members, leader, (), second=True)
            if leader is not None and households:
                visits = self.weighted(WEAK_LEADER_VISITS if weak else LEADER_VISITS)
                self.home_visits(leader, households, month, month_end, visits)

    def group_activity(self, group, month, month_end, members, leader, themed, second=False):
        rng = self.rng
        on_day = [t for t in themed if month <= t[2] <= month_end]
        if on_day and rng.random() < 0.4:
            themed_day_id, name, date = on_day[0]
            activity = self.publicity(group, date, f"“{name}”宣传活动", themed_day_id)
        elif second or rng.random() < 0.25:
            date = self.day_in(month, month_end)
            if date is None:
                return
            if second and rng.random() < 0.5:
                activity = PlannedActivity(
                    group, VOLUNTEER, date, "志愿服务:帮老人打扫卫生、代购生活用品"
                )
            else:
                theme = rng.choice(list(self.world.themes)) if self.world.themes else ""
                activity = self.publicity(group, date, f"{theme}入户宣传", None)
        else:
            date = self.day_in(month, month_end)
            if date is None:
                return
            activity = PlannedActivity(
                group,
                MEETING,
                date,
                f"{date.month}月会员小组会",
                meeting_type=Activity.MeetingType.GROUP_MEETING,
                summary=rng.choice(GROUP_MEETING_SUMMARIES),
            )
        present = self.some(self.active(members, activity.date), 0.3, 0.55)
        if leader is not None and leader.joined_on <= activity.date and leader not in present:
            present.append(leader)
        activity.attendees = [m.id for m in present]
        activity.participants = max(activity.participants, len(present) + rng.randint(0, 8))
        activity.organiser = leader.name if leader is not None else ""
        if activity.kind == PUBLICITY and not activity.handouts:
            activity.handouts = self.handouts(
                [("宣传资料", "份", 1.0, 20, 120), ("宣传品", "个", 0.3, 10, 40)]
            )
        self.activities.append(activity)

    def publicity(self, place, date, title, themed_day_id) -> PlannedActivity:
        """A publicity stand; on a themed day it carries the day's usual campaign theme."""
        rng = self.rng
        theme_name = THEMED_DAY_THEMES.get((date.month, date.day)) if themed_day_id else None
        if theme_name not in self.world.themes:
            theme_name = rng.choice(list(self.world.themes)) if self.world.themes else None
        return PlannedActivity(
            place,
            PUBLICITY,
            date,
            title[:100],
            theme_id=self.world.themes.get(theme_name) if theme_name else None,
            themed_day_id=themed_day_id,
            participants=rng.randint(12, 40),
            consultations=rng.randint(3, 20),
            summary=rng.choice(PUBLICITY_SUMMARIES),
        )

    def home_visits(self, visitor, households, month, month_end, count) -> None:
        rng = self.rng
        chosen = (
            rng.sample(households, count)
            if count <= len(households)
            else rng.choices(households, k=count)
        )
        for household_id in chosen:
            day = self.day_in(max(month, visitor.joined_on), month_end)
            if day is None:
                continue
            purpose = self.weighted(PURPOSE_WEIGHTS)
            if day.month in (1, 2) and rng.random() < 0.3:
                purpose = HomeVisit.Purpose.CONDOLENCE
            follow_up = rng.random() < FOLLOW_UP
            done = None
            if follow_up and rng.random() < FOLLOW_UP_DONE:
                done_on = day + datetime.timedelta(days=rng.randint(2, 20))
                done = done_on if done_on <= self.today else None
            self.visits.append(
                PlannedVisit(
                    visitor,
                    household_id,
                    day,
                    purpose,
                    rng.choice(VISIT_NOTES[purpose]),
                    follow_up,
                    done,
                    self.world.pairing_on(visitor.id, household_id, day),
                )
            )

    def president_year(self, village: Place, groups: list[Place]) -> None:
        president = self.world.presidents.get(village.id)
        reachable = [g for g in groups if self.world.households.get(g.id)]
        if president is None or not reachable:
            return
        for month in self.months:
            month_end = last_day_of_month(month.year, month.month)
            count = min(self.weighted(PRESIDENT_GROUPS), len(reachable))
            for group in self.rng.sample(reachable, count):
                household = self.rng.choice(self.world.households[group.id])
                self.home_visits(president, [household], month, month_end, 1)

    def village_year(self, village: Place, themed) -> None:
        rng = self.rng
        members = self.world.village_members.get(village.id, [])
        president = self.world.presidents.get(village.id)
        # Council meetings: every quarter the window touches.
        quarters = sorted({(m.year, quarter_of(m)) for m in self.months})
        for year, quarter in quarters:
            if rng.random() >= COUNCIL_HELD:
                continue
            first = datetime.date(year, 3 * quarter - 2, 1)
            date = self.day_in(first, last_day_of_month(year, 3 * quarter))
            if date is None:
                continue
            activity = PlannedActivity(
                village,
                MEETING,
                date,
                f"{year}年第{quarter}季度理事会",
                meeting_type=Activity.MeetingType.COUNCIL,
                participants=max(3, self.world.council_size.get(village.id, 5) - rng.randint(0, 2)),
                summary="研究本季度会员活动、入户随访和帮扶安排,通报上季度工作完成情况。",
            )
            if president is not None and president.joined_on <= date:
                activity.attendees = [president.id]
                activity.organiser = president.name
            self.activities.append(activity)
        this_year = datetime.date(self.today.year, 1, 1)
        if rng.random() < CONGRESS_HELD:
            self.village_gathering(
                village,
                members,
                self.day_in(this_year.replace(month=3), this_year.replace(month=6, day=30)),
                kind=MEETING,
                title=f"{self.today.year}年会员代表大会",
                summary="审议村计生协年度工作报告,表彰优秀会员,部署全年工作。",
                share=(0.2, 0.35),
            )
        if rng.random() < TRAINING_HELD:
            self.village_gathering(
                village,
                members,
                self.day_in(this_year.replace(month=4), this_year.replace(month=11, day=30)),
                kind=TRAINING,
                title=f"{self.today.year}年会员学习培训班",
                summary="培训政策宣传、入户随访记录和生殖健康知识。",
                share=(0.15, 0.3),
            )
        for themed_day_id, name, date in themed:
            if rng.random() < VILLAGE_THEMED_DAY:
                activity = self.publicity(village, date, f"“{name}”宣传服务活动", themed_day_id)
                activity.participants = rng.randint(30, 150)
                activity.consultations = rng.randint(10, 50)
                present = self.some(self.active(members, date), 0.03, 0.08, cap=8)
                activity.attendees = [m.id for m in present]
                activity.organiser = president.name if president else ""
                activity.handouts = self.handouts(
                    [
                        ("宣传资料", "份", 1.0, 50, 300),
                        ("横幅", "幅", 0.8, 1, 2),
                        ("展板", "块", 0.4, 2, 4),
                        ("避孕药具", "只", 0.3, 20, 100),
                        ("宣传品", "个", 0.4, 20, 80),
                    ]
                )
                self.activities.append(activity)
        self.condolence(village, members)

    def village_gathering(self, village, members, date, *, kind, title, summary, share):
        if date is None:
            return
        present = self.some(self.active(members, date), *share, cap=60)
        activity = PlannedActivity(village, kind, date, title, summary=summary)
        if kind == MEETING:
            activity.meeting_type = Activity.MeetingType.CONGRESS
        activity.attendees = [m.id for m in present]
        activity.participants = len(present) + self.rng.randint(3, 15)
        if kind == TRAINING:
            activity.trainees = activity.participants
            for name in ("青春健康", "生育关怀"):
                if name in self.world.themes and self.rng.random() < 0.4:
                    activity.theme_id = self.world.themes[name]
        self.activities.append(activity)

    def condolence(self, village, members) -> None:
        """慰问 of hardship households in the fortnight before the Spring Festival."""
        for year in sorted({self.start.year, self.today.year}):
            festival = SPRING_FESTIVAL.get(year)
            if festival is None or self.rng.random() < 0.15:
                continue
            date = self.day_in(
                festival - datetime.timedelta(days=15), festival - datetime.timedelta(days=2)
            )
            if date is None:
                continue
            families = self.rng.randint(3, 10)
            activity = PlannedActivity(
                village,
                SERVICE,
                date,
                "春节前慰问困难家庭",
                service_type=Activity.ServiceType.CONDOLENCE,
                participants=families,
                summary=f"走访慰问计生困难家庭和失独家庭 {families} 户,送去米面油和慰问金。",
            )
            present = self.some(self.active(members, date), 0.02, 0.05, cap=4)
            activity.attendees = [m.id for m in present]
            activity.handouts = self.handouts([("宣传品", "个", 0.6, families, families * 2)])
            self.activities.append(activity)

    def township_year(self, township: Place, themed) -> None:
        rng = self.rng
        for themed_day_id, name, date in themed:
            activity = self.publicity(
                township, date, f"{township.name}“{name}”集中宣传服务活动", themed_day_id
            )
            activity.participants = rng.randint(150, 600)
            activity.consultations = rng.randint(40, 200)
            activity.organiser = f"{township.name}计生协"
            activity.handouts = self.handouts(
                [
                    ("宣传资料", "份", 1.0, 300, 1500),
                    ("避孕药具", "盒", 0.8, 30, 200),
                    ("横幅", "幅", 0.9, 1, 4),
                    ("展板", "块", 0.8, 4, 12),
                    ("宣传品", "个", 0.7, 100, 400),
                ]
            )
            self.activities.append(activity)
        may = datetime.date(self.today.year, 5, 1)
        if self.start <= may <= self.today and "红五月" in self.world.themes:
            self.activities.append(
                PlannedActivity(
                    township,
                    PUBLICITY,
                    may,
                    "“红五月”会员宣传服务月",
                    end_date=min(datetime.date(may.year, 5, 31), self.today),
                    theme_id=self.world.themes["红五月"],
                    participants=rng.randint(500, 2000),
                    consultations=rng.randint(100, 400),
                    organiser=f"{township.name}计生协",
                    summary="全乡镇各村集中开展会员活动日宣传、入户走访和志愿服务。",
                )
            )
        for service_type, title, count in (
            (Activity.ServiceType.FREE_CLINIC, "妇幼健康义诊", 2),
            (Activity.ServiceType.HEALTH_CHECK, "已婚育龄妇女免费健康检查", 1),
        ):
            for _ in range(count):
                month = rng.choice(self.months)
                date = self.day_in(month, last_day_of_month(month.year, month.month))
                if date is None:
                    continue
                self.activities.append(
                    PlannedActivity(
                        township,
                        SERVICE,
                        date,
                        title,
                        service_type=service_type,
                        participants=rng.randint(80, 300),
                        consultations=rng.randint(30, 150),
                        organiser=f"{township.name}计生协、卫生院",
                        summary="联合乡镇卫生院开展,现场测血压、血糖,开展妇科检查和健康咨询。",
                        handouts=self.handouts(
                            [("宣传资料", "份", 1.0, 100, 500), ("避孕药具", "盒", 0.6, 20, 100)]
                        ),
                    )
                )
