"""The programmes, candidates and re-confirmation API (/api/v1/benefits/…), over the same
selectors, services and judgements as the pages:

- programmes: everyone lists the county's programmes; a programme's own record, creating and
  changing one are the county's (rows at the county node: 404 below the county, like the
  assessment periods; the services refuse non-admins with 403);
- candidates: a programme's candidates under a node of the caller's subtree, judged, with the
  application (申报) as a POST;
- re-confirmations: read.
A service's ValidationError is a 400 in the project's format, PermissionDenied a 403."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from associations.api.base import ScopedGenericViewSet, error_responses
from associations.models import Association
from households import masking
from households.api.pagination import HasNextPagination
from households.categories import Category, category_labels
from households.models import Household, Person

from .. import program_services, selectors
from ..apply_services import enrollment_apply
from ..candidates import Evaluation, Show
from ..eligibility import describe_stored
from ..models import (
    BeneficiaryKind,
    Enrollment,
    Frequency,
    Fund,
    Program,
    ProgramKind,
    ProgramTemplate,
    Reconfirmation,
)
from ..programs_filters import ReconfirmationFilter

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}
CATEGORY_LABELS = dict(Category.choices)


# --- programmes ----------------------------------------------------------------------------


class RateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, label="家庭类别")
    category_display = serializers.SerializerMethodField()
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, label="名称")
    amount = serializers.DecimalField(min_value=0, label="标准金额(元)", **MONEY)

    def get_category_display(self, rate) -> str:
        category = rate["category"] if isinstance(rate, dict) else rate.category
        return CATEGORY_LABELS.get(category, category)


class SplitSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=50, label="出资方")
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, label="比例(%)", coerce_to_string=False
    )


class ProgramSerializer(serializers.ModelSerializer):
    template_display = serializers.CharField(source="get_template_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    frequency_display = serializers.CharField(source="get_frequency_display", read_only=True)
    beneficiary_kind_display = serializers.CharField(
        source="get_beneficiary_kind_display", read_only=True
    )
    standard_amount = serializers.DecimalField(read_only=True, **MONEY)
    funding_split = SplitSerializer(many=True, read_only=True)
    rule = serializers.DictField(read_only=True, help_text="资格条件(见 rule_description)")
    rule_description = serializers.SerializerMethodField()
    rates = serializers.SerializerMethodField()

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "template",
            "template_display",
            "kind",
            "kind_display",
            "frequency",
            "frequency_display",
            "beneficiary_kind",
            "beneficiary_kind_display",
            "standard_amount",
            "rates",
            "funding_source",
            "funding_split",
            "needs_notice",
            "notice_days",
            "rule",
            "rule_description",
            "fund",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_rule_description(self, program) -> list[str]:
        return describe_stored(program.rule)

    @extend_schema_field(RateSerializer(many=True))
    def get_rates(self, program):
        return RateSerializer(program.rates.all(), many=True).data


class ProgramWriteSerializer(serializers.Serializer):
    """The editable fields (a PATCH sends some). ``rates`` replaces the programme's rates;
    ``rule`` is the eligibility rule (benefits.eligibility; errors under "rule.<key>")."""

    name = serializers.CharField(max_length=100, label="项目名称")
    template = serializers.ChoiceField(choices=ProgramTemplate.choices, required=False)
    kind = serializers.ChoiceField(choices=ProgramKind.choices, label="项目类型")
    frequency = serializers.ChoiceField(choices=Frequency.choices, label="发放周期")
    beneficiary_kind = serializers.ChoiceField(choices=BeneficiaryKind.choices, required=False)
    standard_amount = serializers.DecimalField(min_value=0, label="标准金额(元)", **MONEY)
    funding_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    funding_split = SplitSerializer(many=True, required=False)
    needs_notice = serializers.BooleanField(required=False)
    notice_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    rule = serializers.DictField(required=False, label="资格条件")
    fund = serializers.PrimaryKeyRelatedField(
        queryset=Fund.objects.all(), required=False, allow_null=True, label="支出基金"
    )
    is_active = serializers.BooleanField(required=False)
    rates = RateSerializer(many=True, required=False, label="分类标准")

    def service_fields(self) -> tuple[dict, list | None]:
        data = dict(self.validated_data)
        rates = data.pop("rates", None)
        if "funding_split" in data:
            data["funding_split"] = [dict(row) for row in data["funding_split"]]
        if rates is not None:
            rates = [dict(row) for row in rates]
        return data, rates


class ProgramViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """扶助项目:本县的项目(各级账号可读);单个项目、新建和修改为县级账号(县级管理员可写)。"""

    serializer_class = ProgramSerializer
    lookup_value_regex = r"\d+"
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation
            return Program.objects.none()
        if self.action == "list":
            return selectors.program_list(actor=self.request.user)
        # A programme's own record: the county's (sits at the county node, like its periods).
        return Program.objects.prefetch_related("rates").select_related("fund").order_by("id")

    def get_object(self) -> Program:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(responses={200: ProgramSerializer, **error_responses(404)})
    def retrieve(self, request, pk=None):
        return Response(ProgramSerializer(self.get_object()).data)

    def _detail(self, program, code=status.HTTP_200_OK) -> Response:
        return Response(ProgramSerializer(selectors.program_get(actor=self.request.user,
                        pk=program.pk)).data, status=code)  # fmt: skip

    @extend_schema(
        request=ProgramWriteSerializer,
        responses={201: ProgramSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        payload = ProgramWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields, rates = payload.service_fields()
        program = program_services.program_create(actor=request.user, rates=rates, **fields)
        return self._detail(program, status.HTTP_201_CREATED)

    @extend_schema(
        request=ProgramWriteSerializer,
        responses={200: ProgramSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        program = self.get_object()
        payload = ProgramWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        fields, rates = payload.service_fields()
        program = program_services.program_update(
            actor=request.user, program=program, rates=rates, **fields
        )
        return self._detail(program)


# --- candidates and the application ----------------------------------------------------------


class CandidateQuerySerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1, help_text="扶助项目 id")
    node = serializers.IntegerField(
        min_value=1, required=False, help_text="组织节点 id,默认为本账号的节点"
    )
    year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text="年度,默认为今年"
    )
    show = serializers.ChoiceField(
        choices=Show.CHOICES,
        required=False,
        help_text="applicable 符合条件可申报(默认)、excluded 不符合、"
        "enrolled 已申报或在册、all 全部",
    )
    village = serializers.IntegerField(min_value=1, required=False, help_text="只看某村(社区)")


class CandidateSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="申报时使用:人员 id,按户扶助的项目为家庭户 id")
    person = serializers.IntegerField(allow_null=True, help_text="人员(按户扶助:户主)")
    household = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="始终脱敏")
    age = serializers.IntegerField(allow_null=True, help_text="今天的周岁")
    village = serializers.IntegerField()
    village_name = serializers.CharField()
    household_number = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    categories_display = serializers.ListField(child=serializers.CharField())
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="符合的条件")
    exclusions = serializers.ListField(child=serializers.CharField(), help_text="不符合的原因")
    category = serializers.CharField(help_text="适用的分类标准(空为标准金额)")
    live_status = serializers.CharField(help_text="已有的申报或在册状态,空为没有")
    live_enrollment = serializers.IntegerField(allow_null=True)


def candidate_data(user, candidate, today) -> dict:
    facts, decision = candidate.facts, candidate.decision
    return {
        "key": candidate.key,
        "person": facts.person_id,
        "household": facts.household_id,
        "name": candidate.name,
        "id_number": masking.id_number_for(user, candidate.id_number),
        "age": masking.age_for(facts.birth_date, today),
        "village": facts.village_id,
        "village_name": facts.village_name,
        "household_number": facts.household_number,
        "categories": list(facts.categories),
        "categories_display": category_labels(facts.categories),
        "eligible": decision.eligible,
        "reasons": decision.reasons,
        "exclusions": decision.exclusions,
        "category": decision.category,
        "live_status": candidate.live_status,
        "live_enrollment": candidate.live_id,
    }


class ApplySerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1, label="扶助项目")
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, allow_null=True, label="人员"
    )
    household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.all(), required=False, allow_null=True, label="家庭户"
    )
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, allow_blank=True, label="扶助类别"
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class EnrollmentSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(read_only=True, **MONEY)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    facts = serializers.DictField(read_only=True)
    rule = serializers.DictField(read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "program",
            "person",
            "household",
            "category",
            "amount",
            "status",
            "status_display",
            "reasons",
            "facts",
            "rule",
            "applied_on",
            "village",
            "group",
        ]
        read_only_fields = fields


class CandidatePagination(HasNextPagination):
    def paginate_rows(self, fetch, request) -> list:
        """``fetch(offset, limit)``: the page's rows (one more tells a next page)."""
        self.request = request
        self.page_size_used = self.get_page_size(request)
        self.page_number = self.get_page_number(request)
        rows = fetch((self.page_number - 1) * self.page_size_used, self.page_size_used + 1)
        self.has_next = len(rows) > self.page_size_used
        return rows[: self.page_size_used]


def _program(actor, pk) -> Program:
    try:
        return selectors.program_get(actor=actor, pk=pk)
    except Http404:
        raise ValidationError(
            {"program": [serializers.ErrorDetail("没有这个扶助项目。", code="does_not_exist")]}
        ) from None


class CandidateViewSet(ScopedGenericViewSet):
    """候选对象:某项目在本账号范围内某节点下的候选对象及资格审核结论;申报(POST apply)。"""

    serializer_class = CandidateSerializer
    pagination_class = CandidatePagination
    filterset_class = None

    def get_queryset(self):
        return Person.objects.none()  # the list judges through benefits.candidates

    @extend_schema(
        parameters=[CandidateQuerySerializer],
        filters=False,
        responses={200: CandidateSerializer(many=True), **error_responses(400, 404)},
    )
    def list(self, request):
        query = CandidateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        program = selectors.program_get(actor=request.user, pk=data["program"])
        node = get_object_or_404(
            Association.objects.all(), pk=data.get("node") or request.user.node_id
        )
        today = timezone.localdate()
        evaluation = Evaluation(
            program=program, node=node, year=data.get("year") or today.year, today=today
        )
        show, village = data.get("show") or Show.APPLICABLE, data.get("village")
        rows = self.paginator.paginate_rows(
            lambda offset, limit: evaluation.page(
                show=show, village=village, offset=offset, limit=limit
            ),
            request,
        )
        return self.paginator.get_paginated_response(
            [candidate_data(request.user, row, today) for row in rows]
        )

    @extend_schema(
        request=ApplySerializer,
        responses={201: EnrollmentSerializer, **error_responses(400, 403)},
        filters=False,
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def apply(self, request):
        """申报:为一名人员(按户扶助的项目为一户)申报;重新审核资格,不符合或已有申报时 400。"""
        payload = ApplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        enrollment = enrollment_apply(
            actor=request.user,
            program=_program(request.user, data["program"]),
            person=data.get("person"),
            household=data.get("household"),
            category=data.get("category") or None,
            note=data.get("note", ""),
            year=data.get("year"),
        )
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


# --- re-confirmations --------------------------------------------------------------------------


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="died 死亡、moved_out 迁出、moved 迁移、rule 不再符合条件"
    )
    text = serializers.CharField()


class ReconfirmationSerializer(serializers.ModelSerializer):
    program = serializers.IntegerField(source="enrollment.program_id", read_only=True)
    person = serializers.IntegerField(
        source="enrollment.person_id", read_only=True, allow_null=True
    )
    household = serializers.IntegerField(source="enrollment.household_id", read_only=True)
    name = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField(help_text="始终脱敏")
    flags = FlagSerializer(many=True, read_only=True)
    decision_display = serializers.CharField(source="get_decision_display", read_only=True)
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Reconfirmation
        fields = [
            "id",
            "enrollment",
            "program",
            "person",
            "household",
            "name",
            "id_number",
            "year",
            "flags",
            "decision",
            "decision_display",
            "reason",
            "decided_by",
            "decided_at",
            "village",
        ]
        read_only_fields = fields

    def get_name(self, row) -> str:
        enrollment = row.enrollment
        return (
            enrollment.person.name if enrollment.person_id else f"{enrollment.household.number}户"
        )

    def get_id_number(self, row) -> str:
        person = row.enrollment.person if row.enrollment.person_id else None
        return masking.id_number_for(self.context["request"].user, person and person.id_number)

    def get_decided_by(self, row) -> str | None:
        return row.decided_by.get_username() if row.decided_by_id else None


class ReconfirmationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """年度资格确认:本账号范围内的确认记录(只读;确认和退出在页面上由县级管理员办理)。"""

    serializer_class = ReconfirmationSerializer
    filterset_class = ReconfirmationFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Reconfirmation.objects.select_related(
            "enrollment__person", "enrollment__household", "decided_by"
        ).order_by("-year", "village_id", "id")
