"""Family categories and happy-family types derived from plain data. No database."""

from __future__ import annotations

import itertools
from dataclasses import FrozenInstanceError
from datetime import date, timedelta

import pytest

from households.categories import (
    Category,
    FamilyType,
    HouseholdFacts,
    PersonFacts,
    Relation,
    age_on,
    category_labels,
    children_of_couple,
    family_categories,
    family_types,
)

TODAY = date(2026, 11, 22)
_keys = itertools.count(1)


def born(years: int, days: int = 0) -> date:
    """The birth date of someone who turns ``years`` today, moved ``days`` further back.

    born(60) is exactly 60 today; born(60, days=-1) turns 60 tomorrow (59 today)."""
    return date(TODAY.year - years, TODAY.month, TODAY.day) - timedelta(days=days)


def person(relation: str = Relation.HEAD, age: int | None = None, **kw) -> PersonFacts:
    """A person of ``age`` (birthday today) unless ``birth_date`` is given; sex follows the
    relation (daughter and spouse female, others male) unless given."""
    if "birth_date" not in kw:
        kw["birth_date"] = born(age if age is not None else 40)
    if "sex" not in kw:
        kw["sex"] = "female" if relation in (Relation.DAUGHTER, Relation.SPOUSE) else "male"
    return PersonFacts(key=next(_keys), relation=relation, **kw)


def head(age: int = 40, **kw) -> PersonFacts:
    kw.setdefault("marital_status", "married")
    return person(Relation.HEAD, age, **kw)


def wife(age: int = 38, **kw) -> PersonFacts:
    kw.setdefault("marital_status", "married")
    return person(Relation.SPOUSE, age, **kw)


def son(age: int = 10, **kw) -> PersonFacts:
    return person(Relation.SON, age, **kw)


def daughter(age: int = 10, **kw) -> PersonFacts:
    return person(Relation.DAUGHTER, age, **kw)


def dead(age: int = 10, relation: str = Relation.SON, **kw) -> PersonFacts:
    return person(relation, age, is_deceased=True, **kw)


def hh(*persons: PersonFacts, residency: str = "registered") -> HouseholdFacts:
    return HouseholdFacts(residency=residency, persons=persons)


def cats(*persons: PersonFacts, residency: str = "registered") -> set[Category]:
    return family_categories(hh(*persons, residency=residency), today=TODAY)


def types(*persons: PersonFacts, residency: str = "registered") -> set[FamilyType]:
    return family_types(hh(*persons, residency=residency), today=TODAY)


# --- age_on -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "day", "expected"),
    [
        (date(2000, 5, 10), date(2000, 5, 10), 0),
        (date(2000, 5, 10), date(2001, 5, 9), 0),
        (date(2000, 5, 10), date(2001, 5, 10), 1),
        (date(1966, 11, 22), TODAY, 60),
        (date(1966, 11, 23), TODAY, 59),
        (date(1966, 12, 31), date(2026, 1, 1), 59),
        # 29 February: reached on 1 March in common years, on 29 February in leap years.
        (date(2000, 2, 29), date(2001, 2, 28), 0),
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2000, 2, 29), date(2004, 2, 28), 3),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
        (date(2000, 3, 1), date(2004, 2, 29), 3),
    ],
)
def test_age_on(birth, day, expected):
    assert age_on(birth, day) == expected


def test_age_on_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2026, 11, 23), TODAY)


# --- children_of_couple -------------------------------------------------------------------


def test_children_of_couple_are_sons_and_daughters_alive_or_deceased_by_birth_date():
    older = dead(20)
    younger = daughter(5)
    middle = son(12)
    h = hh(
        head(),
        wife(),
        younger,
        person(Relation.GRANDCHILD, 1),
        person(Relation.SIBLING, 30),
        older,
        middle,
    )
    assert children_of_couple(h) == [older, middle, younger]


def test_children_of_couple_unknown_birth_dates_last_and_ties_in_input_order():
    twin_a = daughter(birth_date=date(2016, 3, 1))
    twin_b = daughter(birth_date=date(2016, 3, 1))
    unknown = son(birth_date=None)
    assert children_of_couple(hh(unknown, twin_a, twin_b)) == [twin_a, twin_b, unknown]


def test_children_of_couple_empty():
    assert children_of_couple(hh(head(), wife())) == []
    assert children_of_couple(hh()) == []


# --- ONE_CHILD ----------------------------------------------------------------------------


def test_one_child_with_one_living_child():
    assert Category.ONE_CHILD in cats(head(), wife(), son())


def test_one_child_with_one_deceased_child():
    assert Category.ONE_CHILD in cats(head(), wife(), dead(8))


def test_one_child_by_certificate_without_children_recorded():
    assert Category.ONE_CHILD in cats(head(has_only_child_certificate=True), wife())


def test_one_child_certificate_of_a_deceased_parent_still_counts():
    assert Category.ONE_CHILD in cats(
        dead(50, Relation.HEAD, has_only_child_certificate=True),
        wife(48, marital_status="widowed"),
    )


def test_one_child_by_certificate_even_with_two_children_recorded():
    # The rule is "certificate OR exactly one child": the certificate alone is enough.
    assert Category.ONE_CHILD in cats(wife(has_only_child_certificate=True), son(), daughter())


@pytest.mark.parametrize(
    "children",
    [
        (),
        (son(), daughter()),
        (son(), dead(20)),
        (daughter(), daughter(), daughter()),
    ],
    ids=["none", "two", "one-alive-one-dead", "three"],
)
def test_not_one_child(children):
    assert Category.ONE_CHILD not in cats(head(), wife(), *children)


def test_grandchildren_are_not_children_of_the_couple():
    assert Category.ONE_CHILD not in cats(head(65), wife(63), person(Relation.GRANDCHILD, 5))


# --- TWO_DAUGHTERS ------------------------------------------------------------------------


def test_two_daughters():
    assert Category.TWO_DAUGHTERS in cats(head(), wife(), daughter(12), daughter(8))


def test_two_daughters_twins_born_the_same_day():
    day = date(2015, 6, 1)
    result = cats(head(), wife(), daughter(birth_date=day), daughter(birth_date=day))
    assert Category.TWO_DAUGHTERS in result
    assert Category.ONE_CHILD not in result


def test_two_daughters_counts_a_deceased_daughter():
    result = cats(head(), wife(), daughter(12), dead(5, Relation.DAUGHTER))
    assert Category.TWO_DAUGHTERS in result


@pytest.mark.parametrize(
    "children",
    [
        (daughter(),),
        (son(), daughter()),
        (son(), son()),
        (daughter(), daughter(), daughter()),
        (daughter(), daughter(), son()),
    ],
    ids=["one-daughter", "son-daughter", "two-sons", "three-daughters", "two-daughters-one-son"],
)
def test_not_two_daughters(children):
    assert Category.TWO_DAUGHTERS not in cats(head(), wife(), *children)


def test_two_daughters_ignores_granddaughters_and_daughters_in_law():
    result = cats(
        head(62),
        wife(60),
        daughter(35),
        person(Relation.CHILD_IN_LAW, 33, sex="female"),
        person(Relation.GRANDCHILD, 8, sex="female"),
    )
    assert Category.TWO_DAUGHTERS not in result
    assert Category.ONE_CHILD in result


# --- BEREAVED (失独) ----------------------------------------------------------------------


def test_bereaved_only_child_deceased():
    result = cats(head(58), wife(56), dead(25, died_on=date(2020, 4, 3)))
    assert Category.BEREAVED in result
    assert Category.ONE_CHILD in result


def test_bereaved_with_certificate_and_deceased_child():
    result = cats(head(58, has_only_child_certificate=True), wife(56), dead(25))
    assert Category.BEREAVED in result


def test_bereaved_with_certificate_and_every_recorded_child_deceased():
    result = cats(head(70, has_only_child_certificate=True), dead(40), dead(38))
    assert Category.BEREAVED in result


def test_not_bereaved_when_the_child_is_alive():
    assert Category.BEREAVED not in cats(head(58), wife(56), son(25))


def test_not_bereaved_with_certificate_but_no_child_recorded():
    result = cats(head(58, has_only_child_certificate=True), wife(56))
    assert Category.BEREAVED not in result
    assert Category.ONE_CHILD in result


def test_not_bereaved_two_children_both_deceased_without_certificate():
    assert Category.BEREAVED not in cats(head(70), wife(68), dead(40), dead(35))


def test_not_bereaved_when_a_grandchild_survives_but_child_alive():
    result = cats(head(70), wife(68), son(40), person(Relation.GRANDCHILD, 12))
    assert Category.BEREAVED not in result


def test_not_bereaved_before_the_child_died():
    h = hh(head(58), wife(56), dead(25, died_on=date(2025, 6, 1)))
    assert Category.BEREAVED in family_categories(h, today=TODAY)
    assert Category.BEREAVED not in family_categories(h, today=date(2025, 5, 31))


# --- DISABLED_CHILD (伤残) ----------------------------------------------------------------


@pytest.mark.parametrize("grade", [1, 2, 3])
def test_disabled_child_grade_1_to_3(grade):
    assert Category.DISABLED_CHILD in cats(head(), wife(), son(15, disability_grade=grade))


def test_disabled_child_with_certificate():
    result = cats(wife(has_only_child_certificate=True), daughter(30, disability_grade=2))
    assert Category.DISABLED_CHILD in result


@pytest.mark.parametrize(
    "children",
    [
        (son(15, disability_grade=4),),
        (son(15),),
        (dead(15, disability_grade=1),),
        (son(15, disability_grade=1), daughter(12)),
    ],
    ids=["grade-4", "no-disability", "deceased", "two-children"],
)
def test_not_disabled_child(children):
    assert Category.DISABLED_CHILD not in cats(head(), wife(), *children)


def test_disabled_parent_is_not_a_disabled_child():
    assert Category.DISABLED_CHILD not in cats(head(disability_grade=1), wife(), son())


def test_bereaved_and_disabled_child_exclude_each_other():
    assert Category.BEREAVED not in cats(head(), wife(), son(20, disability_grade=1))
    assert Category.DISABLED_CHILD not in cats(head(), wife(), dead(20, disability_grade=1))


# --- EMPTY_NEST ---------------------------------------------------------------------------


def test_empty_nest_elderly_couple_alone():
    assert Category.EMPTY_NEST in cats(head(70), wife(68))


def test_empty_nest_at_exactly_60():
    assert Category.EMPTY_NEST in cats(head(60))


def test_not_empty_nest_at_59():
    assert Category.EMPTY_NEST not in cats(head(birth_date=born(60, days=-1)))


def test_empty_nest_children_moved_away():
    result = cats(
        head(66), wife(64), son(38, residency="outflow"), daughter(35, residency="outflow")
    )
    assert Category.EMPTY_NEST in result


def test_not_empty_nest_with_a_child_at_home():
    assert Category.EMPTY_NEST not in cats(head(66), wife(64), son(38))


def test_not_empty_nest_with_a_young_inflow_resident():
    assert Category.EMPTY_NEST not in cats(head(66), person(Relation.OTHER, 30, residency="inflow"))


def test_not_empty_nest_with_a_younger_spouse():
    assert Category.EMPTY_NEST not in cats(head(62), wife(55))


def test_empty_nest_ignores_deceased_young_members():
    assert Category.EMPTY_NEST in cats(head(66), wife(64), dead(30))


def test_not_empty_nest_when_the_elderly_member_lives_away():
    # Nobody lives there: the only 60+ person is away and so is everyone else.
    assert Category.EMPTY_NEST not in cats(
        head(70, residency="outflow"), son(40, residency="outflow")
    )


def test_not_empty_nest_when_the_elderly_member_is_deceased():
    assert Category.EMPTY_NEST not in cats(dead(80, Relation.HEAD), son(40, residency="outflow"))


def test_not_empty_nest_for_an_empty_household():
    assert cats() == set()


def test_not_empty_nest_with_a_resident_of_unknown_age():
    assert Category.EMPTY_NEST not in cats(head(70), person(Relation.OTHER, birth_date=None))


# --- FLOATING -----------------------------------------------------------------------------


@pytest.mark.parametrize("residency", ["inflow", "outflow"])
def test_floating_by_household_residency(residency):
    assert Category.FLOATING in cats(head(), wife(), residency=residency)


def test_floating_when_most_persons_are_away():
    result = cats(head(residency="outflow"), wife(residency="outflow"), son(5))
    assert Category.FLOATING in result


def test_floating_counts_inflow_and_outflow_together():
    result = cats(head(residency="inflow"), wife(residency="outflow"), son(5))
    assert Category.FLOATING in result


def test_not_floating_at_exactly_half():
    assert Category.FLOATING not in cats(head(residency="outflow"), wife())


def test_not_floating_registered():
    assert Category.FLOATING not in cats(head(), wife(), son())


def test_floating_ignores_deceased_persons():
    # Two living: one away, one at home (half); the deceased outflow member does not tip it.
    result = cats(head(residency="outflow"), wife(), dead(30, residency="outflow"))
    assert Category.FLOATING not in result
    # The deceased registered ones do not dilute it either.
    result = cats(head(residency="outflow"), dead(80, Relation.PARENT), dead(82, Relation.PARENT))
    assert Category.FLOATING in result


# --- NEWLYWED -----------------------------------------------------------------------------


def married_days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_newlywed():
    result = types(head(27, married_on=married_days_ago(100)), wife(26))
    assert result == {FamilyType.NEWLYWED}


@pytest.mark.parametrize(("days", "expected"), [(0, True), (730, True), (731, False)])
def test_newlywed_boundary(days, expected):
    result = types(head(27), wife(26, married_on=married_days_ago(days)))
    assert (FamilyType.NEWLYWED in result) is expected


def test_not_newlywed_with_a_child():
    assert FamilyType.NEWLYWED not in types(
        head(27, married_on=married_days_ago(300)), wife(26), son(birth_date=TODAY)
    )


def test_not_newlywed_with_a_deceased_child():
    assert FamilyType.NEWLYWED not in types(
        head(27, married_on=married_days_ago(300)), wife(26), dead(0)
    )


def test_not_newlywed_without_marriage_date_or_in_the_future():
    assert FamilyType.NEWLYWED not in types(head(27), wife(26))
    assert FamilyType.NEWLYWED not in types(head(27, married_on=TODAY + timedelta(days=1)))


def test_not_newlywed_unless_married():
    divorced = person(Relation.HEAD, 28, marital_status="divorced", married_on=married_days_ago(9))
    assert FamilyType.NEWLYWED not in types(divorced)


def test_not_newlywed_when_only_someone_else_married():
    # The head couple has no children; the recently married one is the head's brother.
    result = types(
        person(Relation.HEAD, 25),
        person(Relation.SIBLING, 28, marital_status="married", married_on=married_days_ago(100)),
    )
    assert FamilyType.NEWLYWED not in result


def test_not_newlywed_when_the_married_partner_is_deceased():
    result = types(
        dead(28, Relation.HEAD, marital_status="married", married_on=married_days_ago(100)),
        wife(26, marital_status="widowed"),
    )
    assert FamilyType.NEWLYWED not in result


# --- PREGNANCY_POSTPARTUM and EARLY_DEVELOPMENT ------------------------------------------


def test_newborn_is_postpartum_and_early_development():
    result = types(head(30), wife(28), daughter(birth_date=TODAY))
    assert FamilyType.PREGNANCY_POSTPARTUM in result
    assert FamilyType.EARLY_DEVELOPMENT in result


def test_postpartum_until_the_first_birthday():
    assert FamilyType.PREGNANCY_POSTPARTUM in types(head(30), son(birth_date=born(1, days=-1)))
    result = types(head(30), son(1))
    assert FamilyType.PREGNANCY_POSTPARTUM not in result
    assert FamilyType.EARLY_DEVELOPMENT in result


def test_postpartum_with_a_grandchild():
    result = types(head(55), wife(53), person(Relation.GRANDCHILD, 0))
    assert FamilyType.PREGNANCY_POSTPARTUM in result


def test_not_postpartum_for_a_deceased_baby():
    result = types(head(30), wife(28), dead(birth_date=born(0, days=30)))
    assert FamilyType.PREGNANCY_POSTPARTUM not in result
    assert FamilyType.EARLY_DEVELOPMENT not in result


def test_not_postpartum_for_a_baby_of_another_relation():
    assert FamilyType.PREGNANCY_POSTPARTUM not in types(head(30), person(Relation.OTHER, 0))


def test_early_development_up_to_3():
    result = types(head(30), son(birth_date=born(4, days=-1)))
    assert FamilyType.EARLY_DEVELOPMENT in result
    assert FamilyType.PREGNANCY_POSTPARTUM not in result


def test_not_early_development_at_4():
    assert FamilyType.EARLY_DEVELOPMENT not in types(head(30), son(4))


def test_child_of_unknown_age_satisfies_no_age_condition():
    assert types(head(30, marital_status="unmarried"), son(birth_date=None)) == set()


# --- ADOLESCENT ---------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "expected"), [(9, False), (10, True), (19, True), (20, False)])
def test_adolescent_ages(age, expected):
    assert (FamilyType.ADOLESCENT in types(head(45), daughter(age))) is expected


def test_adolescent_at_day_before_20th_birthday():
    assert FamilyType.ADOLESCENT in types(head(45), daughter(birth_date=born(20, days=-1)))


def test_adolescent_grandchild():
    assert FamilyType.ADOLESCENT in types(head(65), person(Relation.GRANDCHILD, 14))


def test_not_adolescent_for_a_sibling_or_deceased_child():
    assert FamilyType.ADOLESCENT not in types(head(25), person(Relation.SIBLING, 15))
    assert FamilyType.ADOLESCENT not in types(head(45), dead(15))


# --- MATURE -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"), [(14, False), (15, True), (35, True), (49, True), (50, False)]
)
def test_mature_married_woman_ages(age, expected):
    assert (FamilyType.MATURE in types(head(age + 2), wife(age))) is expected


def test_mature_on_the_day_before_50th_birthday():
    assert FamilyType.MATURE in types(head(52), wife(birth_date=born(50, days=-1)))


def test_mature_with_a_child_aged_4_to_9():
    assert types(head(), wife(), son(6)) == {FamilyType.MATURE}


def test_mature_with_grown_children():
    assert types(head(48), wife(46), son(24)) == {FamilyType.MATURE}


def test_mature_woman_not_the_spouse():
    in_law = person(Relation.CHILD_IN_LAW, 30, sex="female", marital_status="married")
    result = types(head(60), wife(58), in_law)
    assert FamilyType.MATURE in result
    assert FamilyType.ELDERLY in result


@pytest.mark.parametrize(
    "others",
    [
        (daughter(2),),
        (son(birth_date=TODAY),),
        (son(12),),
    ],
    ids=["early-development", "postpartum", "adolescent"],
)
def test_not_mature_when_a_life_stage_applies(others):
    assert FamilyType.MATURE not in types(head(), wife(), *others)


def test_not_mature_when_newlywed():
    result = types(head(28), wife(27, married_on=married_days_ago(200)))
    assert result == {FamilyType.NEWLYWED}


def test_not_mature_unmarried_woman_or_married_man_or_deceased_woman():
    assert FamilyType.MATURE not in types(person(Relation.HEAD, 30, sex="female"))
    assert FamilyType.MATURE not in types(head(30))
    assert FamilyType.MATURE not in types(
        head(40, marital_status="widowed"),
        person(Relation.SPOUSE, 38, is_deceased=True, marital_status="married"),
    )


def test_mature_ignores_elderly():
    # ELDERLY does not block MATURE: a three-generation household can be both.
    assert types(person(Relation.PARENT, 70), head(), wife()) == {
        FamilyType.MATURE,
        FamilyType.ELDERLY,
    }


# --- ELDERLY ------------------------------------------------------------------------------


def test_elderly_at_exactly_60():
    assert FamilyType.ELDERLY in types(head(60))


def test_not_elderly_at_59():
    assert FamilyType.ELDERLY not in types(head(birth_date=born(60, days=-1)))


def test_elderly_away_still_counts():
    assert FamilyType.ELDERLY in types(head(45), person(Relation.PARENT, 72, residency="outflow"))


def test_not_elderly_when_the_elderly_member_is_deceased():
    assert FamilyType.ELDERLY not in types(head(45), dead(80, Relation.PARENT))


# --- Whole households ---------------------------------------------------------------------


def test_one_child_elderly_couple_whose_son_works_away():
    h = hh(head(63), wife(61), son(35, residency="outflow", marital_status="married"))
    assert family_categories(h, today=TODAY) == {Category.ONE_CHILD, Category.EMPTY_NEST}
    assert family_types(h, today=TODAY) == {FamilyType.ELDERLY}


def test_three_generations_one_child_and_elderly():
    h = hh(
        person(Relation.PARENT, 84, sex="female", marital_status="widowed"),
        head(58, has_only_child_certificate=True),
        wife(56),
        son(32, marital_status="married"),
        person(Relation.CHILD_IN_LAW, 30, sex="female", marital_status="married"),
        person(Relation.GRANDCHILD, 2),
    )
    assert family_categories(h, today=TODAY) == {Category.ONE_CHILD}
    assert family_types(h, today=TODAY) == {FamilyType.EARLY_DEVELOPMENT, FamilyType.ELDERLY}


def test_bereaved_elderly_couple():
    h = hh(head(67, has_only_child_certificate=True), wife(65), dead(30, died_on=date(2019, 8, 2)))
    assert family_categories(h, today=TODAY) == {
        Category.ONE_CHILD,
        Category.BEREAVED,
        Category.EMPTY_NEST,
    }
    assert family_types(h, today=TODAY) == {FamilyType.ELDERLY}


def test_inflow_young_family_with_two_daughters():
    h = hh(
        head(34, residency="inflow"),
        wife(32, residency="inflow"),
        daughter(11, residency="inflow"),
        daughter(3, residency="inflow"),
        residency="inflow",
    )
    assert family_categories(h, today=TODAY) == {Category.TWO_DAUGHTERS, Category.FLOATING}
    assert family_types(h, today=TODAY) == {FamilyType.ADOLESCENT, FamilyType.EARLY_DEVELOPMENT}


def test_a_past_date_ignores_persons_not_yet_born():
    h = hh(head(30, married_on=date(2025, 5, 1)), wife(29), son(birth_date=date(2026, 6, 1)))
    assert family_types(h, today=TODAY) == {
        FamilyType.PREGNANCY_POSTPARTUM,
        FamilyType.EARLY_DEVELOPMENT,
    }
    assert family_categories(h, today=TODAY) == {Category.ONE_CHILD}
    before = date(2026, 1, 1)
    assert family_types(h, today=before) == {FamilyType.NEWLYWED}
    assert family_categories(h, today=before) == set()


# --- category_labels ----------------------------------------------------------------------


def test_labels_in_enum_order():
    values = [Category.FLOATING, Category.ONE_CHILD, Category.EMPTY_NEST]
    assert category_labels(values) == ["独生子女户", "空巢家庭", "流动人口家庭"]


def test_labels_of_family_types_from_stored_strings():
    values = ["elderly", "early_development", "pregnancy_postpartum"]
    assert category_labels(values) == ["孕期产后", "早期发展(0-3岁)", "老年家庭"]


def test_labels_mixed_deduplicated_categories_first():
    values = {FamilyType.ELDERLY, Category.BEREAVED, "bereaved", Category.DISABLED_CHILD}
    assert category_labels(values) == ["计生特殊家庭(失独)", "计生特殊家庭(伤残)", "老年家庭"]


def test_labels_of_all_values():
    labels = category_labels([*Category.values, *FamilyType.values])
    assert labels == [*Category.labels, *FamilyType.labels]
    assert category_labels([]) == []


def test_labels_unknown_value():
    with pytest.raises(ValueError):
        category_labels(["hardship"])


def test_labels_of_a_derived_set():
    h = hh(head(63), wife(61), son(35, residency="outflow"))
    assert category_labels(family_categories(h, today=TODAY)) == ["独生子女户", "空巢家庭"]


# --- Enums and input checks ---------------------------------------------------------------


def test_enum_values_and_labels():
    assert Relation.CHILD_IN_LAW == "child_in_law"
    assert Relation.CHILD_IN_LAW.label == "儿媳/女婿"
    assert Category.BEREAVED.label == "计生特殊家庭(失独)"
    assert FamilyType.EARLY_DEVELOPMENT.label == "早期发展(0-3岁)"
    assert len(Relation) == 9 and len(Category) == 6 and len(FamilyType) == 6


@pytest.mark.parametrize(
    "bad",
    [
        {"relation": "cousin"},
        {"sex": "M"},
        {"residency": "floating"},
        {"marital_status": "single"},
        {"disability_grade": 0},
        {"disability_grade": 5},
        {"died_on": date(2020, 1, 1)},
    ],
)
def test_person_facts_reject_bad_values(bad):
    kw = {"key": 1, "relation": "head", "sex": "male", "birth_date": date(1980, 1, 1)} | bad
    with pytest.raises(ValueError):
        PersonFacts(**kw)


def test_person_facts_accept_unrecorded_relation_and_are_frozen():
    p = PersonFacts(key=1, relation="", sex="female", birth_date=None)
    with pytest.raises(FrozenInstanceError):
        p.sex = "male"  # type: ignore[misc]


def test_household_facts_check_residency_and_keep_a_tuple():
    with pytest.raises(ValueError):
        HouseholdFacts(residency="abroad", persons=())
    h = HouseholdFacts(residency="registered", persons=[head()])  # type: ignore[arg-type]
    assert isinstance(h.persons, tuple)
