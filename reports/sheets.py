"""The assessment table per village (sheet 1 of the printed reports), read from a run's
snapshot and never recomputed, declared on the shared writer (associations.sheets).

    title       "<县>2026年第一季度村级计生协考核表"
    line        统计期, 考核细则 and run, 制表日期
    header      乡镇(街道) | 村(社区) | <indicator> over 值 / 得分 (one pair per village indicator
                the snapshot recorded) | 总分 | 等级 | 乡镇排名 | 全县排名 | 全县前三
    body        the villages under their township as the snapshot recorded it, each township
                closed by a 小计 row, the sheet by a 合计 row (not on a township's own sheet)

A 小计 / 合计 row says what a statistician signs for a group of villages: the number of
villages (in the village column), each indicator's average score and the average total (to
two decimals, half up, as the run rounds), the number of villages of each grade (in the grade
column), and the number of the county's top three among them. Values are left blank there:
the indicators' values (rates, counts, yes/no) do not add up. The average total is the one
the snapshot recorded for the township or county.

A county has at most a few hundred villages: the sheet is built in the request, no job."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from associations import sheets
from associations.periods import parse_period, period_label
from associations.sheets.responses import ascii_stem

from . import sheet_targets
from .models import Grade, ReportRun, SnapshotNode

SHEET_STEM = ascii_stem("村级考核表", "assessment")
SHEET_NAME = "村级考核表"
SCORE = "0.00"
CENT = Decimal("0.01")
GRADE_SHORT = {Grade.FIRST_CLASS: "一流", Grade.QUALIFIED: "合格", Grade.UNQUALIFIED: "不合格"}

REMARKS = [
    "本表取自考核生成时保存的结果(快照),乡镇、村名称和区划为生成时的情况,此后的调整不影响本表。",
    "总分为各指标得分之和;排名按总分由高到低,同分同名次,其后名次顺延(如 1、2、2、4)。",
    "小计、合计行:村(社区)栏为村数;各指标得分栏和总分栏为所含各村的平均分(保留两位小数,"
    "四舍五入),值栏不汇总;等级栏为各等级村数;全县前三栏为其中进入全县前三的村数。",
    "人工评分指标按乡镇审核通过的得分计入;未报送或未审核的记为“未评分”0 分。",
]

TARGET_REMARK = (
    "争创目标栏为乡镇分解到村的本年度指标;各乡镇指标的目标数与完成数见本工作簿“指标完成情况”表。"
)


@dataclass(frozen=True)
class AssessmentSheet:
    """What the sheet is made of: the run, the county's name as recorded, the village
    indicators as recorded (`columns`: [{key, name, max_score, manual}]), the townships
    ([{"row": township SnapshotNode | None, "villages": [SnapshotNode]}]) and the county row
    (None on a township's own sheet: no 合计)."""

    run: ReportRun
    county_name: str
    columns: list[dict]
    townships: list[dict]
    county_row: SnapshotNode | None = None
    targets: sheet_targets.SheetTargets | None = None  # 争创目标 and 指标完成情况


def split(data: AssessmentSheet) -> bool:
    """Whether the sheet has the 争创目标 column: targets were split to its villages."""
    return bool(data.targets and data.targets.villages)


def sheet_title(data: AssessmentSheet) -> str:
    return f"{data.county_name}{period_label(parse_period(data.run.period_key))}村级计生协考核表"


def sheet_filename(data: AssessmentSheet, township_name: str = "") -> str:
    """ "村级考核表_临西县_2026-Q1_第1次.xlsx" (characters a file name cannot hold dropped)."""
    name = "".join(c for c in (township_name or data.county_name) if c not in '\\/:*?"<>|')
    return f"{SHEET_STEM}_{name}_{data.run.period_key}_第{data.run.number}次.xlsx"


def info_line(data: AssessmentSheet, made_on: datetime.date) -> sheets.Line:
    run = data.run
    state = "已发布" if run.published_at else "未发布"
    return sheets.Line(
        f"统计期:{_period_text(run)}    考核细则:{run.version}",
        right=f"第{run.number}次生成({state})    制表日期:{made_on:%Y-%m-%d}",
    )


def _period_text(run: ReportRun) -> str:
    period = parse_period(run.period_key)
    return f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"


def layout(data: AssessmentSheet, *, made_on: datetime.date) -> sheets.Layout:
    groups = [
        sheets.Group(
            column["name"] or column["key"],
            [
                sheets.Column("值", 7.5),
                sheets.Column("得分", 7, number_format=SCORE),
            ],
        )
        for column in data.columns
    ]
    return sheets.Layout(
        title=sheet_title(data),
        lines=[info_line(data, made_on)],
        header=[
            sheets.Column("乡镇(街道)", 12, "left"),
            sheets.Column("村(社区)", 14, "left"),
            *groups,
            sheets.Column("总分", 8, number_format=SCORE),
            sheets.Column("等级", 16),
            sheets.Column("乡镇排名", 6),
            sheets.Column("全县排名", 6),
            sheets.Column("全县前三", 6),
            *([sheets.Column("争创目标", 12)] if split(data) else []),
        ],
        frozen_columns=2,
        header_height=34,  # an indicator's name may take two lines over its 值 / 得分
    )


def _number(text):
    return None if text in (None, "") else float(Decimal(str(text)))


def village_values(data: AssessmentSheet, village: SnapshotNode) -> list:
    cells = []
    for column in data.columns:
        cell = village.indicators.get(column["key"]) or {}
        cells += [_number(cell.get("value")), _number(cell.get("score"))]
    return [
        village.township_name,
        village.name,
        *cells,
        _number(village.total),
        village.get_grade_display() if village.grade else "",
        village.rank_in_township,
        village.rank_in_county,
        "是" if village.top_three else "",
        *([data.targets.villages.get(village.node_id_at, "")] if split(data) else []),
    ]


def average(numbers: list[Decimal]) -> Decimal | None:
    if not numbers:
        return None
    return (sum(numbers, Decimal(0)) / len(numbers)).quantize(CENT, rounding=ROUND_HALF_UP)


def grade_counts(villages: list[SnapshotNode]) -> str:
    return " ".join(
        f"{label}{sum(1 for v in villages if v.grade == grade)}"
        for grade, label in GRADE_SHORT.items()
    )


def summary_values(
    data: AssessmentSheet, first: str, villages: list[SnapshotNode], recorded_average
) -> list:
    """A 小计 / 合计 row (see the module's docstring)."""
    cells = []
    for column in data.columns:
        scores = [
            Decimal(str(v.indicators[column["key"]]["score"]))
            for v in villages
            if (v.indicators.get(column["key"]) or {}).get("score") not in (None, "")
        ]
        cells += [None, _number(average(scores))]
    total = recorded_average
    if total in (None, ""):
        total = average([v.total for v in villages if v.total is not None])
    return [
        first,
        f"{len(villages)}个村",
        *cells,
        _number(total),
        grade_counts(villages),
        None,
        None,
        sum(1 for v in villages if v.top_three),
        *([None] if split(data) else []),
    ]


def assessment_xlsx(data: AssessmentSheet, *, made_on: datetime.date) -> bytes:
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout(data, made_on=made_on), name=SHEET_NAME)
        everyone = []
        for township in data.townships:
            villages = township["villages"]
            for village in villages:
                sheet.row(village_values(data, village))
            everyone += villages
            row = township["row"]
            name = (row.name if row else villages[0].township_name) or "未归属乡镇"
            recorded = row.figures.get("average_total") if row else None
            sheet.total(summary_values(data, f"{name} 小计", villages, recorded))
        if data.county_row is not None:
            recorded = data.county_row.figures.get("average_total")
            sheet.total(summary_values(data, "合计", everyone, recorded))
        sheet.blank()
        sheet.note("说明", style="remark_title")
        for remark in REMARKS:
            sheet.note(remark, style="remark", height=26)
        if split(data):
            sheet.note(TARGET_REMARK, style="remark", height=26)
        sheet.close()
        if data.targets:
            sheet_targets.write_sheet(
                book,
                title=f"{sheet_title(data)}指标完成情况({data.targets.year}年度)",
                line=info_line(data, made_on),
                data=data.targets,
            )
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
