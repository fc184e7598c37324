"""The annual re-confirmation pages (年度资格确认): the flags of a programme's year in the
user's subtree (everyone reads), and the county admin's run, confirmations and exits."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from associations.forms import add_service_errors
from associations.permissions import require
from associations.views import StaffView
from households import masking
from households.pagination import page_number

from . import permissions, reconfirmation_services, selectors
from .candidates import rates_of
from .models import Reconfirmation
from .program_forms import ReconfirmationDecisionForm, ReconfirmationRunForm
from .programs_filters import STATES, ReconfirmationFilter, ReconfirmationState

PER_PAGE = 50
NOT_ALLOWED = reconfirmation_services.NOT_ALLOWED


def _beneficiary(enrollment) -> tuple[str, str | None]:
    if enrollment.person_id:
        return enrollment.person.name, enrollment.person.id_number
    return f"{enrollment.household.number}户", None


def _rows(user, reconfirmations, labels: dict[str, str]) -> list[dict]:
    rows = []
    for row in reconfirmations:
        enrollment = row.enrollment
        name, id_number = _beneficiary(enrollment)
        rows.append(
            {
                "row": row,
                "name": name,
                "id_number": masking.id_number_for(user, id_number),
                "village": row.village.name,
                "category": labels.get(enrollment.category, ""),
                "amount": enrollment.amount,
                "flags": [flag.get("text", "") for flag in row.flags or []],
            }
        )
    return rows


class ReconfirmationListView(StaffView):
    def get(self, request):
        programs = selectors.program_list(actor=request.user)
        data = request.GET.copy()
        data.setdefault("year", str(timezone.localdate().year))
        if "program" not in data and programs:
            # the programme last re-confirmed in the user's subtree, else the county's first
            latest = (
                Reconfirmation.objects.order_by("-year", "-id")
                .values_list("enrollment__program_id", flat=True)
                .first()
            )
            data["program"] = str(latest or programs[0].pk)
        queryset = Reconfirmation.objects.select_related(
            "enrollment__person", "enrollment__household", "village"
        ).order_by("village_id", "id")
        found = ReconfirmationFilter(data, queryset=queryset)
        context = {"programs": programs, "filter": found, "states": ReconfirmationState.CHOICES}
        if not found.is_valid():
            return render(request, "benefits/reconfirmations/list.html", context, status=400)
        program_id = found.form.cleaned_data.get("program")
        program = next((p for p in programs if program_id and p.pk == int(program_id)), None)
        year = int(found.form.cleaned_data.get("year") or timezone.localdate().year)
        if program is None:
            return render(request, "benefits/reconfirmations/list.html", context)
        of_year = Reconfirmation.objects.filter(enrollment__program=program, year=year)
        counts = of_year.aggregate(
            **{state: Count("pk", filter=STATES[state]) for state, _label in STATES.items()}
        )
        counts["total"] = of_year.count()
        number = page_number(request.GET.get("page"))
        rows = list(found.qs[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
        labels = {category: rate.label for category, rate in rates_of(program).items()}
        kept = QueryDict(mutable=True)
        for name in ("program", "year", "state", "under"):
            if data.get(name):
                kept[name] = data[name]
        can_decide = permissions.can_approve(request.user)
        context.update(
            program=program,
            year=year,
            counts=counts,
            rows=_rows(request.user, rows[:PER_PAGE], labels),
            page=number,
            has_next=len(rows) > PER_PAGE,
            kept=kept.urlencode(),
            can_decide=can_decide,
            run_form=ReconfirmationRunForm(initial={"program": program.pk, "year": year})
            if can_decide
            else None,
        )
        return render(request, "benefits/reconfirmations/list.html", context)


def _list_url(program_id, year) -> str:
    query = QueryDict(mutable=True)
    query.update({"program": str(program_id), "year": str(year)})
    return f"{reverse('benefit-reconfirmation-list')}?{query.urlencode()}"


class ProgramYearView(StaffView):
    """A county admin's POST over a programme's year (the list's hidden programme and year);
    back to that list with what was done."""

    http_method_names = ["post"]

    def perform(self, request, program, year: int) -> str:
        """Call the service; returns the message to show."""
        raise NotImplementedError

    def post(self, request):
        require(permissions.can_approve(request.user), NOT_ALLOWED)
        form = ReconfirmationRunForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请选择项目和年度。")
            return redirect("benefit-reconfirmation-list")
        program = selectors.program_get(actor=request.user, pk=form.cleaned_data["program"])
        year = form.cleaned_data["year"]
        messages.success(request, self.perform(request, program, year))
        return redirect(_list_url(program.pk, year))


class ReconfirmationRunView(ProgramYearView):
    """Flag the year's enrolled beneficiaries of a programme."""

    def perform(self, request, program, year):
        result = reconfirmation_services.reconfirmation_run(
            actor=request.user, program=program, year=year
        )
        return (
            f"{year} 年资格确认:在册 {result.enrolled} 人(户),新建 {result.created} 条,"
            f"更新 {result.refreshed} 条,其中有疑点 {result.flagged} 条。"
        )


class ReconfirmationConfirmUnflaggedView(ProgramYearView):
    """Confirm at once those the registry does not flag (judged again now)."""

    def perform(self, request, program, year):
        confirmed, flagged = reconfirmation_services.reconfirmation_confirm_unflagged(
            actor=request.user, program=program, year=year
        )
        text = f"已确认无疑点的 {confirmed} 人(户)继续享受。"
        if flagged:
            text += f"另有 {flagged} 人(户)登记信息已变化,转为有疑点,请逐一确认。"
        return text


class ReconfirmationDetailView(StaffView):
    """One re-confirmation: what was flagged, what the enrolment was judged by, its steps;
    the county admin's decision (POST)."""

    def load(self, pk):
        return get_object_or_404(
            Reconfirmation.objects.select_related(
                "enrollment__person",
                "enrollment__household",
                "enrollment__program",
                "village",
                "decided_by",
            ),
            pk=pk,
        )

    def render_page(self, request, row, form, status=200):
        enrollment = row.enrollment
        name, id_number = _beneficiary(enrollment)
        return render(
            request,
            "benefits/reconfirmations/detail.html",
            {
                "row": row,
                "enrollment": enrollment,
                "name": name,
                "id_number": masking.id_number_for(request.user, id_number),
                "flags": [flag.get("text", "") for flag in row.flags or []],
                "events": enrollment.events.select_related("actor").order_by("at", "id"),
                "form": form,
                "can_decide": permissions.can_approve(request.user)
                and row.decision == Reconfirmation.Decision.PENDING,
            },
            status=status,
        )

    def get(self, request, pk):
        row = self.load(pk)
        initial = {"decision": Reconfirmation.Decision.EXITED if row.flags else "confirmed"}
        if row.flags:
            initial["reason"] = ";".join(flag.get("text", "") for flag in row.flags)[:200]
        return self.render_page(request, row, ReconfirmationDecisionForm(initial=initial))

    def post(self, request, pk):
        row = self.load(pk)
        require(permissions.can_approve(request.user), NOT_ALLOWED)
        form = ReconfirmationDecisionForm(request.POST)
        if form.is_valid():
            exit = form.cleaned_data["decision"] == Reconfirmation.Decision.EXITED
            try:
                reconfirmation_services.reconfirmation_decide(
                    actor=request.user,
                    reconfirmation=row,
                    exit=exit,
                    reason=form.cleaned_data["reason"],
                    exited_on=form.cleaned_data["exited_on"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "已退出。" if exit else "已确认继续享受。")
                return redirect(_list_url(row.enrollment.program_id, row.year))
        return self.render_page(request, row, form, status=400)


urlpatterns = [
    path(
        "benefits/reconfirmations/",
        ReconfirmationListView.as_view(),
        name="benefit-reconfirmation-list",
    ),
    path(
        "benefits/reconfirmations/run/",
        ReconfirmationRunView.as_view(),
        name="benefit-reconfirmation-run",
    ),
    path(
        "benefits/reconfirmations/confirm-unflagged/",
        ReconfirmationConfirmUnflaggedView.as_view(),
        name="benefit-reconfirmation-confirm-unflagged",
    ),
    path(
        "benefits/reconfirmations/<int:pk>/",
        ReconfirmationDetailView.as_view(),
        name="benefit-reconfirmation",
    ),
]
