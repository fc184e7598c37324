"""Forms of programme configuration, the candidates list, applications and the annual
re-confirmation. They parse what the user typed; the services validate and write."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from associations.forms import DateInput
from associations.submissions import FormTokenField
from households.categories import Category, Relation
from households.models import RegistrationKind, Residency, Sex

from .candidates import Show
from .eligibility import MAX_AGE, UNREADABLE, AgeOn, ChildCondition, Rule, stored_rule
from .models import Program, Reconfirmation

DIGITS = {"inputmode": "numeric"}
MONEY = {"inputmode": "decimal", "step": "0.01", "min": "0"}
GRADES = [("", "不限"), *((str(g), "1 级" if g == 1 else f"1-{g} 级") for g in range(1, 5))]


def _age_field(label: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_AGE,
        help_text=help_text,
        widget=forms.NumberInput(attrs={**DIGITS, "min": 0, "max": MAX_AGE, "step": 1}),
        error_messages={
            "invalid": f"请填写 0 到 {MAX_AGE} 之间的整数。",
            "min_value": f"请填写 0 到 {MAX_AGE} 之间的整数。",
            "max_value": f"请填写 0 到 {MAX_AGE} 之间的整数。",
        },
    )


def _any_of(label: str, choices, help_text: str = "") -> forms.MultipleChoiceField:
    """Ticks of a rule's condition met by any one of them ("符合其一")."""
    return forms.MultipleChoiceField(
        label=f"{label}(符合其一)",
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


class ProgramForm(forms.ModelForm):
    """A programme's own fields and its eligibility rule as fields (never raw JSON)."""

    rule_categories = _any_of("家庭类别", Category.choices)
    rule_relations = _any_of("与户主关系", Relation.choices, "夫妻双方:勾选户主和配偶。")
    rule_sex = forms.ChoiceField(label="性别", choices=[("", "不限"), *Sex.choices], required=False)
    rule_min_age = _age_field("最低年龄(周岁)", "含本数,如年满 60 周岁填 60。")
    rule_max_age = _age_field("最高年龄(周岁)", "含本数。")
    rule_age_on = forms.ChoiceField(
        label="年龄计算日", choices=AgeOn.choices, initial=AgeOn.YEAR_END, required=False
    )
    rule_age_date = forms.DateField(
        label="指定日期",
        required=False,
        widget=DateInput(),
        help_text="年龄计算日选“指定日期”时填写。",
    )
    rule_residencies = _any_of("户籍状态", Residency.choices, "户籍在本县:勾选户籍常住和流出。")
    rule_registration_kind = forms.ChoiceField(
        label="户口性质", choices=[("", "不限"), *RegistrationKind.choices], required=False
    )
    rule_disability_max_grade = forms.TypedChoiceField(
        label="本人残疾等级", choices=GRADES, coerce=int, empty_value=None, required=False
    )
    rule_child = forms.ChoiceField(
        label="子女情况", choices=[("", "不限"), *ChildCondition.choices], required=False
    )
    rule_child_disability_max_grade = forms.TypedChoiceField(
        label="子女残疾等级",
        choices=GRADES[1:],
        coerce=int,
        initial="3",
        required=False,
        help_text="子女情况含“残疾”时适用;三级以上填 1-3 级。",
    )
    rule_child_max_age = _age_field("子女最高年龄(周岁)", "如独生子女未满 18 周岁填 17。")
    rule_mother_min_age = _age_field("女方最低年龄(周岁)", "特别扶助:女方年满 49 周岁填 49。")
    rule_certificate = forms.BooleanField(label="须持独生子女父母光荣证", required=False)
    rule_hardship = forms.BooleanField(label="须为当年计生困难家庭", required=False)
    form_token = FormTokenField()
    unreadable_rule = ""

    RULE_FIELDS = [
        "categories",
        "relations",
        "sex",
        "min_age",
        "max_age",
        "age_on",
        "age_date",
        "residencies",
        "registration_kind",
        "disability_max_grade",
        "child",
        "child_disability_max_grade",
        "child_max_age",
        "mother_min_age",
        "certificate",
        "hardship",
    ]

    class Meta:
        model = Program
        fields = [
            "name",
            "kind",
            "frequency",
            "beneficiary_kind",
            "standard_amount",
            "funding_source",
            "fund",
            "needs_notice",
            "notice_days",
            "is_active",
        ]
        widgets = {
            "standard_amount": forms.NumberInput(attrs=MONEY),
            "notice_days": forms.NumberInput(attrs={**DIGITS, "min": 1, "step": 1}),
        }
        help_texts = {
            "standard_amount": "每人(户)每期的金额;分类标准另行填写的类别按分类标准。",
            "notice_days": "公示期,一般为 7 天。",
        }

    def __init__(self, *args, funds=None, rule: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds
        self.fields["fund"].empty_label = "不指定"
        if self.instance.pk:
            del self.fields["form_token"]
        parsed = stored_rule(rule) if rule is not None else None
        if rule is not None and parsed is None:
            self.unreadable_rule = UNREADABLE
        if parsed is not None and not self.is_bound:
            for key in self.RULE_FIELDS:
                value = getattr(parsed, key)
                if isinstance(value, tuple):
                    value = list(value)
                self.initial[f"rule_{key}"] = value

    def _post_clean(self):
        # Validation lives in the services; the form only parses (and checks the rule).
        pass

    def clean(self):
        data = super().clean()
        raw = {key: data.get(f"rule_{key}") for key in self.RULE_FIELDS}
        raw["age_on"] = raw["age_on"] or AgeOn.YEAR_END
        raw["child_disability_max_grade"] = raw["child_disability_max_grade"] or 3
        try:
            data["rule"] = Rule.from_json(raw).to_json()
        except ValidationError as error:
            for key, errors in error.error_dict.items():
                name = f"rule_{key}"
                self.add_error(name if name in self.fields else None, errors)
        return data

    def rule_sections(self):
        """The rule's fields, for the template's fieldset."""
        return [self[f"rule_{key}"] for key in self.RULE_FIELDS]

    def own_fields(self):
        return [self[name] for name in self.Meta.fields]

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["rule"] = self.cleaned_data["rule"]
        return data


class RateForm(forms.Form):
    category = forms.ChoiceField(
        label="家庭类别", choices=[("", "—"), *Category.choices], required=False
    )
    label = forms.CharField(label="名称", max_length=50, required=False)
    amount = forms.DecimalField(
        label="标准金额(元)",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs=MONEY),
    )

    def row(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("category") and data.get("amount") is None and not data.get("label"):
            return None
        return {
            "category": data.get("category") or "",
            "label": data.get("label") or "",
            "amount": data.get("amount"),
        }


class SplitForm(forms.Form):
    source = forms.CharField(label="出资方", max_length=50, required=False)
    percent = forms.DecimalField(
        label="比例(%)",
        max_digits=5,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    def row(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("source") and data.get("percent") is None:
            return None
        return {"source": data.get("source") or "", "percent": data.get("percent")}


RateFormSet = forms.formset_factory(RateForm, extra=2, max_num=12, absolute_max=12)
SplitFormSet = forms.formset_factory(SplitForm, extra=2, max_num=10, absolute_max=10)


def rows_of(formset) -> list[dict]:
    return [row for form in formset.forms if form.is_valid() and (row := form.row())]


class CandidateQueryForm(forms.Form):
    """The candidates page's choices (GET), shared with the API's query."""

    program = forms.TypedChoiceField(label="项目", coerce=int, required=False)
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        required=False,
        widget=forms.NumberInput(DIGITS),
    )
    show = forms.ChoiceField(label="显示", choices=Show.CHOICES, required=False)
    village = forms.TypedChoiceField(label="村(社区)", coerce=int, required=False)

    def __init__(self, *args, programs, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "请选择项目"), *((p.pk, p.name) for p in programs)]
        if villages:
            self.fields["village"].choices = [("", "全部"), *((v.pk, v.name) for v in villages)]
        else:
            del self.fields["village"]

    def choice(self, name: str, default=None):
        if not self.is_valid():
            return default
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    @property
    def chosen_year(self) -> int:
        return self.choice("year", timezone.localdate().year)

    @property
    def chosen_show(self) -> str:
        return self.choice("show", Show.APPLICABLE)


class ApplyForm(forms.Form):
    """The candidates page's application form: the ticked rows (``keys``) or the one row's
    button (``key``), with the one-time token."""

    program = forms.IntegerField(widget=forms.HiddenInput)
    year = forms.IntegerField(widget=forms.HiddenInput, min_value=2000, max_value=2100)
    note = forms.CharField(label="申报说明", max_length=500, required=False)
    form_token = FormTokenField()

    def keys(self, data) -> list[int]:
        raw = [data["key"]] if data.get("key") else data.getlist("keys")
        keys = []
        for value in raw[:500]:
            try:
                keys.append(int(value))
            except (TypeError, ValueError):
                continue
        return keys


class ReconfirmationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="结论",
        choices=[
            (Reconfirmation.Decision.CONFIRMED, "继续享受"),
            (Reconfirmation.Decision.EXITED, "退出"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="说明或退出原因",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="退出时必填;有疑点而继续享受时也须说明理由。",
    )
    exited_on = forms.DateField(
        label="退出日期", required=False, widget=DateInput(), help_text="不填为今天。"
    )


class ReconfirmationRunForm(forms.Form):
    program = forms.IntegerField(widget=forms.HiddenInput)
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)
