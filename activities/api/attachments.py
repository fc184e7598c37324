"""The attachments of activities in the API: each activity lists its attachments (id, name,
type, size, and the scoped download URLs); `POST /api/v1/activities/<id>/attachments/`
(multipart, field `file`) attaches a file; `/api/v1/activity-attachments/<id>/` reads or deletes
one, and its `download/` and `thumbnail/` send the file. Another county's or a sibling
village's activity or attachment is a 404; a county viewer cannot upload or delete (403)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.attachments.checks import too_large
from associations.attachments.serializers import (
    FILE_RESPONSES,
    THUMBNAIL_RESPONSES,
    AnyAccept,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    uploaded_response,
)
from associations.attachments.uploads import oversize_uploads
from associations.attachments.views import serve

from .. import selectors, services
from ..models import ActivityAttachment


class ActivityAttachmentSerializer(AttachmentSerializer):
    download_route = "api-activity-attachment-download"
    thumbnail_route = "api-activity-attachment-thumbnail"


def upload(request, activity) -> Response:
    if "file" not in request.FILES and oversize_uploads(request._request):  # (parses first)
        services.require_field_work(request.user, activity.association)
        raise too_large()  # skipped while the body was read
    payload = AttachmentUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    attachment = services.activity_attachment_add(
        actor=request.user, activity=activity, upload=payload.validated_data["file"]
    )
    return uploaded_response(attachment, ActivityAttachmentSerializer)


UPLOAD_SCHEMA = extend_schema(
    request={"multipart/form-data": AttachmentUploadSerializer},
    responses={
        201: ActivityAttachmentSerializer,
        200: ActivityAttachmentSerializer,
        **error_responses(400, 403, 404),
    },
    filters=False,
    description="上传活动的照片或文档(multipart/form-data,字段 file)。同一文件重复上传只保存"
    "一次(200,返回已有附件)。",
)


class ActivityAttachmentViewSet(ScopedGenericViewSet):
    """活动附件:详情、删除、下载文件与缩略图。"""

    serializer_class = ActivityAttachmentSerializer
    queryset = ActivityAttachment.objects.none()  # for the schema; rows come from the selector
    lookup_value_regex = r"\d+"
    pagination_class = None

    def get_object(self):
        return selectors.activity_attachment_get(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(responses={200: ActivityAttachmentSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return Response(ActivityAttachmentSerializer(self.get_object()).data)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, pk=None):
        services.activity_attachment_delete(actor=request.user, attachment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={**FILE_RESPONSES, **error_responses(404)})
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def download(self, request, pk=None):
        """下载附件文件(类型为上传时按内容识别的类型)。"""
        return serve(self.get_object())

    @extend_schema(responses={**THUMBNAIL_RESPONSES, **error_responses(404)})
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def thumbnail(self, request, pk=None):
        """图片附件的缩略图(JPEG);文档没有缩略图(404)。"""
        attachment = self.get_object()
        if not attachment.thumbnail:
            raise Http404
        return serve(attachment, thumbnail=True)
