"""The assessment periods and submissions API (/api/v1/reports/…), over the same services as
the pages: the periods (county accounts: their rows sit at the county node), the
submissions in the caller's scope, and the workflow's actions as POSTs. A service's
ValidationError is a 400 in the project's format (config.api), PermissionDenied a 403, and an
object outside the scope a 404 before anything else."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.attachments.serializers import FILE_RESPONSES, THUMBNAIL_RESPONSES, AnyAccept
from associations.attachments.uploads import cap_uploads
from associations.attachments.views import serve

from .. import periods_services, submissions
from ..models import AssessmentPeriod, ManualScore, Submission
from . import attachments as attachment_api
from .serializers import (
    PeriodDetailSerializer,
    PeriodSerializer,
    ReasonSerializer,
    ReturnSerializer,
    ReviewSerializer,
    SubmissionDetailSerializer,
    SubmissionSaveSerializer,
    SubmissionSerializer,
    score_map,
)


class PeriodViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """考核期:列表、详情(含报送统计和记录)、锁定、重新开放(须填写原因)。"""

    serializer_class = PeriodSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return AssessmentPeriod.objects.select_related("version__scheme").order_by("-start_on")

    def _detail(self, period) -> Response:
        period = self.get_queryset().prefetch_related("events__actor").get(pk=period.pk)
        total, _ = periods_services.completeness(period=period)
        for name in ("expected", "submitted", "accepted", "late"):
            setattr(period, name, getattr(total, name))
        return Response(PeriodDetailSerializer(period).data)

    @extend_schema(responses={200: PeriodDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        request=None, responses={200: PeriodDetailSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def lock(self, request, pk=None):
        """锁定考核期(县级管理员)。"""
        period = periods_services.period_lock(actor=request.user, period=self.get_object())
        return self._detail(period)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: PeriodDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """重新开放已锁定的考核期(县级管理员,须填写原因)。"""
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        period = periods_services.period_reopen(
            actor=request.user, period=self.get_object(), reason=payload.validated_data["reason"]
        )
        return self._detail(period)


PERIOD_FILTER = OpenApiParameter("period", str, description="考核期,如 2026-Q1", required=False)


class SubmissionViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """考核报送:本账号范围内的报送;村(社区)保存自评、报送;乡镇(街道)审核通过或退回。"""

    serializer_class = SubmissionSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        queryset = Submission.objects.select_related("period", "expected").order_by(
            "-period__start_on", "expected__division_code"
        )
        key = self.request.query_params.get("period")
        if key is not None:
            period = periods_services.period_by_key(key)
            queryset = queryset.filter(period=period) if period else queryset.none()
        return queryset

    @extend_schema(parameters=[PERIOD_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _detail(self, submission) -> Response:
        rows = ManualScore.objects.select_related("indicator").order_by("indicator__order", "id")
        submission = (
            self.get_queryset()
            .prefetch_related(Prefetch("scores", queryset=rows), "events__actor")
            .get(pk=submission.pk)
        )
        return Response(SubmissionDetailSerializer(submission).data)

    @extend_schema(responses={200: SubmissionDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        request=SubmissionSaveSerializer,
        responses={200: SubmissionDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def scores(self, request, pk=None):
        """村(社区)保存自评分、自评说明和说明(未报送或已退回时)。"""
        submission = self.get_object()
        payload = SubmissionSaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        submissions.submission_save(
            actor=request.user,
            submission=submission,
            note=payload.validated_data.get("note"),
            scores=score_map(payload.validated_data),
        )
        return self._detail(submission)

    @extend_schema(
        request=None, responses={200: SubmissionDetailSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """村(社区)报送。"""
        submission = submissions.submission_submit(actor=request.user, submission=self.get_object())
        return self._detail(submission)

    @extend_schema(
        request=ReviewSerializer,
        responses={200: SubmissionDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """乡镇(街道)审核通过:每项人工评分指标须有审核得分(0 至满分)。"""
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        submission = submissions.submission_accept(
            actor=request.user,
            submission=self.get_object(),
            scores=score_map(payload.validated_data),
        )
        return self._detail(submission)

    @extend_schema(
        request=ReturnSerializer,
        responses={200: SubmissionDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """乡镇(街道)退回,须填写原因;村(社区)可修改后重新报送。"""
        payload = ReturnSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        submission = submissions.submission_return(
            actor=request.user,
            submission=self.get_object(),
            reason=payload.validated_data["reason"],
            scores=score_map(payload.validated_data),
        )
        return self._detail(submission)

    # --- submission attachments (reports.api.attachments) ---

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        if request.method == "POST" and self.action == "attachment_upload":
            cap_uploads(request)  # before authentication reads the body
        return drf_request

    @attachment_api.LIST_SCHEMA
    @action(
        detail=True,
        methods=["get"],
        url_path="attachments",
        url_name="attachments",
        pagination_class=None,  # a submission's few attachments, all at once
    )
    def attachments(self, request, pk=None):
        """报送的佐证材料(照片与文档)。"""
        return attachment_api.listed(self.get_object())

    @attachment_api.UPLOAD_SCHEMA
    @attachments.mapping.post
    def attachment_upload(self, request, pk=None):
        """上传佐证材料。"""
        return attachment_api.upload(request, self.get_object())

    @extend_schema(
        responses={200: attachment_api.SubmissionAttachmentSerializer, **error_responses(404)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]{1,18})",
        url_name="attachment",
    )
    def attachment(self, request, pk=None, attachment_pk=None):
        """一份佐证材料。"""
        attachment = attachment_api.attachment_of(self.get_object(), attachment_pk)
        return Response(attachment_api.SubmissionAttachmentSerializer(attachment).data)

    @extend_schema(responses={204: None, **error_responses(400, 403, 404)}, filters=False)
    @attachment.mapping.delete
    def attachment_delete(self, request, pk=None, attachment_pk=None):
        """删除佐证材料(考核期已锁定或报送已审核通过时不能删除)。"""
        return attachment_api.delete(request, self.get_object(), attachment_pk)

    @extend_schema(responses={**FILE_RESPONSES, **error_responses(404)}, filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]{1,18})/download",
        url_name="attachment-download",
        content_negotiation_class=AnyAccept,
    )
    def attachment_download(self, request, pk=None, attachment_pk=None):
        """下载佐证材料文件。"""
        return serve(attachment_api.attachment_of(self.get_object(), attachment_pk))

    @extend_schema(responses={**THUMBNAIL_RESPONSES, **error_responses(404)}, filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]{1,18})/thumbnail",
        url_name="attachment-thumbnail",
        content_negotiation_class=AnyAccept,
    )
    def attachment_thumbnail(self, request, pk=None, attachment_pk=None):
        """图片佐证材料的缩略图(JPEG);文档没有缩略图(404)。"""
        return attachment_api.thumbnail(self.get_object(), attachment_pk)

    def get_parsers(self):
        if getattr(self, "action", None) == "attachment_upload":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    # --- end of submission attachments ---
