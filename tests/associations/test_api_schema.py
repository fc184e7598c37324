"""The OpenAPI schema describes what the API really answers (associations.api.schema): real
responses of each app, success and error, are checked against the schema the app serves."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from households import services as household_services
from members import services as member_services

from ..openapi import assert_documented, served_schema

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def as_user(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def blank_choices(world):
    """Rows whose optional choices are blank: a member with no elder kind, one who left (and
    so has a leave reason) beside active ones (blank leave reason), a person outside any
    household (blank relation to the head)."""
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        loner = household_services.person_create(
            actor=admin,
            village=a.villages[1],
            name="独居者",
            sex="female",
            birth_date=datetime.date(1990, 1, 1),
        )
        plain = member_services.member_register(
            actor=admin, person=loner, association=a.villages[1]
        )
        spouse = member_services.member_register(
            actor=admin, person=a.persons[1], association=a.villages[0], group=a.groups[0]
        )
        member_services.member_leave(actor=admin, member=spouse, left_on=TODAY, reason="voluntary")
    return {"person": loner, "member": plain, "left": spouse}


def test_blank_choices_are_among_the_documented_values(world, blank_choices):
    client = as_user(world.a.users["county_admin"])
    member, left, person = blank_choices["member"], blank_choices["left"], blank_choices["person"]
    for url, path in [
        ("/api/v1/members/?page_size=500", "/api/v1/members/"),
        (f"/api/v1/members/{member.pk}/", "/api/v1/members/{id}/"),
        (f"/api/v1/members/{left.pk}/", "/api/v1/members/{id}/"),
        ("/api/v1/persons/?page_size=500", "/api/v1/persons/"),
        (f"/api/v1/persons/{person.pk}/", "/api/v1/persons/{id}/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert_documented(response, "GET", path)
    detail = client.get(f"/api/v1/members/{member.pk}/").json()
    assert detail["leave_reason"] == "" and detail["elder_kind"] == ""
    moved_out = client.post(
        f"/api/v1/persons/{world.a.persons[0].pk}/remove-from-household/", format="json"
    )
    assert moved_out.json()["relation_to_head"] == ""
    assert_documented(moved_out, "POST", "/api/v1/persons/{id}/remove-from-household/")


def test_single_objects_and_unpaged_lists_are_documented_as_such(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    for url, path in [
        ("/api/v1/me/", "/api/v1/me/"),
        (
            f"/api/v1/associations/{a.townships[0].pk}/history/",
            "/api/v1/associations/{id}/history/",
        ),
        ("/api/v1/associations/tree/", "/api/v1/associations/tree/"),
        ("/api/v1/figures/", "/api/v1/figures/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert_documented(response, "GET", path)
    tree = served_schema().raw_schema["components"]["schemas"]["TreeNode"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/components/schemas/TreeNode"}


def test_error_responses_are_documented_with_their_body(world, operator):
    a, b = world.a, world.b
    admin = as_user(a.users["county_admin"])
    viewer = as_user(a.users["county_viewer"])
    household = a.households[0]
    assistance = f"/api/v1/households/{household.pk}/assistance/"
    cases = [
        (as_user().get("/api/v1/members/"), "GET", "/api/v1/members/", 401),
        (as_user(operator).get("/api/v1/me/"), "GET", "/api/v1/me/", 403),
        (
            viewer.patch(f"/api/v1/persons/{a.persons[0].pk}/", {"name": "甲"}, format="json"),
            "PATCH",
            "/api/v1/persons/{id}/",
            403,
        ),
        (admin.get(f"/api/v1/members/{b.members[0].pk}/"), "GET", "/api/v1/members/{id}/", 404),
        (admin.get("/api/v1/persons/", {"page": 9999}), "GET", "/api/v1/persons/", 404),
        (admin.get("/api/v1/councils/", {"page": 0}), "GET", "/api/v1/councils/", 404),
        (admin.get("/api/v1/persons/", {"age_max": 1e20}), "GET", "/api/v1/persons/", 400),
        (
            admin.post(assistance, {"kind": "relief", "amount": "-1"}, format="json"),
            "POST",
            "/api/v1/households/{id}/assistance/",
            400,
        ),
        (
            admin.get("/api/v1/associations/tree/", {"root": "abc"}),
            "GET",
            "/api/v1/associations/tree/",
            400,
        ),
        (
            admin.get("/api/v1/associations/tree/", {"root": b.county.pk}),
            "GET",
            "/api/v1/associations/tree/",
            404,
        ),
    ]
    ended = a.members[1]  # county A's second village: its head leads its group
    with a.scope():
        role = ended.group_roles.get()
    cases.append(
        (
            admin.post(
                f"/api/v1/group-roles/{role.pk}/end/", "ends_on=x", content_type="text/plain"
            ),
            "POST",
            "/api/v1/group-roles/{id}/end/",
            415,
        )
    )
    for response, method, path, status in cases:
        assert response.status_code == status, (method, path, response.content)
        assert_documented(response, method, path)


def test_nested_field_errors_are_flattened_to_dotted_names(world):
    a = world.a
    response = as_user(a.users["county_admin"]).post(
        "/api/v1/members/",
        {"person": a.persons[1].pk, "association": a.villages[0].pk, "categories": ["x"]},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert [e["code"] for e in fields["categories.0"]] == ["invalid_choice"]
    assert_documented(response, "POST", "/api/v1/members/")


def test_every_operation_documents_the_errors_it_can_answer(world):
    paths = served_schema().raw_schema["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401", "403"}
            if "{" in path:
                expected.add("404")
            if method != "get":
                expected.add("400")
            if "requestBody" in operation:
                expected.add("415")
            assert expected <= set(responses), (method, path, sorted(responses))
            for code in expected:
                body = responses[code]["content"]["application/json"]["schema"]
                assert body == error, (method, path, code)
