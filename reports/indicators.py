"""The registry of computed indicators (考核指标): each is a key, a Chinese name, a unit, the
level it applies to (村 or 会员小组) and ONE set-based function `compute(county, period)`
returning {node id: value} for every village (or group) of the county, in a handful of
queries whatever the number of villages. Adding an indicator is one function and its
`@register(...)` line; schemes refer to it by key.

Values are Decimals rounded to 0.01 (half up); shares are percentages (12.5 means 12.5%), so
a scheme's thresholds are typed as users say them ("10%" is 10). A value of None means "no
value for this node" (scored 0, 无数据: reports.scoring); a node missing from the dict is the
same. The duty-based indicators are built on activities.duties (the rules and their
definitions are documented there), the membership ratio on the members and households
selectors (the figures page's 常住人口), the council model on associations.selectors.

Every function runs inside the county's scope (the caller's request, task or command)."""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import ExtractYear

from activities import catalogues
from activities import duties as activity_duties
from activities.models import Activity, HomeVisit
from associations.models import Association, Council, CouncilSeat, Level
from associations.periods import Period
from associations.selectors import COUNCIL_MODELS
from benefits.models import Disbursement, LineStatus
from households import selectors as household_selectors
from households.models import AssistanceRecord, HardshipAssessment
from members import selectors as member_selectors
from members.models import Pairing

from .models import IndicatorLevel
from .scoring import rounded

Values = dict[int, Decimal | None]


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    unit: str
    level: str  # IndicatorLevel
    compute: Callable[[Association, Period], Values]
    definition: str = ""  # for county staff, in Chinese
    description: str = ""  # for developers: the function's docstring


REGISTRY: dict[str, Indicator] = {}


def register(
    *, key: str, name: str, unit: str, definition: str, level: str = IndicatorLevel.VILLAGE
):
    """Register `compute(county, period) -> {node id: value}` under `key`. `definition` is
    what county staff read on the scheme page; the function's docstring is the exact rule."""

    def decorator(function):
        if key in REGISTRY:
            raise ValueError(f"indicator {key!r} is registered twice")
        description = " ".join((function.__doc__ or "").split())
        REGISTRY[key] = Indicator(key, name, unit, str(level), function, definition, description)
        return function

    return decorator


_shared: ContextVar[dict | None] = ContextVar("indicator_shared_reads", default=None)


@contextlib.contextmanager
def shared_reads():
    """Within it, the activities.duties counts several indicators ask for (the groups'
    activities, the leaders' visits, the village meetings) are read once for all of them: a
    report run computes every indicator of its version in one."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared_read(function, *, node: Association, **kwargs):
    """`function(node=node, **kwargs)`, read once within `shared_reads`."""
    memo = _shared.get()
    if memo is None:
        return function(node=node, **kwargs)
    key = _memo_key(function, node, kwargs)
    if key not in memo:
        memo[key] = function(node=node, **kwargs)
    return memo[key]


def share_result(function, value, *, node: Association, **kwargs) -> None:
    """Record `value` as what `function(node=node, **kwargs)` reads, within `shared_reads`:
    for a caller that has computed the same figures in a wider query of its own."""
    memo = _shared.get()
    if memo is not None:
        memo[_memo_key(function, node, kwargs)] = value


def _memo_key(function, node: Association, kwargs: dict) -> tuple:
    return (function.__module__, function.__name__, node.pk, tuple(sorted(kwargs.items())))


def _duty(function, county: Association, period: Period):
    return shared_read(function, node=county, period=period)


def get_indicator(key: str) -> Indicator | None:
    return REGISTRY.get(key)


def indicators_for(level: str | None = None) -> list[Indicator]:
    return [i for i in REGISTRY.values() if level is None or i.level == level]


def compute(key: str, *, county: Association, period: Period) -> Values:
    return REGISTRY[key].compute(county, period)


# --- helpers ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def percent(part: int, whole: int) -> Decimal | None:
    """part ÷ whole as a percentage rounded to 0.01; None when there is nothing to divide by."""
    if not whole:
        return None
    return rounded(Decimal(part) * 100 / Decimal(whole))


@dataclass(frozen=True)
class _Units:
    villages: list[int]  # by division code
    small: dict[int, bool]  # village id: is_small_village
    groups: dict[int, list[int]]  # village id: its group ids
    group_ids: list[int]


def _read_units(*, node: Association) -> _Units:
    """The county's villages and groups, in one query."""
    return _units_of(
        Association.objects.filter(level__in=[Level.VILLAGE, Level.GROUP], county_id=node.pk)
        .order_by("division_code")
        .values_list("id", "level", "village_id", "is_small_village")
    )


def share_units(county: Association, nodes: list[dict]) -> None:
    """Within shared_reads: the indicators take the county's villages and groups from
    `nodes` (the county's nodes by division code, as dicts with id, level, village_id and
    is_small_village) instead of reading them again."""
    share_result(
        _read_units,
        _units_of(
            (n["id"], n["level"], n["village_id"], n["is_small_village"])
            for n in nodes
            if n["level"] in (Level.VILLAGE, Level.GROUP)
        ),
        node=county,
    )


def _units_of(rows) -> _Units:
    villages, small, groups, group_ids = [], {}, defaultdict(list), []
    for node_id, level, village_id, is_small in rows:
        if level == Level.VILLAGE:
            villages.append(node_id)
            small[node_id] = is_small
        else:
            groups[village_id].append(node_id)
            group_ids.append(node_id)
    return _Units(villages, small, dict(groups), group_ids)


def _units(county: Association) -> _Units:
    """Read once for every indicator of a run (within shared_reads)."""
    return shared_read(_read_units, node=county)


def village_ids(county: Association) -> list[int]:
    """The county's villages by division code (read once per run within shared_reads)."""
    return _units(county).villages


def _groups_by_village(county: Association) -> tuple[list[int], dict[int, list[int]]]:
    """(every village id, {village id: its group ids})."""
    units = _units(county)
    return units.villages, units.groups


def _year_to_end(period: Period) -> Period:
    """From 1 January of the period's last year to the period's end: the window of a duty
    asked for once a year (a congress held later in the year does not count for Q1)."""
    return Period(datetime.date(period.end.year, 1, 1), period.end)


# --- duties (activities.duties) -------------------------------------------------------------


@register(
    key="council_quarterly",
    name="理事会按季召开",
    unit="%",
    definition="统计期内村协会召开理事会(会议类型“理事会”)的季度占全部季度的百分比。",
)
def council_quarterly(county: Association, period: Period) -> Values:
    """Share of the quarters of the period in which the village's council met at least once
    (a 会议 of type 理事会 held at the village): 100 for a quarter in which it met, 0 if not;
    a year with three quarters met is 75."""
    meetings = _duty(activity_duties.village_meeting_counts, county, period)
    quarters = period.quarters()
    result = {}
    for village_id in village_ids(county):
        by_quarter = meetings.get(village_id, {})
        met = sum(
            1
            for quarter in quarters
            if by_quarter.get(quarter, {}).get("council", 0)
            >= activity_duties.COUNCIL_MEETINGS_A_QUARTER
        )
        result[village_id] = percent(met, len(quarters))
    return result


def _count_met_months(*, node: Association, period: Period, duty: str, required: int) -> dict:
    """{group id: months of the period in which the duty's count reached `required`} of the
    groups with any (activities.duties.<duty> counts by group and month)."""
    counts = _duty(getattr(activity_duties, duty), node, period)
    months = period.months()
    met = {}
    for group_id, by_month in counts.items():
        n = sum(1 for month in months if by_month.get(month, 0) >= required)
        if n:
            met[group_id] = n
    return met


def _met_months(county: Association, period: Period, duty: str, required: int) -> dict:
    """As _count_met_months, once per run for the village and the group indicators."""
    return shared_read(_count_met_months, node=county, period=period, duty=duty, required=required)


@register(
    key="group_activity_share",
    name="每月开展活动的小组占比",
    unit="%",
    definition="统计期内每个月都开展了活动的会员小组占本村小组数的百分比。",
)
def group_activity_share(county: Association, period: Period) -> Values:
    """Share of the village's member groups that held at least one activity in EVERY month of
    the period (activities held at the group node). A village without groups: no value."""
    met = _met_months(
        county, period, "group_activity_counts", activity_duties.GROUP_ACTIVITIES_A_MONTH
    )
    months = len(period.months())
    villages, groups = _groups_by_village(county)
    result = {}
    for village_id in villages:
        own = groups.get(village_id, [])
        every_month = sum(1 for g in own if met.get(g, 0) == months)
        result[village_id] = percent(every_month, len(own))
    return result


@register(
    key="leader_visit_share",
    name="小组长每月入户随访达标率",
    unit="%",
    definition="本村各小组各月中,当月小组长入户随访达到3次的“组·月”所占百分比。",
)
def leader_visit_share(county: Association, period: Period) -> Values:
    """Share of the village's group-months (each group × each month of the period) in which
    the group's leader of the day made at least 3 home visits: a village of 2 groups over a
    quarter has 6 group-months; 3 of them with 3 or more visits is 50. A group without a
    leader has no visits, so its months are not met. A village without groups: no value."""
    met = _met_months(county, period, "leader_visit_counts", activity_duties.LEADER_VISITS_A_MONTH)
    months = len(period.months())
    villages, groups = _groups_by_village(county)
    result = {}
    for village_id in villages:
        own = groups.get(village_id, [])
        result[village_id] = percent(sum(met.get(g, 0) for g in own), len(own) * months)
    return result


@register(
    key="president_group_visits",
    name="会长每月深入小组指导达标率",
    unit="%",
    definition="会长当月深入3个以上小组(不足3个的须到全部小组)的月份所占百分比,按会长参加小组活动和入户走访统计。",
)
def president_group_visits(county: Association, period: Period) -> Values:
    """Share of the months of the period in which the village president went to at least 3
    groups of the village (all of them if it has fewer), as activities.duties reads it from
    the president's attendances at group activities and home visits. A village without
    groups: no value."""
    counts = _duty(activity_duties.president_group_visit_counts, county, period)
    months = period.months()
    villages, groups = _groups_by_village(county)
    result = {}
    for village_id in villages:
        required = min(activity_duties.PRESIDENT_GROUPS_A_MONTH, len(groups.get(village_id, [])))
        if not required:
            result[village_id] = None
            continue
        by_month = counts.get(village_id, {})
        met = sum(1 for month in months if by_month.get(month, 0) >= required)
        result[village_id] = percent(met, len(months))
    return result


def _held_in_year(county: Association, period: Period, kind: str) -> Values:
    window = _year_to_end(period)
    meetings = _duty(activity_duties.village_meeting_counts, county, window)
    result = {}
    for village_id in village_ids(county):
        by_quarter = meetings.get(village_id, {})
        result[village_id] = Decimal(
            sum(row[kind] for quarter, row in by_quarter.items() if quarter <= window.end)
        )
    return result


@register(
    key="congress_held",
    name="年度召开会员代表大会",
    unit="次",
    definition="当年1月1日至统计期末,村协会召开会员代表大会的次数。",
)
def congress_held(county: Association, period: Period) -> Values:
    """会员代表大会 held at the village from 1 January of the period's year to the period's
    end (seed 002 art. 8: held regularly; one a year is the duty)."""
    return _held_in_year(county, period, "congress")


@register(
    key="training_held",
    name="年度举办会员培训",
    unit="次",
    definition="当年1月1日至统计期末,村协会及其小组举办培训的次数。",
)
def training_held(county: Association, period: Period) -> Values:
    """培训 held at the village or any of its groups from 1 January of the period's year to
    the period's end (seed 002 art. 8 九: 年度会员学习培训班)."""
    return _held_in_year(county, period, "training")


# --- group level -------------------------------------------------------------------------


def _group_ids(county: Association) -> list[int]:
    return _units(county).group_ids


@register(
    key="group_activity_months",
    name="小组每月开展活动",
    unit="%",
    level=IndicatorLevel.GROUP,
    definition="统计期内小组开展了活动的月份所占百分比。",
)
def group_activity_months(county: Association, period: Period) -> Values:
    """Share of the months of the period in which the group held at least one activity."""
    met = _met_months(
        county, period, "group_activity_counts", activity_duties.GROUP_ACTIVITIES_A_MONTH
    )
    months = len(period.months())
    return {g: percent(met.get(g, 0), months) for g in _group_ids(county)}


@register(
    key="leader_visit_months",
    name="小组长每月入户随访达标",
    unit="%",
    level=IndicatorLevel.GROUP,
    definition="统计期内小组长入户随访达到3次的月份所占百分比。",
)
def leader_visit_months(county: Association, period: Period) -> Values:
    """Share of the months of the period in which the group's leader made at least 3 home
    visits."""
    met = _met_months(county, period, "leader_visit_counts", activity_duties.LEADER_VISITS_A_MONTH)
    months = len(period.months())
    return {g: percent(met.get(g, 0), months) for g in _group_ids(county)}


# --- members, publicity, hardship, council ----------------------------------------------------


@register(
    key="membership_ratio",
    name="会员占常住人口比例",
    unit="%",
    definition="统计期末在册会员数 ÷ 常住人口(户籍常住 + 流入)× 100。",
)
def membership_ratio(county: Association, period: Period) -> Values:
    """Members on the village's roll on the last day of the period ÷ the village's 常住人口
    (户籍常住 + 流入, alive) on that day, × 100 — the member list's ratio (members.selectors.
    MembershipRatio explains the denominator) taken at the period's end. Seed 001: 会员总数达到
    总人口的10%以上. A village with no resident population: no value."""
    members = shared_read(member_selectors.members_by_village, node=county, on=period.end)
    population = shared_read(
        household_selectors.resident_population_by_village, node=county, on=period.end
    )
    return {
        village_id: percent(members.get(village_id, 0), population.get(village_id, 0))
        for village_id in village_ids(county)
    }


def _themed_day_dates(county: Association, period: Period) -> set[tuple[int, int]]:
    """(themed day id, year) of every occurrence of the county's active themed days within
    the period."""
    occurrences = set()
    for day in catalogues.themed_days(county_id=county.pk):
        for year in period.years():
            try:
                date = datetime.date(year, day.month, day.day)
            except ValueError:  # 29 February in a common year
                continue
            if period.start <= date <= period.end:
                occurrences.add((day.pk, year))
    return occurrences


@register(
    key="themed_day_publicity",
    name="主题日宣传活动开展率",
    unit="%",
    definition="统计期内的主题日(3.8、5.29、7.11等)中,本村或其小组开展了标明该主题日的活动所占百分比。",
)
def themed_day_publicity(county: Association, period: Period) -> Values:
    """Share of the themed days (the county's 主题日 calendar: 3.8, 5.29, 7.11 …) falling in
    the period that the village marked: an activity held at the village or one of its groups,
    dated in the period and in the same year, recorded against that themed day. A period with
    no themed day in it: no value for anyone."""
    occurrences = _themed_day_dates(county, period)
    marked = defaultdict(set)
    rows = (
        Activity.objects.filter(
            county_id=county.pk,
            village__isnull=False,
            themed_day__isnull=False,
            date__range=(period.start, period.end),
        )
        .values_list("village_id", "themed_day_id", ExtractYear("date"))
        .distinct()
    )
    for village_id, day_id, year in rows:
        if (day_id, year) in occurrences:
            marked[village_id].add((day_id, year))
    return {
        village_id: percent(len(marked.get(village_id, ())), len(occurrences))
        for village_id in village_ids(county)
    }


HARDSHIP_VISIT_PURPOSES = (HomeVisit.Purpose.HARDSHIP_HELP, HomeVisit.Purpose.CONDOLENCE)


@register(
    key="hardship_assisted_share",
    name="计生困难家庭帮扶覆盖率",
    unit="%",
    definition="当年在册的计生困难家庭中,统计期内有结对帮扶、困难帮扶或慰问走访、帮扶档案记录或领到扶助金的户所占百分比;无困难家庭记为100。",
)
def hardship_assisted_share(county: Association, period: Period) -> Values:
    """Share of the village's hardship households (在册 in the roster of the period's last
    year) that were helped during the period: paired with a member (a 结对帮扶 running at any
    time in the period), visited at home for 困难帮扶 or 慰问, given assistance (an entry
    of the household's 帮扶档案 dated in the period), or paid a care subsidy (a benefits
    payment line paid in the period). One query. A village with no hardship
    household in the roster has nobody left unhelped: 100."""
    start, end = period.start, period.end
    household = OuterRef("household_id")
    paired = Exists(
        Pairing.objects.filter(household_id=household, starts_on__lte=end).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=start)
        )
    )
    visited = Exists(
        HomeVisit.objects.filter(
            household_id=household,
            visited_on__range=(start, end),
            purpose__in=HARDSHIP_VISIT_PURPOSES,
        )
    )
    aided = Exists(
        AssistanceRecord.objects.filter(household_id=household, given_on__range=(start, end))
    )
    subsidised = Exists(
        Disbursement.objects.filter(
            household_id=household, status=LineStatus.PAID, paid_on__range=(start, end)
        )
    )
    rows = (
        HardshipAssessment.objects.filter(
            county_id=county.pk,
            year=end.year,
            status=HardshipAssessment.Status.IN_ROSTER,
        )
        .values("village_id")
        .annotate(
            total=Count("id"), helped_n=Count("id", filter=paired | visited | aided | subsidised)
        )
        .order_by()
    )
    counts = {row["village_id"]: (row["helped_n"], row["total"]) for row in rows}
    result = {}
    for village_id in village_ids(county):
        helped, total = counts.get(village_id, (0, 0))
        result[village_id] = percent(helped, total) if total else Decimal("100.00")
    return result


@register(
    key="council_model",
    name="理事会符合“5-3-3”/“3-2-1”模式",
    unit="是/否",
    definition="统计期末在任理事会符合“5-3-3”(小村“3-2-1”)模式记为1,否则为0。",
)
def council_model(county: Association, period: Period) -> Values:
    """1 if the village's council in office at the end of the period (the latest term that
    began by then and had not ended before the period) has the seats its model asks for —
    5 五老, 3 社会贤达·致富能人·积极分子, 3 村干部; a small village 3-2-1 — else 0, as the
    council page checks it (associations.selectors.council_model_check). No council: no
    value."""
    villages = _units(county).small.items()
    councils = dict(
        Council.objects.filter(
            association__level=Level.VILLAGE,
            county_id=county.pk,
            starts_on__lte=period.end,
            ends_on__gte=period.start,
        )
        .order_by("association_id", "starts_on", "id")
        .values_list("association_id", "id")
    )  # later terms overwrite earlier ones
    seats = defaultdict(dict)
    for council_id, background, n in (
        CouncilSeat.objects.filter(council_id__in=list(councils.values()))
        .values("council_id", "background")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("council_id", "background", "n")
    ):
        seats[council_id][background] = n
    result = {}
    for village_id, small in villages:
        council_id = councils.get(village_id)
        if council_id is None:
            result[village_id] = None
            continue
        required = COUNCIL_MODELS[small][1]
        actual = seats.get(council_id, {})
        met = all(actual.get(background, 0) >= n for background, n in required.items())
        result[village_id] = Decimal(1 if met else 0)
    return result
