"""Care subsidies (利益导向 / 生育关怀): programmes, enrolments and their workflow with public
notice, disbursement batches whose lines never pay a beneficiary twice, loans that are re-lent
as they are repaid, and funds kept as an append-only ledger that never goes below zero.

The database keeps the money rules, not only the services:
- a second live payment line for the same beneficiary, programme and period is refused by a
  partial unique index (failed and cancelled lines do not count, so a failed payment can be
  re-issued);
- a fund's balance is kept by a trigger on its ledger and a CHECK refuses a negative one, so two
  expenses racing cannot overdraw it; ledger entries refuse UPDATE and DELETE (migration 0002).

Programmes and funds sit at the county node; enrolments, notices, lines and loans sit at the
beneficiary's village (and group), so village and township staff see their own subtree."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from associations.encrypted_fields import BlindIndexField, EncryptedCharField
from associations.models import ScopedModel
from associations.scope import ScopedManager
from households.identity import mask_bank_account

MONEY = {"max_digits": 12, "decimal_places": 2}
POSITIVE = [MinValueValidator(Decimal("0.01"))]


class ProgramTemplate(models.TextChoices):
    """National programmes a county configures from (DOMAIN.md §4, seeds 001 and 004)."""

    REWARD_ASSISTANCE = "reward_assistance", "农村部分计划生育家庭奖励扶助"
    SPECIAL_ASSISTANCE = "special_assistance", "计划生育家庭特别扶助"
    ONLY_CHILD_REWARD = "only_child_reward", "独生子女父母奖励金"
    ACCIDENT_INSURANCE = "accident_insurance", "计生家庭意外伤害保险"
    GOLDEN_AUTUMN = "golden_autumn", "金秋助学"
    GIRL_SCHOOL_AID = "girl_school_aid", "关爱女孩助学"
    HAPPINESS_PROJECT = "happiness_project", "幸福工程"
    FEWER_BIRTHS_LOAN = "fewer_births_loan", "少生快富"
    HOLIDAY_VISIT = "holiday_visit", "特殊家庭节日慰问"
    OTHER = "other", "其他项目"


class ProgramKind(models.TextChoices):
    ALLOWANCE = "allowance", "定期补助"
    GRANT = "grant", "一次性补助"
    INSURANCE = "insurance", "保险"
    LOAN = "loan", "贷款"
    IN_KIND = "in_kind", "实物"


class Frequency(models.TextChoices):
    YEARLY = "yearly", "按年"
    MONTHLY = "monthly", "按月"
    ONE_OFF = "one_off", "一次性"


class BeneficiaryKind(models.TextChoices):
    PERSON = "person", "个人"
    HOUSEHOLD = "household", "家庭户"


class Program(ScopedModel):
    """A programme a county runs (项目). Its amounts are ``standard_amount`` unless a rate of the
    beneficiary's category says otherwise (特别扶助: 伤残 vs 死亡; benefits.candidates.rates_of)."""

    name = models.CharField("项目名称", max_length=100)
    template = models.CharField(
        "项目模板", max_length=24, choices=ProgramTemplate.choices, default=ProgramTemplate.OTHER
    )
    kind = models.CharField("项目类型", max_length=12, choices=ProgramKind.choices)
    frequency = models.CharField("发放周期", max_length=10, choices=Frequency.choices)
    beneficiary_kind = models.CharField(
        "扶助对象", max_length=10, choices=BeneficiaryKind.choices, default=BeneficiaryKind.PERSON
    )
    standard_amount = models.DecimalField(
        "标准金额(元)", **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    funding_source = models.CharField("资金来源", max_length=100, blank=True)
    # [{"source": "中央财政", "percent": 80}, ...]; shares add up to 100 (forms check it).
    funding_split = models.JSONField("资金分担", default=list, blank=True)
    needs_notice = models.BooleanField("审批前须公示", default=True)
    notice_days = models.PositiveSmallIntegerField(
        "公示天数", default=7, validators=[MinValueValidator(1)]
    )
    # The eligibility rule in the language of benefits.eligibility; stored with every decision.
    rule = models.JSONField("资格条件", default=dict, blank=True)
    fund = models.ForeignKey(
        "benefits.Fund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programs",
        verbose_name="支出基金",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "扶助项目"
        verbose_name_plural = "扶助项目"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "name"], name="program_name_unique_in_county"
            ),
            models.CheckConstraint(
                condition=Q(standard_amount__gte=0), name="program_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramRate(ScopedModel):
    """A programme's amount for one category of beneficiary (特别扶助: 伤残 / 死亡)."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="rates", verbose_name="项目"
    )
    category = models.CharField("类别代码", max_length=30)
    label = models.CharField("类别", max_length=50)
    amount = models.DecimalField("标准金额(元)", **MONEY, validators=[MinValueValidator(0)])

    objects = ScopedManager()

    class Meta:
        verbose_name = "分类标准"
        verbose_name_plural = "分类标准"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "program", "category"], name="program_rate_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="program_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"


class EnrollmentStatus(models.TextChoices):
    APPLIED = "applied", "已申报"
    IN_NOTICE = "in_notice", "公示中"
    REVIEWED = "reviewed", "已审核"
    ENROLLED = "enrolled", "在册"
    REJECTED = "rejected", "已退回"
    EXITED = "exited", "已退出"


# An enrolment that still holds its beneficiary's place in the programme.
LIVE_ENROLLMENT = ("applied", "in_notice", "reviewed", "enrolled")


class Enrollment(ScopedModel):
    """A beneficiary's place in a programme, from the village's application (申报) through the
    public notice, the township's review (审核) and the county's approval (审批) to enrolment
    (在册) and, one day, exit (退出). Sits at the beneficiary's village and group."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="enrollments", verbose_name="项目"
    )
    person = models.ForeignKey(
        "households.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name="扶助对象",
    )
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name="家庭户",
    )
    category = models.CharField("扶助类别", max_length=30, blank=True)
    amount = models.DecimalField("标准金额(元)", **MONEY, validators=[MinValueValidator(0)])
    status = models.CharField(
        "状态", max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.APPLIED
    )
    # Why the beneficiary qualifies, as evaluated when applying, and the rule it was judged by.
    reasons = models.JSONField("符合条件", default=list, blank=True)
    facts = models.JSONField("登记情况", default=dict, blank=True)
    rule = models.JSONField("资格条件", default=dict, blank=True)
    notice = models.ForeignKey(
        "benefits.PublicNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name="公示",
    )
    bank_account = models.ForeignKey(
        "benefits.BankAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name="收款账户",
    )
    applied_on = models.DateField("申报日期", default=timezone.localdate)
    enrolled_on = models.DateField("在册日期", null=True, blank=True)
    exited_on = models.DateField("退出日期", null=True, blank=True)
    exit_reason = models.CharField("退出原因", max_length=200, blank=True)
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "扶助对象"
        verbose_name_plural = "扶助对象"
        ordering = ["-applied_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "program", "person"],
                condition=Q(person__isnull=False, status__in=LIVE_ENROLLMENT),
                name="enrollment_one_live_per_person",
            ),
            models.UniqueConstraint(
                fields=["county", "program", "household"],
                condition=Q(person__isnull=True, status__in=LIVE_ENROLLMENT),
                name="enrollment_one_live_per_household",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="enrollment_amount"),
        ]
        indexes = [
            models.Index(fields=["county", "program", "status"], name="enrollment_program_status"),
            models.Index(fields=["village", "status"], name="enrollment_village_status"),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.person or self.household}"


class EnrollmentEvent(ScopedModel):
    """One step of an enrolment's workflow: who, when, why, and the rule and facts it was judged
    by. Append-only."""

    class Action(models.TextChoices):
        APPLY = "apply", "申报"
        NOTICE = "notice", "公示"
        OBJECTION = "objection", "异议"
        OBJECTION_RESOLVED = "objection_resolved", "异议处理"
        REVIEW = "review", "审核通过"
        APPROVE = "approve", "审批通过"
        RETURN = "return", "退回"
        RECONFIRM = "reconfirm", "资格确认"
        EXIT = "exit", "退出"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="events", verbose_name="扶助对象"
    )
    action = models.CharField("环节", max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name="经办人",
    )
    actor_label = models.CharField("经办人账号", max_length=150, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    reason = models.CharField("说明", max_length=500, blank=True)
    from_status = models.CharField("原状态", max_length=12, blank=True)
    to_status = models.CharField("新状态", max_length=12, blank=True)
    rule = models.JSONField("资格条件", default=dict, blank=True)
    facts = models.JSONField("登记情况", default=dict, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d}"


class PublicNotice(ScopedModel):
    """A public notice (公示, 阳光计生) of a programme's applicants at a village or township:
    posted for ``program.notice_days`` days, during which anyone may object."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="notices", verbose_name="项目"
    )
    title = models.CharField("公示标题", max_length=200)
    starts_on = models.DateField("公示开始")
    ends_on = models.DateField("公示截止")
    objection_contact = models.CharField("异议受理", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="发布人"
    )
    created_at = models.DateTimeField("发布时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "公示"
        verbose_name_plural = "公示"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="notice_period_order"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Objection(ScopedModel):
    """An objection raised against an applicant during the notice; it must be resolved before
    the township may review."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="objections", verbose_name="扶助对象"
    )
    raised_on = models.DateField("提出日期")
    raised_by = models.CharField("提出人", max_length=50, blank=True)
    content = models.CharField("异议内容", max_length=500)
    resolution = models.CharField("处理结果", max_length=500, blank=True)
    upheld = models.BooleanField("异议成立", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "异议"
        verbose_name_plural = "异议"
        ordering = ["raised_on", "id"]

    def __str__(self) -> str:
        return self.content[:20]


class Reconfirmation(ScopedModel):
    """The annual re-confirmation (资格确认) of one enrolment: what the registry flagged and what
    the county decided."""

    class Decision(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "继续享受"
        EXITED = "exited", "退出"

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="reconfirmations",
        verbose_name="扶助对象",
    )
    year = models.PositiveSmallIntegerField("年度")
    flags = models.JSONField("发现问题", default=list, blank=True)
    decision = models.CharField(
        "结论", max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    reason = models.CharField("说明", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="确认人",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "资格确认"
        verbose_name_plural = "资格确认"
        ordering = ["-year", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "enrollment", "year"], name="reconfirmation_once_a_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_decision_display()}"


class BankAccount(ScopedModel):
    """A payee's bank account (代发账户). The number is encrypted at rest and masked everywhere
    but its own detail page."""

    person = models.ForeignKey(
        "households.Person",
        on_delete=models.PROTECT,
        related_name="bank_accounts",
        verbose_name="户名(持卡人)",
    )
    bank_name = models.CharField("开户银行", max_length=100)
    account_number = EncryptedCharField("银行账号", max_length=32, mask=mask_bank_account)
    account_number_index = BlindIndexField(source="account_number")
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "收款账户"
        verbose_name_plural = "收款账户"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "person", "account_number_index"],
                name="bank_account_once_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} {mask_bank_account(self.account_number)}"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    CONFIRMED = "confirmed", "已确认"
    PAID = "paid", "已发放"
    CANCELLED = "cancelled", "已作废"


class DisbursementBatch(ScopedModel):
    """A disbursement batch (发放批次) of one programme for one period ("2026" for a yearly
    programme, "2026-03" for a monthly one, the date for a one-off), at the node it covers."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="batches", verbose_name="项目"
    )
    period = models.CharField("发放期", max_length=10)
    status = models.CharField(
        "状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="制表人"
    )
    created_at = models.DateTimeField("制表时间", auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="确认人",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    paid_on = models.DateField("发放日期", null=True, blank=True)
    method = models.CharField("发放方式", max_length=20, blank=True)
    reference = models.CharField("批次凭证号", max_length=60, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["county", "program", "period"], name="batch_period")]

    def __str__(self) -> str:
        return f"{self.program} {self.period}"


class LineStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    CONFIRMED = "confirmed", "已确认"
    PAID = "paid", "已发放"
    FAILED = "failed", "发放失败"
    CANCELLED = "cancelled", "已作废"


# Lines that count as paying their beneficiary for the programme and period.
LIVE_LINE = ("confirmed", "paid")


class Disbursement(ScopedModel):
    """One line of a batch (发放明细): one beneficiary, one amount. The beneficiary key is the
    person, or the household for a household programme; a second live line for the same key,
    programme and period is refused by the database."""

    batch = models.ForeignKey(
        DisbursementBatch, on_delete=models.PROTECT, related_name="lines", verbose_name="批次"
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="+", verbose_name="项目"
    )
    period = models.CharField("发放期", max_length=10)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="disbursements", verbose_name="扶助对象"
    )
    person = models.ForeignKey(
        "households.Person", on_delete=models.PROTECT, null=True, related_name="+"
    )
    household = models.ForeignKey(
        "households.Household", on_delete=models.PROTECT, related_name="+"
    )
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField("金额(元)", **MONEY, validators=POSITIVE)
    status = models.CharField(
        "状态", max_length=10, choices=LineStatus.choices, default=LineStatus.DRAFT
    )
    paid_on = models.DateField("发放日期", null=True, blank=True)
    reference = models.CharField("银行流水号", max_length=60, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    reissue_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissues"
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["village_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "program", "period", "person"],
                condition=Q(person__isnull=False, status__in=LIVE_LINE),
                name="disbursement_once_per_person_period",
            ),
            models.UniqueConstraint(
                fields=["county", "program", "period", "household"],
                condition=Q(person__isnull=True, status__in=LIVE_LINE),
                name="disbursement_once_per_household_period",
            ),
            models.UniqueConstraint(
                fields=["county", "batch", "enrollment"], name="disbursement_once_per_batch"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["county", "reference"], name="disbursement_reference"),
            models.Index(fields=["batch", "status"], name="disbursement_batch_status"),
            # The failed lines a new line re-issues, looked up per enrolment when a batch is
            # made: small (failed lines are few), so the planner takes them whatever its
            # statistics say of the table (a scan per enrolment would be 20,000 scans).
            models.Index(
                fields=["program", "period", "person"],
                condition=Q(status="failed"),
                name="disbursement_failed_person",
            ),
            models.Index(
                fields=["program", "period", "household"],
                condition=Q(status="failed", person__isnull=True),
                name="disbursement_failed_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"


class Fund(ScopedModel):
    """A fund (生育关怀基金, a named donation fund 冠名基金, a loan fund). ``balance`` is kept by
    the ledger's trigger and can never be negative."""

    class Kind(models.TextChoices):
        CARE = "care", "生育关怀基金"
        NAMED = "named", "冠名基金"
        LOAN = "loan", "贷款周转金"
        PROGRAM = "program", "项目资金"

    name = models.CharField("基金名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    donor = models.CharField("冠名单位", max_length=100, blank=True)
    balance = models.DecimalField("余额(元)", **MONEY, default=Decimal("0"), editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "基金"
        verbose_name_plural = "基金"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="fund_name_unique_in_county"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="fund_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class FundEntry(ScopedModel):
    """One entry of a fund's ledger: income or expense, never edited or deleted; a mistake is
    corrected by a reversing entry (``reverses``)."""

    class Direction(models.TextChoices):
        INCOME = "income", "收入"
        EXPENSE = "expense", "支出"

    class Source(models.TextChoices):
        GOVERNMENT = "government", "财政拨款"
        DONATION = "donation", "捐赠"
        REPAYMENT = "repayment", "贷款回收"
        DISBURSEMENT = "disbursement", "扶助金发放"
        LOAN = "loan", "贷款发放"
        ASSISTANCE = "assistance", "帮扶救助"
        REVERSAL = "reversal", "冲正"
        TRANSFER = "transfer", "基金划拨"
        OTHER = "other", "其他"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    direction = models.CharField("收支", max_length=10, choices=Direction.choices)
    source = models.CharField("类别", max_length=12, choices=Source.choices)
    amount = models.DecimalField("金额(元)", **MONEY, validators=POSITIVE)
    entry_date = models.DateField("日期")
    description = models.CharField("摘要", max_length=200)
    donor = models.CharField("捐赠单位或个人", max_length=100, blank=True)
    # What an expense paid for (one of them), or the repayment an income came from.
    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        DisbursementBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    loan = models.ForeignKey(
        "benefits.Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    repayment = models.ForeignKey(
        "benefits.Repayment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assistance = models.ForeignKey(
        "households.AssistanceRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    # A transfer between two funds (基金划拨) is two entries, an expense of the one and an
    # income of the other, each naming the other: both ids are drawn before either is inserted
    # (the key is checked at commit), as an entry is never updated.
    counterpart = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="划拨的对方记录",
    )
    balance_after = models.DecimalField("结余(元)", **MONEY, null=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="记账人"
    )
    recorded_at = models.DateTimeField("记账时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "基金收支"
        verbose_name_plural = "基金收支"
        ordering = ["entry_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(direction="income")
                | Q(disbursement__isnull=False)
                | Q(batch__isnull=False)
                | Q(loan__isnull=False)
                | Q(assistance__isnull=False)
                | Q(reverses__isnull=False)
                | Q(counterpart__isnull=False),
                name="fund_expense_names_what_it_paid",
            ),
            models.CheckConstraint(
                condition=(Q(source="transfer") & Q(counterpart__isnull=False))
                | (~Q(source="transfer") & Q(counterpart__isnull=True)),
                name="fund_transfer_names_its_counterpart",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.amount}"


class Loan(ScopedModel):
    """A micro-loan (幸福工程 / 少生快富) from a loan fund to a borrower; repaid money returns to
    the fund and is lent again."""

    class Status(models.TextChoices):
        ACTIVE = "active", "还款中"
        REPAID = "repaid", "已还清"
        WRITTEN_OFF = "written_off", "已核销"
        VOIDED = "voided", "已冲正"

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="loans", verbose_name="项目"
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="loans")
    borrower = models.ForeignKey(
        "households.Person", on_delete=models.PROTECT, related_name="loans", verbose_name="借款人"
    )
    household = models.ForeignKey(
        "households.Household", on_delete=models.PROTECT, related_name="loans"
    )
    principal = models.DecimalField("本金(元)", **MONEY, validators=POSITIVE)
    issued_on = models.DateField("放款日期")
    term_months = models.PositiveSmallIntegerField("期限(月)", validators=[MinValueValidator(1)])
    purpose = models.CharField("用途", max_length=200, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ACTIVE)
    # A loan issued by mistake (wrong borrower or amount) is voided: its issue is reversed in
    # the ledger and it counts in no figure; the loan and its schedule stay, for the record.
    voided_on = models.DateField("冲正日期", null=True, blank=True)
    void_reason = models.CharField("冲正原因", max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "贷款"
        verbose_name_plural = "贷款"
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=(Q(status="voided") & Q(voided_on__isnull=False))
                | (~Q(status="voided") & Q(voided_on__isnull=True)),
                name="loan_voided_has_a_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.borrower} {self.principal}"


class Installment(ScopedModel):
    """One due date of a loan's repayment schedule."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    due_on = models.DateField("应还日期")
    amount = models.DecimalField("应还金额(元)", **MONEY, validators=POSITIVE)

    objects = ScopedManager()

    class Meta:
        verbose_name = "还款计划"
        verbose_name_plural = "还款计划"
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "loan", "due_on"], name="installment_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
        ]


class Repayment(ScopedModel):
    """Money a borrower paid back; it returns to the loan's fund as income."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    paid_on = models.DateField("还款日期")
    amount = models.DecimalField("还款金额(元)", **MONEY, validators=POSITIVE)
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "还款"
        verbose_name_plural = "还款"
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive")
        ]
