"""Viewsets of the members API, over the app's selectors, services and FilterSet.

Reads go through members.selectors or the scoped managers; writes through members.services,
which check the actor's permission (PermissionDenied → 403) and validate (Django
ValidationError → 400 in the project's error format, config.api). Objects are looked up in the
request's scope first, so another county's or a sibling village's object is a 404 before any
permission check, and referencing one in a payload is `does_not_exist`."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from households import identity_reads
from households.api.pagination import HasNextPagination
from households.models import IdentityRead

from .. import selectors, services
from ..filters import MemberFilter
from ..models import Commendation, ContactHousehold, GroupRole, Pairing, VolunteerTeam
from .serializers import (
    CommendationCreateSerializer,
    CommendationSerializer,
    ContactHouseholdCreateSerializer,
    ContactHouseholdSerializer,
    EndSerializer,
    GroupRoleCreateSerializer,
    GroupRoleSerializer,
    MemberCreateSerializer,
    MemberDetailSerializer,
    MemberLeaveSerializer,
    MemberListSerializer,
    MemberUpdateSerializer,
    PairingCreateSerializer,
    PairingSerializer,
    VolunteerJoinSerializer,
    VolunteerMembershipSerializer,
    VolunteerTeamCreateSerializer,
    VolunteerTeamSerializer,
)


class ScopedObjectMixin:
    """`get_object` straight from the scoped queryset (the list filters do not apply to a
    detail lookup): out of scope is 404."""

    lookup_value_regex = r"\d+"

    def get_object(self):
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj


# --- members ---------------------------------------------------------------------------------


class MemberViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """会员:列表(身份证号始终脱敏,不计总数的分页)、详情、入会、修改、退会。"""

    serializer_class = MemberListSerializer
    filterset_class = MemberFilter
    pagination_class = HasNextPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.member_list(actor=self.request.user)

    def get_object(self):
        member = selectors.member_get(actor=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, member)
        return member

    def _detail(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        member = selectors.member_get(actor=self.request.user, pk=pk)
        return self._respond(member, status_code=status_code)

    def _respond(self, member, *, status_code: int = status.HTTP_200_OK) -> Response:
        context = {"request": self.request, "detail": True}
        data = MemberDetailSerializer(member, context=context).data
        identity_reads.record_detail_read(
            actor=self.request.user,
            request=self.request,
            persons=[member.person],
            reason=IdentityRead.Reason.API_DETAIL,
        )
        return Response(data, status=status_code)

    @extend_schema(responses={200: MemberDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(
        request=MemberCreateSerializer,
        responses={201: MemberDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """入会:一人在本县只能有一个有效会籍(`already_member_elsewhere`)。"""
        payload = MemberCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        member = services.member_register(actor=request.user, **payload.validated_data)
        return self._detail(member.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=MemberUpdateSerializer,
        responses={200: MemberDetailSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        member = self.get_object()
        payload = MemberUpdateSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        services.member_update(actor=request.user, member=member, **payload.validated_data)
        return self._detail(member.pk)

    @extend_schema(
        request=MemberLeaveSerializer,
        responses={200: MemberDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        """退会:会籍记录保留,现任小组职务和结对帮扶同日结束。"""
        member = self.get_object()
        payload = MemberLeaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.member_leave(
            actor=request.user,
            member=member,
            left_on=payload.validated_data.get("left_on") or services.today(),
            reason=payload.validated_data["leave_reason"],
        )
        return self._detail(member.pk)


# --- group roles -----------------------------------------------------------------------------


class GroupRoleViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """会员小组职务(小组长、联系户长):列表(?group=)、任命、卸任。"""

    serializer_class = GroupRoleSerializer
    filterset_fields = ["group", "member", "role"]

    def get_queryset(self):
        return GroupRole.objects.select_related("member__person").order_by(
            "group_id", "role", "-starts_on", "id"
        )

    @extend_schema(
        request=GroupRoleCreateSerializer,
        responses={201: GroupRoleSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """任命:新小组长接替现任;每组最多 3 名联系户长(`too_many_contact_heads`)。"""
        payload = GroupRoleCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        assignment = services.group_role_assign(actor=request.user, **payload.validated_data)
        return Response(GroupRoleSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EndSerializer,
        responses={200: GroupRoleSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """卸任。"""
        assignment = self.get_object()
        payload = EndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = services.group_role_end(
            actor=request.user, assignment=assignment, ends_on=payload.validated_data.get("ends_on")
        )
        return Response(GroupRoleSerializer(assignment).data)


# --- contact households and pairings -----------------------------------------------------------


class ContactHouseholdViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """会员联系户:列表(?member=、?household=)、添加、移除。"""

    serializer_class = ContactHouseholdSerializer
    filterset_fields = ["member", "household"]

    def get_queryset(self):
        return ContactHousehold.objects.select_related("household__head").order_by(
            "member_id", "household__number", "id"
        )

    @extend_schema(
        request=ContactHouseholdCreateSerializer,
        responses={201: ContactHouseholdSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = ContactHouseholdCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        link = services.contact_household_add(actor=request.user, **payload.validated_data)
        return Response(ContactHouseholdSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, pk=None):
        services.contact_household_remove(actor=request.user, link=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PairingViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """结对帮扶("一帮一"):列表(?member=、?household=)、结对、结束。"""

    serializer_class = PairingSerializer
    filterset_fields = ["member", "household"]

    def get_queryset(self):
        return Pairing.objects.select_related("household").order_by("-starts_on", "-id")

    @extend_schema(
        request=PairingCreateSerializer,
        responses={201: PairingSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """只能与本年度计生困难家庭名册中的户结对(`not_hardship`)。"""
        payload = PairingCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        pairing = services.pairing_start(actor=request.user, **payload.validated_data)
        return Response(PairingSerializer(pairing).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EndSerializer, responses={200: PairingSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        pairing = self.get_object()
        payload = EndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pairing = services.pairing_end(
            actor=request.user, pairing=pairing, ends_on=payload.validated_data.get("ends_on")
        )
        return Response(PairingSerializer(pairing).data)


# --- commendations and volunteer teams ---------------------------------------------------------


class CommendationViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """表彰:优秀会员、五好会员、优秀协会干部(须指定会员)、先进会员小组(须指定小组)。"""

    serializer_class = CommendationSerializer
    filterset_fields = ["member", "group", "year", "kind", "award_level"]

    def get_queryset(self):
        return Commendation.objects.order_by("-year", "kind", "id")

    @extend_schema(
        request=CommendationCreateSerializer,
        responses={201: CommendationSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = CommendationCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        commendation = services.commendation_add(actor=request.user, **payload.validated_data)
        return Response(CommendationSerializer(commendation).data, status=status.HTTP_201_CREATED)


class VolunteerTeamViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """志愿者服务队及分队:列表(含人数)、新建、添加成员。"""

    serializer_class = VolunteerTeamSerializer
    filterset_fields = ["service", "parent"]

    def get_queryset(self):
        return VolunteerTeam.objects.annotate(size=Count("memberships")).order_by(
            "parent_id", "name", "id"
        )

    @extend_schema(
        request=VolunteerTeamCreateSerializer,
        responses={201: VolunteerTeamSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = VolunteerTeamCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data.setdefault("service", VolunteerTeam.Service.GENERAL)
        team = services.volunteer_team_create(actor=request.user, **data)
        team.size = 0
        return Response(VolunteerTeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=VolunteerJoinSerializer,
        responses={201: VolunteerMembershipSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        """会员加入服务队(自动归入“志愿者”类别)。"""
        team = get_object_or_404(
            VolunteerTeam.objects.select_related("county", "township", "village", "group"),
            pk=pk,
        )
        payload = VolunteerJoinSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        link = services.volunteer_join(actor=request.user, team=team, **payload.validated_data)
        return Response(VolunteerMembershipSerializer(link).data, status=status.HTTP_201_CREATED)
