"""Writes of the reports app: assessment schemes, their versions and indicators.

Every function is keyword-only and atomic, checks that the actor may manage the county's
schemes (县级管理员), validates with Chinese messages, writes and records the change at the
county node. A version that is in use or retired is never changed: `_require_draft` refuses
it here, and the triggers of migration 0002 refuse it in the database."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from associations import permissions as association_permissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, Level

from . import permissions
from .indicators import REGISTRY
from .models import AssessmentScheme, IndicatorLevel, Rule, SchemeIndicator, SchemeVersion
from .scoring import rule_errors

SCHEME_FIELDS = ["year", "name"]
VERSION_FIELDS = [
    "scheme",
    "number",
    "state",
    "first_class_min",
    "qualified_min",
    "president_pay_held",
    "leader_pay_held",
    "qualified_pay_share",
    "commendation_bonus",
    "note",
]
VERSION_EDITABLE = ["first_class_min", "qualified_min", "president_pay_held", "leader_pay_held"]
VERSION_EDITABLE += ["qualified_pay_share", "commendation_bonus", "note"]
INDICATOR_FIELDS = [
    "version",
    "order",
    "key",
    "name",
    "level",
    "manual",
    "max_score",
    "rule",
    "threshold",
    "low",
    "high",
    "step",
    "source",
    "note",
    "in_quarter",
    "in_half",
    "in_year",
]
INDICATOR_EDITABLE = INDICATOR_FIELDS[1:]
MANUAL_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
DEFAULT_LINES = {"first_class_min": Decimal("90"), "qualified_min": Decimal("70")}


def _require_manager(actor, county: Association) -> None:
    association_permissions.require(
        permissions.can_manage_schemes(actor, county), "只有县级管理员可以修改考核细则。"
    )


def _require_draft(version: SchemeVersion) -> None:
    if not version.is_draft:
        raise ValidationError(
            f"“{version}”{version.get_state_display()},不能直接修改;"
            "请先“复制为新版本”,在新的草稿版本中修改后再启用。",
            code="version_frozen",
        )


def _county_of(obj) -> Association:
    return Association.objects.get(pk=obj.county_id)


def _save(obj, *, actor, county: Association, fields, before=None, duplicate: str = ""):
    action = ChangeRecord.Action.CREATE if obj.pk is None else ChangeRecord.Action.UPDATE
    obj.place_under(county)
    obj.full_clean(
        exclude=["county", "township", "village", "group"],
        validate_unique=False,
        validate_constraints=False,
    )
    after = snapshot(obj, fields)
    if action == ChangeRecord.Action.UPDATE and after == before:
        return obj
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        if duplicate and "unique" in str(error).lower():
            raise ValidationError(duplicate, code="duplicate") from error
        raise
    record_change(actor=actor, node=county, obj=obj, action=action, before=before, after=after)
    return obj


def _check_lines(first_class_min, qualified_min) -> None:
    if first_class_min is None or qualified_min is None:
        raise ValidationError("请填写一流村协会分数线和合格分数线。", code="lines_missing")
    if Decimal(qualified_min) < 0:
        raise ValidationError({"qualified_min": "合格分数线不能为负数。"}, code="lines_negative")
    if Decimal(first_class_min) <= Decimal(qualified_min):
        raise ValidationError(
            {"first_class_min": "一流村协会分数线应高于合格分数线。"}, code="lines_unordered"
        )


# --- schemes and versions ----------------------------------------------------------------


@transaction.atomic
def scheme_create(
    *,
    actor,
    county: Association,
    year: int,
    name: str,
    first_class_min=DEFAULT_LINES["first_class_min"],
    qualified_min=DEFAULT_LINES["qualified_min"],
    president_pay_held=Decimal("50"),
    leader_pay_held=Decimal("10"),
    note: str = "",
) -> AssessmentScheme:
    """A scheme for the year, with its first version as a draft."""
    if county.level != Level.COUNTY:
        raise ValidationError("考核细则由县级协会制定。", code="not_county")
    _require_manager(actor, county)
    _check_lines(first_class_min, qualified_min)
    scheme = AssessmentScheme(year=year, name=(name or "").strip(), created_by=actor)
    _save(
        scheme,
        actor=actor,
        county=county,
        fields=SCHEME_FIELDS,
        duplicate=f"{year}年已有名为“{scheme.name}”的考核细则。",
    )
    version = SchemeVersion(
        scheme=scheme,
        number=1,
        first_class_min=first_class_min,
        qualified_min=qualified_min,
        president_pay_held=president_pay_held,
        leader_pay_held=leader_pay_held,
        note=note,
    )
    _save(version, actor=actor, county=county, fields=VERSION_FIELDS)
    return scheme


@transaction.atomic
def scheme_version_update(*, actor, version: SchemeVersion, **changes) -> SchemeVersion:
    county = _county_of(version)
    _require_manager(actor, county)
    version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    before = snapshot(version, VERSION_FIELDS)
    for field in VERSION_EDITABLE:
        if field in changes:
            setattr(version, field, changes[field])
    _check_lines(version.first_class_min, version.qualified_min)
    return _save(version, actor=actor, county=county, fields=VERSION_FIELDS, before=before)


def max_score_totals(version: SchemeVersion) -> dict[str, Decimal]:
    """{level: sum of the max scores of the version's indicators at that level}."""
    rows = (
        SchemeIndicator.objects.filter(version=version)
        .values("level")
        .annotate(total=Sum("max_score"))
        .order_by()
    )
    return {row["level"]: row["total"] for row in rows}


@transaction.atomic
def scheme_version_activate(*, actor, version: SchemeVersion) -> SchemeVersion:
    """启用: the draft goes into use, the version in use before it (if any) is retired."""
    county = _county_of(version)
    _require_manager(actor, county)
    version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    village_total = max_score_totals(version).get(IndicatorLevel.VILLAGE)
    if not village_total:
        raise ValidationError("版本中还没有村级指标,不能启用。", code="no_indicators")
    if village_total < version.first_class_min:
        raise ValidationError(
            f"村级指标满分合计 {village_total} 分,低于一流村协会分数线 "
            f"{version.first_class_min} 分,无法评出一流村协会。请调整后再启用。",
            code="lines_above_total",
        )
    now = timezone.now()
    for current in SchemeVersion.objects.select_for_update().filter(
        scheme_id=version.scheme_id, state=SchemeVersion.State.IN_USE
    ):
        before = snapshot(current, VERSION_FIELDS)
        current.state, current.retired_at = SchemeVersion.State.RETIRED, now
        _save(current, actor=actor, county=county, fields=VERSION_FIELDS, before=before)
    before = snapshot(version, VERSION_FIELDS)
    version.state, version.activated_at = SchemeVersion.State.IN_USE, now
    return _save(version, actor=actor, county=county, fields=VERSION_FIELDS, before=before)


@transaction.atomic
def scheme_new_version(*, actor, version: SchemeVersion) -> SchemeVersion:
    """复制为新版本: a draft copy of the version (its lines, pay and indicators), numbered
    after the scheme's last one. A scheme has at most one draft at a time."""
    county = _county_of(version)
    _require_manager(actor, county)
    scheme = AssessmentScheme.objects.select_for_update().get(pk=version.scheme_id)
    draft = SchemeVersion.objects.filter(scheme=scheme, state=SchemeVersion.State.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            f"“{scheme}”已有草稿(第{draft.number}版),请在草稿中修改。", code="draft_exists"
        )
    last = SchemeVersion.objects.filter(scheme=scheme).aggregate(n=Max("number"))["n"] or 0
    copy = SchemeVersion(
        scheme=scheme,
        number=last + 1,
        copied_from=version,
        **{field: getattr(version, field) for field in VERSION_EDITABLE},
    )
    _save(copy, actor=actor, county=county, fields=VERSION_FIELDS)
    for indicator in SchemeIndicator.objects.filter(version=version).order_by("level", "order"):
        fields = {field: getattr(indicator, field) for field in INDICATOR_EDITABLE}
        _save(
            SchemeIndicator(version=copy, **fields),
            actor=actor,
            county=county,
            fields=INDICATOR_FIELDS,
        )
    return copy


# --- indicators ------------------------------------------------------------------------------


def _validate_indicator(indicator: SchemeIndicator) -> None:
    errors = {}
    if indicator.manual:
        if not MANUAL_KEY.match(indicator.key or ""):
            errors["key"] = (
                "人工评分指标的代码只能由小写字母、数字和下划线组成,以字母开头(2-40 位)。"
            )
        elif indicator.key in REGISTRY:
            errors["key"] = f"“{indicator.key}”是系统计算指标的代码,人工评分指标请另取代码。"
    else:
        registered = REGISTRY.get(indicator.key)
        if registered is None:
            errors["key"] = "请选择系统计算的指标,或改为人工评分指标。"
        else:
            indicator.level = registered.level
            indicator.name = indicator.name or registered.name
    if not (indicator.name or "").strip():
        errors["name"] = "请填写指标名称。"
    if not (indicator.in_quarter or indicator.in_half or indicator.in_year):
        errors["in_year"] = "请至少选择一种考核(季度、半年或年度)。"
    errors.update(
        rule_errors(
            indicator.rule,
            max_score=indicator.max_score,
            threshold=indicator.threshold,
            low=indicator.low,
            high=indicator.high,
            step=indicator.step,
        )
    )
    if errors:
        raise ValidationError(errors)
    # Parameters the rule does not use are cleared, so a copy carries no stale numbers.
    used = {
        Rule.MET: {"threshold"},
        Rule.LINEAR: {"low", "high"},
        Rule.DEDUCTION: {"threshold", "step"},
        Rule.SHARE_OF_TARGET: {"threshold"},
    }[indicator.rule]
    for field in ("threshold", "low", "high", "step"):
        if field not in used:
            setattr(indicator, field, None)


@transaction.atomic
def indicator_add(*, actor, version: SchemeVersion, **fields) -> SchemeIndicator:
    county = _county_of(version)
    _require_manager(actor, county)
    version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if fields.get("order") is None:
        last = SchemeIndicator.objects.filter(version=version).aggregate(n=Max("order"))["n"]
        fields["order"] = (last or 0) + 1
    indicator = SchemeIndicator(
        version=version, **{k: v for k, v in fields.items() if k in INDICATOR_EDITABLE}
    )
    _validate_indicator(indicator)
    return _save(
        indicator,
        actor=actor,
        county=county,
        fields=INDICATOR_FIELDS,
        duplicate=f"本版本已有代码为“{indicator.key}”的指标。",
    )


@transaction.atomic
def indicator_update(*, actor, indicator: SchemeIndicator, **changes) -> SchemeIndicator:
    county = _county_of(indicator)
    _require_manager(actor, county)
    version = SchemeVersion.objects.select_for_update().get(pk=indicator.version_id)
    _require_draft(version)
    # Read afresh: a form may have changed the instance it was handed.
    indicator = SchemeIndicator.objects.select_for_update().get(pk=indicator.pk)
    before = snapshot(indicator, INDICATOR_FIELDS)
    for field in INDICATOR_EDITABLE:
        if field in changes:
            setattr(indicator, field, changes[field])
    _validate_indicator(indicator)
    return _save(
        indicator,
        actor=actor,
        county=county,
        fields=INDICATOR_FIELDS,
        before=before,
        duplicate=f"本版本已有代码为“{indicator.key}”的指标。",
    )


@transaction.atomic
def indicator_remove(*, actor, indicator: SchemeIndicator) -> None:
    county = _county_of(indicator)
    _require_manager(actor, county)
    version = SchemeVersion.objects.select_for_update().get(pk=indicator.version_id)
    _require_draft(version)
    before = snapshot(indicator, INDICATOR_FIELDS)
    record_change(
        actor=actor,
        node=county,
        obj=indicator,
        action=ChangeRecord.Action.DELETE,
        before=before,
        after=None,
    )
    indicator.delete()
