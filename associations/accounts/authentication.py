"""DRF authentication: the project's own hashed, expiring, revocable tokens (`Authorization:
Token <令牌>`, acting as the account) and other systems' API keys (`Authorization: Api-Key
<密钥>`, read-only, acting as their node)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from ..models import Level, Role
from ..scope import Scope, activate
from . import secrets
from .models import ApiKey, ApiToken

# Writing last_used_at on every call would make every read a write: once a minute is enough.
USE_STAMP_INTERVAL = datetime.timedelta(minutes=1)
KEY_ROLES = {
    Level.COUNTY: Role.COUNTY_VIEWER,
    Level.TOWNSHIP: Role.TOWNSHIP_STAFF,
    Level.VILLAGE: Role.VILLAGE_SECRETARY,
}


REFUSALS = {
    "token": ("该令牌已被撤销,请使用新的令牌。", "该令牌已过期,请重新获取。"),
    "key": ("该 API 密钥已被撤销。", "该 API 密钥已过期,请联系县级管理员更换。"),
}


def _refuse_state(credential, kind: str) -> None:
    revoked, expired = REFUSALS[kind]
    if credential.revoked_at is not None:
        raise exceptions.AuthenticationFailed(revoked)
    if credential.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed(expired)


def _stamp_use(manager, credential) -> None:
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > USE_STAMP_INTERVAL:
        manager.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


class ProjectTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user").filter(key_hash=secrets.digest(key)).first()
            if secrets.TOKEN_PATTERN.match(key)
            else None
        )
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效。")
        _refuse_state(token, "token")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该账号已停用。")
        _stamp_use(ApiToken.objects, token)
        return token.user, token


class ApiKeyPrincipal:
    """The `request.user` of a call made with an API key: the key's node with the reading
    rights of that level's staff (never full identity numbers: households.masking)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    is_platform_operator = False
    is_api_key = True
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.node = key.node
        self.node_id = key.node_id
        self.county_id = key.county_id
        self.role = KEY_ROLES[Level(key.node.level)]
        self.username = f"API 密钥 {key.prefix}"
        self.full_name = key.label

    @property
    def node_level(self) -> Level:
        return Level(self.node.level)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def get_username(self) -> str:
        return self.username

    def get_role_display(self) -> str:
        return "API 密钥(只读)"

    def has_perm(self, *args, **kwargs) -> bool:
        return False

    def __str__(self) -> str:
        return self.display_name


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("API 密钥格式错误。")
        try:
            raw = parts[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("API 密钥格式错误。") from error
        county_id = secrets.key_county(raw)
        key = self._find(county_id, raw) if county_id else None
        if key is None:
            raise exceptions.AuthenticationFailed("API 密钥无效。")
        _refuse_state(key, "key")
        if request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("API 密钥只能读取数据(GET)。")
        return ApiKeyPrincipal(key), key

    @staticmethod
    def _find(county_id: int, raw: str) -> ApiKey | None:
        # The key names its county: look its hash up inside that county's scope (row-level
        # security shows no key outside one), then act in the key's own node's scope.
        with activate(Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)):
            key = ApiKey.objects.select_related("node").filter(key_hash=secrets.digest(raw))
            key = key.first()
            if key is not None and key.is_active:
                _stamp_use(ApiKey.objects, key)
        return key

    def authenticate_header(self, request):
        return self.keyword


class ProjectTokenScheme(OpenApiAuthenticationExtension):
    target_class = "associations.accounts.authentication.ProjectTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "账号的 API 令牌:`Token <令牌>`,有效期默认 30 天,改密码后失效。",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "associations.accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "其他系统的 API 密钥:`Api-Key <密钥>`,只读,范围为绑定的组织。",
        }
