"""The home visit pages: record one at a group or village on a phone (the household by search
or from the group's households, purpose as chips, the date today, draft and one-time token),
the household search and its scope, detail, edit, delete.

Set up in county A's bare first village: household 0107 (王秀英, group 0) and household 0208
(赵大妈, group 1); the group leader of group 0 is the head of household 0001 (a.members[0])."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import HomeVisit
from associations.models import ChangeRecord
from households import services as household_services
from members import services as member_services
from tests.members.test_pages import new_member

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def household(a, number, head, group):
    admin = a.users["county_admin"]
    with a.scope():
        row = household_services.household_create(
            actor=admin, village=a.villages[0], group=a.groups[group], number=number
        )
        household_services.person_create(
            actor=admin,
            village=a.villages[0],
            household=row,
            name=head,
            sex="female",
            birth_date=datetime.date(1960, 5, 1),
            relation_to_head="head",
        )
        row.refresh_from_db()
    return row


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
    a.wang = household(a, "0107", "王秀英", 0)
    a.zhao = household(a, "0208", "赵大妈", 1)
    return a


def leader(a):
    return a.users["group_leader"]


def post_visit(client, a, node=None, **data):
    node = node or a.groups[0]
    payload = {
        "household": a.wang.pk,
        "visitor": a.members[0].pk,
        "visited_on": today().isoformat(),
        "purpose": "policy",
        "form_token": str(uuid.uuid4()),
    }
    payload.update(data)
    return client.post(reverse("visit-create", args=[node.pk]), payload)


def make_visit(a, **fields):
    with a.scope():
        return services.visit_record(
            actor=a.users["county_admin"],
            visitor=a.members[0],
            household=fields.pop("household", a.wang),
            visited_on=fields.pop("visited_on", today()),
            purpose=fields.pop("purpose", "policy"),
            **fields,
        )


def test_form_lists_my_groups_households_and_preselects_the_leader(client, a):
    client.force_login(leader(a))
    response = client.get(reverse("visit-create", args=[a.groups[0].pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-draft="/nodes/' in body and 'name="form_token"' in body
    assert "本组家庭户" in body
    assert re.search(rf'name="household" value="{a.wang.pk}" form="visit-form"', body)
    assert "王秀英" in body
    assert f'value="{a.zhao.pk}"' not in body  # another group's household is not listed
    assert re.search(rf'name="visitor" value="{a.members[0].pk}" checked', body)
    assert f'name="visited_on" value="{today():%Y-%m-%d}"' in body
    assert 'type="radio" name="purpose" value="reproductive_health"' in body
    assert "<select" not in body


@pytest.mark.parametrize(
    ("role", "node", "status"),
    [
        ("group_leader", "groups0", 200),
        ("village_secretary", "villages0", 200),
        ("village_secretary", "groups1", 200),
        ("county_viewer", "groups0", 403),
        ("group_leader_sibling", "groups0", 404),
        ("group_leader", "groups1", 404),
        ("village_secretary_sibling", "villages0", 404),
        ("county_admin", "townships0", 404),  # visits are recorded at a group or village
    ],
)
def test_who_may_open_the_form(client, a, role, node, status):
    client.force_login(a.users[role])
    target = getattr(a, node[:-1])[int(node[-1])]
    assert client.get(reverse("visit-create", args=[target.pk])).status_code == status


def search(client, node, q):
    response = client.get(reverse("visit-households", args=[node.pk]), {"q": q})
    return response.status_code, response.content.decode()


def test_household_search_by_initials_name_and_number(client, a):
    client.force_login(leader(a))
    for q in ("wxy", "WX", "王秀", "0107"):
        status, body = search(client, a.groups[0], q)
        assert status == 200
        assert f'value="{a.wang.pk}"' in body, q
    status, body = search(client, a.groups[0], "zdm")
    assert f'value="{a.zhao.pk}"' not in body and "没有找到" in body


def test_household_search_never_leaves_the_subtree(client, a):
    # the group leader does not see group 1's household, nor another village's
    client.force_login(leader(a))
    assert f'value="{a.zhao.pk}"' not in search(client, a.groups[0], "0208")[1]
    assert f'value="{a.households[1].pk}"' not in search(client, a.groups[0], "0002")[1]
    # the village secretary finds group 1's household, not the sibling village's
    client.force_login(a.users["village_secretary"])
    assert f'value="{a.zhao.pk}"' in search(client, a.villages[0], "zdm")[1]
    assert f'value="{a.households[1].pk}"' not in search(client, a.villages[0], "0002")[1]
    # county staff searching at a village: only that village's households
    client.force_login(a.users["county_admin"])
    assert f'value="{a.households[1].pk}"' not in search(client, a.villages[0], "0002")[1]
    assert f'value="{a.households[1].pk}"' in search(client, a.villages[1], "0002")[1]
    client.force_login(a.users["group_leader_sibling"])
    assert search(client, a.groups[0], "wxy")[0] == 404
    client.force_login(a.users["county_viewer"])
    assert search(client, a.groups[0], "wxy")[0] == 403


def test_the_page_search_without_script_keeps_the_form(client, a):
    client.force_login(a.users["village_secretary"])
    url = reverse("visit-create", args=[a.villages[0].pk])
    body = client.get(url, {"find": "0208"}).content.decode()
    assert re.search(rf'name="household" value="{a.zhao.pk}" form="visit-form"', body)


def test_recording_a_visit(client, a):
    client.force_login(leader(a))
    response = post_visit(client, a, purpose="hardship_help", notes="家中老人生病")
    assert response.status_code == 302
    with a.scope():
        visit = HomeVisit.objects.get(household=a.wang)
        assert response.url == reverse("visit-detail", args=[visit.pk])
        assert (visit.visitor_id, visit.visited_on, visit.purpose) == (
            a.members[0].pk,
            today(),
            "hardship_help",
        )
        assert visit.notes == "家中老人生病"
        assert ChangeRecord.objects.filter(
            object_type="activities.HomeVisit", object_id=visit.pk, action="create"
        ).exists()


def test_a_form_sent_twice_records_one_visit(client, a):
    client.force_login(leader(a))
    token = str(uuid.uuid4())
    first = post_visit(client, a, form_token=token)
    second = post_visit(client, a, form_token=token)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    with a.scope():
        assert HomeVisit.objects.filter(household=a.wang).count() == 1
    post_visit(client, a)
    with a.scope():
        assert HomeVisit.objects.filter(household=a.wang).count() == 2


def test_errors_in_chinese_keep_what_was_typed(client, a):
    client.force_login(leader(a))
    response = post_visit(client, a, household="", notes="门锁着,改天再来", purpose="condolence")
    assert response.status_code == 400
    body = response.content.decode()
    assert "请选择走访的家庭户" in body
    assert "门锁着,改天再来" in body
    assert re.search(r'name="purpose" value="condolence"[^>]* checked', body)
    response = post_visit(client, a, follow_up_done_on=today().isoformat())
    assert response.status_code == 400
    assert "未勾选需要跟进" in response.content.decode()
    # a household of another village is refused in words; so is a visit not yet made
    response = post_visit(client, a, household=a.households[1].pk)
    assert response.status_code == 400 and "没有找到这个家庭户" in response.content.decode()
    tomorrow = today() + datetime.timedelta(days=1)
    response = post_visit(client, a, visited_on=tomorrow.isoformat())
    assert response.status_code == 400 and "晚于今天" in response.content.decode()
    response = post_visit(client, a, household="abc")
    assert response.status_code == 400
    with a.scope():
        assert not HomeVisit.objects.filter(household=a.wang).exists()


def test_a_household_chosen_by_search_stays_chosen_on_an_error(client, a):
    client.force_login(a.users["village_secretary"])
    response = post_visit(client, a, node=a.villages[0], household=a.zhao.pk, purpose="")
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(rf'name="household" value="{a.zhao.pk}" form="visit-form" checked', body)


def test_detail_edit_delete(client, a):
    visit = make_visit(a, notes="宣传新政策", follow_up_needed=True)
    client.force_login(leader(a))
    body = client.get(reverse("visit-detail", args=[visit.pk])).content.decode()
    for text in ("0107", "王秀英", a.members[0].person.name, "宣传政策", "宣传新政策", "待跟进"):
        assert text in body, text
    assert reverse("visit-edit", args=[visit.pk]) in body
    edit = reverse("visit-edit", args=[visit.pk])
    page = client.get(edit).content.decode()
    assert "宣传新政策" in page
    response = client.post(
        edit,
        {
            "household": a.wang.pk,
            "visited_on": visit.visited_on.isoformat(),
            "purpose": "info_check",
            "notes": "核实了家庭人口",
            "follow_up_needed": "on",
            "follow_up_done_on": today().isoformat(),
        },
    )
    assert response.status_code == 302
    with a.scope():
        visit.refresh_from_db()
        assert (visit.purpose, visit.notes, visit.follow_up_done_on) == (
            "info_check",
            "核实了家庭人口",
            today(),
        )
    client.force_login(a.users["county_viewer"])
    assert client.get(edit).status_code == 403
    assert client.post(reverse("visit-delete", args=[visit.pk])).status_code == 403
    assert (
        reverse("visit-edit", args=[visit.pk])
        not in client.get(reverse("visit-detail", args=[visit.pk])).content.decode()
    )
    client.force_login(a.users["group_leader_sibling"])
    assert client.get(reverse("visit-detail", args=[visit.pk])).status_code == 404
    client.force_login(leader(a))
    assert "确认删除" in client.get(reverse("visit-delete", args=[visit.pk])).content.decode()
    assert client.post(reverse("visit-delete", args=[visit.pk])).status_code == 302
    with a.scope():
        assert not HomeVisit.objects.filter(pk=visit.pk).exists()
        assert ChangeRecord.objects.filter(
            object_type="activities.HomeVisit", object_id=visit.pk, action="delete"
        ).exists()


def test_at_a_village_the_visitors_offered_are_the_group_leaders(client, a):
    plain = new_member(a, "李秀英", village=0, group=1)
    client.force_login(a.users["village_secretary"])
    url = reverse("visit-create", args=[a.villages[0].pk])
    body = client.get(url).content.decode()
    assert f'name="visitor" value="{a.members[0].pk}"' in body
    assert f'name="visitor" value="{plain.pk}"' not in body
    assert "本村家庭户" in body and f'value="{a.zhao.pk}"' in body
    # any member of the village may still be sent (the president, a volunteer, …)
    response = post_visit(client, a, node=a.villages[0], visitor=plain.pk, household=a.zhao.pk)
    assert response.status_code == 302
    with a.scope():
        assert HomeVisit.objects.get(household=a.zhao).visitor_id == plain.pk
    # a member of another village is not
    response = post_visit(client, a, node=a.villages[0], visitor=a.members[1].pk)
    assert response.status_code == 400 and "请从列出的会员中选择走访人" in response.content.decode()
