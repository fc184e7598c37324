"""Family-planning categories and happy-family types of a household, derived from plain data.

Pure functions: no models, no database, no settings (``households.models`` imports this module,
so it must never import the models). Services build a ``HouseholdFacts`` from a household and its
persons, call ``family_categories`` and ``family_types`` and store the values on the household;
they refresh them on every change and nightly, because ages move with the calendar.

Categories (``family_categories``). "Children" are ``children_of_couple`` (relation son or
daughter, alive or deceased); "one-child condition" is ONE_CHILD's condition:

- ONE_CHILD 独生子女户: anyone holds the 独生子女父母光荣证, or the couple has exactly one child.
- TWO_DAUGHTERS 双女户: the couple has exactly two children, both with relation daughter.
- BEREAVED 失独: one-child condition, at least one child recorded, and every child deceased.
- DISABLED_CHILD 伤残: one-child condition and a living child with disability grade 1-3.
- EMPTY_NEST 空巢: someone living lives there (not outflow), and all who do are aged 60+.
- FLOATING 流动人口家庭: household inflow/outflow, or over half of living persons are.

Family types of the happy-family programme (``family_types``; a household can have several).
"A child" is a living person with relation son, daughter or grandchild:

- NEWLYWED 新婚待孕: living married head/spouse, married 0-730 days before today, no children.
- PREGNANCY_POSTPARTUM 孕期产后: a child under 1 (pregnancy is never recorded: postpartum).
- EARLY_DEVELOPMENT 早期发展: a child aged 0-3 (age < 4), may coincide with the previous.
- ADOLESCENT 青春少年: a child aged 10-19.
- MATURE 成熟育龄: a living married woman aged 15-49, and none of the four types above.
- ELDERLY 老年家庭: a living person aged 60+, whatever their residency.

Details of the rules:

- The certificate counts whoever in the household holds it, alive or deceased: it belongs to
  the couple, and a widowed parent keeps it.
- No medical data is kept on anyone, so a pregnancy is never recorded and PREGNANCY_POSTPARTUM
  is in practice "a baby under one year old in the household" (age_on == 0).
- EMPTY_NEST needs the 60+ person to live there: a household whose members all moved away is
  not an empty nest.

Conventions:

- Ages are whole years (周岁) on ``today``. A 29 February birthday is reached on 1 March in
  common years.
- A person is living on ``today`` unless ``is_deceased``; a recorded ``died_on`` after ``today``
  means they were still alive then (this only matters when evaluating a past date).
- A person born after ``today`` does not exist yet and is ignored everywhere, so evaluating a
  past date gives the answer of that date. A living person without a birth date has no age:
  they never satisfy an age condition, and as a resident they prevent EMPTY_NEST.
- ``mother_key`` is carried for callers; no rule reads it.
- Input values are checked when the dataclasses are built (``ValueError`` on an unknown
  relation, sex, residency or marital status, a disability grade outside 1-4, or a death date
  on a person not marked deceased), so a wrong mapping fails loudly instead of miscategorizing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import TextChoices


class Relation(TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    SON = "son", "子"
    DAUGHTER = "daughter", "女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    SIBLING = "sibling", "兄弟姐妹"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    OTHER = "other", "其他"


class Category(TextChoices):
    ONE_CHILD = "one_child", "独生子女户"
    TWO_DAUGHTERS = "two_daughters", "双女户"
    BEREAVED = "bereaved", "计生特殊家庭(失独)"
    DISABLED_CHILD = "disabled_child", "计生特殊家庭(伤残)"
    EMPTY_NEST = "empty_nest", "空巢家庭"
    FLOATING = "floating", "流动人口家庭"


class FamilyType(TextChoices):
    NEWLYWED = "newlywed", "新婚待孕"
    PREGNANCY_POSTPARTUM = "pregnancy_postpartum", "孕期产后"
    EARLY_DEVELOPMENT = "early_development", "早期发展(0-3岁)"
    ADOLESCENT = "adolescent", "青春少年"
    MATURE = "mature", "成熟育龄"
    ELDERLY = "elderly", "老年家庭"


# Plain values (the models' Sex / Residency / MaritalStatus choices use the same ones; they are
# repeated here because households.models imports this module).
MALE, FEMALE = "male", "female"
REGISTERED, INFLOW, OUTFLOW = "registered", "inflow", "outflow"
UNMARRIED, MARRIED, DIVORCED, WIDOWED = "unmarried", "married", "divorced", "widowed"

_SEXES = frozenset({MALE, FEMALE})
_RESIDENCIES = frozenset({REGISTERED, INFLOW, OUTFLOW})
_MARITAL_STATUSES = frozenset({UNMARRIED, MARRIED, DIVORCED, WIDOWED})
# "" is accepted: the model allows a person whose relation to the head is not recorded.
_RELATIONS = frozenset(Relation.values) | {""}

_COUPLE = frozenset({Relation.HEAD, Relation.SPOUSE})
_CHILDREN_OF_COUPLE = frozenset({Relation.SON, Relation.DAUGHTER})
_YOUNG = frozenset({Relation.SON, Relation.DAUGHTER, Relation.GRANDCHILD})

ELDERLY_AGE = 60
NEWLYWED_DAYS = 730
CHILDBEARING_AGES = range(15, 50)  # 育龄 15-49
ADOLESCENT_AGES = range(10, 20)  # 10-19
SEVERE_DISABILITY_GRADES = range(1, 4)  # 1-3 (三级以上)


@dataclass(frozen=True)
class PersonFacts:
    key: int  # any id
    relation: str  # Relation value ("" when not recorded)
    sex: str  # "male" | "female"
    birth_date: date | None
    is_deceased: bool = False
    died_on: date | None = None
    residency: str = REGISTERED  # "registered" (户籍常住) | "inflow" (流入) | "outflow" (流出)
    marital_status: str = UNMARRIED  # "unmarried" | "married" | "divorced" | "widowed"
    married_on: date | None = None
    disability_grade: int | None = None  # 1 (most severe) .. 4
    has_only_child_certificate: bool = False
    mother_key: int | None = None

    def __post_init__(self) -> None:
        if self.relation not in _RELATIONS:
            raise ValueError(f"person {self.key}: unknown relation {self.relation!r}")
        if self.sex not in _SEXES:
            raise ValueError(f"person {self.key}: unknown sex {self.sex!r}")
        if self.residency not in _RESIDENCIES:
            raise ValueError(f"person {self.key}: unknown residency {self.residency!r}")
        if self.marital_status not in _MARITAL_STATUSES:
            raise ValueError(f"person {self.key}: unknown marital status {self.marital_status!r}")
        if self.disability_grade is not None and not 1 <= self.disability_grade <= 4:
            raise ValueError(f"person {self.key}: disability grade must be 1-4")
        if self.died_on is not None and not self.is_deceased:
            raise ValueError(f"person {self.key}: died_on is set but is_deceased is False")


@dataclass(frozen=True)
class HouseholdFacts:
    residency: str  # household's own residency, same values
    persons: tuple[PersonFacts, ...]

    def __post_init__(self) -> None:
        if self.residency not in _RESIDENCIES:
            raise ValueError(f"unknown household residency {self.residency!r}")
        # Accept any iterable (a list, a queryset mapped to facts) but keep the value immutable.
        object.__setattr__(self, "persons", tuple(self.persons))


def age_on(birth_date: date, day: date) -> int:
    """Whole years (周岁) completed on ``day``; 29 February birthdays count from 1 March in
    common years. ``ValueError`` if ``day`` is before ``birth_date``."""
    if day < birth_date:
        raise ValueError(f"{day} is before the birth date {birth_date}")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def age_shown(birth_date: date | None, day: date) -> int | None:
    """The age a page, sheet or API shows: None where the birth date is unknown or after
    ``day`` (a wrong date entered somewhere must not break every list it appears in)."""
    if birth_date is None or birth_date > day:
        return None
    return age_on(birth_date, day)


def children_of_couple(h: HouseholdFacts) -> list[PersonFacts]:
    """The head couple's children: persons with relation son or daughter, alive or deceased,
    ordered by birth date (unknown birth dates last, ties in input order)."""
    children = [p for p in h.persons if p.relation in _CHILDREN_OF_COUPLE]
    return sorted(children, key=lambda p: (p.birth_date is None, p.birth_date or date.min))


def _born(p: PersonFacts, today: date) -> bool:
    return p.birth_date is None or p.birth_date <= today


def _alive(p: PersonFacts, today: date) -> bool:
    return _born(p, today) and (not p.is_deceased or (p.died_on is not None and p.died_on > today))


def _age(p: PersonFacts, today: date) -> int | None:
    return age_shown(p.birth_date, today)


def _aged(p: PersonFacts, today: date, ages: range) -> bool:
    age = _age(p, today)
    return age is not None and age in ages


def _is_elderly(p: PersonFacts, today: date) -> bool:
    age = _age(p, today)
    return age is not None and age >= ELDERLY_AGE


def family_categories(h: HouseholdFacts, *, today: date) -> set[Category]:
    """The household's family-planning categories on ``today`` (rules in the module docstring)."""
    result: set[Category] = set()
    persons = [p for p in h.persons if _born(p, today)]
    living = [p for p in persons if _alive(p, today)]
    children = [p for p in children_of_couple(h) if _born(p, today)]

    one_child = len(children) == 1 or any(p.has_only_child_certificate for p in persons)
    if one_child:
        result.add(Category.ONE_CHILD)
        if children and not any(_alive(c, today) for c in children):
            result.add(Category.BEREAVED)
        if any(
            _alive(c, today) and c.disability_grade in SEVERE_DISABILITY_GRADES for c in children
        ):
            result.add(Category.DISABLED_CHILD)

    if len(children) == 2 and all(c.relation == Relation.DAUGHTER for c in children):
        result.add(Category.TWO_DAUGHTERS)

    residents = [p for p in living if p.residency != OUTFLOW]
    if residents and all(_is_elderly(p, today) for p in residents):
        result.add(Category.EMPTY_NEST)

    floating = sum(p.residency in (INFLOW, OUTFLOW) for p in living)
    if h.residency in (INFLOW, OUTFLOW) or floating * 2 > len(living):
        result.add(Category.FLOATING)
    return result


def family_types(h: HouseholdFacts, *, today: date) -> set[FamilyType]:
    """The household's happy-family types on ``today`` (rules in the module docstring)."""
    result: set[FamilyType] = set()
    living = [p for p in h.persons if _alive(p, today)]
    has_children = any(_born(c, today) for c in children_of_couple(h))

    if not has_children and any(
        p.relation in _COUPLE
        and p.marital_status == MARRIED
        and p.married_on is not None
        and 0 <= (today - p.married_on).days <= NEWLYWED_DAYS
        for p in living
    ):
        result.add(FamilyType.NEWLYWED)

    young_ages = [a for p in living if p.relation in _YOUNG and (a := _age(p, today)) is not None]
    if any(a < 1 for a in young_ages):
        result.add(FamilyType.PREGNANCY_POSTPARTUM)
    if any(a < 4 for a in young_ages):
        result.add(FamilyType.EARLY_DEVELOPMENT)
    if any(a in ADOLESCENT_AGES for a in young_ages):
        result.add(FamilyType.ADOLESCENT)

    life_stages = {
        FamilyType.NEWLYWED,
        FamilyType.PREGNANCY_POSTPARTUM,
        FamilyType.EARLY_DEVELOPMENT,
        FamilyType.ADOLESCENT,
    }
    if not result & life_stages and any(
        p.sex == FEMALE and p.marital_status == MARRIED and _aged(p, today, CHILDBEARING_AGES)
        for p in living
    ):
        result.add(FamilyType.MATURE)

    if any(_is_elderly(p, today) for p in living):
        result.add(FamilyType.ELDERLY)
    return result


_LABELS: dict[str, str] = {
    **{c.value: str(c.label) for c in Category},
    **{t.value: str(t.label) for t in FamilyType},
}
_ORDER: dict[str, int] = {value: i for i, value in enumerate(_LABELS)}


def category_labels(values: Iterable[str]) -> list[str]:
    """Chinese labels of category and/or family-type values, in the enums' order (categories
    first), each once. ``ValueError`` on a value of neither enum."""
    unique = {str(value) for value in values}  # enum members' str() is their value
    for value in unique:
        if value not in _LABELS:
            raise ValueError(f"unknown category or family type {value!r}")
    return [_LABELS[v] for v in sorted(unique, key=_ORDER.__getitem__)]
