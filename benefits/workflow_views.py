"""Pages of the enrolment workflow: the enrolment list (filters, masked ID numbers), an
enrolment's page (its steps, objections, the return reason, and the actions the user may
take as POST forms with one-time tokens), the to-do page of each role, and the actions.

Objects come through the scope (out of scope: 404); the services decide who may act (403)
and what the workflow allows (a form error, status 400). The notice pages are in
benefits.notice_views; both sets of routes are gathered in `urlpatterns` here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path

from associations.forms import add_service_errors
from associations.models import Role
from associations.permissions import in_user_subtree, require
from associations.views import StaffView
from households import masking
from households.forms import filters_in_use, prepare_filter_form
from households.pagination import match_count, peek_page
from households.views import user_crumbs

from . import notice_services, notice_views, selectors, workflow_selectors, workflow_services
from .models import EnrollmentStatus as Status
from .permissions import can_apply
from .workflow_filters import EnrollmentFilter
from .workflow_forms import (
    ApproveForm,
    ExitForm,
    ObjectionForm,
    ResolveForm,
    ReturnForm,
    ReviewForm,
)

PER_PAGE = 30
TODO_ROWS = 20
REPLAYED = "这张表单已经提交过,没有重复办理。"

# What waits for each role (workflow_selectors.STAGES): the village its returned applications
# and those to post, the township what it may review now and the objections to resolve, the
# county what it may approve (and, acting for any level, what waits for review).
TODO_STAGES = {
    Role.VILLAGE_SECRETARY: ["returned", "to_notice"],
    Role.TOWNSHIP_STAFF: ["to_review", "objection"],
    Role.COUNTY_ADMIN: ["to_approve", "to_review", "objection"],
}


def decorate(rows, user) -> None:
    """What a list shows of each enrolment: the name and the masked ID number."""
    for enrollment in rows:
        enrollment.beneficiary = workflow_services.beneficiary_name(enrollment)
        number = workflow_selectors.beneficiary_id_number(enrollment)
        enrollment.masked_id = masking.id_number_for(user, number)


def program_select(form, user) -> None:
    """The `program` filter as a select of the county's programmes."""
    if "program" in form.fields:
        choices = [("", "不限"), *[(p.pk, p.name) for p in selectors.program_list(actor=user)]]
        form.fields["program"].widget = forms.Select(choices=choices)


class EnrollmentListView(StaffView):
    def get(self, request):
        user = request.user
        filterset = EnrollmentFilter(
            request.GET, queryset=workflow_selectors.enrollment_list(actor=user)
        )
        form = prepare_filter_form(filterset, user)
        program_select(form, user)
        form.fields["q"].widget.attrs["placeholder"] = "姓名或拼音首字母"
        page = peek_page(filterset.qs, request.GET, per_page=PER_PAGE)
        decorate(page.object_list, user)
        return render(
            request,
            "benefits/workflow/enrollment_list.html",
            {
                "filter_form": form,
                "page": page,
                "count": match_count(filterset.qs, page) if form.is_valid() else None,
                "filtered": any(v for k, v in request.GET.items() if k != "page"),
                **filters_in_use(request.GET),
                "breadcrumbs": user_crumbs(user),
                "can_post_notice": can_apply(user, user.node),
            },
        )


class TodoView(StaffView):
    """待办: what waits for the user's role, each stage's first rows and how many there are."""

    def get(self, request):
        user = request.user
        base = workflow_selectors.enrollment_list(actor=user)
        sections = []
        for key in TODO_STAGES.get(user.role, []):
            label, stage = workflow_selectors.STAGES[key]
            queryset = stage(base)
            rows = list(queryset[:TODO_ROWS])
            decorate(rows, user)
            total = len(rows) if len(rows) < TODO_ROWS else queryset.count()
            sections.append({"key": key, "label": label, "rows": rows, "total": total})
        return render(
            request,
            "benefits/workflow/todo.html",
            {
                "sections": sections,
                "read_only": user.role not in TODO_STAGES,
                "breadcrumbs": user_crumbs(user),
                "today": workflow_services.today(),
            },
        )


# --- an enrolment's page ----------------------------------------------------------------------


STATUS_LABELS = dict(Status.choices)


def _labelled(events) -> list:
    events = list(events)
    for event in events:
        event.from_label = STATUS_LABELS.get(event.from_status, "—")
        event.to_label = STATUS_LABELS.get(event.to_status, "—")
    return events


def detail_context(request, enrollment, **bound) -> dict:
    user = request.user
    status = enrollment.status
    objections = list(workflow_selectors.enrollment_objections(enrollment=enrollment))
    may_review = workflow_services.may_review(user, enrollment)
    today = workflow_services.today()
    resolve_forms = bound.pop("resolve_forms", {})
    for objection in objections:
        if objection.resolved_at is None and may_review:
            objection.form = resolve_forms.get(objection.pk) or ResolveForm(
                prefix=f"o{objection.pk}"
            )
    reviewable = may_review and status in (Status.APPLIED, Status.IN_NOTICE)
    blocker = workflow_services.review_blocker(enrollment) if reviewable else None
    returnable = workflow_services.may_return(user, enrollment) and status in (
        workflow_services.RETURNABLE
    )
    approvable = workflow_services.may_approve(user, enrollment)
    notice = enrollment.notice
    decorate([enrollment], user)
    labels = workflow_selectors.rate_labels(
        county_id=enrollment.county_id, program_ids=[enrollment.program_id]
    )
    forms_ = {
        "objection_form": status == Status.IN_NOTICE
        and workflow_services.may_object(user, enrollment)
        and (bound.get("objection_form") or ObjectionForm(initial={"raised_on": today})),
        "review_form": reviewable
        and (bound.get("review_form") or (blocker is None and ReviewForm())),
        "return_form": returnable and (bound.get("return_form") or ReturnForm()),
        "approve_form": approvable
        and status == Status.REVIEWED
        and (bound.get("approve_form") or ApproveForm(initial={"enrolled_on": today})),
        "exit_form": approvable
        and status == Status.ENROLLED
        and (bound.get("exit_form") or ExitForm(initial={"exited_on": today})),
    }
    village = enrollment.village
    return {
        "enrollment": enrollment,
        "node": village,
        "breadcrumbs": village.lineage(),
        "category": workflow_selectors.category_label(enrollment, labels),
        "reasons": workflow_selectors.reasons_text(enrollment),
        "events": _labelled(workflow_selectors.enrollment_events(enrollment=enrollment)),
        "objections": objections,
        "notice": notice,
        "notice_link": notice is not None and in_user_subtree(user, notice),
        "review_blocker": blocker and " ".join(blocker.messages),
        "is_returned": status == Status.REJECTED,
        **forms_,
    }


def render_detail(request, enrollment, *, status=200, **bound):
    context = detail_context(request, enrollment, **bound)
    return render(request, "benefits/workflow/enrollment_detail.html", context, status=status)


class EnrollmentDetailView(StaffView):
    def get(self, request, pk):
        enrollment = workflow_selectors.enrollment_get(actor=request.user, pk=pk)
        return render_detail(request, enrollment)


def _tell(request, result, done: str) -> None:
    """What the user reads after an action: ``done``, or that the form was sent before."""
    if getattr(result, "replayed", False):
        messages.info(request, REPLAYED)
    else:
        messages.success(request, done)


@dataclass(frozen=True)
class EnrollmentAction:
    """One action of an enrolment's page: its form, who may take it, the service that takes
    it (called with the form's data) and what the user reads once it is done."""

    form_class: type[forms.Form]
    allowed: Callable[..., bool]
    service: Callable
    done: str


# Each is POSTed to benefits/enrollments/<pk>/<name>/ (URL name "enrollment-<name>"), and its
# form is the page's "<name>_form".
ACTIONS = {
    "objection": EnrollmentAction(
        ObjectionForm,
        workflow_services.may_object,
        notice_services.objection_record,
        "已登记异议。异议处理完毕前不能审核。",
    ),
    "review": EnrollmentAction(
        ReviewForm,
        workflow_services.may_review,
        workflow_services.enrollment_review,
        "已审核通过,等待县级审批。",
    ),
    "return": EnrollmentAction(
        ReturnForm,
        workflow_services.may_return,
        workflow_services.enrollment_return,
        "已退回,村(社区)将看到退回原因。",
    ),
    "approve": EnrollmentAction(
        ApproveForm,
        workflow_services.may_approve,
        workflow_services.enrollment_approve,
        "已审批通过,列入在册扶助对象。",
    ),
    "exit": EnrollmentAction(
        ExitForm,
        workflow_services.may_approve,
        workflow_services.enrollment_exit,
        "已办理退出,记录保留。",
    ),
}


class EnrollmentActionView(StaffView):
    """POST one workflow action's form (``ACTIONS[action_name]``); a refusal shows on the
    enrolment's page (400)."""

    action_name = ""

    def post(self, request, pk):
        action = ACTIONS[self.action_name]
        enrollment = workflow_selectors.enrollment_get(actor=request.user, pk=pk)
        require(action.allowed(request.user, enrollment))
        form = action.form_class(request.POST)
        if form.is_valid():
            try:
                result = action.service(
                    actor=request.user, enrollment=enrollment, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                _tell(request, result, action.done)
                return redirect("enrollment-detail", pk=enrollment.pk)
        fresh = workflow_selectors.enrollment_get(actor=request.user, pk=pk)
        return render_detail(request, fresh, status=400, **{f"{self.action_name}_form": form})


class ObjectionResolveView(StaffView):
    def post(self, request, pk):
        objection = workflow_selectors.objection_get(actor=request.user, pk=pk)
        enrollment = workflow_selectors.enrollment_get(
            actor=request.user, pk=objection.enrollment_id
        )
        require(workflow_services.may_review(request.user, enrollment))
        form = ResolveForm(request.POST, prefix=f"o{objection.pk}")
        if form.is_valid():
            try:
                result = notice_services.objection_resolve(
                    actor=request.user,
                    objection=objection,
                    upheld=form.upheld_value(),
                    resolution=form.cleaned_data["resolution"],
                    form_token=form.cleaned_data["form_token"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if result.upheld:
                    done = "异议成立,申报已退回村(社区)。"
                else:
                    done = "异议不成立,已记录处理结果。"
                _tell(request, result, done)
                return redirect("enrollment-detail", pk=enrollment.pk)
        fresh = workflow_selectors.enrollment_get(actor=request.user, pk=enrollment.pk)
        return render_detail(request, fresh, status=400, resolve_forms={objection.pk: form})


urlpatterns = [
    path("benefits/enrollments/", EnrollmentListView.as_view(), name="enrollment-list"),
    path("benefits/todo/", TodoView.as_view(), name="enrollment-todo"),
    path(
        "benefits/enrollments/<int:pk>/", EnrollmentDetailView.as_view(), name="enrollment-detail"
    ),
    *(
        path(
            f"benefits/enrollments/<int:pk>/{name}/",
            EnrollmentActionView.as_view(action_name=name),
            name=f"enrollment-{name}",
        )
        for name in ACTIONS
    ),
    path(
        "benefits/objections/<int:pk>/resolve/",
        ObjectionResolveView.as_view(),
        name="objection-resolve",
    ),
    *notice_views.urlpatterns,
]
