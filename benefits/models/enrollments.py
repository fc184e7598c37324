"""Enrolments (扶助对象) and their workflow: events, public notices, objections and the annual
re-confirmation."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from associations.models import ScopedModel
from associations.scope import ScopedManager

from .programs import MONEY, Program


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
