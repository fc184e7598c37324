"""Home visit (入户随访) pages: record one at a group or village, see it, change it, delete it,
and the household search of the form (an HTML fragment asked for while the user types).

The household is picked from the group's households (chips) or found by the search (name or
pinyin initials of a household member, household number), among the households of the node's
village only: the households selectors under the user's scope, then narrowed to the village."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from associations import permissions
from associations import selectors as association_selectors
from associations.drafts import draft_saved
from associations.models import Association, Level
from associations.views import StaffView
from households import selectors as household_selectors
from households.models import Household

from . import selectors, services
from .activity_views import FieldWorkPage, recorded_by
from .forms import VisitForm

HOUSEHOLDS_LISTED = 60  # a group's households as chips; a village lists this many, then search
FOUND_SHOWN = 8


def visit_node(request, pk) -> Association:
    node = association_selectors.association_get(actor=request.user, pk=pk)
    if node.level not in (Level.VILLAGE, Level.GROUP):
        raise Http404("入户随访在村(社区)或会员小组登记。")
    return node


def village_id_of(node: Association) -> int:
    return node.pk if node.level == Level.VILLAGE else node.village_id


def listed_households(node: Association) -> tuple[list[Household], bool]:
    """ "My group's households": a group's households (a village's, when the visit is recorded
    at the village), by number; and whether there are more than listed."""
    rows = list(
        Household.objects.filter(**{f"{node.level}_id": node.pk})
        .select_related("head")
        .order_by("number", "id")[: HOUSEHOLDS_LISTED + 1]
    )
    return rows[:HOUSEHOLDS_LISTED], len(rows) > HOUSEHOLDS_LISTED


def household_search(request, node: Association, text: str) -> tuple[list[Household], bool]:
    """Households of the node's village matching the text: a member's name or pinyin
    initials (prefix), or the household number (the households list's search)."""
    text = text.strip()[:50]
    if not text:
        return [], False
    rows = list(
        household_selectors.household_list(actor=request.user, filters={"q": text})
        .filter(village_id=village_id_of(node))
        .order_by("number", "id")[: FOUND_SHOWN + 1]
    )
    return rows[:FOUND_SHOWN], len(rows) > FOUND_SHOWN


class VisitFormPage(FieldWorkPage):
    template_name = "activities/visit_form.html"

    def search_url(self) -> str:
        return reverse("visit-households", kwargs={"pk": self.node().pk})

    def render(self, form, status=200):
        self.form = form
        return super().render(form, status)

    def extra_context(self):
        node = self.node()
        listed, more = listed_households(node)
        find = self.request.GET.get("find", "").strip()[:50]
        found, found_more = household_search(self.request, node, find)
        chosen = self.form.chosen_household()
        shown = {h.pk for h in [*listed, *found]}
        return {
            "listed": listed,
            "listed_more": more,
            "find": find,
            "found": found,
            "found_more": found_more,
            "chosen": chosen if chosen is not None and chosen.pk not in shown else None,
            "chosen_id": str(chosen.pk) if chosen else "",
            "search_url": self.search_url(),
            "visitors": self.form.visitor_options(),
        }


class VisitCreateView(VisitFormPage):
    def load(self, pk):
        self.at = visit_node(self.request, pk)
        self.title = f"记录入户随访 · {self.at.name}"

    def node(self):
        return self.at

    def build_form(self, data=None):
        return VisitForm(data, node=self.at)

    def perform(self, form):
        fields = form.service_fields()
        visit = services.visit_record(
            actor=self.request.user,
            visitor=form.cleaned_data["visitor"],
            form_token=form.cleaned_data.get("form_token"),
            **fields,
        )
        draft_saved(self.request)
        if getattr(visit, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,走访已登记,没有重复登记。")
        else:
            messages.success(self.request, f"已登记入户随访:{visit.household.number}户。")
        return redirect("visit-detail", pk=visit.pk)


class VisitPage(VisitFormPage):
    def load(self, pk):
        self.visit = selectors.visit_get(actor=self.request.user, pk=pk)
        self.at = self.visit.visitor.placed_at()

    def node(self):
        return self.at

    def back_url(self):
        return reverse("visit-detail", kwargs={"pk": self.visit.pk})


class VisitEditView(VisitPage):
    def load(self, pk):
        super().load(pk)
        self.title = f"修改入户随访 · {self.visit.visited_on:%Y-%m-%d}"

    def build_form(self, data=None):
        return VisitForm(data, node=self.at, visit=self.visit)

    def extra_context(self):
        return {**super().extra_context(), "visit": self.visit}

    def perform(self, form):
        services.visit_update(actor=self.request.user, visit=self.visit, **form.service_fields())
        draft_saved(self.request)
        messages.success(self.request, "已保存。")
        return redirect("visit-detail", pk=self.visit.pk)


class VisitDeleteView(StaffView):
    def _load(self, request, pk):
        visit = selectors.visit_get(actor=request.user, pk=pk)
        node = visit.visitor.placed_at()
        permissions.require(permissions.can_record_field_work(request.user, node))
        return visit, node

    def get(self, request, pk):
        visit, node = self._load(request, pk)
        return render(
            request,
            "activities/confirm_delete.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "title": "删除入户随访",
                "what": f"{visit.visited_on:%Y-%m-%d} {visit.visitor.person.name} "
                f"对 {visit.household.number} 户的走访记录",
                "back_url": reverse("visit-detail", kwargs={"pk": visit.pk}),
            },
        )

    def post(self, request, pk):
        visit, node = self._load(request, pk)
        services.visit_delete(actor=request.user, visit=visit)
        messages.success(request, "已删除这条入户随访记录。")
        return redirect("node-activities", pk=node.pk)


class VisitDetailView(StaffView):
    def get(self, request, pk):
        visit = selectors.visit_get(actor=request.user, pk=pk)
        node = visit.visitor.placed_at()
        return render(
            request,
            "activities/visit_detail.html",
            {
                "visit": visit,
                "node": node,
                "breadcrumbs": node.lineage(),
                "recorded": recorded_by(visit),
                "can_edit": permissions.can_record_field_work(request.user, node),
            },
        )


class VisitHouseholdsView(StaffView):
    """The household search of the visit form, as chips (static/js/forms.js asks for it
    while the user types). Scoped like the form: 404 outside the subtree, 403 without the
    right to record field work."""

    def get(self, request, pk):
        node = visit_node(request, pk)
        permissions.require(permissions.can_record_field_work(request.user, node))
        query = request.GET.get("q", "").strip()[:50]
        found, more = household_search(request, node, query)
        return render(
            request,
            "activities/_household_found.html",
            {"find": query, "found": found, "found_more": more, "chosen_id": ""},
        )
