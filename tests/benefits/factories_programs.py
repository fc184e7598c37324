"""Programmes and registry families with known facts, for the programmes, eligibility,
candidates, application and re-confirmation tests.

``families(world)`` adds five households to county A's first village (the world leaves it
bare), worked out by hand for the year Y = this year, ages on 31 December of Y:

==== ================= ================================================================
户    家庭类别            人员 (关系, 性别, 年龄, 户口性质, 其他)
==== ================= ================================================================
0101  独生子女户          户主 男 60 农业 · 配偶 女 59 农业 · 子 男 35
0102  双女户              户主 男 66 非农业 · 配偶 女 64 农业 · 女 40 · 女 38
0103  独生子女户 失独      户主 男 68 农业 · 配偶 女 67 (未登记) · 子 已去世
0104  (三个子女)           户主 男 76 农业 · 配偶 女 74 农业 · 子 · 子 · 女
0105  独生子女户 伤残      户主 男 51 农业 · 配偶 女 48 农业 · 子 残疾 2 级
==== ================= ================================================================

农村部分计划生育家庭奖励扶助 (categories 独生子女户/双女户/失独, parents, 60+, 户籍在本县, 农业户口)
over the village: the pool is the parents of 0101, 0102, 0103 and 0105 (8 persons; 0104 is
no family-planning household); eligible: 0101 户主 (exactly 60), 0102 配偶, 0103 户主 (3);
excluded: 0101 配偶 (59), 0102 户主 (非农业), 0103 配偶 (未登记), 0105 both (51, 48) (5).

计划生育家庭特别扶助 (失独/伤残, parents, 女方 49+, 户籍在本县): pool = parents of 0103 and
0105 (4); eligible: 0103 both (女方 67; rate 死亡 1,200.00); excluded: 0105 both (女方 48).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from benefits import program_services
from benefits.program_templates import TEMPLATES
from households import services as household_services
from tests.conftest import make_id_number

D = datetime.date


def this_year() -> int:
    return timezone.localdate().year


@dataclass
class Family:
    household: object
    persons: dict[str, object] = field(default_factory=dict)  # "head", "spouse", "child1", …


def family(
    admin,
    village,
    number: str,
    members: list[dict],
    *,
    group=None,
    sequence: int = 100,
    region: str = "130534",
) -> Family:
    """A household of ``village`` with its members (dicts of person_create's fields plus
    "key"; "id": False for a person without an ID number)."""
    household = household_services.household_create(
        actor=admin, village=village, group=group, number=number, address=f"{village.name}{number}"
    )
    result = Family(household=household)
    for index, spec in enumerate(members):
        spec = dict(spec)
        key = spec.pop("key")
        with_id = spec.pop("id", True)
        fields = {"marital_status": "married", **spec}
        if with_id:
            fields["id_number"] = make_id_number(
                region, spec["birth_date"], sequence + index, spec["sex"]
            )
        result.persons[key] = household_services.person_create(
            actor=admin, village=village, household=household, **fields
        )
    household.refresh_from_db()
    result.household = household
    return result


def families(world) -> dict[str, Family]:
    """The five households of the module's table, in county A's first village."""
    a = world.a
    admin, village = a.users["county_admin"], a.villages[0]
    y = this_year()
    farm, town = "agricultural", "non_agricultural"
    with a.scope():
        found = {
            "0101": family(admin, village, "0101", [
                {"key": "head", "name": "赵大山", "sex": "male", "birth_date": D(y - 60, 12, 31),
                 "relation_to_head": "head", "registration_kind": farm},
                {"key": "spouse", "name": "钱秀兰", "sex": "female", "birth_date": D(y - 59, 1, 1),
                 "relation_to_head": "spouse", "registration_kind": farm},
                {"key": "child1", "name": "赵小山", "sex": "male", "birth_date": D(y - 35, 5, 5),
                 "relation_to_head": "son", "marital_status": "unmarried"},
            ], group=a.groups[0], sequence=200),
            "0102": family(admin, village, "0102", [
                {"key": "head", "name": "孙建国", "sex": "male", "birth_date": D(y - 66, 3, 1),
                 "relation_to_head": "head", "registration_kind": town},
                {"key": "spouse", "name": "李桂芝", "sex": "female", "birth_date": D(y - 64, 8, 8),
                 "relation_to_head": "spouse", "registration_kind": farm},
                {"key": "child1", "name": "孙丽", "sex": "female", "birth_date": D(y - 40, 2, 2),
                 "relation_to_head": "daughter"},
                {"key": "child2", "name": "孙娜", "sex": "female", "birth_date": D(y - 38, 4, 4),
                 "relation_to_head": "daughter"},
            ], sequence=210),
            "0103": family(admin, village, "0103", [
                {"key": "head", "name": "周德明", "sex": "male", "birth_date": D(y - 68, 6, 1),
                 "relation_to_head": "head", "registration_kind": farm},
                {"key": "spouse", "name": "吴玉珍", "sex": "female", "birth_date": D(y - 67, 7, 1),
                 "relation_to_head": "spouse"},
                {"key": "child1", "name": "周强", "sex": "male", "birth_date": D(y - 40, 1, 1),
                 "relation_to_head": "son", "is_deceased": True, "died_on": D(y - 5, 3, 3),
                 "marital_status": "unmarried"},
            ], group=a.groups[1], sequence=220),
            "0104": family(admin, village, "0104", [
                {"key": "head", "name": "郑老汉", "sex": "male", "birth_date": D(y - 76, 1, 1),
                 "relation_to_head": "head", "registration_kind": farm},
                {"key": "spouse", "name": "王老太", "sex": "female", "birth_date": D(y - 74, 1, 1),
                 "relation_to_head": "spouse", "registration_kind": farm},
                {"key": "child1", "name": "郑一", "sex": "male", "birth_date": D(y - 50, 1, 1),
                 "relation_to_head": "son"},
                {"key": "child2", "name": "郑二", "sex": "male", "birth_date": D(y - 48, 1, 1),
                 "relation_to_head": "son"},
                {"key": "child3", "name": "郑三", "sex": "female", "birth_date": D(y - 45, 1, 1),
                 "relation_to_head": "daughter"},
            ], sequence=230),
            "0105": family(admin, village, "0105", [
                {"key": "head", "name": "冯志刚", "sex": "male", "birth_date": D(y - 51, 2, 1),
                 "relation_to_head": "head", "registration_kind": farm},
                {"key": "spouse", "name": "陈美华", "sex": "female", "birth_date": D(y - 48, 6, 1),
                 "relation_to_head": "spouse", "registration_kind": farm},
                {"key": "child1", "name": "冯小伟", "sex": "male", "birth_date": D(y - 22, 9, 9),
                 "relation_to_head": "son", "disability_grade": 2,
                 "marital_status": "unmarried"},
            ], sequence=240),
        }  # fmt: skip
    return found


def program_from_template(world, key: str, *, county="a", **overrides):
    """A programme of the county made from a national template through the service."""
    side = getattr(world, county)
    template = TEMPLATES[key]
    fields = {
        "name": template.name,
        "template": template.key,
        "kind": template.kind,
        "frequency": template.frequency,
        "beneficiary_kind": template.beneficiary_kind,
        "standard_amount": template.standard_amount,
        "funding_source": template.funding_source,
        "funding_split": template.funding_split,
        "needs_notice": template.needs_notice,
        "notice_days": template.notice_days,
        "rule": template.rule,
        "rates": template.rates,
    }
    fields.update(overrides)
    with side.scope():
        return program_services.program_create(actor=side.users["county_admin"], **fields)


def money(value: str) -> Decimal:
    return Decimal(value)


WORLD_PROGRAM = "困难家庭慰问金"


def world_benefit_records(admin, county_world) -> None:
    """The shared world's care-subsidy rows (tests/conftest.py), so every route has objects to
    isolate: a programme of the county with no conditions, an application for each household
    head (county A's first village stays bare), enrolled, and this year's re-confirmation."""
    from benefits import apply_services, reconfirmation_services
    from benefits.models import Enrollment, EnrollmentStatus

    y = this_year()
    program = program_services.program_create(
        actor=admin,
        name=WORLD_PROGRAM,
        template="holiday_visit",
        kind="grant",
        frequency="yearly",
        beneficiary_kind="person",
        standard_amount=Decimal("300"),
        rule={},
        needs_notice=False,
    )
    bare = county_world.county.division_code == "130534"
    for index in range(len(county_world.households)):
        if bare and index == 0:
            continue
        apply_services.enrollment_apply(
            actor=admin, program=program, person=county_world.persons[2 * index], year=y
        )
    # The approval workflow is another part's: the rows are moved to enrolled directly.
    Enrollment.objects.filter(program=program).update(
        status=EnrollmentStatus.ENROLLED, enrolled_on=datetime.date(y, 1, 15)
    )
    reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
