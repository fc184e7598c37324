"""Accounts nobody can guess into (issue 12): login lockout, expiring and revocable API tokens,
API keys of other systems bound to a node, API throttles, password rules and username checks
that say nothing about other counties. Each test is a finding of the issue, failing before
its fix."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from associations import services
from associations.accounts import services as account_services
from associations.accounts.models import ApiKey, ApiToken
from associations.models import ChangeRecord, Role, User
from associations.password_validation import ChinesePatternValidator, PersonalInfoValidator
from associations.scope import current_scope
from households import identity
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED_TEXT = "登录失败次数过多"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


# --- login lockout -----------------------------------------------------------------------------


def test_lockout_settings_are_five_failures_for_thirty_minutes_by_username_and_address():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert datetime.timedelta(minutes=30) == django_settings.AXES_COOLOFF_TIME
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_five_failures_lock_the_username_at_that_address(client, world, axes_on):
    username = "village_secretary_130534"
    for _ in range(4):
        assert _login(client, username, "wrong-password").status_code == 200
    locked = _login(client, username, "wrong-password")
    assert locked.status_code == 429
    assert LOCKED_TEXT in locked.content.decode()
    # Even the right password is refused now, from that address, with the reason in Chinese
    response = _login(client, username, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "30 分钟" in body and "联系县级管理员" in body
    assert "_auth_user_id" not in client.session
    # The same name from another address, and another name from this one, still sign in
    assert _login(client, username, PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    assert _login(client, "township_staff_130534", PASSWORD).status_code == 302


def test_lockout_ends_after_the_cool_off(client, world, axes_on):
    username = "village_secretary_130534"
    for _ in range(5):
        _login(client, username, "wrong-password")
    assert _login(client, username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert _login(client, username, PASSWORD).status_code == 302


def test_other_tests_logins_are_not_locked_out(client, world):
    """Axes is off outside the tests that exercise it: many failures lock nothing."""
    for _ in range(8):
        _login(client, "village_secretary_130534", "wrong-password")
    assert _login(client, "village_secretary_130534", PASSWORD).status_code == 302


def test_the_token_endpoint_is_locked_out_too(world, axes_on):
    api = APIClient(REMOTE_ADDR="10.0.0.9")
    url = reverse("api-token")
    for _ in range(4):
        response = api.post(url, {"username": "township_staff_130534", "password": "nope"})
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "用户名或密码错误。"
    api.post(url, {"username": "township_staff_130534", "password": "nope"})
    response = api.post(url, {"username": "township_staff_130534", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert LOCKED_TEXT in response.json()["error"]["message"]
    assert not ApiToken.objects.exists()


def _lock(client, username):
    for _ in range(5):
        _login(client, username, "wrong-password")
    client.logout()


def test_county_admin_sees_and_lifts_a_lockout_and_it_is_recorded(client, world, axes_on):
    secretary = world.a.users["village_secretary"]
    _lock(client, secretary.username)
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    body = client.get(reverse("staff-list")).content.decode()
    assert "登录已锁定" in body
    assert reverse("staff-unlock", kwargs={"pk": secretary.pk}) in body
    response = client.post(reverse("staff-unlock", kwargs={"pk": secretary.pk}))
    assert response.status_code == 302
    assert "登录已锁定" not in client.get(reverse("staff-list")).content.decode()
    with world.a.scope():
        record = ChangeRecord.objects.filter(
            object_type="associations.User", object_id=secretary.pk, action="update"
        ).get()
    assert record.actor_id == admin.pk
    assert record.before == {"login_locked": True}
    assert record.after["login_locked"] is False
    client.logout()
    assert _login(client, secretary.username, PASSWORD).status_code == 302


def test_unlock_reaches_only_the_admins_own_county(client, world, axes_on):
    foreign = world.b.users["village_secretary"]
    _lock(client, foreign.username)
    client.force_login(world.a.users["county_admin"])
    assert client.post(reverse("staff-unlock", kwargs={"pk": foreign.pk})).status_code == 404
    assert client.get(reverse("staff-unlock", kwargs={"pk": foreign.pk})).status_code == 405
    assert AccessAttempt.objects.filter(username=foreign.username).exists()
    # In the county but not an admin: 403; outside one's subtree: 404
    client.force_login(world.a.users["township_staff"])
    own = world.a.users["village_secretary"]
    assert client.post(reverse("staff-unlock", kwargs={"pk": own.pk})).status_code == 403
    assert client.post(reverse("staff-unlock", kwargs={"pk": foreign.pk})).status_code == 404
    assert client.post(reverse("staff-unlock", kwargs={"pk": 10**12})).status_code == 404


# --- API tokens -------------------------------------------------------------------------------


def test_drf_authtoken_is_gone():
    assert not apps.is_installed("rest_framework.authtoken")
    assert "authtoken_token" not in connection.introspection.table_names()


def test_token_endpoint_gives_a_hashed_token_that_expires_in_thirty_days(world):
    before = timezone.now()
    response = APIClient().post(
        reverse("api-token"), {"username": "township_staff_130534", "password": PASSWORD}
    )
    assert response.status_code == 200
    raw = response.json()["token"]
    token = ApiToken.objects.get()
    assert token.user == world.a.users["township_staff"]
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw) // 2
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert not any(raw in value for value in stored)
    expected = before + datetime.timedelta(days=30)
    assert abs(token.expires_at - expected) < datetime.timedelta(minutes=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get(reverse("me-list")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def _token_client(user):
    _token, raw = account_services.token_create(actor=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_expired_and_revoked_tokens_are_refused_in_chinese(world):
    user = world.a.users["township_staff"]
    client = _token_client(user)
    assert client.get(reverse("me-list")).status_code == 200
    token = ApiToken.objects.get(user=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    response = client.get(reverse("me-list"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "该令牌已过期,请重新获取。"
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    account_services.token_revoke(actor=user, token=token)
    response = client.get(reverse("me-list"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "该令牌已被撤销,请使用新的令牌。"
    client.credentials(HTTP_AUTHORIZATION="Token jsxt_" + "x" * 43)
    assert client.get(reverse("me-list")).json()["error"]["message"] == "令牌无效。"


def test_own_password_change_ends_every_token(client, world):
    user = world.a.users["township_staff"]
    api = _token_client(user)
    account_services.token_create(actor=user)
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Kx7#mPq2w-Lv",
            "new_password2": "Kx7#mPq2w-Lv",
        },
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=user).exists()
    assert api.get(reverse("me-list")).status_code == 401


def test_admin_password_reset_ends_every_token(client, world, operator):
    user = world.a.users["village_secretary"]
    other = world.a.users["township_staff"]
    api = _token_client(user)
    _token_client(other)
    client.force_login(operator)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": "Kx7#mPq2w-Lv", "password2": "Kx7#mPq2w-Lv"})
    assert response.status_code == 302, response.content[:500]
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(user=other).count() == 1  # only the reset account's
    assert api.get(reverse("me-list")).status_code == 401


def test_saving_a_user_without_a_new_password_keeps_the_tokens(world):
    user = world.a.users["township_staff"]
    account_services.token_create(actor=user)
    user.full_name = "改名"
    user.save()
    assert ApiToken.objects.filter(user=user).count() == 1


def test_account_page_lists_creates_once_and_revokes(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    page = client.get(reverse("account"))
    assert page.status_code == 200
    assert "我的 API 令牌" in page.content.decode()
    response = client.post(reverse("account"), {"label": "对接脚本"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    raw = response.context["new_token"]["raw"]
    body = response.content.decode()
    assert raw in body and "离开本页后将无法再次查看" in body
    listing = client.get(reverse("account")).content.decode()
    assert raw not in listing
    assert token.prefix in listing and "对接脚本" in listing and "从未使用" in listing
    revoke = reverse("account-token-revoke", kwargs={"pk": token.pk})
    assert client.get(revoke).status_code == 405
    assert client.post(revoke).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "已撤销" in client.get(reverse("account")).content.decode()


def test_another_accounts_token_cannot_be_revoked(client, world):
    owner = world.b.users["village_secretary"]
    token, _raw = account_services.token_create(actor=owner)
    for user in (world.a.users["county_admin"], world.b.users["county_admin"]):
        client.force_login(user)
        url = reverse("account-token-revoke", kwargs={"pk": token.pk})
        assert client.post(url).status_code == 404
        assert owner.username not in client.get(reverse("account")).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_account_page_needs_a_login(client):
    assert client.get(reverse("account")).status_code == 302


# --- API keys ---------------------------------------------------------------------------------


def _key(world, node, *, days=30):
    with world.a.scope():
        return account_services.api_key_create(
            actor=world.a.users["county_admin"], node=node, label="卫健委平台", days=days
        )


def _key_client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_an_api_key_reads_its_villages_rows_only_and_masked(world):
    village = world.a.villages[0]
    key, raw = _key(world, village)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    client = _key_client(raw)
    rows = client.get(reverse("api-person-list")).json()["results"]
    assert {r["id"] for r in rows} == {p.pk for p in world.a.persons[:2]}
    person = world.a.persons[0]
    detail = client.get(reverse("api-person-detail", kwargs={"pk": person.pk})).json()
    assert detail["id_number"] == identity.mask_id_number(person.id_number)
    sibling = world.a.persons[2]
    url = reverse("api-person-detail", kwargs={"pk": sibling.pk})
    assert client.get(url).status_code == 404
    foreign = world.b.persons[0]
    assert client.get(reverse("api-person-detail", kwargs={"pk": foreign.pk})).status_code == 404
    me = client.get(reverse("me-list")).json()
    assert me["node"]["id"] == village.pk


def test_an_api_key_enters_its_nodes_scope_and_row_level_security(world, monkeypatch):
    from associations.api.views import MeViewSet

    seen = {}

    def spy(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.county_id', true)")
            seen["rls"] = cursor.fetchone()[0]
        seen["scope"] = current_scope()
        return original(self, request)

    original = MeViewSet.list
    monkeypatch.setattr(MeViewSet, "list", spy)
    township = world.a.townships[1]
    _key_obj, raw = _key(world, township)
    assert _key_client(raw).get(reverse("me-list")).status_code == 200
    assert seen["rls"] == str(world.a.county.pk)
    assert seen["scope"].node_id == township.pk
    assert seen["scope"].level == "township"


def test_an_api_key_is_read_only(world):
    _key_obj, raw = _key(world, world.a.county)
    client = _key_client(raw)
    response = client.patch(
        reverse("association-detail", kwargs={"pk": world.a.villages[0].pk}),
        {"name": "改名"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "API 密钥只能读取数据(GET)。"


def test_expired_revoked_and_foreign_keys_are_refused(world):
    key, raw = _key(world, world.a.county)
    client = _key_client(raw)
    assert client.get(reverse("me-list")).status_code == 200
    with world.a.scope():
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    response = client.get(reverse("me-list"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "该 API 密钥已过期,请联系县级管理员更换。"
    with world.a.scope():
        ApiKey.objects.filter(pk=key.pk).update(
            expires_at=timezone.now() + datetime.timedelta(days=1)
        )
        account_services.api_key_revoke(actor=world.a.users["county_admin"], key=key)
    assert client.get(reverse("me-list")).status_code == 401
    # A key's text names its county: pointing it at another county finds nothing
    forged = raw.replace(f"jsxk_{world.a.county.pk}_", f"jsxk_{world.b.county.pk}_")
    response = _key_client(forged).get(reverse("me-list"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "API 密钥无效。"
    assert _key_client("garbage").get(reverse("me-list")).status_code == 401


def test_county_admin_manages_keys_of_the_own_county(client, world):
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    page = client.get(reverse("api-keys"))
    assert page.status_code == 200
    body = page.content.decode()
    assert world.a.villages[0].name in body
    assert world.b.county.name not in body
    response = client.post(
        reverse("api-keys"), {"label": "乡镇对接", "node": world.a.townships[0].pk, "days": 90}
    )
    assert response.status_code == 200
    raw = response.context["new_key"]["raw"]
    assert raw in response.content.decode()
    assert raw not in client.get(reverse("api-keys")).content.decode()
    assert _key_client(raw).get(reverse("me-list")).json()["node"]["id"] == world.a.townships[0].pk
    # Another county's node cannot be chosen; a group cannot hold a key; bad days: 400
    for data in (
        {"label": "越界", "node": world.b.county.pk, "days": 30},
        {"label": "小组", "node": world.a.groups[0].pk, "days": 30},
        {"label": "天数", "node": world.a.county.pk, "days": 9999},
        {"label": "", "node": "x", "days": "y"},
    ):
        assert client.post(reverse("api-keys"), data).status_code == 400, data
    with world.a.scope():
        key = ApiKey.objects.get(label="乡镇对接")
    assert client.post(reverse("api-key-revoke", kwargs={"pk": key.pk})).status_code == 302
    assert _key_client(raw).get(reverse("me-list")).status_code == 401
    with world.a.scope():
        records = ChangeRecord.objects.filter(object_type="associations.ApiKey", object_id=key.pk)
        assert {r.action for r in records} == {"create", "update"}
        assert {r.actor_id for r in records} == {admin.pk}
    with world.b.scope():
        foreign = ApiKey.objects.first()
    assert client.post(reverse("api-key-revoke", kwargs={"pk": foreign.pk})).status_code == 404


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary"])
def test_only_county_admins_manage_keys(client, world, role):
    client.force_login(world.a.users[role])
    assert client.get(reverse("api-keys")).status_code == 403
    with world.a.scope():
        own = ApiKey.objects.filter(village=world.a.villages[0]).first()
    if role != "township_staff" or own.township_id == world.a.users[role].node_id:
        url = reverse("api-key-revoke", kwargs={"pk": own.pk})
        assert client.post(url).status_code == 403


# --- throttles --------------------------------------------------------------------------------


def test_throttle_rates_are_one_dict_in_settings():
    from config.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "token": "10/min",
        "user": "1200/min",
        "anon": "60/min",
    }


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "2/min", "user": "3/min", "anon": "2/min"},
    }


def _assert_throttled(response):
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("请求过于频繁")
    assert "秒后再试" in error["message"]


def test_throttles_answer_429_in_chinese(world, low_rates):
    anon = APIClient()
    for _ in range(2):
        assert anon.get(reverse("me-list")).status_code == 401
    _assert_throttled(anon.get(reverse("me-list")))
    url = reverse("api-token")
    login = APIClient(REMOTE_ADDR="10.0.0.5")
    for _ in range(2):
        login.post(url, {"username": "township_staff_130534", "password": "nope"})
    _assert_throttled(login.post(url, {"username": "township_staff_130534", "password": PASSWORD}))
    user = _token_client(world.a.users["township_staff"])
    for _ in range(3):
        assert user.get(reverse("me-list")).status_code == 200
    _assert_throttled(user.get(reverse("me-list")))
    # Another account has its own budget
    assert _token_client(world.a.users["county_admin"]).get(reverse("me-list")).status_code == 200


def test_schema_documents_429_everywhere(world):
    client = APIClient()
    client.force_authenticate(world.a.users["county_admin"])
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "429" in operation["responses"], (method, path)


# --- password rules ---------------------------------------------------------------------------

REFUSED = {
    "Jsx@2026demo": "password_demo",
    "Jishengxie#88": "password_project_word",
    "Abc12345!x": "password_sequence",
    "Qwerty!9xZ": "password_sequence",
    "98765#Lzq": "password_sequence",
    "Aaaa#x9Lz": "password_repeat",
    "zhangwei123": "password_pinyin_digits",
    "woaini1314": "password_pinyin_digits",
    "Xy19850312!": "password_date",
}


@pytest.mark.parametrize(("password", "code"), sorted(REFUSED.items()))
def test_common_chinese_patterns_are_refused(password, code):
    with pytest.raises(ValidationError) as caught:
        ChinesePatternValidator().validate(password)
    assert caught.value.error_list[0].code == code
    assert all("\u4e00" <= c <= "\u9fff" for c in caught.value.messages[0][:2])


@pytest.mark.parametrize("password", ["Test@pass2026", "Kx7#mPq2w-Lv", "Tr0ub4dor&3"])
def test_good_passwords_pass(password):
    ChinesePatternValidator().validate(password)


def test_passwords_with_the_username_or_phone_are_refused():
    user = User(username="wangfang", phone="138-1234-5678")
    for password, code in (
        ("Wangfang#2x", "password_has_username"),
        ("Q#13812345678", "password_has_phone"),
    ):
        with pytest.raises(ValidationError) as caught:
            PersonalInfoValidator().validate(password, user)
        assert caught.value.error_list[0].code == code


def test_the_demo_password_is_refused_for_a_new_account(world):
    a = world.a
    with a.scope(), pytest.raises(ValidationError) as caught:
        services.user_create(
            actor=a.users["county_admin"],
            username="new_secretary",
            password="Jsx@2026demo",
            node=a.villages[0],
            role=Role.VILLAGE_SECRETARY,
        )
    assert caught.value.message_dict["password"] == ["这是公开的演示密码,不能使用。"]


def test_the_demo_password_is_refused_as_a_new_password(client, world):
    user = world.a.users["township_staff"]
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Jsx@2026demo",
            "new_password2": "Jsx@2026demo",
        },
    )
    assert response.status_code == 200
    assert "这是公开的演示密码,不能使用。" in response.content.decode()


# --- username checks within the county ----------------------------------------------------------


def _new_account(client, username, node, password="Kx7#mPq2w-Lv"):
    response = client.post(
        reverse("staff-create"),
        {
            "username": username,
            "full_name": "新人",
            "node": node.pk,
            "role": "village_secretary",
            "password": password,
        },
    )
    return response.status_code, response.context["form"].errors.get("username")


def test_a_name_of_another_county_reads_like_any_unavailable_name(client, world):
    client.force_login(world.b.users["county_admin"])
    village = world.b.villages[0]
    other_county = _new_account(client, "village_secretary_130534", village)
    own_county = _new_account(client, "village_secretary_130535", village)
    other_case = _new_account(client, "VILLAGE_SECRETARY_130534", village)
    reserved = _new_account(client, "admin", village)
    expected = (400, ["该用户名不可用,请换一个。"])
    assert other_county == own_county == other_case == reserved == expected
    # With a bad password too, the answers stay the same for both
    weak = "zhangwei123"
    assert _new_account(client, "village_secretary_130534", village, weak) == _new_account(
        client, "village_secretary_130535", village, weak
    )
    assert "130534" not in client.get(reverse("staff-list")).content.decode()
