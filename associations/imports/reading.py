"""Reading an uploaded sheet, once `checks.sniff` has found it safe: the first sheet with a
recognisable header, as records of cleaned cells keyed by column.

Workbooks are read with calamine (python-calamine): about a tenth of a second per 10,000 rows,
where openpyxl took close to two. Its values: text as str ("" for an empty cell), every number
as float (1.0, and 1.3053419900307e+17 for an ID number Excel stored as a number: flagged by
`is_numeric_id`, never guessed), dates as datetime.date (datetime.datetime when the format has
a time of day), booleans as bool. It ignores a sheet's declared dimension (some programs write
a wrong one, or none) and reads to the last cell. CSV is decoded as UTF-8 (with or without
the BOM Excel writes) or GB18030 (GBK and GB2312, what Chinese Excel writes by default).

Empty rows (Excel keeps formatted ones far below the data) are skipped, never a reason to
stop: data after a gap is still data. The physical-line cap (checks) bounds the work; the data
rows are capped by ``settings.IMPORT_MAX_ROWS``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from .checks import (
    CSV,
    EMPTY_FILE,
    FILE_TOO_LARGE,
    FILE_TYPE,
    MISSING_COLUMN,
    NO_HEADER,
    FileRefused,
    max_rows,
    sniff,
)
from .columns import (
    HEADER_SEARCH_ROWS,
    ColumnSpec,
    clean_cell,
    find_header,
    header_lookup,
    is_empty,
    is_numeric_id,
    map_columns,
)


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


@dataclass
class RawSheet:
    title: str
    rows: list  # every row from the first, as read (a row is a list or tuple of values)
    merged: list[str] = field(default_factory=list)  # merged ranges, "A1:H1"


# --- raw rows ---------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise FileRefused(FILE_TYPE, "文件不是文本格式的 CSV。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(FILE_TYPE, "无法识别 CSV 文件的文字编码,请另存为“CSV UTF-8”格式。")


def csv_rows(data: bytes) -> list[list[str]]:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise FileRefused(FILE_TYPE, f"CSV 文件格式有误:{error}") from error


def _broken_workbook() -> FileRefused:
    return FileRefused(
        FILE_TYPE, "工作簿已损坏或格式不受支持,无法读取。请用 Excel 重新另存为 .xlsx。"
    )


def _range_ref(start: tuple[int, int], end: tuple[int, int]) -> str:
    from openpyxl.utils import get_column_letter

    return (
        f"{get_column_letter(start[1] + 1)}{start[0] + 1}:"
        f"{get_column_letter(end[1] + 1)}{end[0] + 1}"
    )


def _workbook_sheets(data: bytes) -> Iterator[RawSheet]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        raise _broken_workbook() from error
    with workbook:
        for index, metadata in enumerate(workbook.sheets_metadata):
            if metadata.typ != SheetTypeEnum.WorkSheet:
                continue  # a chart sheet or a macro sheet holds no rows
            try:
                sheet = workbook.get_sheet_by_index(index)
                # From A1: row numbers must be the file's, also under empty title rows.
                rows = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges or []
            except (CalamineError, ValueError, OSError) as error:
                raise _broken_workbook() from error
            yield RawSheet(
                title=sheet.name, rows=rows, merged=[_range_ref(*pair) for pair in merged]
            )


def raw_sheets(data: bytes, file_type: str) -> Iterator[RawSheet]:
    """Each sheet's rows; CSV has one sheet."""
    if file_type == CSV:
        yield RawSheet(title="CSV", rows=csv_rows(data))
        return
    yield from _workbook_sheets(data)


def _rows_of(ref: str) -> tuple[int, int]:
    first, last = ref.split(":")
    return int("".join(c for c in first if c.isdigit())), int(
        "".join(c for c in last if c.isdigit())
    )


def title_merges(merged: list[str], header_row: int) -> list[str]:
    """The merged ranges that lie wholly above the header: the roster's title rows."""
    return [ref for ref in merged if _rows_of(ref)[1] < header_row]


# --- the table --------------------------------------------------------------------------------


def _locate(sheets: Iterator[RawSheet], columns: list[ColumnSpec], lookup: dict[str, str]):
    """The first sheet whose first rows hold a header: (sheet, index of the header row)."""
    for sheet in sheets:
        index = find_header(sheet.rows[:HEADER_SEARCH_ROWS], lookup)
        if index is not None:
            return sheet, index
    names = "、".join(spec.header for spec in columns if spec.required)
    raise FileRefused(
        NO_HEADER,
        f"在文件前 {HEADER_SEARCH_ROWS} 行中找不到表头。请使用下载的模板,表头至少应包含:{names}。",
    )


def _table_for(sheet: RawSheet, index: int, columns, lookup, file_type) -> Table:
    column_map, unknown = map_columns(sheet.rows[index], lookup)
    missing = [spec.header for spec in columns if spec.required and spec.key not in column_map]
    if missing:
        raise FileRefused(MISSING_COLUMN, f"缺少必需的列:{'、'.join(missing)}。")
    return Table(
        file_type=file_type,
        sheet_title=sheet.title,
        header_row=index + 1,
        headers=[str(clean_cell(v) or "") for v in sheet.rows[index]],
        columns=column_map,
        unknown_columns=unknown,
        title_merges=title_merges(sheet.merged, index + 1),
    )


def _open_table(data: bytes, file_type: str, columns: list[ColumnSpec]):
    sniff(data, file_type)
    lookup = header_lookup(columns)
    sheet, index = _locate(raw_sheets(data, file_type), columns, lookup)
    return sheet, _table_for(sheet, index, columns, lookup, file_type)


@dataclass
class Probe:
    table: Table  # without records
    rows_estimate: int | None  # None: unknown


def probe(data: bytes, file_type: str, columns: list[ColumnSpec]) -> Probe:
    """The checks for the upload request: safe, readable, has a header and the required
    columns. The row count is exact: the non-empty rows under the header."""
    sheet, table = _open_table(data, file_type, columns)
    estimate = sum(1 for row in sheet.rows[table.header_row :] if not is_empty(row))
    return Probe(table=table, rows_estimate=estimate)


def read_table(
    data: bytes,
    file_type: str,
    columns: list[ColumnSpec],
    *,
    id_key: str = "id_number",
    keep_raw: bool = False,
) -> tuple[Table, list]:
    """The first sheet with a recognisable header, as records. With ``keep_raw`` also every
    row of that sheet as read, up to the last one that is not empty (for the error
    workbook); otherwise that list is empty."""
    sheet, table = _open_table(data, file_type, columns)
    _read_records(table, sheet.rows, id_key=id_key)
    if not keep_raw:
        return table, []
    raw = sheet.rows
    end = len(raw)
    while end and is_empty(raw[end - 1]):
        end -= 1
    return table, raw[:end]


def _read_records(table: Table, rows: list, *, id_key: str) -> None:
    limit = max_rows()
    id_index = table.columns.get(id_key)
    items = list(table.columns.items())
    records = table.records
    for number in range(table.header_row + 1, len(rows) + 1):
        row = rows[number - 1]
        if is_empty(row):
            continue
        width = len(row)
        values = {}
        for key, i in items:
            value = row[i] if i < width else None
            if type(value) is str:
                value = value.strip() or None
            values[key] = value
        numeric = id_index is not None and id_index < width and is_numeric_id(row[id_index])
        records.append(Record(row_number=number, values=values, numeric_id=numeric))
        if len(records) > limit:
            raise FileRefused(
                FILE_TOO_LARGE, f"文件超过 {limit} 行数据的上限,请按村(社区)分成几个文件导入。"
            )
    if not records:
        raise FileRefused(EMPTY_FILE, "表头下面没有数据行。")
