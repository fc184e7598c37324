"""The lookup by a full ID number or phone (POST only: the number never goes into a URL) and
the log of reads of full numbers (county administrators). Both through
households.identity_reads."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render

from associations.forms import DateInput
from associations.models import Role
from associations.views import StaffView

from . import identity_reads, masking
from .api.views import LOOKUP_FORBIDDEN

READS_PER_PAGE = 50
READS_FORBIDDEN = "只有县级管理员可以查看完整号码查看记录。"


class LookupForm(forms.Form):
    number = forms.CharField(
        label="身份证号码或电话",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
        help_text="完整的 18 位身份证号码(15 位旧号码亦可)或完整的手机号码、带区号的固定电话。",
        error_messages={"required": "请输入要查询的号码。", "max_length": "号码过长。"},
    )


class PersonLookupView(StaffView):
    template_name = "households/person_lookup.html"

    def _allowed(self, request) -> None:
        if not masking.may_look_up_by_id_number(request.user):
            raise PermissionDenied(LOOKUP_FORBIDDEN)

    def _render(self, request, form, *, results=None, status=200, refused=""):
        limit = identity_reads.lookups_per_hour()
        used = identity_reads.lookups_in_last_hour(request.user)
        context = {
            "form": form,
            "results": results,
            "refused": refused,
            "limit": limit,
            "left": max(limit - used, 0),
            "title": "按号码查询人员",
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        self._allowed(request)
        return self._render(request, LookupForm())

    def post(self, request):
        self._allowed(request)
        form = LookupForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            found = identity_reads.person_lookup(
                actor=request.user, text=form.cleaned_data["number"], request=request
            )
        except ValidationError as error:
            form.add_error("number", error)
            return self._render(request, form, status=400)
        except identity_reads.LookupLimitReached as limit:
            return self._render(request, LookupForm(), status=429, refused=str(limit))
        for person in found:
            person.shown_id = masking.id_number_for(request.user, person.id_number, detail=True)
            person.shown_phone = masking.phone_for(request.user, person.phone, detail=True)
        # A fresh, empty form: the number is not echoed back into the page.
        return self._render(request, LookupForm(), results=found)


class ReadFilterForm(forms.Form):
    reader = forms.CharField(label="查看人账号", max_length=150, required=False)
    person = forms.CharField(label="被查看人姓名", max_length=50, required=False)
    day = forms.DateField(
        label="日期",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "请输入有效的日期,例如 2026-12-01。"},
    )


class IdentityReadListView(StaffView):
    def get(self, request):
        if request.user.role != Role.COUNTY_ADMIN:
            raise PermissionDenied(READS_FORBIDDEN)
        form = ReadFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        reads = identity_reads.identity_read_list(
            actor=request.user,
            reader=filters.get("reader", ""),
            person=filters.get("person", ""),
            day=filters.get("day"),
        )
        if form.is_bound and not form.is_valid():
            reads = reads.none()
        page = Paginator(reads, READS_PER_PAGE).get_page(request.GET.get("page"))
        for read in page.object_list:
            read.field_text = "、".join(FIELD_LABELS.get(f, f) for f in read.fields)
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "households/identity_read_list.html",
            {
                "form": form,
                "page": page,
                "query": query.urlencode(),
            },
            status=400 if form.is_bound and not form.is_valid() else 200,
        )


FIELD_LABELS = {
    "id_number": "身份证号码",
    "phone": "电话",
    "household_phone": "家庭电话",
}
