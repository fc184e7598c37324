"""Scoring: each rule applied to an indicator's value, and the grade of a total. Pure functions
on Decimals, no database.

Rounding: every score is rounded to 0.01 point, half up (ROUND_HALF_UP: 2.345 → 2.35), once,
at the end of its rule's arithmetic. A total is the plain sum of its rounded scores, so the
printed scores always add up to the printed total. Values are taken as given (indicators
round their own values to 0.01, see reports.indicators).

A missing value (None: not computed, not entered, or not applicable to the node) scores 0,
with the reason "无数据" so the sheet can say why.

The rules (parameters as stored on SchemeIndicator):
- met (达标计分): value ≥ threshold → max, else 0.
- linear (线性计分): value ≤ low → 0; value ≥ high → max; between: max × (value − low) ÷
  (high − low).
- deduction (扣分): missing = required − value (not below 0, counted in whole items: 1.5
  short is 2 items short); score = max − step × missing, not below 0.
- share_of_target (按目标比例): max × value ÷ target, not above max nor below 0."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .models import Grade, Rule

PLACES = Decimal("0.01")
ZERO = Decimal("0")
NO_DATA = "无数据"


def rounded(value: Decimal) -> Decimal:
    return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Score:
    points: Decimal
    reason: str = ""  # why it is what it is, when that is not plain (无数据, 未达标, …)


def _d(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def score_met(value, *, max_score, threshold) -> Score:
    value, max_score, threshold = _d(value), _d(max_score), _d(threshold)
    if value >= threshold:
        return Score(rounded(max_score))
    return Score(rounded(ZERO), f"未达标(应达 {threshold})")


def score_linear(value, *, max_score, low, high) -> Score:
    value, max_score, low, high = _d(value), _d(max_score), _d(low), _d(high)
    if value <= low:
        return Score(rounded(ZERO), f"不高于下限 {low}")
    if value >= high:
        return Score(rounded(max_score))
    return Score(rounded(max_score * (value - low) / (high - low)))


def score_deduction(value, *, max_score, required, step) -> Score:
    value, max_score, required, step = _d(value), _d(max_score), _d(required), _d(step)
    missing = max(0, math.ceil(required - value))
    if not missing:
        return Score(rounded(max_score))
    points = max(ZERO, max_score - step * missing)
    return Score(
        rounded(points), f"缺 {missing} 项,扣 {rounded(min(max_score, step * missing))} 分"
    )


def score_share_of_target(value, *, max_score, target) -> Score:
    value, max_score, target = _d(value), _d(max_score), _d(target)
    points = min(max_score, max(ZERO, max_score * value / target))
    return Score(rounded(points))


def score(rule: str, value, *, max_score, threshold=None, low=None, high=None, step=None) -> Score:
    """The score of a value under a rule; None scores 0 with the reason 无数据."""
    if value is None:
        return Score(rounded(ZERO), NO_DATA)
    if rule == Rule.MET:
        return score_met(value, max_score=max_score, threshold=threshold)
    if rule == Rule.LINEAR:
        return score_linear(value, max_score=max_score, low=low, high=high)
    if rule == Rule.DEDUCTION:
        return score_deduction(value, max_score=max_score, required=threshold, step=step)
    if rule == Rule.SHARE_OF_TARGET:
        return score_share_of_target(value, max_score=max_score, target=threshold)
    raise ValueError(f"unknown rule {rule!r}")


def score_indicator(indicator, value) -> Score:
    """A SchemeIndicator's score for a value."""
    return score(indicator.rule, value, max_score=indicator.max_score, **indicator.params)


def total(scores) -> Decimal:
    return sum((s.points for s in scores), rounded(ZERO))


@dataclass(frozen=True)
class NodeScores:
    """One node's scores under a version: by indicator key, their total and the grade."""

    scores: dict[str, Score]
    total: Decimal
    grade: Grade


def score_node(version, indicators, values: dict) -> NodeScores:
    """Score a node: `indicators` of one level of the version, `values` {key: value} (a key
    missing from `values` has no value: 0, 无数据). What a report run does for every node."""
    scores = {i.key: score_indicator(i, values.get(i.key)) for i in indicators}
    points = total(scores.values())
    lines = {"first_class_min": version.first_class_min, "qualified_min": version.qualified_min}
    return NodeScores(scores=scores, total=points, grade=grade(points, **lines))


def grade(total_score, *, first_class_min, qualified_min) -> Grade:
    """一流村协会 at or above the first-class line, 合格 at or above the qualified line."""
    total_score = _d(total_score)
    if total_score >= _d(first_class_min):
        return Grade.FIRST_CLASS
    if total_score >= _d(qualified_min):
        return Grade.QUALIFIED
    return Grade.UNQUALIFIED


# --- indicator evaluations ---------------------------------------------------------------------
# An indicator counts in some evaluations only (SchemeIndicator.in_quarter/in_half/in_year): a
# duty done once a year is not assessed in Q1. In a run of a period where it does not count,
# the node's cell says 本期不考核 (value and score null) and the indicator is out of the total
# and of the maximum. The grade is then read on the score rate: the total scaled from the
# applicable maximum to the version's full maximum (total × full ÷ applicable), compared with
# the version's lines, so "90 of 100" keeps its meaning in every period. With the default
# scheme (100 points) that is the rate in percent: 54 of 60 → 90 → 一流. When every indicator
# counts, the scaled total is the total itself.

NOT_ASSESSED = "本期不考核"


def score_rate(total_score, applicable_max) -> Decimal | None:
    """The total as a percentage of the applicable maximum, to 0.01 (None with no maximum)."""
    applicable_max = _d(applicable_max)
    if applicable_max <= 0:
        return None
    return rounded(_d(total_score) * 100 / applicable_max)


def grade_on_rate(
    total_score, *, applicable_max, full_max, first_class_min, qualified_min
) -> Grade:
    """The grade of a total out of the applicable maximum: scaled to the full maximum, then
    against the lines (54 of 60 under a 100-point scheme → 90)."""
    total_score, applicable_max, full_max = _d(total_score), _d(applicable_max), _d(full_max)
    scaled = total_score
    if 0 < applicable_max < full_max:
        scaled = total_score * full_max / applicable_max
    return grade(scaled, first_class_min=first_class_min, qualified_min=qualified_min)


# --- end of indicator evaluations --------------------------------------------------------------

# --- the parameters each rule needs -----------------------------------------------------------

PARAMETERS = {
    Rule.MET: ("threshold",),
    Rule.LINEAR: ("low", "high"),
    Rule.DEDUCTION: ("threshold", "step"),
    Rule.SHARE_OF_TARGET: ("threshold",),
}
PARAMETER_LABELS = {
    (Rule.MET, "threshold"): "达标值",
    (Rule.LINEAR, "low"): "下限",
    (Rule.LINEAR, "high"): "上限",
    (Rule.DEDUCTION, "threshold"): "应达数量",
    (Rule.DEDUCTION, "step"): "每缺一项扣分",
    (Rule.SHARE_OF_TARGET, "threshold"): "目标值",
}


def rule_errors(rule: str, *, max_score, threshold=None, low=None, high=None, step=None) -> dict:
    """{field: Chinese message} for parameters a rule lacks or that make no sense."""
    errors = {}
    if max_score is None or _d(max_score) <= 0:
        errors["max_score"] = "满分应大于 0。"
    if rule not in PARAMETERS:
        errors["rule"] = "请选择计分规则。"
        return errors
    values = {"threshold": threshold, "low": low, "high": high, "step": step}
    for name in PARAMETERS[rule]:
        if values[name] is None:
            errors[name] = f"“{Rule(rule).label}”需要填写{PARAMETER_LABELS[(rule, name)]}。"
    if errors:
        return errors
    if rule == Rule.LINEAR and _d(low) >= _d(high):
        errors["high"] = "上限应大于下限。"
    if rule == Rule.DEDUCTION:
        if _d(threshold) <= 0:
            errors["threshold"] = "应达数量应大于 0。"
        if _d(step) <= 0:
            errors["step"] = "每缺一项扣分应大于 0。"
    if rule == Rule.SHARE_OF_TARGET and _d(threshold) <= 0:
        errors["threshold"] = "目标值应大于 0。"
    if rule == Rule.MET and _d(threshold) < 0:
        errors["threshold"] = "达标值不能为负数。"
    return errors


def describe(indicator) -> str:
    """The rule in words, for the scheme page: "≥ 10 得满分", "50 至 100 之间按比例计分", …"""
    p = indicator.params
    rule = indicator.rule
    if rule == Rule.MET:
        return f"达到 {_plain(p['threshold'])} 得满分,否则 0 分"
    if rule == Rule.LINEAR:
        return f"{_plain(p['low'])} 及以下 0 分,{_plain(p['high'])} 及以上满分,其间按比例"
    if rule == Rule.DEDUCTION:
        return f"应达 {_plain(p['threshold'])} 项,每缺一项扣 {_plain(p['step'])} 分,扣完为止"
    if rule == Rule.SHARE_OF_TARGET:
        return f"按完成目标值 {_plain(p['threshold'])} 的比例计分,最高满分"
    return ""


def _plain(value) -> str:
    if value is None:
        return "—"
    text = f"{_d(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
