"""The assessment dashboard's figures (考核看板) of a county or a township for a period: read
ONLY from the published snapshots (never recomputed from today's records) and from the
period's submissions (completeness).

A county's dashboard breaks its figures down by township, a township's by village. Every
figure comes from a fixed handful of queries whatever the number of villages:
  1. the node's own rows of every published run (the periods to choose from, and the trend
     over the year's quarters: each row's `figures` hold its grades and average total);
  2. the chosen run's township and village rows (county) or village rows (township);
  3. the assessment period of the same key, and 4. its submissions (completeness).

Shares: an indicator's 得分率 of a township is its villages' scores summed ÷ (villages ×
the indicator's max score); the membership ratio is members ÷ 常住人口 (seed 001 asks for
10% or more), both as percentages to one decimal, half up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from associations.models import Association, Level
from associations.periods import PERIOD_ERROR, QUARTER_NAMES, parse_period, period_label

from . import periods_services
from .models import Grade, SnapshotNode

MEMBERSHIP_TARGET = 10  # % — seed 001: 会员总数达到总人口的10%以上
GRADES = [(g.value, label) for g, label in zip(Grade, ("一流", "合格", "不合格"), strict=True)]
PERIOD_MISSING = "该统计期没有已发布的考核结果,请在上方选择统计期。"
INDICATOR_MISSING = "没有这个考核指标,已显示第一个指标。"


def percent(part, whole) -> Decimal | None:
    """part ÷ whole × 100 to one decimal, half up; None when the whole is 0 or unknown."""
    if not whole or part is None:
        return None
    value = Decimal(part) * 100 / Decimal(whole)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Unit:
    """A township (of a county's dashboard) or a village (of a township's)."""

    node_id: int
    name: str
    code: str
    villages: int = 0
    grades: dict = field(default_factory=dict)  # {grade: villages}
    average: Decimal | None = None  # average total (a village: its total)
    grade: str = ""  # a village's own grade
    population: int = 0
    members: int = 0
    scores: dict = field(default_factory=dict)  # {indicator key: [sum of scores, villages]}

    @property
    def ratio(self) -> Decimal | None:
        return percent(self.members, self.population)

    @property
    def meets_target(self) -> bool | None:
        return None if self.ratio is None else self.ratio >= MEMBERSHIP_TARGET

    def rate(self, column: dict) -> Decimal | None:
        total, count = self.scores.get(column["key"], (Decimal(0), 0))
        return percent(total, count * Decimal(column["max_score"])) if count else None


@dataclass
class Dashboard:
    node: Association
    periods: list[dict]  # [{"key", "label"}], newest first
    period_key: str = ""
    period_label: str = ""
    error: str = ""
    own: SnapshotNode | None = None  # the node's row of the chosen run
    units: list[Unit] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)
    indicator: dict | None = None  # the column chosen for the by-unit chart
    trend: list[dict] = field(default_factory=list)
    assessment_period: object = None
    completeness_total: object = None
    completeness: list = field(default_factory=list)  # one Tally per township

    @property
    def by_village(self) -> bool:
        return self.node.level == Level.TOWNSHIP

    @property
    def unit_label(self) -> str:
        return "村(社区)" if self.by_village else "乡镇(街道)"

    def node_rate(self, column: dict) -> Decimal | None:
        total = sum((u.scores.get(column["key"], (0, 0))[0] for u in self.units), Decimal(0))
        count = sum(u.scores.get(column["key"], (0, 0))[1] for u in self.units)
        return percent(total, count * Decimal(column["max_score"])) if count else None

    @property
    def matrix(self) -> list[dict]:
        """One row per unit: its 得分率 of every indicator, in the columns' order."""
        return [{"unit": u, "rates": [u.rate(c) for c in self.columns]} for u in self.units]

    @property
    def node_ratio(self) -> Decimal | None:
        return percent(self.own.members, self.own.population) if self.own else None

    @property
    def indicator_rows(self) -> list[dict]:
        """One row per indicator: its name, max and 得分率 over the node and per unit."""
        return [
            {
                "column": c,
                "node_rate": self.node_rate(c),
                "rates": [u.rate(c) for u in self.units],
            }
            for c in self.columns
        ]


def _period_sort(key: str):
    period = parse_period(key)
    return (period.end, period.start)


def published_rows(node: Association) -> dict[str, SnapshotNode]:
    """{period key: the node's row of that period's published run} (query 1)."""
    rows = SnapshotNode.objects.filter(
        node_id_at=node.pk, level=node.level, run__published_at__isnull=False
    ).select_related("run")
    return {row.run.period_key: row for row in rows}


def build(*, node: Association, period_key: str = "", indicator_key: str = "") -> Dashboard:
    """The dashboard of a county or township node in the active scope. An unknown period
    sets `error` (no figures); an unknown indicator falls back to the first with `error`."""
    own_rows = published_rows(node)
    keys = sorted(own_rows, key=_period_sort, reverse=True)
    board = Dashboard(
        node=node, periods=[{"key": k, "label": period_label(parse_period(k))} for k in keys]
    )
    wanted = (period_key or "").strip().upper()
    if wanted:
        try:
            parse_period(wanted)
        except ValueError:
            board.error = PERIOD_ERROR
            return board
    if wanted and wanted not in own_rows:
        board.error = PERIOD_MISSING
        return board
    if not keys:
        return board
    board.period_key = wanted or keys[0]
    board.period_label = period_label(parse_period(board.period_key))
    board.own = own_rows[board.period_key]
    board.columns = board.own.figures.get("columns", [])
    board.units = _units(node, board.own, board.columns)
    board.trend = _trend(own_rows, board.period_key)
    if board.columns:
        chosen = next((c for c in board.columns if c["key"] == indicator_key), None)
        if indicator_key and chosen is None:
            board.error = INDICATOR_MISSING
        board.indicator = chosen or board.columns[0]
    _completeness(board)
    return board


def _units(node: Association, own: SnapshotNode, columns: list[dict]) -> list[Unit]:
    """Query 2: the chosen run's rows below the node, as units with their figures."""
    keys = [c["key"] for c in columns]
    if node.level == Level.TOWNSHIP:
        rows = SnapshotNode.objects.filter(
            run_id=own.run_id, level=Level.VILLAGE, township_id=node.pk
        ).order_by("division_code")
        units = []
        for row in rows:
            unit = Unit(
                node_id=row.node_id_at,
                name=row.name,
                code=row.division_code,
                villages=1,
                grades={g: int(row.grade == g) for g, _label in GRADES},
                average=row.total,
                grade=row.grade,
                population=row.population or 0,
                members=row.members or 0,
            )
            _add_scores(unit, row, keys)
            units.append(unit)
        return units
    rows = SnapshotNode.objects.filter(
        run_id=own.run_id, level__in=[Level.TOWNSHIP, Level.VILLAGE]
    ).order_by("division_code")
    townships: dict[int, Unit] = {}
    villages = defaultdict(list)
    for row in rows:
        if row.level == Level.TOWNSHIP:
            figures = row.figures or {}
            average = figures.get("average_total")
            townships[row.node_id_at] = Unit(
                node_id=row.node_id_at,
                name=row.name,
                code=row.division_code,
                villages=figures.get("villages", 0),
                grades=dict(figures.get("grades", {})),
                average=Decimal(average) if average is not None else None,
                population=row.population or 0,
                members=row.members or 0,
            )
        else:
            villages[row.township_node_id].append(row)
    for township_id, rows_of in villages.items():
        unit = townships.get(township_id)
        if unit is None:
            continue
        for row in rows_of:
            _add_scores(unit, row, keys)
    return list(townships.values())


def _add_scores(unit: Unit, row: SnapshotNode, keys: list[str]) -> None:
    for key in keys:
        cell = (row.indicators or {}).get(key)
        if not cell or cell.get("score") is None:
            continue
        total, count = unit.scores.get(key, (Decimal(0), 0))
        unit.scores[key] = (total + Decimal(cell["score"]), count + 1)


def _trend(own_rows: dict[str, SnapshotNode], period_key: str) -> list[dict]:
    """The published quarters of the chosen period's year, in order (from query 1)."""
    year = parse_period(period_key).start.year
    trend = []
    for quarter in (1, 2, 3, 4):
        row = own_rows.get(f"{year}-Q{quarter}")
        if row is None:
            continue
        figures = row.figures or {}
        average = figures.get("average_total")
        trend.append(
            {
                "key": f"{year}-Q{quarter}",
                "label": QUARTER_NAMES[quarter],
                "average": Decimal(average) if average is not None else None,
                "grades": figures.get("grades", {}),
                "villages": figures.get("villages", 0),
            }
        )
    return trend


def _completeness(board: Dashboard) -> None:
    """Queries 3 and 4: the period of the same key and its submissions (if it was opened)."""
    period = periods_services.period_by_key(board.period_key)
    if period is None:
        return
    board.assessment_period = period
    total, townships = periods_services.completeness(period=period, under=board.node)
    board.completeness_total = total
    board.completeness = townships
