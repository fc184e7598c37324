"""Times the registry's hot reads on a seeded county: list pages as the page and API run them
(the peek paginator's 51 rows), searches, the figures table and an ID-number lookup.

    manage.py benchmark_registry --county 130535 [--runs 5] [-v 2 for the full plan]

Each case runs once to warm the caches, then `--runs` times; the median, fastest and slowest
times and the query count are printed. The slowest single query of the slowest case is run
again under EXPLAIN ANALYZE."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from associations.management.base import ScopedCommand
from associations.models import Association, Level, Role, User

from ...figures import Period
from ...models import Person
from ...selectors import household_list, node_figures, person_list

PAGE_ROWS = 51  # the peek paginator: 50 rows and one more to know whether a next page exists
SLOW_MS = 300


@dataclass
class Case:
    label: str
    run: Callable[[], int]  # returns the number of rows (or table rows) it produced
    times: list[float] = field(default_factory=list)
    queries: list[dict] = field(default_factory=list)
    rows: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _page(queryset) -> int:
    return len(list(queryset[:PAGE_ROWS]))


class Command(ScopedCommand):
    help = "测量人员与家庭户列表、搜索、人口统计表和身份证号查询的耗时(中位数,毫秒)与查询数。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--runs", type=int, default=5, help="每项测量的次数(取中位数)")
        parser.add_argument(
            "--explain-all",
            action="store_true",
            help=f"为每个超过 {SLOW_MS} ms 的项目显示执行计划(默认只显示最慢的一项)",
        )

    def handle(self, *args, county_node, runs, explain_all, verbosity, **options):
        county = county_node
        self.full_plans = verbosity >= 2
        actor = (
            User.objects.filter(county=county, node=county, role=Role.COUNTY_ADMIN)
            .order_by("pk")
            .first()
        )
        if actor is None:
            raise CommandError(f"{county.name}没有县级管理员账号。")
        sample = Person.objects.filter(id_number__isnull=False).order_by("-pk").first()
        if sample is None:
            raise CommandError(f"{county.name}还没有人员数据,请先运行 seed_demo。")
        township = (
            Association.objects.filter(level=Level.TOWNSHIP).order_by("division_code").first()
        )
        year = timezone.localdate().year
        period = Period.parse(str(year))
        surname = sample.name[0]
        cases = [
            Case("人员列表首页(全县)", lambda: _page(person_list(actor=actor, filters={}))),
            Case(
                f"人员列表 搜索“{surname}”",
                lambda: _page(person_list(actor=actor, filters={"q": surname})),
            ),
            Case(
                "人员列表 双女户",
                lambda: _page(person_list(actor=actor, filters={"category": "two_daughters"})),
            ),
            Case("家庭户列表首页(全县)", lambda: _page(household_list(actor=actor, filters={}))),
            Case(
                f"人口统计表 全县 {period.label}",
                lambda: len(node_figures(node=county, period=period).rows),
            ),
            Case(
                f"人口统计表 {township.name} {period.label}",
                lambda: len(node_figures(node=township, period=period).rows),
            ),
            Case(
                # The POST lookup's query (households.identity_reads.person_lookup) without its
                # read log and hourly limit: an exact match through the blind index.
                "按身份证号查人",
                lambda: _page(person_list(actor=actor).filter(id_number=sample.id_number)),
            ),
        ]
        persons = Person.objects.count()
        self.stdout.write(
            f"{county.division_code} {county.name}:{persons} 人;每项先预热 1 次,再测 {runs} 次。"
        )
        self.stdout.write(f"{'':<28}{'中位数':>9}{'最快':>9}{'最慢':>9}{'查询数':>7}{'行数':>7}")
        for case in cases:
            self._measure(case, runs)
            flag = "  ← 慢" if case.median > SLOW_MS else ""
            self.stdout.write(
                f"{case.label:<28}{case.median:>9.1f}{min(case.times):>9.1f}"
                f"{max(case.times):>9.1f}{len(case.queries):>7}{case.rows:>7}{flag}"
            )
        slowest = max(cases, key=lambda c: c.median)
        explained = [c for c in cases if c.median > SLOW_MS] if explain_all else []
        for case in explained if slowest in explained else [slowest, *explained]:
            self._explain(case)
        if not self.full_plans:
            self.stdout.write("(-v 2 显示完整执行计划)")

    def _measure(self, case: Case, runs: int) -> None:
        case.run()  # warm-up: plans, caches, the first connection round trips
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                case.rows = case.run()
                case.times.append((time.perf_counter() - started) * 1000)
            case.queries = list(captured.captured_queries)

    def _explain(self, case: Case) -> None:
        query = max(case.queries, key=lambda q: float(q["time"]))
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = [row[0] for row in cursor.fetchall()]
        self.stdout.write(
            f"\n{case.label}({case.median:.1f} ms)中最慢的查询"
            f"({float(query['time']) * 1000:.1f} ms)的执行计划:"
        )
        if self.full_plans:
            for other in case.queries:
                self.stdout.write(f"  {float(other['time']) * 1000:>8.1f} ms  {other['sql'][:150]}")
            self.stdout.write(f"  {query['sql']}")
        lines = plan if self.full_plans else [plan[0], *(x for x in plan if "Time:" in x)]
        for line in lines:
            self.stdout.write(f"  {line}")
