"""Programme configuration pages: the county's programmes (everyone reads), and creating
(from a national template) or editing one (county admins). Programmes sit at the county node:
like the county's assessment schemes, a programme's own page is a county account's; other
levels read the list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse

from associations.drafts import draft_key, draft_saved
from associations.forms import add_service_errors
from associations.models import Level
from associations.permissions import require
from associations.views import StaffView

from . import permissions, program_services, selectors
from .eligibility import CATEGORY_LABELS, describe_stored
from .models import Fund, ProgramTemplate
from .program_forms import ProgramForm, RateFormSet, SplitFormSet, rows_of
from .program_templates import TEMPLATES, template_for

NOT_ALLOWED = "只有县级管理员可以设置扶助项目。"


def program_for_county(request, pk):
    """A programme's own page is a county account's (404 below the county, as schemes)."""
    if request.user.node_level != Level.COUNTY:
        raise Http404("没有这个扶助项目。")
    return selectors.program_get(actor=request.user, pk=pk)


class ProgramListView(StaffView):
    def get(self, request):
        programs = selectors.program_list(actor=request.user)
        rows = [
            {
                "program": program,
                "rule": describe_stored(program.rule),
                "rates": list(program.rates.all()),
            }
            for program in programs
        ]
        return render(
            request,
            "benefits/programs/list.html",
            {
                "rows": rows,
                "templates": list(TEMPLATES.values()),
                "can_configure": permissions.can_configure(request.user),
                "category_labels": CATEGORY_LABELS,
            },
        )


class ProgramFormView(StaffView):
    """Shared by create and edit: the programme's form and its two row sets (rates, split)."""

    def setup_objects(self, request, **kwargs):
        raise NotImplementedError

    def forms(self, data=None):
        funds = Fund.objects.order_by("id")
        program = self.program
        if program is not None:
            rates = [
                {"category": r.category, "label": r.label, "amount": r.amount}
                for r in program.rates.all()
            ]
            split = list(program.funding_split or [])
            form = ProgramForm(data, instance=program, funds=funds, rule=program.rule)
        else:
            template = self.template
            rates = [dict(row) for row in template.rates]
            split = list(template.funding_split)
            form = ProgramForm(data, initial=template.initial(), funds=funds, rule=template.rule)
        if data is not None:
            # Bound: every row sent counts as typed (rows left as the template filled them
            # would otherwise be "unchanged extra rows" and dropped).
            rates = split = None
        return (
            form,
            RateFormSet(data, initial=rates, prefix="rates"),
            SplitFormSet(data, initial=split, prefix="split"),
        )

    def render_page(self, request, form, rates, split, errors=None, status=200):
        return render(
            request,
            "benefits/programs/form.html",
            {
                "form": form,
                "rates": rates,
                "split": split,
                "program": self.program,
                "template": self.template,
                "errors": errors or {},
                "draft_key": draft_key(request),
                "title": f"修改项目:{self.program.name}"
                if self.program
                else f"新建项目:{self.template.name}",
            },
            status=status,
        )

    def get(self, request, **kwargs):
        self.setup_objects(request, **kwargs)
        require(permissions.can_configure(request.user), NOT_ALLOWED)
        return self.render_page(request, *self.forms())

    def post(self, request, **kwargs):
        self.setup_objects(request, **kwargs)
        require(permissions.can_configure(request.user), NOT_ALLOWED)
        form, rates, split = self.forms(request.POST)
        errors: dict[str, list[str]] = {}
        if form.is_valid() and rates.is_valid() and split.is_valid():
            try:
                program = self.save(request, form, rows_of(rates), rows_of(split))
            except ValidationError as error:
                # The rows' errors are shown above their rows, the rest on the form.
                rows = {"rates", "funding_split"}
                if hasattr(error, "error_dict"):
                    for key in rows & set(error.error_dict):
                        errors[key] = [m for e in error.error_dict[key] for m in e.messages]
                    rest = {k: v for k, v in error.error_dict.items() if k not in rows}
                    if rest:
                        add_service_errors(form, ValidationError(rest))
                else:
                    add_service_errors(form, error)
            else:
                draft_saved(request)
                messages.success(request, f"已保存项目“{program.name}”。")
                return redirect("benefit-program-list")
        return self.render_page(request, form, rates, split, errors=errors, status=400)


class ProgramCreateView(ProgramFormView):
    def setup_objects(self, request, **kwargs):
        self.program = None
        self.template = (
            template_for(request.GET.get("template")) or TEMPLATES[ProgramTemplate.OTHER]
        )

    def save(self, request, form, rates, split):
        return program_services.program_create(
            actor=request.user,
            template=self.template.key,
            rates=rates,
            funding_split=split,
            form_token=form.cleaned_data.get("form_token"),
            **form.service_fields(),
        )


class ProgramEditView(ProgramFormView):
    def setup_objects(self, request, pk):
        self.program = program_for_county(request, pk)
        self.template = template_for(self.program.template)

    def save(self, request, form, rates, split):
        return program_services.program_update(
            actor=request.user,
            program=self.program,
            rates=rates,
            funding_split=split,
            **form.service_fields(),
        )


def program_create_url(template: str) -> str:
    return f"{reverse('benefit-program-create')}?template={template}"


urlpatterns = [
    path("benefits/programs/", ProgramListView.as_view(), name="benefit-program-list"),
    path("benefits/programs/new/", ProgramCreateView.as_view(), name="benefit-program-create"),
    path(
        "benefits/programs/<int:pk>/edit/",
        ProgramEditView.as_view(),
        name="benefit-program-edit",
    ),
]
