"""Exports of the person and household lists: CSV (streamed) and Excel (openpyxl write-only).

Both take the list's filtered, scoped queryset and the user, and mask ID numbers and phones for
every role (`households.masking` without `detail`): an export leaves the system, so it never
carries full identifiers, whoever asks.

CSV is streamed row by row. The response body is produced after the view has returned, when
the scope middleware has already reset the request's scope (and the connection's row-level
security setting), so the generator re-enters the scope that was active when the export was
asked for, and evaluates the queryset inside it with a server-side cursor.

Cells that a spreadsheet would read as a formula (text starting with =, +, -, @, tab or
carriage return: "CSV/formula injection") are neutralised: in Excel they are written as text
cells, in CSV (which has no cell types) behind a leading apostrophe."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from associations.scope import Scope, activate, current_scope, scope_filter

from . import masking
from .categories import age_shown, category_labels
from .figures import (
    NOTES,
    RATIO_COLUMNS,
    TABLE_COLUMNS,
    FiguresTable,
    Period,
    header_groups,
    label_lines,
    row_label,
    unit_heading,
)
from .models import Household, Person

CHUNK_SIZE = 2000
CSV_BATCH = 200  # rows per chunk of the streamed body
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE_STEM, HOUSEHOLDS_STEM = "人员名单", "家庭户名单"
ASCII_STEMS = {PEOPLE_STEM: "people", HOUSEHOLDS_STEM: "households"}


@dataclass(frozen=True)
class Column:
    header: str
    width: int  # Excel column width, in characters
    value: Callable  # (row object, user, today) -> str | int | date | None


def _name(node) -> str:
    return node.name if node is not None else ""


def _labels(values) -> str:
    return "、".join(category_labels(values or []))


PERSON_COLUMNS = [
    Column("姓名", 10, lambda p, user, today: p.name),
    Column("性别", 6, lambda p, user, today: p.get_sex_display()),
    Column("出生日期", 12, lambda p, user, today: p.birth_date),
    Column("年龄", 6, lambda p, user, today: age_shown(p.birth_date, today)),
    Column("身份证号(脱敏)", 22, lambda p, user, today: masking.id_number_for(user, p.id_number)),
    Column("民族", 8, lambda p, user, today: p.get_ethnicity_display()),
    Column("联系电话(脱敏)", 16, lambda p, user, today: masking.phone_for(user, p.phone)),
    Column("住址", 28, lambda p, user, today: p.address),
    Column("乡镇(街道)", 14, lambda p, user, today: _name(p.township)),
    Column("村(社区)", 14, lambda p, user, today: _name(p.village)),
    Column("会员小组", 14, lambda p, user, today: _name(p.group)),
    Column("户编号", 10, lambda p, user, today: p.household.number if p.household_id else ""),
    Column("与户主关系", 10, lambda p, user, today: p.get_relation_to_head_display()),
    Column("婚姻状况", 8, lambda p, user, today: p.get_marital_status_display()),
    Column("户籍状态", 10, lambda p, user, today: p.get_residency_display()),
    Column(
        "家庭类别",
        24,
        lambda p, user, today: _labels(p.household.categories) if p.household_id else "",
    ),
    Column("是否去世", 8, lambda p, user, today: "已去世" if p.is_deceased else ""),
]

HOUSEHOLD_COLUMNS = [
    Column("户编号", 10, lambda h, user, today: h.number),
    Column("户主", 10, lambda h, user, today: h.head.name if h.head_id else ""),
    Column(
        "户主身份证号(脱敏)",
        22,
        lambda h, user, today: masking.id_number_for(user, h.head.id_number) if h.head_id else "",
    ),
    Column("乡镇(街道)", 14, lambda h, user, today: _name(h.township)),
    Column("村(社区)", 14, lambda h, user, today: _name(h.village)),
    Column("会员小组", 14, lambda h, user, today: _name(h.group)),
    Column("住址", 28, lambda h, user, today: h.address),
    Column("户籍状态", 10, lambda h, user, today: h.get_residency_display()),
    Column("联系电话(脱敏)", 16, lambda h, user, today: masking.phone_for(user, h.phone)),
    Column("成员数", 8, lambda h, user, today: h.member_count),
    Column("家庭类别", 24, lambda h, user, today: _labels(h.categories)),
    Column("幸福家庭类型", 24, lambda h, user, today: _labels(h.family_types)),
]


def _people(queryset: QuerySet[Person]) -> QuerySet[Person]:
    return queryset.select_related("township", "village", "group", "household")


def member_counts():
    """A correlated count of a household's members (evaluated only for the rows read)."""
    members = (
        Person.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(members, output_field=IntegerField()), Value(0))


def _households(queryset: QuerySet[Household]) -> QuerySet[Household]:
    return queryset.select_related("township", "village", "group", "head").annotate(
        member_count=member_counts()
    )


# --- cells -----------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    # Control characters (from old imports) are illegal in XLSX and useless in CSV.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = _clean_text(str(value))
    # CSV has no cell types: the apostrophe is the only way to stop Excel/WPS evaluating it.
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _row_values(obj, columns, user, today) -> list:
    return [column.value(obj, user, today) for column in columns]


# --- CSV ---------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(queryset: QuerySet, columns: list[Column], user, *, scope: Scope) -> Iterator[str]:
    """The CSV body, UTF-8 BOM first (so Excel detects the encoding), evaluated under `scope`
    with a server-side cursor in chunks of CHUNK_SIZE rows."""
    writer = csv.writer(_Echo())
    with activate(scope):
        scope_filter()  # refuse early if somehow no scope was given
        today = timezone.localdate()
        yield "\ufeff" + writer.writerow([c.header for c in columns])
        batch: list[str] = []
        for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
            values = _row_values(obj, columns, user, today)
            batch.append(writer.writerow([_csv_text(v) for v in values]))
            if len(batch) >= CSV_BATCH:
                yield "".join(batch)
                batch = []
        if batch:
            yield "".join(batch)


def _streaming_csv(
    queryset: QuerySet, columns: list[Column], user, filename: str, scope: Scope | None
) -> StreamingHttpResponse:
    scope = scope or current_scope()
    if scope is None:
        scope_filter()  # raises NoActiveScope: an export never runs unscoped
    response = StreamingHttpResponse(
        csv_lines(queryset, columns, user, scope=scope), content_type=CSV_CONTENT_TYPE
    )
    return attachment(response, filename)


def people_csv(
    queryset: QuerySet[Person], user, *, filename: str, scope: Scope | None = None
) -> StreamingHttpResponse:
    """Stream the persons as CSV. The scope defaults to the one active now (the request's)."""
    return _streaming_csv(_people(queryset), PERSON_COLUMNS, user, filename, scope)


def households_csv(
    queryset: QuerySet[Household], user, *, filename: str, scope: Scope | None = None
) -> StreamingHttpResponse:
    return _streaming_csv(_households(queryset), HOUSEHOLD_COLUMNS, user, filename, scope)


# --- Excel -------------------------------------------------------------------------------------

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _xlsx_cell(ws, value):
    """A cell for a write-only sheet. Text that Excel would take for a formula is written as
    a string cell (data_type "s") rather than prefixed: the value stays exactly what was
    recorded (a leading space or apostrophe would change the data and break matching when
    the sheet is imported back), and quotePrefix keeps Excel from turning it into a formula
    even when someone edits the cell."""
    if isinstance(value, str):
        value = _clean_text(value)
        if value.startswith(FORMULA_TRIGGERS):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
    return value


def xlsx_bytes(
    rows: Iterable, columns: list[Column], user, *, sheet_title: str, title: str
) -> bytes:
    """A workbook with a title row, a header row (frozen, repeated on every printed page),
    column widths and one row per object; landscape A4 for printing."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet_title)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    title_cell = WriteOnlyCell(ws, value=_clean_text(title))
    title_cell.font = TITLE_FONT
    ws.append([title_cell])
    headers = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        headers.append(cell)
    ws.append(headers)
    today = timezone.localdate()
    for obj in rows:
        ws.append([_xlsx_cell(ws, v) for v in _row_values(obj, columns, user, today)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def people_xlsx(queryset: QuerySet[Person], user, *, title: str) -> bytes:
    """Built in the request (inside its scope); rows are read in chunks, the sheet is
    written as it goes (openpyxl write-only)."""
    rows = _people(queryset).iterator(chunk_size=CHUNK_SIZE)
    return xlsx_bytes(rows, PERSON_COLUMNS, user, sheet_title=PEOPLE_STEM, title=title)


def households_xlsx(queryset: QuerySet[Household], user, *, title: str) -> bytes:
    rows = _households(queryset).iterator(chunk_size=CHUNK_SIZE)
    return xlsx_bytes(rows, HOUSEHOLD_COLUMNS, user, sheet_title=HOUSEHOLDS_STEM, title=title)


# --- responses ---------------------------------------------------------------------------------


def export_filename(stem: str, extension: str, day: datetime.date | None = None) -> str:
    """ "人员名单_20260315.csv"."""
    day = day or timezone.localdate()
    return f"{stem}_{day:%Y%m%d}.{extension}"


def attachment(response, filename: str):
    """Content-Disposition with an ASCII fallback name and the real (Chinese) name in RFC 5987
    form, which every current browser uses."""
    fallback = filename
    for stem, ascii_stem in ASCII_STEMS.items():
        fallback = fallback.replace(stem, ascii_stem)
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in fallback)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["Cache-Control"] = "no-store"  # personal data: keep it out of shared caches
    return response


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    return attachment(HttpResponse(content, content_type=XLSX_CONTENT_TYPE), filename)


# --- the figures table -------------------------------------------------------------------------

FIGURES_STEM = "人口统计"
ASCII_STEMS[FIGURES_STEM] = "figures"
THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right")
WRAPPED = Alignment(horizontal="left", vertical="top", wrap_text=True)
NOTE_FONT = Font(size=9)
WARNING_FONT = Font(bold=True, color="9C5700")
STUB_WIDTH, COUNT_WIDTH, RATIO_WIDTH = 14, 6.5, 8


def figures_filename(node, period: Period) -> str:
    """ "人口统计_某某村_2026-Q1.xlsx" (characters a file name cannot hold are dropped)."""
    name = "".join(c for c in node.name if c not in '\\/:*?"<>|')
    return f"{FIGURES_STEM}_{name}_{period.key}.xlsx"


def figures_xlsx(table: FiguresTable, *, made_on: datetime.date, period_notes: list[str]) -> bytes:
    """The figures table as the page shows it: a title row (node, period), the 制表 line, the
    period's notes (a past period is today's registry applied to it), the two-row header with
    merged group cells, a row per unit and the total, then the notes on definitions. Printed
    on A4 landscape fitted to the width, header rows repeated on every page; panes frozen
    below the header and right of the unit names."""
    node, period = table.node, table.period
    width = 1 + len(TABLE_COLUMNS)
    workbook = Workbook()
    ws = workbook.active
    ws.title = FIGURES_STEM
    at = 0  # the last row written

    def banner(text: str, font: Font | None = None, height: float | None = None) -> Cell:
        nonlocal at
        at += 1
        ws.merge_cells(start_row=at, end_row=at, start_column=1, end_column=width)
        cell = ws.cell(row=at, column=1, value=_clean_text(text))
        cell.alignment = WRAPPED
        if font is not None:
            cell.font = font
        if height is not None:
            ws.row_dimensions[at].height = height
        return cell

    banner(f"{node.name}人口统计表({period.label})", TITLE_FONT, 24).alignment = CENTRED
    banner(
        f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}    "
        f"制表日期:{made_on:%Y-%m-%d}    数据来源:本系统登记数据"
    )
    for note in period_notes:
        banner(note, WARNING_FONT, 30)

    top = at + 1
    _figures_header(ws, top, unit_heading(node))
    at = top + 1
    lines = [(row_label(row, node), row) for row in table.rows]
    for label, row in [*lines, ("合计", table.total)]:
        at += 1
        *counts, ratio, per_100 = row.cells()
        values = [label, *counts, ratio, "—" if per_100 is None else float(per_100)]
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=at, column=column, value=value)
            cell.border = GRID
            if column > 1:
                cell.alignment = RIGHT
            if row is table.total:
                cell.font = HEADER_FONT
        ws.cell(row=at, column=width).number_format = "0.0"

    at += 1  # a blank row before the notes
    banner("口径说明", HEADER_FONT)
    for note in NOTES:
        banner(note, NOTE_FONT, 26)

    ws.column_dimensions["A"].width = STUB_WIDTH
    for index, item in enumerate(TABLE_COLUMNS, start=2):
        ws.column_dimensions[get_column_letter(index)].width = (
            RATIO_WIDTH if item in RATIO_COLUMNS else COUNT_WIDTH
        )
    ws.freeze_panes = ws.cell(row=top + 2, column=2)
    ws.print_title_rows = f"{top}:{top + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页,共 &N 页"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _figures_header(ws, top: int, heading: str) -> None:
    """Rows `top` and `top + 1`: the unit column merged over both, each group's cell merged
    over its columns, the columns' own labels below."""
    ws.merge_cells(start_row=top, end_row=top + 1, start_column=1, end_column=1)
    ws.cell(row=top, column=1, value="\n".join(label_lines(heading)))
    column = 2
    for group in header_groups():
        last = column + group.span - 1
        ws.merge_cells(start_row=top, end_row=top, start_column=column, end_column=last)
        ws.cell(row=top, column=column, value=group.label)
        for offset, item in enumerate(group.columns):
            ws.cell(row=top + 1, column=column + offset, value="\n".join(label_lines(item.label)))
        column = last + 1
    for row in ws.iter_rows(min_row=top, max_row=top + 1, max_col=column - 1):
        for cell in row:
            cell.font, cell.fill, cell.alignment, cell.border = (
                HEADER_FONT,
                HEADER_FILL,
                CENTRED,
                GRID,
            )
    ws.row_dimensions[top + 1].height = 30  # two lines: 户籍/人口, 三孩/及以上
