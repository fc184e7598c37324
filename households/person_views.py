"""The person pages: the person's detail (household, moves, history), registering a person in
a village, and editing a person. Writes go through households.services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from associations.drafts import draft_key, draft_saved
from associations.views import ServiceFormView, StaffView

from . import identity_reads, masking, selectors, services
from .categories import age_shown
from .forms import PersonForm
from .models import IdentityRead, Relocation
from .person_checks import duplicate_in_village
from .views import NewInVillageView, can_edit_row, place_crumbs, safe_next, show_notices


class PersonDetailView(StaffView):
    def get(self, request, pk):
        user = request.user
        person = selectors.person_get(actor=user, pk=pk)
        today = timezone.localdate()
        moves = Q(person=person)
        if person.household_id:
            moves |= Q(household_id=person.household_id)
        relocations = (
            Relocation.objects.filter(moves)
            .select_related("from_village", "village")
            .order_by("-moved_on", "-id")
        )
        context = {
            "person": person,
            "breadcrumbs": place_crumbs(person),
            "age": age_shown(person.birth_date, today),
            "birth_date": masking.birth_date_for(user, person.birth_date, detail=True),
            "id_number": masking.id_number_for(user, person.id_number, detail=True),
            "phone": masking.phone_for(user, person.phone, detail=True),
            "sees_full_identity": masking.sees_full_identity(user),
            "relocations": relocations,
            "can_edit": can_edit_row(user, person),
        }
        identity_reads.record_detail_read(
            actor=user, request=request, persons=[person], reason=IdentityRead.Reason.DETAIL_PAGE
        )
        return render(request, "households/person_detail.html", context)


class PersonCreateView(NewInVillageView):
    duplicate_url = ""

    def build_form(self, data=None):
        return PersonForm(data, user=self.request.user, village=self.village)

    def perform(self, form):
        try:
            person = services.person_create(
                actor=self.request.user,
                village=self.village,
                group=form.cleaned_data.get("group"),
                **form.service_fields(),
            )
        except ValidationError as error:
            found = duplicate_in_village(error)
            if found:
                self.duplicate_url = reverse("person-detail", kwargs={"pk": found})
            raise
        draft_saved(self.request)
        if getattr(person, "replayed", False):
            messages.info(self.request, f"这张表单已经提交过:{person.name}已登记,没有重复登记。")
        else:
            messages.success(self.request, f"已登记{person.name}。")
        show_notices(self.request, person)
        return redirect("person-detail", pk=person.pk)

    def context(self):
        return {
            "breadcrumbs": self.village.lineage(),
            "title": f"登记人员:{self.village.name}",
            "intro": "登记不在任何家庭户中的人员;家庭成员请在家庭户页面添加。",
            "cancel_url": reverse("node-detail", kwargs={"pk": self.village.pk}),
            "wide": True,
            "draft_key": draft_key(self.request),
            "duplicate_url": self.duplicate_url,
        }


class PersonEditView(ServiceFormView):
    template_name = "households/form.html"

    def load(self, pk):
        self.person = selectors.person_get(actor=self.request.user, pk=pk)
        self.name = self.person.name

    def check_permission(self):
        return can_edit_row(self.request.user, self.person)

    def build_form(self, data=None):
        if data is None:  # the form shows the recorded ID number and phone in full
            identity_reads.record_detail_read(
                actor=self.request.user,
                request=self.request,
                persons=[self.person],
                reason=IdentityRead.Reason.EDIT_FORM,
            )
        return PersonForm(data, instance=self.person, user=self.request.user)

    def detail_url(self) -> str:
        return reverse("person-detail", kwargs={"pk": self.person.pk})

    def perform(self, form):
        person = services.person_update(
            actor=self.request.user, person=self.person, **form.service_fields()
        )
        messages.success(self.request, f"已保存{person.name}的信息。")
        show_notices(self.request, person)
        return redirect(safe_next(self.request) or self.detail_url())

    def context(self):
        return {
            "breadcrumbs": place_crumbs(self.person),
            "title": f"修改人员信息:{self.name}",
            "cancel_url": safe_next(self.request) or self.detail_url(),
            "next": safe_next(self.request),
            "wide": True,
        }
