"""POST /api/v1/auth/token/: username and password in exchange for a new API token of the
account (shown once), behind the login lockout and its own throttle (10 a minute per
address)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api.schema import ERROR_RESPONSES
from . import lockout, services
from .throttling import TokenEndpointThrottle


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名", max_length=150)
    password = serializers.CharField(
        label="密码", max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    label = serializers.CharField(label="用途说明", max_length=100, required=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="令牌全文,只在此时返回一次")
    prefix = serializers.CharField(help_text="令牌前缀,在“我的账号”页面辨认用")
    expires_at = serializers.DateTimeField(help_text="到期时间")


def _error(code: str, message: str, http_status: int) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=http_status)


class TokenView(APIView):
    """用户名和密码换取新的 API 令牌(只返回一次);令牌携带该用户的组织范围,默认 30 天后过期,
    改密码后失效。连续输错密码会被锁定。"""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [TokenEndpointThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: ERROR_RESPONSES[400],
            429: OpenApiResponse(
                ERROR_RESPONSES[429].response, description="请求过于频繁,或登录失败次数过多被锁定"
            ),
        },
        auth=[],
    )
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        username = payload.validated_data["username"]
        if lockout.is_locked(request._request, username):
            return _error("locked_out", lockout.lockout_message(), lockout.LOCKED_STATUS)
        user = authenticate(
            request=request._request, username=username, password=payload.validated_data["password"]
        )
        if user is None:
            if lockout.is_locked(request._request, username):
                return _error("locked_out", lockout.lockout_message(), lockout.LOCKED_STATUS)
            return _error("invalid_credentials", "用户名或密码错误。", status.HTTP_400_BAD_REQUEST)
        if not user.is_active:
            return _error("invalid_credentials", "用户名或密码错误。", status.HTTP_400_BAD_REQUEST)
        token, raw = services.token_create(
            actor=user, label=payload.validated_data.get("label") or "接口换取"
        )
        return Response({"token": raw, "prefix": token.prefix, "expires_at": token.expires_at})
