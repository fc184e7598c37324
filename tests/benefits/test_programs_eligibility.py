"""The eligibility rules and their bulk evaluation (benefits.eligibility, benefits.candidates)
on families worked out by hand (tests/benefits/factories_programs.py)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from benefits.candidates import Evaluation, Show, household_facts, rates_of
from benefits.eligibility import Facts, Rule, born_by, decide
from benefits.models import ProgramTemplate
from households import services as household_services

from .factories_programs import families, program_from_template, this_year

pytestmark = pytest.mark.django_db

D = datetime.date


def _evaluation(world, program, node=None, **kwargs) -> Evaluation:
    return Evaluation(
        program=program,
        node=node or world.a.villages[0],
        year=this_year(),
        today=D(this_year(), 12, 1),
        **kwargs,
    )


def _by_name(candidates) -> dict:
    return {c.name: c for c in candidates}


# --- the rule ------------------------------------------------------------------------------


def test_rule_round_trips_and_describes_itself_in_chinese():
    rule = Rule.from_json(
        {
            "categories": ["two_daughters", "one_child"],
            "relations": ["spouse", "head"],
            "min_age": 60,
            "registration_kind": "agricultural",
        }
    )
    assert rule.categories == ("one_child", "two_daughters")  # the choices' order
    assert rule.to_json() == {
        "version": 1,
        "categories": ["one_child", "two_daughters"],
        "relations": ["head", "spouse"],
        "min_age": 60,
        "registration_kind": "agricultural",
    }
    assert Rule.from_json(rule.to_json()) == rule
    assert rule.describe() == [
        "家庭类别:独生子女户、双女户",
        "本人为户主或配偶",
        "年满 60 周岁(以当年 12 月 31 日计)",
        "农业户口",
    ]
    assert Rule.from_json({}).describe() == ["不限(在世并登记在家庭户)"]


@pytest.mark.parametrize(
    ("data", "key", "code"),
    [
        ({"min_age": 70, "max_age": 60}, "max_age", "age_order"),
        ({"min_age": "六十"}, "min_age", "invalid"),
        ({"min_age": 200}, "min_age", "out_of_range"),
        ({"categories": ["rich"]}, "categories", "invalid_choice"),
        ({"age_on": "date"}, "age_date", "required"),
        ({"age_on": "date", "age_date": "2026-13-01", "min_age": 1}, "age_date", "invalid"),
        ({"hardship": "yes"}, "hardship", "invalid"),
        ({"colour": "red"}, "rule", "rule_unknown"),
    ],
)
def test_a_wrong_rule_is_refused_in_chinese(data, key, code):
    with pytest.raises(ValidationError) as caught:
        Rule.from_json(data)
    errors = caught.value.error_dict[key]
    assert errors[0].code == code
    assert all("\u4e00" <= ch <= "\u9fff" for ch in errors[0].message[:1])


def test_born_by_counts_whole_years_with_leap_days():
    assert born_by(D(2026, 12, 31), 60) == D(1966, 12, 31)
    assert born_by(D(2028, 2, 29), 1) == D(2027, 2, 28)
    assert born_by(D(2028, 2, 29), 4) == D(2024, 2, 29)


def test_reference_date_is_the_years_end_today_or_a_given_date():
    today = D(2026, 6, 15)
    assert Rule().reference_date(year=2026, today=today) == D(2026, 12, 31)
    assert Rule(age_on="today").reference_date(year=2026, today=today) == today
    dated = Rule(age_on="date", age_date=D(2026, 7, 1), min_age=1)
    assert dated.reference_date(year=2026, today=today) == D(2026, 7, 1)


def test_decide_gives_reasons_and_exclusions():
    rule = Rule.from_json(
        {
            "categories": ["one_child"],
            "relations": ["head", "spouse"],
            "min_age": 60,
            "registration_kind": "agricultural",
        }
    )
    facts = Facts(
        person_id=1,
        household_id=2,
        relation="head",
        sex="male",
        birth_date=D(1965, 3, 1),
        registration_kind="agricultural",
        categories=("one_child",),
    )
    decision = decide(rule, facts, year=2026, today=D(2026, 1, 5))
    assert decision.eligible
    assert decision.reasons_text == "独生子女户;本人为户主;本人 61 周岁;农业户口"
    assert decision.facts["age"] == 61 and "birth_date" not in decision.facts

    facts.birth_date, facts.registration_kind = D(1969, 3, 1), "non_agricultural"
    decision = decide(rule, facts, year=2026, today=D(2026, 1, 5))
    assert not decision.eligible
    assert decision.exclusions == ["未满 60 周岁(57 周岁)", "非农业户口"]


# --- the hand-worked village ---------------------------------------------------------------


def test_reward_assistance_over_the_village_worked_by_hand(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    with world.a.scope():
        evaluation = _evaluation(world, program)
        counts = evaluation.counts()
        everyone = _by_name(evaluation.all_decisions())
    assert (counts.total, counts.eligible, counts.excluded, counts.enrolled) == (8, 3, 5, 0)
    assert counts.applicable == 3
    assert set(everyone) == {
        "赵大山", "钱秀兰", "孙建国", "李桂芝", "周德明", "吴玉珍", "冯志刚", "陈美华"
    }  # fmt: skip
    eligible = {name for name, c in everyone.items() if c.decision.eligible}
    assert eligible == {"赵大山", "李桂芝", "周德明"}
    assert everyone["赵大山"].decision.reasons_text == (
        "独生子女户;本人为户主;本人 60 周岁;户籍常住;农业户口"
    )
    assert everyone["钱秀兰"].decision.exclusions == ["未满 60 周岁(59 周岁)"]
    assert everyone["孙建国"].decision.exclusions == ["非农业户口"]
    assert everyone["吴玉珍"].decision.exclusions == ["户口性质未登记"]
    assert everyone["冯志刚"].decision.exclusions == ["未满 60 周岁(51 周岁)"]
    assert everyone["李桂芝"].decision.reasons[0] == "双女户"
    assert everyone["周德明"].decision.reasons[0] == "独生子女户、计生特殊家庭(失独)"
    assert everyone["赵大山"].facts.household_id == found["0101"].household.pk


def test_sql_and_python_judge_every_row_alike(world):
    families(world)
    for key in ProgramTemplate.values:
        program = program_from_template(world, key, name=f"测试{key}")
        with world.a.scope():
            evaluation = _evaluation(world, program, node=world.a.county)
            judged = evaluation.all_decisions()
            by_sql = {c.key for c in evaluation.decisions(evaluation.rows(evaluation.filtered(
                show=Show.APPLICABLE)))}  # fmt: skip
            excluded = {
                c.key for c in evaluation.decisions(
                    evaluation.rows(evaluation.filtered(show=Show.EXCLUDED))
                )
            }  # fmt: skip
            counts = evaluation.counts()
        by_python = {c.key for c in judged if c.decision.eligible}
        assert by_sql == by_python, key
        assert excluded == {c.key for c in judged} - by_python, key
        assert counts.eligible == len(by_python), key
        assert counts.total == len(judged), key


def test_special_assistance_judges_the_mothers_age_and_picks_the_rate(world):
    families(world)
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    with world.a.scope():
        everyone = _by_name(_evaluation(world, program).all_decisions())
    assert set(everyone) == {"周德明", "吴玉珍", "冯志刚", "陈美华"}
    assert everyone["周德明"].decision.eligible
    assert everyone["周德明"].decision.category == "bereaved"
    assert "女方 67 周岁" in everyone["吴玉珍"].decision.reasons
    assert everyone["冯志刚"].decision.exclusions == ["女方未满 49 周岁(48 周岁)"]
    assert everyone["冯志刚"].decision.category == "disabled_child"
    with world.a.scope():
        rates = rates_of(program)  # what an application of each category is paid
        assert (rates["bereaved"].amount, rates["disabled_child"].amount) == (1200, 960)


def test_hardship_roster_and_household_programmes(world):
    found = families(world)
    y = this_year()
    admin = world.a.users["county_admin"]
    with world.a.scope():
        household_services.hardship_record(
            actor=admin, household=found["0103"].household, year=y, reasons=["illness"]
        )
        household_services.hardship_record(
            actor=admin,
            household=found["0105"].household,
            year=y,
            reasons=["disability"],
            status="exited",
        )
    visit = program_from_template(
        world,
        ProgramTemplate.HOLIDAY_VISIT,
        rule={"categories": ["bereaved", "disabled_child"], "hardship": True},
    )
    with world.a.scope():
        evaluation = _evaluation(world, visit)
        households = {c.facts.household_number: c for c in evaluation.all_decisions()}
    assert set(households) == {"0103", "0105"}
    assert households["0103"].decision.eligible
    assert households["0103"].decision.reasons == [
        "计生特殊家庭(失独)",
        f"{y} 年计生困难家庭",
    ]
    assert households["0105"].decision.exclusions == [f"不在 {y} 年计生困难家庭名册"]
    assert households["0103"].name == "周德明"  # the head names the household


def test_child_age_certificate_and_own_disability(world):
    found = families(world)
    admin = world.a.users["county_admin"]
    with world.a.scope():
        household_services.person_update(
            actor=admin,
            person=found["0105"].persons["head"],
            only_child_certificate_number="冀独 0105",
        )
    reward = program_from_template(world, ProgramTemplate.ONLY_CHILD_REWARD)
    with world.a.scope():
        everyone = _by_name(_evaluation(world, reward).all_decisions())
    # one-child households: 0101 (son 35), 0103 (son deceased), 0105 (son 22, certificate)
    assert everyone["赵大山"].decision.exclusions == [
        "子女已满 18 周岁(35 周岁)",
        "未登记独生子女父母光荣证",
    ]
    assert everyone["周德明"].decision.exclusions == ["无在世子女", "未登记独生子女父母光荣证"]
    assert everyone["陈美华"].decision.exclusions == ["子女已满 18 周岁(22 周岁)"]
    assert "持独生子女父母光荣证" in everyone["陈美华"].decision.reasons

    disabled = program_from_template(
        world,
        "other",
        name="重度残疾人护理补贴",
        rule={"disability_max_grade": 2, "child": "", "relations": ["son"]},
    )
    with world.a.scope():
        everyone = _by_name(_evaluation(world, disabled).all_decisions())
    assert everyone["冯小伟"].decision.eligible
    assert everyone["冯小伟"].decision.reasons == ["本人为子", "本人残疾 2 级"]
    assert everyone["赵小山"].decision.exclusions == ["本人无残疾等级登记"]


def test_household_facts_read_all_at_once(world, django_assert_num_queries):
    found = families(world)
    ids = {f.household.pk for f in found.values()}
    with world.a.scope(), django_assert_num_queries(1):
        kin = household_facts(ids, ref=D(this_year(), 12, 31))
    assert kin[found["0103"].household.pk].child_deceased
    assert kin[found["0105"].household.pk].child_grade == 2
    assert kin[found["0103"].household.pk].living == 2
    assert kin[found["0101"].household.pk].woman_birth == D(this_year() - 59, 1, 1)


def test_the_page_is_a_handful_of_queries(world, django_assert_max_num_queries):
    families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    with world.a.scope():
        evaluation = _evaluation(world, program, node=world.a.county)
        with django_assert_max_num_queries(4):
            evaluation.counts()
            page = evaluation.page(show=Show.ALL, village=None, offset=0, limit=50)
    assert len(page) == 8
