"""Printable rosters (花名册) as Excel files, and the export jobs that produce them.

Every roster is an openpyxl **write-only** workbook (rows stream to disk, memory stays flat)
whose sheets print as they are: a merged title row "<协会>计划生育协会<花名册>", a line with
制表单位 and 制表日期, the header row, column widths, panes frozen below the header, A4
landscape fitted to one page wide, the three top rows repeated on every printed page, page
numbers in the footer and thin borders round every cell.

Layout of the rosters kept per member group (members, contact households): a village or a
group gets ONE sheet, each group a section under a heading row ("第一会员小组 组长:… 共 12 人").
A township or the county gets ONE SHEET PER VILLAGE, each with its own title and page numbers.
A village roster is a document a secretary files; a township's or county's is a stack of
village rosters, and this way each village prints as its own document (first page with its
own title, "第 1 页 共 N 页"), instead of one 50,000-row sheet of a thousand pages with the
villages running into each other.

Personal data: ID numbers and phones are masked (households.identity) unless the job carries
`full_identity`, which the request only sets for a role that `sees_full_identity` and asked.
Text that a spreadsheet could take for a formula (starting with = + - @, tab or CR) is always
written as a string cell with the quote prefix set, never as a formula.

Queries: one per roster body, streamed with `.iterator(chunk_size=2000)` and joined with
select_related, plus a fixed handful of lookups; never one per row.

Speed: openpyxl spends most of a build making and serialising a cell object per value. Here
openpyxl still makes the package, the styles, the print setup and the merged ranges, but each
row is serialised to sheet XML by `RosterSheet._write` (`_cell_xml`: inline strings, numbers,
date serials, the workbook's style ids) and handed to the sheet's stream as it is
(`_StreamingSheet`, `_RowWriter`). This leans on openpyxl 3.1 and et_xmlfile 2.0 internals
(both pinned in requirements.lock) and the tests read every roster back with openpyxl, so an
upgrade that breaks it fails loudly. `manage.py benchmark_rosters` measures a county-wide
build beside xlsxwriter's constant_memory mode.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from django.db.models import Count, Exists, F, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import fromstring as xml_fromstring

from associations.models import Association, Council, CouncilSeat, Job, Level
from associations.selectors import current_council
from households import identity
from households.categories import age_shown
from households.masking import sees_full_identity
from households.models import ETHNICITIES, Sex

from .models import (
    ContactHousehold,
    ElderKind,
    GroupRole,
    Member,
    MemberCategory,
    SeatHolder,
    VolunteerMembership,
)

logger = logging.getLogger(__name__)

CHUNK = 2000
PROGRESS_EVERY = 1000
EXPORTS_DIR = "exports"
XLSX = ".xlsx"

SEX_LABELS = dict(Sex.choices)
ETHNICITY_LABELS = dict(ETHNICITIES)
CATEGORY_LABELS = dict(MemberCategory.choices)
ELDER_KIND_LABELS = dict(ElderKind.choices)
NO_GROUP = "未编入小组"

# Text a spreadsheet program could read as a formula or a DDE command (CR is stored as LF).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


# --- the printable sheet ---------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MIDDLE = "center"


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    align: str = "center"  # "center", "left" or "date"


class _SheetRow(tuple):
    """A row already serialised as sheet XML (`<row r="5">…</row>`): `(xml,)`."""


class _RowWriter(WorksheetWriter):
    """openpyxl's sheet writer, which passes a `_SheetRow` to the stream as it is. Building
    an element per cell and serialising it is most of a large roster's time; a row is one
    string instead (`RosterSheet._write`)."""

    def write_row(self, xf, row, row_idx):
        if isinstance(row, _SheetRow):
            _write_raw(xf, row[0])
        else:
            super().write_row(xf, row, row_idx)

    def write_merged_cells(self):
        """The sheet's merged ranges, kept as "A5:L5" strings (a county roster has thousands
        of section headings; openpyxl would make a CellRange object of each)."""
        ranges = self.ws.merged_ranges
        if not ranges:
            return
        merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in ranges)
        _write_raw(self.xf.send(True), f'<mergeCells count="{len(ranges)}">{merges}</mergeCells>')
        self.xf.send(None)


def _write_raw(xf, xml: str) -> None:
    if hasattr(xf, "_file"):  # et_xmlfile, openpyxl's writer without lxml
        xf._file(xml)
    else:  # lxml's xmlfile takes elements only
        xf.write(xml_fromstring(xml))


class _StreamingSheet(WriteOnlyWorksheet):
    """A write-only worksheet fed with serialised rows (`_SheetRow`): openpyxl's own `append`
    binds every value to a cell and, for each styled cell, raises and catches a ValueError."""

    def __init__(self, parent, title):
        super().__init__(parent, title)
        self.merged_ranges: list[str] = []

    def _get_writer(self):
        if self._writer is None:
            self._writer = _RowWriter(self)
            self._writer.write_top()

    def _values_to_row(self, values, row_idx):
        return values


def safe_text(value: str) -> str:
    """Text as a cell can hold it: no XML-illegal control characters, at most 32,767 chars,
    line breaks as LF (an XML reader turns a raw CR into LF anyway)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return text[:32767]


def _cell_xml(reference: str, style: int, value) -> str:
    """One cell as openpyxl would write it: text as an inline string (never a formula, never
    an error value), numbers and dates (as serial numbers) as numbers, no value as blank."""
    if value is None or value == "" or value is False:
        return f'<c r="{reference}" s="{style}"/>'
    if value is True:
        value = "是"
    if isinstance(value, int | float):
        return f'<c r="{reference}" s="{style}" t="n"><v>{value!r}</v></c>'
    if isinstance(value, datetime.date):
        return f'<c r="{reference}" s="{style}" t="n"><v>{to_excel(value)}</v></c>'
    text = safe_text(value if isinstance(value, str) else str(value))
    space = ' xml:space="preserve"' if text != text.strip() and text.strip() else ""
    content = f"<is><t{space}>{xml_escape(text)}</t></is>"
    return f'<c r="{reference}" s="{style}" t="inlineStr">{content}</c>'


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


class RosterSheet:
    """One printable sheet: title, 制表单位/制表日期, header, then data and heading rows."""

    TITLE_ROWS = 3  # title, the 制表 line, the header: repeated on every printed page

    def __init__(self, book: RosterBook, *, name: str, title: str, columns: list[Column]):
        self.book = book
        self.columns = columns
        self.width = len(columns)
        self.rows_written = 0
        ws = _StreamingSheet(book.workbook, name)
        book.workbook._add_sheet(ws)
        self.ws = ws
        self._row = 0
        self._setup_print(ws)
        self._styles = self._style_ids()
        self._letters = [get_column_letter(i + 1) for i in range(self.width)]
        last = self._letters[-1]
        split = max(1, self.width // 2)
        ws.merged_ranges += [
            f"A1:{last}1",
            f"A2:{get_column_letter(split)}2",
            f"{get_column_letter(split + 1)}2:{last}2",
        ]
        self._write(self._across("title", title), height=30)
        info = [
            (self._styles["info" if i < split else "info_right", i], None)
            for i in range(self.width)
        ]
        info[0] = (info[0][0], f"制表单位:{book.made_by}")
        info[split] = (info[split][0], f"制表日期:{chinese_date(book.made_on)}")
        self._write(info, height=20)
        self._write(
            [(self._styles["header", i], c.header) for i, c in enumerate(columns)], height=22
        )

    def _setup_print(self, ws: WriteOnlyWorksheet) -> None:
        # Everything written before the first row (widths, views, fit-to-page) goes here.
        for index, column in enumerate(self.columns, 1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = f"A{self.TITLE_ROWS + 1}"
        ws.print_title_rows = f"1:{self.TITLE_ROWS}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages tall as needed
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins = PageMargins(
            left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3
        )
        ws.oddFooter.center.text = "第 &P 页 共 &N 页"
        ws.oddFooter.center.size = 9

    def _style_ids(self) -> dict[tuple[str, int], int]:
        """The workbook's style id of each (style, column), registered once per column
        layout: a county roster has hundreds of sheets with the same columns."""
        key = tuple(self.columns)
        ids = self.book._style_ids.get(key)
        if ids is None:
            ids = {name: cell.style_id for name, cell in self._styled_cells().items()}
            self.book._style_ids[key] = ids
        return ids

    def _styled_cells(self) -> dict:
        wrap = {"wrap_text": True, "vertical": MIDDLE}
        styles = {
            "title": {"font": Font(size=16, bold=True), "alignment": Alignment("center", MIDDLE)},
            "info": {"font": Font(size=10), "alignment": Alignment("left", MIDDLE)},
            "info_right": {"font": Font(size=10), "alignment": Alignment("right", MIDDLE)},
            "header": {
                "font": Font(bold=True),
                "alignment": Alignment("center", **wrap),
                "border": BORDER,
                "fill": PatternFill("solid", fgColor="D9D9D9"),
            },
            "heading": {
                "font": Font(bold=True),
                "alignment": Alignment("left", MIDDLE),
                "border": BORDER,
                "fill": PatternFill("solid", fgColor="F2F2F2"),
            },
            "note": {"alignment": Alignment("left", MIDDLE), "border": BORDER},
        }
        cells: dict = {}
        for name, style in styles.items():
            for index in range(self.width):
                cells[name, index] = self._cell(style)
        for index, column in enumerate(self.columns):
            horizontal = "left" if column.align == "left" else "center"
            # Shrink rather than wrap: spreadsheet programs do not grow the rows of a
            # streamed sheet, and wrapped text would spill over the neighbouring rows.
            fit = Alignment(horizontal, vertical=MIDDLE, shrink_to_fit=True)
            base = {"alignment": fit, "border": BORDER}
            cells["data", index] = self._cell(
                base, number_format="yyyy-mm-dd" if column.align == "date" else None
            )
            cells["quoted", index] = self._cell(base, quote=True)
        return cells

    def _cell(self, style: dict, *, number_format=None, quote=False) -> Cell:
        cell = Cell(self.ws, row=1, column=1)
        for attribute, value in style.items():
            setattr(cell, attribute, value)
        if number_format:
            cell.number_format = number_format
        if quote:
            cell.quotePrefix = True
        return cell

    def _across(self, style: str, text: str) -> list[tuple[int, object]]:
        """A row with `text` in its first cell, the others blank, all in `style`."""
        return [(self._styles[style, i], None if i else text) for i in range(self.width)]

    def _write(self, cells: list[tuple[int, object]], *, height: float | None = None) -> None:
        """Append one row of (style id, value) cells, serialised here (see `_RowWriter`)."""
        number = self._row + 1
        size = f' ht="{height}" customHeight="1"' if height else ""
        parts = [f'<row r="{number}"{size}>']
        for letter, (style, value) in zip(self._letters, cells, strict=True):
            parts.append(_cell_xml(f"{letter}{number}", style, value))
        parts.append("</row>")
        self.ws.append(_SheetRow(("".join(parts),)))
        self._row = number

    def row(self, values: list) -> None:
        """A data row: one value per column; text a spreadsheet could take for a formula
        carries the quote prefix."""
        styles = self._styles
        cells = [
            (
                styles[
                    "quoted" if isinstance(value, str) and looks_like_formula(value) else "data",
                    index,
                ],
                value,
            )
            for index, value in enumerate(values)
        ]
        self._write(cells)
        self.rows_written += 1
        self.book.row_done()

    def _merged_row(self, style: str, text: str) -> None:
        self._write(self._across(style, text))
        self.ws.merged_ranges.append(f"A{self._row}:{self._letters[-1]}{self._row}")

    def heading(self, text: str) -> None:
        """A section heading across the whole width (a member group)."""
        self._merged_row("heading", text)

    def note(self, text: str) -> None:
        self._merged_row("note", text)

    def close(self) -> None:
        self.ws.close()  # writes the tail and frees the sheet's temporary file handle


class RosterBook:
    """A write-only workbook of roster sheets, saved to `path`. Counts data rows and reports
    progress every PROGRESS_EVERY rows."""

    def __init__(
        self,
        *,
        made_by: str,
        made_on: datetime.date,
        progress: Callable[[int], None] | None = None,
    ):
        self.workbook = Workbook(write_only=True)
        self.made_by = made_by
        self.made_on = made_on
        self.progress = progress
        self.rows = 0
        self._sheet_names: set[str] = set()
        self._style_ids: dict[tuple, dict] = {}

    def sheet(self, *, name: str, title: str, columns: list[Column]) -> RosterSheet:
        return RosterSheet(self, name=self._unique_name(name), title=title, columns=columns)

    def _unique_name(self, name: str) -> str:
        base = re.sub(r"[\[\]:*?/\\']", "", name).strip() or "花名册"
        base, candidate, n = base[:31], base[:31], 1
        while candidate in self._sheet_names:
            n += 1
            suffix = f"({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        self._sheet_names.add(candidate)
        return candidate

    def row_done(self) -> None:
        self.rows += 1
        if self.progress and self.rows % PROGRESS_EVERY == 0:
            self.progress(self.rows)

    def save(self, path: Path) -> None:
        if not self.workbook.worksheets:
            raise ValueError("a roster needs at least one sheet")
        try:
            self.workbook.save(path)
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the sheets' temporary files (openpyxl only removes them at process exit,
        which for a worker is never)."""
        for ws in self.workbook.worksheets:
            writer = getattr(ws, "_writer", None)
            out = getattr(writer, "out", None)
            if isinstance(out, str) and os.path.exists(out):
                if not ws.closed:
                    ws.close()
                os.remove(out)


# --- what the rosters say ------------------------------------------------------------------


def association_title(node: Association) -> str:
    """ "清河县东关镇前王庄村计划生育协会"; a group under its village's association; names
    that already say 协会 are kept as they are."""
    if node.level == Level.GROUP and node.parent_id:
        return f"{association_title(node.parent)}{node.name}"
    name = node.name
    return name if name.endswith(("协会", "计生协")) else f"{name}计划生育协会"


def age_text(birth: datetime.date | None, today: datetime.date) -> int | str:
    age = age_shown(birth, today)
    return "" if age is None else age


@dataclass
class RosterContext:
    node: Association
    full_identity: bool
    today: datetime.date
    book: RosterBook

    def id_number(self, value: str | None) -> str:
        if not value:
            return ""
        return value if self.full_identity else identity.mask_id_number(value)

    def phone(self, value: str | None) -> str:
        if not value:
            return ""
        return value if self.full_identity else identity.mask_phone(value)

    @property
    def under(self) -> dict:
        return {f"{self.node.level}_id": self.node.pk}


def _by_village_sheets(node: Association) -> bool:
    return node.level in (Level.COUNTY, Level.TOWNSHIP)


@dataclass
class _SectionedWriter:
    """Writes rows that belong to (village, group) sections: one sheet for a village or a
    group node, one sheet per village for a township or the county; a heading row per group."""

    context: RosterContext
    roster_title: str
    columns: list[Column]
    heading: Callable[[int, int | None, str], str]
    summary: Callable[[int], str]  # the closing line of each sheet, from its row count
    empty: str  # what a roster without rows says
    sheet: RosterSheet | None = None
    village_id: int | None = None
    group_key: object = field(default=object())

    def add(self, village: Association, group_id: int | None, group_name: str, values: list):
        if self.sheet is None or (
            _by_village_sheets(self.context.node) and village.pk != self.village_id
        ):
            self._close()
            owner = village if _by_village_sheets(self.context.node) else self.context.node
            self.sheet = self.context.book.sheet(
                name=owner.name,
                title=association_title(owner) + self.roster_title,
                columns=self.columns,
            )
            self.village_id, self.group_key = village.pk, object()
        if group_id != self.group_key:
            self.sheet.heading(self.heading(village.pk, group_id, group_name))
            self.group_key = group_id
        values[0] = self.sheet.rows_written + 1
        self.sheet.row(values)

    def _close(self) -> None:
        if self.sheet is not None:
            self.sheet.note(self.summary(self.sheet.rows_written))
            self.sheet.close()
            self.sheet = None

    def finish(self) -> None:
        if self.sheet is None:
            node = self.context.node
            sheet = self.context.book.sheet(
                name=node.name,
                title=association_title(node) + self.roster_title,
                columns=self.columns,
            )
            sheet.note(self.empty)
            sheet.close()
            return
        self._close()


# --- 理事会成员花名册 -----------------------------------------------------------------------

COUNCIL_COLUMNS = [
    Column("序号", 6),
    Column("职务", 10),
    Column("姓名", 12),
    Column("性别", 6),
    Column("年龄", 6),
    Column("来源类别", 28, "left"),
    Column("联系电话", 16),
    Column("备注", 24, "left"),
]


def council_count(node: Association) -> int:
    council = Council.objects.filter(association=node).order_by("-term_number").first()
    return CouncilSeat.objects.filter(council=council).count() if council else 0


def write_council_roster(context: RosterContext, title: str) -> None:
    """The association's current council, seats in order of office; a seat held by a member
    (members.SeatHolder) shows that member's sex, age and phone."""
    node = context.node
    council = current_council(association=node)
    sheet = context.book.sheet(
        name="理事会成员", title=association_title(node) + title, columns=COUNCIL_COLUMNS
    )
    if council is None:
        sheet.note("尚未登记理事会。")
        sheet.close()
        return
    holders = {
        h.seat_id: h.member.person
        for h in SeatHolder.objects.filter(seat__council=council).select_related("member__person")
    }
    sheet.heading(
        f"第 {council.term_number} 届理事会,任期 {chinese_date(council.starts_on)} 至 "
        f"{chinese_date(council.ends_on)}"
    )
    for index, seat in enumerate(council.seats.all(), 1):
        person = holders.get(seat.pk)
        sheet.row(
            [
                index,
                seat.get_position_display(),
                seat.person_name,
                SEX_LABELS.get(person.sex, "") if person else "",
                age_text(person.birth_date, context.today) if person else "",
                seat.get_background_display(),
                context.phone(person.phone) if person else "",
                seat.note,
            ]
        )
    sheet.note(f"共 {sheet.rows_written} 人")
    sheet.close()


# --- 会员花名册 -------------------------------------------------------------------------------

MEMBER_COLUMNS = [
    Column("序号", 6),
    Column("会员证号", 10),
    Column("姓名", 10),
    Column("性别", 5),
    Column("出生日期", 11.5, "date"),
    Column("民族", 8),
    Column("身份证号码", 21),
    Column("联系电话", 14),
    Column("会员类别", 24, "left"),
    Column("骨干", 5),
    Column("入会日期", 11.5, "date"),
    Column("所属小组", 14),
]


def _active_members(context: RosterContext):
    return Member.objects.filter(status=Member.Status.ACTIVE, **context.under)


def member_count(node: Association) -> int:
    return Member.objects.filter(
        status=Member.Status.ACTIVE, **{f"{node.level}_id": node.pk}
    ).count()


def _categories_text(categories: list[str], elder_kind: str) -> str:
    labels = []
    for category in categories:
        label = CATEGORY_LABELS.get(category, category)
        if category == MemberCategory.ELDER and elder_kind:
            label = f"{label}({ELDER_KIND_LABELS.get(elder_kind, elder_kind)})"
        labels.append(label)
    return "、".join(labels)


def _group_facts(context: RosterContext, queryset) -> tuple[dict, dict]:
    """Members per group and each group's current leader: two queries for the whole roster."""
    sizes = {
        (row["village_id"], row["group_id"]): row["n"]
        for row in queryset.order_by().values("village_id", "group_id").annotate(n=Count("id"))
    }
    leaders = {
        group_id: name
        for group_id, name in GroupRole.objects.filter(
            role=GroupRole.Role.LEADER, ends_on__isnull=True, **context.under
        ).values_list("group_id", "member__person__name")
    }
    return sizes, leaders


def _roster_villages(context: RosterContext) -> dict[int, Association]:
    """The villages a roster's rows can belong to, by id: the sheets' owners and titles."""
    node = context.node
    if node.level == Level.GROUP:
        # The village is above a group leader's scope, where the scoped manager finds
        # nothing; the group's own ancestor key names it, as its breadcrumbs do.
        return {node.village_id: node.village}
    villages = Association.objects.filter(level=Level.VILLAGE, **context.under)
    return {v.pk: v for v in villages.only("name", "level", "parent_id")}


MEMBER_ROW_FIELDS = [
    "village_id",
    "group_id",
    "group__name",
    "member_number",
    "person__name",
    "person__sex",
    "person__birth_date",
    "person__ethnicity",
    "person__id_number",
    "person__phone",
    "categories",
    "elder_kind",
    "is_backbone",
    "joined_on",
]


def member_roster_rows(
    context: RosterContext,
) -> Iterator[tuple[Association, int | None, str, list]]:
    """(village, group id, group name, row values) in roster order: one query for the rows
    (plain tuples: a 50,000-row roster makes no model objects), one for the villages."""
    villages = _roster_villages(context)
    rows = (
        _active_members(context)
        .order_by(
            "village__division_code",
            F("group__division_code").asc(nulls_last=True),
            "member_number",
            "id",
        )
        .values_list(*MEMBER_ROW_FIELDS)
    )
    for (
        village_id,
        group_id,
        group_name,
        number,
        name,
        sex,
        birth_date,
        ethnicity,
        id_number,
        phone,
        categories,
        elder_kind,
        is_backbone,
        joined_on,
    ) in rows.iterator(chunk_size=CHUNK):
        group_name = group_name if group_id else NO_GROUP
        yield (
            villages[village_id],
            group_id,
            group_name,
            [
                0,  # 序号, numbered per sheet by the writer
                number,
                name,
                SEX_LABELS.get(sex, ""),
                birth_date,
                ETHNICITY_LABELS.get(ethnicity, ""),
                context.id_number(id_number),
                context.phone(phone),
                _categories_text(categories, elder_kind),
                "是" if is_backbone else "",
                joined_on,
                group_name,
            ],
        )


def write_member_roster(context: RosterContext, title: str) -> None:
    sizes, leaders = _group_facts(context, _active_members(context))

    def heading(village_id, group_id, group_name):
        leader = leaders.get(group_id) if group_id else None
        parts = [group_name]
        if leader:
            parts.append(f"组长:{leader}")
        parts.append(f"共 {sizes.get((village_id, group_id), 0)} 人")
        return "    ".join(parts)

    writer = _SectionedWriter(
        context, title, MEMBER_COLUMNS, heading, lambda n: f"共 {n} 名会员", "暂无在册会员。"
    )
    for village, group_id, group_name, values in member_roster_rows(context):
        writer.add(village, group_id, group_name, values)
    writer.finish()


# --- 会员联系户花名册 -------------------------------------------------------------------------

CONTACT_COLUMNS = [
    Column("序号", 6),
    Column("联系人", 10),
    Column("身份", 10),
    Column("户编号", 10),
    Column("户主", 10),
    Column("住址", 40, "left"),
    Column("联系电话", 16),
]


def _contacts(node: Association):
    return ContactHousehold.objects.filter(
        member__status=Member.Status.ACTIVE, **{f"{node.level}_id": node.pk}
    )


def contact_count(node: Association) -> int:
    return _contacts(node).count()


def write_contact_roster(context: RosterContext, title: str) -> None:
    """Per member group: each contact-household head (联系户长) first, then the other members,
    and the households each of them liaises with."""
    is_head = GroupRole.objects.filter(
        member=OuterRef("member_id"), role=GroupRole.Role.CONTACT_HEAD, ends_on__isnull=True
    )
    links = (
        _contacts(context.node)
        .annotate(is_head=Exists(is_head))
        .select_related("member__person", "member__group", "member__village", "household__head")
        .only(
            "member__member_number",
            "member__person__name",
            "member__group__name",
            "member__village__name",
            "member__village__level",
            "member__village__parent_id",
            "household__number",
            "household__address",
            "household__phone",
            "household__head__name",
            "household__head__phone",
        )
        .order_by(
            "member__village__division_code",
            F("member__group__division_code").asc(nulls_last=True),
            F("is_head").desc(),
            "member__member_number",
            "household__number",
            "id",
        )
    )

    def heading(village_id, group_id, group_name):
        return group_name

    writer = _SectionedWriter(
        context, title, CONTACT_COLUMNS, heading, lambda n: f"共 {n} 户次", "暂无会员联系户。"
    )
    for link in links.iterator(chunk_size=CHUNK):
        member, household = link.member, link.household
        head = household.head
        group_name = member.group.name if member.group_id else NO_GROUP
        writer.add(
            member.village,
            member.group_id,
            group_name,
            [
                0,
                member.person.name,
                "联系户长" if link.is_head else "会员",
                household.number,
                head.name if head else "",
                household.address,
                context.phone(household.phone or (head.phone if head else "")),
            ],
        )
    writer.finish()


# --- 志愿者花名册 -----------------------------------------------------------------------------

VOLUNTEER_COLUMNS = [
    Column("序号", 6),
    Column("服务队", 26, "left"),
    Column("分队", 16, "left"),
    Column("姓名", 10),
    Column("性别", 5),
    Column("年龄", 6),
    Column("联系电话", 16),
    Column("服务类别", 12),
]


def _volunteers(node: Association):
    return VolunteerMembership.objects.filter(
        member__status=Member.Status.ACTIVE, **{f"{node.level}_id": node.pk}
    )


def volunteer_count(node: Association) -> int:
    return _volunteers(node).count()


def write_volunteer_roster(context: RosterContext, title: str) -> None:
    rows = (
        _volunteers(context.node)
        .select_related("team__parent", "member__person")
        .only(
            "team__name",
            "team__service",
            "team__parent__name",
            "member__person__name",
            "member__person__sex",
            "member__person__birth_date",
            "member__person__phone",
        )
        .order_by(
            Coalesce("team__parent__name", "team__name"),
            F("team__parent_id").asc(nulls_first=True),
            "team__name",
            "member__member_number",
            "id",
        )
    )
    node = context.node
    sheet = context.book.sheet(
        name="志愿者", title=association_title(node) + title, columns=VOLUNTEER_COLUMNS
    )
    for link in rows.iterator(chunk_size=CHUNK):
        team, person = link.team, link.member.person
        parent = team.parent
        sheet.row(
            [
                sheet.rows_written + 1,
                parent.name if parent else team.name,
                team.name if parent else "",
                person.name,
                SEX_LABELS.get(person.sex, ""),
                age_text(person.birth_date, context.today),
                context.phone(person.phone),
                team.get_service_display(),
            ]
        )
    sheet.note(f"共 {sheet.rows_written} 人" if sheet.rows_written else "暂无志愿者。")
    sheet.close()


# --- the rosters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    kind: str
    title: str
    description: str
    levels: frozenset[str]
    count: Callable[[Association], int]
    write: Callable[[RosterContext, str], None]


ALL_LEVELS = frozenset(Level.values)
ROSTERS: dict[str, Roster] = {
    roster.kind: roster
    for roster in [
        Roster(
            "council",
            "理事会成员花名册",
            "本届理事会:职务、姓名、性别、年龄、来源类别、联系电话。",
            frozenset({Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE}),
            council_count,
            write_council_roster,
        ),
        Roster(
            "members",
            "会员花名册",
            "在册会员,按会员小组分节;乡镇、县级按村(社区)分工作表。",
            ALL_LEVELS,
            member_count,
            write_member_roster,
        ),
        Roster(
            "contacts",
            "会员联系户花名册",
            "各小组联系户长和会员所联系的家庭户。",
            ALL_LEVELS,
            contact_count,
            write_contact_roster,
        ),
        Roster(
            "volunteers",
            "志愿者花名册",
            "志愿者服务队及分队成员、服务类别。",
            ALL_LEVELS,
            volunteer_count,
            write_volunteer_roster,
        ),
    ]
}


def rosters_for(node: Association) -> list[Roster]:
    return [r for r in ROSTERS.values() if node.level in r.levels]


def roster_file_name(roster: Roster, node: Association, on: datetime.date) -> str:
    name = f"{association_title(node)}{roster.title}_{on:%Y%m%d}{XLSX}"
    return re.sub(r'[\\/:*?"<>|\r\n\t]', "", name)


def write_roster(
    roster: Roster,
    node: Association,
    path: Path,
    *,
    full_identity: bool,
    made_by: str,
    today: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Build the roster file at `path`; returns the number of data rows."""
    book = RosterBook(made_by=made_by, made_on=today or timezone.localdate(), progress=progress)
    context = RosterContext(node=node, full_identity=full_identity, today=book.made_on, book=book)
    try:
        roster.write(context, roster.title)
    except BaseException:
        book.discard()
        raise
    book.save(path)
    return book.rows


# --- rosters as exports (associations.export_jobs) ---------------------------------------------


@dataclass(frozen=True)
class RosterExport:
    """A roster as the shared export machinery sees it (registered in MembersConfig.ready)."""

    roster: Roster

    @property
    def kind(self) -> str:
        return self.roster.kind

    @property
    def title(self) -> str:
        return self.roster.title

    @property
    def levels(self) -> frozenset[str]:
        return self.roster.levels

    def count(self, node: Association) -> int:
        return self.roster.count(node)

    def file_name(self, node: Association, on: datetime.date) -> str:
        return roster_file_name(self.roster, node, on)

    def params(self, node: Association) -> dict:
        return {"layout": "village_sheets" if _by_village_sheets(node) else "group_sections"}

    def write(self, job: Job, path: Path, *, progress, work_dir: Path) -> int:
        return write_roster(
            self.roster,
            job.node,
            path,
            full_identity=job.full_identity and sees_full_identity(job.owner),
            made_by=_made_by(job),
            progress=progress,
        )


def _made_by(job: Job) -> str:
    """The unit of the one who asked, named on the sheet as its maker."""
    user = job.owner
    unit = Association.objects.filter(pk=user.node_id).select_related("parent").first()
    return association_title(unit or job.node)
