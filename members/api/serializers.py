"""Serializers of the members API.

Read serializers show a member's person through households.masking: the ID number and phone
are always masked in lists, and in full only in a detail response (context `detail=True`) for
the roles allowed to see them. Write serializers only validate the payload; the views hand
`validated_data` to members.services, which check permissions and write.

Related fields are class-level PrimaryKeyRelatedFields over the scoped managers: DRF clones
the queryset per request inside the request's scope, so another county's (or a sibling
village's) id is `does_not_exist`."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import serializers

from associations.api.fields import ChoiceLabelField, iso_day, label_maps
from associations.models import Association
from households import masking
from households.categories import age_shown
from households.models import Household, Person

from ..models import (
    Commendation,
    ContactHousehold,
    ElderKind,
    GroupRole,
    LeaveReason,
    Member,
    MemberCategory,
    Pairing,
    VolunteerMembership,
    VolunteerTeam,
)

CATEGORY_LABELS = dict(MemberCategory.choices)


# --- members -----------------------------------------------------------------------------------


class MemberListSerializer(serializers.ModelSerializer):
    """A member in a list: the person's identity masked."""

    name = serializers.CharField(source="person.name", read_only=True)
    id_number = serializers.SerializerMethodField(help_text="列表中始终脱敏")
    sex = serializers.CharField(source="person.sex", read_only=True)
    sex_display = ChoiceLabelField(source="person.sex")
    birth_date = serializers.SerializerMethodField(
        help_text="仅在可查看完整身份证号码的详情中给出,其余为 null(见 age)"
    )
    age = serializers.SerializerMethodField()
    association_name = serializers.CharField(source="association.name", read_only=True)
    group_name = serializers.SerializerMethodField()
    categories_display = serializers.SerializerMethodField()
    elder_kind_display = ChoiceLabelField(source="elder_kind")
    status_display = ChoiceLabelField(source="status")
    leave_reason_display = ChoiceLabelField(source="leave_reason")

    class Meta:
        model = Member
        fields = [
            "id",
            "member_number",
            "person",
            "name",
            "id_number",
            "sex",
            "sex_display",
            "birth_date",
            "age",
            "association",
            "association_name",
            "county",
            "township",
            "village",
            "group",
            "group_name",
            "joined_on",
            "categories",
            "categories_display",
            "elder_kind",
            "elder_kind_display",
            "is_backbone",
            "status",
            "status_display",
            "left_on",
            "leave_reason",
            "leave_reason_display",
            "updated_at",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _detail(self) -> bool:
        return bool(self.context.get("detail", False))

    def get_id_number(self, member) -> str:
        return masking.id_number_for(self._user(), member.person.id_number, detail=self._detail())

    def get_birth_date(self, member) -> datetime.date | None:
        shown = masking.birth_date_for(
            self._user(), member.person.birth_date, detail=self._detail()
        )
        return iso_day(shown)

    @cached_property
    def _today(self):
        return timezone.localdate()  # once per response, not per row

    def get_age(self, member) -> int | None:
        return age_shown(member.person.birth_date, self._today)

    def get_group_name(self, member) -> str | None:
        return member.group.name if member.group_id else None

    def get_categories_display(self, member) -> list[str]:
        return [CATEGORY_LABELS.get(c, c) for c in member.categories]

    def to_representation(self, member):
        """The row written out: DRF's field-by-field loop (28 fields × 50 rows) took a third of
        a list request. It reads what members.selectors.member_list loads (the association's
        and group's names annotated) and gives what DRF's generic loop gives (the ISO dates of
        DRF's default settings; tests/members/test_lists.py compares the two, key for key)."""
        person, labels, day = member.person, label_maps(self), iso_day
        return {
            "id": member.pk,
            "member_number": member.member_number,
            "person": member.person_id,
            "name": person.name,
            "id_number": self.get_id_number(member),
            "sex": person.sex,
            "sex_display": labels["sex_display"].get(person.sex, person.sex),
            "birth_date": self.get_birth_date(member),
            "age": self.get_age(member),
            "association": member.association_id,
            "association_name": member.association_name,
            "county": member.county_id,
            "township": member.township_id,
            "village": member.village_id,
            "group": member.group_id,
            "group_name": member.group_name if member.group_id else None,
            "joined_on": day(member.joined_on),
            "categories": list(member.categories),
            "categories_display": self.get_categories_display(member),
            "elder_kind": member.elder_kind,
            "elder_kind_display": labels["elder_kind_display"].get(
                member.elder_kind, member.elder_kind
            ),
            "is_backbone": member.is_backbone,
            "status": member.status,
            "status_display": labels["status_display"].get(member.status, member.status),
            "left_on": day(member.left_on),
            "leave_reason": member.leave_reason,
            "leave_reason_display": labels["leave_reason_display"].get(
                member.leave_reason, member.leave_reason
            ),
            "updated_at": self.fields["updated_at"].to_representation(member.updated_at),
        }


class GroupRoleSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    member_name = serializers.CharField(source="member.person.name", read_only=True)

    class Meta:
        model = GroupRole
        fields = [
            "id",
            "member",
            "member_name",
            "group",
            "role",
            "role_display",
            "starts_on",
            "ends_on",
        ]
        read_only_fields = fields


class ContactHouseholdSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)
    head_name = serializers.SerializerMethodField()

    class Meta:
        model = ContactHousehold
        fields = ["id", "member", "household", "household_number", "head_name", "since"]
        read_only_fields = fields

    def get_head_name(self, link) -> str | None:
        return link.household.head.name if link.household.head_id else None


class PairingSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)

    class Meta:
        model = Pairing
        fields = ["id", "member", "household", "household_number", "starts_on", "ends_on", "notes"]
        read_only_fields = fields


class CommendationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    award_level_display = serializers.CharField(source="get_award_level_display", read_only=True)

    class Meta:
        model = Commendation
        fields = [
            "id",
            "kind",
            "kind_display",
            "year",
            "award_level",
            "award_level_display",
            "member",
            "group",
            "notes",
        ]
        read_only_fields = fields


class MemberDetailSerializer(MemberListSerializer):
    """One member: the person's data (ID number and phone in full only for the allowed
    roles), group roles, contact households, pairings and commendations."""

    phone = serializers.SerializerMethodField()
    ethnicity_display = serializers.CharField(source="person.get_ethnicity_display", read_only=True)
    address = serializers.CharField(source="person.address", read_only=True)
    group_roles = GroupRoleSerializer(many=True, read_only=True)
    contacts = ContactHouseholdSerializer(many=True, read_only=True)
    pairings = PairingSerializer(many=True, read_only=True)
    commendations = CommendationSerializer(many=True, read_only=True)

    class Meta(MemberListSerializer.Meta):
        fields = [
            *MemberListSerializer.Meta.fields,
            "phone",
            "ethnicity_display",
            "address",
            "group_roles",
            "contacts",
            "pairings",
            "commendations",
        ]
        read_only_fields = fields

    def get_phone(self, member) -> str:
        return masking.phone_for(self._user(), member.person.phone, detail=self._detail())

    def to_representation(self, member):
        # DRF's generic loop: the list's written-out row has the list's fields only.
        return serializers.ModelSerializer.to_representation(self, member)


class MemberKindsSerializer(serializers.Serializer):
    """What kind of member someone is: the fields registering and editing share."""

    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=MemberCategory.choices),
        required=False,
        label="会员类别",
    )
    elder_kind = serializers.ChoiceField(
        choices=ElderKind.choices, required=False, allow_blank=True, label="五老类别"
    )
    is_backbone = serializers.BooleanField(required=False, label="骨干会员")


class MemberCreateSerializer(MemberKindsSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), label="人员")
    association = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="所属协会(村、社区)"
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="会员小组"
    )
    member_number = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        label="会员证号",
        help_text="不填则自动编号",
    )
    joined_on = serializers.DateField(required=False, allow_null=True, label="入会日期")


class MemberUpdateSerializer(MemberKindsSerializer):
    """Used with partial=True; `group: null` takes the member out of any group."""

    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), required=False, allow_null=True, label="会员小组"
    )
    member_number = serializers.CharField(max_length=30, required=False, label="会员证号")
    joined_on = serializers.DateField(required=False, label="入会日期")


class MemberLeaveSerializer(serializers.Serializer):
    left_on = serializers.DateField(required=False, label="退会日期", help_text="默认今天")
    leave_reason = serializers.ChoiceField(choices=LeaveReason.choices, label="退会原因")


# --- group roles, contacts, pairings, commendations --------------------------------------------


class GroupRoleCreateSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), label="会员")
    role = serializers.ChoiceField(choices=GroupRole.Role.choices, label="职务")
    starts_on = serializers.DateField(required=False, allow_null=True, label="任职日期")


class EndSerializer(serializers.Serializer):
    ends_on = serializers.DateField(required=False, allow_null=True, help_text="默认今天")


class ContactHouseholdCreateSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), label="会员")
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all(), label="联系户")
    since = serializers.DateField(required=False, allow_null=True, label="联系起始日期")


class PairingCreateSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), label="帮扶会员")
    household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.all(), label="帮扶对象户"
    )
    starts_on = serializers.DateField(required=False, allow_null=True, label="开始日期")
    notes = serializers.CharField(
        max_length=300, required=False, allow_blank=True, label="帮扶措施"
    )


class CommendationCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Commendation.Kind.choices, label="表彰类别")
    year = serializers.IntegerField(min_value=1949, max_value=9999, label="年度")
    award_level = serializers.ChoiceField(choices=Commendation.AwardLevel.choices, label="表彰级别")
    member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.all(),
        required=False,
        allow_null=True,
        label="会员",
        help_text="先进会员小组以外的表彰必填",
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(),
        required=False,
        allow_null=True,
        label="会员小组",
        help_text="先进会员小组表彰必填",
    )
    notes = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- volunteer teams ---------------------------------------------------------------------------


class VolunteerTeamSerializer(serializers.ModelSerializer):
    service_display = serializers.CharField(source="get_service_display", read_only=True)
    size = serializers.IntegerField(read_only=True, help_text="成员人数")

    class Meta:
        model = VolunteerTeam
        fields = [
            "id",
            "name",
            "service",
            "service_display",
            "parent",
            "county",
            "township",
            "village",
            "group",
            "size",
            "created_at",
        ]
        read_only_fields = fields


class VolunteerTeamCreateSerializer(serializers.Serializer):
    node = serializers.PrimaryKeyRelatedField(
        queryset=Association.objects.all(), label="组建单位(组织节点)"
    )
    name = serializers.CharField(max_length=100, label="名称")
    service = serializers.ChoiceField(
        choices=VolunteerTeam.Service.choices, required=False, label="服务类别"
    )
    parent = serializers.PrimaryKeyRelatedField(
        queryset=VolunteerTeam.objects.all(), required=False, allow_null=True, label="上级服务队"
    )


class VolunteerJoinSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), label="会员")
    joined_on = serializers.DateField(required=False, allow_null=True, label="加入日期")


class VolunteerMembershipSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.person.name", read_only=True)

    class Meta:
        model = VolunteerMembership
        fields = ["id", "team", "member", "member_name", "joined_on"]
        read_only_fields = fields
