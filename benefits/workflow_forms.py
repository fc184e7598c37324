"""Forms of the enrolment workflow's pages. They only parse what the user typed; the services
(benefits.workflow_services, notice_services) check permissions and the workflow's rules.
Every action form carries a one-time token (associations.submissions): sent twice, it acts
once."""

from __future__ import annotations

from django import forms

from associations.forms import DateInput
from associations.models import Association, Level
from associations.submissions import FormTokenField
from households import masking

from .workflow_services import beneficiary_name

DATE_INVALID = "日期格式不对,例如 2026-03-08。"


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateInput(),
        error_messages={"required": f"请填写{label}。", "invalid": DATE_INVALID},
    )


def text_field(label: str, *, max_length: int, required: bool, rows: int = 0) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=widget,
        error_messages={
            "required": f"请填写{label}。",
            "max_length": f"{label}最多 {max_length} 个字。",
        },
    )


def notice_nodes():
    """The villages and townships of the user's scope a notice can be posted at."""
    return Association.objects.filter(level__in=[Level.TOWNSHIP, Level.VILLAGE]).order_by(
        "division_code"
    )


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}({obj.get_level_display()})"


class NoticeChooseForm(forms.Form):
    """Step one (GET): which programme, posted by which village or township."""

    program = forms.TypedChoiceField(
        label="项目", coerce=int, error_messages={"required": "请选择项目。"}
    )
    node = NodeChoiceField(
        label="发布单位",
        queryset=notice_nodes(),
        error_messages={
            "required": "请选择发布公示的村(社区)或乡镇(街道)。",
            "invalid_choice": "请在您的管辖范围内选择村(社区)或乡镇(街道)。",
        },
    )

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "请选择"), *[(p.pk, p.name) for p in programs]]
        self.fields["program"].error_messages["invalid_choice"] = "请选择需要公示的项目。"


class EnrollmentChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        person = obj.person if obj.person_id else obj.household.head
        masked = masking.id_number_for(self.user, person.id_number) if person else ""
        return (
            f"{beneficiary_name(obj)} {masked} · {obj.village.name} · {obj.applied_on:%Y-%m-%d}申报"
        )


class NoticeForm(NoticeChooseForm):
    """Step two (POST): the period, where to object, and whom the notice lists."""

    starts_on = date_field("公示开始日期", help_text="公示天数按项目设置计算截止日期。")
    objection_contact = text_field("异议受理", max_length=200, required=True)
    enrollments = EnrollmentChoiceField(
        label="公示对象",
        queryset=None,
        user=None,
        error_messages={
            "required": "请至少选择一名公示对象。",
            "invalid_choice": "所选的申报已不在待公示之列,请刷新页面后重新选择。",
            "invalid_pk_value": "所选的申报不存在。",
        },
    )
    form_token = FormTokenField()

    def __init__(self, *args, programs, user, candidates, **kwargs):
        super().__init__(*args, programs=programs, **kwargs)
        self.fields["program"].widget = forms.HiddenInput()
        self.fields["node"].widget = forms.HiddenInput()
        self.fields["objection_contact"].help_text = "例如:村委会计生办,电话 0319-1234567"
        field = self.fields["enrollments"]
        field.queryset = candidates
        field.user = user


class ObjectionForm(forms.Form):
    raised_by = text_field("提出人", max_length=50, required=False)
    raised_on = date_field("提出日期")
    content = text_field("异议内容", max_length=500, required=True, rows=3)
    form_token = FormTokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_by"].help_text = "可填写村民姓名;匿名反映的可不填。"


UPHELD_CHOICES = [("no", "异议不成立(继续办理)"), ("yes", "异议成立(退回申报)")]


class ResolveForm(forms.Form):
    upheld = forms.ChoiceField(
        label="处理结论",
        choices=UPHELD_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "请选择异议是否成立。",
            "invalid_choice": "请选择异议是否成立。",
        },
    )
    resolution = text_field("处理结果", max_length=500, required=True, rows=2)
    form_token = FormTokenField()

    def upheld_value(self) -> bool:
        return self.cleaned_data["upheld"] == "yes"


class ReviewForm(forms.Form):
    opinion = text_field("审核意见", max_length=500, required=False)
    form_token = FormTokenField()


class ReturnForm(forms.Form):
    reason = text_field("退回原因", max_length=500, required=True, rows=2)
    form_token = FormTokenField()


class ApproveForm(forms.Form):
    enrolled_on = date_field("在册日期")
    opinion = text_field("审批意见", max_length=500, required=False)
    form_token = FormTokenField()


class ExitForm(forms.Form):
    exited_on = date_field("退出日期")
    reason = text_field("退出原因", max_length=200, required=True)
    form_token = FormTokenField()
