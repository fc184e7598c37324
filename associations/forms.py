from django import forms
from django.core.exceptions import ValidationError

from .models import Association, Council, CouncilSeat, Level, Role, parent_level


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors on their fields when the
    form has them, the rest at the top. What the user typed stays in the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AssociationForm(forms.ModelForm):
    class Meta:
        model = Association
        fields = [
            "name",
            "kind",
            "division_code",
            "established_on",
            "address",
            "phone",
            "is_small_village",
        ]
        widgets = {
            "established_on": DateInput(),
            "division_code": forms.TextInput(attrs={"inputmode": "numeric"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, level: str, **kwargs):
        super().__init__(*args, **kwargs)
        if level != Level.VILLAGE:
            del self.fields["is_small_village"]
        if level != Level.VILLAGE:
            # Floating, enterprise and campus associations sit at village level.
            del self.fields["kind"]
        code_length = {"county": 6, "township": 9, "village": 12, "group": 15}[level]
        self.fields["division_code"].help_text = f"{code_length} 位数字"

    def _post_clean(self):
        # Validation lives in the services; the form only parses the input.
        pass


class MoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(queryset=Association.objects.all(), label="新的上级组织")
    new_division_code = forms.CharField(
        label="新的区划代码",
        required=False,
        help_text=(
            "填写时须以新上级的代码开头。村可不填(保留原代码);"
            "会员小组不填时改为新村的代码加本组原来的 3 位编号。"
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, node: Association, **kwargs):
        super().__init__(*args, **kwargs)
        target_level = parent_level(node.level)
        self.fields["new_parent"].queryset = (
            Association.objects.filter(level=target_level)
            .exclude(pk=node.parent_id)
            .order_by("division_code")
        )
        self.fields["new_parent"].label_from_instance = lambda n: f"{n.division_code} {n.name}"


class CouncilForm(forms.ModelForm):
    class Meta:
        model = Council
        fields = ["term_number", "starts_on", "ends_on"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}

    def _post_clean(self):
        pass

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends <= starts:
            self.add_error("ends_on", "任期结束日期应晚于开始日期。")
        return data


class CouncilSeatForm(forms.ModelForm):
    class Meta:
        model = CouncilSeat
        fields = ["position", "person_name", "background", "note"]

    def _post_clean(self):
        pass


class StaffForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    node = forms.ModelChoiceField(queryset=Association.objects.all(), label="所属组织")
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = Association.objects.order_by("division_code")
        self.fields["node"].label_from_instance = lambda n: f"{n.division_code} {n.name}"


class CountyForm(forms.Form):
    name = forms.CharField(label="县(市、区)名称", max_length=100)
    division_code = forms.CharField(
        label="区划代码", max_length=6, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    admin_username = forms.CharField(label="管理员用户名", max_length=150)
    admin_full_name = forms.CharField(label="管理员姓名", max_length=50, required=False)
    admin_password = forms.CharField(
        label="管理员初始密码", widget=forms.PasswordInput, strip=False
    )
