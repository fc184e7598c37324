"""Forms of the assessment periods and submissions: opening a period, locking and reopening,
the village's proposed scores and the township's review. Score fields are typed with the
digit keyboard (inputmode=decimal) and validated again by the services."""

from __future__ import annotations

from django import forms

from associations.forms import DateInput

from .models import SchemeVersion

REASON_ERRORS = {"required": "请填写原因。"}


class PeriodOpenForm(forms.Form):
    key = forms.CharField(
        label="考核期",
        max_length=7,
        help_text="季度如 2026-Q1,半年初评如 2026-H1,年终总评如 2026。",
        error_messages={"required": "请填写考核期。"},
        widget=forms.TextInput(attrs={"placeholder": "2026-Q1", "autocapitalize": "characters"}),
    )
    version = forms.ModelChoiceField(
        label="考核细则版本",
        queryset=SchemeVersion.objects.none(),
        error_messages={
            "required": "请选择考核细则版本。",
            "invalid_choice": "请选择使用中的版本。",
        },
    )
    due_on = forms.DateField(
        label="报送截止日期",
        widget=DateInput(),
        error_messages={
            "required": "请填写报送截止日期。",
            "invalid": "日期格式不对,例如 2026-04-10。",
        },
    )

    def __init__(self, *args, county=None, **kwargs):
        super().__init__(*args, **kwargs)
        if county is not None:
            self.fields["version"].queryset = SchemeVersion.objects.filter(
                county_id=county.pk, state=SchemeVersion.State.IN_USE
            ).select_related("scheme")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写原因。"},
    )


def _score_field(row, initial) -> forms.DecimalField:
    top = row.indicator.max_score
    return forms.DecimalField(
        label=f"{row.indicator.name}(满分 {top})",
        required=False,
        min_value=0,
        max_value=top,
        decimal_places=2,
        initial=initial,
        error_messages={
            "invalid": "请填写数字。",
            "min_value": "得分不能为负数。",
            "max_value": f"得分不能超过满分 {top}。",
            "max_decimal_places": "最多保留两位小数。",
        },
        widget=forms.NumberInput(
            attrs={"inputmode": "decimal", "step": "0.01", "min": "0", "max": str(top)}
        ),
    )


class ScoresForm(forms.Form):
    """One score and one note per manual indicator. `review`: the township's fields (its
    score, pre-filled with the village's proposal), else the village's."""

    def __init__(self, *args, rows=(), review=False, with_note=False, note="", **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        self.review = review
        if with_note:
            self.fields["note"] = forms.CharField(
                label="村(社区)说明",
                required=False,
                initial=note,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        for row in self.rows:
            if review:
                initial = row.score if row.score is not None else row.proposed
                text = row.review_note
            else:
                initial, text = row.proposed, row.note
            self.fields[f"score_{row.pk}"] = _score_field(row, initial)
            self.fields[f"note_{row.pk}"] = forms.CharField(
                label="审核说明" if review else "自评说明(佐证)",
                required=False,
                max_length=500,
                initial=text,
            )
        if review:
            self.fields["reason"] = forms.CharField(
                label="退回原因(退回时必填)",
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def scores(self) -> dict:
        return {
            row.pk: (
                self.cleaned_data.get(f"score_{row.pk}"),
                self.cleaned_data.get(f"note_{row.pk}"),
            )
            for row in self.rows
        }

    def pairs(self):
        """(row, score field, note field) for the template."""
        return [(row, self[f"score_{row.pk}"], self[f"note_{row.pk}"]) for row in self.rows]
