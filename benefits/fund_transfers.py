"""Transfers between two funds of a county (基金划拨), e.g. from the 生育关怀基金 to a loan fund.

A transfer is two ledger entries in one transaction: an expense of the source fund and an
income of the target fund, same amount and date, source 'transfer', each naming the other
(`counterpart`). An entry is never updated, so both ids are drawn from the ledger's sequence
before either is inserted; the database checks the pairing's keys at commit.

Both fund rows are locked in id order before anything is posted, so two transfers running
opposite ways (A → B and B → A) queue on the same first row instead of deadlocking. The
source's balance never goes below zero (the ledger refuses it with a Chinese message); the
target's never past what a money column holds.

Reversing either entry reverses the transfer as a whole (fund_transfer_reverse): an income
back on the source and an expense on the target, each naming the entry it reverses. It is
refused when the target no longer holds the money (it was spent since)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from associations import submissions
from associations.bulk import assign_ids
from associations.permissions import require
from associations.scope import activate

from . import permissions
from .fund_services import (
    MAX_MONEY,
    NOT_ALLOWED_ENTRIES,
    check_entry_date,
    county_node,
    money,
    record_entry,
)
from .ledger import post_entry
from .models import Fund, FundEntry
from .selectors import county_scope

OVERDRAWN_TRANSFER = "基金“{fund}”余额不足:现有 {balance} 元,本次划出 {amount} 元。"
NOT_THE_SAME = "划入基金不能与划出基金相同。"
OTHER_COUNTY = "只能在本县的基金之间划拨。"


def _draw_entry_ids(count: int) -> list[int]:
    """Ids for entries about to be inserted, from the ledger table's own sequence."""
    drawn = [FundEntry() for _ in range(count)]
    assign_ids(FundEntry, drawn)
    return [entry.pk for entry in drawn]


def _lock_in_id_order(*funds: Fund) -> dict[int, Fund]:
    """The funds' rows locked one by one, lowest id first (see the module's note)."""
    locked = {}
    for pk in sorted({fund.pk for fund in funds}):
        locked[pk] = Fund.objects.select_for_update().get(pk=pk)
    return locked


def _refuse_target_overflow(target: Fund, amount) -> None:
    if target.balance + amount > MAX_MONEY:
        raise ValidationError(
            {
                "amount": ValidationError(
                    f"划入后“{target.name}”的余额将超出可记录的范围。", code="too_large"
                )
            }
        )


def _target_in_county(source: Fund, target: Fund | None) -> Fund:
    if target is None or target.county_id != source.county_id:
        raise ValidationError({"target": ValidationError(OTHER_COUNTY, code="other_county")})
    if target.pk == source.pk:
        raise ValidationError({"target": ValidationError(NOT_THE_SAME, code="same_fund")})
    found = Fund.objects.filter(pk=target.pk).first()  # under the source's county scope
    if found is None:
        raise ValidationError({"target": ValidationError(OTHER_COUNTY, code="other_county")})
    return found


def with_counterpart(entry: FundEntry) -> FundEntry:
    """The entry with `counterpart` (and its fund) read, under the entry's county scope."""
    with activate(county_scope(entry.county_id)):
        entry.counterpart = (
            FundEntry.objects.select_related("fund").filter(pk=entry.counterpart_id).first()
        )
    return entry


@transaction.atomic
def fund_transfer(
    *,
    actor,
    source: Fund,
    target: Fund,
    amount,
    entry_date: datetime.date,
    description: str = "",
    form_token=None,
) -> FundEntry:
    """Move `amount` from `source` to `target` (two entries naming each other). Returns the
    source's expense, with `counterpart` the target's income."""
    require(permissions.can_pay(actor), NOT_ALLOWED_ENTRIES)
    with activate(county_scope(source.county_id)):
        earlier = submissions.claim(
            actor=actor, token=form_token, node=county_node(source.county_id), model=FundEntry
        )
        if earlier is not None:
            if earlier.source != FundEntry.Source.TRANSFER or earlier.fund_id != source.pk:
                raise ValidationError(
                    "这个幂等键已用于另一笔记账,请换一个。", code="idempotency_key_reused"
                )
            earlier.replayed = True
            return with_counterpart(earlier)
        target = _target_in_county(source, target)
        amount = money(amount)
        check_entry_date(entry_date)
        note = (description or "").strip()
        locked = _lock_in_id_order(source, target)
        source, target = locked[source.pk], locked[target.pk]
        if source.balance < amount:
            raise ValidationError(
                {
                    "amount": ValidationError(
                        OVERDRAWN_TRANSFER.format(
                            fund=source.name, balance=source.balance, amount=amount
                        ),
                        code="overdrawn",
                    )
                }
            )
        _refuse_target_overflow(target, amount)
        expense_id, income_id = _draw_entry_ids(2)
        suffix = f":{note}" if note else ""
        expense = post_entry(
            actor=actor,
            fund=source,
            direction=FundEntry.Direction.EXPENSE,
            source=FundEntry.Source.TRANSFER,
            amount=amount,
            entry_date=entry_date,
            description=f"划拨至“{target.name}”{suffix}"[:200],
            id=expense_id,
            counterpart_id=income_id,
        )
        income = post_entry(
            actor=actor,
            fund=target,
            direction=FundEntry.Direction.INCOME,
            source=FundEntry.Source.TRANSFER,
            amount=amount,
            entry_date=entry_date,
            description=f"由“{source.name}”划入{suffix}"[:200],
            id=income_id,
            counterpart=expense,
        )
        record_entry(actor=actor, entry=expense)
        record_entry(actor=actor, entry=income)
        submissions.complete(token=form_token, obj=expense)
    expense.counterpart = income
    return expense


@transaction.atomic
def fund_transfer_reverse(
    *, actor, entry: FundEntry, reason: str, entry_date: datetime.date
) -> FundEntry:
    """Reverse a whole transfer, whichever of its two entries is named: the money goes back
    from the target to the source. Called by fund_entry_reverse (which checked the actor,
    the reason and the date); returns the reversal of `entry`, with `other_reversal` the
    reversal of its counterpart."""
    with activate(county_scope(entry.county_id)):
        # Both entries locked, lowest id first: reversing the two sides of one transfer at
        # once queues here, and the second sees the first's reversing entries.
        pair = {
            row.pk: row
            for row in FundEntry.objects.select_for_update()
            .filter(pk__in=[entry.pk, entry.counterpart_id])
            .order_by("pk")
        }
        original, other = pair[entry.pk], pair[entry.counterpart_id]
        if FundEntry.objects.filter(reverses__in=[original.pk, other.pk]).exists():
            raise ValidationError("这笔划拨已经冲正过,不能重复冲正。", code="reversed")
        if entry_date < original.entry_date:
            raise ValidationError(
                {"entry_date": ValidationError("冲正日期不能早于原记录日期。", code="too_early")}
            )
        expense, income = (
            (original, other)
            if original.direction == FundEntry.Direction.EXPENSE
            else (other, original)
        )
        locked = _lock_in_id_order(Fund(pk=expense.fund_id), Fund(pk=income.fund_id))
        source, target = locked[expense.fund_id], locked[income.fund_id]
        if target.balance < income.amount:
            raise ValidationError(
                f"“{target.name}”现有余额 {target.balance} 元,已不足划入的 {income.amount} 元"
                "(划入的钱已经用出),不能冲正这笔划拨。",
                code="overdrawn",
            )
        _refuse_target_overflow(source, expense.amount)
        reversals = {}
        for row, fund, direction in (
            (income, target, FundEntry.Direction.EXPENSE),
            (expense, source, FundEntry.Direction.INCOME),
        ):
            reversals[row.pk] = post_entry(
                actor=actor,
                fund=fund,
                direction=direction,
                source=FundEntry.Source.REVERSAL,
                amount=row.amount,
                entry_date=entry_date,
                description=f"冲正划拨:{row.description}({reason})"[:200],
                reverses=row,
            )
            record_entry(actor=actor, entry=reversals[row.pk])
    reversal = reversals[original.pk]
    reversal.other_reversal = reversals[other.pk]
    return reversal
