"""The bank transfer file (代发文件: full account numbers, the county's administrators only,
each one recorded) and the receipt sheets (领取签收表: one A4 sheet per village, ID numbers
and accounts masked, a column to sign, totals), read back and opened in LibreOffice.

County A's 2026 batch, confirmed: t0v0's head 720.00 (account …0018), t0v1's head 720.00 (no
account), t1v1's spouse 1,200.00 (account …5678): the bank file pays two, 1,920.00; the third
is listed apart. The receipt sheets: three villages, 2,640.00 in all."""

from __future__ import annotations

import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.urls import reverse

from benefits import payments_services as services
from benefits import payments_sheets
from benefits.payments_rules import parse_period
from households.identity import mask_id_number
from households.models import Household, IdentityRead
from tests.conftest import login
from tests.libreoffice import print_to_pdf

from . import factories_payments as f

pytestmark = pytest.mark.django_db

V0_ACCOUNT = "6228480402564890018"
V3_ACCOUNT = "6217000010012345678"


@pytest.fixture
def batch(world):
    a = world.a
    program = f.program(a, name="农村计生家庭奖励扶助(测试)")
    heads = f.heads(a)
    spouse = a.persons[7]
    f.enroll(a, program, heads[0], account=f.account(a, heads[0], V0_ACCOUNT))
    f.enroll(a, program, heads[1])
    f.enroll(a, program, spouse, amount="1200", account=f.account(a, spouse, V3_ACCOUNT))
    with a.scope():
        made = services.batch_create(
            actor=f.county_admin(a), program=program, period="2026", node=a.county
        )
        return services.batch_confirm(actor=f.county_admin(a), batch=made)


def _bank_file(client, batch):
    return client.post(reverse("payment-batch-bank-file", kwargs={"pk": batch.pk}))


def _values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_bank_file_holds_full_numbers_and_its_writing_is_recorded(client, world, batch):
    a = world.a
    admin = a.users["county_admin"]
    login(client, admin)
    response = _bank_file(client, batch)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "bank_transfer" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["代发明细", "未列入代发"]
    rows = _values(book["代发明细"])
    assert rows[0][0] == "清河县农村计生家庭奖励扶助(测试)代发明细(2026年)"
    assert rows[1][0].startswith(f"批次:第 {batch.pk} 号    笔数:2    金额合计:1920.00 元")
    assert rows[2] == ["序号", "户名", "开户银行", "账号", "金额(元)", "业务参考号", "摘要"]
    heads, spouse = f.heads(a), a.persons[7]
    with a.scope():
        refs = dict(batch.lines.values_list("person_id", "reference"))
    assert rows[3:5] == [
        [
            1,
            heads[0].name,
            f.BANK,
            V0_ACCOUNT,
            720,
            refs[heads[0].pk],
            "农村计生家庭奖励扶助(测试)2026",
        ],
        [
            2,
            spouse.name,
            f.BANK,
            V3_ACCOUNT,
            1200,
            refs[spouse.pk],
            "农村计生家庭奖励扶助(测试)2026",
        ],
    ]
    assert rows[5][:5] == ["合计", "2 笔", None, None, 1920]
    account_cell = book["代发明细"]["D4"]
    assert account_cell.data_type == "s" and account_cell.number_format == "@"  # text, all digits
    left_out = _values(book["未列入代发"])
    assert left_out[3] == [
        1,
        heads[1].name,
        a.villages[1].name,
        720,
        refs[heads[1].pk],
        "未设置有效的收款账户",
    ]
    with a.scope():
        [read] = IdentityRead.objects.filter(reader=admin, reason="export")
    assert read.fields == ["bank_account"]
    assert sorted(read.person_ids) == sorted([heads[0].pk, spouse.pk])
    assert read.route == "payment-batch-bank-file"


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary"])
def test_nobody_but_the_county_admin_writes_a_bank_file(client, world, batch, role):
    """Every account of the county reads a county batch; its bank file is the admin's."""
    login(client, world.a.users[role])
    page = client.get(reverse("payment-batch-detail", kwargs={"pk": batch.pk})).content.decode()
    assert reverse("payment-batch-bank-file", kwargs={"pk": batch.pk}) not in page
    assert _bank_file(client, batch).status_code == 403
    with world.a.scope():
        assert not IdentityRead.objects.filter(reason="export").exists()


def test_the_bank_file_is_never_a_get_and_only_for_a_confirmed_batch(client, world, batch):
    login(client, world.a.users["county_admin"])
    url = reverse("payment-batch-bank-file", kwargs={"pk": batch.pk})
    assert client.get(url).status_code == 405
    with world.a.scope():
        services.batch_mark_paid(
            actor=world.a.users["county_admin"],
            batch=batch,
            paid_on=batch.confirmed_at.date(),
            method="bank",
        )
    response = _bank_file(client, batch)
    assert response.status_code == 302  # a paid batch goes back to its page, with the reason
    assert "只有已确认、尚未登记发放的批次" in client.get(response["Location"]).content.decode()


def test_full_numbers_appear_nowhere_else(client, world, batch):
    a = world.a
    login(client, a.users["county_admin"])
    detail = client.get(reverse("payment-batch-detail", kwargs={"pk": batch.pk}))
    receipts = client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk}))
    lines = client.get(reverse("api-disbursement-list"), {"batch": batch.pk})
    for body in (detail.content.decode(), lines.content.decode()):
        assert V0_ACCOUNT not in body and V3_ACCOUNT not in body
        assert "***************0018" in body
    text = "".join(
        str(v)
        for s in openpyxl.load_workbook(io.BytesIO(receipts.content))
        for r in _values(s)
        for v in r
    )
    assert V0_ACCOUNT not in text and "***************0018" in text
    for person in a.persons:
        assert person.id_number not in text


def test_the_receipt_sheets_one_per_village_masked_with_totals(client, world, batch):
    a = world.a
    login(client, a.users["county_admin"])
    response = client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk}))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [a.villages[0].name, a.villages[1].name, a.villages[3].name]
    heads, spouse = f.heads(a), a.persons[7]
    sheet = _values(book[a.villages[3].name])
    assert sheet[0][0] == f"清河县{a.villages[3].name}农村计生家庭奖励扶助(测试)领取签收表"
    assert sheet[1][0].startswith(f"发放期:2026年    乡镇(街道):{a.townships[1].name}")
    assert sheet[2] == [
        "序号",
        "姓名",
        "身份证号码",
        "户编号",
        "金额(元)",
        "收款账户",
        "领取人签名(手印)",
        "领取日期",
    ]
    assert sheet[3] == [
        1,
        spouse.name,
        mask_id_number(spouse.id_number),
        "0004",
        1200,
        f"{f.BANK} ***************5678",
        None,
        None,
    ]
    assert sheet[3][2] == "130534************"
    assert sheet[4][:5] == ["合计", "1 人", None, None, 1200]
    cash = _values(book[a.villages[1].name])
    assert cash[3][1] == heads[1].name and cash[3][5] == "现金"
    ws = book[a.villages[0].name]
    assert ws.print_title_rows == "$1:$3"  # title, line and header on every page
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4


def test_a_township_prints_its_own_villages_receipts(client, world):
    """A batch of the first township: its staff print its two villages; the sibling
    township's staff do not reach it."""
    a = world.a
    program = f.program(a, name="特别扶助(测试)", amount="500")
    heads = f.heads(a)
    for head in heads:
        f.enroll(a, program, head)
    with a.scope():
        batch = services.batch_create(
            actor=f.county_admin(a), program=program, period="2026", node=a.townships[0]
        )
        services.batch_confirm(actor=f.county_admin(a), batch=batch)
    login(client, a.users["township_staff"])
    response = client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk}))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [a.villages[0].name, a.villages[1].name]
    login(client, a.users["township_staff_sibling"])
    assert client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk})).status_code == 404


def test_a_village_prints_its_own_sheet_of_a_county_batch(client, world, batch):
    """The county batch holds three villages; each village's secretary gets the sheet of
    that village only, named so; the township t0 gets its two villages'."""
    a = world.a
    heads = f.heads(a)
    expected = {
        "village_secretary": [a.villages[0].name],
        "village_secretary_sibling": [a.villages[1].name],
        "township_staff": [a.villages[0].name, a.villages[1].name],
    }
    url = reverse("payment-batch-receipts", kwargs={"pk": batch.pk})
    for role, villages in expected.items():
        login(client, a.users[role])
        response = client.get(url)
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == villages, role
        node_name = a.users[role].node.name
        assert f"第{batch.pk}号_{node_name}.xlsx" in unquote(response["Content-Disposition"])
    login(client, a.users["village_secretary"])
    sheet = _values(openpyxl.load_workbook(io.BytesIO(client.get(url).content))[villages[0]])
    assert sheet[0][0] == f"清河县{a.villages[0].name}农村计生家庭奖励扶助(测试)领取签收表"
    assert [row[1] for row in sheet[3:4]] == [heads[0].name]
    assert sheet[4][:5] == ["合计", "1 人", None, None, 720]
    text = str(sheet)
    assert heads[1].name not in text and a.persons[7].name not in text


def test_a_village_without_lines_in_a_county_batch_is_told_so(client, world, batch):
    """The leader of t0v0's second group, where no beneficiary lives, reads the batch but
    has no sheet to print."""
    a = world.a
    login(client, a.users["group_leader_sibling"])
    response = client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk}))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "本批次在您的管理范围内没有已确认或已发放的明细,无法生成领取签收表。" in page


def test_both_workbooks_print_in_libreoffice(client, world, batch, tmp_path):
    a = world.a
    login(client, a.users["county_admin"])
    receipts = client.get(reverse("payment-batch-receipts", kwargs={"pk": batch.pk})).content
    printed = print_to_pdf(receipts, tmp_path, "receipts.xlsx")
    assert printed.is_a4_landscape
    assert printed.pages == 3  # one village a page
    compact = printed.compact
    assert f"清河县{a.villages[0].name}农村计生家庭奖励扶助(测试)领取签收表" in compact
    assert "领取人签名(手印)" in compact and "130534************" in compact
    assert "第1页共3页" in compact
    bank = print_to_pdf(_bank_file(client, batch).content, tmp_path, "bank.xlsx")
    assert V0_ACCOUNT in bank.compact and "1920.00" in bank.compact
    assert "未列入代发文件的明细" in bank.compact


def test_household_enrolments_are_paid_to_the_head_or_named_by_the_household(world):
    """A household programme: the receipt row of a household with a head names the head and
    shows the head's masked ID number; one without a head is "<number>户" with no ID number.
    Neither has an account, so both are listed apart in the bank file by the same names."""
    a = world.a
    admin = f.county_admin(a)
    program = f.program(a, name="计生家庭意外伤害保险(测试)", beneficiary_kind="household")
    head = f.heads(a)[0]
    headless = Household(number="0099", address="测试路99号")
    headless.place_under(a.villages[1])
    with a.scope():
        headless.save()
        families = Household.objects.select_related("village", "group")
        headed = families.get(pk=head.household_id)
        headless = families.get(pk=headless.pk)
    f.enroll(a, program, household=headed)
    f.enroll(a, program, household=headless)
    with a.scope():
        made = services.batch_create(actor=admin, program=program, period="2026", node=a.county)
        batch = services.batch_confirm(actor=admin, batch=made)
        period = parse_period(program.frequency, batch.period)
        receipts = payments_sheets.receipts(batch, period, user=admin, made_on=batch.created_at)
        bank = payments_sheets.bank_file(batch, period, made_on=batch.created_at)
    book = openpyxl.load_workbook(io.BytesIO(receipts))
    first = _values(book[a.villages[0].name])[3]
    second = _values(book[a.villages[1].name])[3]
    assert first[:6] == [
        1,
        head.name,
        mask_id_number(head.id_number),
        head.household.number,
        720,
        "现金",
    ]
    assert second[:6] == [1, "0099户", None, "0099", 720, "现金"]
    left_out = _values(openpyxl.load_workbook(io.BytesIO(bank.content))["未列入代发"])
    assert [row[1:4] for row in left_out[3:5]] == [
        [head.name, a.villages[0].name, 720],
        ["0099户", a.villages[1].name, 720],
    ]
    assert (bank.count, bank.left_out, bank.holder_ids) == (0, 2, [])
