"""Pages of the public notices (公示): the list, posting one (choose the programme and the
village or township, then whom it lists, the period and where to object), a notice's page
and its printable sheet. Names and ID numbers on a notice are masked for everyone: it is a
public list (households.identity.mask_name / mask_id_number)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path

from associations.forms import add_service_errors
from associations.models import Level
from associations.permissions import require
from associations.sheets.responses import xlsx_response
from associations.views import StaffView
from households.forms import filters_in_use, prepare_filter_form
from households.pagination import peek_page
from households.views import user_crumbs

from . import notice_services, notice_sheet, selectors, workflow_selectors, workflow_services
from .models import Enrollment, EnrollmentStatus
from .permissions import can_apply
from .workflow_filters import NoticeFilter
from .workflow_forms import NoticeChooseForm, NoticeForm

PER_PAGE = 30


def noticed_programs(user) -> list:
    """The county's active programmes that are noticed before approval."""
    return [p for p in selectors.program_list(actor=user, active_only=True) if p.needs_notice]


def notice_candidates(program, node):
    """The programme's applied enrolments under the node, waiting for their notice."""
    return (
        Enrollment.objects.filter(
            program=program, status=EnrollmentStatus.APPLIED, **{f"{node.level}_id": node.pk}
        )
        .select_related("person", "household__head", "village")
        .order_by("village__division_code", "applied_on", "id")
    )


class NoticeListView(StaffView):
    def get(self, request):
        user = request.user
        filterset = NoticeFilter(request.GET, queryset=workflow_selectors.notice_list(actor=user))
        form = prepare_filter_form(filterset, user)
        choices = [("", "不限"), *[(p.pk, p.name) for p in selectors.program_list(actor=user)]]
        form.fields["program"].widget = forms.Select(choices=choices)
        page = peek_page(filterset.qs, request.GET, per_page=PER_PAGE)
        today = workflow_services.today()
        for notice in page.object_list:
            notice.node = workflow_selectors.notice_node(notice)
            notice.running = notice.starts_on <= today <= notice.ends_on
            notice.over = notice.ends_on < today
        return render(
            request,
            "benefits/workflow/notice_list.html",
            {
                "filter_form": form,
                "page": page,
                "filtered": any(v for k, v in request.GET.items() if k != "page"),
                **filters_in_use(request.GET),
                "breadcrumbs": user_crumbs(user),
                "can_post": can_apply(user, user.node),
            },
        )


class NoticeCreateView(StaffView):
    """发布公示. GET: choose the programme and the village or township (step one), then the
    page lists that node's applied enrolments, all ticked. POST: the service posts it."""

    template_name = "benefits/workflow/notice_form.html"

    def _context(self, choose, form, **extra) -> dict:
        return {
            "choose_form": choose,
            "form": form,
            "breadcrumbs": user_crumbs(self.request.user),
            "programs_exist": bool(choose.fields["program"].choices[1:]),
            **extra,
        }

    def get(self, request):
        user = request.user
        require(can_apply(user, user.node))
        programs = noticed_programs(user)
        data = request.GET if {"program", "node"} & set(request.GET) else None
        own = {"node": user.node_id} if user.node_level in (Level.VILLAGE, Level.TOWNSHIP) else {}
        choose = NoticeChooseForm(data, programs=programs, initial=own)
        form = program = node = None
        if data is not None and choose.is_valid():
            program = selectors.program_get(actor=user, pk=choose.cleaned_data["program"])
            node = choose.cleaned_data["node"]
            candidates = notice_candidates(program, node)
            form = NoticeForm(
                initial={
                    "program": program.pk,
                    "node": node.pk,
                    "starts_on": workflow_services.today(),
                    "enrollments": [e.pk for e in candidates],
                },
                programs=programs,
                user=user,
                candidates=candidates,
            )
        return render(
            request,
            self.template_name,
            self._context(choose, form, program=program, chosen_node=node),
        )

    def post(self, request):
        user = request.user
        require(can_apply(user, user.node))
        programs = noticed_programs(user)
        choose = NoticeChooseForm(request.POST, programs=programs)
        if not choose.is_valid():
            return render(request, self.template_name, self._context(choose, None), status=400)
        program = selectors.program_get(actor=user, pk=choose.cleaned_data["program"])
        node = choose.cleaned_data["node"]
        form = NoticeForm(
            request.POST, programs=programs, user=user, candidates=notice_candidates(program, node)
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice = notice_services.notice_publish(
                    actor=user,
                    program=program,
                    node=node,
                    objection_contact=data["objection_contact"],
                    enrollments=list(data["enrollments"]),
                    starts_on=data["starts_on"],
                    form_token=data["form_token"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if getattr(notice, "replayed", False):
                    messages.info(request, "这张表单已经提交过,公示已发布,没有重复发布。")
                else:
                    messages.success(
                        request,
                        f"已发布公示,公示期 {notice.starts_on:%Y-%m-%d} 至 "
                        f"{notice.ends_on:%Y-%m-%d}。请打印公示表张贴。",
                    )
                return redirect("notice-detail", pk=notice.pk)
        context = self._context(choose, form, program=program, chosen_node=node)
        return render(request, self.template_name, context, status=400)


def _notice_page_data(request, pk):
    notice = workflow_selectors.notice_get(actor=request.user, pk=pk)
    node = workflow_selectors.notice_node(notice)
    rows = workflow_selectors.notice_rows(notice)
    return notice, node, rows


class NoticeDetailView(StaffView):
    def get(self, request, pk):
        notice, node, rows = _notice_page_data(request, pk)
        counts = {
            pk: (n, open_)
            for pk, n, open_ in Enrollment.objects.filter(notice=notice)
            .annotate(
                n=Count("objections"),
                open=Count("objections", filter=Q(objections__resolved_at__isnull=True)),
            )
            .values_list("pk", "n", "open")
        }
        today = workflow_services.today()
        return render(
            request,
            "benefits/workflow/notice_detail.html",
            {
                "notice": notice,
                "node": node,
                "breadcrumbs": node.lineage(),
                "rows": [(row, *counts.get(row.enrollment_id, (0, 0))) for row in rows],
                "total": sum(row.amount for row in rows),
                "days": (notice.ends_on - notice.starts_on).days + 1,
                "running": notice.starts_on <= today <= notice.ends_on,
                "over": notice.ends_on < today,
                "township": node.level == Level.TOWNSHIP,
            },
        )


class NoticeSheetView(StaffView):
    def get(self, request, pk):
        notice, node, rows = _notice_page_data(request, pk)
        content = notice_sheet.notice_xlsx(
            notice,
            rows,
            county_name=notice.county.name,
            node_name=node.name,
            township=node.level == Level.TOWNSHIP,
            made_on=workflow_services.today(),
        )
        return xlsx_response(content, notice_sheet.notice_filename(notice))


urlpatterns = [
    path("benefits/notices/", NoticeListView.as_view(), name="notice-list"),
    path("benefits/notices/new/", NoticeCreateView.as_view(), name="notice-create"),
    path("benefits/notices/<int:pk>/", NoticeDetailView.as_view(), name="notice-detail"),
    path("benefits/notices/<int:pk>/sheet/", NoticeSheetView.as_view(), name="notice-sheet"),
]
