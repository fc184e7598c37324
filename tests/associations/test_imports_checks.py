"""Hostile-file checks of associations.imports: the physical-line cap (blank lines count), the
bounded used area of a worksheet (the reader would otherwise allocate the whole grid), and
document type declarations in any part of a workbook."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from associations.imports import FileRefused, checks, read_table
from associations.imports.columns import ColumnSpec

COLUMNS = [
    ColumnSpec("name", "姓名", required=True),
    ColumnSpec("id_number", "身份证号码", ("身份证号",), required=True, text=True),
    ColumnSpec("phone", "联系电话"),
]


def refused(data: bytes, file_type: str) -> FileRefused:
    with pytest.raises(FileRefused) as error:
        checks.sniff(data, file_type)
    return error.value


def workbook(cells: dict[str, object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rebuilt(data: bytes, part: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, change(content) if item.filename == part else content)
    return buffer.getvalue()


# --- physical lines ---------------------------------------------------------------------------


def test_ten_million_blank_lines_are_refused_at_once():
    """10 MB of empty lines and three bad rows: under the byte limit, and under the old cap on
    data rows (blank rows were not counted), so its error workbook once ran for minutes."""
    data = (
        "姓名,身份证号码,联系电话\n".encode()
        + b"\n" * 10_000_000
        + "甲,1,2\n乙,3,4\n丙,5,6\n".encode()
    )
    assert len(data) <= checks.max_bytes()
    started = time.perf_counter()
    error = refused(data, "csv")
    assert time.perf_counter() - started < 1.0
    assert error.code == "FILE_TOO_LARGE"
    assert "10000004 行" in error.message and f"{checks.max_lines()} 行的上限" in error.message
    assert "空行也计算在内" in error.message


def test_the_line_cap_is_a_setting_and_blank_lines_under_it_are_skipped(settings):
    settings.IMPORT_MAX_LINES = 6
    data = "姓名,身份证号码\n\n\n甲,130534199003070032\n\n乙,130534199003070040\n".encode()
    table, _raw = read_table(data, "csv", COLUMNS)
    assert [r.row_number for r in table.records] == [4, 6]  # the file's own line numbers
    settings.IMPORT_MAX_LINES = 5
    error = refused(data, "csv")
    assert "文件有 6 行" in error.message and "5 行的上限" in error.message
    crlf = data.replace(b"\n", b"\r\n")
    assert refused(crlf, "csv").code == "FILE_TOO_LARGE"
    settings.IMPORT_MAX_LINES = 6
    checks.sniff(crlf, "csv")  # a CR LF pair is one line


def test_a_worksheet_reaching_past_the_line_cap_is_refused(settings):
    settings.IMPORT_MAX_LINES = 1000
    data = workbook({"A1": "姓名", "B1": "身份证号码", "A1001": "x"})
    error = refused(data, "xlsx")
    assert error.code == "FILE_TOO_LARGE" and "1001 行" in error.message
    checks.sniff(workbook({"A1": "姓名", "B1": "身份证号码", "A1000": "x"}), "xlsx")


def test_a_far_away_cell_is_refused_before_the_reader_sees_it():
    """One cell at XFD1048576 in a 5 KB file: the reader would ask for hundreds of GB and abort
    the worker. The check reads the cells' references and refuses it first."""
    data = workbook({"A1": "姓名", "B1": "身份证号码", "XFD1048576": "x"})
    assert len(data) < 10_000
    assert refused(data, "xlsx").code == "FILE_TOO_LARGE"
    wide = refused(workbook({"A1": "姓名", "AAA2": "x"}), "xlsx")
    assert wide.code == "FILE_TOO_LARGE" and f"{checks.MAX_COLUMNS} 列" in wide.message


def test_only_an_r_attribute_counts_as_a_cell_reference(settings):
    """The far-away and wide references are searched by their literal r=" (fast on a sheet of
    megabytes): only an attribute named r counts, not one whose name ends in r."""
    settings.IMPORT_MAX_LINES = 1000
    data = workbook({"A1": "姓名", "B1": "身份证号码", "A2": "甲"})

    def decorated(content: bytes) -> bytes:
        return content.replace(b'<c r="A2"', b'<c xr="AAA5000" r="A2"')

    checks.sniff(rebuilt(data, "xl/worksheets/sheet1.xml", decorated), "xlsx")

    def far(content: bytes) -> bytes:
        return content.replace(b'<c r="A2"', b'<c\tr="A5000"')

    assert refused(rebuilt(data, "xl/worksheets/sheet1.xml", far), "xlsx").code == "FILE_TOO_LARGE"


def test_a_worksheet_moved_elsewhere_in_the_package_is_checked_too():
    """The reader follows the workbook's links: a worksheet part outside xl/worksheets/ is
    still a worksheet, and its far-away cell is refused."""
    data = workbook({"A1": "姓名", "B1": "身份证号码", "XFD1048576": "x"})
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            content = content.replace(b"worksheets/sheet1.xml", b"hidden/data.xml")
            name = item.filename.replace("worksheets/sheet1.xml", "hidden/data.xml")
            target.writestr(name, content)
    assert "xl/hidden/data.xml" in zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert refused(buffer.getvalue(), "xlsx").code == "FILE_TOO_LARGE"


def test_cells_without_references_are_bounded_by_their_count(settings):
    """A worksheet may leave out the r="…" of rows and cells (the reader places them one after
    the other): the bound then grows by every such element, and a small sheet still reads."""
    data = workbook({"A1": "姓名", "B1": "身份证号码", "A2": "甲", "B2": "130534199003070032"})

    def implicit(content: bytes) -> bytes:
        for ref in (b' r="A1"', b' r="B1"', b' r="A2"', b' r="B2"', b' r="2"'):
            content = content.replace(ref, b"")
        return content

    data = rebuilt(data, "xl/worksheets/sheet1.xml", implicit)
    table, _raw = read_table(data, "xlsx", COLUMNS)
    assert [(r.row_number, r.values["name"]) for r in table.records] == [(2, "甲")]
    # The bound: the last referenced row (1) plus one for every row element (2): 3 > 2.
    settings.IMPORT_MAX_LINES = 2
    assert refused(data, "xlsx").code == "FILE_TOO_LARGE"


def test_a_row_of_cells_without_references_is_bounded_too():
    """800 cells in one row, none with a reference: the reader would place them in columns 1 to
    800. Fake references on other elements do not make the check skip them."""
    data = workbook({"A1": "姓名", "B1": "身份证号码"})
    cells = b'<c t="inlineStr"><is><t>x</t></is></c>' * 800
    fakes = b'<ext r="1"/>' * 1000

    def widened(content: bytes) -> bytes:
        row = b'<row r="2">' + cells + b"</row>"
        return content.replace(b"</sheetData>", row + b"</sheetData>" + fakes)

    error = refused(rebuilt(data, "xl/worksheets/sheet1.xml", widened), "xlsx")
    assert error.code == "FILE_TOO_LARGE" and f"{checks.MAX_COLUMNS} 列" in error.message


# --- XML declarations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "part",
    ["[Content_Types].xml", "xl/styles.xml", "docProps/core.xml", "xl/_rels/workbook.xml.rels"],
)
def test_a_document_type_declaration_in_any_part_is_an_xml_bomb(part):
    data = workbook({"A1": "姓名", "B1": "身份证号码"})

    def declared(content: bytes) -> bytes:
        head, _, rest = content.partition(b"?>")
        entity = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
        return head + b"?>" + entity + rest if rest else entity + content

    assert refused(rebuilt(data, part, declared), "xlsx").code == "XML_BOMB"


def test_an_external_entity_is_refused():
    data = workbook({"A1": "姓名", "B1": "身份证号码"})
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    changed = rebuilt(data, "xl/worksheets/sheet1.xml", lambda c: xxe + c.partition(b"?>")[2])
    assert refused(changed, "xlsx").code == "XML_BOMB"
