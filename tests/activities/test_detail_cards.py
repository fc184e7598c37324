"""The 入户随访 cards of the household and member pages and the visit counts of the member's
pairings (结对帮扶), in county A: village 0 is bare (no visits, no pairings); village 1's head
member is paired with its own household (tests/conftest.py)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities import services
from associations.scope import Scope, activate
from members import services as member_services
from members.models import Pairing

pytestmark = pytest.mark.django_db
D = datetime.date


def record(world, visitor, household, day, **fields):
    with activate(Scope.for_node(world.a.county)):
        return services.visit_record(
            actor=world.a.users["county_admin"],
            visitor=visitor,
            household=household,
            visited_on=day,
            purpose=fields.pop("purpose", "policy"),
            **fields,
        )


def page(client, user, name, pk):
    client.force_login(user)
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def visits_card(html):
    return re.search(r'<section class="card" id="visits">(.*?)</section>', html, re.S).group(1)


def test_household_page_lists_its_visits_newest_first(world, client):
    a = world.a
    record(world, a.members[0], a.households[0], D(2025, 3, 1), notes="宣传生育政策")
    record(
        world,
        a.members[0],
        a.households[0],
        D(2025, 3, 4),
        purpose="hardship_help",
        notes="家中老人住院,需协调医疗救助",
        follow_up_needed=True,
    )
    record(
        world,
        a.members[0],
        a.households[0],
        D(2025, 3, 2),
        purpose="condolence",
        follow_up_needed=True,
        follow_up_done_on=D(2025, 3, 9),
    )
    record(world, a.members[1], a.households[1], D(2025, 3, 3), notes="别户的随访")
    card = visits_card(
        page(client, a.users["county_admin"], "household-detail", a.households[0].pk)
    )
    assert "入户随访" in card
    dates = re.findall(r"2025-03-0\d(?=</td>)", card)
    assert dates == ["2025-03-04", "2025-03-02", "2025-03-01"]
    assert card.count(a.members[0].person.name) == 3
    assert "困难帮扶" in card and "慰问" in card and "宣传政策" in card
    assert "待跟进" in card
    assert "已跟进 2025-03-09" in card
    assert "宣传生育政策" in card
    assert "别户的随访" not in card
    assert "暂无入户随访记录" not in card


def test_long_notes_are_truncated(world, client):
    a = world.a
    record(world, a.members[0], a.households[0], D(2025, 3, 1), notes="甲" * 60)
    card = visits_card(
        page(client, a.users["county_admin"], "household-detail", a.households[0].pk)
    )
    cut = re.search(r"<td data-label=\"走访情况\">(.*?)</td>", card).group(1)
    # 40 characters in all, the ellipsis being the locale's ("..." in zh-hans)
    assert len(cut) == 40 and cut.startswith("甲" * 30) and not cut.endswith("甲"), cut


def test_household_page_empty_state(world, client):
    a = world.a
    card = visits_card(
        page(client, a.users["county_admin"], "household-detail", a.households[0].pk)
    )
    assert "暂无入户随访记录。" in card


def test_household_page_hides_visits_outside_the_viewers_scope(world, client):
    """A visit sits where the visitor sits: group 1's member visiting a household of group 0
    is seen by the village, not by group 0's leader."""
    a = world.a
    with activate(Scope.for_node(a.county)):
        spouse = member_services.member_register(
            actor=a.users["county_admin"],
            person=a.persons[1],
            association=a.villages[0],
            group=a.groups[1],
            joined_on=D(2024, 1, 1),
        )
    record(world, spouse, a.households[0], D(2025, 3, 5), notes="第二组会员走访")
    record(world, a.members[0], a.households[0], D(2025, 3, 6), notes="本组组长走访")
    village_card = visits_card(
        page(client, a.users["village_secretary"], "household-detail", a.households[0].pk)
    )
    assert "第二组会员走访" in village_card and "本组组长走访" in village_card
    group_card = visits_card(
        page(client, a.users["group_leader"], "household-detail", a.households[0].pk)
    )
    assert "本组组长走访" in group_card
    assert "第二组会员走访" not in group_card


def test_household_page_shows_twenty_and_counts_the_rest(world, client):
    a = world.a
    for day in range(1, 23):
        record(world, a.members[0], a.households[0], D(2025, 1, day))
    card = visits_card(
        page(client, a.users["county_admin"], "household-detail", a.households[0].pk)
    )
    assert card.count("<tr>") == 1 + 20  # header + rows
    assert "2025-01-22" in card and "2025-01-03" in card and "2025-01-02" not in card
    assert "仅显示最近 20 条,另有 2 条更早的随访记录。" in card


def household_page_queries(client, user, household):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("household-detail", args=[household.pk]))
    assert response.status_code == 200
    return len(queries)


def test_household_page_queries_do_not_grow_with_visits(world, client):
    a = world.a
    user = a.users["county_admin"]
    for day in (1, 2):
        record(world, a.members[0], a.households[0], D(2025, 2, day), notes="随访")
    with_two = household_page_queries(client, user, a.households[0])
    for day in range(3, 13):
        record(world, a.members[0], a.households[0], D(2025, 2, day), notes="随访")
    with_twelve = household_page_queries(client, user, a.households[0])
    assert with_two == with_twelve


def test_member_page_lists_the_members_visits_and_pairing_counts(world, client):
    a = world.a
    with activate(Scope.for_node(a.county)):
        pairing = Pairing.objects.get(member=a.members[1])
    on = pairing.starts_on
    record(world, a.members[1], a.households[1], on, notes="结对户走访", follow_up_needed=True)
    record(world, a.members[1], a.households[1], on, purpose="info_check")
    record(world, a.members[0], a.households[0], on, notes="他人的走访")
    html = page(client, a.users["county_admin"], "member-detail", a.members[1].pk)
    card = visits_card(html)
    assert card.count("<tr>") == 1 + 2
    assert f"{a.households[1].number}户" in card
    assert a.persons[2].name in card  # the head of household 1
    assert "结对户走访" in card and "信息核实" in card and "待跟进" in card
    assert "他人的走访" not in card
    pairings = re.search(r"<h2>结对帮扶</h2>(.*?)</section>", html, re.S).group(1)
    assert re.search(r'<td class="num nowrap">2 次</td>', pairings)


def test_member_page_empty_state_and_zero_pairing_count(world, client):
    a = world.a
    html = page(client, a.users["county_admin"], "member-detail", a.members[1].pk)
    assert "暂无入户随访记录。" in visits_card(html)
    pairings = re.search(r"<h2>结对帮扶</h2>(.*?)</section>", html, re.S).group(1)
    assert '<td class="num nowrap">0 次</td>' in pairings
    bare = page(client, a.users["county_admin"], "member-detail", a.members[0].pk)
    assert "暂无入户随访记录。" in visits_card(bare)
