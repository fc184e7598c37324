"""Viewsets of the activities API, over the app's selectors, services and FilterSets.

Reads go through activities.selectors (and activities.catalogues for the county's lists);
writes through activities.services, which check the actor's permission (PermissionDenied →
403: county viewers read only, a group leader writes in their own group) and validate
(Django ValidationError → 400 in the project's error format, config.api, with the services'
codes). Objects are looked up in the request's scope first, so another county's or a sibling
village's activity or visit is a 404 before any permission check.

Upsert by external reference: `PUT /api/v1/activities/by-ref/<external_ref>/` (and
`/api/v1/visits/by-ref/<external_ref>/`) creates the record with that reference in the
caller's county (201), or replaces the one the caller sees (200): sending the same record
twice leaves one record. The body is the whole record: what it leaves out takes its default.
A reference another part of the county already uses is `taken` (400)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.attachments.uploads import cap_uploads
from associations.models import Association
from households.api.pagination import HasNextPagination

from .. import catalogues, selectors, services
from ..filters import ActivityFilter, HomeVisitFilter
from ..models import Activity, HomeVisit, Material, Theme, ThemedDay
from . import attachments as attachment_api
from .serializers import (
    ActivityCreateSerializer,
    ActivityDetailSerializer,
    ActivitySerializer,
    ActivityUpsertSerializer,
    ActivityWriteSerializer,
    HomeVisitSerializer,
    MaterialSerializer,
    ThemedDaySerializer,
    ThemeSerializer,
    VisitCreateSerializer,
    VisitUpsertSerializer,
    VisitWriteSerializer,
)

REF_PATH = r"by-ref/(?P<external_ref>[^/]{1,64})"
REF_PARAMETER = OpenApiParameter(
    "external_ref",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="其他系统的记录编号(本县唯一,最长 64 个字符)",
)
# What a whole record sent to by-ref leaves out becomes (PUT replaces the record).
ACTIVITY_DEFAULTS = {
    "meeting_type": "",
    "service_type": "",
    "title": "",
    "end_date": None,
    "place": "",
    "theme": None,
    "themed_day": None,
    "participants": 0,
    "consultations": 0,
    "trainees": 0,
    "organiser": "",
    "summary": "",
    "attendees": [],
    "materials": {},
}
VISIT_DEFAULTS = {"notes": "", "follow_up_needed": False, "follow_up_done_on": None}


def _external_ref(kwargs) -> str:
    """The path's reference; one the services would store differently (surrounding spaces) or
    cannot store (NUL) names no record."""
    ref = kwargs["external_ref"]
    if ref != ref.strip() or not ref or "\x00" in ref:
        raise Http404
    return ref


def _fixed(field: str, message: str) -> DjangoValidationError:
    return DjangoValidationError({field: DjangoValidationError(message, code="fixed")})


class ScopedDetailMixin:
    lookup_value_regex = r"\d+"

    def get_object(self):
        pk = self.kwargs.get("pk")
        if pk is None:  # a by-ref route (DRF's OPTIONS asks for its object too)
            pk = get_object_or_404(
                self.model.objects.all(), external_ref=_external_ref(self.kwargs)
            ).pk
        obj = self.detail_selector(actor=self.request.user, pk=pk)
        self.check_object_permissions(self.request, obj)
        return obj


# --- activities --------------------------------------------------------------------------------


class ActivityViewSet(ScopedDetailMixin, mixins.ListModelMixin, ScopedGenericViewSet):
    """活动:列表(按组织、日期、类别、主题等筛选)、详情(含参加会员和发放物资)、登记、
    修改、删除,以及按外部编号写入(by-ref)。"""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    # JSON only: attendee lists and nested materials have no sound form encoding (and a
    # long list as form fields passes Django's cap on the number of fields).
    parser_classes = [JSONParser]
    pagination_class = HasNextPagination
    detail_selector = staticmethod(selectors.activity_get)
    model = Activity

    def get_queryset(self):
        return selectors.activity_list(actor=self.request.user).prefetch_related("attachments")

    def _detail(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        activity = selectors.activity_get(actor=self.request.user, pk=pk)
        return Response(ActivityDetailSerializer(activity).data, status=status_code)

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        if self.action == "attachments":
            cap_uploads(request)  # before authentication reads the body
        return drf_request

    @attachment_api.UPLOAD_SCHEMA
    @action(
        detail=True,
        methods=["post"],
        url_path="attachments",
        parser_classes=[MultiPartParser, FormParser],
    )
    def attachments(self, request, pk=None):
        """上传活动的照片或文档。"""
        return attachment_api.upload(request, self.get_object())

    @extend_schema(responses={200: ActivityDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return Response(ActivityDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=ActivityCreateSerializer,
        responses={201: ActivityDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """登记活动:参加会员可逐人列出(attendees),也可整组登记(whole_groups)。"""
        payload = ActivityCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        activity = self._create(payload.service_arguments())
        return self._detail(activity.pk, status_code=status.HTTP_201_CREATED)

    def _create(self, data: dict) -> Activity:
        association = data.pop("association", None) or self._own_node()
        return services.activity_create(actor=self.request.user, association=association, **data)

    def _own_node(self):
        return get_object_or_404(Association.objects.all(), pk=self.request.user.node_id)

    @extend_schema(
        request=ActivityWriteSerializer,
        responses={200: ActivityDetailSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        """修改活动;给出 attendees、materials 时替换原名单和物资记录。"""
        activity = self.get_object()
        payload = ActivityWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        services.activity_update(
            actor=request.user, activity=activity, **payload.service_arguments()
        )
        return self._detail(activity.pk)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, pk=None):
        services.activity_delete(actor=request.user, activity=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        parameters=[REF_PARAMETER],
        filters=False,
        responses={200: ActivityDetailSerializer, **error_responses(404)},
    )
    @extend_schema(
        methods=["PUT"],
        parameters=[REF_PARAMETER],
        filters=False,
        request=ActivityUpsertSerializer,
        responses={
            200: ActivityDetailSerializer,
            201: ActivityDetailSerializer,
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=False, methods=["get", "put"], url_path=REF_PATH, pagination_class=None)
    def by_ref(self, request, external_ref=None):
        """按外部编号读取,或写入整条记录(幂等):没有则新建(201),已有则替换(200)。"""
        ref = _external_ref(self.kwargs)
        existing = Activity.objects.filter(external_ref=ref).first()
        if request.method == "GET":
            if existing is None:
                raise Http404
            return self._detail(existing.pk)
        payload = ActivityUpsertSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = {**ACTIVITY_DEFAULTS, **payload.service_arguments()}
        with transaction.atomic():
            if existing is None:
                activity = self._create({**data, "external_ref": ref})
                return self._detail(activity.pk, status_code=status.HTTP_201_CREATED)
            association = data.pop("association", None)
            if association is not None and association.pk != existing.association_id:
                services.require_field_work(request.user, existing.association)
                raise _fixed("association", "已有活动的举办协会不能改变。")
            services.activity_update(actor=request.user, activity=existing, **data)
        return self._detail(existing.pk)


# --- home visits -------------------------------------------------------------------------------


class VisitViewSet(ScopedDetailMixin, mixins.ListModelMixin, ScopedGenericViewSet):
    """入户随访:列表(按组织、日期、走访人、走访户、目的筛选)、详情、登记、修改、删除,
    以及按外部编号写入(by-ref)。"""

    serializer_class = HomeVisitSerializer
    filterset_class = HomeVisitFilter
    pagination_class = HasNextPagination
    detail_selector = staticmethod(selectors.visit_get)
    model = HomeVisit

    def get_queryset(self):
        return selectors.visit_list(actor=self.request.user)

    def _detail(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        visit = selectors.visit_get(actor=self.request.user, pk=pk)
        return Response(HomeVisitSerializer(visit).data, status=status_code)

    @extend_schema(responses={200: HomeVisitSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return Response(HomeVisitSerializer(self.get_object()).data)

    @extend_schema(
        request=VisitCreateSerializer,
        responses={201: HomeVisitSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """登记入户随访:只能走访走访人所在村(社区)的家庭户(`household_elsewhere`)。"""
        payload = VisitCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        visit = services.visit_record(actor=request.user, **payload.validated_data)
        return self._detail(visit.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=VisitWriteSerializer,
        responses={200: HomeVisitSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        """修改走访记录(走访人不能改变)。"""
        visit = self.get_object()
        payload = VisitWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        services.visit_update(actor=request.user, visit=visit, **payload.validated_data)
        return self._detail(visit.pk)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, pk=None):
        services.visit_delete(actor=request.user, visit=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        parameters=[REF_PARAMETER],
        filters=False,
        responses={200: HomeVisitSerializer, **error_responses(404)},
    )
    @extend_schema(
        methods=["PUT"],
        parameters=[REF_PARAMETER],
        filters=False,
        request=VisitUpsertSerializer,
        responses={
            200: HomeVisitSerializer,
            201: HomeVisitSerializer,
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=False, methods=["get", "put"], url_path=REF_PATH, pagination_class=None)
    def by_ref(self, request, external_ref=None):
        """按外部编号读取,或写入整条记录(幂等):没有则新建(201),已有则替换(200)。"""
        ref = _external_ref(self.kwargs)
        existing = HomeVisit.objects.filter(external_ref=ref).first()
        if request.method == "GET":
            if existing is None:
                raise Http404
            return self._detail(existing.pk)
        payload = VisitUpsertSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = {**VISIT_DEFAULTS, **payload.validated_data}
        with transaction.atomic():
            if existing is None:
                visit = services.visit_record(actor=request.user, external_ref=ref, **data)
                return self._detail(visit.pk, status_code=status.HTTP_201_CREATED)
            if data.pop("visitor").pk != existing.visitor_id:
                services.require_field_work(request.user, existing.visitor.placed_at())
                raise _fixed("visitor", "已有走访记录的走访人不能改变。")
            services.visit_update(actor=request.user, visit=existing, **data)
        return self._detail(existing.pk)


# --- the county's catalogues -------------------------------------------------------------------


class CatalogueViewSet(ScopedGenericViewSet):
    """A county's catalogue (停用的项目也列出,is_active 为 false):a short list, not paged."""

    pagination_class = None
    loader = None

    def list(self, request):
        rows = type(self).loader(county_id=request.user.county_id, active_only=False)
        return Response(self.get_serializer(rows, many=True).data)


class ThemeViewSet(CatalogueViewSet):
    """本县的活动主题目录。"""

    queryset = Theme.objects.none()  # for the schema; rows come from the catalogue
    serializer_class = ThemeSerializer
    loader = staticmethod(catalogues.themes)


class ThemedDayViewSet(CatalogueViewSet):
    """本县的主题日目录。"""

    queryset = ThemedDay.objects.none()
    serializer_class = ThemedDaySerializer
    loader = staticmethod(catalogues.themed_days)


class MaterialViewSet(CatalogueViewSet):
    """本县的宣传服务物资目录。"""

    queryset = Material.objects.none()
    serializer_class = MaterialSerializer
    loader = staticmethod(catalogues.materials)
