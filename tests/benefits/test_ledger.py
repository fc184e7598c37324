"""The fund ledger's rules, kept by the database (benefits migration 0002) and by
benefits.ledger.post_entry: the balance follows the entries, never goes below zero, entries are
never edited or deleted, and a balance is never set by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from benefits.ledger import post_entry
from benefits.models import Fund, FundEntry
from households.models import AssistanceKind, AssistanceRecord

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def fund(world):
    with world.a.scope():
        return Fund.objects.create(county=world.a.county, name="生育关怀基金", kind=Fund.Kind.CARE)


def _income(world, fund, amount):
    return post_entry(
        actor=world.a.users["county_admin"],
        fund=fund,
        direction=FundEntry.Direction.INCOME,
        source=FundEntry.Source.GOVERNMENT,
        amount=Decimal(amount),
        entry_date=DAY,
        description="按人口每人 2 元拨入",
    )


def _assistance(world):
    household = world.a.households[0]
    record = AssistanceRecord(
        household=household,
        kind=AssistanceKind.RELIEF,
        given_on=DAY,
        amount=Decimal("300"),
        given_by="县计生协",
    )
    record.place_under(household.group or household.village)
    record.save()
    return record


def _expense(world, fund, amount, record):
    return post_entry(
        actor=world.a.users["county_admin"],
        fund=fund,
        direction=FundEntry.Direction.EXPENSE,
        source=FundEntry.Source.ASSISTANCE,
        amount=Decimal(amount),
        entry_date=DAY,
        description="困难家庭救助",
        assistance=record,
    )


def test_entries_move_the_balance_and_record_it(world, fund):
    with world.a.scope():
        first = _income(world, fund, "1000.00")
        second = _expense(world, fund, "300.00", _assistance(world))
        assert (first.balance_after, second.balance_after) == (
            Decimal("1000.00"),
            Decimal("700.00"),
        )
        assert Fund.objects.get(pk=fund.pk).balance == Decimal("700.00")


def test_an_expense_beyond_the_balance_is_refused_in_chinese_and_leaves_nothing(world, fund):
    with world.a.scope():
        _income(world, fund, "100.00")
        with pytest.raises(ValidationError, match="余额不足"):
            _expense(world, fund, "100.01", _assistance(world))
        assert FundEntry.objects.filter(fund=fund).count() == 1
        assert Fund.objects.get(pk=fund.pk).balance == Decimal("100.00")


def test_the_database_refuses_an_overdraft_that_skips_the_service(world, fund):
    with world.a.scope():
        entry = FundEntry(
            fund=fund,
            direction="expense",
            source="assistance",
            amount=Decimal("1"),
            entry_date=DAY,
            description="绕过服务",
            assistance=_assistance(world),
            recorded_by=world.a.users["county_admin"],
        )
        entry.county_id = fund.county_id
        with pytest.raises(IntegrityError, match="fund_balance_not_negative"), transaction.atomic():
            entry.save()


def test_an_expense_must_name_what_it_paid(world, fund):
    with world.a.scope():
        _income(world, fund, "50")
        with pytest.raises(ValidationError):
            post_entry(
                actor=world.a.users["county_admin"],
                fund=fund,
                direction="expense",
                source="other",
                amount=Decimal("10"),
                entry_date=DAY,
                description="无凭据支出",
            )


def test_entries_are_never_updated_or_deleted(world, fund):
    with world.a.scope():
        entry = _income(world, fund, "10")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            FundEntry.objects.filter(pk=entry.pk).update(amount=Decimal("20"))
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            FundEntry.objects.filter(pk=entry.pk).delete()


def test_a_balance_is_never_set_by_hand(world, fund):
    with world.a.scope():
        _income(world, fund, "10")
        with pytest.raises(IntegrityError, match="only through ledger"), transaction.atomic():
            Fund.objects.filter(pk=fund.pk).update(balance=Decimal("999"))
        Fund.objects.filter(pk=fund.pk).update(name="生育关怀基金(县)")  # other fields may change
