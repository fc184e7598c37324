"""The candidates of a programme at a node of the user's subtree (候选对象), and the
application (申报) from its rows: one row's button or the ticked rows at once.

Identifiers are masked as on every list (households.masking): the region code of the ID
number and the age, never the birth date."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from associations import selectors as association_selectors
from associations.models import Association, Level
from associations.permissions import require
from associations.views import StaffView
from households import masking
from households.categories import category_labels
from households.pagination import page_number

from . import permissions, selectors
from .apply_services import NOT_ALLOWED, enrollment_apply_many
from .candidates import Evaluation, Show
from .models import EnrollmentStatus
from .program_forms import ApplyForm, CandidateQueryForm

PER_PAGE = 50
STATUS_LABELS = dict(EnrollmentStatus.choices)
KEPT = ("program", "year", "show", "village")


def villages_under(node: Association) -> list[Association]:
    if node.level not in (Level.COUNTY, Level.TOWNSHIP):
        return []
    return list(
        Association.objects.filter(level=Level.VILLAGE, **{f"{node.level}_id": node.pk}).order_by(
            "division_code"
        )
    )


def candidate_rows(user, candidates, today) -> list[dict]:
    """What the page shows of each candidate, masked by the one policy."""
    rows = []
    for c in candidates:
        rows.append(
            {
                "key": c.key,
                "name": c.name or "(未登记户主)",
                "id_number": masking.id_number_for(user, c.id_number),
                "age": masking.age_for(c.facts.birth_date, today),
                "sex": {"male": "男", "female": "女"}.get(c.facts.sex, ""),
                "village": c.facts.village_name,
                "household": c.facts.household_number,
                "categories": category_labels(c.facts.categories),
                "eligible": c.decision.eligible,
                "reasons": c.decision.reasons_text,
                "exclusions": c.decision.exclusions_text,
                "live": STATUS_LABELS.get(c.live_status, ""),
                "applicable": c.decision.eligible and not c.live_status,
            }
        )
    return rows


class CandidateListView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        programs = selectors.program_list(actor=request.user)
        villages = villages_under(node)
        data = request.GET.copy()
        data.setdefault("year", str(timezone.localdate().year))
        data.setdefault("show", Show.APPLICABLE)
        query = CandidateQueryForm(data, programs=programs, villages=villages)
        context = {
            "node": node,
            "breadcrumbs": node.lineage(),
            "query": query,
            "programs": programs,
        }
        if not query.is_valid():
            return render(request, "benefits/candidates/list.html", context, status=400)
        program_id = query.choice("program")
        program = next((p for p in programs if p.pk == program_id), None)
        if program is None:
            return render(request, "benefits/candidates/list.html", context)
        today = timezone.localdate()
        year, show, village = query.chosen_year, query.chosen_show, query.choice("village")
        try:
            evaluation = Evaluation(program=program, node=node, year=year, today=today)
        except ValidationError as error:  # a stored rule this version cannot read
            context.update(program=program, rule_error=";".join(error.messages))
            return render(request, "benefits/candidates/list.html", context)
        number = page_number(request.GET.get("page"))
        found = evaluation.page(
            show=show, village=village, offset=(number - 1) * PER_PAGE, limit=PER_PAGE + 1
        )
        kept = QueryDict(mutable=True)
        for name in KEPT:
            value = request.GET.get(name)
            if value:
                kept[name] = value
        can_apply = permissions.can_apply(request.user, node) and program.is_active
        context.update(
            program=program,
            year=year,
            show=show,
            reference_date=evaluation.ref,
            rule=evaluation.rule.describe(),
            counts=evaluation.counts(),
            rows=candidate_rows(request.user, found[:PER_PAGE], today),
            end=(number - 1) * PER_PAGE + len(found[:PER_PAGE]),
            page=number,
            has_next=len(found) > PER_PAGE,
            start=(number - 1) * PER_PAGE,
            kept=kept.urlencode(),
            can_apply=can_apply,
            apply_form=ApplyForm(initial={"program": program.pk, "year": year})
            if can_apply
            else None,
            household_programme=evaluation.households,
        )
        return render(request, "benefits/candidates/list.html", context)


class CandidateApplyView(StaffView):
    http_method_names = ["post"]

    def post(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        require(permissions.can_apply(request.user, node), NOT_ALLOWED)
        form = ApplyForm(request.POST)
        back = QueryDict(mutable=True)
        for name in (*KEPT, "page"):
            value = request.POST.get(f"back_{name}")
            if value and value.isascii() and len(value) < 20:
                back[name] = value
        url = f"{reverse('benefit-candidates', kwargs={'pk': node.pk})}?{back.urlencode()}"
        if not form.is_valid():
            messages.error(request, "申报表单有误,请重新打开页面再申报。")
            return redirect(url)
        program = selectors.program_get(actor=request.user, pk=form.cleaned_data["program"])
        try:
            result = enrollment_apply_many(
                actor=request.user,
                program=program,
                node=node,
                keys=form.keys(request.POST),
                note=form.cleaned_data["note"],
                year=form.cleaned_data["year"],
                form_token=form.cleaned_data.get("form_token"),
            )
        except ValidationError as error:
            messages.error(request, ";".join(error.messages))
            return redirect(url)
        if result.replayed:
            messages.info(request, "这张申报表已经提交过,没有重复申报。")
        if result.applied:
            names = "、".join(
                (e.person.name if e.person_id else f"{e.household.number}户")
                for e in result.applied[:10]
            )
            more = f"等 {len(result.applied)} 人(户)" if len(result.applied) > 10 else ""
            messages.success(request, f"已申报“{program.name}”:{names}{more}。")
        for name, why in result.refused[:20]:
            messages.warning(request, f"{name}未申报:{why}")
        return redirect(url)


urlpatterns = [
    path(
        "benefits/nodes/<int:pk>/candidates/",
        CandidateListView.as_view(),
        name="benefit-candidates",
    ),
    path(
        "benefits/nodes/<int:pk>/candidates/apply/",
        CandidateApplyView.as_view(),
        name="benefit-candidates-apply",
    ),
]
