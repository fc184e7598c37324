from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import history, selectors, services
from ..filters import AssociationFilter
from ..models import Association, Council, CouncilSeat, User
from .base import ScopedGenericViewSet, error_responses
from .schema import SingleObjectSchema
from .serializers import (
    AssociationCreateSerializer,
    AssociationMoveSerializer,
    AssociationSerializer,
    AssociationUpdateSerializer,
    ChangeRecordSerializer,
    CouncilSeatSerializer,
    CouncilSerializer,
    MeSerializer,
    TreeNodeSerializer,
    TreeQuerySerializer,
)


class AssociationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """计生协组织树:列表、详情、新建、修改、区划调整、变更记录。"""

    serializer_class = AssociationSerializer
    filterset_class = AssociationFilter

    def get_queryset(self):
        return selectors.association_list(actor=self.request.user)

    @extend_schema(request=AssociationCreateSerializer, responses={201: AssociationSerializer})
    def create(self, request):
        payload = AssociationCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        node = services.association_create(actor=request.user, **payload.validated_data)
        return Response(AssociationSerializer(node).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssociationUpdateSerializer, responses=AssociationSerializer)
    def partial_update(self, request, pk=None):
        node = self.get_object()
        payload = AssociationUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        node = services.association_update(
            actor=request.user, association=node, **payload.validated_data
        )
        return Response(AssociationSerializer(node).data)

    @extend_schema(request=AssociationMoveSerializer, responses=AssociationSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        node = self.get_object()
        payload = AssociationMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        node = services.association_move(
            actor=request.user, association=node, **payload.validated_data
        )
        return Response(AssociationSerializer(node).data)

    @extend_schema(responses=ChangeRecordSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """该组织最近 200 条变更记录(新的在前),不分页。"""
        node = self.get_object()
        records = history.redacted(selectors.node_history(node=node, limit=200), request.user)
        return Response(ChangeRecordSerializer(records, many=True).data)

    @extend_schema(
        parameters=[TreeQuerySerializer],
        responses={200: TreeNodeSerializer, **error_responses(400, 404)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def tree(self, request):
        """本账号的组织及其下全部组织(或 ?root= 所指组织之下),逐级嵌套。"""
        query = TreeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        root_id = query.validated_data.get("root") or request.user.node_id
        root = get_object_or_404(Association.objects.all(), pk=root_id)
        nodes = selectors.whole_subtree(node=root)
        by_id = {
            n.pk: {
                "id": n.pk,
                "name": n.name,
                "level": n.level,
                "kind": n.kind,
                "division_code": n.division_code,
                "children": [],
            }
            for n in nodes
        }
        for n in nodes:
            if n.pk != root.pk and n.parent_id in by_id:
                by_id[n.parent_id]["children"].append(by_id[n.pk])
        return Response(by_id[root.pk])


class CouncilViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """理事会(届)及其成员,含“5-3-3”模式检查。"""

    serializer_class = CouncilSerializer
    filterset_fields = ["association"]

    def get_queryset(self):
        return (
            Council.objects.select_related("association")
            .prefetch_related("seats")
            .order_by("association", "-term_number")
        )

    def create(self, request):
        payload = CouncilSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        council = services.council_create(actor=request.user, **payload.validated_data)
        return Response(CouncilSerializer(council).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        council = self.get_object()
        payload = CouncilSerializer(council, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = {k: v for k, v in payload.validated_data.items() if k != "association"}
        council = services.council_update(actor=request.user, council=council, **data)
        return Response(CouncilSerializer(council).data)


class CouncilSeatViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    serializer_class = CouncilSeatSerializer
    filterset_fields = ["council"]

    def get_queryset(self):
        return CouncilSeat.objects.select_related("council__association")

    def create(self, request):
        payload = CouncilSeatSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        seat = services.council_seat_add(actor=request.user, **payload.validated_data)
        return Response(CouncilSeatSerializer(seat).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        seat = self.get_object()
        payload = CouncilSeatSerializer(seat, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = {k: v for k, v in payload.validated_data.items() if k != "council"}
        seat = services.council_seat_update(actor=request.user, seat=seat, **data)
        return Response(CouncilSeatSerializer(seat).data)

    def destroy(self, request, pk=None):
        services.council_seat_remove(actor=request.user, seat=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeViewSet(ScopedGenericViewSet):
    """当前账号:用户名、角色及所属组织。"""

    schema = SingleObjectSchema()
    serializer_class = MeSerializer
    pagination_class = None
    queryset = User.objects.none()  # one object, the caller: nothing to list or filter

    def list(self, request):
        return Response(MeSerializer(request.user).data)


from ..accounts.api import TokenView  # noqa: E402, F401  (hashed, expiring tokens: issue 12)
