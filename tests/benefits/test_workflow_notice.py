"""The public notice (公示) as a page, in the API and as the printed sheet: names and ID
numbers masked for everyone who looks (张*三 style, region code only), with the amounts,
categories, reasons, the period and where to object. The sheet is read back and printed by
LibreOffice."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations.middleware import scope_for_user
from associations.scope import activate
from benefits import notice_services, workflow_services
from tests.benefits.factories_workflow import applied, make_person, make_program
from tests.conftest import login
from tests.libreoffice import print_to_pdf

pytestmark = pytest.mark.django_db

STARTS = datetime.date(2026, 3, 3)
CONTACT = "村委会计生办,电话 0319-1234567"
PROGRAM = "特别扶助(公示测试)"
REASONS = "独生子女户;本人 61 周岁;农业户籍"


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(workflow_services, "today", lambda: STARTS)


@pytest.fixture
def posted(world, clock):
    """A village notice of two people with telling names, in two categories."""
    a = world.a
    program = make_program(
        a, name=PROGRAM, rates=(("disability", "伤残", "960"), ("death", "死亡", "1200"))
    )
    wang = make_person(a, 0, name="王秀英", sequence=60)
    ouyang = make_person(a, 0, name="欧阳娜娜", sequence=61)
    applied(a, program, wang, category="disability", amount="960")
    applied(a, program, ouyang, category="death", amount="1200")
    secretary = a.users["village_secretary"]
    with activate(scope_for_user(secretary)):
        notice = notice_services.notice_publish(
            actor=secretary, program=program, node=a.villages[0], objection_contact=CONTACT
        )
    return notice, program, [wang, ouyang]


def _masked(person) -> str:
    return person.id_number[:6] + "*" * 12


def _no_full_identity(text: str, people) -> None:
    for person in people:
        assert person.name not in text
        assert person.id_number not in text
        assert person.id_number[6:14] not in text  # not even the birth date part


@pytest.mark.parametrize(
    "key", ["county_admin", "county_viewer", "township_staff", "village_secretary"]
)
def test_the_notice_page_masks_for_everyone(client, world, posted, key):
    notice, _program, people = posted
    login(client, world.a.users[key])
    response = client.get(reverse("notice-detail", args=[notice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    _no_full_identity(body, people)
    assert "王*英" in body and "欧**娜" in body
    assert _masked(people[0]) in body and _masked(people[1]) in body
    assert notice.title == f"{world.a.villages[0].name} {PROGRAM} 公示"
    assert notice.title in body
    assert "2026-03-03 至 2026-03-09(共 7 天)" in body
    assert f"如有异议,请于公示期内向{CONTACT}反映" in body
    for text in ("伤残", "死亡", "960.00", "1200.00", "2160.00", REASONS):
        assert text in body, text


def test_the_notice_is_not_seen_outside_its_village(client, world, posted):
    notice, _program, _people = posted
    for key in ("township_staff_sibling", "village_secretary_sibling", "group_leader"):
        login(client, world.a.users[key])
        assert client.get(reverse("notice-detail", args=[notice.pk])).status_code == 404
        assert client.get(reverse("notice-sheet", args=[notice.pk])).status_code == 404
    login(client, world.b.users["county_admin"])
    assert client.get(reverse("notice-list")).status_code == 200
    assert notice.title not in client.get(reverse("notice-list")).content.decode()


def test_the_notice_in_the_api_is_masked(world, posted):
    notice, _program, people = posted
    api = APIClient()
    api.force_authenticate(world.a.users["county_admin"])
    response = api.get(reverse("api-benefit-notice-detail", args=[notice.pk]))
    assert response.status_code == 200
    _no_full_identity(response.content.decode(), people)
    rows = response.json()["rows"]
    assert [(r["name"], r["id_number"], r["category"], r["amount"]) for r in rows] == [
        ("王*英", _masked(people[0]), "伤残", "960.00"),
        ("欧**娜", _masked(people[1]), "死亡", "1200.00"),
    ]
    assert response.json()["ends_on"] == "2026-03-09"


def _sheet(client, world, notice):
    login(client, world.a.users["village_secretary"])
    response = client.get(reverse("notice-sheet", args=[notice.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    return response.content


def test_the_printed_notice_is_masked_and_prints_on_a4(client, world, posted, tmp_path):
    notice, _program, people = posted
    content = _sheet(client, world, notice)
    book = openpyxl.load_workbook(io.BytesIO(content))
    ws = book.worksheets[0]
    cells = list(ws.iter_rows(values_only=True))
    everything = "\n".join(str(c) for row in cells for c in row if c is not None)
    _no_full_identity(everything, people)
    assert cells[0][0] == notice.title
    assert cells[1][0] == f"公示单位:{world.a.villages[0].name}"  # (its name has the county's)
    assert "公示期:2026-03-03 至 2026-03-09(共 7 天)" in str(cells[1][3])
    assert cells[2][0] == f"如有异议,请于公示期内向{CONTACT}反映。"
    assert cells[3][:6] == ("序号", "姓名", "身份证号", "扶助类别", "标准金额(元)", "符合条件")
    assert cells[4][:6] == (1, "王*英", _masked(people[0]), "伤残", 960, REASONS)
    assert cells[5][:6] == (2, "欧**娜", _masked(people[1]), "死亡", 1200, REASONS)
    assert ws.cell(row=5, column=5).number_format == "0.00"
    assert ws.cell(row=5, column=3).number_format == "@"
    assert cells[6][0] == "公示人数 2 人,标准金额合计 2160.00 元。"
    assert ws.print_title_rows == "$1:$4"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert (str(ws.page_setup.paperSize), ws.page_setup.orientation) == ("9", "landscape")  # A4

    printed = print_to_pdf(content, tmp_path, "notice.xlsx")
    assert printed.is_a4_landscape and printed.pages == 1
    compact = printed.compact
    _no_full_identity(printed.text, people)
    _no_full_identity(compact, people)
    assert notice.title.replace(" ", "") in compact
    for text in ("王*英", "欧**娜", _masked(people[0]), "2160.00", "第1页共1页"):
        assert text in compact, text


def test_a_township_notice_names_the_village_of_each(client, world, clock):
    a = world.a
    program = make_program(a, name=PROGRAM)
    first = make_person(a, 0, name="王秀英", sequence=60)
    second = make_person(a, 1, name="李桂兰", sequence=62)
    applied(a, program, first)
    applied(a, program, second)
    township = a.users["township_staff"]
    with activate(scope_for_user(township)):
        notice = notice_services.notice_publish(
            actor=township, program=program, node=a.townships[0], objection_contact=CONTACT
        )
    login(client, township)
    body = client.get(reverse("notice-detail", args=[notice.pk])).content.decode()
    _no_full_identity(body, [first, second])
    content = client.get(reverse("notice-sheet", args=[notice.pk])).content
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(ws.iter_rows(min_row=4, max_row=6, values_only=True))
    assert rows[0][:4] == ("序号", "姓名", "身份证号", "村(社区)")
    assert [(r[1], r[3], Decimal(str(r[5]))) for r in rows[1:]] == [
        ("王*英", a.villages[0].name, Decimal("720")),
        ("李*兰", a.villages[1].name, Decimal("720")),
    ]
    assert ws.cell(row=1, column=1).value == f"{a.townships[0].name} {PROGRAM} 公示"
    login(client, a.users["village_secretary"])  # the township's notice is the township's
    assert client.get(reverse("notice-detail", args=[notice.pk])).status_code == 404
