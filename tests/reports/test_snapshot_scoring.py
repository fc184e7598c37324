"""The snapshot builder scores each distinct (indicator, value) once and works out what
depends on the level alone once (reports.snapshots._Scorer, _LevelPlan): the cells are
exactly what scoring every node on its own gives."""

from decimal import Decimal

from reports import snapshots
from reports.models import IndicatorLevel, Rule, SchemeIndicator
from reports.scoring import NOT_ASSESSED


def indicator(pk, key, **fields):
    defaults = dict(
        level=IndicatorLevel.VILLAGE,
        manual=False,
        max_score=Decimal(10),
        rule=Rule.MET,
        threshold=Decimal(1),
        in_quarter=True,
        in_half=True,
        in_year=True,
    )
    return SchemeIndicator(pk=pk, key=key, name=key, **{**defaults, **fields})


def test_equal_values_written_differently_keep_their_own_text():
    """Decimal("1") == Decimal("1.00"): a memo keyed by the value would store the first one's
    text for both. Each node's cell keeps its own value's text, with the same score."""
    model = indicator(1, "council_model")
    values = {"council_model": {10: Decimal("1"), 11: Decimal("1.00"), 12: Decimal("0")}}
    plan = snapshots._LevelPlan([model], "2026-Q1")
    scorer = snapshots._Scorer(values, manual={})
    cells = {node: scorer.scores(plan, node)["council_model"] for node in (10, 11, 12, 13)}
    assert cells[10] == {"value": "1", "score": "10.00", "reason": ""}
    assert cells[11] == {"value": "1.00", "score": "10.00", "reason": ""}
    assert cells[12] == {"value": "0", "score": "0.00", "reason": "未达标(应达 1)"}
    assert cells[13] == {"value": None, "score": "0.00", "reason": "无数据"}
    # each node gets a cell of its own: changing one changes no other
    cells[10]["value"] = "changed"
    assert scorer.scores(plan, 10)["council_model"]["value"] == "1"


def test_manual_and_not_assessed_cells_as_scoring_each_node_gives():
    quarterly = indicator(1, "council_model", max_score=Decimal(5))
    yearly = indicator(2, "congress_held", in_quarter=False)
    archives = indicator(
        3, "archives", manual=True, rule=Rule.DEDUCTION, threshold=Decimal(9), step=Decimal(1)
    )
    values = {"council_model": {10: Decimal(1)}, "congress_held": {10: Decimal(2)}}
    manual = {10: {"archives": Decimal("7.5")}}
    plan = snapshots._LevelPlan([quarterly, yearly, archives], "2026-Q1")
    assert plan.counted == ["council_model", "archives"]
    assert plan.full_max == Decimal(25) and plan.applicable_max == Decimal(15)
    scores = snapshots._Scorer(values, manual).scores(plan, 10)
    assert scores == {
        "council_model": {"value": "1", "score": "5.00", "reason": ""},
        "congress_held": {"value": None, "score": None, "reason": NOT_ASSESSED},
        "archives": {"value": "7.5", "score": "7.50", "reason": ""},
    }
    assert list(scores) == ["council_model", "congress_held", "archives"]
    expected = {i.key: snapshots._score(i, 10, values, manual) for i in (quarterly, archives)}
    assert {k: scores[k] for k in expected} == expected
