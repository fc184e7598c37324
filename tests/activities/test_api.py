"""The activities API: /api/v1/activities/, /api/v1/visits/, their by-ref upserts and the
county's catalogues, per role, with the services' error codes in the project's format."""

import datetime

import pytest
from rest_framework.test import APIClient

from activities import catalogues
from activities.models import Activity, Attendance, HomeVisit
from associations.models import ChangeRecord
from members import services as member_services

pytestmark = pytest.mark.django_db
ACTIVITIES = "/api/v1/activities/"
VISITS = "/api/v1/visits/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def field_codes(response, field) -> list[str]:
    assert response.status_code == 400, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    return [error["code"] for error in body["fields"][field]]


def material_ids(world) -> list[int]:
    return [m.pk for m in catalogues.materials(county_id=world.a.county.pk)]


def count(world, model, **lookup) -> int:
    """Rows of county A (every write of these tests is there)."""
    with world.a.scope():
        return model.objects.filter(**lookup).count()


@pytest.fixture
def leader(world):
    return client_for(world.a.users["group_leader"])


@pytest.fixture
def admin(world):
    return client_for(world.a.users["county_admin"])


def group_meeting(world, **extra) -> dict:
    return {
        "kind": "meeting",
        "meeting_type": "group_meeting",
        "date": "2025-03-05",
        "title": "三月小组会",
        "attendees": [world.a.members[0].pk],
        **extra,
    }


# --- activities ------------------------------------------------------------------------------


class TestActivityWrites:
    def test_group_leader_records_a_meeting_of_their_group(self, world, leader):
        first, second = material_ids(world)[:2]
        response = leader.post(
            ACTIVITIES,
            group_meeting(
                world,
                materials=[
                    {"material": first, "quantity": 30},
                    {"material": second, "quantity": 2},
                ],
            ),
            format="json",
        )
        assert response.status_code == 201, response.content[:500]
        body = response.json()
        a = world.a
        assert (body["association"], body["group"], body["village"]) == (
            a.groups[0].pk,
            a.groups[0].pk,
            a.villages[0].pk,
        )
        assert body["attendees"] == [a.members[0].pk]
        assert body["attendee_count"] == 1
        assert body["kind_display"] == "会议"
        assert body["meeting_type_display"] == "会员小组会"
        assert [(m["material"], m["quantity"], m["name"]) for m in body["materials"]] == [
            (first, 30, "宣传资料"),
            (second, 2, "避孕药具"),
        ]
        assert (
            count(world, ChangeRecord, object_type="activities.Activity", object_id=body["id"]) == 1
        )

    def test_whole_group_attends(self, world, leader):
        a = world.a
        payload = group_meeting(world, attendees=[], whole_groups=[a.groups[0].pk])
        response = leader.post(ACTIVITIES, payload, format="json")
        assert response.status_code == 201, response.content[:500]
        assert response.json()["attendees"] == [a.members[0].pk]

    def test_group_leader_cannot_name_a_sibling_group(self, world, leader):
        payload = group_meeting(world, association=world.a.groups[1].pk, attendees=[])
        assert field_codes(leader.post(ACTIVITIES, payload, format="json"), "association") == [
            "does_not_exist"
        ]

    def test_county_viewer_reads_but_does_not_write(self, world, admin):
        activity_id = admin.post(ACTIVITIES, group_meeting(world), format="json").json()["id"]
        viewer = client_for(world.a.users["county_viewer"])
        assert viewer.get(f"{ACTIVITIES}{activity_id}/").status_code == 200
        response = viewer.post(ACTIVITIES, group_meeting(world), format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        url = f"{ACTIVITIES}{activity_id}/"
        assert viewer.patch(url, {"title": "改"}, format="json").status_code == 403
        assert viewer.patch(url, {"title": "改"}).status_code == 415  # JSON only
        assert viewer.delete(url).status_code == 403
        assert count(world, Activity, pk=activity_id) == 1
        by_ref = f"{ACTIVITIES}by-ref/X-1/"
        assert viewer.put(by_ref, group_meeting(world), format="json").status_code == 403

    def test_sibling_villages_activity_is_404_for_reads_and_writes(self, world, admin):
        a = world.a
        payload = {"association": a.villages[1].pk, "kind": "publicity", "date": "2025-03-05"}
        foreign = admin.post(ACTIVITIES, payload, format="json").json()["id"]
        secretary = client_for(a.users["village_secretary"])
        url = f"{ACTIVITIES}{foreign}/"
        assert secretary.get(url).status_code == 404
        assert secretary.patch(url, {"title": "改"}, format="json").status_code == 404
        assert secretary.delete(url).status_code == 404
        sibling = client_for(a.users["village_secretary_sibling"])
        assert sibling.get(url).status_code == 200

    def test_validation_errors_carry_the_services_codes(self, world, admin):
        a = world.a
        future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
        cases = [
            ({"meeting_type": ""}, "meeting_type", "required"),
            ({"kind": "publicity"}, "meeting_type", "not_a_meeting"),
            ({"date": future}, "date", "future_date"),
            ({"end_date": "2025-03-01"}, "end_date", "ends_before_start"),
            ({"attendees": [a.members[1].pk]}, "attendees", "member_elsewhere"),
            ({"attendees": [999_999_999]}, "attendees", "does_not_exist"),
            ({"kind": "shouting"}, "kind", "invalid_choice"),
            ({"participants": -1}, "participants", "min_value"),
        ]
        for change, field, code in cases:
            payload = group_meeting(world, association=a.groups[0].pk, **change)
            response = admin.post(ACTIVITIES, payload, format="json")
            assert field_codes(response, field) == [code], change
        assert count(world, Activity, group=a.groups[0]) == 0

    def test_materials_are_checked(self, world, admin):
        a, b = world.a, world.b
        first = material_ids(world)[0]
        foreign = catalogues.materials(county_id=b.county.pk)[0].pk
        payload = group_meeting(world, association=a.groups[0].pk)
        twice = [{"material": first, "quantity": 1}, {"material": first, "quantity": 2}]
        response = admin.post(ACTIVITIES, {**payload, "materials": twice}, format="json")
        assert field_codes(response, "materials") == ["duplicate"]
        other = [{"material": foreign, "quantity": 1}]
        response = admin.post(ACTIVITIES, {**payload, "materials": other}, format="json")
        assert field_codes(response, "materials.0.material") == ["does_not_exist"]

    def test_update_replaces_attendees_and_materials(self, world, leader):
        first, second = material_ids(world)[:2]
        created = leader.post(
            ACTIVITIES,
            group_meeting(world, materials=[{"material": first, "quantity": 30}]),
            format="json",
        ).json()
        url = f"{ACTIVITIES}{created['id']}/"
        response = leader.patch(
            url,
            {"title": "改期", "attendees": [], "materials": [{"material": second, "quantity": 5}]},
            format="json",
        )
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert (body["title"], body["attendees"], body["attendee_count"]) == ("改期", [], 0)
        assert [(m["material"], m["quantity"]) for m in body["materials"]] == [(second, 5)]
        response = leader.patch(url, {"whole_groups": [world.a.groups[0].pk]}, format="json")
        assert response.json()["attendees"] == [world.a.members[0].pk]
        assert field_codes(leader.patch(url, {"kind": "training"}, format="json"), "meeting_type")
        halves = {"materials": [{"material": second}]}
        assert field_codes(leader.patch(url, halves, format="json"), "materials") == ["required"]

    def test_delete_removes_the_activity_and_its_rows(self, world, leader):
        created = leader.post(ACTIVITIES, group_meeting(world), format="json").json()
        url = f"{ACTIVITIES}{created['id']}/"
        assert leader.delete(url).status_code == 204
        assert leader.get(url).status_code == 404
        assert count(world, Attendance, activity_id=created["id"]) == 0


class TestActivityReads:
    def test_list_and_filters(self, world, admin):
        a = world.a
        theme = catalogues.themes(county_id=a.county.pk)[0]
        meeting = admin.post(
            ACTIVITIES, group_meeting(world, association=a.groups[0].pk), format="json"
        ).json()
        publicity = admin.post(
            ACTIVITIES,
            {
                "association": a.villages[0].pk,
                "kind": "publicity",
                "date": "2025-05-29",
                "theme": theme.pk,
            },
            format="json",
        ).json()
        assert publicity["theme_name"] == theme.name

        def ids(**query):
            response = admin.get(ACTIVITIES, {"page_size": 500, **query})
            assert response.status_code == 200
            return [row["id"] for row in response.json()["results"]]

        everything = ids()
        assert everything[:2] == [publicity["id"], meeting["id"]]  # newest first
        assert len(everything) == 2 + 2  # and the world's activity of villages 2 and 3
        assert ids(under=a.villages[0].pk) == [publicity["id"], meeting["id"]]
        assert ids(under=a.groups[0].pk) == [meeting["id"]]
        assert ids(kind="meeting", under=a.villages[0].pk) == [meeting["id"]]
        assert ids(theme=theme.pk) == [publicity["id"]]
        assert ids(date_from="2025-04-01") == [publicity["id"]]
        assert ids(date_to="2025-04-01", date_from="2025-01-01") == [meeting["id"]]
        row = admin.get(ACTIVITIES, {"under": a.groups[0].pk}).json()["results"][0]
        assert row["attendee_count"] == 1
        assert "attendees" not in row

    def test_group_leader_lists_only_their_group(self, world, leader, admin):
        a = world.a
        admin.post(ACTIVITIES, group_meeting(world, association=a.groups[0].pk), format="json")
        admin.post(
            ACTIVITIES,
            group_meeting(world, association=a.groups[1].pk, attendees=[]),
            format="json",
        )
        rows = leader.get(ACTIVITIES).json()["results"]
        assert [row["group"] for row in rows] == [a.groups[0].pk]


class TestActivityUpsert:
    def test_the_same_record_twice_is_one_record_updated(self, world, leader):
        url = f"{ACTIVITIES}by-ref/OA-2025-0001/"
        first = leader.put(url, group_meeting(world), format="json")
        assert first.status_code == 201, first.content[:500]
        again = leader.put(url, group_meeting(world, title="三月小组会(补记)"), format="json")
        assert again.status_code == 200, again.content[:500]
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["title"] == "三月小组会(补记)"
        assert again.json()["external_ref"] == "OA-2025-0001"
        assert count(world, Activity, external_ref="OA-2025-0001") == 1
        assert leader.get(url).json()["id"] == first.json()["id"]

    def test_a_put_is_the_whole_record(self, world, leader):
        url = f"{ACTIVITIES}by-ref/OA-2025-0002/"
        first = material_ids(world)[0]
        leader.put(
            url,
            group_meeting(world, place="村部", materials=[{"material": first, "quantity": 3}]),
            format="json",
        )
        body = leader.put(
            url, {"kind": "meeting", "meeting_type": "routine", "date": "2025-03-06"}, format="json"
        ).json()
        assert (body["place"], body["attendees"], body["materials"]) == ("", [], [])
        assert body["meeting_type"] == "routine"
        unchanged = leader.put(
            url, {"kind": "meeting", "meeting_type": "routine", "date": "2025-03-06"}, format="json"
        )
        assert unchanged.status_code == 200
        assert (
            count(world, ChangeRecord, object_type="activities.Activity", object_id=body["id"]) == 2
        )

    def test_the_association_of_a_record_is_fixed(self, world, admin):
        a = world.a
        url = f"{ACTIVITIES}by-ref/OA-2025-0003/"
        admin.put(url, group_meeting(world, association=a.groups[0].pk), format="json")
        moved = group_meeting(world, association=a.villages[0].pk)
        assert field_codes(admin.put(url, moved, format="json"), "association") == ["fixed"]

    def test_a_reference_used_elsewhere_in_the_county_is_taken(self, world):
        a = world.a
        with a.scope():
            elsewhere = Activity.objects.get(village=a.villages[2])
        secretary = client_for(a.users["village_secretary"])
        url = f"{ACTIVITIES}by-ref/{elsewhere.external_ref}/"
        payload = {"kind": "publicity", "date": "2025-03-05"}
        assert field_codes(secretary.put(url, payload, format="json"), "external_ref") == ["taken"]

    def test_a_reference_with_spaces_names_no_record(self, world, leader):
        response = leader.put(f"{ACTIVITIES}by-ref/%20x/", group_meeting(world), format="json")
        assert response.status_code == 404


# --- home visits -----------------------------------------------------------------------------


def visit(world, **extra) -> dict:
    a = world.a
    return {
        "visitor": a.members[0].pk,
        "household": a.households[0].pk,
        "visited_on": "2025-03-07",
        "purpose": "policy",
        **extra,
    }


class TestVisits:
    def test_group_leader_records_updates_and_deletes_a_visit(self, world, leader):
        response = leader.post(VISITS, visit(world, notes="宣传新政策"), format="json")
        assert response.status_code == 201, response.content[:500]
        body = response.json()
        assert (body["visitor"], body["household"], body["group"]) == (
            world.a.members[0].pk,
            world.a.households[0].pk,
            world.a.groups[0].pk,
        )
        assert body["purpose_display"] == "宣传政策"
        url = f"{VISITS}{body['id']}/"
        patch = {"follow_up_needed": True, "follow_up_done_on": "2025-03-10"}
        updated = leader.patch(url, patch, format="json")
        assert updated.status_code == 200, updated.content[:500]
        assert updated.json()["follow_up_done_on"] == "2025-03-10"
        rows = leader.get(VISITS, {"follow_up_open": "false"}).json()["results"]
        assert [row["id"] for row in rows] == [body["id"]]
        assert leader.get(VISITS, {"follow_up_open": "true"}).json()["results"] == []
        assert leader.delete(url).status_code == 204
        assert count(world, HomeVisit, pk=body["id"]) == 0

    def test_validation_errors_carry_the_services_codes(self, world, admin):
        a = world.a
        elsewhere = visit(world, household=a.households[1].pk)
        assert field_codes(admin.post(VISITS, elsewhere, format="json"), "household") == [
            "household_elsewhere"
        ]
        early = visit(world, follow_up_needed=True, follow_up_done_on="2025-03-01")
        assert field_codes(admin.post(VISITS, early, format="json"), "follow_up_done_on") == [
            "done_before_visit"
        ]
        before_joining = visit(world, visited_on="2019-01-01")
        assert field_codes(admin.post(VISITS, before_joining, format="json"), "visitor") == [
            "member_not_active"
        ]

    def test_visitor_outside_the_group_is_not_found_for_a_group_leader(self, world, leader):
        a = world.a
        with a.scope():
            other = member_services.member_register(
                actor=a.users["county_admin"],
                person=a.persons[1],
                association=a.villages[0],
                group=a.groups[1],
                joined_on=datetime.date(2020, 1, 1),
            )
        response = leader.post(VISITS, visit(world, visitor=other.pk), format="json")
        assert field_codes(response, "visitor") == ["does_not_exist"]
        secretary = client_for(a.users["village_secretary"])
        assert (
            secretary.post(VISITS, visit(world, visitor=other.pk), format="json").status_code == 201
        )

    def test_county_viewer_reads_but_does_not_write(self, world, admin):
        created = admin.post(VISITS, visit(world), format="json").json()
        viewer = client_for(world.a.users["county_viewer"])
        url = f"{VISITS}{created['id']}/"
        assert viewer.get(url).status_code == 200
        assert viewer.post(VISITS, visit(world), format="json").status_code == 403
        assert viewer.patch(url, {"notes": "改"}, format="json").status_code == 403
        assert viewer.delete(url).status_code == 403
        assert viewer.put(f"{VISITS}by-ref/X-1/", visit(world), format="json").status_code == 403

    def test_list_filters(self, world, admin):
        a = world.a
        mine = admin.post(VISITS, visit(world, purpose="condolence"), format="json").json()

        def ids(**query):
            return [row["id"] for row in admin.get(VISITS, query).json()["results"]]

        assert ids(under=a.villages[0].pk) == [mine["id"]]
        assert ids(purpose="condolence") == [mine["id"]]
        assert ids(household=a.households[0].pk) == [mine["id"]]
        assert ids(visitor=a.members[0].pk, date_from="2025-03-08") == []
        assert len(ids()) == 1 + 2  # and the world's visit in villages 2 and 3

    def test_upsert_twice_is_one_visit_updated(self, world, leader):
        url = f"{VISITS}by-ref/VISIT-7/"
        first = leader.put(url, visit(world, notes="初访"), format="json")
        assert first.status_code == 201, first.content[:500]
        again = leader.put(url, visit(world, notes="补充情况"), format="json")
        assert again.status_code == 200, again.content[:500]
        assert (again.json()["id"], again.json()["notes"]) == (first.json()["id"], "补充情况")
        assert count(world, HomeVisit, external_ref="VISIT-7") == 1
        assert leader.get(url).json()["external_ref"] == "VISIT-7"
        with world.a.scope():
            other = member_services.member_register(
                actor=world.a.users["county_admin"],
                person=world.a.persons[1],
                association=world.a.villages[0],
                group=world.a.groups[0],
                joined_on=datetime.date(2020, 1, 1),
            )
        moved = leader.put(url, visit(world, visitor=other.pk), format="json")
        assert field_codes(moved, "visitor") == ["fixed"]


# --- catalogues ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["group_leader", "county_viewer", "township_staff"])
def test_the_countys_catalogues_are_listed(world, role):
    client = client_for(world.a.users[role])
    themes = client.get("/api/v1/activity-themes/").json()
    assert [row["name"] for row in themes][:2] == ["婚育新风进万家", "关爱女孩"]
    assert len(themes) == 7
    days = client.get("/api/v1/themed-days/").json()
    assert [(row["month"], row["day"]) for row in days][:2] == [(3, 8), (5, 29)]
    materials = client.get("/api/v1/materials/").json()
    assert [(row["name"], row["unit"]) for row in materials][:2] == [
        ("宣传资料", "份"),
        ("避孕药具", "盒"),
    ]
    county_b = {m.pk for m in catalogues.materials(county_id=world.b.county.pk)}
    assert not county_b & {row["id"] for row in materials}
