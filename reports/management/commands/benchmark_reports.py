"""Time one county-period report run, enqueue to persisted snapshot, beside a FLOOR: the
hand-written SQL that computes the same indicator values, timed in the same run.

    manage.py benchmark_reports --county 130535 [--period 2026-Q1] [--scheme-version <id>]
        [--runs 3]
        [--keep]

Run it as the application's database role (row-level security applies), e.g.
DATABASE_URL=postgres://jsx_bench_app:benchapp@127.0.0.1:5432/jsx_bench_stats.

PRODUCT: `reports.runs.request_run` as the county admin, the job published to an in-process
(eager) Celery, so the real task runs here: claim, heartbeat, every registered indicator of
the version, manual scores, population and members, scoring, ranks, and the snapshot rows
inserted; timed until the run is done. The version is --scheme-version, else the county's version
in use (the default scheme of the period's year is created and put in use when there is
none). The runs made are deleted afterwards unless --keep.

FLOOR: one statement per indicator family, sent through psycopg on the same connection:
duties (activities.management.commands.benchmark_activities.DUTIES_SQL: group activities,
leader visits, the president's groups, council meetings, congresses and trainings), members
and 常住人口 by village, themed-day publicity, hardship households helped, council seats of
the councils in office; and the figures the snapshot stores beside the scores: the population
table (people by residency with the women 15-49, deaths and births with their order, and
households), the activity statistics (kinds, themes, themed days, materials) and the pay
sheet's post holders. Only the values: no scoring, no rows written.

Printed: the median of each, their ratio (target ≤ 3×) and the run's query count (which does
not grow with villages: tests/reports/test_runs.py)."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import CommandError
from django.db import connection

from activities.management.commands.benchmark_activities import DUTIES_SQL, _fetch
from associations.management.base import ScopedCommand
from associations.models import Job, Level, Role, User
from associations.periods import parse_period, period_key
from households.figures import age_cut

from ... import runs as report_runs
from ...defaults import scheme_create_default
from ...models import ReportRun, SchemeVersion, SnapshotNode
from ...services import scheme_version_activate

TARGET_RATIO = 3.0

MEMBERS_SQL = """
SELECT 'members', village_id, count(*) FROM members_member
WHERE county_id = %(county)s AND joined_on <= %(end)s
  AND (left_on > %(end)s OR (left_on IS NULL AND status = 'active'))
GROUP BY village_id
UNION ALL
SELECT 'population', village_id, count(*) FROM households_person
WHERE county_id = %(county)s AND birth_date <= %(end)s
  AND (NOT is_deceased OR died_on > %(end)s) AND residency IN ('registered', 'inflow')
GROUP BY village_id
"""

THEMED_SQL = """
SELECT DISTINCT a.village_id, a.themed_day_id, extract(year FROM a.date)::int
FROM activities_activity a
JOIN activities_themedday d ON d.id = a.themed_day_id AND d.is_active
WHERE a.county_id = %(county)s AND a.village_id IS NOT NULL
  AND a.date BETWEEN %(start)s AND %(end)s
  AND make_date(extract(year FROM a.date)::int, d.month, d.day) BETWEEN %(start)s AND %(end)s
"""

HARDSHIP_SQL = """
SELECT h.village_id, count(*), count(*) FILTER (WHERE
    EXISTS (SELECT 1 FROM members_pairing p WHERE p.household_id = h.household_id
            AND p.starts_on <= %(end)s AND (p.ends_on IS NULL OR p.ends_on >= %(start)s))
 OR EXISTS (SELECT 1 FROM activities_homevisit v WHERE v.household_id = h.household_id
            AND v.visited_on BETWEEN %(start)s AND %(end)s
            AND v.purpose IN ('hardship_help', 'condolence'))
 OR EXISTS (SELECT 1 FROM households_assistancerecord r WHERE r.household_id = h.household_id
            AND r.given_on BETWEEN %(start)s AND %(end)s))
FROM households_hardshipassessment h
WHERE h.county_id = %(county)s AND h.year = %(year)s AND h.status = 'in_roster'
GROUP BY h.village_id
"""

COUNCIL_SQL = """
SELECT DISTINCT ON (c.association_id) c.association_id, c.id, s.background, s.n
FROM associations_council c
JOIN associations_association a ON a.id = c.association_id AND a.level = 'village'
LEFT JOIN (SELECT council_id, background, count(*) AS n FROM associations_councilseat
           WHERE county_id = %(county)s GROUP BY council_id, background) s
       ON s.council_id = c.id
WHERE c.county_id = %(county)s AND c.starts_on <= %(end)s AND c.ends_on >= %(start)s
ORDER BY c.association_id, c.starts_on DESC, c.id DESC
"""


# The figures the snapshot stores beside the scores (sheet 2's population table, sheet 3's
# activity statistics, the pay sheet's post holders): the product computes them in the same
# run, so the floor computes them too.
PEOPLE_FIGURES_SQL = """
SELECT township_id, village_id, residency,
  count(*) FILTER (WHERE birth_date <= %(end)s AND (NOT is_deceased OR died_on > %(end)s)),
  count(*) FILTER (WHERE birth_date <= %(end)s AND (NOT is_deceased OR died_on > %(end)s)
                   AND sex = 'female' AND birth_date <= %(born_by_15)s
                   AND birth_date > %(born_after_50)s),
  count(*) FILTER (WHERE birth_date <= %(end)s AND (NOT is_deceased OR died_on > %(end)s)
                   AND sex = 'female' AND birth_date <= %(born_by_15)s
                   AND birth_date > %(born_after_50)s AND marital_status = 'married'),
  count(*) FILTER (WHERE died_on BETWEEN %(start)s AND %(end)s),
  count(*) FILTER (WHERE died_on BETWEEN %(start)s AND %(end)s AND sex = 'male'),
  count(*) FILTER (WHERE died_on BETWEEN %(start)s AND %(end)s AND sex = 'female')
FROM households_person WHERE county_id = %(county)s
GROUP BY 1, 2, 3
"""

BIRTHS_SQL = """
SELECT township_id, village_id, sex, residency, birth_order, count(*) FROM (
  SELECT p.township_id, p.village_id, p.sex, p.residency,
         CASE WHEN p.mother_id IS NULL THEN NULL
              ELSE (SELECT count(*) FROM households_person s
                    WHERE s.mother_id = p.mother_id AND s.birth_date <= p.birth_date) END
           AS birth_order
  FROM households_person p
  WHERE p.county_id = %(county)s AND p.birth_date BETWEEN %(start)s AND %(end)s) b
GROUP BY 1, 2, 3, 4, 5
"""

HOUSEHOLD_FIGURES_SQL = """
SELECT township_id, village_id, residency, count(*) FROM households_household
WHERE county_id = %(county)s GROUP BY 1, 2, 3
"""

ACTIVITY_FIGURES_SQL = """
SELECT township_id, village_id, kind, theme_id, themed_day_id, count(*),
       sum(participants), sum(consultations), sum(trainees)
FROM activities_activity
WHERE county_id = %(county)s AND date BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2, 3, 4, 5
"""

MATERIALS_SQL = """
SELECT h.township_id, h.village_id, h.material_id, sum(h.quantity)
FROM activities_materialhandout h JOIN activities_activity a ON a.id = h.activity_id
WHERE h.county_id = %(county)s AND a.date BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2, 3
"""

POSTS_SQL = """
SELECT c.association_id, NULL, s.person_name
FROM associations_councilseat s JOIN associations_council c ON c.id = s.council_id
WHERE s.county_id = %(county)s AND s.position = 'president'
  AND c.starts_on <= %(end)s AND c.ends_on >= %(end)s
UNION ALL
SELECT g.parent_id, g.name, p.name
FROM members_grouprole r
JOIN associations_association g ON g.id = r.group_id
JOIN members_member m ON m.id = r.member_id
JOIN households_person p ON p.id = m.person_id
WHERE r.county_id = %(county)s AND r.role = 'leader' AND r.starts_on <= %(end)s
  AND (r.ends_on IS NULL OR r.ends_on >= %(end)s)
"""


INDICATOR_FAMILIES = {
    "duties": DUTIES_SQL,
    "members": MEMBERS_SQL,
    "themed": THEMED_SQL,
    "hardship": HARDSHIP_SQL,
    "council": COUNCIL_SQL,
}
STORED_FIGURES = {
    "people_figures": PEOPLE_FIGURES_SQL,
    "births": BIRTHS_SQL,
    "household_figures": HOUSEHOLD_FIGURES_SQL,
    "activity_figures": ACTIVITY_FIGURES_SQL,
    "materials": MATERIALS_SQL,
    "posts": POSTS_SQL,
}


def floor(county, period, seconds: dict | None = None) -> dict:
    """The values of every indicator family and the figures stored beside them, one
    hand-written statement each; `seconds` gets the time of each part."""
    years = period.whole_years()
    params = {
        "county": county.pk,
        "start": period.start,
        "end": period.end,
        "year": period.end.year,
        "year_start": years.start,
        "year_end": years.end,
        "born_by_15": age_cut(period.end, 15),
        "born_after_50": age_cut(period.end, 50),
    }
    values = {}
    for part, statements in (("indicators", INDICATOR_FAMILIES), ("figures", STORED_FIGURES)):
        started = time.perf_counter()
        values |= {name: _fetch(sql, params) for name, sql in statements.items()}
        if seconds is not None:
            seconds[part] = time.perf_counter() - started
    return values


class Command(ScopedCommand):
    help = "一次县级考核生成(提交到结果入库)与直接 SQL 计算同样指标值的用时比较。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--period", default="", help="统计期,如 2026-Q1(默认:上一季度)")
        parser.add_argument(
            "--scheme-version",
            dest="scheme_version",
            type=int,
            default=None,
            help="考核细则版本编号",
        )
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--keep", action="store_true", help="保留生成的考核记录")

    def handle(self, *args, county_node, period, scheme_version, runs, keep, **options):
        from associations.tasks import run_job

        county = county_node
        try:
            the_period = parse_period(period or "2026-Q1")
        except ValueError as error:
            raise CommandError(str(error)) from None
        key = period_key(the_period)
        admin = User.objects.filter(county_id=county.pk, role=Role.COUNTY_ADMIN).first()
        if admin is None:
            raise CommandError("该县没有县级管理员账号。")
        the_version = self._version(county, admin, scheme_version, the_period.end.year)
        run_job.app.conf.task_always_eager = True  # the task runs here, in this process
        made: list[int] = []

        def product():
            run, _ = report_runs.request_run(
                actor=admin, county=county, period_key=key, version=the_version
            )
            made.append(run.pk)
            run.refresh_from_db()
            if run.state != ReportRun.State.DONE:
                raise CommandError(f"考核生成未完成:{run.state} {run.job.error}")
            return run

        counts = {
            level: n
            for level, n in _level_counts(county).items()
            if level in (Level.TOWNSHIP, Level.VILLAGE, Level.GROUP)
        }
        self.stdout.write(
            f"{county.name} {key}:乡镇 {counts.get('township', 0)},村(社区) "
            f"{counts.get('village', 0)},小组 {counts.get('group', 0)};"
            f"考核细则 {the_version}。预热 1 次,计时 {runs} 次。"
        )
        try:
            first = product()
            floor(county, the_period)
            times, floor_times = [], {"indicators": [], "figures": []}
            for _ in range(max(1, runs)):
                started = time.perf_counter()
                run = product()
                times.append(time.perf_counter() - started)
                seconds = {}
                floor(county, the_period, seconds)
                for part, spent in seconds.items():
                    floor_times[part].append(spent)
            rows = SnapshotNode.objects.filter(run=run).count()
            self.stdout.write(_check(run, floor(county, the_period)))
            product_median = statistics.median(times)
            indicators = statistics.median(floor_times["indicators"])
            whole = statistics.median(a + b for a, b in zip(*floor_times.values(), strict=True))
            self.stdout.write(
                f"考核生成(提交→结果入库):中位 {product_median * 1000:.0f} ms,"
                f"最快 {min(times) * 1000:.0f} ms;快照 {rows} 行;"
                f"生成任务内查询 {run.query_count} 次(首次 {first.query_count} 次)"
            )
            self.stdout.write(
                f"直接 SQL:指标值 {len(INDICATOR_FAMILIES)} 条(各指标族一条)中位 "
                f"{indicators * 1000:.0f} ms;连同快照一并保存的其余数字共 "
                f"{len(INDICATOR_FAMILIES) + len(STORED_FIGURES)} 条,中位 {whole * 1000:.0f} ms"
            )
            ratio = product_median / indicators
            verdict = "达标" if ratio <= TARGET_RATIO else "未达标"
            self.stdout.write(
                f"比值(对指标值底线){ratio:.2f}×(目标 ≤ {TARGET_RATIO:.0f}×):{verdict};"
                f"对同样数字的全部底线 {product_median / whole:.2f}×"
            )
            self.stdout.write(f"数据库连接角色:{_role()}")
        finally:
            if not keep:
                self._clean(made)

    def _version(self, county, admin, pk, year) -> SchemeVersion:
        if pk is not None:
            version = SchemeVersion.objects.filter(pk=pk).first()
            if version is None:
                raise CommandError("没有这个考核细则版本。")
            return version
        version = (
            SchemeVersion.objects.filter(state=SchemeVersion.State.IN_USE, scheme__year=year)
            .order_by("-id")
            .first()
        )
        if version is not None:
            return version
        scheme = scheme_create_default(actor=admin, county=county, year=year)
        version = scheme.versions.get()
        self.stdout.write(f"已按默认指标创建并启用 {version}。")
        return scheme_version_activate(actor=admin, version=version)

    def _clean(self, made: list[int]) -> None:
        runs = ReportRun.objects.filter(pk__in=made, published_at__isnull=True)
        jobs = list(runs.values_list("job_id", flat=True))
        SnapshotNode.objects.filter(run__in=runs).delete()
        runs.delete()
        Job.objects.filter(pk__in=jobs).delete()


def _check(run, values: dict) -> str:
    """The floor reads what the run stored: members and 常住人口 summed over the villages, and
    the post holders the pay sheet names."""
    from django.db.models import Sum

    stored = SnapshotNode.objects.filter(run=run, level=Level.VILLAGE).aggregate(
        members=Sum("members"), population=Sum("population")
    )
    theirs = {"members": 0, "population": 0}
    for tag, _village, n in values["members"]:
        theirs[tag] += n
    stored["posts"] = sum(
        bool(posts["president"]) + len(posts["leaders"])
        for posts in SnapshotNode.objects.filter(run=run, level=Level.VILLAGE).values_list(
            "figures__posts", flat=True
        )
        if posts
    )
    theirs["posts"] = len(values["posts"])
    same = all((stored[k] or 0) == theirs[k] for k in theirs)
    figures = ",".join(f"{k} {stored[k]}" for k in theirs)
    return f"核对(会员、常住人口、会长和小组长人数):{'一致' if same else '不一致!'}({figures})"


def _level_counts(county) -> dict:
    from django.db.models import Count

    from associations.models import Association

    return dict(
        Association.objects.filter(county_id=county.pk)
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]
