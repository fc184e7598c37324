"""The demographic figures the half-year and annual summaries report (seeds 001, 002), for any
node and period, as one table: a row per child unit (the villages of a township, …) and a total.

What each column counts
-----------------------
Population figures are taken at the END of the period: a person counts if alive on the end
date (born on or before it, not recorded as died on or before it). Births and deaths are the
events within the period.

人口, by the person's 户籍状态 (residency):
- 户籍常住: registered here and living here; 流入: registered elsewhere, living here;
  流出: registered here, living elsewhere.
- 户籍人口 = 户籍常住 + 流出: everyone whose 户籍 is here, wherever they live.
- 常住人口 = 户籍常住 + 流入: everyone who lives here, wherever their 户籍 is. This is the
  statistics bureau's basis of a region's 总人口, and the denominator of the membership ratio
  (`resident_on`, used by members.selectors.membership_ratio).
  There is no "总人口" column: 户籍常住 + 流入 + 流出 is neither of the two.

常住 / 流动 splits, as the village summaries report them (seed 002: "总户数1796户:其中常住有
609户、流动人口1187户 … 新生15人:常住8人:其中男5人、女孩3人;流动7人…"): in these splits
常住 means 户籍常住 and 流动 means 流入 or 流出, so 合计 = 常住 + 流动 is everyone on the
registry. (The split's 常住 is not the bureau's 常住人口, which includes 流入.)
- 户数: every household under the node, split by the household's own 户籍状态.
- 育龄妇女: women alive on the end date aged 15-49 (周岁) on it, split by the woman's 户籍状态.
- 已婚育龄妇女: those of them whose 婚姻状况 is 已婚, split the same way.
- 出生: persons born within the period (including any who died since), by sex, split by the
  child's own 户籍状态 (户籍常住 → 常住; 流入/流出 → 流动), each split again by sex.
- 出生孩次: 一孩 / 二孩 / 三孩及以上 by the mother's children (households.birth_order); 未知
  where the mother is neither recorded nor derivable from the household relations.
- 死亡: persons who died within the period, by sex.

出生性别比, two notations (`sex_ratio`, `sex_ratio_per_100`): the summaries' boys per girl
("1.10:1") and the bureau's boys per 100 girls (110.5). Both round half up.

Today's registry
----------------
Every figure is computed from the registry as it is now: residency, marital status and the
unit a person or household sits in are today's values, households are counted whatever their
creation date, and persons removed from the registry are missing. A past period's figures are
therefore today's registry applied to that period, not what was reported then (the page and
the export say so: `period_notes`), until published figures are frozen by the assessment.

Seven queries for any node, grouped by the node's child units, never a query per village:
persons and households (each grouped by unit and residency), the deaths, the births, the
persons of their households, those households' women's children (households.birth_order),
the unit names."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from associations.models import Association, child_level

from .birth_order import births_with_order
from .models import Household, Person, Residency

# The years a period may name: wider than any registry, and safe for the date arithmetic.
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    label: str
    key: str

    @classmethod
    def parse(cls, key: str) -> Period:
        """ "2026" (year), "2026-H1" (half-year), "2026-Q3" (quarter)."""
        match = re.fullmatch(r"(\d{4})(?:-(H[12]|Q[1-4]))?", (key or "").strip().upper())
        if not match:
            raise ValidationError("统计期格式应为 2026、2026-H1 或 2026-Q3。", code="bad_period")
        year, part = int(match.group(1)), match.group(2)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValidationError(
                f"统计期的年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间。", code="bad_period"
            )
        if part is None:
            return cls(
                datetime.date(year, 1, 1), datetime.date(year, 12, 31), f"{year}年", str(year)
            )
        if part.startswith("H"):
            first = part == "H1"
            start = datetime.date(year, 1 if first else 7, 1)
            end = datetime.date(year, 6, 30) if first else datetime.date(year, 12, 31)
            return cls(start, end, f"{year}年{'上' if first else '下'}半年", f"{year}-{part}")
        quarter = int(part[1])
        start = datetime.date(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter
        end = (
            datetime.date(year, 12, 31)
            if end_month == 12
            else datetime.date(year, end_month + 1, 1) - datetime.timedelta(days=1)
        )
        return cls(start, end, f"{year}年第{'一二三四'[quarter - 1]}季度", f"{year}-{part}")

    @classmethod
    def choices_around(cls, day: datetime.date) -> list[Period]:
        year = day.year
        keys = [f"{year}-Q{q}" for q in range(1, 5)] + [f"{year}-H1", f"{year}-H2", str(year)]
        keys += [f"{year - 1}-H1", f"{year - 1}-H2", str(year - 1)]
        return [cls.parse(k) for k in keys]

    def is_past(self, today: datetime.date) -> bool:
        """Ended before today: its figures are today's registry applied to it."""
        return self.end < today

    def is_open(self, today: datetime.date) -> bool:
        """Not yet ended: its births and deaths are those up to today."""
        return self.start <= today <= self.end


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    group: str  # the header's first row; consecutive columns of one group share a cell
    label: str  # the header's second row
    title: str  # the column's full name where it stands alone (API, notes)


def _split(key: str, group: str, title: str) -> list[Column]:
    """合计 / 常住 / 流动 of one measure."""
    return [
        Column(key, group, "合计", title),
        Column(f"{key}_registered", group, "常住", f"常住{title}"),
        Column(f"{key}_floating", group, "流动", f"流动{title}"),
    ]


def _by_sex(key: str, group: str, title: str) -> list[Column]:
    """合计 / 男 / 女 of one event."""
    return [
        Column(key, group, "合计", title),
        Column(f"{key}_male", group, "男", f"{title}男"),
        Column(f"{key}_female", group, "女", f"{title}女"),
    ]


# The counted columns, in the table's order.
COLUMNS = [
    *_split("households", "户数", "户数"),
    Column("hukou_population", "人口", "户籍人口", "户籍人口"),
    Column("resident_population", "人口", "常住人口", "常住人口"),
    Column("registered", "人口", "户籍常住", "户籍常住人口"),
    Column("inflow", "人口", "流入", "流入人口"),
    Column("outflow", "人口", "流出", "流出人口"),
    *_split("women_15_49", "育龄妇女", "育龄妇女"),
    *_split("married_women_15_49", "已婚育龄妇女", "已婚育龄妇女"),
    *_by_sex("births", "出生", "出生"),
    *_by_sex("births_registered", "常住出生", "常住出生"),
    *_by_sex("births_floating", "流动出生", "流动出生"),
    Column("births_order_1", "出生孩次", "一孩", "一孩"),
    Column("births_order_2", "出生孩次", "二孩", "二孩"),
    Column("births_order_3", "出生孩次", "三孩及以上", "三孩及以上"),
    Column("births_order_unknown", "出生孩次", "未知", "孩次未知"),
    *_by_sex("deaths", "死亡", "死亡"),
]
# Computed from the births by sex, shown after the counts.
RATIO_COLUMNS = [
    Column("sex_ratio", "出生性别比", "男:女", "出生性别比(男:女)"),
    Column("sex_ratio_per_100", "出生性别比", "每百女婴", "出生性别比(每百名女婴对应的男婴数)"),
]
TABLE_COLUMNS = [*COLUMNS, *RATIO_COLUMNS]


@dataclass(frozen=True)
class HeaderGroup:
    label: str
    columns: list[Column]

    @property
    def span(self) -> int:
        return len(self.columns)


def header_groups(columns: list[Column] = TABLE_COLUMNS) -> list[HeaderGroup]:
    """The first header row: one cell over each run of columns of the same group."""
    return [HeaderGroup(g, list(cs)) for g, cs in groupby(columns, key=lambda c: c.group)]


NOTES = [
    "户籍人口 = 户籍常住 + 流出;常住人口 = 户籍常住 + 流入(统计部门口径)。会员占比按常住人口计算。",
    "人口、育龄妇女按统计期末计算;出生、死亡为统计期内发生数。育龄妇女为 15-49 周岁女性。",
    "分列中的“常住”指户籍常住,“流动”指流入和流出,合计 = 常住 + 流动;"
    "户数按家庭户的户籍状态分,人员按本人的户籍状态分,出生按婴儿本人的户籍状态分。",
    "出生孩次按母亲所生子女计(只计本系统登记、本账号可查看范围内的子女):未登记母亲的,"
    "子/女按户主夫妇的子女、孙子女按户内唯一一对子辈夫妇的子女推算;无法推算的计为“未知”,不作猜测。",
    "出生性别比:“男:女”为每 1 名女婴对应的男婴数(例:95 男、86 女为 1.10:1);"
    "“每百女婴”为每 100 名女婴对应的男婴数(例:110.5,统计部门口径)。"
    "无女婴时两者均为“—”;有女婴而无男婴时为 0:1 和 0.0。",
]


def label_lines(label: str) -> list[str]:
    """Where a narrow column's header may wrap: where a reader would break it (户籍|人口,
    三孩|及以上, 乡镇|(街道)), never one character a line. Short labels stay whole."""
    cut = label.find("(") if "(" in label else (2 if len(label) > 3 else 0)
    return [label[:cut], label[cut:]] if cut > 0 else [label]


def past_period_note(period: Period) -> str:
    return (
        f"{period.label}已结束。本表是按今天的登记数据推算的{period.label}数字"
        "(户籍状态、婚姻状况、所在村组均为今天的登记),不是当时上报的数字。"
    )


def open_period_note(period: Period, today: datetime.date) -> str:
    return f"{period.label}尚未结束:出生、死亡为截至 {today:%Y-%m-%d} 的发生数。"


def period_notes(period: Period, today: datetime.date) -> list[str]:
    """What the page and the export say above the table about the period's figures."""
    if period.is_past(today):
        return [past_period_note(period)]
    if period.is_open(today):
        return [open_period_note(period, today)]
    return []


def unit_heading(node: Association) -> str:
    """The first column's heading: what the rows under this node are."""
    return {
        "county": "乡镇(街道)",
        "township": "村(社区)",
        "village": "会员小组",
    }.get(node.level, "单位")


def row_label(row: FigureRow, node: Association) -> str:
    """A row's unit name; persons and households outside any child unit (a village's persons
    in no member group) form a row of their own."""
    if row.unit is not None:
        return row.unit.name
    return "未分小组" if node.level == "village" else "其他"


# --- the sex ratio ---------------------------------------------------------------------------


def _rounded(boys: int, girls: int, scale: int, places: str) -> Decimal:
    return (Decimal(boys * scale) / Decimal(girls)).quantize(Decimal(places), ROUND_HALF_UP)


def sex_ratio(boys: int, girls: int) -> str:
    """Boys per girl, as the summaries write it: 95 boys and 86 girls are "1.10:1". No girls:
    "—" (there is no ratio). No boys but some girls: "0:1", never "0.00:1"."""
    if not girls:
        return "—"
    if not boys:
        return "0:1"
    return f"{_rounded(boys, girls, 1, '0.01')}:1"


def sex_ratio_per_100(boys: int, girls: int) -> Decimal | None:
    """出生人口性别比 as the statistics bureau gives it: boys per 100 girls, one decimal
    (95 boys, 86 girls: 110.5). None without girls; 0.0 with girls and no boys."""
    if not girls:
        return None
    return _rounded(boys, girls, 100, "0.1")


def per_100_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# --- the table -------------------------------------------------------------------------------


@dataclass
class FigureRow:
    unit: Association | None
    values: dict[str, int] = field(default_factory=lambda: {c.key: 0 for c in COLUMNS})

    @property
    def sex_ratio(self) -> str:
        return sex_ratio(self.values["births_male"], self.values["births_female"])

    @property
    def sex_ratio_per_100(self) -> Decimal | None:
        return sex_ratio_per_100(self.values["births_male"], self.values["births_female"])

    def cells(self) -> list[int | str | Decimal | None]:
        """The row in TABLE_COLUMNS order."""
        return [*(self.values[c.key] for c in COLUMNS), self.sex_ratio, self.sex_ratio_per_100]

    def add(self, other: FigureRow) -> None:
        for key in self.values:
            self.values[key] += other.values[key]


@dataclass
class FiguresTable:
    node: Association
    period: Period
    rows: list[FigureRow]
    total: FigureRow


# --- the named definitions -------------------------------------------------------------------

HUKOU = (Residency.REGISTERED, Residency.OUTFLOW)  # 户籍人口
RESIDENT = (Residency.REGISTERED, Residency.INFLOW)  # 常住人口


def alive_on(day: datetime.date) -> Q:
    return Q(birth_date__lte=day) & (Q(is_deceased=False) | Q(died_on__gt=day))


def resident_on(day: datetime.date) -> Q:
    """常住人口 on a day: persons alive then who live here (户籍常住 or 流入)."""
    return alive_on(day) & Q(residency__in=RESIDENT)


def age_cut(end: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone who is `years` old on `end`."""
    try:
        return end.replace(year=end.year - years)
    except ValueError:  # 29 February
        return end.replace(year=end.year - years, day=28)


def _unit_key(node: Association) -> str:
    level = child_level(node.level)
    return f"{level}_id" if level else f"{node.level}_id"


def under(node: Association) -> Q:
    return Q(**{f"{node.level}_id": node.pk})


def _split(residency: str) -> str:
    """The 常住 / 流动 split a residency falls in (see the module's docstring)."""
    return "registered" if residency == Residency.REGISTERED else "floating"


def _people_counts(node: Association, period: Period, *units: str):
    """Per unit and residency: the living, the women 15-49 and the married ones at the end of
    the period. Grouping by residency gives every split at once."""
    end = period.end
    alive = alive_on(end)
    fertile = alive & Q(
        sex="female", birth_date__lte=age_cut(end, 15), birth_date__gt=age_cut(end, 50)
    )
    return (
        Person.objects.filter(under(node))
        .values(*units, "residency")
        .annotate(
            alive=Count("id", filter=alive),
            women_15_49=Count("id", filter=fertile),
            married_women_15_49=Count("id", filter=fertile & Q(marital_status="married")),
        )
        .order_by()
    )


def _death_counts(node: Association, period: Period, *units: str):
    """Per unit: the deaths in the period, by sex. A query of its own: the few who died in a
    period are found by the died-on index, while the scan of the living above would test
    every person for it."""
    return (
        Person.objects.filter(under(node), died_on__range=(period.start, period.end))
        .values(*units)
        .annotate(
            deaths=Count("*"),
            deaths_male=Count("id", filter=Q(sex="male")),
            deaths_female=Count("id", filter=Q(sex="female")),
        )
        .order_by()
    )


def _add_people(values: dict[str, int], counts: dict) -> None:
    residency, alive = counts["residency"], counts["alive"]
    values[residency] += alive  # the registered / inflow / outflow columns
    values["hukou_population"] += alive if residency in HUKOU else 0
    values["resident_population"] += alive if residency in RESIDENT else 0
    for key in ("women_15_49", "married_women_15_49"):
        values[key] += counts[key]
        values[f"{key}_{_split(residency)}"] += counts[key]


def _add_deaths(values: dict[str, int], counts: dict) -> None:
    for key in ("deaths", "deaths_male", "deaths_female"):
        values[key] += counts[key]


def _household_counts(node: Association, *units: str):
    return (
        Household.objects.filter(under(node))
        .values(*units, "residency")
        .annotate(households=Count("id"))
        .order_by()
    )


def _add_households(values: dict[str, int], counts: dict) -> None:
    values["households"] += counts["households"]
    values[f"households_{_split(counts['residency'])}"] += counts["households"]


def _count_birth(values: dict[str, int], birth: dict) -> None:
    order = birth["order"]
    for key in ("births", f"births_{_split(birth['residency'])}"):
        values[key] += 1
        values[f"{key}_{birth['sex']}"] += 1
    values["births_order_unknown" if order is None else f"births_order_{min(order, 3)}"] += 1


def figure_rows(*, node: Association, period: Period, units: tuple[str, ...]) -> dict:
    """{(unit ids…): FigureRow (unit not set)} of everyone under the node, grouped by the scope
    keys `units` (("village_id",) or ("township_id", "village_id"), …): the same few queries
    whatever the number of units. `figures` groups by the node's child units; the assessment's
    snapshot groups a whole county by township and village at once."""
    rows: dict[tuple, FigureRow] = {}

    def row(counts) -> FigureRow:
        return rows.setdefault(tuple(counts[u] for u in units), FigureRow(unit=None))

    for counts in _people_counts(node, period, *units):
        _add_people(row(counts).values, counts)
    for counts in _death_counts(node, period, *units):
        _add_deaths(row(counts).values, counts)
    for counts in _household_counts(node, *units):
        _add_households(row(counts).values, counts)
    births = Person.objects.filter(under(node), birth_date__range=(period.start, period.end))
    for birth in births_with_order(births, (*units, "sex", "residency")):
        _count_birth(row(birth).values, birth)
    return rows


def figures(*, node: Association, period: Period) -> FiguresTable:
    unit = _unit_key(node)
    rows = {
        key[0]: row for key, row in figure_rows(node=node, period=period, units=(unit,)).items()
    }
    units = Association.objects.in_bulk([k for k in rows if k is not None])
    ordered = []
    for key, figure_row in rows.items():
        figure_row.unit = units.get(key)
        ordered.append(figure_row)
    ordered.sort(key=lambda r: r.unit.division_code if r.unit else "")
    total = FigureRow(unit=node)
    for figure_row in ordered:
        total.add(figure_row)
    return FiguresTable(node=node, period=period, rows=ordered, total=total)
