"""Each rule on hand-worked values, with its edges: exactly at a threshold, below the floor,
above the cap, a missing value; rounding to 0.01 half up; the grade lines."""

from decimal import Decimal as D

import pytest

from reports.models import Grade, Rule, SchemeIndicator, SchemeVersion
from reports.scoring import NO_DATA, Score, grade, rule_errors, score, score_node, total


def points(rule, value, **params):
    return score(rule, value, **params).points


# --- met -------------------------------------------------------------------------------------


def test_met_scores_full_at_and_above_the_threshold_and_zero_below():
    assert points(Rule.MET, D("10"), max_score=5, threshold=10) == D("5.00")  # exactly at it
    assert points(Rule.MET, D("10.01"), max_score=5, threshold=10) == D("5.00")
    below = score(Rule.MET, D("9.99"), max_score=5, threshold=10)
    assert below == Score(D("0.00"), "未达标(应达 10)")


# --- linear ----------------------------------------------------------------------------------


def test_linear_between_low_and_high():
    # 15 × (80 − 50) ÷ (100 − 50) = 9
    assert points(Rule.LINEAR, D("80"), max_score=15, low=50, high=100) == D("9.00")
    # 10 × (1 − 0) ÷ 3 = 3.333… → 3.33; 10 × 2 ÷ 3 = 6.666… → 6.67
    assert points(Rule.LINEAR, 1, max_score=10, low=0, high=3) == D("3.33")
    assert points(Rule.LINEAR, 2, max_score=10, low=0, high=3) == D("6.67")


def test_linear_edges():
    assert points(Rule.LINEAR, 50, max_score=15, low=50, high=100) == D("0.00")  # at low
    assert points(Rule.LINEAR, 20, max_score=15, low=50, high=100) == D("0.00")  # below floor
    assert points(Rule.LINEAR, 100, max_score=15, low=50, high=100) == D("15.00")  # at high
    assert points(Rule.LINEAR, 130, max_score=15, low=50, high=100) == D("15.00")  # capped


def test_rounding_is_half_up_to_a_hundredth():
    # 1.5 × (1.23 − 1) ÷ (2 − 1) = 0.345 → 0.35 (half up; half-even would give 0.34)
    assert points(Rule.LINEAR, D("1.23"), max_score=D("1.5"), low=1, high=2) == D("0.35")
    # 1 × 0.125 ÷ 1 = 0.125 → 0.13 (half-even would give 0.12)
    assert points(Rule.LINEAR, D("0.125"), max_score=1, low=0, high=1) == D("0.13")


# --- deduction -------------------------------------------------------------------------------


def test_deduction_takes_points_per_missing_item_with_a_floor():
    # archives: 9 required, 1 point each, max 5
    assert points(Rule.DEDUCTION, 9, max_score=5, threshold=9, step=1) == D("5.00")
    assert points(Rule.DEDUCTION, 12, max_score=5, threshold=9, step=1) == D("5.00")  # extra
    seven = score(Rule.DEDUCTION, 7, max_score=5, threshold=9, step=1)
    assert seven == Score(D("3.00"), "缺 2 项,扣 2.00 分")
    assert points(Rule.DEDUCTION, 0, max_score=5, threshold=9, step=1) == D("0.00")  # floor
    # a part item short counts as one item: 8.5 of 9 → 1 missing
    assert points(Rule.DEDUCTION, D("8.5"), max_score=5, threshold=9, step=1) == D("4.00")
    # 1.5 points each: 2 missing → 10 − 3 = 7
    assert points(Rule.DEDUCTION, 1, max_score=10, threshold=3, step=D("1.5")) == D("7.00")


# --- share of target -------------------------------------------------------------------------


def test_share_of_target():
    # membership 8% against 10%: 10 × 8 ÷ 10 = 8
    assert points(Rule.SHARE_OF_TARGET, 8, max_score=10, threshold=10) == D("8.00")
    assert points(Rule.SHARE_OF_TARGET, 10, max_score=10, threshold=10) == D("10.00")  # at
    assert points(Rule.SHARE_OF_TARGET, D("12.5"), max_score=10, threshold=10) == D("10.00")
    assert points(Rule.SHARE_OF_TARGET, 0, max_score=10, threshold=10) == D("0.00")
    # 5 × 2 ÷ 3 = 3.333… → 3.33
    assert points(Rule.SHARE_OF_TARGET, 2, max_score=5, threshold=3) == D("3.33")


# --- missing values, totals, grades ---------------------------------------------------------


@pytest.mark.parametrize("rule", list(Rule))
def test_a_missing_value_scores_zero_with_the_reason(rule):
    params = {"threshold": 1, "low": 0, "high": 1, "step": 1}
    assert score(rule, None, max_score=10, **params) == Score(D("0.00"), NO_DATA)


def test_total_is_the_sum_of_the_rounded_scores():
    scores = [Score(D("3.33")), Score(D("3.33")), Score(D("3.33"))]
    assert total(scores) == D("9.99")
    assert total([]) == D("0.00")


def test_grades_at_and_around_the_lines():
    lines = {"first_class_min": 90, "qualified_min": 70}
    assert grade(D("90"), **lines) == Grade.FIRST_CLASS  # exactly at the line
    assert grade(D("89.99"), **lines) == Grade.QUALIFIED
    assert grade(D("70.00"), **lines) == Grade.QUALIFIED
    assert grade(D("69.99"), **lines) == Grade.UNQUALIFIED
    assert grade(D("0"), **lines) == Grade.UNQUALIFIED


def test_rule_parameters_are_checked_in_chinese():
    assert rule_errors(Rule.LINEAR, max_score=10, low=5, high=5) == {"high": "上限应大于下限。"}
    assert rule_errors(Rule.LINEAR, max_score=10, low=5) == {"high": "“线性计分”需要填写上限。"}
    assert rule_errors(Rule.MET, max_score=0, threshold=1) == {"max_score": "满分应大于 0。"}
    assert rule_errors(Rule.DEDUCTION, max_score=5, threshold=9, step=0) == {
        "step": "每缺一项扣分应大于 0。"
    }
    assert rule_errors(Rule.SHARE_OF_TARGET, max_score=5, threshold=0) == {
        "threshold": "目标值应大于 0。"
    }
    assert rule_errors("nonsense", max_score=5) == {"rule": "请选择计分规则。"}
    assert rule_errors(Rule.MET, max_score=5, threshold=1) == {}


def test_a_node_scored_under_a_version_by_hand():
    """council met (10 of 10), membership 8% of 10% (8 of 10), archives 7 of 9 at 1 point
    each (3 of 5), themed days missing (0 of 10, 无数据): 21 of 35 → 合格 at 20, not 一流 at 30."""
    version = SchemeVersion(first_class_min=D("30"), qualified_min=D("20"))
    indicators = [
        SchemeIndicator(key="council_quarterly", max_score=10, rule=Rule.MET, threshold=100),
        SchemeIndicator(
            key="membership_ratio", max_score=10, rule=Rule.SHARE_OF_TARGET, threshold=10
        ),
        SchemeIndicator(key="archives", max_score=5, rule=Rule.DEDUCTION, threshold=9, step=1),
        SchemeIndicator(
            key="themed_day_publicity", max_score=10, rule=Rule.SHARE_OF_TARGET, threshold=100
        ),
    ]
    values = {"council_quarterly": D("100"), "membership_ratio": D("8"), "archives": 7}
    result = score_node(version, indicators, values)
    assert [s.points for s in result.scores.values()] == [
        D("10.00"),
        D("8.00"),
        D("3.00"),
        D("0.00"),
    ]
    assert result.scores["themed_day_publicity"].reason == NO_DATA
    assert (result.total, result.grade) == (D("21.00"), Grade.QUALIFIED)
