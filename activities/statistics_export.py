"""The activity statistics as a printable sheet, declared on the shared writer
(associations.sheets): the title, the period line, the header (活动次数 / 参与 / 发放资料 merged
over their columns), a row per village (under its township, with the township's 小计) or
per group, the 合计; A4 landscape, fitted to the width, header rows repeated, page numbers
in the footer. A second sheet holds the activities per theme and per themed day.

A county has at most a few hundred villages: the sheet is built in the request, no job."""

from __future__ import annotations

import datetime
import io

from associations import sheets
from associations.models import Level
from associations.sheets.responses import ascii_stem

from .periods import period_key, period_label
from .statistics import KINDS, ActivityStatistics, StatRow

STATS_STEM = ascii_stem("活动统计", "activity_stats")
SHEET_NAME = "活动统计"
THEME_SHEET_NAME = "按主题统计"
NUMBER = 6.5


def statistics_title(stats: ActivityStatistics) -> str:
    """ "临西县2026年计生协活动统计表"."""
    return f"{stats.node.name}{period_label(stats.period)}计生协活动统计表"


def statistics_filename(stats: ActivityStatistics) -> str:
    """ "活动统计_临西县_2026.xlsx" (characters a file name cannot hold are dropped)."""
    name = "".join(c for c in stats.node.name if c not in '\\/:*?"<>|')
    return f"{STATS_STEM}_{name}_{period_key(stats.period)}.xlsx"


def row_header(stats: ActivityStatistics) -> str:
    return "村(社区)" if stats.row_level == Level.VILLAGE else "会员小组"


def material_label(material) -> str:
    return f"{material.name}({material.unit})"


def figure_headers(stats: ActivityStatistics) -> list[str]:
    return [
        *(kind.label for kind in KINDS),
        "合计",
        "参加人数",
        "咨询人次",
        "培训人数",
        *(material_label(m) for m in stats.materials),
    ]


def layout(stats: ActivityStatistics, *, made_on: datetime.date) -> sheets.Layout:
    stub = [sheets.Column("乡镇(街道)", 12, "left")] if stats.show_township else []
    groups = [
        sheets.Group(
            "活动次数",
            [
                *(
                    sheets.Column(kind.label, 8 if len(kind.label) > 2 else NUMBER)
                    for kind in KINDS
                ),
                sheets.Column("合计", NUMBER),
            ],
        ),
        sheets.Group(
            "参与",
            [
                sheets.Column("参加人数", 8),
                sheets.Column("咨询人次", 8),
                sheets.Column("培训人数", 8),
            ],
        ),
    ]
    if stats.materials:
        groups.append(
            sheets.Group(
                "发放资料",
                # name over unit on two lines: "避孕药具(盒)" does not fit a number's width
                [sheets.Column(f"{m.name}\n({m.unit})", 9) for m in stats.materials],
            )
        )
    period = stats.period
    return sheets.Layout(
        title=statistics_title(stats),
        lines=[
            sheets.Line(
                f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}(按活动开始日期计)",
                right=f"制表日期:{made_on:%Y-%m-%d}",
            )
        ],
        header=[*stub, sheets.Column(row_header(stats), 14, "left"), *groups],
        frozen_columns=len(stub) + 1,
    )


def _values(stats: ActivityStatistics, line: StatRow, label: str) -> list:
    stub = [line.township] if stats.show_township else []
    return [*stub, label, *line.figures.values(stats.materials)]


def statistics_xlsx(stats: ActivityStatistics, *, made_on: datetime.date) -> bytes:
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout(stats, made_on=made_on), name=SHEET_NAME)
        for line in stats.lines:
            if line.kind == "subtotal":
                sheet.total(_values(stats, line, "小计"))
            else:
                sheet.row(_values(stats, line, line.label))
        total = StatRow("total", "合计", stats.total)
        values = _values(stats, total, "合计")
        if stats.show_township:
            values[0], values[1] = "合计", ""
        sheet.total(values)
        sheet.blank()
        sheet.note("说明", style="remark_title")
        for remark in REMARKS:
            sheet.note(remark, style="remark", height=26)
        sheet.close()
        _theme_sheet(book, stats, made_on=made_on)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


REMARKS = [
    "活动按开始日期计入统计期,跨月(季、年)的活动只计一次,其人数、咨询人次和发放资料全部计入开始日期所在的统计期。",
    "乡镇本级、县本级、村本级:由乡镇、县、村计生协直接举办(不属于下级协会)的活动;小计、合计为各行之和。",
    "参加人数、咨询人次、培训人数为活动登记的人数;发放资料按物资目录及其计量单位汇总。",
]


def _theme_sheet(book, stats: ActivityStatistics, *, made_on: datetime.date) -> None:
    theme_layout = sheets.Layout(
        title=f"{stats.node.name}{period_label(stats.period)}活动主题统计",
        lines=[sheets.Line(f"统计期:{stats.period.start:%Y-%m-%d} 至 {stats.period.end:%Y-%m-%d}")],
        header=[
            sheets.Column("活动主题 / 主题日", 32, "left"),
            sheets.Column("活动次数", 14),
            sheets.Column("参加人数", 14),
        ],
    )
    sheet = book.sheet(theme_layout, name=THEME_SHEET_NAME)
    sheet.heading("活动主题")
    for line in stats.themes:
        sheet.row([line.label, line.activities, line.participants])
    sheet.total(
        [
            "合计",
            sum(line.activities for line in stats.themes),
            sum(line.participants for line in stats.themes),
        ]
    )
    sheet.heading("主题日活动")
    for line in stats.themed_days:
        sheet.row([line.label, line.activities, line.participants])
    sheet.total(
        [
            "合计",
            sum(line.activities for line in stats.themed_days),
            sum(line.participants for line in stats.themed_days),
        ]
    )
    sheet.close()
