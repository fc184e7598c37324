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

FLOOR: one statement per indicator family, sent through psycopg on the same connection,
each giving the VALUES the snapshot stores, for every village and group (not only the counts
they come from: the shares need their denominators, the groups of each village, the months
and quarters of the period, the themed days falling in it): duties (group activities and
leaders' visits by month, the president's groups, council meetings, congresses and trainings,
as activities.management.commands.benchmark_activities.DUTIES_SQL counts them), members ÷
常住人口, themed-day publicity, hardship households helped, the council model of the councils
in office, and the manual indicators' accepted scores; and the figures the snapshot stores
beside the scores: the population table (people by residency with the women 15-49, deaths and
births with their order, and households), the activity statistics (kinds, themes, themed
days, materials, with the catalogues' names), the pay sheet's post holders, the nodes' names,
codes and parents, the members who joined in the period, the groups' 五好/五有 ratings and
the care subsidies paid in the period.
No scoring, no rows written. The command
checks that the floor's values are the run's: every indicator value of every node (but the
cells the period does not assess), the members and 常住人口, the post holders.

Printed: the median of each, their ratio (target ≤ 3×) and the run's query count (which does
not grow with villages: tests/reports/test_runs.py)."""

from __future__ import annotations

import datetime
import statistics
import time
from decimal import Decimal

from django.core.management.base import CommandError
from django.db import connection

from activities.management.commands.benchmark_activities import _fetch
from associations.management.base import ScopedCommand
from associations.models import Job, Level, Role, User
from associations.periods import parse_period, period_key
from associations.selectors import COUNCIL_MODELS
from households.figures import age_cut

from ... import runs as report_runs
from ...defaults import scheme_create_default
from ...models import ReportRun, SchemeVersion, SnapshotNode
from ...scoring import NOT_ASSESSED
from ...services import scheme_version_activate

TARGET_RATIO = 3.0

# The indicator values, as the snapshot stores them for every village and group: one statement
# per indicator family, each (indicator key, node id, value) with the value as the registry
# computes it (percentages rounded half up to 0.01; NULL for "no value"). Each reads the
# county's villages and groups it needs: values are for every node, and the shares need the
# denominators (groups of a village, months, quarters, themed days of the period).
UNITS = """
villages AS (
    SELECT id, is_small_village FROM associations_association
    WHERE county_id = %(county)s AND level = 'village'
)"""

DUTY_VALUES_SQL = (
    """
WITH presidents AS (
    SELECT sh.member_id, c.association_id AS village_id, c.starts_on, c.ends_on
    FROM members_seatholder sh
    JOIN associations_councilseat s ON s.id = sh.seat_id AND s.position = 'president'
    JOIN associations_council c ON c.id = s.council_id
    WHERE sh.county_id = %(county)s
),"""
    + UNITS
    + """,
groups AS (
    SELECT id, village_id FROM associations_association
    WHERE county_id = %(county)s AND level = 'group'
),
months AS (SELECT unnest(%(months)s::date[]) AS month),
activity_months AS (
    SELECT group_id, date_trunc('month', date)::date AS month, count(*) AS n
    FROM activities_activity
    WHERE county_id = %(county)s AND group_id IS NOT NULL AND date BETWEEN %(start)s AND %(end)s
    GROUP BY 1, 2
),
visit_months AS (
    SELECT r.group_id, date_trunc('month', v.visited_on)::date AS month, count(*) AS n
    FROM activities_homevisit v
    JOIN members_grouprole r ON r.member_id = v.visitor_id AND r.role = 'leader'
        AND r.starts_on <= v.visited_on AND (r.ends_on IS NULL OR r.ends_on >= v.visited_on)
    WHERE v.county_id = %(county)s AND v.visited_on BETWEEN %(start)s AND %(end)s
      AND NOT EXISTS (
        SELECT 1 FROM members_grouprole later
        WHERE later.member_id = v.visitor_id AND later.role = 'leader'
          AND later.starts_on > r.starts_on AND later.starts_on <= v.visited_on
          AND (later.ends_on IS NULL OR later.ends_on >= v.visited_on))
    GROUP BY 1, 2
),
group_months AS (
    SELECT g.id, g.village_id,
           count(*) FILTER (WHERE a.n >= 1) AS active,
           count(*) FILTER (WHERE v.n >= 3) AS visited
    FROM groups g CROSS JOIN months m
    LEFT JOIN activity_months a ON a.group_id = g.id AND a.month = m.month
    LEFT JOIN visit_months v ON v.group_id = g.id AND v.month = m.month
    GROUP BY g.id, g.village_id
),
president_months AS (
    SELECT village_id, month, count(DISTINCT group_id) AS n FROM (
        SELECT a.village_id, date_trunc('month', a.date)::date AS month, a.group_id
        FROM activities_attendance t
        JOIN activities_activity a ON a.id = t.activity_id
        JOIN presidents p ON p.member_id = t.member_id AND p.village_id = a.village_id
            AND a.date BETWEEN p.starts_on AND p.ends_on
        WHERE t.county_id = %(county)s AND a.group_id IS NOT NULL
          AND a.date BETWEEN %(start)s AND %(end)s
        UNION ALL
        SELECT v.village_id, date_trunc('month', v.visited_on)::date, h.group_id
        FROM activities_homevisit v
        JOIN households_household h ON h.id = v.household_id AND h.group_id IS NOT NULL
        JOIN presidents p ON p.member_id = v.visitor_id AND p.village_id = v.village_id
            AND v.visited_on BETWEEN p.starts_on AND p.ends_on
        WHERE v.county_id = %(county)s AND v.visited_on BETWEEN %(start)s AND %(end)s
    ) went
    GROUP BY 1, 2
),
meetings AS (
    SELECT village_id, date_trunc('quarter', date)::date AS quarter,
        count(*) FILTER (WHERE group_id IS NULL AND kind = 'meeting' AND meeting_type = 'council')
            AS council,
        count(*) FILTER (WHERE group_id IS NULL AND kind = 'meeting' AND meeting_type = 'congress')
            AS congress,
        count(*) FILTER (WHERE kind = 'training') AS training
    FROM activities_activity
    WHERE county_id = %(county)s AND village_id IS NOT NULL
      AND date BETWEEN %(year_start)s AND %(year_end)s
      AND (kind = 'training' OR (group_id IS NULL AND kind = 'meeting'
                                 AND meeting_type IN ('council', 'congress')))
    GROUP BY 1, 2
),
village_groups AS (
    SELECT village_id, count(*) AS groups,
           count(*) FILTER (WHERE active = %(month_count)s) AS every_month,
           sum(visited) AS visited
    FROM group_months GROUP BY village_id
),
council_quarters AS (
    SELECT village_id, count(*) AS met FROM meetings
    WHERE quarter = ANY(%(quarters)s::date[]) AND council >= 1
    GROUP BY village_id
),
president_met AS (
    SELECT pm.village_id, count(*) AS met
    FROM president_months pm JOIN village_groups vg ON vg.village_id = pm.village_id
    WHERE pm.month = ANY(%(months)s::date[]) AND pm.n >= least(3, vg.groups)
    GROUP BY pm.village_id
),
held AS (
    SELECT village_id, sum(congress) AS congress, sum(training) AS training FROM meetings
    WHERE quarter BETWEEN %(end_year_start)s AND %(end)s
    GROUP BY village_id
),
village_values AS (
    SELECT v.id,
        round(100.0 * coalesce(cq.met, 0) / %(quarter_count)s, 2) AS council_quarterly,
        round(100.0 * vg.every_month / NULLIF(vg.groups, 0), 2) AS group_activity_share,
        round(100.0 * vg.visited / NULLIF(vg.groups * %(month_count)s, 0), 2)
            AS leader_visit_share,
        CASE WHEN coalesce(vg.groups, 0) = 0 THEN NULL
             ELSE round(100.0 * coalesce(pr.met, 0) / %(month_count)s, 2)
        END AS president_group_visits,
        coalesce(h.congress, 0) AS congress_held,
        coalesce(h.training, 0) AS training_held
    FROM villages v
    LEFT JOIN village_groups vg ON vg.village_id = v.id
    LEFT JOIN council_quarters cq ON cq.village_id = v.id
    LEFT JOIN president_met pr ON pr.village_id = v.id
    LEFT JOIN held h ON h.village_id = v.id
)
SELECT x.key, v.id, x.value FROM village_values v CROSS JOIN LATERAL (VALUES
    ('council_quarterly', v.council_quarterly),
    ('group_activity_share', v.group_activity_share),
    ('leader_visit_share', v.leader_visit_share),
    ('president_group_visits', v.president_group_visits),
    ('congress_held', v.congress_held),
    ('training_held', v.training_held)) x(key, value)
UNION ALL
SELECT x.key, g.id, x.value FROM group_months g CROSS JOIN LATERAL (VALUES
    ('group_activity_months', round(100.0 * g.active / %(month_count)s, 2)),
    ('leader_visit_months', round(100.0 * g.visited / %(month_count)s, 2))
) x(key, value)
"""
)

MEMBERS_SQL = (
    "WITH"
    + UNITS
    + """,
members AS (
    SELECT village_id, count(*) AS n FROM members_member
    WHERE county_id = %(county)s AND joined_on <= %(end)s
      AND (left_on > %(end)s OR (left_on IS NULL AND status = 'active'))
    GROUP BY village_id
),
population AS (
    SELECT village_id, count(*) AS n FROM households_person
    WHERE county_id = %(county)s AND birth_date <= %(end)s
      AND (NOT is_deceased OR died_on > %(end)s) AND residency IN ('registered', 'inflow')
    GROUP BY village_id
)
SELECT x.key, v.id, x.value
FROM villages v
LEFT JOIN members m ON m.village_id = v.id
LEFT JOIN population p ON p.village_id = v.id
CROSS JOIN LATERAL (VALUES
    ('membership_ratio', round(100.0 * coalesce(m.n, 0) / NULLIF(p.n, 0), 2)),
    ('members', coalesce(m.n, 0)),
    ('population', coalesce(p.n, 0))) x(key, value)
"""
)

THEMED_SQL = (
    "WITH"
    + UNITS
    + """,
occurrences AS (
    SELECT d.id, y AS year FROM activities_themedday d
    CROSS JOIN generate_series(%(start_year)s::int, %(end_year)s::int) y
    WHERE d.county_id = %(county)s AND d.is_active
      AND NOT (d.month = 2 AND d.day = 29 AND NOT (y %% 4 = 0 AND (y %% 100 <> 0 OR y %% 400 = 0)))
      AND make_date(y, d.month, d.day) BETWEEN %(start)s AND %(end)s
),
marked AS (
    SELECT DISTINCT a.village_id, a.themed_day_id, extract(year FROM a.date)::int AS year
    FROM activities_activity a
    WHERE a.county_id = %(county)s AND a.village_id IS NOT NULL AND a.themed_day_id IS NOT NULL
      AND a.date BETWEEN %(start)s AND %(end)s
)
SELECT 'themed_day_publicity', v.id,
    round(100.0 * (SELECT count(*) FROM marked k JOIN occurrences o
                   ON o.id = k.themed_day_id AND o.year = k.year WHERE k.village_id = v.id)
          / NULLIF((SELECT count(*) FROM occurrences), 0), 2)
FROM villages v
"""
)

HARDSHIP_SQL = (
    "WITH"
    + UNITS
    + """,
hardship AS (
    SELECT h.village_id, count(*) AS total, count(*) FILTER (WHERE
        EXISTS (SELECT 1 FROM members_pairing p WHERE p.household_id = h.household_id
                AND p.starts_on <= %(end)s AND (p.ends_on IS NULL OR p.ends_on >= %(start)s))
     OR EXISTS (SELECT 1 FROM activities_homevisit v WHERE v.household_id = h.household_id
                AND v.visited_on BETWEEN %(start)s AND %(end)s
                AND v.purpose IN ('hardship_help', 'condolence'))
     OR EXISTS (SELECT 1 FROM households_assistancerecord r WHERE r.household_id = h.household_id
                AND r.given_on BETWEEN %(start)s AND %(end)s)
     OR EXISTS (SELECT 1 FROM benefits_disbursement d WHERE d.household_id = h.household_id
                AND d.status = 'paid' AND d.paid_on BETWEEN %(start)s AND %(end)s)) AS helped
    FROM households_hardshipassessment h
    WHERE h.county_id = %(county)s AND h.year = %(year)s AND h.status = 'in_roster'
    GROUP BY h.village_id
)
SELECT 'hardship_assisted_share', v.id,
    CASE WHEN coalesce(h.total, 0) = 0 THEN 100.00 ELSE round(100.0 * h.helped / h.total, 2) END
FROM villages v LEFT JOIN hardship h ON h.village_id = v.id
"""
)


def _council_model_met() -> str:
    """The seats each background needs, for a small village and for the others."""
    backgrounds = sorted({b for _name, required in COUNCIL_MODELS.values() for b in required})
    return " AND ".join(
        f"coalesce(s.n_{b}, 0) >= CASE WHEN v.is_small_village "
        f"THEN {COUNCIL_MODELS[True][1].get(b, 0)} ELSE {COUNCIL_MODELS[False][1].get(b, 0)} END"
        for b in backgrounds
    ), ", ".join(f"count(*) FILTER (WHERE background = '{b}') AS n_{b}" for b in backgrounds)


COUNCIL_SQL = (
    "WITH"
    + UNITS
    + """,
councils AS (
    SELECT DISTINCT ON (c.association_id) c.association_id, c.id
    FROM associations_council c
    JOIN associations_association a ON a.id = c.association_id AND a.level = 'village'
    WHERE c.county_id = %(county)s AND c.starts_on <= %(end)s AND c.ends_on >= %(start)s
    ORDER BY c.association_id, c.starts_on DESC, c.id DESC
),
seats AS (
    SELECT council_id, {counts} FROM associations_councilseat
    WHERE county_id = %(county)s AND council_id IN (SELECT id FROM councils)
    GROUP BY council_id
)
SELECT 'council_model', v.id, CASE WHEN c.id IS NULL THEN NULL WHEN {met} THEN 1 ELSE 0 END
FROM villages v
LEFT JOIN councils c ON c.association_id = v.id
LEFT JOIN seats s ON s.council_id = c.id
"""
).format(met=_council_model_met()[0], counts=_council_model_met()[1])

# The manual indicators' values: the scores township staff gave in the accepted submissions of
# the period under the version.
MANUAL_SQL = """
SELECT i.key, e.unit_id, ms.score
FROM reports_manualscore ms
JOIN reports_submission s ON s.id = ms.submission_id AND s.state = 'accepted'
JOIN reports_assessmentperiod p ON p.id = s.period_id
JOIN reports_expectedunit e ON e.id = s.expected_id
JOIN reports_schemeindicator i ON i.id = ms.indicator_id
WHERE ms.county_id = %(county)s AND p.key = %(period_key)s AND p.version_id = %(version)s
  AND ms.score IS NOT NULL
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


# The nodes as they are (the snapshot keeps each one's name, code and parents), the members
# who joined in the period (the population table's 新发展会员), the groups' 五好/五有 ratings
# of the period, and the catalogues the activity statistics are read with.
NODES_SQL = """
SELECT id, level, name, division_code, parent_id, township_id, village_id, group_id,
       is_small_village
FROM associations_association WHERE county_id = %(county)s
"""

JOINED_SQL = """
SELECT village_id, count(*) FROM members_member
WHERE county_id = %(county)s AND joined_on BETWEEN %(start)s AND %(end)s
GROUP BY village_id
"""

RATINGS_SQL = """
SELECT r.node_id, r.lead_good, r.publicity_good, r.information_good, r.policy_good,
       r.activity_good, r.has_venue, r.has_services, r.has_rules, r.has_team, r.has_equipment
FROM reports_grouprating r JOIN reports_assessmentperiod p ON p.id = r.period_id
WHERE r.county_id = %(county)s AND p.key = %(period_key)s
"""

CATALOGUE_SQL = """
SELECT 'theme', id, name, '', is_active FROM activities_theme WHERE county_id = %(county)s
UNION ALL
SELECT 'themed_day', id, name, month || '.' || day, is_active FROM activities_themedday
WHERE county_id = %(county)s
UNION ALL
SELECT 'material', id, name, unit, is_active FROM activities_material
WHERE county_id = %(county)s
UNION ALL
SELECT 'program', id, name, template, TRUE FROM benefits_program WHERE county_id = %(county)s
"""

# The care subsidies paid in the period, by village and programme (figures["benefits"]).
BENEFITS_SQL = """
SELECT village_id, program_id, count(DISTINCT person_id), count(DISTINCT household_id),
       sum(amount)
FROM benefits_disbursement
WHERE county_id = %(county)s AND status = 'paid' AND paid_on BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2
"""

INDICATOR_FAMILIES = {
    "duties": DUTY_VALUES_SQL,
    "members": MEMBERS_SQL,
    "themed": THEMED_SQL,
    "hardship": HARDSHIP_SQL,
    "council": COUNCIL_SQL,
    "manual": MANUAL_SQL,
}
STORED_FIGURES = {
    "people_figures": PEOPLE_FIGURES_SQL,
    "births": BIRTHS_SQL,
    "household_figures": HOUSEHOLD_FIGURES_SQL,
    "activity_figures": ACTIVITY_FIGURES_SQL,
    "materials": MATERIALS_SQL,
    "posts": POSTS_SQL,
    "nodes": NODES_SQL,
    "members_joined": JOINED_SQL,
    "ratings": RATINGS_SQL,
    "catalogue": CATALOGUE_SQL,
    "benefits": BENEFITS_SQL,
}


def floor(county, period, version, seconds: dict | None = None) -> dict:
    """The values of every indicator of every node and the figures stored beside them, one
    hand-written statement each; `seconds` gets the time of each part."""
    years = period.whole_years()
    params = {
        "county": county.pk,
        "start": period.start,
        "end": period.end,
        "year": period.end.year,
        "year_start": years.start,
        "year_end": years.end,
        "start_year": period.start.year,
        "end_year": period.end.year,
        "end_year_start": datetime.date(period.end.year, 1, 1),
        "months": period.months(),
        "month_count": len(period.months()),
        "quarters": period.quarters(),
        "quarter_count": len(period.quarters()),
        "period_key": period_key(period),
        "version": version.pk,
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
            floor(county, the_period, the_version)
            times, floor_times = [], {"indicators": [], "figures": []}
            for _ in range(max(1, runs)):
                started = time.perf_counter()
                run = product()
                times.append(time.perf_counter() - started)
                seconds = {}
                floor(county, the_period, the_version, seconds)
                for part, spent in seconds.items():
                    floor_times[part].append(spent)
            rows = SnapshotNode.objects.filter(run=run).count()
            self.stdout.write(_check(run, floor(county, the_period, the_version)))
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
    """The floor computes what the run stored: every indicator value of every village and
    group (those of the period's indicators; 本期不考核 cells keep no value), the members and
    常住人口 summed over the villages, and the post holders the pay sheet names."""
    floor_values, theirs = {}, {"members": 0, "population": 0}
    for family in INDICATOR_FAMILIES:
        for key, node_id, value in values[family]:
            if key in theirs:
                theirs[key] += value
            else:
                floor_values[(key, node_id)] = value
    stored = {"members": 0, "population": 0, "posts": 0}
    compared, wrong = 0, []
    for node_id, cells, members, population, posts in SnapshotNode.objects.filter(
        run=run, level__in=[Level.VILLAGE, Level.GROUP]
    ).values_list("node_id_at", "indicators", "members", "population", "figures__posts"):
        stored["members"] += members or 0
        stored["population"] += population or 0
        if posts:
            stored["posts"] += bool(posts["president"]) + len(posts["leaders"])
        for key, cell in cells.items():
            if cell.get("reason") == NOT_ASSESSED:
                continue
            compared += 1
            mine, its = floor_values.get((key, node_id)), cell.get("value")
            if (mine is None) != (its is None) or (
                mine is not None and Decimal(str(mine)) != Decimal(its)
            ):
                wrong.append(f"{key}@{node_id}: {its} / {mine}")
    theirs["posts"] = len(values["posts"])
    same = not wrong and all(stored[k] == theirs[k] for k in theirs)
    figures = ",".join(f"{k} {stored[k]}" for k in theirs)
    verdict = "一致" if same else "不一致!" + ";".join(wrong[:5])
    return f"核对(全部 {compared} 个指标值,会员、常住人口、会长和小组长人数):{verdict}({figures})"


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
