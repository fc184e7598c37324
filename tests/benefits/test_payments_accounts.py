"""Payees' bank accounts: added by whoever keeps the person's records, validated in Chinese,
encrypted at rest, masked everywhere (the API's detail included) but on the account's own page
for the county admin and the village secretary, where the display is recorded; deactivated;
chosen for an enrolment among the beneficiary's household's accounts."""

from __future__ import annotations

import pytest
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import ChangeRecord
from benefits.models import BankAccount, Enrollment
from households.models import IdentityRead
from tests.conftest import login

from . import factories_payments as f

pytestmark = pytest.mark.django_db

NUMBER = "6228480402564890018"
MASKED = "***************0018"


def _add(client, person, number=NUMBER, bank="中国农业银行清河支行"):
    return client.post(
        reverse("bank-account-create", kwargs={"pk": person.pk}),
        {"bank_name": bank, "account_number": number},
    )


def _accounts(world, person):
    with world.a.scope():
        return list(BankAccount.objects.filter(person=person).order_by("id"))


def test_the_person_page_leads_to_the_accounts(client, world):
    head = f.heads(world.a)[0]
    login(client, world.a.users["village_secretary"])
    page = client.get(reverse("person-detail", kwargs={"pk": head.pk})).content.decode()
    assert reverse("person-bank-accounts", kwargs={"pk": head.pk}) in page


def test_a_village_secretary_adds_an_account_stored_encrypted(client, world):
    head = f.heads(world.a)[0]
    login(client, world.a.users["village_secretary"])
    response = _add(client, head, number="6228 4804 0256 4890 018")
    assert response.status_code == 302
    [account] = _accounts(world, head)
    assert (account.account_number, account.is_active) == (NUMBER, True)
    assert (account.village_id, account.group_id) == (head.village_id, head.group_id)
    with world.a.scope():
        # the column as stored: cast to plain text, it is not decrypted on the way out
        stored, index = (
            BankAccount.objects.filter(pk=account.pk)
            .annotate(stored=Cast("account_number", TextField()))
            .values_list("stored", "account_number_index")
            .get()
        )
        record = ChangeRecord.objects.get(object_type="benefits.BankAccount", object_id=account.pk)
    assert stored.startswith("k") and NUMBER not in stored and "0018" not in stored
    assert index and NUMBER not in index
    assert record.after["account_number"] == MASKED  # the history keeps the mask only
    with world.a.scope():  # found by exact number through the blind index
        assert BankAccount.objects.filter(account_number=NUMBER).get() == account


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请填写银行账号。"),
        ("62284804025", "银行账号应为 12 至 30 位数字,现在是 11 位。"),
        ("6228-4804-0256-489O", "银行账号只能由数字组成"),
    ],
)
def test_a_bad_account_number_keeps_the_form_and_says_why(client, world, typed, message):
    head = f.heads(world.a)[0]
    login(client, world.a.users["village_secretary"])
    response = _add(client, head, number=typed)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _accounts(world, head) == []


def test_the_same_number_twice_is_refused_and_a_deactivated_one_comes_back(client, world):
    head = f.heads(world.a)[0]
    login(client, world.a.users["village_secretary"])
    _add(client, head)
    response = _add(client, head)
    assert response.status_code == 400
    assert "此人已登记过这个账号" in response.content.decode()
    [account] = _accounts(world, head)
    client.post(reverse("bank-account-deactivate", kwargs={"pk": account.pk}))
    assert [a.is_active for a in _accounts(world, head)] == [False]
    assert _add(client, head, bank="中国农业银行清河支行营业部").status_code == 302
    [again] = _accounts(world, head)
    assert (again.pk, again.is_active, again.bank_name) == (
        account.pk,
        True,
        "中国农业银行清河支行营业部",
    )


def test_a_deceased_person_gets_no_account(client, world):
    head = f.heads(world.a)[0]
    with world.a.scope():
        type(head).objects.filter(pk=head.pk).update(is_deceased=True)
    login(client, world.a.users["village_secretary"])
    response = _add(client, head)
    assert response.status_code == 400
    assert "此人已去世" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("county_admin", 302),
        ("township_staff", 302),
        ("village_secretary", 302),
        ("county_viewer", 403),
        ("group_leader", 403),
        ("village_secretary_sibling", 404),
        ("township_staff_sibling", 404),
    ],
)
def test_who_may_add_an_account(client, world, role, status):
    head = f.heads(world.a)[0]  # t0v0, in the first group
    login(client, world.a.users[role])
    assert _add(client, head).status_code == status
    assert len(_accounts(world, head)) == (1 if status == 302 else 0)


def test_lists_show_the_last_four_digits_only_whoever_looks(client, world):
    head = f.heads(world.a)[0]
    f.account(world.a, head, NUMBER)
    for role in ("county_admin", "village_secretary", "township_staff", "group_leader"):
        login(client, world.a.users[role])
        page = client.get(reverse("person-bank-accounts", kwargs={"pk": head.pk}))
        body = page.content.decode()
        assert page.status_code == 200
        assert MASKED in body and NUMBER not in body


@pytest.mark.parametrize(
    ("role", "full"),
    [
        ("county_admin", True),
        ("village_secretary", True),
        ("township_staff", False),
        ("county_viewer", False),
        ("group_leader", False),
    ],
)
def test_the_accounts_own_page_shows_it_in_full_to_the_privileged_and_records_it(
    client, world, role, full
):
    head = f.heads(world.a)[0]
    account = f.account(world.a, head, NUMBER)
    user = world.a.users[role]
    login(client, user)
    response = client.get(reverse("bank-account-detail", kwargs={"pk": account.pk}))
    body = response.content.decode()
    assert response.status_code == 200
    assert (NUMBER in body) is full
    assert MASKED in body or full
    assert response["Cache-Control"].startswith("max-age=0")
    with world.a.scope():
        reads = list(IdentityRead.objects.filter(reader=user))
    if full:
        [read] = reads
        assert (read.person_id, read.fields, read.reason) == (
            head.pk,
            ["bank_account"],
            "detail_page",
        )
    else:
        assert reads == []


def test_deactivating_takes_the_account_off_its_enrolments(client, world):
    a = world.a
    head = f.heads(a)[0]
    account = f.account(a, head, NUMBER)
    enrollment = f.enroll(a, f.program(a), head, account=account)
    login(client, a.users["group_leader"])
    url = reverse("bank-account-deactivate", kwargs={"pk": account.pk})
    assert client.post(url).status_code == 403
    login(client, a.users["village_secretary"])
    assert client.post(url).status_code == 302
    with a.scope():
        enrollment.refresh_from_db()
        account.refresh_from_db()
    assert (account.is_active, enrollment.bank_account_id) == (False, None)


def test_an_enrolment_is_paid_to_an_account_of_its_household(client, world):
    a = world.a
    head, spouse = a.persons[0], a.persons[1]
    other = a.persons[2]  # another household, another village
    enrollment = f.enroll(a, f.program(a), head)
    spouse_account = f.account(a, spouse, "6217000010012345678")
    login(client, a.users["village_secretary"])
    url = reverse("enrollment-payee", kwargs={"pk": enrollment.pk})
    page = client.get(url).content.decode()
    assert "***************5678" in page and "6217000010012345678" not in page
    assert client.post(url, {"account": spouse_account.pk}).status_code == 302
    with a.scope():
        enrollment.refresh_from_db()
    assert enrollment.bank_account_id == spouse_account.pk
    foreign = f.account(a, other, "6217000010055556666")
    response = client.post(url, {"account": foreign.pk})  # not offered, so not accepted
    assert response.status_code == 400
    assert client.post(url, {"account": ""}).status_code == 302  # back to cash
    with a.scope():
        assert Enrollment.objects.get(pk=enrollment.pk).bank_account_id is None
    accounts_page = client.get(reverse("person-bank-accounts", kwargs={"pk": head.pk}))
    assert "未设置(现金发放)" in accounts_page.content.decode()


# --- API ------------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_masks_accounts_even_in_detail(world):
    head = f.heads(world.a)[0]
    account = f.account(world.a, head, NUMBER)
    api = _api(world.a.users["county_admin"])
    listed = api.get(reverse("api-bank-account-list"), {"person": head.pk}).json()
    assert [row["account_number"] for row in listed["results"]] == [MASKED]
    detail = api.get(reverse("api-bank-account-detail", kwargs={"pk": account.pk})).json()
    assert detail["account_number"] == MASKED and detail["person_name"] == head.name


def test_the_api_adds_an_account_and_refuses_another_countys_person(world):
    api = _api(world.a.users["village_secretary"])
    head = f.heads(world.a)[0]
    created = api.post(
        reverse("api-bank-account-list"),
        {"person": head.pk, "bank_name": "邮储银行", "account_number": NUMBER},
        format="json",
    )
    assert created.status_code == 201 and created.json()["account_number"] == MASKED
    again = api.post(
        reverse("api-bank-account-list"),
        {"person": head.pk, "bank_name": "邮储银行", "account_number": NUMBER},
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["account_number"][0]["code"] == "account_taken"
    foreign = api.post(
        reverse("api-bank-account-list"),
        {"person": world.b.persons[0].pk, "bank_name": "邮储银行", "account_number": NUMBER},
        format="json",
    )
    assert foreign.status_code == 400
    assert foreign.json()["error"]["fields"]["person"][0]["code"] == "does_not_exist"
    short = api.post(
        reverse("api-bank-account-list"),
        {"person": head.pk, "bank_name": "邮储银行", "account_number": "123"},
        format="json",
    )
    assert short.json()["error"]["fields"]["account_number"][0]["code"] == "account_length"


def test_the_api_deactivates_for_those_who_keep_accounts(world):
    head = f.heads(world.a)[0]
    account = f.account(world.a, head, NUMBER)
    url = reverse("api-bank-account-deactivate", kwargs={"pk": account.pk})
    assert _api(world.a.users["county_viewer"]).post(url).status_code == 403
    response = _api(world.a.users["township_staff"]).post(url)
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert _api(world.a.users["township_staff"]).post(url).status_code == 400  # already
