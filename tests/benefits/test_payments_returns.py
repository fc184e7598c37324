"""The bank's return file and the finance system's report: lines marked paid or failed by
reference, idempotently (the same results twice change nothing the second time), all or nothing
(an unknown reference, listed back in Chinese, and nothing is applied), with stable codes on the
API."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import ChangeRecord
from associations.scope import activate
from benefits import payments_services as services
from benefits.models import Disbursement, FundEntry
from benefits.selectors import county_scope
from tests.conftest import login

from . import factories_payments as f

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def batch(world):
    """County A's 2026 batch, confirmed: t0v0's head (720.00, account), t0v1's head (720.00,
    no account), t1v1's spouse (1,200.00, account)."""
    a = world.a
    program = f.program(a)
    heads = f.heads(a)
    spouse = a.persons[7]
    f.enroll(a, program, heads[0], account=f.account(a, heads[0]))
    f.enroll(a, program, heads[1])
    f.enroll(a, program, spouse, amount="1200", account=f.account(a, spouse, "6217000010012345678"))
    with a.scope():
        made = services.batch_create(
            actor=f.county_admin(a), program=program, period="2026", node=a.county
        )
        return services.batch_confirm(actor=f.county_admin(a), batch=made)


def _lines(world, batch):
    with world.a.scope():
        return list(Disbursement.objects.filter(batch=batch).order_by("village_id", "id"))


def _xlsx(rows, header=("业务参考号", "户名", "金额", "状态", "失败原因", "交易日期")) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["代发结果回盘"])  # a title row above the header, as banks write
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client, batch, content: bytes, name="回盘.xlsx"):
    return client.post(
        reverse("payment-batch-returns", kwargs={"pk": batch.pk}),
        {"file": SimpleUploadedFile(name, content)},
    )


def _records(world) -> int:
    with world.a.scope():
        return ChangeRecord.objects.filter(object_type="benefits.Disbursement").count()


def test_a_return_file_marks_lines_by_reference_and_twice_changes_nothing(client, world, batch):
    v0, v1, v3 = _lines(world, batch)
    content = _xlsx(
        [
            (v0.reference, "甲", 720, "成功", "", "2026-03-10"),
            (v1.reference, "乙", 720, "失败", "账号不存在", ""),
            (v3.reference, "丙", 1200, "交易成功", "", datetime.date(2026, 3, 11)),
        ]
    )
    login(client, world.a.users["county_admin"])
    response = _upload(client, batch, content)
    assert response.status_code == 302
    v0, v1, v3 = _lines(world, batch)
    assert [(ln.status, ln.paid_on, ln.failure_reason) for ln in (v0, v1, v3)] == [
        ("paid", datetime.date(2026, 3, 10), ""),
        ("failed", None, "账号不存在"),
        ("paid", datetime.date(2026, 3, 11), ""),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "登记发放成功 2 条、发放失败 1 条" in page
    with world.a.scope():  # each line's change recorded, the date as its ISO text
        changes = ChangeRecord.objects.filter(
            object_type="benefits.Disbursement", action="update", object_id__in=[v0.pk, v1.pk]
        ).order_by("-id")
        paid = changes.filter(object_id=v0.pk).first()
        failed = changes.filter(object_id=v1.pk).first()
    assert (paid.before, paid.after) == (
        {"status": "confirmed"},
        {"status": "paid", "paid_on": "2026-03-10"},
    )
    assert failed.after == {"status": "failed", "failure_reason": "账号不存在"}

    records = _records(world)
    again = _upload(client, batch, content)
    assert again.status_code == 302
    assert "与已登记的一致,没有变化" in client.get(again["Location"]).content.decode()
    assert [(ln.status, ln.paid_on) for ln in _lines(world, batch)] == [
        (v0.status, v0.paid_on),
        (v1.status, v1.paid_on),
        (v3.status, v3.paid_on),
    ]
    assert _records(world) == records


def test_unknown_references_are_listed_and_nothing_is_applied(client, world, batch):
    v0, v1, _ = _lines(world, batch)
    content = _xlsx(
        [
            (v0.reference, "甲", 720, "成功", "", ""),
            ("DF9999999999", "某", 720, "成功", "", ""),
            (v1.reference, "乙", 720, "处理中", "", ""),
        ]
    )
    login(client, world.a.users["county_admin"])
    response = _upload(client, batch, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "回盘文件未登记" in page
    assert "第 5 行:状态应为“成功”或“失败”。" in page
    # the row that cannot be read stops the file before the references are looked up
    content = _xlsx(
        [(v0.reference, "甲", 720, "成功", "", ""), ("DF9999999999", "某", 720, "成功", "", "")]
    )
    page = _upload(client, batch, content).content.decode()
    assert "第 4 行:业务参考号“DF9999999999”在本县没有对应的发放明细。" in page
    assert {ln.status for ln in _lines(world, batch)} == {"confirmed"}


def test_a_csv_return_file_in_gbk_is_read(client, world, batch):
    v0, v1, _v3 = _lines(world, batch)
    text = f"业务参考号,状态,失败原因\r\n{v0.reference},成功,\r\n{v1.reference},失败,户名不符\r\n"
    login(client, world.a.users["county_admin"])
    response = _upload(client, batch, text.encode("gb18030"), name="回盘.csv")
    assert response.status_code == 302
    statuses = [(ln.status, ln.paid_on) for ln in _lines(world, batch)]
    assert statuses == [("paid", TODAY), ("failed", None), ("confirmed", None)]


def test_a_failed_line_reported_paid_is_a_conflict(client, world, batch):
    v0, *_ = _lines(world, batch)
    with world.a.scope():
        services.line_fail(actor=f.county_admin(world.a), line=v0, reason="账户冻结")
    login(client, world.a.users["county_admin"])
    response = _upload(client, batch, _xlsx([(v0.reference, "甲", 720, "成功", "", "")]))
    assert response.status_code == 400
    assert "已标记为发放失败,不能再登记为成功" in response.content.decode()


def test_a_line_of_another_batch_is_not_this_batchs(client, world, batch):
    a = world.a
    other_program = f.program(a, name="特别扶助(测试)", amount="500")
    f.enroll(a, other_program, a.persons[3])
    with a.scope():
        other = services.batch_create(
            actor=f.county_admin(a), program=other_program, period="2026", node=a.county
        )
        services.batch_confirm(actor=f.county_admin(a), batch=other)
        reference = Disbursement.objects.get(batch=other).reference
    login(client, a.users["county_admin"])
    response = _upload(client, batch, _xlsx([(reference, "丁", 500, "成功", "", "")]))
    assert response.status_code == 400
    assert f"属于第 {other.pk} 号批次,不是本批次的明细" in response.content.decode()


def test_a_failure_after_the_batch_was_paid_returns_the_money_to_the_fund(client, world, batch):
    a = world.a
    fund = f.fund(a, balance="3000")
    with activate(county_scope(a.county.pk)):
        batch.program.fund = fund
        batch.program.save()
    with a.scope():
        services.batch_mark_paid(
            actor=f.county_admin(a), batch=batch, paid_on=datetime.date(2026, 3, 10), method="bank"
        )
    _, _, v3 = _lines(world, batch)
    login(client, a.users["county_admin"])
    content = _xlsx([(v3.reference, "丙", 1200, "失败", "户名与账号不符", "")])
    assert _upload(client, batch, content).status_code == 302
    assert _upload(client, batch, content).status_code == 302  # twice: one refund
    with activate(county_scope(a.county.pk)):
        fund.refresh_from_db()
        refunds = FundEntry.objects.filter(fund=fund, direction="income", disbursement=v3)
        assert [r.amount for r in refunds] == [Decimal("1200.00")]
    assert fund.balance == Decimal("1560.00")  # 3,000 - 2,640 + 1,200


def test_a_bad_file_is_refused_as_a_whole(client, world, batch):
    login(client, world.a.users["county_admin"])
    response = _upload(client, batch, b"not a workbook", name="回盘.xls")
    assert response.status_code == 400
    assert "不支持旧版 .xls 文件" in response.content.decode()
    response = _upload(client, batch, _xlsx([("x", "y")], header=("姓名", "金额")))
    assert response.status_code == 400
    assert "找不到表头" in response.content.decode()


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary"])
def test_only_the_county_admin_uploads_returns(client, world, batch, role):
    login(client, world.a.users[role])
    v0, *_ = _lines(world, batch)
    response = _upload(client, batch, _xlsx([(v0.reference, "甲", 720, "成功", "", "")]))
    assert response.status_code in (403, 404)  # 404 where the county batch is out of scope
    assert {ln.status for ln in _lines(world, batch)} == {"confirmed"}


# --- the finance system's API --------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_finance_api_reports_payments_idempotently(world, batch):
    v0, v1, _v3 = _lines(world, batch)
    api = _api(world.a.users["county_admin"])
    url = reverse("api-disbursement-report")
    body = {
        "results": [
            {"reference": v0.reference, "status": "paid", "paid_on": "2026-03-10"},
            {"reference": v1.reference, "status": "failed", "reason": "账号不存在"},
        ]
    }
    first = api.post(url, body, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == {"paid": 1, "failed": 1, "unchanged": 0}
    second = api.post(url, body, format="json")
    assert second.json() == {"paid": 0, "failed": 0, "unchanged": 2}
    statuses = [(ln.status, ln.paid_on) for ln in _lines(world, batch)]
    assert statuses == [("paid", datetime.date(2026, 3, 10)), ("failed", None), ("confirmed", None)]


def test_the_finance_api_refuses_with_stable_codes_and_applies_nothing(world, batch):
    v0, v1, v3 = _lines(world, batch)
    api = _api(world.a.users["county_admin"])
    url = reverse("api-disbursement-report")
    with world.a.scope():
        services.line_fail(actor=f.county_admin(world.a), line=v1, reason="账户冻结")
    response = api.post(
        url,
        {
            "results": [
                {"reference": v0.reference, "status": "paid"},
                {"reference": "DF0000000000", "status": "paid"},
                {"reference": v1.reference, "status": "paid"},
                {"reference": v3.reference, "status": "paid"},
                {"reference": v3.reference, "status": "failed"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    codes = {name: [e["code"] for e in errors] for name, errors in error["fields"].items()}
    assert codes == {
        "results.1.reference": ["unknown_reference"],
        "results.2.reference": ["status_conflict"],
        "results.4.reference": ["duplicate_reference"],
    }
    assert "本县没有对应的发放明细" in error["fields"]["results.1.reference"][0]["message"]
    assert [ln.status for ln in _lines(world, batch)] == ["confirmed", "failed", "confirmed"]
    bad = api.post(url, {"results": [{"reference": v0.reference, "status": "ok"}]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["results.0.status"][0]["code"] == "invalid_choice"


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary"])
def test_only_the_county_admin_reports_payments(world, batch, role):
    v0, *_ = _lines(world, batch)
    response = _api(world.a.users[role]).post(
        reverse("api-disbursement-report"),
        {"results": [{"reference": v0.reference, "status": "paid"}]},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert _lines(world, batch)[0].status == "confirmed"


def test_another_countys_references_are_unknown(world, batch):
    v0, *_ = _lines(world, batch)
    response = _api(world.b.users["county_admin"]).post(
        reverse("api-disbursement-report"),
        {"results": [{"reference": v0.reference, "status": "paid"}]},
        format="json",
    )
    assert response.status_code == 400
    codes = response.json()["error"]["fields"]["results.0.reference"]
    assert codes[0]["code"] == "unknown_reference"
    assert _lines(world, batch)[0].status == "confirmed"
