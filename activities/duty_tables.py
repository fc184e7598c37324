"""The duties as tables people read (the duties page and its sheet), built from
`duties.duties()`: a village's groups × the months of the period, and a township's or the
county's villages × the duties with the share met.

Over a period of several months, a group meets a monthly duty when it met it in every month
of the period, and a village meets a village duty when it met it in every month (president),
quarter (council) or year (congress, training) the period touches. The share of a duty over
all villages is pooled: groups that met it over all groups for the group duties, villages
that met it over the villages it applies to for the village duties."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from members.models import Member

from .duties import Duties, GroupDuties, Tally, VillageDuties
from .periods import QUARTER_NAMES, Period, quarter_of

MET, NOT_MET, NOT_APPLICABLE, PENDING = "✓", "✗", "—", "进行中"

RULES = [
    "小组活动:每个会员小组每月至少开展一次活动(在小组登记的各类活动)。",
    "组长入户:小组长每月入户随访不少于 3 次(按走访当日担任组长者计)。",
    "会长深入小组:村会长每月深入 3 个以上小组指导工作(小组不足 3 个的,须到每个小组);"
    "按会长参加小组活动或走访小组家庭计。",
    "理事会:每季度至少召开一次;会员代表大会、会员培训:每年至少一次。",
    "跨多月的统计期:每个月(季度、年度)都达标才计为达标。",
    "尚未结束的月份(季度、年度):已达标的计为达标,未达标的记为“进行中”,不计入达标率。",
]


def tally_text(tally: Tally) -> str:
    """ "2 ✓", "0 ✗", "1 进行中" in a unit not over yet, or "—" where the duty does not apply."""
    if tally.pending:
        return f"{tally.count} {PENDING}"
    if tally.met is None:
        return NOT_APPLICABLE
    return f"{tally.count} {MET if tally.met else NOT_MET}"


def month_label(month: datetime.date) -> str:
    return f"{month.year}年{month.month}月"


def month_key(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


def quarter_label(quarter: datetime.date) -> str:
    return f"{quarter.year}年{QUARTER_NAMES[quarter_of(quarter)]}"


@dataclass(frozen=True)
class Share:
    """How many met a duty out of how many were judged on it; `pending` more are not judged
    yet (their month, quarter or year is not over and they have not met it so far)."""

    met: int
    total: int
    pending: int = 0

    @property
    def ratio(self) -> float | None:
        return self.met / self.total if self.total else None

    @property
    def percent(self) -> str:
        return NOT_APPLICABLE if self.ratio is None else f"{self.ratio:.1%}"

    @property
    def count_text(self) -> str:
        """ "3/4", with "(2 进行中)" when some are pending."""
        text = f"{self.met}/{self.total}"
        return f"{text}({self.pending} {PENDING})" if self.pending else text

    @property
    def mark(self) -> str:
        """A village's own duty: ✓ met throughout, ✗ (with how many of how many units when
        the period has several), 进行中 when nothing is judged yet, — not applicable."""
        if not self.total:
            return PENDING if self.pending else NOT_APPLICABLE
        if self.met == self.total:
            return MET
        return NOT_MET if self.total == 1 else f"{NOT_MET} {self.met}/{self.total}"

    def __add__(self, other: Share) -> Share:
        return Share(self.met + other.met, self.total + other.total, self.pending + other.pending)


def units_met(tallies) -> Share:
    """Of the units (months, quarters, years) a duty applies in, how many it was met in;
    units not over yet and not met so far are pending."""
    tallies = list(tallies)
    judged = [t for t in tallies if t.met is not None]
    pending = sum(1 for t in tallies if t.pending)
    return Share(sum(1 for t in judged if t.met), len(judged), pending)


def met_throughout(tallies) -> bool | None:
    """Met in every unit judged so far; None when no unit is judged yet (all pending)."""
    judged = [t.met for t in tallies if not t.pending]
    if not judged:
        return None
    return all(judged)


# --- a village (or a group): groups × months -------------------------------------------------


@dataclass
class GroupLine:
    group: GroupDuties
    leader: str
    cells: list[tuple[str, Tally, Tally]]  # per month: (its key, activities, leader's visits)


@dataclass
class VillageTable:
    period: Period
    months: list[datetime.date]
    lines: list[GroupLine]
    village: VillageDuties | None  # None on a group's page
    president: str = ""
    notes: list[tuple[str, list[tuple[str, str, Tally]]]] = field(default_factory=list)


def village_table(result: Duties) -> VillageTable:
    months = result.period.months()
    village = next(iter(result.villages.values()), None)
    names = member_names(
        [g.leader_id for g in result.groups.values()] + [village and village.president_id]
    )
    lines = [
        GroupLine(
            group=group,
            leader=names.get(group.leader_id, ""),
            cells=[(month_key(m), group.activities[m], group.leader_visits[m]) for m in months],
        )
        for group in result.groups.values()
    ]
    table = VillageTable(period=result.period, months=months, lines=lines, village=village)
    if village is not None:
        table.president = names.get(village.president_id, "")
        table.notes = village_duty_notes(village)
    return table


def village_duty_notes(village: VillageDuties) -> list[tuple[str, list[tuple[str, str, Tally]]]]:
    """The village's own duties, each with its tally per month, quarter or year as
    (label, period key for the drill-down, tally)."""
    president = village.president_group_visits.items()
    return [
        ("会长深入小组", [(month_label(m), month_key(m), t) for m, t in president]),
        (
            "理事会",
            [
                (quarter_label(q), f"{q.year}-Q{quarter_of(q)}", t)
                for q, t in village.council_meetings.items()
            ],
        ),
        ("会员代表大会", [(f"{y}年", str(y), t) for y, t in village.congress.items()]),
        ("会员培训", [(f"{y}年", str(y), t) for y, t in village.training.items()]),
    ]


def member_names(member_ids) -> dict[int, str]:
    ids = {pk for pk in member_ids if pk}
    if not ids:
        return {}
    rows = Member.objects.filter(pk__in=ids).values_list("pk", "person__name")
    return dict(rows)


# --- a township or the county: villages × duties ---------------------------------------------


@dataclass
class VillageLine:
    village_id: int | None
    township: str
    name: str
    group_count: int
    activities: Share  # groups that met it / groups
    leader_visits: Share
    president: Share  # for a village: months met / months; for the total: villages
    council: Share
    congress: Share
    training: Share

    @property
    def own_duties(self) -> list[Share]:
        return [self.president, self.council, self.congress, self.training]


@dataclass
class AreaTable:
    period: Period
    lines: list[VillageLine]
    total: VillageLine
    show_township: bool


def area_table(result: Duties, *, township_names: dict[int, str]) -> AreaTable:
    groups_by_village: dict[int, list[GroupDuties]] = {}
    for group in result.groups.values():
        groups_by_village.setdefault(group.village_id, []).append(group)
    lines = [
        village_line(village, groups_by_village.get(village.village_id, []), township_names)
        for village in result.villages.values()
    ]
    return AreaTable(
        period=result.period,
        lines=lines,
        total=total_line(lines),
        show_township=len(township_names) > 1,
    )


def village_line(village: VillageDuties, groups, township_names) -> VillageLine:
    def groups_met(attribute: str) -> Share:
        verdicts = [met_throughout(getattr(g, attribute).values()) for g in groups]
        judged = [v for v in verdicts if v is not None]
        return Share(sum(judged), len(judged), len(verdicts) - len(judged))

    return VillageLine(
        village_id=village.village_id,
        township=township_names.get(village.township_id, ""),
        name=village.name,
        group_count=len(groups),
        activities=groups_met("activities"),
        leader_visits=groups_met("leader_visits"),
        president=units_met(village.president_group_visits.values()),
        council=units_met(village.council_meetings.values()),
        congress=units_met(village.congress.values()),
        training=units_met(village.training.values()),
    )


def total_line(lines: list[VillageLine]) -> VillageLine:
    """Groups pooled for the group duties; villages that met a village duty throughout over
    the villages it applies to."""

    def villages_met(attribute: str) -> Share:
        shares = [getattr(line, attribute) for line in lines]
        judged = [s for s in shares if s.total]
        pending = sum(1 for s in shares if not s.total and s.pending)
        return Share(sum(1 for s in judged if s.met == s.total), len(judged), pending)

    return VillageLine(
        village_id=None,
        township="",
        name="合计",
        group_count=sum(line.group_count for line in lines),
        activities=sum((line.activities for line in lines), Share(0, 0)),
        leader_visits=sum((line.leader_visits for line in lines), Share(0, 0)),
        president=villages_met("president"),
        council=villages_met("council"),
        congress=villages_met("congress"),
        training=villages_met("training"),
    )
