"""The enrolment workflow's API: enrolments (list and detail, in the caller's scope, ID numbers
masked), public notices (list, detail with the masked list, posting one), objections, and the
workflow's actions as POSTs:

    POST /api/v1/benefits/enrollments/{id}/objections/  登记异议 (during the notice)
    POST /api/v1/benefits/enrollments/{id}/review/      审核通过 (township staff, county admin)
    POST /api/v1/benefits/enrollments/{id}/return/      退回, with a reason
    POST /api/v1/benefits/enrollments/{id}/approve/     审批通过 (county admin)
    POST /api/v1/benefits/enrollments/{id}/exit/        退出 (county admin)
    POST /api/v1/benefits/notices/                      发布公示
    POST /api/v1/benefits/objections/{id}/resolve/      处理异议

Objects are found in the caller's scope first (another county's or a sibling village's: 404);
the services check permission (403) and the workflow (400 in the project's format, with the
service's stable code under fields.non_field_errors or under the field it concerns):

    wrong_status               the step does not apply to the enrolment's status
    notice_required            a noticed programme's application has not been posted yet
    notice_running             the notice period has not ended (review from the day after)
    objection_unresolved       an objection raised during the notice is not resolved
    already_resolved           the objection was resolved before
    not_in_notice              objections are recorded only while in notice
    objection_outside_period   raised_on outside the notice period
    notice_not_needed          the programme needs no notice (review straight from applied)
    notice_node_level          a notice is posted by a village or a township
    nothing_to_notice          no applied enrolment of the programme at the node
    not_postable               a listed enrolment is not applied, of the programme, at the node
    notice_before_application  starts_on before an application
    program_inactive           the programme is retired
    before_application / before_enrolment / future_date   dates out of order
    required / max_length      a reason, content or contact missing or too long"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.models import Association, Level
from households import masking
from households.api.pagination import HasNextPagination

from .. import notice_services, selectors, workflow_selectors, workflow_services
from ..models import Enrollment, EnrollmentEvent, Objection, PublicNotice
from ..workflow_filters import EnrollmentFilter, NoticeFilter

STATUS_HELP = "状态:applied 已申报、in_notice 公示中、reviewed 已审核、enrolled 在册、"
STATUS_HELP += "rejected 已退回、exited 已退出"
MAX_ID = 2**63 - 1

# --- reading ----------------------------------------------------------------------------------


class EnrollmentEventRecordSerializer(serializers.ModelSerializer):
    action = serializers.CharField(read_only=True, help_text="环节代码")
    action_display = serializers.CharField(source="get_action_display", read_only=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)

    class Meta:
        model = EnrollmentEvent
        fields = [
            "id",
            "action",
            "action_display",
            "actor_label",
            "at",
            "reason",
            "from_status",
            "to_status",
        ]


class BenefitObjectionSerializer(serializers.ModelSerializer):
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = Objection
        fields = [
            "id",
            "enrollment",
            "raised_on",
            "raised_by",
            "content",
            "upheld",
            "resolution",
            "resolved_by",
            "resolved_at",
        ]

    def get_resolved_by(self, obj) -> str | None:
        return obj.resolved_by.display_name if obj.resolved_by_id else None


class EnrollmentRecordSerializer(serializers.ModelSerializer):
    """An enrolment: the beneficiary's name and masked ID number, where, what, its state."""

    program_name = serializers.CharField(source="program.name", read_only=True)
    beneficiary_name = serializers.SerializerMethodField(help_text="扶助对象姓名(家庭户为户主)")
    id_number = serializers.SerializerMethodField(help_text="身份证号,始终脱敏")
    village_name = serializers.CharField(source="village.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    notice_ends_on = serializers.SerializerMethodField(help_text="公示截止日期")

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "program",
            "program_name",
            "person",
            "household",
            "beneficiary_name",
            "id_number",
            "county",
            "township",
            "village",
            "village_name",
            "group",
            "category",
            "amount",
            "status",
            "status_display",
            "applied_on",
            "notice",
            "notice_ends_on",
            "enrolled_on",
            "exited_on",
            "exit_reason",
            "return_reason",
        ]
        read_only_fields = fields

    def get_beneficiary_name(self, obj) -> str:
        return workflow_services.beneficiary_name(obj)

    def get_id_number(self, obj) -> str:
        user = self.context["request"].user
        return masking.id_number_for(user, workflow_selectors.beneficiary_id_number(obj))

    def get_notice_ends_on(self, obj) -> str | None:
        return obj.notice.ends_on.isoformat() if obj.notice_id else None


class EnrollmentRecordDetailSerializer(EnrollmentRecordSerializer):
    reasons = serializers.JSONField(read_only=True, help_text="符合条件(申报时评定)")
    events = EnrollmentEventRecordSerializer(many=True, read_only=True, help_text="办理记录")
    objections = BenefitObjectionSerializer(many=True, read_only=True, help_text="公示异议")
    review_blocker = serializers.SerializerMethodField(
        help_text="此时不能审核的原因(可以审核或不在审核环节时为 null)"
    )

    class Meta(EnrollmentRecordSerializer.Meta):
        fields = [
            *EnrollmentRecordSerializer.Meta.fields,
            "reasons",
            "events",
            "objections",
            "review_blocker",
        ]
        read_only_fields = fields

    def get_review_blocker(self, obj) -> str | None:
        if obj.status not in ("applied", "in_notice"):
            return None
        blocker = workflow_services.review_blocker(obj)
        return " ".join(blocker.messages) if blocker else None


class BenefitNoticeSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    node = serializers.SerializerMethodField(help_text="发布公示的村(社区)或乡镇(街道)")
    node_name = serializers.SerializerMethodField()
    enrollment_count = serializers.IntegerField(read_only=True, help_text="公示人数")

    class Meta:
        model = PublicNotice
        fields = [
            "id",
            "program",
            "program_name",
            "title",
            "node",
            "node_name",
            "starts_on",
            "ends_on",
            "objection_contact",
            "created_at",
            "enrollment_count",
        ]
        read_only_fields = fields

    def get_node(self, obj) -> int:
        return workflow_selectors.notice_node(obj).pk

    def get_node_name(self, obj) -> str:
        return workflow_selectors.notice_node(obj).name


class BenefitNoticeRowSerializer(serializers.Serializer):
    """One line of a notice, as it is posted: name and ID number masked for everyone."""

    number = serializers.IntegerField(help_text="序号")
    enrollment_id = serializers.IntegerField()
    name = serializers.CharField(help_text="姓名(部分隐藏)")
    id_number = serializers.CharField(help_text="身份证号(部分隐藏)")
    village = serializers.CharField()
    category = serializers.CharField(help_text="扶助类别")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    reasons = serializers.CharField(help_text="符合条件")
    status = serializers.CharField(help_text=STATUS_HELP)


class BenefitNoticeDetailSerializer(BenefitNoticeSerializer):
    rows = serializers.SerializerMethodField(help_text="公示名单")

    class Meta(BenefitNoticeSerializer.Meta):
        fields = [*BenefitNoticeSerializer.Meta.fields, "rows"]
        read_only_fields = fields

    @extend_schema_field(BenefitNoticeRowSerializer(many=True))
    def get_rows(self, obj) -> list:
        return BenefitNoticeRowSerializer(workflow_selectors.notice_rows(obj), many=True).data


# --- writing ------------------------------------------------------------------------------------


class ProgramReferenceField(serializers.IntegerField):
    """A programme of the caller's county (programmes sit at the county node)."""

    default_error_messages = {"does_not_exist": "本县没有这个扶助项目。"}

    def to_internal_value(self, data):
        pk = super().to_internal_value(data)
        if not 1 <= pk <= MAX_ID:
            self.fail("does_not_exist")
        try:
            return selectors.program_get(actor=self.context["request"].user, pk=pk)
        except Http404:
            self.fail("does_not_exist")


class NoticePublishSerializer(serializers.Serializer):
    program = ProgramReferenceField(help_text="扶助项目")
    node = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.filter(level__in=[Level.TOWNSHIP, Level.VILLAGE]),
        help_text="发布公示的村(社区)或乡镇(街道)",
    )
    enrollments = serializers.PrimaryKeyRelatedField(
        queryset=Enrollment.objects.all(),
        many=True,
        required=False,
        help_text="公示对象(已申报的扶助对象编号);不填则公示该单位该项目全部待公示的申报",
    )
    starts_on = serializers.DateField(required=False, help_text="公示开始日期,默认今天")
    objection_contact = serializers.CharField(max_length=200, help_text="异议受理单位及电话")


class ObjectionInputSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=500, help_text="异议内容")
    raised_by = serializers.CharField(
        max_length=50, required=False, allow_blank=True, help_text="提出人(可为村民姓名)"
    )
    raised_on = serializers.DateField(required=False, help_text="提出日期,默认今天")


class ObjectionResolveSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(help_text="异议是否成立;成立则申报退回")
    resolution = serializers.CharField(max_length=500, help_text="处理结果")


class OpinionSerializer(serializers.Serializer):
    opinion = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text="审核意见"
    )


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="退回原因(村(社区)可见)")


class ApproveInputSerializer(serializers.Serializer):
    enrolled_on = serializers.DateField(required=False, help_text="在册日期,默认今天")
    opinion = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text="审批意见"
    )


class ExitInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="退出原因")
    exited_on = serializers.DateField(required=False, help_text="退出日期,默认今天")


# --- viewsets ----------------------------------------------------------------------------------

ACTION_ERRORS = error_responses(400, 403, 404)
STEP_RESPONSES = {200: EnrollmentRecordDetailSerializer, **ACTION_ERRORS}


class EnrollmentViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """扶助对象(申报、公示、审核、审批、在册、退出):本账号范围内的记录,身份证号脱敏;
    以及流程操作。"""

    serializer_class = EnrollmentRecordSerializer
    filterset_class = EnrollmentFilter
    pagination_class = HasNextPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return workflow_selectors.enrollment_list(actor=self.request.user)

    def get_object(self):
        obj = workflow_selectors.enrollment_get(actor=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    def _detail(self, enrollment) -> Response:
        fresh = workflow_selectors.enrollment_get(actor=self.request.user, pk=enrollment.pk)
        context = self.get_serializer_context()
        return Response(EnrollmentRecordDetailSerializer(fresh, context=context).data)

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _step(self, service, serializer_class) -> Response:
        """Take a workflow step with the request's data; the enrolment as it is after it."""
        enrollment = self.get_object()
        service(actor=self.request.user, enrollment=enrollment, **self._payload(serializer_class))
        return self._detail(enrollment)

    @extend_schema(responses={200: EnrollmentRecordDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        request=ObjectionInputSerializer,
        responses={201: BenefitObjectionSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="objections", url_name="objections")
    def objections(self, request, pk=None):
        """登记公示期间收到的异议(村、乡镇工作人员和县级管理员)。"""
        enrollment = self.get_object()
        objection = notice_services.objection_record(
            actor=request.user, enrollment=enrollment, **self._payload(ObjectionInputSerializer)
        )
        return Response(BenefitObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OpinionSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """审核通过(乡镇工作人员、县级管理员):公示期满(截止日的次日起)且异议处理完毕,
        或项目无需公示。"""
        return self._step(workflow_services.enrollment_review, OpinionSerializer)

    @extend_schema(request=ReasonInputSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """退回,须填写原因:乡镇在审核环节退回,县级管理员在审批环节退回。"""
        return self._step(workflow_services.enrollment_return, ReasonInputSerializer)

    @extend_schema(request=ApproveInputSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """审批通过(县级管理员):已审核 → 在册。"""
        return self._step(workflow_services.enrollment_approve, ApproveInputSerializer)

    @extend_schema(request=ExitInputSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"], url_path="exit", url_name="exit")
    def exit_(self, request, pk=None):
        """退出(县级管理员):在册 → 已退出,须填写原因,记录保留。"""
        return self._step(workflow_services.enrollment_exit, ExitInputSerializer)


class BenefitNoticeViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """公示:本账号范围内的公示(村或乡镇发布),详情含公示名单(姓名、身份证号部分隐藏);
    发布公示。"""

    serializer_class = BenefitNoticeSerializer
    filterset_class = NoticeFilter
    pagination_class = HasNextPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return workflow_selectors.notice_list(actor=self.request.user)

    def _detail(self, notice, *, status_code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=notice.pk)
        return Response(BenefitNoticeDetailSerializer(fresh).data, status=status_code)

    @extend_schema(responses={200: BenefitNoticeDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        notice = workflow_selectors.notice_get(actor=request.user, pk=pk)
        return self._detail(notice)

    @extend_schema(
        request=NoticePublishSerializer,
        responses={201: BenefitNoticeDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """发布公示:公示期自开始日期起按项目的公示天数计算;所列申报转为“公示中”。"""
        payload = NoticePublishSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        notice = notice_services.notice_publish(actor=request.user, **payload.validated_data)
        return self._detail(notice, status_code=status.HTTP_201_CREATED)


class BenefitObjectionViewSet(ScopedGenericViewSet):
    """公示异议:读取一条异议,处理异议(乡镇工作人员、县级管理员)。"""

    serializer_class = BenefitObjectionSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Objection.objects.select_related("resolved_by")

    @extend_schema(responses={200: BenefitObjectionSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return Response(BenefitObjectionSerializer(self.get_object()).data)

    @extend_schema(
        request=ObjectionResolveSerializer,
        responses={200: BenefitObjectionSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """处理异议:成立则申报退回(原因即处理结果),不成立则继续办理。"""
        objection = self.get_object()
        payload = ObjectionResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        objection = notice_services.objection_resolve(
            actor=request.user, objection=objection, **payload.validated_data
        )
        fresh = self.get_queryset().get(pk=objection.pk)
        return Response(BenefitObjectionSerializer(fresh).data)
