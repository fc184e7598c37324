"""The snapshot of a report run: every node of the county as it is when the run is built, with
its indicator values and scores, total, grade and ranks, and the period's population and
member figures. Built set-based: a fixed number of queries whatever the number of villages
(the node list, the indicators, each registered indicator's own handful, the population and
member counts, the activity statistics (reports.activity_snapshot), one bulk insert).

Ranks are standard competition ranks ("1224"): nodes with the same total share a rank and the
next total's rank skips as many places as shared it, as sports tables do. Villages are ranked
among the villages of their township and of the county; groups among the groups of theirs.
The county's top three are the villages of county rank 1 to 3 (ties included).

Township and county rows are aggregates: their villages' population and members summed, the
number of villages by grade and the villages' average total (in `figures`).

Group ratings (五好小组 / 五有小组, reports.group_ratings) of the period are copied in: a group
row's `figures` holds its criteria and `five_good` / `five_have` (absent: not rated); village,
township and county rows count their groups, rated groups, 五好 and 五有 groups.

The period's population figures (`population_figures`, sheet 2 and the summary paragraphs):
for every village, township and county row, the households figures table's row as it is when
the run is built (every households.figures.TABLE_COLUMNS key: counts as numbers, the sex
ratios as text) and the members who joined in the period (`members_joined`). Counted for the
whole county at once, grouped by township and village (households.figures.figure_rows: a
fixed handful of queries); a township's and the county's row is everyone under it, persons
outside any village included."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from associations.bulk import row_class
from associations.models import Association, Level
from associations.periods import Period
from households import figures as household_figures
from households import selectors as household_selectors
from members import selectors as member_selectors

from . import activity_snapshot, benefit_snapshot, pay, scoring
from .group_ratings import snapshot_ratings
from .indicators import REGISTRY, share_result, share_units, shared_read, shared_reads
from .manual import NOT_SCORED, manual_scores
from .models import Grade, IndicatorLevel, ReportRun, SchemeIndicator, SnapshotNode

NODE_FIELDS = (
    "id", "level", "name", "division_code", "parent_id", "county_id", "township_id",
    "village_id", "group_id", "is_small_village",
)  # fmt: skip


def _json_number(value) -> str | None:
    return None if value is None else str(value)


def compute_values(county: Association, period: Period, indicators, progress=None) -> dict:
    """{indicator key: {node id: value}} for the version's computed indicators: one registry
    call each. `progress(done, total, stage)` after each (the total counts two more steps:
    scoring, storing)."""
    computed = [i for i in indicators if not i.manual and i.key in REGISTRY]
    values = {}
    n = len(computed)
    for k, indicator in enumerate(computed, start=1):
        values[indicator.key] = REGISTRY[indicator.key].compute(county, period)
        if progress:
            progress(k, n + 2, f"计算指标 {k}/{n}")
    if progress:
        progress(n, n + 2, "评分与排名")
    return values


def _score(indicator: SchemeIndicator, node_id: int, values: dict, manual: dict) -> dict:
    if indicator.manual:
        given = manual.get(node_id, {}).get(indicator.key)
        if given is None:
            points = scoring.score(indicator.rule, None, max_score=indicator.max_score).points
            return {"value": None, "score": str(points), "reason": NOT_SCORED}
        points = scoring.rounded(min(Decimal(given), indicator.max_score))
        return {"value": str(given), "score": str(points), "reason": ""}
    if indicator.key not in REGISTRY:
        points = scoring.score(indicator.rule, None, max_score=indicator.max_score).points
        return {"value": None, "score": str(points), "reason": "指标未登记"}
    value = values.get(indicator.key, {}).get(node_id)
    result = scoring.score_indicator(indicator, value)
    return {"value": _json_number(value), "score": str(result.points), "reason": result.reason}


def competition_ranks(totals: dict[int, Decimal]) -> dict[int, int]:
    """{node id: standard competition rank} by total, highest first: 100, 90, 90, 80 → 1, 2,
    2, 4."""
    ordered = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    ranks, previous, rank = {}, None, 0
    for position, (node_id, total) in enumerate(ordered, start=1):
        if total != previous:
            rank, previous = position, total
        ranks[node_id] = rank
    return ranks


def _scope_keys(node: dict) -> dict:
    return {f"{k}_id": node[f"{k}_id"] for k in ("county", "township", "village", "group")}


def build_rows(run: ReportRun, period: Period, progress=None) -> list:
    """The snapshot rows of the run (associations.bulk Rows of SnapshotNode), not saved:
    `associations.bulk.insert_many(rows, ids=False)` writes them. The figures several
    indicators read (activities.duties counts, members and population) are read once."""
    with shared_reads():
        return _build_rows(run, period, progress)


def _build_rows(run: ReportRun, period: Period, progress=None) -> list:
    county = Association.objects.get(pk=run.county_id)
    # by division code (the model's ordering), as the indicators read them
    nodes = list(
        Association.objects.filter(county_id=county.pk)
        .order_by("division_code")
        .values(*NODE_FIELDS)
    )
    share_units(county, nodes)
    by_id = {n["id"]: n for n in nodes}
    indicators = list(SchemeIndicator.objects.filter(version_id=run.version_id))
    version = run.version
    # The figures table counts every village's 常住人口 in its one pass over the persons: the
    # membership-ratio indicator reads that instead of counting them again.
    population_figures, population = _population_figures(county, period, by_id)
    share_result(
        household_selectors.resident_population_by_village,
        population,
        node=county,
        on=period.end,
    )
    values = compute_values(county, period, indicators, progress)
    manual = manual_scores(county, run.period_key, version)
    members = shared_read(member_selectors.members_by_village, node=county, on=period.end)
    ratings = snapshot_ratings(county.pk, run.period_key)
    posts = pay.posts_by_village(
        county.pk, [n["id"] for n in nodes if n["level"] == Level.VILLAGE], period
    )

    levels = {Level.VILLAGE: IndicatorLevel.VILLAGE, Level.GROUP: IndicatorLevel.GROUP}
    # What depends on the level only (its indicators, which count in the period, the maxima)
    # is worked out once per level; a cell's score depends on its indicator and value only,
    # and thousands of groups share the same few values: each is scored once (_Scorer).
    plans = {
        level: _LevelPlan([i for i in indicators if i.level == indicator_level], run.period_key)
        for level, indicator_level in levels.items()
    }
    scorer = _Scorer(values, manual)
    scored: dict[int, dict] = {}
    for node in nodes:
        plan = plans.get(node["level"])
        if plan is None:
            continue
        scores = scorer.scores(plan, node["id"])
        # --- indicator evaluations: the period's indicators only (see reports.scoring) ---
        total = sum((Decimal(scores[k]["score"]) for k in plan.counted), scoring.rounded(0))
        grade = ""
        if node["level"] == Level.VILLAGE and plan.applicable_max:
            grade = plan.grade(total, version)
        figures = {"max_score": plan.max_score_text, "rate": plan.rate_text(total)}
        # --- end of indicator evaluations ---
        scored[node["id"]] = {
            "indicators": scores, "total": total, "grade": grade, "figures": figures
        }  # fmt: skip

    ranks_county, ranks_township, top = {}, {}, set()
    for level in (Level.VILLAGE, Level.GROUP):
        totals = {i: s["total"] for i, s in scored.items() if by_id[i]["level"] == level}
        ranks_county.update(competition_ranks(totals))
        by_township = defaultdict(dict)
        for node_id, total in totals.items():
            by_township[by_id[node_id]["township_id"]][node_id] = total
        for township_totals in by_township.values():
            ranks_township.update(competition_ranks(township_totals))
        if level == Level.VILLAGE:
            top = {i for i, rank in ranks_county.items() if rank <= 3 and i in totals}

    names = {n["id"]: n["name"] for n in nodes}
    groups_of = defaultdict(list)
    for node in nodes:
        if node["level"] == Level.GROUP:
            groups_of[node["parent_id"]].append(node["id"])
    Row = row_class(SnapshotNode)
    rows = []
    for node in nodes:
        village_figures = {}
        if node["level"] == Level.VILLAGE:
            village_figures = {
                "population": population.get(node["id"], 0),
                "members": members.get(node["id"], 0),
            }
        own = scored.get(node["id"], {})
        figures = {}
        if node["level"] == Level.GROUP and node["id"] in ratings:
            figures = {"rating": ratings[node["id"]]}
        elif node["level"] == Level.VILLAGE:
            figures = {
                **_group_counts(groups_of.get(node["id"], []), ratings),
                "posts": posts.get(node["id"], pay.NO_POSTS),
            }
        if node["level"] != Level.GROUP:
            village_figures["population_figures"] = population_figures.get(
                node["id"]
            ) or figures_json(household_figures.FigureRow(unit=None), 0)
        rows.append(
            Row(
                run_id=run.pk,
                **_scope_keys(node),
                node_id_at=node["id"],
                level=node["level"],
                name=node["name"],
                division_code=node["division_code"],
                parent_node_id=node["parent_id"],
                township_node_id=node["township_id"],
                township_name=names.get(node["township_id"], "") if node["township_id"] else "",
                indicators=own.get("indicators", {}),
                total=own.get("total"),
                grade=own.get("grade", ""),
                rank_in_township=ranks_township.get(node["id"]),
                rank_in_county=ranks_county.get(node["id"]),
                top_three=node["id"] in top,
                figures={**own.get("figures", {}), **figures},
                **village_figures,
            )
        )
    columns = [
        {
            "key": i.key,
            "name": i.name,
            "max_score": str(i.max_score),
            "manual": i.manual,
            "assessed": i.applies_to(run.period_key),
        }
        for i in sorted(indicators, key=lambda i: (i.order, i.pk))
        if i.level == IndicatorLevel.VILLAGE
    ]
    _aggregate(rows, columns)
    activity_snapshot.attach(rows, county, period)
    benefit_snapshot.attach(rows, county, period)
    return rows


class _LevelPlan:
    """The indicators of one level and what follows from them alone: which count in the
    run's period, the full and the applicable maximum, and (memoised) the grade and the
    score rate of a total."""

    def __init__(self, own: list[SchemeIndicator], period_key: str):
        self.own = own
        self.counted = [i.key for i in own if i.applies_to(period_key)]
        counted = set(self.counted)
        self.not_assessed = [i.key for i in own if i.key not in counted]
        self.full_max = sum((i.max_score for i in own), Decimal(0))
        self.applicable_max = sum((i.max_score for i in own if i.key in counted), Decimal(0))
        self.max_score_text = _json_number(scoring.rounded(self.applicable_max))
        self._grades: dict[Decimal, str] = {}
        self._rates: dict[Decimal, str | None] = {}

    def grade(self, total: Decimal, version) -> str:
        if total not in self._grades:
            self._grades[total] = scoring.grade_on_rate(
                total,
                applicable_max=self.applicable_max,
                full_max=self.full_max,
                first_class_min=version.first_class_min,
                qualified_min=version.qualified_min,
            ).value
        return self._grades[total]

    def rate_text(self, total: Decimal) -> str | None:
        if total not in self._rates:
            self._rates[total] = _json_number(scoring.score_rate(total, self.applicable_max))
        return self._rates[total]


class _Scorer:
    """A node's cells ({indicator key: {"value", "score", "reason"}}) by _score, each
    distinct (indicator, value) scored once; every node gets cells of its own."""

    def __init__(self, values: dict, manual: dict):
        self.values = values
        self.manual = manual
        self._cells: dict[tuple, dict] = {}

    def scores(self, plan: _LevelPlan, node_id: int) -> dict:
        scores = {}
        given = self.manual.get(node_id, {})
        for indicator in plan.own:
            if indicator.manual:
                value = given.get(indicator.key)
            else:
                value = self.values.get(indicator.key, {}).get(node_id)
            # by the value's text: Decimal("1") == Decimal("1.00"), but they are stored apart
            memo_key = (indicator.pk, None if value is None else str(value))
            cell = self._cells.get(memo_key)
            if cell is None:
                cell = self._cells[memo_key] = _score(indicator, node_id, self.values, self.manual)
            scores[indicator.key] = dict(cell)
        for key in plan.not_assessed:
            scores[key] = {"value": None, "score": None, "reason": scoring.NOT_ASSESSED}
        return scores


def _group_counts(group_ids: list[int], ratings: dict) -> dict:
    own = [ratings[g] for g in group_ids if g in ratings]
    return {
        "groups": len(group_ids),
        "rated_groups": len(own),
        "five_good": sum(1 for r in own if r["five_good"]),
        "five_have": sum(1 for r in own if r["five_have"]),
    }


def figures_json(row: household_figures.FigureRow, joined: int) -> dict:
    """A figures table row as stored: every TABLE_COLUMNS key (counts as numbers, the sex
    ratios as text, "—"/None without girls) and the members who joined in the period."""
    per_100 = row.sex_ratio_per_100
    return {
        **row.values,
        "sex_ratio": row.sex_ratio,
        "sex_ratio_per_100": None if per_100 is None else str(per_100),
        "members_joined": joined,
    }


def _population_figures(county: Association, period: Period, by_id: dict):
    """({node id: stored figures} of every village, township and the county: the figures
    table grouped by (township, village) once, summed upwards here; {village id: 常住人口}
    of the villages with anyone living there, as
    households.selectors.resident_population_by_village gives it)."""
    grouped = household_figures.figure_rows(
        node=county, period=period, units=("township_id", "village_id")
    )
    joined = member_selectors.members_joined_by_village(
        node=county, start=period.start, end=period.end
    )
    totals: dict[int, household_figures.FigureRow] = defaultdict(
        lambda: household_figures.FigureRow(unit=None)
    )
    joined_totals: Counter = Counter()
    for (township_id, village_id), row in grouped.items():
        for node_id in (county.pk, township_id, village_id):
            if node_id is not None:
                totals[node_id].add(row)
    for village_id, n in joined.items():
        township_id = by_id[village_id]["township_id"] if village_id in by_id else None
        for node_id in (county.pk, township_id, village_id):
            if node_id is not None:
                joined_totals[node_id] += n
    nodes = set(totals) | set(joined_totals)
    resident = {
        village_id: row.values["resident_population"]
        for (_township_id, village_id), row in grouped.items()
        if village_id is not None and row.values["resident_population"]
    }
    return (
        {node_id: figures_json(totals[node_id], joined_totals[node_id]) for node_id in nodes},
        resident,
    )


def _aggregate(rows: list, columns: list[dict]) -> None:
    """Township and county rows: their villages' figures summed, grades counted, totals
    averaged, and the village indicators of the version as columns (name, max score): what
    township staff, who do not see the county's scheme, read the table with."""
    villages = [r for r in rows if r.level == Level.VILLAGE]
    for row in rows:
        if row.level == Level.COUNTY:
            own = villages
        elif row.level == Level.TOWNSHIP:
            own = [v for v in villages if v.township_node_id == row.node_id_at]
        else:
            continue
        row.population = sum(v.population or 0 for v in own)
        row.members = sum(v.members or 0 for v in own)
        grades = Counter(v.grade for v in own)
        average = (
            scoring.rounded(sum(v.total for v in own) / len(own)) if own else None
        )  # fmt: skip
        row.figures = {
            "villages": len(own),
            "grades": {g.value: grades.get(g.value, 0) for g in Grade},
            "average_total": _json_number(average),
            "max_score": _json_number(
                scoring.rounded(sum((Decimal(c["max_score"]) for c in columns if c["assessed"]), 0))
            ),
            "columns": columns,
            **{
                key: sum(v.figures.get(key, 0) for v in own)
                for key in ("groups", "rated_groups", "five_good", "five_have")
            },
        }
