import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from associations.models import ChangeRecord, CouncilSeat
from households import services as household_services
from households.identity import mask_id_number
from members import selectors, services
from members import views as member_views
from members.models import (
    Commendation,
    ContactHousehold,
    GroupRole,
    Member,
    Pairing,
    SeatHolder,
    VolunteerMembership,
    VolunteerTeam,
)

pytestmark = pytest.mark.django_db
D = datetime.date


# --- helpers (also used by test_api) ----------------------------------------------------------


def new_person(a, name="张三丰", *, village=0, sex="male", birth=None, **fields):
    with a.scope():
        return household_services.person_create(
            actor=a.users["county_admin"],
            village=a.villages[village],
            name=name,
            sex=sex,
            birth_date=birth or D(1970, 3, 1),
            **fields,
        )


def new_member(a, name="张三丰", *, village=0, group=0, **fields):
    """A new person registered as a member of village `village`, in its group `group`
    (0 or 1; None: no group)."""
    person = new_person(a, name, village=village)
    with a.scope():
        return services.member_register(
            actor=a.users["county_admin"],
            person=person,
            association=a.villages[village],
            group=None if group is None else a.groups[2 * village + group],
            joined_on=D(2021, 3, 1),
            **fields,
        )


def move_head_of_village_1_to_village_0(a):
    """The head of village 1 (a member there) moves into village 0's household: his
    membership stays in village 1."""
    person = a.persons[2]
    with a.scope():
        household_services.person_move(
            actor=a.users["county_admin"],
            person=person,
            to_household=a.households[0],
            relation_to_head="other",
        )
    return person


def hardship_household(a, number="0099", village=0):
    """A household of the village on this year's hardship roster."""
    with a.scope():
        household = household_services.household_create(
            actor=a.users["county_admin"], village=a.villages[village], number=number
        )
        household_services.hardship_record(
            actor=a.users["county_admin"],
            household=household,
            year=timezone.localdate().year,
            reasons=["illness"],
        )
    return household


def url(name, **kwargs):
    return reverse(name, kwargs=kwargs or None)


def body_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def secretary(client, world):
    client.force_login(world.a.users["village_secretary"])
    return world.a


# --- registering ------------------------------------------------------------------------------


def test_secretary_registers_a_person_of_the_village(client, secretary):
    a = secretary
    head, spouse = a.persons[0], a.persons[1]
    register = url("member-register", pk=a.villages[0].pk)
    page = client.get(register, {"person": spouse.pk})
    assert page.status_code == 200
    body = body_of(page)
    assert spouse.name in body and mask_id_number(spouse.id_number) in body
    assert 'name="name"' not in body  # the person is chosen: no person fields
    assert a.groups[1].name in body and a.groups[2].name not in body  # only this village's groups
    response = client.post(
        f"{register}?person={spouse.pk}",
        {
            "group": a.groups[1].pk,
            "member_number": "",
            "joined_on": "2024-03-01",
            "categories": ["volunteer", "village_cadre"],
            "is_backbone": "on",
        },
    )
    with a.scope():
        member = Member.objects.get(person=spouse)
    assert response.status_code == 302
    assert response.url == url("member-detail", pk=member.pk) + "?registered=1"
    assert member.member_number == "0002"  # blank: the next number
    assert (member.group_id, member.is_backbone) == (a.groups[1].pk, True)
    assert member.categories == ["village_cadre", "volunteer"]
    detail = body_of(client.get(response.url))
    assert "已登记会员" in detail and "村干部、志愿者" in detail and "骨干会员" in detail
    # The head is a member already: the page says so.
    body = body_of(client.get(register, {"person": head.pk}))
    assert f"此人已是{a.villages[0].name}的会员(会员证号 0001)" in body


def test_registering_a_member_of_another_village_is_refused_naming_it(client, secretary):
    a = secretary
    moved = move_head_of_village_1_to_village_0(a)
    response = client.post(
        url("member-register", pk=a.villages[0].pk) + f"?person={moved.pk}",
        {"member_number": "0077", "joined_on": "2024-03-01"},
    )
    assert response.status_code == 400
    body = body_of(response)
    assert f"此人已是{a.villages[1].name}(会员证号 0001)的会员" in body
    assert 'value="0077"' in body  # what was typed stays
    with a.scope():
        assert Member.objects.filter(person=moved).count() == 1


def test_register_page_is_only_for_villages(client, secretary):
    assert client.get(url("member-register", pk=secretary.groups[0].pk)).status_code == 404


@pytest.mark.parametrize("role", ["group_leader", "county_viewer"])
def test_read_only_roles_cannot_write(client, world, role):
    a = world.a
    client.force_login(a.users[role])
    member = a.members[0]  # in the group leader's own group
    assert client.get(url("member-detail", pk=member.pk)).status_code == 200
    # The village itself lies above a group leader's scope: its register page is not found.
    register = url("member-register", pk=a.villages[0].pk)
    assert client.get(register).status_code == (404 if role == "group_leader" else 403)
    for name, kwargs in [
        ("member-edit", {"pk": member.pk}),
        ("member-leave", {"pk": member.pk}),
        ("member-contact-add", {"pk": member.pk}),
        ("member-pairing-start", {"pk": member.pk}),
        ("member-commendation-add", {"pk": member.pk}),
        ("group-role-assign", {"pk": a.groups[0].pk}),
        ("group-commendation-add", {"pk": a.groups[0].pk}),
        ("volunteer-team-create", {"pk": a.groups[0].pk}),
    ]:
        assert client.get(url(name, **kwargs)).status_code == 403, name
        assert client.post(url(name, **kwargs), {}).status_code == 403, name
    response = client.post(
        url("member-leave", pk=member.pk), {"left_on": "2026-01-02", "leave_reason": "voluntary"}
    )
    assert response.status_code == 403
    detail = body_of(client.get(url("member-detail", pk=member.pk)))
    assert "修改会籍" not in detail and "退会</a>" not in detail
    with a.scope():
        member.refresh_from_db()
    assert member.status == "active"


def test_other_countys_and_sibling_villages_members_are_404(client, world):
    a, b = world.a, world.b
    client.force_login(a.users["village_secretary"])
    for member in (a.members[1], b.members[0]):
        for name in ("member-detail", "member-edit", "member-leave", "member-contact-add"):
            assert client.get(url(name, pk=member.pk)).status_code == 404, name
        response = client.post(
            url("member-leave", pk=member.pk),
            {"left_on": "2026-01-02", "leave_reason": "voluntary"},
        )
        assert response.status_code == 404
    for node in (a.villages[1], b.villages[0]):
        assert client.get(url("member-register", pk=node.pk)).status_code == 404
    assert client.get(url("group-sheet", pk=a.groups[2].pk)).status_code == 404
    with b.scope():
        assert Member.objects.get(pk=b.members[0].pk).status == "active"


def test_a_person_of_another_village_cannot_be_posted(client, world):
    a = world.a
    register = url("member-register", pk=a.villages[0].pk)
    village_1_spouse = a.persons[3]
    for role in ("village_secretary", "county_admin"):  # out of scope / in another village
        client.force_login(a.users[role])
        assert client.get(register, {"person": village_1_spouse.pk}).status_code == 404
        response = client.post(
            f"{register}?person={village_1_spouse.pk}", {"joined_on": "2024-03-01"}
        )
        assert response.status_code == 404
    with a.scope():
        assert not Member.objects.filter(person=village_1_spouse).exists()


def test_edit_keeps_input_on_a_service_error(client, secretary):
    a = secretary
    other = new_member(a, "李四")
    response = client.post(
        url("member-edit", pk=other.pk),
        {"member_number": "0001", "joined_on": "2021-03-01", "group": a.groups[0].pk},
    )
    assert response.status_code == 400
    body = body_of(response)
    assert "本协会已有会员证号 0001。" in body and 'value="0001"' in body
    response = client.post(
        url("member-edit", pk=other.pk),
        {"member_number": "0100", "joined_on": "2021-03-01", "group": "", "elder_kind": "elder"},
    )
    assert response.status_code == 302
    with a.scope():
        other.refresh_from_db()
    assert (other.member_number, other.group_id, other.categories) == ("0100", None, ["elder"])


# --- leaving and rejoining --------------------------------------------------------------------


def test_leave_keeps_history_and_rejoining_is_a_new_membership(client, secretary):
    a = secretary
    member = a.members[0]
    page = client.get(url("member-leave", pk=member.pk))
    assert page.status_code == 200 and "确认退会" in body_of(page)
    today = timezone.localdate()
    response = client.post(
        url("member-leave", pk=member.pk),
        {"left_on": today.isoformat(), "leave_reason": "voluntary"},
    )
    assert response.status_code == 302
    with a.scope():
        member.refresh_from_db()
        assert ChangeRecord.objects.filter(
            object_type="members.Member", object_id=member.pk, action="update"
        ).exists()
    assert (member.status, member.left_on, member.leave_reason) == ("left", today, "voluntary")
    detail = body_of(client.get(url("member-detail", pk=member.pk)))
    assert "已退会" in detail and "自愿退会" in detail and "变更记录" in detail
    rejoin = url("member-register", pk=a.villages[0].pk) + f"?person={member.person_id}"
    assert "重新入会" in detail and "修改会籍" not in detail and rejoin in detail
    # Editing a membership that has ended is refused with the service's message.
    response = client.post(
        url("member-edit", pk=member.pk), {"member_number": "0001", "joined_on": "2020-05-29"}
    )
    assert response.status_code == 400
    assert "已退会的会籍不能修改" in body_of(response)
    # The person can join again: a new membership, the old one kept.
    register = body_of(client.get(rejoin))
    assert a.persons[0].name in register and "已是" not in register
    response = client.post(rejoin, {"joined_on": today.isoformat(), "group": a.groups[0].pk})
    assert response.status_code == 302
    with a.scope():
        memberships = list(Member.objects.filter(person=member.person).order_by("id"))
    assert [m.status for m in memberships] == ["left", "active"]
    again = body_of(client.get(url("member-detail", pk=memberships[1].pk)))
    assert "历次会籍" in again and url("member-detail", pk=member.pk) in again


def test_leave_without_reason_is_refused_on_the_form(client, secretary):
    member = secretary.members[0]
    response = client.post(
        url("member-leave", pk=member.pk), {"left_on": "2019-01-01", "leave_reason": "moved_out"}
    )
    assert response.status_code == 400
    assert "退会日期早于入会日期。" in body_of(response)


# --- member groups ----------------------------------------------------------------------------


def test_group_page_shows_leader_and_contact_heads_and_caps_them(client, secretary):
    a = secretary
    group = a.groups[0]
    others = [new_member(a, name) for name in ("赵一", "钱二", "孙三")]
    leader = a.members[0]
    response = client.post(
        url("group-role-assign", pk=group.pk),
        {"member": leader.pk, "role": "leader", "starts_on": "2025-01-01"},
    )
    assert response.status_code == 302 and response.url == url("group-sheet", pk=group.pk)
    for member in others:
        response = client.post(
            url("group-role-assign", pk=group.pk),
            {"member": member.pk, "role": "contact_head", "starts_on": "2025-01-01"},
        )
        assert response.status_code == 302
    body = body_of(client.get(url("group-sheet", pk=group.pk)))
    assert "会员小组长" in body and leader.person.name in body
    for member in others:
        assert member.person.name in body
    assert "(3/3)" in body
    # A fourth contact head is refused with the Chinese message, input kept.
    response = client.post(
        url("group-role-assign", pk=group.pk),
        {"member": leader.pk, "role": "contact_head", "starts_on": "2025-02-01"},
    )
    assert response.status_code == 400
    body = body_of(response)
    assert "每个会员小组最多 3 名联系户长。" in body and 'value="2025-02-01"' in body
    # Ending the leader's role.
    with a.scope():
        assignment = GroupRole.objects.get(member=leader, role="leader")
    assert client.get(url("group-role-end", pk=assignment.pk)).status_code == 200
    response = client.post(url("group-role-end", pk=assignment.pk), {"ends_on": "2025-06-01"})
    assert response.status_code == 302
    with a.scope():
        assignment.refresh_from_db()
    assert assignment.ends_on == D(2025, 6, 1)
    body = body_of(client.get(url("group-sheet", pk=group.pk)))
    assert "未任命" in body
    response = client.post(url("group-role-end", pk=assignment.pk), {"ends_on": "2025-07-01"})
    assert response.status_code == 400 and "该职务已卸任。" in body_of(response)


def test_group_page_only_for_groups_and_member_choices_of_the_group(client, secretary):
    a = secretary
    assert client.get(url("group-sheet", pk=a.villages[0].pk)).status_code == 404
    stranger = new_member(a, "周五", group=1)
    response = client.post(
        url("group-role-assign", pk=a.groups[0].pk),
        {"member": stranger.pk, "role": "leader", "starts_on": "2025-01-01"},
    )
    assert response.status_code == 400  # a member of the other group is not a choice


def test_group_leader_reads_own_group_page(client, world):
    a = world.a
    client.force_login(a.users["group_leader"])
    body = body_of(client.get(url("group-sheet", pk=a.groups[0].pk)))
    assert a.members[0].person.name in body and "任命小组长" not in body
    assert client.get(url("group-sheet", pk=a.groups[1].pk)).status_code == 404


def test_group_commendation(client, secretary):
    a = secretary
    response = client.post(
        url("group-commendation-add", pk=a.groups[0].pk),
        {"year": 2025, "award_level": "county", "notes": ""},
    )
    assert response.status_code == 302
    body = body_of(client.get(url("group-sheet", pk=a.groups[0].pk)))
    assert "2025 年 县级先进会员小组" in body


# --- contact households, pairings, commendations ----------------------------------------------


def test_contact_households_add_and_remove(client, secretary):
    a = secretary
    member = a.members[0]
    page = body_of(client.get(url("member-detail", pk=member.pk)))
    assert "添加联系户" in page
    response = client.post(
        url("member-contact-add", pk=member.pk),
        {"household": a.households[1].pk, "since": "2025-01-01"},  # a sibling village's
    )
    assert response.status_code == 400
    response = client.post(
        url("member-contact-add", pk=member.pk),
        {"household": a.households[0].pk, "since": "2025-01-01"},
    )
    assert response.status_code == 302
    with a.scope():
        link = ContactHousehold.objects.get(member=member)
    group_page = body_of(client.get(url("group-sheet", pk=a.groups[0].pk)))
    assert f"{a.households[0].number}户" in group_page
    remove = url("contact-household-remove", pk=link.pk)
    assert client.get(remove).status_code == 200
    next_url = url("group-sheet", pk=a.groups[0].pk)
    response = client.post(f"{remove}?next={next_url}", {})
    assert response.status_code == 302 and response.url == next_url
    with a.scope():
        assert not ContactHousehold.objects.filter(member=member).exists()


def test_pairing_with_a_hardship_household(client, secretary):
    a = secretary
    member = a.members[0]
    household = hardship_household(a)
    body = body_of(client.get(url("member-detail", pk=member.pk)))
    assert f'value="{household.pk}"' in body
    assert f'value="{a.households[0].pk}"' in body  # the contact choice lists every household
    response = client.post(
        url("member-pairing-start", pk=member.pk),
        {"household": a.households[0].pk, "starts_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400  # not on the roster: not a choice
    response = client.post(
        url("member-pairing-start", pk=member.pk),
        {"household": household.pk, "starts_on": timezone.localdate().isoformat(), "notes": "助学"},
    )
    assert response.status_code == 302
    with a.scope():
        pairing = Pairing.objects.get(member=member)
    response = client.post(url("pairing-end", pk=pairing.pk), {"ends_on": "2000-01-01"})
    assert response.status_code == 400 and "结束日期早于开始日期。" in body_of(response)
    response = client.post(
        url("pairing-end", pk=pairing.pk), {"ends_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    with a.scope():
        pairing.refresh_from_db()
    assert pairing.ends_on == timezone.localdate()


def test_member_commendation(client, secretary):
    a = secretary
    member = a.members[0]
    response = client.post(
        url("member-commendation-add", pk=member.pk),
        {"kind": "excellent_member", "year": 2025, "award_level": "township"},
    )
    assert response.status_code == 302
    response = client.post(
        url("member-commendation-add", pk=member.pk),
        {"kind": "excellent_member", "year": 2025, "award_level": "township"},
    )
    assert response.status_code == 400 and "该表彰已登记。" in body_of(response)
    with a.scope():
        assert Commendation.objects.filter(member=member).count() == 1
    assert "2025 年 乡镇级优秀会员" in body_of(client.get(url("member-detail", pk=member.pk)))


# --- volunteer teams and council seats --------------------------------------------------------


def test_volunteer_teams_are_listed_a_page_at_a_time(client, secretary):
    a = secretary
    village = a.villages[0]
    with a.scope():
        for n in range(31):
            services.volunteer_team_create(
                actor=a.users["village_secretary"],
                node=village,
                name=f"服务队{n:02d}",
                service="arts",
            )

    def listed(**params) -> str:  # the table, without the new-team form's parent choices
        body = body_of(client.get(url("volunteer-team-list", pk=village.pk), params))
        return body.split("<h2>新建服务队</h2>")[0]

    first = listed()
    assert "共 31 条" in first and 'rel="next"' in first
    assert "服务队29" in first and "服务队30" not in first
    second = listed(page=2)
    assert "服务队30" in second and "服务队29" not in second


def test_volunteer_teams(client, secretary):
    a = secretary
    village = a.villages[0]
    page = client.get(url("volunteer-team-list", pk=village.pk))
    assert page.status_code == 200 and "尚未组建" in body_of(page)
    response = client.post(
        url("volunteer-team-create", pk=village.pk), {"name": "文艺宣传队", "service": "arts"}
    )
    assert response.status_code == 302
    with a.scope():
        team = VolunteerTeam.objects.get(name="文艺宣传队")
    sub_team = {"name": "一分队", "service": "arts", "parent": team.pk}
    response = client.post(url("volunteer-team-create", pk=village.pk), sub_team)
    assert response.status_code == 302
    response = client.post(url("volunteer-team-create", pk=village.pk), sub_team)
    assert response.status_code == 400 and "已有同名的服务队。" in body_of(response)
    assert 'value="一分队"' in body_of(response)
    join = url("volunteer-team-join", pk=team.pk)
    page = body_of(client.get(join, {"q": a.members[0].member_number}))
    assert f'value="{a.members[0].pk}"' in page
    response = client.post(join, {"member": a.members[0].pk, "joined_on": "2025-01-01"})
    assert response.status_code == 302
    with a.scope():
        assert VolunteerMembership.objects.filter(team=team).count() == 1
        assert "volunteer" in Member.objects.get(pk=a.members[0].pk).categories
    body = body_of(client.get(url("volunteer-team-list", pk=village.pk)))
    assert "文艺宣传队" in body and '<td class="num">1</td>' in body
    # Another village's member is not accepted.
    response = client.post(join, {"member": a.members[1].pk, "joined_on": "2025-01-01"})
    assert response.status_code == 400


def test_group_leader_sees_team_roster_without_the_form(client, world):
    a = world.a
    with a.scope():
        team = services.volunteer_team_create(
            actor=a.users["county_admin"], node=a.groups[0], name="健身队", service="fitness"
        )
    client.force_login(a.users["group_leader"])
    page = client.get(url("volunteer-team-join", pk=team.pk))
    assert page.status_code == 200 and "加入服务队" not in body_of(page)
    assert client.post(url("volunteer-team-join", pk=team.pk), {}).status_code == 403


def test_seat_is_linked_to_a_member(client, secretary):
    a = secretary
    village = a.villages[0]
    seat = a.seats[a.councils[village.pk].pk]
    member = a.members[0]
    response = client.post(url("seat-member", pk=seat.pk), {"member": a.members[1].pk})
    assert response.status_code == 400  # another village's member is not a choice
    response = client.post(url("seat-member", pk=seat.pk), {"member": member.pk})
    assert response.status_code == 302 and response.url == url("council", pk=village.pk)
    with a.scope():
        assert SeatHolder.objects.get(seat=seat).member_id == member.pk
        assert CouncilSeat.objects.get(pk=seat.pk).person_name == member.person.name
    other_seat = a.seats[a.councils[a.villages[1].pk].pk]
    assert client.get(url("seat-member", pk=other_seat.pk)).status_code == 404


# --- the list ---------------------------------------------------------------------------------


def test_list_masks_id_numbers(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    body = body_of(client.get(url("member-list")))
    for member, person in zip(a.members, a.persons[::2], strict=True):
        assert person.id_number not in body
        assert mask_id_number(person.id_number) in body
        assert member.person.name in body
    # The card shows the number in full to a county admin, masked to township staff.
    head = a.persons[0]
    detail = body_of(client.get(url("member-detail", pk=a.members[0].pk)))
    assert head.id_number in detail
    client.force_login(a.users["township_staff"])
    detail = body_of(client.get(url("member-detail", pk=a.members[0].pk)))
    assert head.id_number not in detail and mask_id_number(head.id_number) in detail


def test_list_shows_only_the_subtree(client, world):
    a = world.a
    client.force_login(a.users["group_leader"])
    new_member(a, "钱二", group=1)
    body = body_of(client.get(url("member-list")))
    assert a.members[0].person.name in body and "钱二" not in body
    assert "新增会员" not in body


def test_search_by_pinyin_initials_and_member_number(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    zhang = new_member(a, "张三丰", member_number="0123")
    body = body_of(client.get(url("member-list"), {"q": "zsf"}))
    assert "张三丰" in body and a.members[0].person.name not in body
    body = body_of(client.get(url("member-list"), {"q": "0123"}))
    assert "张三丰" in body and a.members[0].person.name not in body
    body = body_of(client.get(url("member-list"), {"q": "0001"}))
    assert a.members[0].person.name in body and url("member-detail", pk=zhang.pk) not in body
    # A full ID number in the URL is refused (issue 12): the lookup is a POST.
    response = client.get(url("member-list"), {"q": a.persons[0].id_number})
    assert response.status_code == 400


def test_list_filters_and_status_default(client, secretary):
    a = secretary
    with a.scope():
        services.member_leave(
            actor=a.users["county_admin"],
            member=a.members[0],
            left_on=timezone.localdate(),
            reason="moved_out",
        )
    backbone = new_member(a, "骨干甲", is_backbone=True, group=1)
    detail = url("member-detail", pk=a.members[0].pk)
    assert detail not in body_of(client.get(url("member-list")))  # the roll: active only
    assert detail in body_of(client.get(url("member-list"), {"status": "left"}))
    assert detail in body_of(client.get(url("member-list"), {"status": ""}))
    body = body_of(client.get(url("member-list"), {"is_backbone": "true"}))
    assert "骨干甲" in body
    body = body_of(client.get(url("member-list"), {"under": a.groups[0].pk, "status": ""}))
    assert detail in body and url("member-detail", pk=backbone.pk) not in body
    body = body_of(client.get(url("member-list"), {"category": "elder", "status": ""}))
    assert detail in body and "骨干甲" not in body


def test_list_header_shows_the_membership_ratio(client, world):
    a = world.a
    client.force_login(a.users["village_secretary"])
    body = body_of(client.get(url("member-list")))
    assert "会员占常住人口 50.0%" in body  # 1 member, 2 persons living there
    assert "常住人口 = 户籍常住 + 流入" in body
    client.force_login(a.users["county_admin"])
    body = body_of(client.get(url("member-list"), {"under": a.townships[0].pk}))
    with a.scope():
        expected = selectors.membership_ratio(node=a.townships[0]).text()
    assert expected in body and f"会员 · {a.townships[0].name}" in body


def test_list_pages_without_counting(client, world, monkeypatch):
    a = world.a
    monkeypatch.setattr(member_views, "PER_PAGE", 1)  # "0001" matches one member per village
    client.force_login(a.users["county_admin"])
    with a.scope(), CaptureQueriesContext(connection) as ratio:
        selectors.membership_ratio(node=a.county)
    ratio_sql = {q["sql"] for q in ratio.captured_queries}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("member-list"), {"q": "0001", "page": "2"})
    assert response.status_code == 200
    counts = {q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()}
    # Besides the ratio's two counts, the list is counted only up to a cap, never whole.
    assert all("LIMIT 1001" in sql for sql in counts - ratio_sql), counts - ratio_sql
    body = body_of(response)
    assert "符合条件的共 4 条" in body  # "0001": the first member of each of 4 villages
    assert "下一页" in body and "上一页" in body and "第 2 页" in body
    assert "?q=0001&amp;page=3" in body and 'href="?q=0001"' in body
