"""Writes of programme configuration (县级管理员): a programme with its category rates, funding
split and eligibility rule.

A programme in use keeps its history: every application stores the rule and the facts it was
judged by (Enrollment.rule / facts, EnrollmentEvent.rule / facts), so editing the rule or the
amounts changes no stored decision. What would make stored enrolments wrong is refused: a
programme with enrolments keeps its beneficiary kind (个人 / 家庭户)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require
from associations.scope import activate
from households.categories import Category

from . import permissions
from .eligibility import clean_rule
from .models import Enrollment, Fund, Program, ProgramRate
from .selectors import county_scope
from .validation import field_error

PROGRAM_FIELDS = [
    "name",
    "template",
    "kind",
    "frequency",
    "beneficiary_kind",
    "standard_amount",
    "funding_source",
    "funding_split",
    "needs_notice",
    "notice_days",
    "rule",
    "fund",
    "is_active",
]
EDITABLE = set(PROGRAM_FIELDS)
# The rates' key in the programme's change records: not a field name (a reverse relation has no
# label), so the history shows this label.
RATES_KEY = "分类标准"
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
CATEGORY_LABELS = dict(Category.choices)


def _money(value, label: str, key: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        raise field_error(key, f"{label}须为金额,如 720.00。", "invalid") from None
    if amount < 0:
        raise field_error(key, f"{label}不能为负数。", "negative")
    return amount


def clean_funding_split(rows) -> list[dict]:
    """[{"source": "中央财政", "percent": 80}, …]: each share positive, sources named once,
    shares adding up to 100. An empty list records no split."""
    if rows in (None, ""):
        return []
    if not isinstance(rows, list | tuple):
        raise field_error("funding_split", "资金分担的格式不正确。", "invalid")
    cleaned, seen, total = [], set(), Decimal(0)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise field_error("funding_split", f"第 {number} 行格式不正确。", "invalid")
        source = str(row.get("source") or "").strip()
        if not source:
            raise field_error("funding_split", f"第 {number} 行:请填写出资方。", "source_required")
        if len(source) > 50:
            raise field_error(
                "funding_split", f"第 {number} 行:出资方名称不能超过 50 字。", "too_long"
            )
        if source in seen:
            raise field_error("funding_split", f"出资方“{source}”填写了两次。", "source_repeated")
        seen.add(source)
        raw = row.get("percent")
        try:
            if isinstance(raw, bool):
                raise TypeError
            percent = Decimal(str(raw).strip().rstrip("%"))
        except (InvalidOperation, ValueError, TypeError):
            raise field_error(
                "funding_split", f"第 {number} 行:比例须为数字,如 50。", "invalid"
            ) from None
        if not percent.is_finite() or percent <= 0:
            raise field_error(
                "funding_split", f"第 {number} 行({source}):比例须大于 0。", "share_not_positive"
            )
        if percent != percent.quantize(CENT):
            raise field_error(
                "funding_split", f"第 {number} 行({source}):比例最多保留两位小数。", "invalid"
            )
        total += percent
        shown = int(percent) if percent == percent.to_integral_value() else float(percent)
        cleaned.append({"source": source, "percent": shown})
    if cleaned and total != HUNDRED:
        # "%" marks a parameter in a ValidationError's message: the literal ones are doubled.
        raise field_error(
            "funding_split",
            "各出资方比例之和须为 100%%,现为 %(total)s%%。",
            "shares_not_100",
            params={"total": f"{total.normalize():f}"},
        )
    return cleaned


def clean_rates(rows) -> list[dict]:
    """[{"category": "bereaved", "label": "死亡", "amount": "1200.00"}, …]: the amount of a
    family category (households.categories), each category once."""
    cleaned, seen = [], set()
    for number, row in enumerate(rows or [], start=1):
        category = str(row.get("category") or "")
        if category not in CATEGORY_LABELS:
            raise field_error("rates", f"第 {number} 行:请选择家庭类别。", "category_invalid")
        if category in seen:
            raise field_error(
                "rates",
                f"家庭类别“{CATEGORY_LABELS[category]}”的标准填写了两次。",
                "category_repeated",
            )
        seen.add(category)
        label = str(row.get("label") or "").strip() or CATEGORY_LABELS[category]
        if len(label) > 50:
            raise field_error("rates", f"第 {number} 行:名称不能超过 50 字。", "too_long")
        amount = _money(row.get("amount"), f"第 {number} 行的标准金额", "rates")
        cleaned.append({"category": category, "label": label, "amount": amount})
    return cleaned


def _county_node(actor) -> Association:
    with activate(county_scope(actor.county_id)):
        return Association.objects.get(pk=actor.county_id)


def _rates_snapshot(program: Program) -> list[dict]:
    return [
        {"category": r.category, "label": r.label, "amount": str(r.amount)}
        for r in program.rates.order_by("id")
    ]


def _check_fund(actor, fund: Fund | None) -> None:
    if fund is not None and fund.county_id != actor.county_id:
        raise field_error("fund", "请选择本县的基金。", "does_not_exist")


def _save(program: Program, *, actor, rates: list[dict] | None, before: dict | None) -> Program:
    program.name = (program.name or "").strip()
    try:
        program.rule = clean_rule(program.rule)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise field_error("rule", ";".join(error.messages), "rule_invalid") from None
        raise ValidationError(
            {
                key if key == "rule" else f"rule.{key}": errors
                for key, errors in error.error_dict.items()
            }
        ) from None
    program.funding_split = clean_funding_split(program.funding_split)
    program.standard_amount = _money(program.standard_amount, "标准金额", "standard_amount")
    program.full_clean(exclude=["county", "township", "village", "group", "fund"])
    try:
        with transaction.atomic():
            program.save()
    except IntegrityError as error:
        if "program_name_unique_in_county" in str(error):
            raise field_error(
                "name", f"本县已有名为“{program.name}”的项目。", "name_taken"
            ) from None
        raise
    if rates is not None:
        kept = {row["category"] for row in rates}
        program.rates.exclude(category__in=kept).delete()
        existing = {rate.category: rate for rate in program.rates.all()}
        for row in rates:
            rate = existing.get(row["category"]) or ProgramRate(
                program=program, category=row["category"], county_id=program.county_id
            )
            rate.label, rate.amount = row["label"], row["amount"]
            rate.save()
    after = {**snapshot(program, PROGRAM_FIELDS), RATES_KEY: _rates_snapshot(program)}
    if after != before:
        record_change(
            actor=actor,
            node=_county_node(actor),
            obj=program,
            action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
            before=before,
            after=after,
        )
    return program


@transaction.atomic
def program_create(*, actor, rates=None, form_token=None, **fields) -> Program:
    """A new programme of the actor's county (``fields``: PROGRAM_FIELDS; ``rates``: see
    ``clean_rates``)."""
    require(permissions.can_configure(actor), "只有县级管理员可以设置扶助项目。")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    with activate(county_scope(actor.county_id)):
        county = _county_node(actor)
        earlier = submissions.claim(actor=actor, token=form_token, node=county, model=Program)
        if earlier is not None:
            earlier.replayed = True
            return earlier
        _check_fund(actor, fields.get("fund"))
        cleaned_rates = clean_rates(rates)
        program = Program(**fields)
        program.county_id = actor.county_id
        _save(program, actor=actor, rates=cleaned_rates, before=None)
        submissions.complete(token=form_token, obj=program)
        return program


@transaction.atomic
def program_update(*, actor, program: Program, rates=None, **fields) -> Program:
    """Change a programme; ``rates`` None leaves its rates as they are, a list replaces them."""
    require(permissions.can_configure(actor), "只有县级管理员可以设置扶助项目。")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    with activate(county_scope(actor.county_id)):
        program = Program.objects.select_for_update().get(pk=program.pk)
        before = {**snapshot(program, PROGRAM_FIELDS), RATES_KEY: _rates_snapshot(program)}
        if "fund" in fields:
            _check_fund(actor, fields["fund"])
        new_kind = fields.get("beneficiary_kind", program.beneficiary_kind)
        if new_kind != program.beneficiary_kind and program_in_use(program):
            raise field_error(
                "beneficiary_kind",
                "该项目已有申报记录,不能更改扶助对象类型(个人/家庭户)。",
                "kind_in_use",
            )
        if "template" in fields and fields["template"] != program.template:
            raise field_error("template", "项目模板创建后不能更改。", "template_fixed")
        cleaned_rates = clean_rates(rates) if rates is not None else None
        for name, value in fields.items():
            setattr(program, name, value.strip() if isinstance(value, str) else value)
        return _save(program, actor=actor, rates=cleaned_rates, before=before)


def program_in_use(program: Program) -> bool:
    """Whether any enrolment (of any status, anywhere in the county) names the programme."""
    with activate(county_scope(program.county_id)):
        return Enrollment.objects.filter(program=program).exists()
