"""Safe reading of uploaded rosters (.xlsx and .csv) into normalised rows.

Everything that can go wrong with the FILE (rather than with a row) is decided here, before
anything is stored or imported, and is reported as a `FileRefused` with a stable code and a
Chinese message:

- FILE_TOO_LARGE: more bytes than ``settings.IMPORT_MAX_BYTES`` (10 MB by default), or more
  data rows than ``settings.IMPORT_MAX_ROWS`` (50,000).
- FILE_TYPE: not .xlsx or .csv, an old .xls or encrypted workbook, a .xlsx that is not a zip
  with ``[Content_Types].xml``, a damaged workbook, a CSV in an unknown text encoding.
- MACRO_WORKBOOK: .xlsm/.xltm/.xlam, or a workbook carrying ``xl/vbaProject.bin`` or a
  macro-enabled content type whatever its name.
- ZIP_BOMB: the zip directory DECLARES more than 100 MB uncompressed, more than 100 times its
  compressed size, or an absurd number of parts. Checked before anything is decompressed;
  Python's zipfile never inflates past the declared size (a lie ends in a CRC error).
- XML_BOMB: entity declarations (billion laughs, external entities). openpyxl parses with
  defusedxml when it is installed (``openpyxl.xml.DEFUSEDXML``); we refuse to read workbooks
  if it is not, and map defusedxml's exceptions to this code.
- NO_HEADER: none of the first 10 rows of any sheet looks like a header (at least 3 known
  column names, or 2 when the row has only those), EMPTY_FILE: no data row under the header,
  MISSING_COLUMN: a required column is absent.

Normalisation: headers are compared after NFKC (full-width letters, digits and brackets become
ASCII), with spaces, asterisks and a trailing "(必填)"/"(选填)" removed, against each column's
known variants (身份证号 / 身份证号码 / 公民身份号码 …). Cell text is stripped (also of the
ideographic space and no-break spaces); digits are normalised later by each field's parser.
An ID number Excel stored as a NUMBER (or a CSV cell in scientific notation) is flagged: its
last digits are gone and are never guessed.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

# --- file-level codes -------------------------------------------------------------------------

FILE_TOO_LARGE = "FILE_TOO_LARGE"
FILE_TYPE = "FILE_TYPE"
MACRO_WORKBOOK = "MACRO_WORKBOOK"
ZIP_BOMB = "ZIP_BOMB"
XML_BOMB = "XML_BOMB"
NO_HEADER = "NO_HEADER"
EMPTY_FILE = "EMPTY_FILE"
MISSING_COLUMN = "MISSING_COLUMN"

FILE_CODES = {
    FILE_TOO_LARGE: "文件过大",
    FILE_TYPE: "文件类型不对或文件已损坏",
    MACRO_WORKBOOK: "含宏的工作簿",
    ZIP_BOMB: "压缩炸弹(解压后体积异常)",
    XML_BOMB: "XML 实体炸弹",
    NO_HEADER: "找不到表头",
    EMPTY_FILE: "没有数据行",
    MISSING_COLUMN: "缺少必需的列",
}

XLSX = "xlsx"
CSV = "csv"
MACRO_EXTENSIONS = {"xlsm", "xltm", "xlam", "xlsb"}
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024  # tiny files cannot hurt, whatever their ratio
MAX_ZIP_ENTRIES = 2000
HEADER_SEARCH_ROWS = 10
MIN_HEADER_MATCHES = 3
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 50_000))


class FileRefused(Exception):
    """The file as a whole cannot be imported. Nothing has been written."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"row": 0, "column": "", "field": "", "code": self.code, "message": self.message}


# --- columns and headers ----------------------------------------------------------------------


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


def clean_cell(value):
    """Text stripped (also of U+3000 and no-break spaces), empty text as None, other values
    (numbers, dates, booleans) as they are."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def is_numeric_id(value) -> bool:
    """Excel kept the ID number as a number: 15 significant digits at most, the rest is lost.
    In a CSV written by Excel such a cell reads 1.30534E+17."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_SCIENTIFIC.match(unicodedata.normalize("NFKC", value)))


# --- the table --------------------------------------------------------------------------------


@dataclass
class Record:
    row_number: int  # as Excel numbers it (1-based), so messages point at the right row
    values: dict[str, object]  # column key -> cleaned value (None when empty)
    numeric_id: bool = False


@dataclass
class Table:
    file_type: str
    sheet_title: str
    header_row: int  # 1-based
    headers: list[str]  # the header row as written
    columns: dict[str, int]  # column key -> 0-based index
    unknown_columns: list[tuple[int, str]]  # (0-based index, header text) not imported
    records: list[Record] = field(default_factory=list)
    title_merges: list[str] = field(default_factory=list)  # merged ranges above the header

    def header_text(self, key: str, default: str = "") -> str:
        index = self.columns.get(key)
        if index is None:
            return default
        return str(self.headers[index] or default).strip()


# --- sniffing ---------------------------------------------------------------------------------


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(name: str, size: int) -> str:
    """Before reading: size and name. Returns the file type (xlsx or csv)."""
    limit = max_bytes()
    if size > limit:
        raise FileRefused(
            FILE_TOO_LARGE,
            f"文件有 {size / 1024 / 1024:.1f} MB,超过了 {limit / 1024 / 1024:.0f} MB 的上限。"
            "请按村(社区)分成几个文件分别导入。",
        )
    if size == 0:
        raise FileRefused(EMPTY_FILE, "上传的文件是空的。")
    extension = extension_of(name)
    if extension in MACRO_EXTENSIONS:
        raise FileRefused(
            MACRO_WORKBOOK,
            "不接受含宏的工作簿(.xlsm 等)。请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后上传。",
        )
    if extension == "xls":
        raise FileRefused(
            FILE_TYPE, "不支持旧版 .xls 文件。请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后上传。"
        )
    if extension not in (XLSX, CSV):
        raise FileRefused(FILE_TYPE, "只能导入 .xlsx 或 .csv 文件,请使用下载的模板填写。")
    return extension


def sniff(data: bytes, file_type: str) -> None:
    """The content agrees with the name and is safe to hand to the parser."""
    if len(data) > max_bytes():
        check_upload(f"x.{file_type}", len(data))
    if data.startswith(OLE_SIGNATURE):
        raise FileRefused(
            FILE_TYPE,
            "这是旧版 .xls 文件或加了密码的工作簿。请去掉密码并“另存为”“Excel 工作簿(*.xlsx)”。",
        )
    if file_type == XLSX:
        _sniff_zip(data)
    elif data.startswith(b"PK\x03\x04"):
        raise FileRefused(
            FILE_TYPE, "文件扩展名是 .csv,内容却是 Excel 工作簿,请改为 .xlsx 后上传。"
        )


def _sniff_zip(data: bytes) -> None:
    if not data.startswith(b"PK"):
        raise FileRefused(FILE_TYPE, "文件不是有效的 .xlsx 工作簿(可能只是改了扩展名)。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise FileRefused(FILE_TYPE, "文件已损坏,不是有效的 .xlsx 工作簿。") from error
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        raise FileRefused(FILE_TYPE, "文件不是有效的 .xlsx 工作簿(缺少 [Content_Types].xml)。")
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused(ZIP_BOMB, f"工作簿包含 {len(entries)} 个部件,数量异常,已拒绝。")
    declared = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(
            ZIP_BOMB,
            f"工作簿解压后将有 {declared / 1024 / 1024:.0f} MB,超过 "
            f"{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB 的安全上限,疑似“压缩炸弹”,已拒绝。",
        )
    if declared >= RATIO_CHECK_FROM_BYTES and declared / compressed > MAX_COMPRESSION_RATIO:
        raise FileRefused(
            ZIP_BOMB,
            f"工作簿的压缩比异常(约 {declared // compressed} 倍),疑似“压缩炸弹”,已拒绝。",
        )
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused(
            MACRO_WORKBOOK,
            "工作簿中含有宏(VBA)。请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后上传。",
        )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content_types = archive.read("[Content_Types].xml")
    if b"macroEnabled" in content_types:
        raise FileRefused(
            MACRO_WORKBOOK,
            "这是启用宏的工作簿。请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后上传。",
        )


# --- raw rows ---------------------------------------------------------------------------------


def _xml_bomb() -> FileRefused:
    return FileRefused(
        XML_BOMB, "工作簿中含有 XML 实体声明(可能是“XML 炸弹”攻击),已拒绝。请重新另存后再上传。"
    )


def _broken_workbook(error: Exception | None = None) -> FileRefused:
    return FileRefused(
        FILE_TYPE, "工作簿已损坏或格式不受支持,无法读取。请用 Excel 重新另存为 .xlsx。"
    )


def _open_workbook(data: bytes):
    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:
        # Without defusedxml openpyxl would expand entities: refuse rather than risk it.
        raise FileRefused(XML_BOMB, "服务器未启用安全的 XML 解析(defusedxml),暂不能读取工作簿。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRefused:
        raise
    except Exception as error:  # zipfile, KeyError on missing parts, XML parse errors …
        # openpyxl wraps what the parser raised in a ValueError: look down the chain.
        if _caused_by(error, DefusedXmlException):
            raise _xml_bomb() from error
        raise _broken_workbook(error) from error


def _caused_by(error: BaseException | None, kind: type) -> bool:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _sheet_rows(sheet) -> Iterator[tuple]:
    from defusedxml import DefusedXmlException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from sheet.iter_rows(values_only=True)
    except FileRefused:
        raise
    except Exception as error:
        if _caused_by(error, DefusedXmlException):
            raise _xml_bomb() from error
        raise _broken_workbook(error) from error


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (which covers GBK and
    GB2312, what Chinese Excel writes by default)."""
    if b"\x00" in data[:4096]:
        raise FileRefused(FILE_TYPE, "文件不是文本格式的 CSV。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(FILE_TYPE, "无法识别 CSV 文件的文字编码,请另存为“CSV UTF-8”格式。")


def _csv_rows(data: bytes) -> Iterator[tuple]:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(row)
    except csv.Error as error:
        raise FileRefused(FILE_TYPE, f"CSV 文件格式有误:{error}") from error


@dataclass
class RawSheet:
    title: str
    rows: Iterator[tuple]
    max_row: int | None = None  # the sheet's declared dimension, if any
    part: str = ""  # the worksheet's part in the .xlsx zip


def raw_sheets(data: bytes, file_type: str) -> Iterator[RawSheet]:
    """Each sheet's rows, as iterators; CSV has one sheet."""
    if file_type == CSV:
        yield RawSheet(title="CSV", rows=_csv_rows(data))
        return
    workbook = _open_workbook(data)
    try:
        for sheet in workbook.worksheets:
            declared = sheet.max_row
            # Read to the real end: some programs write a wrong (too small) dimension.
            sheet.reset_dimensions()
            yield RawSheet(
                title=sheet.title,
                rows=_sheet_rows(sheet),
                max_row=declared,
                # Read-only worksheets do not read merged cells: the error workbook reads them
                # from the part itself (see merged_ranges).
                part=getattr(sheet, "_worksheet_path", "") or "",
            )
    finally:
        workbook.close()


_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref=\"([A-Z]+\d+:[A-Z]+\d+)\""
)


def merged_ranges(data: bytes, part: str) -> list[str]:
    """The merged ranges ("A1:H1") of a worksheet part. A plain search of the part: the
    element is unambiguous (cell text never holds a raw "<"), and the sheet has already been
    parsed safely by then."""
    if not part:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content = archive.read(part.lstrip("/"))
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    return [ref.decode("ascii") for ref in _MERGE_CELL.findall(content)]


def _rows_of(ref: str) -> tuple[int, int]:
    first, last = ref.split(":")
    return int(re.sub(r"\D", "", first)), int(re.sub(r"\D", "", last))


def title_merges(data: bytes, part: str, header_row: int) -> list[str]:
    """The merged ranges that lie wholly above the header: the roster's title rows."""
    return [ref for ref in merged_ranges(data, part) if _rows_of(ref)[1] < header_row]


# --- reading a table --------------------------------------------------------------------------


def _find_header(rows: list[tuple], lookup: dict[str, str]) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [normalize_header(v) for v in row if clean_cell(v) is not None]
        keys = {lookup[t] for t in texts if t in lookup}
        if len(keys) >= MIN_HEADER_MATCHES or (len(keys) >= 2 and len(keys) == len(texts)):
            return index
    return None


def _map_columns(header: tuple, lookup: dict[str, str]):
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


DUPLICATE_NOTE = "(与第 {} 列重复)"
_DUPLICATE = re.compile(re.escape(DUPLICATE_NOTE).replace(r"\{\}", r"(\d+)") + "$")


def _is_empty(row: tuple) -> bool:
    return all(clean_cell(v) is None for v in row)


def _locate(sheets: Iterator[RawSheet], columns: list[ColumnSpec], lookup: dict[str, str]):
    """The first sheet whose first rows hold a header: (sheet, rows read so far, index)."""
    for sheet in sheets:
        head: list[tuple] = []
        for row in sheet.rows:
            head.append(row)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        index = _find_header(head, lookup)
        if index is not None:
            return sheet, head, index
    names = "、".join(spec.header for spec in columns if spec.required)
    raise FileRefused(
        NO_HEADER,
        f"在文件前 {HEADER_SEARCH_ROWS} 行中找不到表头。请使用下载的模板,表头至少应包含:{names}。",
    )


def _table_for(sheet: RawSheet, head: list[tuple], index: int, columns, lookup, file_type):
    column_map, unknown = _map_columns(head[index], lookup)
    missing = [spec.header for spec in columns if spec.required and spec.key not in column_map]
    if missing:
        raise FileRefused(MISSING_COLUMN, f"缺少必需的列:{'、'.join(missing)}。")
    return Table(
        file_type=file_type,
        sheet_title=sheet.title,
        header_row=index + 1,
        headers=[str(clean_cell(v) or "") for v in head[index]],
        columns=column_map,
        unknown_columns=unknown,
    )


@dataclass
class Probe:
    table: Table  # without records
    rows_estimate: int | None  # None: unknown


def probe(data: bytes, file_type: str, columns: list[ColumnSpec]) -> Probe:
    """The cheap checks for the upload request: safe, readable, has a header and the required
    columns. Reads the first rows only; the row count is the sheet's declared dimension (or
    the CSV's line count), which may be missing or too high, never too low by much."""
    sniff(data, file_type)
    lookup = header_lookup(columns)
    sheets = raw_sheets(data, file_type)
    try:
        sheet, head, index = _locate(sheets, columns, lookup)
        table = _table_for(sheet, head, index, columns, lookup, file_type)
        if file_type == CSV:  # cheap to count exactly: the non-empty rows under the header
            rows = itertools.islice(_csv_rows(data), table.header_row, None)
            estimate = sum(1 for row in rows if not _is_empty(row))
        else:
            estimate = None if sheet.max_row is None else sheet.max_row - table.header_row
    finally:
        sheets.close()
    return Probe(table=table, rows_estimate=estimate)


def read_table(
    data: bytes,
    file_type: str,
    columns: list[ColumnSpec],
    *,
    id_key: str = "id_number",
    keep_raw: bool = False,
) -> tuple[Table, list[tuple]]:
    """The first sheet with a recognisable header, as records. With ``keep_raw`` also every
    row of that sheet as read (for the error workbook); otherwise that list is empty."""
    sniff(data, file_type)
    lookup = header_lookup(columns)
    sheets = raw_sheets(data, file_type)
    try:
        sheet, head, header_index = _locate(sheets, columns, lookup)
        table = _table_for(sheet, head, header_index, columns, lookup, file_type)
        raw = _read_records(table, head, sheet.rows, id_key=id_key, keep_raw=keep_raw)
        if keep_raw and file_type == XLSX:
            table.title_merges = title_merges(data, sheet.part, table.header_row)
    finally:
        sheets.close()
    return table, raw


def _read_records(table: Table, head, rest, *, id_key: str, keep_raw: bool) -> list[tuple]:
    raw: list[tuple] = []
    limit = max_rows()
    id_index = table.columns.get(id_key)
    items = list(table.columns.items())
    records = table.records
    # Empty rows (Excel keeps formatted ones far below the data) are skipped, never a reason
    # to stop: data after a gap is still data. The declared-size limit bounds the work.
    for number, row in enumerate(_chain(head, rest), 1):
        if keep_raw:
            raw.append(row)
        if number <= table.header_row or _is_empty(row):
            continue
        width = len(row)
        values = {key: clean_cell(row[i]) if i < width else None for key, i in items}
        numeric = id_index is not None and id_index < width and is_numeric_id(row[id_index])
        records.append(Record(row_number=number, values=values, numeric_id=numeric))
        if len(records) > limit:
            raise FileRefused(
                FILE_TOO_LARGE, f"文件超过 {limit} 行数据的上限,请按村(社区)分成几个文件导入。"
            )
    if not records:
        raise FileRefused(EMPTY_FILE, "表头下面没有数据行。")
    if keep_raw:
        while raw and _is_empty(raw[-1]):
            raw.pop()
    return raw


def _chain(head: list[tuple], rest: Iterator[tuple]) -> Iterator[tuple]:
    yield from head
    yield from rest


# --- values -----------------------------------------------------------------------------------


def as_text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO, text NFKC-normalised."""
    if value is None:
        return ""
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


# --- workbooks we write -----------------------------------------------------------------------

RED_FILL_COLOR = "FFC7CE"
UNKNOWN_FILL_COLOR = "FFEB9C"  # Excel's "neutral" yellow: a note, not an error
CODE_FONT_COLOR = "808080"
DATE_FORMAT = "yyyy-mm-dd"
ERROR_AUTHOR = "计生协管理平台"
UNKNOWN_COLUMN_NOTE = "此列不是本模板的列,未导入。如需导入,请把列名改为模板中的列名。"
DUPLICATE_COLUMN_NOTE = "此列与第 {} 列是同一项,未导入。请删去其中一列。"


def _safe_cell(sheet, value):
    """A cell whose text is never taken for a formula (=, +, -, @ at the start)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"
    return cell


def _unknown_column_note(header: str) -> str:
    duplicate = _DUPLICATE.search(header)
    return DUPLICATE_COLUMN_NOTE.format(duplicate.group(1)) if duplicate else UNKNOWN_COLUMN_NOTE


def _cell_text(value) -> str:
    """A cell of a text column as the text Excel showed: a number stored for an ID number
    (1.30534197503020E+17) as its digits, never in scientific notation."""
    if isinstance(value, float) and value.is_integer():
        return str(int(decimal.Decimal(repr(value))))
    return as_text(value)


def _written_value(value, *, text: bool):
    """What the error workbook writes for a cell of the upload, and its number format."""
    if value is None:
        return None, None
    if text:
        return _cell_text(value), "@"
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date(), DATE_FORMAT  # a roster's dates have no time of day
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value, DATE_FORMAT
    return value, None


def _date_columns(rows: list[tuple]) -> set[int]:
    return {i for row in rows for i, v in enumerate(row) if isinstance(v, datetime.date)}


def build_error_workbook(
    table: Table,
    raw: list[tuple],
    problems: list[dict],
    *,
    code_labels: dict[str, str],
    text_columns: Iterable[int] = (),
) -> bytes:
    """The uploaded sheet, row for row and column for column (so row numbers match the
    messages), with every cell that has a problem filled red and carrying a comment that
    says what is wrong, the header of every column that is not imported marked, the title
    rows merged as they were, text columns (the ID number) written as text and dates as
    dates; then a sheet listing all problems, the message first."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor=RED_FILL_COLOR)
    unknown_fill = PatternFill("solid", fgColor=UNKNOWN_FILL_COLOR)
    bold = Font(bold=True)
    by_cell: dict[tuple[int, int], list[str]] = {}
    for problem in problems:
        row = problem.get("row") or 0
        column = table.columns.get(problem.get("field") or "")
        if row <= 0 or (column is None and row <= table.header_row):
            continue  # about the file (its columns): listed, and marked on the headers
        by_cell.setdefault((row, column or 0), []).append(
            f"{problem['message']}({problem['code']})"
        )
    unknown = {index: _unknown_column_note(text) for index, text in table.unknown_columns}
    text_columns = set(text_columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.sheet_title[:31] or "导入数据")
    for ref in table.title_merges:
        sheet.merged_cells.add(ref)
    # Column widths precede the rows: wide enough for 18 digits, and for a date (not ###).
    for index in text_columns:
        sheet.column_dimensions[get_column_letter(index + 1)].width = 21
    for index in _date_columns(raw[table.header_row :]) - text_columns:
        sheet.column_dimensions[get_column_letter(index + 1)].width = 12
    width = max((len(r) for r in raw), default=0)
    for number, row in enumerate(raw, 1):
        header = number == table.header_row
        cells = []
        for index in range(width):
            value = row[index] if index < len(row) else None
            text = index in text_columns and number > table.header_row
            value, number_format = _written_value(value, text=text)
            messages = by_cell.get((number, index))
            note = unknown.get(index) if header else None
            if not (messages or note or header or number_format or isinstance(value, str)):
                cells.append(value)
                continue
            cell = _safe_cell(sheet, value)
            if number_format:
                cell.number_format = number_format
            if messages or note:
                cell.fill = fill if messages else unknown_fill
                comment = Comment("\n".join(messages or [note]), ERROR_AUTHOR)
                comment.width, comment.height = 320, 140
                cell.comment = comment
            if header:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    _problem_list(workbook, problems, code_labels)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _problem_list(workbook, problems: list[dict], code_labels: dict[str, str]) -> None:
    """The 问题清单 sheet: what is wrong, in Chinese, first; the stable code last, small and
    grey (it is for support)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    listing = workbook.create_sheet("问题清单")
    for letter, width in zip("ABCDE", (8, 16, 60, 22, 22), strict=True):
        listing.column_dimensions[letter].width = width
    bold, small = Font(bold=True), Font(size=9, color=CODE_FONT_COLOR)
    headers = [_safe_cell(listing, h) for h in ("行号", "列", "问题", "类别", "代码")]
    for cell in headers:
        cell.font = bold
    listing.append(headers)
    for problem in problems:
        code = WriteOnlyCell(listing, value=problem["code"])
        code.font = small
        listing.append(
            [
                problem.get("row") or "",
                _safe_cell(listing, problem.get("column") or ""),
                _safe_cell(listing, problem["message"]),
                _safe_cell(listing, code_labels.get(problem["code"], "")),
                code,
            ]
        )


@dataclass(frozen=True)
class AllowedValues:
    title: str
    values: list[str]
    key: str = ""  # the column whose cells may only take these values (a drop-down)


def build_template(
    *,
    sheet_title: str,
    columns: list[ColumnSpec],
    example: dict[str, str],
    allowed: list[AllowedValues],
    notes: list[str],
    rows: int = 2000,
) -> bytes:
    """A blank roster to fill in: Chinese headers (required ones in red), one example row
    marked 示例 (the importer skips it while it is left as it is), ID and other code columns
    formatted as text, drop-downs for the columns with few allowed values, and a second sheet
    with the notes and every allowed value."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    help_title = "填写说明及可选值"
    help_sheet = workbook.create_sheet(help_title)
    sheet.append([c.header for c in columns])
    sheet.append([example.get(c.key, "") or None for c in columns])
    header_fill = PatternFill("solid", fgColor="FDE8E8")
    example_font = Font(italic=True, color="808080")
    positions = {c.key: i for i, c in enumerate(columns, 1)}
    for index, spec in enumerate(columns, 1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="B42318" if spec.required else "1F2933")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        hint = ("必填。" if spec.required else "") + spec.help
        if hint:
            cell.comment = Comment(hint, ERROR_AUTHOR)
        sheet.column_dimensions[letter].width = max(10, len(spec.header) * 2 + 4)
        if spec.text:
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, rows + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        sheet.cell(row=2, column=index).font = example_font
    if "id_number" in positions:
        sheet.column_dimensions[get_column_letter(positions["id_number"])].width = 22
    sheet.freeze_panes = "A2"
    # The allowed values, one column each, on the second sheet; drop-downs point at them.
    for column, allowed_values in enumerate(allowed, 1):
        help_sheet.cell(row=1, column=column, value=allowed_values.title).font = Font(bold=True)
        for row, value in enumerate(allowed_values.values, 2):
            help_sheet.cell(row=row, column=column, value=value)
        help_sheet.column_dimensions[get_column_letter(column)].width = 18
        if allowed_values.key in positions:
            letter = get_column_letter(column)
            source = f"'{help_title}'!${letter}$2:${letter}${len(allowed_values.values) + 1}"
            validation = DataValidation(
                type="list",
                formula1=source,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="不是可选的值",
                error=f"请从下拉列表中选择{allowed_values.title}。",
            )
            target = get_column_letter(positions[allowed_values.key])
            validation.add(f"{target}2:{target}{rows + 1}")
            sheet.add_data_validation(validation)
    notes_column = len(allowed) + 2
    help_sheet.cell(row=1, column=notes_column, value="填写说明").font = Font(bold=True)
    for row, note in enumerate(notes, 2):
        help_sheet.cell(row=row, column=notes_column, value=note)
    help_sheet.column_dimensions[get_column_letter(notes_column)].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
