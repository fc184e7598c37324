"""The group leader's start page: after signing in, a group leader sees this month's duties
of their group and what is still missing, with the two entry buttons.

Hand-worked month (the current one, in county A's bare first village, group 0, whose leader
is the head of household 0001 from 2024-01-01):
- no records: activity 0 / 1 ✗ (还需开展小组活动 1 次), visits 0 / 3 ✗ (还需入户随访 3 户);
- two visits this month by the leader and one last month, one visit by another member, one
  activity at the village (not the group): visits 2 / 3 → "本月还需入户随访 1 户", activity
  still 0 / 1;
- then one group activity and a third visit: 1 / 1 ✓ and 3 / 3 ✓, nothing missing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from members import services as member_services
from tests.members.test_pages import new_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    a = world.a
    with a.scope():
        member_services.group_role_assign(
            actor=a.users["county_admin"],
            member=a.members[0],
            role="leader",
            starts_on=datetime.date(2024, 1, 1),
        )
    return a


def visit(a, day, visitor=None):
    with a.scope():
        services.visit_record(
            actor=a.users["county_admin"],
            visitor=visitor or a.members[0],
            household=a.households[0],
            visited_on=day,
            purpose="policy",
        )


def activity(a, node, day):
    with a.scope():
        services.activity_create(
            actor=a.users["county_admin"], association=node, kind="publicity", date=day
        )


def start(client, a):
    client.force_login(a.users["group_leader"])
    response = client.get(reverse("leader-start"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_a_group_leader_lands_on_the_start_page(client, a):
    client.force_login(a.users["group_leader"])
    assert client.get(reverse("home")).url == reverse("leader-start")
    client.force_login(a.users["village_secretary"])
    assert client.get(reverse("home")).url == reverse("node-detail", args=[a.villages[0].pk])
    # other roles asking for the start page are sent to their node
    assert client.get(reverse("leader-start")).url == reverse(
        "node-detail", args=[a.villages[0].pk]
    )


def test_start_page_counts_a_hand_worked_month(client, a):
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month = first - datetime.timedelta(days=1)
    body = start(client, a)
    assert "0 / 1 次" in body and "本月还需开展小组活动 1 次" in body
    assert "0 / 3 户" in body and "本月还需入户随访 3 户" in body
    assert "记录入户随访" in body and "记录小组活动" in body
    assert reverse("visit-create", args=[a.groups[0].pk]) in body
    assert reverse("activity-create", args=[a.groups[0].pk]) in body

    other = new_member(a, "李秀英", village=0, group=0)
    visit(a, first)
    visit(a, today)
    visit(a, last_month)  # last month: not this month's
    visit(a, today, visitor=other)  # not the leader's
    activity(a, a.villages[0], today)  # at the village, not the group
    body = start(client, a)
    assert "2 / 3 户" in body and "本月还需入户随访 1 户" in body
    assert "0 / 1 次" in body and "本月还需开展小组活动 1 次" in body

    activity(a, a.groups[0], first)
    visit(a, today)
    body = start(client, a)
    assert "1 / 1 次" in body and "3 / 3 户" in body
    assert "还需" not in body
    assert "本月小组职责已全部完成" in body


def test_start_page_lists_recent_records(client, a):
    today = timezone.localdate()
    visit(a, today)
    activity(a, a.groups[0], today)
    body = start(client, a)
    assert a.households[0].number in body
    assert "宣传" in body
