"""What a sheet import reads, whatever the kind: column specs with the header variants people
write, matching a header row against them, and the parsing of one cell (text, dates, choices,
yes/no) into a value or a coded `CellError`; the generic row codes and their Chinese labels.

Normalisation: headers are compared after NFKC (full-width letters, digits and brackets become
ASCII), with spaces, asterisks and a trailing "(必填)"/"(选填)" removed, against each column's
known variants (身份证号 / 身份证号码 / 公民身份号码 …). Cell text is stripped (also of the
ideographic space and no-break spaces). A number Excel stored for a column of codes (an ID
number: 15 significant digits kept, the rest lost) is flagged, never guessed."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# --- generic row codes ------------------------------------------------------------------------

REQUIRED = "REQUIRED"
CHOICE_INVALID = "CHOICE_INVALID"
DATE_INVALID = "DATE_INVALID"
TOO_LONG = "TOO_LONG"
UNKNOWN_COLUMN = "UNKNOWN_COLUMN"  # a warning about the file, not an error of a row
DATABASE_ERROR = "DATABASE_ERROR"  # the database refused the write: nothing was written

GENERIC_CODES = {
    DATE_INVALID: "日期无效",
    REQUIRED: "必填项为空",
    CHOICE_INVALID: "不是可选的值",
    TOO_LONG: "内容过长",
    UNKNOWN_COLUMN: "有未导入的列",
    DATABASE_ERROR: "数据库拒绝写入",
}


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str  # the template's header
    variants: tuple[str, ...] = ()
    required: bool = False
    text: bool = False  # formatted as text in the template (numbers that are not amounts)
    help: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.variants)


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    column: str  # the column's header as written in the file
    code: str
    message: str
    field: str = ""  # the column's key (for placing the problem in the error workbook)

    def as_dict(self) -> dict:
        return {
            "row": self.row_number,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


class CellError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- headers ----------------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 10
MIN_HEADER_MATCHES = 3
DUPLICATE_NOTE = "(与第 {} 列重复)"
DUPLICATE = re.compile(re.escape(DUPLICATE_NOTE).replace(r"\{\}", r"(\d+)") + "$")
_HEADER_NOISE = re.compile(r"[\s*]|\((必填|选填|可选|必须填写)\)$")


def normalize_header(value) -> str:
    """ "＊身份证号码（必填） " -> "身份证号码" """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split()).replace("*", "")
    return _HEADER_NOISE.sub("", text)


def header_lookup(columns: Iterable[ColumnSpec]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for spec in columns:
        for name in spec.names:
            lookup.setdefault(normalize_header(name), spec.key)
    return lookup


def find_header(rows: list, lookup: dict[str, str]) -> int | None:
    """The index of the first row that looks like a header: at least 3 known column names,
    or 2 when the row holds only those."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [normalize_header(v) for v in row if clean_cell(v) is not None]
        keys = {lookup[t] for t in texts if t in lookup}
        if len(keys) >= MIN_HEADER_MATCHES or (len(keys) >= 2 and len(keys) == len(texts)):
            return index
    return None


def map_columns(header, lookup: dict[str, str]):
    """({column key: 0-based index}, [(index, header text) of the columns not imported])."""
    columns: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for index, value in enumerate(header):
        text = clean_cell(value)
        if text is None:
            continue
        key = lookup.get(normalize_header(text))
        if key is None:
            unknown.append((index, str(text)))
        elif key in columns:
            unknown.append((index, f"{text}{DUPLICATE_NOTE.format(columns[key] + 1)}"))
        else:
            columns[key] = index
    return columns, unknown


# --- cells ------------------------------------------------------------------------------------


def clean_cell(value):
    """Text stripped (also of U+3000 and no-break spaces), empty text as None, other values
    (numbers, dates, booleans) as they are."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def is_empty(row) -> bool:
    for value in row:
        if value is None:
            continue
        if type(value) is not str or value.strip():
            return False
    return True


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def is_numeric_id(value) -> bool:
    """Excel kept the code as a number: 15 significant digits at most, the rest is lost.
    In a CSV written by Excel such a cell reads 1.30534E+17."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_SCIENTIFIC.match(unicodedata.normalize("NFKC", value)))


def as_text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO, text NFKC-normalised."""
    if value is None:
        return ""
    if type(value) is str:  # the usual cell: read and cleaned already
        return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.isascii():  # already in NFKC form
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_MONTH_PATTERNS = [re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), re.compile(r"^(\d{4})(\d{2})$")]
EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_date(value, *, month_ok: bool = False) -> tuple[datetime.date, bool] | None:
    """(date, day_known) or None for an empty cell; CellError(DATE_INVALID) otherwise. Accepts
    Excel dates, Excel serial numbers, 2020-05-29, 2020/5/29, 2020.5.29, 20200529,
    2020年5月29日 and, with ``month_ok``, a year and month (1980.01, 1980年1月)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date(), True
    if isinstance(value, datetime.date):
        return value, True
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 80000:
        return EXCEL_EPOCH + datetime.timedelta(days=int(value)), True
    text = as_text(value)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(*map(int, match.groups())), True
            except ValueError:
                break
    if month_ok:
        for pattern in _MONTH_PATTERNS:
            match = pattern.match(text)
            if match and 1 <= int(match.group(2)) <= 12:
                return datetime.date(int(match.group(1)), int(match.group(2)), 1), False
    raise CellError(DATE_INVALID, f"“{text}”不是有效的日期,请写成 2020-05-29 的形式。")


def choice(value, values: dict, label: str):
    text = as_text(value)
    key = text.upper() if text.isascii() else text
    if key in values:
        return values[key]
    shown = "、".join(list(dict.fromkeys(values))[:12])
    raise CellError(CHOICE_INVALID, f"“{text}”不是有效的{label}。可填:{shown}。")


YES_NO = {
    "是": True,
    "否": False,
    "Y": True,
    "N": False,
    "YES": True,
    "NO": False,
    "√": True,
    "×": False,
    "1": True,
    "0": False,
    "TRUE": True,
    "FALSE": False,
}


def yes_no(value, label: str) -> bool:
    return choice(value, YES_NO, f"{label}(是/否)")


class RowReader:
    """One row's cells, parsed; problems collected instead of raised, so a row reports every
    bad cell at once. ``headers`` maps each column key to its header as the file writes it."""

    def __init__(self, row: dict, headers: dict[str, str], cache: dict | None = None):
        self.row = row
        self.headers = headers
        self.number = row["__row"]
        self.problems: list[RowProblem] = []
        # (column, value) -> what `parsed(..., cached=True)` gave for it, shared by the rows of
        # an import: a column of choices holds a handful of distinct values in 10,000 rows.
        self.cache = cache

    def header(self, key: str) -> str:
        return self.headers[key]

    def problem(self, key: str, code: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, self.header(key), code, message, key))

    def cell(self, key: str):
        return self.row.get(key)

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.row.get(key)
        text = "" if value is None else as_text(value)
        if not text and required:
            self.problem(key, REQUIRED, f"“{self.header(key)}”不能为空。")
        return text

    def limit(self, key: str, text: str, length: int) -> str:
        """The text, or "" with a TOO_LONG problem when it does not fit its field."""
        if len(text) > length:
            self.problem(
                key, TOO_LONG, f"“{self.header(key)}”最多 {length} 个字,这里有 {len(text)} 个。"
            )
            return ""
        return text

    def parsed(self, key: str, parser: Callable, *, required: bool = False, cached=False):
        """The cell parsed, or None (with its problem) when it is empty or does not parse.
        ``cached``: the parser gives the same for the same value (a choice, a date, not a
        list the caller changes), so each distinct value is parsed once per import."""
        value = self.row.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(key, REQUIRED, f"“{self.header(key)}”不能为空。")
            return None
        if cached and self.cache is not None:
            slot = (key, type(value), value)  # the type: 1, 1.0 and True are equal keys
            result = self.cache.get(slot, _NOT_PARSED)
            if result is _NOT_PARSED:
                try:
                    result = parser(value)
                except CellError as error:
                    result = error
                self.cache[slot] = result
        else:
            try:
                result = parser(value)
            except CellError as error:
                result = error
        if isinstance(result, CellError):
            self.problem(key, result.code, result.message)
            return None
        return result


_NOT_PARSED = object()
