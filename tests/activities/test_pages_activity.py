"""The activity pages: record one at a node on a phone (chips, digit keyboards, draft, one-time
token), its detail, edit, attendees (全组), delete; who may do what.

County A's first village is bare in the world: its group 0 has one member (the head of
household 0001) and no activities, so every figure below is what these tests wrote."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import catalogues, services
from activities.models import Activity, Attendance, MaterialHandout
from associations.models import ChangeRecord
from tests.members.test_pages import new_member

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def a(world):
    return world.a


def leader(a):
    return a.users["group_leader"]


def catalogue(a):
    with a.scope():
        themes = catalogues.themes(county_id=a.county.pk)
        materials = catalogues.materials(county_id=a.county.pk)
    return themes, materials


def post_activity(client, a, node=None, **data):
    node = node or a.groups[0]
    payload = {"kind": "publicity", "date": today().isoformat(), "form_token": str(uuid.uuid4())}
    payload.update(data)
    return client.post(reverse("activity-create", args=[node.pk]), payload)


def make_activity(a, node=None, **fields):
    with a.scope():
        return services.activity_create(
            actor=a.users["county_admin"],
            association=node or a.groups[0],
            kind=fields.pop("kind", "publicity"),
            date=fields.pop("date", today()),
            **fields,
        )


# --- the form on a phone ---------------------------------------------------------------------


def test_create_form_is_one_short_phone_form(client, a):
    client.force_login(leader(a))
    response = client.get(reverse("activity-create", args=[a.groups[0].pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-draft="/nodes/' in body  # the browser keeps a draft until saved
    assert 'name="form_token"' in body
    assert body.count('inputmode="numeric"') >= 3 + 6  # three counts and six materials
    assert f'name="date" value="{today():%Y-%m-%d}"' in body  # date defaults to today
    assert 'type="radio" name="kind" value="publicity"' in body  # kinds as chips
    assert "婚育新风进万家" in body and 'name="theme"' in body  # themes as chips
    member = a.members[0]
    assert f'name="attendees" value="{member.pk}"' in body  # the group's members listed
    assert member.person.name in body
    assert "全组" in body
    assert "<select" not in body  # no long select on the phone form


@pytest.mark.parametrize(
    ("role", "node", "status"),
    [
        ("group_leader", 0, 200),
        ("village_secretary", 0, 200),
        ("township_staff", 0, 200),
        ("county_admin", 0, 200),
        ("county_viewer", 0, 403),  # reads only
        ("group_leader_sibling", 0, 404),  # another group
        ("group_leader", 1, 404),
        ("village_secretary_sibling", 0, 404),
    ],
)
def test_who_may_open_the_create_form(client, a, role, node, status):
    client.force_login(a.users[role])
    assert client.get(reverse("activity-create", args=[a.groups[node].pk])).status_code == status


def test_create_records_the_activity_with_attendees_and_materials(client, a):
    themes, materials = catalogue(a)
    client.force_login(leader(a))
    member = a.members[0]
    response = post_activity(
        client,
        a,
        theme=themes[0].pk,
        attendees=[member.pk],
        consultations="12",
        **{f"material_{materials[0].pk}": "30", f"material_{materials[3].pk}": "1"},
    )
    assert response.status_code == 302
    with a.scope():
        activity = Activity.objects.get(group=a.groups[0])
        assert response.url == reverse("activity-detail", args=[activity.pk])
        assert activity.kind == "publicity" and activity.date == today()
        assert activity.theme_id == themes[0].pk
        assert activity.consultations == 12
        assert activity.participants == 1  # left empty: the members tapped
        assert list(activity.attendances.values_list("member_id", flat=True)) == [member.pk]
        handouts = dict(activity.handouts.values_list("material_id", "quantity"))
        assert handouts == {materials[0].pk: 30, materials[3].pk: 1}
        record = ChangeRecord.objects.get(
            object_type="activities.Activity", object_id=activity.pk, action="create"
        )
        assert record.actor_id == leader(a).pk


def test_a_form_sent_twice_records_one_activity(client, a):
    client.force_login(leader(a))
    token = str(uuid.uuid4())
    first = post_activity(client, a, form_token=token, attendees=[a.members[0].pk])
    second = post_activity(client, a, form_token=token, attendees=[a.members[0].pk])
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    with a.scope():
        assert Activity.objects.filter(group=a.groups[0]).count() == 1
        assert Attendance.objects.filter(group=a.groups[0]).count() == 1
    # a new rendering of the form (a new token) records a second one
    post_activity(client, a)
    with a.scope():
        assert Activity.objects.filter(group=a.groups[0]).count() == 2


def test_whole_group_on_the_form_lists_every_member(client, a):
    second = new_member(a, "李秀英", village=0, group=0)
    client.force_login(leader(a))
    response = post_activity(
        client, a, kind="meeting", meeting_type="group_meeting", whole_groups=[a.groups[0].pk]
    )
    assert response.status_code == 302
    with a.scope():
        activity = Activity.objects.get(group=a.groups[0])
        members = set(activity.attendances.values_list("member_id", flat=True))
    assert members == {a.members[0].pk, second.pk}


def test_errors_are_in_chinese_next_to_the_field_and_keep_what_was_typed(client, a):
    client.force_login(leader(a))
    response = post_activity(
        client,
        a,
        kind="meeting",
        title="三月小组会",
        participants="abc",
        attendees=[a.members[0].pk],
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "会议请选择会议类型" in body
    assert "请填写整数" in body
    assert 'value="三月小组会"' in body
    assert re.search(rf'name="attendees" value="{a.members[0].pk}"[^>]* checked', body)
    assert "data-draft-bound" in body
    with a.scope():
        assert not Activity.objects.filter(group=a.groups[0]).exists()


def test_a_future_date_is_refused_in_words(client, a):
    client.force_login(leader(a))
    tomorrow = today() + datetime.timedelta(days=1)
    response = post_activity(client, a, date=tomorrow.isoformat())
    assert response.status_code == 400
    assert "晚于今天" in response.content.decode()


def test_a_member_of_another_group_cannot_be_sent_as_attendee(client, a):
    client.force_login(leader(a))
    other = a.members[1]  # village 1's head
    response = post_activity(client, a, attendees=[other.pk])
    assert response.status_code == 400
    assert "所选会员不是本组织的在册会员" in response.content.decode()
    with a.scope():
        assert not Activity.objects.filter(group=a.groups[0]).exists()


# --- detail, edit, attendees, delete ---------------------------------------------------------


def test_detail_shows_everything_and_buttons_for_those_allowed(client, a):
    themes, materials = catalogue(a)
    activity = make_activity(
        a,
        title="婚育新风宣传",
        place="村委会广场",
        theme=themes[0],
        participants=25,
        attendees=[a.members[0]],
        materials={materials[0]: 40},
    )
    client.force_login(leader(a))
    response = client.get(reverse("activity-detail", args=[activity.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "婚育新风宣传",
        "村委会广场",
        themes[0].name,
        "25 人",
        a.members[0].person.name,
        "宣传资料",
        "40 份",
        a.groups[0].name,
        "登记人",
    ):
        assert text in body, text
    assert reverse("activity-edit", args=[activity.pk]) in body
    assert reverse("activity-delete", args=[activity.pk]) in body
    client.force_login(a.users["county_viewer"])
    body = client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
    assert "婚育新风宣传" in body
    assert reverse("activity-edit", args=[activity.pk]) not in body
    client.force_login(a.users["group_leader_sibling"])
    assert client.get(reverse("activity-detail", args=[activity.pk])).status_code == 404


def test_edit_changes_fields_and_materials(client, a):
    _, materials = catalogue(a)
    activity = make_activity(
        a, title="旧名称", attendees=[a.members[0]], materials={materials[0]: 40}
    )
    client.force_login(leader(a))
    url = reverse("activity-edit", args=[activity.pk])
    page = client.get(url).content.decode()
    assert 'value="旧名称"' in page and 'value="40"' in page
    response = client.post(
        url,
        {
            "kind": "training",
            "date": activity.date.isoformat(),
            "title": "组长培训",
            "trainees": "8",
            "attendees": [a.members[0].pk],
            f"material_{materials[0].pk}": "",
            f"material_{materials[1].pk}": "5",
        },
    )
    assert response.status_code == 302
    with a.scope():
        activity.refresh_from_db()
        assert (activity.kind, activity.title, activity.trainees) == ("training", "组长培训", 8)
        handouts = dict(activity.handouts.values_list("material_id", "quantity"))
        assert handouts == {materials[1].pk: 5}
        assert ChangeRecord.objects.filter(
            object_type="activities.Activity", object_id=activity.pk, action="update"
        ).exists()
    client.force_login(a.users["county_viewer"])
    assert client.post(url, {"kind": "publicity"}).status_code == 403


def test_attendees_page_taps_names_and_whole_group(client, a):
    second = new_member(a, "李秀英", village=0, group=0)
    activity = make_activity(a)
    client.force_login(leader(a))
    url = reverse("activity-attendees", args=[activity.pk])
    body = client.get(url).content.decode()
    assert "李秀英" in body and "全组" in body
    response = client.post(url, {"whole_group": a.groups[0].pk})
    assert response.status_code == 302
    with a.scope():
        assert set(activity.attendances.values_list("member_id", flat=True)) == {
            a.members[0].pk,
            second.pk,
        }
    response = client.post(url, {"attendees": [second.pk]})
    assert response.status_code == 302
    with a.scope():
        assert list(activity.attendances.values_list("member_id", flat=True)) == [second.pk]
    # another village's group is refused in words, not a 500
    response = client.post(url, {"whole_group": a.groups[2].pk})
    assert response.status_code == 400
    assert "会员小组" in response.content.decode()
    assert client.post(url, {"whole_group": "x"}).status_code == 400


def test_delete_asks_then_deletes_with_its_rows(client, a):
    _, materials = catalogue(a)
    activity = make_activity(a, attendees=[a.members[0]], materials={materials[0]: 3})
    client.force_login(a.users["county_viewer"])
    url = reverse("activity-delete", args=[activity.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    client.force_login(leader(a))
    page = client.get(url)
    assert page.status_code == 200 and "确认删除" in page.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("node-activities", args=[a.groups[0].pk])
    with a.scope():
        assert not Activity.objects.filter(pk=activity.pk).exists()
        assert not MaterialHandout.objects.filter(group=a.groups[0]).exists()
        assert ChangeRecord.objects.filter(
            object_type="activities.Activity", object_id=activity.pk, action="delete"
        ).exists()


def test_node_page_and_records_page_link_to_the_entry_forms(client, a):
    client.force_login(a.users["village_secretary"])
    village = a.villages[0]
    for name in ("node-detail", "node-activities"):
        body = client.get(reverse(name, args=[village.pk])).content.decode()
        assert reverse("activity-create", args=[village.pk]) in body, name
        assert reverse("visit-create", args=[village.pk]) in body, name
    client.force_login(a.users["county_viewer"])
    body = client.get(reverse("node-detail", args=[village.pk])).content.decode()
    assert reverse("activity-create", args=[village.pk]) not in body


def test_a_county_activity_offers_no_member_chips(client, a):
    """Above a village the county's members do not fit on a phone: no attendee chips, no
    全组; the activity is recorded with its counts."""
    client.force_login(a.users["county_admin"])
    body = client.get(reverse("activity-create", args=[a.county.pk])).content.decode()
    assert 'name="attendees"' not in body and 'name="whole_groups"' not in body
    assert 'name="participants"' in body
    response = post_activity(client, a, node=a.county, participants="300")
    assert response.status_code == 302
    with a.scope():
        activity = Activity.objects.get(association=a.county)
        assert activity.participants == 300 and not activity.attendances.exists()
    body = client.get(reverse("activity-attendees", args=[activity.pk])).content.decode()
    assert 'name="attendees"' not in body and "全组" not in body


def test_a_village_activity_lists_its_groups_members_and_whole_groups(client, a):
    other = new_member(a, "李秀英", village=0, group=1)
    client.force_login(a.users["village_secretary"])
    body = client.get(reverse("activity-create", args=[a.villages[0].pk])).content.decode()
    assert f'name="attendees" value="{a.members[0].pk}"' in body
    assert f'name="attendees" value="{other.pk}"' in body
    assert body.count('name="whole_groups"') == 2
    response = post_activity(
        client,
        a,
        node=a.villages[0],
        kind="meeting",
        meeting_type="council",
        whole_groups=[a.groups[1].pk],
        attendees=[a.members[0].pk],
    )
    assert response.status_code == 302
    with a.scope():
        activity = Activity.objects.get(association=a.villages[0])
        assert set(activity.attendances.values_list("member_id", flat=True)) == {
            a.members[0].pk,
            other.pk,
        }
        assert activity.participants == 2  # left empty: the members tapped and group 1's
