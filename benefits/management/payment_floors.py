"""The floors of benchmark_payments, in the same run as the product: (b) the batch made and
confirmed in raw SQL on the scoped connection (row-level security), rolled back after its
deferred foreign keys are checked; (c) the bank file's and the receipt sheets' rows read with
one raw SELECT each and written with xlsxwriter in constant_memory mode. Also how the
product's workbooks are read back and compared with the floor's rows."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from itertools import groupby

import xlsxwriter
from django.db import connection, transaction
from openpyxl import load_workbook

from households import masking
from households.models import Person

from .. import payments_sheets
from ..models import (
    BankAccount,
)

# --- (b) the floor: the batch in raw SQL ---------------------------------------------------------

BATCH_SQL = """
INSERT INTO benefits_disbursementbatch (county_id, township_id, village_id, group_id,
    program_id, period, status, created_by_id, created_at, method, reference, note)
VALUES (%(county)s, NULL, NULL, NULL, %(program)s, %(period)s, 'draft', %(actor)s, now(),
    '', '', '')
RETURNING id
"""

LINES_SQL = """
INSERT INTO benefits_disbursement (county_id, township_id, village_id, group_id, batch_id,
    program_id, period, enrollment_id, person_id, household_id, bank_account_id, amount,
    status, reference, failure_reason, reissue_of_id)
SELECT e.county_id, e.township_id, e.village_id, e.group_id, %(batch)s, e.program_id,
    %(period)s, e.id, e.person_id, e.household_id, a.id, e.amount, 'draft', '', '',
    CASE WHEN e.person_id IS NOT NULL THEN
        (SELECT max(f.id) FROM benefits_disbursement f
         WHERE f.person_id = e.person_id AND f.program_id = e.program_id
           AND f.period = %(period)s AND f.status = 'failed')
    ELSE
        (SELECT max(f.id) FROM benefits_disbursement f
         WHERE f.household_id = e.household_id AND f.person_id IS NULL
           AND f.program_id = e.program_id AND f.period = %(period)s AND f.status = 'failed')
    END
FROM benefits_enrollment e
LEFT JOIN benefits_bankaccount a ON a.id = e.bank_account_id AND a.is_active
WHERE e.county_id = %(county)s AND e.program_id = %(program)s AND e.status = 'enrolled'
  AND e.amount > 0 AND (e.enrolled_on IS NULL OR e.enrolled_on <= %(end)s)
  AND NOT EXISTS (
    SELECT 1 FROM benefits_disbursement l
    WHERE l.person_id = e.person_id AND l.county_id = e.county_id
      AND l.program_id = e.program_id AND l.period = %(period)s
      AND l.status IN ('confirmed', 'paid'))
  AND NOT (e.person_id IS NULL AND EXISTS (
    SELECT 1 FROM benefits_disbursement l
    WHERE l.household_id = e.household_id AND l.person_id IS NULL
      AND l.county_id = e.county_id AND l.program_id = e.program_id
      AND l.period = %(period)s AND l.status IN ('confirmed', 'paid')))
ORDER BY e.village_id, e.id
"""

CONFIRM_SQL = """
UPDATE benefits_disbursement d
SET status = 'confirmed', reference = 'DF' || lpad(d.id::text, 10, '0'),
    bank_account_id = (SELECT e.bank_account_id FROM benefits_enrollment e
                       JOIN benefits_bankaccount a ON a.id = e.bank_account_id AND a.is_active
                       WHERE e.id = d.enrollment_id)
WHERE d.batch_id = %(batch)s AND d.status = 'draft'
RETURNING d.enrollment_id, d.amount, d.bank_account_id
"""

CONFIRM_BATCH_SQL = """
UPDATE benefits_disbursementbatch SET status = 'confirmed', confirmed_by_id = %(actor)s,
    confirmed_at = now()
WHERE id = %(batch)s
"""

# --- (c) the floor: the files' rows in raw SQL -------------------------------------------------

BANK_ROWS_SQL = """
SELECT d.amount, d.reference, (a.id IS NOT NULL AND a.is_active), a.bank_name, a.account_number,
    holder.name, p.name, head.name, h.number, v.name
FROM benefits_disbursement d
LEFT JOIN benefits_bankaccount a ON a.id = d.bank_account_id
LEFT JOIN households_person holder ON holder.id = a.person_id
LEFT JOIN households_person p ON p.id = d.person_id
JOIN households_household h ON h.id = d.household_id
LEFT JOIN households_person head ON head.id = h.head_id
JOIN associations_association v ON v.id = d.village_id
WHERE d.batch_id = %(batch)s AND d.status = 'confirmed'
ORDER BY d.village_id, d.id
"""

RECEIPT_ROWS_SQL = """
SELECT d.village_id, v.name, t.name, coalesce(p.name, head.name),
    coalesce(p.id_number, head.id_number), h.number, d.amount, a.bank_name, a.account_number,
    d.person_id IS NULL AND head.id IS NULL
FROM benefits_disbursement d
JOIN households_household h ON h.id = d.household_id
LEFT JOIN households_person p ON p.id = d.person_id
LEFT JOIN households_person head ON head.id = h.head_id
LEFT JOIN benefits_bankaccount a ON a.id = d.bank_account_id
JOIN associations_association v ON v.id = d.village_id
LEFT JOIN associations_association t ON t.id = v.parent_id
WHERE d.batch_id = %(batch)s AND d.status IN ('confirmed', 'paid')
ORDER BY v.division_code, d.group_id, h.number, d.id
"""


def scoped_cursor():
    """psycopg's own cursor on Django's connection: in the same scope (the row-level-security
    setting the scope set applies)."""
    connection.ensure_connection()
    return connection.connection.cursor()


def floor_batch(*, county, program, period, actor) -> tuple[set[tuple], float]:
    """The batch made and confirmed in raw SQL, rolled back; its lines as (enrolment,
    amount, account), and how long the deferred foreign-key checks took (seconds; printed
    beside the ratio, so the ratio to a floor rolled back unchecked can be read too)."""
    params = {
        "county": county.pk,
        "program": program.pk,
        "period": period.key,
        "end": period.end,
        "actor": actor.pk,
    }
    with transaction.atomic():
        with scoped_cursor() as cursor:
            cursor.execute(BATCH_SQL, params)
            params["batch"] = cursor.fetchone()[0]
            cursor.execute(LINES_SQL, params)
            cursor.execute(CONFIRM_SQL, params)
            lines = set(cursor.fetchall())
            cursor.execute(CONFIRM_BATCH_SQL, params)
            # The product commits, and at its commit the database checks the foreign keys
            # of every row written (Django's are deferred): the floor has them checked before
            # it rolls back, or it would skip work every real write does.
            checking = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            checks = time.perf_counter() - checking
        transaction.set_rollback(True)
    return lines, checks


def _decrypt(field):
    def read(value):
        return field.from_db_value(value, None, connection) if value is not None else None

    return read


class Book:
    """An xlsxwriter workbook (constant_memory) with the product's print layout: title,
    info line, header repeated on every page, page numbers, A4; rows kept for the check."""

    def __init__(self):
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, {"constant_memory": True, "in_memory": False})
        border = {"border": 1, "valign": "vcenter"}
        add = self.book.add_format
        self.fmt = {
            "title": add({"bold": True, "font_size": 16, "align": "center"}),
            "info": add({"font_size": 10}),
            "info_right": add({"font_size": 10, "align": "right"}),
            "header": add({**border, "bold": True, "align": "center", "bg_color": "#D9D9D9"}),
            "center": add({**border, "align": "center"}),
            "left": add({**border, "align": "left"}),
            "right": add({**border, "align": "right"}),
            "text": add({**border, "num_format": "@"}),
            "money": add({**border, "align": "right", "num_format": "0.00"}),
            "total": add({**border, "bold": True}),
            "remark": add({"font_size": 10}),
        }
        self.rows: list[tuple] = []
        self.names: set[str] = set()

    def sheet(self, name, title, info, right, columns):
        """columns: (header, width, format name)."""
        name = name[:31]
        while name in self.names:
            name = f"{name[:27]}({len(self.names) % 100})"
        self.names.add(name)
        ws = self.book.add_worksheet(name)
        last = len(columns) - 1
        for index, (_header, width, _fmt) in enumerate(columns):
            ws.set_column(index, index, width)
        ws.set_row(0, 30)
        ws.merge_range(0, 0, 0, last, title, self.fmt["title"])
        split = max(1, len(columns) // 2)
        ws.merge_range(1, 0, 1, split - 1, info, self.fmt["info"])
        ws.merge_range(1, split, 1, last, right, self.fmt["info_right"])
        ws.write_row(2, 0, [c[0] for c in columns], self.fmt["header"])
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 2)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页 共 &N 页")
        return _Sheet(self, ws, [self.fmt[c[2]] for c in columns])

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


class _Sheet:
    def __init__(self, book, ws, formats):
        self.book, self.ws, self.formats, self.next = book, ws, formats, 3

    def row(self, values, *, keep=True):
        for col, (value, fmt) in enumerate(zip(values, self.formats, strict=True)):
            if value is None or value == "":
                self.ws.write_blank(self.next, col, None, fmt)
            elif isinstance(value, str):
                self.ws.write_string(self.next, col, value, fmt)
            else:
                self.ws.write_number(self.next, col, value, fmt)
        if keep:
            self.book.rows.append(tuple(values))
        self.next += 1

    def note(self, text):
        self.ws.write_string(self.next, 0, text, self.book.fmt["remark"])
        self.next += 1


def floor_files(*, batch, period, user, made_on, county_name) -> tuple[bytes, bytes, list]:
    """The bank file and the receipt sheets, raw SQL + xlsxwriter; and the rows written."""
    account_number = _decrypt(BankAccount._meta.get_field("account_number"))
    id_number = _decrypt(Person._meta.get_field("id_number"))
    params = {"batch": batch.pk}
    program = batch.program.name
    with scoped_cursor() as cursor:
        cursor.execute(BANK_ROWS_SQL, params)
        bank_rows = cursor.fetchall()
    payable = [r for r in bank_rows if r[2]]
    left_out = [r for r in bank_rows if not r[2]]
    total = sum((r[0] for r in payable), Decimal("0.00"))
    made = f"制表日期:{made_on:%Y-%m-%d}"
    bank = Book()
    sheet = bank.sheet(
        "代发明细",
        f"{county_name}{program}代发明细({period.label})",
        f"批次:第 {batch.pk} 号    笔数:{len(payable)}    金额合计:{total:.2f} 元",
        made,
        [
            ("序号", 6, "center"),
            ("户名", 12, "center"),
            ("开户银行", 22, "left"),
            ("账号", 28, "text"),
            ("金额(元)", 12, "money"),
            ("业务参考号", 16, "text"),
            ("摘要", 26, "left"),
        ],
    )
    summary = f"{program}{batch.period}"
    for number, r in enumerate(payable, start=1):
        sheet.row([number, r[5], r[3], account_number(r[4]), r[0], r[1], summary])
    sheet.row(["合计", f"{len(payable)} 笔", "", "", total, "", ""], keep=False)
    if left_out:
        sheet = bank.sheet(
            "未列入代发",
            f"未列入代发文件的明细({program} {period.label})",
            "以下对象没有有效的收款账户,请设置账户后重发,或以现金发放并逐条登记。",
            "",
            [
                ("序号", 6, "center"),
                ("姓名", 12, "center"),
                ("村(社区)", 18, "left"),
                ("金额(元)", 12, "money"),
                ("业务参考号", 16, "text"),
                ("原因", 24, "left"),
            ],
        )
        for number, r in enumerate(left_out, start=1):
            name = r[6] or r[7] or f"{r[8]}户"
            sheet.row([number, name, r[9], r[0], r[1], payments_sheets.NO_ACCOUNT])
    bank_content = bank.close()

    with scoped_cursor() as cursor:
        cursor.execute(RECEIPT_ROWS_SQL, params)
        receipt_rows = cursor.fetchall()
    receipts = Book()
    columns = [
        ("序号", 6, "center"),
        ("姓名", 10, "center"),
        ("身份证号码", 21, "text"),
        ("户编号", 8, "text"),
        ("金额(元)", 11, "money"),
        ("收款账户", 24, "text"),
        ("领取人签名(手印)", 20, "center"),
        ("领取日期", 12, "center"),
    ]
    for _village, rows in groupby(receipt_rows, key=lambda r: r[0]):
        rows = list(rows)
        first = rows[0]
        sheet = receipts.sheet(
            first[1],
            f"{county_name}{first[1]}{program}领取签收表",
            f"发放期:{period.label}    乡镇(街道):{first[2] or ''}    批次:第 {batch.pk} 号",
            made,
            columns,
        )
        village_total = Decimal("0.00")
        for number, r in enumerate(rows, start=1):
            shown = (
                f"{r[7]} {masking.bank_account_for(user, account_number(r[8]))}"
                if r[7] is not None
                else "现金"
            )
            name = r[3] if not r[9] else f"{r[5]}户"
            masked = masking.id_number_for(user, id_number(r[4]) if r[4] else None)
            sheet.row([number, name, masked, r[5], r[6], shown, "", ""])
            village_total += r[6]
        sheet.row(["合计", f"{len(rows)} 人", "", "", village_total, "", "", ""], keep=False)
        sheet.next += 1
        sheet.note(
            "经办人(签字):                村(社区)负责人(签字):                "
            "乡镇(街道)审核(签字):"
        )
        sheet.note("身份证号码、银行账号已脱敏显示;领取人核对本人姓名与金额无误后签名或按手印。")
    rows = bank.rows + receipts.rows
    return bank_content, receipts.close(), rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def workbook_rows(content: bytes) -> list[tuple]:
    """The numbered rows (序号 a number) of every sheet of a workbook, in order, normalised."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = [
        tuple(_cell(v) for v in row)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        if row and isinstance(row[0], int | float) and not isinstance(row[0], bool)
    ]
    book.close()
    return rows


def same_rows(product: list[tuple], floor: list[tuple]) -> bool:
    """Each of the product's rows (cut to the floor's columns) is the floor's row."""
    if len(product) != len(floor):
        return False
    return all(
        mine[: len(theirs)] == tuple(_cell(v) for v in theirs)
        for mine, theirs in zip(product, floor, strict=True)
    )
