"""The house style of printed sheets, and the workbook style ids of a sheet's cells.

Every row of a sheet is one kind (the title, a line under it, the header, a section heading,
a data row, a total row, a note); each kind has one style, and a data row's cells take their
column's alignment and number format. The ids are registered once per column layout: a
county roster has hundreds of sheets with the same columns."""

from __future__ import annotations

from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from .layout import Column

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MIDDLE = "center"
BOLD = Font(bold=True)

# The kinds of row that span the whole width, by name.
ACROSS = {
    "title": {"font": Font(size=16, bold=True), "alignment": Alignment("center", MIDDLE)},
    "info": {"font": Font(size=10), "alignment": Alignment("left", MIDDLE)},
    "info_right": {"font": Font(size=10), "alignment": Alignment("right", MIDDLE)},
    "warning": {
        "font": Font(bold=True, color="9C5700"),
        "alignment": Alignment("left", MIDDLE, wrap_text=True),
    },
    "header": {
        "font": BOLD,
        "alignment": Alignment("center", MIDDLE, wrap_text=True),
        "border": BORDER,
        "fill": PatternFill("solid", fgColor="D9D9D9"),
    },
    "heading": {
        "font": BOLD,
        "alignment": Alignment("left", MIDDLE),
        "border": BORDER,
        "fill": PatternFill("solid", fgColor="F2F2F2"),
    },
    "note": {"alignment": Alignment("left", MIDDLE), "border": BORDER},
    # Explanations under a table (definitions, sources): small, wrapped, no grid.
    "remark_title": {"font": BOLD, "alignment": Alignment("left", MIDDLE)},
    "remark": {"font": Font(size=9), "alignment": Alignment("left", "top", wrap_text=True)},
    "blank": {},
}
# The kinds of row whose cells follow their column.
PER_COLUMN = ("data", "quoted", "total", "total_quoted")


def _column_style(column: Column, kind: str) -> dict:
    # Shrink rather than wrap: spreadsheet programs do not grow the rows of a streamed
    # sheet, and wrapped text would spill over the neighbouring rows.
    style = {
        "alignment": Alignment(column.align, vertical=MIDDLE, shrink_to_fit=True),
        "border": BORDER,
    }
    if kind.startswith("total"):
        style["font"] = BOLD
    return style


class StyleTable:
    """Style ids of a column layout: `ids[kind, column index]`, and a styled cell per id
    (`cells[id]`) from which plain openpyxl cells copy their style."""

    def __init__(self, ws, columns: list[Column]):
        self.width = len(columns)
        self.ids: dict[tuple[str, int], int] = {}
        self.cells: dict[int, Cell] = {}
        for kind, style in ACROSS.items():
            for index in range(len(columns)):
                self._register(ws, (kind, index), style)
        for index, column in enumerate(columns):
            for kind in PER_COLUMN:
                quoted = kind.endswith("quoted")
                self._register(
                    ws,
                    (kind, index),
                    _column_style(column, kind),
                    number_format=None if quoted else column.cell_format,
                    quote=quoted,
                )

    def _register(self, ws, key, style: dict, *, number_format=None, quote=False) -> None:
        cell = Cell(ws, row=1, column=1)
        for attribute, value in style.items():
            setattr(cell, attribute, value)
        if number_format:
            cell.number_format = number_format
        if quote:
            cell.quotePrefix = True
        self.ids[key] = cell.style_id
        self.cells.setdefault(cell.style_id, cell)

    def across(self, kind: str) -> list[int]:
        return [self.ids[kind, index] for index in range(self.width)]
