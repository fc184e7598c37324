"""Printable Excel sheets, for every app: declare a sheet (`Layout`: title, lines, header with
`Column`s and `Group`s, print setup), then stream its rows through a `SheetBook`
(`SheetWriter.row/heading/total/note`), or hand sorted rows to `write_sections` to cut them
into sheets and sections. Text safety (`looks_like_formula`, `csv_text`) lives in `text`."""

from .book import PROGRESS_EVERY, SheetBook, SheetWriter, scratch_folder
from .layout import DATE, PAGE_NUMBERS, TEXT, Column, Group, Layout, Line, PrintSetup
from .sections import Section, Sections, SectionTally, write_sections
from .text import FORMULA_TRIGGERS, cell_value, clean_text, csv_text, looks_like_formula

__all__ = [
    "DATE",
    "FORMULA_TRIGGERS",
    "PAGE_NUMBERS",
    "PROGRESS_EVERY",
    "TEXT",
    "Column",
    "Group",
    "Layout",
    "Line",
    "PrintSetup",
    "Section",
    "SectionTally",
    "Sections",
    "SheetBook",
    "SheetWriter",
    "cell_value",
    "clean_text",
    "csv_text",
    "looks_like_formula",
    "scratch_folder",
    "write_sections",
]
