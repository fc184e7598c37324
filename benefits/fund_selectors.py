"""Scoped reads of funds and their ledgers.

Funds sit at the county node and every account of the county reads them (their name, kind,
balance, totals and, for a loan fund, its re-lending figures): they are read under the
county's scope of the actor (benefits.selectors). The ledger's entries say what each expense
paid for, which names households and borrowers of every village; they are read through the
actor's own scope, so only the county's accounts (admin and viewer) see them, and another
county's entry, or any entry for an account below the county, is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from associations.models import Level
from associations.scope import activate

from .fund_filters import FundEntryFilter
from .models import Fund, FundEntry
from .selectors import county_scope

ZERO = Decimal("0.00")


def reads_ledger(user) -> bool:
    """The ledger's entries: the county's own accounts."""
    return user.node_level == Level.COUNTY


@dataclass
class Totals:
    income: Decimal = ZERO
    expense: Decimal = ZERO
    entries: int = 0


def _totals(queryset: QuerySet) -> dict[int, Totals]:
    rows = (
        queryset.order_by()
        .values("fund_id")
        .annotate(
            income=Sum("amount", filter=Q(direction=FundEntry.Direction.INCOME)),
            expense=Sum("amount", filter=Q(direction=FundEntry.Direction.EXPENSE)),
            entries=Count("id"),
        )
    )
    return {
        row["fund_id"]: Totals(row["income"] or ZERO, row["expense"] or ZERO, row["entries"] or 0)
        for row in rows
    }


def fund_rows(*, actor) -> list[Fund]:
    """The county's funds, each with `totals` (income, expense, entry count): two queries."""
    with activate(county_scope(actor.county_id)):
        funds = list(Fund.objects.order_by("kind", "id"))
        totals = _totals(FundEntry.objects.all())
    for fund in funds:
        fund.totals = totals.get(fund.pk, Totals())
    return funds


def fund_totals(*, fund: Fund, filters: dict | None = None) -> Totals:
    """Income and expense of the fund's entries that match the ledger's filters."""
    with activate(county_scope(fund.county_id)):
        entries = FundEntry.objects.filter(fund=fund)
        if filters is not None:
            entries = FundEntryFilter(filters, queryset=entries).qs
        return _totals(entries).get(fund.pk, Totals())


def entry_rows(*, actor, fund: Fund | None = None, filters: dict | None = None) -> QuerySet:
    """Ledger entries in the actor's scope (none below the county), newest posting first,
    with what a row of the ledger shows."""
    entries = FundEntry.objects.select_related(
        "fund",
        "recorded_by",
        "reverses",
        "reversed_by",
        "assistance",
        "repayment",
        "counterpart__fund",
    ).order_by("-id")
    if fund is not None:
        entries = entries.filter(fund=fund)
    if filters is not None:
        entries = FundEntryFilter(filters, queryset=entries).qs
    return entries


def entry_get(*, actor, pk) -> FundEntry:
    try:
        return entry_rows(actor=actor).get(pk=pk)
    except (FundEntry.DoesNotExist, ValueError, TypeError):
        raise Http404("没有这笔收支记录。") from None


def reversal_of(entry: FundEntry) -> FundEntry | None:
    try:
        return entry.reversed_by
    except FundEntry.DoesNotExist:
        return None
