"""The evidence of a submission (佐证材料) in the API, under the submission:
`GET /api/v1/reports/submissions/<id>/attachments/` lists them (id, name, type, size, the
scoped download URLs); `POST` there (multipart, field `file`) uploads one;
`GET`/`DELETE …/attachments/<attachment id>/` reads or deletes one, and its `download/` and
`thumbnail/` send the file. The same rules as the pages (reports.submission_attachments.RULES):
the village while it may change the submission, the township while it reviews a submitted
one; a locked period or an accepted submission is a 400 saying so; anyone else a 403. Another
county's or a sibling village's submission, or an attachment of another submission, is a
404."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from associations.api.base import error_responses
from associations.attachments.checks import too_large
from associations.attachments.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    uploaded_response,
)
from associations.attachments.services import UPLOAD_REFUSED
from associations.attachments.uploads import oversize_uploads
from associations.attachments.views import serve

from .. import submission_attachments
from ..models import Submission, SubmissionAttachment


class SubmissionAttachmentSerializer(AttachmentSerializer):
    """An attachment of a submission; its API URLs sit under the submission."""

    def get_url(self, attachment) -> str:
        return reverse(
            "api-report-submission-attachment-download",
            kwargs={"pk": attachment.submission_id, "attachment_pk": attachment.pk},
        )

    def get_thumbnail_url(self, attachment) -> str | None:
        if not attachment.thumbnail:
            return None
        return reverse(
            "api-report-submission-attachment-thumbnail",
            kwargs={"pk": attachment.submission_id, "attachment_pk": attachment.pk},
        )


def attachment_of(submission: Submission, attachment_pk) -> SubmissionAttachment:
    return get_object_or_404(
        SubmissionAttachment.objects.select_related("submission__period", "submission__village"),
        pk=attachment_pk,
        submission=submission,
    )


def listed(submission: Submission) -> Response:
    rows = SubmissionAttachment.objects.filter(submission=submission).order_by("id")
    return Response(SubmissionAttachmentSerializer(rows, many=True).data)


def upload(request, submission: Submission) -> Response:
    if "file" not in request.FILES and oversize_uploads(request._request):  # (parses first)
        submission_attachments.check(request.user, submission)
        if not submission_attachments.may_attach(request.user, submission):
            raise PermissionDenied(UPLOAD_REFUSED)
        raise too_large()  # skipped while the body was read
    payload = AttachmentUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    attachment = submission_attachments.submission_attachment_add(
        actor=request.user, submission=submission, upload=payload.validated_data["file"]
    )
    return uploaded_response(attachment, SubmissionAttachmentSerializer)


def delete(request, submission: Submission, attachment_pk) -> Response:
    attachment = attachment_of(submission, attachment_pk)
    submission_attachments.submission_attachment_delete(actor=request.user, attachment=attachment)
    return Response(status=status.HTTP_204_NO_CONTENT)


def thumbnail(submission: Submission, attachment_pk):
    attachment = attachment_of(submission, attachment_pk)
    if not attachment.thumbnail:
        raise Http404
    return serve(attachment, thumbnail=True)


LIST_SCHEMA = extend_schema(
    responses={200: SubmissionAttachmentSerializer(many=True), **error_responses(404)},
    filters=False,
)
UPLOAD_SCHEMA = extend_schema(
    request={"multipart/form-data": AttachmentUploadSerializer},
    responses={
        201: SubmissionAttachmentSerializer,
        200: SubmissionAttachmentSerializer,
        **error_responses(400, 403, 404),
    },
    filters=False,
    description="上传报送的佐证材料(照片或文档,multipart/form-data,字段 file)。同一文件重复"
    "上传只保存一次(200,返回已有附件)。考核期已锁定或报送已审核通过时不能上传(400)。",
)
