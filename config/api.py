"""API conventions shared by every app: pagination and one error format.

Every error body is
    {"error": {"code": "<stable code>", "message": "<中文说明>", "fields": {...}}}
where `fields` (validation errors only) maps a field to a list of {"code", "message"}."""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

MESSAGES = {
    "not_authenticated": "请先登录或提供有效的令牌。",
    "authentication_failed": "身份验证失败。",
    "permission_denied": "您没有执行此操作的权限。",
    "not_found": "未找到该对象。",
    "method_not_allowed": "不支持该请求方法。",
    "not_acceptable": "无法提供所请求的格式。",
    "unsupported_media_type": "不支持的请求数据格式。",
    "throttled": "请求过于频繁,请稍后再试。",
    "parse_error": "请求数据格式错误。",
    "validation_error": "提交的数据有误,请检查后重试。",
}


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _field_errors(detail) -> dict:
    """DRF's get_full_details() → {field: [{"code", "message"}]}. Errors of a nested object or
    of a list's items sit under a dotted name ("person.name", "categories.0"), so every value
    is a list of errors whatever the payload's shape."""
    flat: dict[str, list] = {}
    _collect(flat, "", {"non_field_errors": detail} if isinstance(detail, list) else detail)
    return flat


def _is_error(value) -> bool:
    return isinstance(value, dict) and set(value) == {"message", "code"}


def _collect(flat: dict, name: str, value) -> None:
    if _is_error(value):
        flat.setdefault(name, []).append(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _collect(flat, f"{name}.{key}" if name else str(key), inner)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _collect(flat, name if _is_error(inner) else f"{name}.{index}", inner)


def _from_django(exc):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                field: [
                    exceptions.ErrorDetail(str(e.message % (e.params or {})), e.code or "invalid")
                    for e in errors
                ]
                for field, errors in exc.error_dict.items()
            }
        else:
            detail = [
                exceptions.ErrorDetail(str(e.message % (e.params or {})), e.code or "invalid")
                for e in exc.error_list
            ]
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    return exc


def exception_handler(exc, context):
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "validation_error",
            "message": MESSAGES["validation_error"],
            "fields": _field_errors(exc.get_full_details()),
        }
    else:
        code = getattr(exc, "default_code", "error")
        detail = getattr(exc, "detail", "")
        custom = str(detail) if isinstance(detail, str) and detail != exc.default_detail else ""
        body = {"code": code, "message": custom or MESSAGES.get(code, str(detail))}
        if isinstance(exc, exceptions.Throttled):  # DRF's detail is English: say it in Chinese
            wait = f" {math.ceil(exc.wait)} 秒后" if exc.wait else ""
            body["message"] = f"请求过于频繁,请{wait}再试。"
    return Response({"error": body}, status=response.status_code, headers=response.headers)


def not_found_response() -> Response:
    return Response(
        {"error": {"code": "not_found", "message": MESSAGES["not_found"]}},
        status=status.HTTP_404_NOT_FOUND,
    )
