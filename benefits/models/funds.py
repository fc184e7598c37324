"""Funds and their append-only ledger, loans, their instalments and repayments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from associations.models import ScopedModel
from associations.scope import ScopedManager

from .payments import Disbursement, DisbursementBatch
from .programs import MONEY, POSITIVE, Program


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
