"""The duties table as a printable sheet, declared on the shared writer (associations.sheets)
and built in the request: a village's groups × months, or a township's or the county's
villages × duties. Small (the villages of one county), so it needs no job."""

from __future__ import annotations

import datetime
import io

from associations import sheets
from associations.sheets.responses import ascii_stem

from .duty_tables import (
    RULES,
    AreaTable,
    VillageTable,
    month_label,
    tally_text,
)
from .periods import period_key, period_label

DUTIES_STEM = "工作职责"
ascii_stem(DUTIES_STEM, "duties")
SHEET_NAME = "工作职责"


def duties_filename(node, period) -> str:
    """ "工作职责_某某村_2025-03.xlsx" (characters a file name cannot hold are dropped)."""
    name = "".join(c for c in node.name if c not in '\\/:*?"<>|')
    return f"{DUTIES_STEM}_{name}_{period_key(period)}.xlsx"


def _top_line(period, made_on: datetime.date, *, legend: bool = False) -> sheets.Line:
    return sheets.Line(
        f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}    "
        f"制表日期:{made_on:%Y-%m-%d}    ✓ 达标  ✗ 未达标  进行中:本期未结束、尚未达标  — 不适用"
        + ("    活动:小组活动次数  入户:组长入户随访次数" if legend else "")
    )


def village_layout(node, table: VillageTable, *, made_on: datetime.date) -> sheets.Layout:
    """Groups down the side; for every month, the group's activities and its leader's visits
    under the month's label (for a year, short labels in narrow columns: the title names the
    year, and the legend line says what 活动 and 入户 are)."""
    narrow = len(table.months) > 3  # a year: 24 cells a row still print on one A4 width
    width = 5.5 if narrow else 9
    months = [
        sheets.Group(
            f"{m.month}月" if narrow else month_label(m),
            [
                sheets.Column("活动" if narrow else "小组活动", width),
                sheets.Column("入户" if narrow else "组长入户", width),
            ],
        )
        for m in table.months
    ]
    return sheets.Layout(
        title=f"{node.name}工作职责落实情况({period_label(table.period)})",
        lines=[_top_line(table.period, made_on, legend=narrow)],
        header=[sheets.Column("会员小组", 14, "left"), sheets.Column("组长", 8), *months],
        frozen_columns=2,
        repeat_title=False,
    )


def village_xlsx(node, table: VillageTable, *, made_on: datetime.date) -> bytes:
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(village_layout(node, table, made_on=made_on), name=SHEET_NAME)
        for line in table.lines:
            cells = [tally_text(t) for _, *pair in line.cells for t in pair]
            sheet.row([line.group.name, line.leader, *cells])
        if table.village is not None:
            sheet.blank()
            president = f"(会长:{table.president})" if table.president else "(会长未关联会员)"
            sheet.note(f"村级职责{president}", style="remark_title")
            for label, tallies in table.notes:
                parts = ";".join(f"{when} {tally_text(t)}" for when, _, t in tallies)
                sheet.note(f"{label}:{parts}", style="remark")
        _rules(sheet)
        sheet.close()
        return _saved(book)


def area_layout(node, table: AreaTable, *, made_on: datetime.date) -> sheets.Layout:
    def share(label: str) -> sheets.Group:
        return sheets.Group(
            label,
            [sheets.Column("达标小组", 13), sheets.Column("达标率", 8, "right", "0.0%")],
        )

    stub = [sheets.Column("乡镇(街道)", 14, "left")] if table.show_township else []
    return sheets.Layout(
        title=f"{node.name}工作职责落实情况({period_label(table.period)})",
        lines=[_top_line(table.period, made_on)],
        header=[
            *stub,
            sheets.Column("村(社区)", 14, "left"),
            sheets.Column("小组数", 7),
            share("小组活动"),
            share("组长入户"),
            sheets.Group(
                "村级职责",
                [
                    sheets.Column("会长深入小组", 13),
                    sheets.Column("理事会", 13),
                    sheets.Column("会员代表大会", 13),
                    sheets.Column("会员培训", 13),
                ],
            ),
        ],
        frozen_columns=len(stub) + 1,
        repeat_title=False,
    )


def area_xlsx(node, table: AreaTable, *, made_on: datetime.date) -> bytes:
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(area_layout(node, table, made_on=made_on), name=SHEET_NAME)
        for line in table.lines:
            sheet.row(_area_values(line, table, own=lambda s: s.mark))
        sheet.total(_area_values(table.total, table, own=lambda s: s.count_text))
        sheet.blank()
        sheet.note(
            "村级职责合计:达标村数/已评定村数;小组职责合计:达标小组/已评定小组"
            "(本期尚未结束、尚未达标的记为“进行中”,另计)。",
            style="remark",
        )
        _rules(sheet)
        sheet.close()
        return _saved(book)


def _area_values(line, table: AreaTable, *, own) -> list:
    stub = [line.township] if table.show_township else []
    return [
        *stub,
        line.name,
        line.group_count,
        line.activities.count_text,
        line.activities.ratio,
        line.leader_visits.count_text,
        line.leader_visits.ratio,
        *(own(share) for share in line.own_duties),
    ]


def _rules(sheet) -> None:
    sheet.blank()
    sheet.note("职责要求", style="remark_title")
    for rule in RULES:
        sheet.note(rule, style="remark", height=26)


def _saved(book: sheets.SheetBook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
