"""Bank accounts, disbursement batches and their lines (the partial unique indexes that refuse
a second live line)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from associations.encrypted_fields import BlindIndexField, EncryptedCharField
from associations.models import ScopedModel
from associations.scope import ScopedManager
from households.identity import mask_bank_account

from .enrollments import Enrollment
from .programs import MONEY, POSITIVE, Program


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
