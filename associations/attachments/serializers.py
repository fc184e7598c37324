"""The API's view of attachments, for every app: an attachment as listed with its record, the
upload payload, and the schema of a file download."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from .checks import TYPES
from .models import AttachmentKind


class AttachmentSerializer(serializers.Serializer):
    """An attachment. `url` and `thumbnail_url` are paths of the API (token or session);
    `page_url` is the download a signed-in browser follows. Subclasses name the API routes."""

    download_route = ""
    thumbnail_route = ""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="文件名(上传时的名称,扩展名按实际类型)")
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, read_only=True)
    content_type = serializers.CharField(read_only=True, help_text="按文件内容识别的类型")
    size = serializers.IntegerField(read_only=True, help_text="字节数")
    width = serializers.IntegerField(read_only=True, allow_null=True, help_text="图片宽(像素)")
    height = serializers.IntegerField(read_only=True, allow_null=True, help_text="图片高(像素)")
    uploaded_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField(help_text="下载地址(接口,按账号范围校验)")
    thumbnail_url = serializers.SerializerMethodField(help_text="缩略图地址(仅图片)")
    page_url = serializers.SerializerMethodField(help_text="网页下载地址(已登录的浏览器)")

    def get_url(self, attachment) -> str:
        return reverse(self.download_route, kwargs={"pk": attachment.pk})

    def get_thumbnail_url(self, attachment) -> str | None:
        if not attachment.thumbnail:
            return None
        return reverse(self.thumbnail_route, kwargs={"pk": attachment.pk})

    def get_page_url(self, attachment) -> str:
        return attachment.download_url()


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        label="文件",
        help_text="图片(JPG、PNG、WebP、GIF)、PDF、Word(.docx)或 Excel(.xlsx);"
        "类型按文件内容识别,图片去除 EXIF(含拍摄位置)后保存",
    )


class AnyAccept(BaseContentNegotiation):
    """A download answers with the file's own type whatever the client accepts (errors in
    the API's JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FILE_RESPONSES = {
    (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="文件内容")
    for content_type in sorted({t.content_type for t in TYPES.values()} - {"image/gif"})
}
THUMBNAIL_RESPONSES = {
    (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="缩略图(JPEG)")
}


def uploaded_response(attachment, serializer_class):
    """201 with the new attachment, or 200 with the one already stored when the same file was
    sent again (an upload is idempotent by content)."""
    code = status.HTTP_200_OK if attachment.replayed else status.HTTP_201_CREATED
    return Response(serializer_class(attachment).data, status=code)
