"""Test data of the enrolment workflow: programmes made directly at the county node, and
enrolments as the apply service (another part of benefits) leaves them: status applied, the
reasons, facts and rule filled, one APPLY event, placed under the person's group (or village).
Also the workflow rows of the shared world (tests/conftest.py), so the isolation suite has
enrolments, notices and objections to try in every subtree."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from benefits.models import (
    Enrollment,
    EnrollmentEvent,
    Objection,
    Program,
    ProgramRate,
    PublicNotice,
)
from households import services as household_services
from households.models import Person

REASONS = ["独生子女户", "本人 61 周岁", "农业户籍"]
FACTS = {"family_category": "one_child", "age": 61, "registration_kind": "agricultural"}
# In the rule language of benefits.eligibility, as a programme stores it.
RULE = {"version": 1, "categories": ["one_child", "two_daughters"]}
WORLD_PROGRAM = "关爱流程样例项目"


def make_program(
    county_world,
    *,
    name: str = "奖励扶助(流程测试)",
    needs_notice: bool = True,
    notice_days: int = 7,
    amount: str = "720",
    rates: tuple[tuple[str, str, str], ...] = (),
) -> Program:
    """A programme of the county (county key only), with (category, label, amount) rates."""
    with county_world.scope():
        program = Program.objects.create(
            county=county_world.county,
            name=name,
            kind="allowance",
            frequency="yearly",
            standard_amount=Decimal(amount),
            needs_notice=needs_notice,
            notice_days=notice_days,
            rule=RULE,
        )
        for category, label, rate in rates:
            ProgramRate.objects.create(
                county=county_world.county,
                program=program,
                category=category,
                label=label,
                amount=Decimal(rate),
            )
    return program


def make_person(county_world, village_index: int, *, name: str, sequence: int) -> Person:
    """A new person in the household of the world's village `village_index`."""
    from tests.conftest import make_id_number

    household = county_world.households[village_index]
    code = county_world.county.division_code
    with county_world.scope():
        return household_services.person_create(
            actor=county_world.users["county_admin"],
            village=county_world.villages[village_index],
            household=household,
            name=name,
            id_number=make_id_number(code, datetime.date(1964, 3, 9), sequence, "female"),
            relation_to_head="parent",
            marital_status="married",
            married_on=datetime.date(1985, 5, 1),
        )


def applied(
    county_world,
    program: Program,
    person: Person,
    *,
    applied_on: datetime.date = datetime.date(2026, 3, 2),
    category: str = "",
    amount: str | None = None,
    status: str = "applied",
) -> Enrollment:
    """An enrolment as the village's application leaves it (status applied), with its APPLY
    event, under the person's group (or village)."""
    with county_world.scope():
        person = Person.objects.select_related("group", "village").get(pk=person.pk)
        enrollment = Enrollment(
            program=program,
            person=person,
            household_id=person.household_id,
            category=category,
            amount=Decimal(amount) if amount else program.standard_amount,
            status=status,
            reasons=REASONS,
            facts=FACTS,
            rule=program.rule,
            applied_on=applied_on,
        )
        enrollment.place_under(person.group or person.village)
        with transaction.atomic():  # a second live enrolment: IntegrityError, scope still left
            enrollment.save()
        secretary = (
            county_world.users.get("village_secretary") or county_world.users["county_admin"]
        )
        event = EnrollmentEvent(
            enrollment=enrollment,
            action=EnrollmentEvent.Action.APPLY,
            actor=secretary,
            actor_label=secretary.get_username(),
            reason=";".join(REASONS),
            from_status="",
            to_status=status,
            rule=enrollment.rule,
            facts=enrollment.facts,
        )
        event.place_under(person.group or person.village)
        event.save()
        return enrollment


def world_rows(admin, county_world, *, skip_first_village: bool) -> None:
    """The world's workflow rows (inside the county's scope): a programme of the county and,
    in each village (but county A's first, which stays bare for tests), the household head's
    enrolment in notice at the village, with an unresolved objection. Written directly (no
    change records): the other apps' tests do not see them."""
    program = Program(
        county=county_world.county,
        name=WORLD_PROGRAM,
        kind="allowance",
        frequency="yearly",
        standard_amount=Decimal("720"),
        rule=RULE,
    )
    program.save()
    for index, village in enumerate(county_world.villages):
        if skip_first_village and index == 0:
            continue
        person = county_world.persons[2 * index]
        household = county_world.households[index]
        place = county_world.groups[2 * index] if household.group_id else village
        notice = PublicNotice(
            program=program,
            title=f"{village.name} {WORLD_PROGRAM} 公示",
            starts_on=datetime.date(2025, 1, 6),
            ends_on=datetime.date(2025, 1, 12),
            objection_contact="村委会",
            created_by=admin,
        )
        notice.place_under(village)
        notice.save()
        enrollment = Enrollment(
            program=program,
            person=person,
            household=household,
            amount=Decimal("720"),
            status="in_notice",
            reasons=REASONS,
            facts=FACTS,
            rule=RULE,
            notice=notice,
            applied_on=datetime.date(2025, 1, 3),
        )
        enrollment.place_under(place)
        enrollment.save()
        for action, to_status in (("apply", "applied"), ("notice", "in_notice")):
            event = EnrollmentEvent(
                enrollment=enrollment, action=action, actor=admin, to_status=to_status
            )
            event.place_under(place)
            event.save()
        objection = Objection(
            enrollment=enrollment,
            raised_on=datetime.date(2025, 1, 8),
            raised_by="村民",
            content="家庭情况与申报不符",
            recorded_by=admin,
        )
        objection.place_under(place)
        objection.save()
