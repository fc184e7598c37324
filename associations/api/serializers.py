from rest_framework import serializers

from ..models import Association, ChangeRecord, Council, CouncilSeat, Kind, Level, User


class AssociationSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Association
        fields = [
            "id",
            "level",
            "level_display",
            "kind",
            "kind_display",
            "name",
            "division_code",
            "parent",
            "county",
            "township",
            "village",
            "established_on",
            "address",
            "phone",
            "is_small_village",
            "updated_at",
        ]
        read_only_fields = ["level", "county", "township", "village", "updated_at"]


class AssociationCreateSerializer(serializers.Serializer):
    # Class-level scoped queryset: it takes the request's scope when DRF clones it.
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="上级组织"
    )
    name = serializers.CharField(max_length=100, label="名称")
    division_code = serializers.CharField(max_length=15, label="区划代码")
    kind = serializers.ChoiceField(
        choices=Association._meta.get_field("kind").choices, required=False
    )
    established_on = serializers.DateField(required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_small_village = serializers.BooleanField(required=False)


class AssociationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    division_code = serializers.CharField(max_length=15, required=False)
    kind = serializers.ChoiceField(
        choices=Association._meta.get_field("kind").choices, required=False
    )
    established_on = serializers.DateField(required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_small_village = serializers.BooleanField(required=False)


class AssociationMoveSerializer(serializers.Serializer):
    new_parent = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="新的上级组织"
    )
    new_division_code = serializers.CharField(max_length=15, required=False, allow_blank=True)


class TreeQuerySerializer(serializers.Serializer):
    root = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="根节点",
        help_text="从哪个组织起(组织编号),默认本账号的组织",
        error_messages={
            "invalid": "root 应为组织编号(正整数)。",
            "min_value": "root 应为组织编号(正整数)。",
            "max_value": "root 应为组织编号(正整数)。",
            "max_string_length": "root 应为组织编号(正整数)。",
        },
    )


class TreeNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    kind = serializers.ChoiceField(choices=Kind.choices)
    division_code = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["children"] = TreeNodeSerializer(many=True, help_text="下级组织,结构相同")
        return fields


class ChangeRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeRecord
        fields = [
            "id",
            "at",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "actor_label",
            "source",
            "before",
            "after",
        ]


class CouncilSeatSerializer(serializers.ModelSerializer):
    council = serializers.PrimaryKeyRelatedField(queryset=Council.objects.all(), label="理事会")

    class Meta:
        model = CouncilSeat
        fields = ["id", "council", "position", "person_name", "background", "note"]


class CouncilSerializer(serializers.ModelSerializer):
    association = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="协会"
    )
    seats = CouncilSeatSerializer(many=True, read_only=True)
    model_check = serializers.SerializerMethodField()

    class Meta:
        model = Council
        fields = [
            "id",
            "association",
            "term_number",
            "starts_on",
            "ends_on",
            "seats",
            "model_check",
        ]

    def get_model_check(self, council) -> dict | None:
        from ..selectors import council_model_check

        check = council_model_check(council=council)
        if check is None:
            return None
        return {
            "model": check.model_name,
            "met": check.is_met,
            "required": check.required,
            "actual": check.actual,
            "missing": check.missing_text(),
        }


class MeSerializer(serializers.ModelSerializer):
    node = AssociationSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "role_display", "node"]
