"""Times the candidates of 农村部分计划生育家庭奖励扶助 (and 特别扶助) over a whole county, as the
candidates page and API compute them, beside a hand-written SQL floor measured in the same run.

    manage.py benchmark_candidates --county 130535 [--runs 5] [-v 2 for the plans]

The programmes are made from their national templates inside a transaction that is rolled
back at the end: the county is left as it was. Each case runs once to warm the caches, then
``--runs`` times; medians, the floor's median and their ratio are printed, and the counts of
both are checked to agree."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from associations.management.base import ScopedCommand
from associations.models import Role, User
from households.models import Person

from ...candidates import Evaluation, Show
from ...eligibility import born_by
from ...models import ProgramTemplate
from ...program_services import program_create
from ...program_templates import TEMPLATES

PAGE = 51

# The floor: the same counts of 奖励扶助 by one statement, written by hand.
FLOOR_COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE p.birth_date <= %(born_by)s
                          AND p.residency = ANY(%(residencies)s)
                          AND p.registration_kind = %(kind)s)
FROM households_person p
JOIN households_household h ON h.id = p.household_id
WHERE p.county_id = %(county)s AND NOT p.is_deceased
  AND h.categories && %(categories)s::varchar[]
  AND p.relation_to_head = ANY(%(relations)s)
"""
FLOOR_PAGE = """
SELECT p.id, p.name, p.birth_date, p.registration_kind, p.residency, h.number, h.categories
FROM households_person p
JOIN households_household h ON h.id = p.household_id
WHERE p.county_id = %(county)s AND NOT p.is_deceased
  AND h.categories && %(categories)s::varchar[]
  AND p.relation_to_head = ANY(%(relations)s)
  AND p.birth_date <= %(born_by)s AND p.residency = ANY(%(residencies)s)
  AND p.registration_kind = %(kind)s
ORDER BY p.village_id, p.household_id, p.birth_date, p.id
LIMIT 51
"""


class Rollback(Exception):
    pass


def _median(run, runs: int) -> tuple[float, object, int]:
    result = run()  # warm-up
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = run()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(times), result, queries


class Command(ScopedCommand):
    help = "测量全县奖励扶助、特别扶助候选对象的计数和首页耗时,并与手写 SQL 底线对比。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--runs", type=int, default=5, help="每项测量的次数(取中位数)")

    def handle(self, *args, county_node, runs, verbosity, **options):
        county = county_node
        actor = User.objects.filter(county=county, node=county, role=Role.COUNTY_ADMIN).first()
        if actor is None:
            raise CommandError(f"{county.name}没有县级管理员账号。")
        persons = Person.objects.count()
        self.stdout.write(f"{county.division_code} {county.name}:{persons} 人;每项测 {runs} 次。")
        try:
            with transaction.atomic():
                self._run(county, actor, runs, verbosity)
                raise Rollback
        except Rollback:
            pass

    def _program(self, actor, key: str):
        template = TEMPLATES[key]
        return program_create(
            actor=actor,
            name=f"{template.name}(测量)",
            template=key,
            kind=template.kind,
            frequency=template.frequency,
            beneficiary_kind=template.beneficiary_kind,
            standard_amount=template.standard_amount,
            rule=template.rule,
            rates=template.rates,
        )

    def _run(self, county, actor, runs: int, verbosity: int) -> None:
        today = timezone.localdate()
        year = today.year
        reward = self._program(actor, ProgramTemplate.REWARD_ASSISTANCE)
        special = self._program(actor, ProgramTemplate.SPECIAL_ASSISTANCE)
        evaluation = Evaluation(program=reward, node=county, year=year, today=today)
        rule = evaluation.rule
        params = {
            "county": county.pk,
            "born_by": born_by(evaluation.ref, rule.min_age),
            "residencies": list(rule.residencies),
            "kind": rule.registration_kind,
            "categories": list(rule.categories),
            "relations": list(rule.relations),
        }

        def floor_counts():
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_COUNTS, params)
                return cursor.fetchone()

        def floor_page():
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_PAGE, params)
                return cursor.fetchall()

        def counts():
            return Evaluation(program=reward, node=county, year=year, today=today).counts()

        def first_page():
            return Evaluation(program=reward, node=county, year=year, today=today).page(
                show=Show.APPLICABLE, village=None, offset=0, limit=PAGE
            )

        def excluded_page():
            return Evaluation(program=reward, node=county, year=year, today=today).page(
                show=Show.EXCLUDED, village=None, offset=0, limit=PAGE
            )

        def special_counts():
            return Evaluation(program=special, node=county, year=year, today=today).counts()

        floor_c, (total, eligible), _ = _median(floor_counts, runs)
        floor_p, floor_rows, _ = _median(floor_page, runs)
        took_c, found, queries_c = _median(counts, runs)
        took_p, page, queries_p = _median(first_page, runs)
        took_x, excluded, queries_x = _median(excluded_page, runs)
        took_s, special_found, queries_s = _median(special_counts, runs)
        if (found.total, found.eligible) != (total, eligible):
            raise CommandError(f"计数不一致:{found} 与底线 {(total, eligible)}")
        if [c.key for c in page] != [row[0] for row in floor_rows]:
            raise CommandError("首页的行与底线不一致。")
        self.stdout.write(
            f"奖励扶助:候选 {found.total} 人,符合 {found.eligible},不符合 {found.excluded}。"
        )
        self.stdout.write(f"{'':<26}{'中位数 ms':>10}{'底线 ms':>10}{'倍数':>7}{'查询数':>7}")
        for label, took, floor, queries in (
            ("奖励扶助 计数(全县)", took_c, floor_c, queries_c),
            ("奖励扶助 可申报首页(51 行)", took_p, floor_p, queries_p),
            ("奖励扶助 不符合首页(51 行)", took_x, None, queries_x),
            (f"特别扶助 计数(候选 {special_found.total})", took_s, None, queries_s),
        ):
            ratio = f"{took / floor:>7.2f}" if floor else f"{'':>7}"
            floor_text = f"{floor:>10.1f}" if floor else f"{'':>10}"
            self.stdout.write(f"{label:<26}{took:>10.1f}{floor_text}{ratio}{queries:>7}")
        if verbosity >= 2:
            with CaptureQueriesContext(connection) as captured:
                counts()
            sql = max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))
        self.stdout.write(f"(共 {len(excluded)} 行不符合的首页;测量用的项目已回滚)")
