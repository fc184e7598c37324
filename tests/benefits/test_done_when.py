"""Issue 13's "done when", end to end through the pages, as the users do it: a village applies,
the notice prints masked, the township reviews after the notice period, the county approves, a
batch pays (bank file and receipt sheets printed), a re-sent batch pays nobody twice, and the
payment appears in the half-year's assessment and its summary.

On conftest.population_world (tests/reports): county A's v0 household head, 奖励扶助 720.00 a
year. Notice 2026-03-03 to 03-09, review 03-10, enrolled from 03-10, paid 03-20: in 2026-H1
the county paid 1 person 720 yuan."""

from __future__ import annotations

import datetime
import io
import re
import uuid
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.models import Disbursement, DisbursementBatch, Enrollment, Program
from benefits.payments_accounts import bank_account_add, enrollment_set_account
from households.identity import mask_id_number, mask_name
from reports import summary
from reports.models import SnapshotNode
from tests.conftest import login
from tests.reports.conftest import build_run, population_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

D = datetime.date
ACCOUNT = "6228480402564890018"


def token() -> str:
    return str(uuid.uuid4())


def cells(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return " ".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
    )


def enrollment_of(a, program) -> Enrollment:
    with a.scope():
        return Enrollment.objects.select_related("person").get(program=program)


def batches(a, program) -> list[DisbursementBatch]:
    with a.scope():
        return list(DisbursementBatch.objects.filter(program=program).order_by("pk"))


def test_the_road_from_application_to_the_summary(
    client,
    population_world,  # noqa: F811 (the fixture imported above)
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    a, version = population_world
    today = {"day": D(2026, 3, 3)}
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today["day"])
    admin = a.users["county_admin"]
    head = next(p for p in a.persons if p.household_id == a.households[0].pk)
    with a.scope():
        program = Program.objects.create(
            county=a.county,
            name="农村部分计划生育家庭奖励扶助",
            template="reward_assistance",
            kind="allowance",
            frequency="yearly",
            standard_amount=Decimal("720"),
            needs_notice=True,
            notice_days=7,
            rule={"version": 1},
        )

    # the village secretary applies for the head from the village's candidates
    login(client, a.users["village_secretary"])
    village = a.villages[0]
    response = client.post(
        reverse("benefit-candidates-apply", args=[village.pk]),
        {"program": program.pk, "year": 2026, "key": head.pk, "form_token": token()},
        follow=True,
    )
    assert f"已申报“{program.name}”:{head.name}" in response.content.decode()
    enrollment = enrollment_of(a, program)
    assert enrollment.status == "applied" and enrollment.person_id == head.pk

    # … posts the public notice, and prints it: the ID number masked
    response = client.post(
        reverse("notice-create"),
        {
            "program": program.pk,
            "node": village.pk,
            "starts_on": "2026-03-03",
            "objection_contact": "村委会计生办 0319-1234567",
            "enrollments": [enrollment.pk],
            "form_token": token(),
        },
    )
    assert response.status_code == 302, re.findall(
        r"error[^>]*>\s*([^<]+)", response.content.decode()
    )
    notice_id = int(re.search(r"/notices/(\d+)/", response["Location"]).group(1))
    sheet = cells(client.get(reverse("notice-sheet", args=[notice_id])).content)
    # posted in public: the name masked too, as the data-protection policy says
    assert mask_name(head.name) in sheet and mask_id_number(head.id_number) in sheet
    assert head.name not in sheet and head.id_number not in sheet
    assert "0319-1234567" in sheet

    # the township reviews once the notice period is over, not before
    login(client, a.users["township_staff"])
    review = reverse("enrollment-review", args=[enrollment.pk])
    today["day"] = D(2026, 3, 9)
    assert client.post(review, {"form_token": token()}).status_code == 400
    today["day"] = D(2026, 3, 10)
    assert client.post(review, {"form_token": token(), "opinion": "情况属实"}).status_code == 302

    # the county approves; the head's account is kept
    login(client, admin)
    approve = reverse("enrollment-approve", args=[enrollment.pk])
    data = {"form_token": token(), "enrolled_on": "2026-03-10"}
    assert client.post(approve, data).status_code == 302
    enrollment = enrollment_of(a, program)
    assert enrollment.status == "enrolled"
    with a.scope():
        account = bank_account_add(
            actor=admin, person=head, bank_name="农村信用社", account_number=ACCOUNT
        )
        enrollment_set_account(actor=admin, enrollment=enrollment, account=account)

    today["day"] = D(2026, 3, 20)
    # a batch, and the same batch sent again by a clerk who thought it lost
    create = reverse("payment-batch-create")
    for _ in range(2):
        data = {"program": program.pk, "period": "2026", "node": a.county.pk, "form_token": token()}
        assert client.post(create, data).status_code == 302
    first, again = batches(a, program)
    assert (
        client.post(
            reverse("payment-batch-confirm", args=[first.pk]), {"form_token": token()}
        ).status_code
        == 302
    )
    bank = client.post(reverse("payment-batch-bank-file", args=[first.pk]))
    assert bank.status_code == 200 and ACCOUNT in cells(bank.content)
    receipts = cells(client.get(reverse("payment-batch-receipts", args=[first.pk])).content)
    assert mask_id_number(head.id_number) in receipts and ACCOUNT not in receipts
    assert "***************0018" in receipts
    pay = reverse("payment-batch-pay", args=[first.pk])
    data = {"paid_on": "2026-03-20", "method": "bank", "reference": "NY-01", "form_token": token()}
    assert "已登记发放,合计 720.00 元" in client.post(pay, data, follow=True).content.decode()

    # the re-sent batch, confirmed afterwards, pays nobody; a new one has nobody to pay
    confirm_again = reverse("payment-batch-confirm", args=[again.pk])
    assert client.post(confirm_again, {"form_token": token()}).status_code == 302
    data = {"program": program.pk, "period": "2026", "node": a.county.pk, "form_token": token()}
    refused = client.post(create, data)
    assert refused.status_code == 400 and "没有需要发放的" in refused.content.decode()
    with a.scope():
        lines = Disbursement.objects.filter(program=program).order_by("pk")
        assert [(ln.batch_id, ln.status) for ln in lines] == [
            (first.pk, "paid"),
            (again.pk, "cancelled"),
        ]
        assert DisbursementBatch.objects.get(pk=again.pk).status == "cancelled"

    # the half-year's assessment keeps the payment, and its summary says it
    run = build_run(a, version, django_capture_on_commit_callbacks)
    with a.scope():
        rows = list(SnapshotNode.objects.filter(run=run))
        county = next(r for r in rows if r.node_id_at == a.county.pk)
        assert county.figures["benefits"] == [
            {
                "program": "农村部分计划生育家庭奖励扶助",
                "template": "reward_assistance",
                "people": 1,
                "amount": "720.00",
            }
        ]
        drafted = summary.draft(run, county, rows)
    assert "上半年全县奖励扶助对象1人,共计720元。" in "".join(drafted.paragraphs)
