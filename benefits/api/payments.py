"""The payments API (/api/v1/benefits/…): payees' bank accounts (numbers always masked: the
last four digits), disbursement batches and their lines (read), the endpoint a finance system
reports payment results to by reference, and the totals by village, township and county.

Reads go through payments_selectors in the caller's scope (a foreign object is a 404); writes
through the services, which check permissions (403) and validate (400 in the project's error
format, config.api, with stable codes)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.api.fields import ChoiceLabelField
from associations.permissions import require
from associations.selectors import association_get
from households import masking
from households.models import Person

from .. import payments_accounts, payments_returns, payments_selectors, payments_services
from .. import selectors as benefit_selectors
from ..models import BankAccount, Disbursement, DisbursementBatch
from ..payments_filters import BankAccountFilter, DisbursementBatchFilter, DisbursementFilter
from ..payments_rules import FAILED, PAID, method_label, parse_period
from ..payments_sheets import payee_id_number, payee_name
from ..permissions import can_pay

MAX_RESULTS = 5000


def _user(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


# --- bank accounts --------------------------------------------------------------------------------


class BankAccountSerializer(serializers.ModelSerializer):
    account_number = serializers.SerializerMethodField(help_text="始终脱敏,只显示末四位")
    person_name = serializers.SerializerMethodField()

    class Meta:
        model = BankAccount
        fields = [
            "id",
            "person",
            "person_name",
            "bank_name",
            "account_number",
            "is_active",
            "created_at",
            "county",
            "township",
            "village",
            "group",
        ]
        read_only_fields = fields

    def get_account_number(self, account) -> str:
        return masking.bank_account_for(_user(self), account.account_number)

    def get_person_name(self, account) -> str:
        return account.person.name


class BankAccountCreateSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), help_text="户名")
    bank_name = serializers.CharField(max_length=100)
    account_number = serializers.CharField(max_length=40, help_text="12 至 30 位数字")


class BankAccountViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """收款账户:列表、详情(账号始终脱敏)、登记、停用。"""

    serializer_class = BankAccountSerializer
    filterset_class = BankAccountFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return payments_selectors.account_list(actor=self.request.user)

    def get_object(self) -> BankAccount:
        return payments_selectors.account_get(actor=self.request.user, pk=self.kwargs["pk"])

    def _respond(self, account, status_code=status.HTTP_200_OK) -> Response:
        data = BankAccountSerializer(account, context={"request": self.request}).data
        return Response(data, status=status_code)

    @extend_schema(responses={200: BankAccountSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(
        request=BankAccountCreateSerializer,
        responses={201: BankAccountSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        """登记收款账户(村(社区)秘书长、乡镇专干、县级管理员,限本辖区人员)。"""
        payload = BankAccountCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        account = payments_accounts.bank_account_add(
            actor=request.user,
            person=data["person"],
            bank_name=data["bank_name"],
            account_number=data["account_number"],
        )
        return self._respond(account, status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={200: BankAccountSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """停用收款账户:以后的发放不再使用它。"""
        account = payments_accounts.bank_account_deactivate(
            actor=request.user, account=self.get_object()
        )
        return self._respond(account)


# --- batches and lines ----------------------------------------------------------------------------


class DisbursementBatchSerializer(serializers.ModelSerializer):
    program_name = serializers.SerializerMethodField()
    status_display = ChoiceLabelField(source="status")
    method_display = serializers.SerializerMethodField()
    line_count = serializers.IntegerField(read_only=True, help_text="已确认和已发放的明细数")
    total_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="已确认和已发放的金额合计"
    )

    class Meta:
        model = DisbursementBatch
        fields = [
            "id",
            "program",
            "program_name",
            "period",
            "status",
            "status_display",
            "created_at",
            "confirmed_at",
            "paid_on",
            "method",
            "method_display",
            "reference",
            "note",
            "line_count",
            "total_amount",
            "county",
            "township",
            "village",
            "group",
        ]
        read_only_fields = fields

    def get_program_name(self, batch) -> str:
        return batch.program.name

    def get_method_display(self, batch) -> str:
        return method_label(batch.method)


class DisbursementSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="扶助对象姓名(家庭户项目为户主)")
    id_number = serializers.SerializerMethodField(help_text="始终脱敏")
    bank_name = serializers.SerializerMethodField()
    account_number = serializers.SerializerMethodField(help_text="始终脱敏,只显示末四位")
    status_display = ChoiceLabelField(source="status")
    village_name = serializers.SerializerMethodField()

    class Meta:
        model = Disbursement
        fields = [
            "id",
            "batch",
            "program",
            "period",
            "enrollment",
            "person",
            "household",
            "name",
            "id_number",
            "amount",
            "bank_name",
            "account_number",
            "status",
            "status_display",
            "paid_on",
            "reference",
            "failure_reason",
            "reissue_of",
            "county",
            "township",
            "village",
            "village_name",
            "group",
        ]
        read_only_fields = fields

    def get_name(self, line) -> str:
        return payee_name(line)

    def get_id_number(self, line) -> str:
        return masking.id_number_for(_user(self), payee_id_number(line))

    def get_bank_name(self, line) -> str:
        return line.bank_account.bank_name if line.bank_account_id else ""

    def get_account_number(self, line) -> str:
        account = line.bank_account
        return masking.bank_account_for(_user(self), account.account_number) if account else ""

    def get_village_name(self, line) -> str:
        return line.village.name


class DisbursementBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """发放批次(只读):本账号范围内的批次,以及县、乡镇制表而覆盖本账号组织的批次;人数与金额
    只计已确认和已发放、且在本账号范围内的明细。"""

    serializer_class = DisbursementBatchSerializer
    filterset_class = DisbursementBatchFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation: no user
            return DisbursementBatch.objects.none()
        return payments_selectors.batch_list(actor=self.request.user)


class PaymentResultSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=60, help_text="业务参考号(代发文件中的)")
    status = serializers.ChoiceField(
        choices=[(PAID, "成功"), (FAILED, "失败")], help_text="paid:发放成功;failed:发放失败"
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    paid_on = serializers.DateField(required=False, allow_null=True, help_text="入账日期")


class PaymentReportSerializer(serializers.Serializer):
    results = PaymentResultSerializer(many=True, allow_empty=False, max_length=MAX_RESULTS)


class PaymentReportOutcomeSerializer(serializers.Serializer):
    paid = serializers.IntegerField(help_text="本次登记为已发放的条数")
    failed = serializers.IntegerField(help_text="本次登记为发放失败的条数")
    unchanged = serializers.IntegerField(help_text="与已登记结果一致、未作变化的条数")


class DisbursementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """发放明细(只读,身份证号与账号脱敏);财务系统按业务参考号报送发放结果。"""

    serializer_class = DisbursementSerializer
    filterset_class = DisbursementFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return payments_selectors.line_list(actor=self.request.user)

    @extend_schema(
        request=PaymentReportSerializer,
        responses={200: PaymentReportOutcomeSerializer, **error_responses(400, 403)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def report(self, request):
        """财务系统报送发放结果(县级管理员的令牌):按业务参考号登记成功或失败。幂等:与已登记
        结果一致的条目不作变化,重复报送不会重复登记。全部条目校验通过才登记;否则一条也不登记,
        error.fields 按“results.序号.reference”列出各条的错误代码:unknown_reference(本县没有
        该参考号)、line_not_live(明细未确认或已作废)、status_conflict(已标记失败的明细不能
        再报成功)、duplicate_reference(同一参考号结果不一致)、date_invalid(日期晚于今天)。"""
        require(can_pay(request.user), payments_services.NOT_ALLOWED)
        payload = PaymentReportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        results = [
            payments_returns.LineResult(
                reference=item["reference"].strip(),
                result=item["status"],
                reason=item.get("reason", "").strip(),
                paid_on=item.get("paid_on"),
                at=f"第 {index + 1} 项",
            )
            for index, item in enumerate(payload.validated_data["results"])
        ]
        try:
            outcome = payments_returns.results_apply(actor=request.user, results=results)
        except payments_returns.ResultsRefused as refused:
            fields: dict[str, dict] = {}
            for problem in refused.problems:
                fields.setdefault(str(problem.index), {}).setdefault("reference", []).append(
                    ErrorDetail(problem.message, problem.code)
                )
            raise ValidationError({"results": fields}) from None
        return Response(
            {"paid": outcome.paid, "failed": outcome.failed, "unchanged": outcome.unchanged}
        )


# --- totals ---------------------------------------------------------------------------------------


class TotalFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, source="node_id")
    name = serializers.CharField()
    due_count = serializers.IntegerField(help_text="应发人数(已确认和已发放)")
    due_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_count = serializers.IntegerField(help_text="已发放人数")
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class TownshipTotalsSerializer(TotalFiguresSerializer):
    villages = TotalFiguresSerializer(many=True)


class PaymentTotalsSerializer(serializers.Serializer):
    program = serializers.IntegerField(source="program.pk")
    program_name = serializers.CharField(source="program.name")
    period = serializers.CharField()
    townships = TownshipTotalsSerializer(many=True)
    total = TotalFiguresSerializer()


class TotalsQuerySerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    period = serializers.CharField(max_length=20)
    under = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


class PaymentTotalsViewSet(ScopedGenericViewSet):
    """发放统计:某项目某发放期按村(社区)、乡镇(街道)和合计的应发、已发人数与金额。"""

    serializer_class = PaymentTotalsSerializer
    pagination_class = None
    filterset_class = None

    def get_queryset(self):
        return Disbursement.objects.none()  # figures, not rows: for the schema's sake

    @extend_schema(
        parameters=[
            OpenApiParameter("program", int, required=True, description="扶助项目编号"),
            OpenApiParameter(
                "period", str, required=True, description="发放期:2026、2026-03 或 2026-03-15"
            ),
            OpenApiParameter("under", int, required=False, description="只统计某组织之下"),
        ],
        responses={200: PaymentTotalsSerializer, **error_responses(400, 404)},
    )
    def list(self, request):
        query = TotalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        program = benefit_selectors.program_get(actor=user, pk=query.validated_data["program"])
        node = None
        if "under" in query.validated_data:
            node = association_get(actor=user, pk=query.validated_data["under"])
        period = parse_period(program.frequency, query.validated_data["period"])
        totals = payments_selectors.payment_totals(
            actor=user, program=program, period=period.key, node=node
        )
        return Response(PaymentTotalsSerializer(totals).data)
