"""The assessment scheme (考核细则) of a county for a year: versions, and each version's
indicators with their max score and scoring rule.

A scheme sits at its county node (county key only), so only county-level accounts see it: a
township's or village's scope filter does not reach a row without their key. A version is a
draft while it is edited; putting it in use (启用) freezes it, and a change then needs a new
version (复制为新版本), copied from it as a draft. Report runs (a later session) will refer to
the version they were built with, so a version that was ever in use never changes: the
services refuse it and database triggers (migration 0002) refuse any UPDATE, INSERT or
DELETE that would change a frozen version's indicators or figures.

Rule parameters are named fields, whose meaning depends on the rule (reports.scoring):
- 达标计分 (met): `threshold` 达标值 — value ≥ threshold scores the max, else 0.
- 线性计分 (linear): `low` 下限, `high` 上限 — 0 at or below low, the max at or above high,
  linear between.
- 扣分 (deduction): `threshold` 应达数量, `step` 每缺一项扣分 — the max less `step` for each
  item the value falls short of the required count, never below 0.
- 按目标比例 (share of target): `threshold` 目标值 — value ÷ target × max, at most the max."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from associations import scope as _scope
from associations.models import ScopedModel
from associations.scope import ScopedManager


class Grade(models.TextChoices):
    FIRST_CLASS = "first_class", "一流村协会"
    QUALIFIED = "qualified", "合格村协会"
    UNQUALIFIED = "unqualified", "不合格"


class Rule(models.TextChoices):
    MET = "met", "达标计分"
    LINEAR = "linear", "线性计分"
    DEDUCTION = "deduction", "扣分"
    SHARE_OF_TARGET = "share_of_target", "按目标比例"


class IndicatorLevel(models.TextChoices):
    VILLAGE = "village", "村(社区)"
    GROUP = "group", "会员小组"


class AssessmentScheme(ScopedModel):
    """考核细则: a county's assessment scheme for a year, under a name."""

    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("名称", max_length=100)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "考核细则"
        verbose_name_plural = "考核细则"
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year", "name"], name="scheme_name_unique_per_year"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="scheme_year_range",
                violation_error_message="年度应在 2000 至 2100 之间。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}"


class SchemeVersion(ScopedModel):
    """One version of a scheme: its grade lines, the performance pay held back, its indicators."""

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        IN_USE = "in_use", "使用中"
        RETIRED = "retired", "已停用"

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="versions", verbose_name="考核细则"
    )
    number = models.PositiveSmallIntegerField("版本号")
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.DRAFT)
    first_class_min = models.DecimalField(
        "一流村协会分数线", max_digits=6, decimal_places=2, help_text="总分达到此分为一流村协会。"
    )
    qualified_min = models.DecimalField(
        "合格分数线", max_digits=6, decimal_places=2, help_text="总分达到此分为合格村协会。"
    )
    president_pay_held = models.DecimalField(
        "会长每月预留绩效工资(元)", max_digits=8, decimal_places=2, default=50
    )
    leader_pay_held = models.DecimalField(
        "小组长每月预留绩效工资(元)", max_digits=8, decimal_places=2, default=10
    )
    # --- group ratings and performance pay ---
    qualified_pay_share = models.DecimalField(
        "合格村绩效工资发放比例(%)",
        max_digits=5,
        decimal_places=2,
        default=80,
        help_text="年终考核为合格村协会的,会长和小组长全年预留绩效工资按此比例发放;"
        "一流村协会全额发放,不合格不发放。",
    )
    commendation_bonus = models.DecimalField(
        "全县前三名表彰奖励(元/人)",
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text="总分全县前三名的村,会长和小组长每人另发的表扬奖励;0 为不设。",
    )
    # --- end of group ratings and performance pay ---
    note = models.TextField("说明", blank=True)
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="复制自",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    activated_at = models.DateTimeField("启用时间", null=True, blank=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "考核细则版本"
        verbose_name_plural = "考核细则版本"
        ordering = ["scheme", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "scheme", "number"], name="scheme_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["county", "scheme"],
                condition=Q(state="in_use"),
                name="scheme_one_version_in_use",
            ),
            models.UniqueConstraint(
                fields=["county", "scheme"],
                condition=Q(state="draft"),
                name="scheme_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(qualified_min__gte=0) & Q(first_class_min__gt=F("qualified_min")),
                name="scheme_version_grade_lines_ordered",
                violation_error_message="一流村协会分数线应高于合格分数线,且分数线不能为负数。",
            ),
            models.CheckConstraint(
                condition=Q(president_pay_held__gte=0, leader_pay_held__gte=0),
                name="scheme_version_pay_not_negative",
                violation_error_message="预留绩效工资不能为负数。",
            ),
            models.CheckConstraint(
                condition=Q(qualified_pay_share__gte=0, qualified_pay_share__lte=100)
                & Q(commendation_bonus__gte=0),
                name="scheme_version_pay_share_range",
                violation_error_message="发放比例应在 0 至 100 之间,表彰奖励不能为负数。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} 第{self.number}版"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT


class SchemeIndicator(ScopedModel):
    """An indicator of a version: computed (its key names one in reports.indicators) or
    manual (scored by township staff; its key is the scheme's own)."""

    version = models.ForeignKey(
        SchemeVersion, on_delete=models.PROTECT, related_name="indicators", verbose_name="版本"
    )
    order = models.PositiveSmallIntegerField("序号")
    key = models.CharField("指标代码", max_length=40)
    name = models.CharField("指标名称", max_length=100)
    level = models.CharField(
        "考核对象", max_length=8, choices=IndicatorLevel.choices, default=IndicatorLevel.VILLAGE
    )
    manual = models.BooleanField("人工评分", default=False)
    max_score = models.DecimalField("满分", max_digits=6, decimal_places=2)
    rule = models.CharField("计分规则", max_length=16, choices=Rule.choices)
    threshold = models.DecimalField(
        "达标值/应达数量/目标值", max_digits=12, decimal_places=2, null=True, blank=True
    )
    low = models.DecimalField("下限", max_digits=12, decimal_places=2, null=True, blank=True)
    high = models.DecimalField("上限", max_digits=12, decimal_places=2, null=True, blank=True)
    step = models.DecimalField(
        "每缺一项扣分", max_digits=6, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(
        "依据", max_length=200, blank=True, help_text="如“镇协会工作计划:女组长每月……”。"
    )
    note = models.CharField("评分说明", max_length=300, blank=True)
    # --- indicator evaluations ---
    # Which evaluations the indicator counts in: an indicator of a duty done once a year (the
    # member congress, the training) is not assessed in a quarter's or half-year's run
    # (本期不考核: no score, out of the total and of the maximum; see reports.scoring).
    in_quarter = models.BooleanField("季度考核计分", default=True)
    in_half = models.BooleanField("半年考核计分", default=True)
    in_year = models.BooleanField("年度考核计分", default=True)
    # --- end of indicator evaluations ---

    objects = ScopedManager()

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["version", "level", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "version", "key"], name="scheme_indicator_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(max_score__gt=0),
                name="scheme_indicator_max_score_positive",
                violation_error_message="满分应大于 0。",
            ),
            models.CheckConstraint(
                condition=Q(in_quarter=True) | Q(in_half=True) | Q(in_year=True),
                name="scheme_indicator_counts_somewhere",
                violation_error_message="请至少选择一种考核(季度、半年或年度)。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def params(self) -> dict:
        return {"threshold": self.threshold, "low": self.low, "high": self.high, "step": self.step}

    def applies_to(self, period_key: str) -> bool:
        """Whether the indicator counts in a run of the period ("2026-Q1", "2026-H1", "2026";
        a month counts as a quarter: the shortest evaluation)."""
        key = (period_key or "").upper()
        if "-H" in key:
            return self.in_half
        if len(key) == 4:
            return self.in_year
        return self.in_quarter

    @property
    def evaluations_text(self) -> str:
        """ "季度、半年、年度" or "仅年度" …, for the scheme page."""
        names = [n for n, on in (("季度", self.in_quarter), ("半年", self.in_half),
                                 ("年度", self.in_year)) if on]  # fmt: skip
        return "、".join(names) if len(names) > 1 else f"仅{names[0]}" if names else "—"


# --- report runs and snapshots ---------------------------------------------------------------
# A report run (考核生成) builds the assessment of a county for a period under a scheme
# version on the shared job machinery (associations.Job, kind "report.assessment"); its result
# is an immutable snapshot, one SnapshotNode per node. See reports.runs and reports.snapshots.
# Migration 0003_report_runs adds the database rules: one live run per (county, period,
# version), one published run per (county, period), the run state mirrored from its job, and
# triggers refusing changes to a published run and its snapshot rows.


class ReportRun(ScopedModel):
    """One build of the assessment of a county for a period (key "2026-Q1", "2026-H1",
    "2026") under a scheme version. Sits at the county node: county accounts only; township
    accounts read their villages' snapshot rows (SnapshotNode) instead."""

    class State(models.TextChoices):  # mirrors its job's state (a trigger keeps it in step)
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    period_key = models.CharField("统计期", max_length=10)
    version = models.ForeignKey(
        SchemeVersion, on_delete=models.PROTECT, related_name="runs", verbose_name="考核细则版本"
    )
    job = models.OneToOneField(
        "associations.Job", on_delete=models.PROTECT, related_name="report_run", verbose_name="任务"
    )
    number = models.PositiveSmallIntegerField("第几次生成")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发布人",
    )
    query_count = models.PositiveIntegerField("查询次数", null=True, blank=True)
    duration_ms = models.PositiveIntegerField("用时(毫秒)", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "考核生成"
        verbose_name_plural = "考核生成"
        ordering = ["-period_key", "-number", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period_key", "version", "number"],
                name="report_run_number_unique",
            ),
            models.UniqueConstraint(
                fields=["county", "period_key", "version"],
                condition=Q(state__in=["queued", "running"]),
                name="report_run_one_live",
                violation_error_message="该统计期已有正在生成的考核。",
            ),
            models.UniqueConstraint(
                fields=["county", "period_key"],
                condition=Q(published_at__isnull=False),
                name="report_run_one_published",
                violation_error_message="该统计期已有发布的考核结果。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_key} 考核 第{self.number}次"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


# --- snapshot rows as published ---
class AsPublishedManager(models.Manager.from_queryset(models.QuerySet)):
    """The snapshot rows an account reads: under a township scope, the rows whose township
    when the run was built (`township_node_id`) is that township, so a village moved to
    another township after publishing stays in its old township's results and does not
    appear in the new one's; under a county, village or group scope, the scope's subtree (a
    village's or group's own key follows it, so its history stays its own). Under `unscoped`
    every row; with no scope at all, refuses."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if _scope.is_unscoped():
            return queryset
        scope = _scope.current_scope()
        if scope is None:
            raise _scope.NoActiveScope(_scope.NO_SCOPE_MESSAGE)
        queryset = queryset.filter(county_id=scope.county_id)
        if scope.level == "township":
            return queryset.filter(township_node_id=scope.node_id)
        return queryset.filter(**scope.lookup())

    def columns(self, run_id: int) -> list[dict]:
        """The village indicators of a run as its county row recorded them (name, max score,
        assessed or not): what every account of the county reads its own row with, though
        only county accounts see the scheme. The columns only, never the row's figures."""
        if _scope.is_unscoped():
            queryset = super().get_queryset()
        else:
            scope = _scope.current_scope()
            if scope is None:
                raise _scope.NoActiveScope(_scope.NO_SCOPE_MESSAGE)
            queryset = super().get_queryset().filter(county_id=scope.county_id)
        figures = queryset.filter(run_id=run_id, level="county").values_list("figures", flat=True)
        first = figures.first()
        return (first or {}).get("columns", [])


# --- end of snapshot rows as published ---


class SnapshotNode(ScopedModel):
    """One node of a run's snapshot, as it was when the run was built: its name, code, level,
    parent and township (`node_*`, `parent_node_id`, `township_node_id`, `township_name`), its
    indicator values and scores (`indicators`: {key: {"value", "score", "reason"}}), total,
    grade and ranks, and the period's population and member figures. The row's scope keys
    (county/township/village/group) follow the node when it is moved, so a village's own
    staff keep its history; but a township reads the rows of the villages it had when the run
    was built (`as_published`, by `township_node_id`). The frozen fields never change.
    `figures` of a village or group row: the period's applicable maximum and the score rate
    ({"max_score", "rate"}); of a township or county row: its aggregates."""

    run = models.ForeignKey(
        ReportRun, on_delete=models.CASCADE, related_name="nodes", verbose_name="考核生成"
    )
    node_id_at = models.BigIntegerField("组织编号")
    level = models.CharField("层级", max_length=10)
    name = models.CharField("名称", max_length=100)
    division_code = models.CharField("区划代码", max_length=20)
    parent_node_id = models.BigIntegerField("上级编号", null=True, blank=True)
    township_node_id = models.BigIntegerField("乡镇编号", null=True, blank=True)
    township_name = models.CharField("乡镇", max_length=100, blank=True)
    indicators = models.JSONField("指标", default=dict, blank=True)
    total = models.DecimalField("总分", max_digits=8, decimal_places=2, null=True, blank=True)
    grade = models.CharField("等级", max_length=12, choices=Grade.choices, blank=True)
    rank_in_township = models.PositiveIntegerField("乡镇排名", null=True, blank=True)
    rank_in_county = models.PositiveIntegerField("全县排名", null=True, blank=True)
    top_three = models.BooleanField("全县前三", default=False)
    population = models.PositiveIntegerField("常住人口", null=True, blank=True)
    members = models.PositiveIntegerField("会员数", null=True, blank=True)
    figures = models.JSONField("汇总", default=dict, blank=True)
    # --- snapshot population ---
    # The period's figures table row (households.figures.TABLE_COLUMNS keys) and the members
    # who joined in it, for village, township and county rows (reports.snapshots).
    population_figures = models.JSONField("人口统计", default=dict, blank=True)
    # --- end of snapshot population ---
    # --- snapshot activities ---
    # The period's activity statistics as they were (reports.activity_snapshot): a village's
    # figures, a township's or the county's own (本级) and total figures, and on the county
    # row the catalogue names the columns are read with.
    activity_figures = models.JSONField("活动统计", default=dict, blank=True)
    # --- end of snapshot activities ---

    objects = ScopedManager()
    as_published = AsPublishedManager()  # what pages and the API read (see the manager)

    class Meta:
        verbose_name = "考核结果"
        verbose_name_plural = "考核结果"
        ordering = ["run", "division_code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "run", "node_id_at"], name="snapshot_node_unique"
            )
        ]


# --- group ratings ---
# 五好小组 / 五有小组: township (or county) staff rate each member group of a village for an
# assessment period against the five 五好 and the five 五有 criteria. Services and pages:
# reports.group_ratings; report runs copy them into the group rows of the snapshot.

FIVE_GOOD_CRITERIA = [
    ("lead_good", "带头作用好"),
    ("publicity_good", "宣传服务好"),
    ("information_good", "信息掌握好"),
    ("policy_good", "国策落实好"),
    ("activity_good", "活动开展好"),
]
FIVE_HAVE_CRITERIA = [
    ("has_venue", "有活动场所"),
    ("has_services", "有服务项目"),
    ("has_rules", "有活动制度"),
    ("has_team", "有宣传队伍"),
    ("has_equipment", "有文体器材"),
]


class GroupRating(ScopedModel):
    """The rating of one member group for one assessment period (sits at the group node)."""

    period = models.ForeignKey(
        "reports.AssessmentPeriod",
        on_delete=models.PROTECT,
        related_name="group_ratings",
        verbose_name="考核期",
    )
    node = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="会员小组",
    )
    lead_good = models.BooleanField("带头作用好", default=False)
    publicity_good = models.BooleanField("宣传服务好", default=False)
    information_good = models.BooleanField("信息掌握好", default=False)
    policy_good = models.BooleanField("国策落实好", default=False)
    activity_good = models.BooleanField("活动开展好", default=False)
    has_venue = models.BooleanField("有活动场所", default=False)
    has_services = models.BooleanField("有服务项目", default=False)
    has_rules = models.BooleanField("有活动制度", default=False)
    has_team = models.BooleanField("有宣传队伍", default=False)
    has_equipment = models.BooleanField("有文体器材", default=False)
    note = models.CharField("备注", max_length=300, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="评定人",
    )
    rated_at = models.DateTimeField("评定时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "小组评定"
        verbose_name_plural = "小组评定"
        ordering = ["period", "node"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period", "node"], name="group_rating_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.node}"

    @property
    def five_good(self) -> bool:
        return all(getattr(self, key) for key, _ in FIVE_GOOD_CRITERIA)

    @property
    def five_have(self) -> bool:
        return all(getattr(self, key) for key, _ in FIVE_HAVE_CRITERIA)


# --- end of group ratings ---


# The models of the periods and submissions, and of the targets, live in modules of their own;
# imported here (after the schemes they refer to) so that Django registers them with the app
# and `reports.models.<Name>` keeps working everywhere.
from .submission_models import (  # noqa: E402
    AssessmentPeriod,
    CountyWideManager,
    ExpectedUnit,
    ManualScore,
    PeriodEvent,
    PeriodKind,
    Submission,
    SubmissionAttachment,
    SubmissionEvent,
)
from .target_models import Target, TargetKind  # noqa: E402

__all__ = [
    "FIVE_GOOD_CRITERIA",
    "FIVE_HAVE_CRITERIA",
    "AssessmentPeriod",
    "AssessmentScheme",
    "CountyWideManager",
    "ExpectedUnit",
    "Grade",
    "GroupRating",
    "IndicatorLevel",
    "ManualScore",
    "PeriodEvent",
    "PeriodKind",
    "ReportRun",
    "Rule",
    "SchemeIndicator",
    "SchemeVersion",
    "SnapshotNode",
    "Submission",
    "SubmissionAttachment",
    "SubmissionEvent",
    "Target",
    "TargetKind",
]
