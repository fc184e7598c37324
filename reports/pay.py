"""Performance pay (绩效工资) of a report run: the county holds back each month part of the
subsidy of every village president (会长) and group leader (会员小组长) — the scheme
version's `president_pay_held` and `leader_pay_held` — and pays it at year end by the
village's grade in the year's assessment: 一流村协会 100 %, 合格村协会 the version's
`qualified_pay_share` %, 不合格 0 (“年终考核不称职的……取消绩效工资”). The presidents and
group leaders of the county's top three villages also get the version's
`commendation_bonus` each (“前三名的优秀会长和女组长给予表扬奖励”). Group leaders follow
their village's grade.

`pay_lines` is pure: it works on plain values only. For a year's run (period key "2026")
each person holds 12 months; for any other run the months of the period, and the figures are
an estimate (the year-end assessment decides). Money is Decimal yuan, two places, half up.

`pay_people` reads who holds the posts at the period's end, set-based: the president of the
village council whose term covers that day (one query) and the leader of each group of the
village (one query). The snapshot builder stores them on every village row
(`figures["posts"]`), so a run's pay names the people who held the posts when it was built,
not whoever holds them today; runs built before that read them live."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from associations.models import CouncilPosition, CouncilSeat, Level
from associations.periods import Period, parse_period
from members.models import GroupRole

from .models import Grade, ReportRun, SchemeVersion, SnapshotNode

CENT = Decimal("0.01")
FULL = Decimal(100)
PRESIDENT = "会长"
LEADER = "会员小组长"


def yuan(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Terms:
    """What a scheme version says about the pay."""

    president_monthly: Decimal
    leader_monthly: Decimal
    qualified_share: Decimal  # percent
    bonus: Decimal

    @classmethod
    def of(cls, version: SchemeVersion) -> Terms:
        return cls(
            president_monthly=version.president_pay_held,
            leader_monthly=version.leader_pay_held,
            qualified_share=version.qualified_pay_share,
            bonus=version.commendation_bonus,
        )

    def share(self, grade: str) -> Decimal:
        if grade == Grade.FIRST_CLASS:
            return FULL
        if grade == Grade.QUALIFIED:
            return Decimal(self.qualified_share)
        return Decimal(0)


@dataclass(frozen=True)
class Village:
    """A village as the run recorded it, with the people holding the posts."""

    township: str
    name: str
    grade: str  # a Grade value ("" when not graded: paid nothing)
    top_three: bool
    president: str | None
    leaders: list[tuple[str, str]]  # (group name, leader name)


@dataclass(frozen=True)
class PayLine:
    township: str
    village: str
    role: str
    group: str
    name: str
    months: int
    held: Decimal
    grade: str
    share: Decimal
    paid: Decimal
    bonus: Decimal

    @property
    def total(self) -> Decimal:
        return self.paid + self.bonus


def months_held(period_key: str) -> int:
    """12 for a year's run, else the months of the period."""
    return len(parse_period(period_key).months())


def is_estimate(period_key: str) -> bool:
    return len(period_key) != 4


def pay_lines(villages: list[Village], terms: Terms, months: int) -> list[PayLine]:
    lines = []
    for village in villages:
        share = terms.share(village.grade)
        bonus = yuan(terms.bonus) if village.top_three else yuan(0)
        people = []
        if village.president:
            people.append((PRESIDENT, "", village.president, terms.president_monthly))
        people += [(LEADER, group, name, terms.leader_monthly) for group, name in village.leaders]
        for role, group, name, monthly in people:
            held = yuan(Decimal(monthly) * months)
            lines.append(
                PayLine(
                    township=village.township,
                    village=village.name,
                    role=role,
                    group=group,
                    name=name,
                    months=months,
                    held=held,
                    grade=village.grade,
                    share=share,
                    paid=yuan(held * share / FULL),
                    bonus=bonus,
                )
            )
    return lines


def pay_people(county_id: int, village_ids: list[int], period: Period):
    """({village id: president's name}, {village id: [(group name, leader name)]}) of the
    posts held on the period's last day."""
    day = period.end
    presidents = dict(
        CouncilSeat.objects.filter(
            county_id=county_id,
            position=CouncilPosition.PRESIDENT,
            council__association_id__in=village_ids,
            council__starts_on__lte=day,
            council__ends_on__gte=day,
        )
        .order_by("council__association_id", "council__starts_on")
        .values_list("council__association_id", "person_name")
    )
    leaders = defaultdict(list)
    for village_id, group, name in (
        GroupRole.objects.filter(
            county_id=county_id,
            role=GroupRole.Role.LEADER,
            group__parent_id__in=village_ids,
            starts_on__lte=day,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("group__division_code", "starts_on")
        .values_list("group__parent_id", "group__name", "member__person__name")
    ):
        leaders[village_id].append((group, name))
    return presidents, dict(leaders)


NO_POSTS = {"president": None, "leaders": []}


def posts_by_village(county_id: int, village_ids: list[int], period: Period) -> dict[int, dict]:
    """{village id: {"president": name or None, "leaders": [[group, name], …]}}: the posts as
    a snapshot row stores them (JSON)."""
    presidents, leaders = pay_people(county_id, village_ids, period)
    return {
        village_id: {
            "president": presidents.get(village_id),
            "leaders": [list(pair) for pair in leaders.get(village_id, [])],
        }
        for village_id in village_ids
    }


def _recorded_posts(run: ReportRun, villages: list[SnapshotNode], period: Period) -> dict:
    """The posts the snapshot recorded; read live only for runs built before they were
    recorded (no village row has them)."""
    if all("posts" in v.figures for v in villages):
        return {v.node_id_at: v.figures["posts"] for v in villages}
    return posts_by_village(run.county_id, [v.node_id_at for v in villages], period)


def run_pay(run: ReportRun) -> list[PayLine]:
    """The pay lines of a done run: its village rows and the people holding the posts at its
    period's end, both as recorded, and the version's terms."""
    period = parse_period(run.period_key)
    villages = list(
        SnapshotNode.objects.filter(run=run, level=Level.VILLAGE).order_by("division_code", "id")
    )
    townships = {
        row.node_id_at: row.division_code
        for row in SnapshotNode.objects.filter(run=run, level=Level.TOWNSHIP)
    }
    villages.sort(key=lambda v: (townships.get(v.township_node_id, ""), v.division_code))
    posts = _recorded_posts(run, villages, period)
    return pay_lines(
        [
            Village(
                township=v.township_name,
                name=v.name,
                grade=v.grade,
                top_three=v.top_three,
                president=posts[v.node_id_at]["president"],
                leaders=[tuple(pair) for pair in posts[v.node_id_at]["leaders"]],
            )
            for v in villages
        ],
        Terms.of(run.version),
        months_held(run.period_key),
    )
