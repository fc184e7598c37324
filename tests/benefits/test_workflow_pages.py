"""The enrolment workflow's pages: posting a notice, the enrolment page with the actions each
role may take (POST forms with one-time tokens), refusals shown on the form (400), the return
reason the village sees, the to-do page of each role, and the list with its filters and
masked ID numbers."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.urls import reverse

from benefits import workflow_services
from benefits.models import Enrollment, EnrollmentEvent, Objection, PublicNotice
from tests.benefits.factories_workflow import applied, make_program
from tests.conftest import login

pytestmark = pytest.mark.django_db

D = datetime.date
STARTS, ENDS = D(2026, 3, 3), D(2026, 3, 9)


class Clock:
    day = STARTS


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


def status_of(a, enrollment) -> str:
    with a.scope():
        return Enrollment.objects.get(pk=enrollment.pk).status


def post_notice(client, a, program, enrollments, node=None, **extra):
    return client.post(
        reverse("notice-create"),
        {
            "program": program.pk,
            "node": (node or a.villages[0]).pk,
            "starts_on": "2026-03-03",
            "objection_contact": "村委会计生办 0319-1234567",
            "enrollments": [e.pk for e in enrollments],
            "form_token": str(uuid.uuid4()),
            **extra,
        },
    )


def noticed(client, a, program, clock, person_index=0):
    enrollment = applied(a, program, a.persons[person_index])
    login(client, a.users["village_secretary"])
    clock.day = STARTS
    response = post_notice(client, a, program, [enrollment])
    assert response.status_code == 302, response.content.decode()[:2000]
    return enrollment


def act(client, name, enrollment, data=None):
    payload = {"form_token": str(uuid.uuid4()), **(data or {})}
    return client.post(reverse(name, args=[enrollment.pk]), payload)


def test_posting_a_notice_in_two_steps(client, a, program, clock):
    head = applied(a, program, a.persons[0])
    spouse = applied(a, program, a.persons[1])
    login(client, a.users["village_secretary"])
    first = client.get(reverse("notice-create")).content.decode()
    assert program.name in first and "列出待公示的申报" in first
    chosen = client.get(reverse("notice-create"), {"program": program.pk, "node": a.villages[0].pk})
    body = chosen.content.decode()
    assert chosen.status_code == 200
    assert a.persons[0].name in body and a.persons[1].name in body
    assert a.persons[0].id_number not in body  # the choice list masks ID numbers
    assert body.count("checked") >= 2  # everyone waiting is ticked
    response = post_notice(client, a, program, [head])
    with a.scope():
        notice = PublicNotice.objects.get(program=program)
    assert response.status_code == 302 and response["Location"] == reverse(
        "notice-detail", args=[notice.pk]
    )
    assert (notice.starts_on, notice.ends_on) == (STARTS, ENDS)
    assert (status_of(a, head), status_of(a, spouse)) == ("in_notice", "applied")


def test_a_notice_form_refuses_a_foreign_node_and_readers(client, world, program, clock):
    a = world.a
    enrollment = applied(a, program, a.persons[2])  # the sibling village (t0v1)
    login(client, a.users["village_secretary"])
    response = post_notice(client, a, program, [enrollment], node=a.villages[1])
    assert response.status_code == 400
    assert "请在您的管辖范围内选择" in response.content.decode()
    login(client, a.users["township_staff"])
    response = post_notice(client, a, program, [enrollment], node=world.b.villages[0])
    assert response.status_code == 400
    response = post_notice(client, a, program, [], node=a.villages[1])
    assert response.status_code == 400 and "请至少选择一名公示对象" in response.content.decode()
    assert status_of(a, enrollment) == "applied"
    for key in ("county_viewer", "group_leader"):
        login(client, a.users[key])
        assert client.get(reverse("notice-create")).status_code == 403
        assert post_notice(client, a, program, [enrollment]).status_code == 403
    login(client, a.users["township_staff"])
    assert post_notice(client, a, program, [enrollment], node=a.villages[1]).status_code == 302


def test_the_whole_road_through_the_pages(client, a, program, clock):
    enrollment = noticed(client, a, program, clock)
    login(client, a.users["township_staff"])
    clock.day = ENDS
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    assert "2026-03-10 起" in page
    assert reverse("enrollment-review", args=[enrollment.pk]) not in page  # no button yet
    refused = act(client, "enrollment-review", enrollment)
    assert refused.status_code == 400
    assert "公示期满后(2026-03-10 起)才能审核" in refused.content.decode()
    assert status_of(a, enrollment) == "in_notice"

    clock.day = ENDS + datetime.timedelta(days=1)
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    assert reverse("enrollment-review", args=[enrollment.pk]) in page
    assert reverse("enrollment-approve", args=[enrollment.pk]) not in page
    response = act(client, "enrollment-review", enrollment, {"opinion": "情况属实"})
    assert response.status_code == 302
    assert status_of(a, enrollment) == "reviewed"

    login(client, a.users["county_admin"])
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    assert reverse("enrollment-approve", args=[enrollment.pk]) in page
    response = act(client, "enrollment-approve", enrollment, {"enrolled_on": "2026-03-10"})
    assert response.status_code == 302
    assert status_of(a, enrollment) == "enrolled"
    response = act(client, "enrollment-exit", enrollment, {"exited_on": "2026-03-10"})
    assert response.status_code == 400 and "请填写退出原因" in response.content.decode()
    response = act(
        client, "enrollment-exit", enrollment, {"exited_on": "2026-03-10", "reason": "迁出本县"}
    )
    assert response.status_code == 302
    assert status_of(a, enrollment) == "exited"
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    for step in ("申报", "公示", "审核通过", "审批通过", "退出"):
        assert f"<b>{step}</b>" in page
    assert "迁出本县" in page


@pytest.mark.parametrize(
    ("key", "name", "expected"),
    [
        ("village_secretary", "enrollment-review", 403),
        ("village_secretary", "enrollment-return", 403),
        ("village_secretary", "enrollment-approve", 403),
        ("county_viewer", "enrollment-review", 403),
        ("county_viewer", "enrollment-objection", 403),
        ("group_leader", "enrollment-review", 403),
        ("group_leader", "enrollment-objection", 403),
        ("township_staff", "enrollment-approve", 403),
        ("township_staff", "enrollment-exit", 403),
        ("township_staff_sibling", "enrollment-review", 404),
        ("township_staff_sibling", "enrollment-detail", 404),
        ("village_secretary_sibling", "enrollment-detail", 404),
        ("group_leader_sibling", "enrollment-detail", 404),
    ],
)
def test_who_may_act_on_the_pages(client, a, program, clock, key, name, expected):
    enrollment = noticed(client, a, program, clock)
    clock.day = D(2026, 3, 10)
    login(client, a.users[key])
    if name == "enrollment-detail":
        response = client.get(reverse(name, args=[enrollment.pk]))
    else:
        response = act(client, name, enrollment, {"reason": "x", "content": "x"})
    assert response.status_code == expected
    assert status_of(a, enrollment) == "in_notice"


def test_readers_see_the_page_without_actions(client, a, program, clock):
    enrollment = noticed(client, a, program, clock)
    clock.day = D(2026, 3, 10)
    for key in ("county_viewer", "group_leader"):
        login(client, a.users[key])
        page = client.get(reverse("enrollment-detail", args=[enrollment.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert 'method="post"' not in body.split("<main", 1)[1]
        assert a.persons[0].id_number not in body


def test_the_return_reason_shows_to_the_village(client, a, program, clock):
    enrollment = noticed(client, a, program, clock)
    login(client, a.users["township_staff"])
    refused = act(client, "enrollment-return", enrollment, {"reason": " "})
    assert refused.status_code == 400 and "请填写退回原因" in refused.content.decode()
    response = act(client, "enrollment-return", enrollment, {"reason": "缺少独生子女证复印件"})
    assert response.status_code == 302
    login(client, a.users["village_secretary"])
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    alert = page.split('class="errors" role="alert"', 1)[1].split("</div>", 1)[0]
    assert "退回原因:</b>缺少独生子女证复印件" in alert
    listing = client.get(reverse("enrollment-list"), {"status": "rejected"}).content.decode()
    assert "退回原因:缺少独生子女证复印件" in listing
    count, returned = todo_section(client, "returned")
    assert reverse("enrollment-detail", args=[enrollment.pk]) in returned
    assert "缺少独生子女证复印件" in returned
    # once applied for again, it no longer waits
    again = applied(a, program, a.persons[0], applied_on=D(2026, 3, 5))
    after, returned = todo_section(client, "returned")
    assert after == count - 1
    assert reverse("enrollment-detail", args=[enrollment.pk]) not in returned
    assert reverse("enrollment-detail", args=[again.pk]) not in returned


def test_objections_through_the_pages(client, a, program, clock):
    enrollment = noticed(client, a, program, clock)
    clock.day = D(2026, 3, 5)
    response = act(
        client,
        "enrollment-objection",
        enrollment,
        {"raised_by": "张大爷", "raised_on": "2026-03-05", "content": "申报人有两个子女"},
    )
    assert response.status_code == 302
    with a.scope():
        objection = Objection.objects.get(enrollment=enrollment)
    login(client, a.users["township_staff"])
    clock.day = D(2026, 3, 10)
    page = client.get(reverse("enrollment-detail", args=[enrollment.pk])).content.decode()
    assert "尚未处理" in page and "1 条未处理" in page
    url = reverse("objection-resolve", args=[objection.pk])
    prefix = f"o{objection.pk}"
    missing = client.post(url, {f"{prefix}-resolution": "经核实"})
    assert missing.status_code == 400 and "请选择异议是否成立" in missing.content.decode()
    response = client.post(
        url,
        {
            f"{prefix}-upheld": "no",
            f"{prefix}-resolution": "经核实只有一个子女",
            f"{prefix}-form_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    login(client, a.users["village_secretary"])
    assert client.post(url, {f"{prefix}-upheld": "yes"}).status_code == 403
    login(client, a.users["township_staff"])
    assert act(client, "enrollment-review", enrollment).status_code == 302
    assert status_of(a, enrollment) == "reviewed"


def test_a_double_tap_acts_once(client, a, program, clock):
    enrollment = noticed(client, a, program, clock)
    clock.day = D(2026, 3, 10)
    login(client, a.users["township_staff"])
    token = str(uuid.uuid4())
    url = reverse("enrollment-review", args=[enrollment.pk])
    assert client.post(url, {"form_token": token}).status_code == 302
    again = client.post(url, {"form_token": token}, follow=True)
    assert "这张表单已经提交过,没有重复办理" in again.content.decode()
    with a.scope():
        assert EnrollmentEvent.objects.filter(enrollment=enrollment, action="review").count() == 1


def todo_section(client, key: str) -> tuple[int, str]:
    """A to-do section's count and markup (other parts' rows of the world may be listed too:
    the tests compare counts before and after)."""
    page = client.get(reverse("enrollment-todo")).content.decode()
    html = page.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]
    return int(re.search(r"\((\d+)\)</h2>", html).group(1)), html


def test_the_todo_page_of_each_role(client, a, program, clock):
    clock.day = D(2026, 3, 10)
    counts = {}
    for user, key in (
        ("township_staff", "to_review"),
        ("county_admin", "to_approve"),
        ("village_secretary_sibling", "to_notice"),
    ):
        login(client, a.users[user])
        counts[key] = todo_section(client, key)[0]
    ready = noticed(client, a, program, clock, person_index=0)
    waiting = applied(a, program, a.persons[2])  # the second village, not yet noticed
    clock.day = D(2026, 3, 10)
    login(client, a.users["township_staff"])
    count, section = todo_section(client, "to_review")
    assert count == counts["to_review"] + 1
    assert reverse("enrollment-detail", args=[ready.pk]) in section
    assert reverse("enrollment-detail", args=[waiting.pk]) not in section
    assert act(client, "enrollment-review", ready).status_code == 302
    assert todo_section(client, "to_review")[0] == counts["to_review"]
    login(client, a.users["county_admin"])
    count, section = todo_section(client, "to_approve")
    assert count == counts["to_approve"] + 1
    assert reverse("enrollment-detail", args=[ready.pk]) in section
    login(client, a.users["village_secretary_sibling"])
    count, section = todo_section(client, "to_notice")
    assert count == counts["to_notice"] + 1
    assert reverse("enrollment-detail", args=[waiting.pk]) in section
    login(client, a.users["county_viewer"])
    assert "没有需要办理的事项" in client.get(reverse("enrollment-todo")).content.decode()


def test_the_list_filters_and_masks(client, a, program, clock):
    noticed(client, a, program, clock, person_index=0)
    second = applied(a, program, a.persons[4])  # township 2's first village
    other = applied(a, make_program(a, name="特别扶助(流程测试)"), a.persons[1])
    login(client, a.users["county_admin"])

    def listed(**query) -> set[int]:
        body = client.get(reverse("enrollment-list"), query).content.decode()
        for person in a.persons:
            assert person.id_number not in body
        with a.scope():
            pks = list(Enrollment.objects.values_list("pk", flat=True))
        return {pk for pk in pks if reverse("enrollment-detail", args=[pk]) in body}

    mine = listed(program=program.pk)
    assert len(mine) == 2 and second.pk in mine and other.pk not in mine
    assert listed(program=program.pk, status="applied") == {second.pk}
    assert other.pk in listed(q=a.persons[1].name[:2])
    assert listed(under=a.townships[1].pk, program=program.pk) == {second.pk}
    assert listed(stage="to_notice", program=program.pk) == {second.pk}
    body = client.get(reverse("enrollment-list"), {"program": program.pk}).content.decode()
    assert a.persons[4].id_number[:6] + "*" * 12 in body
