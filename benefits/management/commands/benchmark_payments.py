"""Time a county disbursement batch (发放批次) beside its FLOORS, measured in the same run:

    manage.py benchmark_payments --county 130535 [--lines 20000] [--runs 3] [--period 2026]

Run it as the application's database role (row-level security applies), e.g.
DATABASE_URL=postgres://jsx_bench_app:…@127.0.0.1:5432/jsx_bench with
ALL_COUNTIES_DATABASE_URL set for --county.

SETUP (not timed, idempotent): under the county's scope, the yearly programme
"基准测试奖励扶助" and ENROLLED enrolments of `--lines` persons spread over every village
(round robin over the villages), 90 % of them with a bank account (one in fifty of those
inactive, so the bank file has its "未列入代发" sheet), written with associations.bulk.insert_many
(COPY; account numbers encrypted and blind-indexed by the fields, as every bulk write).
A second run reuses them and only adds what is missing.

(b) PRODUCT: `batch_create` + `batch_confirm` (benefits.payments_services) of the programme and
period for the whole county, as the county admin; FLOOR: the same in raw SQL through psycopg
on the scoped connection, inside a transaction rolled back: the batch row, one INSERT … SELECT
of the lines from the enrolments (on the roll by the period's end, not yet paid, the active
account, the failed line re-issued), one UPDATE confirming them with their references, and the
deferred foreign-key checks that the product's commit runs (SET CONSTRAINTS ALL IMMEDIATE
before the rollback). The lines of both are checked equal (enrolment, amount, account).

(c) PRODUCT: the bank transfer file and every village's receipt sheet of the confirmed batch
(benefits.payments_sheets.bank_file / receipts, as the views call them); FLOOR: the same rows
read with one raw SELECT per file (the encrypted numbers decrypted and masked by the same
fields and policy) and written with xlsxwriter in constant_memory mode. The product's
workbooks are read back and their rows checked equal to the floor's.

After each timed run the product's batch and lines are deleted (not timed), so the period can
be paid again. Printed: the medians of --runs, both ratios (target ≤ 3×), the product's query
counts (warm-up run) and the machine's load."""

from __future__ import annotations

import contextlib
import cProfile
import os
import statistics
import time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from associations.bulk import insert_many, row_class
from associations.management.base import ScopedCommand
from associations.models import Association, Level, Role, User
from households.models import Person

from ... import payments_services as services
from ... import payments_sheets
from ...models import (
    BankAccount,
    BatchStatus,
    BeneficiaryKind,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    EnrollmentStatus,
    Frequency,
    LineStatus,
    Program,
    ProgramKind,
)
from ...payments_rules import PaymentMethod, parse_period
from ..payment_floors import floor_batch, floor_files, same_rows, scoped_cursor, workbook_rows

TARGET_RATIO = 3.0
PROGRAM_NAME = "基准测试奖励扶助"
AMOUNT = Decimal("960.00")
ACCOUNT_SHARE = 0.9  # of the beneficiaries, with an account
INACTIVE_EVERY = 50  # of the accounts, one inactive
BANK_NAME = "河北省农村信用社临西县联社"

# --- setup --------------------------------------------------------------------------------------


def ensure_program(county, actor, out) -> Program:
    program = Program.objects.filter(name=PROGRAM_NAME).first()
    if program is None:
        program = Program(
            name=PROGRAM_NAME,
            kind=ProgramKind.ALLOWANCE,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=AMOUNT,
            funding_source="基准测试",
            needs_notice=False,
        )
        program.place_under(county)
        program.full_clean()
        program.save()
        out(f"已创建项目“{PROGRAM_NAME}”。")
    return program


def ensure_enrollments(county, program, lines: int, enrolled_on, out) -> int:
    """ENROLLED enrolments of `lines` living persons, round robin over the villages; 90 % with
    an account. Only what is missing is written."""
    have = Enrollment.objects.filter(program=program, status=EnrollmentStatus.ENROLLED).count()
    missing = lines - have
    if missing <= 0:
        return have
    started = time.perf_counter()
    taken = Enrollment.objects.filter(program=program).values("person_id")
    persons = list(
        Person.objects.filter(is_deceased=False, village_id__isnull=False)
        .exclude(pk__in=taken)
        .annotate(turn=Window(RowNumber(), partition_by=[F("village_id")], order_by=F("id").asc()))
        .order_by("turn", "village_id")
        .values("id", "household_id", "township_id", "village_id", "group_id")[:missing]
    )
    AccountRow, EnrollmentRow = row_class(BankAccount), row_class(Enrollment)
    accounts, enrollments = [], []
    for index, person in enumerate(persons, start=have):
        place = {
            "county_id": county.pk,
            "township_id": person["township_id"],
            "village_id": person["village_id"],
            "group_id": person["group_id"],
        }
        account = None
        if (index % 10) < ACCOUNT_SHARE * 10:
            account = AccountRow(
                person_id=person["id"],
                bank_name=BANK_NAME,
                account_number=f"621799{person['id']:013d}",
                is_active=index % INACTIVE_EVERY != 0,
                **place,
            )
            accounts.append(account)
        enrollments.append(
            (
                account,
                EnrollmentRow(
                    program_id=program.pk,
                    person_id=person["id"],
                    household_id=person["household_id"],
                    category="奖励扶助",
                    amount=AMOUNT,
                    status=EnrollmentStatus.ENROLLED,
                    applied_on=enrolled_on,
                    enrolled_on=enrolled_on,
                    **place,
                ),
            )
        )
    with transaction.atomic():
        insert_many(accounts)
        rows = []
        for account, row in enrollments:
            row.bank_account_id = account.pk if account is not None else None
            rows.append(row)
        insert_many(rows)
    out(
        f"已写入在册对象 {len(rows):,} 名、收款账户 {len(accounts):,} 个"
        f"({time.perf_counter() - started:.1f} 秒,不计时)。"
    )
    return have + len(rows)


def ensure_history(county, program, actor, period, out) -> None:
    """The year before's batch, paid to every enrolment: a county paying 奖励扶助 has the lines
    of earlier years, and the planner sees a table of their size (not an empty one)."""
    key = str(period.start.year - 1)
    if DisbursementBatch.objects.filter(program=program, period=key).exists():
        return
    paid_on = period.start.replace(year=period.start.year - 1, month=12, day=20)
    batch = DisbursementBatch(
        program=program,
        period=key,
        status=BatchStatus.PAID,
        created_by=actor,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
        paid_on=paid_on,
        method=PaymentMethod.BANK,
        note="基准测试:上一年度已发放",
    )
    batch.place_under(county)
    batch.save()
    LineRow = row_class(Disbursement)
    lines = [
        LineRow(
            batch_id=batch.pk,
            program_id=program.pk,
            period=key,
            enrollment_id=row["id"],
            person_id=row["person_id"],
            household_id=row["household_id"],
            bank_account_id=row["bank_account_id"],
            amount=row["amount"],
            status=LineStatus.PAID,
            paid_on=paid_on,
            reference=f"DFH{row['id']:09d}",
            county_id=county.pk,
            township_id=row["township_id"],
            village_id=row["village_id"],
            group_id=row["group_id"],
        )
        for row in Enrollment.objects.filter(
            program=program, status=EnrollmentStatus.ENROLLED
        ).values(
            "id",
            "person_id",
            "household_id",
            "bank_account_id",
            "amount",
            "township_id",
            "village_id",
            "group_id",
        )
    ]
    insert_many(lines, ids=False)
    out(f"已写入上一年度({key})已发放的批次 1 个、明细 {len(lines):,} 条(不计时)。")


# --- the command --------------------------------------------------------------------------------


class Command(ScopedCommand):
    help = (
        "全县发放批次(生成并确认)、代发文件和领取签收表的用时,"
        "与同一次运行中直接 SQL / xlsxwriter 的底线比较。"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--lines", type=int, default=20_000, help="在册对象人数(默认 20000)")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--period", default="2026", help="发放期(年份,默认 2026)")
        parser.add_argument(
            "--profile", metavar="DIR", help="把预热一遍的批次和文件的 cProfile 结果写到该目录"
        )

    def handle(self, *args, county_node, lines, runs, period, **options):
        county = county_node
        out = self.stdout.write
        admin = User.objects.filter(county_id=county.pk, role=Role.COUNTY_ADMIN).first()
        if admin is None:
            raise CommandError("该县没有县级管理员账号。")
        the_period = parse_period(Frequency.YEARLY, period)
        program = ensure_program(county, admin, out)
        count = ensure_enrollments(county, program, lines, the_period.start, out)
        ensure_history(county, program, admin, the_period, out)
        villages = Association.objects.filter(level=Level.VILLAGE).count()
        out(
            f"{county.name}:{PROGRAM_NAME} {the_period.label},在册对象 {count:,} 名,"
            f"村(社区){villages} 个。预热 1 次,计时 {runs} 次。"
        )
        made_on = timezone.localdate()
        made: list[int] = []
        product_b, floor_b, product_c, floor_c, checks_b = [], [], [], [], []
        queries = {}
        checks = {}
        try:
            for turn in range(max(1, runs) + 1):
                warm = turn == 0
                started = time.perf_counter()
                floor_lines, floor_checks = floor_batch(
                    county=county, program=program, period=the_period, actor=admin
                )
                spent_floor_b = time.perf_counter() - started

                profiling = _profiling(options.get("profile") if warm else None, "batch")
                with (
                    CaptureQueriesContext(connection)
                    if warm
                    else contextlib.nullcontext() as captured,
                    profiling,
                ):
                    started = time.perf_counter()
                    batch = services.batch_create(
                        actor=admin, program=program, period=the_period.key, node=county
                    )
                    made.append(batch.pk)
                    batch = services.batch_confirm(actor=admin, batch=batch)
                    spent_b = time.perf_counter() - started
                if warm:
                    queries["batch"] = len(captured)
                    if options["verbosity"] >= 2:
                        _slowest(out, captured.captured_queries)

                profiling = _profiling(options.get("profile") if warm else None, "files")
                with (
                    CaptureQueriesContext(connection)
                    if warm
                    else contextlib.nullcontext() as captured,
                    profiling,
                ):
                    started = time.perf_counter()
                    bank = payments_sheets.bank_file(batch, the_period, made_on=made_on)
                    receipts = payments_sheets.receipts(
                        batch, the_period, user=admin, made_on=made_on
                    )
                    spent_c = time.perf_counter() - started
                if warm:
                    queries["files"] = len(captured)

                started = time.perf_counter()
                bank_floor, receipts_floor, floor_rows = floor_files(
                    batch=batch,
                    period=the_period,
                    user=admin,
                    made_on=made_on,
                    county_name=program.county.name,
                )
                spent_floor_c = time.perf_counter() - started

                if warm:
                    mine = set(
                        Disbursement.objects.filter(batch=batch).values_list(
                            "enrollment_id", "amount", "bank_account_id"
                        )
                    )
                    checks["lines"] = (mine == floor_lines, len(mine), len(floor_lines))
                    product_rows = workbook_rows(bank.content) + workbook_rows(receipts)
                    checks["files"] = (
                        same_rows(product_rows, floor_rows),
                        len(product_rows),
                        len(floor_rows),
                    )
                    checks["bank"] = (bank.count, bank.left_out, bank.total)
                    checks["sizes"] = (len(bank.content), len(receipts or b""))
                    checks["floor_sizes"] = (len(bank_floor), len(receipts_floor))
                out(
                    f"{'预热' if warm else f'第 {turn} 次'}:批次 {spent_b * 1000:,.0f} ms"
                    f"(底线 {spent_floor_b * 1000:,.0f} ms),文件 {spent_c * 1000:,.0f} ms"
                    f"(底线 {spent_floor_c * 1000:,.0f} ms)"
                )
                if not warm:
                    product_b.append(spent_b)
                    floor_b.append(spent_floor_b)
                    checks_b.append(floor_checks)
                    product_c.append(spent_c)
                    floor_c.append(spent_floor_c)
                self._clean([batch.pk])
                made.remove(batch.pk)
        finally:
            self._clean(made)
        checks["floor_checks"] = checks_b
        self._report(out, product_b, floor_b, product_c, floor_c, queries, checks, villages)

    def _report(self, out, product_b, floor_b, product_c, floor_c, queries, checks, villages):
        same, mine, theirs = checks["lines"]
        verdict = "一致" if same else "不一致!"
        out(f"核对(发放明细:对象、金额、账户):{verdict}(产品 {mine:,} 条,底线 {theirs:,} 条)")
        same, mine, theirs = checks["files"]
        verdict = "一致" if same else "不一致!"
        count, left_out, total = checks["bank"]
        out(
            f"核对(代发文件和签收表各行):{verdict}(产品 {mine:,} 行,底线 {theirs:,} 行;"
            f"代发 {count:,} 笔 {total:.2f} 元,未列入代发 {left_out:,} 笔;签收表 {villages} 张)"
        )
        b, fb = statistics.median(product_b), statistics.median(floor_b)
        c, fc = statistics.median(product_c), statistics.median(floor_c)
        for label, product, floor, what, n in (
            ("发放批次(生成+确认)", b, fb, "直接 SQL(回滚)", queries["batch"]),
            ("代发文件+签收表", c, fc, "直接 SQL+xlsxwriter", queries["files"]),
        ):
            ratio = product / floor if floor else float("inf")
            verdict = "达标" if ratio <= TARGET_RATIO else "未达标"
            out(
                f"{label}:中位 {product * 1000:,.0f} ms,{n} 条查询;{what} 中位 "
                f"{floor * 1000:,.0f} ms;比值 {ratio:.2f}×(目标 ≤ {TARGET_RATIO:.0f}×):{verdict}"
            )
            if label.startswith("发放批次"):
                self._unchecked(out, product_b, floor_b, checks["floor_checks"])
        sizes, floor_sizes = checks["sizes"], checks["floor_sizes"]
        out(
            f"文件大小:代发文件 {sizes[0] / 2**20:.1f} MB(底线 {floor_sizes[0] / 2**20:.1f} MB),"
            f"签收表 {sizes[1] / 2**20:.1f} MB(底线 {floor_sizes[1] / 2**20:.1f} MB)"
        )
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        out(f"本机负载(1/5/15 分钟):{load};数据库连接角色:{_role()}")

    def _unchecked(self, out, product_b, floor_b, floor_checks) -> None:
        unchecked = statistics.median(f - c for f, c in zip(floor_b, floor_checks, strict=True))
        out(
            f"  其中底线提交前的外键检查(提交时数据库对所写各行的检查)中位 "
            f"{statistics.median(floor_checks) * 1000:,.0f} ms;不计这些检查的底线中位 "
            f"{unchecked * 1000:,.0f} ms,比值 {statistics.median(product_b) / unchecked:.2f}×"
        )

    def _clean(self, made: list[int]) -> None:
        """The benchmark's batches and their lines, deleted (not timed)."""
        if not made:
            return
        Disbursement.objects.filter(batch_id__in=made).delete()
        DisbursementBatch.objects.filter(pk__in=made).delete()


def _slowest(out, captured: list[dict], most: int = 8) -> None:
    """The warm-up batch's slowest statements (-v 2): where its time goes."""
    total = sum(float(q["time"]) for q in captured)
    out(f"  生成+确认的 {len(captured)} 条语句共 {total * 1000:,.0f} ms,最慢的 {most} 条:")
    for query in sorted(captured, key=lambda q: -float(q["time"]))[:most]:
        sql = " ".join(query["sql"].split())
        out(f"  {float(query['time']) * 1000:8,.0f} ms  {sql[:160]}")


@contextlib.contextmanager
def _profiling(folder: str | None, name: str):
    """cProfile around the block, its stats written to FOLDER/NAME.prof (--profile)."""
    if not folder:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        Path(folder).mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(Path(folder) / f"{name}.prof")


def _role() -> str:
    with scoped_cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]
