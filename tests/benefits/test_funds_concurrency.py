"""A fund never goes below zero when two expenses race: two threads, each with its own
database connection and transaction, each spending most of the balance at the same moment.
Exactly one succeeds; the other waits on the fund row, then sees what the first left and gets
the Chinese message; the balance is right. The same for two loans, for two repayments of
one loan racing past its outstanding principal, for two transfers out of one fund, for two
transfers running opposite ways between two funds (both go through: the fund rows are locked
in id order, so neither waits for the other's second row — no deadlock), and for a loan
voided twice at once.

These tests commit (transaction=True): they build their own county, as the shared world is
rolled back per test."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from associations.scope import Scope, activate
from associations.services import association_create, county_create
from benefits import fund_services, fund_transfers, loan_services
from benefits.models import Fund, FundEntry, Loan, Program, Repayment
from households import services as household_services
from households.models import AssistanceRecord
from tests.conftest import PASSWORD, make_id_number

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.date(2026, 3, 2)
HOLD = 0.4  # seconds the first transaction keeps its lock before committing


def _county():
    county, admin = county_create(
        name="武强县", division_code="131123", admin_username="fund_race", admin_password=PASSWORD
    )
    scope = Scope.for_node(county)
    with activate(scope):
        township = association_create(
            actor=admin, parent=county, name="武强镇", division_code="131123100"
        )
        village = association_create(
            actor=admin, parent=township, name="东关村", division_code="131123100200"
        )
        household = household_services.household_create(
            actor=admin, village=village, number="0001", address="东关村1号"
        )
        people = [
            household_services.person_create(
                actor=admin,
                village=village,
                household=household,
                name=name,
                id_number=make_id_number("131123", datetime.date(1985, 5, 1), 20 + n, sex),
                relation_to_head=relation,
            )
            for n, (name, sex, relation) in enumerate(
                [("王建国", "male", "head"), ("李秀英", "female", "spouse")]
            )
        ]
    return scope, admin, household, people


def _race(scope, work) -> list:
    """Run `work(index)` in two threads that start together; each holds its transaction
    open for HOLD seconds after writing. Returns each thread's "ok" or its messages."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(index):
        try:
            with activate(scope):
                barrier.wait(timeout=10)
                with transaction.atomic():
                    work(index)
                    time.sleep(HOLD)
            results[index] = "ok"
        except ValidationError as error:
            results[index] = error.messages
        except Exception as error:
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _one_ok_one_overdrawn(results, message):
    assert sorted(results, key=str).count("ok") == 1, results
    [refused] = [r for r in results if r != "ok"]
    assert isinstance(refused, list) and any(message in m for m in refused), results


def test_two_expenses_racing_for_most_of_the_balance():
    scope, admin, household, _ = _county()
    with activate(scope):
        fund = fund_services.fund_create(actor=admin, name="生育关怀基金", kind="care")
        fund_services.fund_income_record(
            actor=admin,
            fund=fund,
            source="other",
            amount="1000",
            entry_date=DAY,
            description="财政拨入",
        )
        records = []
        for n in range(2):
            records.append(
                household_services.assistance_add(
                    actor=admin,
                    household=household,
                    kind="relief",
                    given_on=DAY,
                    amount=Decimal("800.00"),
                    given_by=f"县计生协{n}",
                )
            )

    def spend(index):
        fund_services.fund_assistance_expense(
            actor=admin,
            fund=Fund.objects.get(pk=fund.pk),
            assistance=AssistanceRecord.objects.get(pk=records[index].pk),
            entry_date=DAY,
        )

    results = _race(scope, spend)
    _one_ok_one_overdrawn(results, "基金“生育关怀基金”余额不足:现有 200.00 元,本次支出 800.00 元。")
    with activate(scope):
        assert Fund.objects.get(pk=fund.pk).balance == Decimal("200.00")
        expenses = FundEntry.objects.filter(fund=fund, direction="expense")
        assert [e.balance_after for e in expenses] == [Decimal("200.00")]


def test_two_loans_racing_for_most_of_the_fund():
    scope, admin, _, people = _county()
    with activate(scope):
        fund = fund_services.fund_create(actor=admin, name="幸福工程周转金", kind="loan")
        fund_services.fund_income_record(
            actor=admin,
            fund=fund,
            source="government",
            amount="10000",
            entry_date=DAY,
            description="项目资金",
        )
        program = Program.objects.create(
            county_id=scope.county_id,
            name="幸福工程",
            kind="loan",
            frequency="one_off",
            standard_amount=Decimal("0"),
        )

    def lend(index):
        loan_services.loan_issue(
            actor=admin,
            fund=Fund.objects.get(pk=fund.pk),
            program=program,
            borrower=people[index],
            principal=Decimal("6000"),
            issued_on=DAY,
            term_months=12,
        )

    results = _race(scope, lend)
    _one_ok_one_overdrawn(results, "余额不足:现有 4000.00 元,本次支出 6000.00 元")
    with activate(scope):
        assert Fund.objects.get(pk=fund.pk).balance == Decimal("4000.00")
        assert Loan.objects.count() == 1  # the refused loan left nothing behind
        assert Loan.objects.get().installments.count() == 12


def _issued_loan(
    scope, admin, borrower, *, fund_name, program_name, income, principal, term_months
):
    """A loan fund holding `income`, and a loan of `principal` from it to `borrower`."""
    with activate(scope):
        fund = fund_services.fund_create(actor=admin, name=fund_name, kind="loan")
        fund_services.fund_income_record(
            actor=admin,
            fund=fund,
            source="government",
            amount=income,
            entry_date=DAY,
            description="项目资金",
        )
        program = Program.objects.create(
            county_id=scope.county_id,
            name=program_name,
            kind="loan",
            frequency="one_off",
            standard_amount=Decimal("0"),
        )
        return loan_services.loan_issue(
            actor=admin,
            fund=fund,
            program=program,
            borrower=borrower,
            principal=Decimal(principal),
            issued_on=DAY,
            term_months=term_months,
        )


def test_two_repayments_racing_past_the_outstanding_principal():
    scope, admin, _, people = _county()
    loan = _issued_loan(
        scope,
        admin,
        people[1],
        fund_name="少生快富周转金",
        program_name="少生快富",
        income="1000",
        principal="1000",
        term_months=10,
    )

    def pay(index):
        loan_services.loan_repay(
            actor=admin, loan=Loan.objects.get(pk=loan.pk), amount=Decimal("700"), paid_on=DAY
        )

    results = _race(scope, pay)
    _one_ok_one_overdrawn(results, "还款金额 700.00 元超过未还本金 300.00 元。")
    with activate(scope):
        assert Repayment.objects.filter(loan=loan).count() == 1
        assert Fund.objects.get(pk=loan.fund_id).balance == Decimal("700.00")


def _funds(scope, admin, *names_and_amounts):
    made = []
    with activate(scope):
        for name, amount in names_and_amounts:
            fund = fund_services.fund_create(actor=admin, name=name, kind="care")
            fund_services.fund_income_record(
                actor=admin,
                fund=fund,
                source="other",
                amount=amount,
                entry_date=DAY,
                description="财政拨入",
            )
            made.append(fund)
    return made


def test_two_transfers_running_opposite_ways_both_go_through():
    """A → B 800.00 and B → A 700.00 at once: A = 1,000 − 800 + 700 = 900, B = 1,100."""
    scope, admin, _, _ = _county()
    a, b = _funds(scope, admin, ("县生育关怀基金", "1000"), ("幸福工程周转金", "1000"))
    moves = [(a, b, "800"), (b, a, "700")]

    def move(index):
        source, target, amount = moves[index]
        fund_transfers.fund_transfer(
            actor=admin,
            source=Fund.objects.get(pk=source.pk),
            target=Fund.objects.get(pk=target.pk),
            amount=amount,
            entry_date=DAY,
        )

    results = _race(scope, move)
    assert results == ["ok", "ok"], results
    with activate(scope):
        assert Fund.objects.get(pk=a.pk).balance == Decimal("900.00")
        assert Fund.objects.get(pk=b.pk).balance == Decimal("1100.00")
        transfers = FundEntry.objects.filter(source="transfer")
        assert transfers.count() == 4
        assert all(entry.counterpart_id for entry in transfers)


def test_two_transfers_racing_for_most_of_a_fund():
    scope, admin, _, _ = _county()
    a, b, c = _funds(scope, admin, ("县生育关怀基金", "1000"), ("甲基金", "1"), ("乙基金", "1"))
    targets = [b, c]

    def move(index):
        fund_transfers.fund_transfer(
            actor=admin,
            source=Fund.objects.get(pk=a.pk),
            target=Fund.objects.get(pk=targets[index].pk),
            amount="800",
            entry_date=DAY,
        )

    results = _race(scope, move)
    _one_ok_one_overdrawn(
        results, "基金“县生育关怀基金”余额不足:现有 200.00 元,本次划出 800.00 元。"
    )
    with activate(scope):
        assert Fund.objects.get(pk=a.pk).balance == Decimal("200.00")
        balances = sorted(
            Fund.objects.filter(pk__in=[b.pk, c.pk]).values_list("balance", flat=True)
        )
        assert balances == [Decimal("1.00"), Decimal("801.00")]
        assert FundEntry.objects.filter(source="transfer").count() == 2


def test_a_loan_voided_twice_at_once_is_voided_once():
    scope, admin, _, people = _county()
    loan = _issued_loan(
        scope,
        admin,
        people[1],
        fund_name="幸福工程周转金",
        program_name="幸福工程",
        income="5000",
        principal="3000",
        term_months=6,
    )

    def void(index):
        loan_services.loan_void(
            actor=admin, loan=Loan.objects.get(pk=loan.pk), reason=f"登记错误{index}", voided_on=DAY
        )

    results = _race(scope, void)
    _one_ok_one_overdrawn(results, f"该贷款已于 {DAY:%Y-%m-%d} 冲正,不能重复冲正。")
    with activate(scope):
        assert Fund.objects.get(pk=loan.fund_id).balance == Decimal("5000.00")
        assert FundEntry.objects.filter(source="reversal", loan=loan).count() == 1
        assert Loan.objects.get(pk=loan.pk).status == "voided"
