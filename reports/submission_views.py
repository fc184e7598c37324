"""Pages of the assessment periods and submissions.

- County (县级): the periods, opening one, a period's completeness by township with every
  village's state, locking and reopening (with a reason). A period's own page is the county
  node's (its row sits there: other accounts get 404).
- Township (乡镇): a period as seen from its node — its villages and their states, each
  linking to the review page of the submission.
- Village (村): its submission — proposed scores with notes, its note, submit; the reason of
  a return; the history.
Objects come through the scope (out of scope: 404); the services decide who may act (403)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from associations import permissions as association_permissions
from associations import selectors as association_selectors
from associations.forms import add_service_errors
from associations.models import Level
from associations.views import ServiceFormView, StaffView

from . import periods_services, permissions, submission_attachments, submissions
from .models import AssessmentPeriod, PeriodEvent, Submission, SubmissionEvent
from .submission_forms import PeriodOpenForm, ReasonForm, ScoresForm


def _node(request, pk):
    return association_selectors.association_get(actor=request.user, pk=pk)


# --- periods -------------------------------------------------------------------------------


class PeriodListView(StaffView):
    def get(self, request, pk):
        node = _node(request, pk)
        if node.level == Level.GROUP:
            raise Http404("会员小组没有考核报送。")
        periods = list(AssessmentPeriod.county_wide.select_related("version__scheme"))
        own = {}
        if node.level == Level.VILLAGE:
            own = {
                s.period_id: s
                for s in Submission.objects.filter(village_id=node.pk, period__in=periods)
            }
        can_open = node.level == Level.COUNTY and permissions.can_manage_schemes(request.user, node)
        return render(
            request,
            "reports/submission_periods.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "rows": [(period, own.get(period.pk)) for period in periods],
                "can_open": can_open,
                "form": PeriodOpenForm(county=node) if can_open else None,
            },
        )


class PeriodOpenView(ServiceFormView):
    template_name = "reports/submission_form.html"

    def load(self, pk):
        self.county = _node(self.request, pk)
        if self.county.level != Level.COUNTY:
            raise Http404("考核期由县级协会开启。")

    def check_permission(self):
        return permissions.can_manage_schemes(self.request.user, self.county)

    def build_form(self, data=None):
        return PeriodOpenForm(data, county=self.county)

    def context(self):
        return {"node": self.county, "breadcrumbs": self.county.lineage(), "title": "开启考核期"}

    def perform(self, form):
        period = periods_services.period_open(
            actor=self.request.user, county=self.county, **form.cleaned_data
        )
        messages.success(self.request, f"已开启{period}考核期,各村(社区)可以报送。")
        return redirect("period-detail", pk=period.pk)


def _period(pk) -> AssessmentPeriod:
    """At the county node: county accounts only (others: 404)."""
    return get_object_or_404(AssessmentPeriod.objects.select_related("version__scheme"), pk=pk)


def period_context(request, period, **extra) -> dict:
    county = association_selectors.association_get(actor=request.user, pk=period.county_id)
    total, townships = periods_services.completeness(period=period)
    return {
        "node": county,
        "breadcrumbs": county.lineage(),
        "period": period,
        "total": total,
        "townships": townships,
        "events": PeriodEvent.objects.filter(period=period).select_related("actor"),
        "can_manage": permissions.can_manage_schemes(request.user, county),
        "reopen_form": extra.pop("reopen_form", None) or ReasonForm(),
        **extra,
    }


class PeriodDetailView(StaffView):
    def get(self, request, pk):
        period = _period(pk)
        return render(request, "reports/submission_period.html", period_context(request, period))


class PeriodLockView(StaffView):
    def post(self, request, pk):
        period = _period(pk)
        try:
            periods_services.period_lock(actor=request.user, period=period)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{period}考核期已锁定。")
        return redirect("period-detail", pk=period.pk)


class PeriodReopenView(StaffView):
    def post(self, request, pk):
        period = _period(pk)
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                periods_services.period_reopen(
                    actor=request.user, period=period, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{period}考核期已重新开放。")
                return redirect("period-detail", pk=period.pk)
        context = period_context(request, period, reopen_form=form)
        return render(request, "reports/submission_period.html", context, status=400)


class PeriodNodeView(StaffView):
    """A period from a node: the county's page, a village's own submission, or a township's
    villages with their states."""

    def get(self, request, pk, key):
        node = _node(request, pk)
        period = periods_services.period_by_key(key)
        if period is None or node.level == Level.GROUP:
            raise Http404("没有这个考核期。")
        if node.level == Level.COUNTY:
            return redirect("period-detail", pk=period.pk)
        if node.level == Level.VILLAGE:
            own = get_object_or_404(Submission, period=period, village_id=node.pk)
            return redirect("submission-detail", pk=own.pk)
        total, townships = periods_services.completeness(period=period, under=node)
        context = {
            "node": node,
            "breadcrumbs": node.lineage(),
            "period": period,
            "total": total,
            "townships": townships,
        }
        return render(request, "reports/submission_period.html", context)


# --- submissions ---------------------------------------------------------------------------


def _submission(pk) -> Submission:
    return get_object_or_404(
        Submission.objects.select_related("period__version", "expected", "village"), pk=pk
    )


def submission_context(request, submission, *, form=None, review_form=None) -> dict:
    rows = submissions.score_rows(submission)
    period = submission.period
    fill = submissions.can_fill(request.user, submission)
    review = submissions.can_review(request.user, submission)
    open_ = not period.is_locked
    if form is None and fill and open_ and submission.state in submissions.EDITABLE_BY_VILLAGE:
        form = ScoresForm(rows=rows, with_note=True, note=submission.note)
    if review_form is None and review and open_ and submission.state == Submission.State.SUBMITTED:
        review_form = ScoresForm(rows=rows, review=True)
    village = submission.village
    return {
        "node": village,
        "breadcrumbs": village.lineage(),
        "submission": submission,
        "period": period,
        "rows": rows,
        "form": form,
        "review_form": review_form,
        "events": SubmissionEvent.objects.filter(submission=submission).select_related("actor"),
        "attachment_card": submission_attachments.attachment_card(request, submission),
    }


def _render(request, submission, status=200, **forms):
    context = submission_context(request, submission, **forms)
    return render(request, "reports/submission.html", context, status=status)


class SubmissionView(StaffView):
    def get(self, request, pk):
        return _render(request, _submission(pk))

    def post(self, request, pk):
        """The village saves its proposal; with 报送 it also submits."""
        submission = _submission(pk)
        association_permissions.require(
            submissions.can_fill(request.user, submission), "只有本村(社区)可以填写报送。"
        )
        rows = submissions.score_rows(submission)
        form = ScoresForm(request.POST, rows=rows, with_note=True, note=submission.note)
        if form.is_valid():
            try:
                submissions.submission_save(
                    actor=request.user,
                    submission=submission,
                    note=form.cleaned_data.get("note", ""),
                    scores=form.scores(),
                )
                if "submit" in request.POST:
                    submissions.submission_submit(actor=request.user, submission=submission)
                    messages.success(request, "已报送,等待乡镇(街道)审核。")
                else:
                    messages.success(request, "已保存。")
                return redirect("submission-detail", pk=submission.pk)
            except ValidationError as error:
                add_service_errors(form, error)
        return _render(request, _submission(pk), status=400, form=form)


class SubmissionReviewView(StaffView):
    def post(self, request, pk):
        """The township accepts (with its scores) or returns (with a reason)."""
        submission = _submission(pk)
        association_permissions.require(
            submissions.can_review(request.user, submission), "只有所属乡镇(街道)专干可以审核。"
        )
        rows = submissions.score_rows(submission)
        form = ScoresForm(request.POST, rows=rows, review=True)
        if form.is_valid():
            try:
                if "return" in request.POST:
                    submissions.submission_return(
                        actor=request.user,
                        submission=submission,
                        reason=form.cleaned_data.get("reason", ""),
                        scores=form.scores(),
                    )
                    messages.success(request, "已退回,村(社区)将看到退回原因。")
                else:
                    submissions.submission_accept(
                        actor=request.user, submission=submission, scores=form.scores()
                    )
                    messages.success(request, "已审核通过。")
                return redirect("submission-detail", pk=submission.pk)
            except ValidationError as error:
                add_service_errors(form, error)
        return _render(request, _submission(pk), status=400, review_form=form)
