"""The funds and loans API (/api/v1/benefits/…): funds (every account of the county reads
them, with a loan fund's re-lending figures), ledger entries (the county's own accounts, like
the pages), loans of the caller's subtree with their schedule and repayments, a POST that
records a repayment and one that transfers money to another fund — both idempotent when the
caller sends `idempotency_key`: the same key sent again answers the first result (200)
instead of recording a second one — and a POST that voids a loan issued by mistake.

Reads go through benefits' selectors, writes through benefits.loan_services (PermissionDenied
→ 403, ValidationError → 400 in the project's error format); another county's or a sibling
village's object is a 404 before anything else."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.api.fields import ChoiceLabelField
from associations.permissions import require
from associations.scope import activate

from .. import fund_selectors, fund_transfers, loan_selectors, loan_services, permissions
from ..fund_filters import FundEntryFilter, LoanFilter
from ..fund_services import NOT_ALLOWED_ENTRIES
from ..models import Fund, FundEntry, Loan, Repayment
from ..selectors import county_scope

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


# --- serializers ----------------------------------------------------------------------------


class RelendingSerializer(serializers.Serializer):
    capital = serializers.DecimalField(help_text="本金来源:除贷款回收外的收入", **MONEY)
    lent = serializers.DecimalField(help_text="累计放款", **MONEY)
    loans = serializers.IntegerField(read_only=True, help_text="贷款笔数")
    households = serializers.IntegerField(read_only=True, help_text="扶持户数(不重复)")
    repaid = serializers.DecimalField(help_text="已收回", **MONEY)
    outstanding = serializers.DecimalField(help_text="未还本金", **MONEY)
    rounds = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="滚动次数 = 累计放款 ÷ 本金来源(一位小数);无本金来源时为 null",
    )


class FundSerializer(serializers.ModelSerializer):
    kind_display = ChoiceLabelField(source="kind")

    class Meta:
        model = Fund
        fields = ["id", "name", "kind", "kind_display", "donor", "balance", "created_at"]


class FundDetailSerializer(FundSerializer):
    income = serializers.DecimalField(help_text="收入合计", **MONEY)
    expense = serializers.DecimalField(help_text="支出合计", **MONEY)
    relending = RelendingSerializer(read_only=True, allow_null=True, help_text="贷款周转金才有")

    class Meta(FundSerializer.Meta):
        fields = [*FundSerializer.Meta.fields, "income", "expense", "relending"]


class FundEntrySerializer(serializers.ModelSerializer):
    direction_display = ChoiceLabelField(source="direction")
    source_display = ChoiceLabelField(source="source")
    reversed_by = serializers.SerializerMethodField(help_text="冲正它的记录编号;未冲正为 null")

    class Meta:
        model = FundEntry
        fields = [
            "id",
            "fund",
            "direction",
            "direction_display",
            "source",
            "source_display",
            "amount",
            "entry_date",
            "description",
            "donor",
            "loan",
            "repayment",
            "assistance",
            "disbursement",
            "batch",
            "reverses",
            "reversed_by",
            "counterpart",
            "balance_after",
            "recorded_at",
        ]

    def get_reversed_by(self, entry) -> int | None:
        reversal = fund_selectors.reversal_of(entry)
        return reversal.pk if reversal else None


class LoanSerializer(serializers.ModelSerializer):
    status_display = ChoiceLabelField(source="status")
    program_name = serializers.CharField(source="program.name", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    borrower_name = serializers.CharField(source="borrower.name", read_only=True)
    household_number = serializers.CharField(source="household.number", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True, default=None)
    repaid = serializers.DecimalField(help_text="已还(已冲正的还款不计)", **MONEY)
    outstanding = serializers.DecimalField(help_text="未还本金(已冲正的贷款为 0)", **MONEY)
    overdue_amount = serializers.DecimalField(help_text="截至今天的逾期金额", **MONEY)

    class Meta:
        model = Loan
        fields = [
            "id",
            "program",
            "program_name",
            "fund",
            "fund_name",
            "borrower",
            "borrower_name",
            "household",
            "household_number",
            "village",
            "village_name",
            "principal",
            "issued_on",
            "term_months",
            "purpose",
            "status",
            "status_display",
            "voided_on",
            "void_reason",
            "repaid",
            "outstanding",
            "overdue_amount",
        ]


class InstallmentRowSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    due_on = serializers.DateField(read_only=True)
    amount = serializers.DecimalField(**MONEY)
    cumulative = serializers.DecimalField(**MONEY)
    state = serializers.CharField(read_only=True, help_text="已还 / 部分已还 / 逾期 / 未到期")


class RepaymentSerializer(serializers.ModelSerializer):
    reversed = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = Repayment
        fields = ["id", "loan", "paid_on", "amount", "note", "recorded_at", "reversed"]


class LoanDetailSerializer(LoanSerializer):
    schedule = InstallmentRowSerializer(many=True, read_only=True)
    repayments = RepaymentSerializer(source="repayments_listed", many=True, read_only=True)

    class Meta(LoanSerializer.Meta):
        fields = [*LoanSerializer.Meta.fields, "schedule", "repayments"]


class RepaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), help_text="还款金额(元)"
    )
    paid_on = serializers.DateField(help_text="还款日期")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="幂等键(可选):同一账号以同一键再次提交时,返回第一次登记的还款,不重复登记",
    )


class RepaymentResultSerializer(serializers.Serializer):
    repayment = RepaymentSerializer(read_only=True)
    loan = LoanSerializer(read_only=True)
    replayed = serializers.BooleanField(read_only=True, help_text="是否为同一幂等键的重复提交")


class LoanVoidInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=100, help_text="冲正原因(必填)")
    voided_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="冲正日期,不填为今天"
    )


class LoanVoidResultSerializer(serializers.Serializer):
    loan = LoanSerializer(read_only=True)
    reversal = FundEntrySerializer(read_only=True, help_text="退回本金的冲正收入")


class TransferInputSerializer(serializers.Serializer):
    to_fund = serializers.PrimaryKeyRelatedField(
        queryset=Fund.objects.all(), help_text="划入基金(本县的另一个基金)"
    )
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), help_text="金额(元)"
    )
    entry_date = serializers.DateField(help_text="日期")
    description = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    idempotency_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="幂等键(可选):同一账号以同一键再次提交时,返回第一次的划拨,不重复划拨",
    )


class TransferResultSerializer(serializers.Serializer):
    expense = FundEntrySerializer(read_only=True, help_text="划出基金的支出")
    income = FundEntrySerializer(read_only=True, help_text="划入基金的收入")
    replayed = serializers.BooleanField(read_only=True, help_text="是否为同一幂等键的重复提交")


# --- viewsets -------------------------------------------------------------------------------


class FundViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """基金:本县的基金及余额(县内各级账号可查看);详情含收支合计,贷款周转金另含滚动使用情况;
    基金之间的划拨(县级管理员)。"""

    serializer_class = FundSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation
            return Fund.objects.none()
        # Funds sit at the county node: read under the county's scope of the caller.
        with activate(county_scope(self.request.user.county_id)):
            return Fund.objects.order_by("kind", "id")

    def _fund(self, pk) -> Fund:
        try:
            return self.get_queryset().get(pk=int(pk))
        except (Fund.DoesNotExist, ValueError, OverflowError):
            raise Http404 from None

    @extend_schema(responses={200: FundDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        fund = self._fund(pk)
        totals = fund_selectors.fund_totals(fund=fund)
        fund.income, fund.expense = totals.income, totals.expense
        fund.relending = None
        if fund.kind == Fund.Kind.LOAN:
            stats = loan_selectors.relending_stats(actor=request.user, funds=[fund])[0]
            fund.relending = stats
        return Response(FundDetailSerializer(fund).data)

    @extend_schema(
        request=TransferInputSerializer,
        responses={
            201: TransferResultSerializer,
            200: TransferResultSerializer,
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """基金划拨(县级管理员):从本基金划出一笔钱到本县的另一个基金,本基金记支出、划入基金记
        收入,两笔互相注明(counterpart)。余额不足、划给本基金或外县基金的不予划拨。带
        idempotency_key 时,同一键的重复提交返回第一次的结果(200)。冲正任一笔即冲正整笔划拨。"""
        fund = self._fund(pk)
        require(permissions.can_pay(request.user), NOT_ALLOWED_ENTRIES)
        payload = TransferInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        expense = fund_transfers.fund_transfer(
            actor=request.user,
            source=fund,
            target=data["to_fund"],
            amount=data["amount"],
            entry_date=data["entry_date"],
            description=data.get("description") or "",
            form_token=data.get("idempotency_key"),
        )
        replayed = bool(getattr(expense, "replayed", False))
        entries = {
            row.pk: row
            for row in fund_selectors.entry_rows(actor=request.user).filter(
                pk__in=[expense.pk, expense.counterpart_id]
            )
        }
        body = {
            "expense": FundEntrySerializer(entries[expense.pk]).data,
            "income": FundEntrySerializer(entries[expense.counterpart_id]).data,
            "replayed": replayed,
        }
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class FundEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """基金收支明细(县级账号):按基金、日期范围、收支方向、类别筛选;结余为该笔记账后的余额。"""

    serializer_class = FundEntrySerializer
    filterset_class = FundEntryFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return fund_selectors.entry_rows(actor=self.request.user)


class LoanViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """贷款:本账号范围内的贷款,含已还、未还本金和逾期金额;详情含还款计划和还款记录;
    登记还款、冲正发放有误的贷款(县级管理员)。"""

    serializer_class = LoanSerializer
    filterset_class = LoanFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation
            return Loan.objects.none()
        return loan_selectors.loan_rows(actor=self.request.user)

    def _loan(self, pk) -> Loan:
        return loan_selectors.loan_get(actor=self.request.user, pk=pk)

    @extend_schema(responses={200: LoanDetailSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        loan = self._loan(pk)
        loan.schedule = loan_selectors.schedule(loan=loan)
        loan.repayments_listed = loan_selectors.repayments_of(loan=loan)
        return Response(LoanDetailSerializer(loan).data)

    @extend_schema(
        request=RepaymentInputSerializer,
        responses={
            201: RepaymentResultSerializer,
            200: RepaymentResultSerializer,
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=True, methods=["post"])
    def repayments(self, request, pk=None):
        """登记一笔还款(县级管理员):计入贷款周转金收入;超过未还本金的不予登记,还清后贷款状态为已还清。
        带 idempotency_key 时,同一键的重复提交返回第一次的结果(200)。"""
        loan = self._loan(pk)
        payload = RepaymentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        repayment = loan_services.loan_repay(
            actor=request.user,
            loan=loan,
            amount=data["amount"],
            paid_on=data["paid_on"],
            note=data.get("note") or "",
            form_token=data.get("idempotency_key"),
        )
        replayed = bool(getattr(repayment, "replayed", False))
        body = {
            "repayment": RepaymentSerializer(repayment).data,
            "loan": LoanSerializer(self._loan(pk)).data,
            "replayed": replayed,
        }
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    @extend_schema(
        request=LoanVoidInputSerializer,
        responses={200: LoanVoidResultSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """冲正发放有误的贷款(县级管理员,须填原因):本金以冲正收入退回贷款周转金,贷款状态为
        已冲正,不再计入未还本金、逾期和滚动使用。已有未冲正的还款时不予冲正(错误代码
        live_repayments),须先逐笔冲正还款;已冲正的不能重复冲正(voided)。"""
        loan = self._loan(pk)
        require(permissions.can_pay(request.user), loan_services.NOT_ALLOWED)
        payload = LoanVoidInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        reversal = loan_services.loan_void(
            actor=request.user,
            loan=loan,
            reason=data["reason"],
            voided_on=data.get("voided_on"),
        )
        body = {
            "loan": LoanSerializer(self._loan(pk)).data,
            "reversal": FundEntrySerializer(reversal).data,
        }
        return Response(body)
