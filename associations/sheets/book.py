"""The printable-sheet writer: a streamed (write-only) workbook of sheets declared with a
`Layout`, whose rows come one at a time and go straight to disk, so memory stays flat
whatever the number of rows.

    with scratch_folder() as work_dir:          # or the job's own folder
        book = SheetBook(work_dir=work_dir, progress=report)
        sheet = book.sheet(layout, name="前王庄村")
        sheet.heading("第一会员小组    共 12 人")
        for values in rows:
            sheet.row(values)
        sheet.note("共 12 名会员")
        sheet.close()
        book.save(path)

Every temporary file (one per sheet) is created in `work_dir`, never in the system temp
folder: a build killed halfway leaves personal rows only where its caller cleans up."""

from __future__ import annotations

import contextlib
import datetime
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from ..files import private_folder
from .layout import Group, Layout
from .stream import StreamingSheet, data_row_xml, plain_cells, row_xml
from .styles import StyleTable
from .text import cell_value, clean_text, looks_like_formula

PROGRESS_EVERY = 1000
SCRATCH_DIR = "sheets-work"


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder under MEDIA_ROOT for one build's temporary files, removed after."""
    folder = private_folder(Path(settings.MEDIA_ROOT) / SCRATCH_DIR / uuid.uuid4().hex)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def purge_stale_scratch(older_than: datetime.timedelta = datetime.timedelta(hours=6)) -> int:
    """Remove scratch folders a killed process left behind (a build within a request takes
    seconds, so one this old belongs to nobody); returns how many went."""
    root = Path(settings.MEDIA_ROOT) / SCRATCH_DIR
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    stale = [folder for folder in root.iterdir() if folder.stat().st_mtime < cutoff]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


class SheetBook:
    """A write-only workbook of printable sheets. Counts data rows over all its sheets and
    calls `progress(rows)` every `progress_every` of them. `fast=False` writes every cell
    through openpyxl's own cells (slower; the reference the fast path is tested against)."""

    def __init__(
        self,
        *,
        work_dir: Path,
        progress: Callable[[int], None] | None = None,
        progress_every: int | None = None,
        fast: bool = True,
    ):
        self.work_dir = Path(work_dir)
        self.workbook = Workbook(write_only=True)
        self.progress = progress
        self.progress_every = progress_every or PROGRESS_EVERY
        self.fast = fast
        self.rows = 0
        self._sheet_names: set[str] = set()
        self._styles: dict[tuple, StyleTable] = {}

    def sheet(self, layout: Layout, *, name: str) -> SheetWriter:
        ws = StreamingSheet(self.workbook, self._unique_name(name), self.work_dir)
        self.workbook._add_sheet(ws)
        return SheetWriter(self, ws, layout)

    def _unique_name(self, name: str) -> str:
        base = re.sub(r"[\[\]:*?/\\']", "", name).strip() or "Sheet"
        base, candidate, n = base[:31], base[:31], 1
        while candidate in self._sheet_names:
            n += 1
            suffix = f"({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        self._sheet_names.add(candidate)
        return candidate

    def _style_table(self, ws, columns) -> StyleTable:
        key = tuple(columns)
        table = self._styles.get(key)
        if table is None:
            table = self._styles[key] = StyleTable(ws, columns)
        return table

    def row_done(self) -> None:
        self.rows += 1
        if self.progress and self.rows % self.progress_every == 0:
            self.progress(self.rows)

    def save(self, target: Path | BinaryIO) -> None:
        """Write the workbook to a path or a binary file object; the temporary files go."""
        if not self.workbook.worksheets:
            raise ValueError("a workbook needs at least one sheet")
        try:
            self.workbook.save(target)
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the sheets' temporary files (openpyxl would only at process exit, which
        for a worker is never)."""
        for ws in self.workbook.worksheets:
            out = ws.temporary_file() if isinstance(ws, StreamingSheet) else None
            if out and Path(out).exists():
                if not ws.closed:
                    ws.close()
                Path(out).unlink()


class SheetWriter:
    """One sheet of a SheetBook, written top to bottom: the layout's title, lines and header
    on creation, then data rows, section headings, totals and notes, then `close()`."""

    def __init__(self, book: SheetBook, ws: StreamingSheet, layout: Layout):
        self.book, self.ws, self.layout = book, ws, layout
        columns = layout.columns
        self.columns = columns
        self.width = len(columns)
        self.rows_written = 0
        self._row = 0
        self._letters = [get_column_letter(i + 1) for i in range(self.width)]
        self._setup_print()
        self._styles = book._style_table(ws, columns)
        ids = self._styles.ids
        self._data = [ids["data", i] for i in range(self.width)]
        self._quoted = [ids["quoted", i] for i in range(self.width)]
        self._text = {i for i, column in enumerate(columns) if column.text}
        self._fast_columns = [
            (letter, data, quoted, column.text)
            for letter, data, quoted, column in zip(
                self._letters, self._data, self._quoted, columns, strict=True
            )
        ]
        self._write_top()

    # --- the top: title, lines, header ---------------------------------------------------

    def _setup_print(self) -> None:
        # openpyxl writes all of this before the first row: it must be set now.
        layout, ws, setup = self.layout, self.ws, self.layout.print_setup
        for letter, column in zip(self._letters, self.columns, strict=True):
            ws.column_dimensions[letter].width = column.width
        frozen = get_column_letter(layout.frozen_columns + 1)
        ws.freeze_panes = f"{frozen}{layout.first_body_row}"
        ws.print_title_rows = layout.print_title_rows
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages tall as needed
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        left, right, top, bottom = setup.margins
        ws.page_margins = PageMargins(
            left=left,
            right=right,
            top=top,
            bottom=bottom,
            header=setup.header_margin,
            footer=setup.footer_margin,
        )
        if setup.footer:
            ws.oddFooter.center.text = setup.footer
            ws.oddFooter.center.size = setup.footer_size

    def _write_top(self) -> None:
        layout = self.layout
        self._merged_row("title", layout.title, height=layout.title_height)
        for line in layout.lines:
            if line.right is None:
                self._merged_row(line.style, line.text, height=line.height)
            else:
                self._split_row(line)
        if layout.grouped:
            self._grouped_header()
        else:
            headers = [column.header for column in self.columns]
            self._write(self._styled("header", headers), height=layout.header_height)

    def _split_row(self, line) -> None:
        split = max(1, self.width // 2)
        values = [None] * self.width
        values[0], values[split] = clean_text(line.text), clean_text(line.right)
        ids = self._styles.ids
        styles = [ids["info" if i < split else "info_right", i] for i in range(self.width)]
        number, last = self._row + 1, self._letters[-1]
        self.ws.merged_ranges += [
            f"A{number}:{get_column_letter(split)}{number}",
            f"{get_column_letter(split + 1)}{number}:{last}{number}",
        ]
        self._write(list(zip(styles, values, strict=True)), height=line.height)

    def _grouped_header(self) -> None:
        """Two rows: each group's label merged across its columns, their headers below; a
        column outside any group merged over both rows."""
        top = self._row + 1
        upper, lower = [None] * self.width, [None] * self.width
        index = 0
        for item in self.layout.header:
            first = self._letters[index]
            if isinstance(item, Group):
                span = len(item.columns)
                upper[index] = item.label
                for offset, column in enumerate(item.columns):
                    lower[index + offset] = column.header
                if span > 1:
                    self.ws.merged_ranges.append(
                        f"{first}{top}:{self._letters[index + span - 1]}{top}"
                    )
                index += span
            else:
                upper[index] = item.header
                self.ws.merged_ranges.append(f"{first}{top}:{first}{top + 1}")
                index += 1
        self._write(self._styled("header", upper), height=self.layout.header_height)
        self._write(self._styled("header", lower), height=30)

    # --- the body --------------------------------------------------------------------------

    def row(self, values: Sequence) -> None:
        """A data row, one value per column (`text.cell_value`): text a spreadsheet could
        take for a formula carries the quote prefix; text columns hold numbers as text."""
        number = self._row + 1
        if self.book.fast:
            self.ws.append(data_row_xml(number, self._fast_columns, values))
            self._row = number
        else:
            self._write(self._data_cells(values))
        self.rows_written += 1
        self.book.row_done()

    def _data_cells(self, values: Sequence) -> list[tuple[int, object]]:
        cells = []
        for index, value in enumerate(values):
            if index in self._text and isinstance(value, int | float):
                value = value if isinstance(value, bool) else str(value)
            value = cell_value(value)
            formula_like = isinstance(value, str) and looks_like_formula(value)
            cells.append(((self._quoted if formula_like else self._data)[index], value))
        if len(cells) != self.width:
            raise ValueError(f"{len(cells)} values for {self.width} columns")
        return cells

    def total(self, values: Sequence) -> None:
        """A total or subtotal row: bold, in the columns' formats; not counted as data."""
        cells = []
        for index, value in enumerate(values):
            value = cell_value(value)
            quoted = isinstance(value, str) and looks_like_formula(value)
            cells.append((self._styles.ids["total_quoted" if quoted else "total", index], value))
        self._write(cells)

    def heading(self, text: str) -> None:
        """A section heading across the whole width."""
        self._merged_row("heading", text)

    def note(self, text: str, *, style: str = "note", height: float | None = None) -> None:
        """A line across the whole width: "note" (a closing line in the grid), "remark_title"
        and "remark" (explanations under a table), "warning"."""
        self._merged_row(style, text, height=height)

    def blank(self) -> None:
        self._write([(style, None) for style in self._styles.across("blank")])

    def close(self) -> None:
        self.ws.close()  # writes the tail; the file itself goes when the book is saved

    # --- rows ----------------------------------------------------------------------------

    def _styled(self, kind: str, values: list) -> list[tuple[int, object]]:
        return list(zip(self._styles.across(kind), map(cell_value, values), strict=True))

    def _merged_row(self, kind: str, text: str, *, height: float | None = None) -> None:
        values = [text] + [None] * (self.width - 1)
        self._write(self._styled(kind, values), height=height)
        if self.width > 1:
            self.ws.merged_ranges.append(f"A{self._row}:{self._letters[-1]}{self._row}")

    def _write(self, cells: list[tuple[int, object]], *, height: float | None = None) -> None:
        number = self._row + 1
        if self.book.fast:
            self.ws.append(row_xml(number, self._letters, cells, height))
        else:
            if height:
                self.ws.row_dimensions[number].height = height
            self.ws.append(plain_cells(self.ws, self._styles.cells, cells))
        self._row = number
