"""The money of the demo county's care subsidies (benefits.demo): payees' bank accounts, last
year's batches paid (one line failed at the bank and re-issued in January), this year's batches
(特别扶助 paid in September, 奖励扶助 confirmed and waiting for the bank), the care fund's and the
named fund's income and the assistance they paid, and 幸福工程 loans with their repayments.
Every write goes through the services (see benefits.demo for the dates)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from households.models import AssistanceKind, AssistanceRecord, Person

from .fund_services import fund_assistance_expense, fund_government_income, fund_income_record
from .loan_services import add_months, installment_schedule, loan_issue, loan_repay
from .models import (
    LIVE_ENROLLMENT,
    BankAccount,
    Disbursement,
    Enrollment,
    EnrollmentStatus,
    Fund,
    FundEntry,
    Loan,
    Program,
)
from .payments_accounts import bank_account_add, bank_account_deactivate, enrollment_set_account
from .payments_rules import PaymentMethod, parse_period
from .payments_services import (
    batch_confirm,
    batch_create,
    batch_mark_paid,
    batch_reissue,
    line_fail,
)

# (bank, the first six digits of its debit cards)
BANKS = [
    ("中国农业银行", "622848"),
    ("中国邮政储蓄银行", "621799"),
    ("农村商业银行", "621067"),
]
FAILURE = "账户已销户,银行退回"
CARE_RATE = Decimal("2.00")  # 元 per resident a year into the care fund
CARE_DONATION = Decimal("30000.00")
NAMED_DONATION = Decimal("20000.00")
LOAN_CAPITAL = (
    (FundEntry.Source.DONATION, "15000.00", "中国人口福利基金会", "幸福工程救助贫困母亲行动资金"),
    (FundEntry.Source.GOVERNMENT, "5000.00", "", "县财政配套幸福工程循环金"),
)
# Capped so that the large county's thousands of assistance records do not all go through.
VISITS_PAID = 40
SCHOOL_AID_PAID = 10


@dataclass(frozen=True)
class LoanPlan:
    """A loan issued `months_ago` months (or `days_ago` days) before today and how it has been
    repaid: "all" (paid off, quarterly), "due" (every installment due so far, quarterly),
    or the number of installments repaid before the borrower stopped (overdue)."""

    principal: Decimal
    term: int
    repaid: str | int
    purpose: str
    months_ago: int = 0
    days_ago: int = 0


# In order of what the demo must show when a small county has few borrowers: a loan paid off,
# its money lent again, one overdue, one on schedule, one just issued, another paid off.
LOANS = [
    LoanPlan(Decimal("5000.00"), 12, "all", "养殖肉羊", months_ago=30),
    LoanPlan(Decimal("5000.00"), 24, "due", "开办农家小超市", months_ago=17),
    LoanPlan(Decimal("5000.00"), 12, 5, "种植大棚蔬菜", months_ago=14),
    LoanPlan(Decimal("3000.00"), 12, "due", "手工编织加工", months_ago=4),
    LoanPlan(Decimal("5000.00"), 12, "due", "家庭养鸡", days_ago=20),
    LoanPlan(Decimal("5000.00"), 12, "all", "羊绒纺纱加工", months_ago=30),
]


def _quarterly(schedule, count: int) -> list[tuple[datetime.date, Decimal]]:
    """The first `count` installments repaid three at a time (and the rest at the last one),
    each repayment on the due date of its last installment."""
    repayments, owed = [], Decimal("0")
    for number, (due_on, amount) in enumerate(schedule[:count], start=1):
        owed += amount
        if number % 3 == 0 or number == count:
            repayments.append((due_on, owed))
            owed = Decimal("0")
    return repayments


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class Money:
    def __init__(self, demo):
        self.demo = demo
        self.admin = demo.admin
        self.lines = 0
        self.account_days: dict[datetime.date, list[int]] = defaultdict(list)
        self.fund_days: dict[int, datetime.date] = {}

    # --- accounts ------------------------------------------------------------------------------

    def _new_account(self, person: Person, village, on: datetime.date) -> BankAccount:
        bank, prefix = self.demo.rng.choice(BANKS)
        branch = f"{bank}{self.demo.county.name}支行"
        number = f"{prefix}{self.demo.rng.randrange(10**12, 10**13)}"
        account = bank_account_add(
            actor=self.demo.actors.applier(village),
            person=person,
            bank_name=branch,
            account_number=number,
        )
        self.account_days[on].append(account.pk)
        return account

    def accounts(self, enrollments: list[Enrollment], *, share: float) -> int:
        """Most beneficiaries of live enrolments give the village an account (registered the
        day after applying); the others are paid in cash."""
        live = [e for e in enrollments if e.status in LIVE_ENROLLMENT and e.person_id]
        persons = Person.objects.select_related("group", "village").in_bulk(
            {e.person_id for e in live}
        )
        made: dict[int, BankAccount | None] = {}
        for enrollment in sorted(live, key=lambda e: e.pk):
            if enrollment.person_id not in made:
                wants = self.demo.rng.random() < share
                made[enrollment.person_id] = (
                    self._new_account(
                        persons[enrollment.person_id],
                        enrollment.village,
                        enrollment.applied_on + datetime.timedelta(days=1),
                    )
                    if wants
                    else None
                )
            account = made[enrollment.person_id]
            if account is not None:
                enrollment_set_account(
                    actor=self.demo.actors.applier(enrollment.village),
                    enrollment=enrollment,
                    account=account,
                )
        return sum(account is not None for account in made.values())

    # --- batches -------------------------------------------------------------------------------

    def _has_roll(self, program: Program, period: str) -> bool:
        end = parse_period(program.frequency, period).end
        return Enrollment.objects.filter(
            program=program, status=EnrollmentStatus.ENROLLED, enrolled_on__lte=end
        ).exists()

    def _batch(
        self,
        program: Program,
        period: str,
        *,
        made_on: datetime.date | None,
        note: str,
    ):
        """A batch of the county for the period, confirmed (`made_on`: the day it was drawn
        up and confirmed; None: now)."""
        batch = batch_create(
            actor=self.admin, program=program, period=period, node=self.demo.county, note=note
        )
        self.lines += batch.line_count
        batch = batch_confirm(actor=self.admin, batch=batch)
        if made_on is not None:
            confirmed = self.demo.past(made_on + datetime.timedelta(days=2))
            self.demo.backdating.batches[batch.pk] = (at(made_on, 9), at(confirmed, 16))
            batch.confirmed_on = confirmed
        return batch

    def _pay(self, batch, paid_on: datetime.date, reference: str):
        return batch_mark_paid(
            actor=self.admin,
            batch=batch,
            paid_on=paid_on,
            method=PaymentMethod.BANK,
            reference=reference,
        )

    def pay_last_year(self, reward: Program, special: Program) -> None:
        """Last year's batches, paid in November and December; one 奖励扶助 line came back
        from the bank (the account was closed): the village registered the beneficiary's new
        account and the line was re-issued and paid in January."""
        last = str(self.demo.year - 1)
        year = self.demo.year - 1
        if self._has_roll(special, last):
            batch = self._batch(
                special, last, made_on=datetime.date(year, 11, 20), note=f"{last}年度特别扶助金"
            )
            self._pay(batch, datetime.date(year, 11, 28), f"TF{last}1128")
        if not self._has_roll(reward, last):
            return
        batch = self._batch(
            reward, last, made_on=datetime.date(year, 12, 1), note=f"{last}年度奖励扶助金"
        )
        line = (
            Disbursement.objects.filter(batch=batch, bank_account__isnull=False)
            .select_related("bank_account", "enrollment", "enrollment__village")
            .order_by("id")
            .first()
        )
        if line is not None:
            line_fail(actor=self.admin, line=line, reason=FAILURE)
        self._pay(batch, datetime.date(year, 12, 10), f"JL{last}1210")
        if line is None:
            return
        reissue_on = self.demo.past(datetime.date(self.demo.year, 1, 8))
        village = line.enrollment.village
        bank_account_deactivate(actor=self.demo.actors.applier(village), account=line.bank_account)
        person = Person.objects.select_related("group", "village").get(pk=line.person_id)
        account = self._new_account(person, village, reissue_on)
        for enrollment in Enrollment.objects.filter(
            person_id=person.pk, status__in=LIVE_ENROLLMENT
        ).select_related("village", "group"):
            enrollment_set_account(
                actor=self.demo.actors.applier(village), enrollment=enrollment, account=account
            )
        again = batch_reissue(actor=self.admin, batch=batch)
        self.lines += again.line_count
        again = batch_confirm(actor=self.admin, batch=again)
        self.demo.backdating.batches[again.pk] = (
            at(reissue_on, 9),
            at(reissue_on, 15),
        )
        self._pay(again, self.demo.past(reissue_on + datetime.timedelta(days=7)), f"JL{last}CF")

    def pay_this_year(self, reward: Program, special: Program) -> None:
        """This year's 特别扶助 paid in September; this year's 奖励扶助 drawn up and confirmed
        now, not yet paid (the bank's file is out)."""
        year = str(self.demo.year)
        if self._has_roll(special, year):
            made_on = self.demo.past(datetime.date(self.demo.year, 9, 8))
            batch = self._batch(special, year, made_on=made_on, note=f"{year}年度特别扶助金")
            paid_on = self.demo.past(datetime.date(self.demo.year, 9, 18))
            self._pay(batch, max(paid_on, batch.confirmed_on), f"TF{year}0918")
        if self._has_roll(reward, year):
            self._batch(reward, year, made_on=None, note=f"{year}年度奖励扶助金")

    # --- funds ---------------------------------------------------------------------------------

    def _income(self, fund: Fund, **entry) -> None:
        fund_income_record(actor=self.admin, fund=fund, **entry)
        day = entry["entry_date"]
        self.fund_days[fund.pk] = min(self.fund_days.get(fund.pk, day), day)

    def care_funds(self, care: Fund, named: Fund) -> None:
        """The care fund: the government's money per resident for last year and this, and a
        donation; it paid the county association's own spring visits that gave money. The named
        fund: its donor's gift, which paid the school aid (关爱女孩助学). Posted in the order
        of their dates, as a clerk keeps a ledger."""
        demo, year = self.demo, self.demo.year
        steps: list[tuple[datetime.date, Fund, dict]] = []
        for day in (datetime.date(year - 1, 3, 15), demo.past(datetime.date(year, 3, 15))):
            steps.append((day, care, {"rate": CARE_RATE}))
        donor = f"{demo.county.name}爱心企业联谊会"
        steps.append(
            (
                datetime.date(year - 1, 6, 1),
                care,
                {"amount": CARE_DONATION, "donor": donor, "note": f"{donor}捐赠生育关怀基金"},
            )
        )
        steps.append(
            (
                demo.past(datetime.date(year, 7, 1)),
                named,
                {
                    "amount": NAMED_DONATION,
                    "donor": named.donor,
                    "note": f"{named.donor}设立爱心助学冠名基金",
                },
            )
        )
        paid = AssistanceRecord.objects.filter(
            amount__gt=0, given_by="县计生协", given_on__year=year, given_on__lte=demo.today
        )
        for fund, kind, cap in (
            (care, AssistanceKind.VISIT, VISITS_PAID),
            (named, AssistanceKind.SCHOOL_AID, SCHOOL_AID_PAID),
        ):
            for record in paid.filter(kind=kind).order_by("village_id", "id")[:cap]:
                steps.append((record.given_on, fund, {"assistance": record}))
        for day, fund, step in sorted(steps, key=lambda s: (s[0], "assistance" in s[2])):
            self.fund_days[fund.pk] = min(self.fund_days.get(fund.pk, day), day)
            if "rate" in step:
                fund_government_income(
                    actor=self.admin,
                    fund=fund,
                    rate=step["rate"],
                    entry_date=day,
                    description=f"{day.year}年度生育关怀基金财政投入",
                )
            elif "assistance" in step:
                fund_assistance_expense(
                    actor=self.admin, fund=fund, assistance=step["assistance"], entry_date=day
                )
            else:
                self._income(
                    fund,
                    source=FundEntry.Source.DONATION,
                    amount=step["amount"],
                    entry_date=day,
                    description=step["note"],
                    donor=step["donor"],
                )

    # --- loans ---------------------------------------------------------------------------------

    def loans(self, program: Program, fund: Fund) -> int:
        """The loan fund's capital, then the plans' loans and repayments in the order of their
        dates (the fund lends what it holds: repaid money is what lets the later loans go out)."""
        demo, today = self.demo, self.demo.today
        # One borrower a household (a mother and her daughter-in-law may both qualify).
        found = demo.applicable(program, year=demo.year, on=today, cap=3 * len(LOANS))
        persons = Person.objects.select_related("group", "village").in_bulk(
            [pk for _village, keys in found for pk in keys]
        )
        borrowers, households = [], set()
        for pk in (pk for _village, keys in found for pk in keys):
            if persons[pk].household_id not in households:
                households.add(persons[pk].household_id)
                borrowers.append(pk)
        if not borrowers:
            return 0
        opened = add_months(today, -31)
        for source, amount, donor, description in LOAN_CAPITAL:
            self._income(
                fund,
                source=source,
                amount=Decimal(amount),
                entry_date=opened,
                description=description,
                donor=donor,
            )
        steps = []  # (day, 0 issue / 1 repay, plan index, amount)
        for index, (plan, _borrower) in enumerate(zip(LOANS, borrowers, strict=False)):
            issued = add_months(today, -plan.months_ago) - datetime.timedelta(days=plan.days_ago)
            steps.append((issued, 0, index, plan.principal))
            schedule = installment_schedule(plan.principal, issued, plan.term)
            due = [row for row in schedule if row[0] < today]
            count = {"all": len(schedule), "due": len(due)}.get(plan.repaid, plan.repaid)
            steps += [(day, 1, index, amount) for day, amount in _quarterly(schedule, count)]
        loans: dict[int, Loan] = {}
        for day, kind, index, amount in sorted(steps, key=lambda s: s[:3]):
            if kind == 0:
                loans[index] = loan_issue(
                    actor=self.admin,
                    fund=fund,
                    program=program,
                    borrower=persons[borrowers[index]],
                    principal=amount,
                    issued_on=day,
                    term_months=LOANS[index].term,
                    purpose=LOANS[index].purpose,
                )
            else:
                loan_repay(actor=self.admin, loan=loans[index], amount=amount, paid_on=day)
        return len(loans)

    # --- the moments ---------------------------------------------------------------------------

    def backdate(self) -> None:
        """Accounts registered, and funds set up a few days before their first entry (see
        benefits.demo's docstring)."""
        for day, ids in self.account_days.items():
            BankAccount.objects.filter(pk__in=ids).update(created_at=at(day, 10))
        for pk, day in self.fund_days.items():
            Fund.objects.filter(pk=pk).update(created_at=at(day - datetime.timedelta(days=5), 9))
