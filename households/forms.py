"""Forms of the households pages. They only parse input: the services validate and write.

Identity data in edit forms: a role that only ever sees masked ID numbers and phones
(`masking.sees_full_identity` is False) must not get them in full from an edit form either, so
for those roles the inputs start empty, show the masked value as help, and an empty input means
"keep what is recorded"."""

from __future__ import annotations

import html

from django import forms
from django.utils import timezone
from django.utils.safestring import mark_safe

from associations.forms import DateInput
from associations.models import Association, Level
from associations.submissions import FormTokenField

from . import masking, selectors
from .categories import Relation
from .filters import MAX_AGE
from .models import (
    AssistanceRecord,
    HardshipAssessment,
    HardshipReason,
    Household,
    MaritalStatus,
    Person,
    RegistrationKind,
    Sex,
)

ANY = "不限"


# --- list filters --------------------------------------------------------------------------


def under_choices(user) -> list:
    """The nodes a list can be narrowed to, from the user's own subtree: a county user gets
    each township (as a whole) and its villages, a township user its villages, a village user
    its member groups. One query."""
    level = user.node_level
    if level == Level.COUNTY:
        levels = [Level.TOWNSHIP, Level.VILLAGE]
    elif level == Level.TOWNSHIP:
        levels = [Level.VILLAGE]
    elif level == Level.VILLAGE:
        levels = [Level.GROUP]
    else:
        return []
    nodes = (
        Association.objects.filter(level__in=levels, **{f"{level}_id": user.node_id})
        .order_by("division_code")
        .values_list("id", "name", "level")
    )
    if level != Level.COUNTY:
        return [("", "全部"), *[(pk, name) for pk, name, _level in nodes]]
    grouped, current = [("", "全县")], None
    for pk, name, node_level in nodes:
        if node_level == Level.TOWNSHIP:
            current = [(pk, f"{name}(全镇)")]
            grouped.append((name, current))
        elif current is not None:
            current.append((pk, name))
    return grouped


def _escape(value) -> str:
    """Django's conditional_escape, without its per-call overhead (600 options)."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _attrs_html(attrs: dict) -> str:
    """django/forms/widgets/attrs.html in Python."""
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class LongSelect(forms.Select):
    """A select written in Python, with the markup of Django's select templates: a county's
    `under` select has some 600 options, and rendering a template include per option took
    more than half of a county's list page."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_escape(group_name)}">')
            parts.extend(
                f'\n  <option value="{_escape(option["value"])}"{_attrs_html(option["attrs"])}>'
                f"{_escape(option['label'])}</option>"
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


def prepare_filter_form(filterset, user):
    """Chinese, phone-friendly widgets on a FilterSet's form: the `under` select offers the
    user's subtree, yes/no filters say 不限/是/否, empty choices say 不限."""
    form = filterset.form
    for field in form.fields.values():
        if isinstance(field, forms.ChoiceField):
            # django-filter's blank choice says "---------"; only the rendering changes.
            field.widget.choices = [("", ANY), *[c for c in field.choices if c[0] != ""]]
        if isinstance(field, forms.NullBooleanField):
            field.widget = forms.Select(choices=[("", ANY), ("true", "是"), ("false", "否")])
    if "under" in form.fields:
        choices = under_choices(user)
        chosen = form.data.get("under") if form.is_bound else None
        if choices and str(chosen or "").isdigit() and _choice_label(choices, chosen) is None:
            # A link from a node page may name a node the select does not list (a group for
            # a county user): offer it too, so the select shows what is applied.
            node = Association.objects.filter(pk=chosen).only("name").first()
            if node is not None:
                choices.insert(1, (node.pk, node.name))
        if choices:
            form.fields["under"].widget = LongSelect(choices=choices)
        else:
            # Nothing to offer (a group leader), but a linked ?under= still filters: the
            # field stays in the form, hidden, so the page and every export apply it alike.
            form.fields["under"].widget = forms.HiddenInput()
    if "q" in form.fields:
        form.fields["q"].label = "搜索"
        form.fields["q"].widget = forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "姓名、首字母、身份证号、户编号",
                "autocomplete": "off",
            }
        )
    for name in ("age_min", "age_max"):
        if name in form.fields:
            form.fields[name].widget = forms.NumberInput(
                attrs={"inputmode": "numeric", "min": 0, "max": MAX_AGE, "step": 1}
            )
    return form


def filters_in_use(query) -> dict:
    """How many filters besides the search box are set: their panel opens when there are
    some (static/js/forms.js folds it again on a phone, so the first row stays in view)."""
    active = sum(1 for k, v in query.items() if v and k not in ("page", "q"))
    return {"filters_open": bool(active), "filters_active": active}


def _choice_label(choices, raw) -> str | None:
    for key, display in choices or []:
        options = display if isinstance(display, (list, tuple)) else [(key, display)]
        for option_key, option_label in options:
            if str(option_key) == str(raw):
                return str(option_label)
    return None


def describe_filters(filterset) -> str:
    """The active filters in words ("户籍状态:流入;家庭类别:双女户"), for export titles."""
    form = filterset.form
    if not form.is_valid():
        return ""
    parts = []
    for name, field in form.fields.items():
        if form.cleaned_data.get(name) in (None, "", [], ()):
            continue
        raw = form[name].value()
        label = _choice_label(getattr(field.widget, "choices", None), raw)
        if label is None and name == "under":
            # A hidden `under` (a group leader's linked filter) has no choices to name it.
            label = Association.objects.filter(pk=raw).values_list("name", flat=True).first()
        parts.append(f"{field.label}:{label or raw}")
    return ";".join(parts)


# --- persons -------------------------------------------------------------------------------

# 17 digits and a check character, or an old 15-digit number. Not enforced by the browser
# (forms are `novalidate`; the service checks and explains); it lets a phone mark the field.
ID_NUMBER_PATTERN = "[0-9]{17}[0-9Xx]|[0-9]{15}"


class IdNumberInput(forms.TextInput):
    """An ID number on a phone: `inputmode="numeric"` opens the digit pad, which has no X;
    static/js/forms.js adds an "X" key beside the field (`data-id-number`) for the check
    character. A text input (not type=number) keeps leading zeros and accepts a pasted X."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={
                "inputmode": "numeric",
                "pattern": ID_NUMBER_PATTERN,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "data-id-number": "",
                **(attrs or {}),
            }
        )


class IdNumberField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "居民身份证号码")
        kwargs.setdefault("required", False)
        # Spaces and full-width digits are normalised by the service.
        super().__init__(max_length=40, widget=IdNumberInput(), **kwargs)


class PhoneInput(forms.TextInput):
    """A phone number: the telephone keypad, and no autofill of the user's own number."""

    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__(attrs={"inputmode": "tel", "autocomplete": "off", **(attrs or {})})


class MaritalStatusField(forms.ChoiceField):
    """婚姻状况, required and with nothing chosen beforehand: a skipped field must not record
    a married woman as unmarried."""

    def __init__(self, **kwargs):
        super().__init__(
            label="婚姻状况",
            choices=MaritalStatus.choices,
            widget=forms.RadioSelect,
            error_messages={"required": "请选择婚姻状况。"},
            **kwargs,
        )


DISABILITY_CHOICES = [
    ("", "无"),
    (1, "一级(最重)"),
    (2, "二级"),
    (3, "三级"),
    (4, "四级(最轻)"),
]


class PersonForm(forms.ModelForm):
    """A person, in a household (`household`) or directly in a village (`village`, with an
    optional member group), or an existing one (`instance`)."""

    id_number = IdNumberField(
        help_text="填写后出生日期、性别可不填,由号码自动生成;15 位旧号码自动升级为 18 位。"
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=DISABILITY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    group = forms.ModelChoiceField(
        label="会员小组", queryset=Association.objects.none(), required=False
    )
    marital_status = MaritalStatusField()
    form_token = FormTokenField()

    class Meta:
        model = Person
        fields = [
            "name",
            "id_number",
            "sex",
            "birth_date",
            "relation_to_head",
            "ethnicity",
            "phone",
            "address",
            "residency",
            "registration_kind",
            "marital_status",
            "married_on",
            "mother",
            "disability_grade",
            "is_deceased",
            "died_on",
            "only_child_certificate_number",
            "only_child_certificate_date",
        ]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "birth_date": DateInput(),
            "married_on": DateInput(),
            "died_on": DateInput(),
            "only_child_certificate_date": DateInput(),
            "phone": PhoneInput(),
        }

    def __init__(
        self,
        *args,
        user,
        household: Household | None = None,
        village: Association | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        editing = bool(self.instance.pk)
        if editing:
            del self.fields["form_token"]
        household = household if household is not None else self.instance.household
        self.fields["sex"].required = False
        self.fields["sex"].choices = [("", "按身份证号自动填写"), *Sex.choices]
        self.fields["sex"].help_text = "有身份证号时可不选。"
        self.fields["birth_date"].required = False
        self.fields["birth_date"].help_text = "有身份证号时可不填。"
        self.fields["registration_kind"].choices = [("", "未登记"), *RegistrationKind.choices]
        self.fields[
            "registration_kind"
        ].help_text = "农村部分计划生育家庭奖励扶助等项目按户口性质审核。"
        if household is None:
            del self.fields["relation_to_head"]
            del self.fields["mother"]
        else:
            self.fields["relation_to_head"].choices = [("", "未填写"), *Relation.choices]
            mothers = selectors.mothers_for(household=household)
            if editing:
                mothers = mothers.exclude(pk=self.instance.pk)
            self.fields["mother"].queryset = mothers
            self.fields["mother"].empty_label = "未登记"
            self.fields["mother"].help_text = "本户的女性成员。"
            self.fields["mother"].label_from_instance = mother_label
        if editing or household is not None or village is None:
            del self.fields["group"]
        else:
            self.fields["group"].queryset = Association.objects.filter(
                parent=village, level=Level.GROUP
            ).order_by("division_code")
            self.fields["group"].empty_label = "不分小组"
        self.keeps_identity = editing and not masking.sees_full_identity(user)
        if self.keeps_identity:
            for name, masked in (
                ("id_number", masking.id_number_for(user, self.instance.id_number)),
                ("phone", masking.phone_for(user, self.instance.phone)),
            ):
                self.initial[name] = ""
                if masked:
                    self.fields[name].help_text = f"已登记 {masked};不修改请留空。"
            # The birth date is in the ID number: a masked role sees the age only.
            self.initial["birth_date"] = ""
            age = masking.age_for(self.instance.birth_date, timezone.localdate())
            if age is not None:
                self.fields["birth_date"].help_text = f"已登记({age} 岁);不修改请留空。"

    def _post_clean(self):
        # Validation lives in the services; the form only parses the input.
        pass

    def service_fields(self) -> dict:
        """Keyword arguments for person_create / person_update."""
        data = dict(self.cleaned_data)
        data.pop("group", None)
        if self.keeps_identity:
            for name in ("id_number", "phone", "birth_date"):
                if not data.get(name):
                    data.pop(name, None)
        return data


def mother_label(person) -> str:
    """A choice of mother: her name and age (never the birth date, households.masking)."""
    age = masking.age_for(person.birth_date, timezone.localdate())
    return f"{person.name}({age} 岁)" if age is not None else person.name


# --- households ----------------------------------------------------------------------------


def _village_groups(village: Association):
    return Association.objects.filter(parent=village, level=Level.GROUP).order_by("division_code")


class HouseholdForm(forms.ModelForm):
    group = forms.ModelChoiceField(
        label="会员小组", queryset=Association.objects.none(), required=False
    )

    class Meta:
        model = Household
        fields = ["number", "group", "head", "address", "residency", "phone"]
        widgets = {"phone": PhoneInput()}

    def __init__(self, *args, user, village: Association, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = _village_groups(village)
        self.fields["group"].empty_label = "不分小组"
        if self.instance.pk:
            self.initial["group"] = self.instance.group_id
            self.fields["head"].queryset = Person.objects.filter(household=self.instance).order_by(
                "birth_date", "id"
            )
            self.fields["head"].empty_label = "暂无户主"
            self.fields["head"].help_text = "从本户成员中选择。"
        else:
            del self.fields["head"]
        self.keeps_phone = bool(self.instance.pk) and not masking.sees_full_identity(user)
        if self.keeps_phone:
            self.initial["phone"] = ""
            masked = masking.phone_for(user, self.instance.phone)
            if masked:
                self.fields["phone"].help_text = f"已登记 {masked};不修改请留空。"

    def _post_clean(self):
        pass

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if self.keeps_phone and not data.get("phone"):
            data.pop("phone", None)
        return data


class HouseholdMoveForm(forms.Form):
    to_village = forms.ModelChoiceField(label="迁入村(社区)", queryset=Association.objects.none())
    to_group = forms.ModelChoiceField(
        label="迁入会员小组",
        queryset=Association.objects.none(),
        required=False,
        help_text="须是迁入村的小组;可不选。",
    )
    new_number = forms.CharField(
        label="新户编号", max_length=30, required=False, help_text="不填则沿用原户编号。"
    )
    moved_on = forms.DateField(label="迁移日期", required=False, widget=DateInput())

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        villages = (
            Association.objects.filter(level=Level.VILLAGE)
            .exclude(pk=household.village_id)
            .select_related("parent")
            .order_by("division_code")
        )
        field = self.fields["to_village"]
        field.queryset = villages
        field.empty_label = "请选择"
        field.label_from_instance = lambda v: f"{v.parent.name} {v.name}" if v.parent else v.name
        groups = (
            Association.objects.filter(level=Level.GROUP)
            .exclude(parent_id=household.village_id)
            .select_related("parent")
            .order_by("division_code")
        )
        self.fields["to_group"].queryset = groups
        choices: list = [("", "不分小组")]
        by_village: dict[int, list] = {}
        for group in groups:
            if group.parent_id not in by_village:
                by_village[group.parent_id] = []
                choices.append((group.parent.name, by_village[group.parent_id]))
            by_village[group.parent_id].append((group.pk, group.name))
        self.fields["to_group"].widget.choices = choices
        self.initial.setdefault("moved_on", timezone.localdate())


# --- hardship and assistance ---------------------------------------------------------------


class HardshipForm(forms.Form):
    year = forms.TypedChoiceField(label="年度", coerce=int)
    reasons = forms.MultipleChoiceField(
        label="困难原因", choices=HardshipReason.choices, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(
        label="状态",
        choices=HardshipAssessment.Status.choices,
        initial=HardshipAssessment.Status.IN_ROSTER,
    )
    notes = forms.CharField(
        label="情况说明",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    assessed_on = forms.DateField(label="摸底日期", required=False, widget=DateInput())

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["year"].choices = [(y, f"{y}年") for y in (today.year, today.year - 1)]
        current = next((e for e in household.hardship.all() if e.year == today.year), None)
        self.initial.setdefault("year", today.year)
        self.initial.setdefault("assessed_on", today)
        if current is not None:
            self.initial.update(
                reasons=current.reasons,
                status=current.status,
                notes=current.notes,
                assessed_on=current.assessed_on or today,
            )


class AssistanceForm(forms.ModelForm):
    class Meta:
        model = AssistanceRecord
        fields = ["kind", "given_on", "amount", "goods", "given_by", "notes"]
        widgets = {
            "given_on": DateInput(),
            "amount": forms.NumberInput(
                attrs={"inputmode": "decimal", "step": "0.01", "min": "0.01"}
            ),
        }
        help_texts = {"amount": "金额与物品至少填一项。"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("given_on", timezone.localdate())

    def _post_clean(self):
        pass
