"""Text that leaves the system in a spreadsheet or a CSV file: what a cell can hold, and the
one rule for text a spreadsheet program could take for a formula or a DDE command ("CSV /
formula injection"): text starting with = + - @, a tab, a carriage return or a line feed.

In a workbook such text is written as a string cell with the quote prefix set (never as a
formula), so Excel, WPS and LibreOffice show it as it is and keep it text when it is edited.
CSV has no cell types: there a leading apostrophe is the only way to stop the evaluation."""

from __future__ import annotations

import datetime
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL_TEXT = 32767  # what Excel holds in one cell
TRUE_TEXT = "是"


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def clean_text(value: str) -> str:
    """Text as a cell can hold it: no XML-illegal control characters (old imports left some),
    at most 32,767 characters, line breaks as LF (an XML reader turns a raw CR into LF)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT]


def cell_value(value):
    """A value as a sheet cell stores it: None for blank (None, "", False), "是" for True,
    numbers and dates as they are, anything else as clean text."""
    if value is None or value == "" or value is False:
        return None
    if value is True:
        return TRUE_TEXT
    if isinstance(value, int | float | datetime.date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return clean_text(value if isinstance(value, str) else str(value))


def csv_text(value) -> str:
    """A CSV field: dates in ISO form, formula-like text behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if looks_like_formula(text) else text
