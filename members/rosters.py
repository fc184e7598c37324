"""The printable rosters (花名册), declared on the shared sheet writer (associations.sheets).

Every roster sheet prints as it is: a merged title row "<协会>计划生育协会<花名册>", a line
with 制表单位 and 制表日期, the header row, column widths, panes frozen below the header, A4
landscape fitted to one page wide, the three top rows repeated on every printed page, page
numbers in the footer and thin borders round every cell.

Layout of the rosters kept per member group (members, contact households): a village or a
group gets ONE sheet, each group a section under a heading row ("第一会员小组 组长:… 共 12 人").
A township or the county gets ONE SHEET PER VILLAGE, each with its own title and page numbers.
A village roster is a document a secretary files; a township's or county's is a stack of
village rosters, and this way each village prints as its own document (first page with its
own title, "第 1 页 共 N 页"), instead of one 50,000-row sheet of a thousand pages with the
villages running into each other.

The rows, their queries and the masking of ID numbers and phones: members.roster_rows."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from associations.models import Association, Level
from associations.sheets import (
    DATE,
    Column,
    Layout,
    Line,
    Sections,
    SheetBook,
    write_sections,
)
from households import identity_reads
from households.models import IdentityRead, Person

from . import roster_rows as rows
from .roster_rows import RosterContext, RosterRow, by_village_sheets, chinese_date

__all__ = [
    "ROSTERS",
    "Roster",
    "RosterContext",
    "association_title",
    "by_village_sheets",
    "roster_file_name",
    "rosters_for",
    "write_roster",
]

PROGRESS_EVERY = 1000
XLSX = ".xlsx"


def association_title(node: Association) -> str:
    """ "清河县东关镇前王庄村计划生育协会"; a group under its village's association; names
    that already say 协会 are kept as they are."""
    if node.level == Level.GROUP and node.parent_id:
        return f"{association_title(node.parent)}{node.name}"
    name = node.name
    return name if name.endswith(("协会", "计生协")) else f"{name}计划生育协会"


def roster_layout(
    title: str, columns: Iterable[Column], *, made_by: str, made_on: datetime.date
) -> Layout:
    """A roster sheet: its title, the 制表 line (unit left, date right), the header."""
    return Layout(
        title=title,
        lines=[Line(f"制表单位:{made_by}", right=f"制表日期:{chinese_date(made_on)}")],
        header=tuple(columns),
    )


# --- the columns -----------------------------------------------------------------------------

COUNCIL_COLUMNS = (
    Column("序号", 6),
    Column("职务", 10),
    Column("姓名", 12),
    Column("性别", 6),
    Column("年龄", 6),
    Column("来源类别", 28, "left"),
    Column("联系电话", 16, text=True),
    Column("备注", 24, "left"),
)
MEMBER_COLUMNS = (
    Column("序号", 6),
    Column("会员证号", 10, text=True),
    Column("姓名", 10),
    Column("性别", 5),
    Column("出生日期", 11.5, number_format=DATE),
    Column("民族", 8),
    Column("身份证号码", 21, text=True),
    Column("联系电话", 14, text=True),
    Column("会员类别", 24, "left"),
    Column("骨干", 5),
    Column("入会日期", 11.5, number_format=DATE),
    Column("所属小组", 14),
)
CONTACT_COLUMNS = (
    Column("序号", 6),
    Column("联系人", 10),
    Column("身份", 10),
    Column("户编号", 10, text=True),
    Column("户主", 10),
    Column("住址", 40, "left"),
    Column("联系电话", 16, text=True),
)
VOLUNTEER_COLUMNS = (
    Column("序号", 6),
    Column("服务队", 26, "left"),
    Column("分队", 16, "left"),
    Column("姓名", 10),
    Column("性别", 5),
    Column("年龄", 6),
    Column("联系电话", 16, text=True),
    Column("服务类别", 12),
)


# --- the rosters ---------------------------------------------------------------------------


def write_declared(context: RosterContext, title: str) -> None:
    """A roster's rows on the shared writer: a sheet per owner (a village's, or the node's),
    a heading per member group, a closing line per sheet."""
    roster: Roster = context.roster

    def layout_for(owner: Association) -> Layout:
        return roster_layout(
            association_title(owner) + title,
            roster.columns,
            made_by=context.made_by,
            made_on=context.today,
        )

    empty = roster.empty
    sections = Sections(
        layout_for=layout_for,
        name_for=lambda owner: roster.sheet_name or owner.name,
        closing=roster.closing,
        empty=empty if isinstance(empty, str) else lambda: empty(context),
    )
    write_sections(context.book, roster.rows(context), sections, empty_owner=context.node)


@dataclass(frozen=True)
class Roster:
    """A roster: what it is called and where it is offered, how many rows a node's has
    (`count`, for the request's progress), its columns, its rows (members.roster_rows), the
    line closing each sheet, what a roster without rows says, and the sheet name (None: each
    owner's name). `write(context, title)` puts the rows in `context.book`."""

    kind: str
    title: str
    description: str
    levels: frozenset[str]
    count: Callable[[Association], int]
    columns: tuple[Column, ...]
    rows: Callable[[RosterContext], Iterable[RosterRow]]
    closing: Callable[[int], str]
    empty: str | Callable[[RosterContext], str]
    sheet_name: str | None = None
    write: Callable[[RosterContext, str], None] = write_declared


ALL_LEVELS = frozenset(Level.values)
ROSTERS: dict[str, Roster] = {
    roster.kind: roster
    for roster in [
        Roster(
            "council",
            "理事会成员花名册",
            "本届理事会:职务、姓名、性别、年龄、来源类别、联系电话。",
            frozenset({Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE}),
            rows.council_count,
            COUNCIL_COLUMNS,
            rows.council_rows,
            closing=lambda n: f"共 {n} 人",
            empty=rows.council_empty,
            sheet_name="理事会成员",
        ),
        Roster(
            "members",
            "会员花名册",
            "在册会员,按会员小组分节;乡镇、县级按村(社区)分工作表。",
            ALL_LEVELS,
            rows.member_count,
            MEMBER_COLUMNS,
            rows.member_rows,
            closing=lambda n: f"共 {n} 名会员",
            empty="暂无在册会员。",
        ),
        Roster(
            "contacts",
            "会员联系户花名册",
            "各小组联系户长和会员所联系的家庭户。",
            ALL_LEVELS,
            rows.contact_count,
            CONTACT_COLUMNS,
            rows.contact_rows,
            closing=lambda n: f"共 {n} 户次",
            empty="暂无会员联系户。",
        ),
        Roster(
            "volunteers",
            "志愿者花名册",
            "志愿者服务队及分队成员、服务类别。",
            ALL_LEVELS,
            rows.volunteer_count,
            VOLUNTEER_COLUMNS,
            rows.volunteer_rows,
            closing=lambda n: f"共 {n} 人",
            empty="暂无志愿者。",
            sheet_name="志愿者",
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
    progress: Callable[[int], None] | None = None,
    work_dir: Path,
    today: datetime.date | None = None,
    actor=None,
) -> int:
    """Build the roster file at `path`, every temporary file inside `work_dir` (the caller
    makes it and removes it); returns the number of data rows. A roster with full numbers
    is recorded in the read log as one bulk read by `actor`."""
    book = SheetBook(work_dir=work_dir, progress=progress, progress_every=PROGRESS_EVERY)
    context = RosterContext(
        node=node,
        full_identity=full_identity,
        today=today or timezone.localdate(),
        book=book,
        made_by=made_by,
        roster=roster,
    )
    try:
        roster.write(context, roster.title)
    except BaseException:
        book.discard()
        raise
    book.save(path)
    if full_identity and actor is not None:
        record_full_roster(actor, roster, context.shown_in_full)
    return book.rows


def record_full_roster(actor, roster: Roster, id_numbers: set[str]) -> None:
    """One read-log row for the whole file: the persons are found by their numbers in one
    query (an exact `__in`, which the blind index of encrypted numbers serves)."""
    ids = list(Person.objects.filter(id_number__in=sorted(id_numbers)).values_list("pk", flat=True))
    identity_reads.record_read(
        actor=actor,
        persons=ids,
        fields=["id_number", "phone"],
        reason=IdentityRead.Reason.EXPORT,
        route=f"roster:{roster.kind}",
    )
