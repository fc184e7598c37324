"""The enrolment workflow's API: enrolments listed and read in the caller's scope with masked
ID numbers, notices posted, objections recorded and resolved, and the steps as POSTs, with
stable error codes and Chinese messages (400), 403 for a role that may not act and 404
outside the subtree. Every answer is checked against the served OpenAPI schema."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from benefits import workflow_services
from benefits.models import Enrollment
from tests.benefits.factories_workflow import applied, make_program
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

D = datetime.date
CONTACT = "村委会计生办 0319-1234567"


class Clock:
    day = D(2026, 3, 3)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(workflow_services, "today", lambda: clock.day)
    return clock


@pytest.fixture
def a(world):
    return world.a


@pytest.fixture
def program(a):
    return make_program(a)


def client_of(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def call(user, method, name, path, pk=None, data=None):
    args = [pk] if pk is not None else []
    api = client_of(user)
    response = getattr(api, method)(reverse(name, args=args), data or {}, format="json")
    assert_documented(response, method, path)
    return response


def post(user, action, enrollment, data=None):
    return call(
        user,
        "post",
        f"api-enrollment-{action}",
        f"/api/v1/benefits/enrollments/{{id}}/{action}/",
        enrollment.pk,
        data,
    )


def error_code(response) -> str:
    fields = response.json()["error"]["fields"]
    return next(iter(fields.values()))[0]["code"]


def test_the_whole_road_through_the_api(a, program, clock):
    enrollment = applied(a, program, a.persons[0])
    secretary, township, admin = (
        a.users["village_secretary"],
        a.users["township_staff"],
        a.users["county_admin"],
    )
    response = call(
        secretary,
        "post",
        "api-benefit-notice-list",
        "/api/v1/benefits/notices/",
        data={"program": program.pk, "node": a.villages[0].pk, "objection_contact": CONTACT},
    )
    assert response.status_code == 201, response.json()
    notice = response.json()
    assert (notice["starts_on"], notice["ends_on"], notice["node"]) == (
        "2026-03-03",
        "2026-03-09",
        a.villages[0].pk,
    )
    assert [row["enrollment_id"] for row in notice["rows"]] == [enrollment.pk]

    clock.day = D(2026, 3, 5)
    response = post(
        secretary, "objections", enrollment, {"content": "有两个子女", "raised_by": "张大爷"}
    )
    assert response.status_code == 201
    objection = response.json()

    clock.day = D(2026, 3, 9)  # the notice's last day
    refused = post(township, "review", enrollment)
    assert refused.status_code == 400
    assert error_code(refused) == "notice_running"
    assert "2026-03-10 起" in refused.json()["error"]["fields"]["non_field_errors"][0]["message"]

    clock.day = D(2026, 3, 10)
    refused = post(township, "review", enrollment)
    assert (refused.status_code, error_code(refused)) == (400, "objection_unresolved")
    detail = call(
        township,
        "get",
        "api-enrollment-detail",
        "/api/v1/benefits/enrollments/{id}/",
        enrollment.pk,
    )
    assert "1 条未处理" in detail.json()["review_blocker"]

    response = call(
        township,
        "post",
        "api-benefit-objection-resolve",
        "/api/v1/benefits/objections/{id}/resolve/",
        objection["id"],
        {"upheld": False, "resolution": "经核实只有一个子女"},
    )
    assert response.status_code == 200 and response.json()["upheld"] is False

    response = post(township, "review", enrollment, {"opinion": "情况属实"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["review_blocker"]) == ("reviewed", None)
    assert post(township, "approve", enrollment).status_code == 403
    response = post(admin, "approve", enrollment, {"enrolled_on": "2026-03-10"})
    assert (response.status_code, response.json()["enrolled_on"]) == (200, "2026-03-10")
    response = post(admin, "exit", enrollment, {})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reason"][0]["code"] == "required"
    response = post(admin, "exit", enrollment, {"reason": "迁出本县", "exited_on": "2026-03-10"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["exit_reason"]) == ("exited", "迁出本县")
    assert [e["action"] for e in body["events"]] == [
        "apply",
        "notice",
        "objection",
        "objection_resolved",
        "review",
        "approve",
        "exit",
    ]
    assert body["events"][4]["actor_label"].endswith(township.username)
    assert body["objections"][0]["resolution"] == "经核实只有一个子女"


def test_returns_and_their_reason_in_the_list(a, program, clock):
    enrollment = applied(a, program, a.persons[0])
    township = a.users["township_staff"]
    response = post(township, "return", enrollment, {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    response = post(township, "return", enrollment, {"reason": "缺少证明材料"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    listed = call(
        a.users["village_secretary"],
        "get",
        "api-enrollment-list",
        "/api/v1/benefits/enrollments/",
        data={"stage": "returned", "program": program.pk},
    ).json()["results"]
    assert [(r["id"], r["return_reason"]) for r in listed] == [(enrollment.pk, "缺少证明材料")]
    again = post(township, "return", enrollment, {"reason": "再退"})
    assert (again.status_code, error_code(again)) == (400, "wrong_status")
    assert "已退回" in again.json()["error"]["fields"]["non_field_errors"][0]["message"]


@pytest.mark.parametrize(
    ("key", "action", "expected"),
    [
        ("county_viewer", "review", 403),
        ("county_viewer", "objections", 403),
        ("group_leader", "return", 403),
        ("village_secretary", "review", 403),
        ("village_secretary", "approve", 403),
        ("township_staff", "exit", 403),
        ("township_staff_sibling", "review", 404),
        ("village_secretary_sibling", "objections", 404),
    ],
)
def test_who_may_act_through_the_api(a, program, clock, key, action, expected):
    enrollment = applied(a, program, a.persons[0])
    response = post(a.users[key], action, enrollment, {"reason": "x", "content": "x"})
    assert response.status_code == expected
    with a.scope():
        assert Enrollment.objects.get(pk=enrollment.pk).status == "applied"


def test_the_list_is_scoped_and_masked(world, program, clock):
    a = world.a
    mine = applied(a, program, a.persons[0])
    sibling = applied(a, program, a.persons[2])
    for key, expected in (
        ("village_secretary", {mine.pk}),
        ("township_staff", {mine.pk, sibling.pk}),
        ("county_admin", {mine.pk, sibling.pk}),
    ):
        response = call(
            a.users[key],
            "get",
            "api-enrollment-list",
            "/api/v1/benefits/enrollments/",
            data={"program": program.pk},
        )
        rows = response.json()["results"]
        assert {r["id"] for r in rows} == expected
        text = response.content.decode()
        for person in a.persons:
            assert person.id_number not in text
        own = next(r for r in rows if r["id"] == mine.pk)
        assert own["id_number"] == a.persons[0].id_number[:6] + "*" * 12
        assert own["beneficiary_name"] == a.persons[0].name
    other_county = call(
        world.b.users["county_admin"], "get", "api-enrollment-list", "/api/v1/benefits/enrollments/"
    ).json()["results"]
    assert not {mine.pk, sibling.pk} & {r["id"] for r in other_county}
    detail = call(
        world.b.users["county_admin"],
        "get",
        "api-enrollment-detail",
        "/api/v1/benefits/enrollments/{id}/",
        mine.pk,
    )
    assert detail.status_code == 404


def test_a_notice_cannot_reach_outside(world, program, clock):
    a = world.a
    mine = applied(a, program, a.persons[0])
    sibling = applied(a, program, a.persons[2])
    secretary = a.users["village_secretary"]

    def publish(user, **data):
        body = {"program": program.pk, "node": a.villages[0].pk, "objection_contact": CONTACT}
        return call(
            user,
            "post",
            "api-benefit-notice-list",
            "/api/v1/benefits/notices/",
            data={**body, **data},
        )

    response = publish(secretary, node=a.villages[1].pk)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["node"][0]["code"] == "does_not_exist"
    response = publish(secretary, enrollments=[mine.pk, sibling.pk])
    assert response.json()["error"]["fields"]["enrollments"][0]["code"] == "does_not_exist"
    other_programme = make_program(world.b, name="外县项目")
    response = publish(secretary, program=other_programme.pk)
    assert response.json()["error"]["fields"]["program"][0]["code"] == "does_not_exist"
    response = publish(a.users["county_viewer"])
    assert response.status_code == 403
    no_notice = make_program(a, name="金秋助学(流程测试)", needs_notice=False)
    response = publish(secretary, program=no_notice.pk)
    assert (response.status_code, error_code(response)) == (400, "notice_not_needed")
    with a.scope():
        assert Enrollment.objects.get(pk=mine.pk).status == "applied"
