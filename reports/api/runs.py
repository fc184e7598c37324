"""The report runs API for the province platform: runs (county accounts: the county's runs;
they sit at the county node, so other accounts see none) and snapshot rows (every account:
the rows of its own subtree, a township's as it was when the run was built; non-county
accounts only those of published runs)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet
from associations.models import Level

from ..models import ReportRun, SnapshotNode


class ReportRunSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version_id", read_only=True)
    job = serializers.IntegerField(source="job_id", read_only=True)
    is_published = serializers.BooleanField(read_only=True)

    class Meta:
        model = ReportRun
        fields = [
            "id", "period_key", "version", "number", "state", "job", "created_at",
            "finished_at", "published_at", "is_published", "query_count", "duration_ms",
        ]  # fmt: skip
        read_only_fields = fields


class SnapshotNodeSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True)
    node = serializers.IntegerField(source="node_id_at", read_only=True)

    class Meta:
        model = SnapshotNode
        fields = [
            "id", "run", "node", "level", "name", "division_code", "parent_node_id",
            "township_node_id", "township_name", "indicators", "total", "grade",
            "rank_in_township", "rank_in_county", "top_three", "population", "members",
            "figures",
        ]  # fmt: skip
        read_only_fields = fields


def _county_user(user) -> bool:
    return user.node_level == Level.COUNTY


class ReportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """考核生成记录(县级账号可见本县全部;其他账号无)。"""

    serializer_class = ReportRunSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ReportRun]:
        return ReportRun.objects.order_by("-period_key", "-number", "-id")

    @extend_schema(responses=SnapshotNodeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="nodes")
    def nodes(self, request, pk=None):
        run = self.get_object()
        rows = SnapshotNode.objects.filter(run=run).order_by("division_code", "id")
        page = self.paginate_queryset(rows)
        serializer = SnapshotNodeSerializer(page if page is not None else rows, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)


class SnapshotNodeViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """考核结果(本账号所辖范围内的组织;非县级账号只见已发布的考核)。"""

    serializer_class = SnapshotNodeSerializer
    queryset = SnapshotNode.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("run", OpenApiTypes.INT, description="考核生成记录编号"),
            OpenApiParameter("period", OpenApiTypes.STR, description="统计期,如 2026-Q1"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SnapshotNode]:
        # as published: a township reads the rows of the villages that were its own when the
        # run was built (a village moved since stays with its old township)
        rows = SnapshotNode.as_published.select_related("run").order_by(
            "run_id", "division_code", "id"
        )
        if not _county_user(self.request.user):
            rows = rows.filter(run__published_at__isnull=False)
        run = self.request.query_params.get("run")
        if run is not None:
            if not run.isdigit() or len(run) > 18:
                raise ValidationError({"run": ["请填写考核生成记录编号(正整数)。"]})
            rows = rows.filter(run_id=int(run))
        period = self.request.query_params.get("period")
        if period is not None:
            rows = rows.filter(run__period_key=period[:10])
        return rows
