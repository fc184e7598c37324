"""The streamed worksheet under every printable sheet, and the fast path for its rows.

openpyxl spends most of a large sheet's time making and serialising a cell object per value.
Here openpyxl still makes the package, the styles, the print setup and the sheet's head and
tail, but a row can be handed over already serialised (`SheetRow`, from `row_xml`: inline
strings, numbers, date serials, the workbook's style ids) and goes to the sheet's stream as
it is. Rows of plain openpyxl cells go through openpyxl's own writer (`plain_cells`): the
tests write the same sheet both ways and compare what openpyxl reads back.

This leans on internals of openpyxl 3.1.5 and et_xmlfile 2.0.0 (pinned in requirements.lock;
tests/associations/test_sheets.py asserts the versions), kept in this module alone:
`WorksheetWriter` (its `out` file, `xf` stream, `write_row`, `write_merged_cells`,
`cleanup`), `WriteOnlyWorksheet._get_writer`/`_values_to_row`, and et_xmlfile's `_file`.

Each sheet's temporary file is created in the book's work folder, never in the system temp
folder (openpyxl's own `create_temporary_file` would put it there)."""

from __future__ import annotations

import datetime
import os
import tempfile
from copy import copy
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml.functions import fromstring as xml_fromstring

from .text import FORMULA_TRIGGERS, TRUE_TEXT, clean_text


class SheetRow(tuple):
    """A row already serialised as sheet XML (`<row r="5">…</row>`): `(xml,)`."""


class _RowWriter(WorksheetWriter):
    """openpyxl's sheet writer, writing to a file in the work folder, passing a `SheetRow`
    to the stream as it is."""

    def __init__(self, ws, work_dir: Path):
        handle, out = tempfile.mkstemp(prefix="sheet-", suffix=".xml", dir=work_dir)
        os.close(handle)
        super().__init__(ws, out=out)

    def write_row(self, xf, row, row_idx):
        if isinstance(row, SheetRow):
            write_raw(xf, row[0])
        else:
            super().write_row(xf, row, row_idx)

    def write_merged_cells(self):
        """The merged ranges, kept as "A5:L5" strings (a county roster has thousands of
        section headings; openpyxl would make a CellRange object of each)."""
        ranges = self.ws.merged_ranges
        if not ranges:
            return
        merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in ranges)
        write_raw(self.xf.send(True), f'<mergeCells count="{len(ranges)}">{merges}</mergeCells>')
        self.xf.send(None)

    def cleanup(self):
        # openpyxl's cleanup also unlists the file from its own temporary files (at-exit
        # removal), where this one never was.
        if os.path.exists(self.out):
            os.remove(self.out)


def write_raw(xf, xml: str) -> None:
    if hasattr(xf, "_file"):  # et_xmlfile, openpyxl's writer without lxml
        xf._file(xml)
    else:  # lxml's xmlfile takes elements only
        xf.write(xml_fromstring(xml))


class StreamingSheet(WriteOnlyWorksheet):
    """A write-only worksheet whose temporary file lives in `work_dir`, fed with serialised
    rows (`SheetRow`) or with lists of openpyxl cells."""

    def __init__(self, parent, title, work_dir: Path):
        super().__init__(parent, title)
        self.work_dir = work_dir
        self.merged_ranges: list[str] = []

    def _get_writer(self):
        if self._writer is None:
            self._writer = _RowWriter(self, self.work_dir)
            self._writer.write_top()

    def _values_to_row(self, values, row_idx):
        if isinstance(values, SheetRow):
            return values
        return super()._values_to_row(values, row_idx)

    def temporary_file(self) -> str | None:
        return getattr(self._writer, "out", None)


def _text_xml(reference: str, style: int, text: str) -> str:
    padded = (text[0].isspace() or text[-1].isspace()) and not text.isspace()
    space = ' xml:space="preserve"' if padded else ""
    content = f"<is><t{space}>{xml_escape(text)}</t></is>"
    return f'<c r="{reference}" s="{style}" t="inlineStr">{content}</c>'


def cell_xml(reference: str, style: int, value) -> str:
    """One cell as openpyxl writes it, from a value already made a cell value (`text.
    cell_value`): text as an inline string (never a formula, never an error value),
    numbers and dates (as serial numbers) as numbers, None as a blank styled cell."""
    if value is None:
        return f'<c r="{reference}" s="{style}"/>'
    if isinstance(value, str):
        return _text_xml(reference, style, value)
    if isinstance(value, datetime.date):
        return f'<c r="{reference}" s="{style}" t="n"><v>{to_excel(value)}</v></c>'
    return f'<c r="{reference}" s="{style}" t="n"><v>{value!r}</v></c>'


def data_row_xml(number: int, columns, values) -> SheetRow:
    """A data row straight from its values: `text.cell_value` and the choice of the data or
    the quoted style (`SheetWriter.row`) done in one pass, the hot loop of a big sheet.
    `columns`: (letter, data style id, quoted style id, text column?) per column."""
    parts = [f'<row r="{number}">']
    append = parts.append
    for (letter, data, quoted, text_column), value in zip(columns, values, strict=True):
        kind = value.__class__
        if kind is int or kind is float:
            if not text_column:
                append(f'<c r="{letter}{number}" s="{data}" t="n"><v>{value!r}</v></c>')
                continue
            value = str(value)
        elif kind is not str:
            if value is None or value is False:
                append(f'<c r="{letter}{number}" s="{data}"/>')
                continue
            if value is True:
                value = TRUE_TEXT
            elif isinstance(value, Decimal):
                value = float(value)
                append(f'<c r="{letter}{number}" s="{data}" t="n"><v>{value!r}</v></c>')
                continue
            elif isinstance(value, datetime.date):
                append(f'<c r="{letter}{number}" s="{data}" t="n"><v>{to_excel(value)}</v></c>')
                continue
            else:
                value = str(value)
        if not value:
            append(f'<c r="{letter}{number}" s="{data}"/>')
            continue
        value = clean_text(value)
        style = quoted if value.startswith(FORMULA_TRIGGERS) else data
        append(_text_xml(f"{letter}{number}", style, value))
    append("</row>")
    return SheetRow(("".join(parts),))


def row_xml(number: int, letters: list[str], cells, height: float | None) -> SheetRow:
    """A row of (style id, cell value) pairs, serialised."""
    size = f' ht="{height}" customHeight="1"' if height else ""
    parts = [f'<row r="{number}"{size}>']
    for letter, (style, value) in zip(letters, cells, strict=True):
        parts.append(cell_xml(f"{letter}{number}", style, value))
    parts.append("</row>")
    return SheetRow(("".join(parts),))


def plain_cells(ws: StreamingSheet, styled: dict, cells) -> list[WriteOnlyCell]:
    """The same row as openpyxl cells, styled like the cells in `styled` (style id → cell):
    the reference the fast path is checked against."""
    row = []
    for style, value in cells:
        cell = WriteOnlyCell(ws)
        cell._style = copy(styled[style]._style)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # text as text: never a formula, never an error value
        row.append(cell)
    return row
