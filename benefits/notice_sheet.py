"""The printed public notice (公示表), declared on the shared writer (associations.sheets):

    title   "<村或乡镇> <项目> 公示"
    lines   the county and the node that posts it, the notice period; where to object
    header  序号 | 姓名 | 身份证号 | (村(社区): a township's notice) | 扶助类别 | 标准金额(元)
            | 符合条件
    body    everyone the notice lists, names and ID numbers masked for everyone
            (households.identity.mask_name / mask_id_number): the sheet is posted in public
    closing the number of people and the total amount, who posted it and when

A4 landscape, title and header repeated on every page, page numbers in the footer. A notice
lists a village's or a township's applicants (tens, a few hundred): built in the request."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from associations import sheets
from associations.sheets.responses import ascii_stem

from .models import PublicNotice
from .workflow_selectors import NoticeRow

NOTICE_STEM = ascii_stem("公示", "notice")
MONEY = "0.00"


def notice_filename(notice: PublicNotice) -> str:
    """ "公示_<title>_2026-03-02.xlsx" (characters a file name cannot hold are dropped)."""
    title = "".join(c for c in notice.title if c not in '\\/:*?"<>| ')
    return f"{NOTICE_STEM}_{title}_{notice.starts_on:%Y-%m-%d}.xlsx"


def notice_layout(notice: PublicNotice, *, county_name: str, node_name: str, township: bool):
    village = [sheets.Column("村(社区)", 16, "left")] if township else []
    poster = node_name if node_name.startswith(county_name) else f"{county_name}{node_name}"
    return sheets.Layout(
        title=notice.title,
        lines=[
            sheets.Line(
                f"公示单位:{poster}",
                right=f"公示期:{notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}"
                f"(共 {(notice.ends_on - notice.starts_on).days + 1} 天)",
            ),
            sheets.Line(
                f"如有异议,请于公示期内向{notice.objection_contact}反映。", style="warning"
            ),
        ],
        header=[
            sheets.Column("序号", 6),
            sheets.Column("姓名", 10),
            sheets.Column("身份证号", 22, text=True),
            *village,
            sheets.Column("扶助类别", 12),
            sheets.Column("标准金额(元)", 13, "right", MONEY),
            sheets.Column("符合条件", 44, "left"),
        ],
    )


def notice_xlsx(
    notice: PublicNotice,
    rows: list[NoticeRow],
    *,
    county_name: str,
    node_name: str,
    township: bool,
    made_on: datetime.date,
) -> bytes:
    layout = notice_layout(notice, county_name=county_name, node_name=node_name, township=township)
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout, name="公示名单")
        for row in rows:
            village = [row.village] if township else []
            sheet.row(
                [
                    row.number,
                    row.name,
                    row.id_number,
                    *village,
                    row.category or "—",
                    row.amount,
                    row.reasons,
                ]
            )
        total = sum((row.amount for row in rows), Decimal("0.00"))
        sheet.note(f"公示人数 {len(rows)} 人,标准金额合计 {total:.2f} 元。")
        sheet.blank()
        sheet.note(
            "姓名、身份证号已按个人信息保护要求部分隐藏。公示期满无异议或异议经核实不成立的,"
            "报乡镇(街道)审核、县级审批。",
            style="remark",
        )
        sheet.note(
            f"发布单位:{node_name}    发布日期:{notice.starts_on:%Y年%m月%d日}    "
            f"制表日期:{made_on:%Y-%m-%d}",
            style="remark",
        )
        sheet.close()
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
