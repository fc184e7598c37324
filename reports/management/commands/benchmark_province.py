"""A province of small counties, one report run each, built by real Celery workers: the wall
time from the first request to the last persisted snapshot, beside the per-run figures.

    REDIS_URL=redis://127.0.0.1:6379/5 \\
    DATABASE_URL=postgres://jsx_bench_app:…@127.0.0.1:5432/jsx_bench_province \\
    manage.py benchmark_province [--counties 100] [--workers 2] [--period 2026-Q3]
        [--timeout 600] [--generate-only]

Run it as the application's database role (row-level security applies) in a database of its
own: the counties are Hebei's first N known county codes (13xxxx).

GENERATION (not timed, skipped for a county that exists): associations.demo.seed_county with a
small tree whose size varies from county to county — 4 to 6 townships of 4 to 7 villages (16 to
42 villages), 3 groups a village, 6 to 10 households a village with their persons, members,
hardship roster, councils and a year of activities and home visits (the demo generators, COPY)
— then the default scheme of the period's year put in use (reports.defaults) and the period
opened (reports.periods_services.period_open). Two processes generate half the counties each.

PRODUCT (timed): the command starts --workers Celery worker processes
(`python -m celery -A config worker -c 1`, one child each) on the broker REDIS_URL (use a
Redis database of its own: the queue is purged first), waits until they answer a ping, then
asks for one run per county through `reports.runs.request_run` as the county admin (each job
sent to the broker when its request commits) and waits until every run is done or failed. The
wall time runs from the first request to the last run's stored finish (the snapshot and the
run's state are written in one transaction). The workers it started are stopped at the end;
earlier unpublished runs of the period are deleted before timing.

FLOOR: benchmark_reports' hand-written SQL of every indicator family (values only, no scoring,
nothing written), county after county on one connection; the ideal with the same number of
connections as workers is that sum divided by the workers.

Printed: counties, villages, the wall time (goal ≤ 60 s), each run's duration (median, max)
and query count (min, max: it must not depend on the county's size), and the failures (0)."""

from __future__ import annotations

import datetime
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from associations.demo import TreeShape, seed_county
from associations.management.base import find_county
from associations.models import Association, Job, Level, Role, User
from associations.periods import parse_period, period_key
from associations.scope import Scope, activate
from associations.validators import known_county_region
from households.demo import PeopleScale

from ... import runs as report_runs
from ...defaults import scheme_create_default
from ...models import ReportRun, SchemeVersion, SnapshotNode
from ...periods_services import period_by_key, period_open
from ...services import scheme_version_activate
from .benchmark_reports import floor

TARGET_SECONDS = 60.0
PROVINCE = 13  # Hebei
PEOPLE = PeopleScale(households_per_village=(6, 10), history_per_household=False)


def county_codes(count: int) -> list[str]:
    codes = []
    for n in range(PROVINCE * 10_000 + 100, (PROVINCE + 1) * 10_000):
        code = f"{n:06d}"
        if known_county_region(code):
            codes.append(code)
            if len(codes) == count:
                return codes
    raise CommandError(f"河北省的已知县级区划代码不足 {count} 个。")


def county_shape(index: int) -> TreeShape:
    """4-6 townships of 4-7 villages, 3 groups a village: 16 to 42 villages."""
    townships = 4 + index % 3
    villages = townships * (4 + (index // 3) % 4)
    return TreeShape(townships=townships, villages=villages, groups=villages * 3)


def _admin(county) -> User:
    admin = User.objects.filter(county_id=county.pk, role=Role.COUNTY_ADMIN).first()
    if admin is None:
        raise CommandError(f"{county.name}没有县级管理员账号。")
    return admin


class Command(BaseCommand):
    help = "一个省 100 个小县各生成一次考核(两个 Celery 工作进程),测从提交到全部结果入库的总用时。"

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, default=100)
        parser.add_argument("--workers", type=int, default=2, help="Celery 工作进程数")
        parser.add_argument("--period", default="2026-Q3", help="统计期,如 2026-Q3")
        parser.add_argument("--timeout", type=float, default=600, help="最长等待秒数")
        parser.add_argument("--generate-only", action="store_true", help="只生成各县数据")
        parser.add_argument("--part", default="", help=argparse_hidden())

    def handle(self, *args, counties, workers, period, timeout, generate_only, part, **options):
        try:
            the_period = parse_period(period)
        except ValueError as error:
            raise CommandError(str(error)) from None
        codes = county_codes(counties)
        if part:  # a generating child: its share of the counties
            k, n = (int(x) for x in part.split("/"))
            self._generate(codes, the_period, range(k, len(codes), n))
            return
        self._generate_in_parallel(counties, period)
        if generate_only:
            return
        if not settings.REDIS_URL:
            raise CommandError("请设置 REDIS_URL(例如 redis://127.0.0.1:6379/5)。")
        nodes = [find_county(code) for code in codes]
        self._time(nodes, the_period, workers, timeout)

    # --- generation (not timed) -------------------------------------------------------------

    def _generate_in_parallel(self, counties: int, period: str) -> None:
        started = time.perf_counter()
        base = [
            sys.executable,
            os.path.abspath(sys.argv[0]),
            "benchmark_province",
            f"--counties={counties}",
        ]
        children = [
            subprocess.Popen([*base, f"--period={period}", f"--part={k}/2"]) for k in range(2)
        ]
        if any(child.wait() for child in children):
            raise CommandError("生成各县数据失败。")
        self.stdout.write(
            f"各县数据已就绪(检查与生成用时 {time.perf_counter() - started:.0f} 秒)。"
        )

    def _generate(self, codes: list[str], period, indexes) -> None:
        key = period_key(period)
        for index in indexes:
            code = codes[index]
            started = time.perf_counter()
            county, created = seed_county(
                code=code,
                name=known_county_region(code),
                shape=county_shape(index),
                people=PEOPLE,
                extras=False,
            )
            with activate(Scope.for_node(county)), transaction.atomic():
                admin = _admin(county)
                version = (
                    SchemeVersion.objects.filter(
                        state=SchemeVersion.State.IN_USE, scheme__year=period.end.year
                    )
                    .order_by("-id")
                    .first()
                )
                if version is None:
                    scheme = scheme_create_default(actor=admin, county=county, year=period.end.year)
                    version = scheme_version_activate(actor=admin, version=scheme.versions.get())
                if period_by_key(key) is None:
                    period_open(
                        actor=admin,
                        county=county,
                        key=key,
                        version=version,
                        due_on=period.end + datetime.timedelta(days=10),
                    )
            if created:
                self.stdout.write(
                    f"  {code} {county.name}:{county_shape(index).villages} 个村,"
                    f"{time.perf_counter() - started:.1f} 秒"
                )

    # --- the timed part -----------------------------------------------------------------------

    def _time(self, nodes, period, workers: int, timeout: float) -> None:
        from config.celery_app import app

        key = period_key(period)
        plan = []
        villages = {}
        for county in nodes:
            with activate(Scope.for_node(county)):
                version = SchemeVersion.objects.get(
                    state=SchemeVersion.State.IN_USE, scheme__year=period.end.year
                )
                _clean(key)
                villages[county.pk] = Association.objects.filter(level=Level.VILLAGE).count()
                plan.append((county, _admin(county), version))
        app.control.purge()
        logs = tempfile.mkdtemp(prefix="jsx-bench-workers-")
        procs = self._start_workers(workers, logs)
        try:
            self._wait_ready(app, workers)
            self.stdout.write(
                f"{len(nodes)} 个县、{sum(villages.values())} 个村(每县 {min(villages.values())}"
                f"–{max(villages.values())} 个),{key};{workers} 个工作进程"
                f"(各 `celery worker -c 1`),代理 {settings.REDIS_URL}。"
            )
            started_at, started = timezone.now(), time.perf_counter()
            made = {}
            for county, admin, version in plan:
                with activate(Scope.for_node(county)):
                    run, _ = report_runs.request_run(
                        actor=admin, county=county, period_key=key, version=version
                    )
                made[county.pk] = (county, run.pk)
            enqueued = time.perf_counter() - started
            results = self._wait_done(made, started, timeout)
            observed = time.perf_counter() - started
        finally:
            _stop(procs)
        self._report(results, villages, started_at, enqueued, observed, logs)
        self._floor([county for county, _, _ in plan], period, workers, results, started_at)

    def _start_workers(self, workers: int, logs: str) -> list[subprocess.Popen]:
        procs = []
        for k in range(workers):
            log = open(os.path.join(logs, f"worker{k}.log"), "w")  # noqa: SIM115
            command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1"]
            command += [f"--hostname=bench{k}@%h", "--without-gossip", "--without-mingle"]
            command += ["--loglevel=WARNING"]
            procs.append(
                subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=settings.BASE_DIR,
                    start_new_session=True,
                )
            )
        return procs

    def _wait_ready(self, app, workers: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=1.0) or []) >= workers:
                return
        raise CommandError("Celery 工作进程 90 秒内未就绪。")

    def _wait_done(self, made: dict, started: float, timeout: float) -> dict:
        pending = dict(made)
        results = {}
        while pending and time.perf_counter() - started < timeout:
            for county_id, (county, run_id) in list(pending.items()):
                with activate(Scope.for_node(county)):
                    run = ReportRun.objects.filter(pk=run_id).select_related("job").first()
                if run.state in (ReportRun.State.DONE, ReportRun.State.FAILED):
                    results[county_id] = run
                    del pending[county_id]
            if pending:
                time.sleep(0.2)
        for county_id, (county, run_id) in pending.items():
            with activate(Scope.for_node(county)):
                results[county_id] = ReportRun.objects.select_related("job").get(pk=run_id)
        return results

    def _report(self, results, villages, started_at, enqueued, observed, logs) -> None:
        done = [r for r in results.values() if r.state == ReportRun.State.DONE]
        failed = [r for r in results.values() if r.state != ReportRun.State.DONE]
        if done:
            last = max(r.finished_at for r in done)
            wall = (last - started_at).total_seconds()
            verdict = "达标" if wall <= TARGET_SECONDS and not failed else "未达标"
            self.stdout.write(
                f"总用时(第一次提交→最后一次结果入库):{wall:.1f} 秒"
                f"(目标 ≤ {TARGET_SECONDS:.0f} 秒:{verdict});"
                f"提交 {len(results)} 次用 {enqueued:.1f} 秒,"
                f"轮询观察到全部完成 {observed:.1f} 秒"
            )
            durations = sorted(r.duration_ms for r in done)
            self.stdout.write(
                f"每次生成用时(任务内):中位 {statistics.median(durations):.0f} ms,"
                f"最长 {durations[-1]} ms,最短 {durations[0]} ms,"
                f"合计 {sum(durations) / 1000:.1f} 秒"
            )
            counts = [r.query_count for r in done]
            small = min(done, key=lambda r: villages[r.county_id])
            large = max(done, key=lambda r: villages[r.county_id])
            same = "相同" if min(counts) == max(counts) else "不同!"
            self.stdout.write(
                f"每次生成的查询数:最少 {min(counts)},最多 {max(counts)}({same});"
                f"最小的县 {villages[small.county_id]} 个村 {small.query_count} 次,"
                f"最大的县 {villages[large.county_id]} 个村 {large.query_count} 次"
            )
        self.stdout.write(f"失败 {len(failed)} 次(应为 0)。工作进程日志:{logs}")
        for run in failed[:5]:
            self.stdout.write(f"  {run.county_id}:{run.state} {run.job.error}")

    def _floor(self, counties, period, workers, results, started_at) -> None:
        spent = 0.0
        for county in counties:
            with activate(Scope.for_node(county)):
                started = time.perf_counter()
                floor(county, period)
                spent += time.perf_counter() - started
        done = [r for r in results.values() if r.state == ReportRun.State.DONE]
        ideal = spent / max(1, workers)
        line = (
            f"直接 SQL 底线(各县 5 条,依次在一个连接上):合计 {spent:.1f} 秒,"
            f"{workers} 个连接并行的理想值 {ideal:.1f} 秒"
        )
        if done and ideal:
            wall = (max(r.finished_at for r in done) - started_at).total_seconds()
            line += f";总用时是它的 {wall / ideal:.1f} 倍"
        self.stdout.write(line)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def _clean(key: str) -> None:
    """Earlier unpublished runs of the period (a repeat times fresh runs, not joins)."""
    runs = ReportRun.objects.filter(period_key=key, published_at__isnull=True)
    jobs = list(runs.values_list("job_id", flat=True))
    SnapshotNode.objects.filter(run__in=runs).delete()
    runs.delete()
    Job.objects.filter(pk__in=jobs).delete()


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the workers this command started (their own process groups), politely first."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
