"""Transfers between funds (基金划拨): two entries naming each other in one transaction, refused
without the money, to the same fund or to another county's; reversing either side reverses
both (refused once the money moved on); the re-lending capital counts what went in and out;
the fund page's form and the API action."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import ChangeRecord
from benefits import fund_services, fund_transfers
from benefits.ledger import post_entry
from benefits.loan_selectors import relending_stats
from benefits.models import Fund, FundEntry
from tests.conftest import login

from .factories_funds import DAY, income, issue, loan_program, make_fund

pytestmark = pytest.mark.django_db

D = datetime.date
NOT_ADMIN = ["county_viewer", "township_staff", "village_secretary", "group_leader"]


@pytest.fixture
def funds(world):
    """County A: a care fund holding 1,000.00 and an empty loan fund."""
    care = make_fund(world.a, "生育关怀基金")
    income(world.a, care, "1000.00", day=D(2026, 1, 5))
    loan = make_fund(world.a, "幸福工程周转金(县)", Fund.Kind.LOAN)
    return care, loan


def _transfer(world, source, target, amount, *, user="county_admin", **kwargs) -> FundEntry:
    kwargs.setdefault("entry_date", DAY)
    with world.a.scope():
        return fund_transfers.fund_transfer(
            actor=world.a.users[user], source=source, target=target, amount=amount, **kwargs
        )


def _balances(world, *funds) -> list[Decimal]:
    with world.a.scope():
        return [Fund.objects.get(pk=fund.pk).balance for fund in funds]


def _entries(world, fund) -> list[FundEntry]:
    with world.a.scope():
        return list(FundEntry.objects.filter(fund=fund).order_by("id"))


def _reverse(world, entry, reason="划错基金", day=DAY):
    with world.a.scope():
        return fund_services.fund_entry_reverse(
            actor=world.a.users["county_admin"], entry=entry, reason=reason, entry_date=day
        )


# --- the service ---------------------------------------------------------------------------------


def test_a_transfer_is_an_expense_and_an_income_naming_each_other(world, funds):
    care, loan = funds
    expense = _transfer(world, care, loan, "600.00", description="补充幸福工程本金")
    income_entry = expense.counterpart
    assert _balances(world, care, loan) == [Decimal("400.00"), Decimal("600.00")]
    with world.a.scope():
        out = FundEntry.objects.get(pk=expense.pk)
        into = FundEntry.objects.get(pk=income_entry.pk)
    assert (out.fund_id, out.direction, out.source, out.amount, out.balance_after) == (
        care.pk,
        "expense",
        "transfer",
        Decimal("600.00"),
        Decimal("400.00"),
    )
    assert (into.fund_id, into.direction, into.source, into.amount, into.balance_after) == (
        loan.pk,
        "income",
        "transfer",
        Decimal("600.00"),
        Decimal("600.00"),
    )
    assert (out.counterpart_id, into.counterpart_id) == (into.pk, out.pk)
    assert (out.entry_date, into.entry_date) == (DAY, DAY)
    assert out.description == "划拨至“幸福工程周转金(县)”:补充幸福工程本金"
    assert into.description == "由“生育关怀基金”划入:补充幸福工程本金"
    with world.a.scope():
        recorded = set(
            ChangeRecord.objects.filter(object_type="benefits.FundEntry").values_list(
                "object_id", flat=True
            )
        )
    assert {out.pk, into.pk} <= recorded


@pytest.mark.parametrize(
    ("amount", "field", "message"),
    [
        ("1000.01", "amount", "基金“生育关怀基金”余额不足:现有 1000.00 元,本次划出 1000.01 元。"),
        ("0", "amount", "金额应大于 0 元。"),
        ("1.001", "amount", "金额最多保留两位小数(分)。"),
        ("abc", "amount", "金额应为数字。"),
    ],
)
def test_a_transfer_needs_a_positive_amount_the_source_holds(world, funds, amount, field, message):
    care, loan = funds
    with pytest.raises(ValidationError) as refused:
        _transfer(world, care, loan, amount)
    assert refused.value.message_dict == {field: [message]}
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]
    assert _entries(world, loan) == []


def test_not_to_itself_nor_to_another_county_nor_in_the_future(world, funds):
    care, loan = funds
    with pytest.raises(ValidationError) as same:
        _transfer(world, care, care, "10")
    assert same.value.message_dict == {"target": ["划入基金不能与划出基金相同。"]}
    foreign = world.b.funds[0]
    with pytest.raises(ValidationError) as other:
        _transfer(world, care, foreign, "10")
    assert other.value.message_dict == {"target": ["只能在本县的基金之间划拨。"]}
    with pytest.raises(ValidationError, match="日期晚于今天"):
        _transfer(world, care, loan, "10", entry_date=D.today() + datetime.timedelta(days=2))
    assert len(_entries(world, care)) == 1
    with world.b.scope():
        assert Fund.objects.get(pk=foreign.pk).balance == foreign.balance


def test_a_transfer_sent_twice_with_its_token_moves_the_money_once(world, funds):
    care, loan = funds
    token = uuid.uuid4()
    first = _transfer(world, care, loan, "100", form_token=token)
    again = _transfer(world, care, loan, "100", form_token=token)
    assert again.replayed and again.pk == first.pk and again.counterpart.pk == first.counterpart.pk
    assert _balances(world, care, loan) == [Decimal("900.00"), Decimal("100.00")]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_county_admin_transfers(world, funds, role):
    care, loan = funds
    with pytest.raises(PermissionDenied):
        _transfer(world, care, loan, "10", user=role)
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]


def test_the_ledger_refuses_a_transfer_entry_without_its_counterpart(world, funds):
    care, _ = funds
    with world.a.scope(), pytest.raises(ValidationError):
        post_entry(
            actor=world.a.users["county_admin"],
            fund=care,
            direction="income",
            source="transfer",
            amount=Decimal("10"),
            entry_date=DAY,
            description="无对方的划拨",
        )


# --- reversing a transfer -------------------------------------------------------------------


@pytest.mark.parametrize("side", ["expense", "income"])
def test_reversing_either_side_reverses_the_whole_transfer(world, funds, side):
    care, loan = funds
    expense = _transfer(world, care, loan, "600.00")
    named = expense if side == "expense" else expense.counterpart
    reversal = _reverse(world, named, day=D(2026, 3, 3))
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]
    [*_, care_back] = _entries(world, care)
    [*_, loan_back] = _entries(world, loan)
    assert (care_back.direction, care_back.source, care_back.reverses_id) == (
        "income",
        "reversal",
        expense.pk,
    )
    assert (loan_back.direction, loan_back.source, loan_back.reverses_id) == (
        "expense",
        "reversal",
        expense.counterpart.pk,
    )
    assert (care_back.balance_after, loan_back.balance_after) == (
        Decimal("1000.00"),
        Decimal("0.00"),
    )
    assert reversal.reverses_id == named.pk
    assert reversal.other_reversal.pk in {care_back.pk, loan_back.pk} - {reversal.pk}
    assert "冲正划拨" in care_back.description and "划错基金" in care_back.description
    for entry in (expense, expense.counterpart):
        with pytest.raises(ValidationError, match="这笔划拨已经冲正过"):
            _reverse(world, entry)
    assert len(_entries(world, care)) == 3 and len(_entries(world, loan)) == 2


def test_a_transfer_whose_money_moved_on_cannot_be_reversed(world, funds):
    care, loan = funds
    expense = _transfer(world, care, loan, "600.00")
    issue(world.a, loan, loan_program(world.a), world.a.persons[3], "500.00")
    with pytest.raises(ValidationError) as refused:
        _reverse(world, expense)
    assert refused.value.messages == [
        "“幸福工程周转金(县)”现有余额 100.00 元,已不足划入的 600.00 元(划入的钱已经用出),"
        "不能冲正这笔划拨。"
    ]
    assert _balances(world, care, loan) == [Decimal("400.00"), Decimal("100.00")]
    with pytest.raises(ValidationError, match="冲正日期不能早于原记录日期"):
        _reverse(world, expense, day=D(2026, 3, 1))


def test_the_loan_funds_capital_counts_transfers_in_and_out(world, funds):
    """The loan fund: 600.00 from the care fund, 1,000.00 of government money, 300.00 sent
    back to the care fund: capital 1,300.00; once that 300.00 is reversed, 1,600.00; a
    transfer in that is reversed counts for nothing (+200.00 − 200.00)."""
    care, loan = funds
    _transfer(world, care, loan, "600.00")
    income(world.a, loan, "1000.00", source=FundEntry.Source.GOVERNMENT)
    back = _transfer(world, loan, care, "300.00")

    def capital():
        with world.a.scope():
            [stats] = relending_stats(actor=world.a.users["county_admin"], funds=[loan])
        return stats.capital

    assert capital() == Decimal("1300.00")
    _reverse(world, back)
    assert capital() == Decimal("1600.00")
    extra = _transfer(world, care, loan, "200.00")
    assert capital() == Decimal("1800.00")
    _reverse(world, extra.counterpart)
    assert capital() == Decimal("1600.00")
    # care: 1,000 − 600 + 300 − 300 − 200 + 200 = 400; loan: 600 + 1,000 − 300 + 300 + 200 − 200
    assert _balances(world, care, loan) == [Decimal("400.00"), Decimal("1600.00")]


# --- the page ------------------------------------------------------------------------------------


def test_transferring_from_the_fund_page(client, world, funds):
    care, loan = funds
    login(client, world.a.users["county_admin"])
    detail = reverse("fund-detail", kwargs={"pk": care.pk})
    url = reverse("fund-transfer", kwargs={"pk": care.pk})
    assert f'href="{url}"' in client.get(detail).content.decode()
    form = client.get(url).content.decode()
    assert f'<option value="{loan.pk}">幸福工程周转金(县)(贷款周转金,余额 0.00 元)' in form
    assert f'<option value="{care.pk}"' not in form  # not to itself
    token = str(uuid.uuid4())
    data = {
        "target": loan.pk,
        "amount": "600.00",
        "entry_date": "2026-03-02",
        "description": "补充本金",
        "form_token": token,
    }
    response = client.post(url, data)
    assert response.status_code == 302 and response.url == detail
    assert client.post(url, data).status_code == 302  # sent twice: moved once
    assert _balances(world, care, loan) == [Decimal("400.00"), Decimal("600.00")]
    page = client.get(detail).content.decode()
    assert "已划拨 600.00 元到“幸福工程周转金(县)”。" in page
    assert (
        f'<a href="{reverse("fund-detail", kwargs={"pk": loan.pk})}">划入:幸福工程周转金(县)</a>'
        in page
    )
    target_page = client.get(reverse("fund-detail", kwargs={"pk": loan.pk})).content.decode()
    assert f'<a href="{detail}">划出:生育关怀基金</a>' in target_page
    over = client.post(url, {**data, "form_token": str(uuid.uuid4()), "amount": "400.01"})
    assert over.status_code == 400
    body = over.content.decode()
    assert "余额不足:现有 400.00 元,本次划出 400.01 元" in body
    assert 'value="400.01"' in body and "补充本金" in body  # what was typed stays
    foreign = client.post(
        url, {**data, "form_token": str(uuid.uuid4()), "target": world.b.funds[0].pk}
    )
    assert foreign.status_code == 400 and "没有这个基金" in foreign.content.decode()


def test_reversing_a_transfer_from_the_ledger(client, world, funds):
    care, loan = funds
    expense = _transfer(world, care, loan, "600.00")
    login(client, world.a.users["county_admin"])
    url = reverse("fund-entry-reverse", kwargs={"pk": expense.counterpart.pk})
    page = client.get(url).content.decode()
    assert "冲正会同时冲正两只基金的两笔记录" in page and f"第 {expense.pk} 笔" in page
    response = client.post(url, {"reason": "划错基金", "entry_date": "2026-03-03"}, follow=True)
    assert "已冲正这笔划拨:600.00 元已从“幸福工程周转金(县)”退回“生育关怀基金”。" in (
        response.content.decode()
    )
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_the_transfer_page_is_the_county_admins(client, world, funds, role):
    care, loan = funds
    login(client, world.a.users[role])
    url = reverse("fund-transfer", kwargs={"pk": care.pk})
    assert client.get(url).status_code == 403
    data = {"target": loan.pk, "amount": "1", "entry_date": "2026-03-02"}
    assert client.post(url, data).status_code == 403
    assert url not in client.get(reverse("fund-detail", kwargs={"pk": care.pk})).content.decode()
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]


# --- the API ------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_transferring_through_the_api(world, funds):
    care, loan = funds
    admin = _api(world.a.users["county_admin"])
    url = reverse("api-fund-transfer", kwargs={"pk": care.pk})
    key = str(uuid.uuid4())
    body = {"to_fund": loan.pk, "amount": "250.00", "entry_date": "2026-03-02"}
    first = admin.post(url, {**body, "idempotency_key": key}, format="json")
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["expense"]["fund"], data["expense"]["direction"], data["expense"]["source"]) == (
        care.pk,
        "expense",
        "transfer",
    )
    assert (data["income"]["fund"], data["income"]["balance_after"]) == (loan.pk, "250.00")
    assert data["expense"]["counterpart"] == data["income"]["id"]
    assert data["income"]["counterpart"] == data["expense"]["id"]
    again = admin.post(url, {**body, "idempotency_key": key}, format="json")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["income"]["id"] == data["income"]["id"]
    assert _balances(world, care, loan) == [Decimal("750.00"), Decimal("250.00")]
    back = reverse("api-fund-transfer", kwargs={"pk": loan.pk})
    reused = admin.post(back, {**body, "to_fund": care.pk, "idempotency_key": key}, format="json")
    assert reused.status_code == 400
    [error] = reused.json()["error"]["fields"]["non_field_errors"]
    assert error["code"] == "idempotency_key_reused"
    assert _balances(world, care, loan) == [Decimal("750.00"), Decimal("250.00")]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amount": "750.01"}, "amount", "overdrawn"),
        ({"to_fund": "self"}, "target", "same_fund"),
        ({"to_fund": "foreign"}, "to_fund", "does_not_exist"),
        ({"amount": "0"}, "amount", "min_value"),
        ({"entry_date": "2026-02-30"}, "entry_date", "invalid"),
    ],
)
def test_bad_transfers_are_400(world, funds, change, field, code):
    care, loan = funds
    _transfer(world, care, loan, "250.00")
    body = {"to_fund": loan.pk, "amount": "10", "entry_date": "2026-03-02", **change}
    body["to_fund"] = {"self": care.pk, "foreign": world.b.funds[0].pk}.get(
        body["to_fund"], body["to_fund"]
    )
    response = _api(world.a.users["county_admin"]).post(
        reverse("api-fund-transfer", kwargs={"pk": care.pk}), body, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"][field][0]["code"] == code
    assert _balances(world, care, loan) == [Decimal("750.00"), Decimal("250.00")]


def test_only_the_county_admin_transfers_through_the_api(world, funds):
    care, loan = funds
    body = {"to_fund": loan.pk, "amount": "10", "entry_date": "2026-03-02"}
    url = reverse("api-fund-transfer", kwargs={"pk": care.pk})
    for role in ("county_viewer", "township_staff", "village_secretary"):
        assert _api(world.a.users[role]).post(url, body, format="json").status_code == 403
    assert _api(world.b.users["county_admin"]).post(url, body, format="json").status_code == 404
    assert _balances(world, care, loan) == [Decimal("1000.00"), Decimal("0.00")]
