"""Eligibility rules of care-subsidy programmes: a small rule language stored in
``Program.rule`` (JSON), judged against registry facts.

A rule is a conjunction of conditions; every key is optional and an empty rule admits every
living person (or household) of the registry:

``categories``        the household has ANY of these family categories (households.categories)
``relations``         the person's relation to the head is one of these ("head", "spouse": parents)
``sex``               "male" or "female"
``min_age``/``max_age``  the person's whole years (周岁) on the reference date, inclusive
``age_on``            the reference date: "year_end" (31 December of the year judged, the
                      default), "today" (the day judged) or "date" (``age_date``, ISO)
``residencies``       the person's residency (户籍常住 / 流入 / 流出) is one of these
``registration_kind`` 户口性质: "agricultural" (农业户口) or "non_agricultural"
``disability_max_grade``  the person is disabled at this grade or a more severe one (1 is the
                      most severe, so 2 means grade 1 or 2)
``child``             "deceased": a son or daughter of the household has died;
                      "disabled": a living son or daughter is disabled at
                      ``child_disability_max_grade`` (default 3) or more severely;
                      "deceased_or_disabled": either
``child_max_age``     a living son or daughter is at most this old (独生子女未满 18 周岁: 17)
``mother_min_age``    the woman of the couple (the female head or spouse) is at least this old
                      on the reference date (特别扶助: 女方年满 49 周岁)
``certificate``       someone of the household holds the 独生子女父母光荣证
``hardship``          the household is in the hardship roster (计生困难家庭) of the year judged

Always required: the person is alive and recorded in a household (an enrolment belongs to a
household). For a household programme the household needs a living member, its own residency
is judged, and the person conditions (sex, age, relation, 户口性质, disability) are judged on
its head.

The candidates of a programme (benefits.candidates) are the persons or households that the
rule is ABOUT: alive, of its family categories, relations and sex. Of those, the ones that
fail another condition are listed as excluded, with the facts that exclude them. This module
holds the rule (parsing, checks, the Chinese description) and the one judgement
(``decide``) of a set of facts; benefits.candidates fetches the facts in bulk and computes
the same judgement in SQL to count and filter a county at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from django.core.exceptions import ValidationError
from django.db import models

from households.categories import Category, Relation, age_shown
from households.models import RegistrationKind, Residency, Sex

RULE_VERSION = 1
MAX_AGE = 150


class AgeOn(models.TextChoices):
    YEAR_END = "year_end", "当年 12 月 31 日"
    TODAY = "today", "审核当日"
    DATE = "date", "指定日期"


class ChildCondition(models.TextChoices):
    DECEASED = "deceased", "子女已去世"
    DISABLED = "disabled", "子女残疾"
    DECEASED_OR_DISABLED = "deceased_or_disabled", "子女去世或残疾"


CHILDREN = (Relation.SON, Relation.DAUGHTER)
COUPLE = (Relation.HEAD, Relation.SPOUSE)
DEFAULT_CHILD_GRADE = 3
CATEGORY_LABELS = dict(Category.choices)
RELATION_LABELS = dict(Relation.choices)
RESIDENCY_LABELS = dict(Residency.choices)
REGISTRATION_LABELS = dict(RegistrationKind.choices)
SEX_LABELS = dict(Sex.choices)
SEP = ";"


def born_by(day: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone aged at least ``years`` on ``day`` (a 29 February
    birthday is reached on 1 March in common years, as households.categories.age_on)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # day is 29 February, the year ``years`` earlier is a common one
        return day.replace(year=day.year - years, day=28)


# --- the rule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    categories: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    sex: str = ""
    min_age: int | None = None
    max_age: int | None = None
    age_on: str = AgeOn.YEAR_END
    age_date: datetime.date | None = None
    residencies: tuple[str, ...] = ()
    registration_kind: str = ""
    disability_max_grade: int | None = None
    child: str = ""
    child_disability_max_grade: int = DEFAULT_CHILD_GRADE
    child_max_age: int | None = None
    mother_min_age: int | None = None
    certificate: bool = False
    hardship: bool = False

    # -- reading and writing the stored form --

    @classmethod
    def from_json(cls, data) -> Rule:
        """The rule of a stored or submitted dict. ``ValidationError`` (keyed by the rule's
        keys, in Chinese) when it is not a rule of this language."""
        if data in (None, ""):
            return cls()
        if not isinstance(data, dict):
            raise ValidationError("资格条件的格式不正确。", code="rule_invalid")
        errors: dict[str, list[ValidationError]] = {}
        known = {f.name for f in fields(cls)} | {"version"}
        unknown = sorted(set(data) - known)
        if unknown:
            errors["rule"] = [
                ValidationError(f"不认识的资格条件:{'、'.join(unknown)}。", code="rule_unknown")
            ]
        values: dict = {}

        def fail(key: str, message: str, code: str = "invalid") -> None:
            errors.setdefault(key, []).append(ValidationError(message, code=code))

        def choices(key: str, allowed: dict, label: str) -> None:
            raw = data.get(key) or []
            if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
                fail(key, f"{label}须为列表。")
                return
            wrong = [v for v in raw if v not in allowed]
            if wrong:
                fail(key, f"{label}中有无效的值:{'、'.join(wrong)}。", "invalid_choice")
                return
            values[key] = tuple(v for v in allowed if v in raw)  # the choices' order, once

        def choice(key: str, allowed: dict, label: str) -> None:
            raw = data.get(key) or ""
            if not isinstance(raw, str):
                fail(key, f"{label}的值无效。", "invalid_choice")
            elif raw and raw not in allowed:
                fail(key, f"{label}的值无效:{raw}。", "invalid_choice")
            else:
                values[key] = raw

        def whole(key: str, label: str, low: int, high: int) -> None:
            raw = data.get(key)
            if raw is None or raw == "":
                return
            if isinstance(raw, bool) or not isinstance(raw, int):
                fail(key, f"{label}须为整数。")
            elif not low <= raw <= high:
                fail(key, f"{label}须在 {low} 至 {high} 之间。", "out_of_range")
            else:
                values[key] = raw

        def flag(key: str, label: str) -> None:
            raw = data.get(key, False)
            if not isinstance(raw, bool):
                fail(key, f"{label}须为是或否。")
            else:
                values[key] = raw

        choices("categories", CATEGORY_LABELS, "家庭类别")
        choices("relations", RELATION_LABELS, "与户主关系")
        choice("sex", SEX_LABELS, "性别")
        whole("min_age", "最低年龄", 0, MAX_AGE)
        whole("max_age", "最高年龄", 0, MAX_AGE)
        choice("age_on", dict(AgeOn.choices), "年龄计算日")
        values["age_on"] = values.get("age_on") or AgeOn.YEAR_END
        raw_date = data.get("age_date")
        if raw_date not in (None, ""):
            try:
                values["age_date"] = (
                    raw_date
                    if isinstance(raw_date, datetime.date)
                    else datetime.date.fromisoformat(str(raw_date))
                )
            except ValueError:
                fail("age_date", "年龄计算日期的格式不正确(如 2026-12-31)。")
        choices("residencies", RESIDENCY_LABELS, "户籍状态")
        choice("registration_kind", REGISTRATION_LABELS, "户口性质")
        whole("disability_max_grade", "本人残疾等级", 1, 4)
        choice("child", dict(ChildCondition.choices), "子女情况")
        whole("child_disability_max_grade", "子女残疾等级", 1, 4)
        whole("child_max_age", "子女最高年龄", 0, MAX_AGE)
        whole("mother_min_age", "女方最低年龄", 0, MAX_AGE)
        flag("certificate", "持独生子女父母光荣证")
        flag("hardship", "计生困难家庭")

        low, high = values.get("min_age"), values.get("max_age")
        if low is not None and high is not None and low > high:
            fail("max_age", f"最高年龄({high} 周岁)不能小于最低年龄({low} 周岁)。", "age_order")
        dated = values.get("age_on") == AgeOn.DATE
        if dated and "age_date" not in values and "age_date" not in errors:
            fail("age_date", "年龄按指定日期计算时,请填写该日期。", "required")
        if values.get("age_on") != AgeOn.DATE:
            values.pop("age_date", None)
        if not values.get("child"):
            values.pop("child_disability_max_grade", None)
        if errors:
            raise ValidationError(errors)
        return cls(**values)

    def to_json(self) -> dict:
        """The stored form: the version and the conditions that are set."""
        data: dict = {"version": RULE_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "age_on":
                if self.uses_age and value != AgeOn.YEAR_END:
                    data[f.name] = value
                continue
            if f.name == "age_date":
                if self.uses_age and self.age_on == AgeOn.DATE and value is not None:
                    data[f.name] = value.isoformat()
                continue
            if f.name == "child_disability_max_grade":
                if self.child in (ChildCondition.DISABLED, ChildCondition.DECEASED_OR_DISABLED):
                    data[f.name] = value
                continue
            if value in (None, "", (), False):
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            data[f.name] = value
        return data

    # -- what it reads --

    @property
    def uses_age(self) -> bool:
        return any(
            v is not None
            for v in (self.min_age, self.max_age, self.child_max_age, self.mother_min_age)
        )

    @property
    def person_conditions(self) -> bool:
        """Conditions on the person (on the head, for a household programme)."""
        return bool(
            self.relations
            or self.sex
            or self.min_age is not None
            or self.max_age is not None
            or self.registration_kind
            or self.disability_max_grade is not None
        )

    @property
    def needs_children(self) -> bool:
        return bool(self.child) or self.child_max_age is not None

    def reference_date(self, *, year: int, today: datetime.date) -> datetime.date:
        if self.age_on == AgeOn.DATE and self.age_date is not None:
            return self.age_date
        if self.age_on == AgeOn.TODAY:
            return today
        return datetime.date(year, 12, 31)

    # -- in words --

    def describe(self) -> list[str]:
        """The conditions in Chinese, one line each (the programme's list shows them)."""
        lines = []
        if self.categories:
            lines.append("家庭类别:" + "、".join(CATEGORY_LABELS[c] for c in self.categories))
        if self.relations:
            lines.append("本人为" + "或".join(RELATION_LABELS[r] for r in self.relations))
        if self.sex:
            lines.append(f"{SEX_LABELS[self.sex]}性")
        on = self.age_on_label()
        if self.min_age is not None and self.max_age is not None:
            lines.append(f"{self.min_age} 至 {self.max_age} 周岁({on})")
        elif self.min_age is not None:
            lines.append(f"年满 {self.min_age} 周岁({on})")
        elif self.max_age is not None:
            lines.append(f"不超过 {self.max_age} 周岁({on})")
        if self.residencies:
            lines.append("户籍状态:" + "、".join(RESIDENCY_LABELS[r] for r in self.residencies))
        if self.registration_kind:
            lines.append(REGISTRATION_LABELS[self.registration_kind])
        if self.disability_max_grade is not None:
            lines.append(f"本人残疾 {_grades(self.disability_max_grade)}")
        if self.child == ChildCondition.DECEASED:
            lines.append("子女已去世")
        elif self.child == ChildCondition.DISABLED:
            lines.append(f"子女残疾 {_grades(self.child_disability_max_grade)}")
        elif self.child == ChildCondition.DECEASED_OR_DISABLED:
            lines.append(f"子女已去世或残疾 {_grades(self.child_disability_max_grade)}")
        if self.child_max_age is not None:
            lines.append(f"子女未满 {self.child_max_age + 1} 周岁({on})")
        if self.mother_min_age is not None:
            lines.append(f"女方年满 {self.mother_min_age} 周岁({on})")
        if self.certificate:
            lines.append("持独生子女父母光荣证")
        if self.hardship:
            lines.append("当年计生困难家庭")
        return lines or ["不限(在世并登记在家庭户)"]

    def age_on_label(self) -> str:
        if self.age_on == AgeOn.DATE and self.age_date is not None:
            return f"以 {self.age_date.isoformat()} 计"
        if self.age_on == AgeOn.TODAY:
            return "以审核当日计"
        return "以当年 12 月 31 日计"


def _grades(worst: int) -> str:
    return "1 级" if worst == 1 else f"1-{worst} 级"


UNREADABLE = "该项目保存的资格条件无法识别,请县级管理员在项目的“修改”页重新设置。"


def stored_rule(data) -> Rule | None:
    """The rule a programme (or a decision) stored, or None when it is not a rule of this
    language (written by hand or by an older version): callers say so instead of failing."""
    try:
        return Rule.from_json(data)
    except ValidationError:
        return None


def describe_stored(data) -> list[str]:
    rule = stored_rule(data)
    return rule.describe() if rule is not None else [UNREADABLE]


def program_rule(program) -> Rule:
    """The programme's rule for judging; a ValidationError (code "rule_unreadable") that
    names the programme when its stored rule cannot be read."""
    rule = stored_rule(program.rule)
    if rule is None:
        raise ValidationError(f"“{program.name}”:{UNREADABLE}", code="rule_unreadable")
    return rule


def clean_rule(data) -> dict:
    """The stored form of a submitted rule (services call this before saving a programme)."""
    return Rule.from_json(data).to_json()


# --- the facts and the judgement -----------------------------------------------------------


@dataclass
class Facts:
    """What the registry says of one candidate, as benefits.candidates reads it. For a
    household programme the person fields are the head's (all None without a head)."""

    person_id: int | None
    household_id: int | None
    alive: bool = True
    died_on: datetime.date | None = None
    relation: str = ""
    sex: str = ""
    birth_date: datetime.date | None = None
    residency: str = ""
    registration_kind: str = ""
    disability_grade: int | None = None
    categories: tuple[str, ...] = ()
    household_number: str = ""
    household_residency: str = ""
    household_alive: bool = True  # a living member (household programmes)
    hardship: bool = False
    child_deceased: bool = False
    child_grade: int | None = None  # the most severe grade of a living son or daughter
    youngest_child_birth: datetime.date | None = None
    woman_birth: datetime.date | None = None
    certificate: bool = False
    village_id: int | None = None
    group_id: int | None = None
    village_name: str = ""


@dataclass
class Decision:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    category: str = ""  # the rate category the amount is judged by ("" : the standard)
    facts: dict = field(default_factory=dict)  # stored with the enrolment: no identifiers

    @property
    def reasons_text(self) -> str:
        return SEP.join(self.reasons)

    @property
    def exclusions_text(self) -> str:
        return SEP.join(self.exclusions)


def rate_category(categories: Iterable[str], rate_categories: Iterable[str]) -> str:
    """The first of the programme's rate categories the household has, else ""."""
    held = set(categories)
    return next((c for c in rate_categories if c in held), "")


def decide(
    rule: Rule,
    facts: Facts,
    *,
    year: int,
    today: datetime.date,
    household_programme: bool = False,
    rate_categories: Iterable[str] = (),
) -> Decision:
    """Judge one candidate. Every condition of the rule that holds adds its reason, every one
    that fails adds what excludes; the candidate is eligible when none fails."""
    ref = rule.reference_date(year=year, today=today)
    reasons: list[str] = []
    exclusions: list[str] = []

    def judge(ok: bool, reason: str, exclusion: str) -> None:
        (reasons if ok else exclusions).append(reason if ok else exclusion)

    who = "户主" if household_programme else "本人"
    if household_programme:
        if not facts.household_alive:
            exclusions.append("户内人员均已去世")
    elif not facts.alive:
        died = f"({facts.died_on.isoformat()})" if facts.died_on else ""
        exclusions.append(f"本人已去世{died}")
    if facts.household_id is None:
        exclusions.append("未登记所在家庭户")

    if rule.categories:
        held = [c for c in rule.categories if c in facts.categories]
        wanted = "或".join(CATEGORY_LABELS[c] for c in rule.categories)
        judge(bool(held), "、".join(CATEGORY_LABELS[c] for c in held), f"非{wanted}")
    if household_programme and rule.person_conditions and facts.person_id is None:
        exclusions.append("未登记户主")
    if rule.relations:
        label = RELATION_LABELS.get(facts.relation, "未填写")
        wanted = "或".join(RELATION_LABELS[r] for r in rule.relations)
        judge(facts.relation in rule.relations, f"{who}为{label}", f"{who}不是{wanted}({label})")
    if rule.sex:
        judge(
            facts.sex == rule.sex,
            f"{SEX_LABELS[rule.sex]}性",
            f"性别不符(须为{SEX_LABELS[rule.sex]}性)",
        )
    age = age_shown(facts.birth_date, ref)
    if rule.min_age is not None or rule.max_age is not None:
        if age is None:
            exclusions.append(f"{who}年龄不详")
        elif rule.min_age is not None and age < rule.min_age:
            exclusions.append(f"未满 {rule.min_age} 周岁({age} 周岁)")
        elif rule.max_age is not None and age > rule.max_age:
            exclusions.append(f"超过 {rule.max_age} 周岁({age} 周岁)")
        else:
            reasons.append(f"{who} {age} 周岁")
    if rule.residencies:
        residency = facts.household_residency if household_programme else facts.residency
        label = RESIDENCY_LABELS.get(residency, "未登记")
        judge(residency in rule.residencies, label, f"户籍状态不符({label})")
    if rule.registration_kind:
        kind = facts.registration_kind
        if kind == rule.registration_kind:
            reasons.append(REGISTRATION_LABELS[kind])
        elif not kind:
            exclusions.append("户口性质未登记")
        else:
            exclusions.append(REGISTRATION_LABELS[kind])
    if rule.disability_max_grade is not None:
        grade = facts.disability_grade
        if grade is None:
            exclusions.append(f"{who}无残疾等级登记")
        else:
            judge(
                grade <= rule.disability_max_grade,
                f"{who}残疾 {grade} 级",
                f"{who}残疾 {grade} 级,须为 {_grades(rule.disability_max_grade)}",
            )
    if rule.child:
        worst = rule.child_disability_max_grade
        disabled = facts.child_grade is not None and facts.child_grade <= worst
        deceased = facts.child_deceased
        if rule.child == ChildCondition.DECEASED:
            judge(deceased, "子女已去世", "无去世子女")
        elif rule.child == ChildCondition.DISABLED:
            judge(disabled, f"子女残疾 {facts.child_grade} 级", f"无 {_grades(worst)}残疾子女")
        else:
            judge(
                deceased or disabled,
                "子女已去世" if deceased else f"子女残疾 {facts.child_grade} 级",
                f"无去世或 {_grades(worst)}残疾子女",
            )
    if rule.child_max_age is not None:
        child_age = age_shown(facts.youngest_child_birth, ref)
        if child_age is None:
            exclusions.append("无在世子女")
        else:
            judge(
                child_age <= rule.child_max_age,
                f"子女 {child_age} 周岁",
                f"子女已满 {rule.child_max_age + 1} 周岁({child_age} 周岁)",
            )
    if rule.mother_min_age is not None:
        woman_age = age_shown(facts.woman_birth, ref)
        if woman_age is None:
            exclusions.append("未登记女方(户主或配偶)")
        else:
            judge(
                woman_age >= rule.mother_min_age,
                f"女方 {woman_age} 周岁",
                f"女方未满 {rule.mother_min_age} 周岁({woman_age} 周岁)",
            )
    if rule.certificate:
        judge(facts.certificate, "持独生子女父母光荣证", "未登记独生子女父母光荣证")
    if rule.hardship:
        judge(facts.hardship, f"{year} 年计生困难家庭", f"不在 {year} 年计生困难家庭名册")

    return Decision(
        eligible=not exclusions,
        reasons=reasons,
        exclusions=exclusions,
        category=rate_category(facts.categories, rate_categories),
        facts=stored_facts(facts, rule=rule, year=year, ref=ref, age=age),
    )


def stored_facts(facts: Facts, *, rule: Rule, year: int, ref: datetime.date, age) -> dict:
    """The facts a decision keeps (Enrollment.facts, EnrollmentEvent.facts): ages, never birth
    dates or identifiers (households.masking)."""
    return {
        "year": year,
        "reference_date": ref.isoformat(),
        "alive": facts.alive,
        "household": facts.household_number,
        "village": facts.village_name,
        "categories": list(facts.categories),
        "relation": facts.relation,
        "sex": facts.sex,
        "age": age,
        "residency": facts.residency,
        "household_residency": facts.household_residency,
        "registration_kind": facts.registration_kind,
        "disability_grade": facts.disability_grade,
        "hardship": facts.hardship,
        "child_deceased": facts.child_deceased,
        "child_disability_grade": facts.child_grade,
        "youngest_child_age": age_shown(facts.youngest_child_birth, ref),
        "woman_age": age_shown(facts.woman_birth, ref),
        "certificate": facts.certificate,
    }
