"""The member list's order, cost and representation (page and API)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from associations import services as association_services
from associations.management.base import find_county
from associations.scope import Scope, activate
from households import services as household_services
from members import selectors, services
from members import views as member_views
from members.api.serializers import MemberListSerializer
from members.models import Member

from .test_api import as_user
from .test_pages import body_of, new_member, url

pytestmark = pytest.mark.django_db


def documented_order(members):
    """README: village, then group (members of no group last), then 会员证号, by registration
    order of villages and groups (their ids)."""
    no_group = float("inf")
    return sorted(
        members,
        key=lambda m: (m.village_id, m.group_id or no_group, m.member_number, m.pk),
    )


@pytest.fixture
def crowd(world):
    """County A's members plus some registered out of order: a second group first, a member
    of no group, a higher number before a lower one, and a village created after the others
    with a lower division code."""
    a = world.a
    new_member(a, "郑七", group=1, member_number="0009")
    new_member(a, "王八", group=None)
    new_member(a, "冯九", group=1, member_number="0005")
    new_member(a, "陈十", village=3, group=0)
    admin = a.users["county_admin"]
    with a.scope():
        late = association_services.association_create(
            actor=admin,
            parent=a.townships[0],
            name="后建村",
            division_code=f"{a.townships[0].division_code}199",  # before 1村 by code
        )
        person = household_services.person_create(
            actor=admin,
            village=late,
            name="褚十一",
            sex="male",
            birth_date=datetime.date(1970, 3, 1),
        )
        services.member_register(
            actor=admin, person=person, association=late, joined_on=datetime.date(2022, 1, 1)
        )
        return documented_order(list(Member.objects.select_related("person")))


def test_api_lists_members_in_the_documented_order_page_after_page(world, crowd):
    client = as_user(world.a.users["county_admin"])
    assert crowd[-1].person.name == "褚十一"  # the late village comes last, whatever its code
    seen, page = [], url("api-member-list") + "?page_size=3"
    while page:
        data = client.get(page).json()
        seen += [row["id"] for row in data["results"]]
        page = data["next"]
    assert seen == [m.pk for m in crowd]


def test_page_lists_members_in_the_documented_order_page_after_page(
    client, world, crowd, monkeypatch
):
    monkeypatch.setattr(member_views, "PER_PAGE", 3)
    client.force_login(world.a.users["county_admin"])
    seen, number = [], 1
    while True:
        body = body_of(client.get(url("member-list"), {"page": number}))
        seen += [int(pk) for pk in re.findall(r'href="/members/(\d+)/"', body)]
        if "下一页" not in body:
            break
        number += 1
    assert seen == [m.pk for m in crowd]


def _queries(client, path, **params) -> int:
    cache.clear()  # the ratio is counted each time
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["member-list", "api-member-list"])
def test_list_runs_the_same_queries_for_more_rows(client, world, page):
    """A field the list shows that the selector does not load would cost a query per row."""
    a = world.a
    if page == "member-list":
        client.force_login(a.users["county_admin"])
    else:
        client = as_user(a.users["county_admin"])
    few = _queries(client, url(page), status="")
    for i, name in enumerate(["赵一", "钱二", "孙三", "李四", "周五", "吴六"]):
        new_member(a, name, village=i % 4, group=None if i == 5 else i % 2, is_backbone=True)
    with a.scope():
        services.member_leave(
            actor=a.users["county_admin"],
            member=a.members[1],
            left_on=timezone.localdate(),
            reason="moved_out",
        )
    assert _queries(client, url(page), status="") == few


def test_list_row_is_what_the_generic_serializer_gives(world):
    """MemberListSerializer writes its row out; DRF's field-by-field loop is the reference."""
    a = world.a
    new_member(a, "王八", group=None, categories=["elder", "volunteer"], elder_kind="elder")
    with a.scope():
        services.member_leave(
            actor=a.users["county_admin"],
            member=a.members[1],
            left_on=timezone.localdate(),
            reason="moved_out",
        )
    request = Request(APIRequestFactory().get("/"))
    request.user = a.users["township_staff"]
    with activate(Scope.for_node(request.user.node)):
        members = list(selectors.member_list(actor=request.user))
        assert len(members) == 3  # township 0: villages 0 and 1
        for member in members:
            serializer = MemberListSerializer(member, context={"request": request})
            generic = serializers.ModelSerializer.to_representation(serializer, member)
            assert list(serializer.data.items()) == list(generic.items())
            assert serializer.data["sex_display"] == member.person.get_sex_display()
            assert serializer.data["status_display"] == member.get_status_display()
            assert serializer.data["leave_reason_display"] == member.get_leave_reason_display()
            assert serializer.data["elder_kind_display"] == member.get_elder_kind_display()


def test_list_ratio_is_counted_once_in_a_while_and_says_when(client, world, monkeypatch):
    a = world.a
    client.force_login(a.users["village_secretary"])
    with CaptureQueriesContext(connection) as first:
        body = body_of(client.get(url("member-list")))
    assert "会员占常住人口 50.0%" in body  # 1 member, 2 persons
    assert re.search(r"考核要求 10% 以上;\d\d:\d\d 统计", body)
    counts = [q for q in first.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 2  # members and population
    new_member(a, "赵一")
    with CaptureQueriesContext(connection) as again:
        body = body_of(client.get(url("member-list")))
    assert not [q for q in again.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "会员占常住人口 50.0%" in body  # as counted, until RECENT_RATIO_SECONDS pass
    with a.scope():
        assert selectors.membership_ratio(node=a.villages[0]).members == 2  # counted afresh


def test_seeding_a_county_leaves_planner_statistics_for_its_members(capsys):
    """Without them a freshly seeded large county's member list was planned for empty tables."""
    call_command("seed_demo", county="131127", name="景县")
    county = find_county("131127")
    with activate(Scope.for_node(county)):
        members = Member.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'members_member'")
        (estimated,) = cursor.fetchone()
    assert members > 20 and estimated >= members
