"""The household pages of the households app: the household page (members, hardship survey,
assistance, moves, history), registering, editing and moving a household, and the helpers the
other page modules share. The lists and exports are in list_views, the person pages in
person_views, the figures and the hardship roster in figure_views.

Reads go through the scoped selectors (another county's or a sibling village's row is a 404);
writes go through households.services, whose PermissionDenied is a 403 and whose
ValidationError is shown on the form with the user's input kept (status 400)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from activities import selectors as activity_selectors
from associations import permissions
from associations import selectors as association_selectors
from associations.forms import add_service_errors
from associations.history import redacted
from associations.models import Association, ChangeRecord, Level
from associations.views import ServiceFormView, StaffView

from . import identity_reads, masking, selectors, services
from .attachment_views import household_attachment_card
from .categories import age_shown, category_labels
from .forms import AssistanceForm, HardshipForm, HouseholdForm, HouseholdMoveForm, PersonForm
from .models import HardshipReason, Household, IdentityRead, Relocation

HISTORY_LIMIT = 10


# --- helpers -------------------------------------------------------------------------------


def can_edit_row(user, row) -> bool:
    return permissions.can_edit_node(user, row.placed_at())


def place_crumbs(row) -> list[Association]:
    """Breadcrumbs down to the row's village (the layout links only the user's subtree)."""
    village = row.village
    return village.lineage()


def user_crumbs(user) -> list[Association]:
    node = association_selectors.association_get(actor=user, pk=user.node_id)
    return node.lineage()


def safe_next(request) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def household_url(household, anchor: str = "") -> str:
    url = reverse("household-detail", kwargs={"pk": household.pk})
    return f"{url}#{anchor}" if anchor else url


def renamed_errors(error: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service's field errors under the form's field names."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(k, k): v for k, v in error.error_dict.items()})


def focus_first_error(form) -> None:
    """Autofocus the first field in error: the browser scrolls the re-shown page to it."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


def show_notices(request, person) -> None:
    for notice in getattr(person, "notices", None) or []:
        messages.info(request, notice)


def add_village(user) -> Association | None:
    """The village a village secretary registers people and households in, from the lists."""
    if user.node_level != Level.VILLAGE or not permissions.can_edit_node(user, user.node):
        return None
    return user.node


def load_village(user, pk) -> Association:
    node = association_selectors.association_get(actor=user, pk=pk)
    if node.level != Level.VILLAGE:
        raise Http404("只能在村(社区)下登记。")
    return node


# --- the household page --------------------------------------------------------------------


def member_form(request, household, data=None) -> PersonForm:
    initial = {} if household.head_id else {"relation_to_head": "head"}
    return PersonForm(
        data, prefix="member", user=request.user, household=household, initial=initial
    )


def hardship_form(household, data=None) -> HardshipForm:
    return HardshipForm(data, prefix="hardship", household=household)


def assistance_form(data=None) -> AssistanceForm:
    return AssistanceForm(data, prefix="assistance")


def household_page(request, household: Household, *, bound: dict | None = None, status=200):
    """The household page; `bound` holds a submitted form (by section) to show with its
    errors and the user's input."""
    user = request.user
    bound = bound or {}
    for form in bound.values():
        focus_first_error(form)
    today = timezone.localdate()
    can_edit = can_edit_row(user, household)
    members = list(household.members.all())
    for person in members:
        person.shown_id = masking.id_number_for(user, person.id_number, detail=True)
        person.age = age_shown(person.birth_date, today)
    reason_labels = dict(HardshipReason.choices)
    hardship = list(household.hardship.all())
    for entry in hardship:
        entry.reason_labels = [reason_labels.get(r, r) for r in entry.reasons]
    history = redacted(
        ChangeRecord.objects.filter(object_type="households.Household", object_id=household.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:HISTORY_LIMIT],
        user,
    )
    visits, more_visits = activity_selectors.recent_visits(actor=user, household_id=household.pk)
    identity_reads.record_detail_read(
        actor=user,
        request=request,
        persons=members,
        reason=IdentityRead.Reason.DETAIL_PAGE,
        fields=("id_number",),
        extra=["household_phone"] if household.phone and masking.sees_full_identity(user) else (),
    )
    context = {
        "household": household,
        "breadcrumbs": place_crumbs(household),
        "phone": masking.phone_for(user, household.phone, detail=True),
        "category_labels": category_labels(household.categories),
        "type_labels": category_labels(household.family_types),
        "members": members,
        "hardship": hardship,
        "this_year": today.year,
        "assistance": list(household.assistance.all()),
        "relocations": list(
            Relocation.objects.filter(household=household)
            .select_related("from_village", "village")
            .order_by("-moved_on", "-id")
        ),
        "history": history,
        "visits": visits,
        "more_visits": more_visits,
        "attachment_card": household_attachment_card(request, household),
        "can_edit": can_edit,
        "can_move": can_edit and user.node_level in (Level.COUNTY, Level.TOWNSHIP),
        "sees_full_identity": masking.sees_full_identity(user),
        "here": household_url(household),
        "open_section": next(iter(bound), ""),
    }
    if can_edit:
        context["member_form"] = bound.get("member") or member_form(request, household)
        context["hardship_form"] = bound.get("hardship") or hardship_form(household)
        context["assistance_form"] = bound.get("assistance") or assistance_form()
    return render(request, "households/household_detail.html", context, status=status)


class HouseholdDetailView(StaffView):
    def get(self, request, pk):
        household = selectors.household_get(actor=request.user, pk=pk)
        return household_page(request, household)


class HouseholdSectionView(StaffView):
    """A form on the household page: POST saves through a service and returns to the page,
    or shows the page again with this form's errors (400). GET just leads to the page."""

    section = ""

    def build_form(self, household, data):
        raise NotImplementedError

    def perform(self, household, form) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError

    def get(self, request, pk):
        household = selectors.household_get(actor=request.user, pk=pk)
        return redirect(household_url(household, self.section))

    def post(self, request, pk):
        household = selectors.household_get(actor=request.user, pk=pk)
        permissions.require(can_edit_row(request.user, household))
        form = self.build_form(household, request.POST)
        if form.is_valid():
            try:
                message = self.perform(household, form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, message)
                return redirect(household_url(household))
        return household_page(request, household, bound={self.section: form}, status=400)


class MemberAddView(HouseholdSectionView):
    section = "member"

    def build_form(self, household, data):
        return member_form(self.request, household, data)

    def perform(self, household, form):
        person = services.person_create(
            actor=self.request.user,
            village=household.village,
            household=household,
            **form.service_fields(),
        )
        show_notices(self.request, person)
        if getattr(person, "replayed", False):
            return f"这张表单已经提交过:{person.name}已在本户,没有重复添加。"
        return f"已将{person.name}添加到本户。"


class HardshipRecordView(HouseholdSectionView):
    section = "hardship"

    def build_form(self, household, data):
        return hardship_form(household, data)

    def perform(self, household, form):
        entry = services.hardship_record(
            actor=self.request.user, household=household, **form.cleaned_data
        )
        return f"已登记{entry.year}年度困难家庭摸底情况。"


class AssistanceAddView(HouseholdSectionView):
    section = "assistance"

    def build_form(self, household, data):
        return assistance_form(data)

    def perform(self, household, form):
        record = services.assistance_add(
            actor=self.request.user, household=household, **form.cleaned_data
        )
        return f"已登记帮扶记录:{record.get_kind_display()}。"


class PersonRemoveView(StaffView):
    """移出本户: GET asks to confirm, POST does it and returns to the household page."""

    def load(self, pk):
        person = selectors.person_get(actor=self.request.user, pk=pk)
        if person.household_id is None:
            raise Http404("此人不在任何家庭户中。")
        permissions.require(can_edit_row(self.request.user, person))
        return person

    def get(self, request, pk):
        person = self.load(pk)
        return render(
            request,
            "households/person_remove.html",
            {"person": person, "breadcrumbs": place_crumbs(person)},
        )

    def post(self, request, pk):
        person = self.load(pk)
        household = person.household
        services.person_remove_from_household(actor=request.user, person=person)
        messages.success(request, f"已将{person.name}移出本户,此人仍登记在{person.village.name}。")
        return redirect(household_url(household))


# --- household forms -----------------------------------------------------------------------


class NewInVillageView(ServiceFormView):
    """A form that creates a row in the village of the URL, for those who may edit it."""

    template_name = "households/form.html"

    def load(self, pk):
        self.village = load_village(self.request.user, pk)

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.village)


class HouseholdCreateView(NewInVillageView):
    def build_form(self, data=None):
        return HouseholdForm(
            data,
            user=self.request.user,
            village=self.village,
            initial={"number": next_household_number(self.village)},
        )

    def perform(self, form):
        household = services.household_create(
            actor=self.request.user, village=self.village, **form.service_fields()
        )
        messages.success(self.request, f"已新建家庭户 {household.number}户,请添加成员。")
        return redirect(household_url(household))

    def context(self):
        return {
            "breadcrumbs": self.village.lineage(),
            "title": f"新建家庭户:{self.village.name}",
            "cancel_url": reverse("node-detail", kwargs={"pk": self.village.pk}),
        }


def next_household_number(village: Association) -> str:
    """A suggestion: one past the highest all-digit number in the village, same width."""
    numbers = Household.objects.filter(village=village, number__regex=r"^\d{1,12}$").values_list(
        "number", flat=True
    )
    highest = max(numbers, key=lambda n: (int(n), len(n)), default=None)
    if highest is None:
        return "0001"
    return f"{int(highest) + 1:0{len(highest)}d}"


class HouseholdEditView(ServiceFormView):
    template_name = "households/form.html"

    def load(self, pk):
        self.household = selectors.household_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return can_edit_row(self.request.user, self.household)

    def build_form(self, data=None):
        if data is None and self.household.phone:  # the form shows the phone in full
            identity_reads.record_detail_read(
                actor=self.request.user,
                request=self.request,
                persons=self.household.members.all(),
                reason=IdentityRead.Reason.EDIT_FORM,
                fields=(),
                extra=["household_phone"],
            )
        return HouseholdForm(
            data, instance=self.household, user=self.request.user, village=self.household.village
        )

    def perform(self, form):
        services.household_update(
            actor=self.request.user, household=self.household, **form.service_fields()
        )
        messages.success(self.request, "已保存。")
        return redirect(household_url(self.household))

    def context(self):
        return {
            "breadcrumbs": place_crumbs(self.household),
            "title": f"修改家庭户:{self.household.number}户",
            "cancel_url": household_url(self.household),
        }


class HouseholdMoveView(ServiceFormView):
    template_name = "households/form.html"

    def load(self, pk):
        self.household = selectors.household_get(actor=self.request.user, pk=pk)
        self.from_village = self.household.village

    def check_permission(self):
        # Both ends must be editable: only township and county staff see another village.
        user = self.request.user
        return can_edit_row(user, self.household) and user.node_level in (
            Level.COUNTY,
            Level.TOWNSHIP,
        )

    def build_form(self, data=None):
        return HouseholdMoveForm(data, household=self.household)

    def perform(self, form):
        data = form.cleaned_data
        try:
            services.household_move(
                actor=self.request.user,
                household=self.household,
                to_village=data["to_village"],
                to_group=data["to_group"],
                new_number=data["new_number"],
                moved_on=data["moved_on"],
            )
        except ValidationError as error:
            raise renamed_errors(
                error, {"village": "to_village", "group": "to_group", "number": "new_number"}
            ) from error
        messages.success(
            self.request,
            f"已将{self.household.number}户从{self.from_village.name}迁到{data['to_village'].name}。",
        )
        return redirect(household_url(self.household))

    def context(self):
        return {
            "breadcrumbs": place_crumbs(self.household),
            "title": f"家庭户迁移:{self.household.number}户",
            "intro": f"全户成员随户迁移;现在所在:{self.from_village.name}。",
            "cancel_url": household_url(self.household),
        }
