"""The funds and loans API: funds for every account of the county, the ledger for the
county's accounts, loans of the caller's subtree with schedule and repayments, and the
repayment POST (county admin; idempotent with a key)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from benefits.models import Fund, Repayment

from .factories_funds import income, make_fund

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_funds_are_listed_for_every_account_of_the_county_only(world):
    for role in ("county_admin", "township_staff", "group_leader"):
        rows = _api(world.a.users[role]).get(reverse("api-fund-list")).json()["results"]
        assert {row["name"] for row in rows} == {"生育关怀基金(世界)", "幸福工程周转金"}
    b_ids = {fund.pk for fund in world.b.funds}
    rows = _api(world.a.users["county_admin"]).get(reverse("api-fund-list")).json()["results"]
    assert not b_ids & {row["id"] for row in rows}


def test_a_loan_funds_detail_has_its_relending_figures(world):
    loan_fund = world.a.funds[1]
    data = (
        _api(world.a.users["village_secretary"])
        .get(reverse("api-fund-detail", kwargs={"pk": loan_fund.pk}))
        .json()
    )
    # 100,000 in; three loans of 5,000 out (A's villages 1-3) and 3 × 1,000 back
    assert (data["balance"], data["income"], data["expense"]) == (
        "88000.00",
        "103000.00",
        "15000.00",
    )
    assert data["relending"] == {
        "capital": "100000.00",
        "lent": "15000.00",
        "loans": 3,
        "households": 3,
        "repaid": "3000.00",
        "outstanding": "12000.00",
        "rounds": "0.2",
    }
    care = world.a.funds[0]
    detail = _api(world.a.users["county_viewer"]).get(
        reverse("api-fund-detail", kwargs={"pk": care.pk})
    )
    assert detail.json()["relending"] is None and detail.json()["income"] == "16.00"  # 8 × 2
    other = world.b.funds[0]
    assert (
        _api(world.a.users["county_admin"])
        .get(reverse("api-fund-detail", kwargs={"pk": other.pk}))
        .status_code
        == 404
    )


def test_the_ledger_is_read_by_the_county_and_filtered(world):
    fund = make_fund(world.a, "API基金", Fund.Kind.CARE)
    income(world.a, fund, "10.00")
    income(world.a, fund, "20.00", source="donation")
    viewer = _api(world.a.users["county_viewer"])
    url = reverse("api-fund-entry-list")
    rows = viewer.get(url, {"fund": fund.pk}).json()["results"]
    assert [(r["amount"], r["balance_after"], r["reversed_by"]) for r in rows] == [
        ("20.00", "30.00", None),
        ("10.00", "10.00", None),
    ]
    donations = viewer.get(url, {"fund": fund.pk, "source": "donation"}).json()["results"]
    assert [r["donor"] for r in donations] == ["测试捐赠单位"]
    assert viewer.get(url, {"date_from": "2099-01-01"}).json()["results"] == []
    assert viewer.get(url, {"direction": "sideways"}).status_code == 400
    township = _api(world.a.users["township_staff"])
    assert township.get(url).json()["results"] == []
    entry_id = rows[0]["id"]
    assert (
        township.get(reverse("api-fund-entry-detail", kwargs={"pk": entry_id})).status_code == 404
    )
    assert viewer.get(reverse("api-fund-entry-detail", kwargs={"pk": entry_id})).status_code == 200


def test_loans_of_the_subtree_with_schedule_and_repayments(world):
    loan = world.a.loans[0]  # t0v1
    sibling = _api(world.a.users["village_secretary_sibling"])
    rows = sibling.get(reverse("api-loan-list")).json()["results"]
    assert [row["id"] for row in rows] == [loan.pk]
    assert (rows[0]["repaid"], rows[0]["outstanding"], rows[0]["status"]) == (
        "1000.00",
        "4000.00",
        "active",
    )
    data = sibling.get(reverse("api-loan-detail", kwargs={"pk": loan.pk})).json()
    assert [row["amount"] for row in data["schedule"]] == ["416.66"] * 11 + ["416.74"]
    assert data["schedule"][-1]["cumulative"] == "5000.00"
    assert [(r["amount"], r["reversed"]) for r in data["repayments"]] == [("1000.00", False)]
    other = _api(world.a.users["village_secretary"])
    assert other.get(reverse("api-loan-detail", kwargs={"pk": loan.pk})).status_code == 404
    assert other.get(reverse("api-loan-list")).json()["results"] == []


def test_recording_a_repayment_idempotently(world):
    loan = world.a.loans[0]
    admin = _api(world.a.users["county_admin"])
    url = reverse("api-loan-repayments", kwargs={"pk": loan.pk})
    key = str(uuid.uuid4())
    body = {"amount": "500.00", "paid_on": "2026-03-02", "idempotency_key": key}
    first = admin.post(url, body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["loan"]["outstanding"] == "3500.00"
    again = admin.post(url, body, format="json")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["repayment"]["id"] == first.json()["repayment"]["id"]
    with world.a.scope():
        assert Repayment.objects.filter(loan_id=loan.pk).count() == 2  # the world's + this one
        assert Fund.objects.get(pk=world.a.funds[1].pk).balance == Decimal("88500.00")
    over = admin.post(url, {"amount": "3500.01", "paid_on": "2026-03-02"}, format="json")
    assert over.status_code == 400
    assert over.json()["error"]["fields"]["amount"][0]["code"] == "overpaid"
    done = admin.post(url, {"amount": "3500", "paid_on": "2026-03-03"}, format="json")
    assert done.json()["loan"]["status"] == "repaid"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "abc", "paid_on": "2026-03-02"},
        {"amount": "1.001", "paid_on": "2026-03-02"},
        {"amount": "0", "paid_on": "2026-03-02"},
        {"amount": "10", "paid_on": "2026-02-30"},
        {"amount": "10", "paid_on": "2099-01-01"},
        {"amount": "10", "paid_on": "2026-03-02", "idempotency_key": "not-a-uuid"},
        {"paid_on": "2026-03-02"},
    ],
)
def test_bad_repayments_are_400(world, body):
    loan = world.a.loans[0]
    response = _api(world.a.users["county_admin"]).post(
        reverse("api-loan-repayments", kwargs={"pk": loan.pk}), body, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
    with world.a.scope():
        assert Repayment.objects.filter(loan_id=loan.pk).count() == 1


def test_only_the_county_admin_records_repayments(world):
    loan = world.a.loans[0]
    body = {"amount": "10", "paid_on": "2026-03-02"}
    for role in ("county_viewer", "township_staff"):
        response = _api(world.a.users[role]).post(
            reverse("api-loan-repayments", kwargs={"pk": loan.pk}), body, format="json"
        )
        assert response.status_code == 403
    response = _api(world.b.users["county_admin"]).post(
        reverse("api-loan-repayments", kwargs={"pk": loan.pk}), body, format="json"
    )
    assert response.status_code == 404
