"""Programmes (扶助项目) and their rates by category; the money units every part uses."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from associations.models import ScopedModel
from associations.scope import ScopedManager

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
