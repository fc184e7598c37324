import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import Association, ChangeRecord, Council, CouncilSeat, User
from associations.scope import Scope, activate

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def page(client, user, name, **kwargs):
    client.force_login(user)
    return client.get(reverse(name, kwargs=kwargs or None))


def test_login_page_is_chinese_and_signs_in(client, world):
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert 'lang="zh-Hans"' in body and "登录" in body and "用户名" in body
    response = client.post(
        reverse("login"), {"username": "township_staff_130534", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "node-detail", kwargs={"pk": world.a.townships[0].pk}
    )


def test_wrong_password_says_so_in_chinese(client, world):
    response = client.post(reverse("login"), {"username": "township_staff_130534", "password": "x"})
    assert "请输入一个正确的用户名和密码" in response.content.decode()


def test_pages_need_login(client, world):
    response = client.get(reverse("node-detail", kwargs={"pk": world.a.county.pk}))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_header_shows_node_and_role(client, world):
    user = world.a.users["village_secretary"]
    body = page(client, user, "node-detail", pk=user.node_id).content.decode()
    assert f'<span class="who-node">{world.a.villages[0].name}</span>' in body
    assert "村(社区)秘书长" in body
    assert 'name="viewport"' in body


def test_node_page_shows_counts_children_council_and_history(client, world):
    a = world.a
    body = page(
        client, a.users["county_admin"], "node-detail", pk=a.townships[0].pk
    ).content.decode()
    assert a.villages[0].name in body and a.villages[1].name in body
    assert a.villages[2].name not in body  # another township's village
    assert "<strong>2</strong><span>村(社区)</span>" in body
    assert "<strong>4</strong><span>会员小组</span>" in body
    assert "变更记录" in body and "新建" in body


def test_breadcrumbs_link_only_within_the_users_subtree(client, world):
    a = world.a
    user = a.users["village_secretary"]
    body = page(client, user, "node-detail", pk=a.groups[0].pk).content.decode()
    assert f"<span>{a.county.name}</span>" in body  # above the user: shown, not linked
    assert f'href="{reverse("node-detail", kwargs={"pk": a.villages[0].pk})}"' in body


def test_buttons_follow_permissions(client, world):
    a = world.a
    body = page(client, a.users["group_leader"], "node-detail", pk=a.groups[0].pk).content.decode()
    assert "修改信息" not in body and "区划调整" not in body
    body = page(
        client, a.users["county_admin"], "node-detail", pk=a.villages[0].pk
    ).content.decode()
    assert "修改信息" in body and "区划调整" in body and "新建会员小组" in body


def test_create_child_with_bad_code_keeps_input_and_explains(client, world):
    a = world.a
    client.force_login(a.users["township_staff"])
    url = reverse("node-create", kwargs={"pk": a.townships[0].pk})
    assert client.get(url).context["form"].initial["division_code"] == "130534100202"
    response = client.post(url, {"name": "新村", "kind": "regional", "division_code": "1305341"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "村(社区)的区划代码应为 12 位数字" in body
    assert 'value="新村"' in body and 'value="1305341"' in body
    response = client.post(
        url, {"name": "新村", "kind": "regional", "division_code": "130534100202"}
    )
    assert response.status_code == 302
    with a.scope():
        node = Association.objects.get(name="新村")
    assert node.township_id == a.townships[0].pk


def test_forbidden_actions_are_403_in_scope(client, world):
    a = world.a
    client.force_login(a.users["county_viewer"])
    assert client.get(reverse("node-edit", kwargs={"pk": a.villages[0].pk})).status_code == 403
    client.force_login(a.users["township_staff"])
    response = client.get(reverse("node-move", kwargs={"pk": a.villages[0].pk}))
    assert response.status_code == 403
    assert "只有县级管理员" in response.content.decode() or "权限" in response.content.decode()


def test_edit_page_saves_and_records(client, world):
    a = world.a
    client.force_login(a.users["village_secretary"])
    url = reverse("node-edit", kwargs={"pk": a.villages[0].pk})
    response = client.post(
        url,
        {
            "name": a.villages[0].name,
            "kind": "regional",
            "division_code": a.villages[0].division_code,
            "address": "村委会大院",
            "phone": "0319-8123456",
            "established_on": "1995-05-29",
        },
    )
    assert response.status_code == 302
    body = client.get(reverse("node-history", kwargs={"pk": a.villages[0].pk})).content.decode()
    assert "村委会大院" in body and "地址" in body


def test_move_page_lists_only_other_townships_and_moves(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    url = reverse("node-move", kwargs={"pk": a.villages[0].pk})
    body = client.get(url).content.decode()
    assert f'<option value="{a.townships[1].pk}">' in body
    assert f'<option value="{a.townships[0].pk}">' not in body  # the current parent
    response = client.post(url, {"new_parent": a.townships[1].pk})
    assert response.status_code == 302
    with a.scope():
        assert Association.objects.get(pk=a.groups[0].pk).township_id == a.townships[1].pk


def test_tree_page_lists_the_subtree(client, world):
    a = world.a
    body = page(
        client, a.users["township_staff"], "node-tree", pk=a.townships[0].pk
    ).content.decode()
    assert "共 7 个组织" in body
    assert a.groups[3].name in body and a.groups[4].name not in body


def test_council_page_shows_model_check_and_manages_seats(client, world):
    a = world.a
    village = a.villages[0]
    user = a.users["village_secretary"]
    body = page(client, user, "council", pk=village.pk).content.decode()
    assert "未达到“5-3-3”模式" in body and "还缺 5 名五老" in body
    council = a.councils[village.pk]
    url = reverse("seat-create", kwargs={"pk": council.pk})
    response = client.post(
        url, {"position": "president", "person_name": "第二会长", "background": "elder"}
    )
    assert response.status_code == 400 and "一届理事会只能有一位会长" in response.content.decode()
    response = client.post(
        url, {"position": "director", "person_name": "张桂兰", "background": "elder"}
    )
    assert response.status_code == 302
    with activate(Scope.for_node(village)):
        seat = CouncilSeat.objects.get(person_name="张桂兰")
    response = client.post(reverse("seat-delete", kwargs={"pk": seat.pk}))
    assert response.status_code == 302
    with activate(Scope.for_node(village)):
        assert not CouncilSeat.objects.filter(pk=seat.pk).exists()


def test_new_council_term(client, world):
    a = world.a
    village = a.villages[0]
    client.force_login(a.users["village_secretary"])
    url = reverse("council-create", kwargs={"pk": village.pk})
    assert client.get(url).context["form"].initial["term_number"] == 2
    response = client.post(
        url, {"term_number": 2, "starts_on": "2029-01-01", "ends_on": "2028-01-01"}
    )
    assert response.status_code == 400 and "任期结束日期应晚于开始日期" in response.content.decode()
    response = client.post(
        url, {"term_number": 2, "starts_on": "2029-01-01", "ends_on": "2034-01-01"}
    )
    assert response.status_code == 302
    with activate(Scope.for_node(village)):
        assert Council.objects.filter(association=village).count() == 2


def test_staff_pages_for_county_admin(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    response = client.post(
        reverse("staff-create"),
        {
            "username": "new_secretary",
            "full_name": "李秀英",
            "node": a.villages[1].pk,
            "role": "village_secretary",
            "password": "123",
        },
    )
    assert response.status_code == 400
    assert "密码长度太短" in response.content.decode()
    response = client.post(
        reverse("staff-create"),
        {
            "username": "new_secretary",
            "full_name": "李秀英",
            "node": a.villages[1].pk,
            "role": "village_secretary",
            "password": "Strong@pass2026",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="new_secretary").node_id == a.villages[1].pk
    client.force_login(a.users["township_staff"])
    assert client.get(reverse("staff-list")).status_code == 403


def test_password_change(client, world):
    user = world.a.users["group_leader"]
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Another@pass2026",
            "new_password2": "Another@pass2026",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another@pass2026")


def test_platform_operator_opens_a_county(client, operator):
    client.force_login(operator)
    assert client.get(reverse("home")).url == reverse("platform-counties")
    response = client.post(
        reverse("platform-county-create"),
        {
            "name": "故城县",
            "division_code": "999999",
            "admin_username": "gc_admin",
            "admin_password": "Strong@pass2026",
        },
    )
    assert response.status_code == 400 and "不是已知的县级行政区划代码" in response.content.decode()
    response = client.post(
        reverse("platform-county-create"),
        {
            "name": "故城县",
            "division_code": "131126",
            "admin_username": "gc_admin",
            "admin_password": "Strong@pass2026",
        },
    )
    assert response.status_code == 302
    assert "故城县" in client.get(reverse("platform-counties")).content.decode()
    assert client.get("/admin/associations/association/").status_code == 200
    # The operator has no node: county pages are not theirs.
    admin = User.objects.get(username="gc_admin")
    assert client.get(reverse("node-detail", kwargs={"pk": admin.node_id})).status_code == 403


def test_history_records_the_request(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    client.post(
        reverse("node-create", kwargs={"pk": a.villages[0].pk}),
        {"name": "第九组", "division_code": a.villages[0].division_code + "009"},
    )
    with a.scope():
        record = ChangeRecord.objects.get(object_label="第九组")
    assert record.source.startswith("page:POST /nodes/")


def test_node_history_masks_identity_for_roles_that_may_not_see_it(client, world):
    from households import services as household_services

    a = world.a
    person = a.persons[0]
    with a.scope():
        household_services.person_update(
            actor=a.users["county_admin"], person=person, phone="13812345678"
        )
    url = reverse("node-history", kwargs={"pk": person.group_id})
    client.force_login(a.users["county_viewer"])
    body = client.get(url).content.decode()
    assert "138****5678" in body and "13812345678" not in body
    client.force_login(a.users["county_admin"])
    # Encryption at rest: the history stores the mask, so no role reads the full number there.
    body = client.get(url).content.decode()
    assert "138****5678" in body and "13812345678" not in body
    api = APIClient()
    api.force_authenticate(a.users["township_staff"])
    history = api.get(reverse("association-history", kwargs={"pk": person.group_id})).json()
    assert "13812345678" not in str(history)


def test_move_page_says_which_group_code_is_taken(client, world):
    a = world.a
    with a.scope():  # a group left by an earlier move with the code the re-code needs
        Association.objects.filter(pk=a.groups[2].pk).update(division_code="130534101299001")
    client.force_login(a.users["county_admin"])
    url = reverse("node-move", kwargs={"pk": a.villages[0].pk})
    response = client.post(
        url, {"new_parent": a.townships[1].pk, "new_division_code": "130534101299"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "130534101299001" in body and a.groups[2].name in body and "未做任何调整" in body
    with a.scope():
        assert Association.objects.get(pk=a.villages[0].pk).parent_id == a.townships[0].pk
