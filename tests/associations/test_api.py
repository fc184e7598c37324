import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import Association

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client(world):
    client = APIClient()
    response = client.post(
        reverse("api-token"), {"username": "township_staff_130534", "password": PASSWORD}
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_token_carries_the_users_scope(token_client, world):
    rows = token_client.get(reverse("association-list"), {"page_size": 100}).json()["results"]
    assert {r["id"] for r in rows} == {
        n.pk for n in world.a.nodes if n.township_id == world.a.townships[0].pk
    }
    me = token_client.get(reverse("me-list")).json()
    assert me["role"] == "township_staff" and me["node"]["name"] == world.a.townships[0].name


def test_unauthenticated_is_401_in_the_error_format(world):
    response = APIClient().get(reverse("association-list"))
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "请先登录或提供有效的令牌。"}
    }


def test_bad_token_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")
    response = client.get(reverse("association-list"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_not_found_format(world):
    client = as_user(world.a.users["county_admin"])
    response = client.get(reverse("association-detail", kwargs={"pk": world.b.county.pk}))
    assert response.json() == {"error": {"code": "not_found", "message": "未找到该对象。"}}


def test_forbidden_in_scope_is_403_with_a_chinese_message(world):
    client = as_user(world.a.users["county_viewer"])
    response = client.patch(
        reverse("association-detail", kwargs={"pk": world.a.villages[0].pk}),
        {"name": "改"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "您没有执行此操作的权限。",
    }


def test_filters_are_shared_with_pages(world):
    client = as_user(world.a.users["county_admin"])
    rows = client.get(reverse("association-list"), {"level": "village"}).json()["results"]
    assert len(rows) == 4
    rows = client.get(
        reverse("association-list"), {"under": world.a.townships[1].pk, "level": "group"}
    ).json()["results"]
    assert {r["id"] for r in rows} == {g.pk for g in world.a.groups[4:]}
    rows = client.get(reverse("association-list"), {"q": "第2镇1村"}).json()["results"]
    assert [r["id"] for r in rows][:1] == [world.a.villages[2].pk]


def test_create_update_and_validation_errors(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    url = reverse("association-list")
    response = client.post(
        url, {"parent": a.townships[0].pk, "name": "新村", "division_code": "12345"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["fields"]["division_code"][0]["code"] == "division_code_length"
    assert "12 位数字" in body["fields"]["division_code"][0]["message"]
    response = client.post(
        url,
        {
            "parent": a.townships[0].pk,
            "name": "新村",
            "division_code": "130534100299",
            "kind": "floating",
        },
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["level"] == "village" and created["kind_display"] == "流动人口协会"
    response = client.patch(
        reverse("association-detail", kwargs={"pk": created["id"]}),
        {"phone": "0319-1234567"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["phone"] == "0319-1234567"
    history = client.get(reverse("association-history", kwargs={"pk": created["id"]})).json()
    assert [h["action"] for h in history] == ["update", "create"]
    assert history[0]["after"]["phone"] == "0319-1234567"


def test_move_via_api(world):
    a = world.a
    client = as_user(a.users["county_admin"])
    url = reverse("association-move", kwargs={"pk": a.villages[0].pk})
    response = client.post(url, {"new_parent": a.villages[1].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["new_parent"][0]["code"] == "move_wrong_level"
    response = client.post(url, {"new_parent": a.townships[1].pk}, format="json")
    assert response.status_code == 200 and response.json()["township"] == a.townships[1].pk
    staff = as_user(a.users["township_staff"])
    assert (
        staff.get(reverse("association-detail", kwargs={"pk": a.villages[0].pk})).status_code == 404
    )


def test_councils_with_model_check(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    rows = client.get(reverse("council-list")).json()["results"]
    assert len(rows) == 1
    check = rows[0]["model_check"]
    assert check["model"] == "5-3-3" and check["met"] is False
    assert check["actual"] == {"cadre": 1}
    response = client.post(
        reverse("council-seat-list"),
        {
            "council": rows[0]["id"],
            "position": "president",
            "person_name": "又一会长",
            "background": "elder",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["position"][0]["code"] == "council_president_taken"


def test_tree_endpoint(world):
    tree = as_user(world.a.users["village_secretary"]).get(reverse("association-tree")).json()
    assert tree["id"] == world.a.villages[0].pk
    assert [c["id"] for c in tree["children"]] == [g.pk for g in world.a.groups[:2]]


@pytest.mark.parametrize("root", ["abc", "0", "-3", "1.5", "99999999999999999999"])
def test_tree_with_a_root_that_is_no_node_id_is_a_400_in_chinese(world, root):
    response = as_user(world.a.users["county_admin"]).get(
        reverse("association-tree"), {"root": root}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["root"][0]["message"] == "root 应为组织编号(正整数)。"


def test_tree_under_a_root_of_the_scope_and_404_outside_it(world):
    a, b = world.a, world.b
    client = as_user(a.users["township_staff"])
    url = reverse("association-tree")
    tree = client.get(url, {"root": a.villages[1].pk}).json()
    assert tree["id"] == a.villages[1].pk and tree["level"] == "village"
    assert [c["id"] for c in tree["children"]] == [g.pk for g in a.groups[2:4]]
    assert tree["children"][0]["children"] == []
    for outside in (a.townships[1], a.county, b.villages[0], b.county):
        response = client.get(url, {"root": outside.pk})
        assert response.status_code == 404, outside
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(url, {"root": 2**62}).status_code == 404


def test_history_is_one_unpaged_list_whatever_the_query(world):
    a = world.a
    client = as_user(a.users["county_admin"])
    url = reverse("association-history", kwargs={"pk": a.villages[0].pk})
    records = client.get(url, {"page": "0", "kind": "nonsense"}).json()
    assert isinstance(records, list) and records[-1]["action"] == "create"


def test_me_is_one_object(world):
    me = as_user(world.a.users["group_leader"]).get(reverse("me-list"), {"page": "0"})
    assert me.status_code == 200
    assert me.json()["node"]["id"] == world.a.groups[0].pk


def test_operator_has_no_county_api(operator):
    client = as_user(operator)
    response = client.get(reverse("association-list"))
    assert response.status_code == 403


def test_schema_and_docs_are_served_locally(client, world):
    client.force_login(world.a.users["county_admin"])
    schema = client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/associations/{id}/move/" in paths
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs
    # every script, style sheet and icon comes from this server (a random CSRF token may
    # contain "cdn", so look at the addresses, not at the text)
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs)
    assert addresses and all(a.startswith("/") and not a.startswith("//") for a in addresses)
    assert "cdn." not in docs.lower()


def test_api_create_is_recorded_with_request_source(world):
    a = world.a
    client = as_user(a.users["county_admin"])
    client.post(
        reverse("association-list"),
        {"parent": a.county.pk, "name": "新镇", "division_code": "130534199"},
        format="json",
    )
    from associations.models import ChangeRecord

    with a.scope():
        node = Association.objects.get(name="新镇")
        record = ChangeRecord.objects.get(object_id=node.pk)
    assert record.source.startswith("api:POST /api/v1/associations/ #")
    assert record.actor == a.users["county_admin"]
