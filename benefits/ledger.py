"""Posting to a fund's ledger: the one way money enters or leaves a fund.

The database keeps the rules (migration 0002): the insert moves the fund's balance in the same
statement, a CHECK refuses a negative balance, entries are never updated or deleted. Posting
locks the fund row first so that concurrent expenses queue on it and each sees the balance the
previous one left; the CHECK still holds if some other path forgets to lock. A refused expense
becomes a ValidationError in Chinese, and the caller's transaction rolls back whatever the
expense paid for."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from associations.scope import activate

from .models import Fund, FundEntry
from .selectors import county_scope

OVERDRAWN = "基金“{fund}”余额不足:现有 {balance} 元,本次支出 {amount} 元。"


def _overdrawn(error: IntegrityError) -> bool:
    return "fund_balance_not_negative" in str(error)


@transaction.atomic
def post_entry(
    *,
    actor,
    fund: Fund,
    direction: str,
    source: str,
    amount: Decimal,
    entry_date: datetime.date,
    description: str,
    **links,
) -> FundEntry:
    """Append one entry; ``links`` name what an expense paid for (disbursement, batch, loan,
    assistance, reverses, counterpart) or where an income came from (repayment, donor,
    counterpart). A transfer's two entries pass their drawn ``id`` too (benefits.fund_transfers)."""
    with activate(county_scope(fund.county_id)):
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        entry = FundEntry(
            fund=locked,
            direction=direction,
            source=source,
            amount=Decimal(amount),
            entry_date=entry_date,
            description=description,
            recorded_by=actor,
            **links,
        )
        entry.county_id = locked.county_id
        # A transfer's first entry names its counterpart by the id drawn for it: that row is
        # inserted just after, in the same transaction, and the database checks the key (and
        # the constraints naming it) then, not full_clean now.
        pending = ["counterpart"] if "counterpart_id" in links else []
        entry.full_clean(exclude=["balance_after", *pending])
        if direction == FundEntry.Direction.EXPENSE and locked.balance < entry.amount:
            raise ValidationError(
                OVERDRAWN.format(fund=locked.name, balance=locked.balance, amount=entry.amount)
            )
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError as error:
            if not _overdrawn(error):
                raise
            locked.refresh_from_db(fields=["balance"])
            raise ValidationError(
                OVERDRAWN.format(fund=locked.name, balance=locked.balance, amount=entry.amount)
            ) from error
        # The trigger computed the balance after this entry; read it back for the caller.
        entry.refresh_from_db(fields=["balance_after"])
        fund.balance = entry.balance_after
        return entry
