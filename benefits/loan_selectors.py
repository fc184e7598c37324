"""Scoped reads of loans: the list with what is outstanding and overdue, one loan with its
schedule, the overdue list of a date, and the re-lending figures of the loan funds.

Loans, installments and repayments sit at the borrower's village (and group) and are read
through the actor's own scope: a sibling village's loan is a 404. The fund ledger sits at the
county node; the one thing loans ask of it, which repayments were reversed, is read under the
county's scope of the actor. Every figure is set-based: a handful of queries for a whole
county, never one per loan.

Definitions (the pages say them too):
- repaid: the sum of a loan's repayments, less any reversed in the ledger; outstanding
  (未还本金) = principal − repaid; a voided loan (已冲正, issued by mistake) owes nothing
  and counts in no figure below.
- overdue on a day D: the installments due before D add up to more than what was repaid up
  to and including D; the amount overdue is the difference, and the days overdue count from
  the due date of the oldest installment the repayments do not cover.
- re-lending (滚动使用): capital is the fund's income other than repayments (less reversed
  income), less what it transferred to other funds (less reversed transfers); lent is the
  principal of every loan it issued, voided loans left out; times the money has gone round
  = lent ÷ capital, to one decimal; households reached = distinct borrowing households."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from associations.scope import activate

from .models import Fund, FundEntry, Installment, Loan, Repayment
from .selectors import county_scope

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def reversed_repayment_ids(county_id: int) -> QuerySet:
    """The ids of the county's repayments whose ledger income was reversed (a subquery)."""
    with activate(county_scope(county_id)):
        return FundEntry.objects.filter(
            source=FundEntry.Source.REPAYMENT,
            repayment__isnull=False,
            reversed_by__isnull=False,
        ).values("repayment_id")


def live_repayments(county_id: int) -> QuerySet[Repayment]:
    """Repayments in the current scope that count: not reversed."""
    return Repayment.objects.exclude(pk__in=reversed_repayment_ids(county_id))


def _sum_per_loan(queryset: QuerySet, field: str = "amount"):
    """Subquery: the sum of `field` of the rows of OuterRef('pk')'s loan, 0 without rows."""
    total = (
        queryset.filter(loan=OuterRef("pk"))
        .order_by()
        .values("loan")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


def repaid_total(*, loan: Loan) -> Decimal:
    total = live_repayments(loan.county_id).filter(loan=loan).aggregate(total=Sum("amount"))
    return total["total"] or ZERO


def loan_rows(*, actor, on: datetime.date | None = None) -> QuerySet[Loan]:
    """Loans of the actor's subtree with `repaid`, `outstanding`, `due_to_date` (installments
    due before `on`), `repaid_to_date` (repaid up to and including `on`) and `overdue_amount`
    annotated (`on`: today)."""
    on = on or timezone.localdate()
    live = live_repayments(actor.county_id)
    due = Installment.objects.filter(due_on__lt=on)
    rows = (
        Loan.objects.select_related("borrower", "household", "village", "fund", "program")
        .annotate(
            repaid=_sum_per_loan(live),
            due_to_date=_sum_per_loan(due),
            repaid_to_date=_sum_per_loan(live.filter(paid_on__lte=on)),
        )
        .annotate(
            outstanding=Case(
                When(status=Loan.Status.VOIDED, then=Value(ZERO)),
                default=F("principal") - F("repaid"),
                output_field=MONEY_FIELD,
            ),
            overdue_amount=Case(
                When(
                    status=Loan.Status.ACTIVE,
                    due_to_date__gt=F("repaid_to_date"),
                    then=F("due_to_date") - F("repaid_to_date"),
                ),
                default=Value(ZERO),
                output_field=MONEY_FIELD,
            ),
        )
    )
    return rows.order_by("-issued_on", "-id")


def loan_get(*, actor, pk) -> Loan:
    try:
        return loan_rows(actor=actor).get(pk=pk)
    except (Loan.DoesNotExist, ValueError, TypeError):
        raise Http404("没有这笔贷款。") from None


@dataclass
class ScheduleRow:
    number: int
    due_on: datetime.date
    amount: Decimal
    cumulative: Decimal
    state: str  # 已还 / 部分已还 / 逾期 / 未到期 / 已冲正


def schedule(*, loan: Loan, on: datetime.date | None = None) -> list[ScheduleRow]:
    """The loan's installments with their cumulative amount, each marked by what the
    repayments (`loan.repaid`, annotated by loan_rows) cover."""
    on = on or timezone.localdate()
    repaid = getattr(loan, "repaid", None)
    if repaid is None:
        repaid = repaid_total(loan=loan)
    rows, cumulative = [], ZERO
    for number, installment in enumerate(loan.installments.order_by("due_on", "id"), start=1):
        before = cumulative
        cumulative += installment.amount
        if loan.status == Loan.Status.VOIDED:
            state = "已冲正"
        elif cumulative <= repaid:
            state = "已还"
        elif installment.due_on < on and loan.status == Loan.Status.ACTIVE:
            state = "逾期" if before >= repaid else "部分已还,逾期"
        else:
            state = "部分已还" if before < repaid else "未到期"
        rows.append(ScheduleRow(number, installment.due_on, installment.amount, cumulative, state))
    return rows


def repayments_of(*, loan: Loan) -> list[Repayment]:
    """The loan's repayments, each with `entry` (its ledger income) and `reversed`."""
    repayments = list(loan.repayments.order_by("paid_on", "id"))
    with activate(county_scope(loan.county_id)):
        entries = {
            entry.repayment_id: entry
            for entry in FundEntry.objects.filter(
                repayment__in=[r.pk for r in repayments], source=FundEntry.Source.REPAYMENT
            ).select_related("reversed_by")
        }
    for repayment in repayments:
        repayment.entry = entries.get(repayment.pk)
        repayment.reversed = bool(
            repayment.entry and getattr(repayment.entry, "reversed_by", None) is not None
        )
    return repayments


# --- overdue ---------------------------------------------------------------------------------


@dataclass
class OverdueRow:
    loan: Loan
    due_to_date: Decimal
    repaid_to_date: Decimal
    amount_overdue: Decimal
    oldest_due_on: datetime.date
    days_overdue: int


def overdue_list(*, actor, on: datetime.date) -> list[OverdueRow]:
    """Active loans of the actor's subtree overdue on `on`, the longest overdue first. Two
    queries: the installments not covered (a running sum per loan against the repayments up
    to the day), then their loans."""
    live = live_repayments(actor.county_id).filter(paid_on__lte=on)
    repaid = (
        live.filter(loan=OuterRef("loan_id"))
        .order_by()
        .values("loan")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    uncovered = (
        Installment.objects.filter(due_on__lt=on, loan__status=Loan.Status.ACTIVE)
        .annotate(
            cumulative=Window(
                Sum("amount"),
                partition_by=[F("loan_id")],
                order_by=[F("due_on").asc(), F("id").asc()],
            ),
            repaid=Coalesce(
                Subquery(repaid, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
            ),
        )
        .filter(cumulative__gt=F("repaid"))
        .values_list("loan_id", "due_on", "cumulative", "repaid")
    )
    by_loan: dict[int, list] = {}
    for loan_id, due_on, cumulative, repaid_to_date in uncovered:
        row = by_loan.get(loan_id)
        if row is None:
            by_loan[loan_id] = [due_on, cumulative, repaid_to_date]
        else:
            row[0] = min(row[0], due_on)
            row[1] = max(row[1], cumulative)
    loans = {loan.pk: loan for loan in loan_rows(actor=actor, on=on).filter(pk__in=list(by_loan))}
    rows = [
        OverdueRow(
            loan=loans[loan_id],
            due_to_date=due_total,
            repaid_to_date=repaid_to_date,
            amount_overdue=due_total - repaid_to_date,
            oldest_due_on=oldest,
            days_overdue=(on - oldest).days,
        )
        for loan_id, (oldest, due_total, repaid_to_date) in by_loan.items()
        if loan_id in loans
    ]
    rows.sort(key=lambda row: (-row.days_overdue, row.loan.pk))
    return rows


# --- re-lending ------------------------------------------------------------------------------


@dataclass
class RelendingStats:
    fund: Fund
    capital: Decimal
    lent: Decimal
    loans: int
    households: int
    repaid: Decimal
    outstanding: Decimal

    @property
    def rounds(self) -> Decimal | None:
        """Times the money has gone round (滚动次数): lent ÷ capital, to one decimal."""
        if self.capital <= 0:
            return None
        return (self.lent / self.capital).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def summary(self) -> str:
        rounds = "—" if self.rounds is None else f"{self.rounds}"
        return f"{rounds} 次, {self.households} 户"


def relending_stats(*, actor, funds: Iterable[Fund] | None = None) -> list[RelendingStats]:
    """The re-lending figures of the county's loan funds (or of `funds`): three queries."""
    with activate(county_scope(actor.county_id)):
        if funds is None:
            funds = Fund.objects.filter(kind=Fund.Kind.LOAN).order_by("id")
        funds = [fund for fund in funds if fund.kind == Fund.Kind.LOAN]
        ids = [fund.pk for fund in funds]
        income = Q(direction=FundEntry.Direction.INCOME)
        expense = Q(direction=FundEntry.Direction.EXPENSE)
        reversal = Q(source=FundEntry.Source.REVERSAL)
        repayment = Q(source=FundEntry.Source.REPAYMENT)
        transfer = Q(source=FundEntry.Source.TRANSFER)
        ledger = {
            row["fund_id"]: row
            for row in FundEntry.objects.filter(fund__in=ids)
            .order_by()
            .values("fund_id")
            .annotate(
                capital_in=Sum("amount", filter=income & ~repayment & ~reversal),
                capital_out=Sum(
                    "amount",
                    filter=reversal
                    & Q(reverses__direction=FundEntry.Direction.INCOME)
                    & ~Q(reverses__source=FundEntry.Source.REPAYMENT),
                ),
                transferred_out=Sum("amount", filter=expense & transfer),
                transfer_out_reversed=Sum(
                    "amount",
                    filter=reversal
                    & Q(reverses__direction=FundEntry.Direction.EXPENSE)
                    & Q(reverses__source=FundEntry.Source.TRANSFER),
                ),
                repaid_in=Sum("amount", filter=income & repayment),
                repaid_out=Sum("amount", filter=reversal & Q(reverses__source="repayment")),
            )
        }
        lending = {
            row["fund_id"]: row
            for row in Loan.objects.filter(fund__in=ids)
            .exclude(status=Loan.Status.VOIDED)
            .order_by()
            .values("fund_id")
            .annotate(
                lent=Sum("principal"),
                loans=Count("id"),
                households=Count("household_id", distinct=True),
            )
        }
    stats = []
    for fund in funds:
        money_row = ledger.get(fund.pk, {})
        loan_row = lending.get(fund.pk, {})
        capital = (
            (money_row.get("capital_in") or ZERO)
            - (money_row.get("capital_out") or ZERO)
            - (money_row.get("transferred_out") or ZERO)
            + (money_row.get("transfer_out_reversed") or ZERO)
        )
        repaid = (money_row.get("repaid_in") or ZERO) - (money_row.get("repaid_out") or ZERO)
        lent = loan_row.get("lent") or ZERO
        stats.append(
            RelendingStats(
                fund=fund,
                capital=capital,
                lent=lent,
                loans=loan_row.get("loans") or 0,
                households=loan_row.get("households") or 0,
                repaid=repaid,
                outstanding=lent - repaid,
            )
        )
    return stats
