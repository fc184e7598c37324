"""Viewsets of the households API, over the app's selectors, services and FilterSets.

Reads go through households.selectors; writes through households.services, which check the
actor's permission (PermissionDenied → 403) and validate (Django ValidationError → 400 in the
project's error format, config.api). Objects are looked up in the request's scope first, so
another county's or a sibling village's object is a 404 before any permission check."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, PermissionDenied, ValidationError
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.api.schema import SingleObjectSchema
from associations.models import Association

from .. import identity_reads, masking, selectors, services
from ..figures import Period
from ..filters import HouseholdFilter, PersonFilter
from ..models import IdentityRead, Person
from .pagination import HasNextPagination
from .serializers import (
    AssistanceInputSerializer,
    AssistanceSerializer,
    FiguresQuerySerializer,
    FiguresTableSerializer,
    HardshipInputSerializer,
    HardshipSerializer,
    HouseholdCreateSerializer,
    HouseholdDetailSerializer,
    HouseholdMoveSerializer,
    HouseholdSerializer,
    HouseholdUpdateSerializer,
    IdentityLookupResultSerializer,
    IdentityLookupSerializer,
    PersonCreateSerializer,
    PersonDetailSerializer,
    PersonMoveSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
)

LOOKUP_FORBIDDEN = "只有县级管理员和村(社区)秘书长可以按完整身份证号码或电话查询人员。"


class PersonViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """人员:列表(证件号码、电话始终脱敏)、详情、新建、修改、移出家庭户、迁入其他家庭户、
    按身份证号码查询。"""

    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    pagination_class = HasNextPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.person_rows(actor=self.request.user)

    def get_object(self) -> Person:
        person = selectors.person_get(actor=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, person)
        return person

    def _detail(self, person: Person, *, status_code: int = status.HTTP_200_OK) -> Response:
        context = {"request": self.request, "detail": True}
        identity_reads.record_detail_read(
            actor=self.request.user,
            request=self.request,
            persons=[person],
            reason=IdentityRead.Reason.API_DETAIL,
        )
        return Response(PersonDetailSerializer(person, context=context).data, status=status_code)

    @extend_schema(responses={200: PersonDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        request=PersonCreateSerializer,
        responses={201: PersonDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = PersonCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        household = data.pop("household", None)
        village = data.pop("village", None) or (household.village if household else None)
        group = data.pop("group", None)
        person = services.person_create(
            actor=request.user, village=village, group=group, household=household, **data
        )
        return self._detail(person, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=PersonUpdateSerializer,
        responses={200: PersonDetailSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        person = self.get_object()
        payload = PersonUpdateSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        person = services.person_update(actor=request.user, person=person, **payload.validated_data)
        return self._detail(person)

    @extend_schema(
        request=None, responses={200: PersonDetailSerializer, **error_responses(403, 404)}
    )
    @action(detail=True, methods=["post"], url_path="remove-from-household")
    def remove_from_household(self, request, pk=None):
        """移出家庭户:此人仍登记在本村。"""
        person = services.person_remove_from_household(actor=request.user, person=self.get_object())
        return self._detail(person)

    @extend_schema(
        request=PersonMoveSerializer,
        responses={200: PersonDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """迁入本县的另一家庭户(可跨村,跨村时记录迁移)。"""
        person = self.get_object()
        payload = PersonMoveSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        person = services.person_move(actor=request.user, person=person, **payload.validated_data)
        return self._detail(person)

    @extend_schema(
        request=IdentityLookupSerializer,
        responses={200: IdentityLookupResultSerializer, **error_responses(400, 403, 429)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def lookup(self, request):
        """按完整身份证号码或电话查询(仅县级管理员、村(社区)秘书长;POST,号码不进网址)。
        每人每小时限 IDENTITY_LOOKUPS_PER_HOUR 次(超出 429),每次查询(无论是否找到)都记录在
        完整号码查看记录中。范围外的人与不存在的人一样不返回。"""
        if not masking.may_look_up_by_id_number(request.user):
            raise PermissionDenied(LOOKUP_FORBIDDEN)
        query = IdentityLookupSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        try:
            found = identity_reads.person_lookup(
                actor=request.user, text=query.validated_data["number"], request=request
            )
        except DjangoValidationError as error:
            detail = [ErrorDetail(message, code=error.code) for message in error.messages]
            raise ValidationError({"number": detail}) from error
        except identity_reads.LookupLimitReached as limit:
            return Response(
                {"error": {"code": identity_reads.LOOKUP_LIMIT_CODE, "message": str(limit)}},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        context = {"request": request, "detail": True}
        return Response({"results": PersonDetailSerializer(found, many=True, context=context).data})


class HouseholdViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """家庭户:列表、详情(含成员、困难家庭摸底、帮扶记录、迁移记录)、新建、修改、整户迁移、
    登记困难家庭摸底、登记帮扶。"""

    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    pagination_class = HasNextPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.household_rows(actor=self.request.user)

    def get_object(self):
        household = selectors.household_get(actor=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, household)
        return household

    def _detail(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        household = selectors.household_get(actor=self.request.user, pk=pk)
        return self._respond(household, status_code=status_code)

    def _respond(self, household, *, status_code: int = status.HTTP_200_OK) -> Response:
        context = {"request": self.request, "detail": True}
        data = HouseholdDetailSerializer(household, context=context).data
        identity_reads.record_detail_read(
            actor=self.request.user,
            request=self.request,
            persons=household.members.all(),
            reason=IdentityRead.Reason.API_DETAIL,
            extra=["household_phone"] if household.phone else (),
        )
        return Response(data, status=status_code)

    @extend_schema(responses={200: HouseholdDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(
        request=HouseholdCreateSerializer,
        responses={201: HouseholdDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = HouseholdCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        household = services.household_create(actor=request.user, **payload.validated_data)
        return self._detail(household.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=HouseholdUpdateSerializer,
        responses={200: HouseholdDetailSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        household = self.get_object()
        payload = HouseholdUpdateSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        services.household_update(actor=request.user, household=household, **payload.validated_data)
        return self._detail(household.pk)

    @extend_schema(
        request=HouseholdMoveSerializer,
        responses={200: HouseholdDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """整户迁往本县另一村(社区),成员随户迁移。"""
        household = self.get_object()
        payload = HouseholdMoveSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        services.household_move(actor=request.user, household=household, **payload.validated_data)
        return self._detail(household.pk)

    @extend_schema(
        request=HardshipInputSerializer,
        responses={200: HardshipSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def hardship(self, request, pk=None):
        """登记或更新该户某年度的计生困难家庭摸底(每户每年一条)。"""
        household = self.get_object()
        payload = HardshipInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entry = services.hardship_record(
            actor=request.user, household=household, **payload.validated_data
        )
        return Response(HardshipSerializer(entry).data)

    @extend_schema(
        request=AssistanceInputSerializer,
        responses={201: AssistanceSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def assistance(self, request, pk=None):
        """登记一条帮扶记录。"""
        household = self.get_object()
        payload = AssistanceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = services.assistance_add(
            actor=request.user, household=household, **payload.validated_data
        )
        return Response(AssistanceSerializer(record).data, status=status.HTTP_201_CREATED)


class FiguresViewSet(ScopedGenericViewSet):
    """人口计生统计数:某节点、某统计期,按下一级单位分行,含合计。"""

    schema = SingleObjectSchema()
    pagination_class = None
    serializer_class = FiguresTableSerializer

    @extend_schema(
        parameters=[FiguresQuerySerializer],
        filters=False,
        responses={200: FiguresTableSerializer, **error_responses(400, 404)},
    )
    def list(self, request):
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        node_id = query.validated_data.get("node") or request.user.node_id
        node = get_object_or_404(Association.objects.all(), pk=node_id)
        key = query.validated_data.get("period") or str(services.today().year)
        try:
            period = Period.parse(key)
        except DjangoValidationError as error:
            raise ValidationError({"period": error.messages}, code="bad_period") from error
        table = selectors.node_figures(node=node, period=period)
        return Response(FiguresTableSerializer(table).data)
