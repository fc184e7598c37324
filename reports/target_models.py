"""Targets (指标分解): the models; reports.models re-exports them.

The county gives each township its numbers for a year (一流 / 合格 villages, 五好 / 五有
groups); the township splits them to its villages. A row sits at the node it is assigned to
(scope keys of that node), so township staff see their township's and villages' rows.
Services and the target-against-achieved tables: reports.targets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from associations.models import ScopedModel
from associations.scope import ScopedManager


class TargetKind(models.TextChoices):
    FIRST_CLASS = "first_class", "一流村协会"
    QUALIFIED = "qualified", "合格村协会"
    FIVE_GOOD = "five_good", "五好小组"
    FIVE_HAVE = "five_have", "五有小组"


class Target(ScopedModel):
    """指标: the number of a kind a township (set by the county) or a village (set by its
    township) should reach in a year."""

    year = models.PositiveSmallIntegerField("年度")
    node = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="单位",
    )
    kind = models.CharField("指标", max_length=12, choices=TargetKind.choices)
    number = models.PositiveIntegerField("目标数")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="下达人",
    )
    assigned_at = models.DateTimeField("下达时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "指标"
        verbose_name_plural = "指标"
        ordering = ["year", "node", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year", "node", "kind"], name="target_unique_per_node"
            ),
            models.CheckConstraint(condition=Q(number__gte=0), name="target_number_not_negative"),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="target_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.get_kind_display()} {self.number}"
