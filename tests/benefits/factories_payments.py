"""Rows the payments tests build on: a programme at the county node (made directly: the
programmes part of the app is not these tests' subject), ENROLLED enrolments placed where their
beneficiary sits, payees' accounts, a fund with money in it, and a small payments world for
the isolation matrix and the API fuzz (a county batch, confirmed, in each county, and in
county A a draft batch of the second township, which the first township's accounts must not
reach)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from associations.scope import Scope, activate
from benefits import payments_services
from benefits.ledger import post_entry
from benefits.models import BankAccount, Enrollment, Fund, FundEntry, Program
from benefits.selectors import county_scope

ENROLLED_ON = datetime.date(2025, 6, 1)
BANK = "中国农业银行清河支行"


def county_admin(cw):
    return cw.users["county_admin"]


def program(
    cw,
    *,
    name: str = "计生家庭奖励扶助(测试)",
    frequency: str = "yearly",
    amount: str = "720",
    kind: str = "allowance",
    fund: Fund | None = None,
    beneficiary_kind: str = "person",
) -> Program:
    with activate(county_scope(cw.county.pk)):
        return Program.objects.create(
            county=cw.county,
            name=name,
            kind=kind,
            frequency=frequency,
            beneficiary_kind=beneficiary_kind,
            standard_amount=Decimal(amount),
            fund=fund,
        )


def enroll(
    cw,
    program: Program,
    person=None,
    *,
    household=None,
    amount: str | Decimal | None = None,
    enrolled_on: datetime.date | None = ENROLLED_ON,
    status: str = "enrolled",
    account: BankAccount | None = None,
) -> Enrollment:
    """An enrolment of `person` (or, for a household programme, of `household`), placed
    under the beneficiary's group or village."""
    household = household or person.household
    enrollment = Enrollment(
        program=program,
        person=person,
        household=household,
        amount=Decimal(amount if amount is not None else program.standard_amount),
        status=status,
        enrolled_on=enrolled_on if status == "enrolled" else None,
        bank_account=account,
    )
    place = person or household
    enrollment.place_under(place.group or place.village)
    with activate(Scope.for_node(cw.county)):
        enrollment.save()
    return enrollment


def account(cw, person, number: str = "6228480402564890018", bank: str = BANK) -> BankAccount:
    row = BankAccount(person=person, bank_name=bank, account_number=number)
    row.place_under(person.group or person.village)
    with activate(Scope.for_node(cw.county)):
        row.save()
    return row


def fund(cw, *, name: str = "生育关怀基金", balance: str = "0") -> Fund:
    with activate(county_scope(cw.county.pk)):
        made = Fund.objects.create(county=cw.county, name=name, kind=Fund.Kind.CARE)
    if Decimal(balance):
        post_entry(
            actor=county_admin(cw),
            fund=made,
            direction=FundEntry.Direction.INCOME,
            source=FundEntry.Source.GOVERNMENT,
            amount=Decimal(balance),
            entry_date=datetime.date(2026, 1, 5),
            description="财政拨入",
        )
        with activate(county_scope(cw.county.pk)):
            made.refresh_from_db()
    return made


def heads(cw) -> list:
    """The head of each village's household (t0v0, t0v1, t1v0, t1v1)."""
    return [cw.persons[2 * i] for i in range(len(cw.villages))]


def payment_world(world) -> dict:
    """In each county: a programme, its four household heads enrolled with an account each,
    and a confirmed county batch of 2026; in county A also a draft batch of 2025 made for the
    second township (a sibling subtree's batch for the accounts of the first). Returns county
    A's rows."""
    made = {}
    for key, cw in (("b", world.b), ("a", world.a)):
        prog = program(cw, name="节日慰问金(隔离测试)")
        enrollments = []
        for index, head in enumerate(heads(cw)):
            acct = account(cw, head, number=f"62284804025648{index:05d}")
            enrollments.append(enroll(cw, prog, head, account=acct))
        with activate(Scope.for_node(cw.county)):
            batch = payments_services.batch_create(
                actor=county_admin(cw), program=prog, period="2026", node=cw.county
            )
            payments_services.batch_confirm(actor=county_admin(cw), batch=batch)
        made[key] = {"program": prog, "enrollments": enrollments, "batch": batch}
    a = world.a
    with activate(Scope.for_node(a.county)):
        made["a"]["township_batch"] = payments_services.batch_create(
            actor=county_admin(a), program=made["a"]["program"], period="2025", node=a.townships[1]
        )
    return made["a"]
