"""Time and count the queries of a large member import: a county-level roster of real persons
of the county who are not members yet, with some bad rows of mixed codes.

    manage.py benchmark_import --county 130535 [--rows 10000] [--bad 300] [--keep]

Passes, each through associations.imports.run_import, as the pages and the worker run it,
timed whole (the hostile-file checks and the reading of the workbook included; the reading
alone is shown apart):
1. dry run of the file with the bad rows (all rows checked and written, then rolled back);
2. commit of the corrected file (the bad rows replaced by good ones);
3. dry run of the corrected file again: everything unchanged.
The FLOOR, timed in the same run on the same workbook: a fast read (calamine), a minimal
check of each row (the ID number's check digit with python-stdnum, a name), the encryption
of each ID number and phone with its blind index (encryption at rest, which any import must
do), and a COPY of the rows into a temporary table. Each pass is reported as a multiple of
it (target: at most 3x).
CPU time is this process's only (not the database server's); wall time includes the database
and other load on the machine. Without --keep everything is rolled back at the end, so the
command can be re-run. When the county has too few persons who are not members, the missing
ones are created (in bulk, inside the county's scope, in the same rolled-back transaction) and
the output says so.
"""

from __future__ import annotations

import cProfile
import datetime
import io
import random
import time
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from stdnum.cn import ric

from associations import imports
from associations.management.base import ScopedCommand
from associations.models import Association, Level, Role, User
from households import identity
from households.models import ETHNICITIES, MaritalStatus, Person
from members.imports import KIND_MEMBERS
from members.models import Member

TARGET_SECONDS, TARGET_QUERIES, TARGET_FLOOR_RATIO = 2.0, 50, 3.0
HEADERS = [
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "民族",
    "联系电话",
    "住址",
    "婚姻状况",
    "所属村(社区)",
    "会员小组",
    "入会日期",
    "会员类别",
    "骨干会员",
]
BAD_KINDS = [
    "ID_CHECKSUM",
    "ID_NUMERIC_CELL",
    "ID_LENGTH",
    "DUPLICATE_IN_FILE",
    "NAME_MISMATCH",
    "VILLAGE_UNKNOWN",
    "GROUP_UNKNOWN",
    "PHONE_INVALID",
    "DATE_INVALID",
    "CHOICE_INVALID",
    "ID_SEX_MISMATCH",
    "ID_BIRTH_MISMATCH",
]
ETHNICITY_NAMES = dict(ETHNICITIES)
ID_NUMBER = Person._meta.get_field("id_number")
PHONE = Person._meta.get_field("phone")


@dataclass
class Pass:
    label: str
    rows: int
    read_seconds: float
    seconds: float
    cpu_seconds: float
    queries: int
    outcome: imports.ImportOutcome


class _Rollback(Exception):
    pass


class Command(ScopedCommand):
    help = "导入 1 万行会员名册的耗时与查询次数(预览校验、确认导入、重复导入)。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--bad", type=int, default=300)
        parser.add_argument("--keep", action="store_true", help="保留导入结果(默认全部回滚)")
        parser.add_argument("--profile", metavar="DIR", help="把每一遍的 cProfile 结果写到该目录")

    def handle(self, *args, county_node: Association, rows: int, bad: int, keep: bool, **kw):
        self.profile_dir = kw.get("profile")
        self.verbosity = kw.get("verbosity", 1)
        actor = User.objects.filter(county=county_node, role=Role.COUNTY_ADMIN).first()
        if actor is None:
            raise CommandError("该县没有县级管理员账号。")
        try:
            with transaction.atomic():
                self.run(county_node, actor, rows, bad)
                if not keep:
                    raise _Rollback
        except _Rollback:
            self.stdout.write("已回滚:数据库未改变(加 --keep 可保留导入结果)。")

    def run(self, county: Association, actor, rows: int, bad: int) -> None:
        places = {
            a.pk: a
            for a in Association.objects.filter(level__in=[Level.VILLAGE, Level.GROUP]).only(
                "id", "level", "name", "division_code", "county", "township", "village", "group"
            )
        }
        started = time.perf_counter()
        persons = self.candidates(rows + bad)
        missing = rows + bad - len(persons)
        if missing > 0:
            self.stdout.write(
                f"本县只有 {len(persons)} 位尚未入会的人员,为基准测试批量新建 {missing} 人"
                "(与导入一起回滚)。"
            )
            persons += self.create_persons(county, places, missing)
        self.stdout.write(
            f"准备 {rows + bad} 位人员用时 {time.perf_counter() - started:.1f} 秒;"
            f"本县会员 {Member.objects.count()} 人。"
        )
        good = [self.good_row(p, places) for p in persons[:rows]]
        spare = [self.good_row(p, places) for p in persons[rows:]]
        dirty, numeric = self.with_bad_rows(good, spare, bad)
        dirty_file = workbook(dirty, numeric)
        clean_file = workbook(good, set())
        self.stdout.write(
            f"文件:{len(dirty)} 行(含 {bad} 行问题数据){len(dirty_file) / 1024:.0f} KB;"
            f"改正后 {len(good)} 行 {len(clean_file) / 1024:.0f} KB。"
        )
        floor = min(self.floor(clean_file) for _ in range(3))
        passes = [
            self.measure("预览校验(含问题行)", county, actor, dirty_file, dry_run=True),
            self.measure("确认导入(改正后)", county, actor, clean_file, dry_run=False),
            self.measure("重复导入预览", county, actor, clean_file, dry_run=True),
        ]
        self.report(passes, floor)

    def floor(self, data: bytes) -> float:
        """What any import of the file must at least do: read it fast, check each row
        minimally, and COPY the rows to the database."""
        from python_calamine import CalamineWorkbook

        started = time.perf_counter()
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        header = rows[1]
        name, number = header.index("姓名"), header.index("身份证号码")
        phone = header.index("联系电话")
        kept = [
            [str(v) for v in row]
            for row in rows[2:]
            if str(row[name]).strip() and ric.is_valid(str(row[number]))
        ]
        # Encryption at rest is part of any import now: each ID number and phone is stored
        # encrypted, with its blind index (the columns the product writes).
        for row in kept:
            for column, field in ((number, ID_NUMBER), (phone, PHONE)):
                plain = row[column]
                row[column] = field.get_db_prep_value(plain, None, prepared=True)
                row.append(field.index_of(plain))
        columns = ", ".join(f"c{i} text" for i in range(len(header) + 2))
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE benchmark_floor ({columns})")
            with cursor.cursor.copy("COPY benchmark_floor FROM STDIN") as copy:
                for row in kept:
                    copy.write_row(row)
            cursor.execute("DROP TABLE benchmark_floor")
        return time.perf_counter() - started

    def candidates(self, count: int) -> list[Person]:
        # NOT EXISTS, not NOT IN: under row-level security the planner cannot hash the
        # subquery, and NOT IN then rescans the members for every person (minutes).
        members = Member.objects.filter(status=Member.Status.ACTIVE, person_id=OuterRef("pk"))
        return list(
            Person.objects.filter(is_deceased=False, id_number__isnull=False)
            .exclude(Exists(members))
            .order_by("id")[:count]
        )

    def create_persons(self, county, places, count: int) -> list[Person]:
        villages = [p for p in places.values() if p.level == Level.VILLAGE]
        groups: dict[int, list[Association]] = {}
        for place in places.values():
            if place.level == Level.GROUP:
                groups.setdefault(place.village_id, []).append(place)
        if not villages:
            raise CommandError("该县没有村(社区),请先运行 seed_demo。")
        used = set(
            Person.objects.filter(id_number__isnull=False).values_list("id_number", flat=True)
        )
        rng = random.Random(20260529)
        persons = []
        while len(persons) < count:
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(25000))
            sex = rng.choice(["male", "female"])
            serial = rng.randrange(500) * 2 + (1 if sex == "male" else 0)
            body = f"{county.division_code}{birth:%Y%m%d}{serial:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number in used:
                continue
            used.add(number)
            village = villages[len(persons) % len(villages)]
            group = rng.choice(groups.get(village.pk) or [None])
            name = rng.choice("赵钱孙李周吴郑王冯陈") + rng.choice("秀英桂兰建国志强丽娟")
            person = Person(
                name=name,
                name_initials=identity.pinyin_initials(name),
                id_number=number,
                sex=sex,
                birth_date=birth,
                phone=f"139{rng.randrange(10**8):08d}",
                address=f"{village.name}{rng.randrange(1, 300)}号",
                marital_status=rng.choice(MaritalStatus.values),
            )
            person.place_under(group or village)
            persons.append(person)
        Person.objects.bulk_create(persons, batch_size=5000)
        return persons

    def good_row(self, person: Person, places) -> dict:
        group = places.get(person.group_id)
        return {
            "姓名": person.name,
            "性别": identity.SEX_LABELS[person.sex],
            "身份证号码": person.id_number,
            "出生日期": person.birth_date.isoformat(),
            "民族": ETHNICITY_NAMES.get(person.ethnicity, "汉族"),
            "联系电话": person.phone,
            "住址": person.address,
            "婚姻状况": MaritalStatus(person.marital_status).label,
            "所属村(社区)": places[person.village_id].division_code,
            "会员小组": group.division_code if group else "",
            "入会日期": "2024-05-29",
            "会员类别": "志愿者",
            "骨干会员": "否",
        }

    def with_bad_rows(self, good, spare, bad):
        """The first rows - bad good rows, with a bad row every so often (from the spare
        persons, so that the corrected file is `good`)."""
        keep = len(good) - bad
        rows = list(good[:keep])
        numeric = set()
        step = max(1, keep // max(bad, 1))
        for i in range(bad):
            kind = BAD_KINDS[i % len(BAD_KINDS)]
            row = dict(spare[i % len(spare)] if spare else good[i])
            number = row["身份证号码"]
            if kind == "ID_CHECKSUM":
                row["身份证号码"] = number[:17] + ("0" if number[17] != "0" else "1")
            elif kind == "ID_NUMERIC_CELL":
                numeric.add(id(row))
            elif kind == "ID_LENGTH":
                row["身份证号码"] = number[:16]
            elif kind == "DUPLICATE_IN_FILE":
                row = dict(rows[i])
            elif kind == "NAME_MISMATCH":
                row["姓名"] = row["姓名"] + "某"
            elif kind == "VILLAGE_UNKNOWN":
                row["所属村(社区)"] = "999999999999"
            elif kind == "GROUP_UNKNOWN":
                row["会员小组"] = "第99组"
            elif kind == "PHONE_INVALID":
                row["联系电话"] = "12345"
            elif kind == "DATE_INVALID":
                row["入会日期"] = "2024-02-30"
            elif kind == "CHOICE_INVALID":
                row["会员类别"] = "志愿者、会计"
            elif kind == "ID_SEX_MISMATCH":
                row["性别"] = "女" if row["性别"] == "男" else "男"
            elif kind == "ID_BIRTH_MISMATCH":
                row["出生日期"] = "1900-01-02"
            rows.insert(min(len(rows), (i + 1) * step + i), row)
        return rows, numeric

    def measure(self, label, county, actor, data: bytes, *, dry_run: bool) -> Pass:
        started = time.perf_counter()
        imports.read_rows(data, "xlsx", KIND_MEMBERS, county)
        read_seconds = time.perf_counter() - started
        profiler = cProfile.Profile() if self.profile_dir else None
        started, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            if profiler:
                profiler.enable()
            outcome = imports.run_import(
                kind=KIND_MEMBERS,
                target=county,
                actor=actor,
                data=data,
                file_type="xlsx",
                dry_run=dry_run,
            )
            if profiler:
                profiler.disable()
        if profiler:
            folder = Path(self.profile_dir)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"import-{'dry' if dry_run else 'commit'}-{id(data)}.prof"
            profiler.dump_stats(path)
            self.stdout.write(f"cProfile: {path}")
        if self.verbosity > 1:
            slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]
            for query in slowest:
                self.stdout.write(f"    {float(query['time']):6.2f}s  {query['sql'][:110]}")
        return Pass(
            label=label,
            rows=outcome.rows_total,
            read_seconds=read_seconds,
            seconds=time.perf_counter() - started,
            cpu_seconds=time.process_time() - cpu,
            queries=len(queries),
            outcome=outcome,
        )

    def report(self, passes: list[Pass], floor: float) -> None:
        self.stdout.write(
            f"基线(calamine 读取 + 校验码/姓名检查 + 身份证号与电话加密 + COPY):{floor:.2f} 秒"
        )
        self.stdout.write(
            f"{'':<18}{'行数':>7}{'其中读文件':>10}{'整遍(秒)':>10}{'CPU(秒)':>9}{'查询':>6}"
            f"{'倍数':>7}  新增/更新/无变化/问题"
        )
        for p in passes:
            o = p.outcome
            totals = f"{o.new}/{o.updated}/{o.unchanged}/{o.invalid}"
            self.stdout.write(
                f"{p.label:<18}{p.rows:>7}{p.read_seconds:>10.2f}{p.seconds:>10.2f}"
                f"{p.cpu_seconds:>9.2f}{p.queries:>6}{p.seconds / floor:>7.1f}  {totals}"
                + (f"  错误:{o.error}" if o.error else "")
            )
        by_code: dict[str, int] = {}
        for problem in passes[0].outcome.problems:
            by_code[problem.code] = by_code.get(problem.code, 0) + 1
        self.stdout.write("问题代码:" + "、".join(f"{c} {n}" for c, n in sorted(by_code.items())))
        slow = [
            p
            for p in passes
            if p.seconds > min(TARGET_SECONDS, TARGET_FLOOR_RATIO * floor)
            or p.queries > TARGET_QUERIES
        ]
        self.stdout.write(
            f"目标:每遍(含读文件)≤ 基线的 {TARGET_FLOOR_RATIO:.0f} 倍且 ≤ {TARGET_SECONDS:.0f} 秒、"
            f"≤ {TARGET_QUERIES} 次查询:"
            + ("全部达到。" if not slow else f"未达到:{'、'.join(p.label for p in slow)}。")
        )


def workbook(rows: list[dict], numeric: set[int]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("会员名册")
    sheet.append(["临西县会员花名册(基准测试)"])
    sheet.append(HEADERS)
    for row in rows:
        values = [row[h] or None for h in HEADERS]
        if id(row) in numeric:
            values[2] = int(row["身份证号码"][:17] + "0")
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
