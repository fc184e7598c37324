"""Serializers of the households API.

Read serializers never show an ID number or phone unmasked unless the view put
`detail=True` in the context (a retrieve, or the ID-number lookup) and the role may see them
(`households.masking`, the one masking implementation). Write serializers only validate the
payload: views hand `validated_data` to the services, which check permissions and write.

Related-object fields use the scoped managers' querysets declared at class level: DRF clones
them per request, inside the request's scope, so another county's (or a sibling village's)
id is `does_not_exist`."""

from __future__ import annotations

import datetime

from django.utils import timezone
from rest_framework import serializers

from associations.api.fields import ChoiceLabelField, iso_day, label_maps
from associations.models import Association

from .. import masking
from ..categories import Relation, category_labels
from ..figures import COLUMNS, FigureRow, FiguresTable
from ..models import (
    ETHNICITIES,
    AssistanceKind,
    AssistanceRecord,
    HardshipAssessment,
    HardshipReason,
    Household,
    MaritalStatus,
    Person,
    RegistrationKind,
    Relocation,
    Residency,
    Sex,
)


class MaskedIdentityMixin:
    """`id_number` and `phone` through households.masking: full only in a detail response
    (context `detail=True`) for the roles `masking.sees_full_identity` allows."""

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _detail(self) -> bool:
        return bool(self.context.get("detail", False))

    def get_id_number(self, obj) -> str:
        return masking.id_number_for(self._user(), obj.id_number, detail=self._detail())

    def get_phone(self, obj) -> str:
        return masking.phone_for(self._user(), obj.phone, detail=self._detail())

    def get_birth_date(self, obj) -> datetime.date | None:
        """Only where the full ID number is shown (null elsewhere: see `age`)."""
        shown = masking.birth_date_for(self._user(), obj.birth_date, detail=self._detail())
        return iso_day(shown)

    def get_age(self, obj) -> int | None:
        today = self.context.get("today")
        if today is None:
            today = self.context["today"] = timezone.localdate()
        return masking.age_for(obj.birth_date, today)


# --- persons -------------------------------------------------------------------------------


class PersonSerializer(MaskedIdentityMixin, serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField(help_text="列表中始终脱敏")
    phone = serializers.SerializerMethodField(help_text="列表中始终脱敏")
    birth_date = serializers.SerializerMethodField(
        help_text="仅在可查看完整身份证号码的详情中给出,其余为 null(见 age)"
    )
    age = serializers.SerializerMethodField(help_text="周岁")
    sex_display = ChoiceLabelField(source="sex")
    ethnicity_display = ChoiceLabelField(source="ethnicity")
    residency_display = ChoiceLabelField(source="residency")
    registration_kind_display = ChoiceLabelField(source="registration_kind")
    marital_status_display = ChoiceLabelField(source="marital_status")
    relation_to_head_display = ChoiceLabelField(source="relation_to_head")
    household_number = serializers.SerializerMethodField()
    village_name = serializers.SerializerMethodField()
    group_name = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_number",
            "sex",
            "sex_display",
            "birth_date",
            "age",
            "ethnicity",
            "ethnicity_display",
            "phone",
            "address",
            "residency",
            "residency_display",
            "registration_kind",
            "registration_kind_display",
            "marital_status",
            "marital_status_display",
            "married_on",
            "is_deceased",
            "died_on",
            "disability_grade",
            "household",
            "household_number",
            "relation_to_head",
            "relation_to_head_display",
            "mother",
            "only_child_certificate_number",
            "only_child_certificate_date",
            "county",
            "township",
            "village",
            "village_name",
            "group",
            "group_name",
            "updated_at",
            "notices",
        ]
        read_only_fields = fields

    def get_household_number(self, person) -> str | None:
        return person.household.number if person.household_id else None

    def get_village_name(self, person) -> str:
        return person.village.name

    def get_group_name(self, person) -> str | None:
        return person.group.name if person.group_id else None

    def get_notices(self, person) -> list[str]:
        """Messages for the user about what the service did, e.g. the 15→18 digit upgrade."""
        return [n for n in getattr(person, "notices", []) if n]

    def to_representation(self, person):
        """The row written out: DRF's field-by-field loop (33 fields × 50 rows) took most of a
        list request. It reads what selectors.person_rows loads (names annotated) and gives
        what DRF's generic loop gives (tests/households/test_lists.py compares the two)."""
        labels = label_maps(self)
        return {
            "id": person.pk,
            "name": person.name,
            "id_number": self.get_id_number(person),
            "sex": person.sex,
            "sex_display": labels["sex_display"].get(person.sex, person.sex),
            "birth_date": self.get_birth_date(person),
            "age": self.get_age(person),
            "ethnicity": person.ethnicity,
            "ethnicity_display": labels["ethnicity_display"].get(
                person.ethnicity, person.ethnicity
            ),
            "phone": self.get_phone(person),
            "address": person.address,
            "residency": person.residency,
            "residency_display": labels["residency_display"].get(
                person.residency, person.residency
            ),
            "registration_kind": person.registration_kind,
            "registration_kind_display": labels["registration_kind_display"].get(
                person.registration_kind, person.registration_kind
            ),
            "marital_status": person.marital_status,
            "marital_status_display": labels["marital_status_display"].get(
                person.marital_status, person.marital_status
            ),
            "married_on": iso_day(person.married_on),
            "is_deceased": person.is_deceased,
            "died_on": iso_day(person.died_on),
            "disability_grade": person.disability_grade,
            "household": person.household_id,
            "household_number": person.household_number if person.household_id else None,
            "relation_to_head": person.relation_to_head,
            "relation_to_head_display": labels["relation_to_head_display"].get(
                person.relation_to_head, person.relation_to_head
            ),
            "mother": person.mother_id,
            "only_child_certificate_number": person.only_child_certificate_number,
            "only_child_certificate_date": iso_day(person.only_child_certificate_date),
            "county": person.county_id,
            "township": person.township_id,
            "village": person.village_id,
            "village_name": person.village_name,
            "group": person.group_id,
            "group_name": person.group_name if person.group_id else None,
            "updated_at": self.fields["updated_at"].to_representation(person.updated_at),
            "notices": self.get_notices(person),
        }


class PersonDetailSerializer(PersonSerializer):
    mother_name = serializers.SerializerMethodField()

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "mother_name"]
        read_only_fields = fields

    def get_mother_name(self, person) -> str | None:
        return person.mother.name if person.mother_id else None

    def to_representation(self, person):
        # DRF's generic loop: the list's written-out row has the list's fields only.
        return serializers.ModelSerializer.to_representation(self, person)


class PersonFieldsSerializer(serializers.Serializer):
    """The editable fields of a person, shared by the create and the (partial) update payload."""

    name = serializers.CharField(max_length=50, label="姓名")
    id_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        allow_null=True,
        label="居民身份证号码",
        help_text="15 位旧号码自动升级为 18 位(见响应中的 notices)",
    )
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, label="性别")
    birth_date = serializers.DateField(required=False, allow_null=True, label="出生日期")
    ethnicity = serializers.ChoiceField(choices=ETHNICITIES, required=False, label="民族")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, label="联系电话")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, label="住址")
    residency = serializers.ChoiceField(choices=Residency.choices, required=False, label="户籍状态")
    registration_kind = serializers.ChoiceField(
        choices=RegistrationKind.choices,
        required=False,
        allow_blank=True,
        label="户口性质",
        help_text="agricultural 农业户口 / non_agricultural 非农业户口;空为未登记",
    )
    marital_status = serializers.ChoiceField(
        choices=MaritalStatus.choices, required=False, label="婚姻状况"
    )
    married_on = serializers.DateField(required=False, allow_null=True, label="结婚日期")
    is_deceased = serializers.BooleanField(required=False, label="已去世")
    died_on = serializers.DateField(required=False, allow_null=True, label="去世日期")
    disability_grade = serializers.IntegerField(
        min_value=1, max_value=4, required=False, allow_null=True, label="残疾等级"
    )
    relation_to_head = serializers.ChoiceField(
        choices=Relation.choices, required=False, allow_blank=True, label="与户主关系"
    )
    mother = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, allow_null=True, label="母亲"
    )
    only_child_certificate_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, label="独生子女父母光荣证号"
    )
    only_child_certificate_date = serializers.DateField(
        required=False, allow_null=True, label="光荣证发证日期"
    )


class PersonCreateSerializer(PersonFieldsSerializer):
    """A new person: give `household` (place taken from it) or `village` (+ optional `group`).
    婚姻状况 is required: no default stands in for a fact the client did not send."""

    marital_status = serializers.ChoiceField(choices=MaritalStatus.choices, label="婚姻状况")

    household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.all(), required=False, allow_null=True, label="所在家庭户"
    )
    village = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="村(社区)"
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="会员小组"
    )

    def validate(self, attrs):
        household, village = attrs.get("household"), attrs.get("village")
        if household is None and village is None:
            raise serializers.ValidationError(
                {"village": [serializers.ErrorDetail("请选择家庭户或村(社区)。", code="required")]}
            )
        group = attrs.get("group")
        if household is not None and (
            (village is not None and household.village_id != village.pk)
            or (group is not None and household.group_id != group.pk)
        ):
            raise serializers.ValidationError(
                {
                    "household": [
                        serializers.ErrorDetail(
                            "所选家庭户不在所选的村(社区)或小组;给出家庭户时不必再选村和小组。",
                            code="household_not_in_village",
                        )
                    ]
                }
            )
        return attrs


class PersonUpdateSerializer(PersonFieldsSerializer):
    """Used with partial=True. Moving between households has its own endpoint."""


class PersonMoveSerializer(serializers.Serializer):
    to_household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.all(), label="迁入家庭户"
    )
    relation_to_head = serializers.ChoiceField(choices=Relation.choices, label="与户主关系")
    moved_on = serializers.DateField(required=False, allow_null=True, label="迁移日期")


class IdentityLookupSerializer(serializers.Serializer):
    number = serializers.CharField(
        max_length=40,
        label="身份证号码或电话",
        help_text="完整的居民身份证号码(全角、空格、小写 x 均可;15 位旧号码自动升级)"
        "或完整的电话号码",
    )


class IdentityLookupResultSerializer(serializers.Serializer):
    results = PersonDetailSerializer(many=True, read_only=True)


# --- households ----------------------------------------------------------------------------


class HouseholdSerializer(MaskedIdentityMixin, serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(help_text="列表中始终脱敏")
    residency_display = ChoiceLabelField(source="residency")
    head_name = serializers.SerializerMethodField()
    categories_display = serializers.SerializerMethodField()
    village_name = serializers.SerializerMethodField()
    group_name = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = [
            "id",
            "number",
            "head",
            "head_name",
            "address",
            "residency",
            "residency_display",
            "phone",
            "categories",
            "family_types",
            "categories_display",
            "categories_refreshed_on",
            "county",
            "township",
            "village",
            "village_name",
            "group",
            "group_name",
            "updated_at",
        ]
        read_only_fields = fields

    def get_head_name(self, household) -> str | None:
        return household.head.name if household.head_id else None

    def get_categories_display(self, household) -> list[str]:
        return category_labels([*household.categories, *household.family_types])

    def get_village_name(self, household) -> str:
        return household.village.name

    def get_group_name(self, household) -> str | None:
        return household.group.name if household.group_id else None

    def to_representation(self, household):
        """The row written out, as PersonSerializer's: it reads what selectors.household_rows
        loads (names annotated) and gives what DRF's generic loop gives."""
        labels = label_maps(self)
        return {
            "id": household.pk,
            "number": household.number,
            "head": household.head_id,
            "head_name": household.head_name if household.head_id else None,
            "address": household.address,
            "residency": household.residency,
            "residency_display": labels["residency_display"].get(
                household.residency, household.residency
            ),
            "phone": self.get_phone(household),
            "categories": list(household.categories),
            "family_types": list(household.family_types),
            "categories_display": self.get_categories_display(household),
            "categories_refreshed_on": iso_day(household.categories_refreshed_on),
            "county": household.county_id,
            "township": household.township_id,
            "village": household.village_id,
            "village_name": household.village_name,
            "group": household.group_id,
            "group_name": household.group_name if household.group_id else None,
            "updated_at": self.fields["updated_at"].to_representation(household.updated_at),
        }


class MemberSerializer(MaskedIdentityMixin, serializers.ModelSerializer):
    """A person inside a household's detail response (place fields are the household's)."""

    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)
    relation_to_head_display = serializers.CharField(
        source="get_relation_to_head_display", read_only=True
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_number",
            "sex",
            "sex_display",
            "birth_date",
            "age",
            "phone",
            "relation_to_head",
            "relation_to_head_display",
            "residency",
            "marital_status",
            "is_deceased",
            "died_on",
            "disability_grade",
            "mother",
            "only_child_certificate_number",
        ]
        read_only_fields = fields


class HardshipSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = HardshipAssessment
        fields = [
            "id",
            "household",
            "year",
            "reasons",
            "status",
            "status_display",
            "notes",
            "assessed_on",
        ]
        read_only_fields = fields


class AssistanceSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = AssistanceRecord
        fields = [
            "id",
            "household",
            "kind",
            "kind_display",
            "given_on",
            "amount",
            "goods",
            "given_by",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


class RelocationSerializer(serializers.ModelSerializer):
    from_village_name = serializers.CharField(source="from_village.name", read_only=True)

    class Meta:
        model = Relocation
        fields = [
            "id",
            "person",
            "from_village",
            "from_village_name",
            "from_household_number",
            "moved_on",
            "note",
        ]
        read_only_fields = fields


class HouseholdDetailSerializer(HouseholdSerializer):
    """A household with its members, hardship-survey entries, assistance and relocations
    (read-only; each has its own write endpoint)."""

    members = MemberSerializer(many=True, read_only=True)
    hardship = HardshipSerializer(many=True, read_only=True)
    assistance = AssistanceSerializer(many=True, read_only=True)
    relocations = RelocationSerializer(many=True, read_only=True)

    class Meta(HouseholdSerializer.Meta):
        fields = [
            *HouseholdSerializer.Meta.fields,
            "members",
            "hardship",
            "assistance",
            "relocations",
        ]
        read_only_fields = fields

    def to_representation(self, household):
        # DRF's generic loop: the list's written-out row has the list's fields only.
        return serializers.ModelSerializer.to_representation(self, household)


class HouseholdCreateSerializer(serializers.Serializer):
    village = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="村(社区)"
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="会员小组"
    )
    number = serializers.CharField(max_length=30, label="户编号")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    residency = serializers.ChoiceField(choices=Residency.choices, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class HouseholdUpdateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=30, required=False, label="户编号")
    head = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, allow_null=True, label="户主"
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="会员小组"
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    residency = serializers.ChoiceField(choices=Residency.choices, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class HouseholdMoveSerializer(serializers.Serializer):
    to_village = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="迁入村(社区)"
    )
    to_group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="迁入小组"
    )
    new_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, label="新户编号"
    )
    moved_on = serializers.DateField(required=False, allow_null=True, label="迁移日期")


class HardshipInputSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1900, max_value=9999, label="年度")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=HardshipReason.choices),
        allow_empty=True,
        label="困难原因",
    )
    status = serializers.ChoiceField(choices=HardshipAssessment.Status.choices, required=False)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)
    assessed_on = serializers.DateField(required=False, allow_null=True, label="摸底日期")


class AssistanceInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AssistanceKind.choices, label="帮扶类型")
    given_on = serializers.DateField(label="日期")
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, label="金额(元)"
    )
    goods = serializers.CharField(max_length=200, required=False, allow_blank=True)
    given_by = serializers.CharField(max_length=100, label="帮扶单位或个人")
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


# --- figures -------------------------------------------------------------------------------


class FigureRowSerializer(serializers.Serializer):
    """One unit's row of the figures table: every column of households.figures.COLUMNS."""

    unit_id = serializers.IntegerField(allow_null=True)
    unit_name = serializers.CharField(allow_null=True)
    sex_ratio = serializers.CharField(
        help_text="出生人口性别比(男:女),如 1.10:1;无女婴时为 —,无男婴时为 0:1"
    )
    sex_ratio_per_100 = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="出生人口性别比:每百名女婴对应的男婴数,如 110.5;无女婴时为 null",
    )

    def get_fields(self):
        fields = super().get_fields()
        for column in COLUMNS:
            fields[column.key] = serializers.IntegerField(label=column.title)
        return fields

    def to_representation(self, row: FigureRow) -> dict:
        per_100 = row.sex_ratio_per_100
        return {
            "unit_id": row.unit.pk if row.unit else None,
            "unit_name": row.unit.name if row.unit else None,
            **{column.key: row.values[column.key] for column in COLUMNS},
            "sex_ratio": row.sex_ratio,
            "sex_ratio_per_100": None if per_100 is None else float(per_100),
        }


class FigureColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class FiguresPeriodSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()


class FiguresNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()


class FiguresTableSerializer(serializers.Serializer):
    node = FiguresNodeSerializer()
    period = FiguresPeriodSerializer()
    columns = FigureColumnSerializer(many=True)
    rows = FigureRowSerializer(many=True)
    total = FigureRowSerializer()

    def to_representation(self, table: FiguresTable) -> dict:
        period = table.period
        return {
            "node": {"id": table.node.pk, "name": table.node.name, "level": table.node.level},
            "period": {
                "key": period.key,
                "label": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
            },
            "columns": [{"key": c.key, "label": c.title} for c in COLUMNS],
            "rows": [FigureRowSerializer(row).data for row in table.rows],
            "total": FigureRowSerializer(table.total).data,
        }


class FiguresQuerySerializer(serializers.Serializer):
    node = serializers.IntegerField(required=False, help_text="组织节点 id,默认为本账号的节点")
    period = serializers.CharField(required=False, help_text="统计期:2026、2026-H1 或 2026-Q3")
