"""Rows that fall into sheets and sections, written as they come: a new sheet whenever a row's
owner changes (a village's sheet in a county roster), a heading row whenever its section
changes (a member group), optionally a subtotal row after each section, and a closing line
on each sheet. The rows arrive sorted (one query, streamed); nothing is held back.

    rows = ((village, Section((village.pk, group.pk), "第一会员小组  共 12 人"), values), …)
    write_sections(book, rows, Sections(layout_for=…, name_for=…, closing=…), empty_owner=node)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from .book import SheetBook, SheetWriter
from .layout import Layout


@dataclass(frozen=True)
class Section:
    """A section of a sheet: rows with the same key, under a heading (None: no heading)."""

    key: Hashable
    heading: str | None = None


@dataclass
class SectionTally:
    """What a subtotal row is made from: the section, its data rows, and the sum of each
    column's numbers (None where a column had none)."""

    section: Section
    rows: int = 0
    sums: list[float | int | None] = field(default_factory=list)

    def add(self, values) -> None:
        self.rows += 1
        if not self.sums:
            self.sums = [None] * len(values)
        for index, value in enumerate(values):
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.sums[index] = (self.sums[index] or 0) + value


@dataclass(frozen=True)
class Sections:
    """How rows become sheets: each owner's layout and sheet name, the closing line of a sheet
    from its number of data rows, an optional subtotal row per section (values, or a text
    across the width), the line a workbook without rows says (or a function
    giving it, called only then), and whether the first value
    of each row is replaced by its number within the sheet (序号)."""

    layout_for: Callable[[object], Layout]
    name_for: Callable[[object], str]
    closing: Callable[[int], str] | None = None
    subtotal: Callable[[SectionTally], list | str] | None = None
    empty: str | Callable[[], str] = ""
    number_rows: bool = True


class _Writer:
    def __init__(self, book: SheetBook, sections: Sections):
        self.book, self.sections = book, sections
        self.sheet: SheetWriter | None = None
        self.owner: object = None
        self.section: Section | None = None
        self.tally: SectionTally | None = None

    def add(self, owner, section: Section | None, values: list) -> None:
        if self.sheet is None or owner != self.owner:
            self.close_sheet()
            self.open_sheet(owner)
        if section is not None and (self.section is None or section.key != self.section.key):
            self.close_section()
            self.section = section
            if section.heading is not None:
                self.sheet.heading(section.heading)
            if self.sections.subtotal is not None:
                self.tally = SectionTally(section)
        if self.sections.number_rows:
            values[0] = self.sheet.rows_written + 1
        self.sheet.row(values)
        if self.tally is not None:
            self.tally.add(values)

    def open_sheet(self, owner) -> None:
        self.sheet = self.book.sheet(
            self.sections.layout_for(owner), name=self.sections.name_for(owner)
        )
        self.owner, self.section = owner, None

    def close_section(self) -> None:
        if self.tally is None:
            return
        subtotal = self.sections.subtotal(self.tally)
        if isinstance(subtotal, str):
            self.sheet.note(subtotal)
        else:
            self.sheet.total(subtotal)
        self.tally = None

    def close_sheet(self) -> None:
        if self.sheet is None:
            return
        self.close_section()
        if self.sections.closing is not None:
            self.sheet.note(self.sections.closing(self.sheet.rows_written))
        self.sheet.close()
        self.sheet = None


def write_sections(
    book: SheetBook,
    rows: Iterable[tuple[object, Section | None, list]],
    sections: Sections,
    *,
    empty_owner: object,
) -> int:
    """Write `(owner, section, values)` rows; returns the number of data rows. Without any
    row, one sheet for `empty_owner` says `sections.empty`."""
    writer = _Writer(book, sections)
    written = 0
    for owner, section, values in rows:
        writer.add(owner, section, values)
        written += 1
    if writer.sheet is None and written == 0:
        writer.open_sheet(empty_owner)
        empty = sections.empty() if callable(sections.empty) else sections.empty
        if empty:
            writer.sheet.note(empty)
        writer.sheet.close()
        writer.sheet = None
        return 0
    writer.close_sheet()
    return written
