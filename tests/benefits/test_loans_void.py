"""Voiding a loan issued by mistake (冲正贷款): the issue's expense reversed by an income of the
principal, the loan marked voided with its date and reason and left out of every figure;
refused while repayments of it count, refused twice, refused to anyone but the county admin;
the loan page's confirmation and the API action."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import ChangeRecord
from benefits import fund_services, loan_services
from benefits.loan_selectors import loan_rows, overdue_list, relending_stats, schedule
from benefits.models import Fund, FundEntry, Loan
from tests.conftest import login

from .factories_funds import as_user, income, issue, loan_program, make_fund, repay

pytestmark = pytest.mark.django_db

D = datetime.date
NOT_ADMIN = ["county_viewer", "township_staff", "village_secretary", "group_leader"]
VOID_DAY = D(2026, 2, 1)


@pytest.fixture
def lending(world):
    """County A: a loan programme and a loan fund holding 10,000.00."""
    program = loan_program(world.a)
    fund = make_fund(world.a, "少生快富周转金", Fund.Kind.LOAN)
    income(world.a, fund, "10000.00", day=D(2026, 1, 2))
    return program, fund


def _void(world, loan, reason="借款人登记错误", day=VOID_DAY, user="county_admin"):
    with world.a.scope():
        return loan_services.loan_void(
            actor=world.a.users[user], loan=loan, reason=reason, voided_on=day
        )


def _balance(world, fund) -> Decimal:
    with world.a.scope():
        return Fund.objects.get(pk=fund.pk).balance


def _stats(world, fund):
    with world.a.scope():
        [stats] = relending_stats(actor=world.a.users["county_viewer"], funds=[fund])
    return stats


def _repayment_entry(world, repayment) -> FundEntry:
    with world.a.scope():
        return FundEntry.objects.get(repayment=repayment, source="repayment")


# --- the service ---------------------------------------------------------------------------------


def test_voiding_returns_the_principal_and_keeps_the_record(world, lending):
    """10,000.00 in; 3,000.00 lent by mistake (→ 7,000.00) and 2,000.00 lent rightly
    (→ 5,000.00); the void brings the 3,000.00 back: 8,000.00."""
    program, fund = lending
    wrong = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    issue(world.a, fund, program, world.a.persons[5], "2000.00", day=D(2026, 1, 15))
    assert _balance(world, fund) == Decimal("5000.00")
    reversal = _void(world, wrong)
    assert _balance(world, fund) == Decimal("8000.00")
    with world.a.scope():
        issued = FundEntry.objects.get(loan=wrong, source="loan")
        assert (
            reversal.direction,
            reversal.source,
            reversal.amount,
            reversal.entry_date,
            reversal.reverses_id,
            reversal.loan_id,
            reversal.balance_after,
        ) == (
            "income",
            "reversal",
            Decimal("3000.00"),
            D(2026, 2, 1),
            issued.pk,
            wrong.pk,
            Decimal("8000.00"),
        )
        assert "借款人登记错误" in reversal.description
        # The original entry is untouched: the ledger is append-only.
        assert (issued.amount, issued.balance_after) == (Decimal("3000.00"), Decimal("7000.00"))
        loan = Loan.objects.get(pk=wrong.pk)
        assert (loan.status, loan.voided_on, loan.void_reason) == (
            "voided",
            D(2026, 2, 1),
            "借款人登记错误",
        )
        assert loan.installments.count() == 12  # the schedule stays, for the record
        change = ChangeRecord.objects.filter(
            object_type="benefits.Loan", object_id=wrong.pk, action="update"
        ).get()
        assert change.before == {"status": "active", "voided_on": None, "void_reason": ""}
        assert change.after == {
            "status": "voided",
            "voided_on": "2026-02-01",
            "void_reason": "借款人登记错误",
        }
    assert wrong.status == "voided"  # the caller's object says so too


def test_a_voided_loan_counts_in_no_figure(world, lending):
    """Loans from 2026-01-15: the wrong one 3,000.00 over 12 (250.00 a month), the right one
    2,000.00 over 4 (500.00 a month), different households. On 2026-05-20 four installments
    of each are due: the right one is 2,000.00 overdue; the voided one owes nothing.
    Re-lending before the void: 5,000.00 lent to 2 households (0.5 rounds of 10,000.00);
    after: 2,000.00 to 1 household (0.2 rounds), outstanding 2,000.00."""
    program, fund = lending
    a = world.a
    wrong = issue(a, fund, program, a.persons[3], "3000.00", day=D(2026, 1, 15))
    right = issue(a, fund, program, a.persons[5], "2000.00", day=D(2026, 1, 15), term=4)
    before = _stats(world, fund)
    assert (before.lent, before.loans, before.households, before.rounds) == (
        Decimal("5000.00"),
        2,
        2,
        Decimal("0.5"),
    )
    _void(world, wrong)
    after = _stats(world, fund)
    assert (
        after.capital,
        after.lent,
        after.loans,
        after.households,
        after.repaid,
        after.outstanding,
        after.rounds,
    ) == (
        Decimal("10000.00"),
        Decimal("2000.00"),
        1,
        1,
        Decimal("0.00"),
        Decimal("2000.00"),
        Decimal("0.2"),
    )
    admin = a.users["county_admin"]
    on = D(2026, 5, 20)
    with as_user(admin):
        rows = {row.pk: row for row in loan_rows(actor=admin, on=on)}
        overdue = {row.loan.pk: row.amount_overdue for row in overdue_list(actor=admin, on=on)}
        states = {row.state for row in schedule(loan=rows[wrong.pk], on=on)}
    assert (rows[wrong.pk].outstanding, rows[wrong.pk].overdue_amount) == (
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (rows[right.pk].outstanding, rows[right.pk].overdue_amount) == (
        Decimal("2000.00"),
        Decimal("2000.00"),
    )
    assert overdue[right.pk] == Decimal("2000.00") and wrong.pk not in overdue
    assert states == {"已冲正"}


def test_repayments_that_count_must_be_reversed_first(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    first = repay(world.a, loan, "500.00", day=D(2026, 2, 15))
    second = repay(world.a, loan, "250.00", day=D(2026, 3, 15))
    with pytest.raises(ValidationError) as refused:
        _void(world, loan, day=D(2026, 3, 20))
    assert refused.value.messages == [
        "该贷款已登记还款 2 笔,共 750.00 元(2026-02-15、2026-03-15),不能直接冲正:"
        "请先在还款记录中逐笔冲正这些还款,再冲正贷款。"
    ]
    assert refused.value.error_list[0].code == "live_repayments"
    admin = world.a.users["county_admin"]
    with world.a.scope():
        fund_services.fund_entry_reverse(
            actor=admin, entry=_repayment_entry(world, first), reason="记错借款人"
        )
    with pytest.raises(ValidationError, match=r"已登记还款 1 笔,共 250\.00 元\(2026-03-15\)"):
        _void(world, loan, day=D(2026, 3, 20))
    with world.a.scope():
        fund_services.fund_entry_reverse(
            actor=admin, entry=_repayment_entry(world, second), reason="记错借款人"
        )
    _void(world, loan, day=D(2026, 3, 20))
    # 10,000 − 3,000 + 500 + 250 − 500 − 250 + 3,000 = 10,000
    assert _balance(world, fund) == Decimal("10000.00")
    stats = _stats(world, fund)
    assert (stats.lent, stats.repaid, stats.outstanding, stats.households) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        0,
    )


def test_a_repaid_loan_is_refused_with_the_same_advice(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "300.00", day=D(2026, 1, 15))
    repay(world.a, loan, "300.00", day=D(2026, 1, 20))
    assert loan.status == "repaid"
    with pytest.raises(ValidationError, match="请先在还款记录中逐笔冲正这些还款"):
        _void(world, loan)


def test_a_loan_is_voided_once_and_then_takes_no_repayment(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "1000.00", day=D(2026, 1, 15))
    reversal = _void(world, loan)
    with pytest.raises(ValidationError) as twice:
        _void(world, loan, reason="再冲一次")
    assert twice.value.messages == ["该贷款已于 2026-02-01 冲正,不能重复冲正。"]
    assert twice.value.error_list[0].code == "voided"
    with pytest.raises(ValidationError, match="该贷款已冲正,不能再登记还款"):
        repay(world.a, loan, "100.00", day=D(2026, 2, 2))
    admin = world.a.users["county_admin"]
    with world.a.scope():
        with pytest.raises(ValidationError, match="冲正记录不能再冲正"):
            fund_services.fund_entry_reverse(actor=admin, entry=reversal, reason="撤销冲正")
        issued = FundEntry.objects.get(loan=loan, source="loan")
        with pytest.raises(ValidationError, match="已经冲正过"):
            fund_services.fund_entry_reverse(actor=admin, entry=issued, reason="x")
        assert FundEntry.objects.filter(fund=fund).count() == 3  # income, issue, its reversal
    assert _balance(world, fund) == Decimal("10000.00")


@pytest.mark.parametrize(
    ("reason", "day", "field", "message"),
    [
        ("  ", D(2026, 2, 1), "reason", "请填写冲正原因。"),
        ("金额录错", D(2026, 1, 14), "voided_on", "冲正日期不能早于放款日期。"),
        (
            "金额录错",
            datetime.date.today() + datetime.timedelta(days=2),
            "voided_on",
            "日期晚于今天。",
        ),
    ],
)
def test_a_reason_and_a_sensible_date_are_required(world, lending, reason, day, field, message):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "1000.00", day=D(2026, 1, 15))
    with pytest.raises(ValidationError) as refused:
        _void(world, loan, reason=reason, day=day)
    assert refused.value.message_dict == {field: [message]}
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"
    assert _balance(world, fund) == Decimal("9000.00")


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_county_admin_voids(world, lending, role):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "1000.00", day=D(2026, 1, 15))
    with pytest.raises(PermissionDenied):
        _void(world, loan, user=role)
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"
        assert FundEntry.objects.filter(fund=fund).count() == 2
    assert _balance(world, fund) == Decimal("9000.00")


# --- the page -----------------------------------------------------------------------------------


def test_voiding_from_the_loan_page(client, world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    login(client, world.a.users["county_admin"])
    detail = reverse("loan-detail", kwargs={"pk": loan.pk})
    url = reverse("loan-void", kwargs={"pk": loan.pk})
    assert f'href="{url}"' in client.get(detail).content.decode()
    form = client.get(url).content.decode()
    assert "确认冲正贷款" in form and "本金 3000.00 元退回“少生快富周转金”" in form
    empty = client.post(url, {"reason": "", "voided_on": "2026-02-01"})
    assert empty.status_code == 400
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"
    response = client.post(url, {"reason": "借款人登记错误", "voided_on": "2026-02-01"})
    assert response.status_code == 302 and response.url == detail
    page = client.get(detail).content.decode()
    assert "已冲正这笔贷款:本金 3000.00 元已退回“少生快富周转金”" in page
    assert "2026-02-01 · 借款人登记错误" in page
    assert "未还本金</dt><dd><b>0.00</b>" in page
    assert "登记还款</a>" not in page and f'href="{url}"' not in page
    again = client.post(url, {"reason": "再冲", "voided_on": "2026-02-02"})
    assert again.status_code == 400 and "不能重复冲正" in again.content.decode()
    assert _balance(world, fund) == Decimal("10000.00")
    ledger = client.get(reverse("fund-detail", kwargs={"pk": fund.pk})).content.decode()
    assert "已被第" in ledger  # the issue is shown reversed, with no action left on it


def test_the_page_says_to_reverse_the_repayments_first(client, world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    repay(world.a, loan, "500.00", day=D(2026, 2, 15))
    login(client, world.a.users["county_admin"])
    url = reverse("loan-void", kwargs={"pk": loan.pk})
    body = client.get(url).content.decode()
    assert "已登记还款 1 笔,不能直接冲正" in body and "2026-02-15 还款 500.00 元" in body
    assert "确认冲正贷款" not in body
    refused = client.post(url, {"reason": "借款人登记错误", "voided_on": "2026-03-01"})
    assert refused.status_code == 400
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"


def test_the_ledger_sends_a_loans_issue_to_the_loan_page(client, world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    login(client, world.a.users["county_admin"])
    ledger = client.get(reverse("fund-detail", kwargs={"pk": fund.pk})).content.decode()
    assert f'href="{reverse("loan-void", kwargs={"pk": loan.pk})}">冲正贷款</a>' in ledger
    with world.a.scope():
        issued = FundEntry.objects.get(loan=loan, source="loan")
    page = client.get(reverse("fund-entry-reverse", kwargs={"pk": issued.pk})).content.decode()
    assert "贷款放款请在贷款页面冲正" in page


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary_sibling"])
def test_the_page_is_the_county_admins(client, world, role):
    """The world's loan of t0v1 is read by these accounts but voided by none of them."""
    loan = world.a.loans[0]
    login(client, world.a.users[role])
    url = reverse("loan-void", kwargs={"pk": loan.pk})
    page = client.get(reverse("loan-detail", kwargs={"pk": loan.pk})).content.decode()
    assert url not in page
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "越权", "voided_on": "2026-02-01"}).status_code == 403
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"


# --- the API ------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_voiding_through_the_api(world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "3000.00", day=D(2026, 1, 15))
    admin = _api(world.a.users["county_admin"])
    url = reverse("api-loan-void", kwargs={"pk": loan.pk})
    response = admin.post(url, {"reason": "金额录错", "voided_on": "2026-02-01"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body["loan"][k] for k in ("status", "status_display", "outstanding")} == {
        "status": "voided",
        "status_display": "已冲正",
        "outstanding": "0.00",
    }
    assert (body["loan"]["voided_on"], body["loan"]["void_reason"]) == ("2026-02-01", "金额录错")
    with world.a.scope():
        issued = FundEntry.objects.get(loan=loan, source="loan")
    reversal = body["reversal"]
    assert (reversal["direction"], reversal["source"], reversal["amount"]) == (
        "income",
        "reversal",
        "3000.00",
    )
    assert (reversal["reverses"], reversal["balance_after"]) == (issued.pk, "10000.00")
    again = admin.post(url, {"reason": "再冲"}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["non_field_errors"][0]["code"] == "voided"


def test_the_api_refuses_a_loan_with_repayments_and_a_missing_reason(world):
    loan = world.a.loans[0]  # 1,000.00 repaid on 2025-07-01
    admin = _api(world.a.users["county_admin"])
    url = reverse("api-loan-void", kwargs={"pk": loan.pk})
    refused = admin.post(url, {"reason": "借款人登记错误"}, format="json")
    assert refused.status_code == 400
    [error] = refused.json()["error"]["fields"]["non_field_errors"]
    assert error["code"] == "live_repayments" and "逐笔冲正" in error["message"]
    missing = admin.post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    for role in ("county_viewer", "township_staff"):
        response = _api(world.a.users[role]).post(url, {"reason": "越权"}, format="json")
        assert response.status_code == 403
    response = _api(world.b.users["county_admin"]).post(url, {"reason": "越界"}, format="json")
    assert response.status_code == 404
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "active"
