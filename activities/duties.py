"""The duties the assessment counts (seed 000, seed 002 art. 8), computed for every group and
village under a node for a period, in set-based SQL: one query per duty (two for the
president's), plus one each for the groups and villages — the same handful of queries for a
village or for a whole county. The reports app builds its indicators on these functions.

The rules, exactly as computed:

- Group activity (每个会员小组每月至少开展一次活动): for each group and each month the period
  touches, the activities held at the group node (any kind; a 会员小组会 is a 会议 at the
  group) whose start date falls in the month. Required: 1.
- Leader's visits (女组长每月入户随访不少于 3 次): for each group and month, the home visits whose
  visitor held the group's leader role (members.GroupRole, role leader) on the visit date
  (starts_on ≤ date, and no ends_on or ends_on ≥ date). So a visit counts for the group the
  visitor led that day, and a leader who changed mid-month shares the month with the next.
  Required: 3.
- President's group visits (村会长每月深入 3 个以上小组指导工作): the platform has no record of
  its own for this, so it is read from two records that exist, for each village and month:
  the distinct groups of the village where the president (the member linked through
  members.SeatHolder to the president's seat of a council of the village whose term covers
  the date) either attended an activity held at the group node, or made a home visit to a
  household of the group (only a group's own members are recorded at its activities, so
  for the other groups it is the president's visits that show them going there).
  Required: 3, or the number of groups the village has if fewer (a village of two groups
  meets it by going to both); a village without groups: not applicable (`met` is None).
  A president's seat not linked to a member counts nothing (`president_id` None says why).
- Council meeting (理事会每季度至少召开一次): for each village and each quarter the period
  touches, 会议 of type 理事会 held at the village node. Required: 1.
- Member congress (每年召开会员代表大会) and training (年度会员学习培训班): for each village and
  each year the period touches, 会议 of type 会员代表大会 at the village node, and 培训 held
  at the village node or any of its groups. Required: 1 each.

Quarterly and yearly duties are counted over the whole quarter or year, whatever part of it
the period covers: a month's table shows where its quarter and year stand.

A month, quarter or year that has not ended yet is open: a duty already met in it is met, one
not met yet is pending, not failed (the group may still hold its activity on the 30th); the
tables leave pending units out of the share met and say how many are pending."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, DateField, Exists, F, OuterRef, Q
from django.db.models.functions import Cast, TruncMonth, TruncQuarter
from django.utils import timezone

from associations.models import Association, CouncilPosition, Level
from members.models import GroupRole, SeatHolder

from .models import Activity, Attendance, HomeVisit
from .periods import Period
from .selectors import under

GROUP_ACTIVITIES_A_MONTH = 1
LEADER_VISITS_A_MONTH = 3
PRESIDENT_GROUPS_A_MONTH = 3
COUNCIL_MEETINGS_A_QUARTER = 1
CONGRESSES_A_YEAR = 1
TRAININGS_A_YEAR = 1


@dataclass(frozen=True)
class Tally:
    """How many were recorded against how many the duty asks for. `required` None: the duty
    does not apply (a village without groups has no groups to visit). `open`: the month,
    quarter or year has not ended yet, so a count short of the requirement is not a failure
    yet: the duty is pending (`met` None, `pending` True) until the unit is over."""

    count: int
    required: int | None
    open: bool = False

    @property
    def met(self) -> bool | None:
        if self.required is None:
            return None
        if self.count >= self.required:
            return True
        return None if self.open else False

    @property
    def pending(self) -> bool:
        return self.open and self.required is not None and self.count < self.required


@functools.lru_cache(maxsize=4096)
def tally(count: int, required: int | None, open: bool = False) -> Tally:
    """A shared Tally (they are immutable): a county's quarter needs 30,000 of them, mostly
    the same few, and fewer new objects means fewer garbage-collector passes."""
    return Tally(count, required, open)


def month_open(month: datetime.date, today: datetime.date) -> bool:
    """The month starting on `month` has not ended by `today`."""
    return today < _months_later(month, 1)


def quarter_open(quarter: datetime.date, today: datetime.date) -> bool:
    return today < _months_later(quarter, 3)


def year_open(year: int, today: datetime.date) -> bool:
    return today < datetime.date(year + 1, 1, 1)


def _months_later(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class GroupDuties:
    group_id: int
    village_id: int
    name: str
    leader_id: int | None  # the member who led the group last in the period
    activities: dict[datetime.date, Tally] = field(default_factory=dict)  # by month
    leader_visits: dict[datetime.date, Tally] = field(default_factory=dict)  # by month


@dataclass
class VillageDuties:
    village_id: int
    township_id: int | None
    name: str
    group_count: int
    president_id: int | None  # the member linked to the president's seat in the period
    president_group_visits: dict[datetime.date, Tally] = field(default_factory=dict)  # by month
    council_meetings: dict[datetime.date, Tally] = field(default_factory=dict)  # by quarter
    congress: dict[int, Tally] = field(default_factory=dict)  # by year
    training: dict[int, Tally] = field(default_factory=dict)  # by year


@dataclass
class Duties:
    period: Period
    groups: dict[int, GroupDuties]
    villages: dict[int, VillageDuties]


# --- one query per duty ----------------------------------------------------------------------


def month_of(field: str) -> Cast:
    """The first day of the month of a date field, as a date in SQL: PostgreSQL's date_trunc
    makes a timestamp with time zone, which the driver loads several times slower than a date
    (a county's quarter has tens of thousands of such values)."""
    return Cast(TruncMonth(field), DateField())


def quarter_of_date(field: str) -> Cast:
    return Cast(TruncQuarter(field), DateField())


def group_activity_counts(*, node: Association, period: Period) -> dict[int, dict]:
    """{group id: {month: activities held at the group}}."""
    rows = (
        Activity.objects.filter(
            group__isnull=False, date__range=(period.start, period.end), **under(node)
        )
        .values("group_id", month=month_of("date"))
        .annotate(n=Count("id"))
        .values_list("group_id", "month", "n")
    )
    return _nest(rows)


def leader_visit_counts(*, node: Association, period: Period) -> dict[int, dict]:
    """{group id: {month: visits made by the group's leader of the day}}.

    One join of the visits to the leader roles covering their date; where a visitor held
    two such roles that day, the anti-join keeps the one that started last. (A scalar
    subquery per visit gives the same counts but runs once per visit, and its cost estimate
    sets PostgreSQL's JIT compiler off: several times slower on a county's quarter.)"""
    covering = Q(
        visitor__group_roles__role=GroupRole.Role.LEADER,
        visitor__group_roles__starts_on__lte=F("visited_on"),
    ) & (
        Q(visitor__group_roles__ends_on__isnull=True)
        | Q(visitor__group_roles__ends_on__gte=F("visited_on"))
    )
    later_role = GroupRole.objects.filter(
        member_id=OuterRef("visitor_id"),
        role=GroupRole.Role.LEADER,
        starts_on__gt=OuterRef("role_starts_on"),
        starts_on__lte=OuterRef("visited_on"),
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=OuterRef("visited_on")))
    rows = (
        HomeVisit.objects.filter(
            covering, visited_on__range=(period.start, period.end), **under(node)
        )
        .annotate(
            role_starts_on=F("visitor__group_roles__starts_on"),
            led_group=F("visitor__group_roles__group_id"),
        )
        .filter(~Exists(later_role))
        .values("led_group", month=month_of("visited_on"))
        .annotate(n=Count("id"))
        .order_by()
        .values_list("led_group", "month", "n")
    )
    return _nest(rows)


def _is_president(member_ref: str, village_ref: str, date_ref: str) -> Exists:
    """The member held the president's seat of a council of the village on the date."""
    return Exists(
        SeatHolder.objects.filter(
            member_id=OuterRef(member_ref),
            seat__position=CouncilPosition.PRESIDENT,
            seat__council__association_id=OuterRef(village_ref),
            seat__council__starts_on__lte=OuterRef(date_ref),
            seat__council__ends_on__gte=OuterRef(date_ref),
        )
    )


def president_group_visit_counts(*, node: Association, period: Period) -> dict[int, dict]:
    """{village id: {month: distinct groups the president went to}} — two queries (the
    president's attendances at group activities, and their home visits), joined here."""
    span = (period.start, period.end)
    # Only members linked to a president's seat can count: narrowing to them first lets
    # PostgreSQL start from the few hundred presidents (by the attendance_member and
    # visit_visitor_date indexes) instead of every attendance and visit of the period.
    presidents = SeatHolder.objects.filter(seat__position=CouncilPosition.PRESIDENT).values(
        "member_id"
    )
    attended = (
        Attendance.objects.filter(
            activity__date__range=span,
            activity__group__isnull=False,
            member_id__in=presidents,
            **under(node),
        )
        .filter(_is_president("member_id", "activity__village_id", "activity__date"))
        .values_list("activity__village_id", month_of("activity__date"), "activity__group_id")
        .order_by()  # the default ordering would join members and enter the DISTINCT
        .distinct()
    )
    visited = (
        HomeVisit.objects.filter(
            visited_on__range=span,
            household__group__isnull=False,
            visitor_id__in=presidents,
            **under(node),
        )
        .filter(_is_president("visitor_id", "village_id", "visited_on"))
        .values_list("village_id", month_of("visited_on"), "household__group_id")
        .order_by()
        .distinct()
    )
    groups = defaultdict(set)
    for village_id, month, group_id in [*attended, *visited]:
        groups[(village_id, month)].add(group_id)
    return _nest((village, month, len(seen)) for (village, month), seen in groups.items())


def village_meeting_counts(*, node: Association, period: Period) -> dict[int, dict]:
    """{village id: {quarter start: {"council": n, "congress": n, "training": n}}} over the
    whole years the period touches, in one query (conditional aggregation)."""
    years = period.whole_years()
    at_village = Q(group__isnull=True, kind=Activity.Kind.MEETING)
    rows = (
        Activity.objects.filter(
            village__isnull=False, date__range=(years.start, years.end), **under(node)
        )
        .filter(
            Q(kind=Activity.Kind.TRAINING)
            | Q(
                at_village,
                meeting_type__in=[Activity.MeetingType.COUNCIL, Activity.MeetingType.CONGRESS],
            )
        )
        .values("village_id", quarter=quarter_of_date("date"))
        .annotate(
            council=Count("id", filter=at_village & Q(meeting_type=Activity.MeetingType.COUNCIL)),
            congress=Count("id", filter=at_village & Q(meeting_type=Activity.MeetingType.CONGRESS)),
            training=Count("id", filter=Q(kind=Activity.Kind.TRAINING)),
        )
    )
    counts: dict[int, dict] = defaultdict(dict)
    for row in rows:
        counts[row["village_id"]][row["quarter"]] = row
    return counts


def group_leaders(*, node: Association, period: Period) -> dict[int, int]:
    """{group id: member id of the last leader whose term overlaps the period}."""
    rows = (
        GroupRole.objects.filter(
            role=GroupRole.Role.LEADER, starts_on__lte=period.end, **under(node)
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.start))
        .order_by("group_id", "starts_on", "id")
        .values_list("group_id", "member_id")
    )
    return dict(rows)  # later terms overwrite earlier ones


def village_presidents(*, node: Association, period: Period) -> dict[int, int]:
    """{village id: member id linked to the president's seat of a council whose term
    overlaps the period (the latest such council)}."""
    rows = (
        SeatHolder.objects.filter(
            seat__position=CouncilPosition.PRESIDENT,
            seat__council__association__level=Level.VILLAGE,
            seat__council__starts_on__lte=period.end,
            seat__council__ends_on__gte=period.start,
            **under(node),
        )
        .order_by("seat__council__association_id", "seat__council__starts_on")
        .values_list("seat__council__association_id", "member_id")
    )
    return dict(rows)


def _nest(rows) -> dict[int, dict]:
    nested: dict[int, dict] = defaultdict(dict)
    for key, period_start, n in rows:
        nested[key][period_start] = n
    return nested


# --- the table -------------------------------------------------------------------------------


def duties(*, node: Association, period: Period, today: datetime.date | None = None) -> Duties:
    """Every duty of every group and village under `node` for the period: nine queries,
    whatever the number of villages and groups. Months, quarters and years that have not
    ended by `today` (the local date by default) are open: see Tally."""
    today = today or timezone.localdate()
    groups_rows = list(
        Association.objects.filter(level=Level.GROUP, **under(node))
        .order_by("division_code")
        .values("id", "village_id", "name")
    )
    village_rows = list(
        Association.objects.filter(level=Level.VILLAGE, **under(node))
        .order_by("division_code")
        .values("id", "township_id", "name")
    )
    return Duties(
        period=period,
        groups=_group_duties(groups_rows, node=node, period=period, today=today),
        villages=_village_duties(village_rows, groups_rows, node=node, period=period, today=today),
    )


def _group_duties(rows, *, node, period, today) -> dict[int, GroupDuties]:
    activities = group_activity_counts(node=node, period=period)
    visits = leader_visit_counts(node=node, period=period)
    leaders = group_leaders(node=node, period=period)
    months = period.months()
    result = {}
    for row in rows:
        group_id = row["id"]
        result[group_id] = GroupDuties(
            group_id=group_id,
            village_id=row["village_id"],
            name=row["name"],
            leader_id=leaders.get(group_id),
            activities={
                month: tally(
                    activities[group_id].get(month, 0),
                    GROUP_ACTIVITIES_A_MONTH,
                    month_open(month, today),
                )
                for month in months
            },
            leader_visits={
                month: tally(
                    visits[group_id].get(month, 0), LEADER_VISITS_A_MONTH, month_open(month, today)
                )
                for month in months
            },
        )
    return result


def _village_duties(rows, group_rows, *, node, period, today) -> dict[int, VillageDuties]:
    president_visits = president_group_visit_counts(node=node, period=period)
    meetings = village_meeting_counts(node=node, period=period)
    presidents = village_presidents(node=node, period=period)
    group_count = defaultdict(int)
    for group in group_rows:
        group_count[group["village_id"]] += 1
    result = {}
    for row in rows:
        village_id = row["id"]
        groups = group_count[village_id]
        by_quarter = meetings[village_id]
        result[village_id] = VillageDuties(
            village_id=village_id,
            township_id=row["township_id"],
            name=row["name"],
            group_count=groups,
            president_id=presidents.get(village_id),
            president_group_visits={
                month: tally(
                    president_visits[village_id].get(month, 0),
                    min(PRESIDENT_GROUPS_A_MONTH, groups) or None,
                    month_open(month, today),
                )
                for month in period.months()
            },
            council_meetings={
                quarter: tally(
                    by_quarter.get(quarter, {}).get("council", 0),
                    COUNCIL_MEETINGS_A_QUARTER,
                    quarter_open(quarter, today),
                )
                for quarter in period.quarters()
            },
            congress={
                year: tally(
                    _year_sum(by_quarter, year, "congress"),
                    CONGRESSES_A_YEAR,
                    year_open(year, today),
                )
                for year in period.years()
            },
            training={
                year: tally(
                    _year_sum(by_quarter, year, "training"),
                    TRAININGS_A_YEAR,
                    year_open(year, today),
                )
                for year in period.years()
            },
        )
    return result


def _year_sum(by_quarter: dict, year: int, key: str) -> int:
    return sum(row[key] for quarter, row in by_quarter.items() if quarter.year == year)
