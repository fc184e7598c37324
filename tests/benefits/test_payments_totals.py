"""Totals of a programme and period by village, township and county, worked by hand.

County A's 2026 batch (720.00 a year; t1v0's head on another category's 1,200.00):
  t0v0  head 720.00 paid, spouse 720.00 confirmed      due 2 / 1,440.00   paid 1 /   720.00
  t0v1  head 720.00 paid                                due 1 /   720.00   paid 1 /   720.00
  第1镇                                                  due 3 / 2,160.00   paid 2 / 1,440.00
  t1v0  head 1,200.00 confirmed                          due 1 / 1,200.00   paid 0 /     0.00
  t1v1  spouse 720.00 failed (not counted)               —
  第2镇                                                  due 1 / 1,200.00   paid 0 /     0.00
  county                                                 due 4 / 3,360.00   paid 2 / 1,440.00
A 2025 batch of the same programme (t0v0's head, paid) counts in 2025 only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from benefits import payments_returns, payments_selectors
from benefits import payments_services as services
from benefits.models import Disbursement
from tests.conftest import login

from . import factories_payments as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(world):
    a = world.a
    program = f.program(a)
    admin = f.county_admin(a)
    p = a.persons
    new = datetime.date(2026, 1, 15)  # on the roll in 2026 only
    f.enroll(a, program, p[0], enrolled_on=datetime.date(2024, 1, 1))
    f.enroll(a, program, p[1], enrolled_on=new)
    f.enroll(a, program, p[2], enrolled_on=new)
    f.enroll(a, program, p[4], amount="1200", enrolled_on=new)
    f.enroll(a, program, p[7], enrolled_on=new)
    with a.scope():
        earlier = services.batch_create(actor=admin, program=program, period="2025", node=a.county)
        services.batch_confirm(actor=admin, batch=earlier)
        services.batch_mark_paid(
            actor=admin, batch=earlier, paid_on=datetime.date(2025, 12, 1), method="cash"
        )
        batch = services.batch_create(actor=admin, program=program, period="2026", node=a.county)
        services.batch_confirm(actor=admin, batch=batch)
        ref = dict(Disbursement.objects.filter(batch=batch).values_list("person_id", "reference"))
        payments_returns.results_apply(
            actor=admin,
            results=[
                payments_returns.LineResult(ref[p[0].pk], "paid"),
                payments_returns.LineResult(ref[p[2].pk], "paid"),
                payments_returns.LineResult(ref[p[7].pk], "failed", "账号不存在"),
            ],
        )
    return program


def _figures(row) -> tuple:
    return (row.due_count, row.due_amount, row.paid_count, row.paid_amount)


def test_totals_by_village_township_and_county(world, program, django_assert_max_num_queries):
    a = world.a
    with a.scope(), django_assert_max_num_queries(3):
        totals = payments_selectors.payment_totals(
            actor=a.users["county_admin"], program=program, period="2026"
        )
    d = Decimal
    assert [(t.name, _figures(t)) for t in totals.townships] == [
        (a.townships[0].name, (3, d("2160.00"), 2, d("1440.00"))),
        (a.townships[1].name, (1, d("1200.00"), 0, d("0.00"))),
    ]
    assert [(v.name, _figures(v)) for v in totals.townships[0].villages] == [
        (a.villages[0].name, (2, d("1440.00"), 1, d("720.00"))),
        (a.villages[1].name, (1, d("720.00"), 1, d("720.00"))),
    ]
    assert [(v.name, _figures(v)) for v in totals.townships[1].villages] == [
        (a.villages[2].name, (1, d("1200.00"), 0, d("0.00"))),
    ]
    assert _figures(totals.total) == (4, d("3360.00"), 2, d("1440.00"))
    assert totals.show_townships
    with a.scope():
        earlier = payments_selectors.payment_totals(
            actor=a.users["county_admin"], program=program, period="2025"
        )
    assert _figures(earlier.total) == (1, d("720.00"), 1, d("720.00"))


def test_the_totals_page_for_the_county_and_for_a_township(client, world, program):
    a = world.a
    login(client, a.users["county_admin"])
    page = client.get(reverse("payment-totals"), {"program": program.pk, "period": "2026"})
    assert page.status_code == 200
    body = page.content.decode()
    total_row = body.split("合计(清河县)")[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in total_row.split('class="num">')[1:]] == [
        "4",
        "3360.00",
        "2",
        "1440.00",
    ]
    assert f"{a.townships[0].name} 小计" in body
    login(client, a.users["township_staff"])
    body = client.get(
        reverse("payment-totals"), {"program": program.pk, "period": "2026"}
    ).content.decode()
    assert a.villages[2].name not in body and "小计" not in body
    total_row = body.split(f"合计({a.townships[0].name})")[1].split("</tr>")[0]
    assert '<td class="num">3</td><td class="num">2160.00</td>' in total_row


def test_a_bad_period_on_the_totals_page_is_a_400_in_chinese(client, world, program):
    login(client, world.a.users["county_admin"])
    page = client.get(reverse("payment-totals"), {"program": program.pk, "period": "2026-13"})
    assert page.status_code == 400
    assert "按年发放的项目,发放期应为年份" in page.content.decode()


def test_the_totals_api(world, program):
    a = world.a
    api = APIClient()
    api.force_authenticate(a.users["county_viewer"])
    response = api.get(
        reverse("api-payment-totals-list"), {"program": program.pk, "period": "2026"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == {
        "id": a.county.pk,
        "name": a.county.name,
        "due_count": 4,
        "due_amount": "3360.00",
        "paid_count": 2,
        "paid_amount": "1440.00",
    }
    assert [(t["name"], t["due_amount"]) for t in data["townships"]] == [
        (a.townships[0].name, "2160.00"),
        (a.townships[1].name, "1200.00"),
    ]
    under = api.get(
        reverse("api-payment-totals-list"),
        {"program": program.pk, "period": "2026", "under": a.villages[0].pk},
    ).json()
    assert (under["total"]["due_count"], under["total"]["paid_amount"]) == (2, "720.00")
    bad = api.get(reverse("api-payment-totals-list"), {"program": program.pk, "period": "x"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["period"][0]["code"] == "period_invalid"
    foreign = APIClient()
    foreign.force_authenticate(world.b.users["county_admin"])
    response = foreign.get(
        reverse("api-payment-totals-list"), {"program": program.pk, "period": "2026"}
    )
    assert response.status_code == 404
