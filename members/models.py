"""Members (a Person's membership of a village-level association), group roles, contact
households, pairings, commendations, volunteer teams and council seat holders."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from associations.models import ScopedModel
from associations.scope import ScopedManager


class MemberCategory(models.TextChoices):
    ELDER = "elder", "五老"
    FERTILE_ACTIVIST = "fertile_activist", "育龄群众积极分子"
    PRODUCTION_BACKBONE = "production_backbone", "生产骨干"
    WEALTH_LEADER = "wealth_leader", "致富能人"
    VILLAGE_CADRE = "village_cadre", "村干部"
    VOLUNTEER = "volunteer", "志愿者"


class ElderKind(models.TextChoices):
    PARTY_VETERAN = "party_veteran", "老党员"
    RETIRED_CADRE = "retired_cadre", "老干部"
    MODEL_WORKER = "model_worker", "老模范"
    ELDER = "elder", "老长辈"
    RETIRED_WORKER = "retired_worker", "老职工"


class LeaveReason(models.TextChoices):
    MOVED_OUT = "moved_out", "迁出"
    DECEASED = "deceased", "去世"
    VOLUNTARY = "voluntary", "自愿退会"
    DISMISSED = "dismissed", "劝退"


class Member(ScopedModel):
    """A membership. Sits at its village (and group, if any); leaving keeps the row."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在册"
        LEFT = "left", "已退会"

    person = models.ForeignKey(
        "households.Person",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name="人员",
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="所属协会",
    )
    member_number = models.CharField("会员证号", max_length=30)
    joined_on = models.DateField("入会日期")
    categories = ArrayField(
        models.CharField(max_length=24, choices=MemberCategory.choices),
        default=list,
        blank=True,
        verbose_name="会员类别",
    )
    elder_kind = models.CharField("五老类别", max_length=20, choices=ElderKind.choices, blank=True)
    is_backbone = models.BooleanField("骨干会员", default=False)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    left_on = models.DateField("退会日期", null=True, blank=True)
    leave_reason = models.CharField(
        "退会原因", max_length=12, choices=LeaveReason.choices, blank=True
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "会员"
        verbose_name_plural = "会员"
        ordering = ["village", "group", "member_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "person"],
                condition=Q(status="active"),
                name="member_one_active_membership_in_county",
            ),
            models.UniqueConstraint(
                fields=["county", "village", "member_number"],
                condition=Q(status="active"),
                name="member_number_unique_in_village",
            ),
            models.CheckConstraint(
                condition=Q(status="active", left_on__isnull=True, leave_reason="")
                | Q(status="left", left_on__isnull=False) & ~Q(leave_reason=""),
                name="member_leaving_has_date_and_reason",
            ),
            models.CheckConstraint(
                condition=Q(elder_kind="") | Q(categories__contains=["elder"]),
                name="member_elder_kind_needs_elder",
            ),
            models.CheckConstraint(condition=Q(village__isnull=False), name="member_in_village"),
        ]
        indexes = [
            models.Index(fields=["county", "status"], name="member_county_status"),
            models.Index(fields=["village", "status"], name="member_village_status"),
            # The member list's order (members.selectors.MEMBER_LIST_ORDER) at county,
            # township and village scope: a page is read off an index, never a sort.
            models.Index(
                fields=["county", "village", "group", "member_number", "id"],
                name="member_list_order",
            ),
            models.Index(
                fields=["township", "village", "group", "member_number", "id"],
                name="member_township_order",
            ),
            models.Index(
                fields=["village", "group", "member_number", "id"], name="member_village_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_number} {self.person.name}"


class GroupRole(ScopedModel):
    """A member group's leader (会员小组长) and its 2-3 contact-household heads (联系户长)."""

    class Role(models.TextChoices):
        LEADER = "leader", "会员小组长"
        CONTACT_HEAD = "contact_head", "联系户长"

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="group_roles", verbose_name="会员"
    )
    role = models.CharField("职务", max_length=14, choices=Role.choices)
    starts_on = models.DateField("任职日期")
    ends_on = models.DateField("卸任日期", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "小组职务"
        verbose_name_plural = "小组职务"
        ordering = ["group", "role", "starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "group"],
                condition=Q(role="leader", ends_on__isnull=True),
                name="group_one_current_leader",
            ),
            models.UniqueConstraint(
                fields=["county", "group", "member", "role"],
                condition=Q(ends_on__isnull=True),
                name="group_role_once",
            ),
            models.CheckConstraint(condition=Q(group__isnull=False), name="group_role_in_group"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.member.person.name}"


class ContactHousehold(ScopedModel):
    """A household a member liaises with (会员联系户)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="contacts", verbose_name="会员"
    )
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.PROTECT,
        related_name="contact_members",
        verbose_name="联系户",
    )
    since = models.DateField("联系起始日期")

    objects = ScopedManager()

    class Meta:
        verbose_name = "会员联系户"
        verbose_name_plural = "会员联系户"
        ordering = ["member", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "member", "household"], name="contact_household_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} 联系 {self.household}"


class Pairing(ScopedModel):
    """结对帮扶 ("一帮一"): a member helps a hardship household for a time."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="pairings", verbose_name="帮扶会员"
    )
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.PROTECT,
        related_name="pairings",
        verbose_name="帮扶对象户",
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)
    notes = models.CharField("帮扶措施", max_length=300, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "结对帮扶"
        verbose_name_plural = "结对帮扶"
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "household"],
                condition=Q(ends_on__isnull=True),
                name="pairing_one_current_per_household",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="pairing_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} 帮扶 {self.household}"


class Commendation(ScopedModel):
    class Kind(models.TextChoices):
        EXCELLENT_MEMBER = "excellent_member", "优秀会员"
        FIVE_GOOD_MEMBER = "five_good_member", "五好会员"
        EXCELLENT_CADRE = "excellent_cadre", "优秀协会干部"
        ADVANCED_GROUP = "advanced_group", "先进会员小组"

    class AwardLevel(models.TextChoices):
        NATIONAL = "national", "全国"
        PROVINCE = "province", "省级"
        CITY = "city", "市级"
        COUNTY = "county", "县级"
        TOWNSHIP = "township", "乡镇级"

    kind = models.CharField("表彰类别", max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("年度")
    award_level = models.CharField("表彰级别", max_length=10, choices=AwardLevel.choices)
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commendations",
        verbose_name="会员",
    )
    notes = models.CharField("备注", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "表彰"
        verbose_name_plural = "表彰"
        ordering = ["-year", "kind"]
        constraints = [
            # A group commendation names the group (the row's group key), the others a member.
            models.CheckConstraint(
                condition=Q(kind="advanced_group", member__isnull=True, group__isnull=False)
                | (~Q(kind="advanced_group") & Q(member__isnull=False)),
                name="commendation_subject",
            ),
            models.UniqueConstraint(
                fields=["county", "kind", "year", "award_level", "member"],
                name="commendation_member_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.get_award_level_display()}{self.get_kind_display()}"


class VolunteerTeam(ScopedModel):
    """志愿者服务队, sitting at the node that runs it; sub-teams by service (seed 003)."""

    class Service(models.TextChoices):
        GENERAL = "general", "综合"
        ARTS = "arts", "文艺宣传"
        LIVING = "living", "生活服务"
        FITNESS = "fitness", "健身指导"
        INFORMATION = "information", "计生信息"

    name = models.CharField("名称", max_length=100)
    service = models.CharField(
        "服务类别", max_length=12, choices=Service.choices, default=Service.GENERAL
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_teams",
        verbose_name="上级服务队",
    )
    members = models.ManyToManyField(
        Member, through="VolunteerMembership", related_name="volunteer_teams", blank=True
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "志愿者服务队"
        verbose_name_plural = "志愿者服务队"
        ordering = ["parent_id", "name"]
        constraints = [
            # Top-level teams have no parent: NULLs must count as equal here.
            models.UniqueConstraint(
                fields=["county", "parent", "name"],
                name="volunteer_team_name",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.name


class VolunteerMembership(ScopedModel):
    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    joined_on = models.DateField("加入日期")

    objects = ScopedManager()

    class Meta:
        verbose_name = "服务队成员"
        verbose_name_plural = "服务队成员"
        constraints = [
            models.UniqueConstraint(fields=["county", "team", "member"], name="volunteer_once")
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.member}"


class SeatHolder(ScopedModel):
    """Links a council seat (associations.CouncilSeat, which names a person) to the member who
    holds it; kept here so that associations does not depend on members."""

    seat = models.ForeignKey(
        "associations.CouncilSeat", on_delete=models.CASCADE, related_name="holders"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="seats")

    objects = ScopedManager()

    class Meta:
        verbose_name = "理事会成员(会员)"
        verbose_name_plural = "理事会成员(会员)"
        constraints = [models.UniqueConstraint(fields=["county", "seat"], name="seat_one_holder")]

    def __str__(self) -> str:
        return f"{self.seat} ← {self.member}"


def import_upload_path(job, filename: str) -> str:
    """Where the retired ImportJob kept uploads; migration 0003 still names it. Uploads now
    live in their job's folder (associations.jobs)."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{job.county_id}/{uuid.uuid4().hex}.{extension}"
