from django import forms

from ..models import Association, Level

KEY_DAY_CHOICES = [(30, "30 天"), (90, "90 天"), (180, "180 天"), (365, "365 天")]


class TokenForm(forms.Form):
    label = forms.CharField(
        label="用途说明", max_length=100, required=False, help_text="如“数据对接脚本”,便于辨认。"
    )


class ApiKeyForm(forms.Form):
    label = forms.CharField(label="用途说明", max_length=100, help_text="如“县卫健委数据平台”。")
    node = forms.ModelChoiceField(
        queryset=Association.objects.all(),
        label="绑定的组织",
        help_text="密钥只能读取该组织及其下级的数据。",
    )
    days = forms.TypedChoiceField(label="有效期", choices=KEY_DAY_CHOICES, coerce=int, initial=180)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = Association.objects.filter(
            level__in=[Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]
        ).order_by("division_code")
        self.fields["node"].label_from_instance = lambda n: f"{n.division_code} {n.name}"
