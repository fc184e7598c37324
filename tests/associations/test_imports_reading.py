"""Reading uploads with calamine (associations.imports.reading): the values it gives (dates,
numbers as floats, empty cells), numeric ID cells, sheets without a declared dimension, merged
title rows, row numbers under title rows; and header matching with synonyms."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import openpyxl

from associations.imports import as_text, parse_date, probe, read_table
from associations.imports.columns import ColumnSpec, find_header, header_lookup, normalize_header

COLUMNS = [
    ColumnSpec("name", "姓名", ("人员姓名",), required=True),
    ColumnSpec("id_number", "身份证号码", ("身份证号", "公民身份号码"), required=True, text=True),
    ColumnSpec("birth_date", "出生日期", ("出生年月",)),
    ColumnSpec("count", "人数"),
    ColumnSpec("flag", "是否骨干"),
]
ID = "130534199003070032"


def roster() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(["某村花名册"])
    sheet.merge_cells("A1:E1")
    sheet.append([])  # an empty row between the title and the header
    sheet.append(["＊姓名(必填)", "公民身份号码", "出生年月", "人数", "是否骨干"])
    sheet.append(["甲", ID, datetime.datetime(1990, 3, 7), 3, True])
    sheet.append(["乙", int(ID[:17] + "0"), datetime.date(1991, 4, 8), 2.5, False])
    sheet.append([None, None, None, None, None])
    sheet.append(["  丙\u3000", " ", "1992-05-09", None, "是"])
    sheet["C5"].number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_calamine_values_become_the_rows_the_kinds_read():
    table, raw = read_table(roster(), "xlsx", COLUMNS, keep_raw=True)
    assert table.sheet_title == "花名册" and table.header_row == 3
    assert table.title_merges == ["A1:E1"]
    first, second, third = table.records
    assert [r.row_number for r in table.records] == [4, 5, 7]  # the empty row 6 skipped
    # Text as text, dates as dates (with or without a time), numbers as floats.
    assert first.values["name"] == "甲" and first.values["id_number"] == ID
    assert parse_date(first.values["birth_date"]) == (datetime.date(1990, 3, 7), True)
    assert parse_date(second.values["birth_date"]) == (datetime.date(1991, 4, 8), True)
    assert as_text(first.values["count"]) == "3" and second.values["count"] == 2.5
    assert first.values["flag"] is True and as_text(second.values["flag"]) == "否"
    # Stripped (also of the ideographic space); a blank cell is empty.
    assert third.values["name"] == "丙" and third.values["id_number"] is None
    assert third.values["count"] is None
    # The ID number Excel stored as a number: flagged, its lost digits never guessed.
    assert second.numeric_id and not first.numeric_id and not third.numeric_id
    assert isinstance(second.values["id_number"], float)
    assert len(raw) == 7  # every row to the last that is not empty


def test_a_sheet_without_a_declared_dimension_is_read_to_its_end():
    data = roster()
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<dimension" in content
                content = re.sub(rb"<dimension[^>]*/>", b"", content)
            target.writestr(item.filename, content)
    table, _raw = read_table(buffer.getvalue(), "xlsx", COLUMNS)
    assert [r.row_number for r in table.records] == [4, 5, 7]
    assert probe(buffer.getvalue(), "xlsx", COLUMNS).rows_estimate == 3


def test_probe_counts_the_data_rows_exactly():
    assert probe(roster(), "xlsx", COLUMNS).rows_estimate == 3
    csv = f"姓名,身份证号码\n甲,{ID}\n\n乙,{ID}\n".encode()
    assert probe(csv, "csv", COLUMNS).rows_estimate == 2


def test_header_synonyms_and_noise():
    lookup = header_lookup(COLUMNS)
    for written in (
        "身份证号",
        "公民身份号码",
        " 身份证号码 ",
        "＊身份证号码（必填）",
        "身份证号码(选填)",
    ):
        assert lookup[normalize_header(written)] == "id_number", written
    assert normalize_header("出生 年月") == "出生年月"
    # Three known names make a header; two do when the row holds nothing else.
    assert find_header([["花名册"], ["姓名", "身份证号", "备注"]], lookup) is None
    assert find_header([["花名册"], ["姓名", "身份证号"]], lookup) == 1
    assert find_header([["姓名", "身份证号", "人数", "备注"]], lookup) == 0


def test_a_repeated_column_is_imported_once():
    csv = f"姓名,身份证号码,人数,公民身份号码\n甲,{ID},1,130534199003070040\n".encode()
    table, _raw = read_table(csv, "csv", COLUMNS)
    assert table.columns == {"name": 0, "id_number": 1, "count": 2}
    assert table.unknown_columns == [(3, "公民身份号码(与第 2 列重复)")]
    assert table.records[0].values["id_number"] == ID


def test_a_csv_cell_in_scientific_notation_is_a_numeric_id():
    csv = "姓名,身份证号码\n甲,1.30534E+17\n".encode("gb18030")
    table, _raw = read_table(csv, "csv", COLUMNS)
    assert table.records[0].numeric_id


def test_a_chart_sheet_before_the_roster_is_passed_over():
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证号码", "人数"])
    book.active.append(["甲", ID, 1])
    book.create_chartsheet("图表", 0)
    buffer = io.BytesIO()
    book.save(buffer)
    table, _raw = read_table(buffer.getvalue(), "xlsx", COLUMNS)
    assert table.sheet_title == "Sheet" and table.records[0].values["id_number"] == ID
