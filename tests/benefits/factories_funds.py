"""Test data for funds and loans: a loan programme (made directly under the county scope, as
the programmes are another part's), funds with income, assistance records with an amount,
many borrowing households at once, and the funds and loans of the shared world."""

from __future__ import annotations

import datetime
from decimal import Decimal

from associations.middleware import scope_for_user
from associations.scope import activate
from benefits import fund_services, loan_services
from benefits.models import Fund, FundEntry, Program
from households.models import AssistanceKind, AssistanceRecord, Household, Person

DAY = datetime.date(2026, 3, 2)
WORLD_ISSUED_ON = datetime.date(2025, 6, 1)


def as_user(user):
    """The user's own scope, as the middleware enters it for a request."""
    return activate(scope_for_user(user))


def loan_program(county_world, name: str = "幸福工程") -> Program:
    with county_world.scope():
        return Program.objects.create(
            county=county_world.county,
            name=name,
            template="happiness_project",
            kind="loan",
            frequency="one_off",
            standard_amount=Decimal("0"),
        )


def make_fund(county_world, name: str, kind: str = Fund.Kind.CARE, donor: str = "") -> Fund:
    with county_world.scope():
        return fund_services.fund_create(
            actor=county_world.users["county_admin"], name=name, kind=kind, donor=donor
        )


def income(county_world, fund: Fund, amount, *, day=DAY, source=FundEntry.Source.OTHER):
    with county_world.scope():
        return fund_services.fund_income_record(
            actor=county_world.users["county_admin"],
            fund=fund,
            source=source,
            amount=Decimal(amount),
            entry_date=day,
            description="测试收入",
            donor="测试捐赠单位" if source == FundEntry.Source.DONATION else "",
        )


def assistance_record(county_world, index: int, amount, *, day=DAY) -> AssistanceRecord:
    household = county_world.households[index]
    with county_world.scope():
        record = AssistanceRecord(
            household=household,
            kind=AssistanceKind.RELIEF,
            given_on=day,
            amount=Decimal(amount) if amount is not None else None,
            goods="" if amount is not None else "米面油",
            given_by="县计生协",
        )
        record.place_under(household.group or household.village)
        record.save()
    return record


def borrowers(county_world, count: int, *, village_index: int = 1) -> list[Person]:
    """`count` households of one person each (the borrower) in a village, written in bulk."""
    group = county_world.groups[2 * village_index]
    with county_world.scope():
        households = []
        for number in range(count):
            household = Household(number=f"B{number:04d}", address=f"借款户{number}")
            household.place_under(group)
            households.append(household)
        Household.objects.bulk_create(households)
        people = []
        for number, household in enumerate(households):
            person = Person(
                household=household,
                relation_to_head="head",
                name=f"借款人{number:03d}",
                sex="female",
                birth_date=datetime.date(1985, 1, 1),
            )
            person.place_under(group)
            people.append(person)
        Person.objects.bulk_create(people)
    return people


def issue(county_world, fund, program, borrower, principal, *, day=DAY, term=12):
    with county_world.scope():
        return loan_services.loan_issue(
            actor=county_world.users["county_admin"],
            fund=fund,
            program=program,
            borrower=borrower,
            principal=Decimal(principal),
            issued_on=day,
            term_months=term,
            purpose="养殖",
        )


def repay(county_world, loan, amount, *, day=DAY):
    with county_world.scope():
        return loan_services.loan_repay(
            actor=county_world.users["county_admin"],
            loan=loan,
            amount=Decimal(amount),
            paid_on=day,
        )


def world_funds(admin, world) -> None:
    """Each county of the shared world: a care fund with government money per head, a loan
    fund with 100,000 yuan, and a 5,000-yuan loan (12 months, from 2025-06-01, 1,000 repaid)
    in every village but county A's first (which stays bare), so that every funds and loans
    route has rows to isolate. Called inside the county's scope by tests/conftest.py."""
    care = fund_services.fund_create(actor=admin, name="生育关怀基金(世界)", kind=Fund.Kind.CARE)
    fund_services.fund_government_income(
        actor=admin, fund=care, rate=Decimal("2"), entry_date=WORLD_ISSUED_ON
    )
    loan_fund = fund_services.fund_create(actor=admin, name="幸福工程周转金", kind=Fund.Kind.LOAN)
    fund_services.fund_income_record(
        actor=admin,
        fund=loan_fund,
        source=FundEntry.Source.GOVERNMENT,
        amount=Decimal("100000"),
        entry_date=WORLD_ISSUED_ON,
        description="幸福工程项目资金",
    )
    program = Program.objects.create(
        county=world.county,
        name="幸福工程贷款(世界)",
        template="happiness_project",
        kind="loan",
        frequency="one_off",
        standard_amount=Decimal("0"),
    )
    world.funds = [care, loan_fund]
    for index in range(len(world.households)):
        if world.county.division_code == "130534" and index == 0:
            continue
        loan = loan_services.loan_issue(
            actor=admin,
            fund=loan_fund,
            program=program,
            borrower=world.persons[2 * index + 1],
            principal=Decimal("5000"),
            issued_on=WORLD_ISSUED_ON,
            term_months=12,
            purpose="养殖",
        )
        loan_services.loan_repay(
            actor=admin, loan=loan, amount=Decimal("1000"), paid_on=datetime.date(2025, 7, 1)
        )
        world.loans.append(loan)
