"""The association tree, tenancy, councils, staff accounts and the change record."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from . import sources
from .encrypted_fields import index_fields_for
from .scope import ScopedManager


class Level(models.TextChoices):
    COUNTY = "county", "县(市、区)"
    TOWNSHIP = "township", "乡镇(街道)"
    VILLAGE = "village", "村(社区)"
    GROUP = "group", "会员小组"


LEVEL_ORDER = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GROUP]
DIVISION_CODE_LENGTH = {Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12, Level.GROUP: 15}
ANCESTOR_FIELDS = ("county", "township", "village", "group")


def child_level(level: str) -> Level | None:
    index = LEVEL_ORDER.index(Level(level))
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def parent_level(level: str) -> Level | None:
    index = LEVEL_ORDER.index(Level(level))
    return LEVEL_ORDER[index - 1] if index > 0 else None


class Kind(models.TextChoices):
    REGIONAL = "regional", "区域协会"
    FLOATING = "floating", "流动人口协会"
    ENTERPRISE = "enterprise", "企业协会"
    CAMPUS = "campus", "高校(学校)协会"


class ScopedModel(models.Model):
    """A row that belongs to a county, with the denormalised ancestor keys of where it sits,
    so that "everything under node N" is the single equality `<level>_id = N`."""

    county = models.ForeignKey(
        "associations.Association", on_delete=models.PROTECT, related_name="+", verbose_name="县"
    )
    township = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="乡镇",
    )
    village = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="村(社区)",
    )
    group = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="会员小组",
    )

    objects = ScopedManager()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        # Encryption at rest: an encrypted field's blind index is saved with it.
        if update_fields is not None:
            update_fields = index_fields_for(type(self), update_fields)
        return super().save(*args, update_fields=update_fields, **kwargs)

    def place_under(self, node: Association) -> None:
        """Copy the node's ancestor keys (the node itself included) onto this row."""
        for field in ANCESTOR_FIELDS:
            setattr(self, f"{field}_id", getattr(node, f"{field}_id"))

    def placed_at(self) -> Association:
        """The association a row of a village sits at: its group if it has one, else its
        village (the node whose rights govern the row)."""
        return self.group if self.group_id else self.village


class Association(ScopedModel):
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.REGIONAL)
    name = models.CharField("名称", max_length=100)
    division_code = models.CharField(
        "区划代码",
        max_length=15,
        validators=[RegexValidator(r"^\d+$", "区划代码只能由数字组成。")],
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级组织",
    )
    established_on = models.DateField("成立日期", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    is_small_village = models.BooleanField(
        "小村", default=False, help_text="小村的理事会按“3-2-1”模式配备,其他村按“5-3-3”模式。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "计生协组织"
        verbose_name_plural = "计生协组织"
        ordering = ["division_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "division_code"], name="association_code_unique_in_county"
            ),
            # The tenant roots themselves: one county per division code on the platform.
            models.UniqueConstraint(
                fields=["division_code"],
                condition=Q(level="county"),
                name="association_county_code_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(level="county", division_code__regex=r"^\d{6}$", parent__isnull=True)
                    | Q(level="township", division_code__regex=r"^\d{9}$", parent__isnull=False)
                    | Q(level="village", division_code__regex=r"^\d{12}$", parent__isnull=False)
                    | Q(level="group", division_code__regex=r"^\d{15}$", parent__isnull=False)
                ),
                name="association_code_length_by_level",
            ),
            models.CheckConstraint(
                condition=(
                    Q(level="county", township__isnull=True, village__isnull=True)
                    | Q(level="township", township__isnull=False, village__isnull=True)
                    | Q(level="village", township__isnull=False, village__isnull=False)
                    | Q(level="group", village__isnull=False, group__isnull=False)
                ),
                name="association_ancestor_keys_by_level",
            ),
        ]
        indexes = [models.Index(fields=["county", "level"], name="association_county_level")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_county(self) -> bool:
        return self.level == Level.COUNTY

    @property
    def child_level(self) -> Level | None:
        return child_level(self.level)

    def ancestors(self) -> list[Association]:
        """Root first, excluding self. At most three hops; selectors prefetch them with
        select_related("parent__parent__parent")."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def lineage(self) -> list[Association]:
        """Root first, self last: a page's breadcrumbs."""
        return [*self.ancestors(), self]


class CouncilPosition(models.TextChoices):
    PRESIDENT = "president", "会长"
    VICE_PRESIDENT = "vice_president", "副会长"
    SECRETARY_GENERAL = "secretary_general", "秘书长"
    DIRECTOR = "director", "理事"


class DirectorBackground(models.TextChoices):
    ELDER = "elder", "五老"
    NOTABLE = "notable", "社会贤达·致富能人·积极分子"
    CADRE = "cadre", "村干部"
    OTHER = "other", "其他"


class Council(ScopedModel):
    """One term (届) of an association's council."""

    association = models.ForeignKey(
        Association, on_delete=models.PROTECT, related_name="councils", verbose_name="协会"
    )
    term_number = models.PositiveSmallIntegerField("届次")
    starts_on = models.DateField("任期开始")
    ends_on = models.DateField("任期结束")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "理事会"
        verbose_name_plural = "理事会"
        ordering = ["association", "-term_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "association", "term_number"], name="council_term_unique"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="council_term_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.association.name}第{self.term_number}届理事会"


class CouncilSeat(ScopedModel):
    """A position on a council, held (for now) by a person's name."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="seats", verbose_name="理事会"
    )
    position = models.CharField("职务", max_length=20, choices=CouncilPosition.choices)
    person_name = models.CharField("姓名", max_length=50)
    background = models.CharField("来源类别", max_length=10, choices=DirectorBackground.choices)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "理事会成员"
        verbose_name_plural = "理事会成员"
        ordering = ["council", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "council"],
                condition=Q(position="president"),
                name="council_one_president",
            ),
            models.UniqueConstraint(
                fields=["county", "council", "person_name"], name="council_person_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_position_display()} {self.person_name}"


class ChangeRecord(ScopedModel):
    """Who changed what, when, from which request or task, with before and after.
    Written by services (bulk writes included), never by signals alone."""

    class Action(models.TextChoices):
        CREATE = "create", "新建"
        UPDATE = "update", "修改"
        DELETE = "delete", "删除"
        MOVE = "move", "区划调整"

    node = models.ForeignKey(
        Association, on_delete=models.PROTECT, related_name="+", verbose_name="所属组织"
    )
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.BigIntegerField("对象编号")
    object_label = models.CharField("对象", max_length=200)
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人", max_length=150)
    source = models.CharField("来源", max_length=200)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["county", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_label}"

    @property
    def source_display(self) -> str:
        """Where the change came from, in Chinese (命令 seed_demo, 页面 /nodes/3/edit/, …)."""
        return sources.describe(self.source)

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field label, before, after) for each field whose value changed."""
        before, after = self.before or {}, self.after or {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return [(self._field_label(k), before.get(k), after.get(k)) for k in keys]

    def _field_label(self, name: str) -> str:
        try:
            model = apps.get_model(self.object_type)
            return str(model._meta.get_field(name).verbose_name)
        except (LookupError, FieldDoesNotExist):
            return name


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县级管理员"
    COUNTY_VIEWER = "county_viewer", "县级查看员"
    TOWNSHIP_STAFF = "township_staff", "乡镇专干"
    VILLAGE_SECRETARY = "village_secretary", "村(社区)秘书长"
    GROUP_LEADER = "group_leader", "会员小组长"


ROLE_LEVEL = {
    Role.COUNTY_ADMIN: Level.COUNTY,
    Role.COUNTY_VIEWER: Level.COUNTY,
    Role.TOWNSHIP_STAFF: Level.TOWNSHIP,
    Role.VILLAGE_SECRETARY: Level.VILLAGE,
    Role.GROUP_LEADER: Level.GROUP,
}


class User(AbstractUser):
    """A staff account. Belongs to one node with one role; only the platform operator
    (a superuser without a node) works across counties. Not a scoped model: signing in looks
    users up by name before any scope exists (see associations/scoping_registry.py)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    node = models.ForeignKey(
        Association,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属组织",
    )
    county = models.ForeignKey(
        Association,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属县",
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(node__isnull=False, county__isnull=False),
                name="user_staff_has_node",
            ),
            models.CheckConstraint(
                condition=Q(node__isnull=True) | ~Q(role=""), name="user_node_has_role"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def node_level(self) -> Level | None:
        """The level of the user's node, known from the role without reading the node (which
        row-level security hides until the user's scope is entered)."""
        return ROLE_LEVEL[Role(self.role)] if self.node_id and self.role else None

    @property
    def is_platform_operator(self) -> bool:
        return self.is_superuser and self.node_id is None

    def save(self, *args, **kwargs):
        # A new password (set_password, then save: the user's own change, an admin's reset,
        # the demo seed) ends every API token of the account.
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            self.api_tokens.all().delete()


class Job(ScopedModel):
    """One piece of background work asked for by a user: an import (dry run, then commit), an
    export (a roster, a report sheet), next a report run. The record of who did what and when,
    kept after its files are purged. Sits at the node it works on, so it is seen exactly where
    that node is. Its files live in its own folder, MEDIA_ROOT/jobs/<county>/<id>/ (0700).

    `state` says where the job is; `step` which part of its work it is on (an import is checked,
    then committed); `failure` why a failed job failed, which decides what its page offers.
    A worker that runs a step writes `heartbeat_at` every few seconds: a running job whose
    heartbeat is stale was left by a dead worker (associations.jobs.sweep_stale)."""

    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        READY = "ready", "待确认"  # an import checked and waiting for the user's confirmation
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    class Failure(models.TextChoices):
        NONE = "", "无"
        BROKER_DOWN = "broker_down", "后台任务服务暂不可用"
        INTERRUPTED = "interrupted", "后台处理中断"
        ERROR = "error", "处理出错"
        REFUSED = "refused", "文件被拒绝"
        EXPIRED = "expired", "文件已过保留期限"

    kind = models.CharField("任务类别", max_length=40)
    label = models.CharField("内容", max_length=100, blank=True, help_text="如“会员名册”。")
    step = models.CharField("步骤", max_length=20, blank=True)
    node = models.ForeignKey(
        Association, on_delete=models.PROTECT, related_name="+", verbose_name="组织"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.QUEUED)
    failure = models.CharField(
        "失败原因", max_length=20, choices=Failure.choices, default=Failure.NONE, blank=True
    )
    error = models.TextField("说明", blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    full_identity = models.BooleanField(
        "含完整身份证号码", default=False, help_text="提交人要求且有权查看完整身份证号码与电话。"
    )
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    attempts = models.PositiveSmallIntegerField("本步骤已运行次数", default=0)
    task_id = models.CharField("后台任务", max_length=64, blank=True)
    queued_at = models.DateTimeField("排队时间", null=True, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    input_file = models.CharField(
        "上传的文件", max_length=255, blank=True, help_text="相对于 MEDIA_ROOT 的路径。"
    )
    input_name = models.CharField("原文件名", max_length=200, blank=True)
    file_type = models.CharField("文件类型", max_length=8, blank=True)
    output_file = models.CharField(
        "生成的文件", max_length=255, blank=True, help_text="相对于 MEDIA_ROOT 的路径。"
    )
    output_name = models.CharField("下载文件名", max_length=200, blank=True)
    output_size = models.PositiveBigIntegerField("文件大小(字节)", default=0)
    result = models.JSONField("结果", default=dict, blank=True)
    file_deleted_at = models.DateTimeField(
        "文件删除时间", null=True, blank=True, help_text="文件超过保留期限后删除,记录保留。"
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["county", "node", "kind", "-created_at"], name="job_node_kind"),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
        ]

    def __str__(self) -> str:
        return self.output_name or self.input_name or self.kind

    @property
    def family(self) -> str:
        """ "import", "export" or "report": the part of the kind before the dot."""
        return self.kind.split(".", 1)[0]

    @property
    def subject(self) -> str:
        """What is imported or exported: the part of the kind after the dot."""
        return self.kind.split(".", 1)[-1]

    @property
    def is_working(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def status_label(self) -> str:
        """The state in the words of the job's family: an import is 校验中, then 已校验, …"""
        return STATUS_LABELS.get((self.family, self.step, self.state)) or self.get_state_display()

    def count(self, name: str) -> int:
        return int(self.result.get("counts", {}).get(name, 0))


STATUS_LABELS = {
    ("import", "validate", "queued"): "待校验",
    ("import", "validate", "running"): "校验中",
    ("import", "validate", "ready"): "已校验",
    ("import", "commit", "queued"): "待导入",
    ("import", "commit", "running"): "导入中",
    ("import", "commit", "done"): "已导入",
    ("export", "build", "running"): "生成中",
}


class FormSubmission(ScopedModel):
    """A one-time form token that has been used: a form sent again (a double tap, Back, a
    retry after a dropped connection) finds the record its first sending created instead of
    creating a second one. Written by associations.submissions in the same transaction as
    the record, and placed where the record is."""

    token = models.UUIDField("表单令牌")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.BigIntegerField("对象编号", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "表单提交记录"
        verbose_name_plural = "表单提交记录"
        constraints = [
            models.UniqueConstraint(
                fields=["county", "token"], name="form_submission_token_unique_in_county"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id or ''}".strip()


# The attachment base builds on ScopedModel above: imported here, after it, to break the cycle.
from .attachments.models import AttachmentBase  # noqa: E402


class CouncilAttachment(AttachmentBase):
    """A document or photo of a council term (选举报告、批复文件、会议照片): sits where the
    council's association sits. Stored and served through associations.attachments."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="attachments", verbose_name="理事会"
    )

    objects = ScopedManager()

    owner_field = "council"
    url_names = ("council-attachment", "council-attachment-thumb", "council-attachment-delete")

    class Meta(AttachmentBase.Meta):
        verbose_name = "理事会附件"
        verbose_name_plural = "理事会附件"


# Personal API tokens and other systems' API keys (issue 12): they build on ScopedModel above.
from .accounts.models import ApiKey, ApiToken  # noqa: E402, F401
