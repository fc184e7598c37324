"""The OpenAPI description of what the API really answers (drf-spectacular's AutoSchema, the
project's DEFAULT_SCHEMA_CLASS):

- every operation documents the error responses it can give, each with the body of the
  project's error format (config.api): 401 and 403 everywhere, 404 where a path names an
  object or a list is paged, 400 where a body or a filter can be wrong, 415 where a body of
  another media type can be sent, 429 everywhere (the API's throttles);
- a read-only choice whose model field may be blank lists "" among its values: DRF drops
  `allow_blank` from read-only fields, but the API still returns what the row holds."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

UNPAGED_QUERY = {"page", "page_size"}  # a bad page is a 404; a bad page size falls back


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码,如 required、invalid_choice")
    message = serializers.CharField(help_text="中文说明")


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="稳定的错误代码:validation_error、not_authenticated、permission_denied、"
        "not_found 等"
    )
    message = serializers.CharField(help_text="中文说明")

    def get_fields(self):
        # `fields` is the name of the body's key and of a Serializer attribute: declared here.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=FieldErrorSerializer(many=True),
            required=False,
            help_text="仅数据校验错误:字段名(嵌套字段以“.”连接)→ 该字段的错误列表",
        )
        return fields


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


ERROR_RESPONSES = {
    400: OpenApiResponse(
        ErrorSerializer, description="数据校验错误(error.fields 列出各字段的错误代码)"
    ),
    401: OpenApiResponse(ErrorSerializer, description="未登录或令牌无效"),
    403: OpenApiResponse(ErrorSerializer, description="无权执行此操作"),
    404: OpenApiResponse(ErrorSerializer, description="对象不存在或不在本账号的范围内"),
    415: OpenApiResponse(ErrorSerializer, description="不支持的请求数据格式(Content-Type)"),
    # Throttles and the hourly limit of lookups by a full ID number or phone (issue 12)
    429: OpenApiResponse(
        ErrorSerializer, description="请求过于频繁,请稍后再试(限流或按号码查询超出每小时上限)"
    ),
}


def _model_field(field: serializers.Field):
    """The model field a ModelSerializer's field reads (following `person.sex`), or None."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    found = None
    for part in (field.source or "").split("."):
        if model is None:
            return None
        try:
            found = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = found.related_model
    return found


class ProjectAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for code in self._error_codes(operation):
            operation["responses"].setdefault(
                str(code), self._get_response_for_code(ERROR_RESPONSES[code], str(code))
            )
        return operation

    def _error_codes(self, operation: dict) -> list[int]:
        parameters = operation.get("parameters", [])
        names_object = any(p["in"] == "path" for p in parameters)
        filtered = any(p["in"] == "query" and p["name"] not in UNPAGED_QUERY for p in parameters)
        paged = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
        codes = [401, 403]
        if self.method != "GET" or "requestBody" in operation or filtered:
            codes.append(400)
        if names_object or paged:
            codes.append(404)
        if "requestBody" in operation:
            codes.append(415)
        codes.append(429)  # throttles (issue 12)
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and getattr(_model_field(field), "blank", False)
        ):
            field.allow_blank = True  # a schema-only copy of the field
        return super()._map_serializer_field(field, direction, bypass_extensions)


class SingleObjectSchema(ProjectAutoSchema):
    """For a `list` action that answers with one object (not an array): drf-spectacular
    otherwise wraps the response of every `list` action in an array, paged."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
