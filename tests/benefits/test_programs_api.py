"""The programmes, candidates and re-confirmation API (/api/v1/benefits/…)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from benefits.models import Enrollment, ProgramTemplate, Reconfirmation

from .factories_programs import WORLD_PROGRAM, families, program_from_template, this_year

pytestmark = pytest.mark.django_db

ROLES = ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_everyone_lists_the_countys_programmes(world, role):
    program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    response = _client(world.a.users[role]).get(reverse("api-benefit-program-list"))
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    # the shared world's programmes (this part's and the other parts') and the new one
    assert set(rows) >= {WORLD_PROGRAM, "计划生育家庭特别扶助"}
    special = rows["计划生育家庭特别扶助"]
    assert special["standard_amount"] == "960.00"
    assert special["rates"] == [
        {"category": "disabled_child", "category_display": "计生特殊家庭(伤残)", "label": "伤残",
         "amount": "960.00"},
        {"category": "bereaved", "category_display": "计生特殊家庭(失独)", "label": "死亡",
         "amount": "1200.00"},
    ]  # fmt: skip
    assert special["rule_description"][0] == "家庭类别:计生特殊家庭(失独)、计生特殊家庭(伤残)"
    detail = _client(world.a.users[role]).get(
        reverse("api-benefit-program-detail", args=[special["id"]])
    )
    assert detail.status_code == (200 if role in ("county_admin", "county_viewer") else 404)


def test_the_admin_creates_and_changes_a_programme(world):
    client = _client(world.a.users["county_admin"])
    body = {
        "name": "独生子女父母奖励金",
        "template": "only_child_reward",
        "kind": "allowance",
        "frequency": "monthly",
        "standard_amount": "10.00",
        "funding_split": [{"source": "县级财政", "percent": 60}, {"source": "单位", "percent": 30}],
        "rule": {"categories": ["one_child"], "certificate": True, "child_max_age": 17},
    }
    refused = client.post(reverse("api-benefit-program-list"), body, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["funding_split"] == [
        {"code": "shares_not_100", "message": "各出资方比例之和须为 100%,现为 90%。"}
    ]
    body["funding_split"][1]["percent"] = 40
    created = client.post(reverse("api-benefit-program-list"), body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["rule"] == {
        "version": 1,
        "categories": ["one_child"],
        "child_max_age": 17,
        "certificate": True,
    }
    url = reverse("api-benefit-program-detail", args=[data["id"]])
    wrong = client.patch(url, {"rule": {"min_age": 70, "max_age": 60}}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"]["rule.max_age"][0]["code"] == "age_order"
    changed = client.patch(
        url,
        {"standard_amount": "12.50", "rates": [{"category": "one_child", "amount": "15"}]},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["standard_amount"] == "12.50"
    assert changed.json()["rates"][0]["label"] == "独生子女户"
    viewer = _client(world.a.users["county_viewer"])
    assert viewer.patch(url, {"name": "改名"}, format="json").status_code == 403
    assert viewer.post(reverse("api-benefit-program-list"), body, format="json").status_code == 403


def test_candidates_are_judged_and_masked(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    client = _client(world.a.users["village_secretary"])
    url = reverse("api-benefit-candidate-list")
    response = client.get(url, {"program": program.pk, "show": "excluded"})
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"钱秀兰", "孙建国", "吴玉珍", "冯志刚", "陈美华"}
    assert rows["孙建国"]["exclusions"] == ["非农业户口"]
    with world.a.scope():
        full = found["0102"].persons["head"].id_number
    assert rows["孙建国"]["id_number"] == full[:6] + "*" * 12
    assert full not in response.content.decode()
    applicable = client.get(url, {"program": program.pk}).json()["results"]
    assert [row["name"] for row in applicable] == ["赵大山", "李桂芝", "周德明"]
    assert applicable[0]["reasons"] == ["独生子女户", "本人为户主", "本人 60 周岁", "户籍常住",
                                        "农业户口"]  # fmt: skip
    paged = client.get(url, {"program": program.pk, "show": "all", "page_size": 3, "page": 2})
    assert len(paged.json()["results"]) == 3 and paged.json()["next"]


def test_candidates_of_a_foreign_node_or_programme_are_404(world):
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    other = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, county="b")
    client = _client(world.a.users["village_secretary"])
    url = reverse("api-benefit-candidate-list")
    assert (
        client.get(url, {"program": program.pk, "node": world.a.villages[1].pk}).status_code == 404
    )
    assert (
        client.get(url, {"program": program.pk, "node": world.b.villages[0].pk}).status_code == 404
    )
    assert client.get(url, {"program": other.pk}).status_code == 404
    assert client.get(url, {"program": "abc"}).status_code == 400


@pytest.mark.parametrize("role", ROLES)
def test_applying_through_the_api(world, role):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    person = found["0103"].persons["spouse"]  # in the first village's second group
    client = _client(world.a.users[role])
    url = reverse("api-benefit-candidate-apply")
    response = client.post(url, {"program": program.pk, "person": person.pk}, format="json")
    if role in ("county_admin", "township_staff", "village_secretary"):
        assert response.status_code == 201, response.content
        data = response.json()
        assert (data["amount"], data["category"], data["status"]) == (
            "1200.00",
            "bereaved",
            "applied",
        )
        assert data["reasons"] == ["计生特殊家庭(失独)", "本人为配偶", "户籍常住", "女方 67 周岁"]
        again = client.post(url, {"program": program.pk, "person": person.pk}, format="json")
        assert again.status_code == 400
        assert again.json()["error"]["fields"]["non_field_errors"][0]["code"] == "already"
    elif role == "county_viewer":
        assert response.status_code == 403
    else:  # the group leader's scope is the first group: the person is not in it
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["person"][0]["code"] == "does_not_exist"


def test_apply_refuses_the_ineligible_and_foreign_references(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    other = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, county="b")
    client = _client(world.a.users["village_secretary"])
    url = reverse("api-benefit-candidate-apply")
    spouse = found["0101"].persons["spouse"]
    response = client.post(url, {"program": program.pk, "person": spouse.pk}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]["fields"]["non_field_errors"][0]
    assert error == {
        "code": "not_eligible",
        "message": "钱秀兰不符合“农村部分计划生育家庭奖励扶助”的条件:未满 60 周岁(59 周岁)。",
    }
    head = found["0101"].persons["head"]
    response = client.post(url, {"program": other.pk, "person": head.pk}, format="json")
    assert response.json()["error"]["fields"]["program"][0]["code"] == "does_not_exist"
    sibling = world.a.persons[2]  # the second village's head
    response = client.post(url, {"program": program.pk, "person": sibling.pk}, format="json")
    assert response.json()["error"]["fields"]["person"][0]["code"] == "does_not_exist"
    response = client.post(url, {"program": program.pk}, format="json")
    assert response.json()["error"]["fields"]["person"][0]["code"] == "required"
    with world.a.scope():
        assert not Enrollment.objects.filter(program=program).exists()


def test_reconfirmations_are_read_in_the_subtree(world):
    client = _client(world.a.users["township_staff"])
    response = client.get(reverse("api-benefit-reconfirmation-list"), {"year": this_year()})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["village"] for row in rows} == {world.a.villages[1].pk}
    assert rows[0]["flags"] == [] and rows[0]["decision"] == "pending"
    assert rows[0]["name"] == world.a.persons[2].name
    assert rows[0]["id_number"].count("*") == 12
    with world.b.scope():
        foreign = Reconfirmation.objects.first()
    url = reverse("api-benefit-reconfirmation-detail", args=[foreign.pk])
    assert client.get(url).status_code == 404
    pending = client.get(reverse("api-benefit-reconfirmation-list"), {"state": "flagged"})
    assert pending.json()["results"] == []
