"""Forms of the payments pages. They only read what the user typed: the services check it all
again, permissions and money rules included."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from associations.forms import DateInput
from associations.models import Association, Level
from associations.submissions import FormTokenField

from .payments_rules import PaymentMethod


class BankAccountForm(forms.Form):
    bank_name = forms.CharField(
        label="开户银行",
        max_length=100,
        help_text="写到支行,如“中国农业银行丰宁支行”。",
        error_messages={"required": "请填写开户银行。"},
    )
    account_number = forms.CharField(
        label="银行账号",
        max_length=40,
        help_text="12 至 30 位数字,可带空格。",
        error_messages={"required": "请填写银行账号。"},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    form_token = FormTokenField()


class PayeeForm(forms.Form):
    account = forms.ChoiceField(label="收款账户", required=False)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["account"].choices = [("", "不设置(现金发放)")] + [
            (str(a.pk), a.label) for a in accounts
        ]

    def clean_account(self):
        value = self.cleaned_data.get("account")
        return self.accounts.get(value) if value else None


class ActionForm(forms.Form):
    """A button that changes a batch (confirm, cancel, re-issue): only the one-time token."""

    form_token = FormTokenField()


class BatchCreateForm(forms.Form):
    program = forms.TypedChoiceField(
        label="扶助项目", coerce=int, error_messages={"required": "请选择扶助项目。"}
    )
    period = forms.CharField(
        label="发放期",
        max_length=20,
        help_text="按年发放填年份(2026),按月发放填年月(2026-03),一次性发放填发放日期(2026-03-15)。",
        error_messages={"required": "请填写发放期。"},
    )
    node = forms.ModelChoiceField(
        label="发放范围",
        queryset=Association.objects.filter(
            level__in=[Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]
        ).order_by("division_code"),
        error_messages={"required": "请选择发放范围。", "invalid_choice": "请选择发放范围。"},
    )
    note = forms.CharField(label="备注", max_length=200, required=False)
    form_token = FormTokenField()

    def __init__(self, *args, programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "请选择")] + [
            (p.pk, f"{p.name}({p.get_frequency_display()})") for p in programs
        ]
        self.fields["node"].label_from_instance = lambda n: f"{n.name}({n.get_level_display()})"


class BatchPayForm(forms.Form):
    paid_on = forms.DateField(
        label="发放日期", widget=DateInput(), error_messages={"required": "请填写发放日期。"}
    )
    method = forms.ChoiceField(
        label="发放方式", choices=PaymentMethod.choices, initial=PaymentMethod.BANK
    )
    reference = forms.CharField(
        label="凭证号", max_length=60, required=False, help_text="银行批次号或付款凭证号。"
    )
    form_token = FormTokenField()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class LineFailForm(forms.Form):
    reason = forms.CharField(
        label="失败原因",
        max_length=200,
        help_text="如“账号不存在”“户名与账号不符”“账户已销户”。",
        error_messages={"required": "请填写失败原因。"},
    )


class ReturnFileForm(forms.Form):
    file = forms.FileField(
        label="银行回盘文件",
        help_text="Excel(.xlsx)或 CSV 文件,须有“业务参考号”“状态”两列,可有“失败原因”“交易日期”。",
        error_messages={"required": "请选择要上传的文件。", "empty": "上传的文件是空的。"},
    )


class TotalsForm(forms.Form):
    program = forms.TypedChoiceField(label="扶助项目", coerce=int, required=False)
    period = forms.CharField(label="发放期", max_length=20, required=False)

    def __init__(self, *args, programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "请选择")] + [(p.pk, p.name) for p in programs]
