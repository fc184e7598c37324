import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from households.identity import mask_id_number
from members.models import ContactHousehold, GroupRole, Member, VolunteerMembership

from .test_pages import hardship_household, move_head_of_village_1_to_village_0, new_member

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name, **kwargs):
    return reverse(name, kwargs=kwargs or None)


def field_codes(response, field) -> set[str]:
    return {e["code"] for e in response.json()["error"]["fields"][field]}


# --- members ----------------------------------------------------------------------------------


def test_secretary_registers_a_member(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    spouse = a.persons[1]
    response = client.post(
        url("api-member-list"),
        {
            "person": spouse.pk,
            "association": a.villages[0].pk,
            "group": a.groups[1].pk,
            "categories": ["volunteer"],
            "elder_kind": "elder",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["member_number"] == "0002" and data["name"] == spouse.name
    assert data["categories"] == ["elder", "volunteer"]
    assert data["categories_display"] == ["五老", "志愿者"]
    assert data["id_number"] == spouse.id_number  # a village secretary sees it in full
    assert data["group"] == a.groups[1].pk and data["status"] == "active"


def test_a_member_elsewhere_in_the_county_is_refused_naming_the_village(world):
    a = world.a
    moved = move_head_of_village_1_to_village_0(a)
    client = as_user(a.users["village_secretary"])
    response = client.post(
        url("api-member-list"),
        {"person": moved.pk, "association": a.villages[0].pk},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]["fields"]["person"][0]
    assert error["code"] == "already_member_elsewhere"
    assert a.villages[1].name in error["message"] and "0001" in error["message"]


@pytest.mark.parametrize("role", ["group_leader", "county_viewer"])
def test_read_only_roles_cannot_write(world, role):
    a = world.a
    client = as_user(a.users[role])
    member = a.members[0]
    response = client.post(
        url("api-member-list"),
        {"person": a.persons[1].pk, "association": a.villages[0].pk, "group": a.groups[0].pk},
        format="json",
    )
    # A group leader's scope does not hold the village: referencing it is does_not_exist.
    if role == "group_leader":
        assert response.status_code == 400
        assert field_codes(response, "association") == {"does_not_exist"}
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    detail = url("api-member-detail", pk=member.pk)
    assert client.get(detail).status_code == 200
    assert client.patch(detail, {"is_backbone": True}, format="json").status_code == 403
    leave = client.post(
        url("api-member-leave", pk=member.pk), {"leave_reason": "voluntary"}, format="json"
    )
    assert leave.status_code == 403
    response = client.post(
        url("api-group-role-list"), {"member": member.pk, "role": "leader"}, format="json"
    )
    assert response.status_code == 403
    response = client.post(
        url("api-contact-household-list"),
        {"member": member.pk, "household": a.households[0].pk},
        format="json",
    )
    assert response.status_code == 403
    with a.scope():
        assert Member.objects.get(pk=member.pk).status == "active"


def test_foreign_members_are_404_and_cannot_be_referenced(world):
    a, b = world.a, world.b
    client = as_user(a.users["village_secretary"])
    for member in (a.members[1], b.members[0]):
        detail = url("api-member-detail", pk=member.pk)
        assert client.get(detail).status_code == 404
        assert client.patch(detail, {"is_backbone": True}, format="json").status_code == 404
        response = client.post(
            url("api-member-leave", pk=member.pk), {"leave_reason": "voluntary"}, format="json"
        )
        assert response.status_code == 404
        for route, payload in [
            ("api-group-role-list", {"member": member.pk, "role": "leader"}),
            (
                "api-contact-household-list",
                {"member": member.pk, "household": a.households[0].pk},
            ),
            ("api-pairing-list", {"member": member.pk, "household": a.households[0].pk}),
            (
                "api-commendation-list",
                {"member": member.pk, "kind": "excellent_member", "year": 2025},
            ),
        ]:
            response = client.post(url(route), {**payload, "award_level": "county"}, format="json")
            assert response.status_code == 400, route
            assert field_codes(response, "member") == {"does_not_exist"}, route
    for person in (a.persons[3], b.persons[1]):  # a sibling village's, another county's
        response = client.post(
            url("api-member-list"),
            {"person": person.pk, "association": a.villages[0].pk},
            format="json",
        )
        assert field_codes(response, "person") == {"does_not_exist"}
    response = client.post(
        url("api-member-list"),
        {"person": a.persons[1].pk, "association": b.villages[0].pk},
        format="json",
    )
    assert field_codes(response, "association") == {"does_not_exist"}
    with b.scope():
        assert Member.objects.get(pk=b.members[0].pk).status == "active"


def test_list_masks_and_detail_unmasks_for_allowed_roles(world):
    a = world.a
    admin = as_user(a.users["county_admin"])
    response = admin.get(url("api-member-list"), {"page_size": 100})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"next", "previous", "results"}  # no COUNT: no "count"
    rows = {row["id"]: row for row in data["results"]}
    assert set(rows) == {m.pk for m in a.members}
    head = a.persons[0]
    assert rows[a.members[0].pk]["id_number"] == mask_id_number(head.id_number)
    assert head.id_number not in response.content.decode()
    detail = admin.get(url("api-member-detail", pk=a.members[0].pk)).json()
    assert detail["id_number"] == head.id_number
    staff = as_user(a.users["township_staff"])
    detail = staff.get(url("api-member-detail", pk=a.members[0].pk)).json()
    assert detail["id_number"] == mask_id_number(head.id_number)


def test_list_filters_search_and_scope(world):
    a = world.a
    zhang = new_member(a, "张三丰", member_number="0123", is_backbone=True)
    admin = as_user(a.users["county_admin"])

    def ids(**params):
        return {r["id"] for r in admin.get(url("api-member-list"), params).json()["results"]}

    assert ids(q="zsf") == {zhang.pk}
    assert ids(q="0123") == {zhang.pk}
    assert ids(q="0001") == {m.pk for m in a.members}
    assert ids(is_backbone="true") == {zhang.pk}
    assert ids(under=a.villages[1].pk) == {a.members[1].pk}
    assert ids(under=world.b.villages[0].pk) == set()
    leader = as_user(a.users["group_leader"])
    rows = leader.get(url("api-member-list")).json()["results"]
    assert {r["id"] for r in rows} == {a.members[0].pk, zhang.pk}


def test_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    a = world.a
    client = as_user(a.users["county_admin"])
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url("api-member-list")).json()["results"]) == 4
    for i, name in enumerate(["赵一", "钱二", "孙三", "李四", "周五", "吴六"]):
        new_member(a, name, village=i % 4, group=i % 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("api-member-list"))
    assert len(response.json()["results"]) == 10
    assert not any("COUNT(" in q["sql"].upper() for q in few.captured_queries)


def test_update_leave_and_rejoin(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    member = a.members[0]
    detail = url("api-member-detail", pk=member.pk)
    response = client.patch(
        detail, {"is_backbone": True, "group": None, "member_number": "0009"}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["is_backbone"], data["group"], data["member_number"]) == (True, None, "0009")
    response = client.patch(detail, {"person": a.persons[1].pk}, format="json")
    assert response.status_code == 200  # unknown fields are ignored
    assert response.json()["name"] == member.person.name
    today = timezone.localdate().isoformat()
    response = client.post(url("api-member-leave", pk=member.pk), {}, format="json")
    assert response.status_code == 400
    assert field_codes(response, "leave_reason") == {"required"}
    response = client.post(
        url("api-member-leave", pk=member.pk),
        {"leave_reason": "moved_out", "left_on": today},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["left_on"]) == ("left", today)
    response = client.patch(detail, {"is_backbone": False}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["non_field_errors"][0]["code"] == "member_left"
    response = client.post(
        url("api-member-list"),
        {"person": member.person_id, "association": a.villages[0].pk},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["id"] != member.pk
    with a.scope():
        assert Member.objects.filter(person=member.person).count() == 2


# --- group roles ------------------------------------------------------------------------------


def test_group_roles(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    heads = [new_member(a, name) for name in ("赵一", "钱二", "孙三")]
    response = client.post(
        url("api-group-role-list"),
        {"member": a.members[0].pk, "role": "leader", "starts_on": "2025-01-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    leader_id = response.json()["id"]
    for member in heads:
        response = client.post(
            url("api-group-role-list"),
            {"member": member.pk, "role": "contact_head"},
            format="json",
        )
        assert response.status_code == 201
    response = client.post(
        url("api-group-role-list"),
        {"member": a.members[0].pk, "role": "contact_head"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]["fields"]["role"][0]
    assert error == {"code": "too_many_contact_heads", "message": "每个会员小组最多 3 名联系户长。"}
    rows = client.get(url("api-group-role-list"), {"group": a.groups[0].pk}).json()["results"]
    assert len(rows) == 4 and {r["role"] for r in rows} == {"leader", "contact_head"}
    assert client.get(url("api-group-role-list"), {"group": a.groups[1].pk}).json()["results"] == []
    response = client.post(
        url("api-group-role-end", pk=leader_id), {"ends_on": "2025-06-01"}, format="json"
    )
    assert response.status_code == 200 and response.json()["ends_on"] == "2025-06-01"
    response = client.post(url("api-group-role-end", pk=leader_id), {}, format="json")
    assert response.status_code == 400
    with a.scope():
        assert GroupRole.objects.filter(group=a.groups[0], ends_on__isnull=True).count() == 3
    sibling = as_user(a.users["village_secretary_sibling"])
    assert sibling.get(url("api-group-role-detail", pk=leader_id)).status_code == 404
    assert sibling.post(url("api-group-role-end", pk=leader_id), {}).status_code == 404


# --- contact households, pairings, commendations, volunteer teams -----------------------------


def test_contact_households(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    member = a.members[0]
    response = client.post(
        url("api-contact-household-list"),
        {"member": member.pk, "household": a.households[1].pk},
        format="json",
    )
    assert field_codes(response, "household") == {"does_not_exist"}
    response = client.post(
        url("api-contact-household-list"),
        {"member": member.pk, "household": a.households[0].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    link = response.json()
    assert link["household_number"] == a.households[0].number
    assert link["head_name"] == a.persons[0].name
    response = client.post(
        url("api-contact-household-list"),
        {"member": member.pk, "household": a.households[0].pk},
        format="json",
    )
    assert field_codes(response, "household") == {"contact_exists"}
    rows = client.get(url("api-contact-household-list"), {"member": member.pk}).json()["results"]
    assert [r["id"] for r in rows] == [link["id"]]
    viewer = as_user(a.users["county_viewer"])
    assert viewer.delete(url("api-contact-household-detail", pk=link["id"])).status_code == 403
    response = client.delete(url("api-contact-household-detail", pk=link["id"]))
    assert response.status_code == 204
    with a.scope():
        assert not ContactHousehold.objects.filter(pk=link["id"]).exists()


def test_pairings(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    member = a.members[0]
    response = client.post(
        url("api-pairing-list"),
        {"member": member.pk, "household": a.households[0].pk},
        format="json",
    )
    assert field_codes(response, "household") == {"not_hardship"}
    household = hardship_household(a)
    response = client.post(
        url("api-pairing-list"),
        {"member": member.pk, "household": household.pk, "notes": "助学"},
        format="json",
    )
    assert response.status_code == 201, response.content
    pairing = response.json()
    assert pairing["ends_on"] is None and pairing["household_number"] == "0099"
    rows = client.get(url("api-pairing-list"), {"member": member.pk}).json()["results"]
    assert [r["id"] for r in rows] == [pairing["id"]]
    response = client.post(url("api-pairing-end", pk=pairing["id"]), {}, format="json")
    assert response.status_code == 200
    assert response.json()["ends_on"] == timezone.localdate().isoformat()
    response = client.post(url("api-pairing-end", pk=pairing["id"]), {}, format="json")
    assert response.status_code == 400


def test_commendations(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    response = client.post(
        url("api-commendation-list"),
        {"kind": "five_good_member", "year": 2025, "award_level": "county"},
        format="json",
    )
    assert field_codes(response, "member") == {"member_required"}
    response = client.post(
        url("api-commendation-list"),
        {
            "kind": "five_good_member",
            "year": 2025,
            "award_level": "county",
            "member": a.members[0].pk,
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["kind_display"] == "五好会员"
    response = client.post(
        url("api-commendation-list"),
        {"kind": "advanced_group", "year": 2025, "award_level": "county", "group": a.groups[0].pk},
        format="json",
    )
    assert response.status_code == 201 and response.json()["member"] is None
    response = client.post(
        url("api-commendation-list"),
        {
            "kind": "advanced_group",
            "year": 2025,
            "award_level": "county",
            "group": world.b.groups[0].pk,
        },
        format="json",
    )
    assert field_codes(response, "group") == {"does_not_exist"}
    rows = client.get(url("api-commendation-list"), {"year": 2025}).json()["results"]
    assert {r["kind"] for r in rows} == {"five_good_member", "advanced_group"}


def test_volunteer_teams(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    response = client.post(
        url("api-volunteer-team-list"),
        {"node": a.villages[0].pk, "name": "生活服务队", "service": "living"},
        format="json",
    )
    assert response.status_code == 201, response.content
    team = response.json()
    assert team["size"] == 0 and team["village"] == a.villages[0].pk
    response = client.post(
        url("api-volunteer-team-members", pk=team["id"]),
        {"member": a.members[0].pk},
        format="json",
    )
    assert response.status_code == 201 and response.json()["member"] == a.members[0].pk
    response = client.post(
        url("api-volunteer-team-members", pk=team["id"]),
        {"member": a.members[0].pk},
        format="json",
    )
    assert field_codes(response, "member") == {"volunteer_exists"}
    rows = client.get(url("api-volunteer-team-list")).json()["results"]
    assert [r["size"] for r in rows if r["id"] == team["id"]] == [1]
    response = client.post(
        url("api-volunteer-team-list"),
        {"node": a.villages[1].pk, "name": "越界队"},
        format="json",
    )
    assert field_codes(response, "node") == {"does_not_exist"}
    sibling = as_user(a.users["village_secretary_sibling"])
    response = sibling.post(
        url("api-volunteer-team-members", pk=team["id"]), {"member": a.members[1].pk}
    )
    assert response.status_code == 404
    with a.scope():
        assert VolunteerMembership.objects.filter(team_id=team["id"]).count() == 1


def test_schema_builds_with_the_members_routes(client, world):
    client.force_login(world.a.users["county_admin"])
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/members/",
        "/api/v1/members/{id}/leave/",
        "/api/v1/group-roles/{id}/end/",
        "/api/v1/contact-households/{id}/",
        "/api/v1/pairings/{id}/end/",
        "/api/v1/commendations/",
        "/api/v1/volunteer-teams/{id}/members/",
    ):
        assert path in paths, path
    members_list = paths["/api/v1/members/"]["get"]
    names = {p["name"] for p in members_list["parameters"]}
    assert {"q", "under", "status", "page", "page_size"} <= names
