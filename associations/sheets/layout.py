"""How a printable sheet is declared: its title and the lines under it, its header (columns,
optionally under group labels), and its print setup. The declarations say what a sheet is;
`book.SheetBook` writes them.

    ROSTER = Layout(
        title="前王庄村计划生育协会会员花名册",
        lines=[Line("制表单位:…", right="制表日期:…")],
        header=[Column("序号", 6), Column("姓名", 10), Column("出生", 11.5, number_format=DATE)],
    )
    FIGURES = Layout(
        title="…人口统计表", header=[Column("会员小组", 14, align="left"),
                                    Group("户数", [Column("合计", 6.5), Column("常住", 6.5)])],
        frozen_columns=1, repeat_title=False,
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

DATE = "yyyy-mm-dd"
TEXT = "@"
PAGE_NUMBERS = "第 &P 页 共 &N 页"

Align = Literal["center", "left", "right"]


@dataclass(frozen=True)
class Column:
    """One column: its header, its width (in characters), how its values are aligned, their
    number format (DATE for dates, "0.0", …) and whether the column holds text only (ID
    numbers, phones, numbers with leading zeros: formatted "@" and written as text, so an
    edit in a spreadsheet program keeps them text)."""

    header: str
    width: float
    align: Align = "center"
    number_format: str | None = None
    text: bool = False

    @property
    def cell_format(self) -> str | None:
        return TEXT if self.text else self.number_format


@dataclass(frozen=True)
class Group:
    """A label over several columns: the header takes two rows, the label merged across its
    columns on the first, their own headers on the second."""

    label: str
    columns: Sequence[Column]


@dataclass(frozen=True)
class Line:
    """A line between the title and the header, merged across the sheet. With `right`, the
    line is split in two halves: `text` on the left, `right` right-aligned."""

    text: str
    right: str | None = None
    style: Literal["info", "warning"] = "info"
    height: float | None = 20


@dataclass(frozen=True)
class PrintSetup:
    """A4 landscape, fitted to one page wide (as many pages tall as needed), centred, the
    header (and by default the title lines) repeated on every page, page numbers below."""

    footer: str = PAGE_NUMBERS
    footer_size: int = 9
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.5, 0.6)  # left right top bottom
    header_margin: float = 0.3
    footer_margin: float = 0.3


@dataclass(frozen=True)
class Layout:
    """A printable sheet: the title (merged across the width), the lines under it, the
    header, and how it prints. The header and everything above it are repeated on every
    printed page (`repeat_title=False`: the header only); panes are frozen below the header
    and right of `frozen_columns` columns."""

    title: str
    header: Sequence[Column | Group]
    lines: Sequence[Line] = ()
    title_height: float = 30
    header_height: float | None = 22
    repeat_title: bool = True
    frozen_columns: int = 0
    print_setup: PrintSetup = field(default_factory=PrintSetup)

    @property
    def columns(self) -> list[Column]:
        columns: list[Column] = []
        for item in self.header:
            columns.extend(item.columns if isinstance(item, Group) else [item])
        return columns

    @property
    def grouped(self) -> bool:
        return any(isinstance(item, Group) for item in self.header)

    @property
    def header_rows(self) -> int:
        return 2 if self.grouped else 1

    @property
    def first_header_row(self) -> int:
        return 2 + len(self.lines)

    @property
    def first_body_row(self) -> int:
        return self.first_header_row + self.header_rows

    @property
    def print_title_rows(self) -> str:
        first = 1 if self.repeat_title else self.first_header_row
        return f"{first}:{self.first_body_row - 1}"
