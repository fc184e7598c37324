"""Forms of the members pages. They only parse input: the services validate and write.

Every related-object choice comes through a scoped manager, narrowed to the place the page is
about (a village's persons, a member's village's households, a group's members), so a form
never offers, and never accepts, another village's rows."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from associations.forms import DateInput
from associations.models import Association, Level
from associations.submissions import FormTokenField
from households.forms import IdNumberField, MaritalStatusField, PhoneInput
from households.models import ETHNICITIES, HardshipAssessment, Household, Person, Residency, Sex

from .filters import MemberFilter
from .models import (
    Commendation,
    ElderKind,
    GroupRole,
    LeaveReason,
    Member,
    MemberCategory,
    VolunteerTeam,
)


def village_groups(village: Association):
    return Association.objects.filter(parent=village, level=Level.GROUP).order_by("division_code")


def _household_label(household: Household) -> str:
    head = household.head.name if household.head_id else "户主未登记"
    return f"{household.number}户 {head}"


def _member_label(member: Member) -> str:
    return f"{member.member_number} {member.person.name}"


class CategoriesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=MemberCategory.choices, required=False, label="会员类别", **kwargs)


def registrable_persons(village: Association):
    """Persons of the village who may become members of its association: alive and without
    an active membership here (one elsewhere in the county is refused by the service)."""
    members_here = Member.objects.filter(village=village, status=Member.Status.ACTIVE).values(
        "person_id"
    )
    return Person.objects.filter(village=village, is_deceased=False).exclude(pk__in=members_here)


class MemberRegisterForm(forms.Form):
    """The membership of a person chosen on the page (`?person=`), or, as the base of
    MemberNewPersonForm, of a person entered with it. The group chosen last time comes back
    as `initial` (`?group=`, the "继续新增" link)."""

    group = forms.ModelChoiceField(
        queryset=Association.objects.all(),
        label="会员小组",
        required=False,
        widget=forms.RadioSelect,
    )
    categories = CategoriesField()
    joined_on = forms.DateField(label="入会日期", widget=DateInput())
    member_number = forms.CharField(
        label="会员证号", max_length=30, required=False, help_text="不填则自动编号。"
    )
    elder_kind = forms.ChoiceField(
        label="五老类别",
        required=False,
        choices=[("", "—"), *ElderKind.choices],
        help_text="选择后自动归入“五老”类别。",
    )
    is_backbone = forms.BooleanField(label="骨干会员", required=False)
    form_token = FormTokenField()

    # Filled in less often: folded under "更多会籍信息" unless they hold a value or an error.
    MORE = ("member_number", "elder_kind", "is_backbone")

    def __init__(self, *args, village: Association, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("joined_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = village_groups(village)
        self.fields["group"].empty_label = "暂不编组"

    def fields_named(self, names) -> list:
        return [self[name] for name in names if name in self.fields]

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if name not in (*self.MORE, "form_token")]

    def more_fields(self) -> list:
        return self.fields_named(self.MORE)

    def more_open(self) -> bool:
        if any(self.errors.get(name) for name in self.MORE):
            return True
        return self.is_bound and any(self.data.get(name) for name in self.MORE)

    def membership(self) -> dict:
        """Keyword arguments of the members services (the person aside)."""
        names = ("group", "member_number", "joined_on", "categories", "elder_kind")
        return {name: self.cleaned_data[name] for name in (*names, "is_backbone", "form_token")}


class MemberNewPersonForm(MemberRegisterForm):
    """A new person and their membership in one form (one page, one POST). Sex and birth
    date come from the ID number; they are asked only for someone without one."""

    name = forms.CharField(
        label="姓名", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    id_number = IdNumberField(help_text="性别、出生日期由号码自动生成;15 位旧号码自动升级。")
    phone = forms.CharField(label="联系电话", max_length=40, required=False, widget=PhoneInput())
    marital_status = MaritalStatusField()
    residency = forms.ChoiceField(
        label="户籍状态",
        choices=Residency.choices,
        initial=Residency.REGISTERED,
        widget=forms.RadioSelect,
    )
    ethnicity = forms.ChoiceField(label="民族", choices=ETHNICITIES, initial="01")
    sex = forms.ChoiceField(
        label="性别", choices=Sex.choices, required=False, widget=forms.RadioSelect
    )
    birth_date = forms.DateField(label="出生日期", required=False, widget=DateInput())
    address = forms.CharField(label="住址", max_length=200, required=False)

    PERSON = ("name", "id_number", "phone", "marital_status", "residency", "ethnicity")
    WITHOUT_ID = ("sex", "birth_date")
    MORE = (*MemberRegisterForm.MORE, "address")

    field_order = [*PERSON, *WITHOUT_ID, "address"]

    def person_fields_main(self) -> list:
        return self.fields_named(self.PERSON)

    def without_id_fields(self) -> list:
        return self.fields_named(self.WITHOUT_ID)

    def without_id_open(self) -> bool:
        if any(self.errors.get(name) for name in self.WITHOUT_ID):
            return True
        return self.is_bound and any(self.data.get(name) for name in self.WITHOUT_ID)

    def main_fields(self) -> list:
        person = {*self.PERSON, *self.WITHOUT_ID}
        return [f for f in super().main_fields() if f.name not in person]

    def person_fields(self) -> dict:
        """Keyword arguments of households.services.person_create."""
        data = self.cleaned_data
        fields = {name: data[name] for name in (*self.PERSON, "address")}
        if data.get("sex"):
            fields["sex"] = data["sex"]
        if data.get("birth_date"):
            fields["birth_date"] = data["birth_date"]
        return fields


class MemberEditForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=Association.objects.all(), label="会员小组", required=False
    )
    member_number = forms.CharField(label="会员证号", max_length=30)
    joined_on = forms.DateField(label="入会日期", widget=DateInput())
    categories = CategoriesField()
    elder_kind = forms.ChoiceField(
        label="五老类别", required=False, choices=[("", "—"), *ElderKind.choices]
    )
    is_backbone = forms.BooleanField(label="骨干会员", required=False)

    def __init__(self, *args, member: Member, **kwargs):
        initial = {
            "group": member.group_id,
            "member_number": member.member_number,
            "joined_on": member.joined_on,
            "categories": member.categories,
            "elder_kind": member.elder_kind,
            "is_backbone": member.is_backbone,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["group"].queryset = village_groups(member.association)
        self.fields["group"].empty_label = "暂不编组"


class MemberLeaveForm(forms.Form):
    left_on = forms.DateField(label="退会日期", widget=DateInput())
    leave_reason = forms.ChoiceField(
        label="退会原因", choices=[("", "请选择"), *LeaveReason.choices]
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("left_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class GroupRoleForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.all(), label="会员")
    role = forms.ChoiceField(label="职务", choices=GroupRole.Role.choices)
    starts_on = forms.DateField(label="任职日期", widget=DateInput())

    def __init__(self, *args, group: Association, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("starts_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            Member.objects.filter(group=group, status=Member.Status.ACTIVE)
            .select_related("person")
            .order_by("member_number")
        )
        self.fields["member"].label_from_instance = _member_label


class EndDateForm(forms.Form):
    """Ending something (a group role, a pairing) on a date, today by default."""

    ends_on = forms.DateField(label="结束日期", widget=DateInput())

    def __init__(self, *args, label: str = "结束日期", **kwargs):
        kwargs.setdefault("initial", {}).setdefault("ends_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["ends_on"].label = label


class ConfirmForm(forms.Form):
    """A confirmation with nothing to fill in."""


class ContactHouseholdForm(forms.Form):
    household = forms.ModelChoiceField(queryset=Household.objects.all(), label="联系户")
    since = forms.DateField(label="联系起始日期", widget=DateInput())

    def __init__(self, *args, member: Member, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("since", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = (
            Household.objects.filter(village=member.village_id)
            .exclude(pk__in=member.contacts.values("household_id"))
            .select_related("head")
            .order_by("number")
        )
        self.fields["household"].label_from_instance = _household_label


class PairingForm(forms.Form):
    household = forms.ModelChoiceField(
        queryset=Household.objects.all(),
        label="帮扶对象户",
        help_text="本村(社区)列入本年度计生困难家庭名册的户。",
    )
    starts_on = forms.DateField(label="开始日期", widget=DateInput())
    notes = forms.CharField(label="帮扶措施", max_length=300, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("starts_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        on_roster = HardshipAssessment.objects.filter(
            year=timezone.localdate().year, status=HardshipAssessment.Status.IN_ROSTER
        ).values("household_id")
        self.fields["household"].queryset = (
            Household.objects.filter(village=member.village_id, pk__in=on_roster)
            .select_related("head")
            .order_by("number")
        )
        self.fields["household"].label_from_instance = _household_label


def _year_default() -> int:
    return timezone.localdate().year


class CommendationForm(forms.Form):
    kind = forms.ChoiceField(
        label="表彰类别",
        choices=[c for c in Commendation.Kind.choices if c[0] != Commendation.Kind.ADVANCED_GROUP],
    )
    year = forms.IntegerField(label="年度", min_value=1949, max_value=9999)
    award_level = forms.ChoiceField(label="表彰级别", choices=Commendation.AwardLevel.choices)
    notes = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("year", _year_default())
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs["inputmode"] = "numeric"


class GroupCommendationForm(CommendationForm):
    """先进会员小组: the kind is fixed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]


class VolunteerTeamForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    service = forms.ChoiceField(label="服务类别", choices=VolunteerTeam.Service.choices)
    parent = forms.ModelChoiceField(
        queryset=VolunteerTeam.objects.all(),
        label="上级服务队",
        required=False,
        help_text="设立分队时选择。",
    )

    def __init__(self, *args, node: Association, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = teams_run_by(node).filter(parent__isnull=True)
        self.fields["parent"].empty_label = "无(独立服务队)"


def teams_run_by(node: Association):
    """Teams whose running node is exactly `node` (not a node beneath it)."""
    below = {"county": "township", "township": "village", "village": "group", "group": None}
    lookup = {f"{node.level}_id": node.pk}
    child = below[node.level]
    if child:
        lookup[f"{child}__isnull"] = True
    return VolunteerTeam.objects.filter(**lookup).order_by("name")


class VolunteerJoinForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.all(), label="会员")
    joined_on = forms.DateField(label="加入日期", widget=DateInput())

    LIMIT = 200

    def __init__(self, *args, node: Association, search: str = "", **kwargs):
        kwargs.setdefault("initial", {}).setdefault("joined_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        candidates = (
            Member.objects.filter(status=Member.Status.ACTIVE, **{f"{node.level}_id": node.pk})
            .select_related("person")
            .order_by("village__division_code", "member_number", "id")
        )
        # Any active member under the node is accepted; the select offers at most LIMIT of
        # them (narrowed by the search box), so a township's team page stays light.
        self.fields["member"].queryset = candidates
        if search:
            candidates = MemberFilter({"q": search}, queryset=candidates).qs
        shown = list(candidates[: self.LIMIT])
        self.truncated = len(shown) == self.LIMIT
        self.fields["member"].widget.choices = [("", "---------")] + [
            (m.pk, _member_label(m)) for m in shown
        ]


class SeatMemberForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.all(), label="会员")

    def __init__(self, *args, association: Association, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            Member.objects.filter(village=association, status=Member.Status.ACTIVE)
            .select_related("person")
            .order_by("member_number")
        )
        self.fields["member"].label_from_instance = _member_label
