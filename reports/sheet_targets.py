"""Target against achieved (指标分解) on sheet 1, the assessment table (reports.sheets):

- a column 争创目标 at the right of the main table: on a village's row, what its township gave
  it for the run's year ("一流", "合格", "五好2", "五有1"; blank when nothing was split to it);
- a second worksheet 指标完成情况: a row per township (as the snapshot recorded them) and the
  county's 合计, with for each kind (一流村协会, 合格村协会, 五好小组, 五有小组) the target,
  the achieved and the 差额 (achieved − target).

The targets are those of the run's year (the year its period ends in); achieved is THIS run's
result, counted from its snapshot: the villages graded 一流 / 合格 (合格 counts the 合格 grade
only, as reports.targets does). 五好 / 五有 groups are counted only where the snapshot holds
the number (`group_achieved`); otherwise “—”, never a number made up. The county's 合计 target
is the sum of the townships' targets (the numbers the county gave out).

Reads: one query for the targets of every township and village of the sheet (the snapshot
rows are in hand): a fixed cost whatever the number of villages."""

from __future__ import annotations

from dataclasses import dataclass, field

from associations import sheets
from associations.periods import parse_period

from .models import SnapshotNode, Target
from .targets import GRADE_OF_KIND, GROUP_KINDS, KINDS

SHORT = {"first_class": "一流", "qualified": "合格", "five_good": "五好", "five_have": "五有"}
NOT_COUNTED = "—"


@dataclass(frozen=True)
class TargetLine:
    label: str
    targets: dict  # {kind: number | None}
    achieved: dict  # {kind: number | None}


@dataclass(frozen=True)
class SheetTargets:
    year: int
    townships: list[TargetLine]
    total: TargetLine | None
    villages: dict[int, str] = field(default_factory=dict)  # {node id: "一流 五好2"}


def group_achieved(row: SnapshotNode | None, kind: str) -> int | None:
    """The 五好 / 五有 groups a township or county row of the snapshot counts, where the run
    rated groups: `figures["group_ratings"][kind]` or `figures[kind]` (a whole number);
    None when the snapshot has no such figure."""
    if row is None:
        return None
    figures = row.figures or {}
    for value in ((figures.get("group_ratings") or {}).get(kind), figures.get(kind)):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def village_label(numbers: dict) -> str:
    parts = []
    for kind in KINDS:
        n = numbers.get(kind)
        if not n:
            continue
        parts.append(SHORT[kind] if kind not in GROUP_KINDS else f"{SHORT[kind]}{n}")
    return " ".join(parts)


def sheet_targets(run, townships: list[dict], county_row: SnapshotNode | None) -> SheetTargets:
    """`townships` as reports.run_views.results_for gives them ({"row", "villages"})."""
    year = parse_period(run.period_key).end.year
    township_ids = [t["row"].node_id_at for t in townships if t["row"] is not None]
    village_ids = [v.node_id_at for t in townships for v in t["villages"]]
    numbers: dict[int, dict] = {}
    for node_id, kind, number in Target.objects.filter(
        year=year, node_id__in=[*township_ids, *village_ids]
    ).values_list("node_id", "kind", "number"):
        numbers.setdefault(node_id, {})[kind] = number
    lines = []
    for township in townships:
        row, villages = township["row"], township["villages"]
        name = (row.name if row else villages[0].township_name) or "未归属乡镇"
        got = {
            kind: sum(1 for v in villages if v.grade == grade)
            for kind, grade in GRADE_OF_KIND.items()
        }
        for kind in GROUP_KINDS:
            got[kind] = group_achieved(row, kind)
        mine = numbers.get(row.node_id_at, {}) if row else {}
        lines.append(TargetLine(name, {kind: mine.get(kind) for kind in KINDS}, got))
    total = None
    if county_row is not None:
        sums = {}
        for kind in KINDS:
            given = [line.targets[kind] for line in lines if line.targets[kind] is not None]
            sums[kind] = sum(given) if given else None
        got = {kind: sum(line.achieved[kind] for line in lines) for kind in GRADE_OF_KIND}
        for kind in GROUP_KINDS:
            got[kind] = group_achieved(county_row, kind)
        total = TargetLine("合计", sums, got)
    villages = {v: village_label(numbers[v]) for v in village_ids if numbers.get(v)}
    return SheetTargets(year=year, townships=lines, total=total, villages=villages)


def line_values(line: TargetLine) -> list:
    cells = [line.label]
    for kind in KINDS:
        target, got = line.targets[kind], line.achieved[kind]
        gap = got - target if target is not None and got is not None else None
        cells += [
            target if target is not None else "未下达",
            got if got is not None else NOT_COUNTED,
            gap,
        ]
    return cells


REMARKS = [
    "目标数为本年度县下达到各乡镇(街道)的指标,合计为各乡镇指标之和;“未下达”为尚未下达该项指标。",
    "完成数为本次考核结果:一流、合格为评定为该等级的村数(合格不含一流);差额 = 完成数 − 目标数。",
    "五好小组、五有小组:考核结果中没有小组评定数的,完成数记为“—”。",
    "考核表“争创目标”栏为乡镇分解到村的指标(一流、合格为争创等级,五好、五有为小组个数)。",
]


def write_sheet(book, *, title: str, line, data: SheetTargets) -> None:
    """The 指标完成情况 worksheet (see the module's docstring)."""
    layout = sheets.Layout(
        title=title,
        lines=[line],
        header=[
            sheets.Column("乡镇(街道)", 16, "left"),
            *(
                sheets.Group(
                    kind.label,
                    [
                        sheets.Column("目标", 8),
                        sheets.Column("完成", 8),
                        sheets.Column("差额", 8),
                    ],
                )
                for kind in KINDS
            ),
        ],
        frozen_columns=1,
    )
    sheet = book.sheet(layout, name="指标完成情况")
    for line_ in data.townships:
        sheet.row(line_values(line_))
    if data.total is not None:
        sheet.total(line_values(data.total))
    sheet.blank()
    sheet.note("说明", style="remark_title")
    for remark in REMARKS:
        sheet.note(remark, style="remark", height=26)
    sheet.close()
