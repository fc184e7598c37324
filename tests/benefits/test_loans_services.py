"""Loans: the schedule worked out by hand, issuing (loan, schedule and expense in one
transaction, refused without the money), repayments (back to the fund, overpaying refused,
repaid status), a repayment's reversal, outstanding and overdue figures."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from associations.models import ChangeRecord
from benefits import fund_services, loan_services
from benefits.loan_selectors import loan_get, loan_rows, overdue_list, repayments_of, schedule
from benefits.loan_services import add_months, installment_schedule
from benefits.models import Fund, FundEntry, Installment, Loan, Repayment

from .factories_funds import DAY, as_user, income, issue, loan_program, make_fund, repay

pytestmark = pytest.mark.django_db

D = datetime.date
NOT_ADMIN = ["county_viewer", "township_staff", "village_secretary", "group_leader"]


@pytest.fixture
def lending(world):
    """County A: a loan programme and a loan fund holding 10,000.00."""
    program = loan_program(world.a)
    fund = make_fund(world.a, "少生快富周转金", Fund.Kind.LOAN)
    income(world.a, fund, "10000.00", day=D(2026, 1, 2))
    return program, fund


def _fund(world, fund) -> Fund:
    with world.a.scope():
        return Fund.objects.get(pk=fund.pk)


# --- the schedule ------------------------------------------------------------------------------


def test_equal_installments_with_the_cents_in_the_last():
    # 10,000.00 / 3 = 3,333.33 (rounded down) twice, and 10,000.00 − 6,666.66 = 3,333.34
    assert installment_schedule(Decimal("10000.00"), D(2026, 1, 15), 3) == [
        (D(2026, 2, 15), Decimal("3333.33")),
        (D(2026, 3, 15), Decimal("3333.33")),
        (D(2026, 4, 15), Decimal("3333.34")),
    ]
    # 5,000.00 / 12 = 416.66 eleven times (4,583.26) and 416.74
    rows = installment_schedule(Decimal("5000.00"), D(2025, 6, 1), 12)
    assert [amount for _, amount in rows] == [Decimal("416.66")] * 11 + [Decimal("416.74")]
    assert sum(amount for _, amount in rows) == Decimal("5000.00")
    assert rows[-1][0] == D(2026, 6, 1)
    # A whole number of cents per month leaves the last one equal: 1,200.00 / 12 = 100.00
    assert {amount for _, amount in installment_schedule(Decimal("1200"), D(2026, 1, 1), 12)} == {
        Decimal("100.00")
    }


def test_due_dates_keep_the_day_or_take_the_months_last():
    assert [add_months(D(2026, 1, 31), n) for n in (1, 2, 3, 13)] == [
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2027, 2, 28),
    ]
    assert add_months(D(2027, 11, 30), 3) == D(2028, 2, 29)  # leap year


# --- issuing -----------------------------------------------------------------------------------


def test_issuing_writes_the_loan_its_schedule_and_the_funds_expense(world, lending):
    program, fund = lending
    borrower = world.a.persons[3]  # t0v1's spouse
    loan = issue(world.a, fund, program, borrower, "10000.00", day=D(2026, 1, 15), term=3)
    with world.a.scope():
        loan = Loan.objects.get(pk=loan.pk)
        assert (loan.household_id, loan.village_id, loan.group_id) == (
            world.a.households[1].pk,
            world.a.villages[1].pk,
            world.a.groups[2].pk,
        )
        assert loan.status == "active"
        rows = list(Installment.objects.filter(loan=loan).values_list("due_on", "amount"))
        assert rows == [
            (D(2026, 2, 15), Decimal("3333.33")),
            (D(2026, 3, 15), Decimal("3333.33")),
            (D(2026, 4, 15), Decimal("3333.34")),
        ]
        expense = FundEntry.objects.get(loan=loan)
        assert (expense.direction, expense.source, expense.amount, expense.balance_after) == (
            "expense",
            "loan",
            Decimal("10000.00"),
            Decimal("0.00"),
        )
        assert ChangeRecord.objects.filter(object_type="benefits.Loan", object_id=loan.pk).exists()
    assert _fund(world, fund).balance == Decimal("0.00")


def test_a_fund_without_the_principal_refuses_the_loan_and_nothing_is_left(world, lending):
    program, fund = lending
    with world.a.scope():
        before = (Loan.objects.count(), Installment.objects.count(), FundEntry.objects.count())
    with pytest.raises(ValidationError) as error:
        issue(world.a, fund, program, world.a.persons[3], "10000.01")
    assert "余额不足:现有 10000.00 元,本次支出 10000.01 元" in error.value.messages[0]
    with world.a.scope():
        after = (Loan.objects.count(), Installment.objects.count(), FundEntry.objects.count())
    assert after == before
    assert _fund(world, fund).balance == Decimal("10000.00")


def test_issuing_checks_the_fund_the_programme_the_borrower_and_the_terms(world, lending):
    program, fund = lending
    care = make_fund(world.a, "生育关怀基金")
    income(world.a, care, "100")
    with pytest.raises(ValidationError, match="只能从贷款周转金发放贷款"):
        issue(world.a, care, program, world.a.persons[3], "10")
    with world.a.scope():
        grant = loan_program(world.a, "金秋助学")
        type(grant).objects.filter(pk=grant.pk).update(kind="grant")
        grant.kind = "grant"
    with pytest.raises(ValidationError, match="不是贷款类项目"):
        issue(world.a, fund, grant, world.a.persons[3], "10")
    with pytest.raises(ValidationError, match="期限应为 1 至 120 个月"):
        issue(world.a, fund, program, world.a.persons[3], "10", term=121)
    with pytest.raises(ValidationError, match="每期应还金额不足"):
        issue(world.a, fund, program, world.a.persons[3], "0.11", term=12)
    with pytest.raises(ValidationError, match="日期晚于今天"):
        issue(
            world.a, fund, program, world.a.persons[3], "10", day=D.today() + datetime.timedelta(2)
        )


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_county_admin_lends_and_takes_repayments(world, lending, role):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "1000")
    user = world.a.users[role]
    with world.a.scope():
        with pytest.raises(PermissionDenied):
            loan_services.loan_issue(
                actor=user,
                fund=fund,
                program=program,
                borrower=world.a.persons[3],
                principal="10",
                issued_on=DAY,
                term_months=1,
            )
        with pytest.raises(PermissionDenied):
            loan_services.loan_repay(actor=user, loan=loan, amount="10", paid_on=DAY)
        assert not Repayment.objects.filter(loan=loan).exists()


# --- repayments --------------------------------------------------------------------------------


def test_repayments_return_to_the_fund_and_the_last_one_closes_the_loan(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "1200.00", day=D(2026, 1, 15))
    first = repay(world.a, loan, "150.00", day=D(2026, 3, 10))
    with world.a.scope():
        entry = FundEntry.objects.get(repayment=first)
        assert (entry.direction, entry.source, entry.amount, entry.loan_id) == (
            "income",
            "repayment",
            Decimal("150.00"),
            loan.pk,
        )
        # 10,000.00 − 1,200.00 + 150.00 = 8,950.00
        assert entry.balance_after == Decimal("8950.00")
        assert loan_get(actor=world.a.users["county_admin"], pk=loan.pk).outstanding == Decimal(
            "1050.00"
        )
    with pytest.raises(ValidationError, match=r"还款金额 1050\.01 元超过未还本金 1050\.00 元"):
        repay(world.a, loan, "1050.01", day=D(2026, 4, 1))
    repay(world.a, loan, "1050.00", day=D(2026, 4, 1))
    assert loan.status == "repaid"
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "repaid"
        assert loan_get(actor=world.a.users["county_viewer"], pk=loan.pk).outstanding == 0
    assert _fund(world, fund).balance == Decimal("10000.00")
    with pytest.raises(ValidationError, match="该贷款已还清"):
        repay(world.a, loan, "1", day=D(2026, 4, 2))


def test_a_repayment_before_the_loan_or_in_the_future_is_refused(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "100", day=D(2026, 2, 1))
    with pytest.raises(ValidationError, match="早于放款日期"):
        repay(world.a, loan, "10", day=D(2026, 1, 31))
    with pytest.raises(ValidationError, match="日期晚于今天"):
        repay(world.a, loan, "10", day=D.today() + datetime.timedelta(days=3))


def test_a_reversed_repayment_counts_no_more_and_reopens_the_loan(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "500.00", day=D(2026, 1, 15))
    repay(world.a, loan, "200.00", day=D(2026, 2, 1))
    wrong = repay(world.a, loan, "300.00", day=D(2026, 2, 2))
    assert loan.status == "repaid"
    with world.a.scope():
        entry = FundEntry.objects.get(repayment=wrong)
        fund_services.fund_entry_reverse(
            actor=world.a.users["county_admin"], entry=entry, reason="记错借款人"
        )
        fresh = loan_get(actor=world.a.users["county_admin"], pk=loan.pk)
        assert (fresh.status, fresh.repaid, fresh.outstanding) == (
            "active",
            Decimal("200.00"),
            Decimal("300.00"),
        )
        listed = repayments_of(loan=fresh)
        assert [(r.amount, r.reversed) for r in listed] == [
            (Decimal("200.00"), False),
            (Decimal("300.00"), True),
        ]
    # 10,000 − 500 + 200 + 300 − 300 = 9,700
    assert _fund(world, fund).balance == Decimal("9700.00")
    repay(world.a, loan, "300.00", day=D(2026, 2, 3))  # the right one, once more


def test_a_loans_issue_is_not_reversed_as_an_entry_but_by_voiding_the_loan(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "500")
    with world.a.scope():
        expense = FundEntry.objects.get(loan=loan, source="loan")
        with pytest.raises(
            ValidationError, match=rf"贷款放款不在这里冲正:请打开贷款\(编号 {loan.pk}\)"
        ):
            fund_services.fund_entry_reverse(
                actor=world.a.users["county_admin"], entry=expense, reason="x"
            )


def test_an_idempotency_key_records_one_repayment_for_its_loan_only(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "500")
    other = issue(world.a, fund, program, world.a.persons[5], "500")
    key = uuid.uuid4()
    admin = world.a.users["county_admin"]
    with world.a.scope():
        first = loan_services.loan_repay(
            actor=admin, loan=loan, amount="100", paid_on=DAY, form_token=key
        )
        again = loan_services.loan_repay(
            actor=admin, loan=loan, amount="100", paid_on=DAY, form_token=key
        )
        assert again.pk == first.pk and again.replayed
        assert Repayment.objects.filter(loan=loan).count() == 1
        with pytest.raises(ValidationError, match="已用于另一笔贷款"):
            loan_services.loan_repay(
                actor=admin, loan=other, amount="100", paid_on=DAY, form_token=key
            )


# --- outstanding and overdue -------------------------------------------------------------------


def test_the_schedule_shows_what_the_repayments_cover(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "300.00", day=D(2026, 1, 15), term=3)
    repay(world.a, loan, "150.00", day=D(2026, 2, 20))
    with world.a.scope():
        loan = loan_get(actor=world.a.users["county_admin"], pk=loan.pk)
        rows = schedule(loan=loan, on=D(2026, 3, 20))
    # cumulative 100 ≤ 150: repaid; 200 > 150 and due 03-15 < 03-20: part repaid, overdue;
    # 300 due 04-15: not yet due
    assert [(r.cumulative, r.state) for r in rows] == [
        (Decimal("100.00"), "已还"),
        (Decimal("200.00"), "部分已还,逾期"),
        (Decimal("300.00"), "未到期"),
    ]


def test_the_overdue_list_worked_by_hand(world, lending):
    """On 2026-05-20, in county A:
    - loan 1: 1,200.00 over 12 from 2026-01-15 (100.00 due on the 15th from February), 150.00
      repaid on 03-10. Due before the day: Feb–May = 400.00; overdue 250.00; the first
      installment not covered is March's (cumulative 200.00 > 150.00): 66 days.
    - loan 2: 600.00 over 6, 400.00 repaid on 05-15: four installments due, four paid.
    - loan 3: 300.00 over 3, 100.00 repaid on 05-25 (after the day: it does not count):
      300.00 overdue from 02-15: 94 days.
    - the world's loans of A's villages 1-3: 5,000.00 over 12 from 2025-06-01, 1,000.00
      repaid: eleven installments due (4,583.26), 3,583.26 overdue since the third
      (2025-09-01, cumulative 1,249.98 > 1,000.00): 261 days."""
    program, fund = lending
    a = world.a
    one = issue(a, fund, program, a.persons[3], "1200.00", day=D(2026, 1, 15), term=12)
    repay(a, one, "150.00", day=D(2026, 3, 10))
    two = issue(a, fund, program, a.persons[5], "600.00", day=D(2026, 1, 15), term=6)
    repay(a, two, "400.00", day=D(2026, 5, 15))
    three = issue(a, fund, program, a.persons[7], "300.00", day=D(2026, 1, 15), term=3)
    repay(a, three, "100.00", day=D(2026, 5, 25))
    with as_user(a.users["county_admin"]):
        rows = overdue_list(actor=a.users["county_admin"], on=D(2026, 5, 20))
    got = {row.loan.pk: (row.amount_overdue, row.oldest_due_on, row.days_overdue) for row in rows}
    world_loans = {loan.pk for loan in a.loans}
    assert got == {
        one.pk: (Decimal("250.00"), D(2026, 3, 15), 66),
        three.pk: (Decimal("300.00"), D(2026, 2, 15), 94),
        **{pk: (Decimal("3583.26"), D(2025, 9, 1), 261) for pk in world_loans},
    }
    assert [row.loan.pk for row in rows][-2:] == [three.pk, one.pk]  # longest overdue first
    # The list's flag says the same for today's rows on that day.
    with a.scope():
        flagged = {
            loan.pk: loan.overdue_amount
            for loan in loan_rows(actor=a.users["county_admin"], on=D(2026, 5, 20))
        }
    assert (flagged[one.pk], flagged[two.pk], flagged[three.pk]) == (
        Decimal("250.00"),
        Decimal("0.00"),
        Decimal("300.00"),
    )


def test_the_overdue_list_covers_the_users_subtree_only(world, lending):
    program, fund = lending
    a = world.a
    mine = issue(a, fund, program, a.persons[1], "300.00", day=D(2026, 1, 15), term=3)  # t0v0
    on = D(2026, 5, 20)

    def overdue(user) -> set[int]:
        with as_user(user):
            return {row.loan.pk for row in overdue_list(actor=user, on=on)}

    assert overdue(a.users["village_secretary"]) == {mine.pk}
    assert overdue(a.users["village_secretary_sibling"]) == {a.loans[0].pk}  # the world's, t0v1
    assert overdue(a.users["township_staff"]) == {mine.pk, a.loans[0].pk}
    assert overdue(world.b.users["county_admin"]) == {loan.pk for loan in world.b.loans}
