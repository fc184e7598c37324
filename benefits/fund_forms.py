"""Forms of the fund and loan pages. They parse what was typed; the services validate and
explain in Chinese (benefits.fund_services, benefits.loan_services). Creating forms carry a
one-time token, so a form sent twice records once."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from associations.forms import DateInput
from associations.submissions import FormTokenField
from households.models import AssistanceRecord, Person

from .models import Fund, Program, ProgramKind

MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def money_field(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=MONEY_INPUT,
        error_messages={
            "invalid": f"{label}应为数字,如 720.00。",
            "min_value": f"{label}应大于 0 元。",
            "max_decimal_places": f"{label}最多保留两位小数(分)。",
            "max_digits": f"{label}超出可登记的范围。",
            "max_whole_digits": f"{label}超出可登记的范围。",
        },
        **kwargs,
    )


class FundForm(forms.Form):
    name = forms.CharField(label="基金名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=Fund.Kind.choices)
    donor = forms.CharField(
        label="冠名单位", max_length=100, required=False, help_text="冠名基金必填。"
    )
    form_token = FormTokenField()


class FundEditForm(forms.Form):
    name = forms.CharField(label="基金名称", max_length=100)
    donor = forms.CharField(label="冠名单位", max_length=100, required=False)


class GovernmentIncomeForm(forms.Form):
    rate = money_field("每人金额(元)", help_text="如生育关怀公益金每人 2 元,填 2。")
    entry_date = forms.DateField(label="日期", widget=DateInput())
    description = forms.CharField(
        label="补充说明", max_length=100, required=False, help_text="可不填,如拨款文号。"
    )
    form_token = FormTokenField()


class DonationForm(forms.Form):
    donor = forms.CharField(label="捐赠单位或个人", max_length=100)
    amount = money_field("金额(元)")
    entry_date = forms.DateField(label="日期", widget=DateInput())
    description = forms.CharField(
        label="摘要", max_length=200, required=False, help_text="不填时记为“某某捐赠”。"
    )
    form_token = FormTokenField()


class OtherIncomeForm(forms.Form):
    amount = money_field("金额(元)")
    entry_date = forms.DateField(label="日期", widget=DateInput())
    description = forms.CharField(label="摘要", max_length=200)
    form_token = FormTokenField()


class AssistanceExpenseForm(forms.Form):
    assistance = forms.ModelChoiceField(
        label="帮扶记录",
        queryset=AssistanceRecord.objects.filter(amount__gt=0),
        widget=forms.HiddenInput,
        error_messages={
            "required": "请选择要支出的帮扶记录。",
            "invalid_choice": "没有这条帮扶记录。",
        },
    )
    entry_date = forms.DateField(label="支出日期", widget=DateInput())
    description = forms.CharField(
        label="摘要", max_length=200, required=False, help_text="不填时按帮扶类型和日期记。"
    )
    form_token = FormTokenField()


class ReverseForm(forms.Form):
    reason = forms.CharField(label="冲正原因", max_length=100)
    entry_date = forms.DateField(label="冲正日期", widget=DateInput())


class LoanIssueForm(forms.Form):
    program = forms.ModelChoiceField(label="项目", queryset=Program.objects.none())
    fund = forms.ModelChoiceField(label="贷款周转金", queryset=Fund.objects.none())
    borrower = forms.ModelChoiceField(
        label="借款人",
        queryset=Person.objects.filter(household__isnull=False, is_deceased=False),
        widget=forms.HiddenInput,
        error_messages={
            "required": "请先搜索并选择借款人。",
            "invalid_choice": "没有这位人员。",
        },
    )
    principal = money_field("本金(元)")
    issued_on = forms.DateField(label="放款日期", widget=DateInput())
    term_months = forms.IntegerField(
        label="期限(月)",
        min_value=1,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="按月等额还款,末期含分位调整。",
    )
    purpose = forms.CharField(label="用途", max_length=200, required=False)
    form_token = FormTokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(
            kind=ProgramKind.LOAN, is_active=True
        ).order_by("id")
        self.fields["fund"].queryset = Fund.objects.filter(kind=Fund.Kind.LOAN).order_by("id")
        self.fields["fund"].label_from_instance = lambda f: f"{f.name}(余额 {f.balance} 元)"

    def chosen_borrower(self) -> Person | None:
        raw = self["borrower"].value()
        if not str(raw or "").isdigit():
            return None
        return (
            Person.objects.filter(pk=raw, household__isnull=False)
            .select_related("household", "village")
            .first()
        )


class RepaymentForm(forms.Form):
    amount = money_field("还款金额(元)")
    paid_on = forms.DateField(label="还款日期", widget=DateInput())
    note = forms.CharField(label="备注", max_length=200, required=False)
    form_token = FormTokenField()


class LoanVoidForm(forms.Form):
    reason = forms.CharField(
        label="冲正原因", max_length=100, help_text="如:借款人登记错误、本金金额录入错误。"
    )
    voided_on = forms.DateField(label="冲正日期", widget=DateInput())


class FundTransferForm(forms.Form):
    target = forms.ModelChoiceField(
        label="划入基金",
        queryset=Fund.objects.none(),
        error_messages={"invalid_choice": "没有这个基金。", "required": "请选择划入的基金。"},
    )
    amount = money_field("金额(元)")
    entry_date = forms.DateField(label="日期", widget=DateInput())
    description = forms.CharField(
        label="摘要", max_length=100, required=False, help_text="可不填,如拨付文号、用途。"
    )
    form_token = FormTokenField()

    def __init__(self, *args, source: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Fund.objects.exclude(pk=source.pk).order_by("kind", "id")
        self.fields["target"].label_from_instance = lambda f: (
            f"{f.name}({f.get_kind_display()},余额 {f.balance} 元)"
        )
