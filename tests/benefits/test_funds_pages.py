"""Fund and loan pages: who reads what, who writes (county admin; others 403), forms that
post once, errors in Chinese without losing anything, ledger filters and running balance,
loan schedule, issue and repay forms, the overdue list."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from benefits.models import Fund, FundEntry, Loan, Program, Repayment
from tests.conftest import login

from .factories_funds import DAY, assistance_record, income, issue, loan_program, make_fund

pytestmark = pytest.mark.django_db

ROLES = ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]
NOT_ADMIN = ROLES[1:]
D = datetime.date


def _fund(world, name="生育关怀基金", kind=Fund.Kind.CARE):
    fund = make_fund(world.a, name, kind)
    income(world.a, fund, "1000.00", day=D(2026, 1, 5))
    return fund


def _entries(world, fund):
    with world.a.scope():
        return list(FundEntry.objects.filter(fund=fund).order_by("id"))


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_account_of_the_county_reads_the_funds_the_county_reads_the_ledger(
    client, world, role
):
    fund = _fund(world)
    login(client, world.a.users[role])
    listing = client.get(reverse("fund-list")).content.decode()
    assert "生育关怀基金" in listing and "幸福工程周转金" in listing
    assert ("设立基金" in listing) == (role == "county_admin")
    page = client.get(reverse("fund-detail", kwargs={"pk": fund.pk}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<b>1000.00</b> 元" in body  # the balance
    county = role in ("county_admin", "county_viewer")
    assert ("测试收入" in body) == county  # an entry of the ledger
    assert ("收支明细由县级账号查看" in body) == (not county)
    assert ("财政按人口拨入" in body) == (role == "county_admin")


def test_another_countys_fund_is_404(client, world):
    fund = _fund(world)
    login(client, world.b.users["county_admin"])
    assert client.get(reverse("fund-detail", kwargs={"pk": fund.pk})).status_code == 404
    listing = client.get(reverse("fund-list")).content.decode()
    assert reverse("fund-detail", kwargs={"pk": fund.pk}) not in listing


def test_the_ledger_shows_the_running_balance_and_filters(client, world):
    fund = _fund(world)  # 2026-01-05 +1000.00
    income(world.a, fund, "250.50", day=D(2026, 2, 1), source=FundEntry.Source.DONATION)
    record = assistance_record(world.a, 1, "300.00")
    login(client, world.a.users["county_admin"])
    client.post(
        reverse("fund-expense-assistance", kwargs={"pk": fund.pk}),
        {"assistance": record.pk, "entry_date": "2026-03-02"},
    )
    url = reverse("fund-detail", kwargs={"pk": fund.pk})
    body = client.get(url).content.decode()
    # newest first: 950.50 after the expense, 1250.50 after the donation, 1000.00
    balances = re.findall(r'<td class="num">(\d+\.\d\d)</td>\s*(?:<td>|</tr>)', body)
    assert balances == ["950.50", "1250.50", "1000.00"]
    assert "收入 1250.50 元,支出 300.00 元,共 3 笔" in body
    filtered = client.get(url, {"direction": "income", "date_from": "2026-02-01"}).content.decode()
    assert "符合条件的收入 250.50 元,支出 0.00 元,共 1 笔" in filtered
    by_source = client.get(url, {"source": "assistance"}).content.decode()
    assert "收入 0.00 元,支出 300.00 元,共 1 笔" in by_source
    bad = client.get(url, {"date_from": "2026-13-45"})
    assert bad.status_code == 200 and "输入一个有效的日期" in bad.content.decode()


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_county_admin_writes(client, world, role):
    fund = _fund(world)
    entry = _entries(world, fund)[0]
    login(client, world.a.users[role])
    urls = [reverse("fund-create"), reverse("loan-issue")]
    urls += [
        reverse(name, kwargs={"pk": fund.pk})
        for name in (
            "fund-edit",
            "fund-income-government",
            "fund-income-donation",
            "fund-income-other",
            "fund-expense-assistance",
        )
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"amount": "1", "name": "越权"}).status_code == 403, url
    reverse_url = reverse("fund-entry-reverse", kwargs={"pk": entry.pk})
    # The ledger is the county's: below the county an entry is not even there.
    expected = 403 if role == "county_viewer" else 404
    assert client.post(reverse_url, {"reason": "x", "entry_date": "2026-03-02"}).status_code == (
        expected
    )
    assert len(_entries(world, fund)) == 1


def test_creating_a_fund_and_posting_income(client, world):
    login(client, world.a.users["county_admin"])
    response = client.post(
        reverse("fund-create"), {"name": "关爱女孩冠名基金", "kind": "named", "donor": "兰天集团"}
    )
    with world.a.scope():
        fund = Fund.objects.get(name="关爱女孩冠名基金")
    assert response.url == reverse("fund-detail", kwargs={"pk": fund.pk})
    token = str(uuid.uuid4())
    donation = {
        "donor": "兰天集团",
        "amount": "3296.20",
        "entry_date": "2026-03-02",
        "form_token": token,
    }
    url = reverse("fund-income-donation", kwargs={"pk": fund.pk})
    client.post(url, donation)
    client.post(url, donation)  # sent twice: posted once
    other = reverse("fund-income-other", kwargs={"pk": fund.pk})
    client.post(other, {"amount": "3.80", "entry_date": "2026-03-03", "description": "利息"})
    assert [(e.source, e.amount, e.balance_after) for e in _entries(world, fund)] == [
        ("donation", Decimal("3296.20"), Decimal("3296.20")),
        ("other", Decimal("3.80"), Decimal("3300.00")),
    ]


def test_government_money_per_head_says_which_count(client, world):
    fund = make_fund(world.a, "生育关怀基金")
    login(client, world.a.users["county_admin"])
    url = reverse("fund-income-government", kwargs={"pk": fund.pk})
    page = client.get(url).content.decode()
    assert "户籍状态为“户籍常住”或“流入”、当日在世的人员(不含流出人员)" in page
    assert "本县常住人口 8 人" in page
    client.post(url, {"rate": "2", "entry_date": "2026-03-02", "description": "县财政"})
    [entry] = _entries(world, fund)
    assert entry.amount == Decimal("16.00")  # 8 × 2.00
    assert "常住人口 8 人 × 每人 2.00 元" in entry.description and "县财政" in entry.description


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "abc", "entry_date": "2026-03-02", "description": "x"}, "金额(元)应为数字"),
        (
            {"amount": "1.234", "entry_date": "2026-03-02", "description": "x"},
            "金额(元)最多保留两位小数",
        ),
        ({"amount": "-1", "entry_date": "2026-03-02", "description": "x"}, "金额(元)应大于 0 元"),
        ({"amount": "5", "entry_date": "2026-02-30", "description": "x"}, "有效的日期"),
        ({"amount": "5", "entry_date": "2099-01-01", "description": "x"}, "日期晚于今天"),
        ({"amount": "5", "entry_date": "2026-03-02", "description": ""}, "该字段是必填项"),
    ],
)
def test_bad_income_is_refused_in_chinese_and_keeps_what_was_typed(client, world, data, message):
    fund = _fund(world)
    login(client, world.a.users["county_admin"])
    response = client.post(reverse("fund-income-other", kwargs={"pk": fund.pk}), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'value="{data["amount"]}"' in body
    assert len(_entries(world, fund)) == 1


def test_paying_an_assistance_record_from_its_page(client, world):
    fund = _fund(world)
    record = assistance_record(world.a, 2, "300.00")
    login(client, world.a.users["county_admin"])
    url = reverse("fund-expense-assistance", kwargs={"pk": fund.pk})
    page = client.get(url).content.decode()
    assert f'value="{record.pk}"' in page and "<b>300.00 元</b>" in page
    found = client.get(url, {"find": world.a.households[2].number}).content.decode()
    assert f'value="{record.pk}"' in found
    missing = client.get(url, {"find": "不存在的人"}).content.decode()
    assert f'value="{record.pk}"' not in missing
    response = client.post(url, {"assistance": record.pk, "entry_date": "2026-03-02"})
    assert response.status_code == 302
    assert _entries(world, fund)[-1].assistance_id == record.pk
    assert f'value="{record.pk}"' not in client.get(url).content.decode()  # paid: not offered
    again = client.post(url, {"assistance": record.pk, "entry_date": "2026-03-02"})
    assert again.status_code == 400 and "不能重复支出" in again.content.decode()


def test_reversing_from_the_ledger(client, world):
    fund = _fund(world)
    wrong = income(world.a, fund, "500.00")
    login(client, world.a.users["county_admin"])
    url = reverse("fund-entry-reverse", kwargs={"pk": wrong.pk})
    assert "冲正会登记一笔方向相反、金额相同的记录" in client.get(url).content.decode()
    response = client.post(url, {"reason": "重复登记", "entry_date": DAY.isoformat()})
    assert response.status_code == 302
    entries = _entries(world, fund)
    assert (entries[-1].reverses_id, entries[-1].direction, entries[-1].balance_after) == (
        wrong.pk,
        "expense",
        Decimal("1000.00"),
    )
    again = client.post(url, {"reason": "再冲", "entry_date": DAY.isoformat()})
    assert again.status_code == 400 and "已于" in again.content.decode()
    assert len(_entries(world, fund)) == 3


# --- loans -------------------------------------------------------------------------------------


@pytest.fixture
def lending(world):
    program = loan_program(world.a, "少生快富")
    fund = make_fund(world.a, "少生快富周转金", Fund.Kind.LOAN)
    income(world.a, fund, "10000.00", day=D(2026, 1, 2))
    return program, fund


def test_loans_are_read_in_the_users_subtree(client, world):
    a = world.a
    t0v1_loan = a.loans[0]  # the world's loan in t0v1
    login(client, a.users["village_secretary"])  # t0v0: no loans there
    assert client.get(reverse("loan-detail", kwargs={"pk": t0v1_loan.pk})).status_code == 404
    assert "2村乙" not in client.get(reverse("loan-list")).content.decode()
    login(client, a.users["village_secretary_sibling"])  # t0v1
    page = client.get(reverse("loan-detail", kwargs={"pk": t0v1_loan.pk})).content.decode()
    assert "416.66" in page and "416.74" in page  # the schedule
    assert "未还本金</dt><dd><b>4000.00</b>" in page
    assert "登记还款" not in page
    listing = client.get(reverse("loan-list")).content.decode()
    linked = set(re.findall(r'href="/benefits/loans/(\d+)/"', listing))
    assert linked == {str(t0v1_loan.pk)}
    assert 'class="badge">逾期 ' in listing


def test_issuing_a_loan_from_the_form(client, world, lending):
    program, fund = lending
    login(client, world.a.users["county_admin"])
    url = reverse("loan-issue")
    found = client.get(url, {"find": "2村乙"}).content.decode()
    borrower = world.a.persons[3]
    assert f'name="borrower" value="{borrower.pk}"' in found
    token = str(uuid.uuid4())
    data = {
        "program": program.pk,
        "fund": fund.pk,
        "borrower": borrower.pk,
        "principal": "10000.00",
        "issued_on": "2026-01-15",
        "term_months": "3",
        "purpose": "养鸭",
        "form_token": token,
    }
    response = client.post(url, data)
    with world.a.scope():
        loan = Loan.objects.get(fund=fund)
    assert response.url == reverse("loan-detail", kwargs={"pk": loan.pk})
    assert client.post(url, data).status_code == 302  # sent twice: one loan
    with world.a.scope():
        assert Loan.objects.filter(fund=fund).count() == 1
    page = client.get(response.url).content.decode()
    assert "3333.34" in page and "养鸭" in page
    refused = client.post(url, {**data, "form_token": str(uuid.uuid4()), "principal": "1"})
    assert refused.status_code == 400
    assert "余额不足:现有 0.00 元,本次支出 1.00 元" in refused.content.decode()
    assert f'value="{borrower.pk}" form="loan-form" checked' in refused.content.decode()


def test_repaying_from_the_form(client, world, lending):
    program, fund = lending
    loan = issue(world.a, fund, program, world.a.persons[3], "600.00", day=D(2026, 1, 15), term=6)
    login(client, world.a.users["county_admin"])
    url = reverse("loan-repay", kwargs={"pk": loan.pk})
    assert "未还本金 <b>600.00</b> 元" in client.get(url).content.decode()
    over = client.post(url, {"amount": "600.01", "paid_on": "2026-02-15"})
    assert over.status_code == 400
    assert "还款金额 600.01 元超过未还本金 600.00 元。" in over.content.decode()
    client.post(url, {"amount": "600.00", "paid_on": "2026-02-15", "note": "一次还清"})
    with world.a.scope():
        assert Loan.objects.get(pk=loan.pk).status == "repaid"
        assert Repayment.objects.filter(loan=loan).count() == 1
    page = client.get(reverse("loan-detail", kwargs={"pk": loan.pk})).content.decode()
    assert "已还清" in page and "一次还清" in page


def test_the_overdue_page(client, world):
    login(client, world.a.users["township_staff"])  # t0: the world's loan of t0v1
    url = reverse("loan-overdue")
    body = client.get(url, {"on": "2026-05-20"}).content.decode()
    assert "共 1 笔,逾期金额合计 3583.26 元" in body
    assert "2025-09-01" in body and ">261<" in body
    assert client.get(url, {"on": "2025-07-02"}).content.decode().count("没有逾期贷款") == 1
    for bad in ("2026-02-30", "x", "9999-01-01"):
        response = client.get(url, {"on": bad})
        assert response.status_code == 400 and "日期" in response.content.decode()


def test_the_issue_form_says_what_is_missing(client, world):
    login(client, world.b.users["county_admin"])  # county B has a loan programme and fund
    body = client.get(reverse("loan-issue")).content.decode()
    assert "还没有贷款周转金" not in body and "还没有启用的贷款类扶助项目" not in body
    with world.b.scope():
        Program.objects.update(is_active=False)
    body = client.get(reverse("loan-issue")).content.decode()
    assert "还没有启用的贷款类扶助项目" in body and "还没有贷款周转金" not in body
