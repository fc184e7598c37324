"""The workbooks an import writes: the error workbook (the upload with the bad cells red and
commented, plus the list of problems) and the blank template of a kind.

Formula safety: every text cell either writes, the user's own cells included, is stored as
text with Excel's quote prefix, so no spreadsheet evaluates "=HYPERLINK(…)", "+86 138…", "-"
or "@x" as a formula, now or after the cell is edited."""

from __future__ import annotations

import datetime
import decimal
import io
from collections.abc import Iterable
from dataclasses import dataclass

from .columns import DUPLICATE, ColumnSpec, as_text, is_empty
from .reading import Table

RED_FILL_COLOR = "FFC7CE"
UNKNOWN_FILL_COLOR = "FFEB9C"  # Excel's "neutral" yellow: a note, not an error
CODE_FONT_COLOR = "808080"
DATE_FORMAT = "yyyy-mm-dd"
ERROR_AUTHOR = "计生协管理平台"
UNKNOWN_COLUMN_NOTE = "此列不是本模板的列,未导入。如需导入,请把列名改为模板中的列名。"
DUPLICATE_COLUMN_NOTE = "此列与第 {} 列是同一项,未导入。请删去其中一列。"
# Up to this many data rows the error workbook copies every row (it can be corrected and
# uploaded again as it is); a larger file's keeps the rows with problems, each at its own
# row number, so that writing it costs what its problems cost, not what the file does.
ALL_ROWS_UP_TO = 5000
ROWS_LEFT_OUT_NOTE = (
    "文件共有 {rows} 行数据,为便于查看,第一张表只保留了表头和有问题的 {kept} 行(行号与原文件一致)。"
    "请在原文件中改正这些行后重新上传。"
)


def text_cell(sheet, value: str):
    """A cell that holds text and is shown as text: never taken for a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _unknown_column_note(header: str) -> str:
    duplicate = DUPLICATE.search(header)
    return DUPLICATE_COLUMN_NOTE.format(duplicate.group(1)) if duplicate else UNKNOWN_COLUMN_NOTE


def _cell_text(value) -> str:
    """A cell of a text column as the text Excel showed: a number stored for an ID number
    (1.30534197503020E+17) as its digits, never in scientific notation."""
    if isinstance(value, float) and value.is_integer():
        return str(int(decimal.Decimal(repr(value))))
    return as_text(value)


def _written_value(value, *, text: bool):
    """What the error workbook writes for a cell of the upload, and its number format."""
    if value is None or value == "":
        return None, None
    if text:
        return _cell_text(value), "@"
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date(), DATE_FORMAT  # a roster's dates have no time of day
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value, DATE_FORMAT
    if isinstance(value, float) and value.is_integer():
        return int(value), None  # the reader gives every number as a float
    return value, None


def _problem_rows(table: Table, raw: list, problems: list[dict]) -> list[int]:
    """The row numbers the sheet keeps: every row of a small file; otherwise the title rows,
    the header and the rows with problems."""
    if len(raw) - table.header_row <= ALL_ROWS_UP_TO:
        return list(range(1, len(raw) + 1))
    kept = {p.get("row") or 0 for p in problems} - {0}
    head = range(1, table.header_row + 1)
    return [*head, *sorted(r for r in kept if table.header_row < r <= len(raw))]


def _cells_by_problem(table: Table, problems: list[dict]) -> dict[tuple[int, int], list[str]]:
    by_cell: dict[tuple[int, int], list[str]] = {}
    for problem in problems:
        row = problem.get("row") or 0
        column = table.columns.get(problem.get("field") or "")
        if row <= 0 or (column is None and row <= table.header_row):
            continue  # about the file (its columns): listed, and marked on the headers
        by_cell.setdefault((row, column or 0), []).append(
            f"{problem['message']}({problem['code']})"
        )
    return by_cell


def build_error_workbook(
    table: Table,
    raw: list,
    problems: list[dict],
    *,
    code_labels,
    text_columns: Iterable[int] = (),
    masks: dict | None = None,
) -> bytes:
    """The uploaded sheet, row for row and column for column (so row numbers match the
    messages), with every cell that has a problem filled red and carrying a comment that
    says what is wrong, the header of every column that is not imported marked, the title
    rows merged as they were, text columns (the ID number) written as text and dates as
    dates; then a sheet listing all problems, the message first. A large file keeps only
    its rows with problems (see ALL_ROWS_UP_TO). `masks`: column index -> the mask applied
    to that column's data cells (the error workbook of a user who may not see full numbers)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor=RED_FILL_COLOR)
    unknown_fill = PatternFill("solid", fgColor=UNKNOWN_FILL_COLOR)
    bold = Font(bold=True)
    by_cell = _cells_by_problem(table, problems)
    unknown = {index: _unknown_column_note(text) for index, text in table.unknown_columns}
    text_columns = set(text_columns)
    numbers = _problem_rows(table, raw, problems)
    rows = [(n, raw[n - 1]) for n in numbers]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.sheet_title[:31] or "导入数据")
    for ref in table.title_merges:
        sheet.merged_cells.add(ref)
    # Column widths precede the rows: wide enough for 18 digits, and for a date (not ###).
    for index in text_columns:
        sheet.column_dimensions[get_column_letter(index + 1)].width = 21
    dates = {
        i
        for n, row in rows
        if n > table.header_row
        for i, v in enumerate(row)
        if isinstance(v, datetime.date)
    }
    for index in dates - text_columns:
        sheet.column_dimensions[get_column_letter(index + 1)].width = 12
    width = max((len(r) for _n, r in rows), default=0)
    written = 0
    for number, row in rows:
        while written < number - 1:  # the rows left out keep their place, empty
            sheet.append([])
            written += 1
        header = number == table.header_row
        cells = []
        for index in range(width):
            value = row[index] if index < len(row) else None
            text = index in text_columns and number > table.header_row
            value, number_format = _written_value(value, text=text)
            mask = masks.get(index) if masks and number > table.header_row else None
            if mask is not None and value not in (None, ""):
                value, number_format = mask(_cell_text(value)), None
            messages = by_cell.get((number, index))
            note = unknown.get(index) if header else None
            if not (messages or note or header or number_format or isinstance(value, str)):
                cells.append(value)
                continue
            cell = text_cell(sheet, value) if isinstance(value, str) else _plain(sheet, value)
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
        written = number
    data_rows = sum(1 for row in raw[table.header_row :] if not is_empty(row))
    left_out = len(numbers) < len(raw)
    note = ROWS_LEFT_OUT_NOTE.format(rows=data_rows, kept=len(numbers) - table.header_row)
    _problem_list(workbook, problems, code_labels, note=note if left_out else "")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    return WriteOnlyCell(sheet, value=value)


def _problem_list(workbook, problems: list[dict], code_labels, *, note: str = "") -> None:
    """The 问题清单 sheet: what is wrong, in Chinese, first; the stable code last, small and
    grey (it is for support)."""
    from openpyxl.styles import Font

    listing = workbook.create_sheet("问题清单")
    for letter, width in zip("ABCDE", (8, 16, 60, 22, 22), strict=True):
        listing.column_dimensions[letter].width = width
    bold, small = Font(bold=True), Font(size=9, color=CODE_FONT_COLOR)
    headers = [text_cell(listing, h) for h in ("行号", "列", "问题", "类别", "代码")]
    for cell in headers:
        cell.font = bold
    listing.append(headers)
    for problem in problems:
        code = text_cell(listing, problem["code"])
        code.font = small
        listing.append(
            [
                problem.get("row") or "",
                text_cell(listing, problem.get("column") or ""),
                text_cell(listing, problem["message"]),
                text_cell(listing, code_labels.get(problem["code"], "")),
                code,
            ]
        )
    if note:
        listing.append([])
        listing.append([None, None, text_cell(listing, note)])


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
    """A blank sheet to fill in: Chinese headers (required ones in red), one example row
    marked 示例 (the importer skips it while it is left as it is), ID and other code columns
    formatted as text, drop-downs for the columns with few allowed values, and a second sheet
    with the notes and every allowed value. Every text cell is quote-prefixed."""
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
    header_fill = PatternFill("solid", fgColor="FDE8E8")
    example_font = Font(italic=True, color="808080")
    positions = {c.key: i for i, c in enumerate(columns, 1)}
    for index, spec in enumerate(columns, 1):
        letter = get_column_letter(index)
        cell = _text(sheet.cell(row=1, column=index), spec.header)
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
        example_cell = sheet.cell(row=2, column=index)
        if example.get(spec.key):
            _text(example_cell, example[spec.key])
        example_cell.font = example_font
    if "id_number" in positions:
        sheet.column_dimensions[get_column_letter(positions["id_number"])].width = 22
    sheet.freeze_panes = "A2"
    # The allowed values, one column each, on the second sheet; drop-downs point at them.
    for column, allowed_values in enumerate(allowed, 1):
        title = _text(help_sheet.cell(row=1, column=column), allowed_values.title)
        title.font = Font(bold=True)
        for row, value in enumerate(allowed_values.values, 2):
            _text(help_sheet.cell(row=row, column=column), value)
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
    _text(help_sheet.cell(row=1, column=notes_column), "填写说明").font = Font(bold=True)
    for row, note in enumerate(notes, 2):
        _text(help_sheet.cell(row=row, column=notes_column), note)
    help_sheet.column_dimensions[get_column_letter(notes_column)].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(cell, value: str):
    """A template cell holding text, quote-prefixed (openpyxl would take "=…" for a formula)."""
    cell.value = value
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
