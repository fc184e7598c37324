"""Re-lending figures, reproducing seed 004 (丰宁县 幸福工程): "争取资金30万元,从生育关怀募捐款中
提出5万元作为补充,共投35万元,通过4次滚动使用,使270户贫困母亲实现了脱贫"."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from benefits import fund_services
from benefits.loan_selectors import relending_stats
from benefits.models import Fund, FundEntry
from tests.conftest import login

from .factories_funds import borrowers, income, issue, loan_program, make_fund, repay

pytestmark = pytest.mark.django_db

D = datetime.date


def test_seed_004_350000_yuan_used_4_times_reached_270_households(client, world):
    """By hand: capital 300,000 + 50,000 = 350,000 (a mistaken 1,000 of other income, reversed,
    counts for nothing). Round 1 (2022): 70 loans × 5,000 = 350,000, the fund is empty, a 71st
    is refused; all repaid. Rounds 2 (2023) and 3 (2024) the same, with 140 other households.
    Round 4 (2025): 50 × 5,000 + 10 × 10,000 = 350,000 to 60 more households, not yet repaid.
    Lent 1,400,000 to 270 households in 270 loans; 1,400,000 ÷ 350,000 = 4.0 rounds;
    repaid 3 × 350,000 = 1,050,000; outstanding 350,000; the fund holds 0."""
    a = world.a
    program = loan_program(a)
    fund = make_fund(a, "幸福工程周转金(丰宁)", Fund.Kind.LOAN)
    income(a, fund, "300000", day=D(2021, 12, 1), source=FundEntry.Source.GOVERNMENT)
    with a.scope():
        fund_services.fund_income_record(
            actor=a.users["county_admin"],
            fund=fund,
            source=FundEntry.Source.DONATION,
            amount=Decimal("50000"),
            entry_date=D(2021, 12, 5),
            description="从生育关怀募捐款中提出,作为补充",
            donor="生育关怀募捐款",
        )
    mistake = income(a, fund, "1000", day=D(2021, 12, 6))
    with a.scope():
        fund_services.fund_entry_reverse(
            actor=a.users["county_admin"],
            entry=mistake,
            reason="重复登记",
            entry_date=D(2021, 12, 7),
        )
    people = borrowers(a, 270)
    rounds = [people[0:70], people[70:140], people[140:210]]
    for year, group in zip((2022, 2023, 2024), rounds, strict=True):
        loans = [
            issue(a, fund, program, person, "5000", day=D(year, 1, 10), term=1) for person in group
        ]
        if year == 2022:
            with pytest.raises(ValidationError, match=r"余额不足:现有 0\.00 元"):
                issue(a, fund, program, people[-1], "5000", day=D(year, 1, 11), term=1)
        for loan in loans:
            repay(a, loan, "5000", day=D(year, 12, 20))
    last = people[210:270]
    for number, person in enumerate(last):
        issue(a, fund, program, person, "10000" if number < 10 else "5000", day=D(2025, 1, 10))

    with a.scope():
        [stats] = relending_stats(actor=a.users["county_viewer"], funds=[fund])
        balance = Fund.objects.get(pk=fund.pk).balance
    assert (stats.capital, stats.lent, stats.loans, stats.households) == (
        Decimal("350000.00"),
        Decimal("1400000.00"),
        270,
        270,
    )
    assert (stats.repaid, stats.outstanding, balance) == (
        Decimal("1050000.00"),
        Decimal("350000.00"),
        Decimal("0.00"),
    )
    assert stats.rounds == Decimal("4.0")
    assert stats.summary == "4.0 次, 270 户"

    login(client, a.users["township_staff"])  # every account of the county reads the figures
    page = client.get(reverse("fund-detail", kwargs={"pk": fund.pk})).content.decode()
    assert "滚动使用 4.0 次,扶持 270 户" in page
    assert "本金来源 350000.00 元,累计放款 1400000.00 元(270 笔)" in page
    listing = client.get(reverse("loan-list")).content.decode()
    row = listing.split("幸福工程周转金(丰宁)")[1].split("</tr>")[0]
    assert "4.0 次" in row and "270 户" in row


def test_a_household_borrowing_twice_is_reached_once_and_no_capital_means_no_rounds(world):
    a = world.a
    program = loan_program(a)
    fund = make_fund(a, "少生快富周转金", Fund.Kind.LOAN)
    income(a, fund, "3000")
    first = issue(a, fund, program, a.persons[3], "1000", term=1)
    repay(a, first, "1000")
    issue(a, fund, program, a.persons[3], "3000", term=1)  # the same household again
    issue_spouse = a.persons[2]  # the head of the same household
    income(a, fund, "500")
    issue(a, fund, program, issue_spouse, "500", term=1)
    with a.scope():
        [stats] = relending_stats(actor=a.users["county_admin"], funds=[fund])
        empty = make_fund(a, "空周转金", Fund.Kind.LOAN)
        [none] = relending_stats(actor=a.users["county_admin"], funds=[empty])
    # capital 3,500; lent 1,000 + 3,000 + 500 = 4,500; 4,500 ÷ 3,500 = 1.2857… → 1.3
    assert (stats.capital, stats.lent, stats.households, stats.rounds) == (
        Decimal("3500.00"),
        Decimal("4500.00"),
        1,
        Decimal("1.3"),
    )
    assert none.rounds is None and none.summary == "— 次, 0 户"
