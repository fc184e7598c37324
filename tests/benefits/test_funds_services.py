"""Fund services: funds, income (per head of population, named donations, other), expenses
for assistance records, reversing entries; balances worked out by hand, permissions per role,
change records, one-time tokens."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from associations.models import ChangeRecord
from benefits import fund_services
from benefits.fund_selectors import fund_rows, fund_totals
from benefits.models import Fund, FundEntry
from households import services as household_services
from households.models import Person
from tests.conftest import make_id_number

from .factories_funds import DAY, assistance_record, income, make_fund

pytestmark = pytest.mark.django_db

NOT_ADMIN = ["county_viewer", "township_staff", "village_secretary", "group_leader"]


def _entries(world, fund):
    with world.a.scope():
        return list(FundEntry.objects.filter(fund=fund).order_by("id"))


def _balance(world, fund) -> Decimal:
    with world.a.scope():
        return Fund.objects.get(pk=fund.pk).balance


# --- funds -------------------------------------------------------------------------------------


def test_a_fund_is_created_at_the_county_node_and_recorded(world):
    fund = make_fund(world.a, "关爱女孩冠名基金", Fund.Kind.NAMED, donor="某某集团")
    assert (fund.county_id, fund.township_id, fund.village_id) == (world.a.county.pk, None, None)
    assert fund.balance == Decimal("0")
    with world.a.scope():
        record = ChangeRecord.objects.get(object_type="benefits.Fund", object_id=fund.pk)
    assert record.action == "create" and record.after["donor"] == "某某集团"


def test_a_named_fund_needs_its_donor_and_names_are_unique_in_the_county(world):
    with pytest.raises(ValidationError) as error:
        make_fund(world.a, "冠名基金甲", Fund.Kind.NAMED)
    assert "冠名基金须填写冠名单位" in str(error.value)
    make_fund(world.a, "生育关怀基金")
    with pytest.raises(ValidationError, match="本县已有名为“生育关怀基金”的基金"):
        make_fund(world.a, "生育关怀基金")
    make_fund(world.b, "生育关怀基金")  # another county may use the name


def test_renaming_keeps_the_money_and_is_recorded(world):
    fund = make_fund(world.a, "旧名基金")
    income(world.a, fund, "10.00")
    with world.a.scope():
        fund_services.fund_update(
            actor=world.a.users["county_admin"], fund=fund, name="新名基金", donor=""
        )
        fresh = Fund.objects.get(pk=fund.pk)
        assert (fresh.name, fresh.balance) == ("新名基金", Decimal("10.00"))
        update = ChangeRecord.objects.get(
            object_id=fund.pk, object_type="benefits.Fund", action="update"
        )
    assert (update.before["name"], update.after["name"]) == ("旧名基金", "新名基金")


# --- income ------------------------------------------------------------------------------------


def test_income_and_expenses_keep_a_running_balance_worked_by_hand(world):
    fund = make_fund(world.a, "生育关怀基金")
    record = assistance_record(world.a, 1, "300.00")
    a = income(world.a, fund, "1000.00")
    b = income(world.a, fund, "250.50", source=FundEntry.Source.DONATION)
    with world.a.scope():
        c = fund_services.fund_assistance_expense(
            actor=world.a.users["county_admin"], fund=fund, assistance=record, entry_date=DAY
        )
    # 1000.00 + 250.50 = 1250.50; − 300.00 = 950.50
    assert [e.balance_after for e in (a, b, c)] == [
        Decimal("1000.00"),
        Decimal("1250.50"),
        Decimal("950.50"),
    ]
    assert _balance(world, fund) == Decimal("950.50")
    totals = fund_totals(fund=fund)
    assert (totals.income, totals.expense, totals.entries) == (
        Decimal("1250.50"),
        Decimal("300.00"),
        3,
    )
    listed = {f.pk: f for f in fund_rows(actor=world.a.users["county_viewer"])}
    assert listed[fund.pk].totals.income == Decimal("1250.50")


def test_a_donation_names_its_donor(world):
    fund = make_fund(world.a, "冠名基金乙", Fund.Kind.NAMED, donor="兰天集团")
    admin = world.a.users["county_admin"]
    with world.a.scope():
        with pytest.raises(ValidationError, match="请填写捐赠单位或个人"):
            fund_services.fund_income_record(
                actor=admin,
                fund=fund,
                source="donation",
                amount="100",
                entry_date=DAY,
                description="",
            )
        entry = fund_services.fund_income_record(
            actor=admin, fund=fund, source="donation", amount="3296.20", entry_date=DAY,
            description="", donor="兰天集团",
        )  # fmt: skip
    assert (entry.donor, entry.description, entry.amount) == (
        "兰天集团",
        "兰天集团捐赠",
        Decimal("3296.20"),
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "金额应大于 0 元"),
        ("-5", "金额应大于 0 元"),
        ("1.005", "最多保留两位小数"),
        ("abc", "金额应为数字"),
        ("NaN", "金额应大于 0 元"),
        ("10000000000", "超出可登记的范围"),
    ],
)
def test_bad_amounts_are_refused_in_chinese(world, amount, message):
    fund = make_fund(world.a, "生育关怀基金")
    with world.a.scope(), pytest.raises(ValidationError, match=message):
        fund_services.fund_income_record(
            actor=world.a.users["county_admin"], fund=fund, source="other", amount=amount,
            entry_date=DAY, description="测试",
        )  # fmt: skip
    assert _entries(world, fund) == []


def test_a_future_date_and_an_unknown_source_are_refused(world):
    fund = make_fund(world.a, "生育关怀基金")
    admin = world.a.users["county_admin"]
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with world.a.scope():
        with pytest.raises(ValidationError, match="日期晚于今天"):
            fund_services.fund_income_record(
                actor=admin,
                fund=fund,
                source="other",
                amount="1",
                entry_date=tomorrow,
                description="x",
            )
        with pytest.raises(ValidationError, match="收入类别有误"):
            fund_services.fund_income_record(
                actor=admin,
                fund=fund,
                source="repayment",
                amount="1",
                entry_date=DAY,
                description="x",
            )


def test_government_money_per_head_counts_the_resident_population(world):
    """County A has 8 persons (4 households of two), all 户籍常住 and alive. Add one 流入
    person (counted), one 流出 person and one who died before the day (not counted):
    population 9; 9 × 2.00 = 18.00."""
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        for number, (residency, died) in enumerate(
            [("inflow", None), ("outflow", None), ("registered", datetime.date(2026, 1, 5))]
        ):
            person = household_services.person_create(
                actor=admin,
                village=a.villages[1],
                name=f"统计{number}",
                id_number=make_id_number("130534", datetime.date(1990, 3, 1), 70 + number, "male"),
                residency=residency,
            )
            if died:
                Person.objects.filter(pk=person.pk).update(is_deceased=True, died_on=died)
        fund = make_fund(a, "生育关怀基金")
        entry = fund_services.fund_government_income(
            actor=admin, fund=fund, rate=Decimal("2"), entry_date=DAY
        )
    assert entry.amount == Decimal("18.00")
    assert entry.source == "government"
    assert "2026-03-02常住人口 9 人 × 每人 2.00 元" in entry.description
    # Before the death the deceased counts: on 2026-01-01 the population is 10.
    with a.scope():
        earlier = fund_services.fund_government_income(
            actor=admin, fund=fund, rate=Decimal("0.50"), entry_date=datetime.date(2026, 1, 1)
        )
    assert earlier.amount == Decimal("5.00")  # 10 × 0.50
    assert _balance(world, fund) == Decimal("23.00")


def test_government_money_needs_a_population_and_a_sane_rate(world):
    fund = make_fund(world.a, "生育关怀基金")
    admin = world.a.users["county_admin"]
    with world.a.scope():
        Person.objects.update(residency="outflow")  # everyone lives elsewhere
        with pytest.raises(ValidationError, match="没有常住人口"):
            fund_services.fund_government_income(actor=admin, fund=fund, rate="2", entry_date=DAY)
        with pytest.raises(ValidationError, match="每人金额不应超过"):
            fund_services.fund_government_income(
                actor=admin, fund=fund, rate="20000", entry_date=DAY
            )


# --- expenses ----------------------------------------------------------------------------------


def test_an_assistance_record_is_paid_once_and_its_amount_is_the_expense(world):
    fund = make_fund(world.a, "生育关怀基金")
    income(world.a, fund, "1000")
    record = assistance_record(world.a, 2, "300.00")
    admin = world.a.users["county_admin"]
    with world.a.scope():
        entry = fund_services.fund_assistance_expense(
            actor=admin, fund=fund, assistance=record, entry_date=DAY
        )
        assert (entry.assistance_id, entry.amount, entry.direction) == (
            record.pk,
            Decimal("300.00"),
            "expense",
        )
        assert entry.description == "帮扶救助:救助 2026-03-02"
        other = make_fund(world.a, "另一基金")
        income(world.a, other, "1000")
        with pytest.raises(ValidationError, match="已于 2026-03-02 从“生育关怀基金”支出"):
            fund_services.fund_assistance_expense(
                actor=admin, fund=other, assistance=record, entry_date=DAY
            )


def test_a_record_without_an_amount_and_a_loan_fund_cannot_pay_assistance(world):
    fund = make_fund(world.a, "生育关怀基金")
    loan_fund = make_fund(world.a, "周转金", Fund.Kind.LOAN)
    income(world.a, fund, "1000")
    income(world.a, loan_fund, "1000")
    goods = assistance_record(world.a, 1, None)
    cash = assistance_record(world.a, 1, "10")
    admin = world.a.users["county_admin"]
    with world.a.scope():
        with pytest.raises(ValidationError, match="没有金额"):
            fund_services.fund_assistance_expense(
                actor=admin, fund=fund, assistance=goods, entry_date=DAY
            )
        with pytest.raises(ValidationError, match="贷款周转金只用于发放贷款"):
            fund_services.fund_assistance_expense(
                actor=admin, fund=loan_fund, assistance=cash, entry_date=DAY
            )


def test_an_expense_beyond_the_balance_is_refused_and_leaves_nothing(world):
    fund = make_fund(world.a, "生育关怀基金")
    income(world.a, fund, "299.99")
    record = assistance_record(world.a, 1, "300.00")
    with world.a.scope(), pytest.raises(ValidationError) as error:
        fund_services.fund_assistance_expense(
            actor=world.a.users["county_admin"], fund=fund, assistance=record, entry_date=DAY
        )
    assert "基金“生育关怀基金”余额不足:现有 299.99 元,本次支出 300.00 元。" in error.value.messages
    assert len(_entries(world, fund)) == 1
    assert _balance(world, fund) == Decimal("299.99")


# --- reversal ----------------------------------------------------------------------------------


def _reverse(world, entry, reason="录入错误"):
    with world.a.scope():
        return fund_services.fund_entry_reverse(
            actor=world.a.users["county_admin"], entry=entry, reason=reason, entry_date=DAY
        )


def test_a_reversal_is_the_opposite_entry_once_and_the_original_stays(world):
    fund = make_fund(world.a, "生育关怀基金")
    first = income(world.a, fund, "1000.00")
    wrong = income(world.a, fund, "500.00")
    reversal = _reverse(world, wrong, "重复登记")
    assert (reversal.direction, reversal.amount, reversal.source, reversal.reverses_id) == (
        "expense",
        Decimal("500.00"),
        "reversal",
        wrong.pk,
    )
    assert reversal.description == "冲正:测试收入(重复登记)"
    # 1000 + 500 − 500 = 1000
    assert [e.balance_after for e in _entries(world, fund)] == [
        Decimal("1000.00"),
        Decimal("1500.00"),
        Decimal("1000.00"),
    ]
    with world.a.scope():
        original = FundEntry.objects.get(pk=wrong.pk)
    assert (original.amount, original.direction) == (Decimal("500.00"), "income")  # unchanged
    with pytest.raises(ValidationError, match="已经冲正过"):
        _reverse(world, wrong)
    with pytest.raises(ValidationError, match="冲正记录不能再冲正"):
        _reverse(world, reversal)
    assert _balance(world, fund) == Decimal("1000.00")
    assert first.balance_after == Decimal("1000.00")
    with world.a.scope():
        assert ChangeRecord.objects.filter(
            object_type="benefits.FundEntry", object_id=reversal.pk, action="create"
        ).exists()


def test_an_income_already_spent_cannot_be_reversed(world):
    fund = make_fund(world.a, "生育关怀基金")
    gift = income(world.a, fund, "400.00")
    record = assistance_record(world.a, 1, "300.00")
    with world.a.scope():
        fund_services.fund_assistance_expense(
            actor=world.a.users["county_admin"], fund=fund, assistance=record, entry_date=DAY
        )
    with pytest.raises(ValidationError, match=r"余额不足:现有 100\.00 元,本次支出 400\.00 元"):
        _reverse(world, gift)
    assert _balance(world, fund) == Decimal("100.00")


def test_reversing_an_assistance_expense_frees_the_record(world):
    fund = make_fund(world.a, "生育关怀基金")
    income(world.a, fund, "1000")
    record = assistance_record(world.a, 1, "300.00")
    admin = world.a.users["county_admin"]
    with world.a.scope():
        paid = fund_services.fund_assistance_expense(
            actor=admin, fund=fund, assistance=record, entry_date=DAY
        )
    _reverse(world, paid, "支错基金")
    with world.a.scope():
        again = fund_services.fund_assistance_expense(
            actor=admin, fund=fund, assistance=record, entry_date=DAY
        )
    # 1000 − 300 + 300 − 300 = 700
    assert again.balance_after == Decimal("700.00")


def test_a_reversal_needs_a_reason_and_a_date_not_before_the_entry(world):
    fund = make_fund(world.a, "生育关怀基金")
    entry = income(world.a, fund, "10")
    with world.a.scope():
        with pytest.raises(ValidationError, match="请填写冲正原因"):
            fund_services.fund_entry_reverse(
                actor=world.a.users["county_admin"], entry=entry, reason="  "
            )
        with pytest.raises(ValidationError, match="不能早于原记录日期"):
            fund_services.fund_entry_reverse(
                actor=world.a.users["county_admin"],
                entry=entry,
                reason="错",
                entry_date=DAY - datetime.timedelta(days=1),
            )


# --- permissions, tokens -----------------------------------------------------------------------


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_county_admin_writes_funds(world, role):
    fund = make_fund(world.a, "生育关怀基金")
    entry = income(world.a, fund, "100")
    record = assistance_record(world.a, 0, "10")
    user = world.a.users[role]
    with world.a.scope():
        calls = [
            lambda: fund_services.fund_create(actor=user, name="越权基金", kind="care"),
            lambda: fund_services.fund_update(actor=user, fund=fund, name="改名"),
            lambda: fund_services.fund_income_record(
                actor=user, fund=fund, source="other", amount="1", entry_date=DAY, description="x"
            ),
            lambda: fund_services.fund_government_income(
                actor=user, fund=fund, rate="2", entry_date=DAY
            ),
            lambda: fund_services.fund_assistance_expense(
                actor=user, fund=fund, assistance=record, entry_date=DAY
            ),
            lambda: fund_services.fund_entry_reverse(actor=user, entry=entry, reason="x"),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()
    assert len(_entries(world, fund)) == 1


def test_a_form_sent_twice_posts_once(world):
    fund = make_fund(world.a, "生育关怀基金")
    token = uuid.uuid4()
    with world.a.scope():
        first, second = (
            fund_services.fund_income_record(
                actor=world.a.users["county_admin"],
                fund=fund,
                source="other",
                amount="88",
                entry_date=DAY,
                description="一次",
                form_token=token,
            )
            for _ in range(2)
        )
    assert first.pk == second.pk and getattr(second, "replayed", False)
    assert _balance(world, fund) == Decimal("88.00")
