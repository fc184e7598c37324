"""Activities (活动) held by an association at any level, who attended them, the materials
handed out, home visits (入户随访), and the county's catalogues: campaign themes, themed days
and materials.

The catalogues sit at the county node (county key only). A village or group scope cannot see
them through its own filter, so activities.catalogues reads them under the county's scope and
seeds the defaults on first use."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from associations.attachments.models import AttachmentBase
from associations.models import ScopedModel
from associations.scope import ScopedManager


class Theme(ScopedModel):
    """A campaign theme (婚育新风进万家, 关爱女孩, …) of a county's list. Retired, never deleted:
    activities keep pointing at it."""

    name = models.CharField("主题", max_length=50)
    is_active = models.BooleanField("启用", default=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "活动主题"
        verbose_name_plural = "活动主题"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="theme_name_unique_in_county")
        ]

    def __str__(self) -> str:
        return self.name


class ThemedDay(ScopedModel):
    """A day that recurs every year (5.29 会员活动日, 12.1 世界艾滋病日, …) on a county's
    calendar."""

    month = models.PositiveSmallIntegerField("月")
    day = models.PositiveSmallIntegerField("日")
    name = models.CharField("名称", max_length=50)
    is_active = models.BooleanField("启用", default=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "主题日"
        verbose_name_plural = "主题日"
        ordering = ["month", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "month", "day"], name="themed_day_unique_in_county"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12, day__gte=1, day__lte=31),
                name="themed_day_calendar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month}.{self.day} {self.name}"


class Material(ScopedModel):
    """A kind of material handed out, with the unit it is counted in (宣传资料 份, 横幅 幅, …)."""

    name = models.CharField("物资", max_length=50)
    unit = models.CharField("单位", max_length=10)
    is_active = models.BooleanField("启用", default=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "宣传服务物资"
        verbose_name_plural = "宣传服务物资"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "name", "unit"], name="material_unique_in_county"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.unit})"


class Activity(ScopedModel):
    """An activity held by an association (county … group); its ancestor keys are the node's."""

    class Kind(models.TextChoices):
        PUBLICITY = "publicity", "宣传"
        MEETING = "meeting", "会议"
        TRAINING = "training", "培训"
        SERVICE = "service", "服务"
        VOLUNTEER = "volunteer", "志愿服务"

    class MeetingType(models.TextChoices):
        COUNCIL = "council", "理事会"
        CONGRESS = "congress", "会员代表大会"
        GROUP_MEETING = "group_meeting", "会员小组会"
        REVIEW = "review", "审核评议会"
        ROUTINE = "routine", "例会"

    class ServiceType(models.TextChoices):
        FREE_CLINIC = "free_clinic", "义诊"
        HEALTH_CHECK = "health_check", "健康检查"
        CONTRACEPTIVES = "contraceptives", "药具发放"
        CONDOLENCE = "condolence", "慰问"

    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="举办协会",
    )
    kind = models.CharField("活动类别", max_length=12, choices=Kind.choices)
    meeting_type = models.CharField(
        "会议类型", max_length=14, choices=MeetingType.choices, blank=True
    )
    service_type = models.CharField(
        "服务类型", max_length=14, choices=ServiceType.choices, blank=True
    )
    title = models.CharField("活动名称", max_length=100, blank=True)
    date = models.DateField("活动日期")
    end_date = models.DateField("结束日期", null=True, blank=True, help_text="持续数日的活动填写。")
    place = models.CharField("地点", max_length=200, blank=True)
    theme = models.ForeignKey(
        Theme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name="主题",
    )
    themed_day = models.ForeignKey(
        ThemedDay,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name="主题日",
    )
    participants = models.PositiveIntegerField("参加人数", default=0)
    consultations = models.PositiveIntegerField("咨询人次", default=0)
    trainees = models.PositiveIntegerField("培训人数", default=0)
    organiser = models.CharField("组织者", max_length=100, blank=True)
    summary = models.TextField("活动内容或会议纪要", blank=True)
    external_ref = models.CharField(
        "外部编号", max_length=64, blank=True, help_text="其他系统的记录编号,用于接口同步。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("date")),
                name="activity_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(kind="meeting", meeting_type__gt="")
                | (~Q(kind="meeting") & Q(meeting_type="")),
                name="activity_meeting_type_for_meetings",
            ),
            models.CheckConstraint(
                condition=Q(kind="service", service_type__gt="")
                | (~Q(kind="service") & Q(service_type="")),
                name="activity_service_type_for_services",
            ),
            models.UniqueConstraint(
                fields=["county", "external_ref"],
                condition=~Q(external_ref=""),
                name="activity_external_ref_unique_in_county",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "date"], name="activity_county_date"),
            models.Index(fields=["township", "date"], name="activity_township_date"),
            models.Index(fields=["village", "date"], name="activity_village_date"),
            models.Index(fields=["group", "date"], name="activity_group_date"),
        ]

    def __str__(self) -> str:
        label = self.title or self.get_meeting_type_display() or self.get_kind_display()
        return f"{self.date:%Y-%m-%d} {label}"


class Attendance(ScopedModel):
    """One member who took part in an activity: a meeting of 40 members is 40 rows. Sits where
    the activity sits, so whoever sees the activity sees all its attendees, and a
    redistricting moves them with it (the member is always within the activity's subtree)."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attendances", verbose_name="活动"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="attendances", verbose_name="会员"
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "参加活动会员"
        verbose_name_plural = "参加活动会员"
        ordering = ["activity", "member"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "activity", "member"], name="attendance_once_per_member"
            )
        ]
        indexes = [models.Index(fields=["member", "activity"], name="attendance_member")]

    def __str__(self) -> str:
        return f"{self.activity} {self.member}"


class MaterialHandout(ScopedModel):
    """How much of one material an activity handed out; sits at the activity's association."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="handouts", verbose_name="活动"
    )
    material = models.ForeignKey(
        Material, on_delete=models.PROTECT, related_name="handouts", verbose_name="物资"
    )
    quantity = models.PositiveIntegerField("数量")

    objects = ScopedManager()

    class Meta:
        verbose_name = "物资发放"
        verbose_name_plural = "物资发放"
        ordering = ["activity", "material"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "activity", "material"], name="handout_once_per_material"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="handout_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.material.name} {self.quantity}{self.material.unit}"


class HomeVisit(ScopedModel):
    """入户随访: a member (usually the group leader) visits a household of their village. Sits
    where the visitor sits, so the visitor's group leader and village see it; `pairing` is set
    when the visitor is paired with the household on the visit date (结对帮扶)."""

    class Purpose(models.TextChoices):
        POLICY = "policy", "宣传政策"
        REPRODUCTIVE_HEALTH = "reproductive_health", "生殖健康"
        HARDSHIP_HELP = "hardship_help", "困难帮扶"
        CONDOLENCE = "condolence", "慰问"
        INFO_CHECK = "info_check", "信息核实"
        OTHER = "other", "其他"

    visitor = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="visits", verbose_name="走访人"
    )
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name="走访户",
    )
    visited_on = models.DateField("走访日期")
    purpose = models.CharField("走访目的", max_length=20, choices=Purpose.choices)
    notes = models.TextField("走访情况", blank=True)
    follow_up_needed = models.BooleanField("需要跟进", default=False)
    follow_up_done_on = models.DateField("跟进完成日期", null=True, blank=True)
    pairing = models.ForeignKey(
        "members.Pairing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name="结对帮扶",
    )
    external_ref = models.CharField(
        "外部编号", max_length=64, blank=True, help_text="其他系统的记录编号,用于接口同步。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "入户随访"
        verbose_name_plural = "入户随访"
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_done_on__isnull=True)
                | Q(follow_up_needed=True, follow_up_done_on__gte=F("visited_on")),
                name="visit_follow_up_done_after_visit",
            ),
            models.UniqueConstraint(
                fields=["county", "external_ref"],
                condition=~Q(external_ref=""),
                name="visit_external_ref_unique_in_county",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "visited_on"], name="visit_county_date"),
            models.Index(fields=["village", "visited_on"], name="visit_village_date"),
            models.Index(fields=["group", "visited_on"], name="visit_group_date"),
            models.Index(fields=["visitor", "visited_on"], name="visit_visitor_date"),
            models.Index(fields=["household", "visited_on"], name="visit_household_date"),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} 走访 {self.household}"


class ActivityAttachment(AttachmentBase):
    """A photo or document of an activity (活动照片、签到表、会议纪要): sits where the activity
    sits. Stored and served through associations.attachments."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attachments", verbose_name="活动"
    )

    objects = ScopedManager()

    owner_field = "activity"
    url_names = ("activity-attachment", "activity-attachment-thumb", "activity-attachment-delete")

    class Meta(AttachmentBase.Meta):
        verbose_name = "活动附件"
        verbose_name_plural = "活动附件"
