"""Persons (the one record of a human being), households, hardship surveys, assistance
records and relocations. Every row sits at a village (and maybe a member group) of a county."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from associations.attachments.models import AttachmentBase
from associations.encrypted_fields import BlindIndexField, EncryptedCharField
from associations.models import ScopedModel
from associations.scope import ScopedManager

from .categories import Relation
from .identity import mask_id_number, mask_phone

# GB/T 3304 codes and names of China's 56 ethnic groups, in the standard's order.
ETHNICITIES = [
    (f"{i:02d}", name)
    for i, name in enumerate(
        [
            "汉族",
            "蒙古族",
            "回族",
            "藏族",
            "维吾尔族",
            "苗族",
            "彝族",
            "壮族",
            "布依族",
            "朝鲜族",
            "满族",
            "侗族",
            "瑶族",
            "白族",
            "土家族",
            "哈尼族",
            "哈萨克族",
            "傣族",
            "黎族",
            "傈僳族",
            "佤族",
            "畲族",
            "高山族",
            "拉祜族",
            "水族",
            "东乡族",
            "纳西族",
            "景颇族",
            "柯尔克孜族",
            "土族",
            "达斡尔族",
            "仫佬族",
            "羌族",
            "布朗族",
            "撒拉族",
            "毛南族",
            "仡佬族",
            "锡伯族",
            "阿昌族",
            "普米族",
            "塔吉克族",
            "怒族",
            "乌孜别克族",
            "俄罗斯族",
            "鄂温克族",
            "德昂族",
            "保安族",
            "裕固族",
            "京族",
            "塔塔尔族",
            "独龙族",
            "鄂伦春族",
            "赫哲族",
            "门巴族",
            "珞巴族",
            "基诺族",
        ],
        start=1,
    )
]


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Residency(models.TextChoices):
    REGISTERED = "registered", "户籍常住"
    INFLOW = "inflow", "流入"
    OUTFLOW = "outflow", "流出"


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", "未婚"
    MARRIED = "married", "已婚"
    DIVORCED = "divorced", "离婚"
    WIDOWED = "widowed", "丧偶"


class RegistrationKind(models.TextChoices):
    """户口性质: benefit rules such as 农村部分计划生育家庭奖励扶助 ask for rural registration."""

    AGRICULTURAL = "agricultural", "农业户口"
    NON_AGRICULTURAL = "non_agricultural", "非农业户口"


class Household(ScopedModel):
    number = models.CharField("户编号", max_length=30)
    head = models.ForeignKey(
        "households.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="户主",
    )
    address = models.CharField("住址", max_length=200, blank=True)
    residency = models.CharField(
        "户籍状态", max_length=12, choices=Residency.choices, default=Residency.REGISTERED
    )
    # Encrypted at rest (associations.crypto), found by its blind index.
    phone = EncryptedCharField("联系电话", max_length=30, blank=True, mask=mask_phone)
    phone_index = BlindIndexField(source="phone")
    # Derived by households.categories from the persons; refreshed on every change and nightly.
    categories = ArrayField(
        models.CharField(max_length=20), default=list, blank=True, verbose_name="家庭类别"
    )
    family_types = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, verbose_name="幸福家庭类型"
    )
    categories_refreshed_on = models.DateField("类别更新日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "家庭户"
        verbose_name_plural = "家庭户"
        ordering = ["village", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "village", "number"], name="household_number_unique_in_village"
            ),
            models.CheckConstraint(condition=Q(village__isnull=False), name="household_in_village"),
        ]
        indexes = [
            GinIndex(fields=["categories"], name="household_categories_gin"),
            GinIndex(fields=["family_types"], name="household_types_gin"),
            models.Index(fields=["county", "number"], name="household_county_number"),
            # The list's order at township and village scope (at county scope the unique
            # constraint's index serves it).
            models.Index(fields=["township", "village", "number"], name="household_township_order"),
            models.Index(fields=["village", "number"], name="household_village_order"),
        ]

    def __str__(self) -> str:
        return f"{self.number}户"


class Person(ScopedModel):
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="所在家庭户",
    )
    relation_to_head = models.CharField(
        "与户主关系", max_length=20, choices=Relation.choices, blank=True
    )
    name = models.CharField("姓名", max_length=50)
    # Empty for a name with no Chinese or Latin letters (imported data can have one).
    name_initials = models.CharField("姓名拼音首字母", max_length=50, blank=True)
    # ID number and phone are encrypted at rest (associations.crypto); exact lookups and the
    # one-person-per-county constraint go through their keyed blind indexes.
    id_number = EncryptedCharField(
        "居民身份证号码", max_length=18, null=True, blank=True, mask=mask_id_number
    )
    id_number_index = BlindIndexField(source="id_number")
    sex = models.CharField("性别", max_length=6, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=2, choices=ETHNICITIES, default="01")
    phone = EncryptedCharField("联系电话", max_length=30, blank=True, mask=mask_phone)
    phone_index = BlindIndexField(source="phone")
    address = models.CharField("住址", max_length=200, blank=True)
    residency = models.CharField(
        "户籍状态", max_length=12, choices=Residency.choices, default=Residency.REGISTERED
    )
    marital_status = models.CharField(
        "婚姻状况", max_length=12, choices=MaritalStatus.choices, default=MaritalStatus.UNMARRIED
    )
    married_on = models.DateField("结婚日期", null=True, blank=True)
    is_deceased = models.BooleanField("已去世", default=False)
    died_on = models.DateField("去世日期", null=True, blank=True)
    disability_grade = models.PositiveSmallIntegerField(
        "残疾等级",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="1 级最重,4 级最轻;无残疾不填。",
    )
    mother = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="母亲",
    )
    only_child_certificate_number = models.CharField(
        "独生子女父母光荣证号", max_length=40, blank=True
    )
    only_child_certificate_date = models.DateField("光荣证发证日期", null=True, blank=True)
    registration_kind = models.CharField(
        "户口性质", max_length=20, choices=RegistrationKind.choices, blank=True
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["village", "household", "birth_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "id_number_index"], name="person_id_unique_in_county"
            ),
            models.CheckConstraint(condition=Q(village__isnull=False), name="person_in_village"),
            models.CheckConstraint(
                condition=Q(died_on__isnull=True) | Q(is_deceased=True),
                name="person_died_on_only_if_deceased",
            ),
            models.CheckConstraint(
                condition=Q(disability_grade__isnull=True)
                | Q(disability_grade__gte=1, disability_grade__lte=4),
                name="person_disability_grade_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["county", "name_initials"],
                name="person_initials",
                opclasses=["", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["county", "name"], name="person_name", opclasses=["", "varchar_pattern_ops"]
            ),
            models.Index(fields=["county", "phone_index"], name="person_phone"),
            models.Index(
                fields=["county", "village", "household", "birth_date", "id"],
                name="person_list_order",
            ),
            # The list's order at township, village and group scope: without them the planner
            # walks an index in household order, filtering for the scope, through the whole
            # county, or joins every person of the scope before sorting.
            models.Index(
                fields=["township", "village", "household", "birth_date", "id"],
                name="person_township_order",
            ),
            models.Index(
                fields=["village", "household", "birth_date", "id"], name="person_village_order"
            ),
            models.Index(
                fields=["group", "village", "household", "birth_date", "id"],
                name="person_group_order",
            ),
            models.Index(fields=["county", "birth_date"], name="person_county_birth"),
            models.Index(fields=["village", "birth_date"], name="person_village_birth"),
            models.Index(fields=["county", "died_on"], name="person_county_died"),
        ]

    def __str__(self) -> str:
        return self.name


class HardshipReason(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    DISASTER = "disaster", "因灾"
    POVERTY = "poverty", "贫困"
    OTHER = "other", "其他"


class HardshipAssessment(ScopedModel):
    """One household's entry in one year's hardship survey (计生困难家庭摸底)."""

    class Status(models.TextChoices):
        IN_ROSTER = "in_roster", "在册"
        EXITED = "exited", "退出"

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="hardship", verbose_name="家庭户"
    )
    year = models.PositiveSmallIntegerField("年度")
    reasons = ArrayField(
        models.CharField(max_length=12, choices=HardshipReason.choices),
        verbose_name="困难原因",
    )
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.IN_ROSTER
    )
    notes = models.CharField("情况说明", max_length=500, blank=True)
    assessed_on = models.DateField("摸底日期", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "计生困难家庭摸底"
        verbose_name_plural = "计生困难家庭摸底"
        ordering = ["-year", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "household", "year"], name="hardship_once_a_year"
            ),
            models.CheckConstraint(condition=~Q(reasons=[]), name="hardship_has_reason"),
        ]
        indexes = [models.Index(fields=["county", "year", "status"], name="hardship_year")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.household}"


class AssistanceKind(models.TextChoices):
    VISIT = "visit", "慰问"
    RELIEF = "relief", "救助"
    SCHOOL_AID = "school_aid", "助学"
    MEDICAL_AID = "medical_aid", "医疗救助"
    LEGAL_AID = "legal_aid", "法律援助"
    HEALTH_CHECK = "health_check", "健康体检"


class AssistanceRecord(ScopedModel):
    """What a household received (帮扶档案)."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="assistance", verbose_name="家庭户"
    )
    kind = models.CharField("帮扶类型", max_length=20, choices=AssistanceKind.choices)
    given_on = models.DateField("日期")
    amount = models.DecimalField("金额(元)", max_digits=10, decimal_places=2, null=True, blank=True)
    goods = models.CharField("物品", max_length=200, blank=True)
    given_by = models.CharField("帮扶单位或个人", max_length=100)
    notes = models.CharField("备注", max_length=500, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "帮扶记录"
        verbose_name_plural = "帮扶记录"
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="assistance_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False) | ~Q(goods=""), name="assistance_amount_or_goods"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.given_on}"


class Relocation(ScopedModel):
    """A person or household moving to another village of the county; the row sits at the
    destination, and keeps where it came from."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="relocations"
    )
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, null=True, blank=True, related_name="relocations"
    )
    from_village = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="迁出村",
    )
    from_household_number = models.CharField("原户编号", max_length=30, blank=True)
    moved_on = models.DateField("迁移日期")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "迁移记录"
        verbose_name_plural = "迁移记录"
        ordering = ["-moved_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(household__isnull=False),
                name="relocation_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"迁移 {self.moved_on}"


class HouseholdAttachment(AttachmentBase):
    """A photo or document of a household's archive (帮扶照片、证明材料): sits where the
    household sits. Stored and served through associations.attachments."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="attachments", verbose_name="家庭户"
    )

    objects = ScopedManager()

    owner_field = "household"
    url_names = (
        "household-attachment",
        "household-attachment-thumb",
        "household-attachment-delete",
    )

    class Meta(AttachmentBase.Meta):
        verbose_name = "家庭户附件"
        verbose_name_plural = "家庭户附件"


class IdentityRead(ScopedModel):
    """One display of full ID numbers or phones (or one lookup by them): who, whose, which
    fields, when, from where and why. One row per request, however many persons it showed
    (`person_ids`; `person` when it was one). Sits at the reader's node, so the county's
    administrators see every read of their county (households.identity_reads)."""

    class Reason(models.TextChoices):
        DETAIL_PAGE = "detail_page", "详情页"
        EDIT_FORM = "edit_form", "修改表单"
        API_DETAIL = "api_detail", "接口详情"
        LOOKUP = "lookup", "按号码查询"
        EXPORT = "export", "导出完整号码"
        IMPORT = "import", "导入核对身份证号码"

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="查看人",
    )
    reader_label = models.CharField("查看人账号", max_length=150)
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="被查看人",
    )
    person_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    person_count = models.PositiveIntegerField("人数", default=0)
    fields = ArrayField(models.CharField(max_length=20), default=list, verbose_name="字段")
    reason = models.CharField("事由", max_length=20, choices=Reason.choices)
    route = models.CharField("页面或接口", max_length=100, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    read_at = models.DateTimeField("时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "完整号码查看记录"
        verbose_name_plural = "完整号码查看记录"
        ordering = ["-read_at", "-id"]
        indexes = [
            models.Index(fields=["county", "-read_at"], name="identity_read_county_time"),
            models.Index(fields=["reader", "reason", "read_at"], name="identity_read_reader"),
            GinIndex(fields=["person_ids"], name="identity_read_persons"),
        ]

    def __str__(self) -> str:
        return f"{self.reader_label} {self.get_reason_display()} {self.read_at:%Y-%m-%d %H:%M}"
