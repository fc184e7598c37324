"""The printable-sheet writer (associations.sheets): a declaration read back with openpyxl
(title, lines, header groups, merges, widths, formats, print setup), formula-like text kept
text, sections with subtotals, streaming, the fast path against plain openpyxl cells, and
temporary files kept inside the work folder."""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import io
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from associations import sheets
from associations.sheets import (
    DATE,
    Column,
    Group,
    Layout,
    Line,
    Section,
    Sections,
    SheetBook,
    write_sections,
)

HOSTILE = ["=1+1", "+86", "-5", "@SUM(A1)", "\t=1", "\n=2", '=HYPERLINK("http://x")']
HARMLESS = ["#N/A", "abc", "1+1", " 前后空格 ", "<b>&\"'"]

COLUMNS = [
    Column("序号", 6),
    Column("姓名", 10),
    Column("证号", 21, text=True),
    Column("出生日期", 11.5, number_format=DATE),
    Column("住址", 30, "left"),
    Column("人数", 8, "right", number_format="0.0"),
]
GROUPED = Layout(
    title="测试县计划生育协会人口统计表",
    lines=[Line("制表单位:测试县计划生育协会", right="制表日期:2026年5月29日")],
    header=[
        Column("单位", 14, "left"),
        Group("户数", [Column("合计", 6.5, "right"), Column("常住", 6.5, "right")]),
        Group("人口", [Column("户籍\n人口", 6.5, "right"), Column("常住\n人口", 6.5, "right")]),
        Column("备注", 20, "left"),
    ],
    frozen_columns=1,
    repeat_title=False,
)


def load(target) -> openpyxl.Workbook:
    if isinstance(target, io.BytesIO):
        target.seek(0)
    return openpyxl.load_workbook(target)


def values(ws, row: int) -> list:
    return [c.value for c in ws[row]]


def merges(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def sample_sheet(book: SheetBook) -> None:
    """Every kind of row the writer makes, on a flat and on a grouped header."""
    sheet = book.sheet(
        Layout(
            title="测试村计划生育协会会员花名册",
            lines=[
                Line("制表单位:测试村", right="制表日期:2026年5月29日"),
                Line("注意:本表按今天的登记推算", style="warning", height=30),
            ],
            header=COLUMNS,
        ),
        name="测试村",
    )
    sheet.heading("第一会员小组    共 2 人")
    sheet.row([1, "王秀英", "130535198001010021", datetime.date(1980, 2, 29), "前街 1 号", 2])
    sheet.row([2, HOSTILE[0], 130535, datetime.date(1990, 1, 1), HOSTILE[3], Decimal("1.25")])
    for index, text in enumerate(HOSTILE[1:] + HARMLESS, 3):
        sheet.row([index, text, None, None, "", 0.5])
    sheet.row([99, True, False, None, "A\r\nB", 7])
    sheet.total(["合计", None, None, None, None, 10.5])
    sheet.blank()
    sheet.note("口径说明", style="remark_title")
    sheet.note("说明文字" * 20, style="remark", height=26)
    sheet.close()
    grouped = book.sheet(GROUPED, name="统计")
    grouped.row(["第一组", 1, 1, 2, 2, "=备注"])
    grouped.total(["合计", 1, 1, 2, 2, ""])
    grouped.close()


def build(tmp_path, *, fast: bool) -> openpyxl.Workbook:
    book = SheetBook(work_dir=tmp_path, fast=fast)
    sample_sheet(book)
    target = io.BytesIO()
    book.save(target)
    return load(target)


# --- the declaration, read back ----------------------------------------------------------------


def test_a_declared_sheet_prints_as_declared(tmp_path):
    ws = build(tmp_path, fast=True)["测试村"]
    assert ws["A1"].value == "测试村计划生育协会会员花名册"
    assert ws["A1"].font.sz == 16 and ws["A1"].font.b
    assert ws["A2"].value == "制表单位:测试村" and ws["D2"].value == "制表日期:2026年5月29日"
    assert ws["D2"].alignment.horizontal == "right"
    assert ws["A3"].value.startswith("注意") and ws.row_dimensions[3].height == 30
    assert values(ws, 4) == [c.header for c in COLUMNS]
    assert {"A1:F1", "A2:C2", "D2:F2", "A3:F3", "A5:F5"} <= merges(ws)  # title, lines, heading
    assert [ws.column_dimensions[letter].width for letter in "ABCDEF"] == [c.width for c in COLUMNS]
    assert ws["D6"].number_format == DATE and ws["D6"].value == datetime.datetime(1980, 2, 29)
    assert ws["F6"].number_format == "0.0" and ws["F6"].alignment.horizontal == "right"
    assert ws["E6"].alignment.horizontal == "left" and ws["E6"].border.left.style == "thin"
    assert ws["C6"].number_format == "@" and ws["C7"].value == "130535"  # a text column
    assert ws["F7"].value == 1.25  # a Decimal, as a number
    # Print setup.
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4"  # the title, the lines and the header
    assert ws.freeze_panes == "A5"
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.print_options.horizontalCentered


def test_header_groups_span_their_columns(tmp_path):
    ws = build(tmp_path, fast=True)["统计"]
    assert values(ws, 3) == ["单位", "户数", None, "人口", None, "备注"]
    assert values(ws, 4) == [None, "合计", "常住", "户籍\n人口", "常住\n人口", None]
    assert {"A1:F1", "A2:C2", "D2:F2", "A3:A4", "B3:C3", "D3:E3", "F3:F4"} <= merges(ws)
    assert ws.print_title_rows == "$3:$4"  # the header only
    assert ws.freeze_panes == "B5"  # below the header, right of the unit names
    assert values(ws, 5) == ["第一组", 1, 1, 2, 2, "=备注"]
    assert ws["F5"].data_type == "s" and ws["F5"].quotePrefix
    assert ws["A6"].font.b and values(ws, 6)[:5] == ["合计", 1, 1, 2, 2]


def test_formula_like_text_is_text_with_the_quote_prefix(tmp_path):
    ws = build(tmp_path, fast=True)["测试村"]
    found = {}
    for row in ws.iter_rows(min_row=6):
        for cell in row[1:5]:
            if isinstance(cell.value, str):
                found[cell.value] = cell
    for text in HOSTILE:
        cell = found[text.replace("\r", "\n")]
        assert cell.data_type == "s" and cell.quotePrefix, text
    for text in HARMLESS:
        cell = found[text]
        assert cell.data_type == "s" and not cell.quotePrefix, text
    assert "A\nB" in found and "是" in found  # CR as LF; True as 是


def test_text_helpers():
    assert [sheets.looks_like_formula(t) for t in HOSTILE] == [True] * len(HOSTILE)
    assert not any(sheets.looks_like_formula(t) for t in HARMLESS)
    assert sheets.csv_text("=1+1") == "'=1+1" and sheets.csv_text("@x") == "'@x"
    assert sheets.csv_text("\nx") == "'\nx" and sheets.csv_text("abc") == "abc"
    assert sheets.csv_text(datetime.date(2026, 1, 2)) == "2026-01-02"
    assert sheets.csv_text(None) == "" and sheets.csv_text("a\x01b") == "ab"
    assert sheets.clean_text("a\r\nb\rc\x02") == "a\nb\nc"
    assert len(sheets.clean_text("字" * 40000)) == 32767


# --- the fast path against openpyxl's own cells ---------------------------------------------


def test_pinned_versions_of_the_internals_the_fast_path_uses():
    assert openpyxl.__version__ == "3.1.5"
    assert importlib.metadata.version("et_xmlfile") == "2.0.0"


def _cell_facts(cell) -> tuple:
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        bool(cell.quotePrefix),
        repr(cell.font),
        repr(cell.alignment),
        repr(cell.border),
        repr(cell.fill),
    )


def _sheet_facts(ws) -> dict:
    return {
        "cells": [[_cell_facts(c) for c in row] for row in ws.iter_rows()],
        "merges": merges(ws),
        "heights": {n: d.height for n, d in ws.row_dimensions.items() if d.height},
        "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        "freeze": ws.freeze_panes,
        "titles": ws.print_title_rows,
        "page": repr(ws.page_setup),
        "fit": ws.sheet_properties.pageSetUpPr.fitToPage,
        "margins": repr(ws.page_margins),
        "footer": (ws.oddFooter.center.text, ws.oddFooter.center.size),
    }


def test_the_fast_path_reads_back_as_plain_openpyxl_cells(tmp_path):
    fast = build(tmp_path, fast=True)
    plain = build(tmp_path, fast=False)
    assert fast.sheetnames == plain.sheetnames == ["测试村", "统计"]
    for name in fast.sheetnames:
        assert _sheet_facts(fast[name]) == _sheet_facts(plain[name]), name


# --- sections and subtotals ------------------------------------------------------------------


def test_sections_make_sheets_headings_subtotals_and_closing_lines(tmp_path):
    """Two villages, the first with two groups: 3 + 4 people, then 5; the second village 2.
    Each section closes with its subtotal, each sheet with its row count."""
    layout_columns = [Column("序号", 6), Column("组", 10), Column("人数", 8)]
    rows = [
        ("甲村", Section(("甲村", 1), "第一组"), [0, "第一组", 3]),
        ("甲村", Section(("甲村", 1), "第一组"), [0, "第一组", 4]),
        ("甲村", Section(("甲村", 2), "第二组"), [0, "第二组", 5]),
        ("乙村", Section(("乙村", 1), "第一组"), [0, "第一组", 2]),
    ]

    def subtotal(tally):
        return ["小计", f"{tally.rows} 行", tally.sums[2]]

    declared = Sections(
        layout_for=lambda owner: Layout(title=f"{owner}花名册", header=layout_columns),
        name_for=str,
        closing=lambda n: f"共 {n} 行",
        subtotal=subtotal,
    )
    book = SheetBook(work_dir=tmp_path)
    assert write_sections(book, iter(rows), declared, empty_owner="无") == 4
    target = io.BytesIO()
    book.save(target)
    wb = load(target)
    assert wb.sheetnames == ["甲村", "乙村"]
    first = [values(wb["甲村"], n) for n in range(1, wb["甲村"].max_row + 1)]
    assert first == [
        ["甲村花名册", None, None],
        ["序号", "组", "人数"],
        ["第一组", None, None],
        [1, "第一组", 3],
        [2, "第一组", 4],
        ["小计", "2 行", 7],
        ["第二组", None, None],
        [3, "第二组", 5],
        ["小计", "1 行", 5],
        ["共 3 行", None, None],
    ]
    assert wb["甲村"]["A6"].font.b and "A3:C3" in merges(wb["甲村"])
    second = [values(wb["乙村"], n) for n in range(3, wb["乙村"].max_row + 1)]
    assert second == [
        ["第一组", None, None],
        [1, "第一组", 2],
        ["小计", "1 行", 2],
        ["共 1 行", None, None],
    ]


def test_sections_without_rows_say_so_on_one_sheet(tmp_path):
    declared = Sections(
        layout_for=lambda owner: Layout(title=owner, header=[Column("序号", 6)]),
        name_for=str,
        closing=lambda n: f"共 {n} 行",
        empty=lambda: "暂无。",
    )
    book = SheetBook(work_dir=tmp_path)
    assert write_sections(book, iter([]), declared, empty_owner="某村") == 0
    target = io.BytesIO()
    book.save(target)
    ws = load(target)["某村"]
    assert [values(ws, n) for n in (1, 2, 3)] == [["某村"], ["序号"], ["暂无。"]]


# --- streaming and temporary files -----------------------------------------------------------


def test_a_hundred_thousand_rows_stream_in_flat_memory(tmp_path):
    produced = 0

    def rows():
        nonlocal produced
        for n in range(100_000):
            produced += 1
            yield [n, f"第{n}行"]

    layout = Layout(title="大表", header=[Column("序号", 8), Column("内容", 12)])
    book = SheetBook(work_dir=tmp_path)
    gc.collect()
    tracemalloc.start()
    try:
        sheet = book.sheet(layout, name="大表")
        for values_ in rows():
            sheet.row(values_)
        sheet.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    book.save(tmp_path / "big.xlsx")
    assert produced == book.rows == 100_000
    assert peak < 8 * 2**20, peak  # rows written as they come, not held
    with zipfile.ZipFile(tmp_path / "big.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count("<row ") == 100_002 and '<c r="B100002"' in xml


def test_temporary_files_stay_in_the_work_folder(tmp_path, system_temp):
    work = tmp_path / "work"
    work.mkdir()
    seen = []
    book = SheetBook(work_dir=work, progress=lambda n: seen.append(sorted(work.iterdir())))
    book.progress_every = 1
    sample_sheet(book)
    assert seen and all(seen)  # the sheets' files were in the work folder while writing
    book.save(tmp_path / "out.xlsx")
    assert list(system_temp.iterdir()) == [] and list(work.iterdir()) == []


def test_a_build_failing_midway_leaves_nothing_behind(tmp_path, system_temp):
    work = tmp_path / "work"
    work.mkdir()

    def progress(rows):
        raise RuntimeError("killed")

    book = SheetBook(work_dir=work, progress=progress, progress_every=2)
    sheet = book.sheet(Layout(title="表", header=[Column("序号", 6)]), name="表")
    sheet.row([1])
    with pytest.raises(RuntimeError):
        sheet.row([2])
    assert list(work.iterdir())  # the sheet's file, in the work folder
    assert list(system_temp.iterdir()) == []  # nothing elsewhere, even before cleaning up
    book.discard()
    assert list(system_temp.iterdir()) == [] and list(work.iterdir()) == []


def test_scratch_folder_is_private_and_removed(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with sheets.scratch_folder() as folder:
        assert folder.is_dir() and folder.is_relative_to(tmp_path)
        assert folder.stat().st_mode & 0o777 == 0o700
        (folder / "x").write_text("x")
    assert not folder.exists()


@pytest.mark.django_db
def test_scratch_folders_left_by_a_killed_process_go_with_the_nightly_purge(settings, tmp_path):
    import os
    import time

    from associations.sheets.book import purge_stale_scratch
    from associations.tasks import purge_expired_files_everywhere

    settings.MEDIA_ROOT = tmp_path
    with sheets.scratch_folder() as folder:
        (folder / "sheet1.xml").write_text("<row>李桂兰</row>")
        assert purge_stale_scratch() == 0  # a build at work is left alone
        old = time.time() - 7 * 3600
        os.utime(folder, (old, old))
        purge_expired_files_everywhere()
        assert not folder.exists()
