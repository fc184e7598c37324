"""Forms of the scheme pages. Validation of the rules lives in the services (Chinese
messages placed on the fields); the forms check types and ranges."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms

from .indicators import REGISTRY
from .models import IndicatorLevel, Rule, SchemeIndicator, SchemeVersion

MONEY = {"max_digits": 8, "decimal_places": 2, "min_value": Decimal("0")}
SCORE = {"max_digits": 6, "decimal_places": 2}


class SchemeForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    name = forms.CharField(label="名称", max_length=100)
    first_class_min = forms.DecimalField(label="一流村协会分数线", initial=90, **SCORE)
    qualified_min = forms.DecimalField(label="合格分数线", initial=70, **SCORE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = datetime.date.today().year
        self.fields["year"].widget.attrs["inputmode"] = "numeric"
        for name in ("first_class_min", "qualified_min"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"


class DefaultSchemeForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = datetime.date.today().year
        self.fields["year"].widget.attrs["inputmode"] = "numeric"


class VersionForm(forms.ModelForm):
    class Meta:
        model = SchemeVersion
        fields = [
            "first_class_min",
            "qualified_min",
            "president_pay_held",
            "leader_pay_held",
            "qualified_pay_share",
            "commendation_bonus",
            "note",
        ]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


def computed_choices() -> list[tuple[str, str]]:
    options = [("", "人工评分指标(由乡镇专干打分)")]
    for indicator in REGISTRY.values():
        level = IndicatorLevel(indicator.level).label
        options.append((indicator.key, f"{indicator.name}({level},单位:{indicator.unit})"))
    return options


class IndicatorForm(forms.ModelForm):
    """One indicator. `computed` picks a registered indicator; left empty, the indicator is
    manual and `key` is its own code."""

    computed = forms.ChoiceField(label="计算方式", required=False)

    class Meta:
        model = SchemeIndicator
        fields = [
            "computed",
            "key",
            "name",
            "level",
            "max_score",
            "rule",
            "threshold",
            "low",
            "high",
            "step",
            "order",
            "source",
            "note",
            "in_quarter",
            "in_half",
            "in_year",
        ]
        widgets = {"rule": forms.RadioSelect(attrs={"class": "chips"})}
        help_texts = {
            "key": "人工评分指标填写,如 archives;系统计算的指标无需填写。",
            "name": "系统计算的指标留空则使用系统名称。",
            "level": "系统计算的指标按其定义确定。",
            "in_year": "一年只需做一次的工作(如会员代表大会、会员培训)只在年度考核计分;"
            "不计分的考核中显示“本期不考核”,不计入总分和满分。",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["computed"].choices = computed_choices()
        self.fields["key"].required = False
        self.fields["name"].required = False
        self.fields["order"].required = False
        self.fields["level"].required = False
        self.fields["rule"].choices = Rule.choices
        for name in ("max_score", "threshold", "low", "high", "step", "order"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        if self.instance.pk and not self.instance.manual:
            self.initial["computed"] = self.instance.key
            self.initial["key"] = ""

    def cleaned_fields(self) -> dict:
        """What the service takes: `key` and `manual` from the choice of computation."""
        data = dict(self.cleaned_data)
        computed = data.pop("computed", "")
        if computed:
            data.update(key=computed, manual=False)
        else:
            data.update(key=(data.get("key") or "").strip(), manual=True)
        data["name"] = (data.get("name") or "").strip()
        data["level"] = data.get("level") or IndicatorLevel.VILLAGE
        if data.get("order") is None:
            data.pop("order", None)  # a new one goes last; an edited one keeps its place
        return data
