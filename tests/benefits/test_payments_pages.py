"""The batch pages and the read API: who sees and does what, one-time tokens against a double
tap, lines paginated and masked."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations.scope import activate
from benefits import payments_services as services
from benefits import payments_views
from benefits.models import Disbursement, DisbursementBatch
from benefits.selectors import county_scope
from households.identity import mask_id_number
from tests.conftest import login

from . import factories_payments as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(world):
    a = world.a
    program = f.program(a, name="奖励扶助(页面)")
    for index, person in enumerate(a.persons):
        account = f.account(a, person, f"62284804025648{index:05d}") if index % 2 == 0 else None
        f.enroll(a, program, person, account=account)
    return program


def _batch(world, program, node=None, confirm=False):
    a = world.a
    with a.scope():
        batch = services.batch_create(
            actor=f.county_admin(a), program=program, period="2026", node=node or a.county
        )
        if confirm:
            batch = services.batch_confirm(actor=f.county_admin(a), batch=batch)
    return batch


def _batches(world, program):
    with world.a.scope():
        return list(DisbursementBatch.objects.filter(program=program).order_by("id"))


def test_the_home_page_links_to_payments(client, world):
    login(client, world.a.users["village_secretary"])
    body = client.get(reverse("benefits-home")).content.decode()
    assert reverse("payment-batch-list") in body and reverse("payment-totals") in body


def test_a_batch_made_on_the_page_once_however_often_the_form_is_sent(client, world, program):
    a = world.a
    login(client, a.users["county_admin"])
    form = client.get(reverse("payment-batch-create"))
    assert form.status_code == 200 and "奖励扶助(页面)" in form.content.decode()
    token = str(uuid.uuid4())
    data = {"program": program.pk, "period": "2026", "node": a.county.pk, "form_token": token}
    first = client.post(reverse("payment-batch-create"), data)
    second = client.post(reverse("payment-batch-create"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    [batch] = _batches(world, program)
    assert "共 8 名对象" in client.get(first["Location"]).content.decode()
    bad = client.post(reverse("payment-batch-create"), {**data, "period": "2026年3月"})
    assert bad.status_code == 400
    assert "按年发放的项目,发放期应为年份" in bad.content.decode()
    assert len(_batches(world, program)) == 1 and batch.status == "draft"


@pytest.mark.parametrize(
    "role", ["county_viewer", "township_staff", "village_secretary", "group_leader"]
)
def test_only_the_county_admin_makes_batches(client, world, program, role):
    login(client, world.a.users[role])
    assert client.get(reverse("payment-batch-create")).status_code == 403
    data = {"program": program.pk, "period": "2026", "node": world.a.county.pk}
    assert client.post(reverse("payment-batch-create"), data).status_code == 403
    assert _batches(world, program) == []


def test_confirm_pay_and_a_double_tap(client, world, program):
    a = world.a
    fund = f.fund(a, balance="10000")
    with activate(county_scope(a.county.pk)):
        program.fund = fund
        program.save()
    batch = _batch(world, program)
    login(client, a.users["county_admin"])
    detail = reverse("payment-batch-detail", kwargs={"pk": batch.pk})
    page = client.get(detail).content.decode()
    assert "确认批次" in page and "作废批次" in page and "登记发放" not in page
    tokens = re.findall(r'name="form_token" value="([0-9a-f-]{36})"', page)
    assert len(tokens) == len(set(tokens)) == 2  # confirm, cancel: one token each
    token = str(uuid.uuid4())
    confirm = reverse("payment-batch-confirm", kwargs={"pk": batch.pk})
    client.post(confirm, {"form_token": token})
    again = client.post(confirm, {"form_token": token}, follow=True)
    assert "这张表单已经提交过,批次已确认" in again.content.decode()
    page = client.get(detail).content.decode()
    assert "登记发放" in page and "下载代发文件" in page and "确认批次" not in page
    pay = reverse("payment-batch-pay", kwargs={"pk": batch.pk})
    assert client.get(pay).status_code == 200
    response = client.post(
        pay, {"paid_on": "2026-03-10", "method": "bank", "reference": "NY-01"}, follow=True
    )
    assert "已登记发放,合计 5760.00 元" in response.content.decode()  # 8 × 720
    with activate(county_scope(a.county.pk)):
        fund.refresh_from_db()
    assert fund.balance == Decimal("4240.00")


def test_a_fund_short_of_money_is_said_on_the_pay_form(client, world, program):
    a = world.a
    fund = f.fund(a, balance="100")
    with activate(county_scope(a.county.pk)):
        program.fund = fund
        program.save()
    batch = _batch(world, program, confirm=True)
    login(client, a.users["county_admin"])
    response = client.post(
        reverse("payment-batch-pay", kwargs={"pk": batch.pk}),
        {"paid_on": "2026-03-10", "method": "bank"},
    )
    assert response.status_code == 400
    assert "余额不足:现有 100.00 元,本次支出 5760.00 元" in response.content.decode()
    with a.scope():
        batch.refresh_from_db()
    assert batch.status == "confirmed"


def test_lines_are_paginated_and_masked(client, world, program, monkeypatch):
    a = world.a
    monkeypatch.setattr(payments_views, "LINES_PER_PAGE", 3)
    batch = _batch(world, program, confirm=True)
    login(client, a.users["county_admin"])
    url = reverse("payment-batch-detail", kwargs={"pk": batch.pk})
    first = client.get(url).content.decode()
    third = client.get(url, {"page": 3}).content.decode()
    assert "第 1 页(第 1–3 条)" in first and "下一页" in first
    assert "第 3 页(第 7–8 条)" in third and "下一页" not in third
    for person in a.persons:
        assert person.id_number not in first + third
    assert mask_id_number(a.persons[0].id_number) in first
    assert "6228480402564800000" not in first
    assert "***************0000" in first  # the account's last four digits only
    filtered = client.get(url, {"status": "confirmed"})
    assert filtered.status_code == 200
    assert client.get(url, {"status": "nonsense"}).status_code == 400


def test_a_line_marked_failed_on_its_page_then_reissued(client, world, program):
    a = world.a
    batch = _batch(world, program, confirm=True)
    with a.scope():
        line = Disbursement.objects.filter(batch=batch).order_by("id").first()
    login(client, a.users["county_admin"])
    url = reverse("payment-line-fail", kwargs={"pk": line.pk})
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "户名与账号不符"}).status_code == 302
    response = client.post(reverse("payment-batch-reissue", kwargs={"pk": batch.pk}), follow=True)
    assert "已生成重发批次(草稿),共 1 条" in response.content.decode()
    new = _batches(world, program)[-1]
    with a.scope():
        assert Disbursement.objects.get(batch=new).reissue_of_id == line.pk


def test_a_draft_batch_cancelled_on_its_page(client, world, program):
    batch = _batch(world, program)
    login(client, world.a.users["county_admin"])
    client.post(reverse("payment-batch-cancel", kwargs={"pk": batch.pk}))
    with world.a.scope():
        batch.refresh_from_db()
    assert batch.status == "cancelled"
    response = client.post(reverse("payment-batch-confirm", kwargs={"pk": batch.pk}), follow=True)
    assert "该批次已作废,不能再确认" in response.content.decode()


@pytest.mark.parametrize(
    "role", ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]
)
def test_every_account_of_the_county_reads_a_county_batch(client, world, program, role):
    batch = _batch(world, program, confirm=True)
    login(client, world.a.users[role])
    response = client.get(reverse("payment-batch-detail", kwargs={"pk": batch.pk}))
    assert response.status_code == 200
    listed = client.get(reverse("payment-batch-list")).content.decode()
    assert reverse("payment-batch-detail", kwargs={"pk": batch.pk}) in listed
    if role != "county_admin":
        body = response.content.decode()
        assert ">确认批次</button>" not in body and ">登记发放</a>" not in body
        assert "代发文件" not in body
        for name in ("payment-batch-cancel", "payment-batch-confirm", "payment-batch-reissue"):
            assert client.post(reverse(name, kwargs={"pk": batch.pk})).status_code == 403
        for name in ("payment-batch-pay", "payment-batch-returns"):
            assert client.get(reverse(name, kwargs={"pk": batch.pk})).status_code == 403
        with world.a.scope():
            batch.refresh_from_db()
        assert batch.status == "confirmed"


def test_a_village_reads_only_its_own_part_of_a_county_batch(client, world, program):
    """Eight persons enrolled, two a village, 720.00 each: the county batch holds 5,760.00;
    t0v0's secretary sees its two lines (1,440.00), the township t0 its four (2,880.00)."""
    a = world.a
    batch = _batch(world, program, confirm=True)
    url = reverse("payment-batch-detail", kwargs={"pk": batch.pk})
    seen = {
        "village_secretary": ([0], "1440.00"),
        "village_secretary_sibling": ([1], "1440.00"),
        "township_staff": ([0, 1], "2880.00"),
        "county_viewer": ([0, 1, 2, 3], "5760.00"),
    }
    for role, (villages, total) in seen.items():
        login(client, a.users[role])
        body = client.get(url).content.decode()
        for index, village in enumerate(a.villages):
            shown = f'<td data-label="村(社区)">{village.name}</td>'
            assert (body.count(shown) == 2) is (index in villages), (role, village.name)
            assert (shown in body) is (index in villages), (role, village.name)
        count = 2 * len(villages)
        assert f'<td class="num">{count}</td><td class="num">{total}</td>' in body
        assert ("只显示您管理范围内的明细" in body) is (role != "county_viewer")
        assert "发放范围</dt><dd>" + a.county.name in body
        listed = client.get(reverse("payment-batch-list")).content.decode()
        row = re.search(rf'href="{url}">.*?</tr>', listed, re.S).group(0)
        assert f'<td data-label="人数" class="num">{count}</td>' in row
        assert f'<td data-label="金额(元)" class="num">{total}</td>' in row
    login(client, a.users["village_secretary"])
    with a.scope():
        mine = Disbursement.objects.get(batch=batch, person=a.persons[0])
        sibling = Disbursement.objects.get(batch=batch, person=a.persons[2])
    assert client.get(reverse("payment-line-fail", kwargs={"pk": mine.pk})).status_code == 403
    assert client.get(reverse("payment-line-fail", kwargs={"pk": sibling.pk})).status_code == 404


def test_a_batch_of_a_sibling_subtree_stays_invisible(client, world, program):
    a = world.a
    village_batch = _batch(world, program, node=a.villages[1], confirm=True)  # t0v1
    with a.scope():
        township_batch = services.batch_create(
            actor=f.county_admin(a), program=program, period="2027", node=a.townships[1]
        )
    cases = {
        "village_secretary": {village_batch: 404, township_batch: 404},
        "village_secretary_sibling": {village_batch: 200, township_batch: 404},
        "township_staff": {village_batch: 200, township_batch: 404},
        "township_staff_sibling": {village_batch: 404, township_batch: 200},
        "county_viewer": {village_batch: 200, township_batch: 200},
    }
    for role, statuses in cases.items():
        login(client, a.users[role])
        listed = client.get(reverse("payment-batch-list")).content.decode()
        for batch, status in statuses.items():
            url = reverse("payment-batch-detail", kwargs={"pk": batch.pk})
            assert client.get(url).status_code == status, (role, batch.pk)
            receipts = reverse("payment-batch-receipts", kwargs={"pk": batch.pk})
            assert (client.get(receipts).status_code == 404) is (status == 404), role
            assert (f'href="{url}"' in listed) is (status == 200), role


def test_a_village_batch_is_seen_by_its_village_and_township(client, world, program):
    a = world.a
    batch = _batch(world, program, node=a.villages[0], confirm=True)
    for role in ("village_secretary", "township_staff", "county_admin"):
        login(client, a.users[role])
        page = client.get(reverse("payment-batch-detail", kwargs={"pk": batch.pk}))
        assert page.status_code == 200
        assert "下载代发文件" not in page.content.decode() or role == "county_admin"
    login(client, a.users["village_secretary_sibling"])
    assert client.get(reverse("payment-batch-detail", kwargs={"pk": batch.pk})).status_code == 404


# --- the read API ---------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_reads_batches_with_their_figures(world, program):
    batch = _batch(world, program, confirm=True)
    api = _api(world.a.users["county_viewer"])
    [row] = api.get(reverse("api-disbursement-batch-list")).json()["results"]
    assert (row["id"], row["status"], row["line_count"], row["total_amount"]) == (
        batch.pk,
        "confirmed",
        8,
        "5760.00",
    )
    detail = api.get(reverse("api-disbursement-batch-detail", kwargs={"pk": batch.pk})).json()
    assert detail["program_name"] == "奖励扶助(页面)" and detail["status_display"] == "已确认"


def test_the_api_lines_are_scoped_and_masked(world, program):
    a = world.a
    batch = _batch(world, program, confirm=True)
    api = _api(a.users["village_secretary"])
    rows = api.get(reverse("api-disbursement-list"), {"batch": batch.pk}).json()["results"]
    assert {r["village"] for r in rows} == {a.villages[0].pk}
    assert [r["name"] for r in rows] == [a.persons[0].name, a.persons[1].name]
    assert rows[0]["id_number"] == mask_id_number(a.persons[0].id_number)
    assert rows[0]["account_number"] == "***************0000"
    assert rows[0]["amount"] == "720.00" and rows[1]["account_number"] == ""
    assert a.persons[0].id_number not in str(rows)
    detail = api.get(reverse("api-disbursement-detail", kwargs={"pk": rows[0]["id"]})).json()
    assert detail["id_number"] == rows[0]["id_number"]
    assert detail["reference"].startswith("DF")


def test_nothing_of_a_sibling_village_is_read_through_the_api(world, program):
    a = world.a
    batch = _batch(world, program, node=a.villages[1], confirm=True)  # t0v1's own batch
    with a.scope():
        sibling_line = Disbursement.objects.get(batch=batch, person=a.persons[2])
    api = _api(a.users["village_secretary"])  # t0v0
    assert (
        api.get(reverse("api-disbursement-detail", kwargs={"pk": sibling_line.pk})).status_code
        == 404
    )
    assert (
        api.get(reverse("api-disbursement-batch-detail", kwargs={"pk": batch.pk})).status_code
        == 404
    )
    assert api.get(reverse("api-disbursement-batch-list")).json()["results"] == []


def test_the_api_gives_a_village_its_part_of_a_county_batch(world, program):
    a = world.a
    batch = _batch(world, program, confirm=True)
    api = _api(a.users["village_secretary"])  # t0v0: persons 0 and 1
    [row] = api.get(reverse("api-disbursement-batch-list")).json()["results"]
    assert (row["id"], row["line_count"], row["total_amount"]) == (batch.pk, 2, "1440.00")
    detail = api.get(reverse("api-disbursement-batch-detail", kwargs={"pk": batch.pk})).json()
    assert (detail["line_count"], detail["total_amount"], detail["township"]) == (
        2,
        "1440.00",
        None,
    )
    lines = api.get(reverse("api-disbursement-list"), {"batch": batch.pk}).json()["results"]
    assert sorted(r["person"] for r in lines) == sorted([a.persons[0].pk, a.persons[1].pk])


def test_totals_and_detail_pages_render_on_an_empty_period(client, world, program):
    login(client, world.a.users["county_admin"])
    page = client.get(reverse("payment-totals"), {"program": program.pk, "period": "2030"})
    assert page.status_code == 200
    assert "本发放期还没有已确认的发放明细" in page.content.decode()
    assert client.get(reverse("payment-totals")).status_code == 200
