"""Serializers of the activities API.

Read serializers show an activity (its attendees as member ids and its materials with
quantities in the detail) and a home visit. Write serializers only validate the payload; the
views hand `validated_data` to activities.services, which check permissions and write.

References resolve in the request's scope, so another county's or a sibling village's member,
household or node is `does_not_exist`. The catalogues (themes, themed days, materials) sit at
the county node, beyond a village's scope: they resolve against the caller's county's
catalogue (activities.catalogues)."""

from __future__ import annotations

from django.utils.encoding import smart_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from associations.api.fields import ChoiceLabelField
from associations.models import Association
from households.models import Household
from members.models import Member

from .. import catalogues
from ..models import Activity, HomeVisit, Material, Theme, ThemedDay
from .attachments import ActivityAttachmentSerializer

MAX_COUNT = 2_147_483_647  # PositiveIntegerField's ceiling in PostgreSQL
EXTERNAL_REF_HELP = "其他系统的记录编号(本县唯一),用于接口同步;也可用 by-ref 接口按编号写入。"


# --- reading -----------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    """An activity in a list."""

    association_name = serializers.CharField(source="association.name", read_only=True)
    kind_display = ChoiceLabelField(source="kind")
    meeting_type_display = ChoiceLabelField(source="meeting_type")
    service_type_display = ChoiceLabelField(source="service_type")
    theme_name = serializers.SerializerMethodField()
    themed_day_name = serializers.SerializerMethodField()
    attendee_count = serializers.IntegerField(read_only=True, help_text="登记的参加会员人数")
    attachments = ActivityAttachmentSerializer(
        many=True, read_only=True, help_text="照片与文档,含按账号范围校验的下载地址"
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "association",
            "association_name",
            "county",
            "township",
            "village",
            "group",
            "kind",
            "kind_display",
            "meeting_type",
            "meeting_type_display",
            "service_type",
            "service_type_display",
            "title",
            "date",
            "end_date",
            "place",
            "theme",
            "theme_name",
            "themed_day",
            "themed_day_name",
            "participants",
            "consultations",
            "trainees",
            "organiser",
            "summary",
            "external_ref",
            "attendee_count",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_theme_name(self, activity) -> str | None:
        return activity.theme.name if activity.theme_id else None

    def get_themed_day_name(self, activity) -> str | None:
        return str(activity.themed_day) if activity.themed_day_id else None


class HandoutSerializer(serializers.Serializer):
    material = serializers.IntegerField(source="material_id", read_only=True)
    name = serializers.CharField(source="material.name", read_only=True)
    unit = serializers.CharField(source="material.unit", read_only=True)
    quantity = serializers.IntegerField(read_only=True)


class ActivityDetailSerializer(ActivitySerializer):
    """One activity: its attendees (member ids) and the materials handed out."""

    attendees = serializers.SerializerMethodField(help_text="参加会员的会员编号(id)")
    materials = HandoutSerializer(source="handouts", many=True, read_only=True)

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "attendees", "materials"]
        read_only_fields = fields

    def get_attendees(self, activity) -> list[int]:
        return sorted(activity.attendances.values_list("member_id", flat=True))

    def to_representation(self, activity):
        data = super().to_representation(activity)
        data["attendee_count"] = len(data["attendees"])
        return data


class HomeVisitSerializer(serializers.ModelSerializer):
    visitor_name = serializers.CharField(source="visitor.person.name", read_only=True)
    household_number = serializers.CharField(source="household.number", read_only=True)
    head_name = serializers.SerializerMethodField()
    purpose_display = ChoiceLabelField(source="purpose")

    class Meta:
        model = HomeVisit
        fields = [
            "id",
            "visitor",
            "visitor_name",
            "household",
            "household_number",
            "head_name",
            "county",
            "township",
            "village",
            "group",
            "visited_on",
            "purpose",
            "purpose_display",
            "notes",
            "follow_up_needed",
            "follow_up_done_on",
            "pairing",
            "external_ref",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_head_name(self, visit) -> str | None:
        return visit.household.head.name if visit.household.head_id else None


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["id", "name", "is_active"]
        read_only_fields = fields


class ThemedDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ThemedDay
        fields = ["id", "month", "day", "name", "is_active"]
        read_only_fields = fields


class MaterialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Material
        fields = ["id", "name", "unit", "is_active"]
        read_only_fields = fields


# --- writing -----------------------------------------------------------------------------------


def _request_user(field):
    request = field.context.get("request")
    return getattr(request, "user", None)


@extend_schema_field(OpenApiTypes.INT)
class CatalogueItemField(serializers.Field):
    """The id of an item of the caller's county's catalogue (retired items included: the
    services refuse choosing one anew, with `retired`)."""

    default_error_messages = {
        "does_not_exist": "编号为 {pk_value} 的{label}不存在。",
        "incorrect_type": "应为整数编号,收到 {data_type}。",
    }
    LOADERS = {
        Theme: (catalogues.themes, "主题"),
        ThemedDay: (catalogues.themed_days, "主题日"),
        Material: (catalogues.materials, "物资"),
    }

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        load, label = self.LOADERS[self.model]
        user = _request_user(self)
        items = load(county_id=user.county_id, active_only=False) if user else []
        found = next((item for item in items if item.pk == pk), None)
        if found is None:
            self.fail("does_not_exist", pk_value=smart_str(data), label=label)
        return found

    def to_representation(self, value):
        return value.pk


class ScopedIdListField(serializers.ListField):
    """A list of ids of rows the caller's scope sees, resolved in one query; an id outside it
    is `does_not_exist`."""

    child = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    default_error_messages = {"does_not_exist": "编号为 {pk_value} 的对象不存在。"}

    def __init__(self, model, select=(), **kwargs):
        self.model, self.select = model, select
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        rows = self.model.objects.filter(pk__in=ids).select_related(*self.select).in_bulk()
        missing = [pk for pk in ids if pk not in rows]
        if missing:
            self.fail("does_not_exist", pk_value=missing[0])
        return [rows[pk] for pk in ids]


class HandoutInputSerializer(serializers.Serializer):
    material = CatalogueItemField(Material, label="物资")
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, label="数量")


class ActivityWriteSerializer(serializers.Serializer):
    """The fields an activity's create and update share (an update is partial)."""

    kind = serializers.ChoiceField(choices=Activity.Kind.choices, label="活动类别")
    meeting_type = serializers.ChoiceField(
        choices=Activity.MeetingType.choices, required=False, allow_blank=True, label="会议类型"
    )
    service_type = serializers.ChoiceField(
        choices=Activity.ServiceType.choices, required=False, allow_blank=True, label="服务类型"
    )
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date = serializers.DateField(label="活动日期")
    end_date = serializers.DateField(required=False, allow_null=True, label="结束日期")
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    theme = CatalogueItemField(Theme, required=False, allow_null=True, label="主题")
    themed_day = CatalogueItemField(ThemedDay, required=False, allow_null=True, label="主题日")
    participants = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    consultations = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    trainees = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    organiser = serializers.CharField(max_length=100, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    attendees = ScopedIdListField(
        Member,
        select=["person"],
        required=False,
        label="参加会员",
        help_text="会员编号(id)列表;修改时替换原名单",
    )
    whole_groups = ScopedIdListField(
        Association,
        required=False,
        label="整组参加",
        help_text="会员小组编号列表:活动当天该组的全体会员都登记为参加会员",
    )
    materials = HandoutInputSerializer(
        many=True, required=False, help_text="发放的物资及数量;修改时替换原记录"
    )

    def validate_materials(self, rows):
        seen = set()
        for row in rows:
            if "material" not in row or "quantity" not in row:
                # A partial update leaves a row's own fields optional too: not here.
                raise serializers.ValidationError("每项物资须填写物资和数量。", code="required")
            if row["material"].pk in seen:
                raise serializers.ValidationError("同一物资只能填写一次。", code="duplicate")
            seen.add(row["material"].pk)
        return rows

    def service_arguments(self) -> dict:
        """validated_data in the services' terms: materials as {material: quantity}."""
        data = dict(self.validated_data)
        if "materials" in data:
            data["materials"] = {row["material"]: row["quantity"] for row in data["materials"]}
        return data


class ActivityCreateSerializer(ActivityWriteSerializer):
    association = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(),
        required=False,
        label="举办协会",
        help_text="不填则为本账号所属的组织",
    )


class ActivityUpsertSerializer(ActivityWriteSerializer):
    """The whole record, as another system sends it: what is left out takes its default."""

    association = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(),
        required=False,
        label="举办协会",
        help_text="不填则为本账号所属的组织;已有记录的举办协会不能改变",
    )
    external_ref = None  # the path names it


class VisitWriteSerializer(serializers.Serializer):
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all(), label="走访户")
    visited_on = serializers.DateField(label="走访日期")
    purpose = serializers.ChoiceField(choices=HomeVisit.Purpose.choices, label="走访目的")
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    follow_up_needed = serializers.BooleanField(required=False, label="需要跟进")
    follow_up_done_on = serializers.DateField(required=False, allow_null=True, label="跟进完成日期")
    external_ref = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=EXTERNAL_REF_HELP
    )


class VisitCreateSerializer(VisitWriteSerializer):
    visitor = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.select_related("person"), label="走访人"
    )


class VisitUpsertSerializer(VisitWriteSerializer):
    visitor = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.select_related("person"),
        label="走访人",
        help_text="已有记录的走访人不能改变",
    )
    external_ref = None  # the path names it
