"""Assessment periods and the submission workflow (the models; reports.models re-exports
them, so every model of the app is still `reports.models.<Name>`).

An assessment period (季度 / 半年初评 / 年终总评) of a county, opened with the scheme version
it uses. Opening freezes the expected villages (ExpectedUnit: name, code and township as
they were) and gives each a Submission. The village proposes its manual scores with notes
and submits; the township reviews: it enters the score that counts for each manual
indicator (the village's proposal is only a proposal) and accepts, or returns with a reason;
accepting freezes the scores. County staff lock the period; a locked period refuses changes
to the records dated in it (associations.period_locks; triggers of migration 0003)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from associations import scope as _scope
from associations.attachments.models import AttachmentBase
from associations.models import ScopedModel
from associations.scope import ScopedManager

from .models import SchemeIndicator, SchemeVersion


class CountyWideManager(models.Manager.from_queryset(models.QuerySet)):
    """A period is the county's calendar: every account of the county may read it (the pages
    of a township or village reach it through their own node). Filters by the active scope's
    county; under `unscoped` every county; with no scope at all, refuses."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if _scope.is_unscoped():
            return queryset
        scope = _scope.current_scope()
        if scope is None:
            raise _scope.NoActiveScope(_scope.NO_SCOPE_MESSAGE)
        return queryset.filter(county_id=scope.county_id)


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", "季度考核"
    HALF = "half", "半年初评"
    YEAR = "year", "年终总评"


class AssessmentPeriod(ScopedModel):
    """考核期: a county's quarter, half-year or year, sitting at the county node."""

    class State(models.TextChoices):
        OPEN = "open", "进行中"
        LOCKED = "locked", "已锁定"

    key = models.CharField("考核期", max_length=7)
    kind = models.CharField("类型", max_length=8, choices=PeriodKind.choices)
    start_on = models.DateField("开始日期")
    end_on = models.DateField("结束日期")
    version = models.ForeignKey(
        SchemeVersion, on_delete=models.PROTECT, related_name="+", verbose_name="考核细则版本"
    )
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.OPEN)
    due_on = models.DateField("报送截止日期")
    opened_at = models.DateTimeField("开启时间", auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = ScopedManager()
    county_wide = CountyWideManager()

    class Meta:
        verbose_name = "考核期"
        verbose_name_plural = "考核期"
        ordering = ["-start_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["county", "key"], name="period_key_unique_in_county"),
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")), name="period_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["county", "state", "start_on"], name="period_lock_idx")]

    def __str__(self) -> str:
        from associations.periods import Period, period_label

        return period_label(Period(self.start_on, self.end_on))

    @property
    def is_locked(self) -> bool:
        return self.state == self.State.LOCKED


class PeriodEvent(ScopedModel):
    """What happened to a period: opened, locked, reopened (with its reason)."""

    class Action(models.TextChoices):
        OPENED = "opened", "开启"
        LOCKED = "locked", "锁定"
        REOPENED = "reopened", "重新开放"

    period = models.ForeignKey(AssessmentPeriod, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True)
    reason = models.TextField("原因", blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["at", "id"]


class ExpectedUnit(ScopedModel):
    """A village expected to submit, frozen when the period opened: its township, name and
    code as they were then. Sits at the village (so it follows the village's scope)."""

    period = models.ForeignKey(
        AssessmentPeriod, on_delete=models.CASCADE, related_name="expected_units"
    )
    unit = models.ForeignKey("associations.Association", on_delete=models.PROTECT, related_name="+")
    frozen_township = models.ForeignKey(
        "associations.Association", on_delete=models.PROTECT, related_name="+"
    )
    township_name = models.CharField("乡镇(开启时)", max_length=100)
    name = models.CharField("名称(开启时)", max_length=100)
    division_code = models.CharField("区划代码(开启时)", max_length=15)

    objects = ScopedManager()

    class Meta:
        ordering = ["division_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period", "unit"], name="expected_unit_once_per_period"
            )
        ]


class Submission(ScopedModel):
    """A village's submission for a period: its note, its proposed manual scores, the
    township's review. Sits at the village."""

    class State(models.TextChoices):
        DRAFT = "draft", "未报送"
        SUBMITTED = "submitted", "待审核"
        RETURNED = "returned", "已退回"
        ACCEPTED = "accepted", "已通过"

    period = models.ForeignKey(AssessmentPeriod, on_delete=models.PROTECT, related_name="+")
    expected = models.OneToOneField(
        ExpectedUnit, on_delete=models.PROTECT, related_name="submission"
    )
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.DRAFT)
    note = models.TextField("村(社区)说明", blank=True)
    first_submitted_at = models.DateTimeField("首次报送时间", null=True, blank=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    return_reason = models.TextField("退回原因", blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "考核报送"
        verbose_name_plural = "考核报送"
        ordering = ["period", "expected__division_code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="returned") | ~Q(return_reason=""),
                name="submission_return_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.expected.name} {self.period}"

    @property
    def is_late(self) -> bool:
        """Late: first submitted after the due date (in the server's time zone)."""
        from django.utils import timezone

        if self.first_submitted_at is None:
            return False
        return timezone.localdate(self.first_submitted_at) > self.period.due_on


class ManualScore(ScopedModel):
    """A manual indicator of a submission: the village's proposed score and note (evidence),
    the township's score and note. Only the township's score counts."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(SchemeIndicator, on_delete=models.PROTECT, related_name="+")
    proposed = models.DecimalField("自评分", max_digits=6, decimal_places=2, null=True, blank=True)
    note = models.CharField("自评说明", max_length=500, blank=True)
    score = models.DecimalField("审核得分", max_digits=6, decimal_places=2, null=True, blank=True)
    review_note = models.CharField("审核说明", max_length=500, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["indicator__order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "submission", "indicator"], name="manual_score_once"
            ),
            models.CheckConstraint(
                condition=Q(proposed__isnull=True) | Q(proposed__gte=0),
                name="manual_score_proposed_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0),
                name="manual_score_not_negative",
            ),
        ]


class SubmissionEvent(ScopedModel):
    """Every step of a submission: saved, submitted, returned (with its reason), accepted."""

    class Action(models.TextChoices):
        SAVED = "saved", "保存自评"
        SUBMITTED = "submitted", "报送"
        RETURNED = "returned", "退回"
        ACCEPTED = "accepted", "审核通过"
        SCORED = "scored", "审核评分"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True)
    reason = models.TextField("原因", blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["at", "id"]


class SubmissionAttachment(AttachmentBase):
    """A photo or document in evidence of a submission's manual indicators (阵地标示牌的照片,
    档案目录): added by the village while it fills the submission, or by the township while it
    reviews. Sits at the village; stored and served through associations.attachments."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="attachments", verbose_name="考核报送"
    )

    objects = ScopedManager()

    owner_field = "submission"
    url_names = (
        "submission-attachment",
        "submission-attachment-thumb",
        "submission-attachment-delete",
    )

    class Meta(AttachmentBase.Meta):
        verbose_name = "考核报送佐证材料"
        verbose_name_plural = "考核报送佐证材料"
