"""Time every list page and API list at each scope, beside a FLOOR timed in the same run, and
the API lists' throughput under gunicorn with concurrent clients.

    manage.py benchmark_lists --county 130535 [--runs 20] [--clients 8] [--seconds 6]
        [--workers 3] [--only 会员] [--skip-latency] [--skip-throughput]

Run it connected as the application's database role (neither superuser nor BYPASSRLS), so
row-level security applies as in production, e.g.
DATABASE_URL=postgres://jsx_bench_app:…@127.0.0.1:5432/jsx_bench (`manage.py grant_app_role`).

1. Latency. Each list is requested in this process through Django's whole stack (middleware,
   session, scope, filters, view, template or serializer), DEBUG off, by an account of each
   scope: the county's administrator, and staff of the county's last township, a secretary
   of its last village and the leader of that village's last group (by division code: where
   a list read in order from the county's start has the farthest to go), those three created
   inside a transaction that is rolled back at the end. Pages 1 and 50 (page 50 only where
   the list is that long). One request warms up, one counts the queries, then --runs are
   timed (fewer when a case exceeds --budget seconds).
   FLOOR: the same rows of the same scoped table (same page, offset and size), fetched in the
   same scope by a plain `values()` query of the table's own columns: in the list's own
   order for the member, person and household lists (their selectors' querysets, without
   the joined tables), by id for the others.
2. Throughput. gunicorn (--workers sync workers, production settings, the same database role)
   serves config.benchmark_wsgi on a loopback port; --clients concurrent clients request the
   county's first page of the member, person and household API lists, and of each one's FLOOR
   endpoint (the same scoped rows as `values()` JSON, behind the same middleware, session and
   scope), in alternating rounds, each for at most --seconds and --max-requests. gunicorn is
   stopped at the end."""

from __future__ import annotations

import math
import os
import secrets
import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from associations import services
from associations.management.base import ScopedCommand
from associations.models import Association, ChangeRecord, Council, CouncilSeat, Level, Role, User
from associations.scope import Scope, activate
from config.benchmark_load import (
    FLOOR_PREFIX,
    ServerFailed,
    Throughput,
    loopback_gunicorn,
    run_load,
)
from households.models import HardshipAssessment, Household, Person
from households.selectors import household_list, person_list
from members.models import (
    Commendation,
    ContactHousehold,
    GroupRole,
    Member,
    Pairing,
    VolunteerTeam,
)
from members.selectors import member_list

TARGET_P95_MS = 50.0
TARGET_THROUGHPUT_RATIO = 0.5
DEEP_PAGE = 50
PAGE_ROWS, API_ROWS = 30, 50  # the pages' PER_PAGE and the API's default page size
SCOPE_ROLES = {
    Level.COUNTY: Role.COUNTY_ADMIN,
    Level.TOWNSHIP: Role.TOWNSHIP_STAFF,
    Level.VILLAGE: Role.VILLAGE_SECRETARY,
    Level.GROUP: Role.GROUP_LEADER,
}
SCOPE_LABELS = {
    Level.COUNTY: "县",
    Level.TOWNSHIP: "乡镇",
    Level.VILLAGE: "村",
    Level.GROUP: "小组",
}
ALL_SCOPES = tuple(SCOPE_ROLES)


@dataclass(frozen=True)
class ListSpec:
    """A list users open: its URL at a node, and the scoped rows a page of it shows."""

    label: str
    kind: str  # 页面 / 接口
    url: Callable[[Association], str]
    rows: Callable[[Association], QuerySet]  # the FLOOR's rows, inside the user's scope
    per_page: int | None  # None: the whole list on one page
    scopes: tuple[str, ...] = ALL_SCOPES


def _at(path: str) -> Callable[[Association], str]:
    return lambda node: path


def _node_page(suffix: str) -> Callable[[Association], str]:
    return lambda node: f"/nodes/{node.pk}/{suffix}"


def _all(model) -> Callable[[Association], QuerySet]:
    return lambda node: model.objects.all()


def _listed(selector, **filters) -> Callable[[Association], QuerySet]:
    """The list's own queryset from its selector: its filters and its order."""
    return lambda node: selector(actor=None, filters=filters or None)


LISTS = [
    ListSpec(
        "会员列表",
        "页面",
        _at("/members/"),
        _listed(member_list, status=Member.Status.ACTIVE),
        PAGE_ROWS,
    ),
    ListSpec("人员列表", "页面", _at("/people/"), _listed(person_list), PAGE_ROWS),
    ListSpec(
        "家庭户列表",
        "页面",
        _at("/households/"),
        _listed(household_list),
        PAGE_ROWS,
    ),
    ListSpec(
        "变更记录",
        "页面",
        _node_page("history/"),
        lambda node: ChangeRecord.objects.filter(node=node),
        PAGE_ROWS,
    ),
    ListSpec(
        "困难家庭名册",
        "页面",
        _node_page("hardship/"),
        lambda node: HardshipAssessment.objects.filter(year=timezone.localdate().year),
        PAGE_ROWS,
    ),
    ListSpec("志愿者服务队", "页面", _node_page("volunteers/"), _all(VolunteerTeam), None),
    ListSpec(
        "会员小组",
        "页面",
        _node_page("group/"),
        lambda node: Member.objects.filter(group=node, status=Member.Status.ACTIVE),
        None,
        scopes=(Level.GROUP,),
    ),
    ListSpec(
        "账号",
        "页面",
        _at("/staff/"),
        lambda node: User.objects.filter(node__in=Association.objects.all()),
        None,
        scopes=(Level.COUNTY,),
    ),
    ListSpec("会员", "接口", _at("/api/v1/members/"), _listed(member_list), API_ROWS),
    ListSpec("人员", "接口", _at("/api/v1/persons/"), _listed(person_list), API_ROWS),
    ListSpec(
        "家庭户",
        "接口",
        _at("/api/v1/households/"),
        _listed(household_list),
        API_ROWS,
    ),
    ListSpec("组织", "接口", _at("/api/v1/associations/"), _all(Association), API_ROWS),
    ListSpec("理事会", "接口", _at("/api/v1/councils/"), _all(Council), API_ROWS),
    ListSpec("理事会成员", "接口", _at("/api/v1/council-seats/"), _all(CouncilSeat), API_ROWS),
    ListSpec("小组职务", "接口", _at("/api/v1/group-roles/"), _all(GroupRole), API_ROWS),
    ListSpec(
        "会员联系户", "接口", _at("/api/v1/contact-households/"), _all(ContactHousehold), API_ROWS
    ),
    ListSpec("结对帮扶", "接口", _at("/api/v1/pairings/"), _all(Pairing), API_ROWS),
    ListSpec("表彰", "接口", _at("/api/v1/commendations/"), _all(Commendation), API_ROWS),
    ListSpec(
        "志愿者服务队", "接口", _at("/api/v1/volunteer-teams/"), _all(VolunteerTeam), API_ROWS
    ),
]
THROUGHPUT_LISTS = [("会员", "members"), ("人员", "persons"), ("家庭户", "households")]


# --- statistics and layout -------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cell(text, width: int, *, left: bool = False) -> str:
    text = str(text)
    padding = " " * max(0, width - _width(text))
    return text + padding if left else padding + text


@dataclass
class Timing:
    label: str
    scope: str
    page: int
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    queries: int = 0
    rows: int = 0
    status: int = 200

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)

    @property
    def floor_p50(self) -> float:
        return statistics.median(self.floor_times)


# --- the command -----------------------------------------------------------------------------


class Command(ScopedCommand):
    help = (
        "测量每个列表页面和接口列表(首页与第 50 页、各层级范围)的 p50/p95 耗时及同次运行的"
        "底线(values() 查询),以及 gunicorn 下 8 个并发客户端的接口吞吐量与其底线之比。"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--runs", type=int, default=20, help="每项计时的请求次数")
        parser.add_argument(
            "--budget", type=float, default=5.0, help="每项计时最多用时(秒),至少测 3 次"
        )
        parser.add_argument("--only", default="", help="只测名称含此文字的列表,如 会员")
        parser.add_argument("--clients", type=int, default=8, help="吞吐量测试的并发客户端数")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker 数")
        parser.add_argument(
            "--seconds", type=float, default=6.0, help="吞吐量每轮每个地址的最长时间(秒)"
        )
        parser.add_argument(
            "--max-requests", type=int, default=3000, help="吞吐量每轮每个地址的最多请求数"
        )
        parser.add_argument("--rounds", type=int, default=2, help="吞吐量测试轮数(交替测底线)")
        parser.add_argument("--skip-latency", action="store_true", help="不测各列表耗时")
        parser.add_argument("--skip-throughput", action="store_true", help="不测吞吐量")

    def handle(self, *args, county_node, verbosity, **options):
        self._refuse_rls_bypass()
        admin = (
            User.objects.filter(
                county=county_node, node=county_node, role=Role.COUNTY_ADMIN, is_active=True
            )
            .order_by("pk")
            .first()
        )
        if admin is None:
            raise CommandError(f"{county_node.name}没有县级管理员账号。")
        self.stdout.write(
            f"{county_node.division_code} {county_node.name}:会员 {Member.objects.count()} 人,"
            f"人员 {Person.objects.count()} 人,家庭户 {Household.objects.count()} 户;"
            f"数据库角色 {self._role()}(受行级安全约束)。{_machine()}"
        )
        admin_client = self._client(admin)  # committed: gunicorn's workers read this session
        try:
            if not options["skip_latency"]:
                with transaction.atomic():
                    accounts = {Level.COUNTY: admin, **self._scope_accounts(admin)}
                    clients = {
                        level: admin_client if user is admin else self._client(user)
                        for level, user in accounts.items()
                    }
                    self._latency(accounts, clients, options)
                    transaction.set_rollback(True)  # the run's accounts and sessions go
            if not options["skip_throughput"]:
                self._throughput(admin_client, options)
        finally:
            admin_client.logout()  # deletes the benchmark's session
        self.stdout.write(f"结束时:{_machine()}")

    # --- set-up ------------------------------------------------------------------------------

    def _role(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            return cursor.fetchone()[0]

    def _refuse_rls_bypass(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            (bypasses,) = cursor.fetchone()
        if bypasses:
            raise CommandError(
                f"数据库角色 {self._role()} 不受行级安全约束,测得的不是生产环境的耗时。"
                "请以应用角色连接(manage.py grant_app_role 创建),例如 "
                "DATABASE_URL=postgres://jsx_bench_app:密码@127.0.0.1:5432/jsx_bench。"
            )

    def _scope_accounts(self, admin: User) -> dict[str, User]:
        """An account at the county's last township, that township's last village and that
        village's last group (by division code): where a list read in its order from the start
        of the county has the farthest to go. Created by the county admin inside the run's
        transaction, which is rolled back."""
        accounts, parent = {}, admin.node
        for level in (Level.TOWNSHIP, Level.VILLAGE, Level.GROUP):
            node = (
                Association.objects.filter(level=level, parent=parent)
                .order_by("-division_code")
                .first()
            )
            if node is None:
                self.stdout.write(f"{parent.name}之下没有{SCOPE_LABELS[level]},跳过该范围。")
                break
            accounts[level] = services.user_create(
                actor=admin,
                username=f"benchmark_{level}_{admin.node.division_code}",
                password=secrets.token_urlsafe(24),
                node=node,
                role=SCOPE_ROLES[level],
            )
            parent = node
        places = "、".join(f"{SCOPE_LABELS[k]} {u.node.name}" for k, u in accounts.items())
        self.stdout.write(f"各级范围的账号(本次运行临时建立,结束时回滚):{places}。")
        return accounts

    @staticmethod
    def _client(user: User) -> Client:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        return client

    # --- 1. latency ----------------------------------------------------------------------------

    def _latency(self, accounts, clients, options) -> None:
        runs, budget, only = options["runs"], options["budget"], options["only"]
        self.stdout.write(
            f"\n一、各列表耗时(本进程内经完整的 Django 请求处理,DEBUG 关闭;每项预热 1 次、"
            f"计查询数 1 次,再计时最多 {runs} 次或 {budget:g} 秒)。"
            "\n底线:同一范围、同一页的同表行,values() 取本表各列"
            "(会员、人员、家庭户按列表顺序,其余按 id)。"
            f"目标 p95 ≤ {TARGET_P95_MS:g} ms。"
        )
        header = (
            cell("列表", 22, left=True)
            + cell("范围", 6, left=True)
            + cell("页", 4)
            + cell("p50", 9)
            + cell("p95", 9)
            + cell("查询", 6)
            + cell("行数", 7)
            + cell("底线p50", 9)
            + cell("倍数", 7)
        )
        self.stdout.write(header)
        failures = []
        with override_settings(DEBUG=False):
            for spec in LISTS:
                if only and only not in spec.label:
                    continue
                for level in spec.scopes:
                    if level not in accounts:
                        continue
                    for page in (1, DEEP_PAGE) if spec.per_page else (1,):
                        timing = self._time_list(
                            spec, accounts[level], clients[level], page, runs, budget
                        )
                        if timing is None:
                            continue
                        self.stdout.write(self._latency_line(spec, timing))
                        if timing.status == 200 and timing.p95 > TARGET_P95_MS:
                            failures.append(timing)
        self.stdout.write(
            f"p95 超过 {TARGET_P95_MS:g} ms 的:{len(failures)} 项"
            + (
                "。"
                if not failures
                else ":" + "、".join(f"{t.label}({t.scope} 第{t.page}页)" for t in failures)
            )
        )

    def _time_list(self, spec, user, client, page, runs, budget) -> Timing | None:
        node = user.node
        scope = Scope.for_node(node)
        offset = (page - 1) * (spec.per_page or 0)
        limit = (spec.per_page + 1) if spec.per_page else None
        with activate(scope):
            floor_query = self._floor_query(spec, node, offset, limit)
            if page > 1 and not list(floor_query[:1]):
                return None  # the list is not that long at this scope
        url = spec.url(node) + (f"?page={page}" if page > 1 else "")
        headers = {"HTTP_ACCEPT": "application/json"} if spec.kind == "接口" else {}
        timing = Timing(
            label=f"{spec.kind} {spec.label}", scope=SCOPE_LABELS[node.level], page=page
        )
        response = client.get(url, **headers)  # warm-up
        timing.status = response.status_code
        if response.status_code != 200:
            return timing
        with CaptureQueriesContext(connection) as captured:
            client.get(url, **headers)
        timing.queries = len(captured.captured_queries)
        started = time.perf_counter()
        while len(timing.times) < runs and (
            len(timing.times) < 3 or time.perf_counter() - started < budget
        ):
            began = time.perf_counter()
            client.get(url, **headers)
            timing.times.append((time.perf_counter() - began) * 1000)
        with activate(scope):
            for _ in range(len(timing.times)):
                began = time.perf_counter()
                timing.rows = len(list(self._floor_query(spec, node, offset, limit)))
                timing.floor_times.append((time.perf_counter() - began) * 1000)
        return timing

    @staticmethod
    def _floor_query(spec, node, offset, limit):
        queryset = spec.rows(node)
        columns = [f.attname for f in queryset.model._meta.concrete_fields]
        queryset = queryset.values(*columns)  # the list's own order, or the table's ids
        queryset = queryset if queryset.query.order_by else queryset.order_by("pk")
        return queryset[offset : offset + limit] if limit else queryset

    def _latency_line(self, spec, timing: Timing) -> str:
        start = cell(timing.label, 22, left=True) + cell(timing.scope, 6, left=True)
        start += cell(timing.page, 4)
        if timing.status != 200:
            return start + f"  HTTP {timing.status}(该账号不能打开,跳过)"
        flag = "" if timing.p95 <= TARGET_P95_MS else "  ← 超过目标"
        return (
            start
            + cell(f"{timing.p50:.1f}", 9)
            + cell(f"{timing.p95:.1f}", 9)
            + cell(timing.queries, 6)
            + cell(timing.rows, 7)
            + cell(f"{timing.floor_p50:.1f}", 9)
            + cell(f"{timing.p50 / timing.floor_p50:.1f}", 7)
            + flag
        )

    # --- 2. throughput -------------------------------------------------------------------------

    def _throughput(self, client: Client, options) -> None:
        if len(settings.SECRET_KEY) < 32:
            raise CommandError("SECRET_KEY 少于 32 个字符,生产设置下的 gunicorn 无法启动。")
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            # The same key signs the sessions this process opened for the clients.
            "SECRET_KEY": settings.SECRET_KEY,
            "SECURE_COOKIES": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        environment.pop("WEB_CONCURRENCY", None)
        clients, workers = options["clients"], options["workers"]
        try:
            with loopback_gunicorn(
                workers=workers, environment=environment, cwd=settings.BASE_DIR
            ) as port:
                self.stdout.write(
                    f"\n二、接口吞吐量:gunicorn {workers} 个 sync worker(生产设置,"
                    f"127.0.0.1:{port}),{clients} 个并发客户端,县级管理员,第 1 页(50 行);"
                    f"{options['rounds']} 轮,每轮每个地址最多 {options['seconds']:g} 秒或 "
                    f"{options['max_requests']} 个请求,底线与接口交替测。"
                    f"目标:不低于底线的 {TARGET_THROUGHPUT_RATIO:.0%}。"
                )
                self._throughput_table(port, cookie, options)
        except ServerFailed as failure:
            raise CommandError(str(failure)) from failure

    def _throughput_table(self, port, cookie, options) -> None:
        targets = []
        for label, name in THROUGHPUT_LISTS:
            targets.append((label, f"/api/v1/{name}/", f"/{FLOOR_PREFIX}{name}/"))
        results = {path: Throughput() for _, api, floor in targets for path in (api, floor)}
        clients = options["clients"]
        for path in results:  # every worker warms up on every path
            run_load(
                port, path, cookie, clients=clients, requests=4 * options["workers"], seconds=30
            )
        for _ in range(options["rounds"]):
            for _label, api, floor in targets:
                for path in (floor, api):
                    results[path].add(
                        run_load(
                            port,
                            path,
                            cookie,
                            clients=clients,
                            requests=options["max_requests"],
                            seconds=options["seconds"],
                        )
                    )
        self.stdout.write(
            cell("接口", 30, left=True)
            + cell("请求", 7)
            + cell("req/s", 8)
            + cell("p50", 8)
            + cell("p95", 8)
            + cell("底线req/s", 11)
            + cell("底线p50", 9)
            + cell("比值", 7)
        )
        for label, api, floor in targets:
            mine, base = results[api], results[floor]
            ratio = mine.per_second / base.per_second if base.per_second else 0.0
            flag = "" if ratio >= TARGET_THROUGHPUT_RATIO else "  ← 低于目标"
            errors = f"  错误 {mine.errors + base.errors} 个" if mine.errors + base.errors else ""
            self.stdout.write(
                cell(f"{label} {api}", 30, left=True)
                + cell(mine.requests, 7)
                + cell(f"{mine.per_second:.0f}", 8)
                + cell(f"{statistics.median(mine.latencies):.1f}", 8)
                + cell(f"{percentile(mine.latencies, 0.95):.1f}", 8)
                + cell(f"{base.per_second:.0f}", 11)
                + cell(f"{statistics.median(base.latencies):.1f}", 9)
                + cell(f"{ratio:.2f}", 7)
                + flag
                + errors
            )


def _machine() -> str:
    """Other load on the machine inflates every figure (the floors too): say how much."""
    one, five, _ = os.getloadavg()
    return f"本机 {os.cpu_count()} 个 CPU,平均负载 {one:.1f}(1 分钟)/ {five:.1f}(5 分钟)。"
