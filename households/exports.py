"""Exports of the person and household lists: CSV (streamed) and Excel (openpyxl write-only).

Both take the list's filtered, scoped queryset and the user, and mask ID numbers and phones for
every role (`households.masking` without `detail`): an export leaves the system, so it never
carries full identifiers, whoever asks.

CSV is streamed row by row. The response body is produced after the view has returned, when
the scope middleware has already reset the request's scope (and the connection's row-level
security setting), so the generator re-enters the scope that was active when the export was
asked for, and evaluates the queryset inside it with a server-side cursor.

Both Excel workbooks (the lists, the figures table) are declared on the shared sheet writer
(associations.sheets): merged title, header (the figures' under group labels), widths, A4
landscape print setup, streamed rows. Cells that a spreadsheet would read as a formula
("CSV/formula injection", associations.sheets.text) are neutralised: in Excel they are
written as text cells with the quote prefix, in CSV (which has no cell types) behind a
leading apostrophe."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils import timezone

from associations import sheets
from associations.scope import Scope, activate, current_scope, scope_filter
from associations.sheets.responses import ascii_stem, attachment

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
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PEOPLE_STEM, HOUSEHOLDS_STEM = "人员名单", "家庭户名单"
ascii_stem(PEOPLE_STEM, "people")
ascii_stem(HOUSEHOLDS_STEM, "households")


@dataclass(frozen=True)
class Column:
    header: str
    width: int  # Excel column width, in characters
    value: Callable  # (row object, user, today) -> str | int | date | None
    align: sheets.layout.Align = "center"
    number_format: str | None = None
    text: bool = False  # numbers with leading zeros, ID numbers, phones

    @property
    def sheet_column(self) -> sheets.Column:
        return sheets.Column(self.header, self.width, self.align, self.number_format, self.text)


def _name(node) -> str:
    return node.name if node is not None else ""


def _labels(values) -> str:
    return "、".join(category_labels(values or []))


PERSON_COLUMNS = [
    Column("姓名", 10, lambda p, user, today: p.name),
    Column("性别", 6, lambda p, user, today: p.get_sex_display()),
    Column("年龄", 6, lambda p, user, today: age_shown(p.birth_date, today)),
    Column(
        "身份证号(脱敏)",
        22,
        lambda p, user, today: masking.id_number_for(user, p.id_number),
        text=True,
    ),
    Column("民族", 8, lambda p, user, today: p.get_ethnicity_display()),
    Column(
        "联系电话(脱敏)", 16, lambda p, user, today: masking.phone_for(user, p.phone), text=True
    ),
    Column("住址", 28, lambda p, user, today: p.address, "left"),
    Column("乡镇(街道)", 14, lambda p, user, today: _name(p.township)),
    Column("村(社区)", 14, lambda p, user, today: _name(p.village)),
    Column("会员小组", 14, lambda p, user, today: _name(p.group)),
    Column(
        "户编号",
        10,
        lambda p, user, today: p.household.number if p.household_id else "",
        text=True,
    ),
    Column("与户主关系", 10, lambda p, user, today: p.get_relation_to_head_display()),
    Column("婚姻状况", 8, lambda p, user, today: p.get_marital_status_display()),
    Column("户籍状态", 10, lambda p, user, today: p.get_residency_display()),
    Column(
        "家庭类别",
        24,
        lambda p, user, today: _labels(p.household.categories) if p.household_id else "",
        "left",
    ),
    Column("是否去世", 8, lambda p, user, today: "已去世" if p.is_deceased else ""),
]

HOUSEHOLD_COLUMNS = [
    Column("户编号", 10, lambda h, user, today: h.number, text=True),
    Column("户主", 10, lambda h, user, today: h.head.name if h.head_id else ""),
    Column(
        "户主身份证号(脱敏)",
        22,
        lambda h, user, today: masking.id_number_for(user, h.head.id_number) if h.head_id else "",
        text=True,
    ),
    Column("乡镇(街道)", 14, lambda h, user, today: _name(h.township)),
    Column("村(社区)", 14, lambda h, user, today: _name(h.village)),
    Column("会员小组", 14, lambda h, user, today: _name(h.group)),
    Column("住址", 28, lambda h, user, today: h.address, "left"),
    Column("户籍状态", 10, lambda h, user, today: h.get_residency_display()),
    Column(
        "联系电话(脱敏)", 16, lambda h, user, today: masking.phone_for(user, h.phone), text=True
    ),
    Column("成员数", 8, lambda h, user, today: h.member_count),
    Column("家庭类别", 24, lambda h, user, today: _labels(h.categories), "left"),
    Column("幸福家庭类型", 24, lambda h, user, today: _labels(h.family_types), "left"),
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
            batch.append(writer.writerow([sheets.csv_text(v) for v in values]))
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


def xlsx_bytes(
    rows: Iterable, columns: list[Column], user, *, sheet_title: str, title: str
) -> bytes:
    """A workbook with a title row, a header row (frozen, repeated on every printed page),
    column widths and one row per object; landscape A4 for printing."""
    layout = sheets.Layout(
        title=title,
        header=[column.sheet_column for column in columns],
        repeat_title=False,
    )
    today = timezone.localdate()
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout, name=sheet_title)
        for obj in rows:
            sheet.row(_row_values(obj, columns, user, today))
        sheet.close()
        return _saved(book)


def _saved(book: sheets.SheetBook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
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


# --- the figures table -------------------------------------------------------------------------

FIGURES_STEM = "人口统计"
ascii_stem(FIGURES_STEM, "figures")
STUB_WIDTH, COUNT_WIDTH, RATIO_WIDTH = 14, 6.5, 8


def figures_filename(node, period: Period) -> str:
    """ "人口统计_某某村_2026-Q1.xlsx" (characters a file name cannot hold are dropped)."""
    name = "".join(c for c in node.name if c not in '\\/:*?"<>|')
    return f"{FIGURES_STEM}_{name}_{period.key}.xlsx"


def _wrapped(label: str) -> str:
    return "\n".join(label_lines(label))


def figures_layout(table: FiguresTable, *, made_on: datetime.date, period_notes: list[str]):
    """The figures table's sheet: a title row (node, period), the 制表 line, the period's
    notes (a past period is today's registry applied to it), the two-row header with each
    group's label over its columns. The header rows repeat on every printed page; panes
    are frozen below the header and right of the unit names."""
    node, period = table.node, table.period
    last = TABLE_COLUMNS[-1]
    groups = [
        sheets.Group(
            group.label,
            [
                sheets.Column(
                    _wrapped(item.label),
                    RATIO_WIDTH if item in RATIO_COLUMNS else COUNT_WIDTH,
                    "right",
                    number_format="0.0" if item is last else None,
                )
                for item in group.columns
            ],
        )
        for group in header_groups()
    ]
    return sheets.Layout(
        title=f"{node.name}人口统计表({period.label})",
        title_height=24,
        lines=[
            sheets.Line(
                f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}    "
                f"制表日期:{made_on:%Y-%m-%d}    数据来源:本系统登记数据"
            ),
            *(sheets.Line(note, style="warning", height=30) for note in period_notes),
        ],
        header=[sheets.Column(_wrapped(unit_heading(node)), STUB_WIDTH, "left"), *groups],
        header_height=None,
        repeat_title=False,
        frozen_columns=1,
    )


def figures_xlsx(table: FiguresTable, *, made_on: datetime.date, period_notes: list[str]) -> bytes:
    """The figures table as the page shows it (`figures_layout`): a row per unit, the total,
    then the notes on definitions under a blank row."""
    node = table.node
    layout = figures_layout(table, made_on=made_on, period_notes=period_notes)
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout, name=FIGURES_STEM)
        for row in table.rows:
            sheet.row(_figure_values(row_label(row, node), row))
        sheet.total(_figure_values("合计", table.total))
        sheet.blank()
        sheet.note("口径说明", style="remark_title")
        for note in NOTES:
            sheet.note(note, style="remark", height=26)
        sheet.close()
        return _saved(book)


def _figure_values(label: str, row) -> list:
    *counts, ratio, per_100 = row.cells()
    return [label, *counts, ratio, "—" if per_100 is None else float(per_100)]
