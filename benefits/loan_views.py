"""Loan pages (幸福工程, 少生快富): the list with what is outstanding and overdue and the loan
funds' re-lending figures, the overdue list of a day, one loan with its schedule and
repayments, the forms that issue a loan and record a repayment (one-time tokens), and the
confirmation that voids a loan issued by mistake (with its reason).

Loans sit at the borrower's village: each account reads those of its own subtree (another
village's loan is a 404); only the county admin issues loans and records repayments
(can_pay; others get a 403)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from associations.drafts import draft_key, draft_saved
from associations.views import ServiceFormView, StaffView
from households import selectors as household_selectors
from households.forms import filters_in_use, prepare_filter_form
from households.models import Person
from households.pagination import match_count, peek_page
from households.views import user_crumbs

from . import loan_selectors, loan_services, permissions
from .fund_filters import LoanFilter
from .fund_forms import LoanIssueForm, LoanVoidForm, RepaymentForm

PER_PAGE = 30
FOUND_SHOWN = 10


def _crumbs(request) -> dict:
    return {"breadcrumbs": user_crumbs(request.user)}


class LoanListView(StaffView):
    def get(self, request):
        user = request.user
        filterset = LoanFilter(request.GET, queryset=loan_selectors.loan_rows(actor=user))
        form = prepare_filter_form(filterset, user)
        page = peek_page(filterset.qs, request.GET, per_page=PER_PAGE)
        return render(
            request,
            "benefits/loans/loan_list.html",
            {
                "filter_form": form,
                "page": page,
                "count": match_count(filterset.qs, page) if form.is_valid() else None,
                "filtered": any(v for k, v in request.GET.items() if k != "page"),
                **filters_in_use(request.GET),
                "stats": loan_selectors.relending_stats(actor=user),
                "can_pay": permissions.can_pay(user),
                "today": timezone.localdate(),
                **_crumbs(request),
            },
        )


def _day(raw) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


class OverdueListView(StaffView):
    def get(self, request):
        raw = request.GET.get("on", "")
        on = _day(raw) if raw else timezone.localdate()
        error = "" if on is not None else "日期格式应为 2026-03-31。"
        if on is not None and not datetime.date(1980, 1, 1) <= on <= datetime.date(2100, 12, 31):
            on, error = None, "日期应在 1980 年至 2100 年之间。"
        rows = loan_selectors.overdue_list(actor=request.user, on=on) if on else []
        return render(
            request,
            "benefits/loans/overdue.html",
            {
                "rows": rows,
                "on": on,
                "raw": raw,
                "error": error,
                "total": sum((row.amount_overdue for row in rows), start=loan_selectors.ZERO),
                **_crumbs(request),
            },
            status=400 if error else 200,
        )


class LoanDetailView(StaffView):
    def get(self, request, pk):
        loan = loan_selectors.loan_get(actor=request.user, pk=pk)
        repayments = loan_selectors.repayments_of(loan=loan)
        return render(
            request,
            "benefits/loans/loan_detail.html",
            {
                "loan": loan,
                "schedule": loan_selectors.schedule(loan=loan),
                "repayments": repayments,
                "can_pay": permissions.can_pay(request.user),
                **_crumbs(request),
            },
        )


def borrower_search(request, text: str) -> tuple[list[Person], bool]:
    """Living persons with a household in the actor's scope, by name, pinyin initials or
    household number (never by ID number)."""
    text = text.strip()[:50]
    if not text:
        return [], False
    people = Person.objects.filter(household__isnull=False, is_deceased=False).select_related(
        "household", "village"
    )
    rows = list(
        household_selectors.person_search(actor=request.user, queryset=people, text=text)[
            : FOUND_SHOWN + 1
        ]
    )
    return rows[:FOUND_SHOWN], len(rows) > FOUND_SHOWN


class LoanIssueView(ServiceFormView):
    template_name = "benefits/loans/issue.html"

    def check_permission(self):
        return permissions.can_pay(self.request.user)

    def build_form(self, data=None):
        return LoanIssueForm(data, initial={"issued_on": timezone.localdate(), "term_months": 12})

    def render(self, form, status=200):
        self.form = form
        return super().render(form, status)

    def context(self):
        find = self.request.GET.get("find", "").strip()[:50]
        found, more = borrower_search(self.request, find)
        chosen = self.form.chosen_borrower()
        return {
            "title": "发放贷款",
            "find": find,
            "found": found,
            "found_more": more,
            "chosen": chosen if chosen and chosen.pk not in {p.pk for p in found} else None,
            "chosen_id": str(chosen.pk) if chosen else "",
            "draft_key": draft_key(self.request),
            "back_url": reverse("loan-list"),
            **_crumbs(self.request),
        }

    def perform(self, form):
        loan = loan_services.loan_issue(actor=self.request.user, **form.cleaned_data)
        draft_saved(self.request)
        if getattr(loan, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,贷款已发放,没有重复发放。")
        else:
            messages.success(
                self.request, f"已向{loan.borrower.name}发放贷款 {loan.principal} 元。"
            )
        return redirect("loan-detail", pk=loan.pk)


class LoanRepayView(ServiceFormView):
    template_name = "benefits/loans/repay.html"

    def load(self, pk):
        self.loan = loan_selectors.loan_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_pay(self.request.user)

    def build_form(self, data=None):
        return RepaymentForm(data, initial={"paid_on": timezone.localdate()})

    def context(self):
        return {
            "title": "登记还款",
            "loan": self.loan,
            "draft_key": draft_key(self.request),
            "back_url": reverse("loan-detail", kwargs={"pk": self.loan.pk}),
            **_crumbs(self.request),
        }

    def perform(self, form):
        repayment = loan_services.loan_repay(
            actor=self.request.user, loan=self.loan, **form.cleaned_data
        )
        draft_saved(self.request)
        if getattr(repayment, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,还款已登记,没有重复登记。")
        elif self.loan.status == "repaid":
            messages.success(self.request, f"已登记还款 {repayment.amount} 元,贷款已还清。")
        else:
            messages.success(self.request, f"已登记还款 {repayment.amount} 元。")
        return redirect("loan-detail", pk=self.loan.pk)


class LoanVoidView(ServiceFormView):
    template_name = "benefits/loans/void.html"

    def load(self, pk):
        self.loan = loan_selectors.loan_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_pay(self.request.user)

    def build_form(self, data=None):
        return LoanVoidForm(data, initial={"voided_on": timezone.localdate()})

    def context(self):
        repayments = loan_selectors.repayments_of(loan=self.loan)
        return {
            "loan": self.loan,
            "live_repayments": [r for r in repayments if not r.reversed],
            "back_url": reverse("loan-detail", kwargs={"pk": self.loan.pk}),
            **_crumbs(self.request),
        }

    def perform(self, form):
        reversal = loan_services.loan_void(
            actor=self.request.user, loan=self.loan, **form.cleaned_data
        )
        messages.success(
            self.request,
            f"已冲正这笔贷款:本金 {reversal.amount} 元已退回“{reversal.fund.name}”,"
            "贷款不再计入未还本金、逾期和滚动使用。",
        )
        return redirect("loan-detail", pk=self.loan.pk)


urlpatterns = [
    path("benefits/loans/", LoanListView.as_view(), name="loan-list"),
    path("benefits/loans/overdue/", OverdueListView.as_view(), name="loan-overdue"),
    path("benefits/loans/new/", LoanIssueView.as_view(), name="loan-issue"),
    path("benefits/loans/<int:pk>/", LoanDetailView.as_view(), name="loan-detail"),
    path("benefits/loans/<int:pk>/repay/", LoanRepayView.as_view(), name="loan-repay"),
    path("benefits/loans/<int:pk>/void/", LoanVoidView.as_view(), name="loan-void"),
]
