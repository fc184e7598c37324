"""户口性质 (Person.registration_kind): edited where persons are edited — the person form, the
persons API — and read from the household roster import (an optional column). Care-subsidy
rules such as 农村部分计划生育家庭奖励扶助 judge it (benefits.eligibility)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import ChangeRecord
from associations.scope import Scope, activate
from households.models import Person
from tests.conftest import login
from tests.members.test_import import new_id, run

pytestmark = pytest.mark.django_db


def test_the_person_form_edits_it_and_the_change_is_recorded(client, world):
    person = world.a.persons[0]
    login(client, world.a.users["village_secretary"])
    url = reverse("person-edit", args=[person.pk])
    form = client.get(url).content.decode()
    assert 'name="registration_kind"' in form and "未登记" in form
    data = {
        "name": person.name,
        "id_number": person.id_number,
        "sex": person.sex,
        "birth_date": "",
        "relation_to_head": "head",
        "ethnicity": "01",
        "residency": "registered",
        "registration_kind": "agricultural",
        "marital_status": "married",
        "married_on": "2004-05-01",
    }
    assert client.post(url, data).status_code == 302
    with world.a.scope():
        person.refresh_from_db()
        change = ChangeRecord.objects.filter(
            object_type="households.Person", object_id=person.pk, action="update"
        ).latest("id")
    assert person.registration_kind == "agricultural"
    assert (change.before["registration_kind"], change.after["registration_kind"]) == (
        "",
        "agricultural",
    )
    detail = client.get(reverse("person-detail", args=[person.pk])).content.decode()
    assert "农业户口" in detail


def test_the_persons_api_reads_and_writes_it(world):
    person = world.a.persons[0]
    api = APIClient()
    api.force_authenticate(world.a.users["village_secretary"])
    url = reverse("api-person-detail", args=[person.pk])
    assert api.get(url).json()["registration_kind"] == ""
    response = api.patch(url, {"registration_kind": "non_agricultural"}, format="json")
    assert response.status_code == 200
    assert response.json()["registration_kind_display"] == "非农业户口"
    wrong = api.patch(url, {"registration_kind": "城镇"}, format="json")
    assert wrong.json()["error"]["fields"]["registration_kind"][0]["code"] == "invalid_choice"
    listed = api.get(reverse("api-person-list"), {"page_size": 500}).json()["results"]
    assert {row["id"]: row["registration_kind"] for row in listed}[person.pk] == "non_agricultural"


def test_the_household_roster_reads_it_when_the_column_is_there(world):
    rows = [
        {"户编号": "0200", "姓名": "吴一", "身份证号码": new_id(41), "与户主关系": "户主",
         "户口性质": "农业", "婚姻状况": "已婚"},
        {"户编号": "0200", "姓名": "郑二", "身份证号码": new_id(42, "female"),
         "与户主关系": "配偶", "户口性质": "非农业户口", "婚姻状况": "已婚"},
        {"户编号": "0200", "姓名": "吴三", "身份证号码": new_id(43, "female", 2012),
         "与户主关系": "女儿", "户口性质": "", "婚姻状况": "未婚"},
    ]  # fmt: skip
    outcome = run(world, rows, kind="households", dry_run=False)
    assert outcome.committed and outcome.new == 3, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        kinds = dict(
            Person.objects.filter(name__in=["吴一", "郑二", "吴三"]).values_list(
                "name", "registration_kind"
            )
        )
    assert kinds == {"吴一": "agricultural", "郑二": "non_agricultural", "吴三": ""}
    wrong = run(world, [{**rows[0], "户口性质": "城里"}], kind="households")
    assert [p.code for p in wrong.problems] == ["CHOICE_INVALID"]
    assert "不是有效的户口性质" in wrong.problems[0].message
