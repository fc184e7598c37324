"""新增会员: one form for a new person and their membership (or a person already recorded
in the village, found by the search on the page), and that search as an HTML fragment.

The view only parses and routes: members.services writes the person (through the households
service) and the membership in one transaction, and checks the form's one-time token."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from associations import permissions
from associations import selectors as association_selectors
from associations.drafts import draft_key, draft_saved
from associations.models import Association, Level
from associations.views import StaffView
from households import masking
from households import selectors as household_selectors
from households.models import Person
from households.person_checks import duplicate_in_village

from . import services
from .forms import MemberNewPersonForm, MemberRegisterForm, registrable_persons, village_groups
from .models import Member
from .views import MemberFormPage


class MemberRegisterView(MemberFormPage):
    """新增会员: a new person and their membership in one form, or (`?person=`) a person
    already recorded in the village, found with the search on the page. `?group=` preselects
    a group: the "继续新增" link after a save keeps the group just used."""

    template_name = "members/member_register.html"
    duplicate: dict | None = None

    def load(self, pk):
        self.village = association_selectors.association_get(actor=self.request.user, pk=pk)
        if self.village.level != Level.VILLAGE:
            raise Http404("会员在村(社区)级协会登记。")
        self.person = self._chosen_person()
        self.group = self._kept_group()

    def _chosen_person(self) -> Person | None:
        raw = self.request.GET.get("person", "")
        if not raw:
            return None
        if not raw.isdigit():
            raise Http404("没有找到此人。")
        return get_object_or_404(
            Person.objects.select_related("household"), pk=int(raw), village=self.village
        )

    def _kept_group(self) -> Association | None:
        raw = self.request.GET.get("group", "")
        if not raw.isdigit():
            return None
        return village_groups(self.village).filter(pk=int(raw)).first()

    def node(self):
        return self.village

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.village)

    def build_form(self, data=None):
        form_class = MemberRegisterForm if self.person else MemberNewPersonForm
        return form_class(data, village=self.village, initial={"group": self.group})

    def perform(self, form):
        user = self.request.user
        try:
            if self.person:
                member = services.member_register(
                    actor=user, person=self.person, association=self.village, **form.membership()
                )
            else:
                member = services.member_register_new_person(
                    actor=user,
                    association=self.village,
                    person_fields=form.person_fields(),
                    **form.membership(),
                )
        except ValidationError as error:
            self.duplicate = self._duplicate(error)
            raise
        draft_saved(self.request)
        name = member.person.name
        if getattr(member, "replayed", False):
            messages.info(
                self.request,
                f"这张表单已经提交过:{name}已登记为会员(会员证号 {member.member_number}),"
                "没有重复登记。",
            )
        else:
            messages.success(self.request, f"已登记会员 {name},会员证号 {member.member_number}。")
        for notice in getattr(member, "notices", None) or []:
            messages.info(self.request, notice)
        return redirect(f"{reverse('member-detail', kwargs={'pk': member.pk})}?registered=1")

    def _duplicate(self, error: ValidationError) -> dict | None:
        """What to offer when the ID number belongs to a person of this village already."""
        person_id = duplicate_in_village(error)
        if person_id is None:
            return None
        member = (
            Member.objects.filter(person_id=person_id, status=Member.Status.ACTIVE)
            .only("pk", "member_number")
            .first()
        )
        if member is not None:
            return {"member": member}
        return {"register_url": self._url(person=person_id)}

    def _url(self, **params) -> str:
        base = reverse("member-register", kwargs={"pk": self.village.pk})
        group = self.request.POST.get("group") or self.request.GET.get("group")
        if group and str(group).isdigit():
            params.setdefault("group", group)
        return f"{base}?{urlencode(params)}" if params else base

    def get_title(self):
        return f"新增会员 · {self.village.name}"

    def back_url(self):
        return f"{reverse('member-list')}?under={self.village.pk}"

    def extra_context(self):
        find = self.request.GET.get("find", "").strip()[:50]
        context = {
            "village": self.village,
            "person": self.person,
            "duplicate": self.duplicate,
            "draft_key": draft_key(self.request),
            "find": find,
            "search_url": reverse("member-candidates", kwargs={"pk": self.village.pk}),
            "new_person_url": self._url(),
            "group_id": self.group.pk if self.group else "",
        }
        if self.person:
            context["person_facts"] = person_facts(self.request.user, self.person)
            context["person_member"] = (
                Member.objects.filter(person=self.person, status=Member.Status.ACTIVE)
                .select_related("association")
                .first()
            )
        elif find:
            context["candidates"] = candidates_for(self.request, self.village, find)
        return context


def person_facts(user, person: Person) -> str:
    """One line that tells people of the same name apart: sex, age, household and the masked
    ID number (as every list shows them: households.masking)."""
    age = masking.age_for(person.birth_date, timezone.localdate())
    parts = [person.get_sex_display(), *([f"{age}岁"] if age is not None else [])]
    if person.household_id:
        parts.append(f"{person.household.number}户")
    if person.id_number:
        parts.append(masking.id_number_for(user, person.id_number))
    return " · ".join(parts)


CANDIDATES_SHOWN = 8


@dataclass
class Candidates:
    query: str
    rows: list
    more: bool
    group_id: str


def candidates_for(request, village: Association, query: str) -> Candidates:
    """Persons of the village who may join, matching the search: by name, pinyin initials,
    household number (never by ID number or phone: households.filters.search_q)."""
    found = household_selectors.person_search(
        actor=request.user,
        queryset=registrable_persons(village).select_related("household"),
        text=query,
    )
    rows = list(found[: CANDIDATES_SHOWN + 1])
    group = request.GET.get("group", "")
    for person in rows:
        person.facts = person_facts(request.user, person)
        params = {"person": person.pk, **({"group": group} if group.isdigit() else {})}
        person.register_url = (
            f"{reverse('member-register', kwargs={'pk': village.pk})}?{urlencode(params)}"
        )
    return Candidates(
        query=query,
        rows=rows[:CANDIDATES_SHOWN],
        more=len(rows) > CANDIDATES_SHOWN,
        group_id=group if group.isdigit() else "",
    )


class MemberCandidatesView(StaffView):
    """The person search of the 新增会员 page, as an HTML fragment (static/js/forms.js asks
    for it while the user types). Scoped like the page: the village must be in the user's
    subtree (404) and editable by them (403)."""

    def get(self, request, pk):
        village = association_selectors.association_get(actor=request.user, pk=pk)
        if village.level != Level.VILLAGE:
            raise Http404("会员在村(社区)级协会登记。")
        permissions.require(permissions.can_edit_node(request.user, village))
        query = request.GET.get("q", "").strip()[:50]
        return render(
            request,
            "members/_candidates.html",
            {"candidates": candidates_for(request, village, query) if query else None},
        )
