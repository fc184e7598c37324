"""Loans (幸福工程, 少生快富): issue one from a loan fund, take its repayments, keep its status.

Issuing is one transaction: the loan, its repayment schedule (equal monthly installments, the
last one absorbing the cents of rounding) and the fund's expense that names the loan; when the
fund does not hold the principal, the ledger refuses the expense (a Chinese message) and
nothing of the loan is left. A repayment returns to the fund as income naming the repayment;
more than the outstanding principal is refused, and a loan paid off is marked repaid. Repaid
money is lent again from the same fund: that is what the re-lending figures count
(benefits.loan_selectors.relending_stats).

A loan issued by mistake (the wrong borrower, the wrong amount) is voided (冲正): the issue's
expense is reversed by an income of the same amount, the loan is marked voided with the date
and reason, and it drops out of every figure (outstanding, overdue, rounds and households).
The loan, its schedule and the original entry stay. While repayments of it still count, the
void is refused: each repayment is reversed first (fund_entry_reverse), so that the money a
borrower paid back is never silently kept or lost."""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import ChangeRecord
from associations.permissions import require
from associations.scope import activate
from households.models import Person

from . import permissions
from .fund_services import (
    CENT,
    check_entry_date,
    money,
    record_entry,
    refuse_overflow,
    today,
)
from .ledger import post_entry
from .loan_selectors import live_repayments, repaid_total
from .models import Fund, FundEntry, Installment, Loan, ProgramKind, Repayment
from .selectors import county_scope

MAX_TERM_MONTHS = 120
LOAN_FIELDS = [
    "program",
    "fund",
    "borrower",
    "household",
    "principal",
    "issued_on",
    "term_months",
    "purpose",
    "status",
]
REPAYMENT_FIELDS = ["loan", "paid_on", "amount", "note"]
VOID_FIELDS = ["status", "voided_on", "void_reason"]

NOT_ALLOWED = "只有县级管理员可以发放贷款和登记还款。"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the month's last day when it has no such day (31 January
    + 1 month = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def installment_schedule(
    principal: Decimal, issued_on: datetime.date, term_months: int
) -> list[tuple[datetime.date, Decimal]]:
    """Equal monthly installments, one a month from a month after the issue: each is the
    principal ÷ term rounded DOWN to the cent, and the last absorbs what rounding left, so
    the schedule adds up to the principal exactly (5,000.00 over 12: 11 × 416.66 and
    416.74)."""
    each = (principal / term_months).quantize(CENT, rounding=ROUND_DOWN)
    last = principal - each * (term_months - 1)
    return [
        (add_months(issued_on, number), each if number < term_months else last)
        for number in range(1, term_months + 1)
    ]


def _check_term(term_months) -> int:
    try:
        term = int(term_months)
    except (TypeError, ValueError):
        term = 0
    if not 1 <= term <= MAX_TERM_MONTHS:
        raise ValidationError(
            {
                "term_months": ValidationError(
                    f"期限应为 1 至 {MAX_TERM_MONTHS} 个月。", code="bad_term"
                )
            }
        )
    return term


@transaction.atomic
def loan_issue(
    *,
    actor,
    fund: Fund,
    program,
    borrower: Person,
    principal,
    issued_on: datetime.date,
    term_months: int,
    purpose: str = "",
    form_token=None,
) -> Loan:
    """Lend `principal` from the loan fund to the borrower (the household is the borrower's):
    the loan, its schedule and the fund's expense, or nothing."""
    require(permissions.can_pay(actor), NOT_ALLOWED)
    node = borrower.placed_at()
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=Loan)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    if fund.kind != Fund.Kind.LOAN:
        raise ValidationError(
            {"fund": ValidationError("只能从贷款周转金发放贷款。", code="not_loan_fund")}
        )
    if program.kind != ProgramKind.LOAN:
        raise ValidationError(
            {"program": ValidationError("所选项目不是贷款类项目。", code="not_loan_program")}
        )
    if not program.is_active:
        raise ValidationError(
            {"program": ValidationError("所选项目已停用。", code="inactive_program")}
        )
    if borrower.household_id is None:
        raise ValidationError(
            {"borrower": ValidationError("借款人须属于某个家庭户。", code="no_household")}
        )
    if borrower.is_deceased:
        raise ValidationError({"borrower": ValidationError("借款人已去世。", code="deceased")})
    principal = money(principal, field="principal", label="本金")
    term = _check_term(term_months)
    check_entry_date(issued_on, field="issued_on")
    if principal < CENT * term:
        raise ValidationError(
            {"principal": ValidationError("本金过少:每期应还金额不足 0.01 元。", code="too_small")}
        )
    loan = Loan(
        program=program,
        fund=fund,
        borrower=borrower,
        household_id=borrower.household_id,
        principal=principal,
        issued_on=issued_on,
        term_months=term,
        purpose=(purpose or "").strip()[:200],
        created_by=actor,
    )
    loan.place_under(node)
    loan.full_clean(
        exclude=[
            *("county", "township", "village", "group"),
            *("program", "fund", "borrower", "household", "created_by"),
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    loan.save()
    installments = []
    for due_on, amount in installment_schedule(principal, issued_on, term):
        row = Installment(loan=loan, due_on=due_on, amount=amount)
        row.place_under(node)
        installments.append(row)
    Installment.objects.bulk_create(installments)
    record_change(
        actor=actor,
        node=node,
        obj=loan,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(loan, LOAN_FIELDS),
    )
    # The fund's expense: refused (and the loan with it) when the fund lacks the principal.
    entry = post_entry(
        actor=actor,
        fund=fund,
        direction=FundEntry.Direction.EXPENSE,
        source=FundEntry.Source.LOAN,
        amount=principal,
        entry_date=issued_on,
        description=f"{program.name}贷款发放(贷款编号 {loan.pk},期限 {term} 个月)"[:200],
        loan=loan,
    )
    record_entry(actor=actor, entry=entry)
    submissions.complete(token=form_token, obj=loan)
    return loan


def outstanding_of(loan: Loan) -> Decimal:
    """Principal less the repayments (a reversed repayment does not count)."""
    return loan.principal - repaid_total(loan=loan)


@transaction.atomic
def loan_repay(
    *,
    actor,
    loan: Loan,
    amount,
    paid_on: datetime.date,
    note: str = "",
    form_token=None,
) -> Repayment:
    """A repayment: it returns to the loan's fund as income naming it. Refused beyond the
    outstanding principal; the repayment that clears the loan marks it repaid."""
    require(permissions.can_pay(actor), NOT_ALLOWED)
    node = loan.placed_at()
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=Repayment)
    if earlier is not None:
        if earlier.loan_id != loan.pk:
            raise ValidationError(
                "这个幂等键已用于另一笔贷款的还款,请换一个。", code="idempotency_key_reused"
            )
        earlier.replayed = True
        return earlier
    # The loan row locked: two repayments of one loan queue here, and the second sees the
    # first's amount in the outstanding principal.
    locked = Loan.objects.select_for_update().select_related("fund").get(pk=loan.pk)
    if locked.status != Loan.Status.ACTIVE:
        raise ValidationError(
            f"该贷款{locked.get_status_display()},不能再登记还款。", code="closed"
        )
    amount = money(amount)
    check_entry_date(paid_on, field="paid_on")
    if paid_on < locked.issued_on:
        raise ValidationError(
            {"paid_on": ValidationError("还款日期早于放款日期。", code="before_issue")}
        )
    outstanding = outstanding_of(locked)
    if amount > outstanding:
        raise ValidationError(
            {
                "amount": ValidationError(
                    f"还款金额 {amount} 元超过未还本金 {outstanding} 元。", code="overpaid"
                )
            }
        )
    repayment = Repayment(
        loan=locked, paid_on=paid_on, amount=amount, note=(note or "").strip()[:200]
    )
    repayment.recorded_by = actor
    repayment.place_under(node)
    repayment.save()
    record_change(
        actor=actor,
        node=node,
        obj=repayment,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(repayment, REPAYMENT_FIELDS),
    )
    entry = post_entry(
        actor=actor,
        fund=locked.fund,
        direction=FundEntry.Direction.INCOME,
        source=FundEntry.Source.REPAYMENT,
        amount=amount,
        entry_date=paid_on,
        description=f"贷款回收(贷款编号 {locked.pk})",
        repayment=repayment,
        loan=locked,
    )
    record_entry(actor=actor, entry=entry)
    if amount == outstanding:
        _set_status(actor=actor, loan=locked, status=Loan.Status.REPAID)
    loan.status = locked.status
    submissions.complete(token=form_token, obj=repayment)
    return repayment


def _set_status(*, actor, loan: Loan, status: str) -> None:
    before = snapshot(loan, ["status"])
    loan.status = status
    Loan.objects.filter(pk=loan.pk).update(status=status)
    record_change(
        actor=actor,
        node=loan.placed_at(),
        obj=loan,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(loan, ["status"]),
    )


def loan_status_refresh(*, actor, loan: Loan) -> Loan:
    """After a repayment's reversal: a repaid loan with principal outstanding again is
    active again. (Called inside the reversing service's transaction.)"""
    with activate(county_scope(loan.county_id)):
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        outstanding = outstanding_of(locked)
        if locked.status == Loan.Status.REPAID and outstanding > 0:
            _set_status(actor=actor, loan=locked, status=Loan.Status.ACTIVE)
        elif locked.status == Loan.Status.ACTIVE and outstanding == 0:
            _set_status(actor=actor, loan=locked, status=Loan.Status.REPAID)
    return locked


# --- voiding a loan issued by mistake ---------------------------------------------------------


def _live_repayments_said(loan: Loan) -> str | None:
    """What the clerk must reverse first: the loan's repayments that still count."""
    rows = list(live_repayments(loan.county_id).filter(loan=loan).order_by("paid_on", "id"))
    if not rows:
        return None
    total = sum((row.amount for row in rows), start=Decimal("0.00"))
    days = "、".join(f"{row.paid_on:%Y-%m-%d}" for row in rows[:5])
    more = " 等" if len(rows) > 5 else ""
    return (
        f"该贷款已登记还款 {len(rows)} 笔,共 {total} 元({days}{more}),不能直接冲正:"
        "请先在还款记录中逐笔冲正这些还款,再冲正贷款。"
    )


@transaction.atomic
def loan_void(
    *, actor, loan: Loan, reason: str, voided_on: datetime.date | None = None
) -> FundEntry:
    """Void a loan issued by mistake: the reversing income of its issue (the principal back
    in the fund, naming the issue's expense and the loan), the loan marked voided with the
    date and reason. Refused while repayments of it count, and for a loan voided already.
    Returns the reversing entry."""
    require(permissions.can_pay(actor), NOT_ALLOWED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("请填写冲正原因。", code="required")})
    voided_on = voided_on or today()
    check_entry_date(voided_on, field="voided_on")
    with activate(county_scope(loan.county_id)):
        # The loan row locked: a second void, a repayment or a repayment's reversal of the
        # same loan queues here and then sees what this one did.
        locked = Loan.objects.select_for_update().select_related("fund").get(pk=loan.pk)
        if locked.status == Loan.Status.VOIDED:
            raise ValidationError(
                f"该贷款已于 {locked.voided_on:%Y-%m-%d} 冲正,不能重复冲正。", code="voided"
            )
        # A repaid loan has repayments that count: the clerk reverses them first.
        refused = _live_repayments_said(locked)
        if refused:
            raise ValidationError(refused, code="live_repayments")
        if locked.status != Loan.Status.ACTIVE:
            raise ValidationError(
                f"该贷款{locked.get_status_display()},不能冲正。", code="not_active"
            )
        if voided_on < locked.issued_on:
            raise ValidationError(
                {"voided_on": ValidationError("冲正日期不能早于放款日期。", code="too_early")}
            )
        issue = FundEntry.objects.select_for_update().get(
            loan=locked, source=FundEntry.Source.LOAN, direction=FundEntry.Direction.EXPENSE
        )
        refuse_overflow(locked.fund, issue.amount)
        reversal = post_entry(
            actor=actor,
            fund=locked.fund,
            direction=FundEntry.Direction.INCOME,
            source=FundEntry.Source.REVERSAL,
            amount=issue.amount,
            entry_date=voided_on,
            description=f"冲正:{issue.description}({reason})"[:200],
            reverses=issue,
            loan=locked,
        )
        record_entry(actor=actor, entry=reversal)
        before = snapshot(locked, VOID_FIELDS)
        locked.status = Loan.Status.VOIDED
        locked.voided_on = voided_on
        locked.void_reason = reason[:100]
        Loan.objects.filter(pk=locked.pk).update(
            status=locked.status, voided_on=locked.voided_on, void_reason=locked.void_reason
        )
        record_change(
            actor=actor,
            node=locked.placed_at(),
            obj=locked,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=snapshot(locked, VOID_FIELDS),
        )
    loan.status, loan.voided_on, loan.void_reason = (
        locked.status,
        locked.voided_on,
        locked.void_reason,
    )
    return reversal
