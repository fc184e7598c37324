"""The two workbooks of a batch, on the shared sheet writer (associations.sheets):

- the bank transfer file (代发文件): one row per confirmed line to pay into an account, with
  the holder's name, the bank, the account number IN FULL, the amount and the line's reference
  (业务参考号) that the bank's return file quotes back. The one output with full account
  numbers: the county's administrators only (households.masking.may_export_bank_accounts),
  each file recorded in the read log (households.identity_reads), never stored on the server
  (built in a private scratch folder, removed at once). Lines that cannot go to the bank (no
  active account) are listed on a second sheet;
- the signed receipt sheet (领取签收表): one A4 sheet per village with its live lines — name,
  ID number masked, household, amount, account masked, a column to sign — and the totals;
  of the villages the user's scope holds (a village secretary prints the village's sheet of a
  county batch)."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Coalesce, Concat

from associations import sheets
from associations.sheets.responses import ascii_stem
from households import masking
from households.models import Person

from .models import LIVE_LINE, Disbursement, DisbursementBatch, LineStatus
from .payments_rules import Period

BANK_FILE_STEM = ascii_stem("代发文件", "bank_transfer")
RECEIPTS_STEM = ascii_stem("领取签收表", "receipts")
MONEY_FORMAT = "0.00"
NO_ACCOUNT = "未设置有效的收款账户"


def _safe(text: str) -> str:
    return "".join(c for c in text if c not in '\\/:*?"<>|')


def _file_name(stem: str, batch: DisbursementBatch, place: str = "") -> str:
    where = f"_{_safe(place)}" if place else ""
    return f"{stem}_{_safe(batch.program.name)}_{batch.period}_第{batch.pk}号{where}.xlsx"


def bank_file_name(batch: DisbursementBatch) -> str:
    return _file_name(BANK_FILE_STEM, batch)


def receipts_name(batch: DisbursementBatch, place: str = "") -> str:
    """`place`: the user's node, when the sheets are that part of a batch made above it."""
    return _file_name(RECEIPTS_STEM, batch, place)


def _saved(book: sheets.SheetBook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def payee_name(line: Disbursement) -> str:
    """The beneficiary's name: the person, or the head of a household enrolment."""
    if line.person_id:
        return line.person.name
    head = getattr(line.household, "head", None)
    return head.name if head else f"{line.household.number}户"


def payee_id_number(line: Disbursement) -> str | None:
    if line.person_id:
        return line.person.id_number
    head = getattr(line.household, "head", None)
    return head.id_number if head else None


# --- the bank transfer file ---------------------------------------------------------------------


@dataclass
class BankFile:
    content: bytes
    holder_ids: list[int]  # the persons whose account numbers it holds (for the read log)
    count: int
    total: Decimal
    left_out: int


# The sheets read plain rows, only the columns they print: a county batch has 20,000 lines, and
# model instances (a line with its person, household, head, account, village) would cost more
# than the workbook, and decrypt ID numbers and phones the sheet never shows.
PAYEE = Coalesce(
    "person__name",
    "household__head__name",
    Concat("household__number", Value("户")),
    output_field=CharField(),
)  # payee_name, in SQL
PAYEE_ID_NUMBER = Coalesce(
    Case(When(person__isnull=False, then=F("person__id_number"))),
    "household__head__id_number",
    output_field=Person._meta.get_field("id_number"),
)  # payee_id_number, in SQL (decrypted by the field, once)


def bank_file_rows(batch: DisbursementBatch):
    return (
        Disbursement.objects.filter(batch=batch, status=LineStatus.CONFIRMED)
        .order_by("village_id", "id")
        .values(
            "amount",
            "reference",
            active=F("bank_account__is_active"),
            holder_id=F("bank_account__person_id"),
            holder=F("bank_account__person__name"),
            bank_name=F("bank_account__bank_name"),
            account_number=F("bank_account__account_number"),
            payee=PAYEE,
            village_name=F("village__name"),
        )
    )


def bank_file(batch: DisbursementBatch, period: Period, *, made_on: datetime.date) -> BankFile:
    lines = list(bank_file_rows(batch))
    payable = [ln for ln in lines if ln["active"]]
    left_out = [ln for ln in lines if not ln["active"]]
    total = sum((ln["amount"] for ln in payable), Decimal("0.00"))
    county = batch.program.county.name
    layout = sheets.Layout(
        title=f"{county}{batch.program.name}代发明细({period.label})",
        lines=[
            sheets.Line(
                f"批次:第 {batch.pk} 号    笔数:{len(payable)}    金额合计:{total:.2f} 元",
                right=f"制表日期:{made_on:%Y-%m-%d}",
            )
        ],
        header=[
            sheets.Column("序号", 6),
            sheets.Column("户名", 12),
            sheets.Column("开户银行", 22, "left"),
            sheets.Column("账号", 28, text=True),
            sheets.Column("金额(元)", 12, "right", MONEY_FORMAT),
            sheets.Column("业务参考号", 16, text=True),
            sheets.Column("摘要", 26, "left"),
        ],
    )
    summary = f"{batch.program.name}{batch.period}"
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout, name="代发明细")
        for number, line in enumerate(payable, start=1):
            sheet.row(
                [
                    number,
                    line["holder"],
                    line["bank_name"],
                    line["account_number"],
                    line["amount"],
                    line["reference"],
                    summary,
                ]
            )
        sheet.total(["合计", f"{len(payable)} 笔", "", "", total, "", ""])
        sheet.close()
        if left_out:
            _left_out_sheet(book, batch, period, left_out)
        content = _saved(book)
    return BankFile(
        content=content,
        holder_ids=sorted({ln["holder_id"] for ln in payable}),
        count=len(payable),
        total=total,
        left_out=len(left_out),
    )


def _left_out_sheet(book, batch, period: Period, lines: list[dict]) -> None:
    layout = sheets.Layout(
        title=f"未列入代发文件的明细({batch.program.name} {period.label})",
        lines=[sheets.Line("以下对象没有有效的收款账户,请设置账户后重发,或以现金发放并逐条登记。")],
        header=[
            sheets.Column("序号", 6),
            sheets.Column("姓名", 12),
            sheets.Column("村(社区)", 18, "left"),
            sheets.Column("金额(元)", 12, "right", MONEY_FORMAT),
            sheets.Column("业务参考号", 16, text=True),
            sheets.Column("原因", 24, "left"),
        ],
    )
    sheet = book.sheet(layout, name="未列入代发")
    for number, line in enumerate(lines, start=1):
        sheet.row(
            [
                number,
                line["payee"],
                line["village_name"],
                line["amount"],
                line["reference"],
                NO_ACCOUNT,
            ]
        )
    sheet.close()


# --- the receipt sheet --------------------------------------------------------------------------


def receipt_rows(batch: DisbursementBatch):
    """The batch's live lines the actor's scope sees, by village (then group and household)."""
    return (
        Disbursement.objects.filter(batch=batch, status__in=LIVE_LINE)
        .order_by("village__division_code", "group_id", "household__number", "id")
        .values(
            "amount",
            "village_id",
            "bank_account_id",
            payee=PAYEE,
            id_number=PAYEE_ID_NUMBER,
            household_number=F("household__number"),
            bank_name=F("bank_account__bank_name"),
            account_number=F("bank_account__account_number"),
            village_name=F("village__name"),
            township_name=F("village__parent__name"),
        )
    )


def receipts(
    batch: DisbursementBatch, period: Period, *, user, made_on: datetime.date
) -> bytes | None:
    """The receipt sheets of the batch's villages (None when the actor sees no live line)."""
    lines = list(receipt_rows(batch))
    if not lines:
        return None
    county = batch.program.county.name
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        for _village_id, rows in groupby(lines, key=lambda ln: ln["village_id"]):
            _receipt_sheet(book, batch, period, list(rows), county, user, made_on)
        return _saved(book)


def _receipt_sheet(book, batch, period: Period, rows: list[dict], county: str, user, made_on):
    village, township = rows[0]["village_name"], rows[0]["township_name"] or ""
    layout = sheets.Layout(
        title=f"{county}{village}{batch.program.name}领取签收表",
        lines=[
            sheets.Line(
                f"发放期:{period.label}    乡镇(街道):{township}    批次:第 {batch.pk} 号",
                right=f"制表日期:{made_on:%Y-%m-%d}",
            )
        ],
        header=[
            sheets.Column("序号", 6),
            sheets.Column("姓名", 10),
            sheets.Column("身份证号码", 21, text=True),
            sheets.Column("户编号", 8, text=True),
            sheets.Column("金额(元)", 11, "right", MONEY_FORMAT),
            sheets.Column("收款账户", 24, text=True),
            sheets.Column("领取人签名(手印)", 20),
            sheets.Column("领取日期", 12),
        ],
    )
    sheet = book.sheet(layout, name=village)
    total = Decimal("0.00")
    for number, line in enumerate(rows, start=1):
        shown_account = (
            f"{line['bank_name']} {masking.bank_account_for(user, line['account_number'])}"
            if line["bank_account_id"] is not None
            else "现金"
        )
        sheet.row(
            [
                number,
                line["payee"],
                masking.id_number_for(user, line["id_number"]),
                line["household_number"],
                line["amount"],
                shown_account,
                "",
                "",
            ]
        )
        total += line["amount"]
    sheet.total(["合计", f"{len(rows)} 人", "", "", total, "", "", ""])
    sheet.blank()
    sheet.note(
        "经办人(签字):                村(社区)负责人(签字):                乡镇(街道)审核(签字):",
        style="remark",
        height=24,
    )
    sheet.note(
        "身份证号码、银行账号已脱敏显示;领取人核对本人姓名与金额无误后签名或按手印。",
        style="remark",
    )
    sheet.close()
